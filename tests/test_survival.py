"""Time to resolution: Kaplan–Meier by hand, Cox against PHReg, RMST against planted truth."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from statsmodels.duration.hazard_regression import PHReg

from toolkit.errors import SekatError
from toolkit.estimate.survival import (
    cox_fit,
    cox_ph,
    kaplan_meier,
    km_curve,
    ph_test,
    rmst,
    rmst_difference,
    survival_data,
)
from toolkit.results import check_result
from toolkit.schema import RESULT_TABLE_COLUMNS

# Ten requests (days, resolved?): ties at 2 (one resolved, one censored) and at 5 (two resolved).
TEN_TIMES = np.array([1.0, 2, 2, 3, 4, 5, 5, 6, 8, 9])
TEN_EVENTS = np.array([1, 1, 0, 1, 0, 1, 1, 0, 1, 0])


def ten_cases() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "channel": ["twitter"] * 10,
            "channel_group": ["social"] * 10,
            "duration_hours": TEN_TIMES * 24,
            "censored": TEN_EVENTS == 0,
        }
    )


def test_kaplan_meier_ten_rows_by_hand():
    curve = km_curve(TEN_TIMES, TEN_EVENTS)
    # at risk 10, 9, 7, 5, 2 at the event times 1, 2, 3, 5, 8
    assert curve["time"].tolist() == [1, 2, 3, 5, 8]
    assert curve["at_risk"].tolist() == [10, 9, 7, 5, 2]
    s = [9 / 10]
    s.append(s[-1] * 8 / 9)
    s.append(s[-1] * 6 / 7)
    s.append(s[-1] * 3 / 5)
    s.append(s[-1] * 1 / 2)
    assert curve["survival"].to_numpy() == pytest.approx(s)
    greenwood = np.cumsum([1 / (10 * 9), 1 / (9 * 8), 1 / (7 * 6), 2 / (5 * 3), 1 / (2 * 1)])
    assert curve["std_error"].to_numpy() == pytest.approx(np.array(s) * np.sqrt(greenwood))
    assert (curve["ci_low"] <= curve["survival"]).all()
    assert (curve["survival"] <= curve["ci_high"]).all()
    # median: first time S <= 0.5 is day 5 (S = 0.411)
    table = check_result(kaplan_meier(ten_cases()).table)
    assert table["estimate"].tolist() == [5.0]


def test_rmst_ten_rows_by_hand():
    # S = 1 on [0,1), .9 on [1,2), .8 on [2,3), .686 on [3,5), .411 on [5,8), .206 on [8,..)
    s = [1, 0.9, 0.8, 0.8 * 6 / 7, 0.8 * 6 / 7 * 3 / 5, 0.8 * 6 / 7 * 3 / 5 / 2]
    by_hand = s[0] * 1 + s[1] * 1 + s[2] * 1 + s[3] * 2 + s[4] * 3 + s[5] * 1
    assert rmst(TEN_TIMES, TEN_EVENTS, tau=9.0) == pytest.approx(by_hand)
    assert rmst(TEN_TIMES, TEN_EVENTS, tau=0.5) == pytest.approx(0.5)


@settings(deadline=None, max_examples=40)
@given(
    st.lists(st.tuples(st.integers(1, 20), st.booleans()), min_size=1, max_size=25),
    st.floats(0.5, 25),
)
def test_rmst_without_censoring_is_mean_of_truncated_times(rows, tau):
    times = np.array([r[0] for r in rows], dtype=float)
    assert rmst(times, np.ones(len(times)), tau) == pytest.approx(np.minimum(times, tau).mean())
    # weights that are integer counts equal repeating the rows
    counts = np.array([1 + r[1] for r in rows], dtype=float)
    events = np.array([r[1] for r in rows], dtype=int)
    assert rmst(times, events, tau, weights=counts) == pytest.approx(
        rmst(np.repeat(times, counts.astype(int)), np.repeat(events, counts.astype(int)), tau)
    )


def exponential_cases(n: int, seed: int, follow_up: float = 20.0):
    """Social requests resolve at rate 0.15/day, others at 0.08/day; intake is spread over
    the window so later requests are censored at the cut-off (administrative censoring)."""
    rng = np.random.default_rng(seed)
    social = rng.random(n) < 0.4
    rate = np.where(social, 0.15, 0.08)
    t = rng.exponential(1 / rate)
    window = rng.uniform(0, follow_up, n)  # days between intake and cut-off
    observed = np.minimum(t, window)
    cases = pd.DataFrame(
        {
            "channel": np.where(social, "whatsapp", "phone"),
            "duration_hours": observed * 24,
            "censored": t > window,
        }
    )
    return cases


def rmst_exponential(rate: float, tau: float) -> float:
    return (1 - np.exp(-rate * tau)) / rate


def test_censoring_biases_beside_the_right_number():
    tau = 15.0
    cases = exponential_cases(20_000, 1)
    truth = rmst_exponential(0.15, tau) - rmst_exponential(0.08, tau)
    right = rmst_difference(cases, tau_days=tau, weighting="naive", n_boot=100, seed=1)
    right = right.table.set_index("term").loc["difference_rmst_days"]
    dropped = rmst_difference(
        cases.loc[~cases["censored"]], tau_days=tau, weighting="naive", n_boot=0, seed=1
    ).table.set_index("term")
    as_resolved = rmst_difference(
        cases.assign(censored=False), tau_days=tau, weighting="naive", n_boot=0, seed=1
    ).table.set_index("term")
    assert right["ci_low"] < truth < right["ci_high"]
    # both wrong handlings make every request look faster: the slow channel gains most, so
    # the difference shrinks towards zero and lies far outside the interval
    for biased in (dropped, as_resolved):
        assert biased.loc["rmst_days[not social]", "estimate"] < rmst_exponential(0.08, tau) - 1
        assert biased.loc["difference_rmst_days", "estimate"] > right["ci_high"]


def confounded_survival(n: int, seed: int, tau: float):
    """Binary confounder x: x=1 requests use social media more and resolve faster anyway."""
    rng = np.random.default_rng(seed)
    x = rng.random(n) < 0.5
    social = rng.random(n) < np.where(x, 0.7, 0.2)
    rate = 0.05 * np.where(x, 2.0, 1.0) * np.where(social, 1.5, 1.0)
    t = rng.exponential(1 / rate)
    window = rng.uniform(5, 60, n)
    cases = pd.DataFrame(
        {
            "channel": np.where(social, "instagram", "walk_in"),
            "category": np.where(x, "roads", "health"),
            "duration_hours": np.minimum(t, window) * 24,
            "censored": t > window,
        }
    )

    def arm(factor: float, weights: np.ndarray) -> float:
        return float(
            weights[0] * rmst_exponential(0.05 * factor, tau)
            + weights[1] * rmst_exponential(0.10 * factor, tau)
        )

    ate = arm(1.5, [0.5, 0.5]) - arm(1.0, [0.5, 0.5])
    share_x = 0.5 * 0.7 / (0.5 * 0.7 + 0.5 * 0.2)  # P(x=1 | social)
    att = arm(1.5, [1 - share_x, share_x]) - arm(1.0, [1 - share_x, share_x])
    return cases, ate, att


def test_ipw_rmst_covers_planted_truth_and_naive_is_biased():
    tau = 30.0
    cases, ate, att = confounded_survival(10_000, 2, tau)
    for estimand, truth in (("ate", ate), ("att", att)):
        result = rmst_difference(
            cases, tau_days=tau, covariates=["category"], estimand=estimand, n_boot=100, seed=3
        )
        row = check_result(result.table).set_index("term").loc[f"{estimand}_rmst_days"]
        assert row["ci_low"] < truth < row["ci_high"], estimand
        assert len(result.diagnostics["bootstrap"]) == 100
    naive = rmst_difference(cases, tau_days=tau, weighting="naive", n_boot=100, seed=3).table
    naive = naive.set_index("term").loc["difference_rmst_days"]
    # x=1 is both social and fast: the naive difference overstates the days saved
    assert naive["ci_high"] < ate


def test_rmst_bootstrap_is_seeded():
    cases = exponential_cases(500, 4)
    a = rmst_difference(cases, tau_days=15, weighting="naive", n_boot=30, seed=9).table
    b = rmst_difference(cases, tau_days=15, weighting="naive", n_boot=30, seed=9).table
    c = rmst_difference(cases, tau_days=15, weighting="naive", n_boot=30, seed=10).table
    pd.testing.assert_frame_equal(a, b)
    assert not a["ci_low"].equals(c["ci_low"])
    assert tuple(a.columns) == RESULT_TABLE_COLUMNS


def test_cox_matches_phreg_with_ties_and_strata():
    rng = np.random.default_rng(5)
    n = 1500
    X = np.column_stack([rng.random(n) < 0.4, rng.normal(size=n), rng.normal(size=n)])
    strata = rng.integers(0, 3, n)
    t = np.round(rng.exponential(1 / np.exp(X @ [0.5, -0.3, 0.2] + 0.4 * strata)), 1)
    c = rng.exponential(2, n)
    time, event = np.minimum(t, c), (t <= c).astype(int)
    ours = cox_fit(time, event, X, strata)
    ref = PHReg(time, X, status=event, strata=strata, ties="breslow").fit()
    assert ours["converged"]
    assert ours["params"] == pytest.approx(ref.params, rel=1e-7)
    assert np.sqrt(np.diag(ours["cov"])) == pytest.approx(ref.bse, rel=1e-6)
    assert ours["loglik"] == pytest.approx(ref.llf, rel=1e-9)


def test_cox_ph_on_case_table_recovers_hazard_ratio_and_ph_holds():
    cases = exponential_cases(8000, 6).assign(category=lambda d: np.where(d.index % 2, "a", "b"))
    result = cox_ph(cases, covariates=[])
    row = check_result(result.table).iloc[0]
    assert row["ci_low"] < 0.15 / 0.08 < row["ci_high"]
    assert result.diagnostics["ph_test"]["p_value"].iloc[0] > 0.01


def test_ph_test_flags_crossing_hazards():
    rng = np.random.default_rng(7)
    n = 4000
    group = rng.random(n) < 0.5
    # group 1: Weibull shape 3 (hazard rises), group 0: exponential -> ratio changes with time
    t = np.where(group, rng.weibull(3.0, n) * 2, rng.exponential(2, n))
    fit = cox_fit(t, np.ones(n), group[:, None].astype(float))
    assert ph_test(fit, ["group"])["p_value"].iloc[0] < 1e-6


def test_survival_data_rejects_negative_duration():
    bad = pd.DataFrame({"duration_hours": [1.0, -2.0], "censored": [False, False]})
    with pytest.raises(SekatError, match="row 1"):
        survival_data(bad)
    with pytest.raises(SekatError):
        rmst_difference(ten_cases(), seed=1)  # no non-social request


def test_tau_beyond_the_follow_up_of_an_arm_is_refused():
    # 20 days of follow-up: tau = 5,000 days would integrate a curve nobody observed
    cases = exponential_cases(500, 4)
    with pytest.raises(SekatError, match="beyond the follow-up of the"):
        rmst_difference(cases, tau_days=5000, weighting="naive", n_boot=5, seed=1)
    # a curve that has reached zero is known beyond its last time: no refusal
    done = cases.assign(censored=False)
    row = rmst_difference(done, tau_days=5000, weighting="naive", n_boot=5, seed=1).table
    assert np.isfinite(row["estimate"]).all()


def test_rmst_block_bootstrap_resamples_districts_and_uses_t_intervals():
    cases = exponential_cases(600, 6).assign(region=lambda c: [f"r{i % 8}" for i in range(len(c))])
    table = rmst_difference(cases, tau_days=15, weighting="naive", n_boot=40, seed=2).table
    diff = table.set_index("term").loc["difference_rmst_days"]
    assert "region-block bootstrap" in diff["method"] and "t(7)" in diff["method"]
    from scipy import stats

    half = stats.t.ppf(0.975, 7) * diff["std_error"]
    boot = rmst_difference(cases, tau_days=15, weighting="naive", n_boot=40, seed=2)
    spread = boot.diagnostics["bootstrap"]["rmst_diff"].std(ddof=1)
    assert diff["std_error"] == pytest.approx(spread * np.sqrt(8 / 7))
    assert diff["ci_high"] - diff["estimate"] == pytest.approx(half)
    plain = rmst_difference(
        cases, tau_days=15, weighting="naive", n_boot=40, seed=2, cluster=None
    ).table
    assert "percentile bootstrap" in plain["method"].iloc[0]


def test_a_failed_proportional_hazards_test_is_a_warning_of_the_headline():
    from toolkit.estimate.headline import headline_analysis

    # social requests: half resolved within a day, the rest very slowly (crossing hazards)
    rng = np.random.default_rng(3)
    n = 3000
    social = rng.random(n) < 0.4
    fast = rng.random(n) < 0.5
    days = np.where(
        social,
        np.where(fast, rng.exponential(0.5, n), rng.exponential(40, n)),
        rng.exponential(8, n),
    )
    cases = pd.DataFrame(
        {
            "channel": np.where(social, "twitter", "phone"),
            "channel_group": np.where(social, "social", "traditional"),
            "region": rng.choice(list("abcd"), n),
            "category": rng.choice(["roads", "water"], n),
            "start": pd.Timestamp("2024-01-01", tz="UTC")
            + pd.to_timedelta(rng.integers(0, 60, n), "D"),
            "duration_hours": np.minimum(days, 200) * 24,
            "censored": days > 200,
            "hops": pd.array(rng.poisson(1.5, n), dtype="Int64"),
        }
    )
    result = headline_analysis(cases, covariates=("region",), n_boot=3, seed=1, tau_days=30)
    assert result.warnings.get("hazard_ratio") == "ph_violated"
    assert result.diagnostics["ph_test"].set_index("term").loc["social", "p_value"] < 0.01
