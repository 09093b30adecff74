"""
GSM8k-Aug, iCoT's augmented GSM8k (Deng et al.; the version Coconut and CODI train on): grade-school
word problems whose CoT is a list of calculations, one line per problem:

    Janet’s ducks lay 16 eggs per day. ...||<<16-3-4=9>> <<9*2=18>> #### 18

steps = the <<...>> items as written, answer = the text after '####' without thousands commas
("2,125" -> "2125", so answers compare as numbers). Lines with an empty CoT are kept (steps = []).

    python data/gsm8k/prepare.py                              # download iCoT's files (online only)
    python data/gsm8k/prepare.py --source=file --path=DIR     # DIR/{train,valid,test}.txt
    python data/gsm8k/prepare.py --source=file --path=FILE --split=test
"""
import argparse
import os
import re
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', '..'))
import reasoning

# the iCoT commit Coconut's preprocessing uses; train.txt lives in Git LFS, so it comes
# from media.githubusercontent.com (raw.githubusercontent.com would serve the LFS pointer)
COMMIT = 'e06a32ee5e4cd117171daeb4755d2a97ece62761'
URLS = {
    'train': f'https://media.githubusercontent.com/media/da03/Internalize_CoT_Step_by_Step/{COMMIT}/data/gsm8k/train.txt',
    'valid': f'https://raw.githubusercontent.com/da03/Internalize_CoT_Step_by_Step/{COMMIT}/data/gsm8k/valid.txt',
    'test': f'https://raw.githubusercontent.com/da03/Internalize_CoT_Step_by_Step/{COMMIT}/data/gsm8k/test.txt',
}
OFFLINE = 'GSM8k-Aug needs the internet; or get the files by hand and run `python data/gsm8k/prepare.py --source=file --path=DIR`.'


def parse_line(line):
    """'question||<<a*b=c>> <<...>> #### answer' -> example."""
    question, sep, rest = line.strip().partition('||')
    assert sep, f"no '||' in line: {line[:80]!r}"
    cot, sep, answer = rest.rpartition('####')  # the last '####': a question may contain '#'
    assert sep, f"no '####' in line: {line[:80]!r}"
    return {'question': question.strip(), 'steps': re.findall(r'<<.*?>>', cot),
            'answer': answer.strip().replace(',', '')}


def parse_text(text):
    return [parse_line(line) for line in text.splitlines() if line.strip()]


def read_local(path, split):
    """{split: examples} from DIR/<split>.txt (or DIR/gsm_<split>.txt, Coconut's names), or from
    one file, which becomes the split named by split."""
    if os.path.isfile(path):
        files = {split: path}
    else:
        files = {}
        for s in ['train', 'valid', 'test']:
            names = [os.path.join(path, n) for n in [f'{s}.txt', f'gsm_{s}.txt']]
            found = [f for f in names if os.path.exists(f)]
            if found:
                files[s] = found[0]
    if not files:
        raise SystemExit(f"no {{train,valid,test}}.txt at {path}")
    splits = {}
    for s, f in files.items():
        with open(f, encoding='utf-8') as fh:
            splits[s] = parse_text(fh.read())
        print(f"read {len(splits[s]):,} examples from {f} as {s}")
    return splits


if __name__ == '__main__':
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument('--source', default='download', choices=['download', 'file'])
    p.add_argument('--path', default=None, help='folder or file of iCoT text for --source=file')
    p.add_argument('--split', default='test', help='split name for a single --path file')
    p.add_argument('--out_dir', default=os.path.dirname(os.path.abspath(__file__)))
    args = p.parse_args()

    if args.source == 'file':
        assert args.path, '--source=file needs --path=DIR_OR_FILE'
        splits = read_local(args.path, args.split)
    else:
        splits = {}
        for s, url in URLS.items():
            print(f"downloading {url}")
            splits[s] = parse_text(reasoning.fetch(url, OFFLINE))
            print(f"{s}: {len(splits[s]):,} examples")
    print(f"tokenizer gpt2, writing to {args.out_dir}")
    reasoning.save_splits(args.out_dir, splits, 'gpt2')
