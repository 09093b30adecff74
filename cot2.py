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
import json
import os

import torch
from torch.nn import functional as F

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


# -----------------------------------------------------------------------------
# probe: does a latent hold the search states? (README, "MNNS": the table and the picture)
# For each way a model can write step i, the distribution over the vocabulary that stands for it:
#   CoT          the next-token distribution it writes partial sum i from (on its own greedy chain)
#   Coconut      thought j through the LM head (coconut.probe_thoughts's view); thought j belongs to
#                step j // c_thought (c thoughts replace one step)
#   soft latent  latent i as Latent-SFT decodes it (think): its top-k ids with their weights, the very
#                mixture it feeds back (CoT2's soft targets, Latent-SFT)
# and, against the example's reachable set R_i (the 2^i sign choices' partial sums): the mass on R_i,
# the mass on the CoT's own partial sum, and how much of R_i its |R_i| most likely tokens cover. A
# discrete CoT must put its mass on one state; a superposition of search states spreads it over R_i.

@torch.no_grad()
def step_distributions(model, tok, ckpt, examples, batch_size=250):
    """(N, n, V) probabilities, one row per latent step (CoT: per written partial sum; Coconut: per
    thought), and the step (n,) each row stands for."""
    cfg = ckpt['config']
    out = []
    for b in range(0, len(examples), batch_size):
        chunk = examples[b:b + batch_size]
        prompts = [R.question_prompt(tok, ckpt, ex['question']) for ex in chunk]
        n_steps = len(chunk[0]['steps'])
        assert all(len(ex['steps']) == n_steps for ex in chunk), "one chain length per split (MNNS: m - 1)"
        if cfg['method'] == 'latent':
            logits, cache, _ = R.prefill(model, tok, prompts, cfg['latent_budget'] + 1)
            _, _, trace = latent_sft.think(model, tok, logits, cache, cfg['latent_topk'], cfg['latent_budget'])
            P = torch.zeros(len(chunk), len(trace), logits.size(-1))
            for i, (ids, alpha, thinking) in enumerate(trace):  # a row that stopped early keeps zeros
                P[:, i].scatter_(-1, ids.cpu(), alpha.cpu() * thinking.cpu()[:, None].float())
        elif cfg['method'] == 'coconut':
            _, _, probe = R.prefill(model, tok, prompts, 0)
            assert probe is not None, "a Coconut checkpoint with thoughts (its last stage has none?)"
            P, step = R.decodable_probs(tok, probe).cpu(), torch.arange(probe.size(1)) // cfg['c_thought']
        else:  # the CoT: teacher-force its own greedy chain, read the distribution before each step's first token
            outs = R.generate(model, tok, prompts, 4 * n_steps + 8)
            x, y, valid = R.collate(list(zip(prompts, outs)), tok.id(R.PAD), model.lm_head.weight.device,
                                   model.config.block_size)
            probs = R.decodable_probs(tok, model(x, valid=valid)[0])  # (B, T, V)
            nl = tok.id('\n')
            P = torch.zeros(len(chunk), n_steps, probs.size(-1))
            for r, o in enumerate(outs):
                starts = [0] + [t + 1 for t, i in enumerate(o) if i == nl]  # each step's first target token
                at = (y[r] >= 0).nonzero().flatten()  # positions that predict target tokens 0, 1, ...
                for i, t in enumerate(starts[:n_steps]):
                    if t < len(at):
                        P[r, i] = probs[r, at[t]].cpu()
        out.append(P)
    n = max(P.size(1) for P in out)
    out = [F.pad(P, (0, 0, 0, n - P.size(1))) for P in out]  # latents: a batch may stop earlier
    step = step if cfg['method'] == 'coconut' else torch.arange(n)  # latents, CoT: row i is step i
    return torch.cat(out), step


def reachable_stats(tok, P, step, examples):
    """Per row of P (N, n, V) (its step i = step[row]), means over the examples: mass on R_i, mass on
    the CoT's partial sum, and coverage (the share of R_i among the |R_i| most likely ids, those with
    probability > 0). A row past the chain (a latent decoder that thinks longer) is left out."""
    rows = []
    for j, i in enumerate(step.tolist()):
        if i >= len(examples[0]['steps']):
            continue
        reach = path = cover = 0.0
        for ex, p in zip(examples, P[:, j]):
            R_i = torch.tensor([tok.id(str(v)) for v in ex['reachable'][i]])
            reach += p[R_i].sum().item()
            path += p[tok.id(ex['steps'][i])].item()
            top = p.topk(len(R_i))
            cover += torch.isin(top.indices[top.values > 0], R_i).sum().item() / len(R_i)  # ties at 0 count for nothing
        n = len(examples)
        rows.append({'row': j, 'step': i + 1, 'states': sum(len(ex['reachable'][i]) for ex in examples) / n,
                     'reachable_mass': reach / n, 'path_mass': path / n, 'coverage': cover / n})
    return rows


def values_axis(tok, examples):
    """The integer tokens from the smallest to the largest reachable value: the picture's x axis."""
    vals = [v for ex in examples for r in ex['reachable'] for v in r]
    return list(range(min(vals), max(vals) + 1))


def picture(panels, ex, tok, path):
    """One example, one panel per model: rows are its latent steps, columns the values, colour the
    probability; circles mark the reachable set R_i, a cross the CoT's partial sum. panels: list of
    (title, P (n, V), step (n,)). Needs matplotlib (optional): returns False without it."""
    try:
        import matplotlib
        matplotlib.use('Agg')
        import matplotlib.pyplot as plt
        from matplotlib.colors import PowerNorm
    except ImportError:
        print(f"matplotlib is not installed: no {path}")
        return False
    xs = values_axis(tok, [ex])
    ids = torch.tensor([tok.id(str(v)) for v in xs])
    cols = min(3, len(panels))
    rows = (len(panels) + cols - 1) // cols
    fig, axes = plt.subplots(rows, cols, figsize=(4.2 * cols, 0.6 + 2.2 * rows), squeeze=False)
    for ax in axes.flatten()[len(panels):]:
        ax.axis('off')
    for ax, (title, P, step) in zip(axes.flatten(), panels):
        keep = [j for j, i in enumerate(step.tolist()) if i < len(ex['steps'])]
        ax.imshow(P[keep][:, ids].numpy(), aspect='auto', cmap='Blues', norm=PowerNorm(0.5, vmin=0, vmax=1),  # sqrt: small masses show
                  extent=(xs[0] - 0.5, xs[-1] + 0.5, len(keep) - 0.5, -0.5))
        for r, j in enumerate(keep):
            i = int(step[j])
            ax.scatter(ex['reachable'][i], [r] * len(ex['reachable'][i]), s=14, facecolors='none', edgecolors='tab:orange', lw=0.8)
            ax.scatter([int(ex['steps'][i])], [r], marker='x', s=18, color='tab:red', lw=0.9)
        ax.set_yticks(range(len(keep)))
        ax.set_yticklabels([f"step {int(step[j]) + 1}" if len(keep) == len(set(step[keep].tolist())) else
                            f"thought {j + 1} (step {int(step[j]) + 1})" for j in keep], fontsize=7)
        ax.set_title(title, fontsize=8)
        ax.set_xlabel('partial sum', fontsize=7)
        ax.tick_params(labelsize=7)
    fig.suptitle(f"MNNS question {ex['question']}, CoT {' '.join(ex['steps'])}, answer {ex['answer']}\n"
                 f"blue: probability (square-root scale); circles: the reachable states; x: the CoT's state", fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=130)
    print(f"wrote {path}")
    return True


def probe(dirs, split, limit, json_out, picture_path, example):
    """The reachable-set table of each checkpoint in dirs (printed, and as one JSON list to json_out
    when given), and the picture of one example across them."""
    import sample  # the checkpoint loader; imported here so that making the labels needs no decoder
    panels, results = [], []
    for d in dirs:
        model, tok, ckpt = sample.load_checkpoint(d)
        examples = R.load_split(os.path.join('data', ckpt['config']['dataset']), split)
        examples = examples[:limit] if limit else examples
        P, step = step_distributions(model, tok, ckpt, examples)
        rows = reachable_stats(tok, P, step, examples)
        name = {'latent': 'soft latents', 'coconut': 'Coconut thoughts'}.get(ckpt['config']['method'], 'CoT')
        if ckpt['config']['method'] == 'coconut':  # which thought; .get: checkpoints from before the knob
            name += {'scaled': ' (scaled)', 'soft': ' (soft)'}.get(ckpt['config'].get('coconut_thought'), ' (hidden state)')
        for r in rows:
            print(f"{d}: {name}, {'thought ' + str(r['row'] + 1) + ', ' if name.startswith('Coconut') else ''}"
                  f"step {r['step']} ({r['states']:.1f} reachable states): mass on them {r['reachable_mass']:.3f}, "
                  f"on the CoT's state {r['path_mass']:.3f}, coverage {r['coverage']:.3f}")
        results.append({'out_dir': d, 'what': name, 'n_embd': model.config.n_embd, 'n': len(examples), 'rows': rows})
        panels.append((f"{name}, d {model.config.n_embd}", P[example], step))
        ex = examples[example]
    if json_out:
        json.dump(results, open(json_out, 'w'), indent=1)
        print(f"wrote {json_out}")
    if picture_path:
        picture(panels, ex, tok, picture_path)
    return results


if __name__ == '__main__':
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument('--dataset', default='mnns', help='data/<dataset> with reachable and paths per example')
    p.add_argument('--k', type=int, default=0, help='ids per latent (0 = the largest reachable set)')
    p.add_argument('--out', default='', help="labels file ('' = data/<dataset>/cot2_labels.pt)")
    p.add_argument('--probe', nargs='*', default=[], help='instead: probe these checkpoints (CoT, Coconut, soft latents)')
    p.add_argument('--split', default='test', help='--probe: the split of their dataset')
    p.add_argument('--limit', type=int, default=0, help='--probe: the first N examples (0 = all)')
    p.add_argument('--json_out', default='', help='--probe: also write the results, a JSON list, to this file')
    p.add_argument('--picture', default='', help='--probe: a PNG of one example across the checkpoints (matplotlib)')
    p.add_argument('--example', type=int, default=0, help='--picture: which example of the split')
    args = p.parse_args()
    if args.probe:
        probe(args.probe, args.split, args.limit, args.json_out, args.picture, args.example)
    else:
        write_labels(args.dataset, args.k, args.out or os.path.join('data', args.dataset, 'cot2_labels.pt'))
