"""Staggered rollout: Callaway–Sant'Anna on panels with known effects, TWFE beside it."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from toolkit import schema
from toolkit.errors import SekatError
from toolkit.estimate.rollout import callaway_santanna, rollout_event_study, rollout_panel, twfe
from toolkit.paths import case_table
from toolkit.results import check_result, select, select_one
from toolkit.synthetic import simulate


def staggered_panel(
    units_per_cohort: int = 20,
    periods: int = 8,
    noise: float = 0.0,
    seed: int = 0,
    multiplicative: bool = False,
) -> tuple[pd.DataFrame, dict[tuple[int, int], float]]:
    """Cohorts first treated in periods 3, 5 and never; effects grow with event time and
    differ by cohort (the case where TWFE fails). Returns the panel and the true ATT(g,t)."""
    rng = np.random.default_rng(seed)
    cohorts = {3: 1.0, 5: 2.0, 0: 0.0}  # cohort -> effect scale
    rows, truth = [], {}
    unit = 0
    for g, scale in cohorts.items():
        for _ in range(units_per_cohort):
            unit += 1
            level = rng.normal(5.0, 1.0) + (2.0 if g == 3 else 0.0)
            for t in range(1, periods + 1):
                trend = 0.3 * t
                effect = scale * (1 + (t - g)) if g and t >= g else 0.0
                if multiplicative:
                    y0 = level * np.exp(0.1 * t)
                else:
                    y0 = level + trend
                rows.append((unit, t, g, y0 + effect + noise * rng.standard_normal()))
                if g and t >= g:
                    truth[(g, t)] = effect
    panel = pd.DataFrame(rows, columns=["unit", "period", "first_treated", "outcome"])
    return panel, truth


def terms(table: pd.DataFrame) -> pd.Series:
    return table.set_index("term")["estimate"]


@pytest.mark.parametrize("control", ["never", "notyet"])
def test_group_time_effects_exact_without_noise(control):
    panel, truth = staggered_panel()
    result = callaway_santanna(panel, control=control)
    est = terms(check_result(result.table))
    for (g, t), value in truth.items():
        assert est[f"att_gt[g={g},t={t}]"] == pytest.approx(value, abs=1e-10)
    # pre-treatment placebo cells are zero under parallel trends
    pre = result.diagnostics["att_gt"].query("e < 0")["estimate"]
    assert np.abs(pre).max() < 1e-10
    # dynamic: event time e averages cohorts weighted by size (equal here)
    assert est["event[e=0]"] == pytest.approx((1.0 + 2.0) / 2)
    assert est["event[e=3]"] == pytest.approx((4.0 + 8.0) / 2)
    # simple: all post cells weighted by cohort share
    assert est["simple"] == pytest.approx(np.mean(list(truth.values())))
    assert est["group[g=3]"] == pytest.approx(np.mean([1.0 * (1 + e) for e in range(6)]))


def test_twfe_is_biased_under_heterogeneous_dynamic_effects():
    panel, truth = staggered_panel()
    simple = terms(callaway_santanna(panel).table)["simple"]
    naive = twfe(panel)["estimate"].iloc[0]
    assert simple == pytest.approx(np.mean(list(truth.values())))
    assert abs(naive - simple) > 0.5  # already-treated units serve as controls


def test_twfe_exact_with_a_constant_effect():
    panel, _ = staggered_panel()
    g, t = panel["first_treated"], panel["period"]
    treated = (g > 0) & (t >= g)
    # unit effect + common trend + a constant effect of 1.5: TWFE is right here
    constant = panel.assign(outcome=0.1 * panel["unit"] + 0.3 * t + np.where(treated, 1.5, 0.0))
    assert twfe(constant)["estimate"].iloc[0] == pytest.approx(1.5)
    leads_lags = twfe(constant, event_window=(-3, 3))
    assert leads_lags["term"].str.startswith("twfe_event").all()
    assert leads_lags.set_index("term").loc["twfe_event[e=0]", "estimate"] == pytest.approx(1.5)
    assert leads_lags.set_index("term").loc["twfe_event[e=-2]", "estimate"] == pytest.approx(0.0)


def test_analytic_se_agrees_with_unit_bootstrap_and_covers():
    panel, truth = staggered_panel(units_per_cohort=30, noise=1.0, seed=1)
    table = callaway_santanna(panel).table.set_index("term")
    assert (
        table.loc["simple", "ci_low"]
        < np.mean(list(truth.values()))
        < table.loc["simple", "ci_high"]
    )
    rng = np.random.default_rng(2)
    units = panel["unit"].unique()
    draws = []
    for _ in range(150):
        pick = rng.choice(units, len(units))
        sample = pd.concat(
            [panel.loc[panel["unit"] == u].assign(unit=k) for k, u in enumerate(pick)]
        )
        draws.append(terms(callaway_santanna(sample).table)["simple"])
    assert table.loc["simple", "std_error"] == pytest.approx(np.std(draws, ddof=1), rel=0.25)


def test_multiplicative_trends():
    panel, truth = staggered_panel(multiplicative=True)
    additive = terms(callaway_santanna(panel, trends="additive").table)
    ratio = terms(callaway_santanna(panel, trends="multiplicative").table)
    # cohort 3 has a higher level, so its trend in levels is steeper: additive PT fails
    assert abs(additive["att_gt[g=3,t=8]"] - truth[(3, 8)]) > 0.1
    assert ratio["att_gt[g=3,t=8]"] == pytest.approx(truth[(3, 8)], abs=0.05 * truth[(3, 8)])


def test_generic_columns_and_errors():
    panel, _ = staggered_panel(units_per_cohort=3)
    renamed = panel.rename(
        columns={"unit": "county", "period": "year", "first_treated": "g", "outcome": "y"}
    )
    renamed["g"] = renamed["g"].replace(0, np.nan)
    a = callaway_santanna(renamed, unit="county", time="year", first_treated="g", outcome="y")
    # the outcome descriptor names the outcome column, whatever it is called
    pd.testing.assert_frame_equal(
        a.table.drop(columns="outcome"), callaway_santanna(panel).table.drop(columns="outcome")
    )
    assert set(a.table["outcome"]) == {"y"}
    with pytest.raises(SekatError):
        callaway_santanna(panel, control="everyone")
    with pytest.raises(SekatError):
        callaway_santanna(panel.assign(first_treated=0))


def test_rollout_panel_by_hand():
    cases = pd.DataFrame(
        {
            "region": ["a", "a", "a", "b"],
            "start": pd.to_datetime(
                ["2024-01-03", "2024-01-20", "2024-03-02", "2024-01-05"], utc=True
            ),
            "hops": pd.array([1, 3, 2, pd.NA], dtype="Int64"),
            "duration_hours": [24.0, 24.0 * 40, 48.0, 12.0],
            "censored": [False, True, False, False],
            "end": pd.to_datetime(
                ["2024-01-04", "2024-03-10", "2024-03-04", "2024-01-06"], utc=True
            ),
        }
    )
    desks = pd.DataFrame(
        {"region": ["a", "b"], "desk_opened": pd.to_datetime(["2024-02-10", None], utc=True)}
    )
    panel = rollout_panel(cases, desks, tau_days=30)
    jan_a = panel.query("unit == 'a' and month == '2024-01'").iloc[0]
    assert jan_a["hops"] == 2.0 and jan_a["n_requests"] == 2
    # the cut-off is the latest end (10 March): only January intake has 30 days of follow-up;
    # the second request is still open after 30 days, so it contributes min(T, 30) = 30
    assert jan_a["rmst_days"] == pytest.approx((1.0 + 30.0) / 2)
    assert np.isnan(panel.query("unit == 'a' and month == '2024-03'")["rmst_days"].iloc[0])
    # opened mid-February: first full treated month is March
    assert jan_a["first_treated"] == 2024 * 12 + 3
    assert panel.query("unit == 'b'")["first_treated"].iloc[0] == 0
    assert np.isnan(panel.query("unit == 'b'")["hops"].iloc[0])


def test_event_study_on_generated_log_covers_planted_rollout_effects():
    """One seeded log; coverage over many seeds is measured in benchmarks/coverage_study.py
    (with only twelve regions the hops interval covers less often than 95 %)."""
    sim = simulate(20_000, seed=1)
    cases = case_table(sim.events)
    table = rollout_event_study(cases, sim.rollout).table
    truth = sim.truth.set_index(["estimand", "group"])["value"]
    overall = dict(estimand="att", group=None, event_time=None, contrast=schema.DESK_CONTRAST)
    for outcome in ("hops", "rmst_days"):
        row = select_one(table, outcome=outcome, method_key="callaway_santanna", **overall)
        planted = truth[f"att_rollout_{outcome}", "overall"]
        assert row["ci_low"] < planted < row["ci_high"], outcome
        assert row["term"] == f"att_rollout_{outcome}"
    assert len(select(table, outcome="hops", method_key="twfe", **overall)) == 1
    events = select(table, outcome="hops", method_key="callaway_santanna", group=None)
    events = events.loc[events["event_time"].notna()]
    assert events["term"].tolist() == [f"es_hops[e={e}]" for e in events["event_time"]]


def test_incomplete_last_months_leave_the_panel_by_rule():
    # intake over Jan-Mar 2024; cut-off 10 March: March is partly observed (hops left out),
    # and with tau = 30 days only January ends a full tau before the cut-off (time outcome)
    starts = pd.to_datetime(["2024-01-10", "2024-02-10", "2024-03-02", "2024-03-05"], utc=True)
    cases = pd.DataFrame(
        {
            "region": ["a"] * 4,
            "start": starts,
            "hops": [1, 2, 3, 4],
            "duration_hours": [24.0] * 4,
            "censored": [False] * 4,
        }
    )
    desks = pd.DataFrame({"region": ["a"], "desk_opened": pd.to_datetime([None], utc=True)})
    panel = rollout_panel(cases, desks, cutoff="2024-03-10", tau_days=30).set_index("month")
    assert panel["hops"].notna().to_dict() == {"2024-01": True, "2024-02": True, "2024-03": False}
    assert panel["rmst_days"].notna().to_dict() == {
        "2024-01": True,
        "2024-02": False,
        "2024-03": False,
    }
    # the cells are kept (their counts are still reported), only the outcome is left out
    assert panel["n_requests"].tolist() == [1, 1, 2]
