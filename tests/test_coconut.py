"""Coconut: the batched multi-pass thought forward is exact, the curriculum follows the paper, batched
latent decoding equals decoding each question alone, the soft thought is softmax(h E^T) @ E, the scaled
thought is h times the measured length ratio, and the probes remove or swap exactly the thoughts."""
import pytest
import torch

import coconut
import reasoning as R

TOK = R.WordTokenizer([str(i) for i in range(10)])
CFG = dict(batch_size=4, gradient_accumulation_steps=1, epochs_per_stage=2.0, start_stage=0, max_latent_stage=3,
           c_thought=2, pad_latent_to_max=True, uniform_prob=0.0, no_curriculum=False, no_thoughts=False,
           pause_as_thought=False, eot_after_steps=False)


def naive_thought_logits(model, ids, is_latent, pos=None, scale=1.0):
    """One example, the slow way: each thought is the last hidden state (times scale) of a full forward
    over the sequence so far; then one full forward over all input embeddings. pos: position ids
    (default 0, 1, ...)."""
    pos = torch.tensor([pos if pos is not None else list(range(len(ids)))])
    embs = []
    for t, tok_id in enumerate(ids):
        if is_latent[t]:
            _, _, h = model(embeds=torch.stack(embs)[None], pos=pos[:, :t], hidden=True)
            embs.append(scale * h[-1][0, -1])
        else:
            embs.append(model.transformer.wte.weight[tok_id])
    logits, _ = model(embeds=torch.stack(embs)[None], pos=pos)
    return logits[0]


def test_batched_thoughts_equal_naive_logits_and_gradients(tiny_model):
    torch.manual_seed(0)
    parts = [R.encode_parts(TOK, {'question': ' '.join('1' * q), 'steps': ['2'] * 3, 'answer': '7'}) for q in (3, 6, 4)]
    pairs = [R.layout(TOK, p, 'coconut', n_steps=ns, n_latent=nl) for p, ns, nl in zip(parts, (1, 3, 0), (4, 0, 2))]
    slot = TOK.id(R.LATENT)
    align = [p.index(slot) if slot in p else len(p) for p, _ in pairs]
    x, y, valid = R.collate(pairs, TOK.id(R.PAD), 'cpu', 64, align)
    w = torch.randn(64)  # a fixed random readout, so every logit gets a gradient
    tiny_model.zero_grad()
    logits, _, _ = R.thought_forward(tiny_model, x, valid, x == slot)
    (logits[valid] @ w).sum().backward()
    batched_grad = {n: p.grad.clone() for n, p in tiny_model.named_parameters()}
    tiny_model.zero_grad()
    total = 0
    for b in range(3):
        ids = x[b][valid[b]].tolist()
        ref = naive_thought_logits(tiny_model, ids, [i == slot for i in ids])
        torch.testing.assert_close(logits[b][valid[b]], ref, atol=1e-5, rtol=1e-5)
        total = total + (ref @ w).sum()
    total.backward()
    for n, p in tiny_model.named_parameters():
        torch.testing.assert_close(batched_grad[n], p.grad, atol=1e-5, rtol=1e-4, msg=n)


def test_keep_position_puts_every_token_at_its_stage0_position(tiny_model):
    """coconut_keep_position with c = 1 thought per 3-token step: the batched forward (rows at stages 0, 1
    and 2 in one batch, as uniform_prob mixes them) equals the naive one with the position ids written
    out: thought j at the position of step j's newline, every other token where stage 0 had it; and
    decoding a stage-2 prompt continues at the stage-0 positions (greedy = the naive argmax chain)."""
    torch.manual_seed(0)
    cfg = {**CFG, 'c_thought': 1, 'eot_after_steps': True}
    parts = [R.encode_parts(TOK, {'question': q, 'steps': ['1 1', '2 3', '3 6'], 'answer': '6'}) for q in ('1 2 3', '1 2 3 4 5', '1 2')]
    assert coconut.coconut_step_length(parts, 1) == 3  # 'd s \n'
    pairs = [coconut.coconut_layout(TOK, p, k, cfg, None) for p, k in zip(parts, (1, 0, 2))]
    slot = TOK.id(R.LATENT)
    align = [p.index(slot) if slot in p else len(p) for p, _ in pairs]
    x, y, valid = R.collate(pairs, TOK.id(R.PAD), 'cpu', 64, align)
    logits, _, _ = R.thought_forward(tiny_model, x, valid, x == slot, thought=lambda h: 0.5 * h, keep_position=(1, 3))
    for b, ((prompt, target), k) in enumerate(zip(pairs, (1, 0, 2))):
        q = prompt.index(TOK.id(R.BOT))  # <bot>'s position
        pos = list(range(q + 1)) + [q + 3 * (j + 1) for j in range(k)]  # thought j where step j's newline was
        pos += list(range(q + 3 * k + 1, q + 3 * k + 1 + len(target) - 1))  # the rest (the input has target[:-1])
        ids = x[b][valid[b]].tolist()
        assert len(pos) == len(ids)
        ref = naive_thought_logits(tiny_model, ids, [i == slot for i in ids], pos, scale=0.5)
        torch.testing.assert_close(logits[b][valid[b]], ref, atol=1e-5, rtol=1e-5)
    uneven = [R.encode_parts(TOK, {'question': '1', 'steps': ['1', '2 3'], 'answer': '3'})]
    assert coconut.coconut_step_length(uneven, 1) == [2, 3]  # one length per step: '1 \n', '2 3 \n'
    with pytest.raises(ValueError, match='one token length'):  # step 2 has two lengths
        coconut.coconut_step_length(uneven + [R.encode_parts(TOK, {'question': '1', 'steps': ['1', '2'], 'answer': '3'})], 1)
    with pytest.raises(ValueError, match='do not fit'):
        coconut.coconut_step_length(parts, 4)
    # decoding: attach the rule, prefill a stage-2 prompt, decode greedily; the naive chain with positions agrees
    ckpt = {'config': {**cfg, 'method': 'coconut', 'coconut_keep_position': True, 'coconut_step_len': 3,
                       'coconut_thought': 'scaled', 'thought_scale': 0.5}, 'stage': 2}
    coconut.attach_thought(tiny_model, ckpt['config'])
    assert tiny_model.thought_keep_position == (1, 3)
    prompt = R.question_prompt(TOK, ckpt, '1 2 3')
    assert TOK.decode(prompt) == '1 2 3\n<bot> <latent> <latent>'
    out = R.generate(tiny_model, TOK, [prompt, prompt], 5)
    q = prompt.index(TOK.id(R.BOT))
    ids, pos = list(prompt), list(range(q + 1)) + [q + 3, q + 6]
    banned = R.banned_mask(TOK, 64, 'cpu', [R.EOT])
    with torch.no_grad():
        for _ in range(len(out[0])):
            logit = naive_thought_logits(tiny_model, ids, [i == slot for i in ids], pos, scale=0.5)[-1]
            ids.append(int(logit.masked_fill(banned, -float('inf')).argmax()))
            pos.append(pos[-1] + 1)  # stage-0 positions go on from the last thought's
    assert out[0] == out[1] == ids[len(prompt):]
    coconut.attach_thought(tiny_model, {'method': 'coconut'})
    assert not hasattr(tiny_model, 'thought_keep_position') and not hasattr(tiny_model, 'thought_proj')


def test_curriculum_stages():
    parts = R.encode_parts(TOK, {'question': '1 2', 'steps': ['3', '4', '5'], 'answer': '5'})
    short = R.encode_parts(TOK, {'question': '1 2', 'steps': ['3'], 'answer': '3'})
    g = torch.Generator().manual_seed(0)
    def show(p, stage, **kw):
        prompt, target = coconut.coconut_layout(TOK, p, stage, {**CFG, **kw}, g)
        return TOK.decode(prompt), TOK.decode(target)
    assert show(parts, 0) == ('1 2\n<bot>', '<eot> 3\n4\n5\n### 5 <|endoftext|>')  # stage 0: CoT in an empty block
    assert show(parts, 1) == ('1 2\n<bot> <latent> <latent> <eot>', '4\n5\n### 5 <|endoftext|>')
    assert show(parts, 3)[1] == '### 5 <|endoftext|>'
    assert show(parts, 3)[0].count('<latent>') == 6
    assert show(short, 2) == ('1 2\n<bot> ' + '<latent> ' * 4 + '<eot>', '### 3 <|endoftext|>')  # short chain: all steps go, k*c thoughts
    assert show(short, 5)[0].count('<latent>') == 6   # past max stage: capped at max_latent_stage * c
    assert show(short, 5, pad_latent_to_max=False)[0].count('<latent>') == 2  # or at the chain's length
    assert show(parts, 2, no_thoughts=True) == ('1 2\n', '5\n### 5 <|endoftext|>')
    assert show(parts, 1, pause_as_thought=True)[0] == '1 2\n<bot> <pause> <pause> <eot>'
    # schedule: epochs counted in examples seen; 8 train examples, batch 4: an epoch is 2 iterations
    assert [coconut.coconut_stage(i, 8, CFG) for i in range(0, 12, 2)] == [0, 0, 1, 1, 2, 2]
    assert coconut.coconut_stage(0, 8, {**CFG, 'start_stage': 1}) == 1
    assert coconut.coconut_stage(0, 8, {**CFG, 'no_curriculum': True}) == 4
    assert [coconut.coconut_stage(i, 8, CFG) for i in (14, 16, 40)] == [3, 4, 4]  # past max_latent_stage: one last stage
    # uniform_prob mixes stages 0..len(steps) uniformly
    stages = [show(parts, 3, uniform_prob=1.0)[0].count('<latent>') // 2 for _ in range(400)]
    counts = [stages.count(k) for k in range(4)]
    assert all(70 < c < 130 for c in counts), counts


def test_loss_mask_covers_exactly_the_target():
    parts = R.encode_parts(TOK, {'question': '1 2', 'steps': ['3', '4'], 'answer': '4'})
    pairs = [coconut.coconut_layout(TOK, parts, 1, {**CFG, 'c_thought': 1}, None)]
    x, y, valid = R.collate(pairs, TOK.id(R.PAD), 'cpu', 64, [pairs[0][0].index(TOK.id(R.LATENT))])
    labelled = [TOK.itos[t] for t in y[0].tolist() if t != -1]
    assert labelled == ['4', '\n', '###', '4', R.EOS]  # not Q, <bot>, thoughts or <eot>


def test_batched_latent_decoding_equals_single(tiny_model):
    ckpt = {'config': {'method': 'coconut', 'max_latent_stage': 3, 'c_thought': 1, 'no_thoughts': False,
                       'pause_as_thought': False}, 'stage': 3}
    prompts = [R.question_prompt(TOK, ckpt, q) for q in ['1 2 3', '4', '5 6 7 8 9 0']]
    assert all(p.count(TOK.id(R.LATENT)) == 3 for p in prompts)
    batched = R.generate(tiny_model, TOK, prompts, 12)
    assert batched == [R.generate(tiny_model, TOK, [p], 12)[0] for p in prompts]
    probe = coconut.probe_thoughts(tiny_model, TOK, ckpt, '1 2 3', k=3)
    assert len(probe) == 3 and all(len(top) == 3 for top in probe)


def test_keep_position_with_steps_of_different_lengths(tiny_model):
    """keep_position with one length per step (3 x 3 multiplication's steps are 5, 13 and 7 tokens): c = 2
    thoughts per step, steps of 2, 4 and 3 tokens; rows at stages 1, 3 and 2 in one batch equal the naive
    forward with thought j on the last c positions of its step, and greedy decoding of a stage-2 prompt
    continues at the stage-0 positions."""
    torch.manual_seed(0)
    cfg = {**CFG, 'c_thought': 2, 'eot_after_steps': True}
    parts = [R.encode_parts(TOK, {'question': q, 'steps': ['1', '2 3 4', '5 6'], 'answer': '6'}) for q in ('1 2 3', '1 2 3 4 5', '1 2')]
    L = coconut.coconut_step_length(parts, 2)
    assert L == [2, 4, 3]
    assert R.thought_shifts((2, L), 6).tolist() == [0, 0, 2, 2, 3, 3]
    assert R.thought_shifts((1, 3), 3).tolist() == [2, 4, 6]  # one length: (i + 1) * (L - c)
    stages = (1, 3, 2)
    pairs = [coconut.coconut_layout(TOK, p, k, cfg, None) for p, k in zip(parts, stages)]
    slot = TOK.id(R.LATENT)
    x, y, valid = R.collate(pairs, TOK.id(R.PAD), 'cpu', 64, [p.index(slot) for p, _ in pairs])
    logits, _, _ = R.thought_forward(tiny_model, x, valid, x == slot, thought=lambda h: 0.5 * h, keep_position=(2, L))

    def positions(q, k):  # <bot> at q; step i's tokens at stage 0 took q+1+sum(L[:i]) .. q+sum(L[:i+1])
        pos = list(range(q + 1))
        for i in range(k):
            end = q + sum(L[:i + 1])
            pos += [end - 1, end]  # the step's last two positions
        return pos

    for b, ((prompt, target), k) in enumerate(zip(pairs, stages)):
        q = prompt.index(TOK.id(R.BOT))
        pos = positions(q, k)
        pos += list(range(pos[-1] + 1, pos[-1] + len(target)))  # the rest (the input has target[:-1])
        ids = x[b][valid[b]].tolist()
        assert len(pos) == len(ids)
        ref = naive_thought_logits(tiny_model, ids, [i == slot for i in ids], pos, scale=0.5)
        torch.testing.assert_close(logits[b][valid[b]], ref, atol=1e-5, rtol=1e-5)
    ckpt = {'config': {**cfg, 'method': 'coconut', 'coconut_keep_position': True, 'coconut_step_len': L,
                       'coconut_thought': 'scaled', 'thought_scale': 0.5}, 'stage': 2}
    coconut.attach_thought(tiny_model, ckpt['config'])
    assert tiny_model.thought_keep_position == (2, [2, 4, 3])
    prompt = R.question_prompt(TOK, ckpt, '1 2 3')
    out = R.generate(tiny_model, TOK, [prompt], 5)
    ids, pos = list(prompt), positions(prompt.index(TOK.id(R.BOT)), 2)
    banned = R.banned_mask(TOK, 64, 'cpu', [R.EOT])
    with torch.no_grad():
        for _ in range(len(out[0])):
            logit = naive_thought_logits(tiny_model, ids, [i == slot for i in ids], pos, scale=0.5)[-1]
            ids.append(int(logit.masked_fill(banned, -float('inf')).argmax()))
            pos.append(pos[-1] + 1)
    assert out[0] == ids[len(prompt):]
    coconut.attach_thought(tiny_model, {'method': 'coconut'})


def test_stage0_keeps_every_explicit_token_in_place_when_c_matches_the_step_length():
    """With steps of c tokens, stage k's thoughts fill exactly the slots of the k steps they replace."""
    parts = R.encode_parts(TOK, {'question': '1 2', 'steps': ['3', '4', '5'], 'answer': '5'})  # steps: 2 tokens
    stage0 = sum(coconut.coconut_layout(TOK, parts, 0, CFG, None), [])
    for k in (1, 2, 3):
        seq = sum(coconut.coconut_layout(TOK, parts, k, CFG, None), [])
        assert len(seq) == len(stage0)
        start = 3 + 1 + 2 * k + 1  # Q (3 ids) <bot> [2k thoughts] <eot>
        assert seq[:4] == stage0[:4] and seq[start:] == stage0[start:]  # the same ids in the same columns


def test_eot_after_steps_puts_each_thought_where_stage0_wrote_its_token():
    """eot_after_steps: Q <bot> [thoughts] | S(k+1) .. Sn <eot> ### A. Thought j takes the column of CoT
    token j at stage 0, every other id stays in its column, and the decoders leave the block open."""
    cfg = {**CFG, 'eot_after_steps': True}
    parts = R.encode_parts(TOK, {'question': '1 2', 'steps': ['3', '4', '5'], 'answer': '5'})  # steps: 2 tokens
    show = lambda k: tuple(TOK.decode(x) for x in coconut.coconut_layout(TOK, parts, k, cfg, None))
    assert show(0) == ('1 2\n<bot>', '3\n4\n5\n<eot> ### 5 <|endoftext|>')
    assert show(1) == ('1 2\n<bot> <latent> <latent>', '4\n5\n<eot> ### 5 <|endoftext|>')
    assert show(4) == ('1 2\n<bot>' + ' <latent>' * 6, '<eot> ### 5 <|endoftext|>')  # past max stage
    stage0 = sum(coconut.coconut_layout(TOK, parts, 0, cfg, None), [])
    for k in (1, 2, 3):
        seq = sum(coconut.coconut_layout(TOK, parts, k, cfg, None), [])
        assert len(seq) == len(stage0)
        slots = [i for i, t in enumerate(seq) if t == TOK.id(R.LATENT)]
        assert slots == list(range(4, 4 + 2 * k))  # right after Q (3 ids) <bot>: the first 2k CoT tokens' columns
        assert [t for i, t in enumerate(seq) if i not in slots] == [t for i, t in enumerate(stage0) if i not in slots]
    # decoding: the checkpoint's thoughts, no <eot> in the prompt, and the model may write it
    ckpt = {'config': {**cfg, 'method': 'coconut'}, 'stage': 2}
    prompt = R.question_prompt(TOK, ckpt, '1 2')
    assert TOK.decode(prompt) == '1 2\n<bot>' + ' <latent>' * 4
    assert R.closes_thought(TOK, [prompt]) == [R.EOT]
    assert TOK.decode(coconut.without_thoughts(prompt, TOK.id(R.LATENT))) == '1 2\n<bot>'


def test_soft_thought_is_the_next_token_distribution_over_the_embeddings(tiny_model):
    cfg = {'method': 'coconut', 'coconut_thought': 'soft'}
    coconut.attach_thought(tiny_model, cfg)
    assert isinstance(tiny_model.thought_proj, coconut.SoftThought)
    assert not any('thought_proj' in k for k in tiny_model.state_dict())  # no weights of its own
    h = torch.randn(3, 1, 32)
    E = tiny_model.transformer.wte.weight
    want = torch.softmax(tiny_model.lm_head(h), -1) @ E
    torch.testing.assert_close(tiny_model.thought_proj(h), want)
    # prefill and the training forward use it: the same logits as thought_forward with the map given
    ckpt = {'config': {**CFG, 'method': 'coconut'}, 'stage': 2}
    prompts = [R.question_prompt(TOK, ckpt, '1 2 3')]
    logits, _, _ = R.prefill(tiny_model, TOK, prompts, 4)
    idx = torch.tensor(prompts)
    ref, _, _ = R.thought_forward(tiny_model, idx, torch.ones_like(idx, dtype=torch.bool), idx == TOK.id(R.LATENT),
                                  thought=lambda x: torch.softmax(tiny_model.lm_head(x), -1) @ E)
    torch.testing.assert_close(logits, ref[:, -1])
    coconut.attach_thought(tiny_model, {**cfg, 'coconut_thought': 'hidden'})  # the paper's thought: no map
    assert not hasattr(tiny_model, 'thought_proj')
    coconut.attach_thought(tiny_model, cfg)
    coconut.attach_thought(tiny_model, {'method': 'codi'})  # another method drops it
    assert not hasattr(tiny_model, 'thought_proj')


def test_scaled_thought_is_h_times_the_measured_length_ratio(tiny_model):
    """thought_scale = mean |e(y_t)| / mean |h_(t-1)| over the stage-0 targets, computed here by hand, one
    example at a time; the thought is then h * thought_scale, in training and in decoding."""
    cfg = {**CFG, 'method': 'coconut', 'eot_after_steps': True, 'device': 'cpu', 'block_size': 64}
    exs = [{'question': '1 2 3', 'steps': ['1 1', '2 3', '3 6'], 'answer': '6'},
           {'question': '4 5', 'steps': ['4 4', '5 9'], 'answer': '9'}]
    parts = [R.encode_parts(TOK, ex) for ex in exs]
    h_norms, e_norms = [], []
    for p in parts:
        prompt, target = coconut.coconut_layout(TOK, p, 0, cfg, None)
        assert TOK.id(R.LATENT) not in prompt and target[-4] == TOK.id(R.EOT)  # stage 0: Q <bot> | steps <eot> ### A <eos>
        ids = torch.tensor([prompt + target])
        _, _, hs = tiny_model(ids, hidden=True)
        h_norms += hs[-1][0, len(prompt) - 1:-1].norm(dim=-1).tolist()  # the positions that predict a target token
        e_norms += tiny_model.transformer.wte.weight[target].norm(dim=-1).tolist()
    want = (sum(e_norms) / len(e_norms)) / (sum(h_norms) / len(h_norms))
    scale = coconut.measure_thought_scale(tiny_model, TOK, parts, cfg)
    assert abs(scale - want) < 1e-5 * want
    mixed = coconut.measure_thought_scale(tiny_model, TOK, parts * 8, {**cfg, 'uniform_prob': 1.0})
    assert abs(mixed - want) < 1e-5 * want  # stage 0 for every example, whatever the stage mixing of training
    coconut.attach_thought(tiny_model, {'method': 'coconut', 'coconut_thought': 'scaled', 'thought_scale': scale})
    assert isinstance(tiny_model.thought_proj, coconut.ScaledThought)
    assert not any('thought_proj' in k for k in tiny_model.state_dict())  # no weights: the scale is in the config
    h = torch.randn(3, 1, 32)
    torch.testing.assert_close(tiny_model.thought_proj(h), h * scale)
    ckpt = {'config': {**CFG, 'method': 'coconut'}, 'stage': 2}  # decoding uses it: logits as with the map given
    prompts = [R.question_prompt(TOK, ckpt, '1 2 3')]
    logits, _, _ = R.prefill(tiny_model, TOK, prompts, 4)
    idx = torch.tensor(prompts)
    ref, _, _ = R.thought_forward(tiny_model, idx, torch.ones_like(idx, dtype=torch.bool), idx == TOK.id(R.LATENT),
                                  thought=lambda x: x * scale)
    torch.testing.assert_close(logits, ref[:, -1])
    raw, _, _ = R.thought_forward(tiny_model, idx, torch.ones_like(idx, dtype=torch.bool), idx == TOK.id(R.LATENT))
    assert not torch.allclose(raw[:, -1], ref[:, -1])  # the scale changes what the model computes
    coconut.attach_thought(tiny_model, {'method': 'coconut', 'coconut_thought': 'scaled', 'thought_scale': 0.0})
    assert not hasattr(tiny_model, 'thought_proj')  # not measured yet: no map (train.py measures, then attaches)


def test_step_result_is_the_first_token_of_the_steps_last_word():
    assert R.step_result(TOK, '5 8') == TOK.id('8')
    bpe = R.BPETokenizer()  # offline (test_tokenizer)
    assert bpe.decode([R.step_result(bpe, 'Tom is a yumpus.')]) == ' y'  # ' yumpus' is ' y' 'ump' 'us'
    assert bpe.decode([R.step_result(bpe, '<<600*30/100=180>>')]) == '180'


def test_thought_probes(tiny_model):
    ckpt = {'config': {**CFG, 'method': 'coconut'}, 'stage': 2}
    slot = TOK.id(R.LATENT)
    prompt = R.question_prompt(TOK, ckpt, '1 2 3')
    zero = coconut.without_thoughts(prompt, slot)
    assert zero == [t for t in prompt if t != slot] and prompt.count(slot) == 4
    assert TOK.decode(zero) == '1 2 3\n<bot> <eot>'  # only the thoughts go
    same = [{'question': '4 5 6', 'steps': ['4', '9'], 'answer': '5'}] * 3
    out = coconut.thought_probes(tiny_model, TOK, ckpt, same, batch_size=3, max_new_tokens=8)
    assert out['swap'] == out['accuracy']  # identical questions: swapping their thoughts changes nothing
    assert len(out['step_match']) == 4 and len(out['step_match'][0]) == 2  # 4 thoughts x 2 steps
    assert all(0 <= v <= 1 for row in out['step_match'] for v in row)


def test_linear_readout_reads_what_is_linear_and_not_noise():
    torch.manual_seed(0)
    y = torch.randint(10, (600,))
    x = torch.nn.functional.one_hot(y, 10).float() @ torch.randn(10, 16) + 0.1 * torch.randn(600, 16)  # y, linearly
    assert coconut.linear_readout(x[:500], y[:500], x[500:], y[500:]) == 1.0
    noise = torch.randn(600, 16)  # nothing of y in it: held-out accuracy near chance (10%)
    assert coconut.linear_readout(noise[:500], y[:500], noise[500:], y[500:]) < 0.3


def test_linear_step_match_has_a_row_per_thought_and_a_column_per_step(tiny_model):
    ckpt = {'config': {**CFG, 'method': 'coconut'}, 'stage': 2}
    exs = [{'question': f'{a} {b}', 'steps': [f'{a}', f'{(a + b) % 10}'], 'answer': f'{(a + b) % 10}'}
           for a in range(5) for b in range(4)]
    x = coconut.thought_inputs(tiny_model, TOK, ckpt, exs[:3])
    assert x.shape == (3, 4, 32)  # 2 steps x c = 2 thoughts
    match = coconut.linear_step_match(tiny_model, TOK, ckpt, exs, exs[:6])
    assert len(match) == 4 and all(len(row) == 2 for row in match) and all(0 <= v <= 1 for r in match for v in r)


def test_token_accuracy_is_the_share_right_at_each_target_token(tiny_model):
    """token_accuracy at a stage: one entry per target token, the share of the examples whose argmax
    there is the token, checked against the naive per-example forward."""
    ckpt = {'config': {**CFG, 'method': 'coconut', 'block_size': 64}, 'stage': 1}
    exs = [{'question': f'{a} {b}', 'steps': [f'{a}', f'{(a + b) % 10}'], 'answer': f'{(a + b) % 10}'}
           for a in range(3) for b in range(3)]
    words, acc = coconut.token_accuracy(tiny_model, TOK, ckpt, exs, 1)
    slot, right = TOK.id(R.LATENT), torch.zeros(len(words))
    for ex in exs:
        prompt, target = coconut.coconut_layout(TOK, R.encode_parts(TOK, ex), 1, ckpt['config'], None)
        ids = prompt + target[:-1]
        logits = naive_thought_logits(tiny_model, ids, [i == slot for i in ids])
        right += (logits[len(prompt) - 1:].argmax(-1) == torch.tensor(target)).float()
    assert len(words) == len(target) and words[-1] == TOK.decode([TOK.eos_id])  # S2 \n ### A <eos>
    torch.testing.assert_close(acc, right / len(exs))
