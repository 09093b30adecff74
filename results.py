"""
Regenerate every measured table: prepare the data, train each method's recipe for each seed, score it
on the test split, run the sampling methods on one CoT checkpoint, and write RESULTS.md (and the same
tables into README.md, between the `results` markers).
    python results.py                              # --preset=cpu: running sum, 3 x 3 multiplication, MNNS (m 4, 5), 3 seeds
    python results.py --preset=gpu                 # paper scale: ProsQA (+ GSM8k-Aug when online), GPT-2 small
    python results.py --tasks=running_sum --seeds=[1337] --sampling=False   # one table, one seed
    python results.py --extra_test=prosqa_test.json   # also score every run on this file (e.g. the official ProsQA test split)
    python results.py --tables_only=True           # rewrite the tables from the runs finished so far
    python results.py --compare_only=True          # only base / low temperature / power / GRPO (seed 1337), printed
MNNS tables also get what each latent step holds against the reachable set (cot2.py --probe, made once
per seed when its CoT, Coconut and soft-target runs are done) and a picture of one example.
Resumable: a finished run (its result.json written) is skipped, a half-trained one resumes from its
checkpoint, so rerunning after an interruption (or to rewrite the tables) costs only what is missing.
Each run's logs are in out-results/<task>/seed<seed>/<run>/{train,eval}.log.
Longer than nanoGPT's files: about 80 lines are the recipe tables of both presets (RECIPES, PAPER,
SAMPLERS), the rest the runner and the table writers.
"""
import json
import math
import os
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor, wait, FIRST_COMPLETED

import configurator
from configurator import at_least, one_of

ROOT = os.path.dirname(os.path.abspath(__file__))  # the scripts; configs and data are relative to the cwd

# -----------------------------------------------------------------------------
preset = 'cpu'           # cpu | gpu: which recipes, and the defaults below marked (preset)
tasks = ''               # comma-separated ('' = the preset's: cpu running_sum,multiply,mnns,mnns5; gpu prosqa,gsm8k)
seeds = []               # [] = the preset's: cpu [1337, 1338, 1339], gpu [1337]
jobs = 0                 # runs trained at once (0 = the preset's: cpu 2, gpu 1); each gets cores/jobs threads
out = 'out-results'
eval_limit = 0           # test examples scored per run (0 = the whole split)
extra_test = ''          # a Coconut-format JSON file every run is also scored on (e.g. the official ProsQA test)
sampling = True          # the sampling table on the first seed's sampling checkpoint of sampling_task
sampling_task = ''       # '' = the preset's: cpu multiply, gpu gsm8k
sampling_questions = 200 # test questions in the sampling table (8 samples each)
sampling_tokens = 0      # most new tokens per sample (0 = the preset's: cpu 48, gpu 256)
readme = True            # copy the tables into README.md between the results markers
dry_run = False          # print every run's training command and stop
tables_only = False      # train nothing: write the tables from the runs finished so far
compare_only = False     # only the GRPO comparison (its two checkpoints, first seed), printed; README untouched
compare_questions = 100  # questions of each of its two splits (COMPARE_K samples each)
# -----------------------------------------------------------------------------
# what each key allows (configurator.check, at start, before hours of runs); validate() adds the rest
FLAG = one_of(True, False)
CHECKS = {
    'preset': one_of('cpu', 'gpu'), 'tasks': configurator.ANY, 'seeds': ((lambda v: all(type(s) is int and s >= 0 for s in v)),
                                                                      'a list of integers >= 0'),
    'jobs': at_least(0), 'out': ((lambda v: v != ''), 'a folder name'), 'eval_limit': at_least(0), 'extra_test': configurator.ANY,
    'sampling': FLAG, 'sampling_task': configurator.ANY, 'sampling_questions': at_least(1), 'sampling_tokens': at_least(0),
    'readme': FLAG, 'dry_run': FLAG, 'tables_only': FLAG, 'compare_only': FLAG, 'compare_questions': at_least(1),
}

# A recipe row: (name, config file, overrides, parent). `parent` names the row of the same task and seed
# whose checkpoint this one starts from (passed as --init_from); None = the config's own init_from.
# Rows whose name starts with '(' are training steps, not table rows (Latent-SFT stage 1).
COCONUT_ABLATIONS = [('- w/o curriculum', ['--no_curriculum=True']), ('- w/o thought', ['--no_thoughts=True']),
                     ('- pause as thought', ['--pause_as_thought=True'])]
RECIPES = {
    # CPU (word vocab, 4 x 128 GPT from scratch). The latent methods start from the same seed's CoT
    # checkpoint; Coconut from its own stage 0 (the CoT inside the thought block, <bot> steps <eot>: a
    # model trained from scratch reads by position), then its curriculum replaces one step per stage;
    # on the running sum Latent-SFT also starts from that stage 0, as the quickstart does, and the
    # ablations are those of the scaled thought (the paper's thought at a token embedding's length: the
    # one that learns here, so the one whose parts can be taken away).
    'running_sum': [
        ('CoT', 'config/quickstart.py', [], None),
        ('No-CoT', 'config/quickstart_nocot.py', [], None),
        ('Pause', 'config/quickstart.py', ['--method=pause', '--n_pause=5'], None),
        ('(Coconut stage 0)', 'config/quickstart_coconut0.py', [], None),  # the CoT inside <bot> .. <eot>
        ('Coconut, the hidden state as it is', 'config/quickstart_coconut.py', [], '(Coconut stage 0)'),
        ('Coconut, the hidden state scaled', 'config/quickstart_coconut_scaled.py', [], '(Coconut stage 0)'),
        *[(n, 'config/quickstart_coconut_scaled.py', o, '(Coconut stage 0)') for n, o in COCONUT_ABLATIONS],
        ('Coconut, scaled, a thought per step', 'config/quickstart_coconut_compressed.py', [], '(Coconut stage 0)'),
        ('Coconut, soft thoughts', 'config/quickstart_coconut_soft.py', [], '(Coconut stage 0)'),
        ('(Latent-SFT stage 1)', 'config/quickstart_latent_stage1.py', [], '(Coconut stage 0)'),  # latent_cot_bot
        ('Latent-SFT', 'config/quickstart_latent.py', [], '(Latent-SFT stage 1)'),
        ('CODI', 'config/quickstart_codi.py', [], 'CoT'),
        ('iCoT', 'config/quickstart_icot.py', [], 'CoT'),  # last (6 minutes a seed at one thread; CODI takes 10)
    ],
    # MNNS, CoT2's search task (m = 4 digits; 2-layer 2-head GPT): the rows that CoT2's argument needs
    # at two widths (d 32, where a soft token holds about as many states as the 8 of the last latent
    # step, and d 64), the other rows at d 32. Coconut from its own stage 0, as on the running sum.
    'mnns': [
        *[row for d in (32, 64) for row in [
            (f'No-CoT, d {d}', 'config/mnns_nocot.py', [f'--n_embd={d}'], None),
            (f'CoT, d {d}', 'config/mnns_cot.py', [f'--n_embd={d}'], None),
            (f'(Coconut stage 0, d {d})', 'config/mnns_coconut0.py', [f'--n_embd={d}'], None),
            (f'Coconut, d {d}', 'config/mnns_coconut.py', [], f'(Coconut stage 0, d {d})'),
            (f'CoT2 soft targets, d {d}', 'config/mnns_cot2.py', [f'--n_embd={d}'], None)]],
        ('Pause, d 32', 'config/mnns_cot.py', ['--method=pause', '--n_pause=6'], None),
        *[(n + ', d 32', 'config/mnns_coconut.py', o, '(Coconut stage 0, d 32)') for n, o in COCONUT_ABLATIONS],
        ('Coconut, soft thoughts, d 32', 'config/mnns_coconut_soft.py', [], '(Coconut stage 0, d 32)'),
        ('CODI, d 32', 'config/mnns_cot.py', ['--method=codi', '--codi_thoughts=6', '--learning_rate=3e-4'], 'CoT, d 32'),
        ('(Latent-SFT stage 1, d 32)', 'config/mnns_cot.py', ['--method=latent', '--latent_stage=1', '--latent_r=2',
                                                              '--latent_topk=8', '--max_iters=2000'], 'CoT, d 32'),
        ('Latent-SFT, d 32', 'config/mnns_cot.py', ['--method=latent', '--latent_stage=2', '--latent_topk=8',
                                                    '--latent_budget=8'], '(Latent-SFT stage 1, d 32)'),
        # the running sum's Coconut recipe: a stage 0 with <eot> after the chain (each thought a drop-in for
        # the CoT token in its column) and the thought scaled; beside it the paper's thought from the same
        # stage 0, which separates what the scale does from what the layout does
        *[row for d in (32, 64) for row in [
            (f'(Coconut stage 0, <eot> after the chain, d {d})', 'config/mnns_coconut0_eot.py', [f'--n_embd={d}'], None),
            (f'Coconut, scaled, <eot> after the chain, d {d}', 'config/mnns_coconut_scaled.py', [],
             f'(Coconut stage 0, <eot> after the chain, d {d})'),
            (f'Coconut, <eot> after the chain, d {d}', 'config/mnns_coconut_scaled.py', ['--coconut_thought=hidden'],
             f'(Coconut stage 0, <eot> after the chain, d {d})')]],
    ],
    # m = 5 (59,049 questions; 4 latent steps of up to 16 states): the CoT2 rows at both widths
    'mnns5': [
        *[row for d in (32, 64) for row in [
            (f'No-CoT, d {d}', 'config/mnns_nocot.py', [f'--n_embd={d}', '--dataset=mnns5'], None),
            (f'CoT, d {d}', 'config/mnns_cot.py', [f'--n_embd={d}', '--dataset=mnns5'], None),
            (f'(Coconut stage 0, d {d})', 'config/mnns_coconut0.py', [f'--n_embd={d}', '--dataset=mnns5',
                                                                     '--max_latent_stage=4'], None),
            (f'Coconut, d {d}', 'config/mnns_coconut.py', ['--dataset=mnns5', '--max_latent_stage=4', '--max_iters=4000',
                                                          '--epochs_per_stage=2.82'], f'(Coconut stage 0, d {d})'),
            (f'CoT2 soft targets, d {d}', 'config/mnns_cot2.py', [f'--n_embd={d}', '--dataset=mnns5', '--latent_topk=16',
                                                                 '--latent_budget=12',
                                                                 '--latent_labels=data/mnns5/cot2_labels.pt'], None)]],
        *[row for d in (32, 64) for row in [  # the scaled thought, as on m = 4
            (f'(Coconut stage 0, <eot> after the chain, d {d})', 'config/mnns_coconut0_eot.py',
             [f'--n_embd={d}', '--dataset=mnns5', '--max_latent_stage=4'], None),
            (f'Coconut, scaled, <eot> after the chain, d {d}', 'config/mnns_coconut_scaled.py',
             ['--dataset=mnns5', '--max_latent_stage=4', '--max_iters=4000', '--epochs_per_stage=2.82'],
             f'(Coconut stage 0, <eot> after the chain, d {d})')]],
    ],
    'multiply': [
        ('CoT', 'config/multiply_cot.py', [], None),
        ('No-CoT', 'config/multiply_cot.py', ['--method=nocot'], None),
        ('Pause', 'config/multiply_cot.py', ['--method=pause', '--n_pause=6'], None),
        ('Coconut', 'config/multiply_coconut.py', [], 'CoT'),
        ('CODI', 'config/multiply_codi.py', [], 'CoT'),
        ('iCoT', 'config/multiply_icot.py', [], 'CoT'),
        ('(Latent-SFT stage 1)', 'config/multiply_latent_stage1.py', [], 'CoT'),
        ('Latent-SFT', 'config/multiply_latent.py', [], '(Latent-SFT stage 1)'),
        ('(CoT, first 600 iterations)', 'config/multiply_cot.py', ['--max_iters=600'], None),  # the sampling checkpoint
        ('GRPO', 'config/multiply_grpo.py', [], '(CoT, first 600 iterations)'),  # trained on a < 500 only
    ],
    # GPU (GPT-2 small from the pretrained weights, BPE). ProsQA: every method from GPT-2, as in Coconut.
    'prosqa': [
        ('CoT', 'config/prosqa_cot.py', [], None),
        ('No-CoT', 'config/prosqa_nocot.py', [], None),
        ('Pause', 'config/prosqa_pause.py', [], None),
        ('Coconut', 'config/prosqa_coconut.py', [], None),
        *[(n, 'config/prosqa_coconut.py', o, None) for n, o in COCONUT_ABLATIONS],
    ],
    'gsm8k': [
        ('CoT', 'config/gsm8k_cot.py', [], None),
        ('No-CoT', 'config/gsm8k_cot.py', ['--method=nocot'], None),
        ('Coconut', 'config/gsm8k_coconut.py', [], 'CoT'),
        ('CODI', 'config/gsm8k_codi.py', [], None),
        ('(Latent-SFT stage 1)', 'config/gsm8k_latent_stage1.py', [], 'CoT'),
        ('Latent-SFT', 'config/gsm8k_latent.py', [], '(Latent-SFT stage 1)'),
    ],
}
PRESETS = {'cpu': dict(tasks=['running_sum', 'multiply', 'mnns', 'mnns5'], seeds=[1337, 1338, 1339], jobs=2,
                       sampling_task='multiply', sampling_tokens=48),
           'gpu': dict(tasks=['prosqa', 'gsm8k'], seeds=[1337], jobs=1, sampling_task='gsm8k', sampling_tokens=256)}
# What the papers report for the same rows, GPT-2 small: accuracy (%), # tokens. Coconut's Table 1 (Hao
# et al. 2024; mean +- std of their runs) and CODI's GSM8k-Aug results (Shen et al. 2025; accuracy only).
PAPER = {
    'prosqa': {'CoT': '77.5 +- 1.9 (49.4)', 'No-CoT': '76.7 +- 1.0 (8.2)', 'Pause': '75.9 +- 0.7 (8.2)',
               'Coconut': '97.0 +- 0.3 (14.2)', '- w/o curriculum': '76.1 +- 0.2 (14.2)',
               '- w/o thought': '95.5 +- 1.1 (8.2)', '- pause as thought': '96.6 +- 0.8 (8.2)'},
    'gsm8k': {'CoT': '42.9 +- 0.2 (25.0); CODI: 44.1', 'No-CoT': '16.5 +- 0.5 (2.2); CODI: 19.1',
              'Coconut': '34.1 +- 1.5 (8.2)', 'CODI': '43.7', 'Latent-SFT': 'no GPT-2 number'},
}
# The sampling table: each decoder on the same questions, 8 samples per question (greedy: 1, it is
# deterministic). Power sampling's blocks are short because the answers are (33 tokens).
SAMPLERS = [
    ('greedy', ['--num_samples=1']),
    ('base (temperature 1)', ['--sampler=base']),
    ('low temperature 1/4', ['--sampler=lowtemp']),
    ('power: alpha 4, blocks of 16, 10 MH steps', ['--sampler=power', '--mcmc_block=16', '--mcmc_steps=10']),
    ('soft thinking, vanilla', ['--sampler=soft_vanilla']),
    ('soft thinking, Dirichlet (gamma 4)', ['--sampler=soft_dirichlet']),
    ('soft thinking, Gumbel (tau 0.5)', ['--sampler=soft_gumbel']),
    ('soft Dirichlet, wide (T 2, top-p 1, min-p 0)', ['--sampler=soft_dirichlet', '--soft_temperature=2.0',
                                                     '--soft_top_p=1.0', '--soft_min_p=0.0']),
    ('soft Gumbel, wide (T 2, top-p 1, min-p 0)', ['--sampler=soft_gumbel', '--soft_temperature=2.0',
                                                  '--soft_top_p=1.0', '--soft_min_p=0.0']),
]
K = 8  # samples per question in the sampling table: pass@1 .. pass@8
# The sampling table's checkpoint: the CoT recipe stopped early (its own schedule, the first 600 of its
# 1,500 iterations), so that greedy decoding is right most of the time but not always. The finished CoT
# is right every time (measured: greedy 100%, base 99.9%, low temperature 100%), where no sampler can
# do better than another. GSM8k's CoT is far from perfect: its own CoT row is used.
SAMPLING_CKPT = {'multiply': ('(CoT, first 600 iterations)', 'config/multiply_cot.py', ['--max_iters=600'], None),
                 'gsm8k': ('CoT', 'config/gsm8k_cot.py', [], None)}


def validate(cfg):
    """Every key's range (CHECKS), then the names and files the keys point to."""
    configurator.check(cfg, CHECKS)
    for task in filter(None, cfg['tasks'].split(',')):
        if task not in RECIPES:
            raise ValueError(f"tasks={cfg['tasks']!r}: no recipes for {task!r}; tasks are some of {', '.join(RECIPES)}")
    if cfg['sampling_task'] and cfg['sampling_task'] not in SAMPLING_CKPT:
        raise ValueError(f"sampling_task={cfg['sampling_task']!r} is not allowed: one of {', '.join(map(repr, SAMPLING_CKPT))}")
    if cfg['extra_test'] and not os.path.isfile(cfg['extra_test']):
        raise FileNotFoundError(f"extra_test={cfg['extra_test']!r}: no such file")
# The power-sampling paper's comparison (Karan & Du: base, low temperature, power, GRPO; pass@k, and the
# samples' likelihood and confidence under the base model) on the sampling checkpoint and the GRPO run
# started from it. GRPO trained on the questions whose first operand a is below 500: each row is scored
# in domain (test questions with a < 500) and out of domain (a >= 500), both known to the base model.
COMPARE = {'multiply': dict(
    base='(CoT, first 600 iterations)', splits=('test_a_lt_500', 'test_a_ge_500'),
    rows=[('base (temperature 1)', '(CoT, first 600 iterations)', ['--sampler=base']),
          ('low temperature 1/4', '(CoT, first 600 iterations)', ['--sampler=lowtemp']),
          ('power: alpha 4, blocks of 16, 10 MH steps', '(CoT, first 600 iterations)',
           ['--sampler=power', '--mcmc_block=16', '--mcmc_steps=10']),
          ('GRPO (temperature 1)', 'GRPO', ['--temperature=1.0'])])}
COMPARE_K = 16  # samples per question: pass@1 .. pass@16
# MNNS: does a latent step hold the search states? cot2.py --probe on each seed's CoT, Coconut and soft-target
# runs of both widths (the test split): per step, the mass on the reachable states, on the CoT's own state,
# and the coverage of the reachable set; and the first seed's picture of one test example.
REACHABLE = ([f'{kind}, d {d}' for d in (32, 64) for kind in ('CoT', 'Coconut', 'CoT2 soft targets')]
             + [f'Coconut, scaled, <eot> after the chain, d {d}' for d in (32, 64)])  # last: a probe made before them still reads
# Data that `python data/<task>/prepare.py` alone does not make: the commands that do, and a file they
# write (its absence means: run them)
PREPARE = {'multiply': ([['data/multiply/prepare.py', '--operand_split=500']], 'train_a_lt_500.json'),
           'mnns': ([['data/mnns/prepare.py'], ['cot2.py', '--dataset=mnns']], 'cot2_labels.pt'),
           'mnns5': ([['data/mnns/prepare.py', '--m=5', '--out_dir=data/mnns5'], ['cot2.py', '--dataset=mnns5']],
                     'cot2_labels.pt')}


def slug(name):
    return ''.join(c if c.isalnum() else '-' for c in name.lower()).strip('-').replace('--', '-')


def run_dir(task, seed, name):
    return os.path.join(out, task, f'seed{seed}', slug(name))


def sh(args, log, threads):
    """Run one of our scripts (args[0]), appending its output to log; raise with the log's tail on failure."""
    env = {**os.environ, 'PYTHONUNBUFFERED': '1'}
    if threads:
        env['OMP_NUM_THREADS'] = str(threads)
    with open(log, 'a') as f:
        f.write(f"\n$ python {' '.join(args)}\n")
        f.flush()
        r = subprocess.run([sys.executable, os.path.join(ROOT, args[0])] + args[1:], stdout=f, stderr=subprocess.STDOUT, env=env)
    if r.returncode != 0:
        tail = open(log).read()[-2000:]
        raise RuntimeError(f"python {' '.join(args)} failed (log {log}):\n{tail}")


def score(d, split, log, threads, extra=(), limit=None):
    """sample.py --eval on one checkpoint (the first `limit` examples, eval_limit by default): the JSON line it ends with."""
    limit = eval_limit if limit is None else limit
    sh(['sample.py', f'--out_dir={d}', f'--eval={split}', f'--eval_limit={limit}', *extra], log, threads)
    lines = open(log).read().strip().splitlines()
    return json.loads(lines[-1])


def train_args(task, seed, name, config, overrides, parent):
    """train.py's command line for one run (resuming if its checkpoint is there)."""
    d = run_dir(task, seed, name)
    args = [config, f'--out_dir={d}', f'--seed={seed}', *overrides]
    if parent:
        args.append(f'--init_from={run_dir(task, seed, parent)}')
    if os.path.exists(os.path.join(d, 'ckpt.pt')):
        args.append('--init_from=resume')  # the last --init_from wins
    return args


def probed(name):
    """Rows scored with the thought probes too (zero thoughts, the swap): every row whose model thinks in
    continuous thoughts or latents: Coconut's (its w/o curriculum ablation too), CODI, Latent-SFT and CoT2's
    soft targets (sample.py --thought_probes: coconut.thought_probes or latent_sft.latent_thought_probes)."""
    thinks = any(m in name for m in ('Coconut', 'w/o curriculum', 'CODI', 'Latent-SFT', 'soft targets'))
    return thinks and not any(a in name for a in ('w/o thought', 'pause as thought'))


def train_and_score(task, seed, name, config, overrides, parent, threads):
    """Train and score one run; writes and returns result.json."""
    d = run_dir(task, seed, name)
    os.makedirs(d, exist_ok=True)
    t0 = time.time()
    sh(['train.py'] + train_args(task, seed, name, config, overrides, parent), os.path.join(d, 'train.log'), threads)
    res = {'train_seconds': round(time.time() - t0)}
    if not name.startswith('('):
        res.update(score(d, 'test', os.path.join(d, 'eval.log'), threads, ['--thought_probes=True'] * probed(name)))
        if extra_test:
            res['extra'] = score(d, extra_test, os.path.join(d, 'eval_extra.log'), threads)
    json.dump(res, open(os.path.join(d, 'result.json'), 'w'))
    return res


def sample_and_score(label, overrides, threads):
    """One row of the sampling table, on the first seed's CoT checkpoint."""
    d = sampling_dir(label)
    os.makedirs(d, exist_ok=True)
    passk = f"--pass_k=[{','.join(str(k) for k in range(1, K + 1))}]"
    ckpt = os.path.dirname(os.path.dirname(d))  # <run>/sampling/<label> -> <run>
    res = score(ckpt, 'test', os.path.join(d, 'eval.log'), threads,
                [f'--num_samples={K}', passk, f'--max_new_tokens={sampling_tokens}', *overrides], sampling_questions)
    json.dump(res, open(os.path.join(d, 'result.json'), 'w'))
    return res


def compare_and_score(label, split, overrides, ckpt_name, threads):
    """One cell pair of the GRPO comparison: a decoder on one of its checkpoints and splits."""
    d = os.path.dirname(result_path(('compare', label, split, overrides, ckpt_name)))
    os.makedirs(d, exist_ok=True)
    base = run_dir(sampling_task, seeds[0], COMPARE[sampling_task]['base'])
    passk = f"--pass_k=[{','.join(str(k) for k in range(1, COMPARE_K + 1))}]"
    res = score(run_dir(sampling_task, seeds[0], ckpt_name), split, os.path.join(d, 'eval.log'), threads,
                [f'--num_samples={COMPARE_K}', passk, f'--max_new_tokens={sampling_tokens}', f'--score_under={base}',
                 *overrides], compare_questions)
    json.dump(res, open(os.path.join(d, 'result.json'), 'w'))
    return res


def sampling_dir(label):
    """A sampler's row lives under the checkpoint it decodes: <run>/sampling/<label>."""
    return os.path.join(run_dir(sampling_task, seeds[0], SAMPLING_CKPT[sampling_task][0]), 'sampling', slug(label))


def result_path(job):
    """('train', task, seed, name, ...), ('sample', label, ...) or ('compare', label, split, overrides, ckpt)
    -> its result.json (written when done)."""
    if job[0] == 'compare':
        return os.path.join(run_dir(sampling_task, seeds[0], job[4]), 'compare', f'{slug(job[1])}-{job[2]}', 'result.json')
    return os.path.join(run_dir(*job[1:4]) if job[0] == 'train' else sampling_dir(job[1]), 'result.json')


def run_all(todo, jobs):
    """Run every job, up to `jobs` at once, each once its parent has finished. A job is
    ('train', task, seed, name, config, overrides, parent), ('sample', label, overrides) or
    ('compare', label, split, overrides, checkpoint name)."""
    if not todo:
        return
    done = {j for j in todo if os.path.exists(result_path(j))}
    pending = [j for j in todo if j not in done]
    threads = max(1, (os.cpu_count() or 1) // jobs) if jobs > 1 else 0  # 0: leave torch's default
    print(f"{len(done)} of {len(todo)} runs done already; {len(pending)} to go, {jobs} at a time"
          + (f" ({threads} threads each)" if threads else ''), flush=True)
    t0, running = time.time(), {}

    def ready(j):  # a run starts once the run it starts from has finished
        if j[0] == 'sample':
            return True
        if j[0] == 'compare':
            return os.path.exists(result_path(('train', sampling_task, seeds[0], j[4])))
        _, task, seed, _, _, _, parent = j
        return parent is None or os.path.exists(result_path(('train', task, seed, parent)))

    with ThreadPoolExecutor(jobs) as pool:
        while pending or running:
            for j in [j for j in pending if ready(j)][:jobs - len(running)]:
                pending.remove(j)
                what = {'train': lambda: f"{j[1]} seed {j[2]}: {j[3]}", 'sample': lambda: f"sampling: {j[1]}",
                        'compare': lambda: f"comparison: {j[1]} on {j[2]}"}[j[0]]()
                fn = {'train': train_and_score, 'sample': sample_and_score, 'compare': compare_and_score}[j[0]]
                running[pool.submit(fn, *j[1:], threads)] = (j, what, time.time())
                print(f"[{time.time() - t0:6.0f} s] start  {what}", flush=True)
            assert running, f"nothing can start: {pending[0]} waits for a run that is not in the list"
            finished, _ = wait(running, return_when=FIRST_COMPLETED)
            for f in finished:
                j, what, t1 = running.pop(f)
                res = f.result()  # a failed run stops everything, with its log's tail
                done.add(j)
                acc = f", accuracy {100 * res['accuracy']:.1f}%" if 'accuracy' in res else ''
                print(f"[{time.time() - t0:6.0f} s] done   {what} ({time.time() - t1:.0f} s{acc}); "
                      f"{len(done)} of {len(todo)} runs done", flush=True)


def reachable_probe(task, seed, threads):
    """cot2.py --probe on one seed's REACHABLE runs, once they have all finished: <task>/seed<seed>/
    reachable.json (made once), and on the first seed the picture <task>/latents.png. Skipped (None)
    for tasks without those rows or while one is missing."""
    names = [n for n in REACHABLE if any(r[0] == n for r in RECIPES[task])]
    dirs = [run_dir(task, seed, n) for n in names]
    path = os.path.join(out, task, f'seed{seed}', 'reachable.json')
    if not names or not all(os.path.exists(os.path.join(d, 'result.json')) for d in dirs):
        return None
    if not os.path.exists(path):
        picture = [f'--picture={os.path.join(out, task, "latents.png")}'] if seed == seeds[0] else []
        sh(['cot2.py', '--probe', *dirs, f'--json_out={path}.tmp', *picture], os.path.join(out, task, f'seed{seed}', 'reachable.log'), threads)
        os.replace(path + '.tmp', path)  # only a finished probe counts
    return dict(zip(names, json.load(open(path))))


def reachable_table(task):
    """Markdown: per probed row and step, mean over the seeds of mass on the reachable states / on the
    CoT's state / coverage; None when no seed has its probe."""
    probes = [p for p in (reachable_probe(task, s, 0) for s in seeds) if p]  # 0: torch's default threads
    if not probes:
        return None
    names = list(probes[0])
    steps = sorted({r['step'] for r in probes[0][names[0]]['rows']})
    head = ['model, latent'] + [f'step {i}' for i in steps]
    states = [mean_std([r['states'] for p in probes for r in p[names[0]]['rows'] if r['step'] == i])[0] for i in steps]
    lines = [['reachable states (mean)'] + [f'{s:.1f}' for s in states]]
    for name in names:
        rows = probes[0][name]['rows']
        per_step = len(rows) // len(steps)  # Coconut: c thoughts per step, the others one row
        for k in range(per_step):
            label = name + (f', thought {k + 1} of {per_step} per step' if per_step > 1 else '')
            cells = []
            for i, step in enumerate(steps):
                row = i * per_step + k
                m = [mean_std([p[name]['rows'][row][key] for p in probes])[0]
                     for key in ('reachable_mass', 'path_mass', 'coverage')]
                cells.append(' / '.join(f'{v:.2f}' for v in m))
            lines.append([label] + cells)
    n = len(probes)
    return (f"### {task}: what each latent step holds (test split, mean of {n} seed{'s' * (n > 1)}): probability mass on the "
            f"reachable states / on the CoT's own state / share of the reachable states among the most likely tokens "
            f"(cot2.py --probe; CoT: the distribution it writes each partial sum from)\n\n" + markdown(head, lines)
            + (f"\n\nPicture of one test example (seed {seeds[0]}): `{os.path.join(out, task, 'latents.png')}`"
               if os.path.exists(os.path.join(out, task, 'latents.png')) else ''))


# -----------------------------------------------------------------------------
# tables

def markdown(head, rows):
    """A markdown table: head a list of column names, rows lists of cell strings."""
    return '\n'.join(['| ' + ' | '.join(head) + ' |', '|' + '---|' * len(head)] + ['| ' + ' | '.join(r) + ' |' for r in rows])


def mean_std(xs):
    m = sum(xs) / len(xs)
    s = math.sqrt(sum((x - m) ** 2 for x in xs) / (len(xs) - 1)) if len(xs) > 1 else 0.0
    return m, s


def method_table(task):
    rows = [r for r in RECIPES[task] if not r[0].startswith('(')]
    paper = PAPER.get(task)
    n = len(seeds)
    head = ['method', f'accuracy (%), mean +- std of {n} seed{"s" * (n > 1)}', 'each seed', '# tokens']
    probes = any(probed(name) for name, *_ in rows)
    head += ['zero thoughts (%)', 'swap (%)'] if probes else []
    head += ['official test (%)'] if extra_test else []
    head += ['paper: accuracy (# tokens)'] if paper else []
    lines = []
    for name, *_ in rows:
        paths = [os.path.join(run_dir(task, s, name), 'result.json') for s in seeds]
        res = [json.load(open(p)) for p in paths if os.path.exists(p)]  # all of them, unless --tables_only
        if not res:
            lines.append([name, 'not run yet'] + [''] * (len(head) - 2))
            continue
        m, s = mean_std([100 * r['accuracy'] for r in res])
        missing = f" ({len(seeds) - len(res)} seed{'s' * (len(seeds) - len(res) > 1)} not run yet)" if len(res) < len(seeds) else ''
        cells = [name, f"{m:.1f} +- {s:.1f}{missing}", ' / '.join(f"{100 * r['accuracy']:.1f}" for r in res),
                 f"{mean_std([r['tokens_per_question'] for r in res])[0]:.1f}"]
        if probes:
            cells += [' / '.join(f"{100 * r[k]:.1f}" for r in res) if 'swap' in res[0] else '' for k in ('zero_thoughts', 'swap')]
        if extra_test:
            cells.append(f"{mean_std([100 * r['extra']['accuracy'] for r in res])[0]:.1f}")
        if paper:
            cells.append(paper.get(name, ''))
        lines.append(cells)
    return markdown(head, lines)


def sampling_table():
    res = [(label, json.load(open(result_path(('sample', label, o))))) for label, o in SAMPLERS]
    greedy = res[0][1]['seconds']
    head = ['decoding', 'accuracy'] + [f'pass@{k}' for k in range(1, K + 1)] + ['# tokens', 'time / question vs greedy']
    lines = []
    for label, r in res:
        # greedy decodes each question once: it is deterministic, so pass@k is its accuracy for every k
        curve = [r['pass@k'].get(str(k), r['accuracy'] if label == 'greedy' else None) for k in range(1, K + 1)]
        cells = [label, f"{r['accuracy']:.3f}"] + [f"{c:.3f}" if c is not None else '' for c in curve]
        cells += [f"{r['tokens_per_question']:.1f}", f"{r['seconds'] / greedy:.1f}"]
        lines.append(cells)
    return markdown(head, lines), res


def pass_k_figure(path):
    """pyplot with a fresh figure, or None (saying so) when matplotlib, which is optional, is missing."""
    try:
        import matplotlib
        matplotlib.use('Agg')
        import matplotlib.pyplot as plt
    except ImportError:
        print(f"matplotlib is not installed: no {path}")
        return None
    plt.figure(figsize=(6, 4))
    plt.xscale('log', base=2)  # k, the samples per question
    return plt


def save_pass_k_figure(plt, path, title, title_size, legend_size):
    """The labels every pass@k plot shares, then the file."""
    plt.xlabel('k (samples per question)')
    plt.ylabel('pass@k')
    plt.title(title, fontsize=title_size)
    plt.legend(fontsize=legend_size)
    plt.tight_layout()
    plt.savefig(path, dpi=120)
    print(f"wrote {path}")
    return True


def plot_passk(res, path):
    plt = pass_k_figure(path)
    if plt is None:
        return False
    for label, r in res:
        ks = list(range(1, K + 1)) if label != 'greedy' else [1, K]
        ys = [r['pass@k'][str(k)] for k in ks] if label != 'greedy' else [r['accuracy']] * 2
        plt.plot(ks, ys, marker='o' if label != 'greedy' else None, label=label, linestyle='--' if label == 'greedy' else '-')
    plt.xticks(range(1, K + 1), [str(k) for k in range(1, K + 1)])
    return save_pass_k_figure(plt, path, f'{sampling_task}: pass@k on {sampling_questions} test questions', None, 7)


def compare_jobs():
    """The GRPO comparison's runs: its two checkpoints (first seed), then every row on both splits."""
    c = COMPARE[sampling_task]
    ckpts = [('train', sampling_task, seeds[0], name, cfg, tuple(o), parent)
             for name, cfg, o, parent in RECIPES[sampling_task] if name in [r[1] for r in c['rows']]]
    return ckpts + [('compare', label, split, tuple(o), ckpt) for label, ckpt, o in c['rows'] for split in c['splits']]


def compare_table():
    """Markdown table of the comparison, and {label: {split: result}} for the plot."""
    c = COMPARE[sampling_task]
    res = {label: {split: json.load(open(result_path(('compare', label, split, tuple(o), ckpt)))) for split in c['splits']}
           for label, ckpt, o in c['rows']}
    ks = [1, 2, 4, 8, 16]
    dom, ood = c['splits']
    head = (['decoding'] + [f'in domain pass@{k}' for k in ks] + [f'out of domain pass@{k}' for k in ks]
            + ['# tokens', 'log-likelihood under base', 'confidence under base', 'time vs base'])
    lines = []
    base_time = res[c['rows'][0][0]][dom]['seconds']
    for label, r in res.items():
        cells = [label] + [f"{r[s]['pass@k'][str(k)]:.3f}" for s in (dom, ood) for k in ks]
        cells += [f"{r[dom]['tokens_per_question']:.1f}", f"{r[dom]['base_loglik']:.3f}",
                  f"{r[dom]['base_confidence']:.2f}", f"{r[dom]['seconds'] / base_time:.1f}"]
        lines.append(cells)
    return markdown(head, lines), res


def plot_compare(res, path):
    """pass@k vs k of every row, in domain (solid) and out of domain (dashed), on one plot."""
    plt = pass_k_figure(path)
    if plt is None:
        return False
    dom, ood = COMPARE[sampling_task]['splits']
    ks = list(range(1, COMPARE_K + 1))
    for i, (label, r) in enumerate(res.items()):
        for split, style in ((dom, '-'), (ood, '--')):
            plt.plot(ks, [r[split]['pass@k'][str(k)] for k in ks], style, color=f'C{i}',
                     label=f"{label}, {'in domain' if split == dom else 'out of domain'}")
    return save_pass_k_figure(plt, path, f'{sampling_task}: {compare_questions} questions per split', 9, 6)


def compare_section():
    table, res = compare_table()
    dom, ood = COMPARE[sampling_task]['splits']
    text = (f"### Base, low temperature, power sampling, GRPO: {sampling_task}, seed {seeds[0]}, first {compare_questions} "
            f"questions of {dom} (in domain: GRPO trained on these questions' kind) and of {ood} (out of domain), "
            f"{COMPARE_K} samples each; likelihood and confidence of the in-domain samples under the base model\n\n" + table)
    if plot_compare(res, os.path.join(out, 'compare_passk.png')):
        text += f"\n\npass@k plot: `{os.path.join(out, 'compare_passk.png')}` (not committed; regenerate it with this command)."
    return text


SECTION = '<!-- section:{} -->'


def merge_sections(old, new):
    """RESULTS.md holds one section per task (and one for sampling), each after its SECTION marker:
    the sections in new {name: text} replace theirs in the old text, the others stay as they were, so
    that a run of one task does not erase another's table. New names go at the end."""
    names, sections = [], {}
    for chunk in old.split('<!-- section:')[1:]:
        name, text = chunk.split(' -->', 1)
        names.append(name)
        sections[name] = text.strip()
    for name, text in new.items():
        names += [name] * (name not in sections)
        sections[name] = text
    return '\n\n'.join(SECTION.format(n) + '\n' + sections[n] for n in names) + '\n'


def write_results(task_list, total_seconds):
    stamp = (f"Generated by `python results.py --preset={preset}` on {time.strftime('%Y-%m-%d')} (that invocation: "
             f"{', '.join(task_list)}; {total_seconds / 60:.0f} minutes of training and scoring summed over its runs, "
             f"from each run's result.json, a resumed run counted from its resumption). Greedy decoding on the test "
             f"split unless stated.")
    sections = {}
    for task in task_list:
        if not any(os.path.exists(result_path(('train', task, s, r[0]))) for s in seeds for r in RECIPES[task]):
            print(f"{task}: no finished run here; RESULTS.md keeps its section as it was")
            continue
        parts = [f"### {task}: accuracy and # tokens (new tokens per question; a thought counts as one)\n\n{stamp}\n\n"
                 + method_table(task)]
        probes = reachable_table(task)
        if probes:
            parts.append(probes)
        sections[task] = '\n\n'.join(parts)
    if sampling:
        table, res = sampling_table()
        parts = [f"### Sampling: {sampling_task}, checkpoint '{SAMPLING_CKPT[sampling_task][0]}' of seed {seeds[0]}, first "
                 f"{sampling_questions} test questions, {K} samples each\n\n{stamp}\n\n" + table]
        if plot_passk(res, os.path.join(out, 'passk.png')):
            parts.append(f"pass@k plot: `{os.path.join(out, 'passk.png')}` (not committed; regenerate it with this command).")
        if sampling_task in COMPARE:
            parts.append(compare_section())
        sections['sampling'] = '\n\n'.join(parts)
    text = merge_sections(open('RESULTS.md').read() if os.path.exists('RESULTS.md') else '', sections)
    with open('RESULTS.md', 'w') as f:
        f.write(text)
    print('\n' + text)
    begin, end = f'<!-- results:{preset}:begin -->', f'<!-- results:{preset}:end -->'
    if readme and os.path.exists('README.md'):
        doc = open('README.md').read()
        if begin in doc and end in doc:
            doc = doc[:doc.index(begin) + len(begin)] + '\n' + text + doc[doc.index(end):]
            open('README.md', 'w').write(doc)
            print(f"README.md: tables replaced between {begin} and {end}")


def main():
    from configurator import configure
    configure(globals(), sys.argv[1:])
    validate(globals())
    global seeds, jobs, sampling, sampling_task, sampling_tokens
    p = PRESETS[preset]
    task_list = tasks.split(',') if tasks else list(p['tasks'])
    seeds, jobs = seeds or p['seeds'], jobs or p['jobs']
    sampling_task, sampling_tokens = sampling_task or p['sampling_task'], sampling_tokens or p['sampling_tokens']
    t0 = time.time()
    if dry_run:
        for task in task_list:
            for seed in seeds:
                for name, cfg, o, parent in RECIPES[task]:
                    assert os.path.exists(cfg), f"{name}: no config {cfg}"
                    print(f"{task} seed {seed}, {name}: python train.py {' '.join(train_args(task, seed, name, cfg, o, parent))}")
        return
    for task in [] if tables_only else list(task_list):
        cmds, needed = PREPARE.get(task, ([[os.path.join('data', task, 'prepare.py')]], 'test.json'))
        if not os.path.exists(os.path.join('data', task, needed)):
            print(f"preparing data/{task}", flush=True)
            if any(subprocess.run([sys.executable, os.path.join(ROOT, c[0])] + c[1:]).returncode != 0 for c in cmds):
                print(f"data/{task} could not be prepared (offline?): skipping {task}")  # GSM8k-Aug is a download
                task_list.remove(task)
    if sampling and sampling_task not in task_list:
        print(f"no sampling table: it runs on {sampling_task}'s CoT checkpoint, and {sampling_task} is not among the tasks")
        sampling = False
    if compare_only:  # the comparison's two checkpoints and its rows, nothing else
        assert sampling_task in COMPARE, f"no GRPO comparison for {sampling_task}"
        run_all(compare_jobs(), jobs)
        print('\n' + compare_section())
        return
    todo = [('train', task, seed, name, cfg, tuple(o), parent) for task in task_list for seed in seeds
            for name, cfg, o, parent in RECIPES[task]]
    samples = [('sample', label, tuple(o)) for label, o in SAMPLERS] if sampling else []
    if samples:  # the checkpoint they decode (a table row, or a run of its own)
        name, cfg, o, parent = SAMPLING_CKPT[sampling_task]
        samples = [('train', sampling_task, seeds[0], name, cfg, tuple(o), parent)] + samples
        samples += [j for j in compare_jobs() if j[0] == 'compare'] if sampling_task in COMPARE else []
    if tables_only:  # what is finished, and the sampling table only if all of it is
        todo = [j for j in todo if os.path.exists(result_path(j))]
        samples = samples if all(os.path.exists(result_path(j)) for j in samples) else []
        print(f"tables only: {len(todo)} finished runs" + ('' if samples else ', no sampling table'))
    else:
        run_all(todo, jobs)
        run_all(samples, 1)  # one at a time, after training, so that the wall times compare like with like
    samples = [j for j in samples if j[0] in ('sample', 'compare')]
    sampling = bool(samples)
    print(f"this invocation: {(time.time() - t0) / 60:.1f} minutes")
    finished = [json.load(open(result_path(j))) for j in todo + samples]
    total = sum(r.get('train_seconds', 0) + r.get('seconds', 0) for r in finished)
    write_results(task_list, total)


if __name__ == '__main__':
    main()
