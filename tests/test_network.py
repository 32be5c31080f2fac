"""The hand-off network and its summaries, on logs small enough to check by hand."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from toolkit import schema
from toolkit.paths import case_table, handovers
from toolkit.paths.network import (
    bottlenecks,
    chain_length_by_channel,
    handover_graph,
    ping_pong_pairs,
    variants,
)

T0 = pd.Timestamp("2024-03-01 08:00", tz="UTC")


def log(rows) -> pd.DataFrame:
    """(case, hours after T0, agency, activity, channel) tuples as a canonical log."""
    return pd.DataFrame(
        {
            schema.CASE_ID: pd.array([r[0] for r in rows], dtype="str"),
            schema.TIMESTAMP: pd.DatetimeIndex(
                [T0 + pd.Timedelta(hours=r[1]) for r in rows]
            ).as_unit("ns"),
            schema.AGENCY: pd.array([r[2] for r in rows], dtype="str"),
            schema.ACTIVITY: pd.Categorical([r[3] for r in rows], dtype=schema.ACTIVITY_DTYPE),
            schema.CHANNEL: pd.Categorical([r[4] for r in rows], dtype=schema.CHANNEL_DTYPE),
        }
    )


@pytest.fixture
def events() -> pd.DataFrame:
    return log(
        [
            ("r1", 0, "A", "submitted", "twitter"),
            ("r1", 1, "B", "forwarded", "twitter"),
            ("r1", 2, "A", "forwarded", "twitter"),
            ("r1", 3, "B", "forwarded", "twitter"),
            ("r1", 4, "A", "resolved", "twitter"),  # A B A B A: 4 hops, 3 returns
            ("r2", 0, "A", "submitted", "phone"),
            ("r2", 5, "B", "forwarded", "phone"),
            ("r2", 6, "C", "resolved", "phone"),  # A B C: 2 hops
            ("r3", 0, "C", "submitted", "phone"),  # C: never handed off, open
        ]
    )


def test_graph_edges_and_node_attributes(events):
    cases = case_table(events)
    graph = handover_graph(handovers(events), cases)
    assert sorted(graph.edges) == [("A", "B"), ("B", "A"), ("B", "C")]
    assert graph["A"]["B"]["weight"] == 3 and graph["B"]["A"]["weight"] == 2
    assert graph["A"]["B"]["distance"] == pytest.approx(1 / 3)
    assert graph["A"]["B"]["median_hours"] == 1.0 and graph["A"]["B"]["mean_hours"] == 7 / 3
    assert {n: graph.nodes[n]["requests"] for n in graph} == {"A": 2, "B": 2, "C": 2}
    assert {n: graph.nodes[n]["resolved_here"] for n in graph} == {"A": 1, "B": 0, "C": 1}
    assert graph.graph["requests"] == 3


def test_graph_sums_groups_and_keeps_isolated_agencies(events):
    cases = case_table(events)
    graph = handover_graph(handovers(events, by="channel_group"), cases)
    assert graph["A"]["B"]["weight"] == 3 and "median_hours" not in graph["A"]["B"]
    lonely = pd.concat([events, log([("r4", 1, "D", "submitted", "web")])], ignore_index=True)
    graph = handover_graph(handovers(lonely), case_table(lonely))
    assert "D" in graph and graph.nodes["D"]["requests"] == 1 and graph.degree("D") == 0


def test_bottlenecks_follow_the_heavy_route():
    # Two routes from A to D; the one through B carries far more hand-offs, so the
    # weighted shortest path (distance = 1 / count) goes through B, not C.
    flows = pd.DataFrame(
        {
            "from_agency": ["A", "B", "A", "C"],
            "to_agency": ["B", "D", "C", "D"],
            "count": [50, 50, 2, 2],
            "median_hours": [1.0] * 4,
            "mean_hours": [1.0] * 4,
        }
    )
    table = bottlenecks(handover_graph(flows))
    assert table["agency"].tolist()[0] == "B"
    # B lies on the one shortest A->D path, of the (n - 1)(n - 2) = 6 ordered pairs without B
    assert table.set_index("agency")["betweenness"].to_dict() == {
        "B": pytest.approx(1 / 6),
        "A": 0.0,
        "C": 0.0,
        "D": 0.0,
    }
    assert table.set_index("agency").loc["A", "out_handoffs"] == 52
    assert table["share_of_requests"].isna().all()


def test_bottleneck_shares_of_requests(events):
    table = bottlenecks(handover_graph(handovers(events), case_table(events))).set_index("agency")
    assert table.loc["A", "share_of_requests"] == pytest.approx(2 / 3)
    assert table.loc["C", "resolved_here"] == 1
    assert table.loc["B", "betweenness"] > table.loc["A", "betweenness"]


def test_ping_pong_pairs(events):
    table = ping_pong_pairs(events)
    # A B A B A: (A,B,A) twice, (B,A,B) once; r2's A B C is no ping-pong
    assert table.values.tolist() == [["A", "B", 2, 1], ["B", "A", 1, 1]]
    twice = pd.concat(
        [
            events,
            log(
                [
                    ("r9", 0, "A", "submitted", "web"),
                    ("r9", 1, "B", "forwarded", "web"),
                    ("r9", 2, "A", "forwarded", "web"),
                ]
            ),
        ],
        ignore_index=True,
    )
    assert ping_pong_pairs(twice).values.tolist()[0] == ["A", "B", 3, 2]
    assert ping_pong_pairs(events.iloc[5:]).empty


def test_chain_length_by_channel(events):
    cases = case_table(events)
    table = chain_length_by_channel(cases).set_index(schema.CHANNEL)
    assert table.loc["twitter", "requests"] == 1 and table.loc["twitter", "mean_hops"] == 4.0
    phone = table.loc["phone"]
    assert phone["requests"] == 2 and phone["mean_hops"] == 1.0 and phone["median_hops"] == 1.0
    assert phone["p90_hops"] == pytest.approx(1.8)
    assert phone["share_with_return"] == 0.0 and table.loc["twitter", "mean_returns"] == 3.0
    groups = chain_length_by_channel(cases, by=schema.CHANNEL_GROUP)
    assert groups[schema.CHANNEL_GROUP].tolist() == ["social", "traditional"]


def test_variants_shares_and_top(events):
    table = variants(case_table(events))
    assert table["path"].tolist() == ["A > B > A > B > A", "A > B > C", "C"]
    assert table["hops"].tolist() == [4, 2, 0]
    assert np.allclose(table["share"], 1 / 3) and table["cumulative_share"].iloc[-1] == 1.0
    assert len(variants(case_table(events), top=2)) == 2


def test_missing_columns_are_named(events):
    from toolkit.errors import MissingColumnError

    with pytest.raises(MissingColumnError, match="count"):
        handover_graph(handovers(events).drop(columns="count"))
    with pytest.raises(MissingColumnError, match="channel_group"):
        chain_length_by_channel(
            case_table(events).drop(columns="channel_group"), by="channel_group"
        )
    with pytest.raises(MissingColumnError, match="path"):
        variants(pd.DataFrame({"hops": [1]}))
