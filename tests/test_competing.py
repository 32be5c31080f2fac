"""Competing outcomes: rejection is not resolution (Aalen-Johansen cumulative incidence)."""

from __future__ import annotations

import numpy as np
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from toolkit.estimate.competing import (
    aalen_johansen,
    cumulative_incidence,
    ending_outcomes,
)
from toolkit.paths import case_table
from toolkit.synthetic import simulate


def test_a_rejection_reopened_and_then_resolved_is_a_resolution():
    ts = pd.to_datetime(["2024-01-01", "2024-01-02", "2024-01-03", "2024-01-04"], utc=True)
    events = pd.DataFrame(
        {
            "case_id": ["a"] * 4 + ["b"] * 2,
            "timestamp": list(ts) + list(ts[:2]),
            "activity": ["submitted", "rejected", "reopened", "resolved", "submitted", "rejected"],
        }
    )
    cases = pd.DataFrame({"case_id": ["b", "a"], "censored": [False, False]})
    assert ending_outcomes(events, cases).tolist() == ["rejected", "resolved"]


@settings(max_examples=40, deadline=None)
@given(
    st.lists(
        st.tuples(st.integers(1, 20), st.sampled_from(["resolved", "rejected", "open"])),
        min_size=1,
        max_size=40,
    )
)
def test_incidences_and_survival_add_up_to_one_and_one_cause_is_one_minus_km(data):
    time = np.array([t for t, _ in data], dtype=float)
    cause = np.array([c for _, c in data], dtype=object)
    curve = aalen_johansen(time, cause)
    total = curve["survival"] + curve["resolved"] + curve["rejected"]
    assert np.allclose(total, 1.0)
    assert (np.diff(curve["resolved"]) >= -1e-12).all()
    # with no rejections, the incidence of resolution is 1 - Kaplan-Meier, by hand
    only = np.where(cause == "rejected", "open", cause)
    aj = aalen_johansen(time, only)
    km = []
    survival = 1.0
    for t in aj["time"]:
        at_risk = (time >= t).sum()
        survival *= 1 - ((time == t) & (only == "resolved")).sum() / at_risk
        km.append(survival)
    assert np.allclose(aj["resolved"], 1 - np.array(km))


def test_cumulative_incidence_of_rejection_matches_the_planted_rate():
    sim = simulate(6000, seed=17, reject_rate=0.2)
    cases = case_table(sim.events)
    ending = ending_outcomes(sim.events, cases)
    _, table = cumulative_incidence(cases, ending, days=[400.0], n_boot=30, seed=1)
    rejected = table.loc[table["outcome"] == "cif_rejected"].set_index("group_value")
    # 20 % of requests are planted as rejected; by day 400 nearly all have ended
    for group in ("social", "traditional"):
        row = rejected.loc[group]
        assert row["ci_low"] - 0.03 < 0.2 < row["ci_high"] + 0.03, group
    assert (table["ci_low"] <= table["estimate"]).all()
    assert (table["estimate"] <= table["ci_high"]).all()
