"""
Running sum mod 10, the CPU quickstart task: question "3 5 1 9 2 4"; each step writes the digit it adds
and the new sum, "3 3" "5 8" "1 9" "9 8" "2 0" "4 4"; the answer is the last sum "4". With the steps a
small model only ever adds two digits; without them it must add all n at once, which it does not learn
in minutes.

    python data/running_sum/prepare.py                 # n=6, 200k/500/1000 examples
    python data/running_sum/prepare.py --n=8 --train=50000
    python data/running_sum/prepare.py --cot=sums      # steps = the first n-1 sums alone (the first format)

n is fixed within a run: with a fixed n the digit to add sits at a fixed offset from each step (see
DESIGN.md section 4). Why a step copies its digit: with the sums alone ("8"), neither input of a step
tells anything about its output by itself (s + d mod 10 is uniform given either one), so a model trained
from scratch gets no gradient towards the digit a step must read until it happens to look there; on one
seed in four some step (usually the fifth) stayed at chance for 3,000 steps while every other step was
right. Copying the digit is a target that rewards finding it directly, and the sum is then a function
of the two tokens just before it. Why there is a step for the last digit too, so that the answer only
repeats the last sum: when the answer added the last digit itself (five steps for six digits), it was
the one target left with that problem, and one run in six (seed 1337 at two threads) sat with every
step right and the answer at chance for 1,700 steps (README, "Quickstart across seeds").
"""
import argparse
import os
import random
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', '..'))
import reasoning


def make_example(rng, n=6, cot='add'):
    """cot 'add': a step per digit, the digit, then the new sum ("9 8"); the answer repeats the last sum.
    'sums': the first n-1 sums alone ("8"); the answer adds the last digit."""
    digits = [rng.randrange(10) for _ in range(n)]
    sums, s = [], 0
    for d in digits:
        s = (s + d) % 10
        sums.append(str(s))
    steps = sums[:-1] if cot == 'sums' else [f"{d} {s}" for d, s in zip(digits, sums)]
    return {'question': ' '.join(map(str, digits)), 'steps': steps, 'answer': sums[-1]}


if __name__ == '__main__':
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument('--n', type=int, default=6, help='digits per question')
    p.add_argument('--train', type=int, default=200000)
    p.add_argument('--valid', type=int, default=500)
    p.add_argument('--test', type=int, default=1000)
    p.add_argument('--cot', default='add', choices=['add', 'sums'], help="steps: 'add' = the digit, then the sum (n steps); 'sums' = the sum (n-1 steps)")
    p.add_argument('--seed', type=int, default=1337)
    p.add_argument('--out_dir', default=os.path.dirname(os.path.abspath(__file__)))
    args = p.parse_args()

    print(f"running sum mod 10 of n={args.n} digits ({10 ** args.n:,} questions), seed {args.seed}")
    rng = random.Random(args.seed)
    make = lambda: make_example(rng, args.n, args.cot)
    splits = reasoning.generate_splits(make, args.test, args.valid, args.train)
    print(f"tokenizer word, writing to {args.out_dir}")
    reasoning.save_splits(args.out_dir, splits, 'word')
