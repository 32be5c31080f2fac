"""Scale-out: the case table and the hand-off table on Dask, for logs beyond one machine.

:func:`toolkit.paths.case_table` and :func:`toolkit.paths.handovers` hand a Dask DataFrame to
the functions here. The plan keeps the pandas code as the one definition of every quantity:

1. every row gets its global position (partition number, row in partition), the tie-break
   the pandas version takes from the frame's row order;
2. the log is shuffled by ``case_id``, so that all events of a request sit in one partition;
3. the pandas implementation runs on each partition, with the cut-off computed once over the
   whole log (the last timestamp by default);
4. for hand-offs, the per-hand-off rows are shuffled again by (from_agency, to_agency), so
   every group's hours meet in one partition, and aggregated there with the same
   deterministic code as in pandas (hours summed in ascending order), so counts, medians and
   means equal the pandas results exactly.

Results are lazy Dask DataFrames: call ``.compute()`` (or ``.to_parquet``). Rows are not in
a global order: sort by ``case_id`` (cases) or by the group, ``from_agency`` and
``to_agency`` columns (hand-offs) to get the pandas table row for row.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Sequence
from os import PathLike
from typing import Any

import numpy as np
import pandas as pd

from toolkit import schema
from toolkit.errors import require_columns
from toolkit.paths import walk

__all__ = [
    "case_table_dask",
    "connect",
    "handovers_dask",
    "is_dask",
    "read_events_dask",
]

#: Rows per partition are numbered below 2**40 (a trillion), partitions above it.
_PARTITION_STRIDE = 1 << 40


def is_dask(frame: Any) -> bool:
    """Whether ``frame`` is a Dask DataFrame (without importing Dask when it is not).

    Examples
    --------
    >>> import pandas as pd
    >>> is_dask(pd.DataFrame())
    False
    """
    module = type(frame).__module__
    if not module.startswith("dask"):
        return False
    import dask.dataframe as dd

    return isinstance(frame, dd.DataFrame)


def _with_position(frame: pd.DataFrame, partition_info: dict | None = None) -> pd.DataFrame:
    number = partition_info["number"] if partition_info else 0
    position = np.arange(len(frame), dtype=np.int64) + number * _PARTITION_STRIDE
    return frame.assign(**{walk.POSITION_COLUMN: position})


def _positioned_by_case(events: Any, npartitions: int | None) -> Any:
    meta = _with_position(events._meta)
    positioned = events.map_partitions(_with_position, meta=meta)
    return positioned.shuffle(on=schema.CASE_ID, npartitions=npartitions)


def _global_cutoff(events: Any, cutoff: Any) -> Any:
    if cutoff is not None:
        return pd.Timestamp(walk.as_cutoff_ns(cutoff), tz="UTC")
    return events[schema.TIMESTAMP].max()


def case_table_dask(events: Any, cutoff: Any = None, npartitions: int | None = None) -> Any:
    """The case table of a Dask event log (see :func:`toolkit.paths.case_table`).

    Parameters
    ----------
    events : dask.dataframe.DataFrame
        A canonical event log, in any partitioning.
    cutoff : str, datetime or pandas.Timestamp, optional
        Observation cut-off; default: the last timestamp of the whole log.
    npartitions : int, optional
        Partitions after the shuffle by case (default: as many as the input).

    Returns
    -------
    dask.dataframe.DataFrame
        The case table, lazily; each partition sorted by ``case_id``.

    Notes
    -----
    Equal to the pandas result after ``.compute().sort_values("case_id")`` with a fresh
    RangeIndex. Ties in time are broken as in pandas: ``source_file``/``source_row`` when
    present, then the row's global position (partition order, then row order).

    Examples
    --------
    >>> import dask.dataframe as dd, pandas as pd
    >>> events = pd.DataFrame({"case_id": ["a", "a", "b"],
    ...     "timestamp": pd.to_datetime(["2024-01-01", "2024-01-02", "2024-01-03"], utc=True),
    ...     "agency": ["X", "Y", "X"], "activity": ["submitted", "resolved", "submitted"],
    ...     "channel": ["web", "web", "phone"]})
    >>> cases = case_table_dask(dd.from_pandas(events, npartitions=2))
    >>> cases.compute().sort_values("case_id")["hops"].tolist()
    [1, 0]
    """
    require_columns(events, schema.REQUIRED_COLUMNS, what="the event log")
    shuffled = _positioned_by_case(events, npartitions)
    meta = walk.case_table_frame(shuffled._meta, cutoff=0, position_column=walk.POSITION_COLUMN)
    return shuffled.map_partitions(
        walk.case_table_frame,
        _global_cutoff(events, cutoff),
        position_column=walk.POSITION_COLUMN,
        meta=meta,
        enforce_metadata=False,
    )


def handovers_dask(
    events: Any,
    by: str | Sequence[str] | None = None,
    cutoff: Any = None,
    npartitions: int | None = None,
) -> Any:
    """The hand-off table of a Dask event log (see :func:`toolkit.paths.handovers`).

    Parameters
    ----------
    events : dask.dataframe.DataFrame
        A canonical event log, in any partitioning.
    by : str or list of str, optional
        Group column(s), as in :func:`toolkit.paths.handovers`.
    cutoff : str, datetime or pandas.Timestamp, optional
        Ignore events after this time. Default: keep all.
    npartitions : int, optional
        Partitions after each shuffle (default: as many as the input).

    Returns
    -------
    dask.dataframe.DataFrame
        The hand-off table, lazily, one row per (group, from_agency, to_agency).

    Notes
    -----
    Exact: every hand-off's hours are routed to the partition of its (from, to) pair and
    aggregated there in a fixed order, so the medians and means equal pandas' bit for bit.

    Examples
    --------
    >>> import dask.dataframe as dd, pandas as pd
    >>> events = pd.DataFrame({"case_id": ["a", "a", "b", "b"],
    ...     "timestamp": pd.to_datetime(["2024-01-01", "2024-01-02", "2024-01-03",
    ...                                  "2024-01-05"], utc=True),
    ...     "agency": ["X", "Y", "X", "Y"], "activity": ["submitted"] * 4,
    ...     "channel": ["web"] * 4})
    >>> flows = handovers_dask(dd.from_pandas(events, npartitions=2)).compute()
    >>> flows[["from_agency", "to_agency", "count", "median_hours"]].to_dict("records")
    [{'from_agency': 'X', 'to_agency': 'Y', 'count': 2, 'median_hours': 36.0}]
    """
    by_columns = walk.group_columns(by)
    require_columns(events, (schema.CASE_ID, schema.TIMESTAMP, schema.AGENCY), what="the event log")
    if schema.CHANNEL_GROUP in by_columns and schema.CHANNEL_GROUP not in events.columns:
        require_columns(events, (schema.CHANNEL,), what="the event log")
        events = events.assign(
            **{
                schema.CHANNEL_GROUP: events[schema.CHANNEL].map_partitions(
                    schema.channel_group, meta=(schema.CHANNEL_GROUP, schema.CHANNEL_GROUP_DTYPE)
                )
            }
        )
    shuffled = _positioned_by_case(events, npartitions)
    cutoff_value = None if cutoff is None else _global_cutoff(events, cutoff)
    row_meta = walk.handoff_rows(
        shuffled._meta, by=by_columns, position_column=walk.POSITION_COLUMN
    )
    rows = shuffled.map_partitions(
        walk.handoff_rows,
        by=by_columns,
        cutoff=cutoff_value,
        position_column=walk.POSITION_COLUMN,
        meta=row_meta,
        enforce_metadata=False,
    )
    pairs = rows.shuffle(on=[schema.FROM_AGENCY, schema.TO_AGENCY], npartitions=npartitions)
    meta = walk.aggregate_handoffs(row_meta, by_columns)
    return pairs.map_partitions(
        walk.aggregate_handoffs, by_columns, meta=meta, enforce_metadata=False
    )


def read_events_dask(path: str | PathLike[str], **read_parquet_kwargs: Any) -> Any:
    """Read a canonical event log from a Parquet file or a directory of Parquet files.

    Parameters
    ----------
    path : str or path-like
        A Parquet file, a directory of Parquet files (read in file-name order, which is the
        row order ties fall back on) or a glob; local or any fsspec URL.
    **read_parquet_kwargs
        Passed to :func:`dask.dataframe.read_parquet` (e.g. ``blocksize``).

    Returns
    -------
    dask.dataframe.DataFrame
        The log with the contract's dtypes for timestamp, activity and channel.

    Notes
    -----
    Reads what ``sekat prepare`` writes (``events.parquet``). A directory partitioned or
    sorted by ``case_id`` saves the shuffle's network traffic but is not required.

    Examples
    --------
    >>> import pandas as pd, tempfile, os
    >>> events = pd.DataFrame({"case_id": ["a"], "timestamp": pd.to_datetime(["2024-01-01"],
    ...     utc=True), "agency": ["X"], "activity": ["submitted"], "channel": ["web"]})
    >>> folder = tempfile.mkdtemp()
    >>> events.to_parquet(os.path.join(folder, "part-0.parquet"))
    >>> read_events_dask(folder).compute()["agency"].tolist()
    ['X']
    """
    import dask.dataframe as dd

    events = dd.read_parquet(str(path), **read_parquet_kwargs)
    dtypes = {
        schema.TIMESTAMP: schema.TIMESTAMP_DTYPE,
        schema.ACTIVITY: schema.ACTIVITY_DTYPE,
        schema.CHANNEL: schema.CHANNEL_DTYPE,
    }
    return events.astype({k: v for k, v in dtypes.items() if k in events.columns})


@contextlib.contextmanager
def connect(scheduler: str | None = None) -> Iterator[Any]:
    """Use a running dask.distributed cluster, or stay in-process when none is named.

    Parameters
    ----------
    scheduler : str, optional
        The scheduler's address, e.g. ``"tcp://10.0.0.5:8786"``. None: no cluster.

    Yields
    ------
    distributed.Client or None
        The client (closed on exit), or None when ``scheduler`` is None.

    Examples
    --------
    >>> with connect(None) as client:
    ...     client is None
    True
    """
    if scheduler is None:
        yield None
        return
    from distributed import Client

    client = Client(scheduler)
    try:
        yield client
    finally:
        client.close()
