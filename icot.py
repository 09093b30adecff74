r"""
iCoT, stepwise internalization: Deng, Choi & Shieber, "From explicit CoT to implicit CoT: learning to
internalize CoT step by step", 2024 (official code da03/Internalize_CoT_Step_by_Step). The baseline row
of Coconut's and CODI's tables (GSM8k 30.0, ProntoQA 99.8, ProsQA 98.2). Its schedule, layout, batch and
loss; train.py runs the schedule (the stage is the number of CoT tokens removed, AdamW reset at a change).

Start from a CoT model and remove CoT tokens from the front, one more at a time, remove_per_epoch of
them per epoch, until none are left; the model is trained on what remains:
    removed 0:   Q \n | S1 \n S2 \n ... Sn \n ### A <eos>       (| separates prompt and target, as in CoT)
    removed r:   Q \n | (the CoT's tokens from the (r+1)-th on) ### A <eos>
    all removed: Q \n | ### A <eos>                              (No-CoT's layout: the reasoning is internal)
    schedule:    removed(step) = step // round(steps_per_epoch / remove_per_epoch)   (the official counter)
Removal smoothing: each example removes removed + o tokens, with a random offset o >= 0 drawn with
P(o) proportional to exp(-lambda * o) (lambda = 4: o = 0 with probability 0.98, 1 with 0.018), so the
model already sees a little of the next removal before it comes. The optimizer is reset whenever the
scheduled count grows (the official --reset_optimizer; train.py's reset_optimizer). Decoding is CoT's:
the prompt Q \n, then the model writes whatever CoT it still writes, the marker and the answer.
Left out: the official --keep_position (the kept tokens keep their original position ids), which would
need the same shift at decoding, and --remove_all_when_remove_beyond (here a chain is gone once the
count reaches its length).
"""
import math

import torch

import reasoning as R


def icot_removed(iter_num, n_train, cfg):
    """CoT tokens scheduled for removal at an iteration: one more every round(steps_per_epoch /
    icot_remove_per_epoch) steps, as the official step counter (epochs counted in examples seen)."""
    steps_per_epoch = n_train / (cfg['batch_size'] * cfg['gradient_accumulation_steps'])
    every = max(1, round(steps_per_epoch / cfg['icot_remove_per_epoch']))
    return iter_num // every


def smoothing_distribution(lam, truncate=100):
    """P(o) for o = 0..truncate-1, proportional to exp(-lam * o); lam = inf (or 0 = off): always o = 0."""
    if lam == 0 or math.isinf(lam):
        p = torch.zeros(truncate, dtype=torch.double)
        p[0] = 1.0
        return p
    p = torch.exp(-lam * torch.arange(truncate, dtype=torch.double))
    return p / p.sum()


def icot_layout(parts, removed):
    """(prompt, target) with the first `removed` CoT tokens gone (every step's tokens, newlines included,
    as one sequence); removed >= the CoT's length leaves Q \n | ### A <eos>."""
    question, steps, answer = parts
    cot = [t for s in steps for t in s]
    return list(question), cot[min(removed, len(cot)):] + answer


def icot_batch(tok, parts, cfg, stage=0, generator=None):
    """x, y (B, T) of the examples with `stage` tokens removed, plus each one's smoothing offset."""
    p = smoothing_distribution(cfg['icot_smoothing'])
    offsets = torch.multinomial(p, len(parts), replacement=True, generator=generator).tolist()  # (B,)
    pairs = [icot_layout(pt, stage + o) for pt, o in zip(parts, offsets)]
    return R.collate(pairs, tok.id(R.PAD), cfg['device'], cfg['block_size'])[:2]


def icot_loss(model, batch, cfg):
    x, y = batch
    _, loss = model(x, y)  # plain next-token loss on what is left of the CoT and the answer
    return loss
