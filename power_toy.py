"""
Where power sampling and low-temperature sampling disagree: a designed toy, computed exactly.
    python power_toy.py                  # the exact table (instant)
    python power_toy.py --sample=True    # also: fit a tiny GPT to the toy, run the real samplers on it

The toy: the first token is A (p = 0.3) or B (p = 0.7). After A comes one strong continuation
(x, p = 1); after B, ten mediocre ones (y0..y9, p = 0.1 each). So A x has p = 0.3, and each B y_i 0.07.
    low temperature 1/alpha (per token):  P(A) = 0.3^a / (0.3^a + 0.7^a)                 -> prefers B
    power p^alpha (whole sequences):      P(A) = 0.3^a / (0.3^a + 10 * 0.07^a)           -> prefers A
Low temperature sharpens the next-token probabilities, which already summed B's ten futures; p^alpha
sharpens every future first: B's mass is split ten ways and each share counts as 0.07^alpha. Its
next-token law is p(v)^alpha * sum_f p(f | v)^alpha, a look-ahead no per-token temperature has.
"""
import itertools
import sys

import torch

ALPHA = 4.0
M = 10  # mediocre continuations after B
STEPS = (0, 10, 30, 100, 300)  # MH steps of the sampled rows
# the toy as a tree: prefix -> {next token: probability}; every sequence is two tokens long
TREE = {(): {'A': 0.3, 'B': 0.7}, ('A',): {'x': 1.0}, ('B',): {f'y{i}': 1.0 / M for i in range(M)}}
sample = False           # --sample=True: also the fitted GPT and the real samplers (about a minute on a CPU)
chains = 2000            # samples per sampler in that part
seed = 1337


def sequences(tree):
    """Every complete sequence of the tree (a prefix with no entry is complete)."""
    out, todo = [], [()]
    while todo:
        pre = todo.pop()
        if pre not in tree:
            out.append(pre)
            continue
        todo += [pre + (v,) for v in tree[pre]]
    return sorted(out)


def exact(tree, alpha):
    """{sequence: (p, low temperature 1/alpha, p^alpha normalized)}, by enumeration."""
    seqs = sequences(tree)
    def prob(seq, power):  # per-token tempering: each next-token law raised to `power` and renormalized
        total = 1.0
        for i, v in enumerate(seq):
            law = tree[seq[:i]]
            total *= law[v] ** power / sum(q ** power for q in law.values())
        return total
    p = {s: prob(s, 1.0) for s in seqs}
    low = {s: prob(s, alpha) for s in seqs}
    z = sum(p[s] ** alpha for s in seqs)
    return {s: (p[s], low[s], p[s] ** alpha / z) for s in seqs}


def first_token(dist, col):
    """{first token: its probability under column col (0 p, 1 low temperature, 2 power)}."""
    out = {}
    for s, probs in dist.items():
        out[s[0]] = out.get(s[0], 0.0) + probs[col]
    return out


def print_exact(alpha):
    dist = exact(TREE, alpha)
    print(f"alpha {alpha:g}: probability of each sequence, and of the first token")
    print(f"{'sequence':<12}{'p':>8}{'low temp':>10}{'p^alpha':>10}")
    for s in [('A', 'x'), ('B', 'y0')]:
        print(f"{' '.join(s):<12}" + ''.join(f"{v:>10.4f}" if i else f"{v:>8.4f}" for i, v in enumerate(dist[s]))
              + ("   (each of the ten B y_i)" if s[0] == 'B' else ''))
    for v in ['A', 'B']:
        print(f"first = {v:<4}" + ''.join(f"{first_token(dist, c)[v]:>10.4f}" if c else f"{first_token(dist, c)[v]:>8.4f}"
                                         for c in range(3)))
    tv = 0.5 * sum(abs(a[1] - a[2]) for a in dist.values())
    print(f"total variation between low temperature and p^alpha: {tv:.4f}")
    print("power sampling's chain (one block, exact), P(first = A) after k MH steps: "
          + ', '.join(f"k={k}: {mh_first_token(alpha, k):.3f}" for k in STEPS + (1000,)))


def mh_first_token(alpha, steps, h=3):
    """P(first token = A) after `steps` Metropolis-Hastings steps of power sampling on the toy, exactly:
    one block holds the whole answer (h = 3 positions: two tokens and <eos>), the chain starts from a
    proposal q (low temperature), and only a move at position 0 (probability 1/h) can change the first
    token: B -> A when q proposes A x (accepted: r > 1), A -> B when it proposes a B y_i and r accepts."""
    dist = exact(TREE, alpha)
    q = {s: d[1] for s, d in dist.items()}
    p = {s: d[0] for s, d in dist.items()}
    ratio = lambda new, old: min(1.0, (p[new] / p[old]) ** alpha * q[old] / q[new])
    ax, bys = ('A', 'x'), [s for s in dist if s[0] == 'B']
    to_a = q[ax] * ratio(ax, bys[0]) / h  # every B y_i has the same p and q
    to_b = sum(q[s] * ratio(s, ax) for s in bys) / h
    pa = first_token(dist, 1)['A']  # the chain's start: one draw from q
    for _ in range(steps):
        pa = pa * (1 - to_b) + (1 - pa) * to_a
    return pa


# -----------------------------------------------------------------------------
# the same toy as a GPT: fit a tiny model to the tree (exact cross-entropy over its sequences, so the
# model's p is the toy's up to the fit), then run the real samplers on it.

def fit_gpt(steps=300):
    import reasoning as R
    from model import GPT, GPTConfig
    words = ['A', 'B', 'x'] + [f'y{i}' for i in range(M)]
    tok = R.WordTokenizer(words + ['Q'])
    seqs = sequences(TREE)
    weights = torch.tensor([exact(TREE, 1.0)[s][0] for s in seqs])  # p of each sequence
    ids = torch.tensor([tok.encode('Q ' + ' '.join(s)) + [tok.eos_id] for s in seqs])  # (S, 4)
    torch.manual_seed(seed)
    model = GPT(GPTConfig(block_size=8, vocab_size=R.padded_vocab(tok), n_layer=1, n_head=2, n_embd=32))
    opt = torch.optim.AdamW(model.parameters(), lr=1e-2, weight_decay=0.0)
    for _ in range(steps):  # minimise the expected negative log-likelihood under the toy: sum_s p(s) * NLL(s)
        logits, _ = model(ids[:, :-1])
        nll = torch.nn.functional.cross_entropy(logits.transpose(1, 2), ids[:, 1:], reduction='none').sum(1)  # (S,)
        loss = (weights * nll).sum()
        opt.zero_grad()
        loss.backward()
        opt.step()
    return model.eval(), tok


def run_samplers(alpha):
    import power_sampling
    import reasoning as R
    model, tok = fit_gpt()
    prompt = [tok.encode('Q')]
    with torch.no_grad():  # the fitted p(A), against the toy's 0.3
        logits, _ = model(torch.tensor(prompt))
        pA = torch.softmax(R.filter_logits(logits[:, -1], banned=R.banned_mask(tok, logits.size(-1), logits.device)), -1)[0, tok.id('A')]
    print(f"\nfitted GPT: p(A) = {pA:.4f} (toy 0.3); {chains} samples each, seed {seed}")
    g = torch.Generator().manual_seed(seed)
    for name, run in [('base (temperature 1)', lambda: R.generate(model, tok, prompt, 3, 1.0, num_samples=chains, generator=g)),
                      (f'low temperature 1/{alpha:g}', lambda: R.generate(model, tok, prompt, 3, 1 / alpha, num_samples=chains, generator=g)),
                      *[(f'power, alpha {alpha:g}, {k} MH steps', (lambda k=k: power_sampling.power_generate(
                          model, tok, prompt, 3, alpha, 3, k, chains, g)[0])) for k in STEPS]]:
        rows = run()
        share = sum(r[0] == tok.id('A') for r in rows) / len(rows)
        k = int(name.split(', ')[-1].split()[0]) if name.startswith('power') else None
        print(f"{name:<32} P(first = A) = {share:.3f}" + (f"   exact on the toy: {mh_first_token(alpha, k):.3f}" if k is not None else ''))


if __name__ == '__main__':
    from configurator import configure
    configure(globals(), sys.argv[1:])
    print_exact(ALPHA)
    if sample:
        run_samplers(ALPHA)
