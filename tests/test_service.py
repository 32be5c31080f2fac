"""Service time as desks measure it: working days, per-channel medians and Cox, compliance."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from toolkit.errors import SekatError
from toolkit.estimate.service import (
    WorkingCalendar,
    compliance,
    cox_by_channel,
    resolution_by_channel,
    working_days,
)
from toolkit.paths import case_table
from toolkit.synthetic import simulate


def cases_of(starts, ends, censored=None, channel="phone", **extra):
    n = len(starts)
    return pd.DataFrame(
        {
            "start": pd.to_datetime(starts, utc=True),
            "end": pd.to_datetime(ends, utc=True),
            "censored": [False] * n if censored is None else censored,
            "channel": [channel] * n if isinstance(channel, str) else channel,
            **extra,
        }
    )


def test_working_days_by_hand():
    # 2015-07-02 is a Thursday, 3 July 2015 the observed Independence Day holiday.
    cases = cases_of(
        [
            "2015-07-02 10:00",
            "2015-07-02 10:00",
            "2015-07-03 10:00",
            "2015-07-04 10:00",
            "2015-07-06 09:00",
        ],
        [
            "2015-07-02 18:00",
            "2015-07-06 10:00",
            "2015-07-06 10:00",
            "2015-07-07 10:00",
            "2015-07-13 09:00",
        ],
    )
    us = WorkingCalendar("US", tz="UTC")
    assert working_days(cases, us).tolist() == [0, 1, 1, 2, 5]
    plain = WorkingCalendar(None, tz="UTC")  # Friday 3 July counts without holidays
    assert working_days(cases, plain).tolist() == [0, 2, 1, 2, 5]


def test_working_week_and_indonesian_holidays():
    # Idul Fitri 2024: 10 and 11 April (Wednesday, Thursday) are national holidays.
    cases = cases_of(["2024-04-08 01:00"], ["2024-04-12 01:00"])
    assert working_days(cases, WorkingCalendar("ID", tz="UTC")).tolist() == [2]
    assert working_days(cases, WorkingCalendar(None, tz="UTC")).tolist() == [4]
    # A Sunday-to-Thursday week: Friday 12 April is a weekend day.
    assert working_days(cases, WorkingCalendar(None, "sun-thu", tz="UTC")).tolist() == [3]


def test_local_dates_follow_the_time_zone():
    # 23:30 in Jakarta on Monday is 16:30 UTC; a close at 01:00 Jakarta Tuesday is the next day.
    cases = cases_of(["2024-03-04 16:30"], ["2024-03-04 18:00"])
    assert working_days(cases, WorkingCalendar(None, tz="UTC")).tolist() == [0]
    assert working_days(cases, WorkingCalendar(None, tz="Asia/Jakarta")).tolist() == [1]


def test_bad_calendars_are_refused():
    with pytest.raises(SekatError, match="working week"):
        WorkingCalendar(None, "mon-blursday")
    with pytest.raises(SekatError, match="no holiday calendar"):
        WorkingCalendar("XX").holidays([2024])


@settings(max_examples=50, deadline=None)
@given(
    st.dates(
        min_value=pd.Timestamp("2014-01-01").date(), max_value=pd.Timestamp("2026-01-01").date()
    ),
    st.integers(min_value=0, max_value=60),
)
def test_working_days_never_exceed_calendar_days(day, length):
    start = pd.Timestamp(day).tz_localize("UTC") + pd.Timedelta(hours=12)
    cases = cases_of([start], [start + pd.Timedelta(days=length)])
    counted = int(working_days(cases, WorkingCalendar("US", tz="UTC"))[0])
    assert 0 <= counted <= length
    # five of every seven days, less at most 11 US holidays a year
    assert counted >= (length // 7) * 5 - 11 * (length // 365 + 1)


def test_median_by_channel_by_hand():
    cases = pd.DataFrame(
        {
            "duration_hours": [24.0, 48, 72, 96, 12, 36],
            "censored": [False, False, True, False, False, False],
            "channel": ["twitter"] * 4 + ["phone"] * 2,
        }
    )
    table = resolution_by_channel(cases).table.set_index("group_value")
    # twitter: S drops to 3/4 at 1 day, to 1/2 at 2 days: median 2 days.
    assert table.loc["twitter", "estimate"] == 2.0
    assert table.loc["twitter", "n"] == 4
    assert table.loc["phone", "estimate"] == 0.5
    assert set(table["group"]) == {"channel"}


def test_compliance_by_hand():
    # Monday 2 March 2015; the standard: 5 working days (due by Monday 9 March).
    cases = cases_of(
        ["2015-03-02"] * 5,
        ["2015-03-03", "2015-03-09", "2015-03-12", "2015-03-04", "2015-03-20"],
        censored=[False, False, False, True, True],
    )
    result = compliance(cases, within=5, calendar=WorkingCalendar(tz="UTC"))
    row = result.table.iloc[0]
    counts = result.diagnostics["counts"].iloc[0]
    # on time: 3 March, 9 March; late: 12 March, open past the standard on 20 March;
    # open on 4 March (two working days in): undecided, left out
    assert (counts["on_time"], counts["late"], counts["undecided"]) == (2, 2, 1)
    assert row["estimate"] == 0.5 and row["n"] == 4
    assert 0 < row["ci_low"] < 0.5 < row["ci_high"] < 1


def test_compliance_against_a_target_column():
    cases = cases_of(
        ["2015-03-02"] * 4,
        ["2015-03-03", "2015-03-09", "2015-03-04", "2015-03-05"],
        censored=[False, False, True, True],
        target=pd.to_datetime(["2015-03-05", "2015-03-05", "2015-03-10", None], utc=True),
    )
    result = compliance(cases, target="target")
    counts = result.diagnostics["counts"].iloc[0]
    assert (counts["on_time"], counts["late"], counts["undecided"], counts["no_target"]) == (
        1,
        1,
        1,
        1,
    )
    with pytest.raises(SekatError, match="give a standard"):
        compliance(cases)


def test_cox_by_channel_recovers_a_faster_channel():
    rng = np.random.default_rng(5)
    n = 3000
    channel = rng.choice(["phone", "twitter", "web"], size=n)
    rate = np.where(channel == "twitter", 2.0, np.where(channel == "web", 0.5, 1.0))
    cases = pd.DataFrame(
        {
            "channel": channel,
            "duration_hours": rng.exponential(24.0 / rate),
            "censored": np.zeros(n, dtype=bool),
        }
    )
    table = cox_by_channel(cases, strata=None).table.set_index("group_value")
    for channel_name, truth in (("twitter", 2.0), ("web", 0.5)):
        row = table.loc[channel_name]
        assert row["ci_low"] < truth < row["ci_high"]
        assert row["contrast"] == f"{channel_name} vs phone"
    with pytest.raises(SekatError, match="reference channel"):
        cox_by_channel(cases, reference="letter")


def test_small_channels_are_left_out_of_cox():
    cases = pd.DataFrame(
        {
            "channel": ["phone"] * 30 + ["twitter"] * 3,
            "duration_hours": np.arange(33, dtype=float) + 1,
            "censored": [False] * 33,
        }
    )
    result = cox_by_channel(cases, strata=None)
    assert result.table.empty
    assert result.diagnostics["left_out"].to_dict("records") == [
        {"channel": "twitter", "reason": "too_few_requests"}
    ]


def test_headline_reports_every_channel_on_a_fresh_seed():
    from toolkit.estimate.headline import headline_analysis

    cases = case_table(simulate(3000, seed=11).events)
    result = headline_analysis(cases, n_boot=10, holidays="ID", standard_days=3)
    assert result.ran("by_channel")
    medians = result.rows(estimand="median", group="channel", outcome="days_to_resolution")
    assert set(medians["group_value"]) == set(cases["channel"].astype(str))
    on_time = result.rows(outcome="on_time")
    assert ((on_time["estimate"] >= 0) & (on_time["estimate"] <= 1)).all()
    # a request on time is a resolved one: never more on time than resolved
    counts = result.diagnostics["compliance_counts"].set_index("group")
    resolved = (~cases["censored"]).groupby(cases["channel"].astype(str)).sum()
    assert (counts["on_time"] <= resolved.reindex(counts.index)).all()
    assert (
        counts[["on_time", "late", "undecided"]].sum(axis=1)
        == medians.set_index("group_value")["n"].reindex(counts.index)
    ).all()


def test_a_logged_target_reaches_the_case_table_and_the_standard():
    # Two requests; the target is written on the opening event only (as a one-row-per-request
    # export gives it), so the case table takes each request's first target.
    events = pd.DataFrame(
        {
            "case_id": ["a", "a", "b", "b"],
            "timestamp": pd.to_datetime(
                ["2015-03-02 09:00", "2015-03-04 09:00", "2015-03-02 10:00", "2015-03-09 10:00"],
                utc=True,
            ),
            "agency": ["Public Works"] * 4,
            "activity": ["submitted", "resolved", "submitted", "resolved"],
            "channel": ["twitter"] * 4,
            "target_at": pd.to_datetime(
                ["2015-03-05 17:00", None, "2015-03-05 17:00", None], utc=True
            ),
        }
    )
    cases = case_table(events)
    assert cases["target_at"].tolist() == [pd.Timestamp("2015-03-05 17:00", tz="UTC")] * 2
    counts = compliance(cases, target="target_at").diagnostics["counts"].iloc[0]
    assert (counts["on_time"], counts["late"]) == (1, 1)  # a by the 4th, b only on the 9th
