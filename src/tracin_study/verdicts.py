"""Verdict rules with four outcomes, fixed before looking at the data.

Seeds are the unit of replication: every interval is the 95% t-interval of the mean of the
per-seed values (`mean_sd_ci`: n seeds, n - 1 degrees of freedom). Outcomes:

- reproduced: the effect is in the claimed direction in every seed and the interval
  excludes the null on that side (and is not wholly inside the equivalence margin);
- contradicted: the same, in the opposite direction;
- no effect: the whole interval lies inside the equivalence margin around the null;
- inconclusive: anything else (including fewer than 2 seeds).

Every comparison must clear its threshold by `resolution` (in units of the measurement):
a per-seed value or interval end closer than that to a threshold counts as a tie, and ties
give "inconclusive". Two definite outcomes are therefore separated by a band 2 x resolution
wide in every compared quantity, so a perturbation that moves each per-seed value and
interval end by less than that can turn a definite outcome into "inconclusive" but never
into another definite outcome. (A relative perturbation e of 5 seeds moves an interval end
by at most about 2.4 e x max |value|: 0.0024 for ratios near 1 and e = 1e-3, against a band
of 0.01 at the default resolution of 0.005.)
"""

from dataclasses import dataclass

import numpy as np

from tracin_study.statistics import mean_sd_ci

OUTCOMES = ("reproduced", "contradicted", "no effect", "inconclusive")


def _above(a: float, b: float, resolution: float) -> bool:
    return a > b + resolution


def _below(a: float, b: float, resolution: float) -> bool:
    return a < b - resolution


def _seed_interval(values) -> tuple[np.ndarray, float, float] | None:
    """The per-seed values (n,) as floats and their 95% interval, or None when there is no
    finite interval (fewer than 2 seeds), which every rule judges inconclusive."""
    x = np.asarray(values, dtype=np.float64)
    low, high = mean_sd_ci(x)["ci95"]
    if x.size < 2 or not np.isfinite([low, high]).all():
        return None
    return x, low, high


@dataclass(frozen=True)
class EffectRule:
    """A claimed effect against a null value.

    null: the value of no effect (1 for a ratio, 0 for a difference); direction: +1 if the
    claim says the measurement exceeds the null, -1 if it says it falls short; margin:
    (low, high) equivalence margin around the null; resolution: smallest difference that
    counts, in units of the measurement.
    """

    null: float
    direction: int
    margin: tuple[float, float]
    resolution: float = 0.005

    def __post_init__(self):
        if self.direction not in (1, -1):
            raise ValueError(f"direction must be +1 or -1, got {self.direction}")
        if not self.margin[0] < self.null < self.margin[1]:
            raise ValueError(f"margin {self.margin} must contain the null {self.null}")

    def describe(self) -> str:
        side = ">" if self.direction == 1 else "<"
        return (
            f"claimed {side} {self.null:g}; no effect if the interval lies in "
            f"[{self.margin[0]:g}, {self.margin[1]:g}]"
        )

    def verdict(self, values) -> str:
        """One of `OUTCOMES` for the per-seed values (n,)."""
        interval = _seed_interval(values)
        if interval is None:
            return "inconclusive"
        x, low, high = interval
        res, (m_low, m_high) = self.resolution, self.margin
        if _above(low, m_low, res) and _below(high, m_high, res):
            return "no effect"
        if not (_below(low, m_low, res) or _above(high, m_high, res)):
            return "inconclusive"  # an interval end ties with the margin
        for outcome, sign in (("reproduced", self.direction), ("contradicted", -self.direction)):
            if sign == 1 and (_above(x, self.null, res).all() and _above(low, self.null, res)):
                return outcome
            if sign == -1 and (_below(x, self.null, res).all() and _below(high, self.null, res)):
                return outcome
        return "inconclusive"


@dataclass(frozen=True)
class ValueRule:
    """A value stated by the paper, such as an explained variance.

    target: the paper's value; tolerance: half-width of the band around it that counts as
    agreement; null: the value of a trivial model (0 explained variance: predicting the
    mean) with its own equivalence half-width `null_margin`; resolution as in `EffectRule`.

    reproduced: the interval lies inside the tolerance band; contradicted: the interval and
    every seed lie outside the band on one side; no effect: the interval lies inside the
    null's margin (the model explains nothing); inconclusive: anything else.
    """

    target: float
    tolerance: float
    null: float = 0.0
    null_margin: float = 0.05
    resolution: float = 0.005

    def describe(self) -> str:
        return (
            f"paper {self.target:g}; agreement if the interval lies in "
            f"[{self.target - self.tolerance:g}, {self.target + self.tolerance:g}]"
        )

    def verdict(self, values) -> str:
        """One of `OUTCOMES` for the per-seed values (n,)."""
        interval = _seed_interval(values)
        if interval is None:
            return "inconclusive"
        x, low, high = interval
        res = self.resolution
        null_low, null_high = self.null - self.null_margin, self.null + self.null_margin
        if _above(low, null_low, res) and _below(high, null_high, res):
            return "no effect"
        if not (_below(low, null_low, res) or _above(high, null_high, res)):
            return "inconclusive"  # an interval end ties with the null's margin
        band_low, band_high = self.target - self.tolerance, self.target + self.tolerance
        if _above(low, band_low, res) and _below(high, band_high, res):
            return "reproduced"
        if _above(low, band_high, res) and _above(x, band_high, res).all():
            return "contradicted"
        if _below(high, band_low, res) and _below(x, band_low, res).all():
            return "contradicted"
        return "inconclusive"
