"""
Speed as ratios measured in one run (absolute times on shared machines are noise; ratios are not).
    python bench.py                      # CPU, a few minutes
    python bench.py --n_layer=12 --n_head=12 --n_embd=768 --vocab_size=50304 --parts=hf   # GPT-2 small vs HF
    python bench.py --device=cuda --n_layer=12 --n_head=12 --n_embd=768 --vocab_size=50304 --dtype=bfloat16
Each row says what it compares. Random weights: speed does not depend on what the model knows.
The roofline column: decoding reads every weight (and the KV cache) once per step, so it can go no
faster than the bytes a step reads over the copy bandwidth measured in the same run; the column is
the share of that bound a decoder reaches.
"""
import copy
import sys
import time
from contextlib import nullcontext

import torch

import coconut
import codi
import configurator
import latent_sft
import power_sampling
import reasoning as R
import sample
import soft_thinking
import train as T
from configurator import above, at_least, one_of
from model import GPT, GPTConfig

# -----------------------------------------------------------------------------
device = 'cuda' if torch.cuda.is_available() else 'cpu'
n_layer = 4
n_head = 4
n_embd = 256
vocab_size = 512         # a word-vocab-sized head; --vocab_size=50304 for GPT-2's
block_size = 1024
prompt_len = 32
new_tokens = 512         # decoding length for the cached vs uncached comparison
batch_size = 16          # rows of the batched-decoding comparison
train_batch = 16
train_len = 256
latent_batch = 64        # running-sum examples for the Coconut / CODI rows
latent_digits = 6
repeats = 3              # best of this many timings per measurement
compile = True           # also time torch.compile'd decode and train steps against eager (compiling takes a minute)
power_tokens = 128       # power sampling vs plain decoding: tokens per row, at batch_size rows
alpha = 4.0
mcmc_block = 16
mcmc_steps = 4
power_repeats = 2        # power sampling runs are long: best of fewer
hf_tokens = 64           # HF comparison: new tokens per decode, at batch 1 and at batch_size
dtype = 'float32'        # float32 | bfloat16 | float16: decoding rows run the weights in it, training rows autocast to it
parts = 'decoding,power,soft,training,latent,compile,hf'  # which groups of rows to run
cpu_time = False         # CPU: time by the process's CPU time, not the wall clock. On a CPU shared with other
                         # jobs our share of it varies from second to second, the CPU time of the work much
                         # less; with OMP_NUM_THREADS=1 (more threads also count their spin-waits)
seed = 1337
# -----------------------------------------------------------------------------
# what each key allows (configurator.check, at start); validate() adds the rules between keys
PARTS = ('decoding', 'power', 'soft', 'training', 'latent', 'compile', 'hf')  # the groups of rows, in order
CHECKS = {
    'device': sample.DEVICE, 'n_layer': at_least(1), 'n_head': at_least(1), 'n_embd': at_least(1),
    'vocab_size': ((lambda v: v >= 19), '>= 19 (the ids of its digit tokenizer)'), 'block_size': at_least(2), 'prompt_len': at_least(1), 'new_tokens': at_least(1),
    'batch_size': at_least(1), 'train_batch': at_least(1), 'train_len': at_least(1), 'latent_batch': at_least(1),
    'latent_digits': at_least(2), 'repeats': at_least(1), 'compile': one_of(True, False), 'power_tokens': at_least(1),
    'alpha': above(0), 'mcmc_block': at_least(1), 'mcmc_steps': at_least(1), 'power_repeats': at_least(1), 'seed': at_least(0),
    'hf_tokens': at_least(1), 'dtype': one_of('float32', 'bfloat16', 'float16'), 'cpu_time': one_of(True, False),
    'parts': ((lambda v: v != '' and set(v.split(',')) <= set(PARTS)), 'a comma-separated subset of ' + ','.join(PARTS)),
}


def validate(cfg):
    """Every key's range (CHECKS), then what must fit together, before a minute of timing is spent."""
    configurator.check(cfg, CHECKS)
    if cfg['n_embd'] % cfg['n_head']:
        raise ValueError(f"n_embd={cfg['n_embd']} is not a multiple of n_head={cfg['n_head']}")
    parts = cfg['parts'].split(',')
    for key, used in (('new_tokens', True), ('power_tokens', 'power' in parts or 'soft' in parts)):
        # the uncached decoder and the samplers need the whole length in the model (power_tokens: if they run)
        if used and cfg['prompt_len'] + cfg[key] > cfg['block_size']:
            raise ValueError(f"prompt_len={cfg['prompt_len']} + {key}={cfg[key]} does not fit in block_size={cfg['block_size']}")
    if cfg['train_len'] > cfg['block_size']:
        raise ValueError(f"train_len={cfg['train_len']} does not fit in block_size={cfg['block_size']}")


def timed(fn, n=None):
    """Best time of n calls, `repeats` by default (the minimum is the least noisy estimate of the cost):
    wall time, or with cpu_time the process's CPU time."""
    clock = time.process_time if cpu_time else time.perf_counter
    best = float('inf')
    for _ in range(n or repeats):
        if device.startswith('cuda'):
            torch.cuda.synchronize()
        t0 = clock()
        fn()
        if device.startswith('cuda'):
            torch.cuda.synchronize()
        best = min(best, clock() - t0)
    return best


class NoStop:
    """A tokenizer whose end-of-text id the model never emits, so decoding benchmarks run every step.
    n_vocab: the ids it may decode (more than tok's: fewer banned ids, for the HF comparison)."""

    def __init__(self, tok, n_vocab=None):
        self.tok, self.eos_id, self.n_vocab = tok, -1, n_vocab or tok.n_vocab

    def id(self, token):
        return self.tok.id(token)


@torch.no_grad()
def uncached_generate(model, prompt, n):
    """Greedy decoding without a cache: a full forward over the whole sequence for every token."""
    ids = prompt
    for _ in range(n):
        logits, _ = model(ids, last_only=True)
        ids = torch.cat([ids, logits[:, -1].argmax(-1, keepdim=True)], dim=1)
    return ids


def bench_decoding(model, tok):
    prompt = torch.randint(2, vocab_size, (1, prompt_len), device=device)
    t_cached = timed(lambda: R.generate(model, tok, prompt.tolist(), new_tokens))
    t_uncached = timed(lambda: uncached_generate(model, prompt, new_tokens))
    prompts = torch.randint(2, vocab_size, (batch_size, prompt_len)).tolist()
    t_batch = timed(lambda: R.generate(model, tok, prompts, new_tokens))
    # memory-bandwidth utilisation (CUDA): the weights and the cache a step must read, at the mean cache length
    mbu = lambda t, b: model.estimate_mbu(new_tokens / t, b, prompt_len + new_tokens // 2,
                                          next(model.parameters()).element_size(), device)
    mbu_text = lambda t, b: '' if (u := mbu(t, b)) is None else f", MBU {100 * u:.1f}%"
    return [
        ('decoding: uncached / cached time', t_uncached / t_cached,
         f"{new_tokens} new tokens after {prompt_len}, batch 1: {t_uncached:.2f}s vs {t_cached:.2f}s{mbu_text(t_cached, 1)}"),
        (f'decoding: batch-{batch_size} / batch-1 throughput', batch_size * t_cached / t_batch,
         f"{batch_size * new_tokens / t_batch:,.0f} vs {new_tokens / t_cached:,.0f} tok/s{mbu_text(t_batch, batch_size)}"),
    ]


def bench_soft(model, tok):
    """Soft thinking vs plain greedy (CoT) decoding of the same prompts, for the same number of steps:
    end id -1 never comes, so every step is a soft one (vanilla: filter, pi @ E, no noise)."""
    prompts = torch.randint(2, vocab_size, (batch_size, prompt_len)).tolist()
    t_greedy = t_soft = float('inf')
    for _ in range(repeats):  # interleaved: a change of load on a shared machine hits both alike
        t_greedy = min(t_greedy, timed(lambda: R.generate(model, tok, prompts, new_tokens), 1))
        t_soft = min(t_soft, timed(lambda: soft_thinking.soft_generate(model, tok, prompts, -1, 'vanilla', new_tokens,
                                                           think_budget=new_tokens, cold_stop_steps=0), 1))
    return [('soft thinking / greedy: time per question', t_soft / t_greedy,
             f"batch {batch_size}, {new_tokens} steps: {1e3 * t_soft / batch_size:.0f} vs {1e3 * t_greedy / batch_size:.0f} ms")]


def bench_power(model, tok):
    """Power sampling against plain batched decoding of the same length at the same batch size, per
    token drawn from the proposal (every token costs one row of a forward step: no token is fed twice
    but the resample point's, and rows finish at different times); the multiplier against the paper's."""
    prompts = torch.randint(2, vocab_size, (batch_size, prompt_len)).tolist()
    t_plain = timed(lambda: R.generate(model, tok, prompts, power_tokens))
    stats = {}
    run = lambda: stats.update(power_sampling.power_generate(model, tok, prompts, power_tokens, alpha, mcmc_block, mcmc_steps,
                                                seeds=torch.arange(batch_size))[1])
    t_power = timed(run, power_repeats)
    T, B, N, K = power_tokens, mcmc_block, mcmc_steps, -(-power_tokens // mcmc_block)
    per_row = stats['drawn'] / batch_size
    return [
        ('power sampling: time per proposal token / plain', (t_power / stats['drawn']) / (t_plain / (batch_size * T)),
         f"batch {batch_size}, {T} tokens, alpha {alpha:g}, blocks of {B}, {N} MH steps: {stats['drawn'] / t_power:,.0f} vs "
         f"{batch_size * T / t_plain:,.0f} tok/s; {stats['forwards']} steps for {per_row:.0f} tokens per row, "
         f"acceptance {stats['accepted'] / stats['proposals']:.2f}"),
        ('power sampling: token multiplier', stats['drawn'] / stats['final'],
         f"(drawn / returned) vs the paper's N_MCMC*T/(4B) = {N * T / (4 * B):.2f}; counting the blocks' own "
         f"tokens and uniform positions, 1 + N(K+1)/4 + N/(2B) = {1 + N * (K + 1) / 4 + N / (2 * B):.2f}"),
    ]


def bench_training(model):
    opt = model.configure_optimizers(0.1, 1e-4, (0.9, 0.95), 'cuda' if device.startswith('cuda') else 'cpu')
    x = torch.randint(2, vocab_size, (train_batch, train_len), device=device)
    def step():
        _, loss = model(x, x)
        loss.backward()
        opt.step()
        opt.zero_grad(set_to_none=True)
    model.train()
    step()  # warm up the optimizer state
    t = timed(step)
    model.eval()
    tps = train_batch * train_len / t
    mfu = model.estimate_mfu(tps, train_len, device)
    return [('training: tokens/s (absolute, for reference)', tps,
             f"batch {train_batch} x {train_len}" + (f", MFU {100 * mfu:.1f}%" if mfu else ''))]


def bench_compile(model, tok):
    """torch.compile'd single-token decode step and training step against eager, same inputs."""
    prompts = torch.randint(2, vocab_size, (batch_size, prompt_len)).tolist()
    decode = lambda: R.generate(model, tok, prompts, new_tokens)
    t_eager = timed(decode)
    model.compile_decode()
    decode()  # compile
    t_comp = timed(decode)
    del model.decode_core  # back to eager
    x = torch.randint(2, vocab_size, (train_batch, train_len), device=device)
    def step(m):
        _, loss = m(x, x)
        loss.backward()
        model.zero_grad(set_to_none=True)
    model.train()
    t_train = timed(lambda: step(model))
    compiled = torch.compile(model)
    step(compiled)  # compile
    t_train_comp = timed(lambda: step(compiled))
    model.eval()
    return [('decoding: eager / compiled time', t_eager / t_comp, f"batch {batch_size}, {new_tokens} tokens, decode step compiled"),
            ('train step: eager / compiled time', t_train / t_train_comp, f"forward + backward, batch {train_batch} x {train_len}")]


def copy_bandwidth(nbytes=256 * 2**20):
    """Bytes per second of a large copy, read and write counted (STREAM's convention), best of
    `repeats`: about the fastest that decoding can read its weights. 256 MiB is far past any CPU cache."""
    src = torch.ones(nbytes // 4, device=device)
    dst = torch.empty_like(src)
    dst.copy_(src)  # touch every page first
    return 2 * nbytes / timed(lambda: dst.copy_(src))


def hf_twin(model):
    """HF transformers' GPT2LMHeadModel holding our weights, in our dtype (its Conv1D weights are (in,
    out): ours transposed; the head is tied to wte in both)."""
    import transformers
    c = model.config
    hf = transformers.GPT2LMHeadModel(transformers.GPT2Config(
        vocab_size=c.vocab_size, n_positions=c.block_size, n_embd=c.n_embd, n_layer=c.n_layer, n_head=c.n_head,
        resid_pdrop=0.0, embd_pdrop=0.0, attn_pdrop=0.0, bos_token_id=0, eos_token_id=None))
    conv1d = ('c_attn.weight', 'c_proj.weight', 'c_fc.weight')
    missing, unexpected = hf.load_state_dict({k: v.t() if k.endswith(conv1d) else v
                                              for k, v in model.state_dict().items()}, strict=False)
    assert not missing and not unexpected, f"HF GPT-2 keys differ: {missing} {unexpected}"
    return hf.to(device, next(model.parameters()).dtype).eval()


def hf_generate(hf, prompts, n, compiled, banned):
    """HF's greedy generate of exactly n new tokens for (B, P) prompts, never one of the banned ids,
    as ours; compiled: with its static cache and torch.compile, as HF recommends (it compiles only on
    GPUs unless told otherwise)."""
    import transformers
    kw = {}
    if compiled:
        cc = transformers.CompileConfig()
        cc._compile_all_devices = True
        kw = dict(cache_implementation='static', compile_config=cc)
    return hf.generate(prompts, attention_mask=torch.ones_like(prompts), max_new_tokens=n, do_sample=False,
                       suppress_tokens=banned, pad_token_id=0, eos_token_id=None, **kw)


@torch.no_grad()
def bench_hf(model, tok):
    """Our generate against HF transformers' generate: same weights, threads and prompts, greedy, batch
    1 and batch_size, eager and compiled. Repeats interleaved (copy bandwidth, ours, HF; again) so that
    a change of load on a shared machine hits all alike. Value: our tokens/s over HF's (best of each);
    roofline: our share of the bandwidth bound (a step's bytes over the best copy bandwidth). Yields
    each row as soon as it is measured."""
    try:
        import transformers  # noqa: F401  (not a requirement: these rows are skipped without it)
    except ImportError:
        print("transformers is not installed: no HF rows (pip install transformers)")
        return
    import torch._dynamo
    hf = hf_twin(model)
    elt = next(model.parameters()).element_size()
    tok = NoStop(tok, vocab_size)  # bans only <pad> <bot> <eot> <latent> <pause>; HF suppresses the same ids
    banned = R.banned_mask(tok, vocab_size, device).nonzero().flatten().tolist()
    for compiled in ((False, True) if compile else (False,)):
        for B in (1, batch_size):
            prompts = torch.randint(2, vocab_size, (B, prompt_len), device=device)
            ours = lambda: R.generate(model, tok, prompts.tolist(), hf_tokens)
            theirs = lambda: hf_generate(hf, prompts, hf_tokens, compiled, banned)
            if compiled:
                torch._dynamo.reset()  # one static-shape graph per batch size, for both
                model.compile_decode()
            same = ours() == theirs()[:, prompt_len:].tolist()  # the warm-up (and compilation) too
            t_ours, t_hf, bw = [], [], []
            for _ in range(repeats):
                bw.append(copy_bandwidth())
                t_ours.append(timed(ours, 1))
                t_hf.append(timed(theirs, 1))
            if compiled:
                del model.decode_core  # back to eager
            step_bytes = model.decode_bytes(B, prompt_len + hf_tokens // 2, elt)  # weights + mean cache
            roof = B * max(bw) / step_bytes  # tokens/s at the bandwidth bound
            tps = lambda t: B * hf_tokens / min(t)
            mbu = model.estimate_mbu(hf_tokens / min(t_ours), B, prompt_len + hf_tokens // 2, elt, device)
            yield (f"decoding: ours / HF throughput, batch {B}, {'compiled' if compiled else 'eager'}",
                   min(t_hf) / min(t_ours),
                   f"each repeat {' '.join(f'{h / o:.2f}' for o, h in zip(t_ours, t_hf))}; {tps(t_ours):,.1f} vs "
                   f"{tps(t_hf):,.1f} tok/s, HF at {100 * tps(t_hf) / roof:.0f}% of the roofline ({roof:,.1f} tok/s: "
                   f"{step_bytes / 1e6:,.0f} MB a step at {max(bw) / 1e9:.1f} GB/s copy); "
                   f"greedy ids {'identical' if same else 'DIFFER'}" + (f", MBU {100 * mbu:.1f}%" if mbu else ''),
                   f"{100 * tps(t_ours) / roof:.0f}%")

def running_sum_parts(tok, n_examples, n_digits):
    """Token pieces of running-sum examples (the quickstart task): n_digits-1 one-token steps."""
    g = torch.Generator().manual_seed(seed)
    parts = []
    for _ in range(n_examples):
        d = torch.randint(10, (n_digits,), generator=g).tolist()
        sums = [str(sum(d[:i + 1]) % 10) for i in range(n_digits)]
        parts.append(R.encode_parts(tok, {'question': ' '.join(map(str, d)), 'steps': sums[:-1], 'answer': sums[-1]}))
    return parts


def naive_thought_loss(model, x, y, is_latent):
    """Coconut without the cache: every thought recomputes the whole prefix (what a plain
    implementation does), then one full forward. Rows share thought columns, so batching is easy."""
    emb = model.transformer.wte(x)  # (B, T, C)
    for col in is_latent.any(0).nonzero().flatten().tolist():
        _, _, h = model(embeds=emb[:, :col], hidden=True)
        emb = torch.cat([emb[:, :col], h[-1][:, -1:], emb[:, col + 1:]], dim=1)
    _, loss = model(embeds=emb, targets=y)
    return loss


def bench_latent(model, tok):
    """Coconut/CODI training steps against CoT on the same examples, and latent (CODI, Coconut,
    Latent-SFT) vs CoT decoding."""
    parts = running_sum_parts(tok, latent_batch, latent_digits)
    n = latent_digits - 1  # thoughts at Coconut's last stage (c = 1), one per step
    pad = tok.id(R.PAD)
    cot = R.collate([R.layout(tok, p, 'cot') for p in parts], pad, device, block_size)[:2]
    pairs = [R.layout(tok, p, 'coconut', n_steps=0, n_latent=n) for p in parts]
    x, y, valid = R.collate(pairs, pad, device, block_size, [p.index(tok.id(R.LATENT)) for p, _ in pairs])
    is_latent = x == tok.id(R.LATENT)
    def step(loss_fn):
        model.zero_grad(set_to_none=True)
        loss_fn().backward()
    model.train()
    t_cot = timed(lambda: step(lambda: T.sft_loss(model, cot, None)))
    t_coconut = timed(lambda: step(lambda: coconut.coconut_loss(model, (x, y, valid, is_latent), None)))
    t_naive = timed(lambda: step(lambda: naive_thought_loss(model, x, y, is_latent)))
    codi_cfg = {'method': 'codi', 'codi_thoughts': 6, 'codi_prj_dim': 0, 'codi_alpha': 1.0, 'codi_beta': 1.0,
                'codi_gamma': 1.0, 'device': device, 'block_size': block_size}
    codi.attach_thought_projection(model, codi_cfg)
    codi_batch = codi.codi_batch(tok, parts, codi_cfg)
    t_codi = timed(lambda: step(lambda: codi.codi_loss(model, codi_batch, codi_cfg)))
    model.eval()
    # decoding: a trained model writes the layout's target; random weights never stop, so each
    # decoder gets exactly the length its layout implies (CoT: steps and answer; CODI: the answer)
    notok = NoStop(tok)
    cot_prompts = [R.layout(tok, p, 'cot')[0] for p in parts]
    cot_len = len(R.layout(tok, parts[0], 'cot')[1])
    codi_prompts = [R.layout(tok, p, 'codi', n_steps=0, n_latent=6)[0] for p in parts]
    answer_len = len(parts[0][2])
    t_cot_dec = timed(lambda: R.generate(model, notok, cot_prompts, cot_len))
    t_codi_dec = timed(lambda: R.generate(model, notok, codi_prompts, answer_len))
    del model.thought_proj
    # Coconut: its last stage's n thoughts (identity, no projection), then the answer
    coconut_prompts = [R.layout(tok, p, 'coconut', n_steps=0, n_latent=n)[0] for p in parts]
    t_coconut_dec = timed(lambda: R.generate(model, notok, coconut_prompts, answer_len))
    # Latent-SFT: soft-embedding latents (top-10 mixtures) until <eot>, then the answer; random weights
    # never pick <eot>, so every question runs the budget: one latent per 2 CoT tokens, as in the recipe
    latent_budget = (cot_len - answer_len) // 2  # the steps' tokens (the CoT target less `### A <eos>`) / r
    latent_prompts = [p + [tok.id(R.BOT)] for p in cot_prompts]
    t_latent_dec = timed(lambda: latent_sft.latent_generate(model, notok, latent_prompts, answer_len, 10, latent_budget))
    return [
        ('train step: Coconut / CoT time', t_coconut / t_cot,
         f"same {latent_batch} running-sum examples, {n} thoughts (n+1 cached passes) vs {n} written steps"),
        ('train step: Coconut uncached / cached time', t_naive / t_coconut,
         "recomputing the prefix for every thought vs the KV cache"),
        ('train step: CODI / CoT time', t_codi / t_cot, "teacher + student with 6 thoughts vs CoT"),
        ('decoding: CoT / CODI time per question', t_cot_dec / t_codi_dec,
         f"{cot_len} CoT tokens vs 6 thoughts + {answer_len} answer tokens, batch {latent_batch}"),
        ('decoding: CoT / CODI tokens per question', cot_len / (6 + answer_len), "each thought counted as a token"),
        ('decoding: CoT / Coconut time per question', t_cot_dec / t_coconut_dec,
         f"{cot_len} CoT tokens vs {n} thoughts + {answer_len} answer tokens, batch {latent_batch}"),
        ('decoding: CoT / Latent-SFT time per question', t_cot_dec / t_latent_dec,
         f"{cot_len} CoT tokens vs {latent_budget} soft latents + <eot> + {answer_len} answer tokens, batch {latent_batch}"),
    ]


def main():
    from configurator import configure
    configure(globals(), sys.argv[1:])
    validate(globals())
    torch.manual_seed(seed)
    model = GPT(GPTConfig(block_size=block_size, vocab_size=vocab_size, n_layer=n_layer, n_head=n_head,
                          n_embd=n_embd)).to(device).eval()
    ptdtype = {'float32': torch.float32, 'bfloat16': torch.bfloat16, 'float16': torch.float16}[dtype]
    dmodel = model if ptdtype == torch.float32 else copy.deepcopy(model).to(ptdtype)  # decoding reads weights in dtype
    autocast = lambda: torch.autocast(torch.device(device).type, ptdtype, enabled=ptdtype != torch.float32)  # training
    print(f"device {device}, {torch.get_num_threads()} threads, model {n_layer}x{n_embd}, vocab {vocab_size}, {dtype}, "
          f"{model.get_num_params() / 1e6:.2f}M parameters; best of {repeats} runs each")
    tok, want = R.WordTokenizer([str(i) for i in range(10)]), parts.split(',')
    groups = [('decoding', lambda: bench_decoding(dmodel, NoStop(tok))),
              ('power', lambda: bench_power(dmodel, NoStop(tok))),
              ('soft', lambda: bench_soft(dmodel, NoStop(tok))),
              ('training', lambda: bench_training(model)),  # these three under autocast to dtype
              ('latent', lambda: bench_latent(model, tok)),
              ('compile', lambda: bench_compile(model, NoStop(tok)) if compile else []),
              ('hf', lambda: bench_hf(dmodel, tok))]
    print(f"\n{'measurement':55s} {'value':>9s} {'roofline':>8s}  details")
    for name, run in groups:  # each group's rows as soon as they are measured (a time limit keeps them)
        if name in want:
            with autocast() if name in ('training', 'latent', 'compile') else nullcontext():
                for row, value, detail, *roof in run():
                    print(f"{row:55s} {value:9.2f} {roof[0] if roof else '':>8s}  {detail}", flush=True)


if __name__ == '__main__':
    main()
