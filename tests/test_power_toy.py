"""power_toy.py: on the designed toy, low temperature and p^alpha disagree as claimed, exactly; power
sampling's chain reaches p^alpha's choice (its exact mixing, which tests/test_power.py's samplers follow)."""
import math

import power_toy as T


def test_low_temperature_prefers_the_many_mediocre_futures_and_p_alpha_the_strong_one():
    dist = T.exact(T.TREE, 4.0)
    assert math.isclose(sum(d[0] for d in dist.values()), 1.0) and math.isclose(sum(d[1] for d in dist.values()), 1.0)
    assert math.isclose(sum(d[2] for d in dist.values()), 1.0)
    p, low, power = (T.first_token(dist, c)['A'] for c in range(3))
    assert math.isclose(p, 0.3)
    assert math.isclose(low, 0.3 ** 4 / (0.3 ** 4 + 0.7 ** 4))  # 0.0326: the first token's p, sharpened
    assert math.isclose(power, 0.3 ** 4 / (0.3 ** 4 + 10 * 0.07 ** 4))  # 0.9712: each future sharpened first
    assert low < 0.05 < p < 0.5 < 0.95 < power  # plain sampling in between, the two sharpenings opposite
    # the most likely whole sequence is A x (0.3 against 0.07), the most likely first token B
    assert max(dist, key=lambda s: dist[s][0]) == ('A', 'x')
    tv = 0.5 * sum(abs(d[1] - d[2]) for d in dist.values())
    assert math.isclose(tv, 0.9386, abs_tol=1e-4)


def test_power_sampling_chain_moves_from_low_temperature_to_p_alpha():
    dist = T.exact(T.TREE, 4.0)
    assert math.isclose(T.mh_first_token(4.0, 0), T.first_token(dist, 1)['A'])  # no MH step: the proposal q
    values = [T.mh_first_token(4.0, k) for k in (10, 30, 100, 300)]
    assert values == sorted(values) and 0.1 < values[0] < 0.2  # slow: q proposes A 3% of the time at 1/3 of the positions
    assert math.isclose(T.mh_first_token(4.0, 5000), T.first_token(dist, 2)['A'], rel_tol=1e-9)  # the stationary law
