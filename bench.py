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
seed = 1337
# -----------------------------------------------------------------------------


def timed(fn, n=None):
    """Best wall time of n calls, `repeats` by default (the minimum is the least noisy estimate of the cost)."""
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


def bench_soft(model, tok):
    """Soft thinking vs plain greedy (CoT) decoding of the same prompts, for the same number of steps:
    end id -1 never comes, so every step is a soft one (vanilla: filter, pi @ E, no noise)."""
    prompts = torch.randint(2, vocab_size, (batch_size, prompt_len)).tolist()
    t_greedy = t_soft = float('inf')
    for _ in range(repeats):  # interleaved: a change of load on a shared machine hits both alike
        t_greedy = min(t_greedy, timed(lambda: S.generate(model, tok, prompts, new_tokens), 1))
        t_soft = min(t_soft, timed(lambda: S.soft_generate(model, tok, prompts, -1, 'vanilla', new_tokens,
                                                           think_budget=new_tokens, cold_stop_steps=0), 1))
    return [('soft thinking / greedy: time per question', t_soft / t_greedy,
             f"batch {batch_size}, {new_tokens} steps: {1e3 * t_soft / batch_size:.0f} vs {1e3 * t_greedy / batch_size:.0f} ms")]


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
    rows = bench_decoding(model, NoStopTokenizer()) + bench_soft(model, NoStopTokenizer()) + bench_training(model)
    print(f"\n{'measurement':48s} {'value':>9s}  details")
    for name, value, detail in rows:
        print(f"{name:48s} {value:9.2f}  {detail}")


if __name__ == '__main__':
    main()
