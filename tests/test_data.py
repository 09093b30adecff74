"""
Data preparation: generators right by construction, official formats parse, every prepare.py runs end
to end. CPU, offline, a few seconds; fixtures are small copies in tests/fixtures/.
"""
import importlib.util
import json
import os
import random
import shutil
import subprocess
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FIXTURES = os.path.join(ROOT, 'tests', 'fixtures')
sys.path.insert(0, ROOT)
import reasoning


def load_prepare(task):
    # data/<task>/ are not packages: load each prepare.py as a module of its own
    path = os.path.join(ROOT, 'data', task, 'prepare.py')
    spec = importlib.util.spec_from_file_location(f'prepare_{task}', path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


running_sum = load_prepare('running_sum')
multiply = load_prepare('multiply')
prosqa = load_prepare('prosqa')
gsm8k = load_prepare('gsm8k')


def run_prepare(task, *args):
    cmd = [sys.executable, os.path.join('data', task, 'prepare.py'), *args]
    out = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stdout + out.stderr
    return out.stdout


def check_written(out_dir, splits=('train', 'valid', 'test')):
    """What prepare.py wrote reads back through reasoning's loaders; -> (meta, {split: examples})."""
    meta = reasoning.load_meta(out_dir)
    data = {s: reasoning.load_split(out_dir, s) for s in splits}
    tok = reasoning.get_tokenizer(meta)
    for exs in data.values():
        assert exs and all(isinstance(ex['steps'], list) for ex in exs)
        q = exs[0]['question']
        ids = tok.encode(q)
        if meta['tokenizer'] == 'word':
            assert tok.stoi['<unk>'] not in ids  # the vocab covers every split
        assert tok.decode(ids) == q
    return meta, data


def held_out_disjoint(data):
    train = {ex['question'] for ex in data['train']}
    valid = {ex['question'] for ex in data['valid']}
    test = {ex['question'] for ex in data['test']}
    return not (train & valid) and not (train & test) and not (valid & test)

# -----------------------------------------------------------------------------
# running sum


def test_running_sum_sums_check():
    rng = random.Random(0)
    for n in [1, 2, 6, 9]:
        for _ in range(200):
            ex = running_sum.make_example(rng, n)
            digits = [int(d) for d in ex['question'].split()]
            assert len(digits) == n and len(ex['steps']) == n  # a step per digit
            added = [int(st.split()[0]) for st in ex['steps']]  # 'add': each step is "digit sum"
            sums = [int(st.split()[1]) for st in ex['steps']]
            assert added == digits and all(len(st) == 3 for st in ex['steps']) and ex['answer'] == str(sums[-1])
            for i in range(n):
                assert sums[i] == sum(digits[:i + 1]) % 10
            old = running_sum.make_example(random.Random(5), n, cot='sums')  # the first n-1 sums alone
            new = running_sum.make_example(random.Random(5), n)
            assert old['steps'] == [st.split()[1] for st in new['steps'][:-1]] and old['answer'] == new['answer']


def test_running_sum_deterministic():
    a = [running_sum.make_example(random.Random(7)) for _ in range(3)]
    b = [running_sum.make_example(random.Random(7)) for _ in range(3)]
    assert a == b


def test_running_sum_cli(tmp_path):
    out = str(tmp_path / 'rs')
    run_prepare('running_sum', '--n=5', '--train=200', '--valid=20', '--test=30', '--seed=3', f'--out_dir={out}')
    meta, data = check_written(out)
    assert meta['tokenizer'] == 'word' and set(meta['vocab']) == set('0123456789')
    assert [len(data[s]) for s in ('train', 'valid', 'test')] == [200, 20, 30]
    assert all(len(ex['question'].split()) == 5 for ex in data['train'])
    assert held_out_disjoint(data)
    # same seed, same files
    out2 = str(tmp_path / 'rs2')
    run_prepare('running_sum', '--n=5', '--train=200', '--valid=20', '--test=30', '--seed=3', f'--out_dir={out2}')
    for name in ['train.json', 'valid.json', 'test.json', 'meta.json']:
        assert open(os.path.join(out, name)).read() == open(os.path.join(out2, name)).read()

# -----------------------------------------------------------------------------
# multiplication


def unrev(text):
    """'7 6 9 2' (least significant digit first) -> 2967"""
    return int(''.join(reversed(text.split())))


def check_multiplication(ex, k):
    a_text, b_text = ex['question'].split(' * ')
    a, b = unrev(a_text), unrev(b_text)
    assert len(a_text.split()) == len(b_text.split()) == k
    assert len(ex['steps']) == k
    total = 0
    for i, step in enumerate(ex['steps']):
        pp_text, _, sum_text = step.partition(' ( ')
        b_i = b // 10 ** i % 10
        assert len(pp_text.split()) == k + 1 + i
        assert unrev(pp_text) == a * b_i * 10 ** i
        total += a * b_i * 10 ** i
        if 0 < i < k - 1:  # running sums between the first and the last partial product
            assert sum_text.endswith(' )') and len(sum_text[:-2].split()) == k + 1 + i
            assert unrev(sum_text[:-2]) == total
        else:
            assert not sum_text
    assert unrev(ex['answer']) == total == a * b and len(ex['answer'].split()) == 2 * k


def test_multiply_generator_checks():
    rng = random.Random(0)
    for k in [1, 2, 3, 4, 5, 7]:
        for _ in range(100):
            check_multiplication(multiply.make_example(rng, k), k)


@pytest.mark.parametrize('k, name', [(4, 'multiply_4x4.txt'), (5, 'multiply_5x5.txt')])
def test_multiply_matches_official_lines(k, name):
    # lines copied from iCoT's test sets: the generator writes them identically from the operands
    lines = open(os.path.join(FIXTURES, name)).read().splitlines()
    for line in lines:
        ex = multiply.parse_icot_line(line)
        a, b = [unrev(x) for x in ex['question'].split(' * ')]
        assert multiply.format_line(a, b, k) == line
        check_multiplication(ex, k)


def test_multiply_parse_official():
    line = open(os.path.join(FIXTURES, 'multiply_4x4.txt')).readline()
    assert multiply.parse_icot_line(line) == {
        'question': '7 6 9 2 * 1 6 3 6',
        'steps': ['7 6 9 2 0', '0 2 0 8 7 1 ( 7 8 9 0 8 1 )', '0 0 1 0 9 8 0 ( 7 8 0 1 7 0 1 )', '0 0 0 2 0 8 7 1'],
        'answer': '7 8 0 3 7 8 8 1'}


def test_multiply_cli(tmp_path):
    out = str(tmp_path / 'mul')
    run_prepare('multiply', '--k=2', '--train=100', '--valid=10', '--test=20', f'--out_dir={out}')
    meta, data = check_written(out)
    assert held_out_disjoint(data)
    for ex in data['train']:
        check_multiplication(ex, 2)
    # an iCoT folder converts as it is
    icot = tmp_path / 'icot'
    icot.mkdir()
    for split in ['train', 'valid', 'test_bigbench']:
        shutil.copy(os.path.join(FIXTURES, 'multiply_4x4.txt'), icot / f'{split}.txt')
    out = str(tmp_path / 'mul4')
    run_prepare('multiply', '--source=file', f'--path={icot}', f'--out_dir={out}')
    meta, data = check_written(out)
    assert len(data['test']) == 3 and data['test'][0]['question'] == '7 6 9 2 * 1 6 3 6'

# -----------------------------------------------------------------------------
# ProsQA


def check_prosqa(ex, min_hops=1, max_hops=99):
    facts, person, options = prosqa.parse_question(ex['question'])
    answer = ex['answer'].rstrip('.').split()[-1]
    assert ex['answer'] == f"{person} is a {answer}."
    assert answer in options and len(set(options)) == 2
    other = [o for o in options if o != answer][0]
    dist = prosqa.distances(facts, person)
    assert answer in dist and other not in dist  # one reachable, the other not
    assert other in {v for _, v in facts}        # ... though the distractor is in the graph
    # the steps: facts of the question, chained from the person to the answer, a shortest path
    node = person
    for step in ex['steps']:
        u, v = prosqa.parse_step(step)
        assert (u, v) in facts and u == node
        assert step in ex['question']  # written exactly as in the question
        node = v
    assert node == answer
    assert len(ex['steps']) == dist[answer]
    assert min_hops <= len(ex['steps']) <= max_hops


def test_prosqa_small_preset_correct():
    rng = random.Random(0)
    knobs = prosqa.PRESETS['small']
    for _ in range(300):
        ex = prosqa.make_example(rng, **knobs)
        check_prosqa(ex, knobs['min_hops'], knobs['max_hops'])
        nodes = {x for e in prosqa.parse_question(ex['question'])[0] for x in e}
        assert knobs['min_concepts'] <= len([x for x in nodes if x.islower()]) <= knobs['max_concepts']
        # the graph fields agree with the text, as in the official files
        names = ex['idx_to_symbol']
        assert ex['answer'] == f"{names[ex['root']]} is a {names[ex['target']]}."
        assert {(names[u], names[v]) for u, v in ex['edges']} == prosqa.parse_question(ex['question'])[0]


def test_prosqa_full_preset_correct():
    rng = random.Random(1)
    exs = [prosqa.make_example(rng, **prosqa.PRESETS['full']) for _ in range(60)]
    for ex in exs:
        check_prosqa(ex, 3, 6)
    stats = prosqa.graph_stats(exs)
    # loose bounds only (60 samples); the real comparison with the official split is done by hand
    assert 18 < stats['nodes'] < 28 and 28 < stats['edges'] < 44 and 3.2 < stats['hops'] < 4.5


def test_prosqa_deterministic():
    a = prosqa.make_example(random.Random(5), **prosqa.PRESETS['small'])
    b = prosqa.make_example(random.Random(5), **prosqa.PRESETS['small'])
    assert a == b


def test_prosqa_official_format():
    path = os.path.join(FIXTURES, 'prosqa_official.json')
    exs = reasoning.load_split(FIXTURES, path)
    assert len(exs) == 2
    for ex in exs:
        check_prosqa(ex)  # the official steps are shortest paths too
    stats = prosqa.graph_stats(exs)
    assert stats['steps'] == stats['hops'] == 3


def test_prosqa_cli(tmp_path):
    out = str(tmp_path / 'pq')
    stdout = run_prepare('prosqa', '--preset=small', '--train=40', '--valid=5', '--test=5', '--tokenizer=word',
                         f'--out_dir={out}')
    assert 'nodes' in stdout  # the statistics are printed
    meta, data = check_written(out)
    assert meta['tokenizer'] == 'word' and held_out_disjoint(data)
    for ex in data['train']:
        check_prosqa(ex, 2, 4)
    # knobs override the preset; gpt2 is the default tokenizer
    out = str(tmp_path / 'pq2')
    run_prepare('prosqa', '--preset=small', '--max_hops=2', '--train=5', '--valid=2', '--test=2', f'--out_dir={out}')
    meta, data = check_written(out)
    assert meta == {'tokenizer': 'gpt2'}
    assert all(len(ex['steps']) == 2 for ex in data['train'])
    # official files in a folder are saved unchanged
    src = tmp_path / 'official'
    src.mkdir()
    shutil.copy(os.path.join(FIXTURES, 'prosqa_official.json'), src / 'prosqa_test.json')
    out = str(tmp_path / 'pq3')
    run_prepare('prosqa', '--source=file', f'--path={src}', f'--out_dir={out}')
    assert reasoning.load_split(out, 'test') == json.load(open(os.path.join(FIXTURES, 'prosqa_official.json')))


def test_official_prosqa_test_file_scores_as_is(tmp_path):
    """A checkpoint trained on generated ProsQA (GPT-2 BPE) is scored on an official file given by path:
    `sample.py --eval=prosqa_test.json`, what `results.py --extra_test=...` runs for every model."""
    run_prepare('prosqa', '--preset=small', '--train=64', '--valid=4', '--test=4', f'--out_dir={tmp_path / "data" / "pq"}')
    tiny = ['--dataset=pq', '--n_layer=1', '--n_head=2', '--n_embd=32', '--block_size=512', '--batch_size=4',
            '--max_iters=2', '--eval_interval=100', '--eval_examples=2', '--out_dir=out']
    r = subprocess.run([sys.executable, os.path.join(ROOT, 'train.py'), *tiny], cwd=tmp_path, capture_output=True,
                       text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    official = os.path.join(FIXTURES, 'prosqa_official.json')
    r = subprocess.run([sys.executable, os.path.join(ROOT, 'sample.py'), '--out_dir=out', f'--eval={official}',
                        '--max_new_tokens=8'], cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    res = json.loads(r.stdout.strip().splitlines()[-1])
    assert res['n'] == 2 and res['split'] == official and 0 <= res['accuracy'] <= 1

# -----------------------------------------------------------------------------
# GSM8k-Aug


def test_gsm8k_parse():
    exs = gsm8k.parse_text(open(os.path.join(FIXTURES, 'gsm8k_aug.txt'), encoding='utf-8').read())
    assert len(exs) == 5
    assert exs[0] == {'question': 'Mia bakes 12 muffins a day and sells them for $3 each. How many dollars does '
                                  'she make in 5 days?',
                      'steps': ['<<12*3=36>>', '<<36*5=180>>'], 'answer': '180'}
    assert exs[1]['answer'] == '1140000'                        # thousands commas dropped
    assert exs[1]['question'].startswith('A town has 1,200')   # ... but not in the question
    assert exs[2]['question'].startswith('José’s café') and exs[2]['steps'] == ['<<40/2=20>>', '<<40+20=60>>']
    assert exs[3]['question'].startswith('Ticket #3') and exs[3]['answer'] == '10'
    assert exs[4]['steps'] == [] and exs[4]['answer'] == '4'    # an empty CoT is kept


def test_gsm8k_cli(tmp_path):
    src = tmp_path / 'icot'
    src.mkdir()
    for split in ['train', 'valid', 'test']:
        shutil.copy(os.path.join(FIXTURES, 'gsm8k_aug.txt'), src / f'{split}.txt')
    out = str(tmp_path / 'gsm')
    run_prepare('gsm8k', '--source=file', f'--path={src}', f'--out_dir={out}')
    meta, data = check_written(out)
    assert meta == {'tokenizer': 'gpt2'}
    assert data['test'][2]['question'].startswith('José’s café')  # non-ASCII survives the round trip
