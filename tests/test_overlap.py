"""Overlap and inference: effective sample sizes, the overlap rule, overlap weights,
cross-fitting and district-clustered influence-function errors with t critical values."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from toolkit.estimate.effects import aipw_hops
from toolkit.estimate.headline import headline_analysis
from toolkit.estimate.models import (
    MAX_WEIGHT_SHARE,
    MIN_EFFECTIVE_SHARE,
    PROPENSITY_BOUNDS,
    overlap_diagnostics,
    overlap_rule,
)
from toolkit.report.brief import BriefContext, finding_warnings
from toolkit.results import critical_value, influence_se, result_frame, select


def randomised_or_confounded(n: int, seed: int, *, strength: float, effect: float = -0.3):
    """Requests whose social intake depends on the district with log-odds ``strength`` apart.

    With ``strength`` 0 intake is a coin flip (perfect overlap); with 5 one district has
    almost no social requests and another almost no others (poor overlap for the ATE, while
    the ATT needs comparable non-social requests only where social ones are).
    """
    rng = np.random.default_rng(seed)
    region = rng.choice(list("abcdef"), n)
    category = rng.choice(["roads", "water"], n)
    logit = strength * ((region == "a").astype(float) - (region == "f")) - 0.5 * (region == "f")
    social = rng.random(n) < 1 / (1 + np.exp(-logit))
    mu0 = np.exp(0.4 + 0.5 * (category == "water") + 0.3 * (region == "a"))
    hops = rng.poisson(mu0 * np.exp(effect * social))
    start = pd.Timestamp("2024-01-01", tz="UTC") + pd.to_timedelta(rng.integers(0, 60, n), "D")
    duration = rng.exponential(24 * 10 * np.exp(0.2 * social), n)
    cases = pd.DataFrame(
        {
            "channel": np.where(social, "twitter", "phone"),
            "channel_group": np.where(social, "social", "traditional"),
            "region": region,
            "category": category,
            "start": start,
            "hops": pd.array(hops, dtype="Int64"),
            "duration_hours": duration,
            "censored": duration > 24 * 50,
        }
    )
    return cases, float(np.mean(mu0 * (np.exp(effect) - 1)))


def test_effective_sample_size_and_weight_share_by_hand():
    # social arm: e = 0.5 and 0.25, ATE weights 2 and 4: ESS = 36/20 = 1.8, top share 4/6
    # not social: e = 0.5 and 0.75, weights 2 and 4 again; ATT weights 1 and 3: ESS 16/10
    d = overlap_diagnostics(np.array([0.5, 0.25, 0.5, 0.75]), np.array([1, 1, 0, 0]))
    overlap = d["overlap"].set_index("arm")
    assert overlap["effective_n"].tolist() == pytest.approx([1.8, 1.8])
    assert overlap["max_weight_share"].tolist() == pytest.approx([4 / 6, 4 / 6])
    assert overlap.loc["not social", "effective_n_att"] == pytest.approx(1.6)
    assert overlap.loc["social", "effective_n_att"] == pytest.approx(2.0)
    assert overlap.loc["not social", "max_weight_share_att"] == pytest.approx(0.75)


def test_overlap_rule_at_its_thresholds():
    low, high = PROPENSITY_BOUNDS

    def rule(share: float, top: float, q05: float = 0.3, q95: float = 0.7) -> bool:
        table = pd.DataFrame(
            {
                "effective_share": [share, 0.9],
                "max_weight_share": [top, 0.0],
                "q05": [q05, 0.3],
                "q95": [q95, 0.7],
            }
        )
        return bool(overlap_rule(table)["ate_supported"].iloc[0])

    assert rule(MIN_EFFECTIVE_SHARE, MAX_WEIGHT_SHARE, low, high)
    assert not rule(MIN_EFFECTIVE_SHARE - 1e-9, 0.0)
    assert not rule(0.5, MAX_WEIGHT_SHARE + 1e-9)
    # more than 5 % of an arm with a propensity near 0 (or 1) fails, whatever the weights say
    assert not rule(0.5, 0.0, q05=low - 1e-9)
    assert not rule(0.5, 0.0, q95=high + 1e-9)


def test_overlap_weighted_effect_by_hand():
    # two districts of four requests, effect -1 in "a" (e = 1/2) and -3 in "b" (e = 1/4);
    # with saturated models psi is the district's effect, and h = e(1 - e) is 1/4 and 3/16:
    # ATO = (4/4 * -1 + 12/16 * -3) / (4/4 + 12/16) = -13/7, ATE = -2, ATT = (2 * -1 - 3) / 3
    cases = pd.DataFrame(
        {
            "channel": ["twitter", "phone"] * 2 + ["twitter"] + ["phone"] * 3,
            "region": ["a"] * 4 + ["b"] * 4,
            "hops": [1, 2, 1, 2, 1, 4, 4, 4],
        }
    )
    table = aipw_hops(cases, covariates=["region"], outcome_model="linear", cluster=None).table
    ato = select(table, estimand="ato")["estimate"].iloc[0]
    assert ato == pytest.approx((0.25 * -1 * 4 + 3 / 16 * -3 * 4) / (0.25 * 4 + 3 / 16 * 4))
    assert select(table, estimand="ate")["estimate"].iloc[0] == pytest.approx(-2.0)
    assert select(table, estimand="att")["estimate"].iloc[0] == pytest.approx((-1 * 2 - 3) / 3)


def test_clustered_influence_se_by_hand():
    # clusters {0,1}, {2,3}: centred sums 2 and -2, G/(G-1) = 2: var = 2 * 8 / 16 = 1
    se, df = influence_se(np.array([1.0, 1.0, -1.0, -1.0]), np.array(["x", "x", "y", "y"]))
    assert se == pytest.approx(1.0) and df == 1
    assert critical_value(0.95, df=11) == pytest.approx(2.200985, abs=1e-6)
    assert critical_value(0.95) == pytest.approx(1.959964, abs=1e-6)


@settings(max_examples=25, deadline=None)
@given(st.lists(st.floats(-5, 5), min_size=4, max_size=40))
def test_clustered_se_of_one_request_per_cluster_is_the_independent_one(values):
    influence = np.asarray(values)
    se_iid, _ = influence_se(influence)
    se_cl, df = influence_se(influence, np.arange(len(influence)))
    n = len(influence)
    # singleton clusters: G/(G-1) sum (x - mean)^2 / n^2 = var(x) / n exactly
    assert se_cl == pytest.approx(se_iid, rel=1e-9, abs=1e-12) and df == n - 1


def test_aipw_intervals_use_districts_and_t_values():
    cases, _ = randomised_or_confounded(3000, 3, strength=0.0)
    clustered = aipw_hops(cases, covariates=["region", "category"]).table
    independent = aipw_hops(cases, covariates=["region", "category"], cluster=None).table
    for table, c in ((clustered, critical_value(0.95, 5)), (independent, critical_value(0.95))):
        row = select(table, estimand="att").iloc[0]
        assert row["ci_high"] - row["estimate"] == pytest.approx(c * row["std_error"])
    assert "clustered by region (G=6" in clustered["method"].iloc[0]


def test_cross_fitting_agrees_with_one_fit_and_covers_the_truth():
    cases, true_ate = randomised_or_confounded(8000, 5, strength=0.5)
    one = aipw_hops(cases, covariates=["region", "category"]).table
    folds = aipw_hops(cases, covariates=["region", "category"], cross_fit=5, seed=2).table
    a = select(one, estimand="ate").iloc[0]
    b = select(folds, estimand="ate").iloc[0]
    assert abs(a["estimate"] - b["estimate"]) < 0.5 * a["std_error"]
    assert b["ci_low"] < true_ate < b["ci_high"]
    assert "5-fold cross-fitted" in b["method"]


def test_ate_suppressed_when_effective_sample_size_is_tiny():
    cases, _ = randomised_or_confounded(2500, 11, strength=5.0)
    result = headline_analysis(cases, covariates=("region", "category"), n_boot=3, seed=1)
    rule = result.diagnostics["overlap_rule"].iloc[0]
    assert not rule["ate_supported"]
    assert result.rows(estimand="ate").empty
    held = result.diagnostics["ate_not_headline"]
    assert set(held["term"]) >= {"ate_hops", "ate_rmst_days"}
    assert result.warnings["ate_hops"] == "poor_overlap"
    # the ATT and the overlap-weighted effect stay headline numbers
    assert len(result.rows(estimand="att", outcome="hops", method_key="aipw", group=None)) == 1
    assert len(result.rows(estimand="ato", outcome="hops", group=None)) == 1
    text = finding_warnings(BriefContext(result_frame([]), warnings=result.warnings)).text
    assert "not reported" in text and "either way" in text


def test_ate_kept_when_intake_is_a_coin_flip():
    cases, _ = randomised_or_confounded(2500, 12, strength=0.0)
    result = headline_analysis(cases, covariates=("region", "category"), n_boot=3, seed=1)
    assert bool(result.diagnostics["overlap_rule"]["ate_supported"].iloc[0])
    assert len(result.rows(estimand="ate", outcome="hops", method_key="aipw")) == 1
    assert "ate_not_headline" not in result.diagnostics and not result.warnings
