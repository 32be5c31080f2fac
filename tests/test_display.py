"""What the notebooks show: parameter checks, readable result rows, alt text, stable text."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from toolkit.errors import SekatError
from toolkit.estimate.headline import headline_analysis
from toolkit.estimate.models import comparison_cases
from toolkit.paths import case_table
from toolkit.report.display import (
    check_lines,
    check_parameters,
    describe_rows,
    plot_table,
    select,
    with_truth,
)
from toolkit.synthetic import simulate


@pytest.fixture(scope="module")
def sim():
    return simulate(2500, seed=11)


@pytest.fixture(scope="module")
def result(sim):
    return headline_analysis(case_table(sim.events), seed=5, n_boot=20)


# --- parameters and the comparison ----------------------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"lang": "fr"}, "lang"),
        ({"seed": -1}, "seed"),
        ({"seed": 1.5}, "seed"),
        ({"min_cell": 5}, "at least 10"),
        ({"treatment": "digital"}, "treatment"),
        ({"control": "everyone"}, "control"),
        ({"share": 1.2}, "share"),
    ],
)
def test_check_parameters_rejects(kwargs, message):
    with pytest.raises(SekatError, match=message):
        check_parameters(**kwargs)


def test_check_parameters_accepts_defaults_and_stricter_cells():
    check_parameters()
    check_parameters(lang="id", seed=0, min_cell=25, control="traditional", share=0.0)


def test_comparison_cases_by_hand():
    cases = pd.DataFrame({"channel": ["twitter", "web", "letter", "whatsapp", "other"]})
    assert comparison_cases(cases)["channel"].tolist() == cases["channel"].tolist()
    assert comparison_cases(cases, "traditional")["channel"].tolist() == [
        "twitter",
        "letter",
        "whatsapp",
    ]
    assert comparison_cases(cases, "digital")["channel"].tolist() == ["twitter", "web", "whatsapp"]


def test_with_truth_and_plot_table_put_the_planted_value_beside(sim, result):
    hops = result.rows(outcome="hops", group=None, estimand=("difference", "ate", "att"))
    compared = with_truth(hops, sim.truth)
    att = compared.loc[compared["term"] == "att_hops"].iloc[0]
    planted = sim.truth.loc[
        (sim.truth["estimand"] == "att_hops") & (sim.truth["group"] == "overall"), "value"
    ].iloc[0]
    assert att["truth"] == pytest.approx(planted)
    table = plot_table(hops, "en", sim.truth)
    drawn = table.loc[table["method"] == "Planted truth"]
    # One planted row per estimand that has one (the ATT, and the ATE when it passes the
    # overlap rule; the naive difference estimates no planted quantity), drawn as a point.
    assert len(drawn) == 1 + len(select(hops, estimand="ate"))
    assert (drawn["ci_low"] == drawn["estimate"]).all()
    naive = select(hops, estimand="difference")
    assert plot_table(naive, "id")[["term", "method"]].values.tolist() == [
        ["Pelimpahan per permohonan, selisih mentah", "Perbandingan mentah"]
    ]


def test_plot_table_words_follow_the_descriptors_not_the_terms(result):
    days = result.rows(outcome="rmst_days", estimand="att", scale="difference")
    renamed = days.assign(term="whatever a user calls it")
    assert plot_table(renamed, "en", tau_days=14)["term"].iloc[0] == (
        "Days unresolved in the first 14, requests through social media"
    )
    # the words follow the contrast the row was estimated for
    other = days.assign(contrast="twitter vs phone")
    assert plot_table(other, "id", tau_days=14)["term"].iloc[0] == (
        "Hari belum selesai dalam 14 hari pertama, permohonan lewat Twitter/X"
    )
    topics = result.rows(group="category")
    assert "Jalan" in set(plot_table(topics, "id")["term"])


# --- stable text for checked cells ----------------------------------------------------------


def test_check_lines_by_hand():
    table = pd.DataFrame(
        {"term": ["a", "b"], "estimate": [-0.004, 1.23456], "n": [12, 3], "x": [np.nan, 2.0]}
    )
    assert check_lines(table) == "term | estimate | n | x\na | 0.00 | 12 | NA\nb | 1.23 | 3 | 2.00"


@settings(max_examples=60, deadline=None)
@given(st.floats(allow_nan=False, allow_infinity=False, min_value=-1e6, max_value=1e6))
def test_check_lines_never_prints_negative_zero(value):
    text = check_lines(pd.DataFrame({"v": [value]}), decimals=2).splitlines()[1]
    assert text != "-0.00"
    assert float(text) == pytest.approx(round(value, 2), abs=0.006)


def test_describe_rows_words_codes_and_skips_point_intervals():
    table = pd.DataFrame(
        {
            "term": ["walk_in", "Planted"],
            "estimate": [2.6, -0.2],
            "ci_low": [2.5, -0.2],
            "ci_high": [2.7, -0.2],
        }
    )
    assert (
        describe_rows(table, "id")
        == "Datang langsung: 2,60 (2,50 sampai 2,70); Planted: \u22120,20"
    )
