"""Timestamps: raw text (or datetimes) to UTC instants, naming every value that cannot be read.

:func:`parse_timestamps` reads ISO 8601 vectorised, then the common day/month formats, then
anything else pandas' mixed-format parser can read, one distinct value at a time. Values with
an offset keep it; naive values are read in the log's source time zone, where a wall-clock
time skipped by daylight saving is an issue of its own and a repeated one is read as the
earlier instant. Nothing raises on a bad value: each gets an issue code
(:data:`MISSING_TIMESTAMP`, :data:`UNPARSEABLE_TIMESTAMP`, ...), which validation turns into
a quarantine reason, and the shape of the format it was written in, which the report counts.
"""

from __future__ import annotations

import re
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import numpy as np
import pandas as pd
import pyarrow as pa

from toolkit import schema
from toolkit.errors import SekatError

__all__ = [
    "AMBIGUOUS_LOCAL_TIME",
    "ISO_8601",
    "MISSING_TIMESTAMP",
    "NONEXISTENT_LOCAL_TIME",
    "RELATIVE_TIMESTAMP",
    "RELATIVE_WORDS",
    "TIMESTAMP_OUT_OF_RANGE",
    "TIMESTAMP_WITHOUT_DATE",
    "UNPARSEABLE_TIMESTAMP",
    "parse_timestamps",
    "parse_timestamps_with_shapes",
    "timestamp_shape",
    "zone",
]

#: Shape name of every timestamp that pandas' ISO 8601 parser reads.
ISO_8601 = "ISO 8601"
MISSING_TIMESTAMP = "missing_timestamp"
UNPARSEABLE_TIMESTAMP = "unparseable_timestamp"
TIMESTAMP_OUT_OF_RANGE = "timestamp_out_of_range"
NONEXISTENT_LOCAL_TIME = "nonexistent_local_time"
#: A word whose meaning depends on when it is read (``now``, ``today``): never read, since a
#: rerun tomorrow would give another time.
RELATIVE_TIMESTAMP = "relative_timestamp"
#: A time of day without a date (``08:00``, a Parquet ``time64`` value), or a day without a
#: year (``5 Jan``): a parser would fill in today's date or this year, so it is never read.
TIMESTAMP_WITHOUT_DATE = "timestamp_without_date"
#: Relative words refused (matched whole, ignoring case), English and Indonesian.
RELATIVE_WORDS = frozenset(
    {
        "now", "today", "tomorrow", "yesterday", "tonight", "midnight", "noon",
        "sekarang", "hari ini", "kemarin", "besok", "tadi", "barusan",
    }
)  # fmt: skip
#: Not a fault: a wall-clock time that occurs twice (end of daylight saving), read as the
#: earlier of the two instants.
AMBIGUOUS_LOCAL_TIME = "ambiguous_local_time"

# A time of day followed by a UTC designator or numeric offset: "10:00Z", "10:00:00+07:00".
_OFFSET = re.compile(r"\d:\d\d(?::\d\d(?:[.,]\d+)?)?\s*(?:Z|UTC|GMT|[+-]\d\d(?::?\d\d)?)$", re.I)
# A year written out: four digits, or the last of three numbers of a date (05/01/24).
_HAS_YEAR = re.compile(r"\d{4}|\d{1,2}[/.\-]\d{1,2}[/.\-]\d{2}(?!\d)")
_NS_MIN = pd.Timestamp.min.tz_localize("UTC")
_NS_MAX = pd.Timestamp.max.tz_localize("UTC")


def zone(source_tz: str) -> ZoneInfo:
    try:
        return ZoneInfo(source_tz)
    except (ZoneInfoNotFoundError, ValueError):
        raise SekatError(f"unknown time zone {source_tz!r} (use an IANA name)") from None


#: Day/month formats read vectorised before the (slow, value by value) mixed-format parser;
#: each reads a value exactly as that parser would with the same ``dayfirst``.
_MONTH_FIRST_FORMATS = (
    "%m/%d/%Y %I:%M:%S %p",
    "%m/%d/%Y %I:%M %p",
    "%m/%d/%Y %H:%M:%S",
    "%m/%d/%Y %H:%M",
    "%m/%d/%Y",
)
_DAY_FIRST_FORMATS = (
    "%d/%m/%Y %H:%M:%S",
    "%d/%m/%Y %H:%M",
    "%d/%m/%Y",
    "%d-%m-%Y %H:%M:%S",
    "%d-%m-%Y %H:%M",
    "%d-%m-%Y",
    "%d/%m/%Y %I:%M:%S %p",
)


def _parse_text(values: pd.Series, *, utc: bool, dayfirst: bool) -> tuple[pd.Series, pd.Series]:
    """ISO 8601 fast path, then common day/month formats, then mixed-format parsing.

    Returns the parsed values and the format that read each (``ISO 8601`` or a strftime
    format; missing where the mixed-format parser was needed).
    """
    unit = "datetime64[us, UTC]" if utc else "datetime64[us]"
    parsed = pd.to_datetime(values, format="ISO8601", utc=utc, errors="coerce")
    if not pd.api.types.is_datetime64_any_dtype(parsed.dtype):
        parsed = pd.Series(pd.NaT, index=values.index, dtype=unit)
    parsed = parsed.astype(unit)
    formats = _missing_text(values.index)
    formats[parsed.notna()] = ISO_8601
    if not utc:
        for fmt in _DAY_FIRST_FORMATS if dayfirst else _MONTH_FIRST_FORMATS:
            failed = parsed.isna()
            if not failed.any():
                break
            attempt = pd.to_datetime(values[failed], format=fmt, errors="coerce")
            read = attempt.dropna()
            if len(read):
                parsed[read.index] = read.astype(unit)
                formats[read.index] = fmt
    failed = parsed.isna()
    if failed.any():
        retry = values[failed]
        uniques = retry.unique()
        lookup = {}
        for text in uniques:
            if not _HAS_YEAR.search(str(text)):
                lookup[text] = pd.NaT  # see undated_issue: never given today's date
                continue
            try:
                stamp = pd.to_datetime(text, format="mixed", utc=utc, dayfirst=dayfirst)
            except (ValueError, TypeError, OverflowError, pd.errors.OutOfBoundsDatetime):
                stamp = pd.NaT
            if not utc and stamp is not pd.NaT and stamp.tzinfo is not None:
                stamp = pd.NaT  # an offset our pattern missed: refuse to guess the zone
            lookup[text] = stamp
        fixed = retry.map(lookup)
        parsed = parsed.astype("object")
        parsed[failed] = fixed
        parsed = pd.to_datetime(parsed, utc=utc)
    return parsed.astype(unit), formats


def _missing_text(index: pd.Index) -> pd.Series:
    """A ``str`` column of missing values (Arrow nulls: no per-row work)."""
    column = pd.Series(pa.nulls(len(index), pa.large_string()), dtype="str", copy=False)
    return column if index.equals(column.index) else column.set_axis(index)


_DIGIT = re.compile(r"\d")
_WORD = re.compile(r"[^\W\d_]{2,}")


def timestamp_shape(text: str) -> str:
    """The written shape of a timestamp: digits as ``9``, words (month names, AM/PM) as ``Aaa``.

    Parameters
    ----------
    text : str
        A timestamp as written in a log.

    Returns
    -------
    str
        Its shape; values of one format share a shape.

    Examples
    --------
    >>> timestamp_shape("05/01/2024 08:15 PM"), timestamp_shape("5 Januari 2024")
    ('99/99/9999 99:99 Aaa', '9 Aaa 9999')
    """
    return _DIGIT.sub("9", _WORD.sub("Aaa", str(text).strip()))


def parse_timestamps(
    values: pd.Series, source_tz: str = schema.DEFAULT_SOURCE_TZ, *, dayfirst: bool = False
) -> tuple[pd.Series, pd.Series]:
    """Turn raw timestamps into UTC instants, naming every value that cannot be read.

    Parameters
    ----------
    values : pandas.Series
        Timestamp text (or datetimes, naive or aware).
    source_tz : str
        IANA time zone in which naive values were written.
    dayfirst : bool
        How to read non-ISO day/month dates such as ``05/01/2024``.

    Returns
    -------
    timestamps : pandas.Series
        ``datetime64[ns, UTC]``; NaT where the value could not be read.
    issues : pandas.Series
        String codes: ``missing_timestamp``, ``unparseable_timestamp``,
        ``relative_timestamp`` (``now``, ``today``, ``kemarin``: never read, so that a rerun
        gives the same times), ``timestamp_without_date`` (``08:00``, ``5 Jan``: a time or a
        day without a year, which a parser would complete with today's date),
        ``timestamp_out_of_range`` (outside 1677-09-21 .. 2262-04-11, the nanosecond range),
        ``nonexistent_local_time`` (a wall-clock time skipped by a daylight-saving change) or
        ``ambiguous_local_time`` (read, see Notes); missing where the value is fine.

    Notes
    -----
    Values carrying an offset or ``Z`` are honoured whatever ``source_tz`` says. A naive
    wall-clock time that occurs twice (the hour repeated when daylight saving ends) is read as
    the earlier instant, the first time the clock showed it, and flagged
    ``ambiguous_local_time``. ISO 8601 values are parsed vectorised; only the rest go through
    pandas' mixed-format parser, one distinct value at a time.

    Examples
    --------
    >>> import pandas as pd
    >>> ts, issue = parse_timestamps(pd.Series(["2024-01-05 10:00", "2024-01-05T10:00+00:00",
    ...                                         "soon", None]))
    >>> ts.dt.strftime("%H:%M").tolist()
    ['03:00', '10:00', nan, nan]
    >>> issue.tolist()
    [nan, nan, 'unparseable_timestamp', 'missing_timestamp']
    """
    timestamps, issues, _ = parse_timestamps_with_shapes(values, source_tz, dayfirst=dayfirst)
    return timestamps, issues


def parse_timestamps_with_shapes(
    values: pd.Series, source_tz: str, *, dayfirst: bool
) -> tuple[pd.Series, pd.Series, pd.Series]:
    """:func:`parse_timestamps` plus the written shape of every present value (a third series)."""
    tz = zone(source_tz)
    index = values.index
    issues = _missing_text(index)
    shapes = _missing_text(index)
    if isinstance(values.dtype, pd.DatetimeTZDtype):
        # Native instants are converted, never formatted as text and read back.
        utc = values.dt.tz_convert("UTC")
        if utc.dt.unit != "ns":
            utc = utc.astype("datetime64[us, UTC]")
        missing = utc.isna().to_numpy()
        if missing.any():
            issues[missing] = MISSING_TIMESTAMP
        return (*_bound(utc, issues), shapes)
    if pd.api.types.is_datetime64_dtype(values.dtype):
        naive = values.astype("datetime64[us]")
        issues[naive.isna()] = MISSING_TIMESTAMP
        return (*_bound(_localise(naive, tz, issues), issues), shapes)

    text = values.astype("str").str.strip()
    missing = text.isna() | (text == "")
    issues[missing] = MISSING_TIMESTAMP
    # pandas reads "now" and "today" as the moment of the run: refuse them before any parser.
    relative = text.str.lower().isin(RELATIVE_WORDS).fillna(False).to_numpy(dtype=bool)
    if relative.any():
        issues[relative] = RELATIVE_TIMESTAMP
        missing = missing | relative
    present = text[~missing]
    by_arrow = _read_iso_by_arrow(present)
    if by_arrow is not None:
        parsed, aware = by_arrow
        shapes[present.index] = ISO_8601
        utc = parsed if aware else _localise(parsed, tz, issues)
        if len(present) < len(index):
            utc = utc.reindex(index)
        return (*_bound(utc, issues), shapes)
    has_offset = present.str.contains(_OFFSET, na=False)
    aware, aware_format = _parse_text(present[has_offset], utc=True, dayfirst=dayfirst)
    naive, naive_format = _parse_text(present[~has_offset], utc=False, dayfirst=dayfirst)
    bad = pd.concat([aware[aware.isna()], naive[naive.isna()]]).index
    issues[bad] = UNPARSEABLE_TIMESTAMP
    if len(bad):
        undated = present[bad]
        lookup = {u: undated_issue(u) for u in undated.unique()}
        named = undated.map(lookup).dropna()
        issues[named.index] = named
    known = pd.concat([aware_format, naive_format]).dropna()
    shapes[known.index] = known
    other = present[shapes[present.index].isna()]
    if len(other):
        lookup = {u: timestamp_shape(u) for u in other.unique()}
        shapes[other.index] = other.map(lookup)
    local = _localise(naive, tz, issues)
    utc = pd.Series(pd.NaT, index=index, dtype="datetime64[us, UTC]")
    utc[aware.index] = aware
    utc[local.index] = local
    return (*_bound(utc, issues), shapes)


def undated_issue(text: str) -> str | None:
    """Why an unreadable timestamp has no date: a relative word, or no year; else None.

    Examples
    --------
    >>> undated_issue("Today"), undated_issue("08:00"), undated_issue("5 Jan"), undated_issue("soon")
    ('relative_timestamp', 'timestamp_without_date', 'timestamp_without_date', None)
    """
    folded = " ".join(str(text).lower().split())
    if folded in RELATIVE_WORDS:
        return RELATIVE_TIMESTAMP
    if re.search(r"\d", folded) and not _HAS_YEAR.search(folded):
        return TIMESTAMP_WITHOUT_DATE
    return None


def _read_iso_by_arrow(present: pd.Series) -> tuple[pd.Series, bool] | None:
    """Values all in ISO 8601, all with an offset or all without, read by Arrow at once.

    Returns the parsed values (UTC instants if ``aware``, else wall-clock times) and
    ``aware``; None when a value has another form (then pandas reads them one format at a
    time). Arrow's ISO 8601 reader accepts a subset of what pandas' does, and reads it to the
    same instants, so the result does not depend on which of the two read a log.
    """
    if present.empty:
        return None
    import pyarrow.compute as pc

    array = pa.array(present.array)
    has_offset = pc.match_substring_regex(array, _OFFSET.pattern, ignore_case=True)
    with_offset = int(pc.sum(has_offset).as_py() or 0)
    if with_offset == len(present):
        target, aware = pa.timestamp("us", tz="UTC"), True
    elif with_offset == 0:
        target, aware = pa.timestamp("us"), False
    else:
        return None
    try:
        parsed = pc.cast(array, target)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        return None
    return pd.Series(parsed.to_pandas().array, index=present.index), aware


def _localise(naive: pd.Series, zone: ZoneInfo, issues: pd.Series) -> pd.Series:
    if naive.empty:
        return naive.dt.tz_localize("UTC")
    earlier = np.ones(len(naive), dtype=bool)  # DST side of a repeated hour = earlier instant
    local = naive.dt.tz_localize(zone, ambiguous=earlier, nonexistent="NaT")
    skipped = local.isna() & naive.notna()
    issues[skipped[skipped].index] = NONEXISTENT_LOCAL_TIME
    later = naive.dt.tz_localize(zone, ambiguous=~earlier, nonexistent="NaT")
    twice = (local != later) & local.notna()
    issues[twice[twice].index] = AMBIGUOUS_LOCAL_TIME
    return local.dt.tz_convert("UTC")


def _bound(utc: pd.Series, issues: pd.Series) -> tuple[pd.Series, pd.Series]:
    if utc.dt.unit == "ns":  # nanosecond datetimes cannot lie outside the nanosecond range
        return utc.astype(schema.TIMESTAMP_DTYPE), issues
    outside = (utc < _NS_MIN) | (utc > _NS_MAX)
    issues[outside[outside].index] = TIMESTAMP_OUT_OF_RANGE
    inside = utc.where(~outside)
    return inside.astype(schema.TIMESTAMP_DTYPE), issues
