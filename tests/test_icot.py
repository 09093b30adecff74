"""iCoT (icot.py): the removal schedule (the official step counter), the layouts it produces, removal
smoothing, and train.py running the schedule with an AdamW reset at each removal."""
import math

import torch

import icot
import reasoning as R
from test_config import run
from test_train import TINY

EX = {'question': '1 2 3', 'steps': ['1', '3'], 'answer': '6'}
TOK = R.WordTokenizer(R.words_of([EX]))


def test_schedule_removes_one_token_every_steps_per_epoch_over_remove_per_epoch():
    cfg = {'batch_size': 64, 'gradient_accumulation_steps': 1, 'icot_remove_per_epoch': 8.0}
    # 6,400 examples / 64 = 100 steps per epoch; round(100 / 8) = 12 steps per removed token
    got = [icot.icot_removed(i, 6400, cfg) for i in (0, 11, 12, 23, 24, 99, 100, 1199, 1200)]
    assert got == [0, 0, 1, 1, 2, 8, 8, 99, 100]
    cfg['icot_remove_per_epoch'] = 500.0  # more removals than steps: one per step
    assert [icot.icot_removed(i, 6400, cfg) for i in range(4)] == [0, 1, 2, 3]
    cfg.update(batch_size=16, gradient_accumulation_steps=4)  # an epoch counts examples, not micro-batches
    assert icot.icot_removed(12, 6400, {**cfg, 'icot_remove_per_epoch': 8.0}) == 1


def test_layout_removes_cot_tokens_from_the_front_down_to_no_cot():
    parts = R.encode_parts(TOK, EX)  # CoT tokens: '1' '\n' '3' '\n'
    assert icot.icot_layout(parts, 0) == R.layout(TOK, parts, 'cot')
    prompt, target = icot.icot_layout(parts, 1)
    assert prompt == TOK.encode('1 2 3\n') and TOK.decode(target) == '\n3\n### 6 <|endoftext|>'
    assert TOK.decode(icot.icot_layout(parts, 3)[1]) == '\n### 6 <|endoftext|>'
    for removed in (4, 5, 100):  # the whole CoT gone: No-CoT's layout
        assert icot.icot_layout(parts, removed) == R.layout(TOK, parts, 'nocot')


def test_removal_smoothing_offsets():
    p = icot.smoothing_distribution(4.0)
    assert math.isclose(p[0].item(), 1 - math.exp(-4), rel_tol=1e-9)  # a geometric law: P(o) = (1 - e^-4) e^(-4 o)
    assert math.isclose(p[1].item() / p[0].item(), math.exp(-4), rel_tol=1e-9)
    assert icot.smoothing_distribution(0.0)[0] == 1.0 and icot.smoothing_distribution(float('inf'))[0] == 1.0
    cfg = {'icot_smoothing': 4.0, 'device': 'cpu', 'block_size': 64}
    parts = [R.encode_parts(TOK, EX)] * 4000
    x, y = icot.icot_batch(TOK, parts, cfg, stage=1, generator=torch.Generator().manual_seed(0))
    lengths = (y >= 0).sum(1)  # target tokens: 4 - removed CoT tokens + 3 answer tokens
    share = (lengths == 7 - 2).float().mean().item()  # removed 1 + offset 1
    assert (lengths <= 7 - 1).all() and abs(share - math.exp(-4) * (1 - math.exp(-4))) < 0.01
    x0, y0 = icot.icot_batch(TOK, parts[:8], {**cfg, 'icot_smoothing': 0.0}, stage=1)
    assert ((y0 >= 0).sum(1) == 6).all()  # no smoothing: exactly the scheduled removal


def test_train_runs_the_schedule_and_resets_adamw(workdir):
    # 2,000 examples / 16 = 125 steps per epoch; 62.5 removals per epoch: one every 2 steps
    r = run('train.py', *TINY, '--method=icot', '--icot_remove_per_epoch=62.5', '--out_dir=i', '--max_iters=5',
            '--eval_interval=5', cwd=workdir)
    assert r.returncode == 0, r.stderr
    assert 'iter 2: icot stage 0 -> 1, optimizer reset' in r.stdout
    assert 'iter 4: icot stage 1 -> 2, optimizer reset' in r.stdout and 'eval iter 5 (stage 2)' in r.stdout
