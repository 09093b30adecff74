"""
MNNS generator (data/mnns/prepare.py) right by construction: the minimum and the CoT path against brute
force over all sign vectors, the reachable sets against brute force over all prefixes, the split by
digit multiset, and the script end to end through reasoning's loaders. CPU, offline, seconds.
"""
import importlib.util
import itertools
import os
import random
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)
import reasoning

_spec = importlib.util.spec_from_file_location('prepare_mnns', os.path.join(ROOT, 'data', 'mnns', 'prepare.py'))
mnns = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(mnns)


def signed(signs, digits):
    return [d if s == '+' else -d for s, d in zip(signs, digits)]


def random_tuples(rng, n=300):
    """Digit tuples of m 1-6 from several ranges, 0 included (a zero makes sign choices tie)."""
    out = []
    for _ in range(n):
        m = rng.choice([1, 2, 3, 4, 5, 6])
        lo = rng.choice([0, 1, 2])
        hi = rng.choice([lo, lo + 3, 9, 12])
        out.append(tuple(rng.randint(lo, hi) for _ in range(m)))
    return out + [(1, 9, 9, 9), (5, 5, 5, 5, 5), (0, 0, 0), (9,)]


def test_minimum_and_first_optimal_by_brute_force():
    for digits in random_tuples(random.Random(0)):
        vectors = list(itertools.product(['+', '-'], repeat=len(digits)))
        finals = [sum(signed(v, digits)) for v in vectors]
        best = min(f for f in finals if f >= 0)
        signs, partial, answer = mnns.solve(digits)
        assert answer == best, digits
        assert tuple(signs) == vectors[finals.index(best)], digits  # the first optimal one in product order
        assert partial == list(itertools.accumulate(signed(signs, digits))), digits
        assert partial[-1] == answer and len(partial) == len(digits)


def test_first_sign_can_be_minus():
    signs, partial, answer = mnns.solve((1, 9, 9, 9))  # +1 reaches 10 at best, -1+9+9-9 = 8
    assert answer == 8 and tuple(signs) == ('-', '+', '+', '-') and partial == [-1, 8, 17, 8]
    assert mnns.solve((1, 2, 3))[0] == ('+', '+', '-')  # +++ = 6 comes first, ++- = 0 is the first optimum
    ex = mnns.make_example((1, 9, 9, 9))
    assert ex['question'] == '1 9 9 9' and ex['steps'] == ['-1', '8', '17'] and ex['answer'] == '8'


def test_reachable_exact_and_path_inside():
    for digits in random_tuples(random.Random(1), n=150):
        reach = mnns.reachable(digits)
        assert len(reach) == len(digits)
        for i in range(1, len(digits) + 1):
            brute = {sum(signed(v, digits[:i])) for v in itertools.product(['+', '-'], repeat=i)}
            assert reach[i - 1] == sorted(brute), (digits, i)
        ex = mnns.make_example(digits)
        assert ex['reachable'] == reach
        path = [int(s) for s in ex['steps']] + [int(ex['answer'])]
        assert len(ex['steps']) == len(digits) - 1  # steps = the first m-1 partial sums, answer = the last
        assert path == mnns.solve(digits)[1]
        assert all(p in r for p, r in zip(path, reach))


def test_split_by_multiset():
    for m, lo, hi, test_frac, valid_frac in [(4, 1, 9, 0.2, 0.05), (3, 1, 4, 0.2, 0.05), (5, 0, 3, 0.3, 0.1)]:
        tuples = list(itertools.product(range(lo, hi + 1), repeat=m))
        splits = mnns.split_by_multiset(tuples, random.Random(1337), test_frac, valid_frac)
        assert all(splits[s] for s in ('train', 'valid', 'test'))
        together = [t for ts in splits.values() for t in ts]
        assert sorted(together) == sorted(tuples)  # every tuple exactly once
        multisets = {s: {tuple(sorted(t)) for t in ts} for s, ts in splits.items()}
        for a, b in itertools.combinations(multisets, 2):
            assert not multisets[a] & multisets[b], (m, a, b)
        n = len(set().union(*multisets.values()))
        assert len(multisets['test']) == max(1, round(test_frac * n))
    again = mnns.split_by_multiset(tuples, random.Random(1337), test_frac, valid_frac)
    assert again == splits  # the seed decides the split


def test_prepare_end_to_end(tmp_path):
    out_dir = str(tmp_path / 'mnns')
    cmd = [sys.executable, os.path.join('data', 'mnns', 'prepare.py'), '--m=3', '--lo=1', '--hi=4',
           f'--out_dir={out_dir}']
    out = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stdout + out.stderr
    meta = reasoning.load_meta(out_dir)
    assert meta['tokenizer'] == 'word'
    tok = reasoning.get_tokenizer(meta)
    unk = tok.stoi['<unk>']
    data = {s: reasoning.load_split(out_dir, s) for s in ('train', 'valid', 'test')}
    assert sum(len(exs) for exs in data.values()) == 4 ** 3
    questions = [ex['question'] for exs in data.values() for ex in exs]
    assert len(set(questions)) == len(questions)
    for exs in data.values():
        assert exs
        for ex in exs:
            digits = tuple(map(int, ex['question'].split()))
            assert ex == mnns.make_example(digits)
            q, steps, a = reasoning.encode_parts(tok, ex)
            assert unk not in q + [t for s in steps for t in s] + a
            assert len(steps) == 2 and all(len(s) == 2 for s in steps)  # one word per partial sum, then \n
            assert all(tok.encode(str(v)) != [unk] for r in ex['reachable'] for v in r)
    ms = {s: {tuple(sorted(map(int, ex['question'].split()))) for ex in exs} for s, exs in data.items()}
    assert not (ms['train'] & ms['valid'] or ms['train'] & ms['test'] or ms['valid'] & ms['test'])


def test_path_counts_by_brute_force():
    """paths[i][j]: how many of the 2^i sign choices of the first i digits reach reachable[i][j]."""
    for digits in random_tuples(random.Random(2), n=150):
        ex = mnns.make_example(digits)
        assert len(ex['paths']) == len(digits)
        for i in range(1, len(digits) + 1):
            sums = [sum(signed(v, digits[:i])) for v in itertools.product(['+', '-'], repeat=i)]
            assert ex['paths'][i - 1] == [sums.count(v) for v in ex['reachable'][i - 1]], (digits, i)
            assert sum(ex['paths'][i - 1]) == 2 ** i
