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
    stage = start_stage + epoch // epochs_per_stage, at most max_latent_stage + 1; past max_latent_stage
    every step is gone and the thoughts stay max_latent_stage*c; train.py resets AdamW when the stage changes.
Stage 0 keeps <bot> <eot> as the official code does, so that with c thoughts per step of c tokens every
explicit token sits at the same position at every stage; <eot> is a target there (our addition), so
the first thought starts as what the stage-0 model predicts after <bot>. Both matter for a model
trained from scratch, which finds what to read by absolute position (README, "Coconut").
eot_after_steps = True (our variant) closes the block after the whole chain instead:
    stage k:  Q \n <bot> [h]*(k*c) | S(k+1) \n ... Sn \n <eot> ### A <eos>    (stage 0: no thoughts)
With c thoughts per step of c tokens, thought j then sits exactly where stage 0 wrote CoT token j and is
computed from the position that predicted that token: the thought is a drop-in for the token, and
with soft thoughts the all-latent model starts as the stage-0 model itself (README, "Coconut").
keep_position (coconut_keep_position, ours, after iCoT's option of that name): every token keeps the
position id it had at stage 0, and the c thoughts of a step of L tokens take that step's last c
positions; with c < L the curriculum then compresses (c = 1: three tokens per step become one thought)
without moving any token the stage-0 model reads (reasoning.thought_forward applies the shift; it
needs step i to have one token length L_i in every example, coconut_step_length: the running sum's steps
are all 'd s \n', L = 3; 3 x 3 multiplication's are 5, 13 and 7 tokens). With eot_after_steps, c = 1, L = 3:
    stage k:  Q \n <bot> [h]*k | S(k+1) \n .. Sn \n <eot> ### A    positions: Q, <bot> at P, thought j
              at P + 3j (where step j's newline was), every later token where stage 0 had it
coconut_thought = 'scaled' feeds the same hidden state times one number, h * s (ScaledThought), with s the
ratio of a token embedding's length to the hidden state's, measured once on the starting weights
(measure_thought_scale): the paper's thought at the length of the inputs the model was trained on. A
model trained from scratch has a last hidden state ~12x longer than its token embeddings; fed back as
it is, it swamps what the blocks add at its column, and the curriculum stays at chance (README, "Coconut").
Scaled, the paper's curriculum trains it to 100% on the quickstart.
coconut_thought = 'soft' replaces the hidden state by the soft embedding softmax(h E^T) @ E of the same
position (SoftThought): a thought in the span of the token embeddings, which the model reads like the
token it would have written (soft thinking's and Latent-SFT's input).
Decoding: the checkpoint's number of thoughts in the prefill, then greedy decoding (reasoning.generate).
Probes: probe_thoughts (what each thought decodes to through the LM head, the paper's latent search
view); thought_probes (accuracy with zero thoughts, with another example's thoughts, and which step
each thought decodes to); untrained_thoughts (python coconut.py --out_dir=STAGE0: can the stage-0
model read each kind of thought before any Coconut training?); linear_step_match (python coconut.py
--probe=linear: what a linear readout of each thought gives, beside its top token). Ablations (train.py config):
no_curriculum, no_thoughts, pause_as_thought.
"""

import sys

import torch
from torch import nn
from torch.nn import functional as F

import reasoning as R


def coconut_stage(iter_num, n_train, cfg):
    """The curriculum stage at an iteration (epochs counted in examples seen), at most max_latent_stage + 1:
    every stage past max_latent_stage has the same layout (all steps latent), so the count stops there and
    the curriculum's last stage is one stage to the end of the run (no AdamW reset without a change of
    layout, and stop_at_val_acc can end it: train.py stops a curriculum in its last stage only)."""
    final = cfg['max_latent_stage'] + 1
    if cfg['no_curriculum']:
        return final
    epoch = iter_num * cfg['batch_size'] * cfg['gradient_accumulation_steps'] / n_train
    return min(final, cfg['start_stage'] + int(epoch / cfg['epochs_per_stage'] + 1e-9))  # 1e-9: 0.288 / 0.096 is 2.9999...


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
    head), instead of h itself: a vector in the span of the token embeddings and of their length,
    which the model reads like the token it would have written, so the stage-0 model already passes
    its running state through it. No parameters: attached as model.thought_proj, where every decoder
    looks for the thought map."""

    def __init__(self, wte):
        super().__init__()
        self.wte = (wte,)  # a tuple keeps nn.Module from registering the model's own embedding twice

    def forward(self, h):
        E = self.wte[0].weight  # (V, C)
        p = F.softmax((h @ E.t()).float(), dim=-1).to(E.dtype)  # (B, 1, V), the LM head's distribution
        return p @ E  # (B, 1, C)


class ScaledThought(nn.Module):
    """coconut_thought = 'scaled': the paper's thought, the last hidden state h, times one fixed number s
    (thought_scale) that gives it the length of the token embeddings it stands in for. The direction is
    the paper's, and so is the gradient (times s); only the length changes. On the quickstart's stage-0
    model h after ln_f is ~12x longer than a token embedding (14.8 vs 1.27): fed back as it is, the
    residual stream at its column starts 12x too large, the blocks' updates barely turn it, and the
    untrained all-latent model is at 0.4% valid; scaled (s = 0.074), the same untrained model is at 74%
    and its stage 1 at 100% (untrained_thoughts; README, "Coconut"). No parameters: s comes from the config."""

    def __init__(self, scale):
        super().__init__()
        assert scale > 0, f"thought_scale {scale} must be > 0 (train.py measures it: measure_thought_scale)"
        self.scale = scale

    def forward(self, h):
        return h * self.scale  # (B, 1, C)


@torch.no_grad()
def measure_thought_scale(model, tok, parts, cfg):
    """s = mean |e(y_t)| / mean |h_(t-1)|, over the targets of these examples in stage 0's layout: the
    length of the token embedding a position reads, over the length of the hidden state that predicted
    that token. A thought h * s then reads, by length, like the token it replaces. Measured once, on the
    weights Coconut starts from (train.py records it as thought_scale, for resuming and decoding)."""
    x, y, valid, _ = coconut_batch(tok, parts, {**cfg, 'uniform_prob': 0.0}, 0, None)  # every example at stage 0
    _, _, hiddens = model(x, valid=valid, hidden=True)
    target = y >= 0  # (B, T): positions that predict a token of the target; y holds that token
    h_norm = hiddens[-1][target].norm(dim=-1).mean()  # the last hidden state, after ln_f
    e_norm = model.transformer.wte(y[target]).norm(dim=-1).mean()
    return (e_norm / h_norm).item()


def attach_thought(model, cfg):
    """A Coconut run's thought map (model.thought_proj): SoftThought for 'soft', ScaledThought for 'scaled'
    (once cfg holds thought_scale: train.py measures it after loading the weights, then calls this
    again), none for the paper's hidden state (a map left by a checkpoint of another kind is dropped);
    other methods lose a Coconut map they inherited. With keep_position also the thoughts' positions,
    model.thought_keep_position = (c, L), where every decoder looks for them (reasoning.prefill).
    Call before codi.attach_thought_projection."""
    old = getattr(model, 'thought_proj', None)
    if old is not None and (cfg['method'] == 'coconut' or isinstance(old, (SoftThought, ScaledThought))):
        del model.thought_proj
    kind = cfg.get('coconut_thought', 'hidden')  # .get: checkpoints from before the knob
    if cfg['method'] == 'coconut' and kind == 'soft':
        model.thought_proj = SoftThought(model.transformer.wte)
    elif cfg['method'] == 'coconut' and kind == 'scaled' and cfg.get('thought_scale', 0) > 0:
        model.thought_proj = ScaledThought(cfg['thought_scale'])
    if hasattr(model, 'thought_keep_position'):
        del model.thought_keep_position
    if cfg['method'] == 'coconut' and cfg.get('coconut_keep_position', False) and cfg.get('coconut_step_len'):
        model.thought_keep_position = (cfg['c_thought'], cfg['coconut_step_len'])  # (c, L): reasoning.thought_forward


def coconut_step_length(parts, c):
    """L, the token length of every reasoning step (the step's newline included), for keep_position: an int
    when every step has one length (the running sum's 'd s \n'), else a list, the length of step i
    (3 x 3 multiplication: 5, 13, 7). Decoding places the thoughts without seeing the steps, so step i
    must have one length in every example, and c <= L_i thoughts must fit in its positions."""
    lengths = {tuple(len(s) for s in steps) for _, steps, _ in parts}
    if len(lengths) != 1:
        raise ValueError("coconut_keep_position needs step i to have one token length in every example; these have "
                         f"{len(lengths)} patterns, e.g. {sorted(lengths)[:3]}")
    Ls = lengths.pop()
    if c > min(Ls):
        raise ValueError(f"coconut_keep_position: c_thought={c} thoughts do not fit in the {min(Ls)} positions of a step")
    return Ls[0] if len(set(Ls)) == 1 else list(Ls)


def coconut_loss(model, batch, cfg):
    """Cross-entropy on the remaining steps and the answer; gradients flow through every thought."""
    x, y, valid, is_latent = batch
    logits, _, _ = R.thought_forward(model, x, valid, is_latent, thought=getattr(model, 'thought_proj', None),
                                     keep_position=getattr(model, 'thought_keep_position', None))
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
    base = getattr(model, 'thought_proj', None)  # None (the hidden state itself), ScaledThought, SoftThought or CODI's projection
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


@torch.no_grad()
def untrained_thoughts(model, tok, ckpt, examples, kinds=('hidden', 'scaled', 'soft'), batch_size=250):
    """Can a stage-0 model read its own thoughts before any Coconut training? Its weights, unchanged,
    decode at every stage k = 1..max_latent_stage with the first k steps as thoughts of each kind
    (thought_probes: accuracy, and the swap that says whether the answer comes from the thoughts).
    Returns the measured thought_scale and rows {'stage', kind: accuracy, kind + ' swap': swap}."""
    cfg = ckpt['config']
    assert cfg['method'] == 'coconut' and ckpt['stage'] == 0, "a Coconut stage-0 checkpoint (quickstart_coconut0.py)"
    parts = [R.encode_parts(tok, ex) for ex in examples[:256]]
    scale = measure_thought_scale(model, tok, parts, {**cfg, 'device': model.lm_head.weight.device})
    rows = []
    for stage in range(1, cfg['max_latent_stage'] + 1):
        row = {'stage': stage}
        for kind in kinds:
            attach_thought(model, {**cfg, 'coconut_thought': kind, 'thought_scale': scale})
            res = thought_probes(model, tok, {**ckpt, 'stage': stage}, examples, batch_size)
            row[kind], row[kind + ' swap'] = res['accuracy'], res['swap']
        rows.append(row)
    attach_thought(model, cfg)
    return scale, rows


@torch.no_grad()
def thought_inputs(model, tok, ckpt, examples, batch_size=250):
    """(N, n_thoughts, C): the vector each thought feeds in, as decoding makes it (the thought map applied)."""
    base = getattr(model, 'thought_proj', None)
    out = []
    for b in range(0, len(examples), batch_size):
        seen = []
        def record(h):
            seen.append(base(h) if base is not None else h)
            return seen[-1]
        prompts = [R.question_prompt(tok, ckpt, ex['question']) for ex in examples[b:b + batch_size]]
        R.prefill(model, tok, prompts, 1, thought=record)
        out.append(torch.cat(seen, dim=1))
    return torch.cat(out).float()


def linear_readout(x, y, x_eval, y_eval, steps=500, lr=0.05):
    """Accuracy on (x_eval, y_eval) of a softmax regression fitted to (x, y) (inputs standardized with
    x's mean and std, full-batch Adam): how much of y a linear map can read from x."""
    mu, sd = x.mean(0), x.std(0) + 1e-6
    classes = torch.unique(torch.cat([y, y_eval]))  # labels -> 0..K-1
    W = torch.zeros(x.size(1), len(classes), requires_grad=True)
    b = torch.zeros(len(classes), requires_grad=True)
    opt = torch.optim.Adam([W, b], lr=lr)
    target = torch.searchsorted(classes, y.contiguous())
    with torch.enable_grad():
        for _ in range(steps):
            loss = F.cross_entropy(((x - mu) / sd) @ W + b, target)
            opt.zero_grad()
            loss.backward()
            opt.step()
    with torch.no_grad():
        pred = classes[(((x_eval - mu) / sd) @ W + b).argmax(-1)]
    return (pred == y_eval).float().mean().item()


def linear_step_match(model, tok, ckpt, train_examples, eval_examples):
    """What a thought holds beyond its top token: match[j][i] = how often a linear readout of thought j
    (fitted on train_examples) gives R.step_result of step i on eval_examples. step_match (thought_probes)
    asks the LM head the same question; a thought can hold a running sum that its top token is not."""
    results = lambda exs: torch.tensor([[R.step_result(tok, st) for st in ex['steps']] for ex in exs])
    x, x_eval = thought_inputs(model, tok, ckpt, train_examples), thought_inputs(model, tok, ckpt, eval_examples)
    y, y_eval = results(train_examples), results(eval_examples)  # (N, n_steps): chains of one length
    return [[linear_readout(x[:, j], y[:, i], x_eval[:, j], y_eval[:, i]) for i in range(y.size(1))]
            for j in range(x.size(1))]


@torch.no_grad()
def token_accuracy(model, tok, ckpt, examples, stage):
    """Teacher-forced accuracy of each target token in the layout of a stage (no mixing), with the
    checkpoint's thoughts and positions: (the target's tokens as text, (n_target,) share of the examples
    whose token there is the argmax). Which tokens fail says what the thoughts do not carry (3 x 3
    multiplication: the middle digits of a running sum whose partial product became thoughts; README,
    "Coconut"). Needs examples with one target length at this stage (true of the CPU tasks)."""
    cfg = {**ckpt['config'], 'uniform_prob': 0.0, 'device': model.lm_head.weight.device}
    parts = [R.encode_parts(tok, ex) for ex in examples]
    x, y, valid, is_latent = coconut_batch(tok, parts, cfg, stage, None)
    logits, _, _ = R.thought_forward(model, x, valid, is_latent, thought=getattr(model, 'thought_proj', None),
                                     keep_position=getattr(model, 'thought_keep_position', None))
    words = [tok.decode([t]) for t in y[0][y[0] >= 0].tolist()]
    return words, R.target_token_accuracy(logits, y)


def main(argv):
    """python coconut.py --out_dir=out-quickstart-coconut0 [--eval=valid --eval_limit=500]: the
    untrained_thoughts table of a stage-0 checkpoint, in markdown.
    python coconut.py --probe=linear --out_dir=CKPT [--train_examples=4000]: linear_step_match of a
    trained Coconut checkpoint against step_match (the LM head's top token), in markdown.
    python coconut.py --probe=tokens --out_dir=CKPT --stage=1 [--eval_limit=200]: token_accuracy, each
    target token of the first eval question with the share of questions the model gets right there."""
    import configurator
    from sample import load_checkpoint
    C = configurator
    cfg = dict(out_dir='out-quickstart-coconut0', probe='untrained', eval='valid', eval_limit=500,
               train_examples=4000, stage=-1, device='cpu')
    C.configure(cfg, argv)
    C.check(cfg, {'out_dir': C.ANY, 'probe': C.one_of('untrained', 'linear', 'tokens'), 'eval': C.ANY,
                  'eval_limit': C.at_least(0), 'train_examples': C.at_least(1), 'stage': C.at_least(-1),
                  'device': C.ANY})
    model, tok, ckpt = load_checkpoint(cfg['out_dir'], cfg['device'])
    examples = R.load_split(f"data/{ckpt['config']['dataset']}", cfg['eval'])
    examples = examples[:cfg['eval_limit']] if cfg['eval_limit'] else examples
    if cfg['probe'] == 'tokens':
        stage = ckpt.get('stage', 0) if cfg['stage'] < 0 else cfg['stage']  # -1: the checkpoint's own stage
        words, acc = token_accuracy(model, tok, ckpt, examples, stage)
        print(f"{cfg['out_dir']} at stage {stage}, teacher-forced, {len(examples)} {cfg['eval']} questions: each target "
              f"token of the first, and the share of the questions whose token there is the model's argmax")
        print(' '.join(f"{w.strip() or repr(w)}:{a:.2f}" for w, a in zip(words, acc.tolist())))
        return
    if cfg['probe'] == 'linear':
        train = R.load_split(f"data/{ckpt['config']['dataset']}", 'train')[:cfg['train_examples']]
        lin = linear_step_match(model, tok, ckpt, train, examples)
        head = thought_probes(model, tok, ckpt, examples)['step_match']
        print(f"{cfg['out_dir']}: share of {len(examples)} {cfg['eval']} questions whose step i result is read from "
              f"thought j, % (a linear readout fitted on {len(train)} train questions / the LM head's top token)")
        print('| thought | ' + ' | '.join(f'step {i + 1}' for i in range(len(lin[0]))) + ' |\n|---|'
              + '---|' * len(lin[0]))
        for j, (a, b) in enumerate(zip(lin, head)):
            print(f"| {j + 1} | " + ' | '.join(f"{100 * u:.1f} / {100 * v:.1f}" for u, v in zip(a, b)) + ' |')
        return
    scale, rows = untrained_thoughts(model, tok, ckpt, examples)
    print(f"{cfg['out_dir']} (stage 0, untrained for thoughts), {len(examples)} questions of {cfg['eval']}, greedy; "
          f"thought_scale {scale:.4f}. Accuracy % (swap %) with the first k steps as thoughts:")
    print('| stage k | hidden state h | scaled h | soft |\n|---|---|---|---|')
    for r in rows:
        print(f"| {r['stage']} | " + ' | '.join(f"{100 * r[k]:.1f} ({100 * r[k + ' swap']:.1f})"
                                               for k in ('hidden', 'scaled', 'soft')) + ' |')


if __name__ == '__main__':
    main(sys.argv[1:])
