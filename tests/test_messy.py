"""Real-data messiness: each fault lands in the quarantine or the report with a count.

Several date formats in one column, daylight-saving gaps and overlaps, a request closed before
it was opened, duplicated rows, a request with thousands of events, one agency spelled several
ways, channel values outside the vocabulary, broken JSON. None of them may crash a run, and
rows in = rows kept + rows quarantined throughout.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from toolkit import schema
from toolkit.clean.validation import LONG_CASE_EVENTS, near_duplicate_agencies, validate
from toolkit.errors import SekatError
from toolkit.io.readers import read_events
from toolkit.io.timestamps import parse_timestamps, timestamp_shape
from toolkit.paths import case_table


def _balanced(report: dict) -> bool:
    return (
        report["rows_in"] == report["rows_kept"] + report["rows_quarantined"]
        and sum(report["reasons"].values()) == report["rows_quarantined"]
    )


def test_several_date_formats_in_one_column_are_read_and_counted(write_log):
    path = write_log(
        [
            "a,2024-01-05 08:00,A,submitted,web",
            "a,05/01/2024 09:00,A,forwarded,web",  # day first (the mapping says so)
            "a,5 January 2024 10:00,B,resolved,web",
            "b,2024-01-05T08:00:00+07:00,A,submitted,phone",
            "b,2024-13-45 10:00,A,resolved,phone",  # not a date
        ]
    )
    events = read_events(path, mapping={"dayfirst": True})
    assert events["timestamp"].iloc[:4].tolist() == [
        pd.Timestamp("2024-01-05 01:00", tz="UTC"),
        pd.Timestamp("2024-01-05 02:00", tz="UTC"),
        pd.Timestamp("2024-01-05 03:00", tz="UTC"),
        pd.Timestamp("2024-01-05 01:00", tz="UTC"),
    ]
    result = validate(events)
    assert result.report["timestamp_formats"] == {
        "9 Aaa 9999 99:99": 1,
        "%d/%m/%Y %H:%M": 1,
        "9999-99-99 99:99": 1,  # the unreadable one has a shape, but not ISO 8601
        "ISO 8601": 2,
    }
    assert result.quarantine["reason"].tolist() == ["unparseable_timestamp"]
    assert _balanced(result.report)


def test_timestamp_shape_by_hand():
    assert timestamp_shape(" 2024-01-05 08:00 ") == "9999-99-99 99:99"
    assert timestamp_shape("Jan 5, 2024 8:00 PM") == "Aaa 9, 9999 9:99 Aaa"


def test_daylight_saving_gap_is_quarantined_and_overlap_counted(write_log):
    path = write_log(
        [
            "a,2024-03-10 02:30,A,submitted,web",  # skipped hour in New York
            "a,2024-03-10 04:00,A,resolved,web",
            "b,2024-11-03 01:30,A,submitted,web",  # repeated hour: read as the earlier (EDT)
            "b,2024-11-03 03:00,A,resolved,web",
        ]
    )
    result = validate(read_events(path, source_tz="America/New_York"))
    assert result.quarantine["reason"].tolist() == ["nonexistent_local_time"]
    assert result.report["ambiguous_local_times"] == 1
    b = result.clean[result.clean["case_id"] == "b"]["timestamp"].tolist()
    assert b[0] == pd.Timestamp("2024-11-03 05:30", tz="UTC")
    assert (b[1] - b[0]) == pd.Timedelta(hours=2.5)  # 01:30 EDT to 03:00 EST


def test_closed_before_opened_quarantines_the_request(write_log):
    path = write_log(
        [
            "a,2024-01-05 08:00,A,submitted,web",
            "a,2024-01-04 08:00,A,resolved,web",  # before it was opened
            "a,2024-01-06 08:00,B,forwarded,web",
            "b,2024-01-05 08:00,A,submitted,web",
            "b,2024-01-05 08:00,A,resolved,web",  # same instant: fine
            "c,2024-01-01 08:00,A,resolved,web",  # no submitted event: nothing to compare
            "c,2024-01-02 08:00,A,in_progress,web",
        ]
    )
    result = validate(read_events(path))
    assert result.quarantine["reason"].tolist() == ["closed_before_opened"] * 3
    assert result.quarantine["case_id"].unique().tolist() == ["a"]
    assert sorted(result.clean["case_id"].unique()) == ["b", "c"]
    assert result.report["reasons"]["closed_before_opened"] == 3
    assert _balanced(result.report)


def test_duplicated_rows_are_counted_once(write_log):
    row = "a,2024-01-05 08:00,A,submitted,web"
    path = write_log([row, row, row, "a,2024-01-05 09:00,A,resolved,web"])
    result = validate(read_events(path))
    assert result.report["reasons"]["duplicate_event"] == 2
    assert result.quarantine["source_row"].tolist() == [1, 2]


def test_a_request_with_thousands_of_events(tmp_path):
    n = 3 * LONG_CASE_EVENTS
    stamps = pd.date_range("2024-01-01", periods=n, freq="min").strftime("%Y-%m-%d %H:%M:%S")
    agencies = np.where(np.arange(n) % 2 == 0, "A", "B")
    frame = pd.DataFrame(
        {
            "case_id": ["loop"] * n + ["short", "short"],
            "timestamp": list(stamps) + ["2024-01-01 00:00:00", "2024-01-01 01:00:00"],
            "agency": list(agencies) + ["A", "A"],
            "activity": ["forwarded"] * n + ["submitted", "resolved"],
            "channel": "web",
        }
    )
    path = tmp_path / "loop.csv"
    frame.to_csv(path, index=False)
    result = validate(read_events(path))
    assert result.report["events_per_case_max"] == n
    assert result.report[f"cases_over_{LONG_CASE_EVENTS}_events"] == 1
    cases = case_table(result.clean).set_index("case_id")
    assert cases.loc["loop", "hops"] == n - 1  # A>B>A>... every event a hop
    assert cases.loc["loop", "returns"] == n - 2


def test_agency_spellings_aliases_merge_and_near_duplicates_are_only_reported(write_log):
    path = write_log(
        [
            "a,2024-01-05 08:00,Dinas Pekerjaan Umum,submitted,web",
            "a,2024-01-05 09:00,Dinas PU,forwarded,web",  # alias in the mapping: merged
            "b,2024-01-05 08:00,Dinas Pekerjaan Umum,submitted,web",
            "b,2024-01-05 09:00,Dinas Pekerjan Umum,forwarded,web",  # typo: reported only
            "c,2024-01-05 08:00,Kelurahan 01,submitted,web",
            "c,2024-01-05 09:00,Kelurahan 02,forwarded,web",  # numbered units: distinct
        ]
    )
    events = read_events(path, mapping={"agencies": {"dinas pu": "Dinas Pekerjaan Umum"}})
    result = validate(events)
    assert result.clean["agency"].tolist()[:2] == ["Dinas Pekerjaan Umum"] * 2
    assert "Dinas Pekerjan Umum" in result.clean["agency"].tolist()  # never merged silently
    assert result.report["agency_near_duplicates"] == [
        {
            "agency": "Dinas Pekerjaan Umum",
            "similar_agency": "Dinas Pekerjan Umum",
            "similarity": 0.974,
            "rows": 3,
            "similar_rows": 1,
            "requests": 2,  # requests a and b name the full spelling
            "similar_requests": 1,
        }
    ]


def test_near_duplicates_by_hand():
    # "dinas pu" vs "dinas p u": 8 matching characters of 8 + 9, 2*8/17 = 0.941
    table = near_duplicate_agencies(pd.Series(["Dinas PU", "Dinas P.U", "PDAM"]))
    assert table[["agency", "similar_agency"]].values.tolist() == [["Dinas P.U", "Dinas PU"]]
    assert table["similarity"].iloc[0] == pytest.approx(16 / 17, abs=1e-3)
    assert near_duplicate_agencies(pd.Series(["Dinas PU", "Dinas P.U"]), threshold=0.95).empty
    assert near_duplicate_agencies(pd.Series(["X", "x."]))["similarity"].tolist() == [1.0]
    assert near_duplicate_agencies(pd.Series([], dtype="str")).empty


def test_unknown_channels_become_other_and_are_counted_or_quarantined(write_log):
    rows = [
        "a,2024-01-05 08:00,A,submitted,Burung Merpati",
        "a,2024-01-05 09:00,A,resolved,Burung Merpati",
        "b,2024-01-05 08:00,A,submitted,Twitter",
    ]
    loose = validate(read_events(write_log(rows)))
    assert loose.report["channels_mapped_to_other"] == {"Burung Merpati": 1}  # one request
    assert loose.clean["channel"].astype(str).tolist() == ["other", "other", "twitter"]
    strict = validate(read_events(write_log(rows), strict_channels=True), strict_channels=True)
    assert strict.report["reasons"]["unknown_channel"] == 2
    assert strict.clean["channel"].astype(str).tolist() == ["twitter"]


def test_events_from_one_source_row_stand_or_fall_together(tmp_path):
    text = (
        "Unique Key,Created Date,Closed Date,Agency,Open Data Channel Type\n"
        "1,01/05/2024 08:00:00 AM,01/05/2024 09:00:00 AM,NYPD,PHONE\n"
        "2,not a date,01/05/2024 09:00:00 AM,NYPD,PHONE\n"  # the close alone would mislead
        "3,03/10/2024 01:00:00 AM,03/10/2024 02:30:00 AM,NYPD,PHONE\n"  # DST gap at close
        "1,01/05/2024 08:00:00 AM,01/05/2024 09:00:00 AM,NYPD,PHONE\n"  # exported twice
    )
    path = tmp_path / "nyc.csv"
    path.write_text(text)
    result = validate(read_events(path, preset="nyc311"))
    assert result.quarantine[["case_id", "reason"]].values.tolist() == [
        ["2", "unparseable_timestamp"],
        ["2", "unparseable_timestamp"],
        ["3", "nonexistent_local_time"],
        ["3", "nonexistent_local_time"],
        ["1", "duplicate_event"],
        ["1", "duplicate_event"],
    ]
    assert result.clean["case_id"].tolist() == ["1", "1"]
    assert _balanced(result.report)


@pytest.mark.parametrize(
    ("text", "match"),
    [
        ('[{"a": 1}, ', "not well-formed JSON"),
        ('{"meta": 1}', "not a list of records"),
        ("[1, 2]", "not an object"),
    ],
)
def test_broken_json_is_a_clear_error(tmp_path, text, match):
    path = tmp_path / "requests.json"
    path.write_text(text)
    with pytest.raises(SekatError, match=match) as info:
        read_events(path, preset="open311")
    assert "requests.json" in str(info.value)


_MESSY_STAMPS = st.sampled_from(
    [
        "2024-01-05 08:00",
        "05/01/2024 08:00",
        "5 Jan 2024 8:00",
        "2024-03-10 02:30",
        "2024-11-03 01:30",
        "2024-01-05T08:00Z",
        "",
        "kemarin",
        "1900-01-01 00:00",
        "99999-01-01",
    ]
)


@given(
    rows=st.lists(
        st.tuples(
            st.sampled_from(["a", "b", "c", ""]),
            _MESSY_STAMPS,
            st.sampled_from(["Dinas PU", "Dinas P.U.", "dinas pu", "", "Kel. A"]),
            st.sampled_from(["submitted", "resolved", "closed", "reopened", "Diteruskan", ""]),
            st.sampled_from(["twitter", "WA", "Merpati", "", "loket"]),
        ),
        max_size=25,
    ),
    strict=st.booleans(),
)
def test_messy_logs_never_crash_and_rows_balance(tmp_path_factory, rows, strict):
    path = tmp_path_factory.mktemp("messy") / "log.csv"
    body = "\n".join(",".join(r) for r in rows)
    path.write_text("case_id,timestamp,agency,activity,channel\n" + body + "\n")
    events = read_events(path, source_tz="America/New_York", strict_channels=strict)
    result = validate(events, strict_channels=strict)
    assert _balanced(result.report)
    assert result.report["rows_in"] == len(rows)
    cases = case_table(result.clean) if len(result.clean) else None
    if cases is not None:
        assert (cases[schema.DURATION_HOURS] >= 0).all()


@given(
    seconds=st.lists(st.integers(0, 40 * 365 * 86400), min_size=1, max_size=20),
    dayfirst=st.booleans(),
    style=st.sampled_from(
        ["%m/%d/%Y %I:%M:%S %p", "%d/%m/%Y %H:%M", "%d-%m-%Y", "%m/%d/%Y", "%d/%m/%Y %H:%M:%S"]
    ),
)
def test_fast_formats_read_as_the_mixed_parser_does(seconds, dayfirst, style):
    stamps = pd.Timestamp("1990-01-01") + pd.to_timedelta(seconds, unit="s")
    text = pd.Series(stamps.strftime(style))
    fast, _ = parse_timestamps(text, "UTC", dayfirst=dayfirst)
    slow = [pd.to_datetime(t, format="mixed", dayfirst=dayfirst) for t in text]
    assert fast.tolist() == [pd.Timestamp(t, tz="UTC") for t in slow]
