"""Tidy result tables: one row per estimate, the same columns from every estimator.

Every estimator in sekat returns a frame with exactly :data:`toolkit.schema.RESULT_COLUMNS`
(term, estimate, std_error, ci_low, ci_high, n, method), so one plotting and one export
function serve all of them. This module builds and checks such frames, computes normal-theory
and percentile intervals, and widens intervals for multiple comparisons. Estimators that also
produce diagnostics return an :class:`EstimateResult` holding the tidy ``table`` beside a dict of
``diagnostics`` frames.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import stats

from toolkit.errors import SekatError
from toolkit.schema import RESULT_COLUMNS

TERM, ESTIMATE, STD_ERROR, CI_LOW, CI_HIGH, N, METHOD = RESULT_COLUMNS

#: Multiple-comparison adjustments understood by :func:`adjust_intervals`.
ADJUSTMENTS = ("none", "bonferroni", "sidak", "holm")


@dataclass(frozen=True)
class EstimateResult:
    """A tidy result table with its diagnostics kept apart.

    Attributes
    ----------
    table : pandas.DataFrame
        Exactly :data:`toolkit.schema.RESULT_COLUMNS`, one row per estimate.
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
    """Build a tidy result frame with exactly the result columns and dtypes.

    Parameters
    ----------
    rows : iterable of mappings or DataFrame
        Each row names at least ``term``, ``estimate`` and ``method``; missing ``std_error``,
        ``ci_low``, ``ci_high`` become NaN and a missing ``n`` becomes <NA>. Extra keys are
        dropped.

    Returns
    -------
    pandas.DataFrame
        Columns :data:`~toolkit.schema.RESULT_COLUMNS`: term (str), estimate, std_error,
        ci_low, ci_high (float64), n (Int64), method (str).

    Examples
    --------
    >>> result_frame([{"term": "social", "estimate": -0.5, "method": "naive"}])
         term  estimate  std_error  ci_low  ci_high     n method
    0  social      -0.5        NaN     NaN      NaN  <NA>  naive
    """
    frame = rows.copy() if isinstance(rows, pd.DataFrame) else pd.DataFrame(list(rows))
    if frame.empty and len(frame.columns) == 0:
        frame = pd.DataFrame(columns=list(RESULT_COLUMNS))
    for column in RESULT_COLUMNS:
        if column not in frame.columns:
            if column in (TERM, ESTIMATE, METHOD):
                raise SekatError(f"a result row lacks {column!r}", column=column)
            frame[column] = np.nan
    frame = frame.loc[:, list(RESULT_COLUMNS)].reset_index(drop=True)
    frame[TERM] = frame[TERM].astype("str")
    frame[METHOD] = frame[METHOD].astype("str")
    for column in (ESTIMATE, STD_ERROR, CI_LOW, CI_HIGH):
        frame[column] = pd.to_numeric(frame[column], errors="coerce").astype("float64")
    frame[N] = pd.to_numeric(frame[N], errors="coerce").round().astype("Int64")
    return frame


def check_result(frame: pd.DataFrame) -> pd.DataFrame:
    """Check that a frame is a tidy result table; return it unchanged.

    Raises
    ------
    SekatError
        If the columns differ from :data:`~toolkit.schema.RESULT_COLUMNS` or an interval
        does not contain its estimate.

    Examples
    --------
    >>> t = result_frame([{"term": "a", "estimate": 1.0, "ci_low": 0.0, "ci_high": 2.0,
    ...                    "method": "m"}])
    >>> check_result(t) is t
    True
    """
    if tuple(frame.columns) != RESULT_COLUMNS:
        raise SekatError(f"result columns are {list(frame.columns)}, expected {RESULT_COLUMNS}")
    bad = (frame[CI_LOW] > frame[ESTIMATE] + 1e-9) | (frame[CI_HIGH] < frame[ESTIMATE] - 1e-9)
    if bool(bad.any()):
        row = int(np.flatnonzero(bad.to_numpy())[0])
        raise SekatError("interval does not contain its estimate", column=CI_LOW, row=row)
    return frame


def normal_interval(
    estimate: np.ndarray | float, std_error: np.ndarray | float, level: float = 0.95
) -> tuple[np.ndarray, np.ndarray]:
    """Wald interval ``estimate ± z * std_error``.

    Examples
    --------
    >>> lo, hi = normal_interval(1.0, 0.5)
    >>> round(float(lo), 3), round(float(hi), 3)
    (0.02, 1.98)
    """
    z = z_value(level)
    estimate = np.asarray(estimate, dtype=float)
    std_error = np.asarray(std_error, dtype=float)
    return estimate - z * std_error, estimate + z * std_error


def ratio_row(
    term: str, log_estimate: float, log_std_error: float, n: int, method: str, level: float = 0.95
) -> dict[str, object]:
    """One tidy row for a ratio (IRR, hazard ratio) estimated on the log scale.

    The estimate and interval are exponentiated; the standard error is the delta-method one,
    ``exp(b) * se(b)``.

    Examples
    --------
    >>> row = ratio_row("social", 0.0, 0.1, n=50, method="demo")
    >>> row["estimate"], round(row["ci_low"], 3), round(row["ci_high"], 3)
    (1.0, 0.822, 1.217)
    """
    low, high = normal_interval(log_estimate, log_std_error, level)
    ratio = float(np.exp(log_estimate))
    return {
        "term": term,
        "estimate": ratio,
        "std_error": ratio * float(log_std_error),
        "ci_low": float(np.exp(low)),
        "ci_high": float(np.exp(high)),
        "n": int(n),
        "method": method,
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
    table: pd.DataFrame, *, method: str = "holm", level: float = 0.95
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
    z = stats.norm.ppf(0.5 + per_level / 2)
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
