"""model.py: the KV cache is exact, left padding is exact, HF weights load."""
import json
import os

import pytest
import torch

from model import GPT, GPTConfig


def test_cached_logits_equal_full_forward(tiny_model):
    x = torch.randint(0, 64, (3, 20))
    full, _ = tiny_model(x)
    for max_len in (40, None):  # preallocated and growing caches
        cache = tiny_model.new_cache(3, max_len)
        chunks = [tiny_model(x[:, :7], cache=cache)[0]]
        chunks.append(tiny_model(x[:, 7:12], cache=cache)[0])  # a chunk after a cache needs the explicit mask
        chunks += [tiny_model(x[:, t:t + 1], cache=cache)[0] for t in range(12, 20)]
        torch.testing.assert_close(torch.cat(chunks, 1), full, atol=1e-5, rtol=1e-5)


def test_left_padded_batch_equals_single_rows(tiny_model):
    prompts = [torch.randint(0, 64, (n,)) for n in (9, 4, 6)]
    x = torch.zeros(3, 9, dtype=torch.long)
    valid = torch.zeros(3, 9, dtype=torch.bool)
    for b, p in enumerate(prompts):
        x[b, 9 - len(p):], valid[b, 9 - len(p):] = p, True
    cache = tiny_model.new_cache(3, 12)
    batched, _ = tiny_model(x, valid=valid, cache=cache)
    step, _ = tiny_model(torch.tensor([[1], [2], [3]]), cache=cache)
    for b, p in enumerate(prompts):
        alone, _ = tiny_model(p[None])
        torch.testing.assert_close(batched[b, 9 - len(p):], alone[0], atol=1e-5, rtol=1e-5)
        alone_next, _ = tiny_model(torch.cat([p, torch.tensor([b + 1])])[None])
        torch.testing.assert_close(step[b, -1], alone_next[0, -1], atol=1e-5, rtol=1e-5)


def test_cache_crop_select_repeat(tiny_model):
    x = torch.randint(0, 64, (2, 10))
    cache = tiny_model.new_cache(2, 16)
    tiny_model(x[:, :8], cache=cache)
    cache.crop(5)  # roll back: positions 5.. are rewritten as if never seen
    a, _ = tiny_model(x[:, 5:6], cache=cache)
    ref, _ = tiny_model(x[:, :6])
    torch.testing.assert_close(a[:, -1], ref[:, -1], atol=1e-5, rtol=1e-5)
    cache.select(torch.tensor([1, 1, 0]))  # reorder and duplicate rows
    b, _ = tiny_model(x[[1, 1, 0], 6:7], cache=cache)
    ref, _ = tiny_model(x[[1, 1, 0], :7])
    torch.testing.assert_close(b[:, -1], ref[:, -1], atol=1e-5, rtol=1e-5)
    cache.repeat(2)  # rows 1,1,0 -> 1,1,1,1,0,0
    c, _ = tiny_model(x[[1, 1, 1, 1, 0, 0], 7:8], cache=cache)
    ref, _ = tiny_model(x[[1, 1, 1, 1, 0, 0], :8])
    torch.testing.assert_close(c[:, -1], ref[:, -1], atol=1e-5, rtol=1e-5)


def test_cache_shift_crops_rows_and_restores_a_copy(tiny_model):
    """Power sampling's per-row crop: each row keeps its own prefix, aligned to the last column, and
    the next step equals a full forward over that prefix; a copy taken before restores a row."""
    x = torch.randint(0, 64, (3, 10))
    cache, back = tiny_model.new_cache(3, 16), tiny_model.new_cache(3, 16)
    tiny_model(x, cache=cache)
    back.copy_rows(torch.arange(3), cache)
    seqs = [x[0, :8], x[1, :4], x[2, :7]]
    cache.shift(torch.arange(3), torch.tensor([2, 6, 3]))  # rows forget their last 2, 6, 3 positions
    def step(tokens):
        out, _ = tiny_model(torch.tensor(tokens)[:, None], cache=cache)
        for b in range(3):
            seqs[b] = torch.cat([seqs[b], torch.tensor(tokens[b:b + 1])])
            ref, _ = tiny_model(seqs[b][None])
            torch.testing.assert_close(out[b, -1], ref[0, -1], atol=1e-5, rtol=1e-5)
    step([5, 6, 7])
    cache.shift(torch.tensor([1]), torch.tensor([cache.length - 10]), src=back)  # row 1 back to x[1]
    seqs[1] = x[1]
    cache.drop_front(1)  # every row has padding in front
    step([8, 9, 10])


def test_growing_cache_passes_gradients(tiny_model):
    """Coconut/CODI feed a position's hidden state back as the next input through the cache: the
    gradient of a loss at the end must equal the one of the same computation without a cache."""
    x = torch.randint(0, 64, (2, 6))
    def run(use_cache):
        tiny_model.zero_grad()
        cache = tiny_model.new_cache(2) if use_cache else None
        _, _, h = tiny_model(x, cache=cache, hidden=True)
        thought = h[-1][:, -1:]  # (B, 1, C) last hidden state after ln_f
        if use_cache:
            logits, _ = tiny_model(embeds=thought, cache=cache)
        else:
            emb = torch.cat([tiny_model.transformer.wte(x), thought], 1)
            logits, _ = tiny_model(embeds=emb)
        logits[:, -1].logsumexp(-1).sum().backward()
        return tiny_model.transformer.h[0].attn.c_attn.weight.grad.clone()
    torch.testing.assert_close(run(True), run(False), atol=1e-5, rtol=1e-4)


def test_explicit_attention_mask(tiny_model):
    """attn_mask replaces the causal/padding mask: the causal one reproduces the default; a block-diagonal
    one computes two independent sequences (with pos restarting at 0); with a cache it spans cached keys."""
    x = torch.randint(0, 64, (2, 10))
    causal = torch.ones(10, 10, dtype=torch.bool).tril().expand(2, 10, 10)
    torch.testing.assert_close(tiny_model(x, attn_mask=causal)[0], tiny_model(x)[0])
    blocks = causal.clone()
    blocks[:, 4:, :4] = False  # positions 4.. never see 0..3
    pos = torch.tensor([0, 1, 2, 3, 0, 1, 2, 3, 4, 5]).expand(2, 10)
    both, _ = tiny_model(x, pos=pos, attn_mask=blocks)
    torch.testing.assert_close(both[:, :4], tiny_model(x[:, :4])[0], atol=1e-5, rtol=1e-5)
    torch.testing.assert_close(both[:, 4:], tiny_model(x[:, 4:])[0], atol=1e-5, rtol=1e-5)
    cache = tiny_model.new_cache(2, 16)
    tiny_model(x[:, :4], cache=cache)
    rest, _ = tiny_model(x[:, 4:], pos=pos[:, 4:] + 4, cache=cache, attn_mask=causal[:, 4:])  # (B, 6, 10)
    torch.testing.assert_close(rest, tiny_model(x)[0][:, 4:], atol=1e-5, rtol=1e-5)


def test_hidden_states_follow_hf_convention(tiny_model):
    x = torch.randint(0, 64, (1, 5))
    logits, _, hiddens = tiny_model(x, hidden=True)
    assert len(hiddens) == tiny_model.config.n_layer + 1
    torch.testing.assert_close(hiddens[0], tiny_model.transformer.wte(x) + tiny_model.transformer.wpe(torch.arange(5)))
    torch.testing.assert_close(logits, tiny_model.lm_head(hiddens[-1]))  # last state is after ln_f


def test_gpt2_details(tiny_model):
    assert tiny_model.transformer.wte.weight is tiny_model.lm_head.weight
    assert tiny_model.transformer.h[0].mlp.gelu.approximate == 'tanh'
    long = torch.zeros(1, 65, dtype=torch.long)
    try:
        tiny_model(long)
        raise AssertionError('a sequence longer than block_size must fail')
    except AssertionError as e:
        assert 'block_size' in str(e)


def hf_state_dict(model, n_vocab):
    """Our weights in HF GPT-2's layout: Conv1D weights transposed, vocab unpadded, no lm_head."""
    sd = {}
    for k, v in model.state_dict().items():
        if k == 'lm_head.weight':
            continue
        if k.endswith(('c_attn.weight', 'c_proj.weight', 'c_fc.weight')):
            v = v.t()
        if k == 'transformer.wte.weight':
            v = v[:n_vocab]
        sd[k.removeprefix('transformer.') if 'h.0' in k else k] = v.contiguous()  # both key styles occur
    return sd


def test_from_pretrained_local_dir(tmp_path):
    """HF-layout files load into the same function as the model that wrote them. Every weight is
    random (GPT-2's init zeroes the biases, which hid a loader that skipped c_attn.bias)."""
    from safetensors.torch import save_file
    torch.manual_seed(0)
    src = GPT(GPTConfig(block_size=32, vocab_size=50, n_layer=2, n_head=2, n_embd=32)).eval()
    with torch.no_grad():
        for p in src.parameters():
            p.normal_(0, 0.1)
    hf_config = {'n_positions': 32, 'vocab_size': 50, 'n_layer': 2, 'n_head': 2, 'n_embd': 32}
    x = torch.randint(0, 50, (2, 10))
    ref, _ = src(x)
    for fmt in ('safetensors', 'safetensors-f16', 'bin'):
        d = tmp_path / fmt
        os.makedirs(d)
        (d / 'config.json').write_text(json.dumps(hf_config))
        sd = hf_state_dict(src, 50)
        sd['h.0.attn.bias'] = torch.ones(1)  # old HF checkpoints carry mask buffers: ignored
        if fmt == 'bin':
            torch.save(sd, d / 'pytorch_model.bin')
        else:
            save_file({k: v.half() if fmt.endswith('f16') else v for k, v in sd.items()}, d / 'model.safetensors')
        model = GPT.from_pretrained(str(d), vocab_size=64).eval()
        assert model.config.vocab_size == 64
        logits, _ = model(x)
        tol = 2e-2 if fmt.endswith('f16') else 1e-5  # float16 files are read into float32 parameters
        torch.testing.assert_close(logits[..., :50], ref, atol=tol, rtol=tol)
    del sd['transformer.h.1.mlp.c_fc.bias']
    torch.save(sd, tmp_path / 'bin' / 'pytorch_model.bin')
    with pytest.raises(AssertionError, match='lack transformer.h.1.mlp.c_fc.bias'):
        GPT.from_pretrained(str(tmp_path / 'bin'), vocab_size=64)


def test_from_pretrained_hub_name_offline(tmp_path, monkeypatch):
    """A hub name goes through huggingface_hub: with HF_HUB_OFFLINE=1 it reads the HF cache (here a
    snapshot laid out by hand in a temporary HF_HOME) and never the network; not cached, a clear error."""
    pytest.importorskip('huggingface_hub')
    from safetensors.torch import save_file
    torch.manual_seed(0)
    src = GPT(GPTConfig(block_size=32, vocab_size=50, n_layer=2, n_head=2, n_embd=32)).eval()
    snap = tmp_path / 'hub' / 'models--openai-community--gpt2' / 'snapshots' / ('0' * 40)
    os.makedirs(snap)
    (snap / 'config.json').write_text(json.dumps({'n_positions': 32, 'vocab_size': 50, 'n_layer': 2, 'n_head': 2, 'n_embd': 32}))
    save_file(hf_state_dict(src, 50), snap / 'model.safetensors')
    os.makedirs(snap.parent.parent / 'refs')
    (snap.parent.parent / 'refs' / 'main').write_text('0' * 40)
    monkeypatch.setenv('HF_HOME', str(tmp_path))
    monkeypatch.setenv('HF_HUB_OFFLINE', '1')
    import huggingface_hub.constants as C  # it reads the environment once, at import: set what it read
    monkeypatch.setattr(C, 'HF_HUB_OFFLINE', True)
    monkeypatch.setattr(C, 'HF_HUB_CACHE', str(tmp_path / 'hub'))
    model = GPT.from_pretrained('gpt2', vocab_size=64).eval()
    x = torch.randint(0, 50, (2, 10))
    torch.testing.assert_close(model(x)[0][..., :50], src(x)[0], atol=1e-5, rtol=1e-5)
    with pytest.raises(RuntimeError, match='openai-community/gpt2-medium.*HF_HUB_OFFLINE'):
        GPT.from_pretrained('gpt2-medium', vocab_size=64)
    with pytest.raises(ValueError, match="'gpt3' is neither a directory nor a GPT-2 hub name"):
        GPT.from_pretrained('gpt3')


def test_from_pretrained_matches_transformers(tmp_path):
    """When HF transformers is installed (it is not a requirement), our logits match GPT2LMHeadModel."""
    import pytest
    transformers = pytest.importorskip('transformers')
    torch.manual_seed(0)
    cfg = transformers.GPT2Config(n_positions=32, n_embd=32, n_layer=2, n_head=2, vocab_size=50,
                                  resid_pdrop=0, embd_pdrop=0, attn_pdrop=0)
    hf = transformers.GPT2LMHeadModel(cfg).eval()
    with torch.no_grad():
        for p in hf.parameters():  # random biases too: HF's init zeroes them, which hides a bias left unloaded
            p.normal_(0, 0.1)
    hf.save_pretrained(tmp_path)
    ours = GPT.from_pretrained(str(tmp_path), vocab_size=64).eval()
    x = torch.randint(0, 50, (2, 12))
    with torch.no_grad():
        torch.testing.assert_close(ours(x)[0][..., :50], hf(x).logits, atol=1e-5, rtol=1e-5)


def test_decode_bytes_and_utilisation_off_gpu(tiny_model):
    cfg = tiny_model.config
    weights = sum(p.numel() for p in tiny_model.parameters()) - cfg.block_size * cfg.n_embd  # all but wpe
    kv = 2 * cfg.n_layer * 3 * 10 * cfg.n_embd  # keys and values, 3 rows of 10 cached positions, every layer
    assert tiny_model.decode_bytes(3, 10, 2) == 2 * (weights + kv)
    # no peak to compare with on CPU: both utilisations are None rather than a made-up number
    assert tiny_model.estimate_mbu(100.0, 1, 10, 4, 'cpu') is None and tiny_model.estimate_mfu(1e3, 10, 'cpu') is None
