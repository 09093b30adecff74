"""Soft thinking: the soft input is a mixture of the kept ids' embeddings, top-k = 1 is greedy, the
stochastic weights have the right laws, Cold Stop counts right, batches equal single examples."""
import math
import random

import pytest
import torch

import reasoning as R
import sample as S
import soft_thinking
from conftest import running_sum_example
from model import GPT, GPTConfig

TOK = R.WordTokenizer([str(i) for i in range(10)])
BANNED = R.banned_mask(TOK, 64, 'cpu')
END = TOK.id(R.MARKER)
NEVER = TOK.id(R.BOT)  # an end token the random-weight models below never pick as top-1
OFF = dict(cold_stop_steps=0, think_budget=100)  # thinking ends only when the top-1 is the end token


def prompts():
    torch.manual_seed(1)
    return [torch.randint(7, TOK.n_vocab, (n,)).tolist() for n in (5, 2, 8)]


def cot_prompts(n=3):
    rng = random.Random(5)
    return [R.layout(TOK, R.encode_parts(TOK, running_sum_example(rng, 3 + i % 3)), 'cot')[0] for i in range(n)]


@pytest.fixture(scope='module')
def cot_model():
    """A tiny CoT model trained for 150 steps (~4 s) on running sums of 3-5 digits: it has learned the
    format (as many steps as digits, then '### A <eos>'), not yet the sums: uncertain steps that end."""
    torch.manual_seed(0)
    model = GPT(GPTConfig(block_size=64, vocab_size=64, n_layer=2, n_head=2, n_embd=32))
    opt = torch.optim.AdamW(model.parameters(), lr=1e-2)
    rng = random.Random(0)
    for _ in range(150):
        pairs = [R.layout(TOK, R.encode_parts(TOK, running_sum_example(rng, rng.randint(3, 5))), 'cot') for _ in range(32)]
        x, y, _ = R.collate(pairs, TOK.id(R.PAD), 'cpu', 64)
        _, loss = model(x, y)
        loss.backward()
        opt.step()
        opt.zero_grad()
    return model.eval()


def gens(seeds):
    return [torch.Generator().manual_seed(s) for s in seeds]


@pytest.fixture
def peaked_model(tiny_model):
    """Random weights give near-uniform next tokens; larger embeddings give entropies from ~0.7 to ~2."""
    with torch.no_grad():
        tiny_model.transformer.wte.weight *= 4
    return tiny_model


def record_calls(model):
    """Record (input embeddings or None, last-position logits) of every call: the prefill's forward
    and each decoding step's decode_core."""
    calls, forward, core = [], model.forward, model.decode_core
    def wrapped(*args, **kw):
        res = forward(*args, **kw)
        calls.append((kw.get('embeds'), res[0][:, -1].detach()))
        return res
    def wrapped_core(idx, embeds, cache, t, valid):
        logits = core(idx, embeds, cache, t, valid)
        calls.append((embeds, logits.detach()))
        return logits
    model.forward, model.decode_core = wrapped, wrapped_core
    return calls


@pytest.mark.parametrize('mode', soft_thinking.SOFT_MODES)
def test_soft_input_is_pi_at_E_on_the_kept_ids(tiny_model, mode):
    knobs = dict(temperature=0.8, top_k=5, top_p=0.9, min_p=0.01)
    calls, stats = record_calls(tiny_model), {}
    soft_thinking.soft_generate(tiny_model, TOK, prompts(), -1, mode, 12, generators=gens(range(3)), stats=stats, **knobs, **OFF)
    assert stats['think_steps'] == [12] * 3  # every row thinks at every step (no end id -1, no <eos> as top-1)
    E = tiny_model.embed.detach()
    steps = [(calls[i - 1][1], x[:, 0]) for i, (x, _) in enumerate(calls) if x is not None]  # (logits before, input)
    assert len(steps) == 11
    for logits, x in steps:
        kept = torch.isfinite(R.filter_logits(logits, knobs['temperature'], knobs['top_k'], knobs['top_p'], BANNED,
                                              knobs['min_p']))
        for n in range(3):
            ids = kept[n].nonzero().flatten()
            w = torch.linalg.lstsq(E[ids].T, x[n][:, None]).solution[:, 0]  # x = sum over kept ids of w_i E[i]
            torch.testing.assert_close(w @ E[ids], x[n], atol=1e-5, rtol=0)
            assert w.min() > -1e-4 and abs(w.sum() - 1) < 1e-4
        if mode == 'vanilla':  # pi = p, and the input is exactly pi @ E
            pi = soft_thinking.soft_weights(logits, 'vanilla', banned=BANNED, **knobs)
            torch.testing.assert_close(pi.sum(-1), torch.ones(3))
            assert (pi[~kept] == 0).all()
            torch.testing.assert_close(x, pi @ E, atol=1e-6, rtol=0)


@pytest.mark.parametrize('mode', soft_thinking.SOFT_MODES)
def test_top_k_1_is_greedy_token_for_token(cot_model, mode):
    greedy = R.generate(cot_model, TOK, cot_prompts(), 30)
    assert all(END in row and row[-1] == TOK.eos_id for row in greedy)  # steps, '### A <eos>'
    stats = {}
    soft = soft_thinking.soft_generate(cot_model, TOK, cot_prompts(), END, mode, 30, top_k=1, generators=gens(range(3)),
                                       stats=stats, **OFF)
    assert soft == greedy
    assert stats['think_steps'] == [row.index(END) for row in greedy]


def test_coconut_prompts_run_their_thoughts_then_think_softly(tiny_model):
    """A Coconut prompt ends in <bot> <latent>*k <eot>: the prefill runs the continuous thoughts, soft
    thinking covers the steps written after them; with top-k = 1 it is Coconut's greedy decoding."""
    latent = [TOK.id(R.BOT)] + [TOK.id(R.LATENT)] * 3 + [TOK.id(R.EOT)]
    coconut = [p + latent for p in prompts()]
    soft = soft_thinking.soft_generate(tiny_model, TOK, coconut, 9, 'vanilla', 20, top_k=1, **OFF)
    assert soft == R.generate(tiny_model, TOK, coconut, 20)


def test_gumbel_small_tau_gives_one_hot_inputs_distributed_as_p():
    torch.manual_seed(0)
    N = 20000
    logits = torch.randn(1, 64).repeat(N, 1)
    u = torch.rand(N, 64, generator=torch.Generator().manual_seed(0))
    pi = soft_thinking.soft_weights(logits, 'gumbel', temperature=1.0, top_k=5, top_p=1.0, tau=1e-6, banned=BANNED, u=u)
    assert (pi.max(-1).values > 0.999).all()  # one-hot
    p = R.filter_logits(logits[:1], 1.0, top_k=5, banned=BANNED).softmax(-1)[0]  # (V,)
    freq = torch.bincount(pi.argmax(-1), minlength=64).float() / N
    assert (freq[p == 0] == 0).all()  # never an id outside the kept support
    tol = 4 * (p * (1 - p) / N).sqrt() + 1e-6  # 4 binomial standard deviations
    assert ((freq - p).abs() <= tol).all(), (freq[p > 0], p[p > 0])


def test_dirichlet_never_sees_a_zero_concentration_and_has_mean_p(monkeypatch):
    seen = []
    log_gamma = soft_thinking.log_gamma
    def spy(alpha, u, generators):
        seen.append(alpha.min().item())
        return log_gamma(alpha, u, generators)
    monkeypatch.setattr(soft_thinking, 'log_gamma', spy)
    # kept ids 120 and 200 nats below the top one: gamma * p underflows to 0 in float32
    logits = torch.full((2, 64), -1000.0)
    logits[:, 9:12] = torch.tensor([0.0, -120.0, -200.0])
    assert (4.0 * R.filter_logits(logits, 1.0, top_k=3).softmax(-1)[:, 10:12] == 0).all()
    pi = soft_thinking.soft_weights(logits, 'dirichlet', temperature=1.0, top_k=3, top_p=1.0, gamma=4.0, banned=BANNED,
                        u=torch.rand(2, 64), generators=gens([0, 1]))
    assert seen and min(seen) > 0
    assert torch.isfinite(pi).all() and (pi[:, :9] == 0).all() and (pi[:, 12:] == 0).all()
    torch.testing.assert_close(pi.sum(-1), torch.ones(2))
    # E[Dir(gamma * p)] = p, Var = p (1 - p) / (gamma + 1)
    N, gamma = 4000, 4.0
    logits = torch.randn(1, 64).repeat(N, 1)
    pi = soft_thinking.soft_weights(logits, 'dirichlet', temperature=1.0, top_k=4, top_p=1.0, gamma=gamma, banned=BANNED,
                        u=torch.rand(N, 64, generator=torch.Generator().manual_seed(1)), generators=gens(range(N)))
    p = R.filter_logits(logits[:1], 1.0, top_k=4, banned=BANNED).softmax(-1)[0]
    assert ((pi.mean(0) - p).abs() <= 5 * (p * (1 - p) / ((gamma + 1) * N)).sqrt() + 1e-6).all()


def test_cold_stop_fires_after_exactly_K_low_entropy_steps(peaked_model):
    stats = {}
    soft_thinking.soft_generate(peaked_model, TOK, prompts(), NEVER, 'vanilla', 30, stats=stats, **OFF)
    assert stats['think_steps'] == [30, 30, 30]  # only a forced end stops thinking here
    H = stats['entropy']
    logits, _, _ = R.prefill(peaked_model, TOK, prompts(), 1)  # the first step's entropy, by hand
    p = R.filter_logits(logits, 0.6, banned=BANNED).softmax(-1)
    torch.testing.assert_close(torch.tensor([h[0] for h in H]), -(p * p.clamp(min=1e-30).log()).sum(-1))
    threshold = sorted(h for row in H for h in row)[len(H) * 30 // 2]  # the median entropy
    for K in (1, 2, 3):
        # expected: the first step t whose K previous soft steps all had entropy below the threshold
        expect = [next((t for t in range(K, 30) if all(h < threshold for h in row[t - K:t])), 30) for row in H]
        stats = {}
        out = soft_thinking.soft_generate(peaked_model, TOK, prompts(), NEVER, 'vanilla', 30, think_budget=100,
                                          cold_stop_entropy=threshold, cold_stop_steps=K, stats=stats)
        assert stats['think_steps'] == expect
        assert [row[t] for row, t in zip(out, expect) if t < 30] == [NEVER] * sum(t < 30 for t in expect)
        stats = {}
        soft_thinking.soft_generate(peaked_model, TOK, prompts(), NEVER, 'vanilla', 30, cold_stop_entropy=math.inf,
                                    cold_stop_steps=K, stats=stats)
        assert stats['think_steps'] == [K] * 3  # every step is confident: exactly K soft steps


@pytest.mark.parametrize('mode', soft_thinking.SOFT_MODES)
def test_batched_equals_per_example_under_the_same_randomness(cot_model, mode):
    kw = dict(mode=mode, max_new_tokens=20, top_k=8, top_p=1.0, answer_temperature=1.0, num_samples=2, js_probe=True)
    stats = {}
    batched = soft_thinking.soft_generate(cot_model, TOK, cot_prompts(), END, generators=gens(range(6)), stats=stats, **kw)
    for i, p in enumerate(cot_prompts()):
        one = {}
        assert soft_thinking.soft_generate(cot_model, TOK, [p], END, generators=gens([2 * i, 2 * i + 1]), stats=one, **kw) \
            == batched[2 * i:2 * i + 2]
        assert one['think_steps'] == stats['think_steps'][2 * i:2 * i + 2]
        for k in ('entropy', 'js_top1', 'js_top2'):
            for a, b in zip(one[k], stats[k][2 * i:2 * i + 2]):
                torch.testing.assert_close(torch.tensor(a), torch.tensor(b), atol=1e-5, rtol=1e-4)
    assert len(set(map(tuple, batched))) > 1  # the randomness is there: samples differ
    assert len(set(stats['think_steps'])) > 1  # prompts of different lengths, rows end thinking at different steps
    assert all(END in row for row in batched)


def test_min_p_keeps_ids_within_a_factor_of_the_top():
    logits = torch.log(torch.tensor([[0.5, 0.3, 0.15, 0.05]]))
    kept = lambda l: torch.isfinite(l)[0].tolist()
    assert kept(R.filter_logits(logits, min_p=0.5)) == [True, True, False, False]  # p >= 0.25
    assert kept(R.filter_logits(logits, min_p=0.1)) == [True, True, True, True]
    assert kept(R.filter_logits(logits, temperature=0.5, min_p=0.1)) == [True, True, False, False]  # p at T 0.5


def test_js_probe_is_zero_for_a_one_hot_input(tiny_model):
    p, q = torch.tensor([[0.5, 0.5, 0.0]]), torch.tensor([[0.0, 0.0, 1.0]])
    torch.testing.assert_close(soft_thinking.js_divergence(p, q), torch.tensor([math.log(2)]))
    torch.testing.assert_close(soft_thinking.js_divergence(p, p), torch.tensor([0.0]))
    stats = {}
    soft_thinking.soft_generate(tiny_model, TOK, prompts(), NEVER, 'vanilla', 10, top_k=1, js_probe=True, stats=stats, **OFF)
    js1 = [v for row in stats['js_top1'] for v in row]
    js2 = [v for row in stats['js_top2'] for v in row]
    assert len(js1) == len(js2) == 27 and max(js1) < 1e-6 and min(js2) > 0  # the input is the top-1 token


def test_soft_sampler_cli_and_checkpoints_of_other_methods(tiny_model, monkeypatch):
    assert soft_thinking.think_end_id(TOK, 'cot') == soft_thinking.think_end_id(TOK, 'coconut') == END
    for method in ('nocot', 'pause', 'codi'):
        with pytest.raises(ValueError, match=method):
            soft_thinking.think_end_id(TOK, method)
    monkeypatch.setattr(S, 'sampler', 'soft_gumbel')
    with pytest.raises(ValueError, match='nocot'):
        S.make_decoder(tiny_model, TOK, None, {'config': {'method': 'nocot'}})
    monkeypatch.setattr(S, 'max_new_tokens', 8)
    monkeypatch.setattr(S, 'js_probe', True)
    stats = {}
    decode = S.make_decoder(tiny_model, TOK, torch.Generator().manual_seed(0), {'config': {'method': 'cot'}}, stats)
    assert len(decode(prompts())) == 3 and len(stats['think_steps']) == 3
    assert set(soft_thinking.soft_summary(stats)) == {'soft_steps_per_question', 'js_top1', 'js_top2', 'pi_entropy', 'pi_js',
                                                     'pi_flip'}
