"""The policy brief: sentences generated from result rows with their conditions, and its page."""

from __future__ import annotations

import re
from types import SimpleNamespace

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from toolkit.errors import SekatError
from toolkit.estimate import UnitCosts
from toolkit.estimate.models import Contrast
from toolkit.report.brief import (
    BriefContext,
    brief_file,
    brief_markdown,
    build_brief,
    describe_change,
    finding_by_topic,
    finding_days,
    finding_hops,
    finding_rollout,
    finding_sensitivity,
    finding_warnings,
    finding_worth,
    render_html,
    skipped_parts,
    write_briefs,
)
from toolkit.results import result_frame

SOCIAL = {"contrast": "social vs not_social"}
HOSTILE = "<img src=x onerror=alert(document.domain)>"

#: English words that must never reach a reader of the Indonesian brief.
ENGLISH = (
    "the", "and", "of", "with", "from", "for", "than", "fewer", "more", "less", "request",
    "requests", "hand-off", "hand-offs", "days", "day", "interval", "confidence", "other",
    "not", "all", "shown", "suppressed", "million", "billion", "year", "walk-in", "letter",
    "phone", "naive", "synthetic", "planted", "truth", "district", "topic", "channel",
    "before", "after", "effect", "estimate", "IDR", "social", "saved", "worth", "cost",
)


def _rows(*rows: dict) -> pd.DataFrame:
    return result_frame([{"method": "m", "std_error": 0.1, "n": 100, **row} for row in rows])


def hops_rows(naive: float, att: float = -0.17, low: float = -0.23, high: float = -0.11):
    return _rows(
        {"term": "d", "estimate": naive, "ci_low": naive - 0.05, "ci_high": naive + 0.05,
         "estimand": "difference", "outcome": "hops", "scale": "difference",
         "method_key": "naive", **SOCIAL},
        {"term": "a", "estimate": att, "ci_low": low, "ci_high": high, "estimand": "att",
         "outcome": "hops", "scale": "difference", "method_key": "aipw", **SOCIAL},
    )


DAYS = _rows(
    {"term": "d", "estimate": -4.69, "ci_low": -4.95, "ci_high": -4.35, "estimand": "difference",
     "outcome": "rmst_days", "scale": "difference", "method_key": "naive", **SOCIAL},
    {"term": "a", "estimate": -0.85, "ci_low": -1.18, "ci_high": -0.50, "estimand": "att",
     "outcome": "rmst_days", "scale": "difference", "method_key": "ipw_km", **SOCIAL},
)
GROUPS = _rows(
    *(
        {"term": f"g{c}", "estimate": e, "ci_low": lo, "ci_high": hi, "estimand": "att",
         "outcome": "hops", "scale": "difference", "group": "category", "group_value": c,
         "method_key": "aipw", **SOCIAL}
        for c, e, lo, hi in (
            ("roads", -0.22, -0.42, -0.02),
            ("health", 0.14, -0.21, 0.49),
            ("civil_registry", 0.5, 0.1, 0.9),
        )
    )
)
ROLLOUT = _rows(
    *(
        {"term": "r", "estimate": e, "ci_low": lo, "ci_high": hi, "n": n, "estimand": "att",
         "outcome": "hops", "scale": "difference", "contrast": "desk open vs not yet open",
         "method_key": key}
        for e, lo, hi, n, key in ((-0.30, -0.45, -0.15, 12, "callaway_santanna"),
                                  (-0.05, -0.13, 0.03, 288, "twfe"))
    )
)
TRUTH = pd.DataFrame(
    {"estimand": ["att_hops", "att_rmst_diff_days"], "group": ["overall", "overall"],
     "value": [-0.2, -1.37]}
)


def impact(handoffs=(192.0, 120.0, 265.0), total=(1.442e8, 0.853e8, 2.02e8)):
    terms = ["requests_moved", "handoffs_saved", "staff_hours_saved", "citizen_days_saved",
             "citizen_time_value", "total_value"]
    values = [(1121.0,) * 3, handoffs, (64.0, 40.0, 88.0), (944.0, 551.0, 1327.0),
              (1.4e8, 0.8e8, 2e8), total]
    return pd.DataFrame({"term": terms, "estimate": [v[0] for v in values],
                         "ci_low": [v[1] for v in values], "ci_high": [v[2] for v in values]})


# --- one effect in words --------------------------------------------------------------------


def test_describe_change_three_regimes_by_hand():
    assert describe_change(-0.17, -0.23, -0.11) == (
        "0.17 fewer hand-offs per request (95% interval: 0.11 to 0.23 fewer)"
    )
    assert describe_change(0.3, 0.1, 0.5, unit="days") == (
        "0.30 more days unresolved (95% interval: 0.10 to 0.50 more)"
    )
    crossing = describe_change(-0.10, -0.26, 0.05)
    assert crossing.startswith("0.10 fewer hand-offs per request, but the 95% interval runs")
    assert crossing.endswith("from 0.26 fewer to 0.05 more, so the data cannot rule out no change")


def test_indonesian_puts_the_direction_after_the_noun_and_the_unit_last():
    assert describe_change(-0.18, -0.24, -0.12, "id") == (
        "0,18 pelimpahan lebih sedikit per permohonan "
        "(selang kepercayaan 95%: 0,12 sampai 0,24 lebih sedikit)"
    )


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
    admits = ("cannot rule out" in text) or ("belum dapat memastikan" in text)
    assert admits == (low <= 0 <= high)
    assert "-" not in text.replace("hand-offs", "")  # sizes with direction words, no minus


# --- findings follow the numbers -------------------------------------------------------------


@pytest.mark.parametrize(
    ("naive", "expected"),
    [
        (-1.07, "is larger"),  # the raw gap overstates
        (-0.05, "is smaller"),  # outside [-0.23, -0.11], nearer zero: understates
        (0.40, "points the other way"),
        (-0.20, "lies within the interval"),
    ],
)
def test_the_raw_difference_is_compared_with_the_adjusted_effect_as_it_is(naive, expected):
    text = finding_hops(BriefContext(hops_rows(naive))).text
    assert expected in text
    assert "0.17 fewer hand-offs per request (95% interval: 0.11 to 0.23 fewer)" in text


def test_findings_are_found_by_descriptors_and_absent_rows_give_none():
    assert finding_hops(BriefContext(hops_rows(-1.0).assign(term="x"))) is not None
    assert finding_hops(BriefContext(DAYS)) is None
    assert finding_days(BriefContext(hops_rows(-1.0))) is None
    assert finding_worth(BriefContext(DAYS)) is None
    assert finding_rollout(BriefContext(DAYS)) is None
    assert finding_by_topic(BriefContext(GROUPS.iloc[:1])) is None  # one group: no comparison
    assert finding_warnings(BriefContext(DAYS)) is None
    assert finding_sensitivity(BriefContext(DAYS)) is None


def test_the_planted_truth_is_said_to_be_covered_or_missed():
    covered = finding_hops(BriefContext(hops_rows(-1.0), truth=TRUTH)).text
    assert "the planted effect is 0.20 fewer hand-offs per request, inside the 95%" in covered
    missed = finding_days(BriefContext(DAYS, truth=TRUTH)).text
    assert "planted effect is 1.37 fewer days unresolved, outside the 95% interval" in missed
    other = hops_rows(-1.0).assign(contrast="social vs digital")
    ctx = BriefContext(other, contrast=Contrast("social", "digital"), truth=TRUTH)
    assert "planted no value for this comparison" in finding_hops(ctx).text


def test_sentences_follow_the_contrast():
    rows = hops_rows(-1.0).assign(contrast="twitter vs phone")
    ctx = BriefContext(rows, contrast=Contrast("twitter", "phone"))
    text = finding_hops(ctx).text
    assert "similar requests by phone" in text and "requests through Twitter/X made" in text
    assert "social" not in text.lower()
    # the default contrast's rows are not read as another contrast's
    assert finding_hops(BriefContext(hops_rows(-1.0), contrast=Contrast("twitter", "phone"))) is None


def test_worth_states_costs_direction_and_rupiah():
    costs = UnitCosts()
    text = finding_worth(BriefContext(DAYS, impact=impact(), costs=costs, share=0.3)).text
    assert "If 30% of the requests" in text and "about 1,121 requests a year" in text
    assert "about 192 hand-offs a year would be saved (95% interval: 120 to 265)" in text
    assert "20 staff minutes per hand-off, IDR 40,000 per staff hour" in text
    assert "worth about IDR 144.2 million a year" in text
    indonesian = finding_worth(BriefContext(DAYS, "id", impact=impact(), costs=costs)).text
    assert "Rp 40.000 per jam kerja pegawai" in indonesian and "Rp 144,2 juta" in indonesian
    unclear = finding_worth(
        BriefContext(DAYS, impact=impact(handoffs=(20.0, -30.0, 70.0), total=(-1.39e6, -4e6, 1e6)),
                     costs=costs)
    ).text
    assert "change in hand-offs cannot be told apart from none" in unclear
    assert "cannot tell whether it saves money (95% interval: −IDR 4 million to IDR 1 million" in unclear
    costly = finding_worth(
        BriefContext(DAYS, impact=impact(total=(-1.39e9, -2e9, -0.5e9)), costs=costs)
    ).text
    assert "it would cost about IDR 1.39 billion a year" in costly


def test_groups_name_clear_unclear_the_count_and_the_ones_too_small():
    cases = pd.DataFrame({"category": ["roads", "health", "civil_registry", "water"]})
    text = finding_by_topic(BriefContext(GROUPS, cases=cases)).text
    assert "clear for Roads (0.22 less) and Civil registry (0.50 more)" in text
    assert "For Health the data cannot tell the change apart from none" in text
    assert "comparing 3 topics at once" in text
    assert "fewer than 10 requests in one of the two arms: Clean water" in text


def test_rollout_names_the_naive_estimate_and_whether_it_agrees():
    text = finding_rollout(BriefContext(ROLLOUT)).text
    assert "robust event study of 12 districts" in text
    assert "gives 0.05 fewer hand-offs per request, outside that interval" in text


def test_warnings_and_sensitivity_are_stated_when_the_analysis_has_them():
    ctx = BriefContext(DAYS, warnings={"ate_hops": "not_a_known_code"})
    assert finding_warnings(ctx) is None  # a code without words is never guessed at
    e_value = _rows({"term": "e", "estimate": 1.8, "ci_low": 1.8, "ci_high": 1.8,
                     "estimand": "att", "outcome": "hops", "method_key": "e_value", **SOCIAL})
    assert "risk ratio of 1.80" in finding_sensitivity(BriefContext(e_value)).text


def test_skipped_parts_say_what_and_why():
    parts = skipped_parts({"hops": "hops_unobserved", "by_category": "hops_unobserved",
                           "rollout": "no_rollout"}, "en")
    assert parts[0].title == "Hand-offs and hand-offs by topic."
    assert "only the agency that finally held" in parts[0].text
    assert parts[1].title == "The rollout of desks."


# --- the page --------------------------------------------------------------------------------


def _headline(table, skipped=None, control="not_social", treatment="social"):
    from toolkit.estimate.headline import HeadlineSettings

    settings = HeadlineSettings(control=control, treatment=treatment, n_boot=20, seed=3)
    return SimpleNamespace(table=table, skipped=skipped or {}, settings=settings, warnings=None)


EVERYTHING = pd.concat([hops_rows(-1.07), DAYS, GROUPS, ROLLOUT], ignore_index=True)
CASES = pd.DataFrame(
    {
        "channel": ["twitter", "phone", "web"] * 10,
        "region": ["Coblong", HOSTILE, "Sukajadi"] * 10,
        "category": ["roads", "health", HOSTILE] * 10,
        "start": pd.date_range("2024-01-01", periods=30, freq="D", tz="UTC"),
    }
)


@pytest.fixture(scope="module")
def pages():
    hostile = EVERYTHING.copy()
    hostile.loc[hostile["group_value"] == "health", "group_value"] = HOSTILE
    result = _headline(hostile, skipped={"rollout": "no_rollout"})
    options = {"cases": CASES, "report": {"inputs": {HOSTILE + ".csv": 1}}, "truth": TRUTH,
               "impact": impact(), "costs": UnitCosts(), "date": "2026-01-01"}
    return {lang: render_html(build_brief(result, lang=lang, **options)) for lang in ("en", "id")}


def test_page_is_self_contained_escaped_and_in_its_language(pages):
    for lang, page in pages.items():
        assert page.startswith("<!doctype html>")
        assert f'<html lang="{lang}">' in page
        assert "<script" not in page.lower() and "onerror=" not in page.replace("onerror=alert", "")
        assert HOSTILE not in page
        assert "&lt;img src=x onerror=alert(document.domain)&gt;" in page
        # no address outside the page: only data: URIs, fragment links and the CSP's words
        urls = re.findall(r'(?:src|href)="([^"]*)"', page)
        assert urls and all(u.startswith(("data:", "#")) for u in urls)
        assert "http://" not in page and "https://" not in page and "//cdn" not in page
        assert "default-src 'none'" in page
        assert 'name="viewport"' in page and "@media print" in page
        assert "¶" not in page


def test_facts_box_states_source_period_size_costs_version_and_date(pages):
    en = pages["en"]
    facts = en[en.index('class="facts"') : en.index('id="findings"')]
    for expected in ("synthetic: an invented city", "2024-01-01 to 2024-01-30", "Requests",
                     "<dd>30</dd>", "Districts", "IDR 40,000 per staff hour", "sekat 0.",
                     "2026-01-01", "Social media (10 requests) with Not social media (20"):
        assert expected in facts, expected
    assert "Rp 40.000" in pages["id"]
    assert "Synthetic data: every number on this page" in en


def test_the_indonesian_page_leaks_no_english_word(pages):
    page = pages["id"]
    visible = re.sub(r"<style>.*?</style>", " ", page, flags=re.S)
    visible = re.sub(r'src="data:[^"]*"', " ", visible)
    visible = re.sub(r"<[^>]+>", " ", visible)
    visible = re.sub(r"&lt;img src=x onerror=alert\(document.domain\)&gt;", " ", visible)
    words = {w.lower() for w in re.findall(r"[A-Za-z][A-Za-z-]*", visible)}
    leaked = sorted(w for w in ENGLISH if w.lower() in words)
    assert leaked == []


def test_every_indonesian_sentence_of_words_toml_is_free_of_english():
    from toolkit.report.words import _WORDS  # noqa: PLC2701 - the file itself is under test

    found = []

    def walk(node, path):
        if isinstance(node, dict) and set(node) >= {"en", "id"}:
            sentence = re.sub(r"\{[^}]*\}", " ", node["id"])  # fields are filled in later
            words = {w.lower() for w in re.findall(r"[A-Za-z][A-Za-z-]*", sentence)}
            found.extend(f"{path}: {w}" for w in ENGLISH if w.lower() in words)
            return
        if isinstance(node, dict):
            for key, value in node.items():
                walk(value, f"{path}.{key}")

    walk(_WORDS, "words")
    assert found == []


def test_a_log_without_hops_gets_a_brief_about_time_only_and_says_why():
    result = _headline(DAYS, skipped={"hops": "hops_unobserved", "by_category": "hops_unobserved"})
    brief = build_brief(result, report={"hops_observed": False}, figures=True, date="2026-01-01")
    assert [f.key for f in brief.findings] == ["days"]
    assert [f.name for f in brief.figures] == ["07_days"]  # no empty hand-off figure
    assert "hops_unobserved" in [s.key for s in brief.skipped]
    assert "A log that records no hand-offs." in [f.title for f in brief.limits]
    assert "synthetic" not in render_html(brief).lower()


def test_figures_carry_alt_text_from_the_plotted_values():
    brief = build_brief(_headline(EVERYTHING), truth=TRUTH, date="2026-01-01")
    hops = next(f for f in brief.figures if f.name == "07_hops")
    assert "−1.07" in hops.alt and "−0.17" in hops.alt and "−0.20" in hops.alt
    assert hops.src.startswith("data:image/svg+xml;base64,")
    assert b"<title" in hops.svg[:4000] and b"<desc" in hops.svg[:8000]
    topics = next(f for f in brief.figures if f.name == "07_by_topic")
    assert "No group was suppressed." in topics.note or "Not shown" in topics.note


def test_write_briefs_puts_both_languages_side_by_side(tmp_path):
    written = write_briefs(_headline(DAYS), tmp_path, date="2026-01-01", figures=False)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["policy_brief_en.html",
                                                          "policy_brief_id.html"]
    assert written["id"].stat().st_mode & 0o777 == 0o644
    assert brief_file("ID") == "policy_brief_id.html"
    assert "Lama penyelesaian." in brief_markdown(build_brief(_headline(DAYS), lang="ID",
                                                              figures=False))
