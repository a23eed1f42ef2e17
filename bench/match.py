"""Sensor matching benchmark (issue 3): Accord's matcher beside grep, plain Python and stix2-matcher.

    .venv/bin/python bench/match.py                  # 10,000,000 conn rows, 1,000,000 dns rows
    .venv/bin/python bench/match.py --rows 1000000 --spark

Everything is generated deterministically (seeded) under bench/out/match/: a Zeek conn.log and dns.log
(hosts drawn Zipf-like from fixed pools, as real traffic repeats a few hosts), and indicator bundles of
10,000 and 1,000,000 mixed indicators (IPv4 addresses, CIDR ranges, domains, URLs, file hashes). Each
contender gets the same files and the same literal values:

- Accord: ``pipeline.run`` in a fresh process (so peak RSS is its own), timed from opening the log to
  the last JSON line written; compiling the indicators is timed apart.
- ``grep -F -f values.txt`` (LC_ALL=C), counting lines; grep matches substrings, so it over-reports.
- Plain Python: split each line, look both address columns (or the query and its parent domains) up in
  a set.
- stix2-matcher on a sample of events against a sample of patterns, extrapolated to all rows and
  indicators (it evaluates one pattern against one event at a time).
- With ``--spark``: ``accord match --engine spark`` in Spark local mode on the same rows split in 4 files.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import orjson
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pcsv

OUT = Path(__file__).resolve().parent / "out" / "match"
# Zeek's conn.log and dns.log columns (Zeek 6 base scripts), as the ASCII writer lists them.
CONN_FIELDS = (  # noqa: SIM905 - a column list reads best as one line of names
    "ts uid id.orig_h id.orig_p id.resp_h id.resp_p proto service duration orig_bytes resp_bytes conn_state "
    "local_orig local_resp missed_bytes history orig_pkts orig_ip_bytes resp_pkts resp_ip_bytes tunnel_parents"
).split()
CONN_TYPES = (  # noqa: SIM905
    "time string addr port addr port enum string interval count count string bool bool count string count "
    "count count count set[string]"
).split()
DNS_FIELDS = "ts uid id.orig_h id.orig_p id.resp_h id.resp_p proto trans_id query qtype_name rcode_name answers".split()  # noqa: SIM905, E501
DNS_TYPES = "time string addr port addr port enum count string string string vector[string]".split()  # noqa: SIM905
CHUNK = 1_000_000


def _header(path: str, fields: list[str], types: list[str]) -> bytes:
    lines = [
        "#separator \\x09",
        "#set_separator\t,",
        "#empty_field\t(empty)",
        "#unset_field\t-",
        f"#path\t{path}",
        "#open\t2026-11-27-00-00-00",
        "#fields\t" + "\t".join(fields),
        "#types\t" + "\t".join(types),
    ]
    return ("\n".join(lines) + "\n").encode()


def _ips(rng: np.random.Generator, n: int, first: int = 1) -> pa.Array:
    octets = rng.integers(0, 256, (n, 4))
    octets[:, 0] = rng.integers(first, 224, n)
    return pa.array([f"{a}.{b}.{c}.{d}" for a, b, c, d in octets.tolist()])


def _zipf(rng: np.random.Generator, n: int, size: int) -> np.ndarray:
    return (rng.zipf(1.2, n) - 1) % size


def _write(sinks: list[Any], table: pa.Table, part: int) -> None:
    options = pcsv.WriteOptions(include_header=False, delimiter="\t", quoting_style="none")
    pcsv.write_csv(table, sinks[part % len(sinks)], write_options=options)


def generate(rows: int, parts: int) -> dict[str, Any]:
    """Write the logs, pools and indicator bundles (skipped when already there for this row count)."""
    OUT.mkdir(parents=True, exist_ok=True)
    stamp = OUT / f"generated-{rows}-{parts}.json"
    if stamp.exists():
        return dict(json.loads(stamp.read_text()))
    for old in OUT.glob("generated-*.json"):
        old.unlink()  # the files are about to be rewritten for another size
    rng = np.random.default_rng(20261127)
    internal = pa.array([f"192.168.{i // 250}.{i % 250 + 1}" for i in range(2000)])
    external = _ips(rng, 400_000)
    domains = pa.array(
        [f"{'www.' if i % 3 == 0 else ''}site{i}.{('com', 'net', 'org', 'io')[i % 4]}" for i in range(200_000)]
    )
    names = ["conn.log"] + [f"parts/conn-{p}.log" for p in range(parts)]
    (OUT / "parts").mkdir(exist_ok=True)
    sinks = [open(OUT / n, "wb") for n in names]  # noqa: SIM115 - closed below
    for sink in sinks:
        sink.write(_header("conn", CONN_FIELDS, CONN_TYPES))
    for part, start in enumerate(range(0, rows, CHUNK)):
        n = min(CHUNK, rows - start)
        ts = pc.cast(pa.array(1795000000.0 + (start + np.arange(n)) * 0.0001), pa.string())
        cols = {
            "ts": ts,
            "uid": pa.array([f"C{start + i:017x}" for i in range(n)]),
            "id.orig_h": internal.take(pa.array(_zipf(rng, n, 2000))),
            "id.orig_p": pc.cast(pa.array(rng.integers(1024, 65535, n)), pa.string()),
            "id.resp_h": external.take(pa.array(_zipf(rng, n, 400_000))),
            "id.resp_p": pa.array(np.array(["443", "80", "53", "22", "8080"])[rng.integers(0, 5, n)]),
        }
        fill = {
            "proto": "tcp",
            "service": "ssl",
            "duration": "0.512",
            "orig_bytes": "512",
            "resp_bytes": "4096",
            "conn_state": "SF",
            "local_orig": "T",
            "local_resp": "F",
            "missed_bytes": "0",
            "history": "ShADadFf",
            "orig_pkts": "8",
            "orig_ip_bytes": "900",
            "resp_pkts": "9",
            "resp_ip_bytes": "5000",
            "tunnel_parents": "-",
        }
        table = pa.table({f: cols.get(f, pa.array([fill.get(f, "-")] * n)) for f in CONN_FIELDS})
        _write(sinks[:1], table, 0)
        if parts:
            _write(sinks[1:], table, part)
    for sink in sinks:
        sink.write(b"#close\t2026-11-27-23-59-59\n")
        sink.close()
    dns_rows = max(rows // 10, 1)
    with open(OUT / "dns.log", "wb") as sink:
        sink.write(_header("dns", DNS_FIELDS, DNS_TYPES))
        for start in range(0, dns_rows, CHUNK):
            n = min(CHUNK, dns_rows - start)
            picked = domains.take(pa.array(_zipf(rng, n, 200_000)))
            prefix = pa.array(np.array(["", "api.", "cdn.", "m."])[rng.integers(0, 4, n)])
            cols = {
                "ts": pc.cast(pa.array(1795000000.0 + (start + np.arange(n)) * 0.001), pa.string()),
                "uid": pa.array([f"D{start + i:017x}" for i in range(n)]),
                "id.orig_h": internal.take(pa.array(_zipf(rng, n, 2000))),
                "id.resp_h": pa.array(["192.168.0.1"] * n),
                "query": pc.binary_join_element_wise(prefix, picked, ""),
            }
            fill = {
                "id.orig_p": "53000",
                "id.resp_p": "53",
                "proto": "udp",
                "trans_id": "1",
                "qtype_name": "A",
                "rcode_name": "NOERROR",
                "answers": "-",
            }
            _write([sink], pa.table({f: cols.get(f, pa.array([fill.get(f, "-")] * n)) for f in DNS_FIELDS}), 0)
        sink.write(b"#close\t2026-11-27-23-59-59\n")
    info: dict[str, Any] = {"conn_rows": rows, "dns_rows": dns_rows, "bundles": {}}
    for size in (10_000, 1_000_000):
        info["bundles"][str(size)] = _indicators(rng, size, external, domains)
    stamp.write_text(json.dumps(info))
    return info


def _indicators(rng: np.random.Generator, size: int, external: pa.Array, domains: pa.Array) -> dict[str, str]:
    """A bundle of ``size`` mixed indicators and the literal values grep and the Python loop get."""
    counts = {
        "ip": int(size * 0.6),
        "cidr": int(size * 0.04),
        "domain": int(size * 0.25),
        "url": int(size * 0.05),
    }
    counts["hash"] = size - sum(counts.values())
    seen = rng.choice(len(external), min(200, len(external)), replace=False)  # a few real hits
    ips = external.take(pa.array(seen)).to_pylist() + _ips(rng, counts["ip"] - len(seen)).to_pylist()
    cidrs = [
        f"{a}.{b}.{c}.0/{p}"
        for a, b, c, p in zip(
            rng.integers(1, 224, counts["cidr"]).tolist(),
            rng.integers(0, 256, counts["cidr"]).tolist(),
            rng.integers(0, 256, counts["cidr"]).tolist(),
            rng.choice([24, 26, 28], counts["cidr"]).tolist(),
            strict=True,
        )
    ]
    known = domains.take(pa.array(rng.choice(len(domains), 100, replace=False))).to_pylist()
    names = [d.removeprefix("www.") for d in known] + [
        f"bad{i}.example{i % 97}.net" for i in range(counts["domain"] - len(known))
    ]
    urls = [f"http://evil{i}.example.org/path/{i}" for i in range(counts["url"])]
    hashes = [f"{i:064x}"[: (32, 40, 64)[i % 3]] for i in range(counts["hash"])]
    patterns = (
        [("ipv4-addr:value", v) for v in ips + cidrs]
        + [("domain-name:value", v) for v in names]
        + [("url:value", v) for v in urls]
        + [(f"file:hashes.'{('MD5', 'SHA-1', 'SHA-256')[i % 3]}'", v) for i, v in enumerate(hashes)]
    )
    objects = [
        {
            "type": "indicator",
            "spec_version": "2.1",
            "id": f"indicator--00000000-0000-4000-8000-{i:012d}",
            "created": "2026-01-01T00:00:00Z",
            "modified": "2026-01-01T00:00:00Z",
            "pattern_type": "stix",
            "valid_from": "2026-01-01T00:00:00Z",
            "pattern": f"[{path} = '{value}']",
        }
        for i, (path, value) in enumerate(patterns)
    ]
    bundle = OUT / f"indicators-{size}.json"
    bundle.write_bytes(
        orjson.dumps({"type": "bundle", "id": "bundle--00000000-0000-4000-8000-000000000000", "objects": objects})
    )
    values = OUT / f"values-{size}.txt"
    values.write_text("\n".join(ips + names + urls + hashes) + "\n")
    return {"bundle": str(bundle), "values": str(values)}


def worker(args: argparse.Namespace) -> None:
    """One contender in a fresh process, printing a JSON result line."""
    started = time.perf_counter()
    if args.worker in ("accord", "spark"):
        from accord.sensor import feeds, indicators, kernel, pipeline, spark

        compiled = indicators.compile_indicators(feeds.BundleFile(Path(args.bundle)).objects())
        matcher = kernel.Matcher(compiled.indicators)
        del compiled  # as ``accord match`` does: the tables are all a run keeps
        compile_s = time.perf_counter() - started
        compile_peak = _peak_rss_mb()
        Path("/proc/self/clear_refs").write_text("5")  # reset the peak: measure matching on its own
        with open(OUT / f"matches-{args.worker}.jsonl", "wb") as out:

            def emit(m: Any) -> None:
                out.write(
                    orjson.dumps(
                        {
                            "source": f"{m.source}:{m.line}",
                            "indicator": m.indicator,
                            "field": m.field,
                            "value": m.value,
                        }
                    )
                    + b"\n"
                )

            begun, cpu = time.perf_counter(), _cpu_seconds()
            if args.worker == "accord":
                choice = {"auto": None, "yes": True, "no": False}[args.compiled]
                summary = pipeline.run([args.log], matcher, emit, compiled=choice)
            else:
                session = spark.session("local[2]")
                session.range(1).count()  # start the JVM and workers before timing
                begun = time.perf_counter()
                found, summary = spark.run([args.log], matcher, spark=session)
                for m in found:
                    emit(m)
            seconds, cpu = time.perf_counter() - begun, _cpu_seconds() - cpu
        result = {
            "compile_s": compile_s,
            "seconds": seconds,
            "cpu_s": cpu,
            "rows": summary.events,
            "matches": summary.matches,
            "compile_peak_mb": compile_peak,
        }
    elif args.worker == "python":
        values = set(Path(args.values).read_text().split())
        seconds, rows, hits = _python_loop(Path(args.log), values, args.dns)
        result = {"seconds": seconds, "rows": rows, "matches": hits}
    else:
        raise SystemExit(f"unknown worker {args.worker}")
    result["maxrss_mb"] = _peak_rss_mb()
    print(json.dumps(result))


def _cpu_seconds() -> float:
    """CPU time of this process, all threads (the machine is shared: wall time alone hides contention)."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _peak_rss_mb() -> float:
    """VmHWM of this process (ru_maxrss would include the parent's peak, inherited across fork)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _python_loop(log: Path, values: set[str], dns: bool) -> tuple[float, int, int]:
    begun = time.perf_counter()
    rows = hits = 0
    with open(log, encoding="utf-8", errors="replace") as handle:
        for line in handle:
            if line.startswith("#"):
                continue
            rows += 1
            cols = line.split("\t")
            if dns:
                name = cols[8].lower()
                parts = name.split(".")
                hits += any(".".join(parts[i:]) in values for i in range(len(parts)))
            else:
                hits += (cols[2] in values) or (cols[4] in values)
    return time.perf_counter() - begun, rows, hits


def contender(kind: str, **kwargs: Any) -> dict[str, Any]:
    argv = [sys.executable, __file__, "--worker", kind] + [f"--{k}={v}" for k, v in kwargs.items() if v is not None]
    done = subprocess.run(argv, capture_output=True, text=True, check=True)
    return dict(json.loads(done.stdout.strip().splitlines()[-1]))


def grep(log: Path, values: Path, timeout: float) -> dict[str, Any]:
    begun = time.perf_counter()
    try:
        done = subprocess.run(
            ["grep", "-c", "-F", "-f", str(values), str(log)],
            capture_output=True,
            text=True,
            env={**os.environ, "LC_ALL": "C"},
            timeout=timeout,
        )
    except subprocess.TimeoutExpired:
        return {"seconds": None, "matches": None}
    return {"seconds": time.perf_counter() - begun, "matches": int(done.stdout.strip() or 0)}


def stix2_matcher_rate(bundle: Path, log: Path, events: int = 50, patterns: int = 20) -> float:
    """Seconds per (event, pattern) evaluation of stix2-matcher, measured on a sample."""
    from stix2matcher.matcher import Pattern

    from accord.sensor.model import FieldSpec, Kind, Role
    from accord.sensor.residual import observed_data

    objects = orjson.loads(bundle.read_bytes())["objects"][:patterns]
    compiled = [Pattern(o["pattern"], stix_version="2.1") for o in objects]
    specs = [FieldSpec("id.orig_h", Kind.ADDR, Role.SRC), FieldSpec("id.resp_h", Kind.ADDR, Role.DST)]
    sample = []
    with open(log) as handle:
        for line in handle:
            if not line.startswith("#"):
                cols = line.split("\t")
                sample.append(
                    observed_data(specs, {"id.orig_h": cols[2], "id.resp_h": cols[4]}, float(cols[0]), len(sample))
                )
            if len(sample) == events:
                break
    begun = time.perf_counter()
    for sdo in sample:
        for pattern in compiled:
            pattern.match([sdo])
    return (time.perf_counter() - begun) / (len(sample) * len(compiled))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=10_000_000, help="conn.log rows (dns.log gets a tenth)")
    parser.add_argument("--spark", action="store_true", help="also run Spark local mode (4 part files)")
    parser.add_argument("--grep-timeout", type=float, default=900.0)
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    for hidden in ("log", "bundle", "values"):
        parser.add_argument(f"--{hidden}", help=argparse.SUPPRESS)
    parser.add_argument("--dns", type=int, default=0, help=argparse.SUPPRESS)
    parser.add_argument(
        "--compiled", choices=("auto", "yes", "no"), default="auto", help="accord worker: force the numba path or not"
    )
    args = parser.parse_args()
    if args.worker:
        worker(args)
        return
    began = time.perf_counter()
    info = generate(args.rows, 4 if args.spark else 0)
    print(f"data ready in {time.perf_counter() - began:.0f} s under {OUT}", file=sys.stderr)
    results: list[dict[str, Any]] = []
    for log, rows, dns in ((OUT / "conn.log", info["conn_rows"], 0), (OUT / "dns.log", info["dns_rows"], 1)):
        for size, files in info["bundles"].items():
            row: dict[str, Any] = {"log": log.name, "rows": rows, "indicators": int(size)}
            row["accord"] = contender("accord", log=log, bundle=files["bundle"])
            row["grep"] = grep(log, Path(files["values"]), args.grep_timeout)
            row["python"] = contender("python", log=log, values=files["values"], dns=dns)
            if args.spark and not dns and size == "1000000":
                row["spark"] = contender("spark", log=OUT / "parts", bundle=files["bundle"])
            results.append(row)
            print(json.dumps(row), file=sys.stderr)
    per_eval = stix2_matcher_rate(Path(info["bundles"]["10000"]["bundle"]), OUT / "conn.log")
    report = render(results, per_eval, " ".join(sys.argv[1:]))
    (OUT / "results.md").write_text(report)
    print(report)


def _rate(rows: int, seconds: float | None) -> str:
    return "timed out" if not seconds else f"{rows / seconds:,.0f}"


def render(results: list[dict[str, Any]], per_eval: float, argv: str) -> str:
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    lines = [
        f"Command: `.venv/bin/python bench/match.py {argv}`".replace(" `", "`").replace("py`", "py `", 1)
        + f" (load average at the end: {load})",
        "",
        "| log | rows | indicators | Accord rows/s | Accord rows per CPU-second | Accord compile s "
        "| Accord peak RSS MB (compile / match) | matches | grep -F rows/s | grep lines | Python set rows/s "
        "| Accord / grep | Accord / Python |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for r in results:
        a, g, p = r["accord"], r["grep"], r["python"]
        vs_grep = f"{g['seconds'] / a['seconds']:.1f}x" if g["seconds"] else "grep timed out"
        lines.append(
            f"| {r['log']} | {r['rows']:,} | {r['indicators']:,} | {_rate(r['rows'], a['seconds'])} | "
            f"{_rate(r['rows'], a['cpu_s'])} | {a['compile_s']:.1f} | "
            f"{a['compile_peak_mb']:,.0f} / {a['maxrss_mb']:,.0f} | {a['matches']:,} | "
            f"{_rate(r['rows'], g['seconds'])} | {g['matches'] if g['matches'] is not None else '-'} | "
            f"{_rate(r['rows'], p['seconds'])} | {vs_grep} | {p['seconds'] / a['seconds']:.1f}x |"
        )
    for r in results:
        if "spark" in r:
            s = r["spark"]
            lines += [
                "",
                f"Spark local mode (local[2], 4 part files, JVM started before timing): "
                f"{_rate(r['rows'], s['seconds'])} rows/s on {r['log']} at {r['indicators']:,} indicators "
                f"({s['matches']:,} matches) vs {_rate(r['rows'], r['accord']['seconds'])} in-process.",
            ]
    conn = results[0]
    total = per_eval * conn["rows"] * conn["indicators"]
    lines += [
        "",
        f"stix2-matcher: {per_eval * 1e3:.3f} ms per (event, pattern); all {conn['rows']:,} conn rows "
        f"against {conn['indicators']:,} patterns would take about {total / 86400:,.1f} days "
        f"({conn['rows'] / total:,.2f} rows/s).",
    ]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    main()
