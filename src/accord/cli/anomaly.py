"""``accord sensor train`` and ``accord sensor watch``: learn normal traffic, then report what is not.

The model directory remembers how its logs were read (Zeek conn log, NSL-KDD, or a CSV with a
column mapping), so ``watch`` needs only the model and the new logs. NumPy and scikit-learn (the
``ml`` extra) are imported only when a sensor command runs, so ``accord`` itself starts fast and
works on a node installed without them.
"""

from __future__ import annotations

import functools
import json
import signal
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from accord.cli.common import needs_extra
from accord.config import Settings
from accord.sensor.anomaly.errors import AnomalyError
from accord.sensor.anomaly.stix import TLP, bundle, report_objects

if TYPE_CHECKING:
    from rich.console import Console

    from accord.sensor.anomaly.alerts import Anomaly
    from accord.sensor.anomaly.flows import FlowTable

BATCH = 50_000
_paths = click.argument("logs", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path))
_model = click.option(
    "--model",
    "model_dir",
    type=click.Path(file_okay=False, path_type=Path),
    help="Model directory (model.json + arrays.npz); default: sensor-model in the data directory.",
)
_data_dir = click.option("--data-dir", envvar="ACCORD_DATA_DIR", type=click.Path(file_okay=False),
                         help="The node's data directory, where the model is kept by default (default: ./.accord).")
_json = click.option("--json", "as_json", is_flag=True, help="Machine-readable output (JSON) on standard output.")


@functools.cache
def _console() -> Console:
    from rich.console import Console

    return Console()


def _model_dir(model_dir: Path | None, data_dir: str | None) -> Path:
    return model_dir or Settings.from_env(data_dir).data_dir / "sensor-model"


def _source(fmt: str, columns: Path | None) -> dict[str, Any]:
    from accord.sensor.anomaly.flows import TableFormat

    if fmt == "csv":
        if columns is None:
            raise click.UsageError("--format csv needs --columns MAPPING.json")
        return {"format": "csv", "mapping": TableFormat.from_json(columns).to_mapping()}
    return {"format": fmt}


def _read(source: dict[str, Any], paths: Sequence[Path]) -> FlowTable:
    from accord.sensor.anomaly.flows import NSL_KDD, TableFormat, read_table
    from accord.sensor.anomaly.zeek import read_zeek

    if source["format"] == "zeek":
        return read_zeek(paths)
    if source["format"] == "nsl-kdd":
        return read_table(paths, NSL_KDD)
    return read_table(paths, TableFormat.from_mapping(source["mapping"]))


@click.group()
def sensor() -> None:
    """Anomaly detection on flow logs: learn a baseline of normal traffic, then watch new traffic."""


@sensor.command()
@_paths
@_model
@click.option("--format", "fmt", type=click.Choice(["zeek", "nsl-kdd", "csv"]), default="zeek", show_default=True)
@click.option(
    "--columns",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="For --format csv: JSON mapping of numeric, categorical, label and endpoint columns.",
)
@click.option(
    "--fpr",
    default=0.05,
    show_default=True,
    help="Share of held-out normal flows allowed above the alert threshold.",
)
@click.option("--update", is_flag=True, help="Refresh the existing model in --model with these (normal) logs.")
@click.option("--seed", default=0, show_default=True)
@_data_dir
@_json
def train(
    logs: tuple[Path, ...],
    model_dir: Path | None,
    fmt: str,
    columns: Path | None,
    fpr: float,
    update: bool,
    seed: int,
    data_dir: str | None,
    as_json: bool,
) -> None:
    """Learn what normal traffic looks like from LOGS (believed free of attacks) and save the model.

    Rows labelled as attacks, if the logs carry labels, are left out. The alert threshold is set
    from held-out normal flows only, at the chosen false-positive rate.
    """
    with needs_extra("ml", "accord sensor train"):
        from accord.sensor.anomaly.detector import Detector, DetectorConfig
        from accord.sensor.anomaly.store import load_model, save_model

    model_dir = _model_dir(model_dir, data_dir)
    try:
        if update:
            old, source = load_model(model_dir)
            flows = _read(source, logs)
            with _console().status(f"refreshing the baseline with {len(flows):,} flows"):
                detector = old.update(flows)
        else:
            source = _source(fmt, columns)
            flows = _read(source, logs)
            with _console().status(f"learning from {len(flows.normal()):,} normal flows"):
                detector = Detector.fit(flows.normal(), DetectorConfig(fpr=fpr, seed=seed))
        save_model(detector, model_dir, source)
    except AnomalyError as exc:
        raise click.ClickException(str(exc)) from None
    dropped = len(flows) - len(flows.normal())
    if as_json:
        click.echo(json.dumps({"model": str(model_dir), "baseline_flows": len(detector.baseline),
                               "left_out": dropped, "features": len(detector.encoder.names),
                               "threshold": detector.threshold, "fpr": detector.config.fpr}))
        return
    _console().print(
        f"model saved to {model_dir}: {len(detector.baseline):,} baseline flows"
        + (f" ({dropped:,} rows labelled as attacks left out)" if dropped else "")
        + f", {len(detector.encoder.names)} features, threshold {detector.threshold:.3f} "
        f"at {detector.config.fpr:.1%} false positives on held-out normal flows"
    )


def _batches(source: dict[str, Any], logs: Sequence[Path], follow: bool) -> Iterator[FlowTable]:
    import numpy as np
    from rich.progress import track

    from accord.sensor.anomaly.zeek import follow_zeek

    if follow:
        if source["format"] != "zeek" or len(logs) != 1:
            raise click.UsageError("--follow reads one growing Zeek conn log")
        running = [True]
        signal.signal(signal.SIGTERM, lambda *_: running.__setitem__(0, False))
        yield from follow_zeek(logs[0], keep_going=lambda: running[0])
        return
    flows = _read(source, logs)
    for start in track(
        range(0, len(flows), BATCH),
        description="scoring",
        console=_console(),
        transient=True,
        disable=len(flows) <= BATCH,
    ):
        yield flows.take(np.arange(start, min(start + BATCH, len(flows))))


def _show(anomalies: Sequence[Anomaly], limit: int) -> None:
    from rich.table import Table

    if not anomalies:
        return
    table = Table(
        title=f"{len(anomalies):,} anomalies" + (f" (top {limit} by score)" if len(anomalies) > limit else ""),
        expand=True,
    )
    for column in ("row", "source", "destination", "score", "conf."):
        table.add_column(column, no_wrap=True, justify="right" if column in ("score", "conf.") else "left")
    table.add_column("why (strongest first)", ratio=1, overflow="fold")
    for a in sorted(anomalies, key=lambda a: -a.score)[:limit]:
        table.add_row(
            str(a.row),
            f"{a.src}:{a.src_port}" if a.src else "-",
            f"{a.dst}:{a.dst_port} {a.proto}" if a.dst else "-",
            f"{a.score:.2f}",
            str(a.confidence),
            "\n".join(r.text for r in a.reasons),
        )
    _console().print(table)


def _anomaly_data(a: Anomaly) -> dict[str, Any]:
    return {"row": a.row, "src": a.src or None, "src_port": a.src_port if a.src else None, "dst": a.dst or None,
            "dst_port": a.dst_port if a.dst else None, "proto": a.proto or None, "score": a.score,
            "threshold": a.threshold, "confidence": a.confidence,
            "reasons": [{"column": r.column, "share": r.share, "text": r.text} for r in a.reasons]}


@sensor.command()
@_paths
@_model
@click.option("--follow", is_flag=True, help="Keep reading the (one) Zeek log as it grows; stop with Ctrl-C.")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), help="Write the anomalies as a STIX bundle.")
@click.option(
    "--tlp",
    type=click.Choice(list(TLP)),
    default="amber",
    show_default=True,
    help="TLP 2.0 marking on every shared object.",
)
@click.option("--identity", help="STIX identity id of your organisation (created_by_ref).")
@click.option("--node", help="API root URL of the node to post anomalies to over TAXII 2.1.")
@click.option("--api-key", envvar="ACCORD_API_KEY", help="API key for --node (or ACCORD_API_KEY).")
@click.option("--collection", help="Collection id on the node for --node.")
@click.option("--show", "limit", default=20, show_default=True, help="Anomalies listed per batch.")
@_data_dir
@_json
def watch(
    logs: tuple[Path, ...],
    model_dir: Path | None,
    follow: bool,
    out: Path | None,
    tlp: str,
    identity: str | None,
    node: str | None,
    api_key: str | None,
    collection: str | None,
    limit: int,
    data_dir: str | None,
    as_json: bool,
) -> None:
    """Score LOGS against the model and report anomalous flows, each with the reasons it stands out."""
    if node and not (api_key and collection):
        raise click.UsageError("--node needs --api-key and --collection")
    with needs_extra("ml", "accord sensor watch"):
        from accord.sensor.anomaly.alerts import find_anomalies
        from accord.sensor.anomaly.store import load_model
    from rich.console import Console

    from accord.sensor.anomaly.publish import post_objects

    model_dir = _model_dir(model_dir, data_dir)
    say = Console(stderr=True) if as_json else _console()  # standard output carries the JSON lines
    try:
        detector, source = load_model(model_dir)
        seen, found, objects = 0, 0, []
        try:
            for batch in _batches(source, logs, follow):
                anomalies = find_anomalies(detector, batch, offset=seen)
                seen, found = seen + len(batch), found + len(anomalies)
                if as_json:
                    for a in anomalies:
                        click.echo(json.dumps(_anomaly_data(a)))
                else:
                    _show(anomalies, limit)
                shared = report_objects(anomalies, tlp, identity) if (out or node) else []
                objects.extend(shared)
                if node and shared:
                    sent = post_objects(shared, node, str(collection), token=api_key)
                    say.print(f"node: {sent.success} stored, {sent.failure} refused, {sent.pending} pending")
        except KeyboardInterrupt:
            say.print("stopped")
        say.print(
            f"{found:,} of {seen:,} flows anomalous ({found / max(seen, 1):.2%}); threshold {detector.threshold:.3f}"
        )
        if out:
            out.write_text(json.dumps(bundle(objects), indent=1) + "\n")
            say.print(f"{len(objects):,} STIX objects written to {out} (TLP:{tlp.upper()})")
    except AnomalyError as exc:
        raise click.ClickException(str(exc)) from None


commands = [sensor]
