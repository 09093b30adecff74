"""The configurator: overrides, types, unknown keys (every bad command line of the scripts is in
test_errors.py's table); a prompt longer than block_size."""
import os
import subprocess
import sys

import pytest

import reasoning as R
from configurator import configure
from conftest import ROOT


def test_overrides_and_types(tmp_path):
    cfg = {'batch_size': 64, 'learning_rate': 1e-3, 'method': 'cot', 'compile': False}
    f = tmp_path / 'c.py'
    f.write_text("batch_size = 8\nmethod = 'nocot'\n")
    configure(cfg, [str(f), '--learning_rate=1', '--compile=True'])
    assert cfg == {'batch_size': 8, 'learning_rate': 1.0, 'method': 'nocot', 'compile': True}
    with pytest.raises(KeyError, match="'batch_sise'"):
        configure(cfg, ['--batch_sise=3'])
    with pytest.raises(TypeError, match="'batch_size' expects int"):
        configure(cfg, ['--batch_size=abc'])
    with pytest.raises(TypeError, match="'compile' expects bool"):
        configure(cfg, ['--compile=1'])


def run(script, *args, cwd):
    return subprocess.run([sys.executable, os.path.join(ROOT, script), *args], cwd=cwd,
                          capture_output=True, text=True, timeout=120)


def test_prompt_longer_than_block_size(tiny_model):
    tok = R.WordTokenizer([str(i) for i in range(10)])
    with pytest.raises(ValueError, match='prompt of 64 tokens leaves no room'):
        R.generate(tiny_model, tok, [[9] * 64], 10)
    out = R.generate(tiny_model, tok, [[9] * 60], 10)[0]  # the budget is capped to fit
    assert len(out) <= 4
