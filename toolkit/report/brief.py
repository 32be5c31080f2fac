"""The policy brief: every sentence generated from result rows, on a page of its own.

A brief is built from one headline analysis (:func:`toolkit.analysis.analyse`): its result
rows (found by their descriptors), what it skipped and why, its warnings and sensitivity rows
when the analysis has them, the scenario of :func:`toolkit.estimate.scenario_impact`, and the
facts of the log (source, period, requests, districts, version, date, unit costs).

Each finding is one small function of a :class:`BriefContext` listed in :data:`FINDINGS`: it
returns a :class:`Finding` (a title and sentences, all from ``words.toml``) or None when the
rows it rests on are absent. Every sentence states its conditions: the direction, size and
95% interval of an effect (an interval across zero is said to be one the data cannot tell
from no change), how the raw comparison relates to the adjusted one, whether the planted
truth of a synthetic log lies inside the interval, and what was skipped and why. A new
finding is a function added to :data:`FINDINGS` and its words in ``[brief.findings]``.

:func:`build_brief` assembles a :class:`Brief`; :func:`render_html` writes it through the
project's own template (``brief.html.j2``: Jinja2 with escaping on for every value, inline
CSS, figures as SVG data URIs, no script and no address outside the page, the page's
``lang``, alt text from the plotted values, readable at phone width, printable), and
:func:`write_briefs` writes ``policy_brief_en.html`` and ``policy_brief_id.html`` side by
side. :func:`brief_markdown` is the same brief for a notebook.
"""

from __future__ import annotations

import base64
import datetime as dt
import os
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from toolkit import schema
from toolkit.errors import SekatError
from toolkit.estimate.models import Contrast
from toolkit.io.writers import write_text
from toolkit.report.words import (
    LANGS,
    check_lang,
    contrast_words,
    escape_markdown,
    estimand_label,
    format_money,
    format_number,
    has_text,
    label,
    skip_text,
    template,
    text,
)
from toolkit.results import select

#: File name of the brief in one language, in the figures folder.
BRIEF_HTML = "policy_brief_{lang}.html"
#: Method keys of sensitivity rows (E-values, bounds), stated when the analysis has them.
SENSITIVITY_METHOD_KEYS = ("e_value", "sensitivity_bound", "omitted_variable_bound")
#: Width of the brief's figures, in inches: readable at a phone's 390 px, sharp on a desk.
BRIEF_FIGURE_WIDTH = 4.8


def brief_file(lang: str) -> str:
    """The brief's file name in ``lang``: ``policy_brief_id.html``.

    Examples
    --------
    >>> brief_file("ID")
    'policy_brief_id.html'
    """
    return BRIEF_HTML.format(lang=check_lang(lang))


# --- numbers and effects in words --------------------------------------------------------------


def _w(key: str, lang: str) -> str:
    return template("brief.words", key, lang)


def _num(x: float, lang: str, decimals: int = 2) -> str:
    x = round(float(x), decimals)
    return format_number(0.0 if x == 0 else x, lang, decimals=decimals)


def _unit(unit: str, part: str, lang: str) -> str:
    return template(f"brief.units.{unit}", part, lang)


def magnitude(value: float, lang: str, *, unit: str = "hops", decimals: int = 2) -> str:
    """A signed quantity as a size and a direction word: "0.17 fewer hand-offs per request".

    Examples
    --------
    >>> magnitude(-0.17, "id")
    '0,17 pelimpahan lebih sedikit per permohonan'
    >>> magnitude(2.5, "en", unit="days", decimals=1), magnitude(-0.001, "en")
    ('2.5 more days unresolved', '0.00 hand-offs per request')
    """
    lang = check_lang(lang)
    size = _num(abs(value), lang, decimals)
    if round(float(value), decimals) == 0:
        direction = ""  # a size that rounds to zero has no direction
    else:
        direction = _unit(unit, "less" if value < 0 else "more", lang)
    words = _unit(unit, "pattern", lang).format(n=size, dir=direction)
    return " ".join(words.split())


def describe_change(
    estimate: float,
    ci_low: float,
    ci_high: float,
    lang: str = "en",
    *,
    unit: str = "hops",
    decimals: int = 2,
) -> str:
    """A signed effect in words, with its 95% interval, saying so when it may be zero.

    Parameters
    ----------
    estimate, ci_low, ci_high : float
        The effect and its interval (negative = fewer / sooner).
    lang : {"en", "id"}
        Language.
    unit : {"hops", "days", "plain"}
        What changes: an entry of ``[brief.units]`` (its pattern and direction words).
    decimals : int
        Decimals of the numbers.

    Returns
    -------
    str

    Examples
    --------
    >>> describe_change(-0.17, -0.23, -0.11)
    '0.17 fewer hand-offs per request (95% interval: 0.11 to 0.23 fewer)'
    >>> describe_change(-0.1, -0.26, 0.05, unit="plain")
    '0.10 less, but the 95% interval runs from 0.26 less to 0.05 more, so the data cannot rule out no change'
    >>> describe_change(-0.17, -0.23, -0.11, "id")
    '0,17 pelimpahan lebih sedikit per permohonan (selang kepercayaan 95%: 0,11 sampai 0,23 lebih sedikit)'

    Notes
    -----
    The interval decides the wording: entirely below zero, entirely above zero, or across
    zero (then both ends are named and the sentence says that no change is possible).
    """
    lang = check_lang(lang)
    if not np.isfinite([estimate, ci_low, ci_high]).all():
        raise SekatError("an effect to describe needs an estimate and a finite interval")
    less, more = _unit(unit, "less", lang), _unit(unit, "more", lang)
    head = magnitude(estimate, lang, unit=unit, decimals=decimals)
    if ci_high < 0 or ci_low > 0:
        low, high = sorted((abs(ci_low), abs(ci_high)))
        return text(
            "brief.words",
            "interval_one_side",
            lang,
            head=head,
            low=_num(low, lang, decimals),
            high=_num(high, lang, decimals),
            dir=less if ci_high < 0 else more,
        )
    return text(
        "brief.words",
        "interval_across",
        lang,
        head=head,
        low=_num(-ci_low, lang, decimals),
        less=less,
        high=_num(ci_high, lang, decimals),
        more=more,
    )


def _join(items: Sequence[str], lang: str, word: str = "and") -> str:
    items = list(items)
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + f" {_w(word, lang)} " + items[-1]


# --- what a brief is built from -----------------------------------------------------------------


@dataclass(frozen=True)
class Finding:
    """One paragraph of the brief: a short title and sentences, in one language."""

    key: str
    title: str
    text: str


@dataclass
class BriefContext:
    """Everything a finding may read (rows by their descriptors, never by their terms).

    Attributes
    ----------
    results : pandas.DataFrame
        The headline result table.
    lang : {"en", "id"}
        Language of the sentences.
    contrast : Contrast
        The arms compared (labels and sentences follow it).
    truth : pandas.DataFrame or None
        The planted truth of a synthetic log (None for a real log).
    tau_days : float
        Horizon of the days-unresolved estimates.
    impact : pandas.DataFrame or None
        The scenario (:func:`toolkit.estimate.scenario_impact`), with ``share`` and ``costs``.
    cases : pandas.DataFrame or None
        The case table (for groups that were too small to estimate).
    skipped : mapping
        Part -> reason code of :attr:`toolkit.estimate.headline.Headline.skipped`.
    warnings : object
        Reason codes of the analysis's warnings (``Headline.warnings``), if it has any.
    min_cell : int
        The smallest group shown.
    standard : str
        The service standard in words (``"resolved within 5 working days"``), if measured.
    """

    results: pd.DataFrame
    lang: str = "en"
    contrast: Contrast = field(default_factory=Contrast)
    truth: pd.DataFrame | None = None
    tau_days: float = 30.0
    impact: pd.DataFrame | None = None
    share: float = 0.3
    costs: object = None
    cases: pd.DataFrame | None = None
    skipped: Mapping[str, str] = field(default_factory=dict)
    warnings: object = None
    min_cell: int = schema.MIN_CELL_COUNT
    standard: str = ""

    def __post_init__(self) -> None:
        self.lang = check_lang(self.lang)

    @property
    def words(self) -> dict[str, str]:
        """The contrast's fields (:func:`contrast_words`)."""
        return contrast_words(self.contrast, self.lang)

    def rows(self, **criteria: object) -> pd.DataFrame:
        """Rows of the results whose descriptors match."""
        return select(self.results, **criteria)

    def one(self, **criteria: object) -> pd.Series | None:
        """The single matching row, or None when there is none."""
        rows = self.rows(**criteria)
        return None if len(rows) != 1 else rows.iloc[0]

    def channel_row(self, **criteria: object) -> pd.Series | None:
        """The overall row of the contrast that matches ``criteria``."""
        return self.one(contrast=self.contrast.descriptor, group=None, **criteria)


def _compare_naive(
    adjusted: pd.Series, naive: pd.Series | None, ctx: BriefContext, unit: str
) -> str:
    """How the raw difference relates to the adjusted effect, as its own sentence."""
    if naive is None or not np.isfinite(naive["estimate"]):
        return ""
    raw = magnitude(naive["estimate"], ctx.lang, unit=unit, decimals=2)
    a, n = float(adjusted["estimate"]), float(naive["estimate"])
    if adjusted["ci_low"] <= n <= adjusted["ci_high"]:
        key = "naive_close"
    elif np.sign(a) != np.sign(n) and abs(a) > 0:
        key = "naive_opposite"
    elif abs(n) > abs(a):
        key = "naive_larger"
    else:
        key = "naive_smaller"
    return text("brief.findings", key, ctx.lang, raw=raw)


def _truth_sentence(row: pd.Series, ctx: BriefContext, unit: str) -> str:
    """Whether the planted value of a synthetic log lies inside the row's interval."""
    if ctx.truth is None:
        return ""
    from toolkit.estimate.headline import compare_to_truth

    compared = compare_to_truth(pd.DataFrame([row]), ctx.truth).iloc[0]
    if not np.isfinite(compared["truth"]):
        return text("brief.findings", "truth_none", ctx.lang)
    key = "truth_covered" if bool(compared["covered"]) else "truth_missed"
    return text(
        "brief.findings",
        key,
        ctx.lang,
        truth=magnitude(compared["truth"], ctx.lang, unit=unit),
    )


def _sentences(*parts: str) -> str:
    return " ".join(p.strip() for p in parts if p and p.strip())


def finding_hops(ctx: BriefContext) -> Finding | None:
    """Hand-offs: the adjusted effect on the treated arm, the raw difference, the truth.

    Examples
    --------
    >>> from toolkit.results import result_frame
    >>> rows = result_frame([
    ...     {"term": "d", "estimate": -1.07, "ci_low": -1.13, "ci_high": -1.02, "method": "m",
    ...      "estimand": "difference", "outcome": "hops", "contrast": "social vs not_social"},
    ...     {"term": "a", "estimate": -0.17, "ci_low": -0.23, "ci_high": -0.11, "method": "m",
    ...      "estimand": "att", "outcome": "hops", "method_key": "aipw",
    ...      "contrast": "social vs not_social"}])
    >>> print(finding_hops(BriefContext(rows)).text)  # doctest: +NORMALIZE_WHITESPACE
    Compared with similar requests through other channels (same topic, district and month of
    intake), requests through social media made 0.17 fewer hand-offs per request (95%
    interval: 0.11 to 0.23 fewer). The raw difference, 1.07 fewer hand-offs per request, is
    larger: people bring different requests to different channels, and the raw gap mixes
    that with the effect of the channel.
    """
    att = ctx.channel_row(outcome=schema.HOPS_OUTCOME, estimand="att", method_key="aipw")
    if att is None:
        return None
    naive = ctx.channel_row(outcome=schema.HOPS_OUTCOME, estimand="difference")
    main = text(
        "brief.findings",
        "hops",
        ctx.lang,
        change=describe_change(att["estimate"], att["ci_low"], att["ci_high"], ctx.lang),
        **ctx.words,
    )
    body = _sentences(
        main, _compare_naive(att, naive, ctx, "hops"), _truth_sentence(att, ctx, "hops")
    )
    return Finding("hops", text("brief.titles", "hops", ctx.lang), body)


def finding_days(ctx: BriefContext) -> Finding | None:
    """Time to resolution: days unresolved within tau, adjusted and raw, and the truth.

    Examples
    --------
    >>> from toolkit.results import result_frame
    >>> rows = result_frame([{"term": "a", "estimate": -0.85, "ci_low": -1.2, "ci_high": -0.5,
    ...     "method": "m", "estimand": "att", "outcome": "rmst_days", "scale": "difference",
    ...     "contrast": "social vs not_social"}])
    >>> "0.85 fewer days unresolved (95% interval: 0.50 to 1.20 fewer)" in finding_days(
    ...     BriefContext(rows)).text
    True
    """
    criteria = {"outcome": schema.RMST_OUTCOME, "scale": "difference"}
    att = ctx.channel_row(estimand="att", **criteria)
    if att is None:
        return None
    naive = ctx.channel_row(estimand="difference", **criteria)
    main = text(
        "brief.findings",
        "days",
        ctx.lang,
        tau=format_number(ctx.tau_days, ctx.lang, decimals=0),
        change=describe_change(
            att["estimate"], att["ci_low"], att["ci_high"], ctx.lang, unit="days"
        ),
        **ctx.words,
    )
    body = _sentences(
        main, _compare_naive(att, naive, ctx, "days"), _truth_sentence(att, ctx, "days")
    )
    return Finding("days", text("brief.titles", "days", ctx.lang), body)


#: Below this many requests in the treated arm, the brief says how few they are.
FEW_TREATED = 200


def _channel_list(rows: pd.DataFrame, ctx: BriefContext, decimals: int, unit: str) -> str:
    items = []
    for row in rows.to_dict("records"):
        if not np.isfinite(row["estimate"]) or row["n"] < ctx.min_cell:
            continue
        value = format_number(row["estimate"], ctx.lang, decimals=decimals)
        value = f"{value}%" if unit == "percent" else f"{value} {_w(unit, ctx.lang)}"
        detail = [text("brief.findings", "requests_n", ctx.lang, n=_count(row["n"], ctx.lang))]
        if np.isfinite(row["ci_low"]) and np.isfinite(row["ci_high"]):
            low = format_number(row["ci_low"], ctx.lang, decimals=decimals)
            high = format_number(row["ci_high"], ctx.lang, decimals=decimals)
            detail.insert(0, f"{low} {_w('to', ctx.lang)} {high}")
        name = label(str(row[schema.GROUP_VALUE]), ctx.lang)
        items.append(f"{name} {value} ({'; '.join(detail)})")
    return "; ".join(items)


def _count(n: float, lang: str) -> str:
    return format_number(float(n), lang, decimals=0)


def finding_channels(ctx: BriefContext) -> Finding | None:
    """Time by intake channel: Kaplan-Meier medians in days, and the share that met the standard.

    Examples
    --------
    >>> from toolkit.results import result_frame
    >>> rows = result_frame([{"term": "m", "estimate": 3.86, "ci_low": 1.72, "ci_high": 7.8,
    ...     "n": 61, "method": "KM", "estimand": "median", "outcome": "days_to_resolution",
    ...     "group": "channel", "group_value": "twitter"}])
    >>> print(finding_channels(BriefContext(rows)).text)
    Median time to resolution by intake channel (Kaplan-Meier, 95% intervals): Twitter/X 3.9 days (1.7 to 7.8; 61 requests).
    """
    parts = []
    hops = ctx.rows(estimand="mean", outcome=schema.HOPS_OUTCOME, group=schema.CHANNEL)
    listed_hops = _channel_list(hops, ctx, 2, "handoffs")
    if listed_hops:
        parts.append(text("brief.findings", "channel_hops", ctx.lang, means=listed_hops))
    medians = ctx.rows(estimand="median", outcome=schema.DAYS_OUTCOME, group=schema.CHANNEL)
    listed = _channel_list(medians, ctx, 1, "days")
    if listed:
        parts.append(text("brief.findings", "channel_medians", ctx.lang, medians=listed))
    on_time = ctx.rows(outcome="on_time", group=schema.CHANNEL)
    shares = on_time.assign(
        estimate=on_time["estimate"] * 100,
        ci_low=on_time["ci_low"] * 100,
        ci_high=on_time["ci_high"] * 100,
    )
    listed_shares = _channel_list(shares, ctx, 0, "percent")
    if listed_shares:
        standard = ctx.standard or text("brief.findings", "standard_unnamed", ctx.lang)
        parts.append(
            text(
                "brief.findings",
                "channel_on_time",
                ctx.lang,
                standard=standard,
                shares=listed_shares,
            )
        )
    if not parts:
        return None
    return Finding("channels", text("brief.titles", "channels", ctx.lang), _sentences(*parts))


def _method_text(ctx: BriefContext, *, min_cell: int, tau: float) -> str:
    """How this was done: one sentence per part of the analysis that ran, never one that did not.

    Examples
    --------
    >>> from toolkit.results import result_frame
    >>> ctx = BriefContext(result_frame([]), skipped={"hops": "hops_unobserved",
    ...     "rollout": "no_rollout"})
    >>> "AIPW" in _method_text(ctx, min_cell=10, tau=30.0)
    False
    """
    ran = {part: part not in ctx.skipped for part in ("hops", "time", "by_channel", "rollout")}
    keys = ["method_checked"]
    keys += ["method_paths"] if ran["hops"] else []
    keys += ["method_time"] if ran["time"] else []
    timed = not ctx.rows(outcome=schema.DAYS_OUTCOME, group=schema.CHANNEL).empty
    keys += ["method_channels"] if ran["by_channel"] and timed else []
    keys += ["method_rollout"] if ran["rollout"] else []
    keys.append("method_floor")
    fields = {"min_cell": min_cell, "tau": format_number(tau, ctx.lang, decimals=0), **ctx.words}
    return _sentences(*(text("brief.page", key, ctx.lang, **fields) for key in keys))


def _standard_words(results: object, lang: str) -> str:
    """The service standard the analysis measured, in words ("" when it measured none)."""
    diagnostics = getattr(results, "diagnostics", None) or {}
    standard = diagnostics.get("service_standard")
    if standard is None or standard.empty:
        return ""
    first = standard.iloc[0]
    if first["standard"] == "target":
        return text("phrases", "standard_target", lang)
    return text("phrases", "standard_days", lang, days=int(first["working_days"]))


def finding_few_treated(ctx: BriefContext) -> Finding | None:
    """How few requests the treated arm holds, when it is small (fewer than FEW_TREATED).

    Examples
    --------
    >>> cases = pd.DataFrame({"channel": ["twitter"] * 61 + ["phone"] * 939})
    >>> print(finding_few_treated(BriefContext(pd.DataFrame(), cases=cases)).text)
    Only 61 of 1,000 requests (6.1%) were requests through social media. Every estimate about them rests on that few requests: read their intervals, not only the central values.
    """
    if ctx.cases is None or schema.CHANNEL not in ctx.cases.columns:
        return None
    from toolkit.estimate.models import comparison_cases, treatment_indicator

    try:
        compared = comparison_cases(ctx.cases, ctx.contrast)
    except SekatError:
        return None
    treated = int(treatment_indicator(compared).sum())
    if treated == 0 or treated >= FEW_TREATED:  # none at all: the skipped parts say so
        return None
    total = len(ctx.cases)
    share = format_number(100 * treated / total, ctx.lang, decimals=1) if total else "0"
    return Finding(
        "few_treated",
        text("brief.titles", "few_treated", ctx.lang),
        text(
            "brief.findings",
            "few_treated",
            ctx.lang,
            n=_count(treated, ctx.lang),
            total=_count(total, ctx.lang),
            share=share,
            **ctx.words,
        ),
    )


def _impact_value(impact: pd.DataFrame, term: str) -> tuple[float, float, float] | None:
    rows = impact.loc[impact["term"].astype("str") == term]
    if rows.empty:
        return None
    row = rows.iloc[0]
    return float(row["estimate"]), float(row["ci_low"]), float(row["ci_high"])


def _saving(values: tuple[float, float, float], lang: str, kind: str, money: Callable) -> str:
    """A saving with its interval: saved, added, or not told apart from none."""
    est, low, high = values
    if low > 0:
        key = "saves"
    elif high < 0:
        key = "adds"
    else:
        key = "unclear"
    return text(
        "brief.worth",
        f"{kind}_{key}",
        lang,
        value=money(abs(est)),
        low=money(abs(low) if key != "unclear" else low),
        high=money(abs(high) if key != "unclear" else high),
        **({"low_signed": money(low), "high_signed": money(high)} if key == "unclear" else {}),
    )


def _cost_fields(ctx: BriefContext) -> dict[str, str]:
    """The unit costs and the scenario's share, written as a reader of ``ctx.lang`` expects."""
    lang, currency = ctx.lang, getattr(ctx.costs, "currency", "IDR")
    return {
        "minutes": format_number(ctx.costs.staff_minutes_per_handoff, lang, decimals=0),
        "wage": format_money(ctx.costs.wage_per_hour, currency, lang),
        "day": format_money(ctx.costs.citizen_day_value, currency, lang),
        "share": f"{format_number(ctx.share * 100, lang, decimals=0)}%",
    }


def finding_worth(ctx: BriefContext) -> Finding | None:
    """What the scenario is worth, each quantity with its interval and its direction."""
    if ctx.impact is None or ctx.costs is None:
        return None
    impact, lang = ctx.impact, ctx.lang
    moved = _impact_value(impact, "requests_moved")
    handoffs = _impact_value(impact, "handoffs_saved")
    days = _impact_value(impact, "citizen_days_saved")
    total = _impact_value(impact, "total_value")
    if None in (moved, handoffs, days, total):
        return None
    currency = getattr(ctx.costs, "currency", "IDR")

    def count(x: float) -> str:
        return format_number(round(x), lang, decimals=0)

    def money(x: float) -> str:
        return format_money(x, currency, lang, compact=True)

    body = _sentences(
        text(
            "brief.worth",
            "scenario",
            lang,
            share=f"{format_number(ctx.share * 100, lang, decimals=0)}%",
            moved=count(moved[0]),
            **ctx.words,
        ),
        _saving(handoffs, lang, "handoffs", count),
        _saving(days, lang, "days", count),
        text("brief.worth", "costs", lang, **_cost_fields(ctx)),
        _saving(total, lang, "money", money),
        text("brief.worth", "assumption", lang, **ctx.words),
    )
    return Finding("worth", text("brief.titles", "worth", lang), body)


def _group_finding(ctx: BriefContext, group: str) -> Finding | None:
    rows = ctx.rows(group=group, outcome=schema.HOPS_OUTCOME, contrast=ctx.contrast.descriptor)
    if len(rows) < 2:
        return None
    lang = ctx.lang
    clear, unclear = [], []
    for row in rows.sort_values("estimate", kind="stable").to_dict("records"):
        name = estimand_label(row, lang)
        if row["ci_high"] < 0 or row["ci_low"] > 0:
            clear.append(f"{name} ({magnitude(row['estimate'], lang, unit='plain')})")
        else:
            unclear.append(name)
    what = text("brief.words", f"groups_{group}", lang)
    parts = [
        text("brief.findings", "uneven_clear", lang, groups=_join(clear, lang))
        if clear
        else text("brief.findings", "uneven_none_clear", lang),
        text("brief.findings", "uneven_unclear", lang, groups=_join(unclear, lang))
        if unclear and clear
        else "",
        text("brief.findings", "uneven_adjusted", lang, m=len(rows), what=what),
    ]
    if ctx.cases is not None and group in ctx.cases.columns:
        estimated = set(rows[schema.GROUP_VALUE].astype(str))
        levels = sorted({str(v) for v in ctx.cases[group].dropna().unique()} - estimated)
        if levels:
            parts.append(
                text(
                    "brief.findings",
                    "uneven_too_small",
                    lang,
                    groups=_join([label(v, lang) for v in levels], lang),
                    min_cell=ctx.min_cell,
                )
            )
    return Finding(f"by_{group}", text("brief.titles", f"by_{group}", lang), _sentences(*parts))


def finding_by_topic(ctx: BriefContext) -> Finding | None:
    """Where the effect on hand-offs is clear and where not, topic by topic."""
    return _group_finding(ctx, schema.CATEGORY)


def finding_by_district(ctx: BriefContext) -> Finding | None:
    """The same, district by district."""
    return _group_finding(ctx, schema.REGION)


def finding_rollout(ctx: BriefContext) -> Finding | None:
    """What opening a desk did to hand-offs: robust event study, naive TWFE beside it.

    Examples
    --------
    >>> from toolkit.results import result_frame
    >>> rows = result_frame([{"term": "r", "estimate": e, "ci_low": lo, "ci_high": hi, "n": n,
    ...     "method": "m", "estimand": "att", "outcome": "hops", "method_key": key,
    ...     "contrast": "desk open vs not yet open"}
    ...     for e, lo, hi, n, key in ((-0.1, -0.26, 0.05, 12, "callaway_santanna"),
    ...                               (0.0, -0.13, 0.13, 288, "twfe"))])
    >>> "cannot rule out no change" in finding_rollout(BriefContext(rows)).text
    True
    """
    base = {
        "outcome": schema.HOPS_OUTCOME,
        "contrast": schema.DESK_CONTRAST,
        "estimand": "att",
        "group": None,
        "event_time": None,
    }
    robust = ctx.one(method_key="callaway_santanna", **base)
    if robust is None:
        return None
    lang = ctx.lang
    parts = [
        text(
            "brief.findings",
            "rollout",
            lang,
            change=describe_change(robust["estimate"], robust["ci_low"], robust["ci_high"], lang),
            units=int(robust["n"]),
        )
    ]
    naive = ctx.one(method_key="twfe", **base)
    if naive is not None:
        key = (
            "rollout_naive_close"
            if robust["ci_low"] <= naive["estimate"] <= robust["ci_high"]
            else "rollout_naive_apart"
        )
        parts.append(text("brief.findings", key, lang, naive=magnitude(naive["estimate"], lang)))
    parts.append(_truth_sentence(robust, ctx, "hops"))
    return Finding("rollout", text("brief.titles", "rollout", lang), _sentences(*parts))


def _codes(warnings: object) -> list[str]:
    """Reason codes from whatever shape ``Headline.warnings`` has (mapping, list, tuples)."""
    if warnings is None:
        return []
    if isinstance(warnings, Mapping):
        items: Iterable = warnings.values()
    elif isinstance(warnings, str):
        items = [warnings]
    else:
        items = warnings
    codes = []
    for item in items:
        if isinstance(item, str):
            codes.append(item)
        elif isinstance(item, Mapping) and "reason" in item:
            codes.append(str(item["reason"]))
        elif isinstance(item, Sequence) and item:
            codes.append(str(item[-1]))
    return list(dict.fromkeys(codes))


def finding_warnings(ctx: BriefContext) -> Finding | None:
    """The analysis's own warnings (overlap and the like), each in its sentence of words.toml."""
    sentences = [
        text("warnings", code, ctx.lang) if has_text("warnings", code) else ""
        for code in _codes(ctx.warnings)
    ]
    sentences = [s for s in sentences if s]
    if not sentences:
        return None
    return Finding("warnings", text("brief.titles", "warnings", ctx.lang), _sentences(*sentences))


def finding_sensitivity(ctx: BriefContext) -> Finding | None:
    """How strong an unmeasured factor would have to be to explain an effect away."""
    rows = ctx.rows(method_key=SENSITIVITY_METHOD_KEYS)
    if rows.empty:
        return None
    sentences = []
    for row in rows.to_dict("records"):
        if not np.isfinite(row["estimate"]):
            continue
        sentences.append(
            text(
                "brief.findings",
                f"sensitivity_{row[schema.METHOD_KEY]}",
                ctx.lang,
                what=estimand_label(row, ctx.lang, tau_days=ctx.tau_days),
                value=format_number(row["estimate"], ctx.lang, decimals=2),
            )
            if has_text("brief.findings", f"sensitivity_{row[schema.METHOD_KEY]}")
            else ""
        )
    body = _sentences(*sentences)
    if not body:
        return None
    return Finding("sensitivity", text("brief.titles", "sensitivity", ctx.lang), body)


#: The findings of a brief, in order: each a function of a BriefContext to a Finding or None.
FINDINGS: tuple[Callable[[BriefContext], Finding | None], ...] = (
    finding_few_treated,
    finding_hops,
    finding_days,
    finding_channels,
    finding_warnings,
    finding_sensitivity,
    finding_worth,
    finding_by_topic,
    finding_by_district,
    finding_rollout,
)


def findings(ctx: BriefContext) -> list[Finding]:
    """Every finding the results hold, in the order of :data:`FINDINGS`."""
    return [f for f in (finding(ctx) for finding in FINDINGS) if f is not None]


def skipped_parts(skipped: Mapping[str, str], lang: str, **values: object) -> list[Finding]:
    """What was not analysed and why: the parts sharing a reason, then the reason's sentence.

    Examples
    --------
    >>> [(f.title, f.text) for f in skipped_parts({"rollout": "no_rollout"}, "en")]
    [('The rollout of desks.', 'No desk opening dates were given, so the rollout of social-media desks is not studied.')]
    """
    lang = check_lang(lang)
    by_reason: dict[str, list[str]] = {}
    for part, reason in skipped.items():
        by_reason.setdefault(str(reason), []).append(str(part))
    out = []
    for reason, parts in by_reason.items():
        names = [text("brief.parts", p, lang) if has_text("brief.parts", p) else p for p in parts]
        title = _join(names, lang)
        out.append(
            Finding(reason, title[:1].upper() + title[1:] + ".", skip_text(reason, lang, **values))
        )
    return out


def limitations(ctx: BriefContext, report: Mapping[str, object], synthetic: bool) -> list[Finding]:
    """What the data cannot say: self-selection, confounding, whom it is about, the log.

    The caveats of an adjusted comparison are stated only when a comparison of the arms
    ran (hops or time); a log that supports only the per-channel description gets the
    caveat of a description instead.
    """
    compared = any(part not in ctx.skipped for part in ("hops", "time"))
    keys = ["self_selection", "confounding", "overlap"] if compared else ["descriptive_only"]
    keys.append("hops_recorded" if report.get("hops_observed", True) else "no_hops")
    if synthetic:
        keys.append("synthetic")
    return [
        Finding(
            k,
            text("brief.limit_titles", k, ctx.lang),
            text("brief.limits", k, ctx.lang, **ctx.words),
        )
        for k in keys
    ]


# --- the brief ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class BriefFigure:
    """A figure of the brief: an SVG data URI with its title, caption, alt text and what it omits."""

    name: str
    title: str
    src: str
    alt: str
    caption: str
    note: str
    width: int
    height: int
    svg: bytes = b""


@dataclass(frozen=True)
class Brief:
    """A brief in one language, ready for :func:`render_html` or :func:`brief_markdown`."""

    lang: str
    title: str
    kicker: str
    lede: str
    banner: str
    facts: list[tuple[str, str]]
    findings: list[Finding]
    figures: list[BriefFigure]
    skipped: list[Finding]
    limits: list[Finding]
    method: list[str]
    footer: str
    generator: str
    words: dict[str, str]


def _period(cases: pd.DataFrame | None, lang: str) -> str:
    if cases is None or schema.START not in cases.columns or cases.empty:
        return "–"
    start = pd.to_datetime(cases[schema.START], utc=True)
    first, last = start.min(), start.max()
    return f"{first:%Y-%m-%d} {_w('to', lang)} {last:%Y-%m-%d}"


def facts(
    ctx: BriefContext,
    *,
    report: Mapping[str, object],
    synthetic: bool,
    version: str,
    date: str,
    n_boot: int | None = None,
    seed: int | None = None,
) -> list[tuple[str, str]]:
    """The facts box: source, period, requests, districts, contrast, version, date, costs."""
    lang = ctx.lang
    cases = ctx.cases

    def fact(key: str, value: str) -> tuple[str, str]:
        return text("brief.facts", key, lang), value

    inputs = report.get("inputs") if isinstance(report.get("inputs"), Mapping) else {}
    source = ", ".join(sorted(str(k) for k in inputs)) or "–"
    kind = text("brief.facts", "synthetic_yes" if synthetic else "synthetic_no", lang)
    rows = [fact("source", f"{source} ({kind})"), fact("period", _period(cases, lang))]
    if cases is not None:
        n = format_number(len(cases), lang, decimals=0)
        rows.append(fact("requests", n))
        if schema.REGION in cases.columns:
            regions = cases[schema.REGION].dropna().nunique()
            rows.append(fact("districts", format_number(regions, lang, decimals=0)))
        if schema.CHANNEL in cases.columns:
            channels = cases[schema.CHANNEL].astype("object")
            arms = [
                format_number(int(channels.isin(c).sum()), lang, decimals=0)
                for c in (ctx.contrast.treatment_channels, ctx.contrast.control_channels)
            ]
            w = ctx.words
            rows.append(
                fact(
                    "compared",
                    text(
                        "brief.facts",
                        "compared_value",
                        lang,
                        treatment=w["treatment_label"],
                        control=w["control_label"],
                        n1=arms[0],
                        n0=arms[1],
                    ),
                )
            )
    if ctx.costs is not None and ctx.impact is not None:  # costs state the worth's assumptions
        rows.append(
            fact(
                "unit_costs",
                text("brief.facts", "unit_costs_value", lang, **_cost_fields(ctx)),
            )
        )
    settings = text(
        "brief.facts",
        "settings_value",
        lang,
        tau=format_number(ctx.tau_days, lang, decimals=0),
        min_cell=ctx.min_cell,
        n_boot="–" if n_boot is None else format_number(n_boot, lang, decimals=0),
        seed="–" if seed is None else str(seed),
    )
    rows += [fact("settings", settings), fact("version", version), fact("date", date)]
    return rows


def _brief_figures(ctx: BriefContext) -> list[BriefFigure]:
    """The brief's figures, each only when its rows are there (never an empty figure)."""
    from toolkit.report.display import describe_rows, plot_table
    from toolkit.report.export import inline_svg
    from toolkit.report.figures import figure_is_empty, forest_plot, impact_plot
    from toolkit.report.words import figure_text

    lang = ctx.lang
    contrast = ctx.contrast.descriptor
    truth = ctx.truth
    values = {"tau_days": ctx.tau_days, "truth": truth is not None, **ctx.words}
    plans = []
    hops = ctx.rows(
        outcome=schema.HOPS_OUTCOME, contrast=contrast, group=None, estimand=("difference", "att")
    )
    hops = select(hops, scale="difference")
    if not hops.empty:
        plans.append(("07_hops", hops, {}))
    days = ctx.rows(
        outcome=schema.RMST_OUTCOME,
        contrast=contrast,
        group=None,
        scale="difference",
        estimand=("difference", "att"),
    )
    if not days.empty:
        plans.append(("07_days", days, {}))
    channel_days = ctx.rows(estimand="median", outcome=schema.DAYS_OUTCOME, group=schema.CHANNEL)
    if len(channel_days.loc[channel_days["n"] >= ctx.min_cell]) >= 2:
        plans.append(("07_channel_days", channel_days, {"reference": None}))
    topics = ctx.rows(group=schema.CATEGORY, outcome=schema.HOPS_OUTCOME, contrast=contrast)
    if len(topics) >= 2:
        plans.append(("07_by_topic", topics, {"sort": True}))
    out = []
    for name, rows, options in plans:
        table = plot_table(rows, lang, truth, tau_days=ctx.tau_days)
        words = {k: figure_text(name, k, lang, **values) for k in ("title", "xlabel")}
        fig = forest_plot(
            table,
            lang=lang,
            threshold=ctx.min_cell,
            title="",
            xlabel=words["xlabel"],
            width=BRIEF_FIGURE_WIDTH,
            **options,
        )
        if figure_is_empty(fig):
            continue
        shown = table.loc[table["n"].fillna(ctx.min_cell) >= ctx.min_cell]  # as drawn
        alt = f"{figure_text(name, 'alt', lang, **values)} {describe_rows(shown, lang)}."
        out.append(
            _brief_figure(
                fig,
                name,
                words["title"],
                alt,
                figure_text(name, "caption", lang, **values),
                inline_svg,
            )
        )
    if ctx.impact is not None and ctx.costs is not None:
        terms = ["handoffs_saved", "staff_hours_saved", "citizen_days_saved", "total_value"]
        shown = ctx.impact.loc[ctx.impact["term"].astype("str").isin(terms)]
        if len(shown) == len(terms):
            shown = shown.set_index(shown["term"].astype("str")).loc[terms].reset_index(drop=True)
            currency = getattr(ctx.costs, "currency", "IDR")
            per_year = text("phrases", "per_year", lang)
            sign = format_money(0, currency, lang).split(" ")[0]
            units = {t: per_year for t in terms[:-1]} | {"total_value": f"{sign} {per_year}"}
            fig = impact_plot(
                shown,
                lang=lang,
                panels=True,
                unit=units,
                threshold=ctx.min_cell,
                title="",
                width=BRIEF_FIGURE_WIDTH,
            )
            share = {"share": ctx.share, "tau_days": ctx.tau_days, **ctx.words}
            alt = f"{figure_text('07_worth', 'alt', lang, **share)} {describe_rows(shown.assign(term=[label(t, lang) for t in terms]), lang, decimals=0, group_col=None)}."
            out.append(
                _brief_figure(
                    fig,
                    "07_worth",
                    figure_text("07_worth", "title", lang, **share),
                    alt,
                    figure_text("07_worth", "caption", lang, **share),
                    inline_svg,
                )
            )
    return out


def _brief_figure(fig, name: str, title: str, alt: str, caption: str, inline_svg) -> BriefFigure:
    from toolkit.report.export import figure_note

    svg = inline_svg(fig, title=title, alt=alt)
    width, height = fig.get_size_inches()
    return BriefFigure(
        name=name,
        title=title,
        src="data:image/svg+xml;base64," + base64.b64encode(svg).decode("ascii"),
        alt=" ".join(alt.split()),
        caption=" ".join(caption.split()),
        note=figure_note(fig, getattr(fig, "sekat_lang", "en")),
        width=round(width * 96),
        height=round(height * 96),
        svg=svg,
    )


def build_brief(
    results,
    *,
    lang: str = "en",
    cases: pd.DataFrame | None = None,
    report: Mapping[str, object] | None = None,
    truth: pd.DataFrame | None = None,
    impact: pd.DataFrame | None = None,
    share: float = 0.3,
    costs: object = None,
    min_cell: int = schema.MIN_CELL_COUNT,
    synthetic: bool | None = None,
    date: str | None = None,
    figures: bool = True,
) -> Brief:
    """The brief of one headline analysis, in ``lang``.

    Parameters
    ----------
    results : Headline or pandas.DataFrame
        :func:`toolkit.analysis.analyse`'s result (its table, settings, skipped parts and
        warnings are read), or a bare result table.
    lang : {"en", "id"}
        Language (any case).
    cases : pandas.DataFrame, optional
        The case table: the period, the numbers of requests and districts, and the groups too
        small to estimate.
    report : mapping, optional
        The validation report (its inputs name the source; ``hops_observed``).
    truth : pandas.DataFrame, optional
        The planted truth of a synthetic log: each estimate is checked against it.
    impact, share, costs
        The scenario, its share and its :class:`toolkit.estimate.UnitCosts`.
    min_cell : int
        The smallest group shown.
    synthetic : bool, optional
        Whether the log is synthetic; default whether a truth was given.
    date : str, optional
        The date printed on the brief (default: today, ISO 8601).
    figures : bool
        Draw the figures (off: words only, faster).

    Returns
    -------
    Brief

    Examples
    --------
    >>> from toolkit.results import result_frame
    >>> table = result_frame([{"term": "a", "estimate": -1.0, "ci_low": -1.5, "ci_high": -0.5,
    ...     "method": "m", "estimand": "att", "outcome": "rmst_days", "scale": "difference",
    ...     "contrast": "social vs not_social"}])
    >>> brief = build_brief(table, lang="id", figures=False, date="2026-01-01")
    >>> [f.key for f in brief.findings], brief.lang
    (['days'], 'id')
    """
    from toolkit.report.export import sekat_version

    lang = check_lang(lang)
    table = getattr(results, "table", results)
    settings = getattr(results, "settings", None)
    contrast = settings.contrast if settings is not None else Contrast()
    tau = float(getattr(settings, "tau_days", 30.0))
    report = dict(report or {})
    synthetic = truth is not None if synthetic is None else synthetic
    ctx = BriefContext(
        results=table,
        lang=lang,
        contrast=contrast,
        truth=truth,
        tau_days=tau,
        impact=impact,
        share=share,
        costs=costs,
        cases=cases,
        skipped=dict(getattr(results, "skipped", {}) or {}),
        warnings=getattr(results, "warnings", None),
        min_cell=min_cell,
        standard=_standard_words(results, lang),
    )
    date = date or dt.date.today().isoformat()
    version = f"sekat {sekat_version()}"
    words = {
        k: text("brief.page", k, lang)
        for k in (
            "skip",
            "facts",
            "findings",
            "no_findings",
            "figures",
            "skipped",
            "limits",
            "method",
            "close",
            "zoom",
            "zoom_hint",
        )
    }
    return Brief(
        lang=lang,
        title=text("brief.page", "title", lang, **ctx.words),
        kicker=text("brief.page", "kicker", lang),
        lede=text("brief.page", "lede", lang, **ctx.words),
        banner=text("brief.page", "synthetic_banner", lang) if synthetic else "",
        facts=facts(
            ctx,
            report=report,
            synthetic=synthetic,
            version=version,
            date=date,
            n_boot=getattr(settings, "n_boot", None),
            seed=getattr(settings, "seed", None),
        ),
        findings=findings(ctx),
        figures=_brief_figures(ctx) if figures else [],
        skipped=skipped_parts(ctx.skipped, lang, min_requests=min_cell),
        limits=limitations(ctx, report, synthetic),
        method=[_method_text(ctx, min_cell=min_cell, tau=tau)],
        footer=text("brief.page", "footer", lang, version=version, date=date),
        generator=version,
        words=words,
    )


def _template():
    import jinja2

    environment = jinja2.Environment(
        loader=jinja2.PackageLoader("toolkit.report", ""),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
    )
    return environment.get_template("brief.html.j2")


def render_html(brief: Brief) -> str:
    """The brief as one self-contained HTML page (every value escaped by the template).

    Examples
    --------
    >>> from toolkit.results import result_frame
    >>> table = result_frame([{"term": "a", "estimate": -0.2, "ci_low": -0.3, "ci_high": -0.1,
    ...     "method": "m", "estimand": "att", "outcome": "hops", "method_key": "aipw",
    ...     "group": "category", "group_value": "<b>x</b>", "contrast": "social vs not_social"}])
    >>> page = render_html(build_brief(table, figures=False, date="2026-01-01"))
    >>> page.startswith("<!doctype html>"), '<html lang="en">' in page, "<script" in page
    (True, True, False)
    """
    return _template().render(brief=brief)


def brief_markdown(brief: Brief) -> str:
    """The brief as Markdown for a notebook (values escaped; figures are shown beside it)."""
    e = escape_markdown
    lines = [f"# {e(brief.title)}", "", f"*{e(brief.lede)}*", ""]
    if brief.banner:
        lines += [f"> **{e(brief.banner)}**", ""]
    lines += [f"**{e(brief.words['facts'])}**", ""]
    lines += [f"- **{e(term)}:** {e(value)}" for term, value in brief.facts] + [""]
    lines += [f"## {e(brief.words['findings'])}", ""]
    for finding in brief.findings:
        lines += [f"**{e(finding.title)}** {e(finding.text)}", ""]
    if brief.skipped:
        lines += [f"## {e(brief.words['skipped'])}", ""]
        lines += [f"- **{e(f.title)}** {e(f.text)}" for f in brief.skipped] + [""]
    lines += [f"## {e(brief.words['limits'])}", ""]
    lines += [f"- **{e(f.title)}** {e(f.text)}" for f in brief.limits] + [""]
    lines += [f"## {e(brief.words['method'])}", ""] + [e(p) for p in brief.method] + [""]
    return "\n".join(lines)


def write_brief(brief: Brief, out_dir: str | os.PathLike[str]) -> Path:
    """Write one brief as ``policy_brief_<lang>.html`` in ``out_dir`` (atomically, mode 0644)."""
    return write_text(Path(out_dir) / brief_file(brief.lang), render_html(brief))


def write_briefs(
    results,
    out_dir: str | os.PathLike[str],
    *,
    langs: Sequence[str] = LANGS,
    **options: object,
) -> dict[str, Path]:
    """Write the brief in every language: ``policy_brief_en.html``, ``policy_brief_id.html``.

    Parameters
    ----------
    results : Headline or pandas.DataFrame
        As for :func:`build_brief`.
    out_dir : path-like
        The figures folder.
    langs : sequence of str
        Languages to write.
    **options
        Passed to :func:`build_brief`.

    Returns
    -------
    dict of str to pathlib.Path
        The written page of each language (atomically written, mode 0644).
    """
    written = {}
    for lang in langs:
        brief = build_brief(results, lang=lang, **options)
        written[brief.lang] = write_brief(brief, out_dir)
    return written


__all__ = [
    "BRIEF_HTML",
    "FINDINGS",
    "Brief",
    "BriefContext",
    "BriefFigure",
    "Finding",
    "brief_file",
    "brief_markdown",
    "build_brief",
    "describe_change",
    "facts",
    "finding_by_district",
    "finding_by_topic",
    "finding_days",
    "finding_hops",
    "finding_rollout",
    "finding_sensitivity",
    "finding_warnings",
    "finding_worth",
    "findings",
    "limitations",
    "magnitude",
    "render_html",
    "write_brief",
    "skipped_parts",
    "write_briefs",
]
