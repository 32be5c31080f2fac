"""Impact scenarios: hand-computed values and uncertainty carried through draws."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from toolkit.errors import SekatError
from toolkit.estimate.impact import UnitCosts, effect_draws, scenario_impact
from toolkit.results import check_result, result_frame


def intake(n_walk: int = 60, n_letter: int = 40, n_social: int = 100) -> pd.DataFrame:
    channels = ["walk_in"] * n_walk + ["letter"] * n_letter + ["twitter"] * n_social
    start = pd.date_range("2024-01-01", "2024-12-31", periods=len(channels), tz="UTC")
    return pd.DataFrame({"channel": channels, "start": start})


def row(estimate: float, se: float) -> pd.DataFrame:
    return result_frame([{"term": "att", "estimate": estimate, "std_error": se, "method": "m"}])


def test_hand_computed_scenario():
    costs = UnitCosts(staff_minutes_per_handoff=30, wage_per_hour=50_000, citizen_day_value=100_000)
    out = scenario_impact(
        intake(),
        hops_effect=row(-0.5, 0.1),
        days_effect=row(-2.0, 0.5),
        share=0.3,
        costs=costs,
        per_year=False,
        seed=1,
    )
    table = check_result(out).set_index("term")["estimate"]
    moved = 0.3 * 100  # 30 of the 100 walk-in and letter requests
    assert table["requests_moved"] == pytest.approx(moved)
    assert table["handoffs_saved"] == pytest.approx(15.0)
    assert table["staff_hours_saved"] == pytest.approx(7.5)
    assert table["staff_cost_saved"] == pytest.approx(375_000)
    assert table["citizen_days_saved"] == pytest.approx(60.0)
    assert table["citizen_time_value"] == pytest.approx(6_000_000)
    assert table["total_value"] == pytest.approx(6_375_000)


def test_uncertainty_is_carried_through():
    base = dict(cases=intake(), share=0.3, per_year=False, seed=2, n_draws=4000)
    narrow = scenario_impact(hops_effect=row(-0.5, 0.05), days_effect=row(-2, 0.1), **base)
    wide = scenario_impact(hops_effect=row(-0.5, 0.20), days_effect=row(-2, 0.4), **base)
    n, w = narrow.set_index("term"), wide.set_index("term")
    # handoffs_saved = 30 * N(0.5, se): its SD is 30 * se
    assert n.loc["handoffs_saved", "std_error"] == pytest.approx(30 * 0.05, rel=0.1)
    assert w.loc["handoffs_saved", "std_error"] == pytest.approx(30 * 0.20, rel=0.1)
    assert (w["ci_high"] - w["ci_low"]).loc["total_value"] > (n["ci_high"] - n["ci_low"]).loc[
        "total_value"
    ]
    assert n.loc["requests_moved", "std_error"] == 0


def test_bootstrap_draws_are_used_as_given_and_annualised():
    draws = np.array([-1.0, -0.5, -1.5, -1.0])
    point, given = effect_draws(pd.Series(draws), n_draws=10, seed=0)
    assert point == -1.0 and len(given) == 4
    out = scenario_impact(
        intake(), hops_effect=draws, days_effect=draws * 2, share=1.0, seed=0
    ).set_index("term")
    span_days = 365.0  # 2024-01-01 to 2024-12-31
    assert out.loc["requests_moved", "estimate"] == pytest.approx(100 * 365.25 / span_days)


def test_zero_share_is_worth_nothing_and_bad_input_is_named():
    out = scenario_impact(
        intake(),
        hops_effect=row(-0.5, 0.1),
        days_effect=row(-1, 0.1),
        share=0.0,
        per_year=False,
        seed=0,
    )
    assert (out["estimate"] == 0).all()
    with pytest.raises(SekatError):
        scenario_impact(
            intake(), hops_effect=row(-0.5, 0.1), days_effect=row(-1, 0.1), share=1.5, seed=0
        )
    with pytest.raises(SekatError, match="unknown channels"):
        scenario_impact(
            intake(),
            hops_effect=row(-0.5, 0.1),
            days_effect=row(-1, 0.1),
            channels=["pigeon"],
            seed=0,
        )


def test_draw_counts_are_honest_and_unequal_replicates_are_refused():
    cases = pd.DataFrame(
        {
            "channel": ["walk_in"] * 10 + ["letter"] * 10,
            "start": pd.date_range("2024-01-01", periods=20, freq="D", tz="UTC"),
        }
    )
    hops_row = pd.Series({"estimate": -0.2, "std_error": 0.05})
    days = np.linspace(-2.0, -1.0, 150)
    out = scenario_impact(
        cases, hops_effect=hops_row, days_effect=days, share=0.5, per_year=False, seed=1
    )
    # 150 bootstrap replicates give 150 draws, not 2,000 recycled ones
    assert "150 draws (hops and days drawn independently)" in out["method"].iloc[0]
    paired = scenario_impact(
        cases, hops_effect=days / 10, days_effect=days, share=0.5, per_year=False, seed=1
    )
    assert "150 draws (paired)" in paired["method"].iloc[0]
    with pytest.raises(SekatError, match="paired draws"):
        scenario_impact(
            cases, hops_effect=days[:100], days_effect=days, share=0.5, per_year=False, seed=1
        )
