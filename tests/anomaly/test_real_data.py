"""The detector on slices of NSL-KDD (real, labelled, written by others): quick sanity of the figures."""

from __future__ import annotations

import numpy as np
from sklearn.metrics import roc_auc_score

from accord.sensor.anomaly.alerts import find_anomalies
from accord.sensor.anomaly.detector import Detector
from accord.sensor.anomaly.flows import FlowTable


def test_nsl_kdd_slice_separates_attacks(kdd_slice: tuple[FlowTable, FlowTable]) -> None:
    train, test = kdd_slice
    detector = Detector.fit(train)
    scores = detector.score(test)
    assert test.labels is not None
    assert roc_auc_score(test.labels, scores.score) > 0.93
    assert scores.anomalous[~test.labels].mean() < 0.12


def test_nsl_kdd_neptune_flood_is_explained_by_its_connection_counts(
    kdd_slice: tuple[FlowTable, FlowTable],
) -> None:
    train, test = kdd_slice
    detector = Detector.fit(train)
    first_rows = test.take(np.arange(3))  # rows 2 and 3 of KDDTest+ are neptune SYN floods
    found = {a.row: a for a in find_anomalies(detector, first_rows)}
    assert {1, 2} <= set(found)
    words = " ".join(r.text for r in found[1].reasons)
    assert "connections to the same host in the past 2 seconds" in words or "same service" in words
