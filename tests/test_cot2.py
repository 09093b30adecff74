"""CoT2's soft targets (cot2.py): each latent's target is the distribution over the reachable partial
sums weighted by their path counts, it sums to 1, and stage 2 of Latent-SFT trains on it and decodes."""
import importlib.util
import itertools
import json
import os

import torch

from conftest import ROOT
from test_config import run
import cot2
import reasoning as R

_spec = importlib.util.spec_from_file_location('prepare_mnns', os.path.join(ROOT, 'data', 'mnns', 'prepare.py'))
mnns = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(mnns)


def test_soft_targets_sum_to_one_and_weight_states_by_paths():
    tok = R.WordTokenizer([str(v) for v in range(-40, 41)])
    for digits in [(1, 9, 9, 9), (2, 2, 2, 2), (0, 3, 3), (5, 1, 4, 2, 7)]:
        ex = mnns.make_example(digits)
        k = 2 ** (len(digits) - 1)
        ids, alpha = cot2.soft_targets(tok, ex, k)
        assert ids.shape == alpha.shape == (len(digits) - 1, k)
        assert torch.allclose(alpha.sum(1), torch.ones(len(digits) - 1))
        for i in range(len(digits) - 1):  # latent i holds the partial sums after digit i + 1
            sums = [sum(s * d for s, d in zip(signs, digits[:i + 1]))
                    for signs in itertools.product([1, -1], repeat=i + 1)]
            got = {}
            for t, a in zip(ids[i].tolist(), alpha[i].tolist()):
                got[int(tok.decode([t]))] = got.get(int(tok.decode([t])), 0.0) + a
            want = {v: sums.count(v) / len(sums) for v in set(sums)}
            assert got.keys() >= want.keys()
            assert all(abs(got[v] - want.get(v, 0.0)) < 1e-6 for v in got), (digits, i)
    assert torch.equal(cot2.soft_targets(tok, mnns.make_example((2, 2, 2, 2)), 8)[1][1, :3],
                       torch.tensor([0.25, 0.5, 0.25]))  # -4, 0, 4: two sign choices reach 0


def test_cot2_labels_train_latent_stage2_and_decode(tmp_path):
    r = run('data/mnns/prepare.py', '--m=3', '--lo=1', '--hi=5', '--out_dir=data/mnns3', cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    r = run('cot2.py', '--dataset=mnns3', cwd=tmp_path)
    assert r.returncode == 0 and 'k = 4' in r.stdout, r.stderr + r.stdout
    r = run('train.py', '--dataset=mnns3', '--method=latent', '--latent_stage=2', '--latent_topk=4',
            '--latent_labels=data/mnns3/cot2_labels.pt', '--n_layer=2', '--n_head=2', '--n_embd=32',
            '--batch_size=16', '--eval_iters=2', '--eval_examples=8', '--max_iters=10', '--eval_interval=5',
            '--out_dir=out', cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert 'soft labels from data/mnns3/cot2_labels.pt' in r.stdout and '2.00 latents per example' in r.stdout
    r = run('sample.py', '--out_dir=out', '--eval=test', '--eval_limit=8', cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout.strip().splitlines()[-1])['n'] == 8
    # the reachable-set probe on the three kinds of checkpoint: the soft latents above, a CoT, a Coconut
    tiny = ['--dataset=mnns3', '--n_layer=2', '--n_head=2', '--n_embd=32', '--batch_size=16', '--eval_iters=1',
            '--eval_examples=4', '--max_iters=2', '--eval_interval=2']
    assert run('train.py', *tiny, '--method=cot', '--out_dir=cot', cwd=tmp_path).returncode == 0
    r = run('train.py', *tiny, '--method=coconut', '--no_curriculum=True', '--max_latent_stage=2', '--c_thought=2',
            '--out_dir=coconut', cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    r = run('cot2.py', '--probe', 'out', 'cot', 'coconut', '--limit=8', '--json_out=probe.json', cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    res = json.load(open(tmp_path / 'probe.json'))
    assert [p['what'] for p in res] == ['soft latents', 'CoT', 'Coconut thoughts (hidden state)'] and all(p['n'] == 8 for p in res)
    assert [r['step'] for r in res[1]['rows']] == [1, 2]  # m = 3: two partial sums before the answer
    assert [r['step'] for r in res[2]['rows']] == [1, 1, 2, 2]  # two thoughts per step
    assert [r['step'] for r in res[0]['rows']] == list(range(1, len(res[0]['rows']) + 1))
    for p in res:
        for row in p['rows']:
            assert row['states'] == (2.0 if row['step'] == 1 else row['states']) and row['states'] <= 4
            assert all(0 <= row[k] <= 1 + 1e-6 for k in ('reachable_mass', 'path_mass', 'coverage'))
            assert row['path_mass'] <= row['reachable_mass'] + 1e-6  # the CoT's state is a reachable one


def test_reachable_stats_by_hand():
    """Mass on the reachable set, on the CoT's state, and coverage, for distributions made by hand:
    all on the CoT's state (a discrete CoT), spread evenly over the reachable set (a superposition),
    and on a state no sign choice reaches."""
    ex = mnns.make_example((2, 3, 4))  # reachable after step 1: -2 2; after step 2: -5 -1 1 5
    tok = R.WordTokenizer([str(v) for v in range(-9, 10)])
    V = tok.n_vocab
    P = torch.zeros(1, 3, V)
    P[0, 0, tok.id(ex['steps'][0])] = 1.0  # step 1: one-hot on the CoT's partial sum
    for v in ex['reachable'][1]:
        P[0, 1, tok.id(str(v))] = 1 / len(ex['reachable'][1])  # step 2: even over the 4 reachable sums
    P[0, 2, tok.id('0')] = 1.0  # a third row past the chain (m - 1 = 2 steps): left out
    rows = cot2.reachable_stats(tok, P, torch.arange(3), [ex])
    assert len(rows) == 2
    assert rows[0]['reachable_mass'] == 1 and rows[0]['path_mass'] == 1 and rows[0]['coverage'] == 0.5
    assert rows[1]['reachable_mass'] == 1 and rows[1]['path_mass'] == 0.25 and rows[1]['coverage'] == 1
    assert rows[0]['states'] == 2 and rows[1]['states'] == 4
    P[0, 0] = 0
    P[0, 0, tok.id('0')] = 1.0  # 0 is not reachable after one digit 2
    assert cot2.reachable_stats(tok, P, torch.arange(3), [ex])[0]['reachable_mass'] == 0
