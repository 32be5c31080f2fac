"""What social intake is worth: hand-offs, staff time, citizens' days and money, with uncertainty.

A scenario moves a share of the requests that now arrive on foot or by letter to social
media. Each moved request is assumed to get the estimated effect of social intake on hops
and on days to resolution (within the RMST horizon). Unit costs turn these into staff hours,
rupiah and citizens' days. Uncertainty is carried through by drawing the effects (from
bootstrap replicates, or from a normal approximation of an estimate and its standard error)
and reporting percentile intervals of every derived quantity — never point values alone.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass

import numpy as np
import pandas as pd

from toolkit import schema
from toolkit.errors import SekatError, require_columns
from toolkit.results import percentile_interval, result_frame

#: Channels whose intake the default scenario moves to social media.
SCENARIO_CHANNELS = ("walk_in", "letter")


@dataclass(frozen=True)
class UnitCosts:
    """Unit costs of the impact calculation (Indonesian rupiah by default).

    Attributes
    ----------
    staff_minutes_per_handoff : float
        Staff time one hand-off costs (reading, logging, forwarding, follow-up).
    wage_per_hour : float
        Loaded staff cost per hour, in ``currency``.
    citizen_day_value : float
        Value of one day a citizen's request stays unresolved (e.g. a daily wage), in
        ``currency``.
    currency : str
        Label of the money columns.

    Notes
    -----
    The defaults are round, illustrative figures, not estimates: replace them with local
    ones. 20 minutes per hand-off; IDR 40,000 per staff hour (a civil servant's monthly
    cost of about IDR 7 million over 173 hours); IDR 150,000 per citizen day (about a
    daily minimum wage in a large Indonesian city).
    """

    staff_minutes_per_handoff: float = 20.0
    wage_per_hour: float = 40_000.0
    citizen_day_value: float = 150_000.0
    currency: str = "IDR"


def effect_draws(effect: pd.DataFrame | pd.Series | np.ndarray, n_draws: int, seed: int):
    """Draws of an effect: given draws as they are, or normal draws around an estimate.

    Parameters
    ----------
    effect : numpy.ndarray, pandas.Series or one-row tidy DataFrame
        Either replicate values (an array or a Series of draws), or a tidy result row with
        ``estimate`` and ``std_error``.
    n_draws : int
        Number of normal draws (ignored when draws are given).
    seed : int
        Seed of the normal draws.

    Returns
    -------
    (float, numpy.ndarray)
        The point estimate and the draws.

    Examples
    --------
    >>> point, draws = effect_draws(np.array([1.0, 2.0, 3.0]), n_draws=10, seed=0)
    >>> point, len(draws)
    (2.0, 3)
    """
    if isinstance(effect, pd.DataFrame):
        if len(effect) != 1:
            raise SekatError(f"expected one effect row, got {len(effect)}")
        effect = effect.iloc[0]
    if isinstance(effect, pd.Series) and "estimate" in effect.index:
        estimate, se = float(effect["estimate"]), float(effect["std_error"])
        if not np.isfinite(se):
            raise SekatError("the effect has no standard error to draw from", column="std_error")
        rng = np.random.default_rng(seed)
        return estimate, estimate + se * rng.standard_normal(n_draws)
    draws = np.asarray(effect, dtype=float)
    return float(np.mean(draws)), draws


def _is_draws(effect: object) -> bool:
    """Whether an effect is given as replicate values (not as an estimate with its SE)."""
    if isinstance(effect, pd.DataFrame):
        return False
    if isinstance(effect, pd.Series):
        return "estimate" not in effect.index
    return True


def scenario_impact(
    cases: pd.DataFrame,
    *,
    hops_effect: pd.DataFrame | pd.Series | np.ndarray,
    days_effect: pd.DataFrame | pd.Series | np.ndarray,
    share: float = 0.3,
    channels: Sequence[str] = SCENARIO_CHANNELS,
    costs: UnitCosts | None = None,
    per_year: bool = True,
    n_draws: int = 2000,
    seed: int,
    level: float = 0.95,
) -> pd.DataFrame:
    """Value of moving a share of walk-in and letter intake to social media.

    Parameters
    ----------
    cases : pandas.DataFrame
        Case table (``channel`` and ``start``), giving the volume of intake to move.
    hops_effect, days_effect : tidy row, Series of draws or array of draws
        Effect of social intake on hops per request, and on days unresolved within the RMST
        horizon (negative = fewer / faster), e.g. the ``att`` row of
        :func:`toolkit.estimate.effects.aipw_hops` and the bootstrap column ``rmst_diff`` of
        :func:`toolkit.estimate.survival.rmst_difference`.
    share : float
        Share of the ``channels`` intake that moves, in [0, 1].
    channels : sequence of str
        Channels that lose intake (default walk-in and letter).
    costs : UnitCosts, optional
        Unit costs; default :class:`UnitCosts`.
    per_year : bool
        Scale volumes to one year (by the time span of ``start`` in the case table);
        otherwise totals over the log's window.
    n_draws : int
        Normal draws for an effect given as estimate and standard error, when neither effect
        is given as replicates; otherwise as many as the replicates (never recycled).
    seed : int
        Seed of those draws (hops and days effects get independent streams).
    level : float
        Level of the percentile intervals.

    Returns
    -------
    pandas.DataFrame
        Result table (estimand ``scenario``, ``outcome`` the quantity), rows ``requests_moved``, ``handoffs_saved``, ``staff_hours_saved``,
        ``staff_cost_saved``, ``citizen_days_saved``, ``citizen_time_value`` and
        ``total_value`` (money in ``costs.currency``). ``estimate`` is the value at the point
        estimates, ``std_error`` the SD of the draws, the interval their percentiles.

    Notes
    -----
    ``handoffs_saved = -moved * hops_effect``; ``staff_hours = handoffs * minutes / 60``;
    ``citizen_days_saved = -moved * days_effect``; money is hours times wage and days times
    the value of a day. Two assumptions carry the weight: the moved requests respond to
    social intake like the requests the effect was estimated on (use the ATT for requests
    like today's social ones, the ATE for the average request), and the hops and days
    effects are drawn independently unless paired draws (same bootstrap replicates) are
    given.

    Examples
    --------
    >>> cases = pd.DataFrame({"channel": ["walk_in"] * 10 + ["letter"] * 10,
    ...     "start": pd.date_range("2024-01-01", periods=20, freq="D", tz="UTC")})
    >>> out = scenario_impact(cases, hops_effect=np.array([-1.0, -1.0]),
    ...     days_effect=np.array([-2.0, -2.0]), share=0.5, per_year=False, seed=0)
    >>> out.set_index("term").loc[["handoffs_saved", "citizen_days_saved"], "estimate"].tolist()
    [10.0, 20.0]
    """
    if not 0 <= share <= 1:
        raise SekatError(f"share must lie in [0, 1], got {share}")
    costs = costs or UnitCosts()
    require_columns(cases, [schema.CHANNEL], what="the case table")
    unknown = sorted(set(channels) - set(schema.CHANNELS))
    if unknown:
        raise SekatError(f"unknown channels {unknown}; known: {list(schema.CHANNELS)}")
    volume = float(cases[schema.CHANNEL].astype("object").isin(list(channels)).sum())
    span = "window of the log"
    if per_year:
        require_columns(cases, [schema.START], what="the case table")
        start = pd.to_datetime(cases[schema.START], utc=True)
        days = (start.max() - start.min()) / pd.Timedelta(days=1)
        if not days > 0:
            raise SekatError("cannot annualise: all requests start at the same time")
        volume *= 365.25 / days
        span = "per year"
    moved = share * volume
    # Honest draw counts: replicates are never recycled to look like more. An effect given as
    # an estimate and its SE is drawn as many times as the other effect has replicates.
    given = [len(e) for e in (hops_effect, days_effect) if _is_draws(e)]
    if len(given) == 2 and given[0] != given[1]:
        raise SekatError(
            f"the hops and days effects have {given[0]} and {given[1]} draws; give paired "
            "draws of one bootstrap (equal numbers), or an estimate with its standard error"
        )
    if given:
        n_draws = given[0]
    hops_point, hops_draws = effect_draws(hops_effect, n_draws, seed)
    days_point, days_draws = effect_draws(days_effect, n_draws, seed + 1)
    paired = len(given) == 2

    def quantities(hops: np.ndarray | float, days: np.ndarray | float) -> dict[str, object]:
        handoffs = -moved * np.asarray(hops)
        staff_hours = handoffs * costs.staff_minutes_per_handoff / 60.0
        staff_cost = staff_hours * costs.wage_per_hour
        citizen_days = -moved * np.asarray(days)
        citizen_value = citizen_days * costs.citizen_day_value
        return {
            "requests_moved": np.full(np.shape(handoffs), moved),
            "handoffs_saved": handoffs,
            "staff_hours_saved": staff_hours,
            "staff_cost_saved": staff_cost,
            "citizen_days_saved": citizen_days,
            "citizen_time_value": citizen_value,
            "total_value": staff_cost + citizen_value,
        }

    point = quantities(hops_point, days_point)
    draws = quantities(hops_draws, days_draws)
    settings = ", ".join(f"{k}={v}" for k, v in asdict(costs).items())
    method = (
        f"scenario: {share:g} of {'/'.join(channels)} intake to social, {span}; "
        f"{len(hops_draws)} draws ({'paired' if paired else 'hops and days drawn independently'}); "
        f"{settings}"
    )
    rows = []
    for term, value in point.items():
        lo, hi = percentile_interval(draws[term], level)
        rows.append(
            {
                "term": term,
                "estimate": float(value),
                "std_error": float(np.std(draws[term], ddof=1)),
                "ci_low": min(lo, float(value)),
                "ci_high": max(hi, float(value)),
                "n": len(cases),
                "method": method,
                schema.ESTIMAND: "scenario",
                schema.OUTCOME: term,
                schema.SCALE: "level",
                schema.CONTRAST: f"{share:g} of {'/'.join(channels)} intake to social",
                schema.METHOD_KEY: "scenario",
            }
        )
    return result_frame(rows)
