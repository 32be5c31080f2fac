"""E-values: the published worked values, the conversions, and the rows beside the headline."""

from __future__ import annotations

import numpy as np
import pytest

from toolkit.estimate.headline import headline_analysis
from toolkit.estimate.sensitivity import (
    SENSITIVITY_GROUP,
    difference_to_risk_ratio,
    e_value,
    e_value_rows,
    hazard_to_risk_ratio,
)
from toolkit.paths import case_table
from toolkit.report.brief import BriefContext, finding_sensitivity
from toolkit.results import result_frame
from toolkit.synthetic import simulate


def test_e_values_of_vanderweele_and_ding():
    # their example: RR 3.9 -> E-value 7.26; the lower limit 1.8 -> 3.0
    assert e_value(3.9) == pytest.approx(7.26, abs=0.01)
    assert e_value(1.8) == pytest.approx(3.0, abs=0.01)
    assert e_value(1 / 3.9) == pytest.approx(e_value(3.9))
    assert e_value(1.0) == 1.0 and np.isnan(e_value(-1.0))


def test_conversions_by_hand():
    # HR 4 of a common outcome: (1 - 0.5^2) / (1 - 0.5^0.5) = 0.75 / 0.29289
    assert hazard_to_risk_ratio(4.0) == pytest.approx(0.75 / (1 - 0.5**0.5))
    assert hazard_to_risk_ratio(1.0) == pytest.approx(1.0)
    assert difference_to_risk_ratio(1.0, 2.0) == pytest.approx(np.exp(0.455))


def test_interval_through_no_effect_has_e_value_one_and_rows_are_described():
    table = result_frame(
        [
            {
                "term": "att_hops",
                "estimate": -0.3,
                "ci_low": -0.5,
                "ci_high": 0.1,
                "method": "AIPW",
                "estimand": "att",
                "outcome": "hops",
                "scale": "difference",
                "contrast": "social vs not_social",
                "method_key": "aipw",
                "n": 100,
            },
        ]
    )
    row = e_value_rows(table, {"hops": 1.0}).iloc[0]
    assert row["ci_low"] == 1.0
    assert row["estimate"] == pytest.approx(e_value(np.exp(-0.91 * 0.3)))
    assert row["group"] == SENSITIVITY_GROUP and row["method_key"] == "e_value"
    assert row["estimand"] == "att" and row["outcome"] == "hops"
    # a difference without a known outcome spread is not guessed at
    assert e_value_rows(table, {}).empty


def test_headline_carries_e_values_that_selections_of_effects_leave_out():
    result = headline_analysis(case_table(simulate(3000, seed=9).events), seed=1, n_boot=5)
    evalues = result.rows(method_key="e_value")
    assert set(evalues["term"]) == {
        "e_value[att_hops]",
        "e_value[irr_hops]",
        "e_value[att_rmst_days]",
        "e_value[hazard_ratio]",
    }
    assert (evalues["estimate"] >= 1).all() and (evalues["ci_low"] <= evalues["estimate"]).all()
    # the overall effects, as notebooks and the brief select them, are not mixed with them
    assert result.rows(group=None, method_key="e_value").empty
    text = finding_sensitivity(BriefContext(result.table)).text
    assert "explain the effect away" in text
