"""Coconut: the batched multi-pass thought forward is exact, the curriculum follows the paper, batched
latent decoding equals decoding each question alone, the soft thought is softmax(h E^T) @ E, and the
probes remove or swap exactly the thoughts."""
import torch

import coconut
import reasoning as R

TOK = R.WordTokenizer([str(i) for i in range(10)])
CFG = dict(batch_size=4, gradient_accumulation_steps=1, epochs_per_stage=2.0, start_stage=0, max_latent_stage=3,
           c_thought=2, pad_latent_to_max=True, uniform_prob=0.0, no_curriculum=False, no_thoughts=False,
           pause_as_thought=False, eot_after_steps=False)


def naive_thought_logits(model, ids, is_latent):
    """One example, the slow way: each thought is the last hidden state of a full forward over the
    sequence so far; then one full forward over all input embeddings."""
    embs = []
    for t, tok_id in enumerate(ids):
        if is_latent[t]:
            _, _, h = model(embeds=torch.stack(embs)[None], hidden=True)
            embs.append(h[-1][0, -1])
        else:
            embs.append(model.transformer.wte.weight[tok_id])
    logits, _ = model(embeds=torch.stack(embs)[None])
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
    coconut.attach_soft_thought(tiny_model, cfg)
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
    coconut.attach_soft_thought(tiny_model, {**cfg, 'coconut_thought': 'hidden'})  # the paper's thought: no map
    assert not hasattr(tiny_model, 'thought_proj')
    coconut.attach_soft_thought(tiny_model, cfg)
    coconut.attach_soft_thought(tiny_model, {'method': 'codi'})  # another method drops it
    assert not hasattr(tiny_model, 'thought_proj')


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
