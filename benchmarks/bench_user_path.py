"""The user's path, timed beside its floor or peer: read_events, the front door, prepare, simulate.

Run from the repository root::

    .venv/bin/python benchmarks/bench_user_path.py --sizes 100000 1000000 --repeat 3

Each row of issue 13's table is measured at every size, in a fresh subprocess per run (so that
peak memory, ``VmHWM``, is that run's own), alternating with its floor or peer, best of
``--repeat`` runs:

=================  ==========================================================================
row                what runs / what it is compared with
=================  ==========================================================================
read_events        ``toolkit.read_events`` of a Parquet log / ``pandas.read_parquet`` +
                   factorising the case ids + one ``numpy.lexsort`` (the read-and-sort floor)
front door         ``read_events`` + ``case_table`` + ``handovers`` as the README shows them /
                   the same floor, and PM4Py (format_dataframe, handover network, durations,
                   variants) in its own environment, once per size
prepare            ``sekat prepare`` of a gzipped CSV / Arrow's CSV reader + an integer sort +
                   a Parquet write; peak memory over the in-memory events frame
simulate           ``sekat simulate --out x.parquet`` and ``--out x.csv.gz``
estimate           ``sekat estimate`` on the prepared folder (``--estimate``; slow)
=================  ==========================================================================

Logs come from ``toolkit.simulate(n, seed=1)`` with rows in time order, written once to
``benchmarks/data/`` (git-ignored). The script prints a Markdown table with each goal and
whether it is met, and writes ``benchmarks/data/user-path.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
DATA = HERE / "data"
sys.path.insert(0, str(HERE))

from bench_paths import (  # noqa: E402  (the shared measuring helpers and the floor)
    BENCH_PYTHON,
    machine,
    peak_rss_mb,
    reset_peak_rss,
    rss_mb,
    work_floor,
)

#: The goals of issue 13: (row, ratio to its floor or peer that must not be exceeded).
GOALS = {
    "read_events": None,
    "front door": 3.0,  # <= 3x the read-and-sort floor, and >= 10x faster than PM4Py
    "prepare": 3.0,  # <= 3x Arrow read + sort + write; peak <= 3x the events frame
    "simulate parquet": None,  # <= 15 s at 1,000,000 requests
    "simulate csv.gz": None,
}


# --- workers: each runs in its own interpreter --------------------------------------------


def work_read_events(path: str, out: str) -> dict:
    from toolkit import read_events  # imported before the clock starts, as the floor's pandas

    base = rss_mb()
    start = time.perf_counter()
    events = read_events(path)
    seconds = time.perf_counter() - start
    peak = peak_rss_mb()
    return {
        "seconds": seconds,
        "rows": len(events),
        "frame_mb": events.memory_usage(deep=True).sum() / 2**20,
        "baseline_rss_mb": base,
        "core_peak_rss_mb": peak,
    }


def work_front_door(path: str, out: str) -> dict:
    from toolkit import case_table, handovers, read_events

    base = rss_mb()
    start = time.perf_counter()
    events = read_events(path)
    read = time.perf_counter()
    cases = case_table(events)
    cased = time.perf_counter()
    flows = handovers(events)
    done = time.perf_counter()
    peak = peak_rss_mb()
    by_group = handovers(events, by="channel_group")
    grouped = time.perf_counter()
    cases[["case_id", "path", "hops", "resolved", "duration_hours"]].to_parquet(
        Path(out) / "sekat_cases.parquet"
    )
    flows.to_parquet(Path(out) / "sekat_handovers.parquet")
    return {
        "seconds": done - start,
        "read_events_seconds": read - start,
        "case_table_seconds": cased - read,
        "handovers_seconds": done - cased,
        "handovers_by_group_seconds": grouped - done,
        "groups": len(by_group),
        "baseline_rss_mb": base,
        "core_peak_rss_mb": peak,
    }


def work_prepare(path: str, out: str) -> dict:
    import pandas as pd

    from toolkit.io import readers  # noqa: F401  (imported before the clock starts)
    from toolkit.pipeline import prepare

    target = Path(out) / "prepared"
    base = rss_mb()
    start = time.perf_counter()
    result = prepare([path], target, demo=True, force=True)
    seconds = time.perf_counter() - start
    peak = peak_rss_mb()
    frame = pd.read_parquet(target / "events.parquet")
    return {
        "seconds": seconds,
        "rows_in": result.report["rows_in"],
        "frame_mb": frame.memory_usage(deep=True).sum() / 2**20,
        "baseline_rss_mb": base,
        "core_peak_rss_mb": peak,
    }


def work_prepare_floor(path: str, out: str) -> dict:
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.csv as pa_csv
    import pyarrow.parquet as pq

    base = rss_mb()
    start = time.perf_counter()
    with pa.input_stream(path, compression="gzip") as stream:
        table = pa_csv.read_csv(stream)
    codes = pc.dictionary_encode(table.column("case_id")).combine_chunks().indices
    stamps = table.column("timestamp").cast(pa.timestamp("ns", tz="UTC")).combine_chunks()
    order = np.lexsort((stamps.cast(pa.int64()).to_numpy(), codes.to_numpy()))
    pq.write_table(table.take(pa.array(order)), Path(out) / "floor.parquet", compression="zstd")
    seconds = time.perf_counter() - start
    return {"seconds": seconds, "baseline_rss_mb": base, "core_peak_rss_mb": peak_rss_mb()}


def work_simulate(path: str, out: str) -> dict:
    from toolkit.cli import main

    n_cases, suffix = path.split(":")
    target = Path(out) / f"simulated{suffix}"
    base = rss_mb()
    start = time.perf_counter()
    status = main(["simulate", "--cases", n_cases, "--seed", "1", "--out", str(target), "-q"])
    seconds = time.perf_counter() - start
    assert status == 0
    return {"seconds": seconds, "baseline_rss_mb": base, "core_peak_rss_mb": peak_rss_mb()}


def work_estimate(path: str, out: str) -> dict:
    from toolkit.cli import main

    base = rss_mb()
    start = time.perf_counter()
    status = main(["estimate", path, "--out", str(Path(out) / "estimates.csv"), "-q"])
    seconds = time.perf_counter() - start
    assert status == 0
    return {"seconds": seconds, "baseline_rss_mb": base, "core_peak_rss_mb": peak_rss_mb()}


WORKERS = {
    "read_events": work_read_events,
    "floor": work_floor,
    "front door": work_front_door,
    "prepare": work_prepare,
    "prepare floor": work_prepare_floor,
    "simulate": work_simulate,
    "estimate": work_estimate,
}


def run_worker(name: str, path: Path | str, out: Path) -> dict:
    command = [sys.executable, str(Path(__file__).resolve()), "--worker", name, str(path), str(out)]
    env = dict(os.environ, PYTHONPATH=str(ROOT), SEKAT_PROGRESS="0")
    began_load = os.getloadavg()[0]
    done = subprocess.run(command, capture_output=True, text=True, env=env, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"worker {name} failed:\n{done.stderr[-3000:]}")
    record = json.loads(done.stdout.strip().splitlines()[-1])
    record["load_1m"] = began_load
    return record


def best(runs: list[dict]) -> dict:
    record = dict(min(runs, key=lambda run: run["seconds"]))
    record["all_seconds"] = [round(run["seconds"], 3) for run in runs]
    return record


# --- the run ------------------------------------------------------------------------------


def logs(n_cases: int) -> tuple[Path, Path]:
    """The Parquet and gzipped CSV logs of ``n_cases`` requests (rows in time order)."""
    from toolkit.io.writers import write_table
    from toolkit.synthetic import simulate

    parquet = DATA / f"events-{n_cases}-seed1.parquet"
    csv = DATA / f"events-{n_cases}-seed1.csv.gz"
    if not parquet.exists() or not csv.exists():
        events = simulate(n_cases=n_cases, seed=1).events
        events = events.sort_values("timestamp", kind="stable").reset_index(drop=True)
        DATA.mkdir(parents=True, exist_ok=True)
        events.to_parquet(parquet)
        write_table(events, csv)
    return parquet, csv


def measure(n_cases: int, args: argparse.Namespace) -> dict:
    parquet, csv = logs(n_cases)
    out = DATA / f"user-path-{n_cases}"
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir(parents=True)
    pairs = [
        ("read_events", parquet, "floor", parquet),
        ("front door", parquet, "floor", parquet),
        ("prepare", csv, "prepare floor", csv),
    ]
    runs: dict[str, list[dict]] = {}
    for _ in range(args.repeat):  # alternate each step with its floor
        for step, step_input, floor, floor_input in pairs:
            runs.setdefault(step, []).append(run_worker(step, step_input, out))
            runs.setdefault(f"{step}|{floor}", []).append(run_worker(floor, floor_input, out))
        for suffix in (".parquet", ".csv.gz"):
            runs.setdefault(f"simulate {suffix}", []).append(
                run_worker("simulate", f"{n_cases}:{suffix}", out)
            )
        print(f"{n_cases:>9,}: round done, load {os.getloadavg()[0]:.2f}", file=sys.stderr)
    record = {"requests": n_cases, "steps": {name: best(r) for name, r in runs.items()}}
    if not args.skip_pm4py and Path(args.bench_python).exists():
        from bench_paths import run_worker as run_paths_worker

        record["pm4py"] = run_paths_worker("pm4py", parquet, out, python=args.bench_python)
    if args.estimate:
        record["steps"]["estimate"] = run_worker("estimate", out / "prepared", out)
    return record


def markdown(results: dict) -> str:
    lines = [
        "| row | requests | sekat s | floor / peer s | ratio | goal | met | peak MiB | "
        "(peak - imports) / frame | load |",
        "| --- | ---: | ---: | ---: | ---: | --- | --- | ---: | ---: | ---: |",
    ]
    for record in results["sizes"]:
        n, steps = record["requests"], record["steps"]
        frame_mb = steps["read_events"]["frame_mb"]

        def line(row, step, floor, goal, met, frame=frame_mb, n=n):
            ratio = step["seconds"] / floor["seconds"] if floor else None
            memory = (step["core_peak_rss_mb"] - step["baseline_rss_mb"]) / frame
            lines.append(
                f"| {row} | {n:,} | {step['seconds']:.2f} | "
                + (f"{floor['seconds']:.2f}" if floor else "")
                + f" | {'' if ratio is None else f'{ratio:.2f}x'} | {goal} | {met} | "
                f"{step['core_peak_rss_mb']:.0f} | {memory:.1f}x | {step['load_1m']:.1f} |"
            )
            return ratio, memory

        line("read_events (Parquet)", steps["read_events"], steps["read_events|floor"], "", "")
        door, floor = steps["front door"], steps["front door|floor"]
        ratio = door["seconds"] / floor["seconds"]
        pm4py = record.get("pm4py", {}).get("seconds")
        speedup = f"; PM4Py {pm4py:.1f} s = {pm4py / door['seconds']:.1f}x" if pm4py else ""
        met = "yes" if ratio <= 3 and (pm4py is None or pm4py / door["seconds"] >= 10) else "no"
        line("front door" + speedup, door, floor, "<= 3x floor, >= 10x PM4Py", met)
        prep, prep_floor = steps["prepare"], steps["prepare|prepare floor"]
        memory = (prep["core_peak_rss_mb"] - prep["baseline_rss_mb"]) / prep["frame_mb"]
        ratio = prep["seconds"] / prep_floor["seconds"]
        met = "yes" if ratio <= 3 and memory <= 3 else "no"
        line(
            "sekat prepare (csv.gz)",
            prep,
            prep_floor,
            "<= 3x floor, peak <= 3x",
            met,
            frame=prep["frame_mb"],
        )
        sim = steps["simulate .parquet"]
        met = "yes" if sim["seconds"] <= 15 or n < 1_000_000 else "no"
        line("sekat simulate .parquet", sim, None, "<= 15 s at 1M", met)
        line("sekat simulate .csv.gz", steps["simulate .csv.gz"], None, "CSV does not dominate", "")
        if "estimate" in steps:
            line("sekat estimate", steps["estimate"], None, "<= 60 s at 1M (issue 13 item 4)", "")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    global DATA
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[100_000])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--skip-pm4py", action="store_true")
    parser.add_argument("--bench-python", default=str(BENCH_PYTHON))
    parser.add_argument("--estimate", action="store_true", help="also time sekat estimate")
    parser.add_argument(
        "--data",
        type=Path,
        default=DATA,
        help="folder for the logs and results (default: %(default)s)",
    )
    parser.add_argument("--worker", nargs=3, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    DATA = args.data
    if args.worker:
        reset_peak_rss()
        name, path, out = args.worker
        record = WORKERS[name](path, out)
        record["peak_rss_mb"] = peak_rss_mb()
        print(json.dumps(record))
        return 0
    results = {"machine": machine(), "sizes": []}
    for n_cases in args.sizes:
        results["sizes"].append(measure(n_cases, args))
    results["machine"]["load_average_1m_end"] = os.getloadavg()[0]
    (DATA / "user-path.json").write_text(json.dumps(results, indent=2))
    print(markdown(results))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
