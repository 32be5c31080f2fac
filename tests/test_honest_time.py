"""Honest time: no time is invented, none a user cannot have meant stretches a duration.

Relative words and times without a date are never read (a rerun tomorrow would give other
times); a request with a time after the run date or far outside the bulk of the log is set
aside whole, so the cut-off ignores it; and the report warns, with codes, when durations
mostly run to the cut-off or the cut-off lies far after the last intake.
"""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import given
from hypothesis import strategies as st

from toolkit import schema
from toolkit.clean.validation import outlying_times, time_warnings, validate
from toolkit.io.readers import read_events
from toolkit.io.timestamps import parse_timestamps
from toolkit.paths import case_table
from toolkit.pipeline import prepare


@pytest.mark.parametrize(
    ("text", "issue"),
    [
        ("now", "relative_timestamp"),
        ("Today", "relative_timestamp"),
        ("hari ini", "relative_timestamp"),
        ("kemarin", "relative_timestamp"),
        ("08:00", "timestamp_without_date"),
        ("8:00 PM", "timestamp_without_date"),
        ("5 Jan", "timestamp_without_date"),
        ("05/01", "timestamp_without_date"),
        ("soon", "unparseable_timestamp"),
    ],
)
def test_values_without_a_date_are_never_read(text, issue):
    stamps, issues = parse_timestamps(pd.Series([text, "2024-01-05 08:00"]))
    assert pd.isna(stamps.iloc[0]) and issues.iloc[0] == issue
    assert stamps.iloc[1] == pd.Timestamp("2024-01-05 01:00", tz="UTC")


def test_dates_with_a_year_are_still_read():
    stamps, issues = parse_timestamps(pd.Series(["5 Jan 2024", "05/01/24 08:00"]))
    assert issues.isna().all()
    local = stamps.dt.tz_convert("Asia/Jakarta")
    assert local.dt.strftime("%Y-%m-%d").tolist() == ["2024-01-05", "2024-05-01"]


def test_a_parquet_time_of_day_is_quarantined_with_its_reason(tmp_path):
    table = pa.table(
        {
            "case_id": ["a", "a"],
            "timestamp": pa.array([dt.time(8, 0), dt.time(9, 0)], pa.time64("us")),
            "agency": ["A", "A"],
            "activity": ["submitted", "resolved"],
            "channel": ["web", "web"],
        }
    )
    path = tmp_path / "times.parquet"
    pq.write_table(table, path)
    result = validate(read_events(path))
    assert result.quarantine["reason"].tolist() == ["timestamp_without_date"] * 2


def test_reruns_with_relative_words_are_byte_identical(write_log, tmp_path):
    path = write_log(
        ["a,2024-01-05 08:00,A,submitted,web", "a,now,A,resolved,web", "b,today,A,submitted,web"]
    )
    first = prepare([path], tmp_path / "one", demo=True, rare_below=0)
    prepare([path], tmp_path / "two", demo=True, rare_below=0)
    assert first.report["reasons"]["relative_timestamp"] == 2
    for name in ("events.parquet", "quarantine.parquet", "cases.parquet", "report.json"):
        assert (tmp_path / "one" / name).read_bytes() == (tmp_path / "two" / name).read_bytes()


def _log(write_log, extra: list[str], n: int = 30) -> list[str]:
    rows = []
    for i in range(n):
        day = 1 + i % 28
        rows.append(f"r{i},2015-03-{day:02d} 08:00,A,submitted,web")
        rows.append(f"r{i},2015-03-{day:02d} 12:00,A,resolved,web")
    return write_log(rows + extra)


def test_a_future_time_sets_its_request_aside_and_leaves_the_cutoff_alone(write_log):
    path = _log(
        write_log,
        ["late,2015-03-10 08:00,A,submitted,web", "late,2061-03-10 08:00,A,resolved,web",
         "open,2015-03-28 08:00,A,submitted,web"],
    )  # fmt: skip
    result = validate(read_events(path), as_of="2020-01-01")
    q = result.quarantine
    assert q["reason"].tolist() == ["future_timestamp"] * 2  # the whole request
    assert set(q["case_id"]) == {"late"}
    cases = case_table(result.clean).set_index("case_id")
    # the open request is censored at the last real event (r27 resolved), not in 2061
    assert cases.loc["open", "end"] == pd.Timestamp("2015-03-28 12:00", tz="Asia/Jakarta")


def test_a_mistyped_past_year_is_outlying(write_log):
    path = _log(
        write_log, ["old,2005-03-10 08:00,A,submitted,web", "old,2015-03-11 08:00,A,resolved,web"]
    )
    result = validate(read_events(path), as_of="2020-01-01")
    assert result.quarantine["reason"].tolist() == ["outlying_timestamp"] * 2
    assert result.report["reasons"]["outlying_timestamp"] == 2
    rule = result.report["outlying_rule"]
    assert rule["allowed_from"] < "2015-03-01" < rule["allowed_to"]
    # a closing a few months later is not outlying
    later = _log(
        write_log, ["slow,2015-03-10 08:00,A,submitted,web", "slow,2015-09-10 08:00,A,resolved,web"]
    )
    assert validate(read_events(later), as_of="2020-01-01").report["rows_quarantined"] == 0


def test_outlying_rule_by_hand():
    # 40 days in one month (Q1 to Q3 about 20 days): fences one year out (the minimum)
    days = pd.date_range("2015-01-01", periods=40, freq="D")
    times = days.append(pd.DatetimeIndex(["2016-03-01", "2013-06-01"])).as_unit("ns").asi8
    flags, rule = outlying_times(times)
    assert flags.tolist() == [False] * 40 + [True, True]
    assert outlying_times(times[:10])[0].sum() == 0  # too few times: no bulk


@given(st.lists(st.integers(0, 10**6), min_size=20, max_size=200))
def test_the_bulk_is_never_outlying(seconds):
    times = pd.to_datetime(seconds, unit="s").as_unit("ns").asi8
    flags, rule = outlying_times(times)
    assert not flags.any()  # all within twelve days: the one-year fence holds everything


def _cases(starts, ends, resolved):
    return pd.DataFrame(
        {
            schema.START: pd.to_datetime(starts, utc=True),
            schema.END: pd.to_datetime(ends, utc=True),
            schema.IS_RESOLVED: resolved,
        }
    )


def test_warnings_no_and_few_resolutions():
    none = _cases(["2024-01-01"] * 3, ["2024-01-02"] * 3, [False] * 3)
    assert [w["code"] for w in time_warnings(none, {})] == ["no_resolutions"]
    few = _cases(["2024-01-01"] * 20, ["2024-01-02"] * 20, [True] + [False] * 19)
    (warning,) = time_warnings(few, {})
    assert warning["code"] == "few_resolutions" and warning["resolved"] == 1
    enough = _cases(["2024-01-01"] * 20, ["2024-01-02"] * 20, [True] * 12 + [False] * 8)
    assert time_warnings(enough, {}) == []


def test_warning_when_the_cutoff_lies_far_after_the_last_intake():
    cases = _cases(["2024-01-01", "2024-01-10"], ["2024-01-02", "2024-01-12"], [True, True])
    assert time_warnings(cases, {}) == []
    (warning,) = time_warnings(cases, {}, cutoff="2024-06-01")
    assert warning["code"] == "cutoff_far_after_last_intake" and warning["days"] == 143.0
    # a log whose intake spans longer than the gap is not warned about
    long = _cases(["2023-01-01", "2024-01-10"], ["2023-01-02", "2024-01-12"], [True, True])
    assert time_warnings(long, {}, cutoff="2024-06-01") == []


def test_prepare_writes_the_warnings_with_codes(write_log, tmp_path):
    path = write_log(["a,2024-01-05 08:00,A,submitted,web", "b,2024-01-06 08:00,A,Queued,web"])
    result = prepare([path], tmp_path / "out", demo=True, cutoff="2024-09-01")
    codes = [w["code"] for w in result.report["warnings"]]
    assert codes == ["no_resolutions", "cutoff_far_after_last_intake"]
    assert set(codes) <= set(schema.WARNING_CODES)
