"""Target corruption and detection metrics on hand-made cases."""

import numpy as np
import pytest
import torch

from tracin_study.corruption import (
    corrupt_targets,
    curves_on_grid,
    detection_auc,
    detection_curve,
    detection_table,
    final_loss,
    random_scores,
    recall_at,
)


def test_corruption_changes_exactly_the_chosen_fraction_to_other_targets():
    y = np.random.default_rng(0).normal(2, 1, size=1000).astype(np.float32)
    y_bad, mask = corrupt_targets(y, 0.1, np.random.default_rng(1))
    assert mask.dtype == bool and mask.sum() == 100
    assert y_bad.dtype == y.dtype
    assert np.array_equal(mask, y_bad != y)
    assert np.isin(y_bad[mask], y).all()  # new targets are existing targets
    again, mask_again = corrupt_targets(y, 0.1, np.random.default_rng(1))
    assert np.array_equal(again, y_bad) and np.array_equal(mask_again, mask)
    assert corrupt_targets(y, 0.123, np.random.default_rng(2))[1].sum() == 123


def test_duplicate_targets_are_redrawn_so_every_chosen_target_changes():
    y = np.r_[np.zeros(95), np.ones(5)]
    y_bad, mask = corrupt_targets(y, 0.5, np.random.default_rng(3))
    assert mask.sum() == 50 and np.array_equal(mask, y_bad != y)


def test_corruption_rejects_bad_input():
    with pytest.raises(ValueError, match="fraction=1.5"):
        corrupt_targets(np.arange(10.0), 1.5, np.random.default_rng(0))
    with pytest.raises(ValueError, match="all targets are equal"):
        corrupt_targets(np.ones(10), 0.5, np.random.default_rng(0))


def test_perfect_and_worst_rankings():
    n, c = 1000, 100
    mask = np.zeros(n, bool)
    mask[np.random.default_rng(0).choice(n, c, replace=False)] = True
    perfect = mask.astype(float)
    inspected, found = detection_curve(perfect, mask)
    assert inspected[0] == 0 and inspected[-1] == 1 and found[0] == 0 and found[-1] == 1
    assert np.all(np.diff(found) >= 0)
    assert detection_auc(perfect, mask) == pytest.approx(1 - c / (2 * n))
    assert detection_auc(-perfect, mask) == pytest.approx(c / (2 * n))
    assert recall_at(perfect, mask, 0.1) == 1.0
    assert recall_at(perfect, mask, 0.05) == 0.5
    assert recall_at(perfect, mask, 0.2) == 1.0
    assert recall_at(-perfect, mask, 0.9) == 0.0


def test_hand_made_ranking():
    # order by score: positions 3, 0, 2, 1; corrupted: 0 and 1
    scores, mask = np.array([0.9, 0.1, 0.5, 1.0]), np.array([True, True, False, False])
    inspected, found = detection_curve(scores, mask)
    assert found.tolist() == [0, 0, 0.5, 0.5, 1.0]
    # trapezoids of width 1/4: (0 + 0 + 0.25 + 0.5 + 0.75) / 4
    assert detection_auc(scores, mask) == pytest.approx(1.5 / 4)
    assert recall_at(scores, mask, 0.5) == 0.5


def test_random_order_has_auc_near_one_half():
    n = 20_000
    mask = np.zeros(n, bool)
    mask[: n // 10] = True
    aucs = [detection_auc(random_scores(n, np.random.default_rng(s)), mask) for s in range(5)]
    assert np.mean(aucs) == pytest.approx(0.5, abs=0.01)
    assert np.array_equal(
        random_scores(5, np.random.default_rng(7)), random_scores(5, np.random.default_rng(7))
    )


def test_tables_and_final_loss():
    mask = np.array([True, False, False, False])
    scores = {"good": np.array([4.0, 3, 2, 1]), "bad": np.array([1.0, 2, 3, 4])}
    table = detection_table(scores, mask).set_index("score")
    assert list(table.columns) == ["auc", "recall_at_0.1", "recall_at_0.2"]
    assert table.loc["good", "auc"] > table.loc["bad", "auc"]
    curves = curves_on_grid(scores, mask, np.linspace(0, 1, 5))
    assert len(curves) == 10 and curves["fraction_found"].between(0, 1).all()
    model = torch.nn.Linear(2, 1)
    with torch.no_grad():
        model.weight[:] = torch.tensor([[1.0, -1.0]])
        model.bias[:] = 0.5
    X, y = np.array([[1.0, 0.0], [0.0, 2.0]]), np.array([1.0, 0.0])
    assert final_loss(model, X, y) == pytest.approx([0.25, 2.25])
    with pytest.raises(ValueError, match="no corrupted"):
        detection_curve([1.0, 2.0], [False, False])
