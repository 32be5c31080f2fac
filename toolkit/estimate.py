"""The headline estimates in one tidy table, and their comparison with a planted truth.

:func:`headline_estimates` runs the naive and the adjusted estimators of the effect of
social intake on hops and on time to resolution (and, given desk opening dates, the
staggered-rollout event study) and stacks their tidy results. Terms are named after the
estimand they target, ``<estimand>`` or ``<estimand>[<group>]`` — the names of the
generator's truth table (``ate_hops``, ``att_hops``, ``rmst_diff_days``, ...) — so that
:func:`compare_to_truth` can put the planted value beside each estimate. Several methods may
target one estimand (the naive difference and AIPW both target ``ate_hops``); the ``method``
column tells them apart. :func:`run_estimate` is the logic of ``sekat estimate``.
"""

from __future__ import annotations

import os
import re
import tempfile
from collections.abc import Sequence
from pathlib import Path

import pandas as pd

from toolkit import schema
from toolkit.effects import (
    DEFAULT_COVARIATES,
    aipw_hops,
    effects_by_group,
    hops_regression,
    naive_hops,
)
from toolkit.errors import SekatError
from toolkit.results import result_frame
from toolkit.rollout import rollout_event_study, with_desk_status
from toolkit.survival import cox_ph, rmst_difference

#: Columns :func:`compare_to_truth` adds to a result table.
TRUTH_COLUMNS = ("estimand", "group", "truth", "bias", "covered")

_TERM = re.compile(r"^(?P<estimand>[^\[\]]+?)(?:\[(?P<group>[^\]]*)\])?$")


def headline_estimates(
    cases: pd.DataFrame,
    *,
    seed: int,
    tau_days: float = 30.0,
    covariates: Sequence[str] = DEFAULT_COVARIATES,
    rollout: pd.DataFrame | None = None,
    desk_adjustment: bool = True,
    n_boot: int = 200,
    level: float = 0.95,
) -> pd.DataFrame:
    """Naive and adjusted effects of social intake on hops and on time, in one tidy frame.

    Parameters
    ----------
    cases : pandas.DataFrame
        Case table.
    seed : int
        Seed of the bootstrap of the RMST differences.
    tau_days : float
        RMST horizon, in days.
    covariates : sequence of str
        Adjustment set (category, region, month by default) of every adjusted estimator.
    rollout : pandas.DataFrame, optional
        Desk opening dates (``region``, ``desk_opened``); adds the event-study summaries
        and, with ``desk_adjustment``, the desk status to the propensity-based estimators.
    desk_adjustment : bool
        With a rollout table, the propensity models (of AIPW, per-category AIPW and the
        weighted RMST) adjust for the desk status at intake besides ``covariates``
        (:func:`toolkit.rollout.with_desk_status`; default). The outcome models (AIPW's,
        Poisson FE, Cox) keep ``covariates``: with the desk terms the per-arm Poisson
        models of AIPW diverge in small arms (5,000 requests).
    n_boot : int
        Bootstrap replicates of the RMST differences.
    level : float
        Confidence level.

    Returns
    -------
    pandas.DataFrame
        Exactly :data:`~toolkit.schema.RESULT_COLUMNS`. Terms: ``ate_hops`` (naive
        difference; AIPW), ``att_hops`` (AIPW), ``att_irr_hops`` (Poisson FE rate ratio),
        ``rmst_diff_days`` (naive KM; IPW-weighted KM), ``att_rmst_diff_days`` (ATT-weighted
        KM), ``hazard_ratio`` (stratified Cox; no planted value),
        ``att_hops[category=<c>]`` (AIPW within each category, Bonferroni-adjusted
        simultaneous intervals); with ``rollout``:
        ``att_rollout_hops`` and ``att_rollout_rmst_days`` (Callaway–Sant'Anna simple
        aggregate, not-yet-treated controls; and naive TWFE) and ``es_hops[e=k]`` /
        ``es_rmst_days[e=k]`` for each event time ``k >= 0``.

    Notes
    -----
    Hops are compared on requests with observed hops; time uses every request, censored
    ones as censored. The Poisson FE ratio is a conditional rate ratio, identified from
    comparisons within covariate cells; under heterogeneous effects it is closest to the
    effect on the social requests, so it is labelled ``att_irr_hops``.

    Where desks open at staggered dates, social intake is near zero in a region before its
    desk opens: a region-by-time pattern that main effects of region and month miss. The
    propensity-weighted RMST differences rely on the propensity model alone and were biased
    towards zero by it on the synthetic generator (ATT: +0.10 days at 20,000 requests,
    seeds 1-20, a bias that does not shrink with n); with the desk status -0.02 days. The
    Poisson FE ratio, already close to the planted ratio, moved slightly away from it with
    the desk terms (mean bias 0.007 to 0.019 over 13 seeds), so it keeps ``covariates``.

    Examples
    --------
    >>> from toolkit.synthetic import simulate
    >>> from toolkit.paths import case_table
    >>> cases = case_table(simulate(3000, seed=2).events)
    >>> table = headline_estimates(cases, seed=1, n_boot=20)
    >>> sorted(set(table["term"]))[:3]
    ['ate_hops', 'att_hops', 'att_hops[category=civil_registry]']
    """
    covariates = list(covariates)
    # the propensity-based estimators get the desk status; the outcome regressions (Poisson
    # FE, Cox) estimate conditional ratios whose main effects the desk terms would re-weight
    weighted_cases, propensity_covariates = cases, covariates
    if desk_adjustment:
        weighted_cases, propensity_covariates = with_desk_status(cases, rollout, covariates)
    parts = []
    naive = naive_hops(cases, level=level)
    parts.append(naive.loc[naive["term"] == "social - not social"].assign(term="ate_hops"))
    aipw = aipw_hops(
        weighted_cases,
        covariates=propensity_covariates,
        outcome_covariates=covariates,
        level=level,
    ).table
    parts.append(aipw.assign(term=aipw["term"] + "_hops"))
    poisson = hops_regression(cases, fixed_effects=covariates, level=level).table
    parts.append(poisson.assign(term="att_irr_hops"))
    if schema.CATEGORY in cases.columns:
        parts.append(
            effects_by_group(
                weighted_cases,
                by=schema.CATEGORY,
                covariates=propensity_covariates,
                outcome_covariates=covariates,
                estimand="att",
                adjustment="bonferroni",
                level=level,
            )
        )
    for weighting, estimand, term in (
        ("naive", "ate", "rmst_diff_days"),
        ("ipw", "ate", "rmst_diff_days"),
        ("ipw", "att", "att_rmst_diff_days"),
    ):
        table = rmst_difference(
            weighted_cases,
            tau_days=tau_days,
            weighting=weighting,
            covariates=propensity_covariates,
            estimand=estimand,
            n_boot=n_boot,
            seed=seed,
            level=level,
        ).table
        parts.append(table.loc[table["term"] == "rmst_diff_days"].assign(term=term))
    strata = schema.CATEGORY if schema.CATEGORY in covariates else None
    cox = cox_ph(
        cases, covariates=[c for c in covariates if c != strata], strata=strata, level=level
    )
    parts.append(cox.table.assign(term="hazard_ratio"))
    if rollout is not None:
        study = rollout_event_study(
            cases, rollout, control="notyet", tau_days=tau_days, level=level
        ).table
        for outcome in ("hops", "rmst_days"):
            for suffix in ("simple", "twfe"):
                row = study.loc[study["term"] == f"{outcome}:{suffix}"]
                parts.append(row.assign(term=f"att_rollout_{outcome}"))
            events = study.loc[study["term"].str.startswith(f"{outcome}:event[e=")]
            e = events["term"].str.extract(r"e=(-?\d+)")[0].astype(int)
            events = events.loc[(e >= 0).to_numpy()]
            parts.append(
                events.assign(
                    term=f"es_{outcome}[" + events["term"].str.extract(r"(e=-?\d+)")[0] + "]"
                )
            )
    return result_frame(pd.concat(parts, ignore_index=True))


def compare_to_truth(estimates: pd.DataFrame, truth: pd.DataFrame) -> pd.DataFrame:
    """Put the planted value beside each estimate, with its bias and coverage.

    Parameters
    ----------
    estimates : pandas.DataFrame
        Tidy result whose terms are ``<estimand>`` or ``<estimand>[<group>]``.
    truth : pandas.DataFrame
        The generator's truth table (``estimand``, ``group``, ``value``, ...); a term
        without a group matches group ``overall``.

    Returns
    -------
    pandas.DataFrame
        ``estimates`` with the columns ``estimand``, ``group``, ``truth``, ``bias``
        (estimate minus truth) and ``covered`` (truth inside [ci_low, ci_high]; <NA> when
        there is no planted value).

    Examples
    --------
    >>> est = result_frame([{"term": "ate_hops", "estimate": -0.2, "ci_low": -0.3,
    ...                      "ci_high": -0.1, "method": "AIPW"}])
    >>> truth = pd.DataFrame({"estimand": ["ate_hops"], "group": ["overall"],
    ...                       "value": [-0.25]})
    >>> compare_to_truth(est, truth)[["truth", "covered"]].values.tolist()
    [[-0.25, True]]
    """
    missing = [c for c in ("estimand", "group", "value") if c not in truth.columns]
    if missing:
        raise SekatError(f"the truth table lacks {missing}", column=missing[0])
    parsed = estimates["term"].astype(str).str.extract(_TERM)
    out = estimates.copy()
    out["estimand"] = parsed["estimand"].astype("str")
    out["group"] = parsed["group"].fillna("overall").astype("str")
    planted = truth.assign(
        estimand=truth["estimand"].astype("str"), group=truth["group"].astype("str")
    ).drop_duplicates(["estimand", "group"])
    merged = out.merge(
        planted[["estimand", "group", "value"]], on=["estimand", "group"], how="left"
    )
    out["truth"] = merged["value"].to_numpy(dtype=float)
    out["bias"] = out["estimate"] - out["truth"]
    covered = (out["ci_low"] <= out["truth"]) & (out["truth"] <= out["ci_high"])
    out["covered"] = pd.array(covered, dtype="boolean")
    out.loc[out["truth"].isna(), "covered"] = pd.NA
    return out


def _read_table(path: Path) -> pd.DataFrame:
    if not path.exists():
        raise SekatError("file not found", file=str(path))
    try:
        if path.suffix == ".parquet":
            return pd.read_parquet(path)
        return pd.read_csv(path)
    except (OSError, ValueError) as error:
        raise SekatError(f"cannot read the table: {error}", file=str(path)) from error


def run_estimate(
    prepared_dir: str | os.PathLike[str],
    out: str | os.PathLike[str],
    truth: str | os.PathLike[str] | None = None,
    *,
    rollout: str | os.PathLike[str] | None = None,
    seed: int = 0,
    tau_days: float = 30.0,
    n_boot: int = 200,
) -> pd.DataFrame:
    """``sekat estimate``: headline estimates of a prepared folder, written to CSV.

    Parameters
    ----------
    prepared_dir : path
        Folder written by ``sekat prepare`` (reads ``cases.parquet``).
    out : path
        CSV file to write (atomically: a temporary file, then a rename).
    truth : path, optional
        The generator's truth table (CSV or Parquet, as ``sekat simulate`` writes beside
        the log); adds the columns of :func:`compare_to_truth`.
    rollout : path, optional
        CSV or Parquet of ``region, desk_opened``; default ``rollout.csv`` in the prepared
        folder if present. Adds the rollout event study.
    seed, tau_days, n_boot
        As for :func:`headline_estimates`.

    Returns
    -------
    pandas.DataFrame
        The table written.

    Examples
    --------
    >>> run_estimate("/no/such/folder", "out.csv")  # doctest: +IGNORE_EXCEPTION_DETAIL
    Traceback (most recent call last):
    toolkit.errors.SekatError: /no/such/folder/cases.parquet: file not found
    """
    folder = Path(prepared_dir)
    cases = _read_table(folder / "cases.parquet")
    rollout_path = Path(rollout) if rollout is not None else folder / "rollout.csv"
    desks = None
    if rollout is not None or rollout_path.exists():
        desks = _read_table(rollout_path)
        if "desk_opened" not in desks.columns or schema.REGION not in desks.columns:
            raise SekatError("needs columns region and desk_opened", file=str(rollout_path))
        desks["desk_opened"] = pd.to_datetime(desks["desk_opened"], utc=True)
    table = headline_estimates(cases, seed=seed, tau_days=tau_days, rollout=desks, n_boot=n_boot)
    if truth is not None:
        table = compare_to_truth(table, _read_table(Path(truth)))
    target = Path(out)
    target.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=target.parent, suffix=".tmp")
    try:
        with os.fdopen(handle, "w", newline="") as stream:
            table.to_csv(stream, index=False, float_format="%.10g")
        os.replace(temporary, target)
    finally:
        if os.path.exists(temporary):
            os.unlink(temporary)
    return table


__all__ = ["TRUTH_COLUMNS", "compare_to_truth", "headline_estimates", "run_estimate"]
