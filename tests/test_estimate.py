"""Headline estimates on a generated log, compared with the planted truth; sekat estimate."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from toolkit.errors import SekatError
from toolkit.estimate import TRUTH_COLUMNS, compare_to_truth, headline_estimates, run_estimate
from toolkit.paths import case_table
from toolkit.results import check_result
from toolkit.schema import RESULT_COLUMNS
from toolkit.synthetic import simulate


@pytest.fixture(scope="module")
def generated():
    sim = simulate(12_000, seed=4)
    cases = case_table(sim.events)
    estimates = headline_estimates(cases, seed=1, rollout=sim.rollout, n_boot=60)
    return sim, cases, estimates


def pick(table: pd.DataFrame, term: str, method: str) -> pd.Series:
    rows = table.loc[(table["term"] == term) & table["method"].str.contains(method, regex=False)]
    assert len(rows) == 1, (term, method)
    return rows.iloc[0]


def test_headline_is_tidy_and_complete(generated):
    _, _, estimates = generated
    assert tuple(estimates.columns) == RESULT_COLUMNS
    check_result(estimates)
    expected = {
        "ate_hops",
        "att_hops",
        "att_irr_hops",
        "rmst_diff_days",
        "att_rmst_diff_days",
        "hazard_ratio",
        "att_rollout_hops",
        "att_rollout_rmst_days",
        "es_hops[e=0]",
    }
    assert expected <= set(estimates["term"])


def test_adjusted_estimates_cover_truth_and_naive_ones_are_biased(generated):
    sim, _, estimates = generated
    compared = compare_to_truth(estimates, sim.truth)
    assert set(TRUTH_COLUMNS) <= set(compared.columns)
    truth = sim.truth.set_index(["estimand", "group"])["value"]
    for term, method in (("att_hops", "AIPW"), ("att_rmst_diff_days", "IPW (att)")):
        row = pick(compared, term, method)
        assert bool(row["covered"]), (term, row["estimate"], row["truth"])
    # planted confounding (urban, recent, easy requests use social media and are quicker
    # anyway) makes the naive comparisons overstate the benefit: more negative than truth
    naive_hops = pick(estimates, "ate_hops", "naive")
    assert naive_hops["ci_high"] < truth["ate_hops", "overall"]
    assert naive_hops["ci_high"] < truth["att_hops", "overall"]
    naive_time = pick(estimates, "rmst_diff_days", "naive")
    assert naive_time["ci_high"] < truth["rmst_diff_days", "overall"]
    assert naive_time["ci_high"] < truth["att_rmst_diff_days", "overall"]
    # no planted value for the hazard ratio
    assert pd.isna(pick(compared, "hazard_ratio", "Cox")["covered"])


def test_compare_to_truth_matches_groups():
    est = pd.DataFrame(
        {
            "term": ["es_hops[e=1]", "ate_hops[category=roads]", "nothing"],
            "estimate": [0.0] * 3,
            "std_error": 1.0,
            "ci_low": [-1.0, 5.0, -1.0],
            "ci_high": [1.0, 6.0, 1.0],
            "n": 1,
            "method": "m",
        }
    )
    truth = pd.DataFrame(
        {
            "estimand": ["es_hops", "ate_hops"],
            "group": ["e=1", "category=roads"],
            "value": [0.5, 0.2],
        }
    )
    out = compare_to_truth(est, truth)
    assert out["truth"].tolist()[:2] == [0.5, 0.2]
    assert out["covered"].tolist()[:2] == [True, False]
    assert pd.isna(out["covered"].iloc[2])
    with pytest.raises(SekatError):
        compare_to_truth(est, truth.drop(columns="value"))


def test_run_estimate_writes_csv_with_truth(tmp_path, generated):
    sim, cases, _ = generated
    small = cases.iloc[:3000]
    prepared = tmp_path / "prepared"
    prepared.mkdir()
    small.to_parquet(prepared / "cases.parquet")
    sim.truth.to_csv(tmp_path / "truth.csv", index=False)
    out = tmp_path / "out" / "estimates.csv"
    table = run_estimate(prepared, out, truth=tmp_path / "truth.csv", n_boot=10)
    written = pd.read_csv(out)
    assert list(written.columns) == list(table.columns)
    assert {"truth", "covered"} <= set(written.columns)
    assert not any(p.suffix == ".tmp" for p in out.parent.iterdir())
    with pytest.raises(SekatError, match="cases.parquet"):
        run_estimate(tmp_path / "missing", out)


@pytest.mark.slow
def test_a_bootstrap_resample_with_a_separated_level_does_not_stop_the_headline():
    # Seed 1 at 5,000 requests: one weighted-RMST bootstrap resample leaves a propensity level
    # (quasi-)separated, and LAPACK's SVD of its information matrix failed ("SVD did not
    # converge") with one BLAS thread, as make sets; the coverage study lost 3 of 40 runs so.
    sim = simulate(5_000, seed=1)
    table = headline_estimates(case_table(sim.events), seed=1, rollout=sim.rollout, n_boot=200)
    att = table.loc[table["term"] == "att_rmst_diff_days"].iloc[0]
    assert np.isfinite([att["estimate"], att["ci_low"], att["ci_high"]]).all()
