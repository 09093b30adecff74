"""The plain decoders (reasoning.py): cached decoding equals uncached decoding, batches equal single prompts, filters."""
import torch

import reasoning as R

TOK = R.WordTokenizer([str(i) for i in range(10)])


def naive_greedy(model, prompt, n, banned):
    """Greedy decoding the slow way: a full forward over the growing sequence for every token."""
    ids = list(prompt)
    for _ in range(n):
        logits, _ = model(torch.tensor([ids]))
        logits = logits[0, -1].clone()
        logits[banned] = -float('inf')
        ids.append(int(logits.argmax()))
        if ids[-1] == TOK.eos_id:
            break
    return ids[len(prompt):]


def test_greedy_cached_equals_uncached_and_batch_equals_single(tiny_model):
    torch.manual_seed(1)
    prompts = [torch.randint(7, TOK.n_vocab, (n,)).tolist() for n in (5, 2, 8)]
    banned = R.banned_mask(TOK, 64, 'cpu')
    batched = R.generate(tiny_model, TOK, prompts, 20)
    for p, out in zip(prompts, batched):
        assert out == naive_greedy(tiny_model, p, 20, banned)
        assert out == R.generate(tiny_model, TOK, [p], 20)[0]


def test_samples_reproducible_and_banned_never_drawn(tiny_model):
    prompts = [[7, 8, 9], [10]]
    g = lambda: torch.Generator().manual_seed(0)
    a = R.generate(tiny_model, TOK, prompts, 30, temperature=2.0, num_samples=4, generator=g())
    b = R.generate(tiny_model, TOK, prompts, 30, temperature=2.0, num_samples=4, generator=g())
    assert a == b and len(a) == 8
    banned = set(R.banned_mask(TOK, 64, 'cpu').nonzero().flatten().tolist())
    assert not any(t in banned for row in a for t in row)


def test_filters():
    logits = torch.log(torch.tensor([[0.5, 0.3, 0.15, 0.05]]))
    kept = lambda l: torch.isfinite(l)[0].tolist()
    assert kept(R.filter_logits(logits, top_k=2)) == [True, True, False, False]
    assert kept(R.filter_logits(logits, top_p=0.8)) == [True, True, False, False]
    assert kept(R.filter_logits(logits, top_p=0.81)) == [True, True, True, False]
    assert kept(R.filter_logits(logits, top_p=0.1)) == [True, False, False, False]
    assert kept(R.filter_logits(logits, banned=torch.tensor([True, False, False, False]))) == [False, True, True, True]
    torch.testing.assert_close(R.filter_logits(logits, temperature=0.5), logits * 2)


def test_score_samples_is_the_base_models_loglik_and_self_certainty(tiny_model):
    """sample.score_samples against a full forward of each sequence alone: the sum of log p of the sample's
    tokens, and the mean over them of KL(U || p) with U uniform over the ids sampling may pick."""
    import sample as S
    pairs = [(TOK.encode('1 2 3\n'), TOK.encode('4 5') + [TOK.eos_id]), (TOK.encode('7\n'), TOK.encode('9'))]
    lls, confs = S.score_samples(tiny_model, TOK, pairs)
    allowed = (~R.banned_mask(TOK, 64, 'cpu')).nonzero().flatten().tolist()  # the ids sampling may pick
    for (prompt, ids), ll, conf in zip(pairs, lls, confs):
        logits, _ = tiny_model(torch.tensor([prompt + ids]))
        logp = torch.log_softmax(logits[0][:, allowed], -1)  # (T, allowed)
        rows = range(len(prompt) - 1, len(prompt) - 1 + len(ids))
        want_ll = sum(logp[t, allowed.index(v)] for t, v in zip(rows, ids))
        u = 1.0 / len(allowed)
        want_conf = sum((u * (torch.log(torch.tensor(u)) - logp[t])).sum() for t in rows) / len(ids)
        assert abs(ll - want_ll.item()) < 1e-4 and abs(conf - want_conf.item()) < 1e-4
