"""torch.compile of the decode step: same tokens as eager, one graph for a whole decode."""
import shutil

import pytest
import torch

import power_sampling
import reasoning as R

TOK = R.WordTokenizer([str(i) for i in range(10)])


class NoStop:  # a tokenizer whose <eos> never comes, so all 50 steps run
    eos_id, n_vocab = -1, TOK.n_vocab

    def id(self, token):
        return TOK.id(token)


def test_compiled_decode_equals_eager_without_recompiling(tiny_model):
    dynamo = pytest.importorskip('torch._dynamo')
    if not (shutil.which('g++') or shutil.which('c++')):
        pytest.skip('torch.compile on CPU (Inductor) needs a C++ compiler')
    prompts = [[7, 8, 9, 10], [11, 12]]  # left padding in the batch
    eager = R.generate(tiny_model, NoStop(), prompts, 50)
    power = lambda: power_sampling.power_generate(tiny_model, TOK, prompts, 12, 4.0, 4, 2, seeds=torch.arange(2))[0]
    power_eager = power()
    dynamo.reset()
    dynamo.utils.counters.clear()
    tiny_model.compile_decode()
    try:
        compiled = R.generate(tiny_model, NoStop(), prompts, 50)
        graphs = dynamo.utils.counters['stats']['unique_graphs']
        power_compiled = power()  # power sampling steps through the same compiled decode step
    finally:
        del tiny_model.decode_core  # back to the eager method
    assert compiled == eager
    assert graphs == 1, f"{graphs} graphs compiled for one 50-token decode: the step recompiles"
    assert power_compiled == power_eager
