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

import io
import os
from collections.abc import Mapping

import numpy as np
import pandas as pd

from toolkit import schema
from toolkit.errors import SekatError
from toolkit.estimate.headline import compare_to_truth, truth_rows
from toolkit.estimate.models import CONTROLS
from toolkit.report.disclosure import check_threshold
from toolkit.report.words import (
    LANGS,
    check_lang,
    estimand_label,
    figure_texts,
    format_number,
    label,
    method_label,
    template,
)
from toolkit.results import select

#: Treatments the estimators know (they compare social-media intake with the rest).
TREATMENTS = (schema.SOCIAL,)


def check_parameters(
    *,
    lang: str = "en",
    seed: int = 0,
    min_cell: int = schema.MIN_CELL_COUNT,
    treatment: str = schema.SOCIAL,
    control: str = schema.NOT_SOCIAL,
    share: float | None = None,
) -> None:
    """Check a notebook's papermill parameters; a wrong one raises one clear line.

    Parameters
    ----------
    lang : {"en", "id"}
        Language of figure labels.
    seed : int
        Seed of every random draw (bootstrap, simulation of uncertainty).
    min_cell : int
        Smallest group of requests a figure or table may show; never below the project's
        default of 10 (a notebook may be stricter, not looser).
    treatment : {"social"}
        The intake whose effect is estimated.
    control : {"not_social", "digital", "traditional"}
        What it is compared with: every other request, or one channel group.
    share : float, optional
        A scenario share, in [0, 1].

    Examples
    --------
    >>> check_parameters(lang="id", seed=1)
    >>> check_parameters(lang="fr")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    toolkit.errors.SekatError: parameter lang: language must be one of ['en', 'id'], got 'fr'
    """
    try:
        check_lang(lang)
        check_threshold(min_cell)
    except SekatError as error:
        raise SekatError(
            f"parameter {'lang' if lang not in LANGS else 'min_cell'}: {error}"
        ) from None
    if isinstance(seed, bool) or not isinstance(seed, int | np.integer) or seed < 0:
        raise SekatError(f"parameter seed must be a non-negative whole number, got {seed!r}")
    if treatment not in TREATMENTS:
        raise SekatError(
            f"parameter treatment must be one of {TREATMENTS} (the estimators compare "
            f"social-media intake with the rest), got {treatment!r}"
        )
    if control not in CONTROLS:
        raise SekatError(f"parameter control must be one of {CONTROLS}, got {control!r}")
    if share is not None and not 0 <= share <= 1:
        raise SekatError(f"parameter share must lie in [0, 1], got {share!r}")


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
    [['Jalan', 'Robust ganda (AIPW)']]
    """
    check_lang(lang)
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
    check_lang(lang)
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


def publish(
    fig,
    name: str,
    *,
    output_dir: str | os.PathLike[str],
    values: Mapping[str, object] | None = None,
    rows: Mapping[str, pd.DataFrame] | pd.DataFrame | None = None,
    describe: Mapping[str, object] | None = None,
    suppressed: object = None,
    show: bool = True,
    dpi: int = 110,
):
    """Export a figure with the caption and alt text ``words.toml`` holds for its name, and show it.

    Parameters
    ----------
    fig : matplotlib.figure.Figure
        A figure of :mod:`toolkit.report.figures`.
    name : str
        The figure's name: its entry ``[figures.NAME]`` in ``words.toml`` and its file stem in
        ``output_dir`` (``NAME.png``, ``.svg``, ``.pdf``).
    output_dir : path-like
        Folder of the figures and their index.
    values : mapping, optional
        Fields of the caption and alt text (``tau_days``, ``share``, ``truth`` ...).
    rows : DataFrame or mapping of language to DataFrame, optional
        The values the figure draws: the alt text names them after its chart description
        (:func:`describe_rows`).
    describe : mapping, optional
        Passed to :func:`describe_rows`.
    suppressed : optional
        Passed to :func:`toolkit.report.export.export_figure`.
    show : bool
        Display the figure (as a PNG at ``dpi``) after exporting it.
    dpi : int
        Resolution of the displayed copy (the exported PNG is 300 dpi).

    Returns
    -------
    toolkit.report.export.FigureExport
        What was written.

    Examples
    --------
    >>> import tempfile
    >>> from toolkit.report.figures import hops_by_channel_plot
    >>> table = pd.DataFrame({"channel": ["twitter"], "hops": [1.0], "n": [50]})
    >>> fig = hops_by_channel_plot(table, by="channel")
    >>> done = publish(fig, "02_hops_by_channel", output_dir=tempfile.mkdtemp(), show=False,
    ...                rows=table, describe={"label_col": "channel", "value_col": "hops",
    ...                                      "low_col": None, "high_col": None})
    >>> done.index_row["alt_text_en"].endswith("Twitter/X: 1.00.")
    True

    Notes
    -----
    The figure is shown after it is exported, so the exported files do not depend on
    whether it was shown.
    """
    from toolkit.report.export import export_figure

    values = dict(values or {})
    caption = figure_texts(name, "caption", **values)
    alt = figure_texts(name, "alt", **values)
    if rows is not None:
        alt = alt_text(alt, rows, **dict(describe or {}))
    done = export_figure(
        fig, name, caption=caption, alt_text=alt, out_dir=output_dir, suppressed=suppressed
    )
    if show:
        show_figure(fig, dpi=dpi)
    return done


__all__ = [
    "TREATMENTS",
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
