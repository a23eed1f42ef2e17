"""Why a flow was flagged, in words an analyst can act on.

A score alone invites either blind trust or dismissal. Both parts of the score decompose by
feature: the gap to the nearest normal prototype and the part the principal components cannot
reconstruct. Their per-feature shares, summed over each input column's one-hot parts, rank the
columns; the top ones become sentences comparing the flow with similar normal flows, for example
"far more connections to distinct ports from this host in the last minute than similar normal
flows (48 vs 2)".
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from accord.sensor.anomaly.detector import F32, Detector
from accord.sensor.anomaly.features import UNSEEN
from accord.sensor.anomaly.flows import FloatArray, FlowTable

TOP = 3
MIN_SHARE = 0.05
FAR = 0.6
"""A gap of this share of the clip limit (robust standard deviations) is "far" more or less: a
share, because a clipped z-score can never be further than the limit from the baseline."""

# column -> (what it counts or measures, True when "more/fewer" reads better than "higher/lower")
_WORDS: dict[str, tuple[str, bool]] = {
    "duration": ("connection duration", False),
    "src_bytes": ("bytes from the source", True),
    "orig_bytes": ("bytes from the originator", True),
    "dst_bytes": ("bytes from the destination", True),
    "resp_bytes": ("bytes from the responder", True),
    "orig_pkts": ("packets from the originator", True),
    "resp_pkts": ("packets from the responder", True),
    "orig_ip_bytes": ("IP bytes from the originator", True),
    "resp_ip_bytes": ("IP bytes from the responder", True),
    "missed_bytes": ("bytes missed by the sensor", True),
    "wrong_fragment": ("wrong fragments", True),
    "urgent": ("urgent packets", True),
    "hot": ("'hot' indicators (system file access, program runs)", True),
    "num_failed_logins": ("failed logins", True),
    "num_compromised": ("compromised conditions", True),
    "num_root": ("root accesses", True),
    "num_file_creations": ("file creations", True),
    "num_shells": ("shell prompts", True),
    "num_access_files": ("access-control file operations", True),
    "count": ("connections to the same host in the past 2 seconds", True),
    "srv_count": ("connections to the same service in the past 2 seconds", True),
    "serror_rate": ("share of SYN errors to the same host", False),
    "rerror_rate": ("share of rejected connections to the same host", False),
    "same_srv_rate": ("share of connections to the same service", False),
    "diff_srv_rate": ("share of connections to different services", False),
    "dst_host_count": ("recent connections to this destination host", True),
    "dst_host_srv_count": ("recent connections to this destination service", True),
    "dst_host_same_srv_rate": ("share of this destination's connections to the same service", False),
    "dst_host_diff_srv_rate": ("share of this destination's connections to different services", False),
    "dst_host_same_src_port_rate": ("share of this destination's connections from the same port", False),
    "dst_host_serror_rate": ("share of SYN errors at this destination", False),
    "dst_host_rerror_rate": ("share of rejected connections at this destination", False),
    "host_conns": ("connections from this host in the last minute", True),
    "host_dst_ports": ("connections to distinct ports from this host in the last minute", True),
    "host_dst_hosts": ("distinct hosts contacted by this host in the last minute", True),
    "host_failed_share": ("share of this host's connections that failed in the last minute", False),
    "protocol_type": ("protocol", False),
    "proto": ("protocol", False),
    "flag": ("connection flag", False),
    "conn_state": ("connection state", False),
    "resp_port": ("destination port", False),
}


@dataclass(frozen=True)
class Reason:
    """One column's part in a flow's score: ``share`` of the deviation, and the sentence for it."""

    column: str
    share: float
    text: str


def explain(detector: Detector, flows: FlowTable) -> list[tuple[Reason, ...]]:
    """For each flow, the columns that made it stand out most (at most ``TOP``), strongest first."""
    x = detector.encode(flows)
    index, _ = detector.nearest(x)
    neighbour = detector.mean + detector.prototypes[index] @ detector.basis
    gap = x - neighbour
    resid = detector.residual(x)
    share = (_normalised(gap**2) + _normalised(resid**2)) / 2
    encoder = detector.encoder
    numeric = encoder.schema.numeric
    width = len(numeric)
    groups = [share[:, :width]]
    start = width
    for values in encoder.vocab:
        groups.append(share[:, start : start + len(values) + 1].sum(axis=1, keepdims=True))
        start += len(values) + 1
    per_column = np.hstack(groups)
    columns = (*numeric, *encoder.schema.categorical)
    near = encoder.decode(neighbour[:, :width].astype(np.float64))
    reasons = []
    for row in range(len(flows)):
        ranked = [int(j) for j in np.argsort(-per_column[row])[:TOP] if per_column[row, j] >= MIN_SHARE]
        reasons.append(
            tuple(
                Reason(
                    columns[j],
                    float(per_column[row, j]),
                    _numeric_text(
                        columns[j],
                        float(gap[row, j]),
                        float(flows.numeric[columns[j]][row]),
                        float(near[row, j]),
                        FAR * detector.config.clip,
                    )
                    if j < width
                    else _category_text(detector, j - width, str(flows.categorical[columns[j]][row])),
                )
                for j in ranked
            )
        )
    return reasons


def _normalised(parts: F32) -> FloatArray:
    wide = parts.astype(np.float64)
    shares: FloatArray = wide / np.maximum(wide.sum(axis=1, keepdims=True), 1e-12)
    return shares


def _numeric_text(column: str, gap: float, value: float, neighbour: float, far_gap: float) -> str:
    noun, counted = _WORDS.get(column, (column.replace("_", " "), False))
    up = ("more" if counted else "higher") if gap > 0 else ("fewer" if counted else "lower")
    far = "far " if abs(gap) >= far_gap else ""
    if value >= 0:  # counts, bytes and shares: a prototype's back-projection can dip just below 0
        neighbour = max(neighbour, 0.0)
    return f"{far}{up} {noun} than similar normal flows ({_fmt(value)} vs {_fmt(neighbour)})"


def _category_text(detector: Detector, k: int, value: str) -> str:
    column = detector.encoder.schema.categorical[k]
    noun = _WORDS.get(column, (column.replace("_", " "), False))[0]
    values = detector.encoder.vocab[k]
    if value not in values or value == UNSEEN:
        return f"{noun} {value!r} never seen in the baseline"
    share = detector.encoder.shares[k][values.index(value)]
    return f"{noun} {value!r} is unusual for flows like this ({share:.1%} of baseline flows)"


def _fmt(value: float) -> str:
    if abs(value) < 0.005:
        return "0"
    return f"{value:,.0f}" if abs(value) >= 10 else f"{value:.2f}".rstrip("0").rstrip(".")
