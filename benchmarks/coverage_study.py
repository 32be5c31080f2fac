"""Coverage and bias of sekat's headline estimators over seeded replications.

Run from the repository root::

    .venv/bin/python benchmarks/coverage_study.py --reps 200 --requests 5000
    .venv/bin/python benchmarks/coverage_study.py --reps 100 --requests 2000 \
        --region-shock 0.1 --region-month-shock 0.15 --confounding 2

``--region-shock`` and ``--region-month-shock`` switch on the generator's district and
district-month shocks (``toolkit.synthetic.simulate``), ``--confounding`` scales the planted
confounding. An ATE that the overlap rule held back (``Headline.warnings``) is still compared
with its truth, in rows marked ``held back``, so the rule's effect on coverage is visible. The
Monte Carlo standard error of a coverage p over R replications, ``sqrt(p(1-p)/R)``, is
printed beside it.

Each replication simulates a log (``toolkit.synthetic.simulate(requests, seed=s)``, seeds
1..reps), builds the case table, runs ``toolkit.estimate.headline.headline_estimates`` (with the
rollout study) and compares each estimate with the planted truth of its own replication
(``compare_to_truth``). The summary, one row per term and method, gives the mean planted
value, the mean estimate, the bias (mean of estimate minus truth), the empirical standard
deviation of the estimates beside the mean reported standard error, the share of 95 %
intervals that cover the truth and the mean interval width. It prints a Markdown table and
writes benchmarks/data/coverage-<requests>.json and .csv (git-ignored).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
DATA = HERE / "data"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=200)
    parser.add_argument("--requests", type=int, default=5000)
    parser.add_argument("--n-boot", type=int, default=200)
    parser.add_argument("--first-seed", type=int, default=1)
    parser.add_argument("--blas-threads", type=str, default="1")
    parser.add_argument("--confounding", type=float, default=1.0)
    parser.add_argument("--region-shock", type=float, default=0.0)
    parser.add_argument("--region-month-shock", type=float, default=0.0)
    parser.add_argument("--tag", default="", help="suffix of the output files")
    args = parser.parse_args(argv)
    os.environ.setdefault("OPENBLAS_NUM_THREADS", args.blas_threads)

    import numpy as np
    import pandas as pd

    from toolkit.estimate.headline import compare_to_truth, headline_analysis
    from toolkit.paths import case_table
    from toolkit.synthetic import simulate

    DATA.mkdir(exist_ok=True)
    started = time.perf_counter()
    frames, failures = [], []
    for seed in range(args.first_seed, args.first_seed + args.reps):
        sim = simulate(
            args.requests,
            seed=seed,
            confounding=args.confounding,
            region_shock=args.region_shock,
            region_month_shock=args.region_month_shock,
        )
        try:
            cases = case_table(sim.events)
            result = headline_analysis(cases, seed=seed, rollout=sim.rollout, n_boot=args.n_boot)
        except Exception as error:  # noqa: BLE001 - a failed replication is data here
            failures.append({"seed": seed, "error": repr(error)})
            continue
        est = result.table.assign(held_back=False)
        if "ate_not_headline" in result.diagnostics:
            est = pd.concat(
                [est, result.diagnostics["ate_not_headline"].assign(held_back=True)],
                ignore_index=True,
            )
        frames.append(compare_to_truth(est, sim.truth).assign(seed=seed))
        done = seed - args.first_seed + 1
        if done % 10 == 0:
            elapsed = time.perf_counter() - started
            print(f"  {done}/{args.reps} replications, {elapsed:.0f} s", file=sys.stderr)
    results = pd.concat(frames, ignore_index=True)
    results = results.loc[results["truth"].notna()]
    # event-time rows are many and small; keep the summaries in the headline table
    headline = results.loc[~results["term"].str.startswith("es_")]
    summary = (
        headline.assign(
            width=headline["ci_high"] - headline["ci_low"],
            covered=headline["covered"].astype(float),
            method=headline["method"].str.split(";").str[0].str.split(", SE").str[0],
        )
        .groupby(["term", "method"], sort=False)
        .agg(
            reps=("estimate", "size"),
            held_back=("held_back", "sum"),
            truth=("truth", "mean"),
            estimate=("estimate", "mean"),
            bias=("bias", "mean"),
            sd_estimate=("estimate", "std"),
            mean_se=("std_error", "mean"),
            coverage=("covered", "mean"),
            mean_width=("width", "mean"),
        )
        .reset_index()
    )
    summary["coverage_mc_se"] = np.sqrt(
        summary["coverage"] * (1 - summary["coverage"]) / summary["reps"]
    )
    event_coverage = results.loc[results["term"].str.startswith("es_")].assign(
        outcome=lambda d: d["term"].str.extract(r"^(es_[a-z_]+)")[0],
        covered=lambda d: d["covered"].astype(float),
    )
    event_summary = event_coverage.groupby("outcome")["covered"].agg(["size", "mean"])
    elapsed = time.perf_counter() - started
    stem = DATA / f"coverage-{args.requests}{args.tag}"
    results.to_csv(f"{stem}-replications.csv", index=False)
    summary.to_csv(f"{stem}.csv", index=False)
    Path(f"{stem}.json").write_text(
        json.dumps(
            {
                "requests": args.requests,
                "reps": args.reps,
                "n_boot": args.n_boot,
                "confounding": args.confounding,
                "region_shock": args.region_shock,
                "region_month_shock": args.region_month_shock,
                "seconds": elapsed,
                "failures": failures,
                "event_time_coverage": event_summary.to_dict(),
            },
            indent=2,
        )
    )
    print(
        f"{len(frames)} replications of {args.requests:,} requests "
        f"(B={args.n_boot}, confounding {args.confounding:g}, district shock "
        f"{args.region_shock:g}, district-month shock {args.region_month_shock:g}), "
        f"{len(failures)} failed, {elapsed:.0f} s\n"
    )
    print(
        "| term | method | reps | held back | truth | mean estimate | bias | SD | mean SE "
        "| coverage (MC SE) | width |"
    )
    print("| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    for row in summary.itertuples(index=False):
        print(
            f"| {row.term} | {row.method} | {row.reps} | {int(row.held_back)} | {row.truth:.3f} "
            f"| {row.estimate:.3f} | {row.bias:+.3f} | {row.sd_estimate:.3f} | {row.mean_se:.3f} "
            f"| {row.coverage:.1%} ({row.coverage_mc_se:.1%}) | {row.mean_width:.3f} |"
        )
    print("\nEvent-time rows (all e >= 0 pooled):")
    for outcome, row in event_summary.iterrows():
        print(f"- {outcome}: {int(row['size'])} intervals, coverage {row['mean']:.1%}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
