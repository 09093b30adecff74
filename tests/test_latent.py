"""Latent-SFT: both attention masks entry by entry, the latents (alpha, z), the stage-2 loss, the two
stages agreeing with each other, the soft labels file, and batched latent decoding."""
import pytest
import torch

import latent_sft
import reasoning as R
import sample as S

TOK = R.WordTokenizer([str(i) for i in range(10)])
CFG = dict(method='latent', latent_stage=1, latent_r=2, latent_topk=4, latent_temperature=1.0, latent_kl_weight=1.0, latent_ce_weight=1.0,
           latent_budget=6, device='cpu', block_size=64, batch_size=4, dataset='tiny', out_dir='.')
# running sum of 1 2 3 4: the CoT '1 \n 3 \n 6 \n' cut into r = 2 segments S1 = '1 \n', S2 = '3 \n', S3 = '6 \n'
EXAMPLE = {'question': '1 2 3 4', 'steps': ['1', '3', '6'], 'answer': '0'}
PARTS = R.encode_parts(TOK, EXAMPLE)

# '#': the query (row) attends to the key (column)
INDUCTION = """
1  #
2  ##
3  ###
4  ####
\\n #####
1  ######
\\n #######
L1 ########
3  #######.#
\\n #######.##
L2 #######.###
6  #######.##.#
\\n #######.##.##
L3 #######.##.###"""
SUPERVISION = """
1     #
2     ##
3     ###
4     ####
\\n    #####
<bot> ######
z1    #######
3     ......##
\\n    ......###
z2    #######..#
6     ......#..##
\\n    ......#..###
z3    #######..#..#
<eot> #######..#..##
###   #######..#..###
0     #######..#..####"""


def parse(picture):
    """A picture above -> (names, (T, T) bool)."""
    rows = [line.split() for line in picture.strip('\n').splitlines()]
    T_ = len(rows)
    return [n for n, _ in rows], torch.tensor([[c == '#' for c in cells.ljust(T_, '.')] for _, cells in rows])


def picture(mask, names):
    return '\n'.join(f"{n:6s}" + ''.join('#' if v else '.' for v in row) for n, row in zip(names, mask.tolist()))


def assert_mask(got, want_picture):
    names, want = parse(want_picture)
    assert torch.equal(got, want), f"\ngot:\n{picture(got, names)}\nwant:\n{picture(want, names)}"


def names_of(ids, slot_name):
    out, n = [], 0
    for i in ids:
        n += i == TOK.id(R.LATENT)
        out.append(f"{slot_name}{n}" if i == TOK.id(R.LATENT) else TOK.itos[i].replace('\n', '\\n'))
    return out


def test_masks_and_positions_entry_by_entry():
    xe, pe, me, se, xd, yd, pd, md, sd, banned = latent_sft.latent_stage1_batch(TOK, [PARTS], CFG, 64)
    assert ' '.join(names_of(xe[0].tolist(), 'L')) == '1 2 3 4 \\n 1 \\n L1 3 \\n L2 6 \\n L3'
    assert_mask(me[0], INDUCTION)
    # CoT tokens keep their CoT positions; a slot shares the position of its segment's last token
    assert pe[0].tolist() == [0, 1, 2, 3, 4, 5, 6, 6, 7, 8, 8, 9, 10, 10]
    assert ' '.join(names_of(xd[0].tolist(), 'z')) == '1 2 3 4 \\n <bot> z1 3 \\n z2 6 \\n z3 <eot> ### 0'
    assert_mask(md[0], SUPERVISION)
    # positions of stage 2's Q <bot> z1 z2 z3 <eot> ### 0; segment S(i+1) branches off z_i
    assert pd[0].tolist() == [0, 1, 2, 3, 4, 5, 6, 7, 8, 7, 8, 9, 8, 9, 10, 11]
    labels = [TOK.itos[t] if t >= 0 else '-' for t in yd[0].tolist()]
    assert labels == ['-'] * 6 + ['3', '\n', '-', '6', '\n', '-', R.EOT, R.MARKER, '0', R.EOS]
    assert sd[0].sum() == 3 and not bool(torch.isin(torch.tensor([TOK.id(str(d)) for d in range(10)]), banned).any())


def test_masks_of_a_padded_batch_match_each_row_alone():
    short = R.encode_parts(TOK, {'question': '5', 'steps': [], 'answer': '5'})  # no CoT, no latent
    odd = R.encode_parts(TOK, {'question': '7 7', 'steps': ['7', '4'], 'answer': '4'})
    cfg = {**CFG, 'latent_r': 3}  # '7 \n 4' + '\n': a shorter last segment
    batch = latent_sft.latent_stage1_batch(TOK, [PARTS, short, odd], cfg, 64)
    for b, p in enumerate([PARTS, short, odd]):
        alone = latent_sft.latent_stage1_batch(TOK, [p], cfg, 64)
        for i in (0, 1, 4, 5, 6):  # ids, positions, labels: the row alone, then padding
            n = alone[i].size(1)
            assert torch.equal(batch[i][b, :n], alone[i][0])
        for i in (2, 7):
            n = alone[i].size(1)
            assert torch.equal(batch[i][b, :n, :n], alone[i][0])
    seven, nl, four = TOK.id('7'), TOK.id('\n'), TOK.id('4')
    assert [latent_sft.latent_segments(p[1], 3) for p in (short, odd)] == [[], [[seven, nl, four], [nl]]]


def test_first_segment_moves_every_cut():
    odd = R.encode_parts(TOK, {'question': '7 7', 'steps': ['7', '4', '7'], 'answer': '4'})  # CoT '7 \n 4 \n 7 \n'
    seven, nl, four = TOK.id('7'), TOK.id('\n'), TOK.id('4')
    assert latent_sft.latent_segments(odd[1], 3, first=1) == [[seven], [nl, four, nl], [seven, nl]]
    assert latent_sft.latent_segments(odd[1], 2, first=2) == latent_sft.latent_segments(odd[1], 2)  # first = r: the even cut
    assert latent_sft.latent_segments(odd[1], 3, first=9) == [[seven, nl, four, nl, seven, nl]]  # longer than the CoT
    assert latent_sft.latent_segments([], 3, first=1) == []
    cfg = {**CFG, 'latent_r': 3, 'latent_first_segment': 1}
    xe, pe, _, se = latent_sft.latent_encoder_batch(TOK, [odd], cfg)
    slot = TOK.id(R.LATENT)
    assert xe[0].tolist() == odd[0] + [seven, slot, nl, four, nl, slot, seven, nl, slot]  # a latent after each segment


def test_alpha_and_z():
    torch.manual_seed(0)
    logits = torch.randn(5, 64)
    banned = [0, 1, 2, 40]
    logits[:, 40] = 100.0  # the largest logit, but banned
    ids, alpha = latent_sft.latent_topk(logits, 10, banned)
    assert ids.shape == alpha.shape == (5, 10)
    torch.testing.assert_close(alpha.sum(-1), torch.ones(5))
    assert not bool(torch.isin(ids, torch.tensor(banned)).any())
    kept = logits.index_fill(-1, torch.tensor(banned), -float('inf')).topk(10).indices
    assert torch.equal(ids, kept)
    torch.testing.assert_close(alpha, logits.gather(-1, ids).softmax(-1))  # softmax over the kept logits only
    E = torch.randn(64, 8)
    z = latent_sft.soft_embedding(E, ids, alpha)
    for m in range(5):
        dense = torch.zeros(64).index_add(0, ids[m], alpha[m])  # alpha as a (V,) vector, zero off the kept ids
        torch.testing.assert_close(z[m], dense @ E, rtol=1e-6, atol=1e-6)
        torch.testing.assert_close(z[m], alpha[m] @ E[ids[m]], rtol=1e-6, atol=1e-7)


def own_labels(model, prompt, n):
    """Latents made the way the model would make them itself, with k = V (alpha = its full softmax)."""
    E = model.embed
    embs, ids, alphas = list(E[prompt]), torch.arange(E.size(0)), []
    for _ in range(n):
        logits, _ = model(embeds=torch.stack(embs)[None])
        alphas.append(logits[0, -1].softmax(-1))
        embs.append(alphas[-1] @ E)
    return ids.repeat(n, 1), torch.stack(alphas)


def test_kl_is_zero_when_the_model_reproduces_its_labels(tiny_model):
    with torch.no_grad():
        prompt, _ = R.layout(TOK, PARTS, 'latent', n_steps=0, bot=True)
        labels = own_labels(tiny_model, prompt, 3)
        batch = latent_sft.latent_stage2_batch(TOK, [PARTS + (labels,)], CFG)
        kl, ce = latent_sft.latent_stage2_losses(tiny_model, *batch)
        assert abs(kl.item()) < 1e-5 and ce.item() > 0
        other = (labels[0], labels[1].roll(1, dims=-1))  # the same ids, other weights
        kl, _ = latent_sft.latent_stage2_losses(tiny_model, *latent_sft.latent_stage2_batch(TOK, [PARTS + (other,)], CFG))
        assert kl.item() > 0.01
    logits = torch.randn(4, 64)  # and directly: labels on k ids, a model with the same mass there
    ids, alpha = latent_sft.latent_topk(logits, 3)
    model_logits = torch.full((4, 64), -1e4).scatter(-1, ids, alpha.log())
    assert abs(latent_sft.latent_kl(model_logits, ids, alpha).item()) < 1e-6


def test_stage2_loss_is_the_formula(tiny_model):
    torch.manual_seed(1)
    examples = [EXAMPLE, {'question': '9 9', 'steps': ['9'], 'answer': '8'}]
    parts, labels = [R.encode_parts(TOK, ex) for ex in examples], []
    for n in (3, 1):  # random top-4 labels
        ids = torch.stack([torch.randperm(19)[:4] for _ in range(n)])
        labels.append((ids, torch.randn(n, 4).softmax(-1)))
    batch = latent_sft.latent_stage2_batch(TOK, [p + (lab,) for p, lab in zip(parts, labels)], CFG)
    loss = latent_sft.latent_loss(tiny_model, batch, {**CFG, 'latent_stage': 2, 'latent_kl_weight': 0.3, 'latent_ce_weight': 2.0})
    E, kls, ces = tiny_model.embed, [], []
    for (q, _, answer), (ids, alpha) in zip(parts, labels):  # by hand: Q \n <bot> z.. <eot> ### A <eos>, one row
        prompt = q + [TOK.id(R.BOT)]
        tail = [TOK.id(R.EOT)] + answer
        z = torch.stack([a @ E[i] for i, a in zip(ids, alpha)])  # z_j = alpha_j @ E[ids_j]
        x = torch.cat([E[prompt], z, E[tail[:-1]]])
        logits, _ = tiny_model(embeds=x[None])
        logp = logits[0].log_softmax(-1)
        b = len(prompt) - 1  # <bot> predicts z1, z_j predicts z_(j+1)
        for j in range(len(ids)):
            kls.append((alpha[j] * (alpha[j].log() - logp[b + j, ids[j]])).sum())
        ces += [-logp[b + len(ids) + t, tok] for t, tok in enumerate(tail)]  # z_N predicts <eot>, and so on
    expected = 0.3 * torch.stack(kls).mean() + 2.0 * torch.stack(ces).mean()
    torch.testing.assert_close(loss, expected, rtol=1e-5, atol=1e-5)


def test_stage1_decoder_computes_what_stage2_computes(tiny_model):
    """The supervision mask and positions make the latents and the answer of the stage-1 decoder compute
    exactly what the stage-2 sequence computes with the same latents; segments are side branches."""
    batch = latent_sft.latent_stage1_batch(TOK, [PARTS], CFG, 64)
    with torch.no_grad():
        logits = latent_sft.latent_stage1_forward(tiny_model, batch, CFG['latent_topk'])
        xe, pe, me, se, xd, yd, pd, md, sd, banned = batch
        ids, alpha = latent_sft.latent_encode(tiny_model, xe, pe, me, se, banned, CFG['latent_topk'])
        x2, *_ = latent_sft.latent_stage2_batch(TOK, [PARTS + ((ids, alpha),)], CFG)
        emb = tiny_model.embed[x2[0]].clone()
        emb[x2[0] == TOK.id(R.LATENT)] = latent_sft.soft_embedding(tiny_model.embed, ids, alpha)
        logits2, _ = tiny_model(embeds=emb[None])
    keep = [i for i, n in enumerate(names_of(xd[0].tolist(), 'z')) if n[0] == 'z' or i < 6 or i >= 13]
    torch.testing.assert_close(logits[0, keep], logits2[0], rtol=1e-5, atol=1e-5)


def test_encoder_reads_the_cot_as_the_cot_model_and_trains_through_z(tiny_model):
    xe, pe, me, se, *rest = batch = latent_sft.latent_stage1_batch(TOK, [PARTS], CFG, 64)
    latent_sft.latent_init_slot(tiny_model, TOK)
    with torch.no_grad():
        enc, _ = tiny_model(xe, pos=pe, attn_mask=me)
        x, _, _ = R.collate([R.layout(TOK, PARTS, 'cot')], TOK.id(R.PAD), 'cpu', 64)
        cot, _ = tiny_model(x)  # Q \n 1 \n 3 \n 6 \n ### 0: the same tokens at the same positions, no slots
        torch.testing.assert_close(enc[0, ~se[0]], cot[0, :int((~se[0]).sum())], rtol=1e-5, atol=1e-5)
        # with the <latent> row at zero a slot reads like its segment's last token (which it sees twice,
        # as that token and as itself): alpha is about the CoT model's next-token distribution there
        ids, alpha = latent_sft.latent_encode(tiny_model, xe, pe, me, se, rest[-1], CFG['latent_topk'])
        last = torch.tensor([6, 8, 10])  # the '\n' that ends each segment
        ref_ids, ref_alpha = latent_sft.latent_topk(cot[0, last], CFG['latent_topk'], rest[-1])
        assert torch.equal(ids, ref_ids)
        torch.testing.assert_close(alpha, ref_alpha, rtol=0, atol=0.02)
        ids2, alpha2 = latent_sft.latent_encode(tiny_model, xe, pe, me, se, rest[-1], CFG['latent_topk'], temperature=2.0)
        assert torch.equal(ids2, ids)  # a temperature softens alpha, it keeps the ids
        torch.testing.assert_close(alpha2, (alpha.log() / 2).softmax(-1), rtol=1e-5, atol=1e-6)
    # the <latent> input embedding is only read by the encoder at the slots: a gradient there came through z
    tiny_model.zero_grad()
    latent_sft.latent_loss(tiny_model, batch, CFG).backward()
    assert tiny_model.embed.grad[TOK.id(R.LATENT)].abs().sum() > 0


def test_stage1_accuracy_is_greedy_exact_match(tiny_model):
    batch = latent_sft.latent_stage1_batch(TOK, [PARTS], CFG, 64)
    acc = latent_sft.latent_stage1_accuracy(tiny_model, batch, TOK, CFG['latent_topk'])
    with torch.no_grad():
        logits = latent_sft.latent_stage1_forward(tiny_model, batch, CFG['latent_topk'])[0]
    pred = logits[13:16, :19].clone()  # from <eot> on: predicts ### 0 <eos>
    pred[:, [TOK.id(R.PAD), TOK.id(R.LATENT)]] = -float('inf')
    assert acc == float(pred.argmax(-1).tolist() == [TOK.id(R.MARKER), TOK.id('0'), TOK.eos_id])


@pytest.fixture
def stopping_model(tiny_model):
    """The tiny model with a louder <eot>: rows stop thinking after different numbers of latents."""
    with torch.no_grad():
        tiny_model.transformer.wte.weight[TOK.id(R.EOT)] *= 3.0
    return tiny_model


CKPT = {'config': {'method': 'latent', 'latent_stage': 2, 'latent_topk': 4, 'latent_budget': 6}}
QUESTIONS = ['1 2 3', '4', '5 6 7 8 9 0', '2 2', '9 8 7']


def test_batched_latent_decoding_equals_single(stopping_model):
    prompts = [R.question_prompt(TOK, CKPT, q) for q in QUESTIONS]
    assert all(p[-1] == TOK.id(R.BOT) for p in prompts)
    batched = latent_sft.latent_generate(stopping_model, TOK, prompts, 8, 4, 6)
    steps = [o.count(TOK.id(R.LATENT)) for o in batched]
    assert len(set(steps)) >= 3 and max(steps) == 6  # rows stop at different steps, one at the budget
    assert batched == [latent_sft.latent_generate(stopping_model, TOK, [p], 8, 4, 6)[0] for p in prompts]
    for out, n in zip(batched, steps):
        assert out[:n + 1] == [TOK.id(R.LATENT)] * n + [TOK.id(R.EOT)]
    # the checkpoint's method picks the decoder; latent steps count as generated tokens
    res = S.evaluate(stopping_model, TOK, CKPT, [{'question': q, 'steps': [], 'answer': '0'} for q in QUESTIONS],
                     batch_size=2, max_new_tokens=8)
    assert res['tokens_per_question'] == sum(len(o) for o in batched) / len(batched)
    with pytest.raises(ValueError, match='stage-1'):
        S.method_decoder(stopping_model, TOK, {'config': {**CKPT['config'], 'latent_stage': 1}})


@pytest.mark.parametrize('question', QUESTIONS)
def test_latent_decoding_equals_a_naive_rollout(stopping_model, question):
    """The cached loop against full forwards over every input embedding so far: each latent is the
    top-k mixture of the last logits, thinking stops when the argmax is <eot> (or at the budget),
    then the answer is greedy."""
    prompt = R.question_prompt(TOK, CKPT, question)
    out = latent_sft.latent_generate(stopping_model, TOK, [prompt], 8, 4, 6)[0]
    n, E, eot = out.count(TOK.id(R.LATENT)), stopping_model.embed, TOK.id(R.EOT)
    argmax = lambda logits, allow=(): R.sample_next(logits[None], banned=R.banned_mask(TOK, 64, 'cpu', allow)).item()
    with torch.no_grad():
        embs = list(E[prompt])
        for j in range(n + 1):
            logits = stopping_model(embeds=torch.stack(embs)[None])[0][0, -1]
            assert (argmax(logits, [R.EOT]) == eot) == (j == n) or (j == n == 6)  # at the budget <eot> is forced
            if j < n:
                ids, alpha = latent_sft.latent_topk(logits, 4, R.banned_ids(TOK, 64) + [eot])
                embs.append(latent_sft.soft_embedding(E, ids, alpha))
        embs.append(E[eot])
        for t in out[n + 1:]:  # the answer, greedy
            logits = stopping_model(embeds=torch.stack(embs)[None])[0][0, -1]
            assert argmax(logits) == t
            embs.append(E[t])


def test_effective_parallelism(stopping_model):
    a = torch.tensor([0.5, 0.25, 0.25])
    assert latent_sft.effective_parallelism(a, ['x', 'x', 'x']) == pytest.approx(1.0)
    assert latent_sft.effective_parallelism(torch.full((4,), 0.25), ['a', 'b', 'c', 'd']) == pytest.approx(4.0)
    assert latent_sft.effective_parallelism(a, ['x', 'y', 'y']) == pytest.approx(2.0)  # two paths, half the mass each
    probe = latent_sft.probe_latents(stopping_model, TOK, CKPT, '1 2 3', max_new_tokens=8)
    n = latent_sft.latent_generate(stopping_model, TOK, [R.question_prompt(TOK, CKPT, '1 2 3')], 8, 4, 6)[0].count(TOK.id(R.LATENT))
    assert len(probe) == n and all(len(top) == 4 and 1.0 <= n_eff <= 4.0 + 1e-9 and 0.0 <= top2 <= 1.0 for top, n_eff, top2 in probe)


def test_soft_labels_file(tmp_path, tiny_model):
    examples = [EXAMPLE, {'question': '9 9', 'steps': ['9'], 'answer': '8'}, {'question': '3', 'steps': [], 'answer': '3'}]
    parts = [R.encode_parts(TOK, ex) for ex in examples]
    cfg = {**CFG, 'out_dir': str(tmp_path), 'latent_label_examples': 2, 'latent_labels': '', 'init_from': str(tmp_path)}
    latent_sft.latent_save_labels(tiny_model, TOK, cfg, torch.no_grad(), (examples, parts), (examples[:1], parts[:1]))
    path = latent_sft.latent_labels_path(cfg, None)
    train, valid = latent_sft.latent_load_labels(path, cfg, (examples, parts), (examples[:1], parts[:1]))
    assert len(train) == 2 and [len(p[3][0]) for p in train] == [3, 1] and len(valid) == 1
    xe, pe, me, se = latent_sft.latent_encoder_batch(TOK, parts[:1], cfg)
    with torch.no_grad():
        ids, alpha = latent_sft.latent_encode(tiny_model, xe, pe, me, se, latent_sft.latent_banned(TOK, 64), 4)
    assert torch.equal(train[0][3][0], ids) and torch.allclose(train[0][3][1], alpha)
    with pytest.raises(FileNotFoundError, match='stage 1'):
        latent_sft.latent_load_labels(str(tmp_path / 'nothing.pt'), cfg, (examples, parts), (examples[:1], parts[:1]))
    other = [{**ex, 'question': '1 ' + ex['question']} for ex in examples]
    with pytest.raises(ValueError, match='other examples'):
        latent_sft.latent_load_labels(path, cfg, (other, parts), (other[:1], parts[:1]))


# -----------------------------------------------------------------------------
# ablations: each flag changes exactly what it names

def test_ablated_masks_are_plain_causal_and_nothing_else_changes():
    odd = R.encode_parts(TOK, {'question': '7 7', 'steps': ['7', '4'], 'answer': '4'})
    parts = [PARTS, odd]  # two rows: the padded one too
    base = latent_sft.latent_stage1_batch(TOK, parts, CFG, 64)
    no_ind = latent_sft.latent_stage1_batch(TOK, parts, {**CFG, 'latent_induction_mask': False}, 64)
    no_sup = latent_sft.latent_stage1_batch(TOK, parts, {**CFG, 'latent_supervision_mask': False}, 64)
    for ablated, m in [(no_ind, 2), (no_sup, 7)]:  # me (encoder), md (decoder)
        for i in range(10):  # every other tensor is the default's
            assert i == m or torch.equal(ablated[i], base[i])
        T = base[m].size(1)
        tril = torch.ones(T, T, dtype=torch.bool).tril()
        assert torch.equal(ablated[m], tril.expand_as(base[m]))  # entry by entry: plain causal
        assert not bool((base[m] & ~ablated[m]).any())  # the default only removes entries from causal
    # what the induction mask removes: a query seeing another (earlier) slot, or padding; nothing else
    xe, se, me = base[0], base[3], base[2]
    valid = torch.zeros_like(se)
    valid[0, :len(latent_sft.latent_encoder_row(TOK, PARTS, 2)[0])] = True
    valid[1, :len(latent_sft.latent_encoder_row(TOK, odd, 2)[0])] = True
    removed = no_ind[2] & ~me
    key_hidden = (se | ~valid)[:, None, :] & ~torch.eye(se.size(1), dtype=torch.bool)
    assert torch.equal(removed, no_ind[2] & key_hidden)
    # on the picture's example: L2 now sees L1, and L3 sees L1 and L2
    names, _ = parse(INDUCTION)
    row = {n: i for i, n in enumerate(names)}
    assert no_ind[2][0, row['L2'], row['L1']] and not me[0, row['L2'], row['L1']]
    # what the supervision mask removes on the example: segment S3 ('6 \\n', rows 10-11) now reads the
    # question, z1 and S2; the answer ('###', row 14) reads S2 and S3
    md, causal = base[7][0], no_sup[7][0]
    assert causal[10, :10].all() and not md[10, :6].any() and not md[10, 7:9].any()
    assert causal[14, 7].item() and not md[14, 7].item()


def test_hidden_latents_feed_the_encoder_state_unchanged(tiny_model):
    batch = latent_sft.latent_stage1_batch(TOK, [PARTS], CFG, 64)
    xe, pe, me, se, xd, yd, pd, md, sd, banned = batch
    seen = []  # the decoder call's embeds
    hook = tiny_model.register_forward_pre_hook(lambda m, args, kw: seen.append(kw.get('embeds')), with_kwargs=True)
    logits = latent_sft.latent_stage1_forward(tiny_model, batch, CFG['latent_topk'], latent_input='hidden')
    hook.remove()
    with torch.no_grad():
        _, _, h = tiny_model(embeds=seen[0], pos=pe, attn_mask=me, hidden=True)  # the encoder call again
    torch.testing.assert_close(seen[1][sd], h[-1][se])  # z_i = h at L_i (after ln_f), no top-k, no E
    z_soft = latent_sft.soft_embedding(tiny_model.embed, *latent_sft.latent_encode(tiny_model, xe, pe, me, se, banned, 4))
    assert not torch.allclose(seen[1][sd], z_soft)
    emb = tiny_model.transformer.wte(xd)  # every other decoder input is the default's
    torch.testing.assert_close(seen[1][~sd], emb[~sd])
    tiny_model.zero_grad()  # and the decoder's loss trains the encoder through h
    F = torch.nn.functional
    F.cross_entropy(logits.flatten(0, 1), yd.flatten(), ignore_index=-1).backward()
    assert tiny_model.embed.grad[TOK.id(R.LATENT)].abs().sum() > 0


def test_alternating_schedule_picks_the_term_of_each_iteration(tiny_model):
    labels = (torch.stack([torch.randperm(19)[:4] for _ in range(3)]), torch.randn(3, 4).softmax(-1))
    batch = latent_sft.latent_stage2_batch(TOK, [PARTS + (labels,)], CFG)
    kl, ce = latent_sft.latent_stage2_losses(tiny_model, *batch)
    cfg = {**CFG, 'latent_stage': 2, 'latent_kl_weight': 0.3, 'latent_ce_weight': 2.0}
    want = {'kl': 0.3 * kl, 'ce': 2.0 * ce, 'joint': 0.3 * kl + 2.0 * ce}
    for it in range(7):
        term = latent_sft.latent_stage2_term({**cfg, 'latent_schedule': 'alternate', 'iter_num': it})
        assert term == ['kl', 'ce', 'joint'][it % 3]
        loss = latent_sft.latent_loss(tiny_model, batch, {**cfg, 'latent_schedule': 'alternate', 'iter_num': it})
        torch.testing.assert_close(loss, want[term])
        joint = latent_sft.latent_loss(tiny_model, batch, {**cfg, 'latent_schedule': 'joint', 'iter_num': it})
        torch.testing.assert_close(joint, want['joint'])  # the default: joint at every step
    # evaluation passes no iteration: the joint loss, whatever the schedule
    torch.testing.assert_close(latent_sft.latent_loss(tiny_model, batch, {**cfg, 'latent_schedule': 'alternate'}),
                               want['joint'])


def test_top2_score():
    a = torch.tensor([0.5, 0.3, 0.2])
    assert latent_sft.top2_score(a, ['x', 'x', 'x']) == 0.0  # one path
    assert latent_sft.top2_score(a, ['x', 'y', 'z']) == pytest.approx(0.3 / 0.5)
    assert latent_sft.top2_score(a, ['x', 'y', 'y']) == pytest.approx(1.0)  # pooled: 0.5 and 0.5
    assert latent_sft.top2_score(a, ['x', 'y', 'x']) == pytest.approx(0.3 / 0.7)


def test_encoder_after_bot_reads_the_cot_as_coconut_stage0(tiny_model):
    """latent_cot_bot: the parent CoT wrote its steps after <bot> (Coconut's stage 0), so the encoder
    puts <bot> after the question and the CoT tokens compute what they compute in that layout."""
    cfg = {**CFG, 'latent_cot_bot': True}
    xe, pe, me, se = latent_sft.latent_encoder_batch(TOK, [PARTS], cfg)
    slot, bot = TOK.id(R.LATENT), TOK.id(R.BOT)
    q = len(PARTS[0])
    assert xe[0, :q + 1].tolist() == PARTS[0] + [bot] and xe[0, q + 1:].tolist().count(slot) == 3
    with torch.no_grad():
        enc, _ = tiny_model(xe, pos=pe, attn_mask=me)
        prompt, target = R.layout(TOK, PARTS, 'coconut', n_steps=len(PARTS[1]), bot=True)  # Q \n <bot> 1 \n 3 \n 6 \n ...
        stage0, _ = tiny_model(torch.tensor([prompt + target]))
        torch.testing.assert_close(enc[0, ~se[0]], stage0[0, :int((~se[0]).sum())], rtol=1e-5, atol=1e-5)


def test_latent_thought_probes(stopping_model):
    """Accuracy as sample.py scores it; zero latents is decoding with budget 0; identical questions
    swap identical latents; step_match has a row per latent step and a column per step."""
    ckpt = {'config': {**CKPT['config']}}
    examples = [{'question': q, 'steps': ['1', '2'], 'answer': '0'} for q in QUESTIONS]
    out = latent_sft.latent_thought_probes(stopping_model, TOK, ckpt, examples, batch_size=2, max_new_tokens=8)
    res = S.evaluate(stopping_model, TOK, ckpt, examples, batch_size=2, max_new_tokens=8)
    assert out['accuracy'] == res['accuracy']
    prompts = [R.question_prompt(TOK, ckpt, q) for q in QUESTIONS]
    zero = latent_sft.latent_generate(stopping_model, TOK, prompts, 8, 4, 0)
    assert out['zero_thoughts'] == sum(R.is_correct(TOK.decode(o[1:]), ex) for o, ex in zip(zero, examples)) / len(examples)
    steps = max(o.count(TOK.id(R.LATENT)) for o in latent_sft.latent_generate(stopping_model, TOK, prompts, 8, 4, 6))
    assert len(out['step_match']) == steps and all(len(row) == 2 for row in out['step_match'])
    same = [examples[2]] * 3
    twin = latent_sft.latent_thought_probes(stopping_model, TOK, ckpt, same, batch_size=3, max_new_tokens=8)
    assert twin['swap'] == twin['accuracy']


def test_replay_feeds_the_given_latents(stopping_model):
    """The swap's replay on the cache: with a row's own latents it gives think's logits; with another
    row's latents it computes what a full forward over [question, those latents, <eot>] computes."""
    prompts = [R.question_prompt(TOK, CKPT, q) for q in QUESTIONS[:2]]
    E = stopping_model.embed
    with torch.no_grad():
        logits, cache, _ = R.prefill(stopping_model, TOK, prompts, 16)
        after, steps, trace = latent_sft.think(stopping_model, TOK, logits, cache, 4, 6)
        own = [(latent_sft.soft_embedding(E, ids, alpha), on) for ids, alpha, on in trace]
        logits, cache, _ = R.prefill(stopping_model, TOK, prompts, 16)
        torch.testing.assert_close(latent_sft.replay(stopping_model, TOK, logits, cache, own), after, rtol=1e-5, atol=1e-5)
        logits, cache, _ = R.prefill(stopping_model, TOK, prompts, 16)
        swapped = latent_sft.replay(stopping_model, TOK, logits, cache, [(z.roll(1, 0), on.roll(1, 0)) for z, on in own])
        for r in range(2):
            theirs = [z[1 - r] for z, on in own if on[1 - r]]  # row r reads row 1 - r's latents
            assert len(theirs) == int(steps[1 - r])
            embs = torch.stack(list(E[prompts[r]]) + theirs + [E[TOK.id(R.EOT)]])
            ref = stopping_model(embeds=embs[None])[0][0, -1]
            torch.testing.assert_close(swapped[r], ref, rtol=1e-4, atol=1e-4)


def test_frozen_encoder_makes_the_latents_and_never_trains(tiny_model):
    """latent_encoder = 'frozen': the copy attached before any step makes every latent (in the loss and
    in the labels file), the optimizer and the checkpoint never see it, and a step leaves its latents as
    they were while the trained model's own latents move."""
    latent_sft.latent_init_slot(tiny_model, TOK)
    enc = latent_sft.attach_frozen_encoder(tiny_model)
    assert latent_sft.encoder_of(tiny_model) is enc and enc is not tiny_model
    assert not any('latent_encoder' in n for n in tiny_model.state_dict())
    assert len(list(tiny_model.parameters())) == len(list(enc.parameters()))  # the copy's are not registered
    batch = latent_sft.latent_stage1_batch(TOK, [PARTS], CFG, 64)
    own = lambda: latent_sft.latent_encode(tiny_model, *batch[:4], batch[-1], CFG['latent_topk'])[1]
    before, own_before = latent_sft.latent_make_labels(tiny_model, [PARTS], TOK, CFG), own().detach()
    opt = torch.optim.SGD(tiny_model.parameters(), lr=1.0)
    latent_sft.latent_loss(tiny_model, batch, CFG).backward()
    opt.step()
    after = latent_sft.latent_make_labels(tiny_model, [PARTS], TOK, CFG)
    assert torch.equal(before['ids'], after['ids']) and torch.equal(before['alpha'], after['alpha'])
    assert not torch.allclose(own().detach(), own_before)  # the model itself did train
