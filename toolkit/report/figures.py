"""Figures in one house style: each function takes a tidy table and returns a matplotlib Figure.

The house style (:data:`HOUSE_RC`, :func:`house_style`) uses the Okabe-Ito palette, which
stays distinguishable for readers with the common colour-vision deficiencies, type sizes that
read on a slide and in print, and no chartjunk (no top/right spines, light grid, no frames).
Every function draws its words from :mod:`toolkit.report.words` in English or Bahasa Indonesia
(``lang="en"|"id"``), never saves or shows (that is :func:`toolkit.report.export.export_figure`'s
job), and passes its table through :func:`toolkit.report.disclosure.suppress_small_cells` first:
no group of fewer than ``threshold`` requests is drawn or labelled. What was left out is kept
on the figure (:func:`figure_suppression`) so that the exporter's caption can name it.

Figures are built with :class:`matplotlib.figure.Figure` rather than pyplot, so that nothing
is registered globally and a notebook shows each figure once.

Figures show no totals of the cells they draw, so only primary suppression applies to them;
tables exported with published totals get secondary suppression in
:func:`toolkit.report.export.export_table`.
"""

from __future__ import annotations

import contextlib
import textwrap
from collections.abc import Iterator, Mapping, Sequence

import matplotlib as mpl
import networkx as nx
import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.patches import FancyArrowPatch
from matplotlib.ticker import FuncFormatter, MaxNLocator, PercentFormatter

from toolkit import schema
from toolkit.errors import SekatError, require_columns
from toolkit.report.disclosure import Suppression, suppress_small_cells
from toolkit.report.words import check_lang, format_compact, format_number, label, text

#: The Okabe-Ito colour-blind-safe palette.
OKABE_ITO: dict[str, str] = {
    "black": "#000000",
    "orange": "#E69F00",
    "sky_blue": "#56B4E9",
    "bluish_green": "#009E73",
    "yellow": "#F0E442",
    "blue": "#0072B2",
    "vermillion": "#D55E00",
    "reddish_purple": "#CC79A7",
}
#: Order in which series take colours (yellow last: it is faint on white).
SERIES_COLOURS: tuple[str, ...] = tuple(
    OKABE_ITO[c]
    for c in (
        "blue",
        "orange",
        "bluish_green",
        "vermillion",
        "reddish_purple",
        "sky_blue",
        "black",
        "yellow",
    )
)
NEUTRAL: str = "#6E6E6E"
#: A fixed colour per channel group, the same in every figure.
CHANNEL_GROUP_COLOURS: dict[str, str] = {
    schema.SOCIAL: OKABE_ITO["blue"],
    schema.DIGITAL: OKABE_ITO["bluish_green"],
    schema.TRADITIONAL: OKABE_ITO["orange"],
    schema.OTHER: NEUTRAL,
}
#: Default figure size in inches: fits a slide and a printed column at 300 dpi.
FIGSIZE: tuple[float, float] = (7.5, 4.5)
#: Base font size in points.
FONT_SIZE: float = 11.0

#: Matplotlib settings of the house style.
HOUSE_RC: dict[str, object] = {
    "font.family": "DejaVu Sans",
    "font.size": FONT_SIZE,
    "axes.titlesize": FONT_SIZE + 2,
    "axes.titleweight": "bold",
    "axes.titlelocation": "left",
    "axes.titlepad": 10,
    "axes.labelsize": FONT_SIZE,
    "axes.labelcolor": "#222222",
    "axes.edgecolor": "#444444",
    "axes.linewidth": 0.8,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.axisbelow": True,
    "axes.prop_cycle": mpl.cycler(color=list(SERIES_COLOURS)),
    "xtick.labelsize": FONT_SIZE - 1,
    "ytick.labelsize": FONT_SIZE - 1,
    "xtick.color": "#444444",
    "ytick.color": "#444444",
    "grid.color": "#E0E0E0",
    "grid.linewidth": 0.7,
    "legend.fontsize": FONT_SIZE - 1,
    "legend.frameon": False,
    "lines.linewidth": 2.0,
    "lines.markersize": 7,
    "figure.facecolor": "white",
    "savefig.facecolor": "white",
    "savefig.dpi": 300,
    "svg.fonttype": "path",
    "pdf.fonttype": 42,
}

#: Attribute of a Figure holding its :class:`~toolkit.report.disclosure.Suppression`.
_SUPPRESSION_ATTR = "sekat_suppression"
#: Attribute of a Figure holding the language it was drawn in (the exporter names files by it).
FIGURE_LANG_ATTR = "sekat_lang"


@contextlib.contextmanager
def house_style() -> Iterator[None]:
    """Draw in the house style inside a ``with`` block (for figures of your own).

    Examples
    --------
    >>> from matplotlib.figure import Figure
    >>> with house_style():
    ...     fig = Figure()
    ...     ax = fig.subplots()
    >>> ax.spines["top"].get_visible()
    False
    """
    with mpl.rc_context(HOUSE_RC):
        yield


def figure_suppression(fig: Figure) -> pd.DataFrame:
    """What a figure function left out: one row per group not drawn (empty if none).

    Examples
    --------
    >>> import pandas as pd
    >>> fig = hops_by_channel_plot(pd.DataFrame({"channel_group": ["social", "other"],
    ...                                          "hops": [1.2, 2.0], "n": [50, 4]}))
    >>> figure_suppression(fig)
      channel_group suppression
    0         other     primary
    """
    suppression = getattr(fig, _SUPPRESSION_ATTR, None)
    if suppression is None:
        return pd.DataFrame(columns=["suppression"])
    return suppression.record


def figure_is_empty(fig: Figure) -> bool:
    """Whether a figure of this module draws nothing (no row of its table survived).

    Examples
    --------
    >>> import pandas as pd
    >>> figure_is_empty(hops_by_channel_plot(pd.DataFrame({"channel_group": ["other"],
    ...                                                    "hops": [2.0], "n": [4]})))
    True
    """
    suppression = getattr(fig, _SUPPRESSION_ATTR, None)
    return suppression is not None and len(suppression.published) == 0


def _new_figure(figsize: tuple[float, float] | None = None) -> tuple[Figure, mpl.axes.Axes]:
    fig = Figure(figsize=figsize or FIGSIZE, layout="constrained")
    ax = fig.subplots()
    # Tick sizes are stored on the axes so that they survive leaving the rc context.
    ax.tick_params(labelsize=FONT_SIZE - 1, length=3, colors="#444444")
    return fig, ax


def _finish(fig: Figure, ax, title: str | None, default_title: str, lang: str, supp) -> Figure:
    if title is None:
        title = label(default_title, lang)
    if title:
        # A long title (Indonesian runs about a fifth longer) wraps instead of running off
        # the right edge; ~0.63 em is the mean width of a bold DejaVu Sans character.
        per_line = int(fig.get_figwidth() * 72 / ((FONT_SIZE + 2) * 0.63))
        if "\n" not in title and len(title) > per_line:
            title = textwrap.fill(title, per_line)
        # A figure title flush with the left edge, wherever the axes start.
        fig.suptitle(title, x=0.01, ha="left", fontsize=FONT_SIZE + 2, fontweight="bold")
    setattr(fig, _SUPPRESSION_ATTR, supp)
    setattr(fig, FIGURE_LANG_ATTR, lang)
    return fig


def _colours_for(values: Sequence[object]) -> dict[object, str]:
    if all(v in CHANNEL_GROUP_COLOURS for v in values):
        return {v: CHANNEL_GROUP_COLOURS[v] for v in values}
    if all(v in schema.CHANNEL_GROUP_OF for v in values):
        # Channels take the colour of their group: the comparison that matters.
        return {v: CHANNEL_GROUP_COLOURS[schema.CHANNEL_GROUP_OF[v]] for v in values}
    return {v: SERIES_COLOURS[i % len(SERIES_COLOURS)] for i, v in enumerate(values)}


def _ordered(values: pd.Series) -> list[object]:
    """Distinct values in vocabulary order for channels and channel groups, else as they come."""
    distinct = list(dict.fromkeys(values.astype("object").tolist()))
    for vocabulary in (tuple(schema.CHANNEL_GROUPS), schema.CHANNELS):
        if all(v in vocabulary for v in distinct):
            return [v for v in vocabulary if v in distinct]
    return distinct


def _fmt(x: float, lang: str) -> str:
    return format_compact(x, lang)


def _value_and_interval(estimate: float, low: float, high: float, lang: str, sep: str = " ") -> str:
    """ "−0.17 [−0.23, −0.11]"; a known value (a planted truth) has no interval to show."""
    value = _fmt(estimate, lang)
    bounds = (_fmt(low, lang), _fmt(high, lang))
    if bounds == (value, value) or not (np.isfinite(low) and np.isfinite(high)):
        return value
    return f"{value}{sep}{_interval(low, high, lang)}"


def _interval(low: float, high: float, lang: str) -> str:
    # Indonesian writes decimals with a comma, so the bounds are separated by a semicolon.
    sep = "; " if lang == "id" else ", "
    return f"[{_fmt(low, lang)}{sep}{_fmt(high, lang)}]"


def _count(n: float, lang: str) -> str:
    return format_number(n, lang, decimals=0)


def _localise_axis(axis, lang: str) -> None:
    """Tick labels with the thousands and decimal marks of ``lang``."""

    def tick(value: float, _pos: object) -> str:
        if abs(value) >= 1e6:
            return format_compact(value, lang)
        # As few decimals as the tick needs (0.25, not 0.250), at most three.
        fraction = f"{abs(value):.3f}".split(".")[1].rstrip("0")
        return format_number(value, lang, decimals=len(fraction))

    axis.set_major_formatter(FuncFormatter(tick))
    # Few ticks: long localised numbers must not run into each other.
    axis.set_major_locator(MaxNLocator(nbins=4, steps=[1, 2, 2.5, 5, 10]))


def _fit(text: str, inches: float) -> str:
    """Wrap an axis label to ``inches`` of the base font (~0.56 em per character)."""
    per_line = max(12, int(inches * 72 / (FONT_SIZE * 0.56)))
    if "\n" in text or len(text) <= per_line:
        return text
    return textwrap.fill(text, per_line)


def _legend_below(ax, ncols: int) -> None:
    """A legend centred under the axis label, at the same distance whatever the figure's height.

    An anchor in axes fractions (``(0.5, -0.18)``) moves away from the axis as the axes grow
    taller and leaves an empty band above the legend; an offset in points does not.
    """
    label_lines = max(1, ax.get_xlabel().count("\n") + 1) if ax.get_xlabel() else 0
    # Tick labels, ticks and pads, then the axis label's lines, then a small gap.
    points = (FONT_SIZE - 1) + 3 + 3.5 + 4 + 1.25 * FONT_SIZE * label_lines
    shift = mpl.transforms.ScaledTranslation(0, -points / 72, ax.figure.dpi_scale_trans)
    ax.legend(
        loc="upper center",
        bbox_to_anchor=(0.5, 0.0),
        bbox_transform=ax.transAxes + shift,
        borderaxespad=0.2,
        ncols=ncols,
    )


def _suppress_rows(
    table: pd.DataFrame, count_col: str | None, group_cols: Sequence[str], threshold: int
) -> Suppression:
    if count_col is None or count_col not in table.columns:
        table = table.assign(**{"__n": np.nan})
        count_col = "__n"
    values = [c for c in table.columns if c not in group_cols and c != count_col]
    supp = suppress_small_cells(
        table,
        count_col=count_col,
        threshold=threshold,
        group_cols=list(group_cols),
        totals=[],
        value_cols=values,
    )
    if count_col == "__n":
        table = supp.table.drop(columns="__n")
        supp = Suppression(table, supp.record, supp.withheld_totals, threshold, supp.group_cols)
    return supp


def forest_plot(
    results: pd.DataFrame,
    *,
    lang: str = "en",
    reference: float | None = 0.0,
    xlabel: str | None = None,
    title: str | None = None,
    log_scale: bool = False,
    n_col: str | None = "n",
    threshold: int = schema.MIN_CELL_COUNT,
    sort: bool = False,
    width: float | None = None,
) -> Figure:
    """Estimates with their confidence intervals, one row per term (and method).

    Parameters
    ----------
    results : pandas.DataFrame
        A tidy result table (:data:`toolkit.schema.RESULT_COLUMNS`): term, estimate, ci_low,
        ci_high, and optionally n and method. Several methods per term are drawn side by side.
    lang : {"en", "id"}
        Language of the labels.
    reference : float or None, default 0
        Where to draw the "no effect" line (use 1 for ratios); None for no line.
    xlabel : str, optional
        Axis label; default the label of "estimate" in ``lang``.
    title : str, optional
        Title; default a title in ``lang``; "" for none.
    log_scale : bool
        Log-scaled axis (for rate or hazard ratios).
    n_col : str or None, default "n"
        Column counting the requests behind each estimate; None when ``n`` counts something
        else (regions, months) and the estimates describe no small group of requests.
    threshold : int, default 10
        Estimates whose ``n_col`` is smaller are not drawn (rows without it are drawn).
    sort : bool, default False
        List the terms by the estimate of the first method, smallest (most negative) at the
        top, so that a reader sees at once where the effect is largest; rows of other
        methods (a planted truth) stay beside their term.

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> import pandas as pd
    >>> res = pd.DataFrame({"term": ["social", "social"], "estimate": [-0.8, -0.3],
    ...                     "ci_low": [-1.0, -0.5], "ci_high": [-0.6, -0.1],
    ...                     "n": [500, 500], "method": ["naive", "aipw"]})
    >>> fig = forest_plot(res, lang="id")
    >>> [t.get_text() for t in fig.axes[0].get_yticklabels()]
    ['Media sosial']

    Notes
    -----
    Terms are listed top to bottom in the order they first appear; each method keeps its
    colour and marker across terms, so the figure reads in grey scale too.
    """
    lang = check_lang(lang)
    require_columns(results, ["term", "estimate", "ci_low", "ci_high"], what="forest_plot")
    keys = ["term", "method"] if "method" in results.columns else ["term"]
    supp = _suppress_rows(results, n_col, keys, threshold)
    shown = supp.published
    terms = list(dict.fromkeys(shown["term"].astype("object")))
    methods = list(dict.fromkeys(shown["method"].astype("object"))) if "method" in shown else [None]
    if sort and terms:
        first = shown if methods == [None] else shown.loc[shown["method"] == methods[0]]
        order = dict(
            zip(first["term"].astype("object"), first["estimate"].astype(float), strict=False)
        )
        terms.sort(key=lambda t: (order.get(t, np.inf), str(t)))
    colours = _colours_for(methods)
    markers = ["o", "s", "D", "^", "v", "P"]
    height = max(2.8, 1.2 + 0.55 * len(terms) * max(1, len(methods) * 0.6))
    with house_style():
        width = width or FIGSIZE[0]
        fig, ax = _new_figure((width, height))
        step = 0.7 / max(1, len(methods))
        for j, method in enumerate(methods):
            rows = shown if method is None else shown.loc[shown["method"] == method]
            y = np.array([terms.index(t) for t in rows["term"]], dtype=float)
            y = y + (j - (len(methods) - 1) / 2) * step
            est = rows["estimate"].to_numpy(float)
            lo, hi = rows["ci_low"].to_numpy(float), rows["ci_high"].to_numpy(float)
            ax.hlines(y, lo, hi, color=colours[method], linewidth=2.2)
            ax.plot(
                est,
                y,
                linestyle="none",
                marker=markers[j % len(markers)],
                color=colours[method],
                markeredgecolor="white",
                markersize=8,
                label=None if method is None else label(method, lang),
            )
            for yi, e, low, high in zip(y, est, lo, hi, strict=True):
                ax.annotate(
                    _value_and_interval(e, low, high, lang),
                    xy=(1.0, yi),
                    xycoords=("axes fraction", "data"),
                    xytext=(8, 0),
                    textcoords="offset points",
                    va="center",
                    fontsize=FONT_SIZE - 1,
                    color="#222222",  # coloured text is too faint on white (orange: 2:1)
                    annotation_clip=False,
                )
        if reference is not None:
            ax.axvline(reference, color="#444444", linewidth=1, linestyle="--", zorder=1.5)
        if log_scale:
            ax.set_xscale("log")
        else:
            _localise_axis(ax.xaxis, lang)
        wrap = 30 if width >= FIGSIZE[0] else 22
        ax.set_yticks(range(len(terms)), [textwrap.fill(label(t, lang), wrap) for t in terms])
        ax.set_ylim(len(terms) - 0.5, -0.5)
        ax.grid(axis="x")
        ax.set_xlabel(
            _fit(
                xlabel or f"{label('estimate', lang)} ({label('ci', lang).lower()})",
                0.9 * fig.get_figwidth(),
            )
        )
        if methods != [None] and len(methods) > 1:
            _legend_below(ax, ncols=len(methods) if width >= FIGSIZE[0] else min(2, len(methods)))
        return _finish(fig, ax, title, "title_forest", lang, supp)


def _censor_marks(curve: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """Where requests left a Kaplan-Meier risk set without being resolved: (times, levels).

    A curve of :func:`toolkit.estimate.survival.km_curve` has a row per event time; requests
    censored at an event time are in its ``censored`` column, those censored between two
    event times are the drop of ``at_risk`` that events and censorings there do not explain.
    Those are marked in the middle of the flat step on which they left.
    """
    if not {"censored", "events", "at_risk"} <= set(curve.columns) or curve.empty:
        return np.array([]), np.array([])
    t = curve["time"].to_numpy(float)
    s = curve["survival"].to_numpy(float)
    n = curve["at_risk"].to_numpy(float)
    d = curve["events"].to_numpy(float)
    c = curve["censored"].to_numpy(float)
    between = np.r_[n[:-1] - d[:-1] - c[:-1] - n[1:], 0.0]
    times = np.r_[t[c > 0], ((t[:-1] + t[1:]) / 2)[between[:-1] > 0.5]]
    levels = np.r_[s[c > 0], s[:-1][between[:-1] > 0.5]]
    return times, levels


def _at_risk(curve: pd.DataFrame, when: float) -> float:
    """Requests still open and observed just before ``when`` (0 after the last time)."""
    later = curve.loc[curve["time"] >= when, "at_risk"]
    if len(later):
        return float(later.iloc[0])
    return 0.0


def survival_plot(
    curves: pd.DataFrame,
    *,
    lang: str = "en",
    group_col: str = "group",
    max_time: float | None = None,
    title: str | None = None,
    threshold: int = schema.MIN_CELL_COUNT,
    horizon: float | None = None,
) -> Figure:
    """Kaplan-Meier curves with bands, censor marks, medians and the number at risk below.

    Parameters
    ----------
    curves : pandas.DataFrame
        Tidy, one row per group and time: ``time``, ``survival``, ``ci_low``, ``ci_high``,
        ``group_col``, and the group size as ``n`` (constant per group) or ``at_risk``
        (requests still open and observed just before ``time``); with ``at_risk``,
        ``events`` and ``censored`` (as :func:`toolkit.estimate.survival.km_curve` gives them)
        censored requests are marked and the number at risk is tabled under the axis.
    lang : {"en", "id"}
        Language of the labels.
    group_col : str, default "group"
        Column naming the curve (e.g. channel group).
    max_time : float, optional
        Right end of the time axis. Default: where the slowest curve falls to 5% still open
        (plus a margin), so that a long thin tail does not squeeze the part that matters,
        and never before ``horizon``.
    title : str, optional
        Title; default a title in ``lang``; "" for none.
    threshold : int, default 10
        Groups of fewer requests are not drawn; with ``at_risk``, each curve also stops
        where fewer than ``threshold`` requests remain at risk, and a number at risk below it
        is shown as "–".
    horizon : float, optional
        The horizon of the restricted mean (e.g. 30 days), drawn as a dotted line.

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> import pandas as pd
    >>> curves = pd.DataFrame({"time": [0, 5, 0, 5], "survival": [1, .4, 1, .7],
    ...                        "ci_low": [1, .3, 1, .6], "ci_high": [1, .5, 1, .8],
    ...                        "group": ["social", "social", "traditional", "traditional"],
    ...                        "n": [200, 200, 150, 150]})
    >>> fig = survival_plot(curves, lang="id")
    >>> [t.get_text() for t in fig.axes[0].get_legend().get_texts()]
    ['Media sosial (n = 200)', 'Tradisional (n = 150)']

    Notes
    -----
    The curves are drawn as steps, right-continuous, as the Kaplan-Meier estimator is; a
    dashed line at 50% marks each group's median time to resolution where the curve reaches
    it; short vertical ticks mark requests still open when the log ends (censored). The tail
    where fewer than ``threshold`` requests are at risk is cut because each step there would
    describe a handful of requests.

    References
    ----------
    Kaplan, E. L. and Meier, P. (1958). Nonparametric estimation from incomplete
    observations. *Journal of the American Statistical Association*, 53(282), 457-481.
    """
    lang = check_lang(lang)
    require_columns(
        curves, ["time", "survival", "ci_low", "ci_high", group_col], what="survival_plot"
    )
    size_col = "n" if "n" in curves.columns else "at_risk"
    require_columns(curves, [size_col], what="survival_plot (group sizes, for disclosure control)")
    sizes = (
        curves.groupby(group_col, sort=False, observed=True)[size_col]
        .max()
        .rename("n")
        .reset_index()
    )
    supp = _suppress_rows(sizes, "n", [group_col], threshold)
    shown_groups = _ordered(supp.published[group_col])
    n_of = dict(zip(supp.published[group_col], supp.published["n"], strict=True))
    colours = _colours_for(shown_groups)
    table = "at_risk" in curves.columns and bool(shown_groups)
    with house_style():
        fig = Figure(
            figsize=(FIGSIZE[0], FIGSIZE[1] + (0.3 * len(shown_groups) if table else 0)),
            layout="constrained",
        )
        if table:
            ax, risk = fig.subplots(
                2, 1, sharex=True, height_ratios=[4.2, 0.55 + 0.32 * len(shown_groups)]
            )
        else:
            ax, risk = fig.subplots(), None
        for axes in (ax, risk):
            if axes is not None:
                axes.tick_params(labelsize=FONT_SIZE - 1, length=3, colors="#444444")
        kept: dict[object, pd.DataFrame] = {}
        for group in shown_groups:
            curve = curves.loc[curves[group_col] == group].sort_values("time", kind="stable")
            if "at_risk" in curve.columns:
                curve = curve.loc[curve["at_risk"] >= threshold]
            kept[group] = curve
            t = curve["time"].to_numpy(float)
            colour = colours[group]
            ax.fill_between(
                t,
                curve["ci_low"].to_numpy(float),
                curve["ci_high"].to_numpy(float),
                step="post",
                color=colour,
                alpha=0.18,
                linewidth=0,
            )
            ax.step(
                t,
                curve["survival"].to_numpy(float),
                where="post",
                color=colour,
                label=f"{label(group, lang)} (n = {_count(n_of[group], lang)})",
            )
            marks_t, marks_s = _censor_marks(curve)
            if len(marks_t):
                ax.plot(
                    marks_t,
                    marks_s,
                    linestyle="none",
                    marker="|",
                    markersize=6,
                    markeredgewidth=0.9,
                    color=colour,
                    alpha=0.8,
                )
            below = curve.loc[curve["survival"] <= 0.5, "time"]
            if len(below):
                median = float(below.iloc[0])
                ax.plot(
                    [0, median, median],
                    [0.5, 0.5, 0],
                    color=colour,
                    linewidth=0.9,
                    linestyle="--",
                    alpha=0.9,
                )
        ax.set_ylim(0, 1.02)
        if max_time is None:
            ends = []
            for group in shown_groups:
                curve = curves.loc[curves[group_col] == group]
                low = curve.loc[curve["survival"] <= 0.05, "time"]
                ends.append(float(low.min() if len(low) else curve["time"].max()))
            max_time = 1.1 * max(ends) if ends else None
            if max_time is not None and horizon is not None:
                max_time = max(max_time, 1.08 * horizon)
        ax.set_xlim(0, max_time)
        if horizon is not None:
            ax.axvline(horizon, color="#444444", linewidth=1, linestyle=":")
            ax.annotate(
                text("figure_words", "horizon", lang, tau=horizon),
                xy=(horizon, 1.0),
                xycoords=("data", "axes fraction"),
                xytext=(4, -2),
                textcoords="offset points",
                va="top",
                fontsize=FONT_SIZE - 2,
                color="#444444",
            )
        ax.yaxis.set_major_formatter(PercentFormatter(1.0, decimals=0))
        _localise_axis(ax.xaxis, lang)
        ax.grid(axis="y")
        ax.set_ylabel(_fit(label("share_open", lang), 0.6 * fig.get_figheight()))
        if shown_groups:
            ax.legend(loc="upper right")
        if risk is None:
            ax.set_xlabel(label("time_days", lang))
        else:
            fig.canvas.draw_idle()
            ticks = [x for x in ax.get_xticks() if 0 <= x <= (max_time or np.inf)]
            risk.set_ylim(len(shown_groups) - 0.5, -0.9)
            risk.set_yticks(range(len(shown_groups)), [label(g, lang) for g in shown_groups])
            for y, group in enumerate(shown_groups):
                risk.get_yticklabels()[y].set_color(colours[group])
                for x in ticks:
                    count = _at_risk(kept[group], x)
                    shown = _count(count, lang) if count >= threshold else "–"
                    risk.text(x, y, shown, ha="center", va="center", fontsize=FONT_SIZE - 2)
            risk.set_title(
                text("figure_words", "at_risk", lang),
                loc="left",
                fontsize=FONT_SIZE - 1,
                fontweight="normal",
            )
            for side in ("left", "top", "right"):
                risk.spines[side].set_visible(False)
            risk.tick_params(axis="y", length=0, pad=18)
            risk.set_xlabel(label("time_days", lang))
            _localise_axis(risk.xaxis, lang)
            risk.set_xticks(ticks)
        return _finish(fig, ax, title, "title_km", lang, supp)


def hops_summary(cases: pd.DataFrame, by: str = schema.CHANNEL_GROUP) -> pd.DataFrame:
    """Mean hops per request by group, with a normal 95% interval and n: the bar chart's input.

    Parameters
    ----------
    cases : pandas.DataFrame
        The case table (``hops`` and ``by``). Requests whose hops are missing are left out.
    by : str, default "channel_group"
        Grouping column.

    Returns
    -------
    pandas.DataFrame
        Columns ``by``, hops (mean), ci_low, ci_high, n.

    Examples
    --------
    >>> import pandas as pd
    >>> cases = pd.DataFrame({"channel_group": ["social", "social", "digital"],
    ...                       "hops": [1, 3, 2]})
    >>> hops_summary(cases)
      channel_group  hops  ci_low  ci_high  n
    0        social   2.0    0.04     3.96  2
    1       digital   2.0     NaN      NaN  1

    Notes
    -----
    The interval is mean ± 1.96 standard errors (sample standard deviation over sqrt(n)).
    """
    require_columns(cases, [schema.HOPS, by], what="hops_summary")
    hops = pd.to_numeric(cases[schema.HOPS], errors="coerce").astype("float64")
    grouped = hops.groupby(cases[by].astype("object"), sort=False)
    out = pd.DataFrame(
        {"hops": grouped.mean(), "sd": grouped.std(), "n": grouped.count().astype("int64")}
    )
    se = out["sd"] / np.sqrt(out["n"])
    out["ci_low"] = (out["hops"] - 1.959964 * se).round(3)
    out["ci_high"] = (out["hops"] + 1.959964 * se).round(3)
    out = out.rename_axis(by).reset_index()
    return out[[by, "hops", "ci_low", "ci_high", "n"]]


def hops_by_channel_plot(
    table: pd.DataFrame,
    *,
    lang: str = "en",
    by: str = schema.CHANNEL_GROUP,
    title: str | None = None,
    threshold: int = schema.MIN_CELL_COUNT,
) -> Figure:
    """Bar chart of mean hand-offs per request by intake channel group, each bar with its n.

    Parameters
    ----------
    table : pandas.DataFrame
        Columns ``by``, ``hops`` (mean hops), ``n`` and optionally ``ci_low``/``ci_high``
        (as made by :func:`hops_summary`).
    lang : {"en", "id"}
        Language of the labels.
    by : str, default "channel_group"
        The grouping column (``channel`` works too).
    title : str, optional
        Title; default a title in ``lang``; "" for none.
    threshold : int, default 10
        Groups of fewer requests are not drawn.

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> import pandas as pd
    >>> table = pd.DataFrame({"channel_group": ["traditional", "social"],
    ...                       "hops": [2.4, 1.1], "n": [300, 120]})
    >>> fig = hops_by_channel_plot(table)
    >>> [t.get_text() for t in fig.axes[0].get_yticklabels()]
    ['Social media', 'Traditional']
    """
    lang = check_lang(lang)
    require_columns(table, [by, "hops", "n"], what="hops_by_channel_plot")
    supp = _suppress_rows(table, "n", [by], threshold)
    shown = supp.published
    order = _ordered(shown[by])
    shown = shown.set_index(shown[by].astype("object")).loc[order]
    colours = _colours_for(order)
    with house_style():
        fig, ax = _new_figure((FIGSIZE[0], max(2.6, 1.3 + 0.45 * len(order))))
        y = np.arange(len(order))
        values = shown["hops"].to_numpy(float)
        ax.barh(y, values, color=[colours[g] for g in order], height=0.62)
        has_ci = {"ci_low", "ci_high"} <= set(shown.columns)
        ends = values.copy()
        if has_ci:
            lo, hi = shown["ci_low"].to_numpy(float), shown["ci_high"].to_numpy(float)
            ok = np.isfinite(lo) & np.isfinite(hi)
            ax.errorbar(
                values[ok],
                y[ok],
                xerr=[values[ok] - lo[ok], hi[ok] - values[ok]],
                fmt="none",
                ecolor="#222222",
                elinewidth=1.2,
                capsize=3,
            )
            ends = np.where(ok, np.fmax(hi, values), values)
        for yi, end, v, n in zip(y, ends, values, shown["n"], strict=True):
            ax.annotate(
                f"{_fmt(v, lang)}  (n = {_count(n, lang)})",
                xy=(end, yi),
                xytext=(6, 0),
                textcoords="offset points",
                va="center",
                fontsize=FONT_SIZE - 1,
            )
        ax.set_yticks(y, [label(g, lang) for g in order])
        ax.set_ylim(max(len(order), 1) - 0.5, -0.5)
        right = float(np.nanmax(ends)) if len(ends) else 1.0
        ax.set_xlim(0, right * 1.35 if right > 0 else 1)
        ax.grid(axis="x")
        _localise_axis(ax.xaxis, lang)
        ax.set_xlabel(label("mean_hops", lang))
        return _finish(fig, ax, title, "title_hops", lang, supp)


def event_study_table(results: pd.DataFrame, outcome: str | None = None) -> pd.DataFrame:
    """The rows of a rollout result that :func:`event_study_plot` draws, with ``event_time``.

    Parameters
    ----------
    results : pandas.DataFrame
        A result table with the rows of :func:`toolkit.estimate.rollout_event_study`: the
        robust event-time effects (method key ``callaway_santanna`` with an ``event_time``),
        naive dynamic TWFE (``twfe`` with an ``event_time``) and the static TWFE estimate
        (``twfe`` without one), read by their descriptors.
    outcome : str, optional
        Keep only rows of this outcome (``hops``, ``rmst_days``).

    Returns
    -------
    pandas.DataFrame
        Columns event_time (float; NaN for the static term), estimate, ci_low, ci_high, n,
        method ("event_study" or "twfe") and cohorts (how many adoption cohorts the
        event-time estimate averages over; NaN where the table has no cohort rows).

    Examples
    --------
    >>> from toolkit.results import result_frame
    >>> res = result_frame([{"term": t, "estimate": e, "ci_low": e - 0.1, "ci_high": e + 0.1,
    ...     "n": 12, "method": "m", "estimand": "att", "outcome": "hops", "event_time": k,
    ...     "method_key": key} for t, e, k, key in (("es_hops[e=-1]", 0.0, -1, "callaway_santanna"),
    ...     ("es_hops[e=0]", -0.5, 0, "callaway_santanna"), ("att_rollout_hops", -0.2, None, "twfe"),
    ...     ("att_rollout_hops", -0.4, None, "callaway_santanna"))])
    >>> event_study_table(res, "hops")[["event_time", "estimate", "method"]]  # doctest: +NORMALIZE_WHITESPACE
       event_time  estimate       method
    0        -1.0       0.0  event_study
    1         0.0      -0.5  event_study
    2         NaN      -0.2         twfe
    """
    require_columns(
        results,
        ["estimate", "ci_low", "ci_high", schema.METHOD_KEY, schema.EVENT_TIME, schema.GROUP],
        what="event_study_table",
    )
    if outcome is not None:
        results = results.loc[
            (results[schema.OUTCOME] == outcome).fillna(False).to_numpy(dtype=bool)
        ]
    rows = results.loc[results[schema.GROUP].isna()]
    by_cohort = results.loc[(results[schema.GROUP] == "cohort").fillna(False).to_numpy(dtype=bool)]
    cohorts = (
        by_cohort.loc[by_cohort[schema.EVENT_TIME].notna()]
        .groupby(by_cohort[schema.EVENT_TIME].astype("Float64").astype(float))[schema.GROUP_VALUE]
        .nunique()
    )
    key = rows[schema.METHOD_KEY]
    timed = rows[schema.EVENT_TIME].notna()
    robust = (key == "callaway_santanna").fillna(False) & timed
    naive = (key == "twfe").fillna(False)
    if schema.ESTIMAND in rows.columns:
        naive &= (rows[schema.ESTIMAND] == "att").fillna(False)
    keep = rows.loc[(robust | naive).to_numpy(dtype=bool)]
    return pd.DataFrame(
        {
            "event_time": keep[schema.EVENT_TIME].astype("Float64").astype(float).to_numpy(),
            "estimate": keep["estimate"].to_numpy(dtype=float),
            "ci_low": keep["ci_low"].to_numpy(dtype=float),
            "ci_high": keep["ci_high"].to_numpy(dtype=float),
            "n": keep["n"].astype("Float64").astype(float).to_numpy() if "n" in keep else np.nan,
            "method": np.where(
                (keep[schema.METHOD_KEY] == "twfe").to_numpy(dtype=bool), "twfe", "event_study"
            ),
            "cohorts": keep[schema.EVENT_TIME]
            .astype("Float64")
            .astype(float)
            .map(cohorts)
            .to_numpy(dtype=float),
        },
        columns=["event_time", "estimate", "ci_low", "ci_high", "n", "method", "cohorts"],
    ).reset_index(drop=True)


def event_study_plot(
    table: pd.DataFrame,
    *,
    lang: str = "en",
    naive_methods: Sequence[str] = ("twfe", "naive"),
    ylabel: str | None = None,
    title: str | None = None,
    n_col: str | None = "n",
    threshold: int = schema.MIN_CELL_COUNT,
    bands: pd.DataFrame | None = None,
) -> Figure:
    """Event-study estimates before and after the social-media desk opened, naive TWFE beside.

    Parameters
    ----------
    table : pandas.DataFrame
        Tidy: ``event_time`` (periods relative to adoption; -1 is usually the reference),
        ``estimate``, ``ci_low``, ``ci_high``, ``method``, optionally ``n``. A row with a
        missing ``event_time`` is a static estimate (e.g. the naive TWFE coefficient): it is
        drawn as a level with its band over the periods after adoption.
        :func:`event_study_table` makes this table from a rollout result.
    lang : {"en", "id"}
        Language of the labels.
    naive_methods : sequence of str
        Methods drawn as the naive comparison (hollow squares, dashed).
    ylabel : str, optional
        Axis label; default "Effect on the outcome" in ``lang``.
    title : str, optional
        Title; default a title in ``lang``; "" for none.
    n_col : str or None, default "n"
        Column counting the requests behind each estimate; None when it counts regions or
        periods rather than requests.
    threshold : int, default 10
        Estimates with ``n_col`` smaller than this are not drawn.
    bands : pandas.DataFrame, optional
        Simultaneous (uniform) bands of the robust estimates: ``event_time``, ``band_low``,
        ``band_high`` (as ``Headline.diagnostics["event_study_bands"]`` holds them, one
        outcome): drawn as a shaded band behind the pointwise intervals.

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> import pandas as pd
    >>> es = pd.DataFrame({"event_time": [-2, -1, 0, 1] * 2,
    ...                    "estimate": [0.0, 0.0, -0.5, -0.6, 0.1, 0.0, -0.2, -0.3],
    ...                    "ci_low": [-0.1, 0.0, -0.7, -0.8, 0.0, 0.0, -0.4, -0.5],
    ...                    "ci_high": [0.1, 0.0, -0.3, -0.4, 0.2, 0.0, 0.0, -0.1],
    ...                    "method": ["event_study"] * 4 + ["twfe"] * 4})
    >>> fig = event_study_plot(es)
    >>> [t.get_text() for t in fig.axes[0].get_legend().get_texts()]
    ['Robust event study', 'Naive two-way fixed effects']

    Notes
    -----
    The dotted vertical line sits half a period before time 0, between the last period
    before and the first period after adoption, and the periods before it are shaded.
    Pre-period estimates near zero support parallel trends; they do not prove it. With a
    ``cohorts`` column (:func:`event_study_table`), estimates that rest on a single cohort of
    districts (the end periods of a staggered rollout) are drawn hollow.

    References
    ----------
    Callaway, B. and Sant'Anna, P. H. C. (2021). Difference-in-differences with multiple
    time periods. *Journal of Econometrics*, 225(2), 200-230.
    """
    lang = check_lang(lang)
    require_columns(table, ["event_time", "estimate", "ci_low", "ci_high"], what="event_study_plot")
    if "method" not in table.columns:
        table = table.assign(method="event_study")
    supp = _suppress_rows(table, n_col, ["event_time", "method"], threshold)
    shown = supp.published
    static = shown.loc[shown["event_time"].isna()]
    shown = shown.loc[shown["event_time"].notna()]
    methods = list(dict.fromkeys(shown["method"].astype("object")))
    methods += [m for m in dict.fromkeys(static["method"].astype("object")) if m not in methods]
    methods.sort(key=lambda m: m in naive_methods)  # robust first
    robust_colours = iter(c for c in SERIES_COLOURS if c != OKABE_ITO["vermillion"])
    with house_style():
        fig, ax = _new_figure()
        offset = 0.12 if len(methods) > 1 else 0.0
        for j, method in enumerate(methods):
            rows = shown.loc[shown["method"] == method].sort_values("event_time")
            naive = method in naive_methods
            colour = OKABE_ITO["vermillion"] if naive else next(robust_colours)
            level = static.loc[static["method"] == method]
            if len(level):
                right = max(float(shown["event_time"].max()) if len(shown) else 0.0, 1.0)
                x_span = [-0.5, right + 0.5]
                est = float(level["estimate"].iloc[0])
                ax.fill_between(
                    x_span,
                    float(level["ci_low"].iloc[0]),
                    float(level["ci_high"].iloc[0]),
                    color=colour,
                    alpha=0.12,
                    linewidth=0,
                )
                ax.plot(
                    x_span,
                    [est, est],
                    color=colour,
                    linestyle="--",
                    linewidth=2,
                    label=f"{label(method, lang)}: {_fmt(est, lang)}",
                )
            if rows.empty:
                continue
            x = rows["event_time"].to_numpy(float) + (j - (len(methods) - 1) / 2) * offset
            est = rows["estimate"].to_numpy(float)
            lo, hi = rows["ci_low"].to_numpy(float), rows["ci_high"].to_numpy(float)
            if bands is not None and not naive and len(bands):
                band = bands.set_index(bands["event_time"].astype(float))
                inside = band.reindex(rows["event_time"].to_numpy(float))
                ax.fill_between(
                    rows["event_time"].to_numpy(float),
                    inside["band_low"].to_numpy(float),
                    inside["band_high"].to_numpy(float),
                    step="mid",
                    color=colour,
                    alpha=0.15,
                    linewidth=0,
                    label=text("figure_words", "uniform_band", lang),
                )
            ax.vlines(x, lo, hi, color=colour, linewidth=1.8, alpha=0.9)
            if not naive and "cohorts" in rows.columns:
                single = (rows["cohorts"] <= 1).to_numpy(dtype=bool)
                if single.any():
                    ax.plot(
                        x[single],
                        est[single],
                        linestyle="none",
                        marker="o",
                        markersize=8,
                        markerfacecolor="white",
                        markeredgecolor=colour,
                        markeredgewidth=1.8,
                        zorder=4,
                        label=text("figure_words", "few_cells", lang),
                    )
            ax.plot(
                x,
                est,
                marker="s" if naive else "o",
                markerfacecolor="white" if naive else colour,
                markeredgecolor=colour,
                markeredgewidth=1.8,
                color=colour,
                linestyle="--" if naive else "-",
                linewidth=1.2,
                label=label(method, lang),
            )
        ax.axhline(0, color="#444444", linewidth=1)
        ax.axvline(-0.5, color="#444444", linewidth=1, linestyle=":")
        if len(shown):
            left = float(shown["event_time"].min()) - 0.5
            if left < -0.5:
                ax.axvspan(left, -0.5, color="#000000", alpha=0.05, linewidth=0, zorder=0)
        ax.annotate(
            f"← {label('before', lang)}",
            xy=(-0.5, 1.0),
            xycoords=("data", "axes fraction"),
            xytext=(-6, -2),
            textcoords="offset points",
            ha="right",
            va="top",
            color="#444444",
        )
        ax.annotate(
            f"{label('after', lang)} →",
            xy=(-0.5, 1.0),
            xycoords=("data", "axes fraction"),
            xytext=(6, -2),
            textcoords="offset points",
            ha="left",
            va="top",
            color="#444444",
        )
        times = shown["event_time"].to_numpy(float)
        if len(times) > 1:
            low, high = float(np.floor(times.min())), float(np.ceil(times.max()))
            step = next((k for k in (1, 2, 3, 4, 6, 12) if (high - low) / k <= 14), 24)
            # Multiples of the step, so that 0 (the first period after adoption) is a tick.
            ticks = np.arange(np.ceil(low / step) * step, high + 1, step)
            ax.set_xticks(ticks)
        ax.grid(axis="y")
        ax.set_xlabel(label("event_time", lang))
        _localise_axis(ax.yaxis, lang)
        # The axes are shorter than the figure: a long label would run off its top.
        ax.set_ylabel(_fit(ylabel or label("effect", lang), 0.7 * fig.get_figheight()))
        if methods:
            _legend_below(ax, ncols=len(methods))
        return _finish(fig, ax, title, "title_event_study", lang, supp)


def _edge_list(flows: pd.DataFrame | nx.DiGraph) -> pd.DataFrame:
    columns = [schema.FROM_AGENCY, schema.TO_AGENCY, schema.COUNT]
    if isinstance(flows, nx.Graph):
        rows = [
            {
                schema.FROM_AGENCY: u,
                schema.TO_AGENCY: v,
                schema.COUNT: data.get("weight", data.get(schema.COUNT, 1)),
                schema.MEDIAN_HOURS: data.get(schema.MEDIAN_HOURS, np.nan),
            }
            for u, v, data in flows.edges(data=True)
        ]
        return pd.DataFrame(rows, columns=[*columns, schema.MEDIAN_HOURS])
    require_columns(flows, columns, what="network_plot")
    grouped = flows.groupby([schema.FROM_AGENCY, schema.TO_AGENCY], sort=True, observed=True)
    out = grouped[schema.COUNT].sum().reset_index()
    if schema.MEDIAN_HOURS in flows.columns:
        # Over groups of one pair (e.g. channel groups), the count-weighted mean of medians.
        weighted = flows.assign(_w=flows[schema.MEDIAN_HOURS] * flows[schema.COUNT])
        sums = weighted.groupby([schema.FROM_AGENCY, schema.TO_AGENCY], sort=True, observed=True)
        out[schema.MEDIAN_HOURS] = (sums["_w"].sum() / sums[schema.COUNT].sum()).to_numpy()
    else:
        out[schema.MEDIAN_HOURS] = np.nan
    return out


#: Node names of the process map's start and end (never an agency's name).
START_NODE, END_NODE = "__start__", "__end__"


def _layers(nodes: Sequence[str], edges: Sequence[tuple[str, str]]) -> dict[str, int]:
    """Layer of each node: its distance in hand-offs from the start (unreached: after the rest)."""
    succ: dict[str, list[str]] = {n: [] for n in nodes}
    for u, v in edges:
        succ[u].append(v)
    layer = {START_NODE: 0}
    frontier = [START_NODE]
    while frontier:
        nxt = []
        for u in frontier:
            for v in succ.get(u, []):
                if v not in layer and v != END_NODE:
                    layer[v] = layer[u] + 1
                    nxt.append(v)
        frontier = nxt
    deepest = max(layer.values(), default=0)
    for n in nodes:
        if n not in layer and n != END_NODE:
            layer[n] = max(1, deepest)
    layer[END_NODE] = max(layer.values()) + 1
    return layer


def _order(layer: Mapping[str, int], edges: Sequence[tuple[str, str, float]]) -> dict[str, float]:
    """Position of each node within its layer: barycentres of its neighbours, a few sweeps."""
    by_layer: dict[int, list[str]] = {}
    for n, k in sorted(layer.items(), key=lambda item: (item[1], item[0])):
        by_layer.setdefault(k, []).append(n)
    pos = {n: float(i) for k in by_layer for i, n in enumerate(by_layer[k])}
    for sweep in range(6):
        layers = sorted(by_layer) if sweep % 2 == 0 else sorted(by_layer, reverse=True)
        for k in layers:

            def centre(n: str, k: int = k) -> float:
                near = [
                    (pos[v if u == n else u], w)
                    for u, v, w in edges
                    if n in (u, v) and layer[v if u == n else u] != k
                ]
                total = sum(w for _, w in near)
                return sum(p * w for p, w in near) / total if total else pos[n]

            ranked = sorted(by_layer[k], key=lambda n: (centre(n), n))
            by_layer[k] = ranked
            for i, n in enumerate(ranked):
                pos[n] = float(i)
    # Centre each layer on the tallest one.
    tallest = max(len(v) for v in by_layer.values())
    for members in by_layer.values():
        for i, n in enumerate(members):
            pos[n] = i + (tallest - len(members)) / 2
    return pos


def network_plot(
    flows: pd.DataFrame | nx.DiGraph,
    *,
    lang: str = "en",
    max_agencies: int = 15,
    max_edges: int | None = 40,
    title: str | None = None,
    threshold: int = schema.MIN_CELL_COUNT,
    starts: pd.DataFrame | None = None,
    ends: pd.DataFrame | None = None,
) -> Figure:
    """A process map of hand-offs: agencies in layers from left to right, flows as labelled arrows.

    Parameters
    ----------
    flows : pandas.DataFrame or networkx.DiGraph
        An edge list (from_agency, to_agency, count, optionally median_hours; other columns are
        summed over) or the graph of :func:`toolkit.handover_graph` (edge attribute ``weight``).
    lang : {"en", "id"}
        Language of the labels.
    max_agencies : int, default 15
        At most this many agencies: flows are taken largest first, and a flow is left out only
        when it would bring in an agency beyond this number, so the largest flows are always
        drawn.
    max_edges : int or None, default 40
        At most this many flows (None: all).
    title : str, optional
        Title; default a title in ``lang``; "" for none.
    threshold : int, default 10
        Agency pairs (and start or end counts) with fewer hand-offs are not drawn.
    starts, ends : pandas.DataFrame, optional
        ``agency`` and ``count``: requests received first by each agency (drawn from a start
        node) and requests resolved last by each agency (drawn into an end node).

    Returns
    -------
    matplotlib.figure.Figure
        Its ``sekat_left_out`` names, in ``lang``, the flows not drawn and their share of the
        hand-offs, for the caption.

    Examples
    --------
    >>> import pandas as pd
    >>> flows = pd.DataFrame({"from_agency": ["Intake", "Intake", "Roads"],
    ...                       "to_agency": ["Roads", "Water", "Intake"],
    ...                       "count": [120, 40, 3], "median_hours": [5.0, 8.5, 2.0]})
    >>> fig = network_plot(flows)
    >>> figure_suppression(fig)
      from_agency to_agency suppression
    0       Roads    Intake     primary
    >>> sorted(t.get_text() for t in fig.axes[0].texts if t.get_gid() == "agency")
    ['Intake', 'Roads', 'Water']
    >>> sorted(t.get_text() for t in fig.axes[0].texts if t.get_gid() == "flow")
    ['120 · 5.0 h', '40 · 8.5 h']

    Notes
    -----
    The layout is layered, as process maps are (Sugiyama et al., 1981): each agency sits in
    the column of its distance in hand-offs from where requests start, agencies within a
    column are ordered by the barycentre of their neighbours to keep arrows from crossing,
    and a flow that goes back to an earlier column (a return) bends around. Each arrow is
    labelled with its number of hand-offs and the median hours between the two events; node
    sizes are all equal, since sizing them by flow would publish each agency's total and let
    a suppressed pair be recomputed by subtraction.

    References
    ----------
    Sugiyama, K., Tagawa, S. and Toda, M. (1981). Methods for visual understanding of
    hierarchical system structures. *IEEE Transactions on Systems, Man, and Cybernetics*,
    11(2), 109-125.
    """
    lang = check_lang(lang)
    edges = _edge_list(flows)
    edges = edges.loc[edges[schema.FROM_AGENCY] != edges[schema.TO_AGENCY]]
    supp = _suppress_rows(edges, schema.COUNT, [schema.FROM_AGENCY, schema.TO_AGENCY], threshold)
    shown = supp.published.sort_values(
        [schema.COUNT, schema.FROM_AGENCY, schema.TO_AGENCY],
        ascending=[False, True, True],
        kind="stable",
    )
    kept, agencies = [], []
    for row in shown.to_dict("records"):
        if max_edges is not None and len(kept) >= max_edges:
            break
        new = [a for a in (row[schema.FROM_AGENCY], row[schema.TO_AGENCY]) if a not in agencies]
        if len(agencies) + len(new) > max_agencies and kept:
            continue
        agencies += new
        kept.append(row)
    total = float(shown[schema.COUNT].sum())
    drawn_total = float(sum(r[schema.COUNT] for r in kept))
    left = len(shown) - len(kept)
    terminals = []
    for table, node in ((starts, START_NODE), (ends, END_NODE)):
        if table is None:
            continue
        require_columns(table, [schema.AGENCY, schema.COUNT], what="network_plot")
        ok = table.loc[table[schema.AGENCY].isin(agencies)]
        ok = _suppress_rows(ok, schema.COUNT, [schema.AGENCY], threshold).published
        for agency, count in ok[[schema.AGENCY, schema.COUNT]].itertuples(index=False):
            pair = (node, agency) if node == START_NODE else (agency, node)
            terminals.append((*pair, float(count)))
    nodes = [START_NODE, *sorted(str(a) for a in agencies), END_NODE]
    links = [
        (str(r[schema.FROM_AGENCY]), str(r[schema.TO_AGENCY]), float(r[schema.COUNT])) for r in kept
    ]
    starting = [(u, v) for u, v, _ in terminals if u == START_NODE]
    if not starting and agencies:
        # Without start counts, requests start where flows leave from but never arrive.
        arriving = {v for _, v, _ in links}
        sources = [a for a in agencies if a not in arriving] or [agencies[0]]
        starting = [(START_NODE, str(a)) for a in sources]
    layer = _layers(nodes, starting + [(u, v) for u, v, _ in links])
    show_start = any(u == START_NODE for u, _, _ in terminals)
    show_end = any(v == END_NODE for _, v, _ in terminals)
    if not show_start:
        layer.pop(START_NODE)
    if not show_end:
        layer.pop(END_NODE)
    position = _order(layer, links + terminals) if agencies else {}
    columns = max(layer.values(), default=0) - min(layer.values(), default=0) + 1
    rows = max((list(layer.values()).count(k) for k in set(layer.values())), default=1)
    with house_style():
        fig, ax = _new_figure((min(13.0, 1.2 + 2.3 * columns), min(10.0, 1.4 + 0.95 * rows)))
        ax.set_axis_off()
        if agencies:
            xy = {n: (float(layer[n]), -position[n]) for n in layer}
            biggest = max([w for *_, w in links + terminals], default=1.0)
            boxes = {}
            for node, (x, y) in xy.items():
                terminal = node in (START_NODE, END_NODE)
                name = (
                    text("figure_words", "start" if node == START_NODE else "end", lang)
                    if terminal
                    else textwrap.fill(label(node, lang), 16)
                )
                boxes[node] = ax.text(
                    x,
                    y,
                    name,
                    ha="center",
                    va="center",
                    fontsize=FONT_SIZE - 1,
                    zorder=5,
                    gid="terminal" if terminal else "agency",
                    fontweight="bold" if terminal else "normal",
                    bbox={
                        "boxstyle": "round,pad=0.4",
                        "linewidth": 0.8,
                        "facecolor": "#E8E8E8" if terminal else "white",
                        "edgecolor": "#444444",
                    },
                ).get_bbox_patch()
            xs = [p[0] for p in xy.values()]
            ys = [p[1] for p in xy.values()]
            ax.set_xlim(min(xs) - 0.6, max(xs) + 0.6)
            ax.set_ylim(min(ys) - 0.7, max(ys) + 0.7)
            fig.canvas.draw()  # settle the layout: arc3 curves bend in display space
            to_screen, to_data = ax.transData.transform, ax.transData.inverted().transform
            hours = {
                (str(r[schema.FROM_AGENCY]), str(r[schema.TO_AGENCY])): r.get(
                    schema.MEDIAN_HOURS, np.nan
                )
                for r in kept
            }
            for u, v, w in links + terminals:
                if u not in xy or v not in xy:
                    continue
                (x0, y0), (x1, y1) = xy[u], xy[v]
                forward = x1 - x0
                rad = 0.0 if forward == 1 else (0.25 if forward > 1 else -0.45)
                if forward == 0:
                    rad = 0.5
                line = 0.6 + 6.0 * w / biggest
                terminal = START_NODE in (u, v) or END_NODE in (u, v)
                ax.add_patch(
                    FancyArrowPatch(
                        (x0, y0),
                        (x1, y1),
                        patchA=boxes[u],
                        patchB=boxes[v],
                        shrinkA=2,
                        shrinkB=3,
                        arrowstyle="-|>",
                        connectionstyle=f"arc3,rad={rad}",
                        mutation_scale=10 + 1.4 * line,
                        linewidth=line,
                        color=NEUTRAL if terminal else OKABE_ITO["blue"],
                        alpha=0.55,
                        zorder=3,
                        label=f"{u} → {v}",
                    )
                )
                # The midpoint of matplotlib's arc3 curve (a quadratic Bezier in pixels).
                (px0, py0), (px1, py1) = to_screen([(x0, y0), (x1, y1)])
                cx = (px0 + px1) / 2 + rad * (py1 - py0)
                cy = (py0 + py1) / 2 - rad * (px1 - px0)
                mx, my = to_data(
                    (0.25 * px0 + 0.5 * cx + 0.25 * px1, 0.25 * py0 + 0.5 * cy + 0.25 * py1)
                )
                words = _count(w, lang)
                median = hours.get((u, v), np.nan)
                if median is not None and np.isfinite(median):
                    words += f" · {format_number(median, lang, decimals=1)} "
                    words += text("figure_words", "hours", lang)
                ax.text(
                    mx,
                    my,
                    words,
                    ha="center",
                    va="center",
                    fontsize=FONT_SIZE - 3,
                    zorder=6,
                    gid="flow",
                    color="#222222",
                    bbox={
                        "boxstyle": "round,pad=0.15",
                        "facecolor": "white",
                        "edgecolor": "none",
                        "alpha": 0.85,
                    },
                )
        fig = _finish(fig, ax, title, "title_network", lang, supp)
    share = format_number(100 * (total - drawn_total) / total, lang, decimals=0) if total else "0"
    fig.sekat_left_out = (
        text("figure_words", "flows_left_out", lang, flows=left, share=share, drawn=len(kept))
        if left
        else text("figure_words", "flows_all_drawn", lang, drawn=len(kept))
    )
    return fig


def impact_plot(
    table: pd.DataFrame,
    *,
    lang: str = "en",
    measure: str = "hours_saved",
    unit: str | Mapping[str, str] | None = None,
    panels: bool = False,
    title: str | None = None,
    n_col: str | None = "n",
    threshold: int = schema.MIN_CELL_COUNT,
    width: float | None = None,
) -> Figure:
    """What each scenario is worth: an estimate with its interval, one bar per scenario.

    Parameters
    ----------
    table : pandas.DataFrame
        Tidy: ``term`` (scenario), ``estimate``, ``ci_low``, ``ci_high``, optionally ``n``.
    lang : {"en", "id"}
        Language of the labels.
    measure : str, default "hours_saved"
        What the estimate measures (a :data:`toolkit.report.words.LABELS` key such as
        "hops_saved", "hours_saved", "days_saved", "cost_saved", or a text).
    unit : str or mapping of term to str, optional
        Unit shown after the measure, e.g. "IDR million per year"; with ``panels``, a unit
        per term (e.g. ``{"staff_cost_saved": "IDR per year"}``).
    panels : bool, default False
        One panel with its own scale per row, for rows in different units (the rows of
        :func:`toolkit.estimate.impact.scenario_impact`); otherwise all rows share one axis (the same
        measure under several scenarios).
    title : str, optional
        Title; default a title in ``lang``; "" for none.
    n_col : str or None, default "n"
        Column counting the requests behind each scenario; None if it counts none.
    threshold : int, default 10
        Scenarios with ``n_col`` smaller are not drawn.
    width : float, optional
        Width in inches (default :data:`FIGSIZE`).

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> import pandas as pd
    >>> table = pd.DataFrame({"term": ["30% walk-in to social"], "estimate": [1200.0],
    ...                       "ci_low": [800.0], "ci_high": [1600.0]})
    >>> impact_plot(table, lang="id", unit="jam/tahun").axes[0].get_xlabel()
    'Jam warga yang dihemat (jam/tahun)'
    >>> rows = pd.DataFrame({"term": ["handoffs_saved", "total_value"], "estimate": [900., 5e6],
    ...                      "ci_low": [600., 3e6], "ci_high": [1200., 7e6]})
    >>> len(impact_plot(rows, panels=True, unit={"total_value": "IDR"}).axes)
    2
    """
    lang = check_lang(lang)
    require_columns(table, ["term", "estimate", "ci_low", "ci_high"], what="impact_plot")
    supp = _suppress_rows(table, n_col, ["term"], threshold)
    shown = supp.published
    terms = shown["term"].astype("object").tolist()
    est = shown["estimate"].to_numpy(float)
    lo, hi = shown["ci_low"].to_numpy(float), shown["ci_high"].to_numpy(float)
    units = _units(unit, terms)
    with house_style():
        if panels and len(terms) > 1:
            fig = Figure(
                figsize=(width or FIGSIZE[0], 1.0 + 1.05 * len(terms)), layout="constrained"
            )
            axes = list(np.atleast_1d(fig.subplots(len(terms), 1)))
        else:
            fig, ax = _new_figure((width or FIGSIZE[0], max(2.6, 1.3 + 0.6 * len(terms))))
            axes = [ax]
        rows = [[i] for i in range(len(terms))] if len(axes) > 1 else [list(range(len(terms)))]
        for ax, members in zip(axes, rows, strict=True):
            ax.tick_params(labelsize=FONT_SIZE - 1, length=3, colors="#444444")
            members = np.asarray(members, dtype=int)
            _impact_bars(ax, est[members], lo[members], hi[members], lang)
            names = [label(terms[i], lang) for i in members]
            if len(axes) > 1 and units[members[0]]:
                names = [f"{names[0]}\n({units[members[0]]})"]
            # Wrap each line on its own: textwrap.fill would merge the unit's line break away.
            wrapped = ["\n".join(textwrap.fill(line, 28) for line in n.split("\n")) for n in names]
            ax.set_yticks(np.arange(len(members)), wrapped)
        if len(axes) == 1:
            xlabel = label(measure, lang)
            text = f"{xlabel} ({unit})" if isinstance(unit, str) else xlabel
            axes[0].set_xlabel(_fit(text, 0.9 * fig.get_figwidth()))
        return _finish(fig, axes[0], title, "title_impact", lang, supp)


def _units(unit: str | Mapping[str, str] | None, terms: Sequence[object]) -> list[str]:
    if isinstance(unit, Mapping):
        return [str(unit.get(t, "")) for t in terms]
    return [unit or ""] * len(terms)


def _impact_bars(ax, est: np.ndarray, lo: np.ndarray, hi: np.ndarray, lang: str) -> None:
    """Bars with intervals and their values in a column right of the axes."""
    y = np.arange(len(est))
    ax.barh(y, est, height=0.6, color=OKABE_ITO["bluish_green"])
    ok = np.isfinite(lo) & np.isfinite(hi)
    ax.errorbar(
        est[ok],
        y[ok],
        xerr=[est[ok] - lo[ok], hi[ok] - est[ok]],
        fmt="none",
        ecolor="#222222",
        elinewidth=1.4,
        capsize=4,
    )
    for yi, e, low, high in zip(y, est, lo, hi, strict=True):
        ax.annotate(
            _value_and_interval(e, low, high, lang, sep="\n"),
            xy=(1.0, yi),
            xycoords=("axes fraction", "data"),
            xytext=(10, 0),
            textcoords="offset points",
            va="center",
            fontsize=FONT_SIZE - 1,
            annotation_clip=False,
        )
    ax.axvline(0, color="#444444", linewidth=1)
    ax.set_ylim(len(est) - 0.5, -0.5)
    if len(est):
        left = min(0.0, float(np.nanmin(np.fmin(lo, est))))
        right = max(0.0, float(np.nanmax(np.fmax(hi, est))))
        span = (right - left) or 1.0
        ax.set_xlim(left - 0.04 * span, right + 0.04 * span)
    ax.grid(axis="x")
    _localise_axis(ax.xaxis, lang)


#: Reason given to the rows that pass validation, in :func:`validation_plot`'s input.
KEPT: str = "kept"


def validation_counts(report: Mapping[str, object]) -> pd.DataFrame:
    """Turn a validation report (dict) into the tidy table :func:`validation_plot` draws.

    Parameters
    ----------
    report : mapping
        Holds ``rows_kept`` and a mapping of quarantine reason to row count under
        ``reasons`` (or ``quarantine_reasons``, ``by_reason``).

    Returns
    -------
    pandas.DataFrame
        Columns ``reason`` ("kept" for the kept rows) and ``count``.

    Examples
    --------
    >>> validation_counts({"rows_kept": 980, "reasons": {"missing_timestamp": 20}})
                  reason  count
    0               kept    980
    1  missing_timestamp     20
    """
    if "rows_kept" not in report:
        raise SekatError("the validation report has no 'rows_kept'")
    reasons: Mapping[str, object] = {}
    for key in ("reasons", "quarantine_reasons", "by_reason"):
        if isinstance(report.get(key), Mapping):
            reasons = report[key]  # type: ignore[assignment]
            break
    rows = [{"reason": KEPT, "count": int(report["rows_kept"])}]  # type: ignore[arg-type]
    rows += [{"reason": str(k), "count": int(v)} for k, v in reasons.items()]  # type: ignore[arg-type]
    return pd.DataFrame(rows)


def validation_plot(
    counts: pd.DataFrame | Mapping[str, object],
    *,
    lang: str = "en",
    title: str | None = None,
    threshold: int = schema.MIN_CELL_COUNT,
) -> Figure:
    """Rows kept and quarantined during validation, quarantined rows broken down by reason.

    Parameters
    ----------
    counts : pandas.DataFrame or mapping
        Columns ``reason`` and ``count``, the kept rows under reason "kept"; or the
        validation report dict (see :func:`validation_counts`).
    lang : {"en", "id"}
        Language of the labels.
    title : str, optional
        Title; default a title in ``lang``; "" for none.
    threshold : int, default 10
        Reasons with fewer rows are not drawn.

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> fig = validation_plot({"rows_kept": 980, "reasons": {"missing_timestamp": 20,
    ...                                                       "unknown_channel": 2}})
    >>> [t.get_text() for t in fig.axes[1].get_yticklabels()]
    ['Missing timestamp']
    >>> figure_suppression(fig)
                reason suppression
    0  unknown_channel     primary
    """
    lang = check_lang(lang)
    if not isinstance(counts, pd.DataFrame):
        counts = validation_counts(counts)
    require_columns(counts, ["reason", "count"], what="validation_plot")
    counts = counts.loc[pd.to_numeric(counts["count"], errors="coerce") != 0]
    supp = _suppress_rows(counts, "count", ["reason"], threshold)
    shown = supp.published
    n_kept = float(counts.loc[counts["reason"] == KEPT, "count"].sum())
    n_quarantined = float(counts.loc[counts["reason"] != KEPT, "count"].sum())
    dropped = shown.loc[shown["reason"] != KEPT].sort_values(
        "count", ascending=False, kind="stable"
    )
    reasons = dropped["reason"].tolist()
    with house_style():
        fig = Figure(figsize=(FIGSIZE[0], 2.4 + 0.45 * max(1, len(reasons))), layout="constrained")
        top, ax = fig.subplots(2, 1, height_ratios=[1.4, max(1.5, len(reasons))])
        for axes in (top, ax):
            axes.tick_params(labelsize=FONT_SIZE - 1, length=3, colors="#444444")
        # Top: the split every reader wants first, as shares of all rows.
        total = n_kept + n_quarantined
        share = n_kept / total if total else 0.0
        top.barh([0], [share], color=OKABE_ITO["blue"], height=0.7)
        top.barh([0], [1 - share], left=[share], color=OKABE_ITO["vermillion"], height=0.7)
        percent = format_number(100 * share, lang, decimals=1)
        top.text(
            0.01,
            0,
            f"{label(KEPT, lang)}: {percent}% ({_count(n_kept, lang)})",
            color="white",
            va="center",
            fontweight="bold",
            transform=top.get_yaxis_transform(),
        )
        top.text(
            1.0,
            -0.85,
            f"{label('quarantined', lang)}: "
            f"{format_number(100 * (1 - share), lang, decimals=1)}% "
            f"({_count(n_quarantined, lang)})",
            ha="right",
            va="center",
            color=OKABE_ITO["vermillion"],
            fontweight="bold",
            transform=top.get_yaxis_transform(),
        )
        top.set_xlim(0, 1)
        top.set_ylim(-1.25, 0.4)
        top.set_axis_off()
        # Bottom: the quarantined rows by reason.
        y = np.arange(len(reasons))
        values = dropped["count"].to_numpy(float)
        ax.barh(y, values, color=OKABE_ITO["vermillion"], height=0.62)
        for yi, v in zip(y, values, strict=True):
            ax.annotate(
                _count(v, lang),
                xy=(v, yi),
                xytext=(5, 0),
                textcoords="offset points",
                va="center",
                fontsize=FONT_SIZE - 1,
            )
        ax.set_yticks(y, [label(r, lang) for r in reasons])
        ax.set_ylim(max(len(reasons), 1) - 0.5, -0.5)
        ax.set_xlim(0, (values.max() if len(values) else 1) * 1.18)
        ax.grid(axis="x")
        _localise_axis(ax.xaxis, lang)
        ax.set_title(label("quarantined_by_reason", lang), loc="left", fontsize=FONT_SIZE)
        ax.set_xlabel(label("rows", lang))
        if not reasons:
            ax.set_axis_off()
            ax.text(
                0.0,
                0.5,
                label("none_quarantined" if n_quarantined == 0 else "all_reasons_small", lang),
                transform=ax.transAxes,
                va="center",
                color="#444444",
            )
        return _finish(fig, ax, title, "title_validation", lang, supp)


def overlap_plot(
    histogram: pd.DataFrame,
    *,
    lang: str = "en",
    title: str | None = None,
    threshold: int = schema.MIN_CELL_COUNT,
    arms: Mapping[str, str] | None = None,
) -> Figure:
    """Histograms of propensity scores: the treated arm above, the control arm below.

    Parameters
    ----------
    histogram : pandas.DataFrame
        ``bin_low``, ``bin_high`` and one count column per arm, ``social`` and
        ``not social`` (the ``propensity_histogram`` of :func:`toolkit.estimate.effects.aipw_hops`).
    lang : {"en", "id"}
        Language of the labels.
    title : str, optional
        Title; default a title in ``lang``; "" for none.
    threshold : int, default 10
        Bins of an arm with fewer requests (but more than none) are not drawn.
    arms : mapping, optional
        The names of the two arms of the contrast, by their columns: ``{"social":
        "twitter", "not social": "phone"}`` (channel or group names joined by ``+``);
        default social media and not social media.

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> import pandas as pd
    >>> hist = pd.DataFrame({"bin_low": [0.0, 0.5], "bin_high": [0.5, 1.0],
    ...                      "social": [40, 3], "not social": [90, 20]})
    >>> fig = overlap_plot(hist)
    >>> figure_suppression(fig)
                arm propensity suppression
    0  Social media  0.50–1.00     primary

    Notes
    -----
    The adjusted estimators compare like with like: requests of the same topic, place and
    month. Where one arm has (almost) no requests at some propensity, there is nobody to
    compare with; weights of ``1/e`` then explode, and the average effect over *all*
    requests (ATE) rests on a handful of requests. The effect on the social requests (ATT)
    needs comparisons only where social requests are.

    References
    ----------
    Crump, R. K., Hotz, V. J., Imbens, G. W. and Mitnik, O. A. (2009). Dealing with limited
    overlap in estimation of average treatment effects. *Biometrika*, 96(1), 187-199.
    """
    lang = check_lang(lang)
    names = {schema.SOCIAL: schema.SOCIAL, "not social": schema.NOT_SOCIAL, **dict(arms or {})}
    arms = (schema.SOCIAL, "not social")
    require_columns(histogram, ["bin_low", "bin_high", *arms], what="overlap_plot")

    def arm_label(arm: str) -> str:
        return " + ".join(label(part, lang) for part in names[arm].split("+"))

    # The record names each masked bin by its arm and its range of propensity, in words.
    ranges = [
        f"{format_number(lo, lang, decimals=2)}–{format_number(hi, lang, decimals=2)}"
        for lo, hi in zip(histogram["bin_low"], histogram["bin_high"], strict=True)
    ]
    long = pd.DataFrame(
        {
            "arm": np.repeat([arm_label(a) for a in arms], len(histogram)),
            "propensity": np.tile(ranges, len(arms)),
            "count": np.concatenate([histogram[a].to_numpy(float) for a in arms]),
        }
    )
    supp = suppress_small_cells(
        long, count_col="count", threshold=threshold, group_cols=["arm", "propensity"], totals=[]
    )
    masked = supp.table
    low = histogram["bin_low"].to_numpy(float)
    width = (histogram["bin_high"] - histogram["bin_low"]).to_numpy(float)
    with house_style():
        fig = Figure(figsize=FIGSIZE, layout="constrained")
        axes = fig.subplots(2, 1, sharex=True)
        for ax, arm in zip(axes, arms, strict=True):
            ax.tick_params(labelsize=FONT_SIZE - 1, length=3, colors="#444444")
            counts = masked.loc[masked["arm"] == arm_label(arm), "count"].to_numpy(float)
            # Shares of each arm's requests, each arm on its own scale: the arms differ in
            # size, and the question is where each one's requests lie.
            total = float(histogram[arm].sum())
            shares = np.nan_to_num(counts) / total if total > 0 else np.zeros_like(counts)
            social = arm == schema.SOCIAL
            colour = CHANNEL_GROUP_COLOURS[schema.SOCIAL] if social else NEUTRAL
            ax.bar(
                low,
                shares,
                width=width,
                align="edge",
                color=colour,
                edgecolor="white",
                linewidth=0.5,
            )
            ax.set_ylim(0, float(shares.max()) * 1.25 if shares.max() > 0 else 0.1)
            ax.yaxis.set_major_locator(MaxNLocator(nbins=3))
            ax.yaxis.set_major_formatter(
                FuncFormatter(lambda v, _p: format_number(v * 100, lang, decimals=0) + "%")
            )
            ax.grid(axis="y")
            ax.text(
                0.99,
                0.95,
                arm_label(arm),
                transform=ax.transAxes,
                ha="right",
                va="top",
                color=colour,
                fontweight="bold",
            )
        axes[0].set_xlim(0, 1)
        _localise_axis(axes[1].xaxis, lang)
        axes[1].set_xlabel(label("propensity", lang))
        fig.supylabel(label("requests_per_bin", lang), fontsize=FONT_SIZE)
        return _finish(fig, axes[0], title, "title_overlap", lang, supp)
