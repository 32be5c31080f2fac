"""Speed, memory and agreement of sekat's case table and hand-offs against PM4Py.

Run from the repository root::

    .venv/bin/python benchmarks/bench_paths.py --sizes 100000 1000000

For each size the script generates a log (``toolkit.synthetic.simulate``, rows in time order,
as real exports come), writes it to Parquet under benchmarks/data/ (git-ignored) and then
measures, each in a fresh subprocess so that peak memory (``ru_maxrss``) is that step's own:

- ``read``:  reading the Parquet file;
- ``floor``: reading, factorising case ids and one ``numpy.lexsort`` on (case code, time) —
  the cheapest way to put the rows in (case, time) order;
- ``sekat``: reading, then ``case_table_and_handovers`` (both tables from one ordering of
  the rows; peak memory is taken right after it); then, timed apart, ``case_table`` and
  ``handovers`` as two separate calls and ``handovers(by="channel_group")``;
- ``pm4py``: reading, ``format_dataframe``, handover-of-work network, case durations and
  variants, run with PM4Py's own environment (``.venv-bench``, see requirements-bench.txt)
  because PM4Py is a benchmark-only, AGPL-licensed extra, never a sekat dependency.

It then checks that the two tools agree once their definitions are aligned (see README.md)
and prints a Markdown table plus a JSON record (also written to benchmarks/data/).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
DATA = HERE / "data"
BENCH_PYTHON = ROOT / ".venv-bench" / "bin" / "python"

CASE, TIME, AGENCY, ACTIVITY = "case_id", "timestamp", "agency", "activity"


def reset_peak_rss() -> None:
    """Forget the peak memory inherited from the parent (a fork copies its high-water mark)."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
    except OSError:
        pass


def _status_mb(field: str) -> float | None:
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return None


def peak_rss_mb() -> float:
    """Peak resident memory of this process in MiB (since :func:`reset_peak_rss`)."""
    peak = _status_mb("VmHWM")
    return peak if peak is not None else resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def rss_mb() -> float:
    """Current resident memory in MiB."""
    current = _status_mb("VmRSS")
    return current if current is not None else peak_rss_mb()


# --- the workers (each runs in its own process) ---------------------------------------------


def work_read(path: Path, out: Path) -> dict:
    import pandas as pd

    base = rss_mb()
    start = time.perf_counter()
    events = pd.read_parquet(path)
    seconds = time.perf_counter() - start
    return {
        "seconds": seconds,
        "rows": len(events),
        "frame_mb": events.memory_usage(deep=True).sum() / 2**20,
        "baseline_rss_mb": base,
    }


def work_floor(path: Path, out: Path) -> dict:
    import numpy as np
    import pandas as pd

    base = rss_mb()
    start = time.perf_counter()
    events = pd.read_parquet(path)
    codes, _ = pd.factorize(events[CASE])
    order = np.lexsort((events[TIME].array.asi8, codes))
    seconds = time.perf_counter() - start
    assert len(order) == len(events)
    return {"seconds": seconds, "baseline_rss_mb": base}


def work_sekat(path: Path, out: Path) -> dict:
    import pandas as pd

    from toolkit.paths import case_table, case_table_and_handovers, handovers

    base = rss_mb()
    start = time.perf_counter()
    events = pd.read_parquet(path)
    read = time.perf_counter()
    cases, flows = case_table_and_handovers(events)
    done = time.perf_counter()
    peak = peak_rss_mb()
    # The same tables from two separate calls (each orders the log again), and by group.
    again = time.perf_counter()
    separate_cases = case_table(events)
    cased = time.perf_counter()
    separate_flows = handovers(events)
    handed = time.perf_counter()
    by_group = handovers(events, by="channel_group")
    grouped = time.perf_counter()
    assert separate_cases.equals(cases) and separate_flows.equals(flows)
    cases[[CASE, "path", "hops", "resolved", "duration_hours"]].to_parquet(
        out / "sekat_cases.parquet"
    )
    flows.to_parquet(out / "sekat_handovers.parquet")
    return {
        "seconds": done - start,
        "read_seconds": read - start,
        "both_tables_seconds": done - read,
        "case_table_seconds": cased - again,
        "handovers_seconds": handed - cased,
        "handovers_by_group_seconds": grouped - handed,
        "cases": len(cases),
        "groups": len(by_group),
        "baseline_rss_mb": base,
        "core_peak_rss_mb": peak,
    }


def work_pm4py(path: Path, out: Path) -> dict:
    import pandas as pd
    import pm4py
    from pm4py.statistics.traces.generic.pandas import case_statistics

    base = rss_mb()
    start = time.perf_counter()
    events = pd.read_parquet(path)
    read = time.perf_counter()
    log = pm4py.format_dataframe(events, case_id=CASE, activity_key=ACTIVITY, timestamp_key=TIME)
    formatted = time.perf_counter()
    network = pm4py.discover_handover_of_work_network(log, beta=0, resource_key=AGENCY)
    handed = time.perf_counter()
    durations = case_statistics.get_cases_description(log)
    timed = time.perf_counter()
    variants = pm4py.get_variants(log, activity_key=AGENCY)
    done = time.perf_counter()
    # Record what the tools compute, for the agreement check in the parent process.
    n_pairs = len(log) - log["case:concept:name"].nunique()
    connections = getattr(network, "connections", None) or network[0]
    pd.DataFrame(
        {
            "from_agency": [str(a) for a, _ in connections],
            "to_agency": [str(b) for _, b in connections],
            "share": list(connections.values()),
            "pairs": n_pairs,
        }
    ).to_parquet(out / "pm4py_handover.parquet")
    pd.DataFrame(
        {
            CASE: list(durations),
            "seconds": [v["caseDuration"] for v in durations.values()],
        }
    ).to_parquet(out / "pm4py_durations.parquet")
    pd.DataFrame(
        {"variant": [" > ".join(map(str, v)) for v in variants], "count": list(variants.values())}
    ).to_parquet(out / "pm4py_variants.parquet")
    return {
        "seconds": done - start,
        "read_seconds": read - start,
        "format_dataframe_seconds": formatted - read,
        "handover_seconds": handed - formatted,
        "case_durations_seconds": timed - handed,
        "variants_seconds": done - timed,
        "baseline_rss_mb": base,
        "pm4py": pm4py.__version__,
        "pandas": pd.__version__,
    }


WORKERS = {"read": work_read, "floor": work_floor, "sekat": work_sekat, "pm4py": work_pm4py}


def run_worker(name: str, path: Path, out: Path, python: Path | str = sys.executable) -> dict:
    """Run one measurement in a fresh interpreter and return its JSON record."""
    command = [str(python), str(Path(__file__).resolve()), "--worker", name, str(path), str(out)]
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    completed = subprocess.run(command, capture_output=True, text=True, env=env, check=False)
    if completed.returncode != 0:
        raise RuntimeError(f"worker {name} failed:\n{completed.stderr[-3000:]}")
    return json.loads(completed.stdout.strip().splitlines()[-1])


# --- data and agreement ---------------------------------------------------------------------


def generate(n_cases: int, seed: int, path: Path) -> dict:
    """Write a synthetic log of ``n_cases`` requests, rows in time order."""
    from toolkit.synthetic import simulate

    start = time.perf_counter()
    events = simulate(n_cases=n_cases, seed=seed).events
    events = events.sort_values(TIME, kind="stable").reset_index(drop=True)
    seconds = time.perf_counter() - start
    path.parent.mkdir(parents=True, exist_ok=True)
    events.to_parquet(path)
    return {"requests": n_cases, "events": len(events), "generate_seconds": seconds}


def agreement(out: Path) -> dict:
    """Compare sekat and PM4Py after aligning their definitions (see README.md)."""
    import numpy as np
    import pandas as pd

    cases = pd.read_parquet(out / "sekat_cases.parquet")
    flows = pd.read_parquet(out / "sekat_handovers.parquet")
    network = pd.read_parquet(out / "pm4py_handover.parquet")
    durations = pd.read_parquet(out / "pm4py_durations.parquet")
    pm_variants = pd.read_parquet(out / "pm4py_variants.parquet")

    # Hand-offs: PM4Py's share x number of consecutive pairs = count; same-agency pairs
    # (A, A) are PM4Py's only, since a hand-off needs a change of agency.
    network["count"] = np.rint(network["share"] * network["pairs"]).astype(np.int64)
    changes = network[network["from_agency"] != network["to_agency"]]
    merged = flows.merge(
        changes, on=["from_agency", "to_agency"], how="outer", suffixes=("", "_pm4py")
    )
    handoffs_equal = bool((merged["count"] == merged["count_pm4py"]).all())

    # Durations: PM4Py's is last event - first event; sekat's ends at the final
    # resolved/closed event, which is the last event of a resolved request in this log.
    joined = cases.merge(durations, on=CASE)
    resolved = joined[joined["resolved"]]
    duration_close = np.isclose(
        resolved["duration_hours"] * 3600, resolved["seconds"], rtol=0, atol=1e-3
    )

    # Variants: PM4Py's agency sequences keep consecutive repeats; collapse them.
    def collapse(variant: str) -> str:
        parts = variant.split(" > ")
        return " > ".join(p for i, p in enumerate(parts) if i == 0 or p != parts[i - 1])

    pm_paths = (
        pm_variants.assign(path=pm_variants["variant"].map(collapse)).groupby("path")["count"].sum()
    )
    ours = cases["path"].value_counts()
    variants_equal = bool(
        pm_paths.sort_index().equals(ours.sort_index().rename("count").rename_axis("path"))
    )
    return {
        "handoff_pairs": len(merged),
        "handoff_counts_equal": handoffs_equal,
        "pm4py_same_agency_pairs": int(
            network.loc[network["from_agency"] == network["to_agency"], "count"].sum()
        ),
        "resolved_cases": len(resolved),
        "durations_equal_resolved": int(duration_close.sum()),
        "variants": len(ours),
        "variant_counts_equal": variants_equal,
    }


def _worker_memory() -> dict:
    return {"peak": peak_rss_mb(), "now": rss_mb()}


def run_dask(path: Path, out: Path, partitions: int) -> dict:
    """case_table and handovers on a local 2-worker cluster; time and worker peak memory.

    The log is split into ``partitions`` Parquet files in time order (as a national export
    would arrive), read with :func:`toolkit.paths.cluster.read_events_dask`, shuffled by case and
    written back as Parquet, so that nothing is collected on the client.
    """
    import shutil

    import numpy as np
    import pandas as pd
    from distributed import Client, LocalCluster

    from toolkit.paths import case_table, handovers
    from toolkit.paths.cluster import read_events_dask

    parts = out / "events-parts"
    shutil.rmtree(parts, ignore_errors=True)
    parts.mkdir()
    events = pd.read_parquet(path)
    for number, rows in enumerate(np.array_split(np.arange(len(events)), partitions)):
        events.iloc[rows].to_parquet(parts / f"part-{number:04d}.parquet")
    partition_mb = events.memory_usage(deep=True).sum() / 2**20 / partitions
    del events
    with (
        LocalCluster(
            n_workers=2,
            threads_per_worker=1,
            processes=True,
            host="127.0.0.1",
            dashboard_address="127.0.0.1:0",
            memory_limit="4GiB",
        ) as cluster,
        Client(cluster) as client,
    ):
        client.run(reset_peak_rss)
        start = time.perf_counter()
        lazy = read_events_dask(parts)
        case_table(lazy).to_parquet(out / "dask-cases", write_index=False)
        flows = handovers(lazy).compute()
        seconds = time.perf_counter() - start
        memory = client.run(_worker_memory)
    return {
        "seconds": seconds,
        "partitions": partitions,
        "partition_frame_mb": partition_mb,
        "worker_peak_rss_mb": max(m["peak"] for m in memory.values()),
        "handoff_pairs": len(flows),
    }


#: Intake channels of the WABO receipt log, in sekat's vocabulary.
WABO_CHANNELS = {"Internet": "web", "Desk": "walk_in", "Post": "letter", "e-mail": "email"}


def real_log(csv: Path, args: argparse.Namespace) -> dict:
    """Agreement with PM4Py, and hops per channel, on a real log (org:group as the agency).

    The comparison keeps the placeholder group ``EMPTY`` as an agency (PM4Py cannot skip
    it); the hops per channel are shown both ways (see README.md for the decision).
    """
    from toolkit.io.readers import read_events
    from toolkit.paths import case_table
    from toolkit.paths.network import chain_length_by_channel

    events = read_events(csv, preset="xes", mapping={"channels": WABO_CHANNELS})
    path = DATA / "real-log.parquet"
    out = DATA / "run-real-log"
    out.mkdir(parents=True, exist_ok=True)
    events.to_parquet(path)
    record: dict = {"events": len(events), "requests": int(events["case_id"].nunique())}
    record["sekat"] = run_worker("sekat", path, out)
    if not args.skip_pm4py:
        record["pm4py"] = run_worker("pm4py", path, out, python=args.bench_python)
        record["agreement"] = agreement(out)
    placeholder = events["agency"] == "EMPTY"
    record["empty_share_of_events"] = float(placeholder.mean())
    columns = ["channel", "requests", "mean_hops", "median_hops", "mean_distinct_agencies"]
    columns += ["share_with_return"]
    tables = {
        "EMPTY as an agency": chain_length_by_channel(case_table(events)),
        "EMPTY as missing (sekat's choice)": chain_length_by_channel(
            case_table(events.assign(agency=events["agency"].where(~placeholder)))
        ),
    }
    record["hops_by_channel"] = {
        name: table[columns].round(3).to_dict("records") for name, table in tables.items()
    }
    for name, table in tables.items():
        print(f"\n{name}\n" + markdown_frame(table[columns].round(2)), file=sys.stderr)
    return record


def markdown_frame(frame) -> str:
    """A small DataFrame as a Markdown table (without the optional tabulate package)."""
    lines = ["| " + " | ".join(map(str, frame.columns)) + " |"]
    lines.append("|" + " --- |" * len(frame.columns))
    lines += ["| " + " | ".join(map(str, row)) + " |" for row in frame.itertuples(index=False)]
    return "\n".join(lines)


def machine() -> dict:
    import numpy
    import pandas

    cpu = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "load_average_1m": os.getloadavg()[0],
        "python": platform.python_version(),
        "pandas": pandas.__version__,
        "numpy": numpy.__version__,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[100_000])
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--skip-pm4py", action="store_true")
    parser.add_argument(
        "--repeat", type=int, default=1, help="runs of read, floor and sekat (best is kept)"
    )
    parser.add_argument("--bench-python", default=str(BENCH_PYTHON))
    parser.add_argument(
        "--dask-partitions",
        type=int,
        default=0,
        help="also run the Dask path on a LocalCluster (2 workers) with this many partitions",
    )
    parser.add_argument(
        "--real-log",
        type=Path,
        help="also compare on a real log in the PM4Py CSV layout (e.g. WABO receipt.csv)",
    )
    parser.add_argument(
        "--worker", nargs=3, metavar=("NAME", "INPUT", "OUTDIR"), help=argparse.SUPPRESS
    )
    args = parser.parse_args(argv)

    if args.worker:
        reset_peak_rss()
        name, path, out = args.worker
        record = WORKERS[name](Path(path), Path(out))
        record["peak_rss_mb"] = peak_rss_mb()
        print(json.dumps(record))
        return 0

    if not args.skip_pm4py and not Path(args.bench_python).exists():
        print(
            f"no PM4Py environment at {args.bench_python}: skipping PM4Py (create it with "
            "python3 -m venv .venv-bench && .venv-bench/bin/pip install -r "
            "benchmarks/requirements-bench.txt)",
            file=sys.stderr,
        )
        args.skip_pm4py = True
    results = {"machine": machine(), "sizes": []}
    for n_cases in args.sizes:
        out = DATA / f"run-{n_cases}"
        out.mkdir(parents=True, exist_ok=True)
        path = DATA / f"events-{n_cases}-seed{args.seed}.parquet"
        record = generate(n_cases, args.seed, path) if not path.exists() else {"requests": n_cases}
        record["load_before"] = os.getloadavg()[0]
        for name in ("read", "floor", "sekat"):
            # best of --repeat runs: the machine may be shared, and the minimum is the
            # least disturbed measurement
            runs = [run_worker(name, path, out) for _ in range(args.repeat)]
            record[name] = min(runs, key=lambda run: run["seconds"])
            record[name]["all_seconds"] = [run["seconds"] for run in runs]
            print(
                f"{n_cases:>9,} {name:>6}: {record[name]['seconds']:7.2f} s, peak {record[name]['peak_rss_mb']:7.0f} MiB",
                file=sys.stderr,
            )
        if not args.skip_pm4py:
            record["pm4py"] = run_worker("pm4py", path, out, python=args.bench_python)
            print(
                f"{n_cases:>9,}  pm4py: {record['pm4py']['seconds']:7.2f} s, peak {record['pm4py']['peak_rss_mb']:7.0f} MiB",
                file=sys.stderr,
            )
            record["agreement"] = agreement(out)
        if args.dask_partitions:
            record["dask"] = run_dask(path, out, args.dask_partitions)
            print(
                f"{n_cases:>9,}   dask: {record['dask']['seconds']:7.2f} s, worker peak "
                f"{record['dask']['worker_peak_rss_mb']:7.0f} MiB",
                file=sys.stderr,
            )
        record["load_after"] = os.getloadavg()[0]
        results["sizes"].append(record)
    if args.real_log:
        results["real_log"] = real_log(args.real_log, args)
    (DATA / "results.json").write_text(json.dumps(results, indent=2))
    print(json.dumps(results, indent=2))
    print(markdown(results))
    return 0


def markdown(results: dict) -> str:
    """A README-ready table of the measurements."""
    lines = [
        "| requests | events | frame MiB | read s | floor s | sekat s | PM4Py s | PM4Py / sekat "
        "| sekat / floor | sekat peak MiB | (peak - imports) / frame |",
        "| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for r in results["sizes"]:
        pm = r.get("pm4py", {}).get("seconds")
        frame = r["read"]["frame_mb"]
        sekat = r["sekat"]["seconds"]
        pm_text = "" if pm is None else f"{pm:.1f}"
        ratio = "" if pm is None else f"{pm / sekat:.1f}x"
        lines.append(
            f"| {r['requests']:,} | {r['read']['rows']:,} | {frame:.0f} | "
            f"{r['read']['seconds']:.2f} | {r['floor']['seconds']:.2f} | {sekat:.2f} | "
            f"{pm_text} | {ratio} | {sekat / r['floor']['seconds']:.2f}x | "
            f"{r['sekat']['core_peak_rss_mb']:.0f} | "
            f"{(r['sekat']['core_peak_rss_mb'] - r['sekat']['baseline_rss_mb']) / frame:.1f}x |"
        )
    return "\n".join(lines)


if __name__ == "__main__":
    raise SystemExit(main())
