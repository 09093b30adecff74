"""
Speed as ratios measured in one run (absolute times on shared machines are noise; ratios are not).
    python bench.py                      # CPU, a minute or two
    python bench.py --device=cuda --n_layer=12 --n_embd=768 --vocab_size=50304
Each row says what it compares. Random weights: speed does not depend on what the model knows.
"""
import sys
import time

import torch

import reasoning as R
import sample as S
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
repeats = 3              # best of this many timings per measurement
power_tokens = 128       # power sampling vs plain decoding: tokens per row, at batch_size rows
alpha = 4.0
mcmc_block = 16
mcmc_steps = 4
power_repeats = 2        # power sampling runs are long: best of fewer
seed = 1337
# -----------------------------------------------------------------------------


def timed(fn, n=None):
    """Best wall time of n (default `repeats`) calls (the minimum is the least noisy estimate of the cost)."""
    best = float('inf')
    for _ in range(n or repeats):
        if device.startswith('cuda'):
            torch.cuda.synchronize()
        t0 = time.perf_counter()
        fn()
        if device.startswith('cuda'):
            torch.cuda.synchronize()
        best = min(best, time.perf_counter() - t0)
    return best


class NoStopTokenizer:
    """Decoding benchmarks must run all new_tokens steps: an eos id the model never emits."""
    eos_id = -1
    n_vocab = vocab_size

    def id(self, token):
        return {R.PAD: 0, R.LATENT: 1}[token]


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
    t_cached = timed(lambda: S.generate(model, tok, prompt.tolist(), new_tokens))
    t_uncached = timed(lambda: uncached_generate(model, prompt, new_tokens))
    prompts = torch.randint(2, vocab_size, (batch_size, prompt_len)).tolist()
    t_batch = timed(lambda: S.generate(model, tok, prompts, new_tokens))
    return [
        ('decoding: uncached / cached time', t_uncached / t_cached,
         f"{new_tokens} new tokens after {prompt_len}, batch 1: {t_uncached:.2f}s vs {t_cached:.2f}s"),
        (f'decoding: batch-{batch_size} / batch-1 throughput', batch_size * t_cached / t_batch,
         f"{batch_size * new_tokens / t_batch:,.0f} vs {new_tokens / t_cached:,.0f} tok/s"),
    ]


def bench_power(model, tok):
    """Power sampling against plain batched decoding of the same length at the same batch size, per
    token drawn from the proposal (every token costs one row of a forward step: no token is fed twice
    but the resample point's, and rows finish at different times); the multiplier against the paper's."""
    prompts = torch.randint(2, vocab_size, (batch_size, prompt_len)).tolist()
    t_plain = timed(lambda: S.generate(model, tok, prompts, power_tokens))
    stats = {}
    run = lambda: stats.update(S.power_generate(model, tok, prompts, power_tokens, alpha, mcmc_block, mcmc_steps,
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


def main():
    from configurator import configure
    configure(globals(), sys.argv[1:])
    torch.manual_seed(seed)
    model = GPT(GPTConfig(block_size=block_size, vocab_size=vocab_size, n_layer=n_layer, n_head=n_head,
                          n_embd=n_embd)).to(device).eval()
    print(f"device {device}, model {n_layer}x{n_embd}, vocab {vocab_size}, "
          f"{model.get_num_params() / 1e6:.2f}M parameters; best of {repeats} runs each")
    rows = bench_decoding(model, NoStopTokenizer()) + bench_power(model, NoStopTokenizer()) + bench_training(model)
    print(f"\n{'measurement':48s} {'value':>9s}  details")
    for name, value, detail in rows:
        print(f"{name:48s} {value:9.2f}  {detail}")


if __name__ == '__main__':
    main()
