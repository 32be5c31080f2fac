"""The case table and the hand-off table: hand-made logs, a slow reference, and properties."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from toolkit import schema
from toolkit.errors import MissingColumnError, SekatError
from toolkit.paths import (
    PATH_SEPARATOR,
    case_table,
    case_table_and_handovers,
    handovers,
    split_path,
)

T0 = pd.Timestamp("2024-03-01 08:00", tz="UTC")


def log(rows, *, source_row=False, **extra) -> pd.DataFrame:
    """A canonical log from (case, hours after T0, agency, activity[, channel]) tuples."""
    frame = pd.DataFrame(
        {
            schema.CASE_ID: pd.array([r[0] for r in rows], dtype="str"),
            schema.TIMESTAMP: pd.DatetimeIndex(
                [T0 + pd.Timedelta(hours=r[1]) for r in rows]
            ).as_unit("ns"),
            schema.AGENCY: pd.array([r[2] for r in rows], dtype="str"),
            schema.ACTIVITY: pd.Categorical([r[3] for r in rows], dtype=schema.ACTIVITY_DTYPE),
            schema.CHANNEL: pd.Categorical(
                [r[4] if len(r) > 4 else "web" for r in rows], dtype=schema.CHANNEL_DTYPE
            ),
        }
    )
    if source_row:
        frame[schema.SOURCE_ROW] = np.arange(len(frame), dtype=np.int64)
    for column, values in extra.items():
        frame[column] = values
    return frame


def one(cases: pd.DataFrame, case_id: str) -> pd.Series:
    return cases.set_index(schema.CASE_ID).loc[case_id]


# --- the case table on hand-made logs --------------------------------------------------------


def test_columns_dtypes_and_order():
    cases = case_table(log([("b", 0, "A", "submitted"), ("a", 1, "B", "submitted")]))
    assert tuple(cases.columns) == schema.CASE_COLUMNS
    assert cases[schema.CASE_ID].tolist() == ["a", "b"]
    assert isinstance(cases.index, pd.RangeIndex)
    assert cases[schema.START].dtype == schema.TIMESTAMP_DTYPE
    assert cases[schema.END].dtype == schema.TIMESTAMP_DTYPE
    assert cases[schema.CHANNEL].dtype == schema.CHANNEL_DTYPE
    assert cases[schema.CHANNEL_GROUP].dtype == schema.CHANNEL_GROUP_DTYPE
    for column in (schema.HOPS, schema.DISTINCT_AGENCIES, schema.RETURNS, schema.REOPENED_COUNT):
        assert cases[column].dtype == np.int64
    assert cases[schema.IS_RESOLVED].dtype == bool
    assert cases[schema.PATH].dtype == "str"


def test_single_event_request():
    cases = case_table(log([("r", 0, "Kelurahan", "submitted")]))
    row = one(cases, "r")
    assert row[schema.PATH] == "Kelurahan"
    assert (row[schema.HOPS], row[schema.DISTINCT_AGENCIES], row[schema.RETURNS]) == (0, 1, 0)
    assert row[schema.FIRST_AGENCY] == row[schema.FINAL_AGENCY] == "Kelurahan"
    assert not row[schema.IS_RESOLVED] and row[schema.CENSORED]
    assert row[schema.START] == row[schema.END] == T0  # cut-off = the log's last timestamp
    assert row[schema.DURATION_HOURS] == 0.0


def test_return_to_an_agency_and_repeats_collapse():
    events = log(
        [
            ("r", 0, "A", "submitted"),
            ("r", 1, "A", "acknowledged"),  # same agency: no hop
            ("r", 2, "B", "forwarded"),
            ("r", 3, "A", "forwarded"),  # back to A: a return
            ("r", 4, "C", "forwarded"),
            ("r", 5, "B", "forwarded"),  # back to B: a return
            ("r", 6, "B", "resolved"),
        ]
    )
    row = one(case_table(events), "r")
    assert row[schema.PATH] == PATH_SEPARATOR.join(["A", "B", "A", "C", "B"])
    assert (row[schema.HOPS], row[schema.DISTINCT_AGENCIES], row[schema.RETURNS]) == (4, 3, 2)
    assert (row[schema.FIRST_AGENCY], row[schema.FINAL_AGENCY]) == ("A", "B")
    assert row[schema.IS_RESOLVED] and row[schema.DURATION_HOURS] == 6.0


def test_ties_in_time_follow_frame_order_without_source_row():
    events = log(
        [("r", 0, "A", "submitted"), ("r", 1, "B", "forwarded"), ("r", 1, "C", "forwarded")]
    )
    assert one(case_table(events), "r")[schema.PATH] == "A > B > C"
    swapped = events.iloc[[0, 2, 1]].reset_index(drop=True)
    assert one(case_table(swapped), "r")[schema.PATH] == "A > C > B"


def test_ties_in_time_follow_source_row_whatever_the_frame_order():
    events = log(
        [("r", 0, "A", "submitted"), ("r", 1, "B", "forwarded"), ("r", 1, "C", "forwarded")],
        source_row=True,
    )
    reversed_rows = events.iloc[::-1].reset_index(drop=True)
    assert one(case_table(reversed_rows), "r")[schema.PATH] == "A > B > C"
    # source_file decides before source_row (rows of two files of one log)
    events[schema.SOURCE_FILE] = ["b.csv", "b.csv", "a.csv"]
    events[schema.SOURCE_ROW] = [0, 1, 7]
    assert one(case_table(events), "r")[schema.PATH] == "A > C > B"


def test_out_of_order_rows_give_the_same_table():
    events = log(
        [
            ("r1", 0, "A", "submitted"),
            ("r1", 5, "B", "forwarded"),
            ("r1", 9, "B", "resolved"),
            ("r2", 2, "C", "submitted"),
            ("r2", 3, "A", "forwarded"),
        ]
    )
    scrambled = events.iloc[[4, 2, 0, 3, 1]].reset_index(drop=True)
    pd.testing.assert_frame_equal(case_table(scrambled), case_table(events))
    assert one(case_table(scrambled), "r1")[schema.PATH] == "A > B"


def test_unresolved_request_is_censored_at_the_cutoff():
    events = log(
        [("r", 0, "A", "submitted"), ("r", 2, "B", "forwarded"), ("q", 10, "C", "submitted")]
    )
    row = one(case_table(events), "r")
    assert row[schema.CENSORED] and not row[schema.IS_RESOLVED]
    assert row[schema.END] == T0 + pd.Timedelta(hours=10)  # default cut-off: last event of the log
    assert row[schema.DURATION_HOURS] == 10.0
    row = one(case_table(events, cutoff="2024-03-02 08:00"), "r")  # naive: UTC
    assert row[schema.END] == pd.Timestamp("2024-03-02 08:00", tz="UTC")
    assert row[schema.DURATION_HOURS] == 24.0


def test_events_after_the_cutoff_are_ignored():
    events = log(
        [
            ("r", 0, "A", "submitted"),
            ("r", 3, "B", "forwarded"),
            ("r", 5, "B", "resolved"),
            ("late", 6, "A", "submitted"),
        ]
    )
    cases = case_table(events, cutoff=T0 + pd.Timedelta(hours=4))
    assert cases[schema.CASE_ID].tolist() == ["r"]  # "late" did not exist yet
    row = one(cases, "r")
    assert row[schema.PATH] == "A > B" and row[schema.CENSORED]
    assert row[schema.DURATION_HOURS] == 4.0
    jakarta = pd.Timestamp("2024-03-01 12:00", tz="Asia/Jakarta")  # = 05:00 UTC, before T0
    assert case_table(events, cutoff=jakarta).empty


def test_reopened_request():
    events = log(
        [
            ("r", 0, "A", "submitted"),
            ("r", 2, "A", "resolved"),
            ("r", 3, "A", "reopened"),
            ("r", 4, "B", "forwarded"),
            ("r", 8, "B", "resolved"),
            ("r", 9, "B", "closed"),  # the last terminal event is the end
            ("still_open", 0, "A", "submitted"),
            ("still_open", 1, "A", "resolved"),
            ("still_open", 2, "A", "reopened"),
        ]
    )
    cases = case_table(events)
    row = one(cases, "r")
    assert row[schema.REOPENED_COUNT] == 1 and row[schema.IS_RESOLVED]
    assert row[schema.END] == T0 + pd.Timedelta(hours=9) and row[schema.DURATION_HOURS] == 9.0
    row = one(cases, "still_open")
    assert row[schema.REOPENED_COUNT] == 1
    assert not row[schema.IS_RESOLVED] and row[schema.CENSORED]
    assert row[schema.END] == T0 + pd.Timedelta(hours=9)  # the cut-off


def test_resolved_and_reopened_at_the_same_time_follow_row_order():
    first_resolved = log(
        [("r", 0, "A", "submitted"), ("r", 1, "A", "resolved"), ("r", 1, "A", "reopened")]
    )
    assert not one(case_table(first_resolved), "r")[schema.IS_RESOLVED]
    first_reopened = first_resolved.iloc[[0, 2, 1]]
    assert one(case_table(first_reopened), "r")[schema.IS_RESOLVED]


def test_missing_agency_does_not_move_the_request():
    events = log(
        [
            ("r", 0, "A", "submitted"),
            ("r", 1, None, "in_progress"),
            ("r", 2, "A", "forwarded"),
            ("r", 3, "B", "resolved"),
            ("blank", 0, None, "submitted"),
        ]
    )
    cases = case_table(events)
    row = one(cases, "r")
    assert row[schema.PATH] == "A > B" and row[schema.HOPS] == 1
    row = one(cases, "blank")
    assert pd.isna(row[schema.PATH]) and pd.isna(row[schema.FIRST_AGENCY])
    assert (row[schema.HOPS], row[schema.DISTINCT_AGENCIES], row[schema.RETURNS]) == (0, 0, 0)


def test_case_attributes_channel_group_category_region():
    events = log(
        [
            ("r", 0, "A", "submitted", "whatsapp"),
            ("r", 1, "B", "forwarded", "whatsapp"),
            ("q", 0, "A", "submitted", "letter"),
        ],
        category=pd.Categorical([None, "roads", "water"]),
    )
    cases = case_table(events)
    assert cases[schema.CHANNEL_GROUP].tolist() == ["traditional", "social"]  # q, r
    assert cases[schema.CATEGORY].tolist() == ["water", "roads"]  # first non-missing
    assert cases[schema.REGION].isna().all()  # absent column: all missing


def test_hops_observed_marks_hop_columns_missing():
    events = log(
        [("r", 0, "A", "submitted"), ("r", 1, "B", "resolved"), ("x", 0, "C", "resolved")],
        hops_observed=[True, True, False],
    )
    cases = case_table(events)
    assert cases[schema.HOPS_OBSERVED].tolist() == [True, False]
    assert cases[schema.HOPS].tolist()[0] == 1 and pd.isna(cases[schema.HOPS].iloc[1])
    assert one(cases, "x")[schema.FINAL_AGENCY] == "C"
    assert pd.isna(one(cases, "x")[schema.PATH])


def test_empty_log_gives_an_empty_table_with_the_columns():
    cases = case_table(log([("r", 0, "A", "submitted")]).iloc[:0])
    assert tuple(cases.columns) == schema.CASE_COLUMNS and len(cases) == 0


def test_user_errors_name_the_column_and_row():
    events = log([("r", 0, "A", "submitted")], source_row=True)
    with pytest.raises(MissingColumnError, match="agency"):
        case_table(events.drop(columns=schema.AGENCY))
    naive = events.assign(**{schema.TIMESTAMP: events[schema.TIMESTAMP].dt.tz_localize(None)})
    with pytest.raises(SekatError, match="timezone-aware"):
        case_table(naive)
    broken = pd.concat([events, events.assign(**{schema.SOURCE_ROW: 41})], ignore_index=True)
    broken.loc[1, schema.TIMESTAMP] = pd.NaT
    with pytest.raises(SekatError, match="row 41"):
        case_table(broken)
    with pytest.raises(SekatError, match="cut-off"):
        case_table(events, cutoff="not a time")


def test_path_survives_parquet_and_splits_back(tmp_path):
    events = log(
        [("r", 0, "A", "submitted"), ("r", 1, "B b", "forwarded"), ("r", 2, "A", "resolved")]
    )
    cases = case_table(events)
    cases.to_parquet(tmp_path / "cases.parquet")
    back = pd.read_parquet(tmp_path / "cases.parquet")
    assert back[schema.PATH].tolist() == ["A > B b > A"]
    assert split_path(back[schema.PATH]).tolist() == [("A", "B b", "A")]


def test_long_paths_use_the_general_variant_code():
    # 40 agencies, a 30-segment path: 40**30 does not fit an int64 key.
    agencies = [f"Agency {i}" for i in range(40)]
    rows = [("long", i, agencies[i % 40], "forwarded") for i in range(30)]
    rows += [("long2", i, agencies[(i + 1) % 40], "forwarded") for i in range(30)]
    rows += [("long3", i, agencies[i % 40], "forwarded") for i in range(30)]
    cases = case_table(log(rows))
    assert cases[schema.HOPS].tolist() == [29, 29, 29]
    assert one(cases, "long")[schema.PATH] == one(cases, "long3")[schema.PATH]
    assert one(cases, "long2")[schema.PATH].startswith("Agency 1 > Agency 2")


# --- hand-offs --------------------------------------------------------------------------------


def handoff_log() -> pd.DataFrame:
    return log(
        [
            ("r1", 0, "A", "submitted", "twitter"),
            ("r1", 2, "B", "forwarded", "twitter"),  # A->B after 2 h
            ("r1", 3, "A", "forwarded", "twitter"),  # B->A after 1 h
            ("r1", 7, "B", "forwarded", "twitter"),  # A->B after 4 h
            ("r2", 0, "A", "submitted", "phone"),
            ("r2", 1, "A", "in_progress", "phone"),
            ("r2", 10, "B", "resolved", "phone"),  # A->B after 9 h (from the last event at A)
            ("r3", 0, "C", "submitted", "phone"),
        ]
    )


def test_handovers_counts_and_times_by_hand():
    flows = handovers(handoff_log())
    assert list(flows.columns) == [
        "from_agency",
        "to_agency",
        "count",
        "median_hours",
        "mean_hours",
    ]
    assert flows[["from_agency", "to_agency"]].values.tolist() == [["A", "B"], ["B", "A"]]
    assert flows["count"].tolist() == [3, 1]
    assert flows["median_hours"].tolist() == [4.0, 1.0]
    assert flows["mean_hours"].tolist() == [5.0, 1.0]  # (2 + 4 + 9) / 3


def test_handovers_by_channel_group_derives_the_group():
    flows = handovers(handoff_log(), by="channel_group")
    assert flows["channel_group"].tolist() == ["social", "social", "traditional"]
    assert flows["count"].tolist() == [2, 1, 1]
    assert flows["median_hours"].tolist() == [3.0, 1.0, 9.0]
    by_two = handovers(handoff_log(), by=["channel", "channel_group"])
    assert by_two["count"].sum() == 4


def test_handovers_missing_group_value_is_its_own_group():
    events = handoff_log()
    events["region"] = pd.Categorical(["x"] * 4 + [None] * 4)
    flows = handovers(events, by="region")
    assert flows["region"].tolist()[:2] == ["x", "x"] and pd.isna(flows["region"].iloc[2])
    assert flows["count"].tolist() == [2, 1, 1]


def test_handover_counts_add_up_to_hops_and_respect_the_cutoff():
    events = handoff_log()
    assert handovers(events)["count"].sum() == case_table(events)[schema.HOPS].sum()
    early = handovers(events, cutoff=T0 + pd.Timedelta(hours=5))
    assert early["count"].tolist() == [1, 1]
    assert handovers(events.iloc[:0]).empty


# --- a slow reference, and properties ---------------------------------------------------------


def reference_case_table(events: pd.DataFrame) -> dict[str, dict]:
    """A plain-Python reading of the definitions, one request at a time."""
    cutoff = events[schema.TIMESTAMP].max()
    result = {}
    for case_id, rows in events.groupby(schema.CASE_ID):
        rows = rows.sort_values([schema.TIMESTAMP, schema.SOURCE_ROW])
        path: list[str] = []
        for agency in rows[schema.AGENCY]:
            if isinstance(agency, str) and (not path or path[-1] != agency):
                path.append(agency)
        activities = list(rows[schema.ACTIVITY])
        times = list(rows[schema.TIMESTAMP])
        end, resolved = cutoff, False
        for i, activity in enumerate(activities):
            if (
                activity in schema.TERMINAL_ACTIVITIES
                and schema.REOPENED not in activities[i + 1 :]
            ):
                end, resolved = times[i], True
        returns = sum(path[i] in path[:i] for i in range(1, len(path)))
        result[case_id] = {
            schema.PATH: PATH_SEPARATOR.join(path) if path else None,
            schema.HOPS: max(len(path) - 1, 0),
            schema.DISTINCT_AGENCIES: len(set(path)),
            schema.RETURNS: returns,
            schema.REOPENED_COUNT: activities.count(schema.REOPENED),
            schema.IS_RESOLVED: resolved,
            schema.DURATION_HOURS: (end - times[0]) / pd.Timedelta(hours=1),
        }
    return result


@st.composite
def random_logs(draw) -> pd.DataFrame:
    n = draw(st.integers(1, 30))
    rows = [
        (
            draw(st.sampled_from(["a", "b", "c", "d"])),
            draw(st.integers(0, 6)),  # few distinct times: many ties
            draw(st.sampled_from(["A", "B", "C", None])),
            draw(st.sampled_from(schema.ACTIVITIES)),
            "sms",
        )
        for _ in range(n)
    ]
    return log(rows, source_row=True)


SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@SETTINGS
@given(random_logs())
def test_matches_the_reference(events):
    cases = case_table(events).set_index(schema.CASE_ID)
    expected = reference_case_table(events)
    assert sorted(cases.index) == sorted(expected)
    for case_id, values in expected.items():
        for column, value in values.items():
            got = cases.loc[case_id, column]
            assert (pd.isna(got) and value is None) or got == value, (case_id, column)


@SETTINGS
@given(random_logs())
def test_hop_inequalities(events):
    cases = case_table(events)
    with_path = cases[cases[schema.DISTINCT_AGENCIES] > 0]
    assert (with_path[schema.HOPS] >= with_path[schema.DISTINCT_AGENCIES] - 1).all()
    assert (cases[schema.RETURNS] <= cases[schema.HOPS]).all()
    assert (cases[schema.RETURNS] >= 0).all()
    assert (cases[schema.DURATION_HOURS] >= 0).all()
    assert (cases[schema.CENSORED] == ~cases[schema.IS_RESOLVED]).all()


@SETTINGS
@given(random_logs(), st.data())
def test_duplicating_an_event_never_changes_hops(events, data):
    row = data.draw(st.integers(0, len(events) - 1))
    doubled = pd.concat([events, events.iloc[[row]]], ignore_index=True)
    before = case_table(events)
    after = case_table(doubled)
    pd.testing.assert_series_equal(after[schema.HOPS], before[schema.HOPS])
    pd.testing.assert_series_equal(after[schema.PATH], before[schema.PATH])
    pd.testing.assert_frame_equal(handovers(doubled)[["count"]], handovers(events)[["count"]])


@SETTINGS
@given(random_logs(), st.randoms(use_true_random=False))
def test_shuffling_rows_never_changes_the_result(events, random):
    order = list(range(len(events)))
    random.shuffle(order)
    shuffled = events.iloc[order].reset_index(drop=True)
    pd.testing.assert_frame_equal(case_table(shuffled), case_table(events))
    pd.testing.assert_frame_equal(
        handovers(shuffled, by="channel_group"), handovers(events, by="channel_group")
    )


@SETTINGS
@given(random_logs())
def test_both_tables_at_once_equal_the_separate_calls(events):
    cases, flows = case_table_and_handovers(events, by="channel_group")
    pd.testing.assert_frame_equal(cases, case_table(events))
    pd.testing.assert_frame_equal(flows, handovers(events, by="channel_group"))


@pytest.mark.parametrize("n_agencies", [5, 300])  # 300**2 pairs: the general sort path
def test_handovers_equal_a_groupby_reference(n_agencies):
    rng = np.random.default_rng(n_agencies)
    n = 3_000
    events = log(
        [
            (
                f"r{rng.integers(200)}",
                int(rng.integers(1_000)),
                f"a{rng.integers(n_agencies)}",
                "forwarded",
            )
            for _ in range(n)
        ],
        source_row=True,
    )
    ordered = events.sort_values([schema.CASE_ID, schema.TIMESTAMP, schema.SOURCE_ROW])
    previous = ordered.groupby(schema.CASE_ID)[[schema.AGENCY, schema.TIMESTAMP]].shift()
    moves = ordered.assign(
        from_agency=previous[schema.AGENCY],
        hours=(ordered[schema.TIMESTAMP] - previous[schema.TIMESTAMP]) / pd.Timedelta(hours=1),
    ).dropna(subset=["from_agency"])
    moves = moves[moves["from_agency"] != moves[schema.AGENCY]]
    expected = (
        moves.groupby(["from_agency", schema.AGENCY])["hours"]
        .agg(["size", "median", "mean"])
        .reset_index()
    )
    flows = handovers(events)
    assert flows["count"].tolist() == expected["size"].tolist()
    assert flows["from_agency"].tolist() == expected["from_agency"].tolist()
    np.testing.assert_allclose(flows["median_hours"], expected["median"])
    np.testing.assert_allclose(flows["mean_hours"], expected["mean"], rtol=1e-12)
