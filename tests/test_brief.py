"""Tests of toolkit.report.brief: findings in words with their uncertainty, and the HTML export."""

from __future__ import annotations

import base64
import io
import json
from pathlib import Path

import nbformat
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from matplotlib.figure import Figure

from toolkit.errors import SekatError
from toolkit.report.brief import (
    REMOVE_TAG,
    describe_change,
    export_html,
    finding_days,
    finding_hops,
    finding_rollout,
    finding_uneven,
    finding_worth,
    limitations,
    main,
    policy_brief,
)
from toolkit.reproduce import brief_target, parameter_defaults
from toolkit.results import result_frame

SOCIAL = {"contrast": "social vs not_social"}


def _rows(*rows: dict) -> pd.DataFrame:
    return result_frame([{"method": "m", "std_error": 0.1, "n": 100, **row} for row in rows])


HOPS = _rows(
    {
        "term": "difference_hops",
        "estimate": -1.07,
        "ci_low": -1.13,
        "ci_high": -1.02,
        "estimand": "difference",
        "outcome": "hops",
        "scale": "difference",
        "method_key": "naive",
        **SOCIAL,
    },
    {
        "term": "ate_hops",
        "estimate": -2.68,
        "ci_low": -5.41,
        "ci_high": 0.05,
        "estimand": "ate",
        "outcome": "hops",
        "scale": "difference",
        "method_key": "aipw",
        **SOCIAL,
    },
    {
        "term": "att_hops",
        "estimate": -0.17,
        "ci_low": -0.23,
        "ci_high": -0.11,
        "estimand": "att",
        "outcome": "hops",
        "scale": "difference",
        "method_key": "aipw",
        **SOCIAL,
    },
    {
        "term": "irr_hops",
        "estimate": 0.85,
        "ci_low": 0.82,
        "ci_high": 0.89,
        "estimand": "conditional",
        "outcome": "hops",
        "scale": "ratio",
        "method_key": "poisson_fe",
        **SOCIAL,
    },
)
DAYS = _rows(
    {
        "term": "difference_rmst_days",
        "estimate": -4.69,
        "ci_low": -4.95,
        "ci_high": -4.35,
        "estimand": "difference",
        "outcome": "rmst_days",
        "scale": "difference",
        "method_key": "naive",
        **SOCIAL,
    },
    {
        "term": "att_rmst_days",
        "estimate": -0.85,
        "ci_low": -1.18,
        "ci_high": -0.50,
        "estimand": "att",
        "outcome": "rmst_days",
        "scale": "difference",
        "method_key": "ipw_km",
        **SOCIAL,
    },
)
IMPACT = pd.DataFrame(
    {
        "term": [
            "requests_moved",
            "handoffs_saved",
            "staff_hours_saved",
            "staff_cost_saved",
            "citizen_days_saved",
            "citizen_time_value",
            "total_value",
        ],
        "estimate": [1121.0, 192.0, 64.0, 2.56e6, 944.0, 1.416e8, 1.442e8],
        "ci_low": [1121.0, 120.0, 40.0, 1.6e6, 551.0, 0.83e8, 0.853e8],
        "ci_high": [1121.0, 265.0, 88.0, 3.5e6, 1327.0, 1.99e8, 2.02e8],
    }
)
GROUPS = _rows(
    *(
        {
            "term": f"att_hops[category={c}]",
            "estimate": e,
            "ci_low": lo,
            "ci_high": hi,
            "estimand": "att",
            "outcome": "hops",
            "scale": "difference",
            "group": "category",
            "group_value": c,
            "method_key": "aipw",
            **SOCIAL,
        }
        for c, e, lo, hi in (
            ("roads", -0.22, -0.42, -0.02),
            ("health", 0.14, -0.21, 0.49),
            ("civil_registry", 0.5, 0.1, 0.9),
        )
    )
)
ROLLOUT = _rows(
    *(
        {
            "term": "att_rollout_hops",
            "estimate": e,
            "ci_low": lo,
            "ci_high": hi,
            "n": n,
            "estimand": "att",
            "outcome": "hops",
            "scale": "difference",
            "contrast": "desk open vs not yet open",
            "method_key": key,
        }
        for e, lo, hi, n, key in (
            (-0.10, -0.26, 0.05, 12, "callaway_santanna"),
            (-0.001, -0.13, 0.13, 288, "twfe"),
        )
    )
)


# --- one effect in words --------------------------------------------------------------------


def test_describe_change_three_regimes_by_hand():
    assert describe_change(-0.17, -0.23, -0.11) == "0.17 fewer (95% interval 0.11 to 0.23 fewer)"
    assert describe_change(0.3, 0.1, 0.5, unit="days") == (
        "0.30 more days (95% interval 0.10 to 0.50 more)"
    )
    crossing = describe_change(-0.10, -0.26, 0.05, unit="hand-offs")
    assert crossing.startswith("0.10 fewer hand-offs, but the 95% interval runs from 0.26 fewer")
    assert crossing.endswith("to 0.05 more, so the data cannot rule out no change")


def test_describe_change_in_indonesian_orders_unit_before_direction():
    text = describe_change(-0.17, -0.23, -0.11, "id", unit="perpindahan")
    assert text == "0,17 perpindahan lebih sedikit (selang 95% 0,11 sampai 0,23 lebih sedikit)"


def test_describe_change_refuses_a_missing_interval():
    with pytest.raises(SekatError):
        describe_change(-0.1, float("nan"), 0.1)


@settings(max_examples=80, deadline=None)
@given(
    st.floats(-50, 50, allow_nan=False),
    st.floats(0.001, 20, allow_nan=False),
    st.floats(0.001, 20, allow_nan=False),
    st.sampled_from(["en", "id"]),
)
def test_no_change_is_admitted_exactly_when_the_interval_holds_zero(centre, below, above, lang):
    low, high = centre - below, centre + above
    text = describe_change(centre, low, high, lang)
    admits = ("cannot rule out" in text) or ("tidak dapat menyingkirkan" in text)
    assert admits == (low <= 0 <= high)
    assert "-" not in text  # magnitudes with a direction word, never a bare minus sign


# --- findings --------------------------------------------------------------------------------


def test_finding_hops_reports_the_att_and_the_naive_difference():
    text = finding_hops(HOPS)
    assert "0.17 fewer hand-offs per request (95% interval 0.11 to 0.23 fewer)" in text
    assert "1.07 fewer" in text
    assert "2.68" not in text  # the imprecise ATE is not the headline
    with pytest.raises(SekatError, match="estimand='att'"):
        finding_hops(HOPS.loc[HOPS["estimand"] != "att"])
    # rows are found by what they estimate, whatever they are called
    assert finding_hops(HOPS.assign(term="x")) == text


def test_finding_days_by_hand():
    text = finding_days(DAYS, tau_days=30)
    assert "first 30 days" in text
    assert "0.85 fewer days unresolved (95% interval 0.50 to 1.18 fewer)" in text
    assert "4.7 fewer days unresolved" in text


def test_finding_worth_by_hand():
    text = finding_worth(IMPACT, share=0.3, currency="IDR")
    assert "If 30% of the requests" in text
    assert "about 1,121 requests a year" in text
    assert "about 192 hand-offs (95% interval 120 to 265)" in text
    assert "IDR 144.2 million a year" in text
    assert "98% of it in citizens' time" in text  # 141.6 of 144.2 million
    assert "IDR 144,2 juta" in finding_worth(IMPACT, "id", share=0.3)


def test_finding_uneven_sorts_groups_by_their_adjusted_intervals():
    text = finding_uneven(GROUPS)
    assert "clear for Roads (0.22 fewer) and Civil registry (0.50 more)" in text
    assert "For Health the data cannot distinguish it from zero" in text
    assert "comparing 3 groups" in text
    none = finding_uneven(GROUPS.iloc[[1]])
    assert "No group shows a change" in none


def test_finding_rollout_shows_robust_and_naive():
    text = finding_rollout(ROLLOUT)
    assert "12 districts" in text
    assert "cannot rule out no change" in text
    assert "gives 0.00:" in text  # no negative zero


def test_limitations_name_what_the_data_cannot_say():
    titles = [p.split("**")[1] for p in limitations({"hops_observed": True}, synthetic=True)]
    assert titles == [
        "Self-selection.",
        "Unmeasured confounding.",
        "Who the findings are about.",
        "Hand-offs the log does not record.",
        "Synthetic data.",
    ]
    assert "no hand-offs" in limitations({"hops_observed": False})[-1]
    assert all("**" in p for p in limitations({}, "id"))


def test_policy_brief_states_only_the_findings_the_results_hold():
    everything = pd.concat([HOPS, DAYS, GROUPS, ROLLOUT], ignore_index=True)
    full = policy_brief(
        results=everything, impact=IMPACT, report={"hops_observed": True}, share=0.3
    )
    for heading in (
        "**Hand-offs.**",
        "**Where reform is uneven",
        "**Opening a social-media",
        "**Time to resolution.**",
        "**What it is worth.**",
    ):
        assert heading in full
    assert full.index("## What we found") < full.index("## What the data cannot say")
    time_only = policy_brief(results=DAYS, impact=None, report={"hops_observed": False}, share=0.3)
    assert "**Time to resolution.**" in time_only
    for heading in ("**Hand-offs.**", "**Where reform is uneven", "**What it is worth.**"):
        assert heading not in time_only
    indonesian = policy_brief(results=everything, impact=IMPACT, report={}, lang="id", share=0.3)
    assert "## Temuan" in indonesian and "selang 95%" in indonesian


# --- the HTML export -------------------------------------------------------------------------


def _png() -> str:
    buffer = io.BytesIO()
    fig = Figure(figsize=(1, 1))
    fig.subplots().plot([0, 1], [0, 1])
    fig.savefig(buffer, format="png", dpi=20)
    return base64.b64encode(buffer.getvalue()).decode()


def _executed_brief(folder: Path) -> Path:
    cells = [
        nbformat.v4.new_markdown_cell("# A brief\n\nPlain words."),
        nbformat.v4.new_code_cell("secret_code = 42"),
        nbformat.v4.new_code_cell(
            "show()",
            outputs=[
                nbformat.v4.new_output(
                    "display_data", data={"image/png": _png(), "text/plain": "<Figure>"}
                ),
            ],
        ),
        nbformat.v4.new_code_cell(
            "# NBVAL_CHECK_OUTPUT\nprint(1)",
            outputs=[nbformat.v4.new_output("stream", name="stdout", text="checked 0.17\n")],
            metadata={"tags": [REMOVE_TAG]},
        ),
    ]
    path = folder / "07_policy_brief.ipynb"
    nbformat.write(nbformat.v4.new_notebook(cells=cells), path)
    return path


def test_export_html_has_no_code_embeds_images_and_drops_removed_cells(tmp_path):
    out = export_html(_executed_brief(tmp_path), tmp_path / "site" / "policy_brief.html")
    html = out.read_text(encoding="utf-8")
    assert "<title>A brief</title>" in html
    assert "Plain words." in html
    assert "secret_code" not in html
    assert "checked 0.17" not in html
    assert "data:image/png;base64," in html
    assert not list((tmp_path / "site").glob("*.tmp"))


def test_export_html_user_errors(tmp_path):
    with pytest.raises(SekatError, match="not found"):
        export_html(tmp_path / "absent.ipynb", tmp_path / "b.html")
    bad = tmp_path / "bad.ipynb"
    bad.write_text("not json")
    with pytest.raises(SekatError, match="not a notebook"):
        export_html(bad, tmp_path / "b.html")
    with pytest.raises(SystemExit, match="sekat: error"):
        main([str(tmp_path / "absent.ipynb"), "--out", str(tmp_path / "b.html")])


def test_reproduce_sends_the_brief_to_its_output_dir(tmp_path):
    notebook = tmp_path / "notebooks" / "07_policy_brief.ipynb"
    notebook.parent.mkdir()
    cell = nbformat.v4.new_code_cell('output_dir = "../figures"\nshare = 0.3\nname = f"x"')
    cell.metadata["tags"] = ["parameters"]
    nbformat.write(nbformat.v4.new_notebook(cells=[cell]), notebook)
    assert parameter_defaults(notebook) == {"output_dir": "../figures", "share": 0.3}
    assert brief_target(notebook, {}) == notebook.parent / "../figures/policy_brief.html"
    assert brief_target(notebook, {"output_dir": "../figures/city"}) == (
        notebook.parent / "../figures/city/policy_brief.html"
    )
    other = tmp_path / "notebooks" / "03_hops.ipynb"
    other.write_text(json.dumps({"cells": []}))
    assert brief_target(other, {}) is None


def test_export_html_takes_the_title_from_a_shown_heading_not_a_removed_one(tmp_path):
    hidden = nbformat.v4.new_markdown_cell("# 7. For students")
    hidden.metadata["tags"] = [REMOVE_TAG]
    shown = nbformat.v4.new_code_cell(
        "display(Markdown(...))",
        outputs=[
            nbformat.v4.new_output(
                "display_data", data={"text/markdown": "# Ringkasan kebijakan\n\nTeks."}
            )
        ],
    )
    path = tmp_path / "brief.ipynb"
    nbformat.write(nbformat.v4.new_notebook(cells=[hidden, shown]), path)
    html = export_html(path, tmp_path / "brief.html").read_text(encoding="utf-8")
    assert "<title>Ringkasan kebijakan</title>" in html
    assert "For students" not in html
    assert (tmp_path / "brief.html").stat().st_mode & 0o777 == 0o644
