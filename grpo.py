r"""
GRPO: group relative policy optimisation (Shao et al., "DeepSeekMath", 2024), in its simplest on-policy
form: the trained comparison of power sampling's paper (Karan & Du) and of the sampling table here.
Its batch and loss; reasoning.generate draws the samples (one prefill, the cache rows repeated G times).

Per prompt q, G samples o_1..o_G from the current policy pi at temperature grpo_temperature, and
    r_i = 1 if the text after ### is exactly the answer, else 0     (a verifiable reward: reasoning.is_correct)
    A_i = r_i - mean_j r_j                                           (group-relative: the group is the baseline, no critic)
    L   = - sum_i sum_t A_i log pi(o_i,t | q, o_i,<t) / sum_i |o_i|  (a token-level mean over the whole batch)
One gradient step per batch of samples, taken by the policy that drew them: the importance ratio
pi / pi_old is exactly 1, so PPO's clipping never acts and is left out; no KL to a reference model
(nanochat's chat_rl does the same). A group whose samples are all right or all wrong has A = 0: it
costs its sampling and gives no gradient. log pi is the distribution the samples were drawn from: the
logits at grpo_temperature, the ids sampling never picks masked (reasoning.filter_logits).

What the published variants change (this file: the first column of each choice):
    advantage    r - mean (Dr. GRPO)                | (r - mean) / std (DeepSeekMath; grpo_std_norm=True)
    loss mean    over all tokens of the batch (DAPO) | per sequence 1/|o_i|, then over the group (DeepSeekMath)
                                                     | a constant instead of |o_i| (Dr. GRPO: 1/|o_i| favours long wrong answers)
    updates      one per batch, ratio 1, no clip     | several per batch with the clipped ratio (PPO's eps 0.2;
                                                       DAPO's "clip-higher": 0.2 below, 0.28 above)
    KL           none (DAPO, Dr. GRPO)               | beta * KL(pi || pi_ref), beta 0.04 (DeepSeekMath)
    groups       all kept                            | DAPO's dynamic sampling resamples until a group's rewards differ
Training prompts are drawn by train.py like any method's batch; the sampling seed comes from the
checkpointed batch stream, so a resumed run continues exactly.
"""
import torch
from torch.nn import functional as F

import reasoning as R


def grpo_batch(tok, parts, cfg, stage=0, generator=None):
    """The prompts (left-padded ids (B, P), as batch[0] for the loop's token count), the gold answers
    and the seed of this batch's samples, drawn from the batch stream. (stage: unused.)"""
    prompts = [R.layout(tok, p, 'cot')[0] for p in parts]  # Q \n: the CoT prompt, the model writes the rest
    golds = [R.extract_answer(tok.decode(answer)) for _, _, answer in parts]  # '### A <eos>' -> 'A'
    x, _ = R.left_pad(prompts, tok.id(R.PAD), cfg['device'])
    seed = torch.randint(2 ** 62, (1,), generator=generator).item()
    return x, prompts, golds, seed, tok


@torch.no_grad()
def grpo_rollouts(model, tok, prompts, G, max_new_tokens, temperature, seed):
    """G samples per prompt from the current policy (prompt b -> rows b*G..b*G+G-1), each a list of new
    ids ending in <eos> if it ended. Drawn in eval mode (no dropout): the policy as it decodes."""
    was_training = model.training
    model.eval()
    g = torch.Generator(device=model.lm_head.weight.device).manual_seed(seed)
    rows = R.generate(model, tok, prompts, max_new_tokens, temperature, num_samples=G, generator=g)
    model.train(was_training)
    return rows


def grpo_rewards(tok, rows, golds, G):
    """(N,) float: 1 where the sample's answer is exactly the gold answer of its prompt, else 0."""
    return torch.tensor([float(R.extract_answer(tok.decode(ids)) == golds[i // G]) for i, ids in enumerate(rows)])


def grpo_advantages(rewards, G, std_norm=False):
    """(N,) rewards, G per group in order -> (N,) advantages r - group mean (divided by the group's std,
    unbiased as torch computes it, plus 1e-4 against zero, with std_norm: DeepSeekMath's form)."""
    r = rewards.view(-1, G)  # (groups, G)
    adv = r - r.mean(1, keepdim=True)
    if std_norm:
        adv = adv / (r.std(1, keepdim=True) + 1e-4)
    return adv.flatten()


def grpo_pg_loss(logp, mask, adv):
    """Token-level policy-gradient loss: logp (N, T) log-prob of each sampled token, mask (N, T) 1 on the
    sampled tokens, adv (N,) -> -sum(A_i * logp * mask) / sum(mask), one mean over every token of the batch."""
    assert logp.shape == mask.shape and adv.shape == logp.shape[:1], f"{logp.shape} {mask.shape} {adv.shape}"
    return -(adv[:, None] * logp * mask).sum() / mask.sum().clamp(min=1)


def grpo_token_logprobs(model, tok, prompts, rows, G, temperature, block_size):
    """Log-prob under the current policy of every sampled token: (N, T) logp and (N, T) mask, N = B*G,
    right-padded sequences prompt + sample (the prompt takes no loss, as in collate)."""
    device = model.lm_head.weight.device
    pairs = [(prompts[i // G], ids) for i, ids in enumerate(rows)]
    x, y, _ = R.collate(pairs, tok.id(R.PAD), device, block_size)  # y: the sampled token, -1 elsewhere
    logits, _ = model(x)  # (N, T, V); right padding only: plain causal attention
    banned = R.banned_mask(tok, logits.size(-1), device, R.closes_thought(tok, prompts))  # the ids the sampler could draw
    logits = R.filter_logits(logits.flatten(0, 1), temperature, banned=banned).view_as(logits)
    mask = y >= 0
    logp = F.log_softmax(logits, dim=-1).gather(-1, y.clamp(min=0)[..., None]).squeeze(-1)  # (N, T)
    return logp * mask, mask.float()


def grpo_loss(model, batch, cfg):
    """Sample G answers per prompt from the model as it is now, score them, and return the
    policy-gradient loss of those samples (on-policy: one step per batch of samples)."""
    _, prompts, golds, seed, tok = batch
    G = cfg['grpo_group']
    rows = grpo_rollouts(model, tok, prompts, G, cfg['grpo_max_new_tokens'], cfg['grpo_temperature'], seed)
    rewards = grpo_rewards(tok, rows, golds, G).to(model.lm_head.weight.device)
    adv = grpo_advantages(rewards, G, cfg['grpo_std_norm'])
    logp, mask = grpo_token_logprobs(model, tok, prompts, rows, G, cfg['grpo_temperature'], cfg['block_size'])
    loss = grpo_pg_loss(logp, mask, adv)
    loss.reward = rewards.mean().item()  # the batch's mean reward, for the loop's log line
    return loss
