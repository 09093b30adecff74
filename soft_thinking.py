"""
Soft thinking: Zhang et al. 2025, "Soft Thinking"; Wu et al. 2025, "LLMs are single-threaded
reasoners", arXiv 2508.03440 (the stochastic modes and the JS-divergence probe). A decoder for a CoT
checkpoint; reasoning.prefill runs the prompt, reasoning.filter_logits keeps the support.

While the model thinks, its next input is not a token but a soft token, a mixture of input embeddings
    x = sum_i pi_i E[i] = pi @ E,   p = softmax(logits / T) filtered by top-k / top-p / min-p, renormalized
    vanilla    pi = p
    dirichlet  pi ~ Dir(gamma * p) on the kept ids
    gumbel     pi = softmax((log p + g) / tau) on the kept ids, g ~ Gumbel(0, 1)
Thinking ends when the top-1 token is the end-of-thinking token (the answer marker for a CoT
checkpoint), by Cold Stop (entropy H(p) < cold_stop_entropy for cold_stop_steps soft steps in a row),
or at a budget; the end token is then fed as a normal token and the answer is decoded with discrete
tokens. The visible trace is the top-1 token of each soft step.
JS probe (Wu et al.): JS(next-token p after the soft input || after the top-1 token), ~0 when vanilla
soft thinking is greedy decoding in disguise; also after the top-2 token, for scale.
Probes (the second half of the file; `python soft_thinking.py --out_dir=... --probe=lens|sweep`):
    lens_probe   the logit lens at each soft step: how much of each layer's next-token guess is on the
                 top-1 input's path (Wu et al.'s finding: all of it by the last layers)
    rouge_l      ROUGE-L between the soft trace and the greedy trace of the same question
    soft_sweep   the randomness-softness trade-off: entropy of pi, JS(pi || one-hot top-1), how often
                 pi's heaviest id is not the top-1, ROUGE-L to greedy, accuracy; over gamma and tau
"""
import json
import math
import sys
import time

import torch

import reasoning as R


SOFT_MODES = ('vanilla', 'dirichlet', 'gumbel')


def think_end_id(tok, method):
    """The token whose top-1 ends thinking, for a checkpoint trained with `method`. Soft thinking
    replaces discrete reasoning steps, so it needs a checkpoint that writes some: CoT, or Coconut
    (the steps it still writes after its continuous thoughts, which the prefill runs as usual; at
    the last stage there are none and soft thinking is greedy decoding)."""
    if method in ('nocot', 'pause'):
        raise ValueError(f"a {method} checkpoint answers right after its prompt: there are no reasoning steps "
                         f"to think softly about (it would be greedy decoding); use sampler='plain'")
    if method not in ('cot', 'coconut'):
        raise ValueError(f"soft thinking needs a checkpoint that writes reasoning steps (cot, coconut), not {method!r}")
    return tok.id(R.MARKER)


def row_generators(n, generator=None, device='cpu'):
    """n torch.Generators, one per decoded row, seeded from `generator` (or the global RNG): a row's
    noise then does not depend on which rows share its batch (batched equals per-example)."""
    seeds = torch.randint(2**62, (n,), generator=generator,
                          device=generator.device if generator is not None else 'cpu').tolist()
    return [torch.Generator(device=device).manual_seed(s) for s in seeds]


def soft_weights(logits, mode, temperature=0.6, top_k=15, top_p=0.95, min_p=0.001, gamma=4.0, tau=0.5,
                 banned=None, u=None, generators=None):
    """(N, V) logits -> (N, V) soft-token weights pi: zero outside the ids that top-k / top-p / min-p
    keep (banned: a (V,) bool mask of ids never kept), summing to 1 over each row. u: (N, V) uniforms,
    row n drawn from generators[n] (gumbel: the noise; dirichlet: with per-row Gamma draws)."""
    logits = R.filter_logits(logits, temperature, top_k, top_p, banned, min_p)  # (N, V), -inf off the support
    if mode == 'vanilla':
        return logits.softmax(-1)
    if mode == 'gumbel':
        g = -torch.log(-torch.log(u))  # (N, V) Gumbel(0, 1)
        return ((logits.log_softmax(-1) + g) / tau).softmax(-1)  # -inf off the support stays -inf
    assert mode == 'dirichlet', f"unknown soft mode {mode!r}: one of {SOFT_MODES}"
    kept = torch.isfinite(logits)
    # concentrations must be > 0: gamma * p underflows to 0 for a kept id far below the top one
    # (a logit gap > ~100), so clamp it; off the support a placeholder 1 (drawn, then masked)
    alpha = torch.where(kept, (gamma * logits.softmax(-1)).clamp(min=torch.finfo(torch.float32).tiny), 1.0)
    return log_gamma(alpha, u, generators).masked_fill(~kept, -float('inf')).softmax(-1)  # normalized Gammas


def log_gamma(alpha, u, generators):
    """(N, V) concentrations > 0 -> (N, V) logs of Gamma(alpha) draws, row n from generators[n] and u[n].
    Normalized, they are a Dirichlet(alpha) draw. Small alpha underflow to 0 in float32 (over a 50k
    vocab, all of them), so draw in log space: Gamma(a) = Gamma(a + 1) * U^(1/a) (Marsaglia-Tsang).
    torch._standard_gamma is what torch.distributions.Gamma calls; it takes a generator, Gamma doesn't."""
    assert bool((alpha > 0).all()), "Gamma (Dirichlet) concentrations must be > 0"
    g1 = torch.stack([torch._standard_gamma(a + 1.0, generator=g) for a, g in zip(alpha, generators)])  # (N, V)
    return g1.log() + u.log() / alpha


def entropy(p):
    """(N, V) distributions -> (N,) entropy in nats."""
    return -torch.special.xlogy(p, p).sum(-1)


def js_divergence(p, q):
    """(N, V) distributions -> (N,) Jensen-Shannon divergence in nats (0 .. ln 2)."""
    m = 0.5 * (p + q)
    kl = lambda a: (torch.special.xlogy(a, a) - torch.special.xlogy(a, m)).sum(-1)
    return 0.5 * kl(p) + 0.5 * kl(q)


def js_to_onehot(pk):
    """(N,) weights pi_k a distribution pi puts on one id k -> (N,) JS(pi || one-hot at k) in nats.
    With m = (pi + e_k) / 2 only pi_k matters: KL(e_k || m) = ln(2 / (1 + pi_k)) and
    KL(pi || m) = (1 - pi_k) ln 2 + pi_k ln(2 pi_k / (1 + pi_k)); so no (N, V) one-hot is made.
    0 at pi_k = 1 (pi is the one-hot), ln 2 at pi_k = 0."""
    kl_pi = (1 - pk) * math.log(2) + torch.special.xlogy(pk, 2 * pk / (1 + pk))
    return 0.5 * kl_pi + 0.5 * torch.log(2 / (1 + pk))


def probed_step(model, cache, x, alternatives, dist):
    """One decoding step with input embeddings x (N, C), and the JS probe: the same step with each
    alternative token (N,) as input instead, run on the cache first and cropped away (an extra forward
    of the N rows per alternative, no cache copy). Returns the step's logits (N, V) and, per
    alternative, (N,) JS(dist after x, dist after the alternative)."""
    length, q_alt = cache.length, []
    for ids in alternatives:
        logits = model.decode_step(cache, ids[:, None])
        cache.crop(length)  # forget the alternative: the next forward overwrites its position
        q_alt.append(dist(logits))
    logits = model.decode_step(cache, embeds=x[:, None])
    return logits, [js_divergence(dist(logits), qa) for qa in q_alt]


@torch.no_grad()
def soft_generate(model, tok, prompts, end_id, mode='vanilla', max_new_tokens=128, think_budget=96,
                  temperature=0.6, top_k=15, top_p=0.95, min_p=0.001, gamma=4.0, tau=0.5,
                  cold_stop_entropy=0.01, cold_stop_steps=256, answer_temperature=0.0, num_samples=1,
                  generators=None, js_probe=False, stats=None, keep_inputs=False):
    """Soft thinking on the KV cache: prefill once, then one position per step for every row, a soft
    token while the row thinks, a one-hot token once it has finished. Returns id lists as generate:
    the top-1 token of each soft step (the visible trace), end_id, then the answer (greedy, or sampled
    at answer_temperature). generators: one per row (len(prompts) * num_samples), None draws them from
    the global RNG. stats: a dict that collects, per row, 'think_steps' (soft tokens fed), 'entropy'
    (of p at each soft step) and, with js_probe, 'js_top1' / 'js_top2' (at each soft step: JS between
    the next-token distributions after the soft input and after the top-1 / top-2 token), and the
    weights pi themselves: 'pi_entropy' (softness), 'pi_js' (JS(pi || one-hot of the top-1 of p)) and
    'pi_flip' (1.0 where pi's heaviest id is not the top-1 of p: randomness). keep_inputs: also
    'soft_inputs', per row a (S, C) tensor of the S soft inputs it was fed, and 'soft_top2', (S, 2)
    ids of pi's two heaviest ids (the second: the top-2 of p when pi has one id), for lens_probe."""
    assert mode in SOFT_MODES, f"unknown soft mode {mode!r}: one of {SOFT_MODES}"
    assert temperature > 0 and gamma > 0 and tau > 0, \
        f"soft_temperature {temperature}, gamma {gamma} and tau {tau} must be > 0 (they divide, or scale a concentration)"
    assert think_budget >= 0 and cold_stop_steps >= 0, f"think_budget {think_budget}, cold_stop_steps {cold_stop_steps} must be >= 0"
    logits, cache, _ = R.prefill(model, tok, prompts, max_new_tokens, num_samples=num_samples)
    n_steps = cache.max_len - cache.length  # the budget, capped so that it fits block_size
    N, V = logits.shape
    dev = logits.device
    banned = R.banned_mask(tok, V, dev, R.closes_thought(tok, prompts))  # made once: no per-step copy
    noisy = mode != 'vanilla' or answer_temperature > 0
    if noisy:
        generators = row_generators(N, device=dev) if generators is None else generators
        assert len(generators) == N, f"{len(generators)} generators for {N} rows"
    assert not (js_probe or keep_inputs) or stats is not None, "js_probe and keep_inputs write into stats: pass a dict"
    E = model.embed  # (V, C)
    dist = lambda lg: R.filter_logits(lg, temperature, banned=banned).softmax(-1)  # (N, V) the full p, unfiltered
    out = torch.full((N, n_steps), tok.eos_id, dtype=torch.long, device=dev)
    thinking = torch.ones(N, dtype=torch.bool, device=dev)
    done = torch.zeros(N, dtype=torch.bool, device=dev)
    low = torch.zeros(N, dtype=torch.long, device=dev)  # soft steps in a row with low entropy (Cold Stop)
    n_soft = torch.zeros(N, dtype=torch.long, device=dev)
    # per row and step, NaN where the row fed no soft token; kept on the device, read once at the end
    keys = ('entropy', 'js_top1', 'js_top2') + (('pi_entropy', 'pi_js', 'pi_flip') if stats is not None else ())
    log = {k: torch.full((N, n_steps), float('nan'), device=dev) for k in keys}
    inputs, top2s = [], []  # keep_inputs: the input and pi's two heaviest ids of every step
    every = R.stop_every(dev)
    for t in range(n_steps):
        masked = R.filter_logits(logits, banned=banned)  # (N, V) banned ids at -inf
        top1 = masked.argmax(-1)  # (N,) exactly what greedy decoding picks
        H = entropy(dist(logits))  # (N,) entropy of the full p, for Cold Stop
        stop = (top1 == end_id) | (t >= think_budget)
        if cold_stop_steps > 0:
            stop |= low >= cold_stop_steps  # the last cold_stop_steps soft steps were all confident
        stop &= thinking
        u = torch.stack([torch.rand(V, generator=g, device=dev) for g in generators]) if noisy else None  # (N, V)
        pi = soft_weights(logits, mode, temperature, top_k, top_p, min_p, gamma, tau, banned, u, generators)
        nxt = top1
        if answer_temperature > 0:  # Gumbel-max: an exact sample of softmax(logits / answer_temperature)
            nxt = (R.filter_logits(logits, answer_temperature, banned=banned).log_softmax(-1) - torch.log(-torch.log(u))).argmax(-1)
        nxt = torch.where(thinking, torch.where(stop, end_id, top1), nxt)  # thinking rows show their top-1
        nxt = torch.where(done, tok.eos_id, nxt)  # finished rows keep feeding <eos>; their output is ignored
        out[:, t] = nxt
        done |= nxt == tok.eos_id
        soft = thinking & ~stop & ~done  # (N,) rows whose input is a soft token (a top-1 <eos> ends the row)
        thinking = soft
        low = torch.where(H < cold_stop_entropy, low + 1, 0)
        n_soft += soft
        log['entropy'][:, t] = H.masked_fill(~soft, float('nan'))
        if stats is not None:  # the weights: how soft (entropy), how far from greedy's one-hot, how random
            heavy = pi.argmax(-1)
            log['pi_entropy'][:, t] = entropy(pi).masked_fill(~soft, float('nan'))
            log['pi_js'][:, t] = js_to_onehot(pi.gather(1, top1[:, None]).squeeze(1)).masked_fill(~soft, float('nan'))
            log['pi_flip'][:, t] = (heavy != top1).float().masked_fill(~soft, float('nan'))
        if t == n_steps - 1 or (t % every == every - 1 and bool(done.all())):  # the stop check, the one host sync
            break
        x = torch.where(soft[:, None], pi @ E, E[nxt])  # (N, C) a soft token while thinking, else the token
        if keep_inputs:
            second = torch.where(pi.scatter(1, heavy[:, None], 0.0).amax(-1) > 0,  # pi's second heaviest id ...
                                 pi.scatter(1, heavy[:, None], -1.0).argmax(-1),
                                 masked.scatter(1, heavy[:, None], -float('inf')).argmax(-1))  # ... or p's
            inputs.append(x)
            top2s.append(torch.stack([heavy, second], 1))
        if js_probe:  # what if the input had been the top-1 (top-2) token instead of the soft one?
            second = masked.scatter(1, top1[:, None], -float('inf')).argmax(-1)
            logits, js = probed_step(model, cache, x, (top1, second), dist)
            log['js_top1'][:, t] = js[0].masked_fill(~soft, float('nan'))
            log['js_top2'][:, t] = js[1].masked_fill(~soft, float('nan'))
        else:
            logits = model.decode_step(cache, embeds=x[:, None])  # (N, V)
    if stats is not None:
        stats.setdefault('think_steps', []).extend(n_soft.tolist())
        for k, values in log.items():  # each row's values at its soft steps (x == x: not NaN)
            stats.setdefault(k, []).extend([x for x in row if x == x] for row in values.tolist())
        if keep_inputs:  # a row's soft steps are its first n_soft steps (the last may have broken the loop first)
            X, ids = torch.stack(inputs, 1) if inputs else None, torch.stack(top2s, 1) if top2s else None
            for n, k in enumerate(n_soft.tolist()):
                k = min(k, len(inputs))
                stats.setdefault('soft_inputs', []).append(X[n, :k] if k else E[:0])
                stats.setdefault('soft_top2', []).append(ids[n, :k] if k else torch.zeros(0, 2, dtype=torch.long, device=dev))
    return R.cut_at_eos(out, tok.eos_id)


def soft_summary(stats):
    """Run-level means of soft_generate's stats: soft steps per question, JS and pi's entropy, JS to
    the one-hot and flip rate per soft step."""
    mean = lambda xs: float(f"{sum(xs) / len(xs):.4g}") if xs else None
    summary = {'soft_steps_per_question': mean(stats.get('think_steps', []))}
    for k in ('js_top1', 'js_top2', 'pi_entropy', 'pi_js', 'pi_flip'):
        if any(stats.get(k, [])):
            summary[k] = mean([v for row in stats[k] for v in row])
    return summary


# -----------------------------------------------------------------------------
# probes: the logit lens, ROUGE-L against the greedy trace, the randomness-softness sweep

def rouge_l(a, b):
    """ROUGE-L F-measure (beta = 1) of two token sequences: with LCS the length of their longest common
    subsequence, precision LCS / len(a), recall LCS / len(b), F = 2PR / (P + R) = 2 LCS / (len(a) + len(b)).
    1 for equal sequences (two empty ones included), 0 when they share no token."""
    if not a and not b:
        return 1.0
    prev = [0] * (len(b) + 1)  # LCS of a[:i] and b[:j], row by row
    for x in a:
        cur = [0]
        for j, y in enumerate(b):
            cur.append(prev[j] + 1 if x == y else max(prev[j + 1], cur[j]))
        prev = cur
    return 2 * prev[-1] / (len(a) + len(b))


def thinking_trace(ids, end_id, eos_id=None):
    """The thinking part of decoded ids: what comes before the end-of-thinking token (all of it, a final
    <eos> excepted, when there is none). For soft thinking, the top-1 token of each soft step."""
    if end_id in ids:
        return ids[:ids.index(end_id)]
    return ids[:-1] if ids and ids[-1] == eos_id else ids


def logit_lens(model, hiddens):
    """The logit lens (nostalgebraist, 2020): the LM head read off the residual stream at every layer.
    hiddens: model(..., hidden=True)'s n_layer + 1 states, each (..., C) -> (n_layer + 1, ..., V)
    next-token distributions: layer 0 the embedding output, layer l the output of block l, each through
    ln_f and the LM head. The last state is already after ln_f (HF's convention), so layer n_layer is
    the model's own next-token distribution (tested)."""
    ln_f, head = model.transformer.ln_f, model.lm_head
    return torch.stack([head(ln_f(h)) for h in hiddens[:-1]] + [head(hiddens[-1])]).float().softmax(-1)


@torch.no_grad()
def lens_probe(model, tok, prompts, end_id, mode='vanilla', generators=None, mix=0.0, **knobs):
    """The logit lens at every soft step of soft_generate(prompts, end_id, mode, **knobs) (a CoT
    checkpoint; one sample per prompt). At soft step t the input x_t mixes mostly a1 (pi's heaviest id)
    and a2 (the next one). The same position is run three ways, with the same prefix of soft inputs: x_t,
    the token a1 alone, the token a2 alone; q_l, q1_l, q2_l are the lens distributions of the three at
    layer l (logit_lens). Per layer, means over the soft steps:
        share   JS(q_l, q2_l) / (JS(q_l, q1_l) + JS(q_l, q2_l)): where layer l's reading of the soft
                input lies between the two one-token inputs' readings at the same layer; 1 = it is the
                top-1 input's, 0 = the second's, 0.5 = halfway; over the split steps, those where the
                two paths differ (y1 != y2, below: elsewhere both readings agree and the ratio is noise)
        p_path  q_l(y1), y1 = the final argmax after the token a1 alone (y2: after a2): the layer's
                probability on the next token of the top-1 input's path, over all soft steps
    Wu et al. read the soft token's hidden states with the logit lens and find that the top-1 component
    takes over by the last layers; these two numbers are our definitions of that (the paper's exact
    formula was not available to us). 'top1_wins': the share of split steps where the soft input's
    final argmax is y1. mix = w in (0, 1): feed
    w E[a1] + (1 - w) E[a2] at the probed position instead of x_t (the prefix stays the real soft trace),
    a controlled two-token mixture for a model whose own pi is nearly one-hot. Returns
    {'layers': [{'layer', 'share', 'p_path'}, ...], 'soft_steps', 'split_steps', 'top1_wins'}."""
    assert all(tok.id(R.LATENT) not in p for p in prompts), "the lens replays token prompts: a CoT checkpoint"
    stats = {}
    soft_generate(model, tok, prompts, end_id, mode, generators=generators, stats=stats, keep_inputs=True, **knobs)
    E = model.embed
    banned = R.banned_mask(tok, E.size(0), E.device)
    L1 = model.config.n_layer + 1
    share, p_path, wins, n_steps = [[] for _ in range(L1)], [[] for _ in range(L1)], [], 0
    for prompt, X, top2 in zip(prompts, stats['soft_inputs'], stats['soft_top2']):
        S, P = X.size(0), len(prompt)
        if S == 0:
            continue
        base = torch.cat([E[torch.tensor(prompt, device=E.device)], X])  # (P + S, C) what soft_generate fed
        t = torch.arange(S, device=E.device)

        def run(inp):  # row t: the sequence with position P + t replaced by inp[t]; read at that position
            seq = base.expand(S, -1, -1).clone()
            seq[t, P + t] = inp
            _, _, hiddens = model(embeds=seq, hidden=True)
            return logit_lens(model, [h[t, P + t] for h in hiddens])  # (L1, S, V)
        a1, a2 = top2[:, 0], top2[:, 1]
        q1, q2 = run(E[a1]), run(E[a2])
        q = run(X if not mix else mix * E[a1] + (1 - mix) * E[a2])
        y1 = R.filter_logits(q1[-1].log(), banned=banned).argmax(-1)  # (S,) the top-1 input's next token
        y2 = R.filter_logits(q2[-1].log(), banned=banned).argmax(-1)
        js1, js2 = js_divergence(q, q1), js_divergence(q, q2)  # (L1, S)
        apart = (js1 + js2 > 1e-12) & (y1 != y2)  # where the two paths lead to different next tokens
        for layer in range(L1):
            share[layer] += (js2[layer] / (js1[layer] + js2[layer]))[apart[layer]].tolist()
            p_path[layer] += q[layer, t, y1].tolist()
        wins += (q[-1].argmax(-1) == y1)[y1 != y2].tolist()
        n_steps += S
    mean = lambda xs: sum(xs) / len(xs) if xs else None
    return {'layers': [{'layer': layer, 'share': mean(share[layer]), 'p_path': mean(p_path[layer])} for layer in range(L1)],
            'soft_steps': n_steps, 'split_steps': len(wins), 'top1_wins': mean(wins)}


@torch.no_grad()
def soft_sweep(model, tok, ckpt, examples, settings, batch_size=64, max_new_tokens=128, seed=1337, **knobs):
    """The randomness-softness trade-off over a split. settings: dicts, each a 'mode' (a soft mode, or
    'sample' for plain sampling at its 'temperature') and its knobs ('gamma', 'tau', or any soft_generate
    knob, over **knobs). One row per setting, after a first row for greedy decoding, each with
        mode, gamma, tau, temperature (sample rows), accuracy, n
        soft_steps   soft inputs per question
        pi_entropy   mean entropy of pi over the soft steps (nats): how soft the inputs are
        pi_js        mean JS(pi || one-hot of the top-1 of p) (nats, at most ln 2): how far from greedy's input
        pi_flip      share of soft steps whose heaviest pi id is not the top-1 of p: how random
        rouge_l      mean ROUGE-L between a question's trace (tokens before the end of thinking; for soft
                     thinking the top-1 of each soft step) and its greedy trace
        seconds
    Every setting's generator starts from `seed`, so a row does not depend on the others."""
    end_id = think_end_id(tok, ckpt['config']['method'])
    prompts = [R.question_prompt(tok, ckpt, ex['question']) for ex in examples]
    dev = model.embed.device
    chunks = [prompts[i:i + batch_size] for i in range(0, len(prompts), batch_size)]
    mean = lambda xs: round(sum(xs) / len(xs), 4) if xs else None
    greedy, rows = None, []
    for setting in [{'mode': 'greedy'}] + list(settings):
        mode, t0 = setting['mode'], time.time()
        g = torch.Generator(device=dev).manual_seed(seed)
        kw = dict(knobs, **{k: v for k, v in setting.items() if k != 'mode'})
        outs, stats = [], {}
        for chunk in chunks:
            if mode == 'greedy':
                outs += R.generate(model, tok, chunk, max_new_tokens)
            elif mode == 'sample':
                outs += R.generate(model, tok, chunk, max_new_tokens, kw['temperature'], generator=g)
            else:
                outs += soft_generate(model, tok, chunk, end_id, mode, max_new_tokens, generators=row_generators(len(chunk), g, dev),
                                      stats=stats, **kw)
        greedy = outs if greedy is None else greedy
        flat = lambda k: [v for row in stats.get(k, []) for v in row]
        rows.append({'mode': mode, 'gamma': setting.get('gamma') if mode == 'dirichlet' else None,
                     'tau': setting.get('tau') if mode == 'gumbel' else None,
                     'temperature': setting.get('temperature') if mode == 'sample' else None,
                     'accuracy': mean([R.is_correct(tok.decode(ids), ex) for ids, ex in zip(outs, examples)]),
                     'soft_steps': mean(stats['think_steps']) if stats else None,
                     'pi_entropy': mean(flat('pi_entropy')), 'pi_js': mean(flat('pi_js')), 'pi_flip': mean(flat('pi_flip')),
                     'rouge_l': mean([rouge_l(thinking_trace(a, end_id, tok.eos_id), thinking_trace(b, end_id, tok.eos_id))
                                       for a, b in zip(outs, greedy)]),
                     'n': len(examples), 'seconds': round(time.time() - t0, 1)})
    return rows


def markdown_table(rows):
    """Rows of dicts with the same keys -> a markdown table (None as '-')."""
    keys = list(rows[0])
    cell = lambda v: '-' if v is None else f"{v:.4g}" if isinstance(v, float) else str(v)
    return '\n'.join(['| ' + ' | '.join(keys) + ' |', '|' + '---|' * len(keys)]
                     + ['| ' + ' | '.join(cell(r[k]) for k in keys) + ' |' for r in rows])


def main(argv):
    """python soft_thinking.py --out_dir=out-x --probe=lens|sweep [--eval=valid --eval_limit=100 ...]
    lens: lens_probe on the split's questions (--mode, --mix); sweep: soft_sweep over --gammas
    (Dirichlet) and --taus (Gumbel), with a vanilla row and a --sample_temperature sampling row.
    Prints one JSON line per row, then the markdown table."""
    import configurator
    from sample import load_checkpoint
    cfg = dict(out_dir='out', probe='sweep', eval='valid', eval_limit=100, batch_size=64, max_new_tokens=128,
               seed=1337, device='cpu', soft_temperature=0.6, soft_top_k=15, soft_top_p=0.95, soft_min_p=0.001,
               think_budget=96, mode='vanilla', mix=0.0, gammas=[0.25, 1.0, 4.0, 16.0], taus=[0.1, 0.5, 1.0, 2.0],
               sample_temperature=1.0)
    configurator.configure(cfg, argv)
    C = configurator
    positive = ((lambda v: len(v) > 0 and all(x > 0 for x in v)), 'a list of numbers > 0')
    C.check(cfg, {'out_dir': C.ANY, 'probe': C.one_of('lens', 'sweep'), 'eval': C.ANY, 'eval_limit': C.at_least(0),
                  'batch_size': C.at_least(1), 'max_new_tokens': C.at_least(1), 'seed': C.at_least(0), 'device': C.ANY,
                  'soft_temperature': C.above(0), 'soft_top_k': C.at_least(0), 'soft_top_p': ((lambda v: 0 < v <= 1), 'in (0, 1]'),
                  'soft_min_p': C.between(0, 1), 'think_budget': C.at_least(0), 'mode': C.one_of(*SOFT_MODES),
                  'mix': ((lambda v: 0 <= v < 1), 'in [0, 1): 0 = the real soft inputs'), 'gammas': positive,
                  'taus': positive, 'sample_temperature': C.above(0)})
    torch.manual_seed(cfg['seed'])
    model, tok, ckpt = load_checkpoint(cfg['out_dir'], cfg['device'])
    examples = R.load_split(f"data/{ckpt['config']['dataset']}", cfg['eval'], steps=False)
    examples = examples[:cfg['eval_limit']] if cfg['eval_limit'] else examples
    knobs = dict(temperature=cfg['soft_temperature'], top_k=cfg['soft_top_k'], top_p=cfg['soft_top_p'],
                 min_p=cfg['soft_min_p'], think_budget=cfg['think_budget'])
    print(f"{cfg['out_dir']}: {len(examples)} questions of {cfg['eval']}, seed {cfg['seed']}, soft knobs {knobs}")
    t0 = time.time()
    if cfg['probe'] == 'lens':
        g = torch.Generator(device=cfg['device']).manual_seed(cfg['seed'])
        end_id = think_end_id(tok, ckpt['config']['method'])
        prompts = [R.question_prompt(tok, ckpt, ex['question']) for ex in examples]
        res = lens_probe(model, tok, prompts, end_id, cfg['mode'], row_generators(len(prompts), g, cfg['device']),
                         cfg['mix'], max_new_tokens=cfg['max_new_tokens'], **knobs)
        rows = res.pop('layers')
        print(json.dumps(dict(res, mode=cfg['mode'], mix=cfg['mix'], seconds=round(time.time() - t0, 1))))
    else:
        settings = ([{'mode': 'sample', 'temperature': cfg['sample_temperature']}, {'mode': 'vanilla'}]
                    + [{'mode': 'dirichlet', 'gamma': g} for g in cfg['gammas']] + [{'mode': 'gumbel', 'tau': t} for t in cfg['taus']])
        rows = soft_sweep(model, tok, ckpt, examples, settings, cfg['batch_size'], cfg['max_new_tokens'], cfg['seed'], **knobs)
    for row in rows:
        print(json.dumps(row))
    print(markdown_table(rows))


if __name__ == '__main__':
    main(sys.argv[1:])
