import numpy as np
import pandas as pd
import pytest

from tracin_study.statistics import mean_sd_ci, seed_pairs_interval
from tracin_study.verdicts import OUTCOMES, EffectRule, ValueRule

ABOVE = EffectRule(null=1.0, direction=1, margin=(0.9, 1.1))
BELOW = EffectRule(null=1.0, direction=-1, margin=(0.9, 1.1))
EV = ValueRule(target=0.72, tolerance=0.03)

# Per-seed values well inside each outcome's region (5 seeds, as in the default config).
EFFECT_CASES = [
    (ABOVE, [1.5, 1.6, 1.4, 1.55, 1.5], "reproduced"),
    (ABOVE, [0.6, 0.65, 0.7, 0.62, 0.66], "contradicted"),
    (ABOVE, [0.99, 1.01, 1.0, 0.98, 1.02], "no effect"),
    (ABOVE, [1.5, 0.9, 1.4, 1.55, 1.5], "inconclusive"),  # one seed disagrees
    (ABOVE, [1.5, 0.6, 2.4, 1.0, 0.9], "inconclusive"),  # wide interval
    (BELOW, [0.84, 0.86, 0.85, 0.87, 0.83], "reproduced"),  # small, but every seed agrees
    (BELOW, [0.7, 0.72, 0.71, 0.69, 0.7], "reproduced"),
    (BELOW, [1.3, 1.35, 1.32, 1.31, 1.29], "contradicted"),
    (BELOW, [1.0, 1.02, 0.98, 1.01, 0.99], "no effect"),
    (BELOW, [0.8, 1.2, 0.95, 1.05, 1.0], "inconclusive"),
]
VALUE_CASES = [
    (EV, [0.71, 0.72, 0.73, 0.72, 0.715], "reproduced"),
    (EV, [0.93, 0.94, 0.93, 0.925, 0.917], "contradicted"),  # the last full run, train
    (EV, [0.40, 0.42, 0.41, 0.40, 0.43], "contradicted"),
    (EV, [0.0, 0.01, -0.01, 0.005, 0.0], "no effect"),
    (EV, [0.74, 0.75, 0.76, 0.75, 0.76], "inconclusive"),  # interval straddles 0.75
    (EV, [0.3, 0.9, 1.3, 0.7, 0.5], "inconclusive"),
]
CASES = EFFECT_CASES + VALUE_CASES


def test_every_rule_can_return_every_outcome():
    for rules in ((ABOVE,), (BELOW,), (EV,)):
        seen = {v for rule, _, v in CASES if rule in rules}
        assert seen == set(OUTCOMES)


@pytest.mark.parametrize(("rule", "values", "verdict"), CASES)
def test_verdicts_on_synthetic_seeds(rule, values, verdict):
    assert rule.verdict(values) == verdict


@pytest.mark.parametrize(("rule", "values", "verdict"), CASES)
def test_verdicts_survive_perturbations_of_one_in_a_thousand(rule, values, verdict):
    rng = np.random.default_rng(0)
    x = np.asarray(values)
    for _ in range(200):
        assert rule.verdict(x * (1 + rng.uniform(-1e-3, 1e-3, x.size))) == verdict


def test_near_a_threshold_a_perturbation_gives_inconclusive_never_another_outcome():
    # Values whose interval ends sit near the margin edge 1.1 and near the null.
    rng = np.random.default_rng(1)
    for centre in np.linspace(0.85, 1.25, 81):
        x = centre + np.array([-0.02, 0.0, 0.02, 0.01, -0.01])
        base = ABOVE.verdict(x)
        for _ in range(30):
            other = ABOVE.verdict(x * (1 + rng.uniform(-1e-3, 1e-3, x.size)))
            assert other == base or "inconclusive" in (base, other)


def test_one_seed_is_inconclusive():
    assert ABOVE.verdict([2.0]) == "inconclusive" and EV.verdict([0.72]) == "inconclusive"


def test_margin_must_contain_the_null():
    with pytest.raises(ValueError, match="contain"):
        EffectRule(null=1.0, direction=1, margin=(1.05, 1.1))


def test_seed_pairs_interval_is_wider_than_treating_pairs_as_independent():
    rng = np.random.default_rng(2)
    effect = rng.normal(size=5)  # one seed-level effect shared by all its pairs
    values = 0.7 + 0.05 * (effect[:, None] + effect[None, :]) + rng.normal(0, 0.005, (5, 5))
    values = (values + values.T) / 2
    matrix = pd.DataFrame(values)
    out = seed_pairs_interval(matrix)
    naive = mean_sd_ci(values[np.triu_indices(5, 1)])
    assert out["mean"] == pytest.approx(naive["mean"])
    assert out["ci95"][1] - out["ci95"][0] > naive["ci95"][1] - naive["ci95"][0]
