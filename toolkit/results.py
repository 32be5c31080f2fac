"""Tidy result tables: one row per estimate, the same columns from every estimator.

Every estimator in sekat returns a frame with exactly :data:`toolkit.schema.RESULT_TABLE_COLUMNS`:
the tidy columns (term, estimate, std_error, ci_low, ci_high, n, method) that one plotting and
one export function serve, then the *descriptors* that say what each row estimates as data:
``estimand`` (ate, att, difference, ...), ``outcome`` (hops, rmst_days, ...), ``scale``
(difference, ratio, level), ``contrast`` ("social vs not_social"), ``group`` and
``group_value`` for a subgroup, ``event_time`` for an event study and ``method_key`` naming the
estimator. ``term`` and ``method`` are for people; code that needs to know what a row is reads
the descriptors (:func:`select`), never the text.

This module builds and checks such frames, computes normal-theory and percentile intervals,
and widens intervals for multiple comparisons. Estimators that also produce diagnostics
return an :class:`EstimateResult` holding the tidy ``table`` beside a dict of ``diagnostics``
frames.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import stats

from toolkit import schema
from toolkit.errors import SekatError
from toolkit.schema import DESCRIPTOR_COLUMNS, RESULT_COLUMNS, RESULT_TABLE_COLUMNS

TERM, ESTIMATE, STD_ERROR, CI_LOW, CI_HIGH, N, METHOD = RESULT_COLUMNS

#: Multiple-comparison adjustments understood by :func:`adjust_intervals`.
ADJUSTMENTS = ("none", "bonferroni", "sidak", "holm")
#: The one multiplicity rule of the headline analysis: simultaneous (Bonferroni) intervals,
#: so that "adjusted 95%" means all intervals of the family hold together.
DEFAULT_ADJUSTMENT = "bonferroni"


@dataclass(frozen=True)
class EstimateResult:
    """A tidy result table with its diagnostics kept apart.

    Attributes
    ----------
    table : pandas.DataFrame
        Exactly :data:`toolkit.schema.RESULT_TABLE_COLUMNS`, one row per estimate.
    diagnostics : dict of str to pandas.DataFrame
        Supporting tables (overlap, curves, draws, ...), named by the estimator.
    """

    table: pd.DataFrame
    diagnostics: dict[str, pd.DataFrame] = field(default_factory=dict)


def z_value(level: float = 0.95) -> float:
    """Two-sided standard-normal critical value for a confidence level.

    Examples
    --------
    >>> round(z_value(0.95), 3)
    1.96
    """
    if not 0 < level < 1:
        raise SekatError(f"confidence level must lie strictly between 0 and 1, got {level}")
    return float(stats.norm.ppf(0.5 + level / 2))


def result_frame(rows: Iterable[Mapping[str, object]] | pd.DataFrame) -> pd.DataFrame:
    """Build a result frame with exactly the result columns and their dtypes.

    Parameters
    ----------
    rows : iterable of mappings or DataFrame
        Each row names at least ``term``, ``estimate`` and ``method``; missing ``std_error``,
        ``ci_low``, ``ci_high`` become NaN, a missing ``n`` or ``event_time`` <NA> and a
        missing descriptor <NA>. Extra keys are dropped.

    Returns
    -------
    pandas.DataFrame
        Columns :data:`~toolkit.schema.RESULT_TABLE_COLUMNS`: term (str), estimate,
        std_error, ci_low, ci_high (float64), n (Int64), method (str), then the descriptors
        (str, and ``event_time`` Int64).

    Examples
    --------
    >>> t = result_frame([{"term": "att_hops", "estimate": -0.5, "method": "AIPW",
    ...                    "estimand": "att", "outcome": "hops"}])
    >>> t[["term", "estimate", "n", "estimand", "outcome", "group"]]
           term  estimate     n estimand outcome group
    0  att_hops      -0.5  <NA>      att    hops   NaN
    """
    frame = rows.copy() if isinstance(rows, pd.DataFrame) else pd.DataFrame(list(rows))
    if frame.empty and len(frame.columns) == 0:
        frame = pd.DataFrame(columns=list(RESULT_TABLE_COLUMNS))
    for column in RESULT_TABLE_COLUMNS:
        if column not in frame.columns:
            if column in (TERM, ESTIMATE, METHOD):
                raise SekatError(f"a result row lacks {column!r}", column=column)
            frame[column] = np.nan if column in RESULT_COLUMNS else pd.NA
    frame = frame.loc[:, list(RESULT_TABLE_COLUMNS)].reset_index(drop=True)
    frame[TERM] = frame[TERM].astype("str")
    frame[METHOD] = frame[METHOD].astype("str")
    for column in (ESTIMATE, STD_ERROR, CI_LOW, CI_HIGH):
        frame[column] = pd.to_numeric(frame[column], errors="coerce").astype("float64")
    for column in (N, schema.EVENT_TIME):
        frame[column] = pd.to_numeric(frame[column], errors="coerce").round().astype("Int64")
    for column in DESCRIPTOR_COLUMNS:
        if column != schema.EVENT_TIME:
            values = frame[column].astype("object")
            frame[column] = values.where(values.notna(), None).astype("str")
    return frame


def described(table: pd.DataFrame, **descriptors: object) -> pd.DataFrame:
    """A copy of a result table with the same descriptor values set on every row.

    Parameters
    ----------
    table : pandas.DataFrame
        A result table.
    **descriptors
        Values of columns of :data:`~toolkit.schema.DESCRIPTOR_COLUMNS` (or ``term``).

    Examples
    --------
    >>> t = result_frame([{"term": "x", "estimate": 1.0, "method": "m"}])
    >>> described(t, outcome="hops")["outcome"].tolist()
    ['hops']
    """
    unknown = sorted(set(descriptors) - set(DESCRIPTOR_COLUMNS) - {TERM})
    if unknown:
        raise SekatError(f"not result descriptors: {unknown}; use {list(DESCRIPTOR_COLUMNS)}")
    return result_frame(table.assign(**descriptors))


def select(table: pd.DataFrame, **criteria: object) -> pd.DataFrame:
    """The rows of a result table whose descriptors equal the given values.

    Parameters
    ----------
    table : pandas.DataFrame
        A result table.
    **criteria
        Descriptor (or ``term``) values; ``None`` selects rows where the descriptor is
        missing (an overall estimate has no ``group``), and a tuple or list any of its values.

    Returns
    -------
    pandas.DataFrame
        The matching rows, in table order, index reset.

    Examples
    --------
    >>> t = result_frame([
    ...     {"term": "att_hops", "estimate": -0.2, "method": "AIPW", "estimand": "att",
    ...      "outcome": "hops", "method_key": "aipw"},
    ...     {"term": "att_hops[category=roads]", "estimate": -0.3, "method": "AIPW",
    ...      "estimand": "att", "outcome": "hops", "group": "category",
    ...      "group_value": "roads", "method_key": "aipw"}])
    >>> select(t, estimand="att", group=None)["estimate"].tolist()
    [-0.2]
    >>> select(t, group="category")["group_value"].tolist()
    ['roads']
    """
    unknown = sorted(set(criteria) - set(DESCRIPTOR_COLUMNS) - {TERM})
    if unknown:
        raise SekatError(f"not result descriptors: {unknown}; use {list(DESCRIPTOR_COLUMNS)}")
    keep = np.ones(len(table), dtype=bool)
    for column, wanted in criteria.items():
        values = table[column]
        if wanted is None:
            keep &= values.isna().to_numpy()
        elif isinstance(wanted, (tuple, list, set, frozenset)):
            keep &= values.isin(list(wanted)).fillna(False).to_numpy(dtype=bool)
        else:
            keep &= (values == wanted).fillna(False).to_numpy(dtype=bool)
    return table.loc[keep].reset_index(drop=True)


def select_one(table: pd.DataFrame, **criteria: object) -> pd.Series:
    """The one row of a result table matching ``criteria`` (see :func:`select`).

    Raises
    ------
    SekatError
        When no row, or more than one, matches.

    Examples
    --------
    >>> t = result_frame([{"term": "att_hops", "estimate": -0.2, "method": "AIPW",
    ...                    "estimand": "att", "outcome": "hops"}])
    >>> float(select_one(t, estimand="att")["estimate"])
    -0.2
    """
    rows = select(table, **criteria)
    if len(rows) != 1:
        wanted = ", ".join(f"{k}={v!r}" for k, v in criteria.items())
        raise SekatError(f"expected one result row with {wanted}, found {len(rows)}")
    return rows.iloc[0]


def term_name(
    estimand: str,
    outcome: str,
    *,
    group: str | None = None,
    group_value: object = None,
    event_time: int | None = None,
    prefix: str | None = None,
) -> str:
    """The readable identifier of a row: ``att_hops``, ``att_hops[category=roads]``, ``es_hops[e=3]``.

    A name for people and for the generator's truth table, built from the descriptors (never
    parsed back: the descriptors are the data).

    Examples
    --------
    >>> term_name("att", "hops", group="category", group_value="roads")
    'att_hops[category=roads]'
    >>> term_name("att", "hops", event_time=-2, prefix="es")
    'es_hops[e=-2]'
    """
    name = f"{prefix or estimand}_{outcome}"
    if event_time is not None:
        return f"{name}[e={int(event_time)}]"
    if group is not None:
        return f"{name}[{group}={group_value}]"
    return name


def check_result(frame: pd.DataFrame) -> pd.DataFrame:
    """Check that a frame is a tidy result table; return it unchanged.

    Raises
    ------
    SekatError
        If the columns differ from :data:`~toolkit.schema.RESULT_TABLE_COLUMNS` or an interval
        does not contain its estimate.

    Examples
    --------
    >>> t = result_frame([{"term": "a", "estimate": 1.0, "ci_low": 0.0, "ci_high": 2.0,
    ...                    "method": "m"}])
    >>> check_result(t) is t
    True
    """
    if tuple(frame.columns) != RESULT_TABLE_COLUMNS:
        raise SekatError(
            f"result columns are {list(frame.columns)}, expected {list(RESULT_TABLE_COLUMNS)}"
        )
    bad = (frame[CI_LOW] > frame[ESTIMATE] + 1e-9) | (frame[CI_HIGH] < frame[ESTIMATE] - 1e-9)
    if bool(bad.any()):
        row = int(np.flatnonzero(bad.to_numpy())[0])
        raise SekatError("interval does not contain its estimate", column=CI_LOW, row=row)
    return frame


def critical_value(level: float = 0.95, df: float | None = None) -> float:
    """Two-sided critical value: standard normal, or Student t with ``df`` degrees of freedom.

    With G clusters a cluster-robust standard error has about G - 1 degrees of freedom; with
    the 12 districts of a city the t value (2.20 at 95 %) is what keeps the interval honest.

    Examples
    --------
    >>> round(critical_value(0.95), 3), round(critical_value(0.95, df=11), 3)
    (1.96, 2.201)
    """
    z = z_value(level)
    if df is None or not np.isfinite(df):
        return z
    if df < 1:
        raise SekatError(f"degrees of freedom must be at least 1, got {df}")
    return float(stats.t.ppf(0.5 + level / 2, df))


def influence_se(
    influence: np.ndarray, cluster: np.ndarray | None = None
) -> tuple[float, float | None]:
    """Standard error of a mean-zero influence function, request-level or cluster-robust.

    Parameters
    ----------
    influence : numpy.ndarray
        The influence value of each request (an estimator ``theta`` with
        ``theta - truth ~ mean(influence)``).
    cluster : numpy.ndarray, optional
        Cluster label of each request (the district): the variance is then
        ``G/(G-1) * sum_g (sum_{i in g} IF_i)^2 / n^2``, which allows any correlation within
        a district (a shared backlog, a district-month shock), with G - 1 degrees of freedom.

    Returns
    -------
    (float, float or None)
        The standard error and its degrees of freedom (None: normal theory).

    Examples
    --------
    >>> se, df = influence_se(np.array([1.0, -1.0, 1.0, -1.0]))
    >>> round(se, 4), df
    (0.5774, None)
    >>> se, df = influence_se(np.array([1.0, 1.0, -1.0, -1.0]), np.array([0, 0, 1, 1]))
    >>> round(se, 4), df
    (1.0, 1)
    """
    influence = np.asarray(influence, dtype=float)
    n = len(influence)
    if n < 2:
        return float("nan"), None
    if cluster is None:
        return float(influence.std(ddof=1) / np.sqrt(n)), None
    codes, uniques = pd.factorize(np.asarray(cluster, dtype=object))
    n_clusters = len(uniques)
    if n_clusters < 2:
        return float("nan"), None
    centred = influence - influence.mean()
    sums = np.bincount(codes, weights=centred, minlength=n_clusters)
    variance = n_clusters / (n_clusters - 1) * float(np.sum(sums**2)) / n**2
    return float(np.sqrt(variance)), n_clusters - 1


def normal_interval(
    estimate: np.ndarray | float,
    std_error: np.ndarray | float,
    level: float = 0.95,
    df: float | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Wald interval ``estimate ± c * std_error`` (c normal, or t with ``df`` degrees of freedom).

    Examples
    --------
    >>> lo, hi = normal_interval(1.0, 0.5)
    >>> round(float(lo), 3), round(float(hi), 3)
    (0.02, 1.98)
    """
    z = critical_value(level, df)
    estimate = np.asarray(estimate, dtype=float)
    std_error = np.asarray(std_error, dtype=float)
    return estimate - z * std_error, estimate + z * std_error


def wald_row(
    term: str,
    estimate: float,
    std_error: float,
    n: int,
    method: str,
    level: float = 0.95,
    *,
    df: float | None = None,
    **descriptors: object,
) -> dict[str, object]:
    """One result row with the Wald interval ``estimate ± z * std_error``.

    Parameters
    ----------
    term, estimate, std_error, n, method
        The tidy columns.
    level : float
        Confidence level.
    df : float, optional
        Degrees of freedom of a cluster-robust standard error (G - 1): the interval then
        uses the t critical value.
    **descriptors
        Descriptor columns (``estimand="att"``, ``outcome="hops"``, ...).

    Examples
    --------
    >>> row = wald_row("att_hops", -0.2, 0.05, 100, "AIPW", estimand="att")
    >>> round(row["ci_low"], 3), row["estimand"]
    (-0.298, 'att')
    """
    low, high = normal_interval(estimate, std_error, level, df)
    return {
        "term": term,
        "estimate": float(estimate),
        "std_error": float(std_error),
        "ci_low": float(low),
        "ci_high": float(high),
        "n": int(n),
        "method": method,
        **descriptors,
    }


def ratio_row(
    term: str,
    log_estimate: float,
    log_std_error: float,
    n: int,
    method: str,
    level: float = 0.95,
    *,
    df: float | None = None,
    **descriptors: object,
) -> dict[str, object]:
    """One result row for a ratio (IRR, hazard ratio) estimated on the log scale.

    The estimate and interval are exponentiated; the standard error is the delta-method one,
    ``exp(b) * se(b)``; ``scale`` is ``ratio``. With ``df`` (G - 1 for G clusters) the
    interval uses the t critical value.

    Examples
    --------
    >>> row = ratio_row("social", 0.0, 0.1, n=50, method="demo")
    >>> row["estimate"], round(row["ci_low"], 3), round(row["ci_high"], 3), row["scale"]
    (1.0, 0.822, 1.217, 'ratio')
    """
    low, high = normal_interval(log_estimate, log_std_error, level, df)
    ratio = float(np.exp(log_estimate))
    return {
        "term": term,
        "estimate": ratio,
        "std_error": ratio * float(log_std_error),
        "ci_low": float(np.exp(low)),
        "ci_high": float(np.exp(high)),
        "n": int(n),
        "method": method,
        "scale": "ratio",
        **descriptors,
    }


def percentile_interval(draws: np.ndarray, level: float = 0.95) -> tuple[float, float]:
    """Percentile interval of bootstrap or simulation draws (NaN draws ignored).

    Examples
    --------
    >>> percentile_interval(np.arange(101.0), level=0.9)
    (5.0, 95.0)
    """
    alpha = (1 - level) / 2
    lo, hi = np.nanquantile(np.asarray(draws, dtype=float), [alpha, 1 - alpha])
    return float(lo), float(hi)


def adjust_intervals(
    table: pd.DataFrame,
    *,
    method: str = DEFAULT_ADJUSTMENT,
    level: float = 0.95,
    df: float | None = None,
) -> pd.DataFrame:
    """Widen the Wald intervals of a family of estimates for multiple comparisons.

    Parameters
    ----------
    table : pandas.DataFrame
        Tidy result table; every row with a finite ``std_error`` is one member of the family.
    method : {"holm", "bonferroni", "sidak", "none"}
        ``bonferroni`` uses per-interval level ``1 - alpha/m``; ``sidak`` uses
        ``(1 - alpha)**(1/m)``, exact for independent estimates; ``holm`` uses the
        step-down critical values of Holm (1979) for the test of zero, ordered by p-value,
        which are never wider than Bonferroni's; ``none`` recomputes the unadjusted
        Wald intervals at ``level``.
    level : float
        Family-wise confidence level.
    df : float, optional
        Degrees of freedom of the standard errors (G - 1 for G clusters): t critical values.

    Returns
    -------
    pandas.DataFrame
        The same table with ``ci_low``/``ci_high`` recomputed from the adjusted critical
        values and ``method`` suffixed with ``"; <method>-adjusted (m=<m>)"``.

    Notes
    -----
    Bonferroni and Šidák intervals are simultaneous: all m intervals cover their truths at
    once with probability at least ``level`` (Šidák: exactly, for independent estimates).
    Holm's intervals are the ones usually reported beside Holm-adjusted tests: the interval
    of the j-th smallest p-value uses level ``1 - alpha/(m - j + 1)``; they keep the
    family-wise error of the *tests* of zero but, unlike Bonferroni's, are not guaranteed to
    be simultaneous confidence intervals. Use ``bonferroni`` or ``sidak`` when simultaneous
    coverage is what is claimed.

    References
    ----------
    Holm, S. (1979). A simple sequentially rejective multiple test procedure. Scand. J. Stat.
    Šidák, Z. (1967). Rectangular confidence regions for the means of multivariate normal
    distributions. JASA 62, 626-633.

    Examples
    --------
    >>> t = result_frame([{"term": t, "estimate": 0.0, "std_error": 1.0, "method": "x"}
    ...                   for t in "ab"])
    >>> adjust_intervals(t, method="bonferroni")["ci_high"].round(3).tolist()
    [2.241, 2.241]
    """
    if method not in ADJUSTMENTS:
        raise SekatError(f"unknown multiplicity adjustment {method!r}; use one of {ADJUSTMENTS}")
    out = table.copy()
    se = out[STD_ERROR].to_numpy(dtype=float)
    est = out[ESTIMATE].to_numpy(dtype=float)
    member = np.isfinite(se) & (se > 0)
    m = int(member.sum())
    if m == 0:
        return out
    alpha = 1 - level
    if method == "none":
        per_level = np.full(len(out), level)
    elif method == "bonferroni":
        per_level = np.full(len(out), 1 - alpha / m)
    elif method == "sidak":
        per_level = np.full(len(out), level ** (1 / m))
    else:
        p = 2 * stats.norm.sf(np.abs(est / np.where(member, se, np.nan)))
        order = np.argsort(np.where(member, p, np.inf), kind="stable")
        rank = np.empty(len(out), dtype=int)
        rank[order] = np.arange(len(out))
        per_level = 1 - alpha / np.maximum(m - rank, 1)
    if df is None or not np.isfinite(df):
        z = stats.norm.ppf(0.5 + per_level / 2)
    else:
        z = stats.t.ppf(0.5 + per_level / 2, df)
    lo = np.where(member, est - z * se, out[CI_LOW].to_numpy(dtype=float))
    hi = np.where(member, est + z * se, out[CI_HIGH].to_numpy(dtype=float))
    out[CI_LOW] = lo
    out[CI_HIGH] = hi
    if method != "none":
        out[METHOD] = np.where(
            member, out[METHOD].astype(str) + f"; {method}-adjusted (m={m})", out[METHOD]
        )
    out[METHOD] = out[METHOD].astype("str")
    return out
