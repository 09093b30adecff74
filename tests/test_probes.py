"""The soft-thinking probes (soft_thinking.py: ROUGE-L, the logit lens, the randomness-softness sweep)
and the power-sampling sweep (power_sampling.power_sweep): known values, and one row per setting with
the documented fields. Tiny models, CPU, a few seconds (the CoT model of test_soft trains in ~4 s)."""
import math
import random

import pytest
import torch

import power_sampling
import reasoning as R
import soft_thinking
from conftest import running_sum_example
from test_soft import END, TOK, cot_model, cot_prompts, gens  # noqa: F401 (cot_model is a fixture)

CKPT = {'config': {'method': 'cot'}}


def examples(n=6):
    rng = random.Random(7)
    return [running_sum_example(rng, 3 + i % 3) for i in range(n)]


def test_rouge_l_known_values():
    assert soft_thinking.rouge_l([1, 2, 3], [1, 2, 3]) == 1.0
    assert soft_thinking.rouge_l([], []) == 1.0
    assert soft_thinking.rouge_l([1, 2, 3], [4, 5]) == 0.0
    assert soft_thinking.rouge_l([], [1]) == 0.0
    # LCS of 1 2 3 4 5 and 1 3 5 7 is 1 3 5: P = 3/5, R = 3/4, F = 2PR / (P + R) = 2/3
    assert soft_thinking.rouge_l([1, 2, 3, 4, 5], [1, 3, 5, 7]) == pytest.approx(2 / 3)
    # the ROUGE paper's example: "police killed the gunman" vs "police kill the gunman", LCS 3 of 4 and 4
    a, b = 'police killed the gunman'.split(), 'police kill the gunman'.split()
    assert soft_thinking.rouge_l(a, b) == pytest.approx(0.75)
    # a subsequence, not a substring: order matters, gaps do not
    assert soft_thinking.rouge_l([1, 9, 2, 9, 3], [1, 2, 3]) == pytest.approx(2 * 3 / 8)
    assert soft_thinking.rouge_l([3, 2, 1], [1, 2, 3]) == pytest.approx(2 * 1 / 6)


def test_thinking_trace_is_what_comes_before_the_end_token():
    assert soft_thinking.thinking_trace([5, 6, END, 7, 0], END, 0) == [5, 6]
    assert soft_thinking.thinking_trace([5, 6, 0], END, 0) == [5, 6]  # no end of thinking: all but <eos>
    assert soft_thinking.thinking_trace([END, 7], END, 0) == []


def test_logit_lens_at_the_last_layer_is_the_models_next_token_distribution(tiny_model):
    torch.manual_seed(0)
    idx = torch.randint(0, 64, (3, 9))
    with torch.no_grad():
        logits, _, hiddens = tiny_model(idx, hidden=True)
        q = soft_thinking.logit_lens(tiny_model, hiddens)
    assert q.shape == (tiny_model.config.n_layer + 1, 3, 9, 64)
    torch.testing.assert_close(q[-1], logits.softmax(-1))
    torch.testing.assert_close(q.sum(-1), torch.ones(3, 3, 9))
    # an earlier layer is ln_f + LM head of that block's output, not the same distribution
    with torch.no_grad():
        torch.testing.assert_close(q[1], tiny_model.lm_head(tiny_model.transformer.ln_f(hiddens[1])).softmax(-1))
    assert not torch.allclose(q[1], q[-1], atol=1e-3)


def test_js_and_entropy_of_a_one_hot_pi_are_zero():
    pi = torch.zeros(4, 10)
    pi[torch.arange(4), torch.tensor([0, 3, 3, 9])] = 1.0
    assert (soft_thinking.entropy(pi) == 0).all()
    assert (soft_thinking.js_divergence(pi, pi) == 0).all()
    assert (soft_thinking.js_to_onehot(torch.ones(4)) == 0).all()
    assert soft_thinking.js_to_onehot(torch.zeros(1)).item() == pytest.approx(math.log(2))  # disjoint: ln 2


def test_js_to_onehot_closed_form_equals_js_divergence():
    torch.manual_seed(0)
    pi = torch.randn(50, 12).mul(2).softmax(-1)
    k = torch.randint(0, 12, (50,))
    onehot = torch.nn.functional.one_hot(k, 12).float()
    torch.testing.assert_close(soft_thinking.js_to_onehot(pi.gather(1, k[:, None]).squeeze(1)),
                               soft_thinking.js_divergence(pi, onehot), atol=1e-6, rtol=0)


def test_soft_generate_logs_the_weights_and_keeps_the_inputs(cot_model):
    stats = {}
    rows = soft_thinking.soft_generate(cot_model, TOK, cot_prompts(), END, 'gumbel', 30, temperature=2.0, top_p=1.0,
                                       min_p=0.0, generators=gens(range(3)), stats=stats, keep_inputs=True)
    assert len(rows) == 3
    for k in ('pi_entropy', 'pi_js', 'pi_flip'):
        assert [len(v) for v in stats[k]] == stats['think_steps']
    assert all(0 <= v <= math.log(2) + 1e-6 for row in stats['pi_js'] for v in row)
    assert all(v in (0.0, 1.0) for row in stats['pi_flip'] for v in row)
    for X, top2, n in zip(stats['soft_inputs'], stats['soft_top2'], stats['think_steps']):
        assert X.shape == (n, cot_model.config.n_embd) and top2.shape == (n, 2)
        assert (top2[:, 0] != top2[:, 1]).all()
    summary = soft_thinking.soft_summary(stats)
    assert {'pi_entropy', 'pi_js', 'pi_flip'} <= set(summary)


def test_lens_probe_with_one_hot_inputs_is_all_on_the_top1_path(cot_model):
    """top_k = 1: every soft input is the top-1 token's embedding, so at every layer its reading is the
    top-1 input's (share 1), and the final argmax is the top-1 path's token."""
    res = soft_thinking.lens_probe(cot_model, TOK, cot_prompts(4), END, 'vanilla', top_k=1, max_new_tokens=30)
    assert len(res['layers']) == cot_model.config.n_layer + 1
    assert [r['layer'] for r in res['layers']] == list(range(cot_model.config.n_layer + 1))
    assert res['soft_steps'] > 0 and res['split_steps'] > 0
    assert all(r['share'] == pytest.approx(1.0, abs=1e-6) for r in res['layers'])
    assert res['top1_wins'] == 1.0
    for r in res['layers']:
        assert 0 <= r['p_path'] <= 1 and 0 <= r['share'] <= 1


def test_lens_probe_mixtures_fields_in_range(cot_model):
    for mix in (0.0, 0.6):
        res = soft_thinking.lens_probe(cot_model, TOK, cot_prompts(4), END, 'vanilla', mix=mix, temperature=2.0,
                                       top_p=1.0, min_p=0.0, max_new_tokens=30)
        assert res['soft_steps'] > 0
        assert all(0 <= r['p_path'] <= 1 and 0 <= r['share'] <= 1 for r in res['layers'])
        assert res['top1_wins'] is None or 0 <= res['top1_wins'] <= 1


def test_soft_sweep_one_row_per_setting_with_the_documented_fields(cot_model):
    settings = [{'mode': 'sample', 'temperature': 1.0}, {'mode': 'vanilla'}, {'mode': 'dirichlet', 'gamma': 1.0},
                {'mode': 'gumbel', 'tau': 0.5}]
    rows = soft_thinking.soft_sweep(cot_model, TOK, CKPT, examples(), settings, batch_size=4, max_new_tokens=30,
                                    temperature=2.0, top_p=1.0, min_p=0.0)
    assert [r['mode'] for r in rows] == ['greedy', 'sample', 'vanilla', 'dirichlet', 'gumbel']
    fields = {'mode', 'gamma', 'tau', 'temperature', 'accuracy', 'soft_steps', 'pi_entropy', 'pi_js', 'pi_flip',
              'rouge_l', 'n', 'seconds'}
    assert all(set(r) == fields and r['n'] == 6 and 0 <= r['accuracy'] <= 1 for r in rows)
    assert rows[0]['rouge_l'] == 1.0  # greedy against itself
    assert rows[3]['gamma'] == 1.0 and rows[4]['tau'] == 0.5 and rows[1]['temperature'] == 1.0
    for r in rows[2:]:
        assert r['pi_entropy'] >= 0 and 0 <= r['pi_js'] <= math.log(2) and 0 <= r['pi_flip'] <= 1
    assert rows[2]['pi_flip'] == 0  # vanilla: pi = p, its heaviest id is the top-1
    assert '| mode |' in soft_thinking.markdown_table(rows)


def test_soft_sweep_with_top_k_1_is_greedy(cot_model):
    rows = soft_thinking.soft_sweep(cot_model, TOK, CKPT, examples(), [{'mode': 'gumbel', 'tau': 0.5}], batch_size=4,
                                    max_new_tokens=30, top_k=1)
    assert rows[1]['rouge_l'] == 1.0 and rows[1]['accuracy'] == rows[0]['accuracy']
    assert rows[1]['pi_entropy'] == 0 and rows[1]['pi_js'] == 0 and rows[1]['pi_flip'] == 0


def test_power_sweep_one_row_per_setting_with_the_documented_fields(cot_model):
    settings = [{'alpha': 1.0, 'block': 8, 'steps': 2}, {'alpha': 4.0, 'block': 8, 'steps': 2},
                {'alpha': 4.0, 'block': 8, 'steps': 0}]
    rows = power_sampling.power_sweep(cot_model, TOK, CKPT, examples(), settings, max_new_tokens=24, num_samples=2,
                                      batch_size=4)
    assert len(rows) == 3
    assert all(set(r) == {'alpha', 'block', 'steps', 'accuracy', 'acceptance', 'fed_per_token', 'drawn_per_token',
                          'n', 'seconds'} for r in rows)
    assert [(r['alpha'], r['steps']) for r in rows] == [(1.0, 2), (4.0, 2), (4.0, 0)]
    assert rows[0]['acceptance'] == pytest.approx(1.0, abs=1e-3)  # alpha 1: q = p, every proposal accepted
    assert rows[2]['acceptance'] is None and rows[2]['drawn_per_token'] == 1.0  # no MH step: plain decoding at 1/alpha
    assert all(r['fed_per_token'] >= 1 and 0 <= r['accuracy'] <= 1 for r in rows)
    assert rows[1]['drawn_per_token'] > 1
