"""CODI: the distilled position, the detached teacher, the loss terms, batched vs per-example."""
import pytest
import torch

import codi
import reasoning as R

CFG = dict(codi_thoughts=3, codi_prj_dim=16, codi_alpha=1.0, codi_beta=1.0, codi_gamma=1.0, device='cpu',
           block_size=64, method='codi')
EXAMPLES = [{'question': '1 2 3', 'steps': ['1', '3'], 'answer': '6'},
            {'question': '4 5', 'steps': ['4'], 'answer': '9'},
            {'question': '7 8 9 0 1', 'steps': ['7', '5', '4', '4'], 'answer': '5'}]


@pytest.mark.parametrize('kind', ['word', 'gpt2'])
def test_distilled_position_is_the_token_before_the_answer(kind):
    tok = R.WordTokenizer(R.words_of(EXAMPLES)) if kind == 'word' else R.BPETokenizer()
    parts = [R.encode_parts(tok, ex) for ex in EXAMPLES]
    xt, yt, pos_t, xs, ys, vs, is_latent, pos_s = codi.codi_batch(tok, parts, CFG)
    for b, ex in enumerate(EXAMPLES):
        for x, y, pos in [(xt, yt, pos_t), (xs, ys, pos_s)]:
            assert tok.decode([x[b, pos[b]].item()]).strip() == R.MARKER
            assert tok.decode([y[b, pos[b]].item()]).strip() == ex["answer"]  # it predicts the answer
        teacher = tok.decode(xt[b, :pos_t[b] + 1].tolist())  # the last step is dropped
        assert teacher == ex['question'] + '\n' + ''.join(s + '\n' for s in ex['steps'][:-1]) + R.MARKER
        assert is_latent[b].sum() == 3


def test_kd_is_the_formula_on_a_hand_checkable_case():
    t0 = torch.tensor([[0.0, 2.0], [1.0, 1.0]])  # layer 0 teacher states of 2 rows, (B, C)
    s0 = torch.tensor([[0.5, 2.0], [1.0, 3.0]])  # differences 0.5 (quadratic part) and 2.0 (linear part)
    t1, s1 = torch.tensor([[1.0, 3.0], [1.0, 3.0]]), torch.tensor([[1.0, 3.0], [1.0, 3.0]])  # equal: 0
    pos = torch.tensor([0, 0])
    kd = codi.codi_distill([s0[:, None], s1[:, None]], [t0[:, None], t1[:, None]], pos, pos)
    smooth = (0.5 * 0.5 ** 2 + 0 + 0 + (2.0 - 0.5)) / 4  # mean of smooth-L1 over the 4 elements
    expected = (smooth / t0.std() + 0.0) / 2  # each layer over its teacher std (unbiased), mean over layers
    torch.testing.assert_close(kd, expected)


def codi_model(tiny_model):
    codi.attach_thought_projection(tiny_model, CFG)
    return tiny_model


def test_teacher_is_detached_in_kd_but_learns_from_its_ce(tiny_model):
    model = codi_model(tiny_model)
    tok = R.WordTokenizer([str(i) for i in range(10)])
    batch = codi.codi_batch(tok, [R.encode_parts(tok, ex) for ex in EXAMPLES], CFG)
    xt, yt, pos_t, xs, ys, vs, is_latent, pos_s = batch
    params = [p for p in model.parameters()]
    _, kd, ce_t = codi.codi_losses(model, *batch)
    g_kd = torch.autograd.grad(kd, params, allow_unused=True)
    with torch.no_grad():  # the teacher's states as constants
        _, _, h_t = model(xt, hidden=True)
    _, h_s, _ = R.thought_forward(model, xs, vs, is_latent, thought=model.thought_proj, hidden=True)
    g_ref = torch.autograd.grad(codi.codi_distill(h_s, h_t, pos_s, pos_t), params, allow_unused=True)
    for a, b in zip(g_kd, g_ref):
        assert (a is None and b is None) or torch.allclose(a, b, atol=1e-6)
    g_ce = torch.autograd.grad(ce_t, model.transformer.h[0].attn.c_attn.weight)[0]
    assert g_ce.abs().sum() > 0  # the teacher still learns, from its own cross-entropy
    loss = codi.codi_loss(model, batch, {**CFG, 'codi_alpha': 0.5, 'codi_beta': 2.0, 'codi_gamma': 3.0})
    ce_s, kd, ce_t = codi.codi_losses(model, *batch)
    torch.testing.assert_close(loss, 0.5 * ce_s + 2.0 * kd + 3.0 * ce_t)


def test_batched_equals_per_example(tiny_model):
    model = codi_model(tiny_model)
    tok = R.WordTokenizer([str(i) for i in range(10)])
    parts = [R.encode_parts(tok, ex) for ex in EXAMPLES]
    def distilled(batch):
        xt, yt, pos_t, xs, ys, vs, is_latent, pos_s = batch
        rows = torch.arange(xs.size(0))
        _, _, h_t = model(xt, hidden=True)
        _, h_s, _ = R.thought_forward(model, xs, vs, is_latent, thought=model.thought_proj, hidden=True)
        return torch.stack([h[rows, pos_s] for h in h_s]), torch.stack([h[rows, pos_t] for h in h_t])
    hs, ht = distilled(codi.codi_batch(tok, parts, CFG))
    for b in range(3):
        hs1, ht1 = distilled(codi.codi_batch(tok, [parts[b]], CFG))
        torch.testing.assert_close(hs[:, b], hs1[:, 0], atol=1e-5, rtol=1e-5)
        torch.testing.assert_close(ht[:, b], ht1[:, 0], atol=1e-5, rtol=1e-5)
    # decoding applies the projection to each thought, batched as alone
    ckpt = {'config': CFG}
    prompts = [R.question_prompt(tok, ckpt, ex['question']) for ex in EXAMPLES]
    assert all(p.count(tok.id(R.LATENT)) == 3 for p in prompts)
    out = R.generate(model, tok, prompts, 8)
    assert out == [R.generate(model, tok, [p], 8)[0] for p in prompts]
    with torch.no_grad():  # and the projection is really used: without it the thoughts differ
        a, _, _ = R.prefill(model, tok, prompts[:1], 4)
        b, _, _ = R.prefill(model, tok, prompts[:1], 4, thought=lambda h: h)
    assert not torch.allclose(a, b)
