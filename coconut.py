"""
Coconut: Hao et al., "Training large language models to reason in a continuous latent space", COLM 2025
(arXiv 2412.06769; official code facebookresearch/coconut). Its layout, batch, loss, thought map and
probes; train.py runs the curriculum, reasoning.thought_forward the thoughts (CODI shares it),
reasoning.prefill decodes.

A continuous thought is the last hidden state (after ln_f) of the previous position, fed back as the
next input embedding (the paper's section 3):
    E_t = [e(x_1), ..., e(x_i), h_i, h_(i+1), ..., h_(t-1)]
thought_forward computes n thoughts in n+1 passes on the KV cache; rows are left-padded so that
thought j of every row shares a column; gradients flow through every thought.
Curriculum: stage k replaces the first k reasoning steps by k*c thoughts,
    stage 0:  Q \n <bot> | <eot> S1 \n ... Sn \n ### A <eos>     the CoT inside an empty thought block
    stage k:  Q \n <bot> [h]*(k*c) <eot> | S(k+1) \n ... Sn \n ### A <eos>
    (| separates the prompt from the target, the only tokens with a loss)
    stage = start_stage + epoch // epochs_per_stage; past max_latent_stage every step is gone and the
    thoughts stay max_latent_stage*c; train.py resets AdamW when the stage changes.
Stage 0 keeps <bot> <eot> as the official code does, so that with c thoughts per step of c tokens every
explicit token sits at the same position at every stage; <eot> is a target there (our addition), so
the first thought starts as what the stage-0 model predicts after <bot>. Both matter for a model
trained from scratch, which finds what to read by absolute position (README, "Coconut").
eot_after_steps = True (our variant) closes the block after the whole chain instead:
    stage k:  Q \n <bot> [h]*(k*c) | S(k+1) \n ... Sn \n <eot> ### A <eos>    (stage 0: no thoughts)
With c thoughts per step of c tokens, thought j then sits exactly where stage 0 wrote CoT token j and is
computed from the position that predicted that token: the thought is a drop-in for the token, and
with soft thoughts the all-latent model starts as the stage-0 model itself (README, "Coconut").
coconut_thought = 'soft' replaces the hidden state by the soft embedding softmax(h E^T) @ E of the same
position (SoftThought): a thought in the span of the token embeddings, which the model reads like the
token it would have written (soft thinking's and Latent-SFT's input).
Decoding: the checkpoint's number of thoughts in the prefill, then greedy decoding (reasoning.generate).
Probes: probe_thoughts (what each thought decodes to through the LM head, the paper's latent search
view); thought_probes (accuracy with zero thoughts, with another example's thoughts, and which step
each thought decodes to). Ablations (train.py config): no_curriculum, no_thoughts, pause_as_thought.
"""

import torch
from torch import nn
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
    kept = max(n - n_skip, 0)
    if cfg['eot_after_steps']:  # Q <bot> [thoughts] | S(k+1) .. Sn <eot> ### A: the model closes the block
        prompt, target = R.layout(tok, parts, 'coconut', n_steps=kept, n_latent=n_latent, slot=slot, bot=True)
        a = len(parts[2])  # the answer, '### A <eos>'
        return prompt, target[:-a] + [tok.id(R.EOT)] + target[-a:]
    if stage == 0 and not cfg['no_thoughts']:  # the empty thought block; the model writes <eot> itself
        prompt, target = R.layout(tok, parts, 'coconut', n_steps=n, bot=True)
        return prompt, [tok.id(R.EOT)] + target
    return R.layout(tok, parts, 'coconut', n_steps=kept, n_latent=n_latent, slot=slot)


def coconut_batch(tok, parts, cfg, stage, generator):
    """x, y, valid (B, T) of collate, and is_latent (B, T) the thought slots. Left-padded so that the
    first thought of every row (or the end of a thought-less prompt) sits in one column: thought j of
    every row is then computed in one batched pass (reasoning.thought_forward)."""
    pairs = [coconut_layout(tok, p, stage, cfg, generator) for p in parts]
    slot = tok.id(R.LATENT)
    align = [p.index(slot) if slot in p else len(p) for p, _ in pairs]
    x, y, valid = R.collate(pairs, tok.id(R.PAD), cfg['device'], cfg['block_size'], align)
    return x, y, valid, x == slot


class SoftThought(nn.Module):
    """coconut_thought = 'soft': the thought fed at the next position is softmax(h E^T) @ E, the
    previous position's next-token distribution mixed over the input embeddings E (tied to the LM
    head), instead of h itself. The last hidden state is an input the model never saw (after ln_f
    it is ~16x longer than a token embedding on the quickstart's stage-0 model, 17.9 vs 1.1, and not
    in their span: it drowns the position embedding, norm 0.62); this one it reads like the
    token it would have written, so the stage-0 model already passes its running state through
    it. No parameters: attached as model.thought_proj, where every decoder looks for the thought map."""

    def __init__(self, wte):
        super().__init__()
        self.wte = (wte,)  # a tuple keeps nn.Module from registering the model's own embedding twice

    def forward(self, h):
        E = self.wte[0].weight  # (V, C)
        p = F.softmax((h @ E.t()).float(), dim=-1).to(E.dtype)  # (B, 1, V), the LM head's distribution
        return p @ E  # (B, 1, C)


def attach_soft_thought(model, cfg):
    """A Coconut run's thought map (model.thought_proj): SoftThought when cfg asks for 'soft', none for
    the paper's hidden state (a map left by a checkpoint of another kind is dropped); other methods
    lose a SoftThought they inherited. Call before codi.attach_thought_projection."""
    old = getattr(model, 'thought_proj', None)
    if old is not None and (cfg['method'] == 'coconut' or isinstance(old, SoftThought)):
        del model.thought_proj
    if cfg['method'] == 'coconut' and cfg.get('coconut_thought', 'hidden') == 'soft':  # .get: older checkpoints
        model.thought_proj = SoftThought(model.transformer.wte)


def coconut_loss(model, batch, cfg):
    """Cross-entropy on the remaining steps and the answer; gradients flow through every thought."""
    x, y, valid, is_latent = batch
    logits, _, _ = R.thought_forward(model, x, valid, is_latent, thought=getattr(model, 'thought_proj', None))
    return F.cross_entropy(logits.flatten(0, 1).float(), y.flatten(), ignore_index=-1)


def probe_thoughts(model, tok, ckpt, question, k=5):
    """Coconut's 'latent search' view: the top-k tokens each continuous thought decodes to through
    the LM head (on ProsQA, the frontier nodes of the search)."""
    prompt = R.question_prompt(tok, ckpt, question)
    _, _, probe = R.prefill(model, tok, [prompt], 1)
    if probe is None:
        return []
    probs = R.decodable_probs(tok, probe[0])  # (n_thoughts, V): rank only ids the tokenizer can decode
    top = probs.topk(k, dim=-1)
    return [[(tok.decode([i]), p) for i, p in zip(ids.tolist(), ps.tolist())] for ids, ps in zip(top.indices, top.values)]


def without_thoughts(prompt, slot):
    """The zero-thought probe's prompt: the same ids without the thought slots (<bot>, and <eot> where
    the layout writes it, stay). With eot_after_steps that is stage 0's prompt, Q <bot>: a model that
    can still write its CoT then does so, which its # tokens shows."""
    return [t for t in prompt if t != slot]


@torch.no_grad()
def thought_probes(model, tok, ckpt, examples, batch_size=250, max_new_tokens=64):
    """Do the answers depend on what the thoughts hold? Greedy accuracy on examples (1) as trained,
    (2) with zero thoughts: the same prompts without their thought slots (without_thoughts), which
    also moves every later position, and (3) with the thought swap: each example gets the thoughts of
    the previous example of its batch in place of its own (positions unchanged). A model that ignores
    its thoughts keeps (3) at (1); one that reads them falls towards chance. Also step_match[j][i]: the
    share of examples whose thought j decodes (LM head, top-1) to R.step_result of their step i."""
    slot = tok.id(R.PAUSE if ckpt['config']['pause_as_thought'] else R.LATENT)
    base = getattr(model, 'thought_proj', None)  # Coconut: None (the hidden state itself) or SoftThought
    hits = {'accuracy': 0, 'zero_thoughts': 0, 'swap': 0}
    match = {}  # (j, i) -> count
    for b in range(0, len(examples), batch_size):
        chunk = examples[b:b + batch_size]
        prompts = [R.question_prompt(tok, ckpt, ex['question']) for ex in chunk]
        seen = []  # each thought column's input (B, 1, C), as the thought map made it

        def record(h):
            seen.append(base(h) if base is not None else h)
            return seen[-1]

        replay = iter(seen)  # read by the swap run, after the first run has filled seen
        runs = [('accuracy', prompts, record),
                ('swap', prompts, lambda h: next(replay).roll(1, dims=0)),  # row r gets row r-1's thought
                ('zero_thoughts', [without_thoughts(p, slot) for p in prompts], None)]
        for name, ps, thought in runs:
            logits, cache, probe = R.prefill(model, tok, ps, max_new_tokens, thought=thought)
            banned = R.banned_mask(tok, logits.size(-1), logits.device, R.closes_thought(tok, ps))
            outs = R.continue_generation(model, tok, logits, cache, banned=banned)
            hits[name] += sum(R.is_correct(tok.decode(o), ex) for o, ex in zip(outs, chunk))
            if name == 'accuracy' and probe is not None:
                top = probe.argmax(-1).tolist()  # (B, n_thoughts) the top-1 id each thought decodes to
                for row, ex in zip(top, chunk):
                    results = [R.step_result(tok, st) for st in ex['steps']]
                    for j, t in enumerate(row):
                        for i, r in enumerate(results):
                            match[j, i] = match.get((j, i), 0) + (t == r)
    out = {k: v / len(examples) for k, v in hits.items()}
    out['step_match'] = R.step_match_table(match, len(examples))
    return out
