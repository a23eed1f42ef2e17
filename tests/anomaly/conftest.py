"""Fixtures: small synthetic flows (no data needed) and slices of the real labelled data sets.

The real data lives in ``<repo>/../shared/data`` (never copied into the repo); tests that need it
skip with the reason when it is absent, as in a user's clone.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from accord.sensor.anomaly.flows import NSL_KDD, Endpoints, FlowTable, read_table

DATA = Path(__file__).resolve().parents[2].parent / "shared" / "data"
KDD_TRAIN = DATA / "nsl-kdd" / "KDDTrain+_20Percent.txt"
KDD_TEST = DATA / "nsl-kdd" / "KDDTest+.txt"
IOT = DATA / "iot23" / "CTU-IoT-Malware-Capture-34-1.conn.log.labeled"


def need(path: Path) -> Path:
    if not path.exists():
        pytest.skip(f"real data not found at {path} (it is in ../shared/data on CI and team machines)")
    return path


def synthetic(n: int, seed: int, attack_share: float = 0.0) -> FlowTable:
    """Normal flows: correlated bytes/packets, mostly tcp/http; attacks: floods of tiny udp flows."""
    rng = np.random.default_rng(seed)
    attack = rng.random(n) < attack_share
    pkts = rng.poisson(20, n) + 1.0
    size = np.exp(rng.normal(6, 0.5, n))
    pkts[attack] = 1
    size[attack] = 40
    ports = rng.integers(1, 10, n).astype(float)
    ports[attack] = rng.integers(200, 400, int(attack.sum()))
    proto = np.where(rng.random(n) < 0.9, "tcp", "udp")
    proto[attack] = "udp"
    service = np.where(proto == "tcp", "http", "dns")
    ends = Endpoints(
        np.array([f"10.0.0.{i % 50}" for i in range(n)]),
        np.full(n, "192.0.2.7"),
        rng.integers(1024, 65535, n),
        np.where(proto == "tcp", 80, 53).astype(np.int64),
        proto,
        1.7e9 + np.arange(n, dtype=float),
    )
    return FlowTable(
        {"bytes": pkts * size, "pkts": pkts, "host_dst_ports": ports, "error_rate": rng.beta(1, 20, n)},
        {"proto": proto, "service": service},
        ends,
        attack,
    )


@pytest.fixture(scope="session")
def kdd_slice() -> tuple[FlowTable, FlowTable]:
    """3,000 normal training rows and 3,000 test rows of NSL-KDD."""
    train = read_table([need(KDD_TRAIN)], NSL_KDD).normal()
    test = read_table([need(KDD_TEST)], NSL_KDD)
    return train.take(np.arange(3000)), test.take(np.arange(3000))
