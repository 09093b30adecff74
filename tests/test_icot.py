"""iCoT (icot.py): the removal schedule (the official step counter), the layouts it produces, removal
smoothing, and train.py running the schedule with an AdamW reset at each removal."""
import math

import pytest
import torch

import icot
import reasoning as R
from test_config import run
from test_train import TINY

EX = {'question': '1 2 3', 'steps': ['1', '3'], 'answer': '6'}
TOK = R.WordTokenizer(R.words_of([EX]))


def test_schedule_removes_one_token_every_steps_per_epoch_over_remove_per_epoch():
    cfg = {'batch_size': 64, 'gradient_accumulation_steps': 1, 'icot_remove_per_epoch': 8.0}
    # 6,400 examples / 64 = 100 steps per epoch; round(100 / 8) = 12 steps per removed token
    got = [icot.icot_removed(i, 6400, cfg) for i in (0, 11, 12, 23, 24, 99, 100, 1199, 1200)]
    assert got == [0, 0, 1, 1, 2, 8, 8, 99, 100]
    cfg['icot_remove_per_epoch'] = 500.0  # more removals than steps: one per step
    assert [icot.icot_removed(i, 6400, cfg) for i in range(4)] == [0, 1, 2, 3]
    cfg.update(batch_size=16, gradient_accumulation_steps=4)  # an epoch counts examples, not micro-batches
    assert icot.icot_removed(12, 6400, {**cfg, 'icot_remove_per_epoch': 8.0}) == 1


def test_layout_removes_cot_tokens_from_the_front_down_to_no_cot():
    parts = R.encode_parts(TOK, EX)  # CoT tokens: '1' '\n' '3' '\n'
    assert icot.icot_layout(parts, 0) == R.layout(TOK, parts, 'cot')
    prompt, target = icot.icot_layout(parts, 1)
    assert prompt == TOK.encode('1 2 3\n') and TOK.decode(target) == '\n3\n### 6 <|endoftext|>'
    assert TOK.decode(icot.icot_layout(parts, 3)[1]) == '\n### 6 <|endoftext|>'
    for removed in (4, 5, 100):  # the whole CoT gone: No-CoT's layout
        assert icot.icot_layout(parts, removed) == R.layout(TOK, parts, 'nocot')


def test_removal_smoothing_offsets():
    p = icot.smoothing_distribution(4.0)
    assert math.isclose(p[0].item(), 1 - math.exp(-4), rel_tol=1e-9)  # a geometric law: P(o) = (1 - e^-4) e^(-4 o)
    assert math.isclose(p[1].item() / p[0].item(), math.exp(-4), rel_tol=1e-9)
    assert icot.smoothing_distribution(0.0)[0] == 1.0 and icot.smoothing_distribution(float('inf'))[0] == 1.0
    cfg = {'icot_smoothing': 4.0, 'device': 'cpu', 'block_size': 64}
    parts = [R.encode_parts(TOK, EX)] * 4000
    x, y = icot.icot_batch(TOK, parts, cfg, stage=1, generator=torch.Generator().manual_seed(0))
    lengths = (y >= 0).sum(1)  # target tokens: 4 - removed CoT tokens + 3 answer tokens
    share = (lengths == 7 - 2).float().mean().item()  # removed 1 + offset 1
    assert (lengths <= 7 - 1).all() and abs(share - math.exp(-4) * (1 - math.exp(-4))) < 0.01
    x0, y0 = icot.icot_batch(TOK, parts[:8], {**cfg, 'icot_smoothing': 0.0}, stage=1)
    assert ((y0 >= 0).sum(1) == 6).all()  # no smoothing: exactly the scheduled removal


def test_train_runs_the_schedule_and_resets_adamw(workdir):
    # 2,000 examples / 16 = 125 steps per epoch; 62.5 removals per epoch: one every 2 steps
    r = run('train.py', *TINY, '--method=icot', '--icot_remove_per_epoch=62.5', '--out_dir=i', '--max_iters=5',
            '--eval_interval=5', cwd=workdir)
    assert r.returncode == 0, r.stderr
    assert 'iter 2: icot stage 0 -> 1, optimizer reset' in r.stdout
    assert 'iter 4: icot stage 1 -> 2, optimizer reset' in r.stdout and 'eval iter 5 (stage 2)' in r.stdout


def test_keep_position_puts_every_kept_token_where_it_sat_in_the_full_cot():
    parts = R.encode_parts(TOK, EX)  # Q '1 2 3 \n' (P = 4), CoT '1' '\n' '3' '\n', then '### 6 <eos>'
    full = sum(R.layout(TOK, parts, 'cot'), [])  # the CoT layout: token at index i has position i
    cfg = {'icot_smoothing': 0.0, 'device': 'cpu', 'block_size': 64, 'icot_keep_position': True}
    P = len(parts[0])
    for removed in range(6):
        x, y, pos = icot.icot_batch(TOK, [parts], cfg, stage=removed)
        gone = min(removed, 4)
        n = (x[0] != TOK.id(R.PAD)).sum().item()
        ids, at = x[0, :n].tolist(), pos[0, :n].tolist()
        assert at[:P - 1] == list(range(P - 1)) and ids[:P - 1] == full[:P - 1]  # the question but its last token
        assert at[P - 1] == P - 1 + gone  # the newline takes the last removed token's position
        assert all(full[p] == t for p, t in zip(at[P:], ids[P:]))  # every kept token at its full-CoT position
        assert at == sorted(set(at))  # increasing, no position used twice
    assert len(icot.icot_batch(TOK, [parts], {**cfg, 'icot_keep_position': False}, stage=2)) == 2  # off: x, y only


def test_chain_length_must_be_one_length_for_keep_position():
    parts = R.encode_parts(TOK, EX)
    assert icot.icot_chain_length([parts, parts]) == 4
    short = R.encode_parts(TOK, {**EX, 'steps': ['1']})
    with pytest.raises(ValueError, match='one length'):
        icot.icot_chain_length([parts, short])
    assert icot.icot_shift({'icot_keep_position': True, 'icot_chain_len': 4}, 2) == 2
    assert icot.icot_shift({'icot_keep_position': True, 'icot_chain_len': 4}, 9) == 4  # capped: the chain is gone
    assert icot.icot_shift({'icot_keep_position': False}, 9) == 0


def test_icot_generate_decodes_with_the_positions_training_used(tiny_model):
    """The cached decode with a shift equals greedy decoding by full recomputation with the shifted
    position ids, for prompts of different lengths (left padding) and with num_samples rows."""
    tok = R.WordTokenizer(R.words_of([EX]))
    prompts = [tok.encode('1 2 3\n'), tok.encode('3 1\n')]
    shift, new = 3, 6
    got = icot.icot_generate(tiny_model, tok, prompts, new, shift, num_samples=2)
    banned = R.banned_mask(tok, tiny_model.config.vocab_size, 'cpu')
    for b, prompt in enumerate(prompts):
        seq = list(prompt)
        for _ in range(new):
            P = len(prompt)
            pos = icot.icot_positions(P, shift, len(seq))
            logits, _ = tiny_model(torch.tensor([seq]), pos=torch.tensor([pos]))
            nxt = logits[0, -1].masked_fill(banned, -float('inf')).argmax().item()
            seq.append(nxt)
            if nxt == tok.eos_id:
                break
        assert got[2 * b] == got[2 * b + 1] == seq[len(prompt):]


def test_train_keep_position_records_the_chain_and_decodes(workdir):
    r = run('train.py', *TINY, '--method=icot', '--icot_remove_per_epoch=62.5', '--icot_keep_position=True',
            '--out_dir=k', '--max_iters=5', '--eval_interval=5', cwd=workdir)
    assert r.returncode == 0, r.stderr
    assert 'iCoT keep_position: every CoT has 12 tokens' in r.stdout and 'eval iter 5 (stage 2)' in r.stdout
    ckpt = R.load_checkpoint_file(str(workdir / 'k' / 'ckpt.pt'))
    assert ckpt['config']['icot_chain_len'] == 12 and ckpt['stage'] == 2
    r = run('sample.py', '--out_dir=k', '--eval=test', cwd=workdir)
    assert r.returncode == 0, r.stderr
    r = run('sample.py', '--out_dir=k', '--eval=test', '--sampler=power', cwd=workdir)
    assert r.returncode != 0 and 'icot_keep_position' in r.stderr
