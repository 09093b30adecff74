"""
k x k multiplication in iCoT's format (Deng et al.), digits reversed (least significant first) and
space-separated, so the model emits each digit after the digits it depends on:

    7 6 9 2 * 1 6 3 6||7 6 9 2 0 + 0 2 0 8 7 1 ( 7 8 9 0 8 1 ) + 0 0 1 0 9 8 0 ( 7 8 0 1 7 0 1 ) + 0 0 0 2 0 8 7 1 #### 7 8 0 3 7 8 8 1

Partial product i is a * b_i shifted by i: i zeros then the k+1 digits of a * b_i; after every
partial product but the first and the last comes the running sum in parentheses, k+1+i digits; the
answer has 2k digits. One step = the text between ' + ' signs. Lines come out identical to iCoT's
files for the same operands (checked against its 4x4 and 5x5 test sets).

    python data/multiply/prepare.py                               # k=3, 200k/500/1000 examples
    python data/multiply/prepare.py --k=4
    python data/multiply/prepare.py --operand_split=500           # also {train,test}_a_lt_500.json, test_a_ge_500.json
    python data/multiply/prepare.py --source=file --path=DIR      # iCoT's DIR/{train,valid,test_bigbench}.txt
    python data/multiply/prepare.py --source=file --path=FILE --split=test
"""
import argparse
import os
import random
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', '..'))
import reasoning


def rev(x, width):
    """x zero-padded to width digits, least significant first, space-separated."""
    return ' '.join(reversed(str(x).zfill(width)))


def format_line(a, b, k):
    """iCoT's text line for a * b, both k-digit numbers."""
    pieces, total = [], 0
    for i, d in enumerate(reversed(str(b).zfill(k))):
        pp = a * int(d) * 10 ** i  # < 10^(k+1+i), so k+1+i digits always fit
        total += pp
        piece = rev(pp, k + 1 + i)
        if 0 < i < k - 1:  # the first sum is the first partial product, the last is the answer
            piece += f" ( {rev(total, k + 1 + i)} )"
        pieces.append(piece)
    return f"{rev(a, k)} * {rev(b, k)}||{' + '.join(pieces)} #### {rev(a * b, 2 * k)}"


def parse_icot_line(line):
    """'question||step + step + ... #### answer' -> example."""
    question, _, rest = line.strip().partition('||')
    cot, _, answer = rest.partition(' #### ')
    return {'question': question.strip(), 'steps': cot.strip().split(' + '), 'answer': answer.strip()}


def make_example(rng, k=3):
    # operands with exactly k digits (no leading zero), as in iCoT's files
    a, b = rng.randint(10 ** (k - 1), 10 ** k - 1), rng.randint(10 ** (k - 1), 10 ** k - 1)
    return parse_icot_line(format_line(a, b, k))


def first_operand(example):
    """a of 'a * b' (the question holds its digits reversed)."""
    return int(''.join(reversed(example['question'].split(' * ')[0].split())))


def operand_splits(splits, n):
    """Subsets by the first operand: train and test with a < n, test with a >= n. GRPO trains on the
    first and is scored in domain on the second and out of domain on the third (README, GRPO)."""
    low = lambda ex: first_operand(ex) < n
    return {f'train_a_lt_{n}': [ex for ex in splits['train'] if low(ex)],
            f'test_a_lt_{n}': [ex for ex in splits['test'] if low(ex)],
            f'test_a_ge_{n}': [ex for ex in splits['test'] if not low(ex)]}


def read_icot(path, split):
    """{split: examples} from an iCoT folder (train.txt, valid.txt, test_bigbench.txt or test.txt)
    or from one file, which becomes the split named by split."""
    if os.path.isfile(path):
        files = {split: path}
    else:
        names = {'train': ['train.txt'], 'valid': ['valid.txt'], 'test': ['test_bigbench.txt', 'test.txt']}
        files = {}
        for s, ns in names.items():
            found = [os.path.join(path, n) for n in ns if os.path.exists(os.path.join(path, n))]
            if found:
                files[s] = found[0]
    if not files:
        raise SystemExit(f"no iCoT text files at {path}")
    splits = {}
    for s, f in files.items():
        with open(f) as fh:
            splits[s] = [parse_icot_line(line) for line in fh if line.strip()]
        print(f"read {len(splits[s]):,} lines from {f} as {s}")
    return splits


if __name__ == '__main__':
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument('--source', default='generate', choices=['generate', 'file'])
    p.add_argument('--path', default=None, help='iCoT folder or file for --source=file')
    p.add_argument('--split', default='test', help='split name for a single --path file')
    p.add_argument('--k', type=int, default=3, help='digits of each operand')
    p.add_argument('--train', type=int, default=200000)
    p.add_argument('--valid', type=int, default=500)
    p.add_argument('--test', type=int, default=1000)
    p.add_argument('--seed', type=int, default=1337)
    p.add_argument('--operand_split', type=int, default=0, help='also write the subsets by first operand a < N / >= N')
    p.add_argument('--out_dir', default=os.path.dirname(os.path.abspath(__file__)))
    args = p.parse_args()

    if args.source == 'file':
        assert args.path, '--source=file needs --path=DIR_OR_FILE'
        splits = read_icot(args.path, args.split)
    else:
        print(f"{args.k} x {args.k} multiplication ({(9 * 10 ** (args.k - 1)) ** 2:,} questions), seed {args.seed}")
        rng = random.Random(args.seed)
        make = lambda: make_example(rng, args.k)
        splits = reasoning.generate_splits(make, args.test, args.valid, args.train)
    if args.operand_split:  # subsets: the word vocab (built from every split) stays the same
        splits.update(operand_splits(splits, args.operand_split))
    print(f"tokenizer word, writing to {args.out_dir}")
    reasoning.save_splits(args.out_dir, splits, 'word')
