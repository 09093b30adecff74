"""
Power sampling: Karan & Du, "Reasoning with sampling: your base model is smarter than you think", ICLR
2026 submission. Read power_sample_reference first: one chain, written like the paper's algorithm box.
power_generate is the same sampler for many chains at once, the fast path sample.py uses; the tests
check both against the exact distribution of the algorithm on a tiny model.

Target: p^alpha over whole continuations (sharpen whole futures, then normalize), not p at a low
temperature (normalize each token's futures, then sharpen). Proposal q: the model at temperature
1/alpha. A chain grows its state by blocks of `block` tokens drawn from q; after each block,
`steps` Metropolis-Hastings steps each pick a position j uniformly among the h tokens so far,
redraw tokens j..h-1 from q and accept with probability min(1, r), where (chosen-token log-probs of
the suffixes from j; the shared prefix cancels)
    log r = alpha * (log p(new) - log p(old)) + (log q(old) - log q(new)).
With q = p^alpha normalized per token, alpha * log p(v) - log q(v) = log sum_v' p(v')^alpha for every
v (power_logprobs; tested). EOS is absorbing: padding of probability 1 follows it under p and q, so
state and proposal both span the h positions (a proposal may end before or after the state), the ratio
compares both full suffixes, and a position past the state's EOS is a no-op. (The official code lets a
proposal be shorter but never longer than the state and drops the state's tail from the ratio, which
leaves it far from p^alpha: tests/test_power.py shows it.) A chain stops after the block in which its
state ended, or at max_new_tokens.
The batched sampler is the longer part of this file: chains at different points of their own
proposals share one forward step, which takes per-row bookkeeping (see "Batching" below).
Sweeps (power_sweep; `python power_sampling.py --out_dir=... --sweep=alpha|steps`): accuracy and cost
(tokens the model ran and tokens drawn per token returned, MH acceptance) against alpha or N_MCMC on
a checkpoint. The exact small case of both, on a designed toy, is power_toy.py.
"""
import json
import math
import sys
import time
from types import SimpleNamespace

import torch
from torch.nn import functional as F

import reasoning as R


def power_logprobs(logits, alpha, banned=None):
    """(N, V) logits -> (log p, log q), each (N, V): p the model at temperature 1, q at temperature
    1/alpha, over the same allowed ids (banned: a (V,) bool mask). alpha * log p(v) - log q(v) = log sum_v' p(v')^alpha for all v."""
    logp = F.log_softmax(R.filter_logits(logits, 1.0, banned=banned), dim=-1)
    return logp, F.log_softmax(alpha * logp, dim=-1)


def check_power_args(alpha, block, steps):
    """A block of 0 tokens never grows the state: the chain would loop forever. alpha 0 makes q
    uniform over the banned ids too (0 * -inf is NaN)."""
    if not block >= 1:
        raise ValueError(f"mcmc_block={block} is not allowed: a block must add at least 1 token, or the chain never ends")
    if not steps >= 0:
        raise ValueError(f"mcmc_steps={steps} is not allowed: mcmc_steps must be >= 0")
    if not alpha > 0:
        raise ValueError(f"alpha={alpha} is not allowed: alpha must be > 0 (the target is p^alpha)")


# -----------------------------------------------------------------------------
# the reference: one chain, batch of one. The KV cache always holds a prefix of prompt + state; a
# proposal crops it back to where the proposal starts (KVCache.crop), a rejection back to the prefix
# the proposal shares with the state.

@torch.no_grad()
def power_sample_reference(model, tok, prompt, max_new_tokens, alpha=4.0, block=192, steps=10, generator=None):
    """Power sampling of one prompt (a list of ids), one chain. Returns its new ids (ending in <eos>
    if it ended). generator: a torch.Generator on the model's device (None: the global RNG)."""
    assert len(prompt) > 0, "the first proposal starts from the prompt's last token"
    check_power_args(alpha, block, steps)
    _, cache, _ = R.prefill(model, tok, [prompt], max_new_tokens)
    P, T, dev = len(prompt), min(max_new_tokens, cache.max_len - len(prompt)), cache.valid.device
    banned = R.banned_mask(tok, model.config.vocab_size, dev, R.closes_thought(tok, [prompt]))
    rand = lambda: torch.rand((), generator=generator, device=dev).item()

    def propose(x, lp, lq, j, h):
        """x[:j] kept, then tokens from q until <eos> or h tokens; with the log p and log q of each token."""
        y, ylp, ylq = x[:j], lp[:j], lq[:j]
        cache.crop(min(cache.length, P + j - 1))  # a prefix of prompt + y, short of at least the last token
        ids = torch.tensor([(prompt + y)[cache.length:]], device=dev)  # (1, t): what the cache lacks
        logits, _ = model(ids, cache=cache, last_only=True)  # (1, 1, V) the next token's logits
        while True:
            logp, logq = power_logprobs(logits[:, -1], alpha, banned)  # (1, V) each
            v = torch.multinomial(logq.exp(), 1, generator=generator).item()
            y, ylp, ylq = y + [v], ylp + [logp[0, v].item()], ylq + [logq[0, v].item()]
            if v == tok.eos_id or len(y) == h:
                return y, ylp, ylq
            logits, _ = model(torch.tensor([[v]], device=dev), cache=cache, last_only=True)

    x, lp, lq = [], [], []  # the state: its tokens, and the log p and log q of each
    h = 0  # the horizon: the state holds h tokens, or fewer when it ended with <eos>
    while h < T and tok.eos_id not in x:
        h = min(h + block, T)
        x, lp, lq = propose(x, lp, lq, len(x), h)  # extend the state by a block from q: always taken
        for _ in range(steps):
            j = int(rand() * h)  # the position to resample from, uniform over the h positions
            if j >= len(x):
                continue  # past the state's <eos>: nothing to resample, a no-op move
            y, ylp, ylq = propose(x, lp, lq, j, h)
            log_r = alpha * (sum(ylp[j:]) - sum(lp[j:])) + (sum(lq[j:]) - sum(ylq[j:]))
            if rand() < math.exp(min(log_r, 0.0)):  # accept with probability min(1, r)
                x, lp, lq = y, ylp, ylq
            else:
                cache.crop(P + j)  # back to what the proposal shares with the state
    return x


# -----------------------------------------------------------------------------
# the batched sampler: the same algorithm for every prompt x sample at once
#
# Batching: every row (prompt x sample) is a chain that runs its own tasks (extend by a block, then
# MH steps) at its own pace, one token per row per forward step: no row waits for another row's
# longer proposal. A task starting at index s crops the row's cache to the state before s-1 with
# KVCache.shift, which crops each row to its own length and keeps it aligned to the last column (as
# left padding does), so one batched one-token step serves every row. A rejected chain gets its
# state's cache back from a copy taken before the proposal (a memory copy, no model call): only
# index s-1 is fed twice per task, its logits were not kept.
# Randomness is counter-based: a draw is a hash of (row seed, task number, slot), so a chain comes
# out the same whatever else shares its batch.

def mix32(x):
    """lowbias32 (C. Wellons): a 32-bit integer hash, on int64 tensors, in arithmetic that never overflows."""
    x = x & 0xFFFFFFFF
    for shift, mul in ((16, 0x7FEB352D), (15, 0x846CA68B)):
        x = x ^ (x >> shift)
        x = (((((x >> 16) * mul) & 0xFFFF) << 16) + (x & 0xFFFF) * mul) & 0xFFFFFFFF
    return x ^ (x >> 16)


def task_key(seed, task):
    return mix32(mix32(seed) + task)


def uniform(key, slot):
    """Uniforms in (0, 1) on a 2^-24 grid (exact in float32) from a task key and a slot:
    0 the MH position, 1 the accept test, 2+i the token at index i."""
    return ((mix32(key + slot) >> 8).double() + 0.5) / 2 ** 24


def power_start(c, need, cache, back, steps, block, T, eos, stats):
    """Give each chain in `need` its next task: skip the MH steps that land past its state's EOS,
    close the block (stop the chain, or extend its state by a block), crop its cache (an MH step
    first copies it to `back`, for a rejection)."""
    o = torch.arange(steps + 1, device=c.h.device)  # the rest of the block's MH steps, all at once
    k = c.k[:, None] + o  # (N, steps+1) task numbers within the block
    s = (uniform(task_key(c.seed[:, None], c.task[:, None] + o), 0) * c.h[:, None]).long() + 1  # first redrawn index
    is_eos = c.x[:, 1:] == eos
    xend = torch.where(is_eos.any(1), is_eos.int().argmax(1) + 1, T + 1)  # (N,) index of the state's EOS
    real = (k <= steps) & (s <= xend[:, None])
    skip = torch.where(real.any(1), real.int().argmax(1), (steps + 1 - c.k).clamp(min=0))
    skip = torch.where(need, skip, 0)
    stats['noops'] += skip.sum()
    c.k, c.task = c.k + skip, c.task + skip
    s = s.gather(1, skip.clamp(max=steps)[:, None]).squeeze(1)
    # end of block: stop a chain whose state ended (or is full), else open the next block (extension)
    end = need & (c.k > steps)
    stop = end & ((xend <= c.h) | (c.h == T))
    c.done |= stop
    grow = end & ~stop
    s = torch.where(grow, c.h + 1, s)
    c.h = torch.where(grow, (c.h + block).clamp(max=T), c.h)
    c.k = torch.where(grow, 0, c.k)
    # start: the cache holds the state's indices 0..n-1; keep those before s-1 (s-1 is fed again:
    # its logits were not kept); the proposal starts as the state
    start = need & ~c.done
    c.s = torch.where(start, s, c.s)
    c.key = torch.where(start, task_key(c.seed, c.task), c.key)
    c.nb = torch.where(start, c.n, c.nb)
    assert bool((c.s - 1 <= c.n)[start].all())
    mh = (start & (c.k > 0)).nonzero().squeeze(1)
    if len(mh):
        back.copy_rows(mh, cache)
        c.L0[mh] = cache.length
    rows = (start & (c.n > c.s - 1)).nonzero().squeeze(1)
    if len(rows):
        cache.shift(rows, (c.n - c.s + 1)[rows])
    c.n = torch.where(start, c.s - 1, c.n)
    c.t = torch.where(start, c.n, c.t)
    redrawn = (torch.arange(T + 1, device=c.h.device) >= c.s[:, None])[start]
    c.y[start] = c.x[start].masked_fill(redrawn, c.pad)
    c.ylp[start] = c.xlp[start].masked_fill(redrawn, 0.0)
    c.ylq[start] = c.xlq[start].masked_fill(redrawn, 0.0)


def power_finish(c, fin, alpha, cache, back, stats):
    """Metropolis-Hastings decision for the chains whose proposal is complete (an extension is always
    taken). The sums run over both full suffixes from index s; padding after an EOS adds 0 to either."""
    after = torch.arange(c.x.size(1), device=c.x.device) >= c.s[:, None]  # (N, T+1)
    log_r = alpha * ((c.ylp - c.xlp) * after).sum(1) + ((c.xlq - c.ylq) * after).sum(1)
    mh = fin & (c.k > 0)
    accept = fin & ((c.k == 0) | (torch.log(uniform(c.key, 1)) < log_r))
    stats['proposals'] += mh.sum()
    stats['accepted'] += (mh & accept).sum()
    c.x[accept], c.xlp[accept], c.xlq[accept] = c.y[accept], c.ylp[accept], c.ylq[accept]
    # accepted: the cache holds the new state; rejected: put back the copy taken before the proposal,
    # moved to end in the last column again (the cache has grown, or lost padding in front, since)
    rows = (fin & ~accept).nonzero().squeeze(1)
    if len(rows):
        cache.shift(rows, cache.length - c.L0[rows], src=back)
        c.n[rows] = c.nb[rows]
    c.k, c.task = c.k + fin.long(), c.task + fin.long()


def power_draw(c, logp, logq, eos, stats):
    """After feeding index t: draw index i = t+1 from q by inverse CDF at the chain's own uniform
    (unless i is still a kept state token). Returns the chains whose proposal is complete."""
    i = c.t + 1  # (N,)
    cdf = logq.exp().cumsum(-1)  # (N, V)
    u = uniform(c.key, 2 + i).to(cdf.dtype)
    new = torch.searchsorted(cdf, (u * cdf[:, -1])[:, None]).squeeze(1).clamp(max=cdf.size(1) - 1)  # (N,)
    draw = ~c.done & (i >= c.s)
    rows, at, new = draw.nonzero().squeeze(1), i[draw], new[draw]
    c.y[rows, at], c.ylp[rows, at], c.ylq[rows, at] = new, logp[rows, new], logq[rows, new]
    fin = draw.clone()
    fin[rows] = (new == eos) | (at == c.h[rows])
    c.n = torch.where(c.done, c.n, i)
    c.t = torch.where(~c.done & ~fin, i, c.t)
    stats['drawn'] += draw.sum()
    return fin


@torch.no_grad()
def power_generate(model, tok, prompts, max_new_tokens, alpha=4.0, block=192, steps=10, num_samples=1,
                   generator=None, seeds=None):
    """Power sampling of every prompt (lists of ids), num_samples chains each. seeds: (N,) int64, one
    per chain (default: drawn from generator); a chain's result depends only on its seed and prompt.
    Returns (rows, stats): rows as `generate` gives them (num_samples id lists per prompt, ending in
    <eos> if ended) and counts: proposals and accepted (MH steps), noops (positions past EOS),
    drawn (tokens drawn from q), fed (row-tokens run through the model), final (tokens returned),
    forwards (batched steps)."""
    assert all(len(p) > 0 for p in prompts), "a chain starts from the prompt's last token"
    check_power_args(alpha, block, steps)
    P = max(len(p) for p in prompts)
    # room for the rows' different lengths: compaction (drop_front) happens once per `slack` steps or less often
    _, cache, _ = R.prefill(model, tok, prompts, max_new_tokens + max(8, (P + max_new_tokens) // 8),
                          num_samples=num_samples)
    T = min(max_new_tokens, cache.max_len - P)
    N, dev = cache.valid.size(0), cache.valid.device
    if seeds is None:
        seeds = torch.randint(2 ** 31 - 1, (N,), generator=generator, device=generator.device if generator else 'cpu')
    assert seeds.shape == (N,), f"need one seed per chain: {N}"
    pad, eos = tok.id(R.PAD), tok.eos_id
    banned = R.banned_mask(tok, model.config.vocab_size, dev, R.closes_thought(tok, prompts))
    # a chain: its state x (index 0 = last prompt token, 1..h = the tokens so far, then pad) with the
    # log p and log q of each token; the proposal y being drawn; the task: first redrawn index s,
    # index t to feed next, k = task number in the block (0 = extension), key of its random draws;
    # the cache holds indices 0..n-1; at the task's start it held nb, the cache's length was L0
    x = torch.full((N, T + 1), pad, dtype=torch.long, device=dev)
    x[:, 0] = torch.tensor([p[-1] for p in prompts], device=dev).repeat_interleave(num_samples)
    ints = lambda v=0: torch.full((N,), v, dtype=torch.long, device=dev)
    floats = lambda: torch.zeros(N, T + 1, device=dev)
    c = SimpleNamespace(x=x, xlp=floats(), xlq=floats(), y=x.clone(), ylp=floats(), ylq=floats(),
                        seed=seeds.to(dev).long(), task=ints(), k=ints(steps + 1), h=ints(), s=ints(), t=ints(),
                        key=ints(), n=ints(1), nb=ints(1), L0=ints(), done=torch.zeros(N, dtype=torch.bool, device=dev),
                        row=torch.arange(N, device=dev), pad=pad)
    back = model.new_cache(N, cache.max_len, dtype=cache.k[0].dtype)  # copies of the states' caches
    out = x.clone()
    stats = {key: torch.zeros((), dtype=torch.long, device=dev) for key in
             ('proposals', 'accepted', 'noops', 'drawn', 'fed', 'forwards')}
    power_start(c, ~c.done, cache, back, steps, block, T, eos, stats)
    # the bound that makes this loop stop even if the bookkeeping were wrong: a chain runs at most
    # (steps + 1) tasks per block, and a task feeds at most T + 1 tokens, one per forward step
    most, forwards = -(-T // block) * (steps + 1) * (T + 1), 0
    while not bool(c.done.all()):
        assert forwards < most, f"power sampling ran {forwards} forward steps, its bound: a bug, not a slow chain"
        forwards += 1
        if cache.length == cache.max_len:  # every row ends in the last column: drop the padding in front
            width = P - 1 + torch.maximum(c.n, c.nb)[~c.done]  # columns a row holds, or may get back
            cache.drop_front(cache.length - int(width.max()))
        logits = model.decode_step(cache, c.y.gather(1, c.t[:, None]), valid=~c.done[:, None])  # (N, V)
        logp, logq = power_logprobs(logits, alpha, banned)  # (N, V) each
        stats['forwards'] += 1
        stats['fed'] += (~c.done).sum()
        fin = power_draw(c, logp, logq, eos, stats)
        if bool(fin.any()):
            power_finish(c, fin, alpha, cache, back, stats)
            power_start(c, fin, cache, back, steps, block, T, eos, stats)
            out[c.row[c.done]] = c.x[c.done]
            if 8 * int(c.done.sum()) >= N:  # an eighth of the rows finished: take them out of the batch
                live = (~c.done).nonzero().squeeze(1)
                cache.select(live)
                back.select(live)
                c = SimpleNamespace(**{key: v[live] if torch.is_tensor(v) else v for key, v in vars(c).items()})
                N = len(live)
    rows = []
    for ids in out[:, 1:].tolist():
        rows.append(ids[:ids.index(pad)] if pad in ids else ids)
    stats = {key: int(v) for key, v in stats.items()}
    stats.update(rows=len(rows), final=sum(len(r) for r in rows))
    return rows, stats


def power_summary(stats):
    """The power sampler's counts as rates: MH acceptance (no-op moves past EOS excluded) and the
    token multiplier (tokens drawn from q, blocks and proposals, per token returned)."""
    return {'acceptance': round(stats['accepted'] / max(stats['proposals'], 1), 4),
            'token_multiplier': round(stats['drawn'] / max(stats['final'], 1), 3),
            'noop_moves': stats['noops']}


# -----------------------------------------------------------------------------
# sweeps: accuracy and cost against alpha and against the number of MH steps, on a checkpoint

@torch.no_grad()
def power_sweep(model, tok, ckpt, examples, settings, max_new_tokens=64, num_samples=1, batch_size=64, seed=1337):
    """Power sampling over a split at each setting, a dict of power_generate's alpha, block, steps.
    One row per setting: alpha, block, steps, accuracy (over all samples), n, and the cost:
        acceptance        MH proposals accepted (no-op moves past EOS excluded)
        fed_per_token     row-tokens run through the model per token returned (the forward cost;
                          plain decoding is 1)
        drawn_per_token   tokens drawn from q per token returned (power_summary's token multiplier)
        seconds
    Every setting's chains draw their seeds from a generator started at `seed`."""
    prompts = [R.question_prompt(tok, ckpt, ex['question']) for ex in examples]
    dev = model.embed.device
    rows = []
    for setting in settings:
        alpha, block, steps = setting['alpha'], setting['block'], setting['steps']
        g, t0 = torch.Generator(device=dev).manual_seed(seed), time.time()
        outs, counts = [], {}
        for i in range(0, len(prompts), batch_size):
            o, c = power_generate(model, tok, prompts[i:i + batch_size], max_new_tokens, alpha, block, steps, num_samples, g)
            outs += o
            counts = {k: counts.get(k, 0) + v for k, v in c.items()}
        correct = [R.is_correct(tok.decode(ids), examples[j // num_samples]) for j, ids in enumerate(outs)]
        rows.append({'alpha': alpha, 'block': block, 'steps': steps, 'accuracy': round(sum(correct) / len(correct), 4),
                     'acceptance': round(counts['accepted'] / counts['proposals'], 4) if counts['proposals'] else None,
                     'fed_per_token': round(counts['fed'] / max(counts['final'], 1), 3),
                     'drawn_per_token': round(counts['drawn'] / max(counts['final'], 1), 3),
                     'n': len(examples), 'seconds': round(time.time() - t0, 1)})
    return rows


def main(argv):
    """python power_sampling.py --out_dir=out-x --sweep=alpha|steps [--eval=valid --eval_limit=50 ...]:
    alpha over --alphas at --mcmc_steps, or N_MCMC over --steps_list at --alpha; blocks of --mcmc_block.
    Prints one JSON line per row, then the markdown table."""
    import configurator
    from sample import load_checkpoint
    from soft_thinking import markdown_table
    cfg = dict(out_dir='out', sweep='alpha', eval='valid', eval_limit=50, batch_size=64, max_new_tokens=64,
               num_samples=1, seed=1337, device='cpu', alpha=4.0, mcmc_block=16, mcmc_steps=10,
               alphas=[1.0, 2.0, 4.0, 8.0], steps_list=[0, 1, 3, 10])
    configurator.configure(cfg, argv)
    C = configurator
    C.check(cfg, {'out_dir': C.ANY, 'sweep': C.one_of('alpha', 'steps'), 'eval': C.ANY, 'eval_limit': C.at_least(0),
                  'batch_size': C.at_least(1), 'max_new_tokens': C.at_least(1), 'num_samples': C.at_least(1),
                  'seed': C.at_least(0), 'device': C.ANY, 'alpha': C.above(0), 'mcmc_block': C.at_least(1),
                  'mcmc_steps': C.at_least(0), 'alphas': ((lambda v: len(v) > 0 and all(a > 0 for a in v)), 'a list of alphas > 0'),
                  'steps_list': ((lambda v: len(v) > 0 and all(type(k) is int and k >= 0 for k in v)), 'a list of integers >= 0')})
    torch.manual_seed(cfg['seed'])
    model, tok, ckpt = load_checkpoint(cfg['out_dir'], cfg['device'])
    examples = R.load_split(f"data/{ckpt['config']['dataset']}", cfg['eval'], steps=False)
    examples = examples[:cfg['eval_limit']] if cfg['eval_limit'] else examples
    block = cfg['mcmc_block']
    settings = ([{'alpha': float(a), 'block': block, 'steps': cfg['mcmc_steps']} for a in cfg['alphas']] if cfg['sweep'] == 'alpha'
                else [{'alpha': cfg['alpha'], 'block': block, 'steps': k} for k in cfg['steps_list']])
    print(f"{cfg['out_dir']}: {len(examples)} questions of {cfg['eval']}, {cfg['num_samples']} sample(s) each, seed {cfg['seed']}")
    rows = power_sweep(model, tok, ckpt, examples, settings, cfg['max_new_tokens'], cfg['num_samples'], cfg['batch_size'], cfg['seed'])
    for row in rows:
        print(json.dumps(row))
    print(markdown_table(rows))


if __name__ == '__main__':
    main(sys.argv[1:])
