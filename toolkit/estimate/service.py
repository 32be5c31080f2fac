"""Service time as a 311 or LAPOR! desk measures it: per channel, in working days, against a standard.

A desk reports how long each intake channel takes (not only each channel group), counts time in
**working days** (weekends and national holidays do not count), and asks what share of
requests met the service standard ("resolved within 5 working days", or by the target date
the city set for each request, Boston's ``TARGET_DT``). The functions here answer those
questions on a case table, with censoring handled as in :mod:`toolkit.estimate.survival`:

* :class:`WorkingCalendar` — a working week (``mon-fri``, ``sun-thu``, ``mon-sat`` ...) and a
  national holiday calendar (the ``holidays`` package: ``ID`` Indonesia, ``US`` the United
  States, or any other country code it knows), read in a local time zone;
* :func:`working_days` — working days from intake to resolution (or to the cut-off);
* :func:`hops_by_channel` — mean hand-offs per request of each channel, where hops are recorded;
* :func:`resolution_by_channel` — a Kaplan–Meier median (Brookmeyer–Crowley interval) per
  channel, in days or working days;
* :func:`cox_by_channel` — hazard ratios of resolution of each channel against a reference
  channel (Cox PH, stratified by category);
* :func:`compliance` — the share of requests that met the standard, by channel, with a Wilson
  interval; a request still open counts only once it has certainly missed the standard.

Definitions
-----------
Working days of a request opened on local date ``a`` and resolved on local date ``b``: the
number of working days ``d`` with ``a < d <= b``. Opened and resolved on one day: 0; opened
on a Friday, resolved on the next Monday (no holiday): 1; opened on a Saturday, resolved on
the Monday: 1. "Within N working days" means at most N.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from toolkit import schema
from toolkit.errors import SekatError, require_columns
from toolkit.estimate.models import covariate_codes
from toolkit.estimate.survival import cox_fit, km_curve, survival_data
from toolkit.results import EstimateResult, ratio_row, result_frame, wald_row, z_value

__all__ = [
    "COMPLIANCE_OUTCOME",
    "DEFAULT_TZ",
    "WORKDAYS_OUTCOME",
    "WORKWEEKS",
    "WorkingCalendar",
    "compliance",
    "cox_by_channel",
    "hops_by_channel",
    "resolution_by_channel",
    "working_days",
]

#: Outcome of medians counted in working days.
WORKDAYS_OUTCOME = "working_days_to_resolution"
#: Outcome of the share of requests that met a service standard.
COMPLIANCE_OUTCOME = "on_time"
#: Named working weeks (Monday = 0): the usual five-day week, the Friday-Saturday weekend of
#: many Gulf states, and a six-day week.
WORKWEEKS = {
    "mon-fri": (0, 1, 2, 3, 4),
    "sun-thu": (6, 0, 1, 2, 3),
    "mon-sat": (0, 1, 2, 3, 4, 5),
}
#: The local time zone a country's dates are read in when none is given.
DEFAULT_TZ = {"ID": "Asia/Jakarta", "US": "America/New_York"}
_DAY_NAMES = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")


def _day_number(name: str) -> int | None:
    """Monday = 0 ... Sunday = 6 of a day name or its abbreviation of 3 letters or more."""
    if len(name) < 3:
        return None
    return next((i for i, day in enumerate(_DAY_NAMES) if day.startswith(name)), None)


def _weekmask(workweek: str | Sequence[int]) -> str:
    if isinstance(workweek, str):
        key = workweek.strip().lower()
        if key in WORKWEEKS:
            days = WORKWEEKS[key]
        else:
            names = [part for part in key.replace(",", " ").split() if part]
            unknown = [n for n in names if _day_number(n) is None]
            if unknown or not names:
                raise SekatError(
                    f"working week {workweek!r}: name days (mon tue ...) or one of "
                    f"{sorted(WORKWEEKS)}"
                )
            days = tuple(_day_number(n) for n in names)  # type: ignore[misc]
    else:
        days = tuple(int(d) for d in workweek)
        if any(d < 0 or d > 6 for d in days):
            raise SekatError(f"working week {workweek!r}: days are 0 (Monday) to 6 (Sunday)")
    if not days:
        raise SekatError("a working week needs at least one working day")
    return "".join("1" if i in days else "0" for i in range(7))


@dataclass(frozen=True)
class WorkingCalendar:
    """Which local dates are working days.

    Parameters
    ----------
    country : str or None
        Country code of the national holidays (``"ID"``, ``"US"``, any code the ``holidays``
        package knows); None for no holidays.
    workweek : str or sequence of int
        ``"mon-fri"`` (default), ``"sun-thu"``, ``"mon-sat"``, day names (``"mon tue wed"``)
        or weekday numbers (Monday = 0).
    tz : str, optional
        Time zone the dates are read in; default the country's (:data:`DEFAULT_TZ`), else UTC.
    subdivision : str, optional
        A state or province whose own holidays are added (``"MA"`` for Massachusetts).

    Examples
    --------
    >>> cal = WorkingCalendar("US")
    >>> cal.is_working(np.array(["2015-07-03", "2015-07-06"], dtype="datetime64[D]")).tolist()
    [False, True]
    """

    country: str | None = None
    workweek: str | tuple[int, ...] = "mon-fri"
    tz: str | None = None
    subdivision: str | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "workweek", _weekmask(self.workweek))
        if self.country is not None:
            object.__setattr__(self, "country", str(self.country).upper())
        if self.tz is None:
            object.__setattr__(self, "tz", DEFAULT_TZ.get(self.country or "", "UTC"))

    def holidays(self, years: Sequence[int]) -> np.ndarray:
        """The holiday dates of ``years`` (sorted ``datetime64[D]``)."""
        if self.country is None or not len(years):
            return np.array([], dtype="datetime64[D]")
        import holidays

        try:
            days = holidays.country_holidays(
                self.country, subdiv=self.subdivision, years=sorted({int(y) for y in years})
            )
        except (NotImplementedError, KeyError) as error:
            raise SekatError(
                f"no holiday calendar for country {self.country!r}"
                + (f" subdivision {self.subdivision!r}" if self.subdivision else "")
                + f" ({error}); use a code such as ID or US"
            ) from None
        return np.array(sorted(days), dtype="datetime64[D]")

    def local_dates(self, timestamps: pd.Series | pd.DatetimeIndex) -> np.ndarray:
        """Local calendar dates of UTC timestamps (``datetime64[D]``; NaT stays NaT)."""
        stamps = pd.to_datetime(pd.Series(timestamps), utc=True).dt.tz_convert(self.tz)
        return stamps.dt.tz_localize(None).to_numpy(dtype="datetime64[ns]").astype("datetime64[D]")

    def _holidays_for(self, *dates: np.ndarray) -> np.ndarray:
        years: set[int] = set()
        for d in dates:
            ok = d[~np.isnat(d)]
            if len(ok):
                first = int(ok.min().astype("datetime64[Y]").astype(int)) + 1970
                last = int(ok.max().astype("datetime64[Y]").astype(int)) + 1970
                years.update(range(first, last + 1))
        return self.holidays(sorted(years))

    def is_working(self, dates: np.ndarray) -> np.ndarray:
        """Whether each local date is a working day."""
        dates = np.asarray(dates, dtype="datetime64[D]")
        return np.is_busday(dates, weekmask=self.workweek, holidays=self._holidays_for(dates))

    def between(self, opened: np.ndarray, closed: np.ndarray) -> np.ndarray:
        """Working days ``d`` with ``opened < d <= closed`` (local dates), per pair."""
        opened = np.asarray(opened, dtype="datetime64[D]")
        closed = np.asarray(closed, dtype="datetime64[D]")
        one = np.timedelta64(1, "D")
        return np.busday_count(
            opened + one,
            np.maximum(closed, opened) + one,
            weekmask=self.workweek,
            holidays=self._holidays_for(opened, closed),
        )


def working_days(cases: pd.DataFrame, calendar: WorkingCalendar) -> np.ndarray:
    """Working days from each request's intake to its end (resolution, else the cut-off).

    Parameters
    ----------
    cases : pandas.DataFrame
        Case table (``start``, ``end``).
    calendar : WorkingCalendar
        The working week, holidays and time zone.

    Returns
    -------
    numpy.ndarray
        One whole number per request (see the module's definition).

    Examples
    --------
    >>> c = pd.DataFrame({"start": pd.to_datetime(["2015-07-02 15:00", "2015-07-03 09:00"],
    ...                                           utc=True),
    ...                   "end": pd.to_datetime(["2015-07-07 15:00", "2015-07-06 15:00"],
    ...                                         utc=True)})
    >>> working_days(c, WorkingCalendar("US", tz="UTC")).tolist()  # 3 July 2015 a holiday
    [2, 1]
    """
    require_columns(cases, [schema.START, schema.END], what="the case table")
    start = calendar.local_dates(cases[schema.START])
    end = calendar.local_dates(cases[schema.END])
    if np.isnat(start).any() or np.isnat(end).any():
        row = int(np.flatnonzero(np.isnat(start) | np.isnat(end))[0])
        raise SekatError("a request has no start or end time", column=schema.END, row=row)
    return calendar.between(start, end).astype(np.int64)


def _labels(cases: pd.DataFrame, by: str) -> tuple[np.ndarray, list[str]]:
    require_columns(cases, [by], what="the case table")
    labels = cases[by].astype("object").to_numpy()
    present = {x for x in labels if isinstance(x, str)}
    if by == schema.CHANNEL:
        order = [c for c in schema.CHANNELS if c in present] + sorted(
            present - set(schema.CHANNELS)
        )
    elif by == schema.CHANNEL_GROUP:
        order = [g for g in schema.CHANNEL_GROUPS if g in present]
    else:
        order = sorted(present)
    return labels, order


def _median_time(curve: pd.DataFrame, column: str) -> float:
    below = curve.loc[curve[column] <= 0.5, "time"]
    return float(below.iloc[0]) if len(below) else np.nan


def resolution_by_channel(
    cases: pd.DataFrame,
    *,
    by: str = schema.CHANNEL,
    calendar: WorkingCalendar | None = None,
    level: float = 0.95,
) -> EstimateResult:
    """Median time to resolution of each channel (Kaplan–Meier), in days or working days.

    Parameters
    ----------
    cases : pandas.DataFrame
        Case table.
    by : str
        Grouping column (default ``channel``).
    calendar : WorkingCalendar, optional
        Count working days (weekends and holidays left out) instead of calendar days.
    level : float
        Confidence level.

    Returns
    -------
    EstimateResult
        ``table``: one row ``median_days[<channel>]`` (or ``median_working_days[...]``) per
        channel, with the Brookmeyer–Crowley interval (NaN where the curve or its band never
        reaches 1/2), ``n`` requests and the descriptors (estimand ``median``, group ``by``).
        ``diagnostics["curves"]``: the Kaplan–Meier curves with a ``group`` column;
        ``diagnostics["summary"]``: per channel, requests, resolved, share resolved.

    Examples
    --------
    >>> c = pd.DataFrame({"duration_hours": [24.0, 48, 72, 12], "censored": [False] * 4,
    ...                   "channel": ["twitter", "twitter", "twitter", "phone"]})
    >>> resolution_by_channel(c).table[["term", "estimate", "n"]].values.tolist()
    [['median_days[twitter]', 2.0, 3], ['median_days[phone]', 0.5, 1]]
    """
    time, event = survival_data(cases)
    outcome, stem, unit = schema.DAYS_OUTCOME, "median_days", "days"
    if calendar is not None:
        time = working_days(cases, calendar).astype(float)
        outcome, stem, unit = WORKDAYS_OUTCOME, "median_working_days", "working days"
    labels, order = _labels(cases, by)
    rows, curves, summary = [], [], []
    for group in order:
        mask = labels == group
        curve = km_curve(time[mask], event[mask], level=level)
        curves.append(curve.assign(group=group))
        rows.append(
            {
                "term": f"{stem}[{group}]",
                "estimate": _median_time(curve, "survival"),
                "ci_low": _median_time(curve, "ci_low"),
                "ci_high": _median_time(curve, "ci_high"),
                "n": int(mask.sum()),
                "method": f"Kaplan-Meier median in {unit} (Brookmeyer-Crowley log-log interval)",
                schema.ESTIMAND: "median",
                schema.OUTCOME: outcome,
                schema.SCALE: "level",
                schema.GROUP: by,
                schema.GROUP_VALUE: group,
                schema.METHOD_KEY: "km",
            }
        )
        summary.append(
            {
                by: group,
                "requests": int(mask.sum()),
                "resolved": int(event[mask].sum()),
                "share_resolved": float(event[mask].mean()),
            }
        )
    frame = pd.concat(curves, ignore_index=True) if curves else pd.DataFrame()
    return EstimateResult(result_frame(rows), {"curves": frame, "summary": pd.DataFrame(summary)})


def hops_by_channel(
    cases: pd.DataFrame, *, by: str = schema.CHANNEL, level: float = 0.95
) -> EstimateResult:
    """Mean hand-offs per request of each channel, with a Wald interval (raw, unadjusted).

    Requests whose hops are not recorded (missing) are left out of every mean.

    Examples
    --------
    >>> c = pd.DataFrame({"hops": [0, 2, 4, 1, 1], "channel": ["web"] * 3 + ["letter"] * 2})
    >>> hops_by_channel(c).table[["term", "estimate", "n"]].values.tolist()
    [['mean_hops[web]', 2.0, 3], ['mean_hops[letter]', 1.0, 2]]
    """
    require_columns(cases, [schema.HOPS], what="the case table")
    hops = pd.to_numeric(cases[schema.HOPS], errors="coerce").to_numpy(dtype=float)
    labels, order = _labels(cases, by)
    rows = []
    for group in order:
        values = hops[(labels == group) & ~np.isnan(hops)]
        if len(values) == 0:
            continue
        se = float(values.std(ddof=1) / np.sqrt(len(values))) if len(values) > 1 else np.nan
        rows.append(
            wald_row(
                f"mean_hops[{group}]",
                float(values.mean()),
                se,
                len(values),
                "Mean hand-offs per request (Wald interval)",
                level,
                estimand="mean",
                outcome=schema.HOPS_OUTCOME,
                scale="level",
                group=by,
                group_value=group,
                method_key="mean",
            )
        )
    return EstimateResult(result_frame(rows), {})


def cox_by_channel(
    cases: pd.DataFrame,
    *,
    reference: str = "phone",
    covariates: Sequence[str] = (),
    strata: str | None = schema.CATEGORY,
    min_requests: int = schema.MIN_CELL_COUNT,
    level: float = 0.95,
) -> EstimateResult:
    """Hazard ratio of resolution of each channel against a reference channel (Cox PH).

    Parameters
    ----------
    cases : pandas.DataFrame
        Case table.
    reference : str
        The channel every other is compared with (default ``phone``).
    covariates : sequence of str
        Categorical adjustment covariates beside the channel.
    strata : str or None
        Column whose levels get their own baseline hazard (default category; skipped when
        absent or with one level).
    min_requests : int
        A channel with fewer requests, or with no resolved request, is left out (named in
        ``diagnostics["left_out"]``): its ratio would be noise or infinite.
    level : float
        Confidence level.

    Returns
    -------
    EstimateResult
        ``table``: one row ``hazard_ratio[channel=<c>]`` per channel (above 1 = resolved
        faster than the reference), estimand ``conditional``, contrast ``"<c> vs
        <reference>"``, group ``channel``. ``diagnostics["left_out"]``: channel and reason.

    Examples
    --------
    >>> rng = np.random.default_rng(1)
    >>> c = pd.DataFrame({"channel": ["twitter", "phone", "web"] * 50,
    ...                   "duration_hours": rng.exponential(np.tile([10.0, 30, 20], 50)),
    ...                   "censored": [False] * 150})
    >>> t = cox_by_channel(c, strata=None).table
    >>> t["term"].tolist(), bool(t["estimate"].iloc[0] > 1)
    (['hazard_ratio[channel=twitter]', 'hazard_ratio[channel=web]'], True)
    """
    time, event = survival_data(cases)
    labels, order = _labels(cases, schema.CHANNEL)
    if reference not in order:
        raise SekatError(
            f"reference channel {reference!r} is not in the log; channels present: {order}",
            column=schema.CHANNEL,
        )
    left_out, kept = [], []
    for channel in order:
        mask = labels == channel
        if mask.sum() < min_requests:
            left_out.append({"channel": channel, "reason": "too_few_requests"})
        elif event[mask].sum() == 0:
            left_out.append({"channel": channel, "reason": "no_resolutions"})
        else:
            kept.append(channel)
    if reference not in kept:
        raise SekatError(
            f"reference channel {reference!r} has fewer than {min_requests} requests or none "
            "resolved; choose another reference",
            column=schema.CHANNEL,
        )
    rows_in = np.isin(labels, kept)
    compared = cases.loc[rows_in]
    t, e, lab = time[rows_in], event[rows_in], labels[rows_in]
    others = [c for c in kept if c != reference]
    blocks = [(lab == c).astype(float)[:, None] for c in others]
    codes = covariate_codes(compared, list(covariates)) if covariates else None
    if codes is not None:
        for column in codes.columns:
            values = codes[column].to_numpy()
            for k in range(1, len(codes.attrs["levels"][column])):
                blocks.append((values == k).astype(float)[:, None])
    if strata is not None and (
        strata not in compared.columns or compared[strata].dropna().nunique() < 2
    ):
        strata = None
    strata_values = (
        None if strata is None else compared[strata].astype("object").fillna("(missing)").to_numpy()
    )
    rows = []
    if others:
        fit = cox_fit(t, e, np.hstack(blocks), strata_values)
        method = (
            f"Cox PH (Breslow ties) by channel against {reference}"
            + (f", stratified by {strata}" if strata else "")
            + (f", adjusted for {', '.join(covariates)}" if covariates else "")
        )
        for i, channel in enumerate(others):
            rows.append(
                ratio_row(
                    f"hazard_ratio[channel={channel}]",
                    float(fit["params"][i]),
                    float(np.sqrt(fit["cov"][i, i])),
                    int((lab == channel).sum() + (lab == reference).sum()),
                    method,
                    level,
                    estimand="conditional",
                    outcome=schema.HAZARD_OUTCOME,
                    method_key="cox",
                    contrast=f"{channel} vs {reference}",
                    group=schema.CHANNEL,
                    group_value=channel,
                )
            )
    return EstimateResult(
        result_frame(rows), {"left_out": pd.DataFrame(left_out, columns=["channel", "reason"])}
    )


def _wilson(successes: int, n: int, level: float) -> tuple[float, float]:
    if n == 0:
        return np.nan, np.nan
    z = z_value(level)
    p = successes / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * np.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return float(max(0.0, centre - half)), float(min(1.0, centre + half))


def compliance(
    cases: pd.DataFrame,
    *,
    within: int | None = None,
    calendar: WorkingCalendar | None = None,
    target: str | None = None,
    by: str | None = schema.CHANNEL,
    level: float = 0.95,
) -> EstimateResult:
    """Share of requests that met the service standard, by channel, with a Wilson interval.

    Give either ``within`` (working days of ``calendar``) or ``target`` (a column of each
    request's own deadline, UTC timestamps, e.g. Boston's ``TARGET_DT``).

    Parameters
    ----------
    cases : pandas.DataFrame
        Case table (``start``, ``end``, ``censored``; ``target`` if named).
    within : int, optional
        The standard in working days: on time when resolved after at most ``within``
        working days (the module's definition).
    calendar : WorkingCalendar, optional
        Working week and holidays for ``within`` (default: Monday to Friday, no holidays).
    target : str, optional
        Column of each request's deadline: on time when resolved at or before it.
    by : str or None
        Grouping column (default ``channel``); None for one overall row.
    level : float
        Confidence level.

    Returns
    -------
    EstimateResult
        ``table``: rows ``on_time[<group>]`` (estimand ``mean``, outcome ``on_time``, scale
        ``level``): the share on time among the requests whose outcome is known, ``n`` those
        requests. ``diagnostics["counts"]``: per group, on time, late, still open within the
        standard (undecided: left out, never counted as late or on time) and without a
        target.

    Notes
    -----
    A request still open at the cut-off is *late* once the standard has certainly passed
    (more than ``within`` working days to the cut-off, or the cut-off after its target);
    before that its outcome is unknown and it is left out, so the share is not pulled down
    by requests opened just before the cut-off.

    Examples
    --------
    >>> start = pd.to_datetime(["2015-03-02"] * 4, utc=True)  # a Monday
    >>> end = pd.to_datetime(["2015-03-03", "2015-03-12", "2015-03-04", "2015-03-20"], utc=True)
    >>> c = pd.DataFrame({"start": start, "end": end, "censored": [False, False, True, True],
    ...                   "channel": ["phone"] * 4})
    >>> r = compliance(c, within=5, calendar=WorkingCalendar(tz="UTC"))
    >>> r.diagnostics["counts"][["on_time", "late", "undecided"]].values.tolist()
    [[1, 2, 1]]
    """
    if (within is None) == (target is None):
        raise SekatError("give a standard: within=N working days, or target=<deadline column>")
    require_columns(cases, [schema.START, schema.END, schema.CENSORED], what="the case table")
    open_ = cases[schema.CENSORED].astype(bool).to_numpy()
    missing = np.zeros(len(cases), dtype=bool)
    if target is not None:
        require_columns(cases, [target], what="the case table")
        deadline = pd.to_datetime(cases[target], utc=True, errors="coerce")
        missing = deadline.isna().to_numpy()
        end = pd.to_datetime(cases[schema.END], utc=True)
        met = (end <= deadline).to_numpy() & ~missing
        on_time = ~open_ & met
        late = (~open_ & ~met & ~missing) | (open_ & ~met & ~missing)
        # open and the cut-off not yet past the deadline: undecided
        late = late & ~(open_ & met)
        method = f"share resolved by the target time ({target}), Wilson interval"
    else:
        if isinstance(within, bool) or int(within) != within or within < 0:
            raise SekatError(f"within must be a whole number of working days, got {within!r}")
        calendar = calendar or WorkingCalendar(tz="UTC")
        elapsed = working_days(cases, calendar)
        on_time = ~open_ & (elapsed <= within)
        late = elapsed > within  # resolved late, or open and already past the standard
        method = f"share resolved within {int(within)} working days, Wilson interval"
    undecided = ~on_time & ~late & ~missing
    if by is None:
        labels, order = np.full(len(cases), "all", dtype=object), ["all"]
    else:
        labels, order = _labels(cases, by)
    rows, counts = [], []
    for group in order:
        mask = labels == group
        k, n = int((on_time & mask).sum()), int(((on_time | late) & mask).sum())
        low, high = _wilson(k, n, level)
        rows.append(
            {
                "term": f"on_time[{group}]",
                "estimate": k / n if n else np.nan,
                "ci_low": low,
                "ci_high": high,
                "n": n,
                "method": method,
                schema.ESTIMAND: "mean",
                schema.OUTCOME: COMPLIANCE_OUTCOME,
                schema.SCALE: "level",
                schema.GROUP: by,
                schema.GROUP_VALUE: None if by is None else group,
                schema.METHOD_KEY: "mean",
            }
        )
        counts.append(
            {
                "group": group,
                "on_time": k,
                "late": int((late & mask).sum()),
                "undecided": int((undecided & mask).sum()),
                "no_target": int((missing & mask).sum()),
            }
        )
    return EstimateResult(result_frame(rows), {"counts": pd.DataFrame(counts)})
