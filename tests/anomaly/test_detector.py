from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
from sklearn.metrics import roc_auc_score

from accord.sensor.anomaly.detector import Detector, DetectorConfig, holdout_split
from accord.sensor.anomaly.errors import NotEnoughDataError
from accord.sensor.anomaly.flows import FlowTable

from .conftest import synthetic


@pytest.mark.parametrize("seeds", [(1, 2), (5, 6)])
def test_attacks_score_above_normal_flows(seeds: tuple[int, int]) -> None:
    # (5, 6): most prototypes stand for one to six flows; unshrunk local spreads (local_prior 0)
    # detected 46 % of these floods
    detector = Detector.fit(synthetic(2000, seed=seeds[0]))
    test = synthetic(2000, seed=seeds[1], attack_share=0.1)
    scores = detector.score(test)
    assert test.labels is not None
    assert roc_auc_score(test.labels, scores.score) > 0.98
    assert scores.anomalous[test.labels].mean() > 0.95


@pytest.mark.parametrize("fpr", [0.02, 0.1])
def test_threshold_gives_about_the_chosen_false_positive_rate_on_fresh_normal_traffic(fpr: float) -> None:
    detector = Detector.fit(synthetic(4000, seed=3), DetectorConfig(fpr=fpr))
    flagged = detector.score(synthetic(4000, seed=4)).anomalous.mean()
    assert fpr / 2 < flagged < fpr * 2


def test_threshold_is_a_quantile_of_held_out_normal_scores_only() -> None:
    normal = synthetic(1000, seed=5)
    config = DetectorConfig(fpr=0.05)
    detector = Detector.fit(normal, config)
    _, held = holdout_split(len(normal), config.holdout, config.seed)
    held_scores = detector.score(normal.take(held)).score
    assert detector.threshold == pytest.approx(np.quantile(held_scores, 0.95))


def test_labels_are_never_used_for_the_threshold() -> None:
    normal = synthetic(1000, seed=6)
    relabelled = FlowTable(normal.numeric, normal.categorical, normal.endpoints, ~np.zeros(len(normal), bool))
    assert Detector.fit(normal).threshold == Detector.fit(relabelled).threshold


def test_too_few_flows_is_a_clear_error() -> None:
    with pytest.raises(NotEnoughDataError, match="at least"):
        Detector.fit(synthetic(20, seed=7))


def test_update_follows_drift_and_keeps_part_of_the_old_baseline() -> None:
    old = synthetic(2000, seed=8)
    detector = Detector.fit(old)
    drifted = synthetic(2000, seed=9)
    drifted = FlowTable({**drifted.numeric, "bytes": drifted.numeric["bytes"] * 30}, drifted.categorical)
    assert detector.score(drifted).anomalous.mean() > 0.5
    updated = detector.update(drifted)
    assert updated.score(drifted).anomalous.mean() < 0.15
    assert len(updated.baseline) == len(detector.baseline) // 2 + len(drifted)


def test_scoring_is_deterministic() -> None:
    a, b = Detector.fit(synthetic(1500, seed=10)), Detector.fit(synthetic(1500, seed=10))
    test = synthetic(500, seed=11, attack_share=0.2)
    np.testing.assert_array_equal(a.score(test).score, b.score(test).score)


def test_category_weight_scales_only_the_one_hot_columns() -> None:
    normal = synthetic(1000, seed=12)
    plain = Detector.fit(normal, DetectorConfig(category_weight=1.0))
    weighted = Detector.fit(normal, DetectorConfig(category_weight=2.0))
    width = len(plain.encoder.schema.numeric)
    x1, x2 = plain.encode(normal), weighted.encode(normal)
    np.testing.assert_array_equal(x2[:, :width], x1[:, :width])
    np.testing.assert_array_equal(x2[:, width:], 2 * x1[:, width:])
    assert np.abs(x1[:, :width]).max() <= plain.config.clip


def _two_clusters(n: int, seed: int) -> FlowTable:
    """Service 'a' is tight (sd 0.2), service 'b' loose (sd 2) around the same point."""
    rng = np.random.default_rng(seed)
    spread = np.repeat([0.2, 2.0], n // 2)
    return FlowTable(
        {"v1": rng.normal(0, 1, n) * spread, "v2": rng.normal(0, 1, n) * spread},
        {"service": np.repeat(["a", "b"], n // 2)},
    )


def test_local_scale_measures_a_gap_against_its_neighbourhood_spread() -> None:
    normal = _two_clusters(2000, seed=13)
    # 3 sd off the tight cluster, 1 sd off the loose one: nearer in plain distance, stranger locally
    probes = FlowTable({"v1": np.array([0.6, 2.0]), "v2": np.zeros(2)}, {"service": np.array(["a", "b"])})
    config = DetectorConfig(prototypes=16, clip=10.0, local_scale=1.0, local_floor=0.1)
    plain = Detector.fit(normal, replace(config, local_scale=0.0))
    local = Detector.fit(normal, config)
    assert np.all(plain.local == 1)
    centre = FlowTable({"v1": np.zeros(1), "v2": np.zeros(1)}, {"service": np.array(["a"])})
    assert local.local[local.nearest(local.encode(centre))[0][0]] == local.local.min()
    raw, scaled = plain.score(probes).neighbour, local.score(probes).neighbour
    assert raw[0] < raw[1]
    assert scaled[0] > scaled[1] + 0.5


def test_no_local_scale_when_the_prototypes_are_the_distinct_flows_themselves() -> None:
    normal = synthetic(1000, seed=14)  # 800 fit flows, fewer than 1,024 prototypes
    detector = Detector.fit(normal)
    assert len(detector.prototypes) < detector.config.prototypes
    assert np.all(detector.local == 1)
    plain = Detector.fit(normal, DetectorConfig(local_scale=0.0))
    test = synthetic(300, seed=15, attack_share=0.2)
    np.testing.assert_array_equal(detector.score(test).score, plain.score(test).score)
