"""What ``accord`` costs a process: the modules it imports, and what it says when an extra is missing.

Each run is a fresh interpreter (``sys.modules`` is what is measured, and an extra is made missing by
setting its modules to ``None`` there, which makes ``import numpy`` raise ModuleNotFoundError as on a
node installed without the extra). No timing: bench/startup.py measures that.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import click
import pytest

from accord.cli.common import EXTRAS, needs_extra
from tests.stixgen import indicator

# Modules that ``accord --help`` (so every command, before it runs) must not import.
HEAVY = ("sqlalchemy", "alembic", "starlette", "uvicorn", "httpx", "rich", "cryptography", "stix2",
         "stix2patterns", "orjson", "psycopg", "numpy", "pyarrow", "numba", "pyspark", "pandas", "sklearn")
# What opening a store must not import either: the web, migrations of a store at head, the sensor.
NOT_FOR_THE_STORE = ("alembic", "starlette", "uvicorn", "httpx", "stix2", "stix2patterns", "numpy", "pyarrow",
                     "numba", "pyspark", "sklearn")

_RUN = """
import json, sys
missing, argv = json.loads(sys.argv[1])
for name in missing:
    sys.modules[name] = None
from accord.cli import main
try:
    main(argv)
finally:
    loaded = sorted({m.split(".")[0] for m in sys.modules if sys.modules[m] is not None})
    sys.stderr.write("\\nLOADED " + json.dumps(loaded) + "\\n")
"""


def accord(*argv: str, missing: tuple[str, ...] = ()) -> tuple[int, str, str, set[str]]:
    """Run ``accord ARGV`` in a new interpreter; its exit code, output, errors and top-level modules."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(Path(__file__).parents[2] / "src"), *sys.path])}
    done = subprocess.run([sys.executable, "-c", _RUN, json.dumps([list(missing), list(argv)])],
                          capture_output=True, text=True, env=env, timeout=120)
    err, _, loaded = done.stderr.rpartition("\nLOADED ")
    return done.returncode, done.stdout, err, set(json.loads(loaded))


def test_help_imports_only_click_and_the_command_definitions() -> None:
    code, output, _, loaded = accord("--help")
    assert code == 0 and "status" in output
    assert loaded.isdisjoint(HEAVY), sorted(loaded & set(HEAVY))


def test_subcommand_help_imports_nothing_heavy() -> None:
    for argv in (["match", "--help"], ["account", "--help"], ["sensor", "train", "--help"], ["serve", "--help"]):
        code, _, _, loaded = accord(*argv)
        assert code == 0, argv
        assert loaded.isdisjoint(HEAVY), (argv, sorted(loaded & set(HEAVY)))


def test_status_opens_the_store_without_the_web_or_alembic(tmp_path: Path) -> None:
    d = ["--data-dir", str(tmp_path / "n"), "--json"]
    assert accord("init", *d)[0] == 0
    code, output, _, loaded = accord("status", *d)
    assert code == 0 and json.loads(output)["backend"]
    assert "sqlalchemy" in loaded
    assert loaded.isdisjoint(NOT_FOR_THE_STORE), sorted(loaded & set(NOT_FOR_THE_STORE))


def _bundle(tmp_path: Path) -> Path:
    path = tmp_path / "b.json"
    path.write_text(json.dumps({"type": "bundle", "id": "bundle--11111111-1111-4111-8111-111111111111",
                                "objects": [indicator(1)]}))
    return path


@pytest.mark.parametrize(("module", "engine"), [("numpy", "inprocess"), ("pyarrow", "inprocess"),
                                                ("stix2matcher", "inprocess"), ("pyspark", "spark")])
def test_match_without_the_sensor_extra_names_it(tmp_path: Path, module: str, engine: str) -> None:
    log = tmp_path / "conn.log"
    log.write_text("")
    code, _, err, _ = accord("match", str(log), "--indicators", str(_bundle(tmp_path)), "--engine", engine,
                             missing=(module,))
    assert code == 1
    assert "accord match needs the sensor extra" in err and "pip install 'accord[sensor]'" in err
    assert "Traceback" not in err


@pytest.mark.parametrize("command", ["train", "watch"])
def test_sensor_commands_without_the_ml_extra_name_it(tmp_path: Path, command: str) -> None:
    log = tmp_path / "conn.log"
    log.write_text("")
    code, _, err, _ = accord("sensor", command, str(log), "--model", str(tmp_path / "m"), missing=("sklearn",))
    assert code == 1
    assert f"accord sensor {command} needs the ml extra" in err and "pip install 'accord[ml]'" in err
    assert "Traceback" not in err


def test_intel_export_needs_no_extra(tmp_path: Path) -> None:
    missing = tuple(sorted(EXTRAS["sensor"] | EXTRAS["ml"]))
    code, output, err, loaded = accord("intel-export", "--indicators", str(_bundle(tmp_path)), "--to", "zeek-intel",
                                       "--out", str(tmp_path / "out"), "--json", missing=missing)
    assert code == 0, err
    assert json.loads(output)["files"][0]["lines"] >= 1
    assert loaded.isdisjoint(missing)


def test_needs_extra_lets_other_import_errors_through() -> None:
    with pytest.raises(ModuleNotFoundError), needs_extra("sensor", "accord match"):
        import accord_no_such_module  # type: ignore[import-not-found]  # noqa: F401
    with pytest.raises(click.ClickException, match=r"accord sensor train needs the ml extra"), \
            needs_extra("ml", "accord sensor train"):
        raise ModuleNotFoundError("No module named 'sklearn.cluster'", name="sklearn.cluster")
