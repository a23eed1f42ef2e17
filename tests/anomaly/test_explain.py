from __future__ import annotations

import numpy as np

from accord.sensor.anomaly.alerts import confidence, find_anomalies
from accord.sensor.anomaly.detector import Detector
from accord.sensor.anomaly.explain import explain
from accord.sensor.anomaly.flows import FlowTable

from .conftest import synthetic


def test_the_feature_that_broke_is_named_first_in_plain_words() -> None:
    detector = Detector.fit(synthetic(2000, seed=1))
    flows = synthetic(5, seed=2)
    flows = FlowTable({**flows.numeric, "host_dst_ports": np.full(5, 900.0)}, flows.categorical, flows.endpoints)
    for reasons in explain(detector, flows):
        assert reasons[0].column == "host_dst_ports"
        assert reasons[0].text.startswith(
            "far more connections to distinct ports from this host in the last minute"
            " than similar normal flows (900 vs "
        )
        assert reasons[0].share > 0.3


def test_a_never_seen_service_is_reported_as_such() -> None:
    detector = Detector.fit(synthetic(2000, seed=3))
    flows = synthetic(3, seed=4)
    flows = FlowTable(flows.numeric, {**flows.categorical, "service": np.full(3, "gopher")}, flows.endpoints)
    texts = [r.text for reasons in explain(detector, flows) for r in reasons]
    assert "service 'gopher' never seen in the baseline" in texts


def test_anomalies_carry_endpoints_reasons_and_a_rising_confidence() -> None:
    detector = Detector.fit(synthetic(2000, seed=5))
    flows = synthetic(400, seed=6, attack_share=0.1)
    found = find_anomalies(detector, flows, offset=1000)
    assert flows.labels is not None
    attacks = set((np.flatnonzero(flows.labels) + 1000).tolist())
    assert attacks <= {a.row for a in found}
    a = next(a for a in found if a.row in attacks)
    assert a.src.startswith("10.0.0.") and a.dst == "192.0.2.7" and a.reasons
    assert confidence(a.threshold, a.threshold) == 50
    assert 50 < confidence(a.threshold + 1, a.threshold) < confidence(a.threshold + 5, a.threshold) <= 95
