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


# -----------------------------------------------------------------------------
# ablations: each flag changes exactly what it names

def test_beta_zero_removes_the_kd_term(tiny_model):
    model = codi_model(tiny_model)
    tok = R.WordTokenizer([str(i) for i in range(10)])
    batch = codi.codi_batch(tok, [R.encode_parts(tok, ex) for ex in EXAMPLES], CFG)
    ce_s, kd, ce_t = codi.codi_losses(model, *batch)
    assert kd.item() > 0
    loss = codi.codi_loss(model, batch, {**CFG, 'codi_beta': 0.0})
    torch.testing.assert_close(loss, ce_s + ce_t)  # alpha = gamma = 1, no KD
    assert codi.codi_losses(model, *batch, kd=False)[1] is None  # not even computed
    # the gradient is exactly that of the two CE terms
    params = [p for p in model.parameters()]
    g0 = torch.autograd.grad(loss, params, allow_unused=True)
    ce_s, _, ce_t = codi.codi_losses(model, *batch)
    g1 = torch.autograd.grad(ce_s + ce_t, params, allow_unused=True)
    for a, b in zip(g0, g1):
        assert (a is None and b is None) or torch.allclose(a, b, atol=1e-6)


def test_frozen_teacher_gets_no_gradient_and_is_not_trained(tiny_model):
    model = codi_model(tiny_model)
    tok = R.WordTokenizer([str(i) for i in range(10)])
    batch = codi.codi_batch(tok, [R.encode_parts(tok, ex) for ex in EXAMPLES], CFG)
    teacher = codi.attach_frozen_teacher(model)
    assert model.codi_teacher is teacher
    frozen = {id(p) for p in teacher.parameters()}
    assert not frozen & {id(p) for p in model.parameters()}  # a copy, not a submodule
    assert not any(k.startswith('codi_teacher') for k in model.state_dict())  # not in the checkpoint
    opt = model.configure_optimizers(0.1, 1e-3, (0.9, 0.95), 'cpu')
    assert not frozen & {id(p) for g in opt.param_groups for p in g['params']}  # not in the optimizer
    before = [p.clone() for p in teacher.parameters()]
    codi.codi_loss(model, batch, CFG).backward()
    assert all(p.grad is None for p in teacher.parameters())
    assert model.transformer.h[0].attn.c_attn.weight.grad is not None
    opt.step()
    assert all(torch.equal(a, b) for a, b in zip(before, teacher.parameters()))
    # the distilled states are the frozen copy's: after the step the trained weights differ, and KD
    # equals the distillation towards the copy's states, not towards the trained weights'
    xt, yt, pos_t, xs, ys, vs, is_latent, pos_s = batch
    _, kd, _ = codi.codi_losses(model, *batch)
    with torch.no_grad():
        _, _, h_frozen = teacher(xt, hidden=True)
        _, _, h_shared = model(xt, hidden=True)
        _, h_s, _ = R.thought_forward(model, xs, vs, is_latent, thought=model.thought_proj, hidden=True)
    torch.testing.assert_close(kd, codi.codi_distill(h_s, h_frozen, pos_s, pos_t))
    assert not torch.allclose(kd, codi.codi_distill(h_s, h_shared, pos_s, pos_t))


def test_keep_last_step_teacher_layout_contains_the_last_step():
    tok = R.WordTokenizer(R.words_of(EXAMPLES))
    parts = [R.encode_parts(tok, ex) for ex in EXAMPLES]
    drop = codi.codi_batch(tok, parts, CFG)
    keep = codi.codi_batch(tok, parts, {**CFG, 'codi_drop_last_step': False})
    for b, ex in enumerate(EXAMPLES):
        teacher = tok.decode(keep[0][b, :keep[2][b] + 1].tolist())
        assert teacher == ex['question'] + '\n' + ''.join(s + '\n' for s in ex['steps']) + R.MARKER
        assert tok.decode([keep[1][b, keep[2][b]].item()]).strip() == ex['answer']
    for i in range(3, 8):  # the student side is untouched
        assert torch.equal(drop[i], keep[i])


def test_no_projection_feeds_h_unchanged(tiny_model):
    tok = R.WordTokenizer([str(i) for i in range(10)])
    codi.attach_thought_projection(tiny_model, {**CFG, 'codi_projection': False})
    assert not hasattr(tiny_model, 'thought_proj')  # nothing to train, nothing in the checkpoint
    codi.attach_thought_projection(tiny_model, CFG)  # a CODI checkpoint's projection is dropped too
    codi.attach_thought_projection(tiny_model, {**CFG, 'codi_projection': False})
    assert not hasattr(tiny_model, 'thought_proj')
    batch = codi.codi_batch(tok, [R.encode_parts(tok, ex) for ex in EXAMPLES], CFG)
    xt, yt, pos_t, xs, ys, vs, is_latent, pos_s = batch
    seen = []  # the embeds of every model call: the teacher's (None), pass 0, then one per thought column
    hook = tiny_model.register_forward_pre_hook(lambda m, args, kw: seen.append(kw.get('embeds')), with_kwargs=True)
    ce_s, _, _ = codi.codi_losses(tiny_model, *batch)
    hook.remove()
    with torch.no_grad():
        _, h, _ = R.thought_forward(tiny_model, xs, vs, is_latent, hidden=True)
    cols = is_latent.any(0).nonzero().flatten().tolist()
    assert seen[0] is None and len(seen) == 2 + len(cols)
    for j, col in enumerate(cols):  # the thought's input is the last hidden state before it, as it is
        rows = is_latent[:, col]
        torch.testing.assert_close(seen[2 + j][rows, 0], h[-1][rows, col - 1], atol=1e-5, rtol=1e-5)
    ref, _, _ = R.thought_forward(tiny_model, xs, vs, is_latent, thought=lambda h: h)
    torch.testing.assert_close(ce_s, torch.nn.functional.cross_entropy(ref.flatten(0, 1), ys.flatten(), ignore_index=-1))


def test_answer_token_accuracy_scores_each_answer_token_per_layout(tiny_model):
    """answer_token_accuracy: per layout, one entry per token of '### A <eos>', the share of the examples
    whose argmax there is that token, checked one example at a time with plain forwards (the teacher)
    and the thought forward (the student)."""
    model = codi_model(tiny_model)
    tok = R.WordTokenizer([str(i) for i in range(10)])
    exs = [{'question': f'{a} {b}', 'steps': [f'{a}', f'{(a + b) % 10}'], 'answer': f'{(a + b) % 10}'}
           for a in range(3) for b in range(3)]
    acc = codi.answer_token_accuracy(model, tok, CFG, exs)
    assert set(acc) == {'teacher', 'student'} and all(v.shape == (3,) for v in acc.values())  # ### A <eos>
    want = {'teacher': torch.zeros(3), 'student': torch.zeros(3)}
    with torch.no_grad():
        for ex in exs:
            xt, yt, _, xs, ys, vs, is_latent, _ = codi.codi_batch(tok, [R.encode_parts(tok, ex)], CFG)
            logits_t, _ = model(xt)
            logits_s, _, _ = R.thought_forward(model, xs, vs, is_latent, thought=model.thought_proj)
            for name, logits, y in (('teacher', logits_t, yt), ('student', logits_s, ys)):
                keep = y[0] >= 0
                want[name] += (logits[0].argmax(-1)[keep] == y[0][keep])[-3:].float()
    for name in want:
        torch.testing.assert_close(acc[name], want[name] / len(exs))
