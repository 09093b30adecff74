"""Shared test fixtures: a tiny model and a tiny running-sum dataset written into a temp folder.
Everything runs on CPU, offline, in seconds."""
import os
import random
import sys

import pytest
import torch

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

import reasoning as R  # noqa: E402
from model import GPT, GPTConfig  # noqa: E402


def running_sum_example(rng, n=4):
    digits = [rng.randrange(10) for _ in range(n)]
    sums = [sum(digits[:i + 1]) % 10 for i in range(n)]
    return {'question': ' '.join(map(str, digits)), 'steps': [str(s) for s in sums[:-1]], 'answer': str(sums[-1])}


@pytest.fixture
def workdir(tmp_path):
    """A folder holding data/tiny/{train,valid,test}.json + meta.json; scripts run with it as cwd."""
    rng = random.Random(0)
    splits = {name: [running_sum_example(rng) for _ in range(size)]
              for name, size in [('train', 2000), ('valid', 64), ('test', 64)]}
    R.save_splits(os.path.join(tmp_path, 'data', 'tiny'), splits, 'word')
    return tmp_path


@pytest.fixture
def tiny_model():
    torch.manual_seed(0)
    return GPT(GPTConfig(block_size=64, vocab_size=64, n_layer=2, n_head=2, n_embd=32)).eval()
