"""
Decoding from a trained checkpoint, on the KV cache: prefill the prompts once (left-padded into one
batch), then one position per step; n samples per prompt repeat the cache rows after the prefill.
    python sample.py --out_dir=out-quickstart --start="3 5 1 9 2 4"
    python sample.py --out_dir=out-quickstart --eval=test           # ends with one JSON line
    python sample.py --out_dir=out-multiply-cot --eval=test --sampler=soft_gumbel --js_probe=True
Every function here is importable; the CLI is at the bottom.
"""
import copy
import json
import math
import os
import sys
import time
from contextlib import nullcontext

import torch
from torch.nn import functional as F

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
sampler = 'plain'        # plain (greedy / temperature / top-k / top-p); each other decoder adds its name in make_decoder
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
    R.attach_thought_projection(model, ckpt['config'])  # CODI's thought projection, if any
    model.load_state_dict(ckpt['model'])
    model.to(device).eval()
    return model, R.get_tokenizer(ckpt['meta']), ckpt


def banned_ids(tok, vocab_size):
    """Ids sampling must never pick: model rows past the tokenizer, padding, latent slots."""
    return list(range(tok.n_vocab, vocab_size)) + [tok.id(t) for t in R.NEVER_SAMPLED]


def filter_logits(logits, temperature=1.0, top_k=0, top_p=1.0, banned=(), min_p=0.0):
    """(B, V) logits -> (B, V) logits with -inf outside the kept set, divided by the temperature.
    min_p keeps the ids with p >= min_p * max p (p at this temperature)."""
    logits = logits.float().clone()
    if len(banned):
        logits[:, banned] = -float('inf')
    logits = logits / max(temperature, 1e-8)
    if top_k > 0:
        kth = torch.topk(logits, min(top_k, logits.size(-1)), dim=-1).values[:, [-1]]  # (B, 1)
        logits[logits < kth] = -float('inf')
    if top_p < 1.0:
        sorted_logits, order = torch.sort(logits, descending=True, dim=-1)
        cum = sorted_logits.softmax(-1).cumsum(-1)
        drop = cum - sorted_logits.softmax(-1) >= top_p  # mass before this token already reaches top_p
        logits.scatter_(1, order, sorted_logits.masked_fill(drop, -float('inf')))
    if min_p > 0.0:  # p_i >= min_p * p_max  <=>  logit_i >= max logit + log(min_p)
        top = logits.max(-1, keepdim=True).values  # (B, 1)
        logits[logits < top + math.log(min_p)] = -float('inf')
    return logits


def sample_next(logits, temperature=0.0, top_k=0, top_p=1.0, banned=(), generator=None):
    """(B, V) logits -> (B,) next token ids. temperature 0 is greedy."""
    if temperature == 0.0:
        logits = logits.float().clone()
        if len(banned):
            logits[:, banned] = -float('inf')
        return logits.argmax(-1)
    probs = F.softmax(filter_logits(logits, temperature, top_k, top_p, banned), dim=-1)
    return torch.multinomial(probs, 1, generator=generator).squeeze(1)


def left_pad(prompts, pad_id, device):
    """List of B id lists -> (B, P) ids and (B, P) bool valid, padded on the left so that every
    prompt ends in the last column and the next token of every row goes in the same column."""
    P = max(len(p) for p in prompts)
    idx = torch.full((len(prompts), P), pad_id, dtype=torch.long)
    valid = torch.zeros(len(prompts), P, dtype=torch.bool)
    for b, p in enumerate(prompts):
        idx[b, P - len(p):] = torch.tensor(p, dtype=torch.long)
        valid[b, P - len(p):] = True
    return idx.to(device), valid.to(device)


@torch.no_grad()
def prefill(model, tok, prompts, max_new_tokens, thought=None):
    """Run the left-padded prompts through the model once, into a preallocated cache sized for the
    prompts plus max_new_tokens, capped at block_size. <latent> slots become continuous thoughts
    (one cached position each; thought maps a hidden state to the next input, None = Coconut's
    identity; a CODI model's model.thought_proj by default). Returns (last-position logits (B, V),
    cache, probe (B, n_thoughts, V) or None)."""
    thought = thought if thought is not None else getattr(model, 'thought_proj', None)
    idx, valid = left_pad(prompts, tok.id(R.PAD), model.lm_head.weight.device)
    block_size = model.config.block_size
    if idx.size(1) >= block_size:
        raise ValueError(f"a prompt of {idx.size(1)} tokens leaves no room to generate in block_size {block_size}")
    cache = model.new_cache(len(prompts), min(idx.size(1) + max_new_tokens, block_size))
    logits, _, probe = R.thought_forward(model, idx, valid, idx == tok.id(R.LATENT), cache, thought, last_only=True)
    return logits[:, -1], cache, probe


@torch.no_grad()
def generate(model, tok, prompts, max_new_tokens, temperature=0.0, top_k=0, top_p=1.0,
             num_samples=1, generator=None, thought=None):
    """Decode every prompt (lists of ids) until <eos> or max_new_tokens, or until block_size is full.
    Returns, for each prompt in order and each of its num_samples samples, the list of new ids
    (ending in <eos> if it ended)."""
    logits, cache, _ = prefill(model, tok, prompts, max_new_tokens, thought)
    if num_samples > 1:
        cache.repeat(num_samples)
        logits = logits.repeat_interleave(num_samples, dim=0)
    return continue_generation(model, tok, logits, cache, temperature, top_k, top_p, generator)


@torch.no_grad()
def continue_generation(model, tok, logits, cache, temperature=0.0, top_k=0, top_p=1.0, generator=None,
                        max_new_tokens=None):
    """generate()'s loop: from the last logits (N, V) of a filled cache, one position per step until
    <eos>, max_new_tokens, or until the cache is full (prefill sized it, capped to block_size).
    Returns N lists of new ids."""
    room = cache.max_len - cache.length
    max_new_tokens = room if max_new_tokens is None else min(max_new_tokens, room)
    banned = banned_ids(tok, logits.size(-1))
    N = logits.size(0)
    out = torch.full((N, max_new_tokens), tok.eos_id, dtype=torch.long, device=logits.device)
    done = torch.zeros(N, dtype=torch.bool, device=logits.device)
    for t in range(max_new_tokens):
        nxt = sample_next(logits, temperature, top_k, top_p, banned, generator)  # (N,)
        nxt = torch.where(done, tok.eos_id, nxt)  # finished rows keep feeding <eos>; their output is ignored
        out[:, t] = nxt
        done |= nxt == tok.eos_id
        if t == max_new_tokens - 1 or bool(done.all()):  # the one host sync per step: stopping needs it
            break
        logits = model.decode_step(cache, nxt[:, None])  # (N, V), one static-shape position
    return cut_at_eos(out, tok.eos_id)


def cut_at_eos(out, eos_id):
    """(N, T) decoded ids -> N lists, each up to and including its first <eos>."""
    rows = []
    for row in out.tolist():
        n = row.index(eos_id) + 1 if eos_id in row else len(row)
        rows.append(row[:n])
    return rows


# -----------------------------------------------------------------------------
# Latent-SFT decoding: the prompt ends with <bot>; the model feeds itself soft embeddings (top-k mixtures
# of vocabulary embeddings, reasoning.latent_topk / soft_embedding, as in training) until its argmax is
# <eot> or a budget is spent; then <eot> and the answer, decoded like any other.

@torch.no_grad()
def think(model, tok, logits, cache, latent_k, budget):
    """Latent steps on the cache, from the logits (N, V) at <bot>: while a row's argmax is not <eot>,
    for at most budget steps, its next input is the soft embedding of its own top-k distribution, one
    cached position per step. A row that has stopped feeds padding (valid False: no one attends to it,
    it takes no position id), so each row computes exactly what it would alone. Then every row gets
    <eot>. Returns (logits after <eot> (N, V), steps (N,) latent steps per row, trace: per step the
    (ids (N, k), alpha (N, k), thinking (N,)) of that step's latents)."""
    eot = tok.id(R.EOT)
    banned = banned_ids(tok, logits.size(-1))
    N = logits.size(0)
    thinking = torch.ones(N, dtype=torch.bool, device=logits.device)
    steps = torch.zeros(N, dtype=torch.long, device=logits.device)
    trace = []
    for _ in range(budget):
        thinking &= sample_next(logits, banned=banned) != eot  # greedy argmax over the ids we may emit
        if not bool(thinking.any()):  # the one host sync per step
            break
        ids, alpha = R.latent_topk(logits, latent_k, banned + [eot])  # (N, k) each
        trace.append((ids, alpha, thinking.clone()))
        steps += thinking
        z = R.soft_embedding(model.embed, ids, alpha)[:, None]  # (N, 1, C)
        logits, _ = model(embeds=z, valid=thinking[:, None], cache=cache, last_only=True)
        logits = logits[:, -1]
    logits, _ = model(torch.full((N, 1), eot, dtype=torch.long, device=logits.device), cache=cache, last_only=True)
    return logits[:, -1], steps, trace


@torch.no_grad()
def latent_generate(model, tok, prompts, max_new_tokens, latent_k, budget, temperature=0.0, top_k=0, top_p=1.0,
                    num_samples=1, generator=None):
    """Latent-SFT: think (at most budget latents), <eot>, then the answer as generate() decodes it.
    The latents are deterministic, so num_samples repeats the cache rows after them. Returns, per prompt
    and sample, the new ids: one <latent> per latent step (each one a generated token), <eot>, the answer."""
    logits, cache, _ = prefill(model, tok, prompts, budget + 1 + max_new_tokens)
    budget = min(budget, cache.max_len - cache.length - 1)  # leave room for <eot>
    logits, steps, _ = think(model, tok, logits, cache, latent_k, budget)
    if num_samples > 1:
        cache.repeat(num_samples)
        logits, steps = logits.repeat_interleave(num_samples, dim=0), steps.repeat_interleave(num_samples)
    rows = continue_generation(model, tok, logits, cache, temperature, top_k, top_p, generator, max_new_tokens)
    slot, eot = tok.id(R.LATENT), tok.id(R.EOT)
    return [[slot] * n + [eot] + row for n, row in zip(steps.tolist(), rows)]


def effective_parallelism(alpha, continuations):
    """N_eff = exp(entropy) of a latent's mass over distinct continuations (DESIGN section 5). alpha (k,):
    the weights of its kept ids; continuations: one hashable outcome per id. Ids that lead to the same
    continuation pool their weight: 1 when all agree, k when k equal weights all lead elsewhere."""
    mass = {}
    for a, c in zip(alpha.tolist(), continuations):
        mass[c] = mass.get(c, 0.0) + a
    p = torch.tensor(list(mass.values()), dtype=torch.float64)
    p = p / p.sum()
    return math.exp(-float(torch.special.xlogy(p, p).sum()))


def fork(cache, n):
    """A copy of a cache with each row n times; the original is left as it was."""
    branch = copy.copy(cache)
    branch.repeat(n)  # select() builds new tensors and lists
    return branch


@torch.no_grad()
def probe_latents(model, tok, ckpt, question, max_new_tokens=32, budget=0):
    """Latent-SFT's latents for one question: per step, its top tokens with their weights and N_eff.
    Each step is replayed k times, with one kept id as a hard token in place of the soft latent, and
    decoded to the end as usual (the later latents, <eot>, the greedy answer). A continuation is the
    argmax token of each later latent plus the answer. Returns [([(token, weight)] * k, n_eff)] per step."""
    cfg = ckpt['config']
    k, budget = cfg['latent_topk'], budget or cfg['latent_budget']
    logits, cache, _ = prefill(model, tok, [question_prompt(tok, ckpt, question)], budget + 1 + max_new_tokens)
    budget = min(budget, cache.max_len - cache.length - 1)
    _, _, trace = think(model, tok, logits, fork(cache, 1), k, budget)
    out = []
    for j, (ids, alpha, _) in enumerate(trace):
        branch = fork(cache, k)  # the prefix so far (question, <bot>, latents 1..j-1), k times
        blogits, _ = model(ids[0][:, None], cache=branch, last_only=True)  # each kept id as a hard token
        blogits, _, btrace = think(model, tok, blogits[:, -1], branch, k, budget - j - 1)
        answers = continue_generation(model, tok, blogits, branch, max_new_tokens=max_new_tokens)
        later = [tuple(i[r, 0].item() for i, _, on in btrace if on[r]) for r in range(k)]
        n_eff = effective_parallelism(alpha[0], [l + tuple(a) for l, a in zip(later, answers)])
        out.append(([(tok.decode([i]), w) for i, w in zip(ids[0].tolist(), alpha[0].tolist())], n_eff))
        model(embeds=R.soft_embedding(model.embed, ids, alpha)[:, None], cache=cache)  # advance by the soft latent
    return out


def method_decoder(model, tok, ckpt, max_new_tokens=128, temperature=0.0, top_k=0, top_p=1.0, num_samples=1,
                   generator=None, budget=0):
    """How a checkpoint decodes with the plain settings: generate() (any thought slots are in the prompt),
    or, for Latent-SFT, latent_generate(), which writes its latents before the answer."""
    cfg = ckpt['config']
    if cfg['method'] == 'latent':
        if cfg['latent_stage'] != 2:
            raise ValueError("a Latent-SFT stage-1 checkpoint makes soft labels; it does not decode: train stage 2")
        return lambda prompts: latent_generate(model, tok, prompts, max_new_tokens, cfg['latent_topk'],
                                               budget or cfg['latent_budget'], temperature, top_k, top_p,
                                               num_samples, generator)
    return lambda prompts: generate(model, tok, prompts, max_new_tokens, temperature, top_k, top_p,
                                    num_samples, generator)


def question_prompt(tok, ckpt, question):
    """The method's prompt for a question, as the checkpoint was trained (pauses, thought slots ...)."""
    parts = R.encode_parts(tok, {'question': question, 'steps': [], 'answer': ''})
    prompt, _ = R.layout(tok, parts, ckpt['config']['method'], **R.inference_layout(ckpt['config'], ckpt.get('stage')))
    return prompt


def probe_thoughts(model, tok, ckpt, question, k=5):
    """Coconut's 'latent search' view: the top-k tokens each continuous thought decodes to through
    the LM head (on ProsQA, the frontier nodes of the search)."""
    prompt = question_prompt(tok, ckpt, question)
    _, _, probe = prefill(model, tok, [prompt], 1)
    if probe is None:
        return []
    logits = probe[0].float()  # (n_thoughts, V)
    logits[:, banned_ids(tok, logits.size(-1))] = -float('inf')  # rank only ids the tokenizer can decode
    probs = logits.softmax(-1)
    top = probs.topk(k, dim=-1)
    return [[(tok.decode([i]), p) for i, p in zip(ids.tolist(), ps.tolist())] for ids, ps in zip(top.indices, top.values)]


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
        prompts = [question_prompt(tok, ckpt, ex['question']) for ex in chunk]
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
    logits = filter_logits(logits, temperature, top_k, top_p, banned, min_p)  # (N, V), -inf off the support
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
    logits, cache, _ = prefill(model, tok, prompts, max_new_tokens)
    n_steps = cache.max_len - cache.length  # the budget, capped so that it fits block_size
    if num_samples > 1:
        cache.repeat(num_samples)
        logits = logits.repeat_interleave(num_samples, dim=0)
    N, V = logits.shape
    dev = logits.device
    banned = banned_ids(tok, V)
    noisy = mode != 'vanilla' or answer_temperature > 0
    if noisy:
        generators = row_generators(N, device=dev) if generators is None else generators
        assert len(generators) == N, f"{len(generators)} generators for {N} rows"
    assert not js_probe or stats is not None, "js_probe writes its values into stats: pass a dict"
    E = model.embed  # (V, C)
    dist = lambda lg: filter_logits(lg, temperature, banned=banned).softmax(-1)  # (N, V) the full p, unfiltered
    out = torch.full((N, n_steps), tok.eos_id, dtype=torch.long, device=dev)
    thinking = torch.ones(N, dtype=torch.bool, device=dev)
    done = torch.zeros(N, dtype=torch.bool, device=dev)
    low = torch.zeros(N, dtype=torch.long, device=dev)  # soft steps in a row with low entropy (Cold Stop)
    n_soft = torch.zeros(N, dtype=torch.long, device=dev)
    log = {k: [[] for _ in range(N)] for k in ('entropy', 'js_top1', 'js_top2')}
    for t in range(n_steps):
        masked = filter_logits(logits, banned=banned)  # (N, V) banned ids at -inf
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
            nxt = (filter_logits(logits, answer_temperature, banned=banned).log_softmax(-1) - torch.log(-torch.log(u))).argmax(-1)
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
    return cut_at_eos(out, tok.eos_id)


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
    per prompt. One branch per decoding strategy. stats: a dict the soft samplers write into."""
    if sampler == 'plain':
        return method_decoder(model, tok, ckpt, max_new_tokens, temperature, top_k, top_p, num_samples, generator,
                              latent_budget)
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
    decoding = 'greedy' if temperature == 0 else f"temperature {temperature}, top_k {top_k}, top_p {top_p}"
    decoding = decoding if sampler == 'plain' else sampler
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
        summary.update(soft_summary(stats) if stats else {})
        if probe and cfg['method'] == 'latent':  # mean effective parallelism over every latent of every question
            n_effs = [n for ex in examples for _, n in probe_latents(model, tok, ckpt, ex['question'], budget=latent_budget)]
            summary['n_eff'] = sum(n_effs) / max(len(n_effs), 1)
        summary.update(method=cfg['method'], split=eval, decoding=decoding, seconds=round(time.time() - t0, 2))
        print(json.dumps(summary))
        return
    question = open(start[5:]).read() if start.startswith('FILE:') else start
    prompt = question_prompt(tok, ckpt, question.rstrip('\n'))
    if probe and cfg['method'] == 'latent':
        for j, (top, n_eff) in enumerate(probe_latents(model, tok, ckpt, question.rstrip('\n'), budget=latent_budget)):
            print(f"latent {j + 1}: N_eff {n_eff:.2f}  " + '  '.join(f"{t!r} {p:.2f}" for t, p in top))
    elif probe:
        for j, top in enumerate(probe_thoughts(model, tok, ckpt, question.rstrip('\n'))):
            print(f"thought {j + 1}: " + '  '.join(f"{t!r} {p:.2f}" for t, p in top))
    with ctx:
        outs = decode([prompt])
    for ids in outs:
        print(tok.decode(prompt) + tok.decode(ids))
        print('---------------')
    if stats:  # soft thinking: the trace above shows the top-1 token of each soft step
        print(json.dumps(soft_summary(stats)))


if __name__ == '__main__':
    main()
