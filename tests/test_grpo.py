"""GRPO (grpo.py): the advantage and the loss on a hand-computed group, the rewards, the log-probs of the
sampled tokens, and train.py's grpo method end to end (reward logged, exact resume)."""
import math
import re

import torch

import grpo
import reasoning as R
from test_config import run
from test_train import TINY, losses

# two groups of G = 4: rewards 1 0 0 1 (mean 0.5) and 1 1 1 1 (mean 1: no signal)
REWARDS = torch.tensor([1., 0., 0., 1., 1., 1., 1., 1.])
LOGP = torch.tensor([[-1.0, -2.0, -9.0], [-0.5, -9.0, -9.0], [-1.0, -1.0, -1.0], [-2.0, -2.0, -9.0]]
                    + [[-1.0, -1.0, -1.0]] * 4)  # -9.0: padding, masked out
MASK = torch.tensor([[1., 1., 0.], [1., 0., 0.], [1., 1., 1.], [1., 1., 0.]] + [[1., 1., 1.]] * 4)


def test_advantage_and_loss_on_a_hand_computed_group():
    adv = grpo.grpo_advantages(REWARDS, 4)
    assert adv.tolist() == [0.5, -0.5, -0.5, 0.5, 0.0, 0.0, 0.0, 0.0]
    # sum_i A_i sum_t logp: 0.5 * (-3) - 0.5 * (-0.5) - 0.5 * (-3) + 0.5 * (-4) + 0 = -1.75, over 20 tokens
    loss = grpo.grpo_pg_loss(LOGP, MASK, adv)
    assert math.isclose(loss.item(), 1.75 / 20, rel_tol=1e-6)
    # DeepSeekMath's advantage: the first group's std (unbiased) is sqrt(1/3); the second's is 0
    adv_std = grpo.grpo_advantages(REWARDS, 4, std_norm=True)
    a = 0.5 / (math.sqrt(1 / 3) + 1e-4)
    torch.testing.assert_close(adv_std, torch.tensor([a, -a, -a, a, 0, 0, 0, 0]))


def test_gradient_is_minus_advantage_over_the_token_count():
    """d loss / d log pi(o_i,t) = -A_i / (tokens in the batch): a right answer's tokens are pushed up,
    a wrong one's down, every token weighted alike, padding not at all."""
    logp = LOGP.clone().requires_grad_()
    grpo.grpo_pg_loss(logp, MASK, grpo.grpo_advantages(REWARDS, 4)).backward()
    expected = -grpo.grpo_advantages(REWARDS, 4)[:, None] * MASK / 20
    torch.testing.assert_close(logp.grad, expected)


def test_rewards_are_exact_match_of_the_answer():
    tok = R.WordTokenizer(['1', '2', '3', '4'])
    rows = [tok.encode(t) + [tok.eos_id] for t in ['1 2 ### 3 4', '1 ### 3', '### 3', '4 4']]
    assert grpo.grpo_rewards(tok, rows, ['3 4', '3'], 2).tolist() == [1.0, 0.0, 1.0, 0.0]


def test_token_logprobs_are_the_policy_at_the_sampled_tokens(tiny_model):
    """The batched log-probs equal a full forward of each sequence alone, at the sampled tokens only."""
    tok = R.WordTokenizer([str(i) for i in range(10)])
    prompts = [tok.encode('1 2 3\n'), tok.encode('4 5\n')]
    rows = grpo.grpo_rollouts(tiny_model, tok, prompts, 2, 6, 1.0, seed=0)
    logp, mask = grpo.grpo_token_logprobs(tiny_model, tok, prompts, rows, 2, 0.5, 64)
    banned = R.banned_mask(tok, 64, "cpu")  # what the sampler may draw
    for i, ids in enumerate(rows):
        seq = torch.tensor([prompts[i // 2] + ids])
        logits, _ = tiny_model(seq)
        lp = torch.log_softmax(R.filter_logits(logits[0], 0.5, banned=banned), -1)  # (T, V) at temperature 0.5
        P = len(prompts[i // 2])
        want = torch.stack([lp[P - 1 + t, v] for t, v in enumerate(ids)])
        assert mask[i].sum() == len(ids) and mask[i, :P - 1].sum() == 0
        torch.testing.assert_close(logp[i][mask[i].bool()], want, atol=1e-5, rtol=1e-5)


def test_train_grpo_logs_rewards_and_resumes_exactly(workdir):
    G = ['--method=grpo', '--batch_size=4', '--grpo_group=4', '--grpo_max_new_tokens=12',
         '--eval_iters=1', '--eval_examples=4', '--decay_lr=False', '--learning_rate=1e-4']
    full = run('train.py', *TINY, *G, '--out_dir=a', '--max_iters=4', '--eval_interval=4', cwd=workdir)
    assert full.returncode == 0, full.stderr
    assert len(re.findall(r'^iter \d+: .*, reward [\d.]+$', full.stdout, re.M)) == 4 and 'val_reward' in full.stdout
    first = run('train.py', *TINY, *G, '--out_dir=b', '--max_iters=2', '--eval_interval=2', cwd=workdir)
    rest = run('train.py', *TINY, *G, '--out_dir=b', '--max_iters=4', '--eval_interval=2', '--init_from=resume',
               cwd=workdir)
    assert first.returncode == 0 and rest.returncode == 0, first.stderr + rest.stderr
    assert {**losses(first.stdout), **losses(rest.stdout)} == losses(full.stdout)  # the samples' seeds resume too
