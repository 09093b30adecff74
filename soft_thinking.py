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
"""
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
                  generators=None, js_probe=False, stats=None):
    """Soft thinking on the KV cache: prefill once, then one position per step for every row, a soft
    token while the row thinks, a one-hot token once it has finished. Returns id lists as generate:
    the top-1 token of each soft step (the visible trace), end_id, then the answer (greedy, or sampled
    at answer_temperature). generators: one per row (len(prompts) * num_samples), None draws them from
    the global RNG. stats: a dict that collects, per row, 'think_steps' (soft tokens fed), 'entropy'
    (of p at each soft step) and, with js_probe, 'js_top1' / 'js_top2' (at each soft step: JS between
    the next-token distributions after the soft input and after the top-1 / top-2 token)."""
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
    assert not js_probe or stats is not None, "js_probe writes its values into stats: pass a dict"
    E = model.embed  # (V, C)
    dist = lambda lg: R.filter_logits(lg, temperature, banned=banned).softmax(-1)  # (N, V) the full p, unfiltered
    out = torch.full((N, n_steps), tok.eos_id, dtype=torch.long, device=dev)
    thinking = torch.ones(N, dtype=torch.bool, device=dev)
    done = torch.zeros(N, dtype=torch.bool, device=dev)
    low = torch.zeros(N, dtype=torch.long, device=dev)  # soft steps in a row with low entropy (Cold Stop)
    n_soft = torch.zeros(N, dtype=torch.long, device=dev)
    # per row and step, NaN where the row fed no soft token; kept on the device, read once at the end
    log = {k: torch.full((N, n_steps), float('nan'), device=dev) for k in ('entropy', 'js_top1', 'js_top2')}
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
        if t == n_steps - 1 or (t % every == every - 1 and bool(done.all())):  # the stop check, the one host sync
            break
        x = torch.where(soft[:, None], pi @ E, E[nxt])  # (N, C) a soft token while thinking, else the token
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
    return R.cut_at_eos(out, tok.eos_id)


def soft_summary(stats):
    """Run-level means of soft_generate's stats: soft steps per question, JS per soft step."""
    mean = lambda xs: float(f"{sum(xs) / len(xs):.4g}") if xs else None
    summary = {'soft_steps_per_question': mean(stats.get('think_steps', []))}
    for k in ('js_top1', 'js_top2'):
        if any(stats.get(k, [])):
            summary[k] = mean([v for row in stats[k] for v in row])
    return summary
