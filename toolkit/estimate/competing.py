"""Competing outcomes of a request: resolved, or rejected / withdrawn, and cumulative incidence.

A request that is rejected is closed, but it was not *resolved*: counting its end as a
resolution makes a channel whose requests are turned away quickly look fast. Censoring it
instead is wrong too (a rejected request will never be resolved, while a censored one may).
The right description is the **cumulative incidence** of each way a request can end, in the
presence of the other (Aalen and Johansen 1978): ``F_k(t)``, the share of requests that have
ended in outcome k by day t. The two curves and the share still open add up to 1 at every t.

:func:`ending_outcomes` reads from the events how each request of the case table ended (the
case table's ``resolved``/``censored`` say whether it ended, not how), and
:func:`cumulative_incidence` gives the Aalen-Johansen curves by channel group, with
district-block bootstrap bands and a tidy table of the incidence of each outcome at chosen days.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from toolkit import schema
from toolkit.errors import SekatError, require_columns
from toolkit.estimate.survival import HOURS_PER_DAY
from toolkit.results import critical_value, result_frame

__all__ = [
    "ENDINGS",
    "OPEN",
    "aalen_johansen",
    "cumulative_incidence",
    "ending_outcomes",
]

#: How a request ends: resolved (or closed after work), or rejected / withdrawn.
ENDINGS = ("resolved", "rejected")
#: A request that had not ended by the observation cut-off.
OPEN = "open"
#: Activities that end a request without resolving it.
_REJECTING = (schema.REJECTED,)


def ending_outcomes(events: pd.DataFrame, cases: pd.DataFrame) -> pd.Series:
    """How each request of ``cases`` ended: ``resolved``, ``rejected`` or ``open``.

    A request that is not censored ended; it ended *rejected* when a ``rejected`` event comes
    after its last ``reopened`` event (a rejection that was reopened and then resolved is a
    resolution), else *resolved*.

    Parameters
    ----------
    events : pandas.DataFrame
        The events the case table was built from (``case_id``, ``timestamp``, ``activity``).
    cases : pandas.DataFrame
        The case table (``case_id``, ``censored``).

    Returns
    -------
    pandas.Series
        One value per row of ``cases`` (same index), named ``ending``.

    Examples
    --------
    >>> ev = pd.DataFrame({"case_id": ["a", "a", "b", "b", "c"],
    ...     "timestamp": pd.to_datetime(["2024-01-01", "2024-01-02", "2024-01-01",
    ...                                  "2024-01-03", "2024-01-01"], utc=True),
    ...     "activity": ["submitted", "resolved", "submitted", "rejected", "submitted"]})
    >>> cs = pd.DataFrame({"case_id": ["a", "b", "c"], "censored": [False, False, True]})
    >>> ending_outcomes(ev, cs).tolist()
    ['resolved', 'rejected', 'open']
    """
    require_columns(events, [schema.CASE_ID, schema.TIMESTAMP, schema.ACTIVITY], what="the events")
    require_columns(cases, [schema.CASE_ID, schema.CENSORED], what="the case table")
    activity = events[schema.ACTIVITY].astype("str")
    ordered = events.assign(_act=activity).sort_values(
        [schema.CASE_ID, schema.TIMESTAMP], kind="stable"
    )
    marks = ordered.loc[ordered["_act"].isin([*_REJECTING, schema.REOPENED])]
    position = marks.groupby(schema.CASE_ID, sort=False).cumcount()
    marks = marks.assign(_pos=position.to_numpy())
    last_reject = marks.loc[marks["_act"].isin(_REJECTING)].groupby(schema.CASE_ID)["_pos"].max()
    last_reopen = marks.loc[marks["_act"] == schema.REOPENED].groupby(schema.CASE_ID)["_pos"].max()
    ids = cases[schema.CASE_ID].astype("str")
    reject_at = ids.map(last_reject.rename(index=str)).to_numpy(dtype=float)
    reopen_at = ids.map(last_reopen.rename(index=str)).to_numpy(dtype=float)
    rejected = np.isfinite(reject_at) & ~(np.isfinite(reopen_at) & (reopen_at > reject_at))
    censored = cases[schema.CENSORED].astype(bool).to_numpy()
    ending = np.where(censored, OPEN, np.where(rejected, "rejected", "resolved"))
    return pd.Series(ending, index=cases.index, name="ending")


def aalen_johansen(
    time: np.ndarray,
    cause: np.ndarray,
    *,
    causes: Sequence[str] = ENDINGS,
    weights: np.ndarray | None = None,
) -> pd.DataFrame:
    """Aalen-Johansen cumulative incidence of each cause, with the overall survival.

    Parameters
    ----------
    time : numpy.ndarray
        Time to the end (or to censoring), in any unit.
    cause : numpy.ndarray
        The cause of each end, a value of ``causes``, or anything else for censored.
    causes : sequence of str
        The competing causes.
    weights : numpy.ndarray, optional
        Request weights (bootstrap counts).

    Returns
    -------
    pandas.DataFrame
        ``time`` (distinct times), ``at_risk``, ``survival`` (no end of any cause yet) and one
        column per cause: its cumulative incidence just after ``time``.

    Notes
    -----
    At the distinct times ``t_j`` with ``n_j`` at risk and ``d_jk`` ends of cause k,
    ``F_k(t) = sum_{t_j <= t} S(t_j-) d_jk / n_j`` and ``S`` is the Kaplan-Meier curve of
    any end; so ``S(t) + sum_k F_k(t) = 1``. With one cause it is ``1 - KM``.

    References
    ----------
    Aalen, O. O. and Johansen, S. (1978). An empirical transition matrix for
    non-homogeneous Markov chains based on censored observations. Scand. J. Stat. 5, 141-150.

    Examples
    --------
    >>> t = np.array([1.0, 2.0, 3.0, 4.0])
    >>> c = np.array(["resolved", "rejected", "open", "resolved"])
    >>> aalen_johansen(t, c).round(3)[["time", "survival", "resolved", "rejected"]].values.tolist()
    [[1.0, 0.75, 0.25, 0.0], [2.0, 0.5, 0.25, 0.25], [3.0, 0.5, 0.25, 0.25], [4.0, 0.0, 0.75, 0.25]]
    """
    time = np.asarray(time, dtype=float)
    cause = np.asarray(cause, dtype=object)
    w = np.ones(len(time)) if weights is None else np.asarray(weights, dtype=float)
    unique, index = np.unique(time, return_inverse=True)
    k = len(unique)
    total = np.bincount(index, weights=w, minlength=k)
    at_risk = np.cumsum(total[::-1])[::-1]
    by_cause = {c: np.bincount(index, weights=w * (cause == c), minlength=k) for c in causes}
    ends = sum(by_cause.values())
    with np.errstate(divide="ignore", invalid="ignore"):
        hazard = np.where(at_risk > 0, ends / at_risk, 0.0)
        survival = np.cumprod(1 - hazard)
        before = np.concatenate([[1.0], survival[:-1]])
        columns = {
            c: np.cumsum(before * np.where(at_risk > 0, d / at_risk, 0.0))
            for c, d in by_cause.items()
        }
    return pd.DataFrame({"time": unique, "at_risk": at_risk, "survival": survival, **columns})


def cumulative_incidence(
    cases: pd.DataFrame,
    ending: pd.Series,
    *,
    by: str = schema.CHANNEL_GROUP,
    days: Sequence[float] = (7.0, 30.0),
    n_boot: int = 200,
    seed: int = 0,
    cluster: str | None = schema.REGION,
    level: float = 0.95,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Cumulative incidence of resolution and of rejection by channel group (Aalen-Johansen).

    Parameters
    ----------
    cases : pandas.DataFrame
        Case table (``duration_hours`` and ``by``).
    ending : pandas.Series
        :func:`ending_outcomes` of the same requests.
    by : str
        Column of the groups (channel group by default).
    days : sequence of float
        Days at which the result table states each incidence.
    n_boot : int
        Bootstrap replicates of the table's intervals (0: none).
    seed : int
        Seed of the bootstrap.
    cluster : str or None
        Resample whole districts (block bootstrap, t(G-1) intervals) when the column has two
        or more values; else requests (percentile intervals).
    level : float
        Confidence level.

    Returns
    -------
    (pandas.DataFrame, pandas.DataFrame)
        The curves (``group``, ``time`` in days, ``at_risk``, ``survival``, one column per
        ending) and a result table: ``cif_<ending>[<group>, day <d>]`` (estimand ``mean``,
        outcome ``cif_<ending>``, scale ``level``, group ``by`` and its value).

    Examples
    --------
    >>> cs = pd.DataFrame({"channel_group": ["social"] * 4, "duration_hours": [24.0, 48, 72, 96]})
    >>> end = pd.Series(["resolved", "rejected", "open", "resolved"])
    >>> curves, table = cumulative_incidence(cs, end, days=[2.5], n_boot=0)
    >>> table[["term", "estimate"]].values.tolist()
    [['cif_resolved[social, day 2.5]', 0.25], ['cif_rejected[social, day 2.5]', 0.25]]
    """
    require_columns(cases, [schema.DURATION_HOURS, by], what="the case table")
    if len(ending) != len(cases):
        raise SekatError("ending must have one value per request of the case table")
    time = pd.to_numeric(cases[schema.DURATION_HOURS], errors="coerce").to_numpy(float)
    time = time / HOURS_PER_DAY
    if np.isnan(time).any():
        row = int(np.flatnonzero(np.isnan(time))[0])
        raise SekatError("duration is missing", column=schema.DURATION_HOURS, row=row)
    cause = np.asarray(ending, dtype=object)
    groups = cases[by].astype("object").to_numpy()
    blocks = None
    if cluster is not None and cluster in cases.columns:
        codes, uniques = pd.factorize(cases[cluster].astype("object"), use_na_sentinel=False)
        blocks = codes if len(uniques) >= 2 else None
    rng = np.random.default_rng(seed)
    curves, rows = [], []
    for group in sorted(pd.unique(groups[pd.notna(groups)]), key=str):
        mask = groups == group
        curve = aalen_johansen(time[mask], cause[mask])
        curves.append(curve.assign(group=str(group)))
        points = _at(curve, days)
        draws = np.full((max(n_boot, 0), len(ENDINGS), len(days)), np.nan)
        for b in range(max(n_boot, 0)):
            if blocks is None:
                counts = np.bincount(rng.integers(0, mask.sum(), mask.sum()), minlength=mask.sum())
            else:
                n_blocks = int(blocks.max()) + 1
                drawn = np.bincount(rng.integers(0, n_blocks, n_blocks), minlength=n_blocks)
                counts = drawn[blocks[mask]]
            if counts.sum() == 0:
                continue
            draws[b] = _at(aalen_johansen(time[mask], cause[mask], weights=counts), days)
        for i, end in enumerate(ENDINGS):
            for j, day in enumerate(days):
                est = points[i, j]
                sd, lo, hi = np.nan, np.nan, np.nan
                if n_boot > 1:
                    sd = float(np.nanstd(draws[:, i, j], ddof=1))
                    if blocks is not None:
                        g = int(blocks.max()) + 1
                        sd *= np.sqrt(g / (g - 1))  # small-sample factor of few blocks
                        c = critical_value(level, g - 1)
                        lo, hi = est - c * sd, est + c * sd
                    else:
                        lo, hi = np.nanquantile(draws[:, i, j], [(1 - level) / 2, (1 + level) / 2])
                rows.append(
                    {
                        "term": f"cif_{end}[{group}, day {day:g}]",
                        "estimate": est,
                        "std_error": sd,
                        "ci_low": max(min(lo, est), 0.0) if np.isfinite(lo) else np.nan,
                        "ci_high": min(max(hi, est), 1.0) if np.isfinite(hi) else np.nan,
                        "n": int(mask.sum()),
                        "method": "Aalen-Johansen cumulative incidence (rejection competing)",
                        schema.ESTIMAND: "mean",
                        schema.OUTCOME: f"cif_{end}",
                        schema.SCALE: "level",
                        schema.GROUP: by,
                        schema.GROUP_VALUE: str(group),
                        schema.METHOD_KEY: "aalen_johansen",
                    }
                )
    curve_table = pd.concat(curves, ignore_index=True) if curves else pd.DataFrame()
    return curve_table, result_frame(rows)


def _at(curve: pd.DataFrame, days: Sequence[float]) -> np.ndarray:
    """Cumulative incidence of each ending at each day (step function, right-continuous)."""
    position = np.searchsorted(curve["time"].to_numpy(), np.asarray(days, float), side="right") - 1
    out = np.zeros((len(ENDINGS), len(days)))
    for i, end in enumerate(ENDINGS):
        values = curve[end].to_numpy()
        out[i] = np.where(position >= 0, values[np.maximum(position, 0)], 0.0)
    return out
