"""Shared test fixtures: a tiny model and a tiny running-sum dataset written into a temp folder.
Everything runs on CPU, offline, in seconds."""
import importlib.util
import os
import random
import sys

import pytest
import torch

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

import reasoning as R  # noqa: E402
from model import GPT, GPTConfig  # noqa: E402


_spec = importlib.util.spec_from_file_location('prepare_running_sum', os.path.join(ROOT, 'data', 'running_sum', 'prepare.py'))
_running_sum = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_running_sum)


def running_sum_example(rng, n=4):
    """One example of the quickstart's task as data/running_sum/prepare.py writes it ('d s' per digit)."""
    return _running_sum.make_example(rng, n)


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
