"""The F1 ceiling printed by ``bench/anomaly.py`` agrees with scikit-learn's precision-recall curve."""

from __future__ import annotations

import numpy as np
import pytest
from bench.anomaly import best_f1
from sklearn.metrics import precision_recall_curve


@pytest.mark.parametrize("seed", range(5))
def test_best_f1_is_the_best_over_every_threshold_with_ties_flagged_together(seed: int) -> None:
    rng = np.random.default_rng(seed)
    labels = rng.random(500) < 0.4
    scores = np.round(rng.normal(size=500) + 1.5 * labels, 1)  # rounding makes many ties
    f1, fpr, accuracy = best_f1(labels, scores)

    precision, recall, thresholds = precision_recall_curve(labels, scores)
    curve = 2 * precision * recall / np.maximum(precision + recall, 1e-12)
    best = int(np.argmax(curve[:-1]))
    flagged = scores >= thresholds[best]
    assert f1 == pytest.approx(curve[best])
    assert fpr == pytest.approx(flagged[~labels].mean())
    assert accuracy == pytest.approx((flagged == labels).mean())


def test_a_perfect_ranking_has_a_ceiling_of_one() -> None:
    labels = np.array([False, False, True, True, True])
    assert best_f1(labels, np.array([0.1, 0.2, 0.7, 0.8, 0.9])) == (1.0, 0.0, 1.0)
