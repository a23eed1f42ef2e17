"""``accord sensor train/watch`` end to end: a mapped CSV (synthetic) and the real IoT-23 conn.log."""

from __future__ import annotations

import csv
import json
import re
from pathlib import Path

import numpy as np
import stix2
from click.testing import CliRunner

from accord.cli import cli
from accord.sensor.anomaly.flows import FlowTable
from accord.sensor.anomaly.store import load_model

from .conftest import IOT, need, synthetic

MAPPING = {
    "numeric": ["bytes", "pkts", "host_dst_ports", "error_rate"],
    "categorical": ["proto", "service"],
    "label": "label",
    "endpoints": {"src": "src", "dst": "dst", "dst_port": "dport", "proto": "proto", "ts": "ts"},
}


def write_csv(path: Path, table: FlowTable) -> Path:
    assert table.endpoints is not None and table.labels is not None
    with path.open("w", newline="") as handle:
        out = csv.writer(handle)
        out.writerow([*MAPPING["numeric"], *MAPPING["categorical"], "src", "dst", "dport", "ts", "label"])
        for i in range(len(table)):
            out.writerow(
                [
                    *(table.numeric[c][i] for c in MAPPING["numeric"]),
                    *(table.categorical[c][i] for c in MAPPING["categorical"]),
                    table.endpoints.src[i],
                    table.endpoints.dst[i],
                    table.endpoints.dst_port[i],
                    table.endpoints.ts[i],
                    "attack" if table.labels[i] else "normal",
                ]
            )
    return path


def test_train_watch_update_on_a_mapped_csv(tmp_path: Path) -> None:
    runner = CliRunner()
    mapping = tmp_path / "columns.json"
    mapping.write_text(json.dumps(MAPPING))
    train = write_csv(tmp_path / "train.csv", synthetic(1500, seed=1, attack_share=0.05))
    model = tmp_path / "model"
    result = runner.invoke(
        cli,
        [
            "sensor",
            "train",
            str(train),
            "--model",
            str(model),
            "--format",
            "csv",
            "--columns",
            str(mapping),
            "--fpr",
            "0.02",
        ],
    )
    assert result.exit_code == 0, result.output
    assert "rows labelled as attacks left out" in result.output
    assert load_model(model)[0].config.fpr == 0.02

    watch = write_csv(tmp_path / "new.csv", synthetic(600, seed=2, attack_share=0.1))
    bundle_path = tmp_path / "out.json"
    result = runner.invoke(
        cli,
        ["sensor", "watch", str(watch), "--model", str(model), "--out", str(bundle_path), "--tlp", "green"],
    )
    assert result.exit_code == 0, result.output
    assert "anomalous" in result.output and "far " in result.output
    parsed = stix2.parse(json.loads(bundle_path.read_text()), allow_custom=False)
    assert any(o.type == "observed-data" for o in parsed.objects)

    before = load_model(model)[0].threshold
    result = runner.invoke(cli, ["sensor", "train", "--update", str(watch), "--model", str(model)])
    assert result.exit_code == 0, result.output
    assert load_model(model)[0].threshold != before


def test_watching_logs_of_another_format_says_so(tmp_path: Path) -> None:
    runner = CliRunner()
    mapping = tmp_path / "columns.json"
    mapping.write_text(json.dumps(MAPPING))
    train = write_csv(tmp_path / "train.csv", synthetic(400, seed=3))
    model = tmp_path / "model"
    assert (
        runner.invoke(
            cli,
            [
                "sensor",
                "train",
                str(train),
                "--model",
                str(model),
                "--format",
                "csv",
                "--columns",
                str(mapping),
            ],
        ).exit_code
        == 0
    )
    other = dict(MAPPING, numeric=["bytes", "pkts"])
    meta = json.loads((model / "model.json").read_text())
    meta["source"]["mapping"] = other
    (model / "model.json").write_text(json.dumps(meta))
    result = runner.invoke(cli, ["sensor", "watch", str(train), "--model", str(model)])
    assert result.exit_code == 1
    assert "missing numeric columns host_dst_ports, error_rate" in result.output


def test_the_real_iot23_log_from_file_to_stix(tmp_path: Path) -> None:
    log = need(IOT)
    lines = log.read_text().splitlines(keepends=True)
    header = [x for x in lines if x.startswith("#")]
    flows = [x for x in lines if not x.startswith("#")]
    benign = [x for x in flows if "   Benign   " in x]
    train, watch = tmp_path / "train.log", tmp_path / "watch.log"
    train.write_text("".join(header + benign[::2]))
    watch.write_text("".join(header + benign[1::2][:300] + [x for x in flows if "Malicious" in x][:300]))
    runner = CliRunner()
    model = tmp_path / "model"
    assert runner.invoke(cli, ["sensor", "train", str(train), "--model", str(model)]).exit_code == 0
    out = tmp_path / "bundle.json"
    result = runner.invoke(cli, ["sensor", "watch", str(watch), "--model", str(model), "--out", str(out)])
    assert result.exit_code == 0, result.output
    summary = re.search(r"([\d,]+) of ([\d,]+) flows anomalous", result.output)
    assert summary is not None and summary.group(2) == "600"
    found = int(summary.group(1).replace(",", ""))
    assert 280 < found < 360  # the 300 malicious flows, and about the chosen 5 % of the benign ones
    parsed = stix2.parse(json.loads(out.read_text()), allow_custom=False)
    assert "192.168.1.195" in {getattr(o, "value", None) for o in parsed.objects}
    assert np.mean([o.type == "note" for o in parsed.objects]) > 0.1
