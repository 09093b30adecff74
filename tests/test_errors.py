"""Every bad input is a clear error, at start, and nothing hangs. One table: the script, its command
line, the exit status, the words the error must hold. The rows run each script's main in this process
(runpy, as `python script.py ...` would, less the ~3 s of a fresh interpreter), so the table takes
seconds; two rows of the issue also run as real processes. Then what a crash must not lose (a NaN
loss, a save interrupted halfway, kill -9), and the degenerate decoding values (block 0, budget 0,
one token of room): a clear error or a result, within seconds. CPU, offline."""
import ast
import json
import os
import random
import runpy
import subprocess
import sys
import time

import pytest
import torch

import power_sampling
import reasoning as R
import soft_thinking
import latent_sft
from conftest import ROOT, running_sum_example
from model import GPT, GPTConfig

TINY = ['--dataset=tiny', '--n_layer=1', '--n_head=2', '--n_embd=16', '--block_size=32', '--batch_size=4',
        '--eval_iters=1', '--eval_examples=0']

# (script, command line, exit status, words the error must hold). Status 1: Python's for an uncaught
# exception; the error's last line names the key and its value, or the file, and what is allowed.
TABLE = [
    # sample.py: what issue 20 found accepted silently, or hanging
    ('sample.py', ['--out_dir=ck', '--sampler=power', '--mcmc_block=0'], 1, ['mcmc_block=0', '>= 1']),
    ('sample.py', ['--out_dir=ck', '--sampler=power', '--alpha=0'], 1, ['alpha=0.0', '> 0']),
    ('sample.py', ['--out_dir=ck', '--temperature=-1'], 1, ['temperature=-1.0', '>= 0']),
    ('sample.py', ['--out_dir=ck', '--top_p=2'], 1, ['top_p=2.0', 'in (0, 1]']),
    ('sample.py', ['--out_dir=ck', '--num_samples=0'], 1, ['num_samples=0', '>= 1']),
    ('sample.py', ['--out_dir=ck', '--sampler=soft_dirichlet', '--gamma=-1'], 1, ['gamma=-1.0', '> 0']),
    ('sample.py', ['--out_dir=ck', '--sampler=soft_gumbel', '--tau=0'], 1, ['tau=0.0', '> 0']),
    ('sample.py', ['--out_dir=ck', '--start=1 2 foo 3 bar'], 1, ["'bar', 'foo' not in the vocabulary", "'tiny'"]),
    ('sample.py', ['--out_dir=notckpt.pt'], 1, ['notckpt.pt is not a checkpoint written by train.py']),
    # sample.py: more of the same kind
    ('sample.py', ['--out_dir=ck', '--top_p=0'], 1, ['top_p=0.0', 'in (0, 1]']),
    ('sample.py', ['--out_dir=ck', '--top_k=-1'], 1, ['top_k=-1', '>= 0']),
    ('sample.py', ['--out_dir=ck', '--max_new_tokens=0'], 1, ['max_new_tokens=0', '>= 1']),
    ('sample.py', ['--out_dir=ck', '--batch_size=0'], 1, ['batch_size=0']),
    ('sample.py', ['--out_dir=ck', '--sampler=greedy'], 1, ["sampler='greedy'", "one of 'plain'", "'soft_gumbel'"]),
    ('sample.py', ['--out_dir=ck', '--sampler=power', '--mcmc_steps=-1'], 1, ['mcmc_steps=-1']),
    ('sample.py', ['--out_dir=ck', '--sampler=soft_vanilla', '--soft_temperature=0'], 1, ['soft_temperature=0.0', '> 0']),
    ('sample.py', ['--out_dir=ck', '--soft_top_p=1.5'], 1, ['soft_top_p=1.5']),
    ('sample.py', ['--out_dir=ck', '--soft_min_p=-0.1'], 1, ['soft_min_p=-0.1', 'in [0, 1]']),
    ('sample.py', ['--out_dir=ck', '--think_budget=-1'], 1, ['think_budget=-1']),
    ('sample.py', ['--out_dir=ck', '--cold_stop_steps=-1'], 1, ['cold_stop_steps=-1']),
    ('sample.py', ['--out_dir=ck', '--pass_k=[0, 2]'], 1, ['pass_k=[0, 2]', 'integers >= 1']),
    ('sample.py', ['--out_dir=ck', '--pass_k=[]'], 1, ['pass_k=[]']),
    ('sample.py', ['--out_dir=ck', '--dtype=fp16'], 1, ["dtype='fp16'", "'bfloat16'"]),
    ('sample.py', ['--out_dir=ck', '--device=gpu'], 1, ["device='gpu'", "'cuda:N'"]),
    ('sample.py', ['--out_dir=ck', '--temperature=1e999'], 1, ['temperature=inf']),
    ('sample.py', ['--out_dir=ck', '--js_probe=True'], 1, ['js_probe=True needs a soft sampler']),
    ('sample.py', ['--out_dir=ck', '--thought_probes=True'], 1, ['thought_probes=True needs --eval']),
    ('sample.py', ['--out_dir=ck', '--start=FILE:nowhere.txt'], 1, ['no file nowhere.txt']),
    ('sample.py', ['--out_dir=ck', '--eval=nowhere.json'], 1, ['no file nowhere.json']),
    ('sample.py', ['--out_dir=ck', '--eval=data/bad_steps/train.json'], 1, ['bad_steps/train.json, example 5', "'steps'"]),
    ('sample.py', ['--out_dir=tensor.pt'], 1, ['tensor.pt is not a checkpoint', 'has no model']),
    ('sample.py', ['--out_dir=empty.pt'], 1, ['empty.pt is not a checkpoint']),
    ('sample.py', ['--out_dir=missing'], 1, ['no checkpoint at missing']),  # held before issue 20
    ('sample.py', ['--temperature=abc'], 1, ["'temperature' expects float"]),  # held
    ('sample.py', ['--tempreature=1'], 1, ["unknown config key 'tempreature'"]),  # held
    # train.py: what issue 20 found
    ('train.py', TINY + ['--batch_size=0'], 1, ['batch_size=0', '>= 1']),
    ('train.py', TINY + ['--n_embd=128', '--n_head=3'], 1, ['n_embd=128 is not a multiple of n_head=3']),
    ('train.py', TINY + ['--dataset=bad_steps'], 1, ['data/bad_steps/train.json, example 5', "field 'steps'", '3']),
    ('train.py', TINY + ['--init_from=notckpt.pt'], 1, ['notckpt.pt is not a checkpoint written by train.py']),
    # train.py: more
    ('train.py', TINY + ['--dataset=bad_answer'], 1, ['bad_answer/train.json, example 0', "field 'answer' must be a string"]),
    ('train.py', TINY + ['--dataset=no_question'], 1, ['no_question/valid.json, example 1', "no 'question' field"]),
    ('train.py', TINY + ['--dataset=not_json'], 1, ['not_json/train.json is not valid JSON', 'line 1']),
    ('train.py', TINY + ['--dataset=not_list'], 1, ['not_list/train.json is not a non-empty JSON list']),
    ('train.py', TINY + ['--dataset=bad_meta'], 1, ["bad_meta/meta.json is not a task's meta.json"]),
    ('train.py', TINY + ['--method=cott'], 1, ["method='cott'", "one of 'cot'"]),
    ('train.py', TINY + ['--latent_stage=3'], 1, ['latent_stage=3', 'one of 1, 2']),
    ('train.py', TINY + ['--coconut_thought=hiden'], 1, ["coconut_thought='hiden'", "one of 'hidden', 'scaled', 'soft'"]),
    ('train.py', TINY + ['--method=coconut', '--coconut_keep_position=True', '--c_thought=4'], 1,
     ['c_thought=4 thoughts do not fit in the 3 positions of a step']),
    ('train.py', TINY + ['--method=codi', '--codi_teacher=frozen'], 1, ["codi_teacher='frozen'", "not init_from='scratch'"]),
    ('train.py', TINY + ['--method=latent', '--latent_stage=2', '--latent_input=hidden'], 1, ["latent_input='hidden' is a stage-1 ablation"]),
    ('train.py', TINY + ['--latent_schedule=alternating'], 1, ["latent_schedule='alternating'", "one of 'joint', 'alternate'"]),
    ('train.py', TINY + ['--dropout=1.0'], 1, ['dropout=1.0', 'in [0, 1)']),
    ('train.py', TINY + ['--beta2=1'], 1, ['beta2=1.0', 'in [0, 1)']),
    ('train.py', TINY + ['--epochs_per_stage=0'], 1, ['epochs_per_stage=0.0', '> 0']),
    ('train.py', TINY + ['--uniform_prob=2'], 1, ['uniform_prob=2.0', 'in [0, 1]']),
    ('train.py', TINY + ['--gradient_accumulation_steps=0'], 1, ['gradient_accumulation_steps=0']),
    ('train.py', TINY + ['--learning_rate=-1e-3'], 1, ['learning_rate=-0.001']),
    ('train.py', TINY + ['--min_lr=0.1'], 1, ['min_lr=0.1 is above learning_rate=0.001']),
    ('train.py', TINY + ['--block_size=1'], 1, ['block_size=1', '>= 2']),
    ('train.py', TINY + ['--eval_interval=0'], 1, ['eval_interval=0']),
    ('train.py', TINY + ['--init_from=nowhere'], 1, ["init_from='nowhere' is not allowed", "'scratch', 'resume'"]),
    ('train.py', TINY + ['--init_from=resume', '--out_dir=empty_dir'], 1, ['no checkpoint at empty_dir/ckpt.pt']),
    ('train.py', TINY + ['--init_from=gpt2'], 1, ["init_from='gpt2' needs the gpt2 tokenizer", "uses word"]),
    ('train.py', TINY + ['--dataset=nothing_here'], 1, ['python data/nothing_here/prepare.py']),  # held
    ('train.py', TINY + ['--block_size=8'], 1, ['longer than block_size 8']),  # held
    ('train.py', TINY + ['--n_layr=2'], 1, ["unknown config key 'n_layr'"]),  # held
    ('train.py', TINY + ['--compile=1'], 1, ["'compile' expects bool"]),  # held
    # bench.py and results.py
    ('bench.py', ['--n_head=3'], 1, ['n_embd=256 is not a multiple of n_head=3']),
    ('bench.py', ['--vocab_size=10'], 1, ['vocab_size=10', '>= 19']),
    ('bench.py', ['--prompt_len=600'], 1, ['prompt_len=600 + new_tokens=512 does not fit in block_size=1024']),
    ('bench.py', ['--mcmc_steps=0'], 1, ['mcmc_steps=0', '>= 1']),
    ('bench.py', ['--repeats=0'], 1, ['repeats=0']),
    ('results.py', ['--preset=tpu'], 1, ["preset='tpu'", "one of 'cpu', 'gpu'"]),
    ('results.py', ['--tasks=running_sm'], 1, ["no recipes for 'running_sm'", 'running_sum']),
    ('results.py', ['--seeds=[-1]'], 1, ['seeds=[-1]', 'integers >= 0']),
    ('results.py', ['--sampling_task=prosqa'], 1, ["sampling_task='prosqa'", "'multiply'"]),
    ('results.py', ['--extra_test=nowhere.json'], 1, ["extra_test='nowhere.json': no such file"]),
    ('results.py', ['--jobs=-1'], 1, ['jobs=-1']),
]


@pytest.fixture(scope='module')
def bad_dir(tmp_path_factory):
    """A folder with a tiny task, a tiny checkpoint (0 iterations), and every kind of bad file."""
    d = tmp_path_factory.mktemp('errors')
    rng = random.Random(0)
    splits = {name: [running_sum_example(rng) for _ in range(size)] for name, size in [('train', 100), ('valid', 8), ('test', 8)]}
    R.save_splits(str(d / 'data' / 'tiny'), splits, 'word')
    bad = {'bad_steps': ('train', 5, 'steps', 3), 'bad_answer': ('train', 0, 'answer', 7),
           'no_question': ('valid', 1, 'question', None), 'not_json': ('train', '[{"question": "1 2",'),
           'not_list': ('train', '{"question": "1 2"}'), 'bad_meta': ('meta', '{"tokenizer": "words"}')}
    for task, (split, *what) in bad.items():  # a good task, then one file of it broken
        R.save_splits(str(d / 'data' / task), splits, 'word')
        if len(what) == 1:
            text = what[0]
        else:
            broken = json.loads(json.dumps(splits[split]))
            i, field, value = what
            broken[i][field] = value
            if value is None:
                del broken[i][field]
            text = json.dumps(broken)
        (d / 'data' / task / f'{split}.json').write_text(text)
    (d / 'notckpt.pt').write_text('iter 0: loss 4.15\n')  # a log saved under the wrong name
    (d / 'empty.pt').write_bytes(b'')
    torch.save(torch.zeros(3), d / 'tensor.pt')
    os.makedirs(d / 'empty_dir')
    code, err = main_of('train.py', TINY + ['--max_iters=0', '--out_dir=ck'], d)
    assert code == 0, err
    return d


def main_of(script, args, cwd):
    """`python script args` in this process: (exit status, the error's last line). An exception that
    escapes main is status 1, as Python exits with it."""
    argv, old = sys.argv, os.getcwd()
    sys.argv = [script] + args
    os.chdir(cwd)
    try:
        runpy.run_path(os.path.join(ROOT, script), run_name='__main__')
        return 0, ''
    except SystemExit as e:
        return (e.code if isinstance(e.code, int) else 1), str(e.code)
    except Exception as e:
        return 1, f"{type(e).__name__}: {e}"
    finally:
        sys.argv = argv
        os.chdir(old)


@pytest.mark.parametrize('script,args,status,words', TABLE, ids=[f"{s} {' '.join(a[-2:])}" for s, a, _, _ in TABLE])
def test_bad_input_is_a_clear_error_at_start(bad_dir, script, args, status, words):
    t0 = time.time()
    code, err = main_of(script, args, bad_dir)
    assert code == status, f"exit status {code}, expected {status}: {err}"
    assert '\n' not in err, f"the error must be one line: {err!r}"
    for w in words:
        assert w in err, f"{w!r} not in the error: {err}"
    assert time.time() - t0 < 30, f"{script} {args} took {time.time() - t0:.0f} s to fail: it must fail at start"


def test_every_knob_has_a_check():
    """Every variable of each script's config block (between its first two `# ---` lines) has a row in
    its CHECKS table, and every row names a variable: a new knob cannot skip validation."""
    import bench
    import results
    import sample
    import train
    for mod in (train, sample, bench, results):
        src = open(mod.__file__).read().split('# ' + '-' * 77)
        block = ast.parse(src[1])
        keys = {t.id for node in block.body if isinstance(node, ast.Assign) for t in node.targets}
        assert keys == set(mod.CHECKS), f"{mod.__name__}: no check for {keys - set(mod.CHECKS)}, no knob for {set(mod.CHECKS) - keys}"
        mod.validate({k: getattr(mod, k) for k in keys})  # the defaults pass
    ok, _ = train.CHECKS['method']
    assert all(ok(m) for m in train.METHODS)  # the table's methods are the loop's


def test_text_keys_take_the_text_as_typed():
    from configurator import configure
    cfg = {'start': '0 1', 'out_dir': 'out', 'n': 1}
    configure(cfg, ['--start=7', '--out_dir=123', "--n=2"])
    assert cfg == {'start': '7', 'out_dir': '123', 'n': 2}


def test_unknown_words_of_an_eval_file_are_named(bad_dir):
    """Scoring a file whose questions hold words the checkpoint does not know goes on, with a warning
    naming them; as --start they are an error (in the table)."""
    examples = [{'question': '1 2 apple', 'answer': '3'}, {'question': 'pear 2', 'answer': '2'}]  # no steps: fine for scoring
    (bad_dir / 'fruit.json').write_text(json.dumps(examples))
    from io import StringIO
    from contextlib import redirect_stdout
    out = StringIO()
    with redirect_stdout(out):
        code, err = main_of('sample.py', ['--out_dir=ck', '--eval=fruit.json', '--max_new_tokens=4'], bad_dir)
    assert code == 0, err
    assert "warning: fruit.json has words outside the vocabulary of dataset 'tiny', read as <unk>: 'apple', 'pear'" in out.getvalue()


def test_the_issue_rows_as_real_processes(bad_dir):
    """Two rows as a user meets them: a fresh interpreter, the exit status, the last line of stderr.
    The first hung forever before issue 20. (Each costs ~3 s of torch import: the table runs in-process.)"""
    for script, args, words in [('sample.py', ['--out_dir=ck', '--sampler=power', '--mcmc_block=0'], 'mcmc_block=0'),
                                ('train.py', TINY + ['--dataset=bad_steps'], 'example 5')]:
        r = subprocess.run([sys.executable, os.path.join(ROOT, script), *args], cwd=bad_dir, capture_output=True,
                           text=True, timeout=300)
        assert r.returncode == 1 and words in r.stderr.strip().splitlines()[-1], r.stderr[-2000:]


def test_quickstart_imports_neither_safetensors_nor_the_hub_client():
    code = ("import sys, train, sample, bench, results; "
            "print(sorted(m for m in ('safetensors', 'huggingface_hub') if m in sys.modules))")
    r = subprocess.run([sys.executable, '-c', code], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert r.returncode == 0 and r.stdout.strip() == '[]', r.stdout + r.stderr


def test_nan_loss_stops_the_run_and_keeps_the_last_good_checkpoint(bad_dir, capsys):
    """lr 1e30 blows the weights up after one step. The eval of iteration 1 comes before its training
    step: it used to save those weights (valid loss NaN) as the 'last good checkpoint'."""
    code, _ = main_of('train.py', TINY + ['--learning_rate=1e30', '--decay_lr=False', '--max_iters=5', '--eval_interval=1',
                                          '--out_dir=nan'], bad_dir)
    assert code == 1 and 'iter 1: loss is nan; stopping. The last good checkpoint is in nan' in capsys.readouterr().out
    ckpt = R.load_checkpoint_file(str(bad_dir / 'nan' / 'ckpt.pt'))
    assert ckpt['iter_num'] == 0 and ckpt['stats']['val_loss'] < 10


def test_an_interrupted_save_leaves_the_previous_checkpoint(tmp_path, monkeypatch):
    path = str(tmp_path / 'ckpt.pt')
    R.save_checkpoint(path, {'iter_num': 1})
    def dies_halfway(obj, f):
        open(f, 'wb').write(b'PK\x03\x04 half a zip')
        raise KeyboardInterrupt  # the process dies here
    monkeypatch.setattr(torch, 'save', dies_halfway)
    with pytest.raises(KeyboardInterrupt):
        R.save_checkpoint(path, {'iter_num': 2})
    monkeypatch.undo()
    assert torch.load(path) == {'iter_num': 1}


def test_kill_9_at_random_moments_leaves_a_checkpoint_that_loads(bad_dir):
    """A run that checkpoints every iteration is killed (SIGKILL) at a random moment, resumed, killed
    again: ckpt.pt loads every time (written to a temporary file, then renamed)."""
    rng, path = random.Random(0), bad_dir / 'killed' / 'ckpt.pt'
    for resume in (False, True):
        mtime = path.stat().st_mtime if resume else 0
        p = subprocess.Popen([sys.executable, os.path.join(ROOT, 'train.py'), *TINY, '--eval_interval=1', '--max_iters=100000',
                              '--out_dir=killed'] + ['--init_from=resume'] * resume, cwd=bad_dir,
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        t0 = time.time()
        while not (path.exists() and path.stat().st_mtime > mtime) and time.time() - t0 < 300:
            time.sleep(0.05)
        time.sleep(rng.uniform(0, 0.5))  # a few checkpoints later, at a moment no one chose
        p.kill()
        p.wait()
        assert R.load_checkpoint_file(str(path))['iter_num'] >= 0


# -----------------------------------------------------------------------------
# degenerate decoding values: every decoding loop advances or stops

TOK = R.WordTokenizer([str(i) for i in range(10)])


@pytest.fixture(scope='module')
def model():
    torch.manual_seed(0)
    return GPT(GPTConfig(block_size=16, vocab_size=64, n_layer=1, n_head=2, n_embd=16)).eval()


def within_seconds(fn, seconds=30):  # generous, the CPU may be shared: it tells seconds from minutes
    t0 = time.time()
    out = fn()
    assert time.time() - t0 < seconds, f"took {time.time() - t0:.1f} s"
    return out


@pytest.mark.parametrize('call,words', [
    (lambda m: power_sampling.power_generate(m, TOK, [[7, 8]], 8, block=0), 'mcmc_block=0'),
    (lambda m: power_sampling.power_sample_reference(m, TOK, [7, 8], 8, block=0), 'mcmc_block=0'),
    (lambda m: power_sampling.power_generate(m, TOK, [[7, 8]], 8, alpha=0.0), 'alpha=0.0'),
    (lambda m: R.generate(m, TOK, [[7, 8]], 8, temperature=1.0, top_p=0.0), 'top_p 0.0 in (0, 1]'),
    (lambda m: R.generate(m, TOK, [[7, 8]], 8, num_samples=0), 'num_samples 0 >= 1'),
    (lambda m: R.generate(m, TOK, [[]], 8), 'at least one token'),
    (lambda m: soft_thinking.soft_generate(m, TOK, [[7, 8]], TOK.id(R.MARKER), 'gumbel', 8, tau=0.0), 'tau 0.0'),
    (lambda m: soft_thinking.soft_generate(m, TOK, [[7, 8]], TOK.id(R.MARKER), 'dirichlet', 8, gamma=-1.0), 'gamma -1.0'),
    (lambda m: latent_sft.latent_generate(m, TOK, [[7, 8]], 8, 4, -1), 'budget -1 >= 0'),
    (lambda m: R.generate(m, TOK, [[9] * 16], 8), 'prompt of 16 tokens leaves no room'),  # held
])
def test_degenerate_decoding_values_are_clear_errors(model, call, words):
    with pytest.raises((ValueError, AssertionError), match=None) as e:
        within_seconds(lambda: call(model))
    assert words in str(e.value), str(e.value)


def test_degenerate_decoding_values_give_a_result_in_seconds(model):
    """Budget 0, one token of room (a prompt of block_size - 1), blocks longer than the budget, no MH
    steps: each decoder returns what fits, quickly."""
    g = lambda: torch.Generator().manual_seed(0)
    short, full = [[7, 8, 9]], [[7] * 15]  # 13 positions of room, and 1
    end = TOK.id(R.MARKER)
    assert within_seconds(lambda: R.generate(model, TOK, short, 0)) == [[]]
    for prompts, room in ((short, 13), (full, 1)):
        rows = within_seconds(lambda: R.generate(model, TOK, prompts, 100, temperature=1.0, num_samples=2, generator=g()))
        assert len(rows) == 2 and all(1 <= len(r) <= room for r in rows)
        for block, steps in ((1, 0), (1, 3), (100, 2)):
            rows, _ = within_seconds(lambda: power_sampling.power_generate(model, TOK, prompts, 100, 2.0, block, steps,
                                                                          num_samples=2, generator=g()))
            assert len(rows) == 2 and all(1 <= len(r) <= room for r in rows)
        ref = within_seconds(lambda: power_sampling.power_sample_reference(model, TOK, prompts[0], 100, 2.0, 1, 2, g()))
        assert 1 <= len(ref) <= room
        for mode in soft_thinking.SOFT_MODES:
            for budget in (0, 100):
                rows = within_seconds(lambda: soft_thinking.soft_generate(model, TOK, prompts, end, mode, 100, budget,
                                                                         cold_stop_steps=0, num_samples=2))
                assert len(rows) == 2 and all(1 <= len(r) <= room for r in rows)
                if budget == 0:  # no soft step: the end of thinking comes first
                    assert all(r[0] == end for r in rows)
        for budget in (0, 100):
            rows = within_seconds(lambda: latent_sft.latent_generate(model, TOK, prompts, 100, 4, budget))
            n_latent = [r.count(TOK.id(R.LATENT)) for r in rows]
            assert all(TOK.id(R.EOT) in r and len(r) <= room + 1 for r in rows)  # + 1: <eot> always fits
            assert budget > 0 or n_latent == [0]


def test_init_from_a_local_hf_directory_trains(tmp_path):
    """init_from may name a local copy of HF GPT-2 weights (config.json + model.safetensors), as the
    README says; it used to be looked up as a checkpoint (no ckpt.pt there: an error)."""
    from safetensors.torch import save_file
    from test_model import hf_state_dict
    rng = random.Random(0)
    R.save_splits(str(tmp_path / 'data' / 'bpe'), {s: [running_sum_example(rng) for _ in range(8)]
                                                   for s in ('train', 'valid', 'test')}, 'gpt2')
    torch.manual_seed(0)
    src = GPT(GPTConfig(block_size=64, vocab_size=50257, n_layer=1, n_head=2, n_embd=16))
    os.makedirs(tmp_path / 'hf')
    (tmp_path / 'hf' / 'config.json').write_text(json.dumps({'n_positions': 64, 'vocab_size': 50257, 'n_layer': 1,
                                                             'n_head': 2, 'n_embd': 16}))
    save_file(hf_state_dict(src, 50257), tmp_path / 'hf' / 'model.safetensors')
    code, err = main_of('train.py', ['--dataset=bpe', '--init_from=hf', '--max_iters=1', '--eval_interval=1',
                                     '--eval_iters=1', '--eval_examples=0', '--batch_size=2'], tmp_path)
    assert code == 0, err
    ckpt = torch.load(tmp_path / 'out' / 'ckpt.pt', weights_only=False)
    assert ckpt['iter_num'] == 1 and ckpt['model_args']['n_embd'] == 16
