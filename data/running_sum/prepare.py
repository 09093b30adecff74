"""
Running sum mod 10, the CPU quickstart task: question "3 5 1 9 2 4", steps the running sums
"3" "8" "9" "8" "0" (one token each), answer the last one "4". With the steps a small model only ever
adds two digits; without them it must add all n at once, which it does not learn in minutes.

    python data/running_sum/prepare.py                 # n=6, 200k/500/1000 examples
    python data/running_sum/prepare.py --n=8 --train=50000

n is fixed within a run: with a fixed n the digit to add sits at a fixed offset from each step, which
is what makes the CoT learnable in under a minute on a CPU (see DESIGN.md section 4).
"""
import argparse
import os
import random
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', '..'))
import reasoning


def make_example(rng, n=6):
    digits = [rng.randrange(10) for _ in range(n)]
    sums, s = [], 0
    for d in digits:
        s = (s + d) % 10
        sums.append(str(s))
    return {'question': ' '.join(map(str, digits)), 'steps': sums[:-1], 'answer': sums[-1]}


if __name__ == '__main__':
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument('--n', type=int, default=6, help='digits per question')
    p.add_argument('--train', type=int, default=200000)
    p.add_argument('--valid', type=int, default=500)
    p.add_argument('--test', type=int, default=1000)
    p.add_argument('--seed', type=int, default=1337)
    p.add_argument('--out_dir', default=os.path.dirname(os.path.abspath(__file__)))
    args = p.parse_args()

    print(f"running sum mod 10 of n={args.n} digits ({10 ** args.n:,} questions), seed {args.seed}")
    rng = random.Random(args.seed)
    make = lambda: make_example(rng, args.n)
    splits = reasoning.generate_splits(make, args.test, args.valid, args.train)
    print(f"tokenizer word, writing to {args.out_dir}")
    reasoning.save_splits(args.out_dir, splits, 'word')
