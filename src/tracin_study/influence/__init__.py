"""TracInCP influence scores: the engine, its result and rankings.

`engine.TracInCP` runs the checkpoint loop; `gradients` holds the three ways of getting
per-example gradients of a batch; `algebra` the dot products from their factors.
"""

from tracin_study.influence.engine import TracInCP
from tracin_study.influence.result import (
    ALL_TEST_POINTS,
    InfluenceError,
    InfluenceResult,
    top_k,
)

__all__ = ["ALL_TEST_POINTS", "InfluenceError", "InfluenceResult", "TracInCP", "top_k"]
