"""What the notebooks show: parameter checks, readable result tables, alt text, figures.

A notebook in ``notebooks/`` is a narrative with thin code cells; whatever a second notebook
would copy lives in the package, and what is only about *showing* results lives here.
:func:`check_parameters` turns a mistyped papermill parameter into one clear line (each check
is the one its layer owns). :func:`plot_table` turns result rows into what a figure draws
(readable estimands and methods, the planted truth beside them), :func:`alt_text` puts the
drawn values into words, :func:`publish` exports a figure with the caption and alt text that
``words.toml`` holds for its name, and :func:`rounded` and :func:`check_lines` print tables
with the decimals a reader needs, the second stably enough for nbval's checked cells.
"""

from __future__ import annotations

import ast
import difflib
import io
import os
import sys
from collections.abc import Callable, Mapping, Sequence

import numpy as np
import pandas as pd

from toolkit import schema
from toolkit.errors import SekatError
from toolkit.estimate.headline import compare_to_truth, truth_rows
from toolkit.estimate.models import Contrast
from toolkit.report.disclosure import check_threshold
from toolkit.report.words import (
    LANGS,
    arm_phrase,
    check_lang,
    contrast_words,
    estimand_label,
    figure_text,
    format_number,
    label,
    method_label,
    template,
    text,
)
from toolkit.results import select

#: The comment that starts a notebook's own parameters cell (papermill's ``parameters`` tag).
PARAMETERS_CELL = "# Parameters (papermill"
#: The comment papermill puts at the top of the cell it injects with ``-p NAME VALUE``.
INJECTED_CELL = "# Parameters"


def _number(name: str, value: object, *, low: float | None = None, whole: bool = False) -> float:
    kinds = (int, np.integer) if whole else (int, float, np.integer, np.floating)
    if isinstance(value, bool) or not isinstance(value, kinds) or not np.isfinite(value):
        kind = "a whole number" if whole else "a number"
        raise SekatError(f"parameter {name} must be {kind}, got {value!r}")
    if low is not None and value < low:
        raise SekatError(f"parameter {name} must be at least {low:g}, got {value!r}")
    return value


def _text(name: str, value: object) -> str:
    if not isinstance(value, str):
        raise SekatError(f"parameter {name} must be text (a path or a name), got {value!r}")
    return value


def _share(name: str, value: object) -> float:
    value = _number(name, value)
    if not 0 <= value <= 1:
        raise SekatError(f"parameter {name} must lie in [0, 1], got {value!r}")
    return value


def _min_cell(name: str, value: object) -> int:
    value = int(_number(name, value, whole=True))
    try:
        check_threshold(value)
    except SekatError as error:
        raise SekatError(f"parameter {name}: {error}") from None
    return value


def _lang(name: str, value: object) -> str:
    try:
        return check_lang(value)  # type: ignore[arg-type]
    except SekatError as error:
        raise SekatError(f"parameter {name}: {error}") from None


def _currency(name: str, value: object) -> str:
    value = _text(name, value).strip()
    if not value:
        raise SekatError(f"parameter {name} must name a currency, e.g. IDR")
    return value


def _optional_text(name: str, value: object) -> str | None:
    return None if value is None else _text(name, value)


#: Every parameter a notebook may declare, with its check (the value it returns is used).
PARAMETER_CHECKS: dict[str, Callable[[str, object], object]] = {
    "raw_file": _text,
    "mapping_file": _optional_text,
    "preset": _optional_text,
    "review_dir": _optional_text,
    "data_dir": _text,
    "output_dir": _text,
    "rollout_file": _text,
    "truth_file": _text,
    "lang": _lang,
    "seed": lambda n, v: _number(n, v, low=0, whole=True),
    "min_cell": _min_cell,
    "treatment": lambda n, v: v,  # checked with the control, as a Contrast
    "control": lambda n, v: v,
    "tau_days": lambda n, v: _number(n, v, low=1e-9),
    "n_boot": lambda n, v: _number(n, v, low=2, whole=True),
    "share": _share,
    "staff_minutes_per_handoff": lambda n, v: _number(n, v, low=0),
    "wage_per_hour": lambda n, v: _number(n, v, low=0),
    "citizen_day_value": lambda n, v: _number(n, v, low=0),
    "currency": _currency,
    "holidays": _optional_text,
    "workweek": _text,
    "standard_days": lambda n, v: int(_number(n, v, low=0, whole=True)),
    "reference_channel": _optional_text,
}


def _assigned(source: str) -> list[str]:
    names = []
    try:
        body = ast.parse(source).body
    except SyntaxError:
        return names
    for node in body:
        targets = node.targets if isinstance(node, ast.Assign) else []
        if isinstance(node, ast.AnnAssign):
            targets = [node.target]
        names += [t.id for t in targets if isinstance(t, ast.Name)]
    return names


def passed_parameters(history: Sequence[str]) -> tuple[list[str], list[str]]:
    r"""The parameters a notebook declares and those papermill injected, from its run history.

    Parameters
    ----------
    history : sequence of str
        The sources of the cells run so far (IPython's ``In``).

    Returns
    -------
    (list of str, list of str)
        Names assigned in the notebook's own parameters cell (it starts with
        :data:`PARAMETERS_CELL`) and names in cells papermill injected (:data:`INJECTED_CELL`).

    Examples
    --------
    >>> passed_parameters(["", "# Parameters (papermill: -p NAME VALUE)\nlang = 'en'",
    ...                    "# Parameters\nmin_cells = 5\n"])
    (['lang'], ['min_cells'])
    """
    declared: list[str] = []
    injected: list[str] = []
    for source in history:
        first = str(source).lstrip().split("\n", 1)[0].strip()
        if first.startswith(PARAMETERS_CELL) and not declared:
            declared = _assigned(str(source))
        elif first == INJECTED_CELL:
            injected += _assigned(str(source))
    return declared, injected


def one_line_errors() -> bool:
    """In a notebook, show a SekatError as its one line rather than a traceback.

    The user's mistake (a mistyped parameter, a missing file) is then the first and only
    thing papermill and the notebook print; errors of any other kind keep their traceback.
    Returns whether an IPython kernel was there to set it up in.
    """
    try:
        from IPython import get_ipython
    except ImportError:  # pragma: no cover - IPython comes with the notebooks
        return False
    shell = get_ipython()
    if shell is None:
        return False

    def handler(shell, etype, value, tb, tb_offset=None):
        line = f"sekat: error: {value}"
        show = getattr(shell, "_showtraceback", None)  # the kernel's error output
        if show is not None:
            show(etype, value, [line])
        else:  # pragma: no cover - a terminal IPython
            print(line, file=sys.stderr)
        return [line]

    shell.set_custom_exc((SekatError,), handler)
    return True


def check_parameters(namespace: Mapping[str, object] | None = None, /, **values: object) -> dict:
    """Check a notebook's parameters before any work; a wrong one raises one clear line.

    Parameters
    ----------
    namespace : mapping, optional
        The notebook's ``globals()``: every parameter it holds is checked, ``lang`` is
        written back in lower case, and a parameter given to papermill (``-p NAME VALUE``)
        that the notebook does not declare is refused with the names it does declare (a
        near miss such as ``min_cells`` is named as such).
    **values
        Parameters to check by name (``lang="ID", seed=1``).

    Returns
    -------
    dict
        The checked values (``lang`` in lower case, ``treatment``/``control`` as checked
        by :class:`toolkit.estimate.models.Contrast`, under ``contrast``).

    Examples
    --------
    >>> check_parameters(lang="ID", seed=1)["lang"]
    'id'
    >>> check_parameters(lang="fr")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    toolkit.errors.SekatError: parameter lang: language must be one of ['en', 'id'], got 'fr'
    >>> check_parameters(treatment="twitter", control="traditional")["contrast"].descriptor
    'twitter vs traditional'
    """
    given: dict[str, object] = {}
    if namespace is not None:
        one_line_errors()
        declared, injected = passed_parameters(list(namespace.get("In", []) or []))
        unknown = [name for name in injected if declared and name not in declared]
        if unknown:
            name = unknown[0]
            close = difflib.get_close_matches(name, declared, n=1)
            hint = f" (did you mean {close[0]}?)" if close else ""
            raise SekatError(
                f"unknown parameter {name}{hint}; this notebook takes: {', '.join(declared)}"
            )
        given = {k: namespace[k] for k in PARAMETER_CHECKS if k in namespace}
    given.update(values)
    checked = {
        name: PARAMETER_CHECKS[name](name, value)
        for name, value in given.items()
        if name in PARAMETER_CHECKS
    }
    unknown = [name for name in given if name not in PARAMETER_CHECKS]
    if unknown:
        raise SekatError(f"unknown parameter {unknown[0]}; known: {', '.join(PARAMETER_CHECKS)}")
    if "treatment" in given or "control" in given:
        try:
            checked["contrast"] = Contrast(
                given.get("treatment", schema.SOCIAL), given.get("control", schema.NOT_SOCIAL)
            )
        except SekatError as error:
            raise SekatError(f"parameter treatment/control: {error}") from None
    if namespace is not None and "lang" in checked and isinstance(namespace, dict):
        namespace["lang"] = checked["lang"]
    return checked


def contrast_values(contrast: Contrast) -> dict[str, dict[str, str]]:
    """The words of a contrast for captions: field -> language -> text (see :func:`in_lang`).

    Examples
    --------
    >>> contrast_values(Contrast("twitter", "phone"))["treatment"]["id"]
    'permohonan lewat Twitter/X'
    """
    per_lang = {lang: contrast_words(contrast, lang) for lang in LANGS}
    return {field: {lang: per_lang[lang][field] for lang in LANGS} for field in per_lang["en"]}


def in_lang(values: Mapping[str, object], lang: str) -> dict[str, object]:
    """Values of one language from values given per language (others as they are).

    Examples
    --------
    >>> in_lang({"treatment": {"en": "a", "id": "b"}, "tau_days": 30}, "id")
    {'treatment': 'b', 'tau_days': 30}
    """
    lang = check_lang(lang)
    return {k: v[lang] if isinstance(v, Mapping) and lang in v else v for k, v in values.items()}


def money_values(costs) -> dict[str, object]:
    """The unit costs of a scenario as caption fields, money written per language.

    Examples
    --------
    >>> from toolkit.estimate import UnitCosts
    >>> money_values(UnitCosts())["wage"]["id"]
    'Rp 40.000'
    """
    from toolkit.report.words import format_money

    currency = getattr(costs, "currency", "IDR")
    return {
        "currency": {lang: format_money(0, currency, lang).split(" ")[0] for lang in LANGS},
        "staff_minutes_per_handoff": float(costs.staff_minutes_per_handoff),
        "wage": {lang: format_money(costs.wage_per_hour, currency, lang) for lang in LANGS},
        "day": {lang: format_money(costs.citizen_day_value, currency, lang) for lang in LANGS},
    }


def arm_names(contrast: Contrast) -> dict[str, str]:
    """The estimators' arm names ("social", "not social") -> the contrast's arms, joined by +."""
    return {
        schema.SOCIAL: "+".join(contrast.treatment),
        "not social": "+".join(contrast.control),
    }


def arm_labels(arms: pd.Series, names: Mapping[str, str], lang: str) -> pd.Series:
    """Arm values of a diagnostic table in words of ``lang`` (each name of an arm labelled)."""
    lang = check_lang(lang)

    def word(value: object) -> str:
        key = names.get(str(value), str(value))
        return " + ".join(label(part, lang) for part in key.split("+"))

    return arms.astype("object").map(word)


def not_estimated(
    rows: pd.DataFrame, cases: pd.DataFrame, group: str, min_cell: int
) -> dict[str, str] | None:
    """The groups of ``cases`` that have no row (too few requests to estimate), named per language.

    Examples
    --------
    >>> rows = pd.DataFrame({"group_value": ["roads"]})
    >>> not_estimated(rows, pd.DataFrame({"category": ["roads", "health"]}), "category", 10)["en"]
    'Not estimated (fewer than 10 requests in one of the two arms): Health.'
    """
    if group not in cases.columns:
        return None
    estimated = set(rows[schema.GROUP_VALUE].astype(str))
    missing = sorted({str(v) for v in cases[group].dropna().unique()} - estimated)
    if not missing:
        return None
    return {
        lang: template("phrases", "not_estimated", lang).format(
            min_cell=min_cell, groups="; ".join(label(m, lang) for m in missing)
        )
        for lang in LANGS
    }


def plot_table(
    estimates: pd.DataFrame,
    lang: str = "en",
    truth: pd.DataFrame | None = None,
    **values: object,
) -> pd.DataFrame:
    """Result rows with readable estimands and methods, and the planted truth as a method.

    Parameters
    ----------
    estimates : pandas.DataFrame
        Rows of a result table (read by their descriptors).
    lang : {"en", "id"}
        Language of the words.
    truth : pandas.DataFrame, optional
        The generator's truth table: each estimand with a planted value gets a row with
        method "Planted truth" and a zero-width interval, drawn beside the estimates.
    **values
        Fields of the words (``tau_days``).

    Returns
    -------
    pandas.DataFrame
        term, estimate, ci_low, ci_high, n, method: the input of
        :func:`toolkit.report.figures.forest_plot`.

    Examples
    --------
    >>> from toolkit.results import result_frame
    >>> est = result_frame([{"term": "att_hops[category=roads]", "estimate": -0.2,
    ...     "std_error": 0.1, "ci_low": -0.4, "ci_high": 0.0, "n": 500, "method": "AIPW",
    ...     "estimand": "att", "outcome": "hops", "group": "category", "group_value": "roads",
    ...     "method_key": "aipw"}])
    >>> plot_table(est, "id")[["term", "method"]].values.tolist()
    [['Jalan', 'Penaksir AIPW']]
    """
    lang = check_lang(lang)
    rows = estimates
    if truth is not None:
        rows = pd.concat([estimates, truth_rows(estimates, truth)], ignore_index=True)
    records = rows.to_dict("records")
    out = rows[["estimate", "ci_low", "ci_high", "n"]].copy()
    out.insert(0, "term", [estimand_label(r, lang, **values) for r in records])
    out["method"] = [method_label(r.get(schema.METHOD_KEY), lang) for r in records]
    return out.reset_index(drop=True)


def describe_rows(
    table: pd.DataFrame,
    lang: str = "en",
    *,
    label_col: str = "term",
    value_col: str = "estimate",
    low_col: str | None = "ci_low",
    high_col: str | None = "ci_high",
    decimals: int = 2,
    group_col: str | None = "method",
) -> str:
    """The rows of a plotted table in words: what alt text should say the figure shows.

    Parameters
    ----------
    table : pandas.DataFrame
        The table a figure draws (after :func:`plot_table`, or a tidy result).
    lang : {"en", "id"}
        Language (Indonesian uses a decimal comma).
    label_col, value_col, low_col, high_col : str
        Columns of the row label, the value and its interval (None: no interval).
    decimals : int
        Decimals of the numbers.
    group_col : str, optional
        A column (e.g. method) whose value is put before each row's label when present.
        Labels and groups that are vocabulary codes are put in words
        (:func:`toolkit.report.words.label`).

    Returns
    -------
    str
        ``"label: value (low to high); ..."``.

    Examples
    --------
    >>> t = pd.DataFrame({"term": ["Roads"], "estimate": [-0.214], "ci_low": [-0.4],
    ...                   "ci_high": [-0.02]})
    >>> describe_rows(t, "id")
    'Roads: −0,21 (−0,40 sampai −0,02)'
    """
    lang = check_lang(lang)
    items = []
    for row in table.to_dict("records"):
        name = label(str(row[label_col]), lang)
        if group_col and group_col in row and isinstance(row[group_col], str):
            name = f"{label(row[group_col], lang)}, {name}"
        text = f"{name}: {format_number(row[value_col], lang, decimals=decimals)}"
        if low_col and high_col and np.isfinite(row[low_col]) and row[low_col] != row[high_col]:
            low = format_number(row[low_col], lang, decimals=decimals)
            high = format_number(row[high_col], lang, decimals=decimals)
            text += f" ({low} {template('brief.words', 'to', lang)} {high})"
        items.append(text)
    return "; ".join(items)


def alt_text(
    chart: Mapping[str, str], rows: Mapping[str, pd.DataFrame] | pd.DataFrame, **describe: object
) -> dict[str, str]:
    """Bilingual alt text: what kind of chart it is, then the values it draws, in words.

    Parameters
    ----------
    chart : mapping of language to str
        The kind of chart and how to read it (no numbers: those come from the data).
    rows : pandas.DataFrame or mapping of language to DataFrame
        The plotted rows (one table per language when its labels are localised).
    **describe
        Passed to :func:`describe_rows`.

    Returns
    -------
    dict of str to str
        ``{"en": ..., "id": ...}`` for :func:`toolkit.report.export.export_figure`.

    Examples
    --------
    >>> t = pd.DataFrame({"term": ["Roads"], "estimate": [-0.2], "ci_low": [-0.4],
    ...                   "ci_high": [0.0]})
    >>> alt_text({"en": "Dot chart.", "id": "Diagram titik."}, t)["en"]
    'Dot chart. Roads: −0.20 (−0.40 to 0.00).'
    """
    out = {}
    for lang in LANGS:
        table = rows[lang] if isinstance(rows, Mapping) else rows
        out[lang] = f"{chart[lang]} {describe_rows(table, lang, **describe)}."
    return out


def rounded(table: pd.DataFrame, decimals: int = 2) -> pd.DataFrame:
    """A copy of a table with its floating-point columns rounded, for display.

    Examples
    --------
    >>> rounded(pd.DataFrame({"term": ["a"], "estimate": [0.123456], "n": [12]}))
      term  estimate   n
    0    a      0.12  12
    """
    out = table.copy()
    for column in out.columns:
        if pd.api.types.is_float_dtype(out[column]):
            out[column] = out[column].round(decimals)
    return out


def check_lines(table: pd.DataFrame, columns: list[str] | None = None, decimals: int = 2) -> str:
    """A table as plain text with fixed decimals: the stable output of a checked cell.

    nbval compares a checked cell's output character by character, so the text must not
    depend on the display width, pandas' float formatting or ``-0.00``.

    Parameters
    ----------
    table : pandas.DataFrame
        Rows to print.
    columns : list of str, optional
        Columns to print, in order (default all).
    decimals : int
        Decimals of floating-point values.

    Returns
    -------
    str
        One line per row, values separated by `` | ``, a header line first.

    Examples
    --------
    >>> t = pd.DataFrame({"term": ["att"], "estimate": [-0.0001], "n": [10]})
    >>> print(check_lines(t))
    term | estimate | n
    att | 0.00 | 10
    """
    columns = list(table.columns) if columns is None else list(columns)

    def cell(value: object) -> str:
        if isinstance(value, (float, np.floating)):
            if np.isnan(value):
                return "NA"
            text = f"{value:.{decimals}f}"
            return text[1:] if text.startswith("-") and float(text) == 0 else text
        if value is None or value is pd.NA:
            return "NA"
        return str(value)

    lines = [" | ".join(columns)]
    for row in table[columns].itertuples(index=False):
        lines.append(" | ".join(cell(v) for v in row))
    return "\n".join(lines)


def with_truth(estimates: pd.DataFrame, truth: pd.DataFrame | None) -> pd.DataFrame:
    """Estimates beside the planted truth (when there is one), for the teaching tables.

    Parameters
    ----------
    estimates : pandas.DataFrame
        Rows of a result table.
    truth : pandas.DataFrame or None
        The truth table, or None for a real log (then ``truth`` and ``covered`` are NA).

    Returns
    -------
    pandas.DataFrame
        term, method_key, estimate, ci_low, ci_high, truth, covered.

    Examples
    --------
    >>> from toolkit.results import result_frame
    >>> est = result_frame([{"term": "att_hops", "estimate": -0.2, "method": "AIPW"}])
    >>> with_truth(est, None)[["term", "truth"]].values.tolist()
    [['att_hops', nan]]
    """
    keep = ["term", schema.METHOD_KEY, "estimate", "ci_low", "ci_high", "truth", "covered"]
    return compare_to_truth(estimates, truth)[keep].reset_index(drop=True)


def show_figure(fig, dpi: int = 110) -> None:
    """Show a figure in the notebook as an embedded PNG (it stays in an HTML export).

    Parameters
    ----------
    fig : matplotlib.figure.Figure
        The figure.
    dpi : int
        Resolution of the shown copy.

    Examples
    --------
    >>> from matplotlib.figure import Figure
    >>> show_figure(Figure(figsize=(1, 1)))  # doctest: +ELLIPSIS
    <IPython.core.display.Image object>

    Notes
    -----
    Figures of :mod:`toolkit.report.figures` are built without pyplot, so nothing shows them
    unless asked; a PNG output is embedded in the notebook and in its HTML export alike.
    """
    from IPython.display import Image, display

    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=dpi)
    display(Image(data=buffer.getvalue(), format="png"))


def channel_medians(
    rows: pd.DataFrame, lang: str = "en", *, threshold: int = schema.MIN_CELL_COUNT
) -> pd.DataFrame:
    """One line per intake channel: requests, median days and median working days, in words.

    Parameters
    ----------
    rows : pandas.DataFrame
        The per-channel median rows of a headline (estimand ``median``, group ``channel``),
        in days and in working days.
    lang : {"en", "id"}
        Language of the headers and numbers.
    threshold : int
        Channels of fewer requests are left out (the disclosure floor).

    Examples
    --------
    >>> from toolkit.results import result_frame
    >>> rows = result_frame([
    ...     {"term": "median_days[twitter]", "estimate": 3.86, "ci_low": 1.7, "ci_high": 7.8,
    ...      "n": 61, "method": "KM", "estimand": "median", "outcome": "days_to_resolution",
    ...      "group": "channel", "group_value": "twitter"},
    ...     {"term": "median_working_days[twitter]", "estimate": 2.0, "ci_low": 1.0,
    ...      "ci_high": 5.0, "n": 61, "method": "KM", "estimand": "median",
    ...      "outcome": "working_days_to_resolution", "group": "channel",
    ...      "group_value": "twitter"}])
    >>> channel_medians(rows).iloc[0].astype(str).tolist()
    ['Twitter/X', '61', '3.9 (1.7 to 7.8)', '2 (1 to 5)']
    """
    lang = check_lang(lang)
    check_threshold(threshold)
    to = template("brief.words", "to", lang)

    def cell(row: pd.Series | None, decimals: int) -> str:
        if row is None or not np.isfinite(row["estimate"]):
            return "–"
        shown = format_number(row["estimate"], lang, decimals=decimals)
        if np.isfinite(row["ci_low"]) and np.isfinite(row["ci_high"]):
            low = format_number(row["ci_low"], lang, decimals=decimals)
            high = format_number(row["ci_high"], lang, decimals=decimals)
            shown += f" ({low} {to} {high})"
        return shown

    lines = []
    for channel, group in rows.groupby(schema.GROUP_VALUE, sort=False):
        by_outcome = {r[schema.OUTCOME]: r for _, r in group.iterrows()}
        n = int(group["n"].max())
        if n < threshold:
            continue
        lines.append(
            {
                label(schema.CHANNEL, lang): label(str(channel), lang),
                label("requests", lang): n,
                label("median_days", lang): cell(by_outcome.get(schema.DAYS_OUTCOME), 1),
                label("median_working_days", lang): cell(
                    by_outcome.get("working_days_to_resolution"), 0
                ),
            }
        )
    return pd.DataFrame(lines)


def standard_values(results) -> dict[str, str]:
    """The service standard a headline measured, in words, per language (for captions).

    Examples
    --------
    >>> from types import SimpleNamespace
    >>> done = SimpleNamespace(diagnostics={"service_standard": pd.DataFrame(
    ...     {"standard": ["working_days"], "working_days": [5]})})
    >>> standard_values(done)["en"]
    'resolved within 5 working days'
    """
    standard = results.diagnostics["service_standard"].iloc[0]
    if standard["standard"] == "target":
        return {lang: text("phrases", "standard_target", lang) for lang in LANGS}
    days = int(standard["working_days"])
    return {lang: text("phrases", "standard_days", lang, days=days) for lang in LANGS}


def _per_lang(value, lang: str):
    if callable(value) and not isinstance(value, pd.DataFrame):
        return value(lang)
    if isinstance(value, Mapping):
        return value[lang]
    return value


def _nothing_to_show(name: str, output_dir, lang: str, show: bool) -> dict:
    from toolkit.report.export import withdraw_figure

    for each in LANGS:
        withdraw_figure(name, output_dir, each)
    if show:
        print(template("phrases", "nothing_to_show", lang))
    return {}


def publish(
    draw,
    name: str,
    *,
    output_dir: str | os.PathLike[str],
    lang: str = "en",
    values: Mapping[str, object] | None = None,
    rows=None,
    describe: Mapping[str, object] | None = None,
    suppressed: object = None,
    omitted: Mapping[str, str] | None = None,
    show: bool = True,
    dpi: int = 110,
):
    """Export a figure in every language with the words ``words.toml`` holds for it, and show it.

    Parameters
    ----------
    draw : callable or matplotlib.figure.Figure
        ``draw(lang)`` returns the figure in ``lang`` (a function of
        :mod:`toolkit.report.figures`); it is drawn once per language of
        :data:`toolkit.report.words.LANGS`, so English and Indonesian files sit side by side.
        A Figure is exported in its own language only.
    name : str
        The figure's name: its entry ``[figures.NAME]`` in ``words.toml`` and its file stem in
        ``output_dir`` (``NAME_en.png``, ``NAME_id.svg``, ...).
    output_dir : path-like
        Folder of the figures and their indexes.
    lang : {"en", "id"}
        The language shown in the notebook.
    values : mapping, optional
        Fields of the caption and alt text (``tau_days``, ``share``, ``truth`` ...); a value
        may be a mapping of language to value (a label already in words).
    rows : DataFrame, mapping of language to DataFrame, or callable, optional
        The values the figure draws: the alt text names them after its chart description
        (:func:`describe_rows`).
    describe : mapping, optional
        Passed to :func:`describe_rows`.
    suppressed : optional
        Passed to :func:`toolkit.report.export.export_figure`.
    omitted : mapping of language to str, optional
        A sentence naming what the figure does not show besides small cells.
    show : bool
        Display the figure in ``lang`` (as a PNG at ``dpi``) after exporting it.
    dpi : int
        Resolution of the displayed copy (the exported PNG is 300 dpi).

    Returns
    -------
    dict of str to toolkit.report.export.FigureExport
        What was written, by language; empty when the figure would show nothing (then
        nothing is written and a sentence says so).

    Examples
    --------
    >>> import tempfile
    >>> from toolkit.report.figures import hops_by_channel_plot
    >>> table = pd.DataFrame({"channel": ["twitter"], "hops": [1.0], "n": [50]})
    >>> done = publish(lambda lang: hops_by_channel_plot(table, by="channel", lang=lang),
    ...                "02_hops_by_channel", output_dir=tempfile.mkdtemp(), show=False,
    ...                rows=table, describe={"label_col": "channel", "value_col": "hops",
    ...                                      "low_col": None, "high_col": None})
    >>> sorted(done), done["id"].files["png"].name
    (['en', 'id'], '02_hops_by_channel_id.png')
    >>> done["en"].index_row["alt_text"].endswith("Twitter/X: 1.00.")
    True

    Notes
    -----
    The figure is shown after it is exported, so the exported files do not depend on
    whether it was shown. A figure whose table lost every row (nothing to draw, or every
    group too small), or whose rows hold no value (hops of a log that does not record
    them), is never published: an empty figure tells a reader nothing.
    """
    from toolkit.report.export import export_figure
    from toolkit.report.figures import figure_is_empty

    lang = check_lang(lang)
    values = dict(values or {})
    done = {}
    shown = None
    langs = LANGS if callable(draw) else (getattr(draw, "sekat_lang", lang),)
    value_col = dict(describe or {}).get("value_col", "estimate")
    for each in langs:
        table = _per_lang(rows, each)
        if table is not None and (
            table.empty or (value_col in table.columns and not table[value_col].notna().any())
        ):
            return _nothing_to_show(name, output_dir, lang, show)
        fig = draw(each) if callable(draw) else draw
        if suppressed is None and figure_is_empty(fig):
            return _nothing_to_show(name, output_dir, lang, show)
        local = {k: _per_lang(v, each) if isinstance(v, Mapping) else v for k, v in values.items()}
        caption = figure_text(name, "caption", each, **local)
        alt = figure_text(name, "alt", each, **local)
        if table is not None:
            alt = f"{alt} {describe_rows(table, each, **dict(describe or {}))}."
        note = None if omitted is None else omitted.get(each)
        done[each] = export_figure(
            fig,
            name,
            caption=caption,
            alt_text=alt,
            out_dir=output_dir,
            suppressed=suppressed,
            lang=each,
            omitted=note,
        )
        if each == lang:
            shown = fig
    if show and shown is not None:
        show_figure(shown, dpi=dpi)
    return done


__all__ = [
    "PARAMETER_CHECKS",
    "arm_labels",
    "arm_phrase",
    "contrast_words",
    "arm_names",
    "channel_medians",
    "contrast_values",
    "standard_values",
    "in_lang",
    "money_values",
    "not_estimated",
    "one_line_errors",
    "passed_parameters",
    "alt_text",
    "check_lines",
    "check_parameters",
    "describe_rows",
    "plot_table",
    "publish",
    "rounded",
    "select",
    "show_figure",
    "with_truth",
]
