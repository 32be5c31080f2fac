"""validate: every row kept or quarantined with a reason; the report adds up."""

from __future__ import annotations

import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from toolkit import schema
from toolkit.clean.validation import REASON, REASONS, validate
from toolkit.errors import MissingColumnError
from toolkit.io.readers import read_events


def test_each_row_fault_gets_its_reason(write_log):
    path = write_log(
        [
            "a,2024-01-05 08:00,A,submitted,web",  # kept
            ",2024-01-05 08:00,A,submitted,web",  # missing_case_id
            "b,,A,submitted,web",  # missing_timestamp
            "c,yesterday,A,submitted,web",  # relative_timestamp
            "d,0001-01-01,A,submitted,web",  # timestamp_out_of_range
            "e,2024-01-05 09:00,,submitted,web",  # missing_agency
            "a,2024-01-05 08:00,A,submitted,web",  # duplicate_event of row 0
        ]
    )
    result = validate(read_events(path))
    q = result.quarantine
    assert q["source_row"].tolist() == [1, 2, 3, 4, 5, 6]
    assert q[REASON].tolist() == [
        "missing_case_id",
        "missing_timestamp",
        "relative_timestamp",
        "timestamp_out_of_range",
        "missing_agency",
        "duplicate_event",
    ]
    assert q["timestamp_raw"].tolist()[2:4] == ["yesterday", "0001-01-01"]
    assert result.clean["source_row"].tolist() == [0]
    r = result.report
    assert (r["rows_in"], r["rows_kept"], r["rows_quarantined"]) == (7, 1, 6)
    assert r["reasons"]["duplicate_event"] == 1 and r["reasons"]["unknown_channel"] == 0
    assert set(r["reasons"]) == set(REASONS)
    assert (r["cases_in"], r["cases_kept"]) == (5, 1)


def test_nonexistent_local_time_is_quarantined(write_log):
    path = write_log(["a,2024-03-10 02:30,A,submitted,web", "a,2024-11-03 01:30,A,resolved,web"])
    result = validate(read_events(path, source_tz="America/New_York"))
    assert result.quarantine[REASON].tolist() == ["nonexistent_local_time"]
    assert result.report["ambiguous_local_times"] == 1
    assert result.report["cases_with_quarantined_rows"] == 1


def test_clean_events_follow_the_contract(write_log):
    result = validate(read_events(write_log(["a,2024-01-05 08:00,A,submitted,web"])))
    # hops_observed travels only with logs that record one row per request.
    expected = [
        c for c in schema.CANONICAL_COLUMNS + schema.PROVENANCE_COLUMNS if c != schema.HOPS_OBSERVED
    ]
    assert list(result.clean.columns) == expected
    for column, dtype in schema.DTYPES.items():
        assert str(result.clean[column].dtype) == str(dtype), column


def test_channel_conflict_quarantines_the_whole_case(write_log):
    path = write_log(
        [
            "a,2024-01-05 08:00,A,submitted,twitter",
            "a,2024-01-05 09:00,B,forwarded,twitter",
            "a,2024-01-05 10:00,B,resolved,phone",
            "b,2024-01-05 08:00,A,submitted,web",
        ]
    )
    result = validate(read_events(path))
    assert result.quarantine[REASON].tolist() == ["channel_changes_within_case"] * 3
    assert result.clean["case_id"].tolist() == ["b"]


def test_missing_channel_is_filled_from_its_case(write_log):
    path = write_log(
        [
            "a,2024-01-05 08:00,A,submitted,whatsapp",
            "a,2024-01-05 09:00,B,forwarded,",
            "b,2024-01-05 08:00,A,submitted,",
        ]
    )
    result = validate(read_events(path))
    assert result.clean["channel"].tolist() == ["whatsapp", "whatsapp", "other"]
    assert result.report["channels_mapped_to_other"] == {"<missing>": 1}
    strict = validate(read_events(path), strict_channels=True)
    assert strict.quarantine[REASON].tolist() == ["missing_channel"]


def test_unknown_channels_counted_or_quarantined(write_log):
    path = write_log(
        [
            "a,2024-01-05 08:00,A,submitted,pigeon",
            "b,2024-01-05 08:00,A,submitted,pigeon",
            "c,2024-01-05 08:00,A,submitted,Telegram",
            "d,2024-01-05 08:00,A,submitted,web",
        ]
    )
    loose = validate(read_events(path))
    assert loose.report["channels_mapped_to_other"] == {"Telegram": 1, "pigeon": 2}
    assert loose.report["rows_kept"] == 4
    strict = validate(read_events(path, strict_channels=True), strict_channels=True)
    assert strict.quarantine[REASON].tolist() == ["unknown_channel"] * 3
    assert strict.report["channels_mapped_to_other"] == {}
    # read strictly, validated loosely: each unknown value is counted once, under its name
    mixed = validate(read_events(path, strict_channels=True))
    assert mixed.report["channels_mapped_to_other"] == {"Telegram": 1, "pigeon": 2}
    assert mixed.clean["channel"].tolist() == ["other"] * 3 + ["web"]


def test_unmapped_activities_are_listed(write_log):
    path = write_log(
        [
            "a,2024-01-05 08:00,A,Queued,web",
            "a,2024-01-05 09:00,A,Queued,web",
            "a,2024-01-05 10:00,A,Finished,web",
            "a,2024-01-05 11:00,A,closed,web",
        ]
    )
    result = validate(read_events(path))
    # counted in requests: request a holds "Queued" twice
    assert result.report["unmapped_activities"] == {"Finished": 1, "Queued": 1}
    assert result.clean["activity"].tolist()[:3] == ["in_progress"] * 3


def test_missing_required_column():
    frame = pd.DataFrame({"case_id": ["a"], "timestamp": ["2024-01-05"], "agency": ["A"]})
    with pytest.raises(MissingColumnError, match="'activity', 'channel'"):
        validate(frame)


def test_plain_frame_is_canonicalised():
    frame = pd.DataFrame(
        {
            "case_id": ["a", "a"],
            "timestamp": pd.to_datetime(["2024-01-05 08:00", "2024-01-05 09:00"], utc=True),
            "agency": ["A", "B"],
            "activity": ["submitted", "resolved"],
            "channel": ["Twitter", "Twitter"],
        }
    )
    result = validate(frame)
    assert result.clean["channel"].tolist() == ["twitter", "twitter"]
    assert result.clean["source_row"].tolist() == [0, 1]


# --- the nothing-lost property ------------------------------------------------------------------

_CASES = st.sampled_from(["a", "b", "c", "", None])
_TIMES = st.sampled_from(
    [
        "2024-01-05 08:00",
        "2024-01-05 09:00",
        "2024-03-10T02:30:00+07:00",
        "bad",
        "",
        None,
        "0001-01-01",
        "9999-12-31",
        "05/01/2024",
    ]
)
_AGENCIES = st.sampled_from(["A", "B", " ", None])
_ACTIVITIES = st.sampled_from(["submitted", "resolved", "Queued", "", None])
_CHANNELS = st.sampled_from(["twitter", "WA", "phone", "pigeon", "", None])


@st.composite
def malformed_frames(draw):
    rows = draw(st.lists(st.tuples(_CASES, _TIMES, _AGENCIES, _ACTIVITIES, _CHANNELS), max_size=30))
    rows = rows + draw(st.lists(st.sampled_from(rows), max_size=5)) if rows else rows
    frame = pd.DataFrame(rows, columns=list(schema.REQUIRED_COLUMNS), dtype="str")
    frame["source_file"] = draw(
        st.lists(st.sampled_from(["x.csv", "y.csv"]), min_size=len(frame), max_size=len(frame))
    )
    frame["source_row"] = range(len(frame))
    return frame


@given(frame=malformed_frames(), strict=st.booleans())
def test_rows_are_partitioned_between_clean_and_quarantine(frame, strict):
    result = validate(frame, strict_channels=strict)
    r = result.report
    assert r["rows_in"] == len(frame) == r["rows_kept"] + r["rows_quarantined"]
    assert r["rows_kept"] == len(result.clean) and r["rows_quarantined"] == len(result.quarantine)
    assert sum(r["reasons"].values()) == r["rows_quarantined"]
    kept = set(zip(result.clean["source_file"], result.clean["source_row"], strict=True))
    held = set(zip(result.quarantine["source_file"], result.quarantine["source_row"], strict=True))
    assert len(kept) == len(result.clean) and len(held) == len(result.quarantine)
    assert kept.isdisjoint(held)
    assert kept | held == set(zip(frame["source_file"], frame["source_row"], strict=True))
    assert result.quarantine[REASON].isin(REASONS).all()
    clean = result.clean
    assert clean["case_id"].notna().all() and clean["timestamp"].notna().all()
    assert clean["agency"].notna().all() and clean["channel"].notna().all()
    assert (clean.groupby("case_id")["channel"].nunique() <= 1).all()


def test_report_table_and_quarantine_summary_by_hand(write_log):
    from toolkit.clean.validation import quarantine_summary, report_table

    path = write_log(
        [
            "a,2024-01-05 08:00,A,submitted,web",
            "a,2024-01-05 08:00,A,submitted,web",
            "a,2024-01-05 09:00,A,Ditunda,web",
            "b,never,A,submitted,Merpati",
            "c,later,A,submitted,web",
        ]
    )
    result = validate(read_events(path))
    items = dict(report_table(result.report).values.tolist())
    assert items["rows_in"] == 5 and items["rows_quarantined"] == 3
    assert items["quarantined: unparseable_timestamp"] == 2
    assert items["quarantined: duplicate_event"] == 1
    assert items["activity read as in_progress: Ditunda"] == 1
    assert "quarantined: missing_agency" not in items  # reasons without rows are left out
    summary = quarantine_summary(result.quarantine, examples=1)
    assert summary.values.tolist() == [
        ["unparseable_timestamp", 2, 2, "log.csv:3"],
        ["duplicate_event", 1, 1, "log.csv:1"],
    ]
    assert quarantine_summary(result.quarantine.iloc[:0]).empty


def test_the_kept_rows_and_codes_name_the_input_rows_each_clean_row_came_from(write_log):
    """sekat prepare reuses validation's codes instead of coding the log again: they must
    describe the input row by row, and kept_rows must point at each clean row's input row."""
    import numpy as np

    from toolkit.clean.validation import near_duplicate_agencies

    path = write_log(
        [
            "a,2024-01-05 08:00,Dinas PU,submitted,web",
            ",2024-01-05 08:00,Dinas PU,submitted,web",  # missing_case_id
            "b,2024-01-05 09:00,,submitted,web",  # missing_agency
            "b,2024-01-05 10:00,Dinas P.U.,resolved,web",
            "a,2024-01-05 08:00,Dinas PU,submitted,web",  # duplicate_event
            "c,2024-01-06 08:00,Dinas PU,submitted,phone",
        ]
    )
    events = read_events(path)
    result = validate(events)
    assert result.kept_rows.tolist() == [0, 3, 5]
    for column in (schema.CASE_ID, schema.AGENCY):
        codes, names = result.codes[column]
        by_code = pd.Series(np.asarray(names, dtype=object)).reindex(codes).tolist()
        assert [None if pd.isna(v) else v for v in by_code] == [
            None if pd.isna(v) else v for v in events[column].tolist()
        ]
        assert result.clean[column].tolist() == events[column].iloc[result.kept_rows].tolist()
    agency_codes, agency_names = result.codes[schema.AGENCY]
    coded = near_duplicate_agencies(
        result.clean[schema.AGENCY],
        cases=result.clean[schema.CASE_ID],
        coded=(
            agency_codes[result.kept_rows],
            agency_names,
            result.codes[schema.CASE_ID][0][result.kept_rows],
        ),
    )
    pd.testing.assert_frame_equal(
        coded,
        near_duplicate_agencies(result.clean[schema.AGENCY], cases=result.clean[schema.CASE_ID]),
    )
    assert coded[["agency", "similar_agency", "rows", "requests"]].values.tolist() == [
        ["Dinas PU", "Dinas P.U.", 2, 2]
    ]
