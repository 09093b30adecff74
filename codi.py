r"""
CODI: Shen et al., "CODI: Compressing chain-of-thought into continuous space via self-distillation",
EMNLP 2025. Its projection, batch and loss; reasoning.thought_forward runs the student's thoughts
(exactly as Coconut's, with the projection applied), reasoning.prefill decodes them.

One set of weights plays teacher and student in the same step:
    teacher:  Q \n S1 \n ... S(n-1) \n | ### A <eos>    the last step dropped (with it the teacher can copy
                                                       the result into ###: 31.7 vs 43.7 on GSM8k)
    student:  Q \n <bot> [t]*6 <eot> | ### A <eos>      thought t = p(h), h the last hidden state before it,
              p = Linear(d, d_prj) -> GELU -> Linear(d_prj, d) -> LayerNorm
    L  = alpha * CE(student answer) + beta * KD + gamma * CE(teacher steps and answer)
    KD = mean over the n_layer+1 hidden states l (embedding output included) of
         smooth_L1(h_student[l][###], sg(h_teacher[l][###])) / std(h_teacher[l][###])
at the token right before the answer (the last ### token); sg = stop gradient, the std over the batch's
teacher states of that layer, as the official code. Decoding: the student's 6 projected thoughts in the
prefill, then greedy decoding; coconut.probe_thoughts works on CODI checkpoints too.

Ablations (the paper's, each one config key; the default is the method above):
    codi_beta = 0              no distillation: KD is not even computed (L = alpha CE_s + gamma CE_t)
    codi_teacher = 'frozen'    the teacher's hidden states come from a frozen copy of the init checkpoint
                               (model.codi_teacher: a plain attribute, so no gradient, not in the optimizer,
                               not in the checkpoint); the trained weights keep the gamma term on the
                               teacher layout, so only the distillation target changes (add codi_gamma=0
                               for a student that never sees the CoT)
    codi_drop_last_step = False   the teacher keeps S_n (the paper's "answer copy" failure)
    codi_projection = False    thought = h, the raw last hidden state, as Coconut (no model.thought_proj)
Probe: python codi.py --out_dir=CKPT (answer_token_accuracy): the teacher-forced share right at each
answer token in the teacher's and the student's layout, of a CODI checkpoint or of the CoT it starts from.
"""

import sys

import torch
import torch.nn as nn
from torch.nn import functional as F

import reasoning as R


class ThoughtProjection(nn.Module):
    """CODI's map from the last hidden state to the next thought's input embedding:
    Linear(d, d_prj) -> GELU -> Linear(d_prj, d) -> LayerNorm(d). Attached to the model as
    model.thought_proj, so the optimizer, the checkpoint and decoding find it."""

    def __init__(self, n_embd, prj_dim):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(n_embd, prj_dim), nn.GELU(), nn.Linear(prj_dim, n_embd), nn.LayerNorm(n_embd))

    def forward(self, h):
        return self.net(h)  # (B, 1, C) -> (B, 1, C)


def attach_thought_projection(model, cfg):
    """Give a CODI model its projection (before loading a CODI state dict; fresh when starting CODI
    from a checkpoint of another method)."""
    if cfg['method'] == 'codi' and not cfg.get('codi_projection', True) and hasattr(model, 'thought_proj'):
        del model.thought_proj  # inherited from a CODI checkpoint: the ablation feeds h itself
    if cfg['method'] == 'codi' and cfg.get('codi_projection', True) and not hasattr(model, 'thought_proj'):  # .get: older checkpoints
        C = model.config.n_embd
        model.thought_proj = ThoughtProjection(C, cfg['codi_prj_dim'] or C).to(model.lm_head.weight.device)


def attach_frozen_teacher(model):
    """codi_teacher = 'frozen': a frozen copy of the model as it is now (the init checkpoint: call before
    any step), as model.codi_teacher (R.attach_frozen_copy: the optimizer and checkpoint never see it)."""
    return R.attach_frozen_copy(model, 'codi_teacher')


def teacher_steps(steps, drop_last):
    """The teacher's CoT: S1..S(n-1) (the paper), or every step (codi_drop_last_step = False)."""
    return steps[:-1] if drop_last else steps


def codi_batch(tok, parts, cfg, stage=0, generator=None):
    """Teacher and student batches, and for each row the column of the token before the answer.
    (stage, generator: what the loop passes every method; CODI has no curriculum and draws nothing.)"""
    pad, slot = tok.id(R.PAD), tok.id(R.LATENT)
    drop = cfg.get('codi_drop_last_step', True)
    teacher = [(q, [t for s in teacher_steps(steps, drop) for t in s] + answer) for q, steps, answer in parts]
    student = [R.layout(tok, p, 'codi', n_steps=0, n_latent=cfg['codi_thoughts']) for p in parts]
    xt, yt, _ = R.collate(teacher, pad, cfg['device'], cfg['block_size'])
    align = [p.index(slot) for p, _ in student]  # the first thought of every row in one column
    xs, ys, vs = R.collate(student, pad, cfg['device'], cfg['block_size'], align)
    answers = [a for _, _, a in parts]
    pos_t = [R.answer_position(tok, p, t, a) for (p, t), a in zip(teacher, answers)]
    pos_s = [max(align) - al + R.answer_position(tok, p, t, a) for (p, t), al, a in zip(student, align, answers)]
    pos_t, pos_s = torch.tensor(pos_t, device=cfg['device']), torch.tensor(pos_s, device=cfg['device'])
    return xt, yt, pos_t, xs, ys, vs, xs == slot, pos_s


def codi_distill(h_student, h_teacher, pos_s, pos_t):
    """Mean over layers (embedding output included) of smooth-L1(student, teacher) at the distilled
    positions, each layer divided by the std of its teacher states; the teacher side is detached, so
    the KD term only moves the student's computation."""
    rows = torch.arange(pos_s.size(0), device=pos_s.device)
    total = 0.0
    for hs, ht in zip(h_student, h_teacher):
        s, t = hs[rows, pos_s], ht[rows, pos_t].detach()  # (B, C) each
        total = total + F.smooth_l1_loss(s, t) / t.std()
    return total / len(h_student)


def codi_losses(model, xt, yt, pos_t, xs, ys, vs, is_latent, pos_s, kd=True):
    """(student CE, KD, teacher CE), unweighted. The teacher CE is always the trained weights' on the
    teacher layout; the distilled states are theirs too, or the frozen teacher's (model.codi_teacher).
    kd=False skips the distillation (KD returned as None). The student's thought is
    model.thought_proj(h), or h itself when the model has no projection (codi_projection = False)."""
    logits_t, _, h_t = model(xt, hidden=True)
    ce_t = F.cross_entropy(logits_t.flatten(0, 1).float(), yt.flatten(), ignore_index=-1)
    frozen = getattr(model, 'codi_teacher', None)
    if kd and frozen is not None:
        with torch.no_grad():
            _, _, h_t = frozen(xt, hidden=True)
    thought = getattr(model, 'thought_proj', None)
    logits_s, h_s, _ = R.thought_forward(model, xs, vs, is_latent, thought=thought, hidden=True)
    ce_s = F.cross_entropy(logits_s.flatten(0, 1).float(), ys.flatten(), ignore_index=-1)
    return ce_s, (codi_distill(h_s, h_t, pos_s, pos_t) if kd else None), ce_t


def codi_loss(model, batch, cfg):
    # beta = 0 removes the term itself, not only its weight: 0 * KD would still be computed, and a
    # teacher std of 0 would make it 0 * inf = NaN
    ce_s, kd, ce_t = codi_losses(model, *batch, kd=cfg['codi_beta'] > 0)
    loss = cfg['codi_alpha'] * ce_s + cfg['codi_gamma'] * ce_t
    return loss + cfg['codi_beta'] * kd if kd is not None else loss


# -----------------------------------------------------------------------------
# probe: python codi.py --out_dir=CKPT (a CODI checkpoint, or the CoT it starts from)

@torch.no_grad()
def answer_token_accuracy(model, tok, cfg, examples):
    """Teacher-forced share of examples right at each token of the answer ('### A <eos>'), in the
    teacher layout (Q S1..S(n-1) ### A) and in the student's (Q <bot> [t]*codi_thoughts <eot> ### A):
    which answer digits the teacher can give without its last step, and which of them the student's
    thoughts carry. cfg: the checkpoint's config (codi_thoughts, codi_drop_last_step). Answers of one
    token length (the CPU tasks). Returns {'teacher': (A,), 'student': (A,)}."""
    cfg = {**cfg, 'device': model.lm_head.weight.device}
    parts = [R.encode_parts(tok, ex) for ex in examples]
    A = len(parts[0][2])
    assert all(len(a) == A for _, _, a in parts), "answer_token_accuracy needs answers of one token length"
    xt, yt, _, xs, ys, vs, is_latent, _ = codi_batch(tok, parts, cfg)
    logits_t, _ = model(xt)
    logits_s, _, _ = R.thought_forward(model, xs, vs, is_latent, thought=getattr(model, 'thought_proj', None))
    return {'teacher': R.target_token_accuracy(logits_t, yt, last=A), 'student': R.target_token_accuracy(logits_s, ys, last=A)}


def main(argv):
    """python codi.py --out_dir=CKPT [--eval=valid --eval_limit=200]: answer_token_accuracy, one line per
    layout. A CoT checkpoint is read with CODI's defaults (6 thoughts, the last step dropped): what the
    teacher can answer before CODI trains it."""
    import configurator
    from sample import load_checkpoint
    C = configurator
    cfg = dict(out_dir='out-quickstart-codi', eval='valid', eval_limit=200, device='cpu')
    C.configure(cfg, argv)
    C.check(cfg, {'out_dir': C.ANY, 'eval': C.ANY, 'eval_limit': C.at_least(0), 'device': C.ANY})
    model, tok, ckpt = load_checkpoint(cfg['out_dir'], cfg['device'])
    run = dict(ckpt['config'])
    if run['method'] != 'codi':  # a CoT checkpoint: CODI's defaults
        run['codi_thoughts'], run['codi_drop_last_step'] = 6, True
    examples = R.load_split(f"data/{run['dataset']}", cfg['eval'])
    examples = examples[:cfg['eval_limit']] if cfg['eval_limit'] else examples
    acc = answer_token_accuracy(model, tok, run, examples)
    words = tok.decode(R.encode_parts(tok, examples[0])[2]).split()
    print(f"{cfg['out_dir']} ({run['method']}), teacher-forced, {len(examples)} {cfg['eval']} questions: the share right "
          f"at each answer token (the first question's shown)")
    for name in ('teacher', 'student'):
        print(f"{name}: " + ' '.join(f"{w}:{a:.2f}" for w, a in zip(words, acc[name].tolist())))


if __name__ == '__main__':
    main(sys.argv[1:])
