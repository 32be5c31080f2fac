"""The kernels behind the case table and the hand-off table: one ordering of the events.

:func:`order_events` orders an event log once (case ids factorised to integers, one
:func:`numpy.lexsort` on case, time and source position) and finds each request's agency
segments; :func:`case_table_frame` and :func:`handoff_codes` turn that ordering into the
case table and the hand-offs with numpy reductions, with no Python loop over requests. The
front doors :func:`toolkit.paths.case_table` and :func:`toolkit.paths.handovers` (in
:mod:`toolkit.paths.cases`) call these for a pandas frame, and :mod:`toolkit.paths.cluster`
calls them on each partition of a Dask frame.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Final

import numpy as np
import pandas as pd

from toolkit import schema
from toolkit.errors import SekatError, require_columns

__all__ = [
    "HANDOVER_COLUMNS",
    "PATH_SEPARATOR",
    "POSITION_COLUMN",
    "EventWalk",
    "aggregate_codes",
    "aggregate_handoffs",
    "case_table_frame",
    "as_cutoff_ns",
    "group_columns",
    "handoff_codes",
    "handoff_rows",
    "handovers_frame",
    "event_order",
    "order_events",
    "split_path",
]

#: Separator between agencies in the ``path`` column of the case table.
PATH_SEPARATOR: Final = schema.PATH_SEPARATOR
#: Hours in a nanosecond count.
_NS_PER_HOUR: Final = 3_600_000_000_000
#: Tie-break column (global row position) that :mod:`toolkit.paths.cluster` adds to Dask frames.
POSITION_COLUMN: Final = "__sekat_position__"
#: Columns of the hand-off table after the group columns.
HANDOVER_COLUMNS: Final = (
    schema.FROM_AGENCY,
    schema.TO_AGENCY,
    schema.COUNT,
    schema.MEDIAN_HOURS,
    schema.MEAN_HOURS,
)
#: Hours between the two events of a hand-off (the raw rows behind :func:`handovers`).
_HOURS: Final = "hours"


# --- ordering the log -------------------------------------------------------------------------


@dataclass(frozen=True)
class EventWalk:
    """Events of a log in (case, time, source order), with each request's agency segments.

    ``rows`` are positions into the input frame in walk order; ``case`` the case code of each
    walk row (0..n_cases-1, in case_id order); ``segment_*`` describe the path: one segment per
    run of consecutive events at the same (known) agency.
    """

    rows: np.ndarray  # input positions, walk order
    case: np.ndarray  # case code per walk row (sorted)
    time: np.ndarray  # int64 ns per walk row
    case_ids: pd.api.extensions.ExtensionArray  # case_id of each code, sorted
    agencies: pd.api.extensions.ExtensionArray  # agency name of each agency code, sorted
    agency: np.ndarray  # agency code per walk row, -1 = missing
    cutoff: int  # ns since epoch, UTC
    case_start: np.ndarray  # first walk row of each case
    known: np.ndarray  # walk rows with a known agency
    segment_start: np.ndarray  # positions into `known` where a segment starts
    segment_case: np.ndarray  # case code of each segment
    segment_agency: np.ndarray  # agency code of each segment

    @property
    def n_cases(self) -> int:
        return len(self.case_ids)


def _row_label(events: pd.DataFrame, position: int) -> int:
    """The row number a user can find: source_row when present, else the frame position."""
    if schema.SOURCE_ROW in events.columns:
        return int(events[schema.SOURCE_ROW].iloc[position])
    return position


def _file_label(events: pd.DataFrame, position: int) -> str | None:
    if schema.SOURCE_FILE in events.columns:
        value = events[schema.SOURCE_FILE].iloc[position]
        return None if pd.isna(value) else str(value)
    return None


def _timestamps_ns(events: pd.DataFrame) -> np.ndarray:
    """The timestamp column as int64 nanoseconds since the epoch (UTC), checked."""
    column = events[schema.TIMESTAMP]
    if not isinstance(column.dtype, pd.DatetimeTZDtype):
        raise SekatError(
            f"timestamps must be timezone-aware datetimes (the contract is "
            f"{schema.TIMESTAMP_DTYPE}), found dtype {column.dtype}; read the log with "
            f"toolkit.read_events or convert with pandas.to_datetime(..., utc=True)",
            column=schema.TIMESTAMP,
        )
    column = column.dt.tz_convert("UTC").dt.as_unit("ns")
    missing = column.isna().to_numpy()
    if missing.any():
        first = int(np.flatnonzero(missing)[0])
        raise SekatError(
            f"missing timestamp ({int(missing.sum())} rows); validate the log first "
            f"(toolkit.validate quarantines such rows)",
            file=_file_label(events, first),
            column=schema.TIMESTAMP,
            row=_row_label(events, first),
        )
    return column.array.asi8


def as_cutoff_ns(cutoff: Any) -> int:
    """A user's cut-off (str, datetime, Timestamp) as UTC nanoseconds; naive means UTC."""
    try:
        stamp = pd.Timestamp(cutoff)
    except (TypeError, ValueError) as error:
        raise SekatError(f"cannot read the cut-off {cutoff!r} as a time: {error}") from None
    if stamp is pd.NaT:
        raise SekatError(f"the cut-off {cutoff!r} is not a time")
    stamp = stamp.tz_localize("UTC") if stamp.tzinfo is None else stamp.tz_convert("UTC")
    return int(stamp.as_unit("ns").value)


def _factorize_sorted(values: pd.Series) -> tuple[np.ndarray, pd.api.extensions.ExtensionArray]:
    """Integer codes whose order is the order of the sorted unique values (missing = -1).

    Codes are int32 (half the memory of int64, and faster to sort) unless there are more
    than 2**31 - 1 distinct values.
    """
    codes, uniques = pd.factorize(values, sort=False)
    order = np.asarray(uniques.argsort())
    dtype = np.int32 if len(order) < np.iinfo(np.int32).max else np.int64
    rank = np.empty(len(order) + 1, dtype=dtype)
    rank[order] = np.arange(len(order), dtype=dtype)
    rank[-1] = -1  # code -1 (missing) stays -1
    sorted_codes = rank[codes]
    del codes
    return sorted_codes, uniques.take(order)


def _sorted_text_codes(
    values: pd.Series,
) -> tuple[np.ndarray, pd.api.extensions.ExtensionArray] | None:
    """Codes of a text column already in sorted order (a prepared log), by adjacent compares.

    None when the column is not sorted, has missing values or is not Arrow text: then
    :func:`_factorize_sorted` hashes it.
    """
    if not isinstance(values.dtype, pd.StringDtype) or len(values) < 2:
        return None
    import pyarrow as pa
    import pyarrow.compute as pc

    array = pa.array(values.array)
    if isinstance(array, pa.ChunkedArray):
        array = array.combine_chunks()
    if array.null_count:
        return None
    head, tail = array.slice(0, len(array) - 1), array.slice(1)
    if pc.any(pc.less(tail, head)).as_py():
        return None
    change = pc.not_equal(tail, head).to_numpy(zero_copy_only=False)
    codes = np.empty(len(array), dtype=np.int32 if len(array) < 2**31 - 1 else np.int64)
    codes[0] = 0
    np.cumsum(change, out=codes[1:])
    starts = np.r_[0, np.flatnonzero(change) + 1]
    return codes, values.array.take(starts)


def _in_order(keys: list[np.ndarray]) -> bool:
    """Whether rows are already in the order ``np.lexsort(keys)`` gives (last key first)."""
    tied = None
    for key in reversed(keys):
        later, earlier = key[1:], key[:-1]
        wrong = later < earlier
        if (wrong if tied is None else wrong & tied).any():
            return False
        same = later == earlier
        tied = same if tied is None else tied & same
    return True


def _order_keys(
    kept: pd.DataFrame, time_kept: np.ndarray, case_codes: np.ndarray, position_column: str | None
) -> list[np.ndarray]:
    # np.lexsort sorts by the last key first and is stable, so the frame order decides
    # whatever the keys leave tied.
    keys: list[np.ndarray] = []
    if position_column is not None:
        keys.append(kept[position_column].to_numpy(dtype=np.int64))
    if schema.SOURCE_ROW in kept.columns:
        keys.append(kept[schema.SOURCE_ROW].to_numpy(dtype=np.int64, na_value=-1))
    if schema.SOURCE_FILE in kept.columns:
        files = kept[schema.SOURCE_FILE]
        single = files.notna().all() and (len(files) == 0 or (files == files.iloc[0]).all())
        if not single:  # one input file (the usual case) leaves nothing to order
            keys.append(_factorize_sorted(files)[0])
    keys += [time_kept, case_codes]
    return keys


def event_order(
    events: pd.DataFrame,
    position_column: str | None = None,
    case_codes: np.ndarray | None = None,
) -> np.ndarray:
    """The permutation that puts a log's rows in walk order: case, time, source position.

    Parameters
    ----------
    events : pandas.DataFrame
        A canonical event log (``case_id``, ``timestamp``; ``source_file``/``source_row``
        break ties when present, then the frame's own order).
    position_column : str, optional
        A further tie-break column (the global row position on Dask).
    case_codes : numpy.ndarray of int, optional
        A code per row whose order is the order of the rows' case ids (equal ids, equal
        codes; as :meth:`toolkit.clean.privacy.Rarity.pseudonym_order` makes them): the
        case ids are then not coded again. The result is the same as without them.

    Returns
    -------
    numpy.ndarray
        Row positions: ``events.take(event_order(events))`` is in the order of
        :func:`order_events`, the order ``sekat prepare`` writes events.parquet in.

    Examples
    --------
    >>> import pandas as pd
    >>> ev = pd.DataFrame({"case_id": ["b", "a", "a"],
    ...     "timestamp": pd.to_datetime(["2024-01-01", "2024-01-02", "2024-01-01"], utc=True)})
    >>> event_order(ev).tolist()
    [2, 1, 0]
    """
    require_columns(events, (schema.CASE_ID, schema.TIMESTAMP), what="the event log")
    time_all = _timestamps_ns(events)
    if case_codes is not None:
        codes = np.asarray(case_codes)
    else:
        sorted_codes = _sorted_text_codes(events[schema.CASE_ID])
        codes = sorted_codes[0] if sorted_codes is not None else None
        if codes is None:
            codes, _ = _factorize_sorted(events[schema.CASE_ID])
    keys = _order_keys(events, time_all, codes, position_column)
    if _in_order(keys):
        return np.arange(len(events))
    return np.lexsort(keys)


def order_events(
    events: pd.DataFrame, cutoff: Any = None, position_column: str | None = None
) -> EventWalk:
    """Order the events of a log and find each request's agency segments.

    A log already in walk order (a prepared events.parquet) is recognised by comparing
    neighbouring rows, without hashing or sorting its case ids. The last walk is remembered
    for the frame it was made from (:func:`cached_walk`), so that ``case_table`` and
    ``handovers`` called one after the other on the same events order them once.
    """
    require_columns(events, (schema.CASE_ID, schema.TIMESTAMP, schema.AGENCY), what="the event log")
    cached = _WALKS.get(events, cutoff, position_column)
    if cached is not None:
        return cached
    time_all = _timestamps_ns(events)
    if cutoff is None:
        cutoff_ns = int(time_all.max()) if len(time_all) else 0
    else:
        cutoff_ns = as_cutoff_ns(cutoff)
    within = time_all <= cutoff_ns
    rows_kept = None if within.all() else np.flatnonzero(within)
    kept = events if rows_kept is None else events.iloc[rows_kept]
    time_kept = time_all if rows_kept is None else time_all[rows_kept]

    presorted = _sorted_text_codes(kept[schema.CASE_ID])
    if presorted is not None:
        case_codes, case_ids = presorted
    else:
        case_codes, case_ids = _factorize_sorted(kept[schema.CASE_ID])
    if (case_codes < 0).any():
        first = int(np.flatnonzero(case_codes < 0)[0])
        first = first if rows_kept is None else int(rows_kept[first])
        raise SekatError(
            "missing case id; validate the log first (toolkit.validate quarantines such rows)",
            file=_file_label(events, first),
            column=schema.CASE_ID,
            row=_row_label(events, first),
        )
    keys = _order_keys(kept, time_kept, case_codes, position_column)
    order = None if _in_order(keys) else np.lexsort(keys)

    case = case_codes if order is None else case_codes[order]
    agency_codes, agencies = _factorize_sorted(kept[schema.AGENCY])
    agency = agency_codes if order is None else agency_codes[order]
    if order is None:
        rows = np.arange(len(kept)) if rows_kept is None else rows_kept
    else:
        rows = order if rows_kept is None else rows_kept[order]
    n = len(case)
    case_start = np.flatnonzero(np.r_[True, case[1:] != case[:-1]]) if n else np.zeros(0, int)

    known = np.flatnonzero(agency >= 0)
    known_case, known_agency = case[known], agency[known]
    new_segment = np.r_[
        True,
        (known_case[1:] != known_case[:-1]) | (known_agency[1:] != known_agency[:-1]),
    ][: len(known)]
    segment_start = np.flatnonzero(new_segment)
    walk = EventWalk(
        rows=rows,
        case=case,
        time=time_kept if order is None else time_kept[order],
        case_ids=case_ids,
        agencies=agencies,
        agency=agency,
        cutoff=cutoff_ns,
        case_start=case_start,
        known=known,
        segment_start=segment_start,
        segment_case=known_case[segment_start],
        segment_agency=known_agency[segment_start],
    )
    _WALKS.put(events, cutoff, position_column, walk)
    return walk


#: Columns whose values decide a walk.
_WALK_COLUMNS = (
    schema.CASE_ID,
    schema.TIMESTAMP,
    schema.AGENCY,
    schema.SOURCE_FILE,
    schema.SOURCE_ROW,
)


def _column_token(values: pd.Series) -> tuple[Any, ...]:
    """What identifies a column's data: its array object, or its numpy buffer."""
    array = values.array
    if isinstance(array, pd.arrays.DatetimeArray):
        data = array.asi8
    elif isinstance(array, pd.arrays.NumpyExtensionArray):
        data = array.to_numpy()
    else:
        return ("array", id(array), len(array), str(values.dtype))
    return ("buffer", data.__array_interface__["data"][0], data.strides, len(data), str(data.dtype))


class _WalkCache:
    """The last walk, remembered for the frame it was made from (one entry).

    A hit needs the same frame object, cut-off and tie-break column, and the same column
    data. The entry keeps a lazy copy of the frame's walk columns: under pandas'
    copy-on-write, any later change to those columns of the frame then writes to new
    buffers, so a changed frame never meets its old walk. The entry goes when the frame is
    garbage-collected.
    """

    def __init__(self) -> None:
        self._entry: dict[str, Any] | None = None

    @staticmethod
    def _tokens(events: pd.DataFrame, position_column: str | None) -> tuple[Any, ...]:
        names = [c for c in (*_WALK_COLUMNS, position_column) if c is not None and c in events]
        return (len(events), tuple(names), tuple(_column_token(events[c]) for c in names))

    def get(self, events: pd.DataFrame, cutoff: Any, position_column: str | None) -> Any:
        entry = self._entry
        if entry is None or entry["frame"]() is not events:
            return None
        if entry["cutoff"] != repr(cutoff) or entry["position"] != position_column:
            return None
        if entry["tokens"] != self._tokens(events, position_column):
            return None
        return entry["walk"]

    def put(
        self, events: pd.DataFrame, cutoff: Any, position_column: str | None, walk: EventWalk
    ) -> None:
        import weakref

        def forget(dead: Any) -> None:
            if self._entry is not None and self._entry["frame"] is dead:
                self._entry = None

        try:
            frame = weakref.ref(events, forget)
        except TypeError:
            return
        names = [c for c in (*_WALK_COLUMNS, position_column) if c is not None and c in events]
        self._entry = {
            "frame": frame,
            "view": events[names],  # shares the buffers: a later write copies them
            "cutoff": repr(cutoff),
            "position": position_column,
            "tokens": self._tokens(events, position_column),
            "walk": walk,
        }

    def clear(self) -> None:
        self._entry = None


_WALKS = _WalkCache()


def _first_per_case(walk: EventWalk, values: pd.Series) -> pd.api.extensions.ExtensionArray:
    """Each case's first non-missing value of a column (in walk order); missing if none."""
    missing = values.isna().to_numpy()
    if not missing.any():  # the usual case: the value of each case's first event
        return values.array.take(walk.rows[walk.case_start])
    valid = ~missing[walk.rows]
    at = np.flatnonzero(valid)
    case = walk.case[at]
    first = np.r_[True, case[1:] != case[:-1]][: len(at)]
    take = np.full(walk.n_cases, -1, dtype=np.int64)
    take[case[first]] = walk.rows[at[first]]
    return values.array.take(take, allow_fill=True)


def _last_position(walk: EventWalk, mask: np.ndarray) -> np.ndarray:
    """Per case, the last walk row where ``mask`` holds (-1 if none)."""
    at = np.flatnonzero(mask)
    case = walk.case[at]
    last = np.r_[case[1:] != case[:-1], True][: len(at)]
    result = np.full(walk.n_cases, -1, dtype=np.int64)
    result[case[last]] = at[last]
    return result


def _isin(values: pd.Series, allowed: Sequence[str]) -> np.ndarray:
    """``values.isin(allowed)`` as a numpy mask, computed on the categories when categorical."""
    if isinstance(values.dtype, pd.CategoricalDtype):
        on_categories = np.r_[values.cat.categories.isin(list(allowed)), False]
        return on_categories[values.cat.codes.to_numpy()]
    return values.isin(list(allowed)).to_numpy()


def _activity_mask(events: pd.DataFrame, walk: EventWalk, activities: Sequence[str]) -> np.ndarray:
    return _isin(events[schema.ACTIVITY], activities)[walk.rows]


def _channel_groups(channels: pd.api.extensions.ExtensionArray) -> pd.Categorical:
    """:func:`toolkit.schema.channel_group`, evaluated once per distinct channel."""
    codes, uniques = pd.factorize(channels)
    groups = schema.channel_group(pd.Series(uniques)).array
    return groups.take(codes, allow_fill=True)


def _variants(
    walk: EventWalk, n_segments: np.ndarray, first_segment: np.ndarray
) -> tuple[np.ndarray, pd.api.extensions.ExtensionArray, np.ndarray]:
    """Each case's path variant: (variant code per case or -1, path strings, distinct agencies).

    Paths of equal length are compared as rows of an integer matrix; only the distinct paths
    (the variants) are turned into strings, by Arrow, with :data:`PATH_SEPARATOR`.
    """
    import pyarrow as pa
    import pyarrow.compute as pc

    n_agencies = max(len(walk.agencies), 1)
    names = pa.array(np.asarray(walk.agencies, dtype=object), type=pa.large_string())
    variant = np.full(walk.n_cases, -1, dtype=np.int64)
    strings: list[Any] = []
    distinct: list[np.ndarray] = []
    n_variants = 0
    for length in np.unique(n_segments[n_segments > 0]):
        cases = np.flatnonzero(n_segments == length)
        matrix = walk.segment_agency[first_segment[cases, None] + np.arange(length)]
        if int(length) * math.log2(max(n_agencies, 2)) < 62:  # the key fits in int64
            key = np.zeros(len(cases), dtype=np.int64)
            for column in range(length):
                key = key * n_agencies + matrix[:, column]
            codes, uniques = pd.factorize(key, sort=True)
            first = np.empty(len(uniques), dtype=np.int64)
            first[codes[::-1]] = np.arange(len(cases))[::-1]
            rows = matrix[first]
        else:
            rows, codes = np.unique(matrix, axis=0, return_inverse=True)
            codes = codes.ravel()
        variant[cases] = n_variants + codes
        n_variants += len(rows)
        columns = [names.take(pa.array(rows[:, j])) for j in range(length)]
        strings.append(
            pc.binary_join_element_wise(*columns, pa.scalar(PATH_SEPARATOR, pa.large_string()))
            if length > 1
            else columns[0]
        )
        ordered = np.sort(rows, axis=1)
        distinct.append(1 + (ordered[:, 1:] != ordered[:, :-1]).sum(axis=1))
    joined = pa.concat_arrays(strings) if strings else pa.array([], type=pa.large_string())
    counts = np.concatenate(distinct) if distinct else np.zeros(0, dtype=np.int64)
    return variant, pd.array(joined, dtype="str"), counts.astype(np.int64)


# --- the case table ---------------------------------------------------------------------------


def case_table_frame(
    events: pd.DataFrame,
    cutoff: Any = None,
    position_column: str | None = None,
    walk: EventWalk | None = None,
) -> pd.DataFrame:
    """The pandas implementation of :func:`case_table` (also run on each Dask partition)."""
    require_columns(events, schema.REQUIRED_COLUMNS, what="the event log")
    if walk is None:
        walk = order_events(events, cutoff=cutoff, position_column=position_column)
    n_cases = walk.n_cases

    n_segments = np.bincount(walk.segment_case, minlength=n_cases)
    first_segment = np.cumsum(n_segments) - n_segments
    has_path = n_segments > 0
    variant, variant_paths, variant_distinct = _variants(walk, n_segments, first_segment)
    distinct = np.zeros(n_cases, dtype=np.int64)
    distinct[has_path] = variant_distinct[variant[has_path]]
    hops = np.maximum(n_segments - 1, 0)
    returns = np.where(has_path, hops + 1 - distinct, 0)

    agency_names = pd.Series(walk.agencies).array
    first_code = np.full(n_cases, -1, dtype=np.int64)
    final_code = np.full(n_cases, -1, dtype=np.int64)
    first_code[has_path] = walk.segment_agency[first_segment[has_path]]
    final_code[has_path] = walk.segment_agency[(first_segment + n_segments - 1)[has_path]]
    first_agency = agency_names.take(first_code, allow_fill=True)
    final_agency = agency_names.take(final_code, allow_fill=True)

    terminal = _last_position(walk, _activity_mask(events, walk, schema.TERMINAL_ACTIVITIES))
    reopen_rows = _activity_mask(events, walk, (schema.REOPENED,))
    last_reopen = _last_position(walk, reopen_rows)
    resolved = (terminal >= 0) & (terminal > last_reopen)
    start_ns = walk.time[walk.case_start]
    end_ns = np.where(resolved, walk.time[np.maximum(terminal, 0)], walk.cutoff)

    channel = _first_per_case(walk, events[schema.CHANNEL])
    optional = {}
    for column in schema.OPTIONAL_COLUMNS:
        if column in events.columns:
            optional[column] = _first_per_case(walk, events[column])
        else:
            optional[column] = pd.Categorical(
                [None] * n_cases, categories=pd.Index([], dtype="str")
            )

    def stamps(ns: np.ndarray) -> pd.DatetimeIndex:
        return pd.DatetimeIndex(ns.astype("datetime64[ns]")).tz_localize("UTC")

    table = pd.DataFrame(
        {
            schema.CASE_ID: pd.array(walk.case_ids, dtype="str"),
            schema.CHANNEL: channel,
            schema.CHANNEL_GROUP: _channel_groups(channel),
            schema.CATEGORY: optional[schema.CATEGORY],
            schema.REGION: optional[schema.REGION],
            schema.START: stamps(start_ns),
            schema.FIRST_AGENCY: pd.array(first_agency, dtype="str"),
            schema.FINAL_AGENCY: pd.array(final_agency, dtype="str"),
            schema.PATH: variant_paths.take(variant, allow_fill=True),
            schema.HOPS: hops.astype(np.int64),
            schema.DISTINCT_AGENCIES: distinct.astype(np.int64),
            schema.RETURNS: returns.astype(np.int64),
            schema.REOPENED_COUNT: np.bincount(walk.case[reopen_rows], minlength=n_cases).astype(
                np.int64
            ),
            schema.IS_RESOLVED: resolved,
            schema.END: stamps(end_ns),
            schema.DURATION_HOURS: (end_ns - start_ns) / _NS_PER_HOUR,
            schema.CENSORED: ~resolved,
        },
        columns=list(schema.CASE_COLUMNS),
    )
    if schema.HOPS_OBSERVED in events.columns:
        unobserved = ~events[schema.HOPS_OBSERVED].fillna(False).astype(bool).to_numpy()[walk.rows]
        observed = np.bincount(walk.case[unobserved], minlength=n_cases) == 0
        for column in (schema.HOPS, schema.DISTINCT_AGENCIES, schema.RETURNS):
            table[column] = table[column].astype("Int64").where(observed)
        for column in (schema.PATH, schema.FIRST_AGENCY):
            table[column] = table[column].where(observed)
        table[schema.HOPS_OBSERVED] = observed
    if schema.TARGET_AT in events.columns:
        # A city's service deadline per request (Boston's TARGET_DT): the first one given.
        target = pd.to_datetime(pd.Series(events[schema.TARGET_AT]), utc=True)
        table[schema.TARGET_AT] = _first_per_case(walk, target)
    return table


def split_path(paths: pd.Series) -> pd.Series:
    """Turn the ``path`` strings of a case table back into tuples of agencies.

    Parameters
    ----------
    paths : pandas.Series
        The ``path`` column of :func:`case_table`.

    Returns
    -------
    pandas.Series
        Object series of tuples (empty tuple for a missing path), same index.

    Notes
    -----
    Agencies are separated by :data:`PATH_SEPARATOR`; an agency whose own name contains
    that separator cannot be told apart, so name agencies without it.

    Examples
    --------
    >>> import pandas as pd
    >>> split_path(pd.Series(["Kelurahan > PU", None])).tolist()
    [('Kelurahan', 'PU'), ()]
    """
    unique = paths.dropna().unique()
    lookup = {path: tuple(str(path).split(PATH_SEPARATOR)) for path in unique}
    return paths.map(lambda path: lookup.get(path, ()) if isinstance(path, str) else ())


# --- hand-offs --------------------------------------------------------------------------------


def group_columns(by: str | Sequence[str] | None) -> list[str]:
    if by is None:
        return []
    return [by] if isinstance(by, str) else list(by)


def _codes(values: Any) -> tuple[np.ndarray, pd.api.extensions.ExtensionArray]:
    """Sorted-order codes of a column, a missing value forming the last code."""
    codes, uniques = pd.factorize(values, sort=True)
    uniques = pd.Series(uniques).array
    if (codes < 0).any():
        codes = np.where(codes < 0, len(uniques), codes)
        uniques = uniques.take(np.r_[np.arange(len(uniques)), -1], allow_fill=True)
    return codes.astype(np.int64), uniques


def handoff_codes(
    events: pd.DataFrame,
    by: Sequence[str],
    cutoff: Any = None,
    position_column: str | None = None,
    walk: EventWalk | None = None,
) -> tuple[list[np.ndarray], list[Any], np.ndarray]:
    """Every hand-off as integer codes: ([*by codes, from, to], their uniques, hours)."""
    if walk is None:  # before any column is added: the walk of this very frame may be known
        walk = order_events(events, cutoff=cutoff, position_column=position_column)
    if schema.CHANNEL_GROUP in by and schema.CHANNEL_GROUP not in events.columns:
        require_columns(events, (schema.CHANNEL,), what="the event log")
        groups = _channel_groups(events[schema.CHANNEL].array)
        events = events.assign(**{schema.CHANNEL_GROUP: groups})
    require_columns(events, by, what="the event log")
    known_case = walk.case[walk.known]
    # A hand-off is a segment start that is not the first segment of its case.
    later = walk.segment_start[1:]
    handoff = later[known_case[later] == known_case[later - 1]]
    from_row, to_row = walk.known[handoff - 1], walk.known[handoff]
    codes: list[np.ndarray] = []
    uniques: list[Any] = []
    for column in by:
        code, unique = _codes(events[column].array.take(walk.rows[to_row]))
        codes.append(code)
        uniques.append(unique)
    agencies = pd.array(walk.agencies, dtype="str")
    codes += [walk.agency[from_row].astype(np.int64), walk.agency[to_row].astype(np.int64)]
    uniques += [agencies, agencies]
    hours = (walk.time[to_row] - walk.time[from_row]) / _NS_PER_HOUR
    return codes, uniques, hours


def handoff_rows(
    events: pd.DataFrame,
    by: str | Sequence[str] | None = None,
    cutoff: Any = None,
    position_column: str | None = None,
) -> pd.DataFrame:
    """One row per hand-off: group columns, from_agency, to_agency, hours between the events."""
    by = group_columns(by)
    codes, uniques, hours = handoff_codes(events, by, cutoff, position_column)
    keys = [*by, schema.FROM_AGENCY, schema.TO_AGENCY]
    rows = {
        column: unique.take(code) for column, unique, code in zip(keys, uniques, codes, strict=True)
    }
    rows[_HOURS] = hours
    return pd.DataFrame(rows, columns=[*keys, _HOURS])


def aggregate_codes(
    codes: list[np.ndarray], uniques: list[Any], hours: np.ndarray, by: Sequence[str]
) -> pd.DataFrame:
    """Count, median and mean hours per (group, from, to), given integer-coded hand-offs.

    The hours of each group are summed in ascending order, so that the same multiset of
    hand-offs gives bit-identical means however the rows were partitioned.
    """
    key = np.zeros(len(hours), dtype=np.int64)
    for code, unique in zip(codes, uniques, strict=True):
        key = key * max(len(unique), 1) + code
    n_keys = int(np.prod([max(len(unique), 1) for unique in uniques], dtype=np.float64))
    if float(n_keys) * (len(hours) + 1) < 2.0**62:
        # One integer sort on (key, rank of hours) is much faster than a lexsort on floats.
        by_hours = np.argsort(hours)
        if n_keys <= np.iinfo(np.uint16).max:
            # numpy's stable sort of 16-bit integers is a radix sort: linear time
            order = by_hours[np.argsort(key[by_hours].astype(np.uint16), kind="stable")]
        else:
            rank = np.empty(len(hours), dtype=np.int64)
            rank[by_hours] = np.arange(len(hours))
            order = np.argsort(key * len(hours) + rank)
    else:
        order = np.lexsort([hours, key])
    key, hours = key[order], hours[order]
    n = len(hours)
    start = np.flatnonzero(np.r_[True, key[1:] != key[:-1]]) if n else np.zeros(0, np.int64)
    count = np.diff(np.r_[start, n]).astype(np.int64)
    total = np.add.reduceat(hours, start) if n else np.zeros(0)
    median = (hours[start + (count - 1) // 2] + hours[start + count // 2]) / 2
    columns = [*by, schema.FROM_AGENCY, schema.TO_AGENCY]
    result = {
        column: unique.take(code[order][start])
        for column, unique, code in zip(columns, uniques, codes, strict=True)
    }
    result[schema.COUNT] = count
    result[schema.MEDIAN_HOURS] = median
    result[schema.MEAN_HOURS] = total / np.maximum(count, 1)
    return pd.DataFrame(result, columns=[*by, *HANDOVER_COLUMNS])


def aggregate_handoffs(rows: pd.DataFrame, by: Sequence[str]) -> pd.DataFrame:
    """:func:`_aggregate` on the rows of :func:`handoff_rows` (one Dask partition)."""
    coded = [_codes(rows[column]) for column in [*by, schema.FROM_AGENCY, schema.TO_AGENCY]]
    return aggregate_codes(
        [code for code, _ in coded],
        [unique for _, unique in coded],
        rows[_HOURS].to_numpy(dtype=np.float64),
        by,
    )


def handovers_frame(
    events: pd.DataFrame,
    by: str | Sequence[str] | None = None,
    cutoff: Any = None,
    position_column: str | None = None,
) -> pd.DataFrame:
    """The pandas implementation of :func:`handovers`."""
    by = group_columns(by)
    codes, uniques, hours = handoff_codes(events, by, cutoff, position_column)
    return aggregate_codes(codes, uniques, hours, by)
