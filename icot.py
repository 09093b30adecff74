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
keep_position (icot_keep_position, the official --keep_position): the kept tokens keep the position ids
they had in the full CoT, so a removal moves no token the model reads:
    removed r:   Q's tokens at 0 .. P-2, its last (the newline) at P-1+r, what is left after it at P+r, ...
The newline takes the position of the last removed token, whose successor it must now predict, and
every kept token sits where it sat in the full CoT. A model trained from scratch finds what it reads by
position (README, "Coconut"): without keep_position, removing the first token of the running sum's CoT
took the CoT model from 99.5% to 1.5% valid, and it never recovered. (With the newline left at P-1, the
first two removals passed and the third fell to 16%: the newline then had to learn to predict the
second digit from the first digit's position.) Decoding skips the removed positions the same way
(icot_generate); it must know how many tokens were removed, min(removed, the chain's length), so
keep_position needs chains of one length (icot_chain_length; true of the CPU tasks).
Left out: --remove_all_when_remove_beyond (here a chain is gone once the count reaches its length).
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


def chain_tokens(parts):
    """How many CoT tokens an example has (every step's, newlines included)."""
    return sum(len(s) for s in parts[1])


def icot_chain_length(parts):
    """The one CoT length of these examples; keep_position needs it to decode (see the header)."""
    lengths = {chain_tokens(p) for p in parts}
    if len(lengths) != 1:
        raise ValueError(f"icot_keep_position=True needs CoTs of one length (decoding must know how many positions "
                         f"the removed tokens took); these have {len(lengths)} lengths, {min(lengths)} to {max(lengths)}")
    return lengths.pop()


def icot_positions(prompt_len, removed, n_inputs):
    """keep_position's ids for the n_inputs inputs of Q \\n | target: Q but its last token as in the CoT;
    from that last token on, `removed` positions further (it takes the last removed token's place)."""
    q = prompt_len - 1
    return list(range(q)) + list(range(q + removed, removed + n_inputs))


def icot_batch(tok, parts, cfg, stage=0, generator=None):
    """x, y (B, T) of the examples with `stage` tokens removed, plus each one's smoothing offset;
    with icot_keep_position also pos (B, T), every kept token's position id in the full CoT."""
    p = smoothing_distribution(cfg['icot_smoothing'])
    offsets = torch.multinomial(p, len(parts), replacement=True, generator=generator).tolist()  # (B,)
    pairs = [icot_layout(pt, stage + o) for pt, o in zip(parts, offsets)]
    x, y, _ = R.collate(pairs, tok.id(R.PAD), cfg['device'], cfg['block_size'])
    if not cfg.get('icot_keep_position', False):
        return x, y
    pos = torch.zeros_like(x)  # padding columns: any id, nothing real reads them
    for b, (pt, o, (prompt, target)) in enumerate(zip(parts, offsets, pairs)):
        ids = icot_positions(len(prompt), min(stage + o, chain_tokens(pt)), len(prompt) + len(target) - 1)
        pos[b, :len(ids)] = torch.tensor(ids)
    return x, y, pos


def icot_loss(model, batch, cfg):
    x, y, *pos = batch
    _, loss = model(x, y, pos=pos[0] if pos else None)  # plain next-token loss on what is left of the CoT and the answer
    return loss


# -----------------------------------------------------------------------------
# decoding: CoT's, but with keep_position the positions of the removed tokens are skipped

def icot_shift(cfg, stage):
    """Positions a decode skips after the prompt: the tokens removed at this stage (0 without keep_position)."""
    return min(stage, cfg['icot_chain_len']) if cfg.get('icot_keep_position', False) else 0


@torch.no_grad()
def icot_generate(model, tok, prompts, max_new_tokens, shift, temperature=0.0, top_k=0, top_p=1.0,
                  num_samples=1, generator=None):
    """reasoning.generate with the positions training used: the prompt but its last token prefilled as
    usual, then the cache's pos_shift moves that token and every new one `shift` positions on."""
    assert all(len(p) >= 2 for p in prompts), "keep_position moves a prompt's last token: it needs one before it"
    room = model.config.block_size - max(len(p) for p in prompts) - shift  # the last position id must exist
    max_new_tokens = max(0, min(max_new_tokens, room))
    _, cache, _ = R.prefill(model, tok, [p[:-1] for p in prompts], max_new_tokens + 1, num_samples=num_samples)
    cache.pos_shift = shift
    last = torch.tensor([p[-1] for p in prompts], device=cache.valid.device).repeat_interleave(num_samples)
    logits = model.decode_step(cache, last[:, None])  # (B * n, V) the newline, at its shifted position
    return R.continue_generation(model, tok, logits, cache, temperature, top_k, top_p, generator)
