from __future__ import annotations

import json
from pathlib import Path

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
    with pytest.raises(ModelFormatError, match="is not an accord-anomaly-model of version 1, 2"):
        load_model(tmp_path)


def test_arrays_that_do_not_fit_the_schema_are_refused(saved: tuple[Detector, Path], tmp_path: Path) -> None:
    _, directory = saved
    (tmp_path / "model.json").write_text((directory / "model.json").read_text())
    with np.load(directory / "arrays.npz", allow_pickle=False) as npz:
        arrays = {k: npz[k] for k in npz.files}
    np.savez(tmp_path / "arrays.npz", **{**arrays, "mean": arrays["mean"][:-1]})
    with pytest.raises(ModelFormatError, match="do not fit"):
        load_model(tmp_path)


def test_a_version_1_model_loads_with_the_unweighted_categories_it_was_trained_with(tmp_path: Path) -> None:
    v1 = Detector.fit(synthetic(1500, seed=3), DetectorConfig(category_weight=1.0))
    save_model(v1, tmp_path, {"format": "csv"})
    meta = json.loads((tmp_path / "model.json").read_text())
    del meta["config"]["category_weight"]
    (tmp_path / "model.json").write_text(json.dumps({**meta, "version": 1}))
    loaded, _ = load_model(tmp_path)
    assert loaded.config.category_weight == 1.0
    flows = synthetic(500, seed=4, attack_share=0.1)
    np.testing.assert_array_equal(v1.score(flows).score, loaded.score(flows).score)
