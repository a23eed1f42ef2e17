from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from accord.sensor.anomaly.detector import Detector, DetectorConfig
from accord.sensor.anomaly.errors import ModelFormatError, SchemaMismatchError
from accord.sensor.anomaly.flows import FlowTable
from accord.sensor.anomaly.store import load_model, save_model

from .conftest import synthetic


@pytest.fixture(scope="module")
def saved(tmp_path_factory: pytest.TempPathFactory) -> tuple[Detector, Path]:
    detector = Detector.fit(synthetic(1500, seed=1))
    directory = tmp_path_factory.mktemp("model")
    save_model(detector, directory, {"format": "csv"})
    return detector, directory


def test_a_loaded_model_scores_exactly_as_the_saved_one(saved: tuple[Detector, Path]) -> None:
    detector, directory = saved
    loaded, source = load_model(directory)
    flows = synthetic(500, seed=2, attack_share=0.1)
    np.testing.assert_array_equal(detector.score(flows).score, loaded.score(flows).score)
    assert source == {"format": "csv"}
    assert loaded.threshold == detector.threshold


def test_the_model_is_inspectable_json_and_arrays_without_pickle(saved: tuple[Detector, Path]) -> None:
    _, directory = saved
    meta = json.loads((directory / "model.json").read_text())
    assert meta["schema"] == {
        "numeric": ["bytes", "pkts", "host_dst_ports", "error_rate"],
        "categorical": ["proto", "service"],
    }
    assert meta["config"]["fpr"] == 0.05 and meta["threshold"] > 0
    with np.load(directory / "arrays.npz", allow_pickle=False) as arrays:
        assert all(arrays[k].dtype != object for k in arrays.files)


def test_flows_of_another_schema_are_refused_clearly(saved: tuple[Detector, Path]) -> None:
    loaded, _ = load_model(saved[1])
    other = FlowTable({"duration": np.zeros(4)}, {"proto": np.array(["tcp"] * 4)})
    with pytest.raises(SchemaMismatchError, match="do not match the model's feature schema"):
        loaded.score(other)


def test_a_pickled_array_file_is_refused(saved: tuple[Detector, Path], tmp_path: Path) -> None:
    _, directory = saved
    (tmp_path / "model.json").write_text((directory / "model.json").read_text())
    np.savez(tmp_path / "arrays.npz", mean=np.array([{"x": 1}], dtype=object))
    with pytest.raises(ModelFormatError, match="not a readable model"):
        load_model(tmp_path)


@pytest.mark.parametrize("change", [{"version": 99}, {"format": "something-else"}])
def test_foreign_or_future_metadata_is_refused(
    saved: tuple[Detector, Path], tmp_path: Path, change: dict[str, object]
) -> None:
    _, directory = saved
    meta = json.loads((directory / "model.json").read_text())
    (tmp_path / "model.json").write_text(json.dumps({**meta, **change}))
    (tmp_path / "arrays.npz").write_bytes((directory / "arrays.npz").read_bytes())
    with pytest.raises(ModelFormatError, match="is not an accord-anomaly-model of version 1, 2, 3"):
        load_model(tmp_path)


def _rewrite_arrays(source: Path, target: Path, change: Callable[[dict[str, Any]], dict[str, Any]]) -> None:
    """Copy a saved model from ``source`` to ``target`` with its arrays passed through ``change``."""
    if source != target:
        (target / "model.json").write_text((source / "model.json").read_text())
    with np.load(source / "arrays.npz", allow_pickle=False) as npz:
        arrays = {k: npz[k] for k in npz.files}
    np.savez(target / "arrays.npz", **change(arrays))


@pytest.mark.parametrize(
    ("change", "error"),
    [
        (lambda a: {**a, "mean": a["mean"][:-1]}, "do not fit"),
        (lambda a: {**a, "local": a["local"][:-1]}, "do not fit"),
        (lambda a: {k: v for k, v in a.items() if k != "local"}, "missing or malformed parts .*local"),
    ],
    ids=["mean", "local scales", "no local scales"],
)
def test_arrays_that_do_not_fit_the_schema_are_refused(
    saved: tuple[Detector, Path], tmp_path: Path, change: Callable[[dict[str, Any]], dict[str, Any]], error: str
) -> None:
    _rewrite_arrays(saved[1], tmp_path, change)
    with pytest.raises(ModelFormatError, match=error):
        load_model(tmp_path)


@pytest.mark.parametrize(
    ("version", "predates"), [(1, {"category_weight": 1.0, "local_scale": 0.0}), (2, {"local_scale": 0.0})]
)
def test_an_older_model_loads_with_the_settings_it_was_trained_with(
    tmp_path: Path, version: int, predates: dict[str, float]
) -> None:
    old = Detector.fit(synthetic(1500, seed=3), DetectorConfig(**predates))  # type: ignore[arg-type]
    save_model(old, tmp_path, {"format": "csv"})
    meta = json.loads((tmp_path / "model.json").read_text())
    for key in predates:
        del meta["config"][key]
    (tmp_path / "model.json").write_text(json.dumps({**meta, "version": version}))
    _rewrite_arrays(tmp_path, tmp_path, lambda a: {k: v for k, v in a.items() if k != "local"})
    loaded, _ = load_model(tmp_path)
    for key, value in predates.items():
        assert getattr(loaded.config, key) == value
    flows = synthetic(500, seed=4, attack_share=0.1)
    np.testing.assert_array_equal(old.score(flows).score, loaded.score(flows).score)
