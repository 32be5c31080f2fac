"""Validation with nothing lost: every input row is either kept or quarantined with a reason.

:func:`validate` takes events from :func:`toolkit.io.readers.read_events` (or any frame with the
required columns) and splits them into clean canonical events and a quarantine table; its report
always satisfies ``rows_in == rows_kept + rows_quarantined``.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from toolkit import schema
from toolkit.errors import MissingColumnError
from toolkit.io import readers, timestamps

__all__ = [
    "BULK_QUANTILES",
    "FUTURE_TIMESTAMP",
    "LONG_CASE_EVENTS",
    "OUTLYING_FENCE",
    "OUTLYING_MIN_GAP",
    "OUTLYING_TIMESTAMP",
    "REASONS",
    "REASON",
    "ValidationResult",
    "near_duplicate_agencies",
    "outlying_times",
    "quarantine_summary",
    "report_table",
    "time_warnings",
    "validate",
]

#: Column of the quarantine table that says why a row was set aside.
REASON = schema.REASON

MISSING_CASE_ID = "missing_case_id"
MISSING_AGENCY = "missing_agency"
UNKNOWN_CHANNEL = "unknown_channel"
MISSING_CHANNEL = "missing_channel"
DUPLICATE_EVENT = "duplicate_event"
CLOSED_BEFORE_OPENED = "closed_before_opened"
CHANNEL_CHANGES_WITHIN_CASE = "channel_changes_within_case"
#: A request with an event after the run date (``as_of``): a mistyped year, a clock set wrong.
FUTURE_TIMESTAMP = "future_timestamp"
#: A request with an event far outside the bulk of the log (see :func:`outlying_times`).
OUTLYING_TIMESTAMP = "outlying_timestamp"

#: Quarantine reason codes, in the order they are checked (a row gets the first that applies).
REASONS: tuple[str, ...] = (
    MISSING_CASE_ID,
    timestamps.MISSING_TIMESTAMP,
    timestamps.UNPARSEABLE_TIMESTAMP,
    timestamps.RELATIVE_TIMESTAMP,
    timestamps.TIMESTAMP_WITHOUT_DATE,
    timestamps.TIMESTAMP_OUT_OF_RANGE,
    timestamps.NONEXISTENT_LOCAL_TIME,
    FUTURE_TIMESTAMP,
    OUTLYING_TIMESTAMP,
    MISSING_AGENCY,
    UNKNOWN_CHANNEL,
    DUPLICATE_EVENT,
    CLOSED_BEFORE_OPENED,
    CHANNEL_CHANGES_WITHIN_CASE,
    MISSING_CHANNEL,
)
_TIMESTAMP_REASONS = REASONS[1:7]
#: The bulk of a log's times: between these quantiles (the quartiles) of its event times.
BULK_QUANTILES = (0.25, 0.75)
#: A time is outlying when it lies more than this many bulk widths outside the bulk (Tukey's
#: "far out" fences) ...
OUTLYING_FENCE = 3
#: ... and at least this far (so that a log of one busy week keeps its later closings).
OUTLYING_MIN_GAP = pd.Timedelta(days=365)
#: Fewer events than this: no bulk to speak of, no time is called outlying.
OUTLYING_MIN_EVENTS = 20
#: Key under which events with no channel on any row of their case are counted as ``other``.
MISSING_RAW = "<missing>"
#: A request with more events than this is counted in the report (``cases_over_long``): not
#: a fault, but worth a look (a loop in a workflow system, or ids reused across requests).
LONG_CASE_EVENTS = 1000


@dataclass
class ValidationResult:
    """Clean events, quarantined rows and a report; see :func:`validate`."""

    clean: pd.DataFrame
    quarantine: pd.DataFrame
    report: dict[str, Any] = field(default_factory=dict)
    #: Position in the input of each row of ``clean`` (in its order).
    kept_rows: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64), repr=False)
    #: The input's columns as the checks coded them, ``{column: (a code per input row, -1 =
    #: missing; the distinct values)}`` (:func:`pandas.factorize`): ``sekat prepare`` reuses
    #: them instead of coding the log again.
    codes: dict[str, tuple[np.ndarray, Any]] = field(default_factory=dict, repr=False)


def _counts(values: pd.Series) -> dict[str, int]:
    counts = values.value_counts(dropna=False)
    return {str(k): int(v) for k, v in sorted(counts.items(), key=lambda kv: str(kv[0]))}


def _text_counts(values: pd.Series) -> dict[str, int]:
    """Rows per value as text, missing values aside; a categorical one counted on its codes."""
    if not isinstance(values.dtype, pd.CategoricalDtype):
        return _counts(values.dropna().astype("str"))
    codes = values.cat.codes.to_numpy().astype(np.int64)
    rows = np.bincount(codes[codes >= 0], minlength=len(values.cat.categories))
    counts: dict[str, int] = {}
    for name, n in zip(values.cat.categories.astype("str"), rows, strict=True):
        if n:
            counts[name] = counts.get(name, 0) + int(n)
    return dict(sorted(counts.items()))


def _repeated(values: np.ndarray) -> np.ndarray:
    """Whether each value occurs more than once, by one sort (faster than hashing them).

    Examples
    --------
    >>> _repeated(np.array([3, 1, 3, 2, 1, 5])).tolist()
    [True, True, True, False, True, False]
    """
    ordered = np.sort(values)
    twice = np.unique(ordered[1:][ordered[1:] == ordered[:-1]])
    if not len(twice):
        return np.zeros(len(values), dtype=bool)
    at = np.minimum(np.searchsorted(twice, values), len(twice) - 1)
    return twice[at] == values


_PUNCTUATION = re.compile(r"[^\w\s]+")
_DIGITS = re.compile(r"\d+")
NEAR_DUPLICATE_COLUMNS = ("agency", "similar_agency", "similarity", "rows", "similar_rows")


def _fold_agency(name: str) -> str:
    return " ".join(_PUNCTUATION.sub(" ", name.lower()).split())


def _rows_and_requests(
    codes: np.ndarray, names: Any, case_codes: np.ndarray | None
) -> tuple[dict[str, int], dict[str, int]]:
    """Events and distinct requests per agency name, from codes (-1 = missing)."""
    codes = np.asarray(codes, dtype=np.int64)
    names = [str(name) for name in np.asarray(names, dtype=object)]
    present = codes >= 0
    rows_of = np.bincount(codes[present], minlength=len(names))
    counts = {names[i]: int(rows_of[i]) for i in np.flatnonzero(rows_of)}
    by_request: dict[str, int] = {}
    if case_codes is not None:
        case_codes = np.asarray(case_codes, dtype=np.int64)
        both = present & (case_codes >= 0)
        width = int(case_codes.max()) + 1 if both.any() else 1
        # distinct (agency, request) pairs by one integer sort
        pairs = np.sort(codes[both] * width + case_codes[both])
        pairs = pairs[np.r_[True, pairs[1:] != pairs[:-1]]] if len(pairs) else pairs
        held = np.bincount(pairs // width, minlength=len(names))
        by_request = {names[i]: int(held[i]) for i in np.flatnonzero(held)}
    return counts, by_request


def near_duplicate_agencies(
    agencies: pd.Series,
    threshold: float = 0.85,
    *,
    max_agencies: int = 2000,
    cases: pd.Series | None = None,
    coded: tuple[np.ndarray, Any, np.ndarray | None] | None = None,
) -> pd.DataFrame:
    """Pairs of agency names that are probably one agency spelled two ways (a report only).

    Parameters
    ----------
    agencies : pandas.Series
        Agency names, one per event (missing values are ignored).
    threshold : float
        Smallest similarity reported, between 0 and 1.
    max_agencies : int
        Compare at most this many names, the most frequent first (the comparison is
        quadratic in the number of names).
    cases : pandas.Series, optional
        The request of each event (aligned with ``agencies``): the table then also counts
        ``requests`` and ``similar_requests``, the requests that name each spelling.
    coded : tuple, optional
        The same columns already coded, ``(agency codes, agency names, request codes or
        None)`` as :func:`pandas.factorize` gives them (-1 = missing): not coded again.

    Returns
    -------
    pandas.DataFrame
        One row per pair: ``agency``, ``similar_agency`` (the rarer spelling, or the later in
        alphabetical order on a tie), ``similarity`` (rounded to 3 decimals), ``rows`` and
        ``similar_rows`` (how many events name each); most similar first.

    Notes
    -----
    Names are folded (lower case, punctuation as space, single spaces) and compared with
    :class:`difflib.SequenceMatcher`: similarity is ``2 M / T``, M the characters of the
    longest matching blocks and T the characters of both names. Names equal once folded
    ("Dinas P.U." and "dinas pu") have similarity 1. Names whose numbers differ ("Group 1"
    and "Group 2", "RW 03" and "RW 04") are never paired: numbered units are distinct units.
    Nothing is merged: a pair that is one agency goes into the mapping's ``[agencies]``
    alias table by the user's decision.

    References
    ----------
    .. [1] J. W. Ratcliff and D. E. Metzener, "Pattern Matching: the Gestalt Approach",
       Dr. Dobb's Journal, July 1988 (the algorithm behind difflib.SequenceMatcher).

    Examples
    --------
    >>> import pandas as pd
    >>> names = pd.Series(["Dinas Pekerjaan Umum"] * 3 + ["Dinas Pekerjan Umum", "Group 1",
    ...                    "Group 2", "DINAS P.U.", "Dinas PU"])
    >>> near_duplicate_agencies(names).values.tolist()  # doctest: +NORMALIZE_WHITESPACE
    [['Dinas Pekerjaan Umum', 'Dinas Pekerjan Umum', 0.974, 3, 1],
     ['DINAS P.U.', 'Dinas PU', 0.941, 1, 1]]
    """
    if coded is None:
        coded = (
            *pd.factorize(agencies.astype("str")),
            None if cases is None else pd.factorize(cases)[0],
        )
    counts, by_request = _rows_and_requests(*coded)
    ranked = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))[:max_agencies]
    folded = [(_fold_agency(name), name, n) for name, n in ranked]
    rows = []
    for i, (fold_a, name_a, n_a) in enumerate(folded):
        matcher = difflib.SequenceMatcher(None, b=fold_a, autojunk=False)
        digits_a = _DIGITS.findall(fold_a)
        for fold_b, name_b, n_b in folded[i + 1 :]:
            if _DIGITS.findall(fold_b) != digits_a:
                continue
            if fold_a == fold_b:
                similarity = 1.0
            else:
                matcher.set_seq1(fold_b)
                if matcher.real_quick_ratio() < threshold or matcher.quick_ratio() < threshold:
                    continue
                similarity = matcher.ratio()
                if similarity < threshold:
                    continue
            rows.append((name_a, name_b, round(similarity, 3), int(n_a), int(n_b)))
    table = pd.DataFrame(rows, columns=list(NEAR_DUPLICATE_COLUMNS))
    if cases is not None:
        table["requests"] = [int(by_request.get(a, 0)) for a in table["agency"]]
        table["similar_requests"] = [int(by_request.get(b, 0)) for b in table["similar_agency"]]
    table = table.sort_values(
        ["similarity", "rows", "agency", "similar_agency"],
        ascending=[False, False, True, True],
        kind="stable",
    )
    return table.astype({"agency": "str", "similar_agency": "str"}).reset_index(drop=True)


def outlying_times(time_ns: np.ndarray) -> tuple[np.ndarray, dict[str, Any]]:
    """Which times lie far outside the bulk of a log (a mistyped year), by a fixed rule.

    Parameters
    ----------
    time_ns : numpy.ndarray of int64
        Event times as nanoseconds since the epoch (the times that are otherwise fine).

    Returns
    -------
    outlying : numpy.ndarray of bool
        One flag per time.
    rule : dict
        ``bulk_from``, ``bulk_to`` (ISO times), ``allowed_from``, ``allowed_to``: the bounds
        used, for the report (empty when the rule did not apply).

    Notes
    -----
    The bulk is the middle half of the times, between the quartiles Q1 and Q3
    (:data:`BULK_QUANTILES`). A time is outlying when it lies before Q1 or after Q3 by more
    than the gap ``max(3 (Q3 - Q1), 1 year)`` (Tukey's far-out fences [1]_,
    :data:`OUTLYING_FENCE`, widened to :data:`OUTLYING_MIN_GAP`). A log of requests opened
    over one year keeps every time from about two years before to two years after its
    middle half; a year typed 2005 for 2015, or 2061 for 2016, is outlying. With fewer than
    :data:`OUTLYING_MIN_EVENTS` times there is no bulk and nothing is outlying.

    References
    ----------
    .. [1] J. W. Tukey, *Exploratory Data Analysis*, Addison-Wesley, 1977 (fences at 3
       interquartile ranges beyond the quartiles mark values "far out").

    Examples
    --------
    >>> import pandas as pd
    >>> days = pd.date_range("2015-01-01", periods=100, freq="D").append(
    ...     pd.DatetimeIndex(["2005-03-01"]))
    >>> flags, rule = outlying_times(days.as_unit("ns").asi8)
    >>> int(flags.sum()), rule["allowed_from"][:10], rule["allowed_to"][:10]
    (1, '2014-01-25', '2016-03-15')
    """
    flags = np.zeros(len(time_ns), dtype=bool)
    if len(time_ns) < OUTLYING_MIN_EVENTS:
        return flags, {}
    low, high = np.quantile(time_ns, BULK_QUANTILES, method="lower")
    gap = max(OUTLYING_FENCE * int(high - low), OUTLYING_MIN_GAP.value)
    allowed_from, allowed_to = int(low) - gap, int(high) + gap
    flags = (time_ns < allowed_from) | (time_ns > allowed_to)

    def iso(ns: int) -> str:
        return pd.Timestamp(ns, tz="UTC").isoformat()

    return flags, {
        "bulk_from": iso(int(low)),
        "bulk_to": iso(int(high)),
        "allowed_from": iso(max(allowed_from, pd.Timestamp.min.value + 1)),
        "allowed_to": iso(min(allowed_to, pd.Timestamp.max.value)),
    }


def validate(
    events: pd.DataFrame, *, strict_channels: bool = False, as_of: Any = None
) -> ValidationResult:
    """Split events into clean rows and quarantined rows, each quarantined row with a reason.

    Parameters
    ----------
    events : pandas.DataFrame
        Output of :func:`toolkit.io.readers.read_events`, or any frame with the columns
        :data:`toolkit.schema.REQUIRED_COLUMNS` (it is then read as
        :func:`toolkit.io.readers.canonicalise` would, naive times in Asia/Jakarta).
    strict_channels : bool
        Quarantine rows whose channel is outside the vocabulary and the mapping
        (``unknown_channel``) and cases with no channel at all (``missing_channel``), instead of
        reading them as ``other`` and counting them.
    as_of : timestamp-like, optional
        The run date: a request with an event after it is quarantined (``future_timestamp``).
        Default: now (UTC). The outputs change only when the date passes a time in the log.

    Returns
    -------
    ValidationResult
        ``clean``: canonical events with provenance columns (input order kept);
        ``quarantine``: the quarantined input rows, unchanged, plus ``reason``;
        ``report``: rows_in, rows_kept, rows_quarantined and reasons {code: count}, counted
        in *source rows* (a request export's row makes two events and counts once),
        events_in, events_kept, events_quarantined (events),
        channels_mapped_to_other {raw: requests}, unmapped_activities {raw: requests} (raw
        values as read, counted in requests), agencies_carried (events whose unit was filled,
        see ``carry_agency``), outlying_rule (the bounds of :func:`outlying_times`),
        ambiguous_local_times, cases_in, cases_kept, cases_with_quarantined_rows,
        strict_channels, timestamp_formats {format: rows} (the format each timestamp
        was read with, see :data:`toolkit.io.readers.TIMESTAMP_FORMAT`), events_per_case_max,
        cases_over_1000_events (:data:`LONG_CASE_EVENTS`), agency_near_duplicates (records of
        :func:`near_duplicate_agencies`, a report only), and cases_without_observed_hops
        when the events carry ``hops_observed``.

    Raises
    ------
    MissingColumnError
        If a required column is missing.

    Notes
    -----
    Each row receives the first reason of :data:`REASONS` that applies:

    1. Row faults: ``missing_case_id``; ``missing_timestamp``, ``unparseable_timestamp``,
       ``relative_timestamp`` (``now``, ``today``), ``timestamp_without_date`` (``08:00``,
       a Parquet time of day, ``5 Jan`` without a year), ``timestamp_out_of_range``,
       ``nonexistent_local_time`` (from the reader); ``future_timestamp`` and
       ``outlying_timestamp`` (the whole request, see below); ``missing_agency``;
       ``unknown_channel`` (strict only).
    2. ``duplicate_event``: among rows without a fault, a row equal to an earlier row in
       every column except ``source_file`` and ``source_row`` (the first is kept).
    3. The channel is an attribute of the request (its intake channel). A row without a
       channel takes the one channel its case's other rows agree on. When the rows of a case
       name different channels, the treatment of the request is unknown, so the *whole case*
       is quarantined (``channel_changes_within_case``): dropping only the minority rows would
       silently shorten its path and undercount its hops. A case with no channel on any row
       becomes ``other`` (counted under ``"<missing>"``), or is quarantined as
       ``missing_channel`` when strict.

    Between 2 and 3, ``closed_before_opened``: a request with a ``resolved`` or ``closed``
    event earlier than its first ``submitted`` event (a 311 export's ``closed_dt < open_dt``,
    or a placeholder close date such as 1900-01-01) is quarantined whole, as its duration
    would be negative. Finally, events made from one source row (a request export's opening
    and closing events, see :mod:`toolkit.io.presets`) stand or fall together: when one is
    quarantined the others are too, with its reason.

    Times a user cannot have meant: a request with any event after ``as_of`` is set aside
    whole as ``future_timestamp``, and one with an event far outside the bulk of the log's
    times (:func:`outlying_times`: more than three interquartile ranges, and at least a
    year, outside its quartiles) as ``outlying_timestamp``. Either would otherwise stretch its
    own duration and move the cut-off, and so the duration of every open request.

    Rows of a case that lost other rows to quarantine are kept; the report counts such
    cases in ``cases_with_quarantined_rows`` because their paths may be incomplete.

    Examples
    --------
    >>> import pandas as pd
    >>> raw = pd.DataFrame({
    ...     "case_id": ["a", "a", "a", "b"],
    ...     "timestamp": ["2024-01-05 08:00", "2024-01-05 08:00", "2024-01-05 09:00", "never"],
    ...     "agency": ["Kel. A", "Kel. A", "Dinas PU", "Kel. B"],
    ...     "activity": ["submitted", "submitted", "resolved", "submitted"],
    ...     "channel": ["twitter", "twitter", "", "phone"]})
    >>> result = validate(raw)
    >>> result.clean["channel"].tolist()
    ['twitter', 'twitter']
    >>> result.quarantine["reason"].tolist()
    ['duplicate_event', 'unparseable_timestamp']
    >>> r = result.report
    >>> r["rows_in"], r["rows_kept"], r["rows_quarantined"], r["cases_kept"]
    (4, 2, 2, 1)
    """
    missing = [c for c in schema.REQUIRED_COLUMNS if c not in events.columns]
    if missing:
        files = (
            sorted(events[schema.SOURCE_FILE].dropna().astype(str).unique())
            if schema.SOURCE_FILE in events
            else []
        )
        raise MissingColumnError(
            f"required column(s) {', '.join(map(repr, missing))} not found; columns found: "
            f"{', '.join(map(repr, map(str, events.columns))) or 'none'}",
            file=", ".join(files) or None,
            column=missing[0],
        )
    original = events.reset_index(drop=True)
    if not set(readers.READ_MARKERS) <= set(original.columns):
        keep = tuple(
            c
            for c in original.columns
            if c not in schema.CANONICAL_COLUMNS + schema.PROVENANCE_COLUMNS
            and c not in readers.READ_MARKERS
        )
        from toolkit.io.mapping import Mapping

        original = readers.canonicalise(
            original, Mapping(keep=keep), strict_channels=strict_channels
        )
    frame = original
    n = len(frame)
    # Every check runs on integer codes: a reason code per row (0 = kept, i = REASONS[i - 1]),
    # a case code per row (-1 = missing id), per-case reductions by bincount.
    reason = np.zeros(n, dtype=np.int8)

    def assign(mask: pd.Series | np.ndarray, code: str) -> None:
        mask = np.asarray(mask, dtype=bool) & (reason == 0)
        reason[mask] = REASONS.index(code) + 1

    cases = frame[schema.CASE_ID]
    case_code, case_names = pd.factorize(cases)
    case_code = case_code.astype(np.int64)
    n_cases = len(case_names)

    def per_case(mask: np.ndarray) -> np.ndarray:
        """Whether each row's case has a row where ``mask`` holds."""
        hit = np.zeros(n_cases + 1, dtype=bool)
        hit[case_code[mask]] = True
        hit[-1] = False  # rows without a case id belong to no case
        return hit[case_code]

    assign(case_code < 0, MISSING_CASE_ID)
    issue = frame[readers.TIMESTAMP_ISSUE]
    if issue.notna().any():
        for code in _TIMESTAMP_REASONS:
            assign((issue == code).to_numpy(dtype=bool, na_value=False), code)
    stamps = frame[schema.TIMESTAMP]
    time_ns = stamps.dt.as_unit("ns").array.asi8
    assign(stamps.isna().to_numpy(), timestamps.MISSING_TIMESTAMP)
    # Times no one meant: after the run date, or far outside the bulk. The whole request goes,
    # as its duration (and the cut-off of every open request) would be stretched.
    run_date = pd.Timestamp.now(tz="UTC") if as_of is None else pd.Timestamp(as_of)
    if run_date.tzinfo is None:
        run_date = run_date.tz_localize("UTC")
    alive = reason == 0
    future = alive & (time_ns > run_date.as_unit("ns").value)
    assign(alive & per_case(future), FUTURE_TIMESTAMP)
    alive = reason == 0
    outlying_rule: dict[str, Any] = {}
    if alive.any():
        flags, outlying_rule = outlying_times(time_ns[alive])
        outlying = np.zeros(n, dtype=bool)
        outlying[np.flatnonzero(alive)[flags]] = True
        assign(alive & per_case(outlying), OUTLYING_TIMESTAMP)
    agency_code, agency_names = pd.factorize(frame[schema.AGENCY])
    assign(agency_code < 0, MISSING_AGENCY)
    channel_unmapped = frame[readers.CHANNEL_UNMAPPED].astype(bool).to_numpy()
    if strict_channels:
        assign(channel_unmapped, UNKNOWN_CHANNEL)

    content = [
        c
        for c in frame.columns
        if c not in (schema.SOURCE_FILE, schema.SOURCE_ROW) and c not in readers.READ_MARKERS
    ]
    # Two events are equal only if their case and time are: hash those to find the few
    # candidate rows, and compare every column on them alone.
    alive = reason == 0
    mixed = (time_ns.view(np.uint64) * np.uint64(0x9E3779B97F4A7C15)) ^ case_code.view(np.uint64)
    candidate = alive & _repeated(mixed)
    if candidate.any():
        at = np.flatnonzero(candidate)
        duplicated = np.zeros(n, dtype=bool)
        duplicated[at[frame.iloc[at][content].duplicated(keep="first").to_numpy()]] = True
        assign(duplicated, DUPLICATE_EVENT)

    # A request closed before it was opened: its duration would be negative; set it all aside.
    alive = reason == 0
    activity = frame[schema.ACTIVITY]
    activity_codes = (
        activity.cat.codes.to_numpy() if isinstance(activity.dtype, pd.CategoricalDtype) else None
    )

    def is_activity(names: tuple[str, ...]) -> np.ndarray:
        if activity_codes is None:
            return activity.astype("object").isin(names).to_numpy()
        wanted = np.append(activity.cat.categories.isin(names), False)
        return wanted[activity_codes]

    submitted = alive & is_activity((schema.SUBMITTED,))
    opened_at = np.full(n_cases + 1, np.iinfo(np.int64).max, dtype=np.int64)
    np.minimum.at(opened_at, case_code[submitted], time_ns[submitted])
    terminal = alive & is_activity(schema.TERMINAL_ACTIVITIES)
    opened = opened_at[case_code]
    early = terminal & (case_code >= 0) & (opened != np.iinfo(np.int64).max) & (time_ns < opened)
    assign(alive & per_case(early), CLOSED_BEFORE_OPENED)

    # The channel is a case attribute: fill gaps from the case, quarantine disagreeing cases.
    alive = reason == 0
    channel_code = frame[schema.CHANNEL].astype(schema.CHANNEL_DTYPE).cat.codes.to_numpy()
    channel_code = channel_code.astype(np.int64)
    known = alive & (channel_code >= 0)
    low = np.full(n_cases + 1, np.iinfo(np.int64).max, dtype=np.int64)
    high = np.full(n_cases + 1, -1, dtype=np.int64)
    np.minimum.at(low, case_code[known], channel_code[known])
    np.maximum.at(high, case_code[known], channel_code[known])
    conflicting = (high >= 0) & (low != high)
    conflicting[-1] = False
    assign(alive & conflicting[case_code], CHANNEL_CHANGES_WITHIN_CASE)
    alive = reason == 0
    # The alive rows of a case that does not conflict name one channel (its highest code).
    case_channel = np.where(conflicting, -1, high)
    case_channel[-1] = -1
    filled_code = np.where(channel_code >= 0, channel_code, case_channel[case_code])
    no_channel = alive & (filled_code < 0)
    if strict_channels:
        assign(no_channel, MISSING_CHANNEL)
    else:
        other = schema.CHANNELS.index(schema.UNKNOWN_CHANNEL)
        filled_code = np.where(no_channel, other, filled_code)

    # Events made from one source row (a request export's opening and closing) stand or fall
    # together: keeping the closing alone would turn a request into a zero-length one.
    source_rows = frame[schema.SOURCE_ROW].to_numpy(dtype=np.int64, na_value=-1)
    # rows of one file in file order (the usual case) cannot share a source row
    one_event_per_row = bool(np.all(source_rows[1:] > source_rows[:-1]))
    if not one_event_per_row and frame[schema.SOURCE_ROW].duplicated().any():
        origin = [frame[schema.SOURCE_FILE].fillna(""), frame[schema.SOURCE_ROW]]
        codes = pd.Series(reason).where(reason > 0)
        first_reason = codes.groupby(origin, sort=False).transform("first")
        reason = np.where(reason > 0, reason, first_reason.fillna(0).to_numpy()).astype(np.int8)

    kept = reason == 0
    kept_rows = np.flatnonzero(kept)
    # Every row kept (the usual case): the clean events share the input's columns, not a copy.
    clean = frame.copy(deep=False) if kept.all() else frame.iloc[kept_rows].copy()
    clean[schema.CHANNEL] = pd.Categorical.from_codes(
        filled_code[kept_rows], dtype=schema.CHANNEL_DTYPE
    )
    clean = clean.drop(columns=list(readers.READ_MARKERS)).reset_index(drop=True)

    quarantine = events.reset_index(drop=True).loc[~kept].copy()
    for column in (schema.SOURCE_FILE, schema.SOURCE_ROW, readers.TIMESTAMP_RAW):
        if column not in quarantine:
            quarantine[column] = frame.loc[~kept, column]
    quarantine[REASON] = pd.Series(
        pd.Categorical.from_codes(reason[~kept].astype(np.int64) - 1, categories=list(REASONS)),
        index=quarantine.index,
    ).astype("str")
    quarantine = quarantine.reset_index(drop=True)

    kept_codes = case_code[kept]
    held = np.bincount(kept_codes[kept_codes >= 0], minlength=n_cases)
    lost = np.zeros(n_cases + 1, dtype=bool)
    lost[case_code[~kept]] = True
    lost = lost[:-1]
    events_per_case = held[held > 0]
    # Source rows: a request export's row made several events, which stand or fall together.
    first_of_row = (
        np.ones(n, dtype=bool)
        if one_event_per_row
        else ~pd.DataFrame(
            {"file": frame[schema.SOURCE_FILE].fillna(""), "row": frame[schema.SOURCE_ROW]}
        )
        .duplicated()
        .to_numpy()
    )
    by_reason = np.bincount(reason[first_of_row], minlength=len(REASONS) + 1)

    def requests_by(values: pd.Series) -> dict[str, int]:
        """How many requests hold each raw value (a request without an id counts once)."""
        frame_of = pd.DataFrame({"value": values.astype("str"), "case": case_code[values.index]})
        frame_of = frame_of.drop_duplicates()
        return _counts(frame_of["value"]) if len(frame_of) else {}

    carried = frame[readers.AGENCY_CARRIED].astype(bool).to_numpy()
    report: dict[str, Any] = {
        "rows_in": int(first_of_row.sum()),
        "rows_kept": int((kept & first_of_row).sum()),
        "rows_quarantined": int((~kept & first_of_row).sum()),
        "events_in": n,
        "events_kept": int(kept.sum()),
        "events_quarantined": int((~kept).sum()),
        "reasons": {code: int(by_reason[i + 1]) for i, code in enumerate(REASONS)},
        "channels_mapped_to_other": {},
        "unmapped_activities": requests_by(
            frame.loc[frame[readers.ACTIVITY_UNMAPPED].astype(bool), schema.ACTIVITY_RAW].fillna(
                MISSING_RAW
            )
        ),
        "ambiguous_local_times": int((issue == timestamps.AMBIGUOUS_LOCAL_TIME).sum()),
        "cases_in": n_cases,
        "cases_kept": int((held > 0).sum()),
        "cases_with_quarantined_rows": int(((held > 0) & lost).sum()),
        "strict_channels": bool(strict_channels),
        "timestamp_formats": _text_counts(frame[readers.TIMESTAMP_FORMAT]),
        "events_per_case_max": int(events_per_case.max()) if len(events_per_case) else 0,
        f"cases_over_{LONG_CASE_EVENTS}_events": int((events_per_case > LONG_CASE_EVENTS).sum()),
        "agency_near_duplicates": near_duplicate_agencies(
            clean[schema.AGENCY],
            cases=clean[schema.CASE_ID],
            coded=(agency_code[kept_rows], agency_names, case_code[kept_rows]),
        ).to_dict("records"),
        "agencies_carried": int((kept & carried).sum()),
        "outlying_rule": outlying_rule,
    }
    if schema.HOPS_OBSERVED in clean:
        unobserved = kept & ~frame[schema.HOPS_OBSERVED].astype(bool).to_numpy()
        report["cases_without_observed_hops"] = int(np.unique(case_code[unobserved]).size)
    if not strict_channels:
        raw_other = frame.loc[kept & channel_unmapped, schema.CHANNEL_RAW]
        truly_missing = kept & no_channel & ~channel_unmapped
        missing_other = pd.Series(MISSING_RAW, index=frame.index[truly_missing], dtype="str")
        report["channels_mapped_to_other"] = requests_by(pd.concat([raw_other, missing_other]))
    return ValidationResult(
        clean=clean,
        quarantine=quarantine,
        report=report,
        kept_rows=kept_rows,
        codes={schema.CASE_ID: (case_code, case_names), schema.AGENCY: (agency_code, agency_names)},
    )


#: Fewer resolved requests than this share (or this count) of the log: ``few_resolutions``.
FEW_RESOLVED_SHARE = 0.10
FEW_RESOLVED_COUNT = 10
#: A cut-off more than this (and more than the intake period) after the last intake:
#: ``cutoff_far_after_last_intake``.
CUTOFF_GAP = pd.Timedelta(days=90)


def time_warnings(
    cases: pd.DataFrame, report: dict[str, Any], cutoff: Any = None
) -> list[dict[str, Any]]:
    """What a reader of the durations must know: few resolutions, a far cut-off, odd times.

    Parameters
    ----------
    cases : pandas.DataFrame
        The case table (``start``, ``end``, ``resolved``) made with ``cutoff``.
    report : dict
        The validation report (its ``reasons`` and ``channel_observed``, when present).
    cutoff : timestamp-like, optional
        The cut-off the case table used; default its latest ``end``.

    Returns
    -------
    list of dict
        One ``{"code": ..., "message": ..., ...numbers}`` per warning, codes from
        :data:`toolkit.schema.WARNING_CODES`:

        - ``no_resolutions``: no request is resolved, so every duration is the time to the
          cut-off (map the log's closing activities, or its close column);
        - ``few_resolutions``: fewer than 10 % of the requests are resolved, or fewer than 10
          of them (when not all are);
        - ``cutoff_far_after_last_intake``: the cut-off lies more than 90 days, and more
          than the intake period, after the last request came in;
        - ``future_timestamps`` / ``outlying_timestamps``: source rows quarantined for a
          time after the run date or far outside the bulk of the log;
        - ``channel_not_observed``: the log records no intake channel.

    Examples
    --------
    >>> import pandas as pd
    >>> cases = pd.DataFrame({"start": pd.to_datetime(["2024-01-01", "2024-01-02"], utc=True),
    ...                       "end": pd.to_datetime(["2024-06-01", "2024-06-01"], utc=True),
    ...                       "resolved": [False, False]})
    >>> [w["code"] for w in time_warnings(cases, {})]
    ['no_resolutions', 'cutoff_far_after_last_intake']
    """
    warnings: list[dict[str, Any]] = []
    n = len(cases)
    resolved = int(cases[schema.IS_RESOLVED].astype(bool).sum()) if n else 0
    if n and resolved == 0:
        warnings.append(
            {
                "code": schema.NO_RESOLUTIONS,
                "requests": n,
                "message": f"none of the {n} requests is resolved: every duration runs to the "
                "cut-off; map the log's closing activities (or its close column) before "
                "reading durations",
            }
        )
    elif n and (
        resolved < FEW_RESOLVED_SHARE * n or (resolved < FEW_RESOLVED_COUNT and resolved < n)
    ):
        warnings.append(
            {
                "code": schema.FEW_RESOLUTIONS,
                "requests": n,
                "resolved": resolved,
                "message": f"only {resolved} of {n} requests are resolved: most durations are "
                "censored at the cut-off",
            }
        )
    if n:
        last_intake = cases[schema.START].max()
        first_intake = cases[schema.START].min()
        end = cases[schema.END].max() if cutoff is None else pd.Timestamp(cutoff)
        if end.tzinfo is None:
            end = end.tz_localize("UTC")
        if pd.notna(last_intake) and pd.notna(end):
            gap = end - last_intake
            if gap > max(CUTOFF_GAP, last_intake - first_intake):
                open_requests = n - resolved
                warnings.append(
                    {
                        "code": schema.CUTOFF_AFTER_LAST_INTAKE,
                        "cutoff": end.isoformat(),
                        "last_intake": last_intake.isoformat(),
                        "days": round(gap / pd.Timedelta(days=1), 1),
                        "open_requests": open_requests,
                        "message": f"the cut-off ({end:%Y-%m-%d}) lies {gap.days} days after "
                        f"the last intake ({last_intake:%Y-%m-%d}); the {open_requests} open "
                        "requests are counted as open until then",
                    }
                )
    reasons = report.get("reasons", {})
    for reason, code, what in (
        (FUTURE_TIMESTAMP, schema.FUTURE_TIMESTAMPS, "a time after the run date"),
        (OUTLYING_TIMESTAMP, schema.OUTLYING_TIMESTAMPS, "a time far outside the bulk of the log"),
    ):
        if reasons.get(reason):
            warnings.append(
                {
                    "code": code,
                    "rows": int(reasons[reason]),
                    "message": f"{reasons[reason]} source rows quarantined ({reason}): their "
                    f"request had {what}",
                }
            )
    if report.get(schema.CHANNEL_OBSERVED) is False:
        warnings.append(
            {
                "code": schema.CHANNEL_NOT_OBSERVED,
                "message": "the log records no intake channel: every request is read as "
                "'other', so no channel comparison can be made",
            }
        )
    return warnings


#: Report entries that are counts of rows or requests, in the order :func:`report_table` lists.
_REPORT_COUNTS = (
    "rows_in",
    "rows_kept",
    "rows_quarantined",
    "cases_in",
    "cases_kept",
    "cases_with_quarantined_rows",
    "cases_without_observed_hops",
    "events_in",
    "events_kept",
    "events_quarantined",
    "agencies_carried",
    "ambiguous_local_times",
    "events_per_case_max",
    f"cases_over_{LONG_CASE_EVENTS}_events",
)


def report_table(report: dict[str, Any]) -> pd.DataFrame:
    """The counts of a validation report as a small two-column table, for reading.

    Parameters
    ----------
    report : dict
        ``validate(...).report`` (or a prepare run's report.json).

    Returns
    -------
    pandas.DataFrame
        Columns ``item`` and ``count``: the row and request counts, then one row
        ``quarantined: <reason>`` per reason that holds rows, ``channel mapped to other: <raw>``
        per unknown channel value, ``activity read as in_progress: <raw>`` per unmapped
        activity name and ``timestamp format: <shape>`` per written format.

    Examples
    --------
    >>> import pandas as pd
    >>> r = validate(pd.DataFrame({"case_id": ["a", "a"], "timestamp": ["2024-01-05", "?"],
    ...     "agency": ["A", "A"], "activity": ["submitted", "done"], "channel": ["x", "x"]})).report
    >>> report_table(r).head(3).values.tolist()
    [['rows_in', 2], ['rows_kept', 1], ['rows_quarantined', 1]]
    """
    rows = [(key, int(report[key])) for key in _REPORT_COUNTS if key in report]
    sections = (
        ("reasons", "quarantined"),
        ("channels_mapped_to_other", "channel mapped to other"),
        ("unmapped_activities", "activity read as in_progress"),
        ("timestamp_formats", "timestamp format"),
    )
    for key, title in sections:
        for name, n in report.get(key, {}).items():
            if n:
                rows.append((f"{title}: {name}", int(n)))
    return pd.DataFrame(rows, columns=["item", "count"])


def quarantine_summary(quarantine: pd.DataFrame, examples: int = 3) -> pd.DataFrame:
    """How many rows each quarantine reason holds, with the source rows of a few examples.

    Parameters
    ----------
    quarantine : pandas.DataFrame
        ``validate(...).quarantine``.
    examples : int
        Source rows listed per reason.

    Returns
    -------
    pandas.DataFrame
        Columns ``reason``, ``rows``, ``requests`` (distinct case ids) and ``example_rows``
        (``source_file:source_row`` of the first rows, 0-based data rows, header excluded);
        most rows first, in :data:`REASONS` order on ties.

    Examples
    --------
    >>> import pandas as pd
    >>> q = validate(pd.DataFrame({"case_id": ["a", "a", "b"], "agency": ["A", "A", None],
    ...     "timestamp": ["2024-01-05"] * 3, "activity": ["submitted"] * 3,
    ...     "channel": ["web"] * 3})).quarantine
    >>> quarantine_summary(q).values.tolist()
    [['missing_agency', 1, 1, '2'], ['duplicate_event', 1, 1, '1']]
    """
    columns = ["reason", "rows", "requests", "example_rows"]
    if quarantine.empty:
        return pd.DataFrame(columns=columns)
    order = {code: i for i, code in enumerate(REASONS)}
    rows = []
    for code, group in quarantine.groupby(REASON, sort=False):
        where = group[schema.SOURCE_ROW].astype("int64").astype(str)
        if schema.SOURCE_FILE in group and group[schema.SOURCE_FILE].notna().any():
            where = group[schema.SOURCE_FILE].astype(str) + ":" + where
        rows.append(
            (
                str(code),
                len(group),
                int(group[schema.CASE_ID].nunique()) if schema.CASE_ID in group else 0,
                ", ".join(where.iloc[:examples]),
            )
        )
    rows.sort(key=lambda r: (-r[1], order.get(r[0], len(order))))
    return pd.DataFrame(rows, columns=columns)
