"""
MNNS, CoT2's "minimum non-negative sum" (Gozeten et al., ICLR 2026, code alperengozeten/CoT2), the
CPU-sized search task: given m digits, choose a sign for each so that the signed sum is the smallest
non-negative value. Question "1 9 9 9", steps the partial sums of the chosen signs "-1" "8" "17",
answer the last partial sum = the minimum "8" (-1+9+9-9; +1 can reach 10 at best).

    python data/mnns/prepare.py                      # m=4, digits 1-9: all 9^4 = 6,561 questions
    python data/mnns/prepare.py --m=5                # 9^5 = 59,049 questions
    python data/mnns/prepare.py --m=3 --lo=1 --hi=4 --out_dir=/tmp/mnns3

The CoT path is the first optimal sign vector in itertools.product(['+', '-'], repeat=m) order, as in
CoT2's generator, so the first sign can be '-'. Steps = the first m-1 partial sums and the answer = the
last one (the running-sum convention: the answer is not written twice; CoT2's text holds all m). Each
example also has "reachable": for each of the m steps the sorted distinct partial sums that some sign
choice reaches after that step (the search states; the last list holds the reachable final sums), and
"paths": how many of the 2^i sign choices reach each of them, the weights of CoT2's soft targets
(cot2.py). Partial sums can be negative; "-3" is one word to the word
tokenizer (it splits on whitespace), and the vocab also covers every reachable value, so that a soft
target over a reachable set has a token for each state.

Every question exists (lo..hi)^m, split by digit multiset (all permutations of one multiset go to one
split, as CoT2's permutation_train_val_split does), so a model cannot memorise a permutation: test gets
--test_frac of the multisets, valid --valid_frac of the rest, train the remainder; each split is
shuffled, so a prefix of it (eval_examples) is a random sample. For m=4, digits 1-9: 495 multisets,
test 99 / valid 20 / train 376 (1,354 / 352 / 4,855 questions); m=5: 1,287 multisets, 257 / 52 / 978
(11,381 / 2,320 / 45,348 questions). Majority answer ("1"): 37.3% of all 6,561 questions (44.7% of all
59,049 for m=5); DESIGN.md section 8 quotes 37.0% (m=4) and 45.9% (m=5), from another implementation,
likely on its test split. On a test split the rate moves with the seed, since a multiset moves all its
permutations at once: seed 1337 gives 32.8% (m=4) and 45.6% (m=5), seeds 1-20 give 27-47% (mean 38.8)
and 40-51% (mean 45.0). The script prints the rate on its test split (the train split's most frequent
answer), the floor a model that ignores the digits reaches.
"""
import argparse
import collections
import itertools
import json
import os
import random
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', '..'))
import reasoning


def solve(digits):
    """-> (signs, partial_sums, answer): the first sign vector in itertools.product(['+', '-']) order
    whose signed sum is the smallest non-negative one, its m partial sums, and that sum."""
    best = None
    for signs in itertools.product(['+', '-'], repeat=len(digits)):
        total = sum(d if s == '+' else -d for s, d in zip(signs, digits))
        if total >= 0 and (best is None or total < best[1]):  # strict: the first optimal one stays
            best = (signs, total)
    assert best is not None, f"no non-negative sum for {digits} (digits must be >= 0)"
    signs, answer = best
    partial, s = [], 0
    for sign, d in zip(signs, digits):
        s += d if sign == '+' else -d
        partial.append(s)
    return signs, partial, answer


def reachable(digits):
    """Sorted distinct partial sums reachable after each step 1..m (2^i sign choices at step i)."""
    return [sorted(counts) for counts in path_counts(digits)]


def path_counts(digits):
    """For each step 1..m, {partial sum: how many of the 2^i sign choices of digits 1..i reach it}:
    CoT2's soft target at step i weights each reachable state by its count / 2^i (cot2.py)."""
    counts, out = {0: 1}, []
    for d in digits:
        nxt = collections.Counter()
        for s, n in counts.items():
            nxt[s + d] += n
            nxt[s - d] += n
        counts = dict(nxt)
        out.append(counts)
    return out


def make_example(digits):
    """Coconut JSON: steps = the first m-1 partial sums of the CoT path, answer = the last one; plus
    the reachable partial sums at every step (ints, m lists) and, aligned with them, how many sign
    choices reach each one (paths; step i's counts sum to 2^i)."""
    _, partial, answer = solve(digits)
    counts = path_counts(digits)
    return {'question': ' '.join(map(str, digits)), 'steps': [str(p) for p in partial[:-1]],
            'answer': str(answer), 'reachable': [sorted(c) for c in counts],
            'paths': [[c[v] for v in sorted(c)] for c in counts]}


def split_by_multiset(all_tuples, rng, test_frac=0.2, valid_frac=0.05):
    """{train, valid, test: [digit tuples]}: the multisets (sorted tuples) are shuffled with rng,
    test takes round(test_frac * n) of them, valid round(valid_frac * rest), train the others (each
    non-empty split gets at least one multiset); every permutation goes where its multiset goes."""
    groups = collections.defaultdict(list)
    for t in all_tuples:
        groups[tuple(sorted(t))].append(tuple(t))
    keys = sorted(groups)
    rng.shuffle(keys)
    n_test = max(1, round(test_frac * len(keys))) if test_frac > 0 else 0
    n_valid = max(1, round(valid_frac * (len(keys) - n_test))) if valid_frac > 0 else 0
    assert n_test + n_valid < len(keys), f"{len(keys)} multisets leave none for train"
    parts = {'train': keys[n_test + n_valid:], 'valid': keys[n_test:n_test + n_valid], 'test': keys[:n_test]}
    splits = {}
    for name, ks in parts.items():
        tuples = [t for k in ks for t in groups[k]]
        rng.shuffle(tuples)
        splits[name] = tuples
    return splits


def add_reachable_words(out_dir, splits):
    """Extend the saved word vocab with every reachable value (save_splits builds it from question,
    steps and answer only, which never hold e.g. -36)."""
    meta = reasoning.load_meta(out_dir)
    values = {str(v) for exs in splits.values() for ex in exs for r in ex['reachable'] for v in r}
    added = values - set(meta['vocab'])
    meta['vocab'] = sorted(set(meta['vocab']) | values)
    with open(os.path.join(out_dir, 'meta.json'), 'w') as f:
        json.dump(meta, f)
    return len(added)


if __name__ == '__main__':
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument('--m', type=int, default=4, help='digits per question')
    p.add_argument('--lo', type=int, default=1, help='smallest digit')
    p.add_argument('--hi', type=int, default=9, help='largest digit')
    p.add_argument('--seed', type=int, default=1337)
    p.add_argument('--test_frac', type=float, default=0.2, help='fraction of the multisets in test')
    p.add_argument('--valid_frac', type=float, default=0.05, help='fraction of the non-test multisets in valid')
    p.add_argument('--out_dir', default=os.path.dirname(os.path.abspath(__file__)))
    args = p.parse_args()
    assert 0 <= args.lo <= args.hi and args.m >= 1, 'digits must satisfy 0 <= lo <= hi'

    digits = range(args.lo, args.hi + 1)
    all_tuples = list(itertools.product(digits, repeat=args.m))
    n_multisets = len({tuple(sorted(t)) for t in all_tuples})
    print(f"MNNS m={args.m}, digits {args.lo}-{args.hi}: {len(all_tuples):,} questions, "
          f"{n_multisets:,} digit multisets, seed {args.seed}")
    rng = random.Random(args.seed)
    split_tuples = split_by_multiset(all_tuples, rng, args.test_frac, args.valid_frac)
    splits = {name: [make_example(t) for t in ts] for name, ts in split_tuples.items()}
    for name, ts in split_tuples.items():
        print(f"  {name:5s} {len({tuple(sorted(t)) for t in ts}):5,} multisets, {len(ts):7,} questions")

    every = collections.Counter(ex['answer'] for exs in splits.values() for ex in exs)
    top, top_n = every.most_common(1)[0]
    print(f"answers over all questions: {dict(sorted(every.items(), key=lambda kv: int(kv[0])))}")
    print(f"majority answer {top!r}: {100 * top_n / len(all_tuples):.1f}% of all questions")
    train_top = collections.Counter(ex['answer'] for ex in splits['train']).most_common(1)[0][0]
    test_hit = sum(ex['answer'] == train_top for ex in splits['test'])
    print(f"train's majority answer {train_top!r} on test: {100 * test_hit / len(splits['test']):.1f}% "
          f"({test_hit:,} / {len(splits['test']):,})")

    print(f"tokenizer word, writing to {args.out_dir}")
    reasoning.save_splits(args.out_dir, splits, 'word')
    added = add_reachable_words(args.out_dir, splits)
    print(f"vocab: {added} reachable values that no step or answer holds added to meta.json")
