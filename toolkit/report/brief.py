"""The policy brief: findings in plain words from tidy result tables, and its export to HTML.

Each ``finding_*`` function turns rows of the headline result table
(:func:`toolkit.estimate.headline_analysis`, found by their descriptors) or of a scenario
(:func:`toolkit.estimate.scenario_impact`) into one paragraph a policymaker can read, in English or Bahasa Indonesia, always with its uncertainty: a change
whose 95% interval includes zero is reported as one the data cannot distinguish from none.
:func:`limitations` says what the data cannot say. :func:`policy_brief` assembles the
Markdown of notebook 07, and :func:`export_html` writes the executed notebook as one
self-contained HTML page without code (``figures/policy_brief.html``).

No PDF is written: nbconvert's PDF exporter needs a LaTeX installation and its WebPDF
exporter a headless Chromium (playwright), and neither is a dependency of the project.

Run ``python -m toolkit.report.brief build/notebooks/07_policy_brief.ipynb --out
figures/policy_brief.html`` to export an executed brief by hand; ``toolkit.reproduce`` does it
after running notebook 07.
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from toolkit import schema
from toolkit.errors import SekatError
from toolkit.io.writers import write_text
from toolkit.report.words import (
    check_lang,
    estimand_label,
    format_compact,
    format_number,
    has_text,
    template,
    text,
)
from toolkit.results import select, select_one

#: Where the brief goes, relative to the figures folder.
BRIEF_HTML = "policy_brief.html"
#: Cells with this tag are left out of the HTML page entirely.
REMOVE_TAG = "remove_cell"


def _w(key: str, lang: str) -> str:
    """A word or phrase of the brief, its fields (if any) left for the caller to fill."""
    return template("brief.words", key, lang)


def prose(key: str, lang: str = "en", **values: object) -> str:
    """A fixed passage of the brief (title, introduction, section texts) in ``lang``.

    Parameters
    ----------
    key : {"title", "introduction", "evidence", "where", "worth", "method"}
        The passage.
    lang : {"en", "id"}
        Language.
    **values
        Values of the passage's fields (``min_cell`` for "method").

    Returns
    -------
    str
        Markdown; the title comes as a level-one heading.

    Examples
    --------
    >>> prose("title", "id")
    '# Apakah pengaduan lewat media sosial menembus sekat-sekat birokrasi?'
    >>> "fewer than 10 requests" in prose("method", min_cell=10)
    True
    """
    check_lang(lang)
    if not has_text("brief.prose", key):
        raise SekatError(f"unknown passage {key!r} of the brief")
    passage = text("brief.prose", key, lang, **values)
    return f"# {passage}" if key == "title" else passage


def _num(x: float, lang: str, decimals: int = 2) -> str:
    x = round(float(x), decimals)
    return format_number(0.0 if x == 0 else x, lang, decimals=decimals)


def describe_change(
    estimate: float,
    ci_low: float,
    ci_high: float,
    lang: str = "en",
    *,
    unit: str = "",
    less: str = "fewer",
    more: str = "more",
    decimals: int = 2,
) -> str:
    """A signed effect in words, with its 95% interval, saying so when it may be zero.

    Parameters
    ----------
    estimate, ci_low, ci_high : float
        The effect and its interval (negative = fewer / sooner).
    lang : {"en", "id"}
        Language.
    unit : str
        What changes, in ``lang`` ("hand-offs per request"); placed as the language
        orders it (English: "0.17 fewer hand-offs", Indonesian: "0,17 perpindahan lebih
        sedikit").
    less, more : str
        Keys of the words for a negative and a positive change ("fewer"/"more").
    decimals : int
        Decimals of the numbers.

    Returns
    -------
    str

    Examples
    --------
    >>> describe_change(-0.17, -0.23, -0.11, unit="hand-offs")
    '0.17 fewer hand-offs (95% interval 0.11 to 0.23 fewer)'
    >>> describe_change(-0.1, -0.26, 0.05)
    '0.10 fewer, but the 95% interval runs from 0.26 fewer to 0.05 more, so the data cannot rule out no change'
    >>> describe_change(0.2, 0.1, 0.3, "id", unit="hari")
    '0,20 hari lebih banyak (selang 95% 0,10 sampai 0,30 lebih banyak)'

    Notes
    -----
    The interval decides the wording: entirely below zero, entirely above zero, or
    across zero (then both ends are named and the sentence says that no change is possible).
    """
    check_lang(lang)
    w = {k: _w(k, lang) for k in ("interval", "to", "pattern", "but_from", "no_change")}
    less_w, more_w = _w(less, lang), _w(more, lang)
    if not np.isfinite([estimate, ci_low, ci_high]).all():
        raise SekatError("an effect to describe needs an estimate and a finite interval")

    def phrase(value: float, direction: str) -> str:
        words = w["pattern"].format(n=_num(value, lang, decimals), dir=direction, unit=unit)
        return " ".join(words.split())

    if ci_high < 0:
        return (
            f"{phrase(-estimate, less_w)} ({w['interval']} {_num(-ci_high, lang, decimals)} "
            f"{w['to']} {_num(-ci_low, lang, decimals)} {less_w})"
        )
    if ci_low > 0:
        return (
            f"{phrase(estimate, more_w)} ({w['interval']} {_num(ci_low, lang, decimals)} "
            f"{w['to']} {_num(ci_high, lang, decimals)} {more_w})"
        )
    head = phrase(abs(estimate), less_w if estimate < 0 else more_w)
    tail = w["but_from"].format(
        interval=w["interval"],
        low=_num(-ci_low, lang, decimals),
        less=less_w,
        high=_num(ci_high, lang, decimals),
        more=more_w,
        no_change=w["no_change"],
    )
    return f"{head}, {tail}"


def finding_hops(results: pd.DataFrame, lang: str = "en") -> str:
    """The hand-off finding: the adjusted effect on social-media requests beside the raw one.

    Parameters
    ----------
    results : pandas.DataFrame
        A result table with the AIPW ATT of hops and the naive difference (the headline
        table has both).
    lang : {"en", "id"}
        Language.

    Returns
    -------
    str
        One Markdown paragraph.

    Examples
    --------
    >>> from toolkit.results import result_frame
    >>> hops = result_frame([
    ...     {"term": "difference_hops", "estimate": -1.07, "ci_low": -1.13, "ci_high": -1.02,
    ...      "method": "naive", "estimand": "difference", "outcome": "hops"},
    ...     {"term": "att_hops", "estimate": -0.17, "ci_low": -0.23, "ci_high": -0.11,
    ...      "method": "AIPW", "estimand": "att", "outcome": "hops", "method_key": "aipw"}])
    >>> hops["contrast"] = "social vs not_social"
    >>> print(finding_hops(hops).split(". ")[0])
    **Hand-offs.** Compared with similar requests (same topic, district and month of intake) that arrived through other channels, requests that arrived through social media made 0.17 fewer hand-offs per request (95% interval 0.11 to 0.23 fewer)
    """
    check_lang(lang)
    hops = {
        schema.OUTCOME: schema.HOPS_OUTCOME,
        schema.CONTRAST: schema.SOCIAL_CONTRAST,
        schema.GROUP: None,
    }
    att = select_one(results, estimand="att", method_key="aipw", **hops)
    naive = select_one(results, estimand="difference", **hops)
    return text(
        "brief.findings",
        "hops",
        lang,
        change=describe_change(
            att["estimate"], att["ci_low"], att["ci_high"], lang, unit=_w("hops_unit", lang)
        ),
        naive=_num(abs(naive["estimate"]), lang),
        naive_dir=_w("fewer" if naive["estimate"] < 0 else "more", lang),
    )


def finding_days(results: pd.DataFrame, lang: str = "en", tau_days: float = 30.0) -> str:
    """The time finding: days unresolved within the first ``tau_days``, adjusted and raw.

    Parameters
    ----------
    results : pandas.DataFrame
        A result table with the weighted ATT and the naive difference of the restricted mean
        (the headline table has both).
    lang : {"en", "id"}
        Language.
    tau_days : float
        The horizon the differences were computed at.

    Returns
    -------
    str

    Examples
    --------
    >>> from toolkit.results import result_frame
    >>> days = result_frame([
    ...     {"term": "difference_rmst_days", "estimate": -4.7, "ci_low": -4.9, "ci_high": -4.4,
    ...      "method": "naive", "estimand": "difference", "outcome": "rmst_days",
    ...      "scale": "difference"},
    ...     {"term": "att_rmst_days", "estimate": -0.85, "ci_low": -1.2, "ci_high": -0.5,
    ...      "method": "IPW", "estimand": "att", "outcome": "rmst_days", "scale": "difference"}])
    >>> days["contrast"] = "social vs not_social"
    >>> "0.85 fewer days unresolved" in finding_days(days)
    True
    """
    check_lang(lang)
    days = {
        schema.OUTCOME: schema.RMST_OUTCOME,
        schema.SCALE: "difference",
        schema.CONTRAST: schema.SOCIAL_CONTRAST,
        schema.GROUP: None,
    }
    att = select_one(results, estimand="att", **days)
    naive = select_one(results, estimand="difference", **days)
    return text(
        "brief.findings",
        "days",
        lang,
        tau=format_number(tau_days, lang, decimals=0),
        change=describe_change(
            att["estimate"], att["ci_low"], att["ci_high"], lang, unit=_w("days_unit", lang)
        ),
        naive=" ".join(
            _w("pattern", lang)
            .format(
                n=_num(abs(naive["estimate"]), lang, 1),
                dir=_w("fewer" if naive["estimate"] < 0 else "more", lang),
                unit=_w("days_unit", lang),
            )
            .split()
        ),
    )


def finding_worth(
    impact: pd.DataFrame, lang: str = "en", *, share: float, currency: str = "IDR"
) -> str:
    """What a scenario is worth, in words, each quantity with its interval.

    Parameters
    ----------
    impact : pandas.DataFrame
        The result of :func:`toolkit.estimate.impact.scenario_impact` (per year).
    lang : {"en", "id"}
        Language.
    share : float
        The scenario's share of walk-in and letter intake moved.
    currency : str
        Label of the money rows.

    Returns
    -------
    str

    Examples
    --------
    >>> rows = ["requests_moved", "handoffs_saved", "staff_hours_saved",
    ...         "citizen_days_saved", "citizen_time_value", "total_value"]
    >>> impact = pd.DataFrame({"term": rows,
    ...     "estimate": [1000, 190, 64, 940, 1.4e8, 1.45e8],
    ...     "ci_low": [1000, 120, 40, 550, 0.8e8, 0.85e8],
    ...     "ci_high": [1000, 265, 88, 1330, 2.0e8, 2.0e8]})
    >>> "IDR 145 million a year" in finding_worth(impact, share=0.3)
    True
    """
    check_lang(lang)
    get = impact.set_index(impact["term"].astype("str"))

    def whole(term: str) -> str:
        return format_number(round(float(get.loc[term, "estimate"])), lang, decimals=0)

    def interval(term: str, money: bool = False) -> str:
        low, high = float(get.loc[term, "ci_low"]), float(get.loc[term, "ci_high"])
        fmt = (
            (lambda x: format_compact(x, lang))
            if money
            else (lambda x: format_number(round(x), lang, decimals=0))
        )
        return f"{_w('interval', lang)} {fmt(low)} {_w('to', lang)} {fmt(high)}"

    total = float(get.loc["total_value", "estimate"])
    citizen = float(get.loc["citizen_time_value", "estimate"])
    citizen_share = citizen / total if total else float("nan")
    return text(
        "brief.findings",
        "worth",
        lang,
        share=f"{format_number(share * 100, lang, decimals=0)}%",
        moved=whole("requests_moved"),
        handoffs=whole("handoffs_saved"),
        handoffs_ci=interval("handoffs_saved"),
        staff_hours=whole("staff_hours_saved"),
        days=whole("citizen_days_saved"),
        days_ci=interval("citizen_days_saved"),
        currency=currency,
        total=format_compact(total, lang),
        total_ci=interval("total_value", money=True),
        citizen_share=f"{format_number(citizen_share * 100, lang, decimals=0)}%",
    )


def _join(items: Sequence[str], lang: str) -> str:
    items = list(items)
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + f" {_w('and', lang)} " + items[-1]


def finding_uneven(by_group: pd.DataFrame, lang: str = "en", *, what: str = "topic") -> str:
    """Where the effect on hand-offs is clear and where it is not, by subgroup.

    Parameters
    ----------
    by_group : pandas.DataFrame
        Subgroup rows of a result table (:func:`toolkit.estimate.effects_by_group`, with
        ``group_value`` and simultaneous intervals).
    lang : {"en", "id"}
        Language.
    what : str
        What the groups are, in words of ``lang`` ("topic", "district", "topik", ...).

    Returns
    -------
    str

    Examples
    --------
    >>> from toolkit.results import result_frame
    >>> groups = result_frame([{"term": f"att_hops[category={c}]", "estimate": e,
    ...     "ci_low": lo, "ci_high": hi, "method": "AIPW", "estimand": "att",
    ...     "outcome": "hops", "group": "category", "group_value": c}
    ...     for c, e, lo, hi in (("roads", -0.22, -0.42, -0.02), ("health", 0.14, -0.21, 0.49))])
    >>> print(finding_uneven(groups))
    **Where reform is uneven (topic).** The saving in hand-offs is clear for Roads (0.22 fewer). For Health the data cannot distinguish it from zero. Intervals are adjusted for comparing 2 groups at once.
    """
    check_lang(lang)
    clear, unclear = [], []
    for row in by_group.to_dict("records"):
        name = estimand_label(row, lang)
        if row["ci_high"] < 0:
            clear.append(f"{name} ({_num(-row['estimate'], lang)} {_w('fewer', lang)})")
        elif row["ci_low"] > 0:
            clear.append(f"{name} ({_num(row['estimate'], lang)} {_w('more', lang)})")
        else:
            unclear.append(name)
    clear_text = (
        text("brief.findings", "uneven_clear", lang, groups=_join(clear, lang))
        if clear
        else text("brief.findings", "uneven_none_clear", lang)
    )
    unclear_text = (
        text("brief.findings", "uneven_unclear", lang, groups=_join(unclear, lang))
        if unclear and clear
        else ""
    )
    return text(
        "brief.findings",
        "uneven",
        lang,
        what=what,
        clear=clear_text,
        unclear=unclear_text,
        m=len(by_group),
    )


def finding_rollout(results: pd.DataFrame, lang: str = "en", outcome: str = "hops") -> str:
    """What opening a desk did to hand-offs: robust event study, naive TWFE beside it.

    Parameters
    ----------
    results : pandas.DataFrame
        A result table with the rollout rows (:func:`toolkit.estimate.rollout_event_study`).
    lang : {"en", "id"}
        Language.
    outcome : str
        The outcome (``hops``).

    Returns
    -------
    str

    Examples
    --------
    >>> from toolkit.results import result_frame
    >>> summary = result_frame([{"term": "att_rollout_hops", "estimate": e, "ci_low": lo,
    ...     "ci_high": hi, "n": n, "method": m, "estimand": "att", "outcome": "hops",
    ...     "contrast": "desk open vs not yet open", "method_key": key}
    ...     for e, lo, hi, n, m, key in ((-0.1, -0.26, 0.05, 12, "CS", "callaway_santanna"),
    ...                                  (0.0, -0.13, 0.13, 288, "TWFE", "twfe"))])
    >>> "cannot rule out no change" in finding_rollout(summary)
    True
    """
    check_lang(lang)
    rollout = {
        schema.OUTCOME: outcome,
        schema.CONTRAST: schema.DESK_CONTRAST,
        schema.ESTIMAND: "att",
        schema.GROUP: None,
        schema.EVENT_TIME: None,
    }
    robust = select_one(results, method_key="callaway_santanna", **rollout)
    naive = select_one(results, method_key="twfe", **rollout)
    return text(
        "brief.findings",
        "rollout",
        lang,
        change=describe_change(
            robust["estimate"],
            robust["ci_low"],
            robust["ci_high"],
            lang,
            unit=_w("hops_unit", lang),
        ),
        units=int(robust["n"]),
        naive=_num(naive["estimate"], lang),
    )


def limitations(
    report: Mapping[str, object], lang: str = "en", *, synthetic: bool = False
) -> list[str]:
    """What the data cannot say, as Markdown paragraphs.

    Parameters
    ----------
    report : mapping
        The validation report of the prepared folder (``hops_observed`` is read).
    lang : {"en", "id"}
        Language.
    synthetic : bool
        Whether the data are the synthetic sample (adds a warning not to read them as a city's).

    Returns
    -------
    list of str
        Self-selection, unmeasured confounding, who the findings are about, hand-offs the log
        does not record (or, for a log without hops, that it can say nothing about them) and,
        for synthetic data, that warning.

    Examples
    --------
    >>> [p.split("**")[1] for p in limitations({"hops_observed": False})]
    ['Self-selection.', 'Unmeasured confounding.', 'Who the findings are about.', 'Logs that record no hand-offs.']
    """
    check_lang(lang)
    keys = ["self_selection", "confounding", "overlap"]
    keys.append("hops_recorded" if report.get("hops_observed", True) else "no_hops")
    if synthetic:
        keys.append("synthetic")
    return [text("brief.limits", k, lang) for k in keys]


def policy_brief(
    *,
    results: pd.DataFrame,
    impact: pd.DataFrame | None,
    report: Mapping[str, object],
    share: float,
    currency: str = "IDR",
    tau_days: float = 30.0,
    synthetic: bool = False,
    lang: str = "en",
) -> str:
    """The findings and the limits of the policy brief, as Markdown.

    Parameters
    ----------
    results : pandas.DataFrame
        The headline result table (:func:`toolkit.estimate.headline_analysis`): each
        finding appears when the rows it rests on are there.
    impact : pandas.DataFrame or None
        :func:`toolkit.estimate.scenario_impact` of the scenario (None: no worth paragraph).
    report : mapping
        The validation report.
    share, currency, tau_days
        The scenario's share, the money label and the RMST horizon.
    synthetic : bool
        Whether the data are synthetic.
    lang : {"en", "id"}
        Language.

    Returns
    -------
    str
        Markdown: a "what we found" section and a "what the data cannot say" section.

    Examples
    --------
    >>> from toolkit.results import result_frame
    >>> table = result_frame([
    ...     {"term": "difference_rmst_days", "estimate": -4.0, "ci_low": -4.5,
    ...      "ci_high": -3.5, "method": "naive", "estimand": "difference",
    ...      "outcome": "rmst_days", "scale": "difference"},
    ...     {"term": "att_rmst_days", "estimate": -1.0, "ci_low": -1.5, "ci_high": -0.5,
    ...      "method": "IPW", "estimand": "att", "outcome": "rmst_days", "scale": "difference"}])
    >>> table["contrast"] = "social vs not_social"
    >>> text = policy_brief(results=table, impact=None, report={"hops_observed": False},
    ...                     share=0.3)
    >>> text.splitlines()[0], "Hand-offs." in text
    ('## What we found', False)
    """
    check_lang(lang)
    found = []
    hops = select(results, outcome=schema.HOPS_OUTCOME, contrast=schema.SOCIAL_CONTRAST)
    if not select(hops, estimand="att", method_key="aipw", group=None).empty:
        found.append(finding_hops(results, lang))
    days = select(
        results, outcome=schema.RMST_OUTCOME, estimand="att", contrast=schema.SOCIAL_CONTRAST
    )
    if not days.empty:
        found.append(finding_days(results, lang, tau_days))
    if impact is not None:
        found.append(finding_worth(impact, lang, share=share, currency=currency))
    by_topic = select(hops, group=schema.CATEGORY)
    if not by_topic.empty:
        found.append(finding_uneven(by_topic, lang, what=text("brief.words", "topic", lang)))
    rollout = select(results, contrast=schema.DESK_CONTRAST, outcome=schema.HOPS_OUTCOME)
    if not rollout.empty:
        found.append(finding_rollout(results, lang))
    parts = [f"## {text('brief.headings', 'findings', lang)}", ""]
    for paragraph in found:
        parts += [paragraph, ""]
    parts += [f"## {text('brief.headings', 'limits', lang)}", ""]
    for paragraph in limitations(report, lang, synthetic=synthetic):
        parts += [f"- {paragraph}"]
    return "\n".join(parts) + "\n"


def export_html(
    notebook: str | os.PathLike[str], out: str | os.PathLike[str], *, title: str | None = None
) -> Path:
    """Write an executed notebook as one self-contained HTML page without code.

    Parameters
    ----------
    notebook : path-like
        An executed notebook (e.g. ``build/notebooks/07_policy_brief.ipynb``).
    out : path-like
        The HTML file to write (atomically: a temporary file, then a rename).
    title : str, optional
        The page title; default the notebook's first heading.

    Returns
    -------
    pathlib.Path
        The written file.

    Examples
    --------
    >>> import nbformat, tempfile, pathlib
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> hidden = nbformat.v4.new_markdown_cell("hidden words")
    >>> hidden.metadata["tags"] = [REMOVE_TAG]
    >>> nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell("# Brief"),
    ...                                      nbformat.v4.new_code_cell("secret = 1"), hidden])
    >>> nbformat.write(nb, folder / "brief.ipynb")
    >>> html = export_html(folder / "brief.ipynb", folder / "brief.html").read_text()
    >>> "secret" in html, "hidden words" in html, "<title>Brief</title>" in html
    (False, False, True)

    Notes
    -----
    Input cells and prompts are left out (nbconvert's ``exclude_input``), and cells tagged
    ``remove_cell`` with their outputs (:data:`REMOVE_TAG`); images in outputs
    are embedded as base64 data, and images referenced from Markdown are embedded too
    (``embed_images``), so the page needs nothing beside it.
    """
    import nbformat
    from nbconvert import HTMLExporter

    source = Path(notebook)
    if not source.is_file():
        raise SekatError("executed notebook not found", file=str(source))
    try:
        nb = nbformat.read(source, as_version=4)
    except Exception as error:  # nbformat raises several unrelated types
        raise SekatError(f"not a notebook ({error})", file=str(source)) from error
    if title is None:
        texts = []
        for cell in nb.cells:
            if REMOVE_TAG in cell.get("metadata", {}).get("tags", []):
                continue
            if cell.cell_type == "markdown":
                texts.append(cell.source)
            for output in cell.get("outputs", []):
                texts.append(output.get("data", {}).get("text/markdown", ""))
        title = next(
            (
                line.lstrip("# ").strip()
                for text in texts
                for line in str(text).splitlines()
                if line.startswith("# ")
            ),
            source.stem,
        )
    nb.metadata["title"] = title
    from traitlets.config import Config

    config = Config()
    # Cells tagged "remove_cell" (parameters, set-up, checked numbers) leave no trace.
    config.TagRemovePreprocessor.enabled = True
    config.TagRemovePreprocessor.remove_cell_tags = {REMOVE_TAG}
    exporter = HTMLExporter(
        config=config,
        exclude_input=True,
        exclude_input_prompt=True,
        exclude_output_prompt=True,
        embed_images=True,
    )
    body, _resources = exporter.from_notebook_node(
        nb, resources={"metadata": {"path": str(source.parent)}}
    )
    return write_text(out, body)


def main(argv: list[str] | None = None) -> None:
    """``python -m toolkit.report.brief NOTEBOOK --out FILE``: export an executed brief to HTML."""
    parser = argparse.ArgumentParser(
        prog="python -m toolkit.report.brief",
        description="Export an executed policy brief to HTML.",
    )
    parser.add_argument("notebook", type=Path)
    parser.add_argument("--out", type=Path, default=Path("figures") / BRIEF_HTML)
    args = parser.parse_args(argv)
    try:
        written = export_html(args.notebook, args.out)
    except SekatError as error:
        raise SystemExit(f"sekat: error: {error}") from None
    print(written)


__all__ = [
    "BRIEF_HTML",
    "REMOVE_TAG",
    "describe_change",
    "export_html",
    "finding_days",
    "finding_hops",
    "finding_rollout",
    "finding_uneven",
    "finding_worth",
    "limitations",
    "policy_brief",
    "prose",
]


if __name__ == "__main__":
    main()
