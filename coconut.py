r"""
Coconut: Hao et al., "Training large language models to reason in a continuous latent space", COLM 2025
(arXiv 2412.06769; official code facebookresearch/coconut). Its layout, batch, loss and probe; train.py
runs the curriculum, reasoning.thought_forward the thoughts (CODI shares it), reasoning.prefill decodes.

A continuous thought is the last hidden state (after ln_f) of the previous position, fed back as the
next input embedding (the paper's section 3):
    E_t = [e(x_1), ..., e(x_i), h_i, h_(i+1), ..., h_(t-1)]
thought_forward computes n thoughts in n+1 passes on the KV cache; rows are left-padded so that
thought j of every row shares a column; gradients flow through every thought.
Curriculum: stage k replaces the first k reasoning steps by k*c thoughts,
    Q \n <bot> [h]*(k*c) <eot> S(k+1) \n ... Sn \n ### A <eos>     loss: CE on S(k+1).. and the answer only
    stage = start_stage + epoch // epochs_per_stage; past max_latent_stage every step is gone and the
    thoughts stay max_latent_stage*c; train.py resets AdamW when the stage changes.
Decoding: the checkpoint's number of thoughts in the prefill, then greedy decoding (reasoning.generate).
probe_thoughts: what each thought decodes to through the LM head (the paper's latent search view).
Ablations (train.py config): no_curriculum, no_thoughts, pause_as_thought.
"""
import torch
from torch.nn import functional as F

import reasoning as R


def coconut_stage(iter_num, n_train, cfg):
    """The curriculum stage at an iteration (epochs counted in examples seen)."""
    if cfg['no_curriculum']:
        return cfg['max_latent_stage'] + 1
    epoch = iter_num * cfg['batch_size'] * cfg['gradient_accumulation_steps'] / n_train
    return cfg['start_stage'] + int(epoch / cfg['epochs_per_stage'] + 1e-9)  # 1e-9: 0.288 / 0.096 is 2.9999...


def coconut_layout(tok, parts, stage, cfg, generator):
    """(prompt, target) of one example at a stage, following the official code: a chain with fewer
    than k steps loses all of them (and still gets k*c thoughts); with probability uniform_prob the
    example's stage is drawn uniformly from 0..len(steps) instead."""
    n = len(parts[1])
    if cfg['uniform_prob'] > 0 and torch.rand(1, generator=generator).item() < cfg['uniform_prob']:
        stage = int(torch.randint(n + 1, (1,), generator=generator))
    if stage > cfg['max_latent_stage']:
        n_skip = n
        n_latent = cfg['max_latent_stage'] if cfg['pad_latent_to_max'] else min(n, cfg['max_latent_stage'])
    else:
        n_skip, n_latent = stage, stage
    n_latent = 0 if cfg['no_thoughts'] else n_latent * cfg['c_thought']
    slot = R.PAUSE if cfg['pause_as_thought'] else R.LATENT
    return R.layout(tok, parts, 'coconut', n_steps=max(n - n_skip, 0), n_latent=n_latent, slot=slot)


def coconut_batch(tok, parts, cfg, stage, generator):
    """x, y, valid (B, T) of collate, and is_latent (B, T) the thought slots. Left-padded so that the
    first thought of every row (or the end of a thought-less prompt) sits in one column: thought j of
    every row is then computed in one batched pass (reasoning.thought_forward)."""
    pairs = [coconut_layout(tok, p, stage, cfg, generator) for p in parts]
    slot = tok.id(R.LATENT)
    align = [p.index(slot) if slot in p else len(p) for p, _ in pairs]
    x, y, valid = R.collate(pairs, tok.id(R.PAD), cfg['device'], cfg['block_size'], align)
    return x, y, valid, x == slot


def coconut_loss(model, batch, cfg):
    """Cross-entropy on the remaining steps and the answer; gradients flow through every thought."""
    x, y, valid, is_latent = batch
    logits, _, _ = R.thought_forward(model, x, valid, is_latent)
    return F.cross_entropy(logits.flatten(0, 1).float(), y.flatten(), ignore_index=-1)


def probe_thoughts(model, tok, ckpt, question, k=5):
    """Coconut's 'latent search' view: the top-k tokens each continuous thought decodes to through
    the LM head (on ProsQA, the frontier nodes of the search)."""
    prompt = R.question_prompt(tok, ckpt, question)
    _, _, probe = R.prefill(model, tok, [prompt], 1)
    if probe is None:
        return []
    logits = probe[0].float()  # (n_thoughts, V)
    logits[:, R.banned_ids(tok, logits.size(-1))] = -float('inf')  # rank only ids the tokenizer can decode
    probs = logits.softmax(-1)
    top = probs.topk(k, dim=-1)
    return [[(tok.decode([i]), p) for i, p in zip(ids.tolist(), ps.tolist())] for ids, ps in zip(top.indices, top.values)]
