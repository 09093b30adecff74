"""Two processes (torchrun, gloo on CPU) train exactly as one process on the same global batch."""
import os
import subprocess
import sys

import pytest

from conftest import ROOT
from test_train import TINY, losses


@pytest.mark.parametrize('method', ['cot', 'coconut'])
def test_two_process_gloo_matches_single_process(workdir, method):
    args = [*TINY, f'--method={method}', '--max_iters=6', '--eval_interval=100', '--eval_examples=0',
            '--gradient_accumulation_steps=2', '--epochs_per_stage=0.02', '--max_latent_stage=2']
    env = {**os.environ, 'OMP_NUM_THREADS': '1'}
    one = subprocess.run([sys.executable, os.path.join(ROOT, 'train.py'), *args, '--out_dir=one'],
                         cwd=workdir, capture_output=True, text=True, timeout=300, env=env)
    assert one.returncode == 0, one.stderr
    two = subprocess.run([sys.executable, '-m', 'torch.distributed.run', '--nproc_per_node=2', '--master_port=29517',
                          os.path.join(ROOT, 'train.py'), *args, '--out_dir=two'],
                         cwd=workdir, capture_output=True, text=True, timeout=300, env=env)
    assert two.returncode == 0, two.stderr[-3000:]
    assert 'over 2 processes' in two.stdout
    l1, l2 = losses(one.stdout), losses(two.stdout)
    assert sorted(l1) == sorted(l2) == list(range(6))
    for i in l1:
        assert abs(l1[i] - l2[i]) < 1e-5, (i, l1[i], l2[i])
