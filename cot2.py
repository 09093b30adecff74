r"""
CoT2's soft-target training (CSFT): Gozeten et al., "Continuous chain of thought enables parallel
exploration and reasoning", ICLR 2026 (code: alperengozeten/CoT2, train/continuous_train.py).

On a search task a discrete CoT must commit to one branch per step. CoT2 instead trains each continuous
token to hold the whole set of search states at that step. On MNNS (data/mnns/prepare.py) the states
after step i are the partial sums that the 2^i sign choices of the first i digits reach, and the target
of latent i is their distribution, each state weighted by how many sign choices reach it (the paper's
default, "uniform over paths"):
    alpha_i(v) = #{sign vectors s in {+,-}^i : s_1 d_1 + .. + s_i d_i = v} / 2^i        (soft_targets)
Training is teacher forced, so it is one parallel forward pass: latent i's input is z_i = alpha_i @ E,
and the loss is the KL to alpha_i where latent i is predicted, plus the cross-entropy of the answer:
    Q \n <bot> | z_1 .. z_(m-1) <eot> ### A <eos>
    loss = mean_i KL(alpha_i || p(. | Q <bot> z_<i)) + CE(<eot> ### A <eos> | Q <bot> z_1..z_(m-1))
That is exactly Latent-SFT's stage 2 (latent_sft.py) with the soft labels given by the task instead of
learned by a stage 1, so this file only makes the labels, in the file format stage 2 reads:
    python data/mnns/prepare.py && python cot2.py --dataset=mnns      # writes data/mnns/cot2_labels.pt
    python train.py config/mnns_cot2.py                               # method latent, latent_stage 2
Decoding is Latent-SFT's too: the model feeds itself softmax @ E of its own top-k distribution (k =
latent_topk, as many ids as the largest reachable set, so nothing the targets use is cut) until its
argmax is <eot>. Where we differ from the official code: it feeds the full softmax for exactly m-1
steps and reads the answer from the last latent's output, with no <bot>, <eot> or '###'; the targets
here are over the m-1 steps of our layout (the last partial sum is the answer, not a latent).
"""
import argparse
import os

import torch

import reasoning as R
import latent_sft


def soft_targets(tok, ex, k):
    """ids (n, k), alpha (n, k) of an example's n = len(steps) latents: the reachable states of step i
    (ex['reachable'][i]) weighted by their path counts (ex['paths'][i]) / 2^i; padded to k ids with
    weight 0 (KL ignores them: 0 log 0 = 0)."""
    n = len(ex['steps'])
    assert len(ex['reachable']) >= n and len(ex['paths']) >= n, "an example needs reachable and paths per step"
    ids, alpha = torch.zeros(n, k, dtype=torch.long), torch.zeros(n, k)
    for i in range(n):
        states, counts = ex['reachable'][i], ex['paths'][i]
        assert len(states) <= k, f"step {i + 1} has {len(states)} reachable states; set --k >= {len(states)}"
        total = sum(counts)
        assert total == 2 ** (i + 1), f"step {i + 1}: path counts sum to {total}, not 2^{i + 1}"
        ids[i, :len(states)] = torch.tensor([tok.id(str(v)) for v in states])
        ids[i, len(states):] = ids[i, 0]  # padding ids carry no weight
        alpha[i, :len(states)] = torch.tensor(counts, dtype=torch.float) / total
    return ids, alpha


def cot2_labels(tok, examples, k):
    """Every example's soft targets, flat as latent_sft.latent_make_labels writes them:
    ids (M, k) int32, alpha (M, k), counts (n,) latents per example."""
    rows = [soft_targets(tok, ex, k) for ex in examples]
    return {'ids': torch.cat([r[0] for r in rows]).int(), 'alpha': torch.cat([r[1] for r in rows]),
            'counts': torch.tensor([len(r[0]) for r in rows])}


def write_labels(dataset, k, path):
    """The train and valid splits' soft targets to path, in Latent-SFT's labels format (stage 2 checks
    the dataset, the examples' fingerprint and k when it loads them). k = 0: the largest reachable set."""
    data_dir = os.path.join('data', dataset)
    tok = R.get_tokenizer(R.load_meta(data_dir))
    train, valid = R.load_split(data_dir, 'train'), R.load_split(data_dir, 'valid')
    if k == 0:
        k = max(len(r) for ex in train for r in ex['reachable'][:len(ex['steps'])])
        print(f"k = {k}: the largest reachable set of a latent step")
    labels = {'train': cot2_labels(tok, train, k), 'valid': cot2_labels(tok, valid, k),
              'dataset': dataset, 'latent_r': 1, 'latent_topk': k,
              'fingerprint': {'train': latent_sft.latent_fingerprint(train),
                              'valid': latent_sft.latent_fingerprint(valid)}}
    R.save_checkpoint(path, labels)
    widths = (labels['train']['alpha'] > 0).sum(1).float()
    print(f"wrote CoT2 soft targets of {len(train):,} train and {len(valid):,} valid examples to {path}: "
          f"{len(widths):,} train latents, {widths.mean():.2f} reachable states each on average (at most {k})")


if __name__ == '__main__':
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument('--dataset', default='mnns', help='data/<dataset> with reachable and paths per example')
    p.add_argument('--k', type=int, default=0, help='ids per latent (0 = the largest reachable set)')
    p.add_argument('--out', default='', help="labels file ('' = data/<dataset>/cot2_labels.pt)")
    args = p.parse_args()
    write_labels(args.dataset, args.k, args.out or os.path.join('data', args.dataset, 'cot2_labels.pt'))
