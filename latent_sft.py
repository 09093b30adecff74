r"""
Latent-SFT: Deng et al., "Latent reasoning in LLMs as a vocabulary-space superposition", arXiv 2510.15522.
Both training stages (layouts, masks, batches, losses, the soft-labels file), decoding and the N_eff probe.
It is the longest method file because the method has two stages with an encoder-decoder of its own
(two attention masks) and a labels file between them; each part reads top to bottom below.

A latent token is a soft embedding in the span of the vocabulary, a superposition of the top-k tokens:
    alpha = softmax(top-k(logits) / T),   z = sum_j alpha_j E[id_j] = alpha @ E     (latent_topk, soft_embedding)
Stage 1 makes the latents from the CoT, cut into segments S_1..S_N of r tokens with a slot L_i after each.
One model (shared weights) runs two passes:
    encoder:  Q \n S1 L1 S2 L2 .. SN LN                      induction mask: L_i sees Q, S1..Si, no other L
    decoder:  Q \n <bot> z1 S2 z2 S3 .. zN <eot> ### A <eos>   supervision mask: S(i+1) sees z1..zi only;
              z_i sees Q and z1..zi; <eot> and the answer see Q and all z
    loss_1 = CE(S_2..S_N, <eot>, ### A | decoder over Q, z_1..z_N)    the gradient reaches the encoder through z
A slot's input is its segment's last token plus a learned <latent> embedding that starts at zero, so the
latents start as the CoT model's next-token predictions (latent_encode says why). At the end stage 1
saves every training example's (ids, alpha) to out_dir/latent_labels.pt. Stage 2 (teacher forcing):
    Q \n <bot> | z1 .. zN <eot> ### A <eos>
    loss_2 = w_kl * mean_i KL(alpha_i || p(. | Q <bot> z_<i)) + w_ce * CE(<eot> ### A | Q <bot> z_1..z_N)
Decoding (think, latent_generate): the prompt ends with <bot>; the model feeds itself soft embeddings of
its own top-k distribution until its argmax is <eot> or a budget is spent; then <eot> and the answer,
decoded like any other. Probe: N_eff = exp(entropy) of how a latent's mass spreads over distinct
continuations (effective_parallelism), and the Top-2 score (top2_score), both per latent (probe_latents);
latent_thought_probes: the accuracy with zero latents and with another question's latents (the swap), and
what each latent decodes to (Coconut's thought probes, for latents).
latent_encoder = 'frozen' (attach_frozen_encoder): a frozen copy of the init CoT makes the latents and the
model trains as the decoder only (the official code's phase with the encoder frozen).

Ablations (the paper's, each one config key; the default is the method above):
    latent_induction_mask = False     stage 1's encoder runs under a plain causal mask (L_i sees L_<i)
    latent_supervision_mask = False   stage 1's decoder runs under a plain causal mask (S(i+1) and the
                                      answer also read the explicit segments before them)
    latent_input = 'hidden'           stage 1 feeds the decoder the encoder's last hidden state at L_i
                                      (after ln_f, as Coconut) instead of z_i = alpha_i @ E; no soft labels
    latent_schedule = 'alternate'     stage 2 cycles a KL step, a CE step and a joint step (the paper's
                                      choice for stability) instead of the joint loss at every step
"""
import copy
import hashlib
import json
import math
import os

import torch
from torch.nn import functional as F

import reasoning as R


# -----------------------------------------------------------------------------
# the latent token: one function for stage 1, stage 2 and decoding, so they cannot drift apart

def latent_topk(logits, k, banned=()):
    """logits (..., V) -> ids (..., k) of the k largest logits and alpha (..., k), their softmax
    renormalized over those k. banned ids never enter a latent (padding, <latent>, <eot>: a latent
    that could put mass on <eot> would blur the stopping rule)."""
    assert k <= logits.size(-1) - len(set(banned)), f"latent_topk={k} is more than the ids a latent may use"
    logits = logits.float()
    if len(banned):
        logits = logits.index_fill(-1, torch.as_tensor(banned, device=logits.device), -float('inf'))
    top = logits.topk(k, dim=-1)
    return top.indices, top.values.softmax(-1)


def soft_embedding(E, ids, alpha):
    """z = sum_i alpha_i E[ids_i]: (..., k) ids and weights -> (..., C) input embeddings. E: (V, C)."""
    return (alpha.unsqueeze(-2).to(E.dtype) @ E[ids]).squeeze(-2)  # (..., 1, k) @ (..., k, C)


# -----------------------------------------------------------------------------
# stage 1: the encoder makes the latents from the CoT, the decoder rebuilds the rest from them

LQ, LZ, LS, LA, LPAD = range(5)  # decoder roles: question (+ <bot>), latent, segment, answer (<eot> on), padding


def latent_segments(steps, r, first=0):
    """The CoT's tokens (every step, newlines included) cut into segments of r; the last may be shorter.
    first > 0: the first segment has `first` tokens, the others r (latent_first_segment). A latent
    starts as the CoT model's prediction after its segment's last token, so the cut decides what it
    starts holding: on the running sum ('d s \\n' per step) r = 3 puts every latent after a newline,
    where the prediction is the next digit, already in the question; first = 1 puts it after a digit,
    where the prediction is the new running sum, the state the chain must carry."""
    cot = [t for s in steps for t in s]
    first = first or r
    return ([cot[:first]] if cot else []) + [cot[i:i + r] for i in range(first, len(cot), r)]


def latent_encoder_row(tok, parts, r, first=0, bot=False):
    """Encoder ids Q S1 L1 .. SN LN of one example and their position ids. CoT tokens keep their CoT
    layout positions (the slots take no room), so the encoder reads the CoT as the CoT model does;
    L_i shares the position of its segment's last token (see latent_encode). bot: the CoT model wrote
    its steps after <bot> (Coconut's stage 0, latent_cot_bot), so the encoder reads Q <bot> S1 L1 ..."""
    question, steps = parts[0], parts[1]
    question = list(question) + ([tok.id(R.BOT)] if bot else [])
    ids, pos, p = list(question), list(range(len(question))), len(question)  # p: the next CoT token's position
    for seg in latent_segments(steps, r, first):
        ids += seg + [tok.id(R.LATENT)]
        pos += list(range(p, p + len(seg))) + [p + len(seg) - 1]
        p += len(seg)
    return ids, pos


def latent_decoder_row(tok, parts, r, first=0):
    """Decoder of one example: the (prompt, target) pair for collate, and per position its role, its
    latent index k (z_i and S(i+1): i; the answer: N) and position id. Positions are those of stage 2's
    Q <bot> z1..zN <eot> A: S(i+1) continues from z_i as a side branch that no other position reads,
    so the latents and the answer compute here just what they compute in stage 2."""
    question, steps, answer = parts[:3]
    segs = latent_segments(steps, r, first)
    N, b = len(segs), len(question)  # b: position of <bot>
    ids, role, k, pos = list(question) + [tok.id(R.BOT)], [LQ] * (b + 1), [0] * (b + 1), list(range(b + 1))
    for i in range(1, N + 1):
        seg = segs[i] if i < N else []  # S(i+1) follows z_i; nothing follows z_N but <eot>
        ids += [tok.id(R.LATENT)] + seg
        role += [LZ] + [LS] * len(seg)
        k += [i] * (1 + len(seg))
        pos += list(range(b + i, b + i + 1 + len(seg)))
    tail = [tok.id(R.EOT)] + answer
    ids, role, k = ids + tail, role + [LA] * len(tail), k + [N] * len(tail)
    pos += list(range(b + N + 1, b + N + 1 + len(tail)))
    return (ids[:b + 1], ids[b + 1:]), role, k, pos


def right_pad(rows, fill, device):
    """Lists of different lengths -> (B, T) tensor, filled on the right."""
    out = torch.full((len(rows), max(len(r) for r in rows)), fill, dtype=torch.long)
    for b, r in enumerate(rows):
        out[b, :len(r)] = torch.tensor(r, dtype=torch.long)
    return out.to(device)


def causal_mask(B, T, device):
    """(B, T, T) bool, plain causal: the ablations' replacement for either mask. With right padding no
    real query sees padding; padding queries are garbage, ignored as everywhere."""
    return torch.ones(T, T, dtype=torch.bool, device=device).tril().expand(B, T, T)


def induction_mask(is_slot, valid):
    """(B, T, T) bool, True where query t may attend to key s: causal, and no query sees a latent slot
    other than itself (nor padding). CoT tokens attend as in the CoT layout; L_i sees Q and S1..Si."""
    T = is_slot.size(1)
    causal = torch.ones(T, T, dtype=torch.bool, device=is_slot.device).tril()
    return causal & (valid & ~is_slot)[:, None, :] | torch.eye(T, dtype=torch.bool, device=is_slot.device)


def supervision_mask(role, k):
    """(B, T, T) bool, True where query t may attend to key s <= t:
         s is a latent z_j with j <= k of t                (S(i+1) and z_i have k = i; the answer k = N)
      or s is in the question and t is not a segment token
      or s and t are in the same segment, or both in the answer.
    Every position also sees itself, so no row is empty (padding rows are garbage, ignored)."""
    T = role.size(1)
    rq, rk, kq, kk = role[:, :, None], role[:, None, :], k[:, :, None], k[:, None, :]  # query (B, T, 1), key (B, 1, T)
    sees = ((rk == LZ) & (kk <= kq)
            | (rk == LQ) & (rq != LS) & (rq != LPAD)
            | (rk == rq) & (kk == kq) & ((rq == LS) | (rq == LA)))
    causal = torch.ones(T, T, dtype=torch.bool, device=role.device).tril()
    return causal & sees | torch.eye(T, dtype=torch.bool, device=role.device)


def latent_banned(tok, model_vocab):
    """Ids a latent never mixes in: what sampling never picks, and <eot> (it ends the thinking)."""
    return torch.tensor(R.banned_ids(tok, model_vocab) + [tok.id(R.EOT)])


def latent_encoder_batch(tok, parts, cfg):
    """xe (B, Te) encoder ids, pe position ids, me induction mask (B, Te, Te), se (B, Te) the slots."""
    rows = [latent_encoder_row(tok, p, cfg['latent_r'], cfg.get('latent_first_segment', 0), cfg.get('latent_cot_bot', False))
            for p in parts]
    if max(len(ids) for ids, _ in rows) > cfg['block_size']:
        raise ValueError(f"a Latent-SFT encoder row is longer than block_size {cfg['block_size']}: raise block_size")
    xe = right_pad([ids for ids, _ in rows], tok.id(R.PAD), cfg['device'])
    pe = right_pad([pos for _, pos in rows], 0, cfg['device'])
    valid = right_pad([[1] * len(ids) for ids, _ in rows], 0, cfg['device']).bool()
    se = xe == tok.id(R.LATENT)
    if not cfg.get('latent_induction_mask', True):  # ablation (LTIM off): a slot also reads the earlier slots
        return xe, pe, causal_mask(*xe.shape, xe.device), se
    return xe, pe, induction_mask(se, valid), se


def latent_stage1_batch(tok, parts, cfg, model_vocab):
    """The encoder batch, then the decoder's: xd, yd (no label where a slot comes next), pd positions,
    md supervision mask, sd slots; and the ids latents may not use."""
    rows = [latent_decoder_row(tok, p, cfg['latent_r'], cfg.get('latent_first_segment', 0)) for p in parts]
    xd, yd, _ = R.collate([pair for pair, _, _, _ in rows], tok.id(R.PAD), cfg['device'], cfg['block_size'])
    T, dev = xd.size(1), cfg['device']
    role = right_pad([r[:-1] for _, r, _, _ in rows], LPAD, dev)[:, :T]  # x drops each row's last token
    k = right_pad([kk[:-1] for _, _, kk, _ in rows], 0, dev)[:, :T]
    pd = right_pad([p[:-1] for _, _, _, p in rows], 0, dev)[:, :T]
    slot = tok.id(R.LATENT)
    yd = yd.masked_fill(yd == slot, -1)  # the last token of a segment is followed by a slot: nothing to learn
    # ablation (LTSuM off): the decoder is causal, so the answer may read the segments instead of the latents
    md = supervision_mask(role, k) if cfg.get('latent_supervision_mask', True) else causal_mask(*xd.shape, dev)
    return (*latent_encoder_batch(tok, parts, cfg), xd, yd, pd, md, xd == slot, latent_banned(tok, model_vocab).to(dev))


def latent_encoder_pass(model, xe, pe, me, se):
    """The encoder over Q S1 L1 .. SN LN: logits (B, Te, V) and the last hidden states (after ln_f,
    (B, Te, C)). A slot's input is its segment's last token plus the <latent> embedding (latent_encode)."""
    emb = model.transformer.wte(xe)  # (B, Te, C)
    last = model.transformer.wte(xe.roll(1, dims=1))  # the token before each slot: its segment's last
    logits, _, h = model(embeds=emb + last * se[..., None], pos=pe, attn_mask=me, hidden=True)
    return logits, h[-1]


def latent_encode(model, xe, pe, me, se, banned, k, temperature=1.0):
    """The latents of every slot of the encoder batch, in row-major order: ids, alpha (M, k) each.
    A slot's input is its segment's last token plus the learned <latent> embedding, at that token's
    position: with the <latent> row at zero (latent_init_slot) the slot is nearly a replica of that
    token (it only sees it twice, as that token and as itself), so the latents start as the CoT
    model's next-token predictions and training refines them.
    (A bare <latent> slot starts from a confident guess that carries no information, and its saturated
    softmax passes almost no gradient: in our CPU runs such latents never became informative.)"""
    logits, _ = latent_encoder_pass(model, xe, pe, me, se)  # (B, Te, V)
    return latent_topk(logits[se] / temperature, k, banned)


@torch.no_grad()
def latent_init_slot(model, tok):
    """Stage 1 from another method's weights: the <latent> row to zero, so that every slot starts as
    (nearly) a replica of its segment's last token. (In a CoT checkpoint every unused special row has
    been pushed the same way by the tied LM head: <latent>, <bot> and <eot> are one vector, norm ~3.)"""
    model.transformer.wte.weight[tok.id(R.LATENT)].zero_()


def attach_frozen_encoder(model):
    """latent_encoder = 'frozen': a copy of the model as it is now (the init checkpoint, its <latent> row
    already at zero: call after latent_init_slot, before any step), every parameter frozen, makes the
    latents, as model.latent_encoder (R.attach_frozen_copy: the optimizer and checkpoint never see it).
    Why: with one shared model, what the decoder learns (after a digit comes a newline, in its
    segments) also changes the encoder, and on the running sum it overwrote the CoT's prediction at the
    slots (the running sum) in 3 of 4 runs (README, "Latent-SFT")."""
    return R.attach_frozen_copy(model, 'latent_encoder')


def encoder_of(model):
    """The model that makes the latents: the frozen copy if one is attached, else the model itself."""
    encoder = getattr(model, 'latent_encoder', None)
    return model if encoder is None else encoder


def latent_stage1_forward(model, batch, k, temperature=1.0, latent_input='soft'):
    """Decoder logits (B, Td, V) on the latents the encoder made; the gradient runs through z into the
    encoder (none with a frozen encoder; z = alpha @ E still uses the trained E, as stage 2 does).
    latent_input 'soft': z = alpha @ E (the method); 'hidden': z = the encoder's last hidden state at
    the slot (the paper's hidden-state ablation: a latent anywhere in R^d, as Coconut's)."""
    xe, pe, me, se, xd, yd, pd, md, sd, banned = batch
    encoder = encoder_of(model)
    if latent_input == 'hidden':
        _, h = latent_encoder_pass(encoder, xe, pe, me, se)
        z = h[se]  # (M, C)
    else:
        ids, alpha = latent_encode(encoder, xe, pe, me, se, banned, k, temperature)
        z = soft_embedding(model.embed, ids, alpha)  # (M, C)
    emb = model.transformer.wte(xd)  # (B, Td, C)
    emb = emb.masked_scatter(sd[..., None].expand_as(emb), z.to(emb.dtype))  # slot j of the batch gets z_j
    logits, _ = model(embeds=emb, pos=pd, attn_mask=md)
    return logits


def latent_stage1_accuracy(model, batch, tok, k, temperature=1.0, latent_input='soft'):
    """Stage 1's check: is the answer right when read from the latents the encoder made of the gold
    CoT? Teacher-forced argmax from <eot> on, which is exactly greedy decoding of '### A <eos>'."""
    logits = latent_stage1_forward(model, batch, k, temperature, latent_input)
    yd, banned = batch[5], batch[-1]
    pred = logits.float().index_fill(-1, banned[banned != tok.id(R.EOT)], -float('inf')).argmax(-1)
    answer = ((batch[4] == tok.id(R.EOT)).cumsum(1) > 0) & (yd != -1)  # (B, Td) positions from <eot> on
    return ((pred == yd) | ~answer).all(1).float().mean().item()


# -----------------------------------------------------------------------------
# stage 2: the model learns to write the stage-1 latents itself, and to answer from them

def latent_stage2_batch(tok, parts, cfg):
    """Q \n <bot> | <latent>*N <eot> ### A <eos> from (question, steps, answer, (ids, alpha)) parts:
    x, y (CE labels: <eot> and the answer), the slots, kl_at (the positions that predict a latent:
    <bot> and z1..z(N-1)), and the soft labels ids, alpha (M, k) in row-major order."""
    slot = tok.id(R.LATENT)
    pairs = []
    for q, steps, answer, (ids, _) in parts:
        prompt, target = R.layout(tok, (q, steps, answer), 'latent', n_steps=0, bot=True)
        pairs.append((prompt, [slot] * len(ids) + [tok.id(R.EOT)] + target))
    x, y, _ = R.collate(pairs, tok.id(R.PAD), cfg['device'], cfg['block_size'])
    kl_at = y == slot
    ids = torch.cat([p[3][0] for p in parts]).to(cfg['device'])
    alpha = torch.cat([p[3][1] for p in parts]).to(cfg['device'])
    return x, y.masked_fill(kl_at, -1), x == slot, kl_at, ids, alpha


def latent_kl(logits, ids, alpha):
    """Mean over latents of KL(alpha || softmax(logits)), alpha living on its k ids. (M, V), (M, k), (M, k)."""
    logp = logits.float().log_softmax(-1).gather(-1, ids)  # (M, k)
    return (torch.special.xlogy(alpha, alpha) - alpha * logp).sum() / max(ids.size(0), 1)


def latent_stage2_losses(model, x, y, is_slot, kl_at, ids, alpha):
    """(KL, CE), unweighted. The inputs at the slots are the stage-1 latents (teacher forcing)."""
    emb = model.transformer.wte(x)  # (B, T, C)
    z = soft_embedding(model.embed, ids, alpha)  # (M, C)
    emb = emb.masked_scatter(is_slot[..., None].expand_as(emb), z.to(emb.dtype))
    logits, _ = model(embeds=emb)  # right padding only: plain causal attention
    ce = F.cross_entropy(logits.flatten(0, 1).float(), y.flatten(), ignore_index=-1)
    return latent_kl(logits[kl_at], ids, alpha), ce


# -----------------------------------------------------------------------------
# what train.py calls: the batch and the loss of either stage

def latent_batch(tok, parts, cfg, stage=0, generator=None):
    """The loop's batch: stage 1's encoder and decoder batch, or stage 2's (config latent_stage).
    (stage, generator: what the loop passes every method; Latent-SFT's stage is a config key.)"""
    if cfg['latent_stage'] == 1:
        return latent_stage1_batch(tok, parts, cfg, R.padded_vocab(tok))
    return latent_stage2_batch(tok, parts, cfg)


def latent_stage2_term(cfg):
    """Which stage-2 term trains now: 'joint' (KL and CE) at every step for latent_schedule = 'joint';
    for 'alternate', by the iteration the loop passes as cfg['iter_num']: it % 3 = 0 KL, 1 CE, 2 joint.
    Without an iteration (evaluation) it is always the joint loss, so valid losses compare."""
    it = cfg.get('iter_num')
    if cfg.get('latent_schedule', 'joint') == 'joint' or it is None:
        return 'joint'
    return ('kl', 'ce', 'joint')[it % 3]


def latent_loss(model, batch, cfg):
    if cfg['latent_stage'] == 1:
        logits = latent_stage1_forward(model, batch, cfg['latent_topk'], cfg['latent_temperature'],
                                       cfg.get('latent_input', 'soft'))
        return F.cross_entropy(logits.flatten(0, 1).float(), batch[5].flatten(), ignore_index=-1)
    kl, ce = latent_stage2_losses(model, *batch)
    term = latent_stage2_term(cfg)
    w_kl = cfg['latent_kl_weight'] if term in ('kl', 'joint') else 0.0
    w_ce = cfg['latent_ce_weight'] if term in ('ce', 'joint') else 0.0
    return w_kl * kl + w_ce * ce


# -----------------------------------------------------------------------------
# the soft labels: stage 1's product, stage 2's targets

def latent_fingerprint(examples):
    """Which examples a labels file belongs to (questions and steps, in order)."""
    return hashlib.sha1(json.dumps([(ex['question'], ex['steps']) for ex in examples]).encode()).hexdigest()


@torch.no_grad()
def latent_make_labels(model, parts, tok, cfg):
    """Stage 1's product: the latents of every example, flat: ids (M, k) int32, alpha (M, k), counts (n,)."""
    model = encoder_of(model)
    banned = latent_banned(tok, model.config.vocab_size).to(cfg['device'])
    ids, alphas, counts = [], [], []
    for i in range(0, len(parts), cfg['batch_size']):
        xe, pe, me, se = latent_encoder_batch(tok, parts[i:i + cfg['batch_size']], cfg)
        a, w = latent_encode(model, xe, pe, me, se, banned, cfg['latent_topk'], cfg['latent_temperature'])
        ids.append(a.int().cpu())
        alphas.append(w.float().cpu())
        counts += se.sum(1).tolist()
    return {'ids': torch.cat(ids), 'alpha': torch.cat(alphas), 'counts': torch.tensor(counts)}


def latent_save_labels(model, tok, cfg, ctx, train, valid):
    """At the end of stage 1: soft labels of the first latent_label_examples train examples and of the
    valid split (stage 2's valid loss), to out_dir/latent_labels.pt. train, valid: (examples, parts)."""
    n = cfg['latent_label_examples'] or len(train[0])
    model.eval()
    with ctx:
        labels = {'train': latent_make_labels(model, train[1][:n], tok, cfg),
                  'valid': latent_make_labels(model, valid[1], tok, cfg)}
    labels.update(dataset=cfg['dataset'], latent_r=cfg['latent_r'], latent_topk=cfg['latent_topk'],
                  latent_first_segment=cfg.get('latent_first_segment', 0),
                  fingerprint={'train': latent_fingerprint(train[0][:n]), 'valid': latent_fingerprint(valid[0])})
    path = os.path.join(cfg['out_dir'], 'latent_labels.pt')
    R.save_checkpoint(path, labels)
    print(f"wrote the soft labels of {n:,} train and {len(valid[0]):,} valid examples "
          f"({len(labels['train']['ids']):,} latents) to {path}")


def latent_labels_path(cfg, ckpt):
    """Where stage 2 reads its labels: latent_labels if set, else beside the checkpoint it starts from
    (when resuming: the path the run recorded)."""
    if cfg['latent_labels']:
        return cfg['latent_labels']
    if cfg['init_from'] == 'resume':
        return ckpt['config']['latent_labels']
    src = cfg['init_from']
    return os.path.join(src if os.path.isdir(src) else os.path.dirname(src), 'latent_labels.pt')


def latent_attach(parts, labels):
    """(question, steps, answer, (ids, alpha)) per example, its latents' soft labels appended."""
    ends = labels['counts'].cumsum(0).tolist()
    return [p + ((labels['ids'][s:e].long(), labels['alpha'][s:e]),) for p, s, e in zip(parts, [0] + ends[:-1], ends)]


def latent_load_labels(path, cfg, train, valid):
    """Stage 2's (train parts, valid parts) with the stage-1 labels attached; train keeps only the
    labelled examples. train, valid: (examples, parts). Clear errors when the labels are missing or
    belong to other data."""
    if not os.path.exists(path):
        raise FileNotFoundError(f"no Latent-SFT soft labels at {path}: stage 1 (latent_stage=1) writes them to its "
                                f"out_dir when it ends; start stage 2 from that checkpoint or set latent_labels")
    labels = R.load_checkpoint_file(path, keys=('train', 'valid', 'dataset', 'fingerprint', 'latent_topk', 'latent_r'),
                                    what='a Latent-SFT soft-labels file (stage 1 writes it)', weights_only=True)
    n = len(labels['train']['counts'])
    if (labels['dataset'] != cfg['dataset'] or labels['fingerprint']['train'] != latent_fingerprint(train[0][:n])
            or labels['fingerprint']['valid'] != latent_fingerprint(valid[0])):
        raise ValueError(f"{path} holds the soft labels of other examples than data/{cfg['dataset']}: rerun stage 1")
    if labels['latent_topk'] != cfg['latent_topk']:
        raise ValueError(f"{path} has top-{labels['latent_topk']} latents; set latent_topk={labels['latent_topk']}")
    print(f"soft labels from {path}: {n:,} train examples, r = {labels['latent_r']}, "
          f"{len(labels['train']['ids']) / n:.2f} latents per example")
    return latent_attach(train[1][:n], labels['train']), latent_attach(valid[1], labels['valid'])


# -----------------------------------------------------------------------------
# decoding: soft latents on the KV cache until <eot>, then the answer

@torch.no_grad()
def think(model, tok, logits, cache, latent_k, budget):
    """Latent steps on the cache, from the logits (N, V) at <bot>: while a row's argmax is not <eot>,
    for at most budget steps, its next input is the soft embedding of its own top-k distribution, one
    cached position per step. A row that has stopped feeds padding (valid False: no one attends to it,
    it takes no position id), so each row computes exactly what it would alone. Then every row gets
    <eot>. Returns (logits after <eot> (N, V), steps (N,) latent steps per row, trace: per step the
    (ids (N, k), alpha (N, k), thinking (N,)) of that step's latents)."""
    eot, N, dev = tok.id(R.EOT), logits.size(0), logits.device
    banned = R.banned_mask(tok, logits.size(-1), dev, allow=[R.EOT])  # the argmax may say <eot>, nothing else special
    latent_ban = torch.tensor(R.banned_ids(tok, logits.size(-1)) + [eot], device=dev)  # made once: no per-step copy
    thinking = torch.ones(N, dtype=torch.bool, device=logits.device)
    steps = torch.zeros(N, dtype=torch.long, device=logits.device)
    trace = []
    for _ in range(budget):
        thinking &= R.sample_next(logits, banned=banned) != eot  # greedy argmax over the ids we may emit
        if not bool(thinking.any()):  # the one host sync per step
            break
        ids, alpha = latent_topk(logits, latent_k, latent_ban)  # (N, k) each
        trace.append((ids, alpha, thinking.clone()))
        steps += thinking
        z = soft_embedding(model.embed, ids, alpha)[:, None]  # (N, 1, C)
        logits = model.decode_step(cache, embeds=z, valid=thinking[:, None])  # (N, V)
    logits = model.decode_step(cache, torch.full((N, 1), eot, dtype=torch.long, device=logits.device))
    return logits, steps, trace


@torch.no_grad()
def latent_generate(model, tok, prompts, max_new_tokens, latent_k, budget, temperature=0.0, top_k=0, top_p=1.0,
                    num_samples=1, generator=None):
    """Latent-SFT: think (at most budget latents), <eot>, then the answer as generate() decodes it.
    The latents are deterministic, so num_samples repeats the cache rows after them. Returns, per prompt
    and sample, the new ids: one <latent> per latent step (each one a generated token), <eot>, the answer."""
    assert latent_k >= 1 and budget >= 0, f"latent_k {latent_k} >= 1, budget {budget} >= 0"
    logits, cache, _ = R.prefill(model, tok, prompts, budget + 1 + max_new_tokens)
    budget = min(budget, cache.max_len - cache.length - 1)  # leave room for <eot>
    logits, steps, _ = think(model, tok, logits, cache, latent_k, budget)
    if num_samples > 1:
        cache.repeat(num_samples)
        logits, steps = logits.repeat_interleave(num_samples, dim=0), steps.repeat_interleave(num_samples)
    rows = R.continue_generation(model, tok, logits, cache, temperature, top_k, top_p, generator, max_new_tokens)
    slot, eot = tok.id(R.LATENT), tok.id(R.EOT)
    return [[slot] * n + [eot] + row for n, row in zip(steps.tolist(), rows)]


@torch.no_grad()
def replay(model, tok, logits, cache, steps):
    """think's twin for the swap probe: feed given latents (steps: a list of (z (N, C), on (N,)), one per
    latent step, a row taking only the steps where on) instead of the model's own, then <eot>. Returns
    the logits after <eot> (N, V)."""
    for z, on in steps:
        model.decode_step(cache, embeds=z[:, None], valid=on[:, None])
    return model.decode_step(cache, torch.full((logits.size(0), 1), tok.id(R.EOT), dtype=torch.long, device=logits.device))


@torch.no_grad()
def latent_thought_probes(model, tok, ckpt, examples, batch_size=250, max_new_tokens=64):
    """coconut.thought_probes for Latent-SFT's latents: greedy accuracy (1) as decoded, (2) with zero
    latents (<eot> right after <bot>), (3) with the swap: each example gets the latents (and the latent
    count) of the previous example of its batch; and step_match[j][i], the share of examples whose
    latent j has the step result of their step i as its top id (what the latent decodes to)."""
    cfg = ckpt['config']
    room = cfg['latent_budget'] + 1 + max_new_tokens
    hits = {'accuracy': 0, 'zero_thoughts': 0, 'swap': 0}
    match = {}  # (j, i) -> count
    for b in range(0, len(examples), batch_size):
        chunk = examples[b:b + batch_size]
        prompts = [R.question_prompt(tok, ckpt, ex['question']) for ex in chunk]
        for name in ('accuracy', 'swap', 'zero_thoughts'):
            logits, cache, _ = R.prefill(model, tok, prompts, room)
            budget = min(cfg['latent_budget'], cache.max_len - cache.length - 1)
            if name == 'accuracy':
                logits, _, trace = think(model, tok, logits, cache, cfg['latent_topk'], budget)
                own = [(soft_embedding(model.embed, ids, alpha), on) for ids, alpha, on in trace]
                results = [[R.step_result(tok, st) for st in ex['steps']] for ex in chunk]  # once per example
                for j, (ids, _, on) in enumerate(trace):
                    for t, thinking, res in zip(ids[:, 0].tolist(), on.tolist(), results):  # top id of latent j, per row
                        for i, s in enumerate(res if thinking else []):
                            match[j, i] = match.get((j, i), 0) + (t == s)
            elif name == 'swap':  # row r gets row r-1's latents
                logits = replay(model, tok, logits, cache, [(z.roll(1, dims=0), on.roll(1, dims=0)) for z, on in own])
            else:
                logits, _, _ = think(model, tok, logits, cache, cfg['latent_topk'], 0)  # budget 0: <eot> at once
            outs = R.continue_generation(model, tok, logits, cache, max_new_tokens=max_new_tokens)
            hits[name] += sum(R.is_correct(tok.decode(o), ex) for o, ex in zip(outs, chunk))
    out = {k: v / len(examples) for k, v in hits.items()}
    out['step_match'] = R.step_match_table(match, len(examples))
    return out


# -----------------------------------------------------------------------------
# probe: effective parallelism N_eff of each latent

def pooled_mass(alpha, continuations):
    """A latent's mass per distinct continuation: alpha (k,) the weights of its kept ids, continuations
    one hashable outcome per id; ids that lead to the same outcome are one path and pool their weight."""
    mass = {}
    for a, c in zip(alpha.tolist(), continuations):
        mass[c] = mass.get(c, 0.0) + a
    return list(mass.values())


def effective_parallelism(alpha, continuations):
    """N_eff = exp(entropy) of a latent's mass over distinct continuations (DESIGN section 5), pooled by
    pooled_mass: 1 when all ids agree, k when k equal weights all lead elsewhere."""
    p = torch.tensor(pooled_mass(alpha, continuations), dtype=torch.float64)
    p = p / p.sum()
    return math.exp(-float(torch.special.xlogy(p, p).sum()))


def top2_score(alpha, continuations):
    """Top-2 score of one latent: m2 / m1, where m1 >= m2 are the two largest masses after pooling the
    latent's kept weights alpha (k,) by continuation (pooled_mass, as effective_parallelism does).
    1 when the second path is as likely as the first, 0 when
    one path holds all the mass (a single continuation). The per-question score is its mean over the
    latent steps (how close the runner-up path stays to the leader across the thinking); our precise
    form of the paper's analysis, which matches paths by their outcome, not by explicit solutions."""
    m = sorted(pooled_mass(alpha, continuations), reverse=True)
    return m[1] / m[0] if len(m) > 1 and m[0] > 0 else 0.0


def fork(cache, n):
    """A copy of a cache with each row n times; the original is left as it was."""
    branch = copy.copy(cache)
    branch.repeat(n)  # select() builds new tensors and lists
    return branch


@torch.no_grad()
def probe_latents(model, tok, ckpt, question, max_new_tokens=32, budget=0):
    """Latent-SFT's latents for one question: per step, its top tokens with their weights and N_eff.
    Each step is replayed k times, with one kept id as a hard token in place of the soft latent, and
    decoded to the end as usual (the later latents, <eot>, the greedy answer). A continuation is the
    argmax token of each later latent plus the answer. Returns [([(token, weight)] * k, n_eff, top2)]
    per step (top2: top2_score of the step)."""
    cfg = ckpt['config']
    k, budget = cfg['latent_topk'], budget or cfg['latent_budget']
    logits, cache, _ = R.prefill(model, tok, [R.question_prompt(tok, ckpt, question)], budget + 1 + max_new_tokens)
    budget = min(budget, cache.max_len - cache.length - 1)
    _, _, trace = think(model, tok, logits, fork(cache, 1), k, budget)
    out = []
    for j, (ids, alpha, _) in enumerate(trace):
        branch = fork(cache, k)  # the prefix so far (question, <bot>, latents 1..j-1), k times
        blogits, _ = model(ids[0][:, None], cache=branch, last_only=True)  # each kept id as a hard token
        blogits, _, btrace = think(model, tok, blogits[:, -1], branch, k, budget - j - 1)
        answers = R.continue_generation(model, tok, blogits, branch, max_new_tokens=max_new_tokens)
        later = [tuple(i[r, 0].item() for i, _, on in btrace if on[r]) for r in range(k)]
        paths = [l + tuple(a) for l, a in zip(later, answers)]
        n_eff, top2 = effective_parallelism(alpha[0], paths), top2_score(alpha[0], paths)
        out.append(([(tok.decode([i]), w) for i, w in zip(ids[0].tolist(), alpha[0].tolist())], n_eff, top2))
        model(embeds=soft_embedding(model.embed, ids, alpha)[:, None], cache=cache)  # advance by the soft latent
    return out
