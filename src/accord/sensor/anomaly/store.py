"""Saving and loading a model as plain JSON plus a NumPy ``.npz`` that holds only numbers and strings.

A model file may come from a partner or a shared drive; unpickling it would run whatever code it
carries. So nothing here uses pickle: the metadata is JSON a person can read (schema, threshold,
false-positive rate, category lists) and the arrays load with ``allow_pickle=False``.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from accord.sensor.anomaly.detector import Detector, DetectorConfig
from accord.sensor.anomaly.errors import ModelFormatError
from accord.sensor.anomaly.features import Encoder, FeatureSchema
from accord.sensor.anomaly.flows import FlowTable

FORMAT = "accord-anomaly-model"
VERSION = 3
LEGACY_CONFIG: dict[int, dict[str, Any]] = {
    1: {"category_weight": 1.0, "local_scale": 0.0},
    2: {"local_scale": 0.0},
}
"""Per older version, the settings its files predate: a version 1 model had unweighted one-hot
columns, versions 1 and 2 no per-prototype scale of the neighbour distance, so they load and score
exactly as they were trained."""
META = "model.json"
ARRAYS = "arrays.npz"


def save_model(detector: Detector, directory: Path, source: Mapping[str, Any]) -> None:
    """Write ``model.json`` and ``arrays.npz`` into ``directory``; ``source`` says how to read logs."""
    enc = detector.encoder
    meta = {
        "format": FORMAT,
        "version": VERSION,
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
        "source": dict(source),
        "config": asdict(detector.config),
        "schema": {"numeric": list(enc.schema.numeric), "categorical": list(enc.schema.categorical)},
        "threshold": detector.threshold,
        "calibration": detector.calibration.tolist(),
        "baseline_flows": len(detector.baseline),
        "encoder": {
            "log": enc.log.tolist(),
            "center": enc.center.tolist(),
            "scale": enc.scale.tolist(),
            "vocab": [list(v) for v in enc.vocab],
            "shares": [list(s) for s in enc.shares],
        },
    }
    base = detector.baseline
    arrays = {
        "mean": detector.mean,
        "basis": detector.basis,
        "prototypes": detector.prototypes,
        "local": detector.local,
        "baseline_numeric": np.column_stack([base.numeric[c] for c in enc.schema.numeric])
        if enc.schema.numeric
        else np.zeros((len(base), 0)),
        "baseline_categorical": np.column_stack([base.categorical[c].astype(str) for c in enc.schema.categorical])
        if enc.schema.categorical
        else np.zeros((len(base), 0), dtype=str),
    }
    directory.mkdir(parents=True, exist_ok=True)
    (directory / META).write_text(json.dumps(meta, indent=1) + "\n")
    with (directory / ARRAYS).open("wb") as handle:
        np.savez_compressed(handle, **arrays)  # type: ignore[arg-type]


def load_model(directory: Path) -> tuple[Detector, dict[str, Any]]:
    """The detector and its ``source`` description; any damage is a ``ModelFormatError``."""
    try:
        meta = json.loads((directory / META).read_text())
        with np.load(directory / ARRAYS, allow_pickle=False) as npz:
            arrays = {k: npz[k] for k in npz.files}
    except (OSError, ValueError) as exc:
        raise ModelFormatError(f"{directory} is not a readable model ({exc})") from exc
    readable = (VERSION, *LEGACY_CONFIG)
    if not isinstance(meta, dict) or meta.get("format") != FORMAT or meta.get("version") not in readable:
        known = ", ".join(str(v) for v in (*LEGACY_CONFIG, VERSION))
        raise ModelFormatError(f"{directory}/{META} is not an {FORMAT} of version {known}")
    try:
        schema = FeatureSchema(tuple(meta["schema"]["numeric"]), tuple(meta["schema"]["categorical"]))
        e = meta["encoder"]
        encoder = Encoder(
            schema,
            np.array(e["log"], dtype=bool),
            np.array(e["center"], dtype=np.float64),
            np.array(e["scale"], dtype=np.float64),
            tuple(tuple(v) for v in e["vocab"]),
            tuple(tuple(float(x) for x in s) for s in e["shares"]),
        )
        nums, cats = arrays["baseline_numeric"], arrays["baseline_categorical"]
        baseline = FlowTable(
            {c: nums[:, i].astype(np.float64) for i, c in enumerate(schema.numeric)},
            {c: cats[:, i] for i, c in enumerate(schema.categorical)},
        )
        detector = Detector(
            DetectorConfig(**{**LEGACY_CONFIG.get(meta["version"], {}), **meta["config"]}),
            encoder,
            arrays["mean"].astype(np.float32),
            arrays["basis"].astype(np.float32),
            arrays["prototypes"].astype(np.float32),
            arrays["local"].astype(np.float32)
            if meta["version"] >= 3
            else np.ones(len(arrays["prototypes"]), dtype=np.float32),
            np.array(meta["calibration"], dtype=np.float64),
            float(meta["threshold"]),
            baseline,
        )
    except (KeyError, TypeError, ValueError, IndexError) as exc:
        raise ModelFormatError(f"{directory} has missing or malformed parts ({exc!r})") from exc
    _check_shapes(detector)
    return detector, dict(meta["source"])


def _check_shapes(detector: Detector) -> None:
    width = len(detector.encoder.names)
    rank = detector.basis.shape[0]
    if (
        detector.mean.shape != (width,)
        or detector.basis.shape[1:] != (width,)
        or detector.prototypes.shape[1:] != (rank,)
        or detector.local.shape != detector.prototypes.shape[:1]
        or detector.calibration.shape != (4,)
        or len(detector.encoder.center) != len(detector.encoder.schema.numeric)
    ):
        raise ModelFormatError("model arrays do not fit its feature schema")
