"""
Decoding from a trained checkpoint, on the KV cache: prefill the prompts once (left-padded into one
batch), then one position per step; n samples per prompt repeat the cache rows after the prefill.
    python sample.py --out_dir=out-quickstart --start="3 5 1 9 2 4"
    python sample.py --out_dir=out-quickstart --eval=test           # ends with one JSON line
    python sample.py --out_dir=out-multiply-cot --eval=test --sampler=soft_gumbel --js_probe=True
Every function here is importable; the CLI is at the bottom.
"""
import json
import math
import os
import sys
import time
from contextlib import nullcontext

import torch

import coconut
import codi
import latent_sft
import power_sampling
import reasoning as R
from model import GPT, GPTConfig

# -----------------------------------------------------------------------------
# config (override with --key=value)
out_dir = 'out'          # where train.py wrote ckpt.pt
start = '0 1 2 3 4 5'    # a question, or FILE:path to read it from
eval = ''                # '' to sample from --start; 'valid' | 'test' | path/to/split.json to score a split
eval_limit = 0           # score only the first N examples (0 = all)
num_samples = 1          # samples per prompt (rows of the cache repeated after one prefill)
max_new_tokens = 128     # generation budget per question
temperature = 0.0        # 0 = greedy
top_k = 0                # keep the k most likely tokens (0 = off)
top_p = 1.0              # nucleus: keep the smallest set with mass >= top_p (1.0 = off)
probe = False            # continuous thoughts: print the top tokens each thought decodes to (LM head);
                         # Latent-SFT: each latent's top tokens and effective parallelism N_eff (with --eval: mean N_eff)
latent_budget = 0        # Latent-SFT: most latent steps before <eot> is forced (0 = the checkpoint's latent_budget)
sampler = 'plain'        # plain (greedy / temperature / top-k / top-p) | base (temperature 1) | lowtemp (1/alpha) | power
                         # | soft_vanilla | soft_dirichlet | soft_gumbel
# power sampling (sampler = power)
alpha = 4.0              # target p^alpha over whole continuations; proposal and lowtemp: temperature 1/alpha
mcmc_block = 192         # tokens added per block (paper: 192)
mcmc_steps = 10          # Metropolis-Hastings steps after each block (paper: 10; max_new_tokens 3072)
pass_k = [1, 2, 4, 8]    # --eval: pass@k for each k <= num_samples
plot = ''                # --eval: write a PNG of pass@k vs k to this path (needs matplotlib)
# soft thinking (sampler = soft_vanilla | soft_dirichlet | soft_gumbel; a CoT checkpoint). The answer after
# thinking is decoded with the plain `temperature` (0 = greedy, the default).
soft_temperature = 0.6   # T in p = softmax(logits / T) while thinking (Zhang et al.'s 0.6)
soft_top_k = 15          # the soft token mixes at most this many ids (0 = off)
soft_top_p = 0.95        # ... from the smallest set with mass >= soft_top_p
soft_min_p = 0.001       # ... each with p >= soft_min_p * max p (0 = off)
gamma = 4.0              # soft_dirichlet: pi ~ Dir(gamma * p)
tau = 0.5                # soft_gumbel: pi = softmax((log p + g) / tau)
cold_stop_entropy = 0.01 # Cold Stop: stop thinking after cold_stop_steps soft steps in a row whose p has
cold_stop_steps = 256    # entropy (nats) below cold_stop_entropy (0 = off; Zhang et al.'s 0.01 and 256)
think_budget = 96        # at most this many soft steps, then the end of thinking is forced
js_probe = False         # soft samplers: Jensen-Shannon divergence of the next-token distribution after the soft input vs after the top-1 (top-2) token
batch_size = 64          # questions decoded together
seed = 1337
compile = torch.cuda.is_available()  # torch.compile the single-token decode step (one graph; prefill stays eager)
device = 'cuda' if torch.cuda.is_available() else 'cpu'
dtype = 'bfloat16' if torch.cuda.is_available() and torch.cuda.is_bf16_supported() else 'float32'
# -----------------------------------------------------------------------------


def load_checkpoint(path, device='cpu'):
    """(model, tokenizer, checkpoint dict) from out_dir/ckpt.pt or a .pt path."""
    path = os.path.join(path, 'ckpt.pt') if os.path.isdir(path) else path
    if not os.path.exists(path):
        raise FileNotFoundError(f"no checkpoint at {path}: train one with train.py first")
    ckpt = torch.load(path, map_location=device, weights_only=False)
    model = GPT(GPTConfig(**ckpt['model_args']))
    codi.attach_thought_projection(model, ckpt['config'])  # CODI's thought projection, if any
    model.load_state_dict(ckpt['model'])
    model.to(device).eval()
    return model, R.get_tokenizer(ckpt['meta']), ckpt


def method_decoder(model, tok, ckpt, max_new_tokens=128, temperature=0.0, top_k=0, top_p=1.0, num_samples=1,
                   generator=None, budget=0):
    """How a checkpoint decodes with the plain settings: generate() (any thought slots are in the prompt),
    or, for Latent-SFT, latent_sft.latent_generate(), which writes its latents before the answer."""
    cfg = ckpt['config']
    if cfg['method'] == 'latent':
        if cfg['latent_stage'] != 2:
            raise ValueError("a Latent-SFT stage-1 checkpoint makes soft labels; it does not decode: train stage 2")
        return lambda prompts: latent_sft.latent_generate(model, tok, prompts, max_new_tokens, cfg['latent_topk'],
                                               budget or cfg['latent_budget'], temperature, top_k, top_p,
                                               num_samples, generator)
    return lambda prompts: R.generate(model, tok, prompts, max_new_tokens, temperature, top_k, top_p,
                                    num_samples, generator)


def pass_at_k(correct, num_samples, ks):
    """Unbiased pass@k (Chen et al. 2021) averaged over questions: with c of n samples correct,
    1 - C(n-c, k) / C(n, k), the chance that k of the n samples drawn without replacement hold one
    correct. correct: num_samples booleans per question, in order. Returns {k: value} for k <= n."""
    n = num_samples
    assert len(correct) % n == 0, "num_samples booleans per question"
    per_q = [sum(correct[i:i + n]) for i in range(0, len(correct), n)]
    return {k: sum(1 - math.comb(n - c, k) / math.comb(n, k) for c in per_q) / len(per_q) for k in ks if k <= n}


def evaluate(model, tok, ckpt, examples, batch_size=64, max_new_tokens=128, temperature=0.0, top_k=0,
             top_p=1.0, num_samples=1, generator=None, progress=False, decode=None):
    """Decode every example and score it. decode(prompts) -> num_samples id lists per prompt, in
    order (default: generate with the given settings). Returns a dict with accuracy (over all
    samples), tokens_per_question (mean new tokens per sample: <eos> included, each continuous
    thought counted as one), n and the decoded texts."""
    if decode is None:
        decode = method_decoder(model, tok, ckpt, max_new_tokens, temperature, top_k, top_p, num_samples, generator)
    correct, n_tokens, texts = [], [], []
    batches = range(0, len(examples), batch_size)
    if progress:
        from tqdm import tqdm
        batches = tqdm(batches, desc='eval', leave=False)
    for i in batches:
        chunk = examples[i:i + batch_size]
        prompts = [R.question_prompt(tok, ckpt, ex['question']) for ex in chunk]
        outs = decode(prompts)
        for j, ids in enumerate(outs):
            ex = chunk[j // num_samples]
            text = tok.decode(ids)
            texts.append(text)
            correct.append(R.is_correct(text, ex))
            n_tokens.append(len(ids) + prompts[j // num_samples].count(tok.id(R.LATENT)))  # a thought counts as a token
    return {'accuracy': sum(correct) / len(correct), 'tokens_per_question': sum(n_tokens) / len(n_tokens),
            'n': len(examples), 'num_samples': num_samples, 'correct': correct, 'texts': texts}


# -----------------------------------------------------------------------------
# Soft thinking (Zhang et al. 2025, "Soft Thinking"; Wu et al. 2025, "LLMs are single-threaded
# reasoners", arXiv 2508.03440). While the model thinks, its next input is not a token but a soft
# token, a mixture of input embeddings x = sum_i pi_i E[i] = pi @ E, with pi from
# p = softmax(logits / T) filtered by top-k / top-p / min-p and renormalized:
#   vanilla    pi = p
#   dirichlet  pi ~ Dir(gamma * p) on the kept ids
#   gumbel     pi = softmax((log p + g) / tau) on the kept ids, g ~ Gumbel(0, 1)
# Thinking ends when the top-1 token is the end-of-thinking token (the answer marker for a CoT
# checkpoint), by Cold Stop, or at a budget; the end token is then fed as a normal token and the
# answer is decoded with discrete tokens. The visible trace is the top-1 token of each soft step.

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
                 banned=(), u=None, generators=None):
    """(N, V) logits -> (N, V) soft-token weights pi: zero outside the ids that top-k / top-p / min-p
    keep (banned ids are never kept), summing to 1 over each row. u: (N, V) uniforms, row n drawn
    from generators[n] (gumbel: the noise; dirichlet: with per-row Gamma draws)."""
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
    assert mode in SOFT_MODES and temperature > 0, (mode, temperature)
    logits, cache, _ = R.prefill(model, tok, prompts, max_new_tokens, num_samples=num_samples)
    n_steps = cache.max_len - cache.length  # the budget, capped so that it fits block_size
    N, V = logits.shape
    dev = logits.device
    banned = R.banned_ids(tok, V)
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
    log = {k: [[] for _ in range(N)] for k in ('entropy', 'js_top1', 'js_top2')}
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
        rows = soft.nonzero().flatten().tolist() if stats is not None else []
        for n, h in zip(rows, H[rows].tolist()):
            log['entropy'][n].append(h)
        if t == n_steps - 1 or bool(done.all()):  # the one host sync per step: stopping needs it
            break
        x = torch.where(soft[:, None], pi @ E, E[nxt])  # (N, C) a soft token while thinking, else the token
        if js_probe:  # what if the input had been the top-1 (top-2) token instead of the soft one?
            second = masked.scatter(1, top1[:, None], -float('inf')).argmax(-1)
            logits, js = probed_step(model, cache, x, (top1, second), dist)
            for n, js1, js2 in zip(rows, js[0][rows].tolist(), js[1][rows].tolist()):
                log['js_top1'][n].append(js1)
                log['js_top2'][n].append(js2)
        else:
            logits = model.decode_step(cache, embeds=x[:, None])  # (N, V)
    if stats is not None:
        stats.setdefault('think_steps', []).extend(n_soft.tolist())
        for k, per_row in log.items():
            stats.setdefault(k, []).extend(per_row)
    return R.cut_at_eos(out, tok.eos_id)


def soft_summary(stats):
    """Run-level means of soft_generate's stats: soft steps per question, JS per soft step."""
    mean = lambda xs: float(f"{sum(xs) / len(xs):.4g}") if xs else None
    summary = {'soft_steps_per_question': mean(stats.get('think_steps', []))}
    for k in ('js_top1', 'js_top2'):
        if any(stats.get(k, [])):
            summary[k] = mean([v for row in stats[k] for v in row])
    return summary


def thinking_length(tok, text):
    """Tokens a decoded text spends before the answer marker (all of them when it has none)."""
    return len(tok.encode(text.split(R.MARKER, 1)[0]))


def make_decoder(model, tok, generator, ckpt=None, stats=None):
    """The decoder the CLI config asks for: a function from a list of prompts to num_samples id lists
    per prompt. One branch per decoding strategy. stats: a dict the soft and power samplers write
    their counts into (summarised by decoder_summary)."""
    stats = {} if stats is None else stats
    if sampler == 'plain':
        return method_decoder(model, tok, ckpt, max_new_tokens, temperature, top_k, top_p, num_samples, generator,
                              latent_budget)
    if sampler in ('base', 'lowtemp'):  # power sampling's baselines: p itself, and its proposal q = p^(1/T), T = 1/alpha
        temp = 1.0 if sampler == 'base' else 1.0 / alpha
        return lambda prompts: R.generate(model, tok, prompts, max_new_tokens, temp, 0, 1.0, num_samples, generator)
    if sampler == 'power':
        def decode(prompts):
            rows, counts = power_sampling.power_generate(model, tok, prompts, max_new_tokens, alpha, mcmc_block, mcmc_steps,
                                          num_samples, generator)
            for key, v in counts.items():
                stats[key] = stats.get(key, 0) + v
            return rows
        return decode
    if sampler in ('soft_' + m for m in SOFT_MODES):
        assert ckpt is not None, "soft thinking needs the checkpoint (its method says where thinking ends)"
        end_id = think_end_id(tok, ckpt['config']['method'])
        def decode(prompts):
            gens = row_generators(len(prompts) * num_samples, generator, model.embed.device)
            return soft_generate(model, tok, prompts, end_id, sampler[len('soft_'):], max_new_tokens, think_budget,
                                 soft_temperature, soft_top_k, soft_top_p, soft_min_p, gamma, tau,
                                 cold_stop_entropy, cold_stop_steps, temperature, num_samples, gens, js_probe, stats)
        return decode
    raise ValueError(f"unknown sampler {sampler!r}")


def decoder_summary(stats):
    """What the sampler counted, for the JSON line: acceptance and token multiplier (power), soft
    steps and JS (soft thinking); nothing for the plain samplers."""
    if sampler == 'power':
        return power_sampling.power_summary(stats)
    return soft_summary(stats) if sampler.startswith('soft_') and stats else {}


def plot_pass_at_k(curve, path, title):
    """PNG of pass@k vs k (log2 axis), only when matplotlib is installed."""
    try:
        import matplotlib
        matplotlib.use('Agg')
        import matplotlib.pyplot as plt
    except ImportError:
        print(f"matplotlib is not installed: no plot written to {path}")
        return
    ks = sorted(curve)
    plt.figure(figsize=(4, 3))
    plt.plot(ks, [curve[k] for k in ks], marker='o')
    plt.xscale('log', base=2)
    plt.xlabel('k')
    plt.ylabel('pass@k')
    plt.title(title, fontsize=8)
    plt.tight_layout()
    plt.savefig(path, dpi=120)
    print(f"wrote {path}")


def main():
    from configurator import configure
    configure(globals(), sys.argv[1:])
    torch.manual_seed(seed)
    generator = torch.Generator(device=device).manual_seed(seed)
    model, tok, ckpt = load_checkpoint(out_dir, device)
    if compile:
        model.compile_decode()
    ptdtype = {'float32': torch.float32, 'bfloat16': torch.bfloat16, 'float16': torch.float16}[dtype]
    ctx = nullcontext() if device == 'cpu' else torch.autocast(device_type='cuda', dtype=ptdtype)
    cfg = ckpt['config']
    print(f"checkpoint {out_dir}: method {cfg['method']}, dataset {cfg['dataset']}, iter {ckpt['iter_num']}"
          + (f", stage {ckpt['stage']}: {R.inference_layout(cfg, ckpt['stage'])['n_latent']} thoughts"
             if cfg['method'] == 'coconut' else ''))
    decoding = {'plain': 'greedy' if temperature == 0 else f"temperature {temperature}, top_k {top_k}, top_p {top_p}",
                'base': 'base: temperature 1', 'lowtemp': f"low temperature 1/{alpha:g}",
                'power': f"power sampling: alpha {alpha:g}, blocks of {mcmc_block}, {mcmc_steps} MH steps each"}.get(sampler, sampler)
    if sampler.startswith('soft_'):
        decoding += (f": T {soft_temperature}, top_k {soft_top_k}, top_p {soft_top_p}, min_p {soft_min_p}"
                     + {'soft_dirichlet': f", gamma {gamma}", 'soft_gumbel': f", tau {tau}"}.get(sampler, '')
                     + f", answer {'greedy' if temperature == 0 else f'temperature {temperature}'}")
    stats = {}
    decode = make_decoder(model, tok, generator, ckpt, stats)
    if eval:
        examples = R.load_split(os.path.join('data', cfg['dataset']), eval)
        examples = examples[:eval_limit] if eval_limit else examples
        print(f"scoring {len(examples)} examples of {eval}, {decoding}, {num_samples} sample(s) each")
        t0 = time.time()
        with ctx:
            res = evaluate(model, tok, ckpt, examples, batch_size, num_samples=num_samples, progress=True,
                           decode=decode)
        for ex, text in list(zip(examples, res['texts'][::num_samples]))[:3]:
            print(f"--- {ex['question']!r}\n{text!r} (gold: {ex['answer']!r})")
        summary = {k: v for k, v in res.items() if k not in ('correct', 'texts')}
        summary['think_tokens'] = round(sum(thinking_length(tok, t) for t in res['texts']) / len(res['texts']), 3)
        curve = pass_at_k(res['correct'], num_samples, pass_k)
        summary['pass@k'] = {str(k): round(v, 4) for k, v in curve.items()}
        summary.update(decoder_summary(stats))
        if probe and cfg['method'] == 'latent':  # mean effective parallelism over every latent of every question
            n_effs = [n for ex in examples for _, n in latent_sft.probe_latents(model, tok, ckpt, ex['question'], budget=latent_budget)]
            summary['n_eff'] = sum(n_effs) / max(len(n_effs), 1)
        summary.update(method=cfg['method'], split=eval, decoding=decoding, seconds=round(time.time() - t0, 2))
        if plot:
            plot_pass_at_k(curve, plot, f"{out_dir}, {decoding}")
        print(json.dumps(summary))
        return
    question = open(start[5:]).read() if start.startswith('FILE:') else start
    prompt = R.question_prompt(tok, ckpt, question.rstrip('\n'))
    if probe and cfg['method'] == 'latent':
        for j, (top, n_eff) in enumerate(latent_sft.probe_latents(model, tok, ckpt, question.rstrip('\n'), budget=latent_budget)):
            print(f"latent {j + 1}: N_eff {n_eff:.2f}  " + '  '.join(f"{t!r} {p:.2f}" for t, p in top))
    elif probe:
        for j, top in enumerate(coconut.probe_thoughts(model, tok, ckpt, question.rstrip('\n'))):
            print(f"thought {j + 1}: " + '  '.join(f"{t!r} {p:.2f}" for t, p in top))
    with ctx:
        outs = decode([prompt])
    for ids in outs:
        print(tok.decode(prompt) + tok.decode(ids))
        print('---------------')
    if stats:  # soft thinking (the trace above shows each soft step's top-1 token), power sampling
        print(json.dumps(decoder_summary(stats)))


if __name__ == '__main__':
    main()
