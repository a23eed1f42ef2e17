"""From scores to anomaly reports: the flagged flows, who was involved, and why they stand out."""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

import numpy as np

from accord.sensor.anomaly.detector import Detector
from accord.sensor.anomaly.explain import Reason, explain
from accord.sensor.anomaly.flows import FlowTable


@dataclass(frozen=True)
class Anomaly:
    """One flagged flow. Endpoint fields are empty/-1/NaN when the log format carries none."""

    row: int
    score: float
    threshold: float
    confidence: int
    reasons: tuple[Reason, ...]
    src: str = ""
    dst: str = ""
    src_port: int = -1
    dst_port: int = -1
    proto: str = ""
    ts: float = math.nan

    @property
    def summary(self) -> str:
        return "; ".join(r.text for r in self.reasons) or "unusual combination of features"


def confidence(score: float, threshold: float) -> int:
    """STIX confidence (0-100): 50 at the threshold, towards 95 as the score clears it.

    The margin is in units of the held-out normal scores' spread, so "two spreads past the
    threshold" means the same on every model.
    """
    return int(round(50 + 45 * (1 - math.exp(-max(score - threshold, 0.0) / 2))))


def find_anomalies(detector: Detector, flows: FlowTable, offset: int = 0) -> list[Anomaly]:
    """Score ``flows`` and report the anomalous ones, explained; ``offset`` numbers rows across batches."""
    scores = detector.score(flows)
    rows = np.flatnonzero(scores.anomalous)
    if not len(rows):
        return []
    flagged = flows.take(rows)
    ends = flagged.endpoints
    out = []
    for k, (row, reasons) in enumerate(zip(rows.tolist(), explain(detector, flagged), strict=True)):
        score = float(scores.score[row])
        anomaly = Anomaly(offset + row, score, detector.threshold, confidence(score, detector.threshold), reasons)
        if ends is not None:
            anomaly = replace(
                anomaly,
                src=str(ends.src[k]),
                dst=str(ends.dst[k]),
                src_port=int(ends.src_port[k]),
                dst_port=int(ends.dst_port[k]),
                proto=str(ends.proto[k]),
                ts=float(ends.ts[k]),
            )
        out.append(anomaly)
    return out
