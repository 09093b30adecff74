"""train.py end to end on a tiny model: the loss falls, resuming reproduces the uninterrupted run,
the checkpoint decodes with sample.py."""
import json
import os
import re

import pytest

from test_config import run

TINY = ['--dataset=tiny', '--n_layer=2', '--n_head=2', '--n_embd=32', '--batch_size=16', '--eval_iters=2',
        '--eval_examples=8', '--eval_max_new_tokens=16', '--log_interval=1', '--warmup_iters=2',
        '--lr_decay_iters=20', '--learning_rate=3e-3']  # 16 new tokens: the fixture's CoT, 4 x 'd s \n' + '### A <eos>', is 15


def losses(stdout):
    return {int(i): float(l) for i, l in re.findall(r'^iter (\d+): loss ([\d.]+)', stdout, re.M)}


# Coconut: an epoch is 125 iterations here, so stages change at iterations 5, 10, 15 (optimizer resets)
COCONUT = ['--epochs_per_stage=0.04', '--max_latent_stage=2', '--c_thought=2']


# Latent-SFT: stage 2 (the model that decodes) learns the soft labels written by a short stage-1 run
LATENT = ['--latent_topk=4', '--latent_budget=6']
EXTRA = {'coconut': COCONUT, 'codi': ['--codi_thoughts=2', '--codi_prj_dim=16'],
         'latent': LATENT + ['--latent_stage=2', '--init_from=s1']}


@pytest.mark.parametrize('method', ['cot', 'pause', 'coconut', 'codi', 'latent'])
def test_loss_falls_and_resume_is_exact(workdir, method):
    TINY = globals()['TINY'] + EXTRA.get(method, [])
    if method == 'latent':
        s1 = run('train.py', *globals()['TINY'], *LATENT, '--method=latent', '--latent_stage=1', '--out_dir=s1',
                 '--max_iters=10', '--eval_interval=5', '--latent_label_examples=400', cwd=workdir)
        assert s1.returncode == 0, s1.stderr
        assert 'val_acc' in s1.stdout and os.path.exists(workdir / 's1' / 'latent_labels.pt')
    full = run('train.py', *TINY, f'--method={method}', '--out_dir=a', '--max_iters=20', '--eval_interval=10', cwd=workdir)
    assert full.returncode == 0, full.stderr
    la = losses(full.stdout)
    assert sorted(la) == list(range(20)) and la[19] < la[0] - 0.5
    first = run('train.py', *TINY, f'--method={method}', '--out_dir=b', '--max_iters=10', '--eval_interval=10', cwd=workdir)
    assert first.returncode == 0, first.stderr
    if method == 'coconut':  # each finished stage is scored on its own layout before the next starts
        assert all(f'end of stage {k} (iter {5 * (k + 1)}): val_loss' in full.stdout for k in range(3))
    if method == 'coconut':  # it stops on a stage boundary: the checkpoint keeps the stage it was trained at
        import torch
        assert torch.load(workdir / 'b' / 'ckpt.pt', weights_only=False)['stage'] == 1
    rest = run('train.py', *TINY, f'--method={method}', '--out_dir=b', '--max_iters=20', '--eval_interval=10',
               '--init_from=resume', cwd=workdir)
    assert rest.returncode == 0, rest.stderr
    lb = {**losses(first.stdout), **losses(rest.stdout)}
    assert lb == la  # bit-identical on CPU: model, optimizer, RNG and batch stream all restored
    r = run('train.py', *TINY, '--method=nocot', '--out_dir=b', '--max_iters=30', '--init_from=resume', cwd=workdir)
    assert r.returncode != 0 and f"trained with method='{method}'" in r.stderr
    r = run('sample.py', '--out_dir=a', '--eval=test', '--eval_limit=16', cwd=workdir)
    assert r.returncode == 0, r.stderr
    res = json.loads(r.stdout.strip().splitlines()[-1])
    assert res['n'] == 16 and 0 <= res['accuracy'] <= 1 and res['tokens_per_question'] > 0
    r = run('sample.py', '--out_dir=a', '--start=1 2 3 4', '--num_samples=2', '--temperature=1.0', cwd=workdir)
    assert r.returncode == 0 and r.stdout.count('---------------') == 2, r.stderr
    if method in ('cot', 'codi'):  # codi.py's probe reads a CODI checkpoint and the CoT it would start from
        r = run('codi.py', '--out_dir=a', '--eval=test', '--eval_limit=8', cwd=workdir)
        assert r.returncode == 0 and r.stdout.count('\nteacher: ###:') + r.stdout.count('\nstudent: ###:') == 2, r.stderr


def test_coconut_stage0_then_soft_thoughts_decode_and_probe(workdir):
    """The quickstart's Coconut path on a tiny model: stage 0 (the CoT after <bot>, then <eot>, both written
    by the model: eot_after_steps), then all-latent soft thoughts from it; both checkpoints score with sample.py, and the soft
    one reloads with its thought map and reports the zero-thought and swap probes."""
    s0 = run('train.py', *TINY, '--method=coconut', '--eot_after_steps=True', '--c_thought=2', '--max_latent_stage=2', '--epochs_per_stage=100',
             '--out_dir=s0', '--max_iters=4', '--eval_interval=4', cwd=workdir)
    assert s0.returncode == 0, s0.stderr
    r = run('sample.py', '--out_dir=s0', '--eval=test', '--eval_limit=8', cwd=workdir)
    assert r.returncode == 0 and 'stage 0: 0 thoughts' in r.stdout, r.stderr
    soft = run('train.py', *TINY, '--method=coconut', '--eot_after_steps=True', '--c_thought=2', '--max_latent_stage=2', '--no_curriculum=True',
               '--coconut_thought=soft', '--init_from=s0', '--out_dir=soft', '--max_iters=4', '--eval_interval=4', cwd=workdir)
    assert soft.returncode == 0 and 'soft thoughts' in soft.stdout, soft.stderr
    r = run('sample.py', '--out_dir=soft', '--eval=test', '--eval_limit=8', '--thought_probes=True', cwd=workdir)
    assert r.returncode == 0 and 'stage 3: 4 thoughts' in r.stdout, r.stderr
    res = json.loads(r.stdout.strip().splitlines()[-1])
    assert {'zero_thoughts', 'swap', 'step_match'} <= set(res) and len(res['step_match']) == 4


def test_coconut_scaled_thought_is_measured_once_recorded_and_decoded(workdir):
    """coconut_thought='scaled': train.py measures thought_scale on the starting weights and records it; a
    resumed run keeps it (the trained weights would measure another); sample.py decodes with it; and
    coconut.py's CLI prints the untrained-thoughts table of a stage-0 checkpoint."""
    import torch
    common = [*TINY, '--method=coconut', '--eot_after_steps=True', '--c_thought=2', '--max_latent_stage=2']
    s0 = run('train.py', *common, '--epochs_per_stage=100', '--out_dir=s0', '--max_iters=4', '--eval_interval=4', cwd=workdir)
    assert s0.returncode == 0, s0.stderr
    scaled = common + ['--coconut_thought=scaled', '--init_from=s0', '--epochs_per_stage=0.04', '--out_dir=sc', '--eval_interval=4']
    a = run('train.py', *scaled, '--max_iters=4', cwd=workdir)
    assert a.returncode == 0, a.stderr
    scale = torch.load(workdir / 'sc' / 'ckpt.pt', weights_only=False)['config']['thought_scale']
    assert scale > 0 and f'the last hidden state times {scale:.4f}' in a.stdout
    b = run('train.py', *scaled, '--max_iters=8', '--init_from=resume', cwd=workdir)
    assert b.returncode == 0 and f'times {scale:.4f}' in b.stdout, b.stderr
    assert torch.load(workdir / 'sc' / 'ckpt.pt', weights_only=False)['config']['thought_scale'] == scale
    r = run('sample.py', '--out_dir=sc', '--eval=test', '--eval_limit=8', '--thought_probes=True', cwd=workdir)
    assert r.returncode == 0 and 'stage 1: 2 thoughts' in r.stdout, r.stderr
    assert {'zero_thoughts', 'swap'} <= set(json.loads(r.stdout.strip().splitlines()[-1]))
    r = run('coconut.py', '--out_dir=s0', '--eval=test', '--eval_limit=8', cwd=workdir)
    assert r.returncode == 0, r.stderr
    assert '| stage k | hidden state h | scaled h | soft |' in r.stdout and r.stdout.count('\n| 2 |') == 1
    r = run('coconut.py', '--probe=linear', '--out_dir=sc', '--eval=test', '--eval_limit=8', '--train_examples=32', cwd=workdir)
    assert r.returncode == 0 and '| thought | step 1 | step 2 | step 3 | step 4 |' in r.stdout, r.stderr
    r = run('coconut.py', '--probe=tokens', '--out_dir=sc', '--eval=test', '--eval_limit=8', cwd=workdir)
    assert r.returncode == 0 and 'at stage 1, teacher-forced, 8 test questions' in r.stdout, r.stderr


def test_stop_at_val_acc_ends_the_run_at_that_eval(workdir):
    r = run('train.py', *TINY, '--eval_examples=64', '--out_dir=a', '--max_iters=400', '--eval_interval=25',
            '--decay_lr=False', '--stop_at_val_acc=0.05', cwd=workdir)  # chance is ~10% once the format is learned
    assert r.returncode == 0, r.stderr
    evals = [(int(i), float(a)) for i, a in re.findall(r'^eval iter (\d+): .*val_acc ([\d.]+)', r.stdout, re.M)]
    last_iter, last_acc = evals[-1]
    assert 'stopping' in r.stdout and last_acc >= 0.05 and last_iter < 400
    assert all(a < 0.05 for i, a in evals[:-1])  # it stopped at the first eval that reached the bar
    assert max(losses(r.stdout)) == last_iter - 1  # no step after the eval that stopped it
    # a start that already reaches the bar (these weights, through init_from) is not trained at all
    r = run('train.py', *TINY, '--eval_examples=64', '--init_from=a', '--out_dir=b', '--max_iters=400',
            '--eval_interval=25', '--stop_at_val_acc=0.05', cwd=workdir)
    assert r.returncode == 0 and 'iter 0: valid accuracy' in r.stdout and not losses(r.stdout), r.stderr
    assert os.path.exists(workdir / 'b' / 'ckpt.pt')


def test_latent_sft_from_coconut_stage0_then_thought_probes(workdir):
    """The quickstart's Latent-SFT path: stage 1 from Coconut's stage 0 (the CoT after <bot>) must say so
    (latent_cot_bot, an error otherwise), stage 2 learns its labels, and sample.py reports the probes."""
    s0 = run('train.py', *TINY, '--method=coconut', '--eot_after_steps=True', '--c_thought=2', '--max_latent_stage=2', '--epochs_per_stage=100',
             '--out_dir=s0', '--max_iters=4', '--eval_interval=4', cwd=workdir)
    assert s0.returncode == 0, s0.stderr
    stage1 = [*TINY, *LATENT, '--method=latent', '--latent_stage=1', '--init_from=s0', '--out_dir=s1', '--max_iters=4',
              '--eval_interval=4', '--latent_label_examples=100', '--latent_r=3', '--latent_first_segment=1']
    r = run('train.py', *stage1, cwd=workdir)
    assert r.returncode != 0 and 'set latent_cot_bot=True' in r.stderr
    r = run('train.py', *stage1, '--latent_cot_bot=True', '--latent_encoder=frozen', cwd=workdir)
    assert r.returncode == 0 and os.path.exists(workdir / 's1' / 'latent_labels.pt'), r.stderr
    r = run('train.py', *TINY, *LATENT, '--method=latent', '--latent_stage=2', '--init_from=s1', '--out_dir=s2',
            '--max_iters=4', '--eval_interval=4', '--latent_label_examples=100', cwd=workdir)
    assert r.returncode == 0, r.stderr
    r = run('sample.py', '--out_dir=s2', '--eval=test', '--eval_limit=8', '--thought_probes=True', cwd=workdir)
    assert r.returncode == 0, r.stderr
    res = json.loads(r.stdout.strip().splitlines()[-1])
    assert {'zero_thoughts', 'swap', 'step_match'} <= set(res)
