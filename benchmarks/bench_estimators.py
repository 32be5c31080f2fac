"""Time every sekat estimator on generated logs of 100,000 and 1,000,000 requests.

Run from the repository root::

    .venv/bin/python benchmarks/bench_estimators.py --sizes 100000 1000000
    .venv/bin/python benchmarks/bench_estimators.py --mpdta ../shared/realdata/mpdta/mpdta.csv

For each size the script generates a log (``toolkit.synthetic.simulate``), builds the case
table once (cached as Parquet under benchmarks/data/, git-ignored; the case table has its own
benchmark in bench_paths.py) and then times each estimator with the defaults a user gets
(200 bootstrap replicates for each RMST difference), and the whole headline suite
(``headline_estimates`` with the rollout study). It prints a Markdown table and writes a JSON
record to benchmarks/data/estimators-<size>.json.

OpenBLAS threads: on a small shared machine, multi-threaded BLAS can make the many small
matrix products of the propensity and GLM fits twenty times slower; the run records
``OPENBLAS_NUM_THREADS`` so numbers can be compared (``--blas-threads 1`` sets it).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
DATA = HERE / "data"


def time_suite(cases, rollout, size: int, boot: int) -> dict[str, float]:
    """Seconds taken by each estimator on one case table."""
    from toolkit.estimate.effects import aipw_hops, effects_by_group, hops_regression, naive_hops
    from toolkit.estimate.headline import headline_estimates
    from toolkit.estimate.impact import scenario_impact
    from toolkit.estimate.rollout import rollout_event_study
    from toolkit.estimate.survival import cox_ph, kaplan_meier, rmst_difference

    timings: dict[str, float] = {}

    def timed(name, call):
        start = time.perf_counter()
        value = call()
        timings[name] = time.perf_counter() - start
        print(f"  {size:>9,} {name:<34} {timings[name]:8.2f} s", file=sys.stderr)
        return value

    timed("naive_hops", lambda: naive_hops(cases))
    timed("hops_regression poisson FE", lambda: hops_regression(cases))
    timed("hops_regression negbin FE", lambda: hops_regression(cases, family="negbin"))
    aipw = timed("aipw_hops", lambda: aipw_hops(cases))
    timed("effects_by_group category", lambda: effects_by_group(cases))
    timed("kaplan_meier by channel_group", lambda: kaplan_meier(cases))
    timed("cox_ph stratified", lambda: cox_ph(cases))
    timed(
        f"rmst naive (B={boot})",
        lambda: rmst_difference(cases, weighting="naive", n_boot=boot, seed=1),
    )
    rmst = timed(f"rmst ipw ate (B={boot})", lambda: rmst_difference(cases, n_boot=boot, seed=1))
    timed("rollout_event_study", lambda: rollout_event_study(cases, rollout))
    timed(
        "scenario_impact",
        lambda: scenario_impact(
            cases,
            hops_effect=aipw.table.iloc[[1]],
            days_effect=rmst.diagnostics["bootstrap"]["rmst_diff"],
            seed=1,
        ),
    )
    timed(
        f"headline_estimates (B={boot})",
        lambda: headline_estimates(cases, seed=1, rollout=rollout, n_boot=boot),
    )
    return timings


#: Published results for mpdta (Callaway and Sant'Anna 2021; ``did`` R package; unconditional
#: parallel trends, never-treated controls), from ../shared/realdata/mpdta/README.
MPDTA_PUBLISHED = {
    "att_gt[g=2004,t=2004]": -0.0105,
    "att_gt[g=2006,t=2006]": -0.0046,
    "att_gt[g=2007,t=2007]": -0.0261,
    "simple": -0.0400,
    "dynamic": -0.0772,
    "group": -0.031,
}


def mpdta_comparison(path: Path) -> str:
    """Markdown table: sekat's Callaway–Sant'Anna on mpdta beside the published numbers."""
    import pandas as pd

    from toolkit.estimate.rollout import callaway_santanna, twfe

    panel = pd.read_csv(path)
    columns = dict(unit="countyreal", time="year", first_treated="first.treat", outcome="lemp")
    ours = callaway_santanna(panel, control="never", **columns).table.set_index("term")
    notyet = callaway_santanna(panel, control="notyet", **columns).table.set_index("term")
    naive = twfe(panel, **columns).iloc[0]
    lines = [
        "| estimate | published | sekat (never-treated) | SE | sekat (not-yet-treated) |",
        "| --- | ---: | ---: | ---: | ---: |",
    ]
    for term, published in MPDTA_PUBLISHED.items():
        lines.append(
            f"| {term} | {published:.4f} | {ours.loc[term, 'estimate']:.4f} "
            f"| {ours.loc[term, 'std_error']:.4f} | {notyet.loc[term, 'estimate']:.4f} |"
        )
    lines.append(f"| naive TWFE | | {naive['estimate']:.4f} | {naive['std_error']:.4f} | |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[100_000, 1_000_000])
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--n-boot", type=int, default=200)
    parser.add_argument("--blas-threads", type=str, default=None)
    parser.add_argument("--mpdta", type=Path, default=None, help="path to mpdta.csv: compare")
    args = parser.parse_args(argv)
    if args.blas_threads is not None:
        os.environ["OPENBLAS_NUM_THREADS"] = args.blas_threads
        os.environ["OMP_NUM_THREADS"] = args.blas_threads

    import pandas as pd  # after the BLAS setting

    if args.mpdta is not None:
        print(mpdta_comparison(args.mpdta))
        return 0

    from toolkit.paths import case_table
    from toolkit.synthetic import simulate

    DATA.mkdir(exist_ok=True)
    records = []
    for size in args.sizes:
        cache = DATA / f"cases-{size}-seed{args.seed}.parquet"
        sim = simulate(size, seed=args.seed)
        if cache.exists():
            cases = pd.read_parquet(cache)
        else:
            cases = case_table(sim.events)
            cases.to_parquet(cache)
        rollout = sim.rollout
        del sim  # only the case table and the rollout dates are timed
        timings = time_suite(cases, rollout, size, args.n_boot)
        record = {
            "requests": size,
            "seconds": timings,
            "python": platform.python_version(),
            "cpus": os.cpu_count(),
            "openblas_threads": os.environ.get("OPENBLAS_NUM_THREADS", "default"),
        }
        (DATA / f"estimators-{size}.json").write_text(json.dumps(record, indent=2))
        records.append(record)
    names = list(records[0]["seconds"])
    print("| estimator | " + " | ".join(f"{r['requests']:,} requests" for r in records) + " |")
    print("| --- |" + " ---: |" * len(records))
    for name in names:
        cells = " | ".join(f"{r['seconds'][name]:.2f} s" for r in records)
        print(f"| {name} | {cells} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
