"""The hand-off network: agencies as nodes, hand-offs as weighted edges, and what it shows.

Built from the tables of :mod:`toolkit.paths.cases`: :func:`handover_graph` turns the hand-off table
(and, optionally, the case table) into a :class:`networkx.DiGraph`; :func:`bottlenecks`
ranks agencies on it; :func:`ping_pong_pairs` counts requests bounced back and forth;
:func:`chain_length_by_channel` and :func:`variants` summarise the case table. Every function
returns a new object (a graph or a tidy DataFrame) and leaves its inputs alone.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

import networkx as nx
import numpy as np
import pandas as pd

from toolkit import schema
from toolkit.errors import require_columns
from toolkit.paths.walk import HANDOVER_COLUMNS, PATH_SEPARATOR, order_events, split_path

__all__ = [
    "bottlenecks",
    "chain_length_by_channel",
    "handover_graph",
    "ping_pong_pairs",
    "variants",
]

#: Node attribute: requests whose path passes through the agency.
REQUESTS = "requests"
#: Node attribute: resolved requests whose final agency is this one.
RESOLVED_HERE = "resolved_here"


def _agency_requests(cases: pd.DataFrame) -> tuple[Counter, Counter]:
    """Per agency: requests whose path visits it, resolved requests that end there."""
    through: Counter = Counter()
    counts = cases[schema.PATH].value_counts(dropna=True)
    for path, agencies in zip(counts.index, split_path(pd.Series(counts.index)), strict=True):
        for agency in set(agencies):
            through[agency] += int(counts[path])
    resolved = cases.loc[cases[schema.IS_RESOLVED], schema.FINAL_AGENCY].value_counts()
    return through, Counter({str(k): int(v) for k, v in resolved.items()})


def handover_graph(flows: pd.DataFrame, cases: pd.DataFrame | None = None) -> nx.DiGraph:
    """The hand-off network as a weighted directed graph.

    Parameters
    ----------
    flows : pandas.DataFrame
        A hand-off table from :func:`toolkit.paths.handovers`. Group columns, if any, are
        summed over (one edge per agency pair).
    cases : pandas.DataFrame, optional
        The matching case table from :func:`toolkit.paths.case_table`; when given, nodes
        carry ``requests`` and ``resolved_here`` and the graph the total ``requests``.

    Returns
    -------
    networkx.DiGraph
        One node per agency, one edge per observed (from_agency, to_agency) with ``weight``
        = hand-off count and ``distance`` = 1 / weight (for path-based measures); without
        group columns the edges also carry ``median_hours`` and ``mean_hours``.

    Notes
    -----
    Node attributes (with ``cases``): ``requests`` is the number of requests whose path
    visits the agency at least once; ``resolved_here`` the number of resolved requests whose
    final agency it is. Agencies that appear only in the case table (requests that never
    left them) are nodes too. ``graph.graph["requests"]`` is the number of requests.

    Examples
    --------
    >>> import pandas as pd
    >>> flows = pd.DataFrame({"from_agency": ["A", "B"], "to_agency": ["B", "C"],
    ...                       "count": [4, 1], "median_hours": [2.0, 5.0],
    ...                       "mean_hours": [3.0, 5.0]})
    >>> graph = handover_graph(flows)
    >>> graph["A"]["B"]["weight"], graph["A"]["B"]["distance"], sorted(graph.nodes)
    (4, 0.25, ['A', 'B', 'C'])
    """
    pair = [schema.FROM_AGENCY, schema.TO_AGENCY]
    require_columns(flows, [*pair, schema.COUNT], what="the hand-off table")
    if cases is not None:
        require_columns(
            cases, [schema.PATH, schema.IS_RESOLVED, schema.FINAL_AGENCY], what="the case table"
        )
    by = [c for c in flows.columns if c not in HANDOVER_COLUMNS]
    if by:
        edges = flows.groupby(pair, observed=True, sort=True)[schema.COUNT].sum().reset_index()
    else:
        edges = flows
    graph = nx.DiGraph()
    for row in edges.itertuples(index=False):
        record = row._asdict()
        weight = int(record[schema.COUNT])
        attributes: dict[str, Any] = {"weight": weight, "distance": 1.0 / weight}
        if not by:
            attributes[schema.MEDIAN_HOURS] = float(record[schema.MEDIAN_HOURS])
            attributes[schema.MEAN_HOURS] = float(record[schema.MEAN_HOURS])
        graph.add_edge(str(record[schema.FROM_AGENCY]), str(record[schema.TO_AGENCY]), **attributes)
    if cases is not None:
        through, resolved = _agency_requests(cases)
        graph.add_nodes_from(sorted(through))
        for agency in graph.nodes:
            graph.nodes[agency][REQUESTS] = through.get(agency, 0)
            graph.nodes[agency][RESOLVED_HERE] = resolved.get(agency, 0)
        graph.graph[REQUESTS] = len(cases)
    return graph


def bottlenecks(graph: nx.DiGraph) -> pd.DataFrame:
    """Rank agencies by how much of the hand-off traffic must pass through them.

    Parameters
    ----------
    graph : networkx.DiGraph
        From :func:`handover_graph` (with ``cases`` for the request shares).

    Returns
    -------
    pandas.DataFrame
        Columns agency, betweenness, in_handoffs, out_handoffs, requests, share_of_requests,
        resolved_here; one row per agency, sorted by betweenness (descending), then agency.
        The request columns are missing when the graph has no ``requests``.

    Notes
    -----
    ``betweenness`` is the weighted betweenness centrality [1]_ on the hand-off graph with
    edge length ``distance = 1 / count``, so that frequent hand-offs are short and
    shortest paths follow the main flows; normalised to [0, 1] (networkx's
    ``normalized=True``). ``in_handoffs``/``out_handoffs`` are the weighted in- and
    out-degree. ``share_of_requests`` is the share of all requests whose path visits the
    agency (``requests / graph.graph["requests"]``).

    Examples
    --------
    >>> import pandas as pd
    >>> flows = pd.DataFrame({"from_agency": ["A", "B"], "to_agency": ["B", "C"],
    ...                       "count": [4, 4], "median_hours": [1.0, 1.0],
    ...                       "mean_hours": [1.0, 1.0]})
    >>> bottlenecks(handover_graph(flows))[["agency", "betweenness"]]
      agency  betweenness
    0      B          0.5
    1      A          0.0
    2      C          0.0

    References
    ----------
    .. [1] U. Brandes, "A faster algorithm for betweenness centrality", *Journal of
       Mathematical Sociology* 25(2), 163–177, 2001.
    """
    betweenness = nx.betweenness_centrality(graph, weight="distance", normalized=True)
    agencies = sorted(graph.nodes)
    table = pd.DataFrame(
        {
            "agency": pd.array(agencies, dtype="str"),
            "betweenness": [float(betweenness[a]) for a in agencies],
            "in_handoffs": [int(graph.in_degree(a, weight="weight")) for a in agencies],
            "out_handoffs": [int(graph.out_degree(a, weight="weight")) for a in agencies],
        }
    )
    total = graph.graph.get(REQUESTS)
    requests = [graph.nodes[a].get(REQUESTS) for a in agencies]
    table[REQUESTS] = pd.array(requests, dtype="Int64")
    table["share_of_requests"] = (
        table[REQUESTS].astype("Float64") / total
        if total
        else pd.array([None] * len(table), "Float64")
    )
    table[RESOLVED_HERE] = pd.array([graph.nodes[a].get(RESOLVED_HERE) for a in agencies], "Int64")
    return table.sort_values(
        ["betweenness", "agency"], ascending=[False, True], kind="stable"
    ).reset_index(drop=True)


def ping_pong_pairs(events: pd.DataFrame, cutoff: Any = None) -> pd.DataFrame:
    """Requests bounced back: how often a request goes A → B → A, per ordered pair.

    Parameters
    ----------
    events : pandas.DataFrame
        A canonical event log (as for :func:`toolkit.paths.case_table`).
    cutoff : str, datetime or pandas.Timestamp, optional
        Ignore events after this time.

    Returns
    -------
    pandas.DataFrame
        Columns agency (A, the agency the request is bounced back to), partner (B), count
        (occurrences of A → B → A in the paths), requests (requests with at least one);
        sorted by count (descending), then agency and partner.

    Notes
    -----
    Read on the paths of :func:`toolkit.paths.case_table` (consecutive repeats collapsed):
    every three consecutive agencies A, B, A count once, so A → B → A → B → A counts
    (A, B) twice and (B, A) once.

    Examples
    --------
    >>> import pandas as pd
    >>> events = pd.DataFrame({"case_id": ["r"] * 4,
    ...     "timestamp": pd.date_range("2024-01-01", periods=4, freq="h", tz="UTC"),
    ...     "agency": ["A", "B", "A", "C"], "activity": ["forwarded"] * 4,
    ...     "channel": ["web"] * 4})
    >>> ping_pong_pairs(events)
      agency partner  count  requests
    0      A       B      1         1
    """
    require_columns(events, schema.REQUIRED_COLUMNS, what="the event log")
    walk = order_events(events, cutoff=cutoff)
    case, agency = walk.segment_case, walk.segment_agency
    at = np.flatnonzero((case[2:] == case[:-2]) & (agency[2:] == agency[:-2]))
    found = pd.DataFrame(
        {"a": agency[at].astype(np.int64), "b": agency[at + 1].astype(np.int64), "case": case[at]}
    )
    grouped = found.groupby(["a", "b"], sort=True)
    table = pd.DataFrame(
        {"count": grouped.size(), "requests": grouped["case"].nunique()}
    ).reset_index()
    names = pd.array(walk.agencies, dtype="str")
    result = pd.DataFrame(
        {
            "agency": names.take(table["a"].to_numpy()),
            "partner": names.take(table["b"].to_numpy()),
            "count": table["count"].to_numpy(dtype=np.int64),
            "requests": table["requests"].to_numpy(dtype=np.int64),
        }
    )
    return result.sort_values(
        ["count", "agency", "partner"], ascending=[False, True, True], kind="stable"
    ).reset_index(drop=True)


def chain_length_by_channel(cases: pd.DataFrame, by: str = schema.CHANNEL) -> pd.DataFrame:
    """How long the chains of agencies are, per intake channel (or channel group).

    Parameters
    ----------
    cases : pandas.DataFrame
        A case table from :func:`toolkit.paths.case_table`.
    by : str, default "channel"
        The grouping column, e.g. ``"channel_group"``.

    Returns
    -------
    pandas.DataFrame
        Columns [by], requests, mean_hops, median_hops, p90_hops, mean_distinct_agencies,
        mean_returns, share_with_return; one row per observed group in the column's order.

    Notes
    -----
    Descriptive, not causal: channels differ in what they are used for (see the estimators
    for adjusted comparisons). ``p90_hops`` is the 90th percentile (linear interpolation);
    ``share_with_return`` the share of requests with at least one return. Requests whose
    hops are not observed are left out.

    Examples
    --------
    >>> import pandas as pd
    >>> cases = pd.DataFrame({"channel": ["web", "web", "phone"], "hops": [1, 3, 2],
    ...                       "distinct_agencies": [2, 3, 3], "returns": [0, 1, 0]})
    >>> chain_length_by_channel(cases)[["channel", "requests", "mean_hops", "share_with_return"]]
      channel  requests  mean_hops  share_with_return
    0   phone         1        2.0                0.0
    1     web         2        2.0                0.5
    """
    require_columns(
        cases, [by, schema.HOPS, schema.DISTINCT_AGENCIES, schema.RETURNS], what="the case table"
    )
    observed = cases.dropna(subset=[schema.HOPS])
    grouped = observed.groupby(by, observed=True, sort=True)
    hops = grouped[schema.HOPS]
    table = pd.DataFrame(
        {
            "requests": hops.size().astype(np.int64),
            "mean_hops": hops.mean().astype(float),
            "median_hops": hops.median().astype(float),
            "p90_hops": hops.quantile(0.9).astype(float),
            "mean_distinct_agencies": grouped[schema.DISTINCT_AGENCIES].mean().astype(float),
            "mean_returns": grouped[schema.RETURNS].mean().astype(float),
            "share_with_return": grouped[schema.RETURNS]
            .agg(lambda returns: float((returns > 0).mean()))
            .astype(float),
        }
    )
    return table.reset_index()


def variants(cases: pd.DataFrame, top: int | None = None) -> pd.DataFrame:
    """The most common paths (process variants) and their share of requests.

    Parameters
    ----------
    cases : pandas.DataFrame
        A case table from :func:`toolkit.paths.case_table`.
    top : int, optional
        Keep only the ``top`` most common paths. Default: all.

    Returns
    -------
    pandas.DataFrame
        Columns path, hops, requests, share, cumulative_share; sorted by requests
        (descending), then path. Requests without a path are left out of the rows but not
        of the shares' denominator.

    Notes
    -----
    A variant here is a sequence of *agencies* (the ``path`` column, consecutive repeats
    collapsed), not of activities as in process mining's trace variants [1]_.

    Examples
    --------
    >>> import pandas as pd
    >>> cases = pd.DataFrame({"path": ["A > B", "A", "A > B", "A > B > A"]})
    >>> variants(cases)
            path  hops  requests  share  cumulative_share
    0      A > B     1         2   0.50              0.50
    1          A     0         1   0.25              0.75
    2  A > B > A     2         1   0.25              1.00

    References
    ----------
    .. [1] W. M. P. van der Aalst, *Process Mining: Data Science in Action*, 2nd ed.,
       Springer, 2016.
    """
    require_columns(cases, [schema.PATH], what="the case table")
    counts = cases[schema.PATH].value_counts(dropna=True)
    table = pd.DataFrame(
        {
            schema.PATH: pd.array(counts.index, dtype="str"),
            schema.HOPS: [path.count(PATH_SEPARATOR) for path in counts.index],
            "requests": counts.to_numpy(dtype=np.int64),
        }
    )
    table = table.sort_values(
        ["requests", schema.PATH], ascending=[False, True], kind="stable"
    ).reset_index(drop=True)
    total = max(len(cases), 1)
    table["share"] = table["requests"] / total
    table["cumulative_share"] = table["requests"].cumsum() / total
    return table if top is None else table.head(top)
