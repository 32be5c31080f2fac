"""Request paths: one row per request, and the hand-offs between agencies.

A request's *path* is the sequence of agencies that held it, read from its events in time
order. This module turns an event log into the case table (:func:`case_table`, one row per
request: path, hops, returns, resolution, duration, censoring) and the hand-off table
(:func:`handovers`, counts and times of agency-to-agency transfers). Both are exact,
deterministic and vectorised: case ids are factorised to integers once, the rows are ordered
with one :func:`numpy.lexsort`, and every per-request quantity is a numpy reduction over the
ordered rows — there is no Python loop over requests. Both functions also accept a Dask
DataFrame and then run partition-wise on a cluster (see :mod:`toolkit.paths.cluster`).

Event order
-----------
Events are ordered by (case_id, timestamp); ties in time are broken by the row's place in the
source, ``source_file`` then ``source_row`` when those columns are present (so that shuffling
the rows of a prepared log never changes a result), and otherwise by the order of the rows in
the frame (stable). Events after the observation cut-off are ignored, as if not yet logged.

Agencies
--------
An event whose agency is missing does not move the request: the request stays with the
agency of its previous event (a placeholder unit such as the ``EMPTY`` group of some exports
is best mapped to missing when the log is read).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pandas as pd

from toolkit import schema
from toolkit.errors import require_columns
from toolkit.paths import cluster
from toolkit.paths.walk import (
    PATH_SEPARATOR,
    aggregate_codes,
    case_table_frame,
    group_columns,
    handoff_codes,
    handovers_frame,
    order_events,
)

__all__ = ["PATH_SEPARATOR", "case_table", "case_table_and_handovers", "handovers"]


def case_table(events: Any, cutoff: Any = None) -> Any:
    """One row per request: its path through agencies, hops, resolution and duration.

    Parameters
    ----------
    events : pandas.DataFrame or dask.dataframe.DataFrame
        A canonical event log (see :mod:`toolkit.schema`): at least ``case_id``,
        ``timestamp`` (timezone-aware), ``agency``, ``activity`` and ``channel``;
        ``category``, ``region``, ``source_file``/``source_row`` and ``hops_observed`` are
        used when present. A Dask DataFrame is processed partition-wise
        (:func:`toolkit.paths.cluster.case_table_dask`) and a Dask DataFrame is returned.
    cutoff : str, datetime or pandas.Timestamp, optional
        The observation cut-off: events after it are ignored, and requests not resolved by
        then are censored at it. A naive time is read as UTC. Defaults to the log's last
        timestamp.

    Returns
    -------
    pandas.DataFrame
        Columns :data:`toolkit.schema.CASE_COLUMNS` in that order, one row per request that
        has at least one event by the cut-off, sorted by ``case_id``, with a RangeIndex; plus
        ``hops_observed`` when the events carry that column.

    Notes
    -----
    Events are ordered by (case_id, timestamp), ties broken by (source_file, source_row)
    when present and then by the frame's row order. Events after ``cutoff`` are ignored.
    For each request:

    - ``channel``, ``category``, ``region``: the first non-missing value among its events.
      ``channel_group``: the group of the channel (:func:`toolkit.schema.channel_group`).
    - ``start``: the time of its first event.
    - ``path``: the agencies of its events in order, consecutive repeats collapsed, joined by
      :data:`PATH_SEPARATOR` (``" > "``), a plain string that Parquet and CSV keep as is;
      :func:`split_path` gives the tuples back. Events with a missing agency are skipped (the
      request stays where it was). ``first_agency`` and ``final_agency`` are its ends.
    - ``hops``: the number of changes of holding agency between consecutive events, that is
      the number of agencies in the path minus one.
    - ``distinct_agencies``: the number of different agencies in the path.
    - ``returns``: hops into an agency the request had already visited (ping-pong); it equals
      ``hops + 1 - distinct_agencies``.
    - ``reopened``: the number of ``reopened`` events.
    - ``resolved``: whether it has a ``resolved`` or ``closed`` event with no ``reopened``
      event after it. ``end``: the time of the last such event; for an unresolved request,
      the cut-off. ``censored`` is ``not resolved``.
    - ``duration_hours``: ``end - start`` in hours (a float).

    With ``hops_observed`` in the events (False for exports that only name the final
    agency), a request observes hops only if all its events do; otherwise ``path``,
    ``first_agency``, ``hops``, ``distinct_agencies`` and ``returns`` are missing, and the
    counts become nullable integers.

    Examples
    --------
    A request is submitted at a kelurahan, forwarded to public works (PU), bounced back to
    the kelurahan, sent to PU again and resolved there: 3 hops through 2 agencies, 2 of the
    hops back into an agency it had already visited. A second request waits at the water
    utility and is still open (censored) at the cut-off, the log's last timestamp.

    >>> import pandas as pd
    >>> events = pd.DataFrame({
    ...     "case_id": ["r1"] * 5 + ["r2"],
    ...     "timestamp": pd.to_datetime(["2024-01-01 08:00", "2024-01-01 10:00",
    ...         "2024-01-02 08:00", "2024-01-02 09:00", "2024-01-03 08:00",
    ...         "2024-01-04 08:00"], utc=True),
    ...     "agency": ["Kelurahan", "PU", "Kelurahan", "PU", "PU", "PDAM"],
    ...     "activity": ["submitted", "forwarded", "forwarded", "forwarded", "resolved",
    ...                  "submitted"],
    ...     "channel": ["twitter"] * 5 + ["phone"],
    ... })
    >>> cases = case_table(events)
    >>> cases[["case_id", "path", "hops", "distinct_agencies", "returns"]]
      case_id                          path  hops  distinct_agencies  returns
    0      r1  Kelurahan > PU > Kelurahan > PU     3                  2        2
    1      r2                             PDAM     0                  1        0
    >>> cases[["resolved", "duration_hours", "censored", "channel_group"]]
       resolved  duration_hours  censored channel_group
    0      True            48.0     False        social
    1     False             0.0      True   traditional

    References
    ----------
    .. [1] W. M. P. van der Aalst, *Process Mining: Data Science in Action*, 2nd ed.,
       Springer, 2016 (cases, traces and variants of an event log).
    """
    if cluster.is_dask(events):
        return cluster.case_table_dask(events, cutoff=cutoff)
    return case_table_frame(events, cutoff=cutoff)


def handovers(events: Any, by: str | Sequence[str] | None = None, cutoff: Any = None) -> Any:
    """Hand-offs between agencies: how often requests pass from one agency to another.

    Parameters
    ----------
    events : pandas.DataFrame or dask.dataframe.DataFrame
        A canonical event log (``case_id``, ``timestamp``, ``agency``, ...). A Dask
        DataFrame is processed partition-wise (:func:`toolkit.paths.cluster.handovers_dask`) and a
        Dask DataFrame is returned.
    by : str or list of str, optional
        Column(s) to count hand-offs separately for, e.g. ``"channel"`` or
        ``"channel_group"`` (derived from ``channel`` when absent). The value is read from
        the event that receives the request.
    cutoff : str, datetime or pandas.Timestamp, optional
        Ignore events after this time (as :func:`case_table` does). Default: keep all.

    Returns
    -------
    pandas.DataFrame
        Columns ``[*by, from_agency, to_agency, count, median_hours, mean_hours]``, one row
        per observed (group, from, to), sorted by them, RangeIndex. A missing group value
        forms its own group, listed last.

    Notes
    -----
    A hand-off is a change of holding agency between two consecutive events of a request
    (ordered as in :func:`case_table`; events with a missing agency are skipped), so the
    counts of one request add up to its ``hops``. Its time is the time between those two
    events: the last event at ``from_agency`` and the first at ``to_agency``. ``count`` is
    the number of such hand-offs (a request bouncing A→B→A→B counts A→B twice); the median
    and mean are over their hours.

    Unlike the handover-of-work network of process mining tools (e.g. PM4Py), which link
    *resources*, also count consecutive events of the same resource, and normalise counts
    to shares, these are raw counts of agency changes.

    Examples
    --------
    >>> import pandas as pd
    >>> events = pd.DataFrame({
    ...     "case_id": ["r1", "r1", "r1", "r2", "r2"],
    ...     "timestamp": pd.to_datetime(["2024-01-01 08:00", "2024-01-01 10:00",
    ...         "2024-01-01 16:00", "2024-01-02 08:00", "2024-01-02 12:00"], utc=True),
    ...     "agency": ["Kelurahan", "PU", "PU", "Kelurahan", "PU"],
    ...     "activity": ["submitted", "forwarded", "resolved", "submitted", "forwarded"],
    ...     "channel": ["twitter", "twitter", "twitter", "phone", "phone"],
    ... })
    >>> handovers(events)
      from_agency to_agency  count  median_hours  mean_hours
    0   Kelurahan        PU      2           3.0         3.0
    >>> handovers(events, by="channel_group")[["channel_group", "count", "mean_hours"]]
      channel_group  count  mean_hours
    0        social      1         2.0
    1   traditional      1         4.0

    References
    ----------
    .. [1] W. M. P. van der Aalst, H. A. Reijers and M. Song, "Discovering social networks
       from event logs", *Computer Supported Cooperative Work* 14(6), 549–593, 2005.
    """
    if cluster.is_dask(events):
        return cluster.handovers_dask(events, by=by, cutoff=cutoff)
    return handovers_frame(events, by=by, cutoff=cutoff)


def case_table_and_handovers(
    events: pd.DataFrame, cutoff: Any = None, by: str | Sequence[str] | None = None
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Both tables of a log from one ordering of its rows (faster than two calls).

    Parameters
    ----------
    events : pandas.DataFrame
        A canonical event log.
    cutoff : str, datetime or pandas.Timestamp, optional
        Observation cut-off for both tables (default: the log's last timestamp).
    by : str or list of str, optional
        Group column(s) of the hand-off table.

    Returns
    -------
    tuple of pandas.DataFrame
        ``(case_table(events, cutoff), handovers(events, by, cutoff))``, exactly.

    Notes
    -----
    Ordering the rows is most of the work of each table; this orders them once. What
    ``sekat prepare`` uses to write cases.parquet and handovers.parquet.

    Examples
    --------
    >>> import pandas as pd
    >>> events = pd.DataFrame({"case_id": ["r", "r"],
    ...     "timestamp": pd.to_datetime(["2024-01-01 08:00", "2024-01-01 09:30"], utc=True),
    ...     "agency": ["A", "B"], "activity": ["submitted", "resolved"],
    ...     "channel": ["sms", "sms"]})
    >>> cases, flows = case_table_and_handovers(events)
    >>> int(cases["hops"].iloc[0]), float(flows["mean_hours"].iloc[0])
    (1, 1.5)
    """
    by = group_columns(by)
    require_columns(events, schema.REQUIRED_COLUMNS, what="the event log")
    walk = order_events(events, cutoff=cutoff)
    cases = case_table_frame(events, walk=walk)
    codes, uniques, hours = handoff_codes(events, by, walk=walk)
    return cases, aggregate_codes(codes, uniques, hours, by)
