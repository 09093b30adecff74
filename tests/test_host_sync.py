"""A decode step copies nothing between host and device and never waits for the device, so on CUDA
the CPU can launch step after step while the GPU works: only the stop check syncs, every
reasoning.stop_every steps. On any device: no op of sampling plus decode_step creates a tensor from
host data or reads one back (seen by a dispatch mode), and generate() reads back only for the stop
check. On CUDA (skipped elsewhere): the step is captured as a CUDA graph, which fails on any hidden copy
or sync, and the profiler counts the syncs and copies of a whole generate()."""
import pytest
import torch
from torch.utils._python_dispatch import TorchDispatchMode

import reasoning as R
from model import GPT, GPTConfig

cuda_only = pytest.mark.skipif(not torch.cuda.is_available(), reason='needs a CUDA GPU')
# ops that read a tensor back to the host (a sync on CUDA), make one from host data (a host-to-device
# copy), or index with a boolean mask (a sync: the result's size depends on the data)
HOST_OPS = ('_local_scalar_dense', 'lift_fresh', 'nonzero', '_to_copy', 'index.Tensor', 'index_put')
TOK = R.WordTokenizer([str(i) for i in range(10)])
PROMPTS = [[7, 8, 9, 10], [11, 12]]  # left padding: the masked attention path


class NoStop:  # a tokenizer whose <eos> never comes, so every step runs
    eos_id, n_vocab = -1, TOK.n_vocab

    def id(self, token):
        return TOK.id(token)


class Ops(TorchDispatchMode):
    """Records the name of every aten op run inside it."""

    def __init__(self):
        super().__init__()
        self.names = []

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        self.names.append(str(func))
        return func(*args, **(kwargs or {}))


def model_on(device):
    torch.manual_seed(0)
    return GPT(GPTConfig(block_size=64, vocab_size=64, n_layer=2, n_head=2, n_embd=32)).to(device).eval()


@pytest.fixture
def cuda_model():
    return model_on('cuda')


@pytest.mark.parametrize('knobs', [{}, {'temperature': 0.8, 'top_k': 5, 'top_p': 0.9}])
@torch.no_grad()
def test_sample_and_decode_step_touch_no_host_data(knobs):
    model = model_on('cuda' if torch.cuda.is_available() else 'cpu')
    logits, cache, _ = R.prefill(model, TOK, PROMPTS, 32)
    banned = R.banned_mask(TOK, 64, logits.device)
    with Ops() as ops:
        for _ in range(3):
            logits = model.decode_step(cache, R.sample_next(logits, banned=banned, **knobs)[:, None])
    bad = [n for n in ops.names if any(h in n for h in HOST_OPS)]
    assert not bad, f"host copies or syncs in a decode step: {bad}"


@torch.no_grad()
def test_generate_reads_back_only_for_the_stop_check(monkeypatch):
    """48 steps with a stop check every 8 (as on CUDA): 6 reads, not 48."""
    model, steps = model_on('cpu'), 48
    monkeypatch.setattr(R, 'stop_every', lambda device: 8)
    logits, cache, _ = R.prefill(model, TOK, PROMPTS, steps)
    with Ops() as ops:
        out = R.continue_generation(model, NoStop(), logits, cache, max_new_tokens=steps)
    assert [len(r) for r in out] == [steps, steps]
    assert sum('_local_scalar_dense' in n for n in ops.names) == steps // 8 - 1  # the last step breaks unasked


@cuda_only
@pytest.mark.parametrize('knobs', [{}, {'temperature': 0.8, 'top_k': 5, 'top_p': 0.9}])
@torch.no_grad()
def test_sample_and_decode_step_capture_in_a_cuda_graph(cuda_model, knobs):
    logits, cache, _ = R.prefill(cuda_model, TOK, PROMPTS, 32)
    banned = R.banned_mask(TOK, 64, 'cuda')

    def step(logits):
        nxt = R.sample_next(logits, banned=banned, **knobs)  # (B,)
        return cuda_model.decode_step(cache, nxt[:, None])  # (B, V)
    side = torch.cuda.Stream()
    side.wait_stream(torch.cuda.current_stream())
    with torch.cuda.stream(side):  # warm up outside the capture (cuBLAS handles, lazy initialisation)
        for _ in range(3):
            logits = step(logits)
    torch.cuda.current_stream().wait_stream(side)
    graph = torch.cuda.CUDAGraph()
    with torch.cuda.graph(graph):  # raises if the step copies to/from the host or synchronizes
        out = step(logits)
    graph.replay()
    torch.cuda.synchronize()
    assert out.shape == (2, 64) and bool(torch.isfinite(out).all())


@cuda_only
@torch.no_grad()
def test_generate_syncs_only_for_the_stop_check(cuda_model):
    from torch.profiler import ProfilerActivity, profile
    steps, every = 48, R.stop_every('cuda')
    R.generate(cuda_model, NoStop(), PROMPTS, steps)  # warm up
    with profile(activities=[ProfilerActivity.CPU, ProfilerActivity.CUDA]) as prof:
        out = R.generate(cuda_model, NoStop(), PROMPTS, steps)
    assert [len(r) for r in out] == [steps, steps]
    calls = {e.key: e.count for e in prof.key_averages()}
    syncs = sum(n for k, n in calls.items() if 'Synchronize' in k)
    copies = sum(n for k, n in calls.items() if k.startswith('cudaMemcpy'))
    # prefill and the final .tolist() take a few; one per decoded token would be >= 48
    assert syncs <= steps // every + 8, (syncs, calls)
    assert copies <= steps // every + 12, (copies, calls)
