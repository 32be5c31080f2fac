"""Mappings that describe real layouts: user entries win, one row per request, no channel.

Each test writes a tiny file in a layout met in real logs and checks, by hand, the events
and the report a person would expect: which column becomes the unit, which rows become
which events, what is counted as a source row, a request and an event.
"""

from __future__ import annotations

import json

import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from toolkit import schema
from toolkit.clean.validation import validate
from toolkit.errors import MissingColumnError, SekatError
from toolkit.io.mapping import Mapping
from toolkit.io.presets import PRESETS, resolve_mapping
from toolkit.io.readers import canonicalise, read_events
from toolkit.io.xes import write_xes
from toolkit.paths import case_table
from toolkit.pipeline import prepare

FLAT_XES = """\
case:concept:name,time:timestamp,org:group,org:resource,concept:name
r1,2024-01-05T08:00:00+00:00,Group 1,Anna,register
r1,2024-01-05T09:00:00+00:00,Group 1,Budi,check
r1,2024-01-05T10:00:00+00:00,Group 1,Anna,close
"""


def _write(tmp_path, name, text):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


# --- a user's entries win over the preset's ---------------------------------------------------


def test_a_user_columns_entry_wins_over_the_presets_for_the_same_target(tmp_path):
    path = _write(tmp_path, "flat.csv", FLAT_XES)
    by_group = read_events(path, preset="xes")
    assert by_group["agency"].tolist() == ["Group 1"] * 3  # the preset's org:group
    by_person = read_events(path, preset="xes", mapping={"columns": {"org:resource": "agency"}})
    assert by_person["agency"].tolist() == ["Anna", "Budi", "Anna"]
    # so the same request now has two hand-offs (Anna -> Budi -> Anna), one a return
    cases = case_table(validate(by_person).clean).iloc[0]
    assert (cases["hops"], cases["returns"]) == (2, 1)


def test_the_user_mapping_overrides_every_section_of_a_preset():
    merged = resolve_mapping(
        {"channels": {"Constituent Call": "walk_in"}, "source_tz": "UTC"}, preset="boston311"
    )
    assert merged.channel_table()["constituent call"] == "walk_in"
    assert merged.source_tz == "UTC" and merged.name == "boston311"
    assert PRESETS["boston311"].channel_table()["constituent call"] == "phone"  # unchanged


def test_a_user_columns_entry_replaces_a_city_presets_column(tmp_path):
    text = (
        "CASE_ENQUIRY_ID,OPEN_DT,CLOSED_DT,QUEUE,Department,Source\n"
        "1,01/05/2015 08:00:00 AM,01/05/2015 10:00:00 AM,PWDx_District 1C,PWDx,Twitter\n"
    )
    path = _write(tmp_path, "b.csv", text)
    assert read_events(path, preset="boston311")["agency"].tolist() == ["PWDx"] * 2
    queue = read_events(path, preset="boston311", mapping={"columns": {"QUEUE": "agency"}})
    assert queue["agency"].tolist() == ["PWDx_District 1C"] * 2


# --- one row per request described by a mapping ---------------------------------------------

REQUESTS = """\
ticket,dibuat,selesai,batas,unit,sumber,ward
T1,2024-01-05 08:00,2024-01-06 08:00,2024-01-08 08:00,Dinas PU,WA,RW 01
T2,2024-01-05 09:00,,2024-01-08 09:00,Dinas Kebersihan,Loket,RW 02
T3,2024-01-05 10:00,2024-01-05 12:00,,Dinas PU,Surat,RW 01
"""

REQUEST_MAPPING = {
    "columns": {"ticket": "case_id", "unit": "agency", "sumber": "channel"},
    "request": {"opened": "dibuat", "closed": "selesai", "target": "batas"},
}


def test_a_request_section_turns_each_row_into_submitted_and_closed_events(tmp_path):
    events = read_events(_write(tmp_path, "req.csv", REQUESTS), mapping=REQUEST_MAPPING)
    assert events["case_id"].tolist() == ["T1", "T1", "T2", "T3", "T3"]
    assert events["activity"].tolist() == [
        "submitted",
        "closed",
        "submitted",
        "submitted",
        "closed",
    ]
    assert events["source_row"].tolist() == [0, 0, 1, 2, 2]
    assert events["channel"].astype(str).tolist()[::2] == ["whatsapp", "walk_in", "letter"]
    assert not events[schema.HOPS_OBSERVED].any()
    # the target is a time in the same zone (Asia/Jakarta, UTC+7), carried on every event
    assert events[schema.TARGET_AT].iloc[0] == pd.Timestamp("2024-01-08 01:00", tz="UTC")
    assert events[schema.TARGET_AT].isna().tolist() == [False, False, False, True, True]
    cases = case_table(validate(events).clean).set_index("case_id")
    assert cases["hops"].isna().all()  # unobserved, not zero
    assert cases.loc["T1", "duration_hours"] == 24.0 and not cases.loc["T1", "censored"]
    assert cases.loc["T2", "censored"]  # still open: censored at the cut-off
    assert cases.loc["T3", "duration_hours"] == 2.0


def test_a_request_section_keeps_named_columns_and_needs_an_opening(tmp_path):
    path = _write(tmp_path, "req.csv", REQUESTS)
    events = read_events(path, mapping={**REQUEST_MAPPING, "keep": ["ward"]})
    assert events["ward"].tolist()[:3] == ["RW 01", "RW 01", "RW 02"]
    with pytest.raises(SekatError, match=r"\[request\] needs opened"):
        read_events(path, mapping={"columns": {"ticket": "case_id"}, "request": {"closed": "x"}})
    with pytest.raises(SekatError, match=r"\[request\] layout needs a opened column \('made'\)"):
        read_events(path, mapping={**REQUEST_MAPPING, "request": {"opened": "made"}})
    with pytest.raises(SekatError, match="expected opened, closed, target"):
        read_events(path, mapping={"request": {"opened": "dibuat", "due": "batas"}})


def test_prepare_counts_source_rows_requests_and_events_apart(tmp_path):
    path = _write(tmp_path, "req.csv", REQUESTS)
    result = prepare([path], tmp_path / "out", mapping=REQUEST_MAPPING, demo=True)
    report = json.loads((tmp_path / "out" / "report.json").read_text())
    assert (report["rows_in"], report["cases_in"], report["events_in"]) == (3, 3, 5)
    assert report["rows_in"] == report["rows_kept"] + report["rows_quarantined"]
    assert report["hops_observed"] is False and report["target_observed"] is True
    assert result.report == report


# --- no channel, or one channel ------------------------------------------------------------------


def test_a_constant_channel_reads_a_log_without_one(write_log):
    path = write_log(
        ["a,2024-01-05 08:00,A,submitted", "a,2024-01-05 09:00,A,resolved"],
        header="case_id,timestamp,agency,activity",
    )
    with pytest.raises(MissingColumnError, match='channel = "other"'):
        read_events(path)
    events = read_events(path, mapping={"channel": "phone"})
    assert events["channel"].astype(str).tolist() == ["phone", "phone"]
    assert events.attrs["channel_observed"] is False
    result = validate(events)
    assert result.report["channels_mapped_to_other"] == {}  # not an unknown value


def test_a_constant_channel_wins_over_a_channel_column(write_log):
    path = write_log(["a,2024-01-05 08:00,A,submitted,Twitter"])
    events = read_events(path, mapping={"channel": "other"})
    assert events["channel"].astype(str).tolist() == ["other"]


def test_an_unknown_constant_channel_is_refused():
    with pytest.raises(SekatError, match="not a channel"):
        resolve_mapping({"channel": "pigeon"})


def test_xes_without_a_channel_reads_with_the_xes_preset_as_other(tmp_path):
    events = pd.DataFrame(
        {
            "case_id": ["r1", "r1", "r2"],
            "timestamp": pd.to_datetime(
                ["2024-01-05 08:00", "2024-01-05 09:00", "2024-01-06 08:00"], utc=True
            ),
            "agency": ["Group 1", "Group 2", "Group 1"],
            "activity": ["submitted", "resolved", "submitted"],
            "channel": ["web", "web", "web"],
        }
    )
    path = tmp_path / "log.xes"
    write_xes(events, path)
    text = path.read_text(encoding="utf-8")
    without = tmp_path / "nochannel.xes"
    without.write_text(
        "\n".join(line for line in text.splitlines() if 'key="channel"' not in line),
        encoding="utf-8",
    )
    read = read_events(without, preset="xes")
    assert read["channel"].astype(str).tolist() == ["other"] * 3
    assert read["agency"].tolist() == ["Group 1", "Group 2", "Group 1"]
    result = prepare([without], tmp_path / "out", preset="xes", demo=True, rare_below=0)
    assert result.report["channel_observed"] is False
    assert "channel_not_observed" in [w["code"] for w in result.report["warnings"]]
    # and a log that has one keeps it
    assert read_events(path, preset="xes")["channel"].astype(str).tolist() == ["web"] * 3


# --- units: placeholders and carrying forward -----------------------------------------------


def test_a_placeholder_unit_is_carried_forward_never_a_hand_off(write_log):
    path = write_log(
        [
            "a,2024-01-05 08:00,EMPTY,submitted,web",  # before any unit: takes the first
            "a,2024-01-05 09:00,Group 1,forwarded,web",
            "a,2024-01-05 10:00,,in_progress,web",  # blank: still with Group 1
            "a,2024-01-05 11:00,Group 2,resolved,web",
            "b,2024-01-05 08:00,EMPTY,submitted,web",  # no unit at all: quarantined
        ]
    )
    mapping = {"no_agency": ["empty"], "carry_agency": True}
    events = read_events(path, mapping=mapping)
    assert events["agency"].tolist()[:4] == ["Group 1", "Group 1", "Group 1", "Group 2"]
    assert events["agency_carried"].tolist() == [True, False, True, False, False]
    result = validate(events)
    assert result.report["agencies_carried"] == 2
    assert result.quarantine["reason"].tolist() == ["missing_agency"]
    case = case_table(result.clean).iloc[0]
    assert (case["hops"], case["path"]) == (1, "Group 1 > Group 2")
    # without carrying, the blank row is set aside and EMPTY would be a unit
    plain = validate(read_events(path)).report["reasons"]
    assert plain["missing_agency"] == 1


def test_a_flattened_csv_without_a_channel_reads_with_the_xes_preset_and_a_mapping(tmp_path):
    path = _write(tmp_path, "flat.csv", FLAT_XES)
    mapping = {"columns": {"org:resource": "agency"}}
    result = prepare([path], tmp_path / "out", preset="xes", mapping=mapping, demo=True)
    assert result.report["channel_observed"] is False and result.report["rows_kept"] == 3
    events = pd.read_parquet(tmp_path / "out" / "events.parquet")
    assert events["channel"].astype(str).tolist() == ["other"] * 3


def test_the_xes_preset_reads_empty_groups_as_no_unit(tmp_path):
    text = FLAT_XES.replace(
        "r1,2024-01-05T09:00:00+00:00,Group 1", "r1,2024-01-05T09:00:00+00:00,EMPTY"
    )
    events = read_events(_write(tmp_path, "flat.csv", text), preset="xes")
    assert events["agency"].tolist() == ["Group 1"] * 3


# --- city presets -------------------------------------------------------------------------------


def test_sf311_reads_e_mail_in_and_mail_in(tmp_path):
    text = (
        "CaseID,Opened,Closed,Responsible Agency,Source\n"
        "1,01/05/2024 08:00:00 AM,,DPW,e-mail In\n"
        "2,01/05/2024 09:00:00 AM,,DPW,Mail In\n"
        "3,01/05/2024 10:00:00 AM,,DPW,Twitter\n"
    )
    events = read_events(_write(tmp_path, "sf.csv", text), preset="sf311")
    assert events["channel"].astype(str).tolist() == ["email", "letter", "twitter"]
    assert not events["channel_unmapped"].any()


LA_CSV = """\
SRNumber,CreatedDate,UpdatedDate,ActionTaken,Owner,RequestType,Status,RequestSource,AssignTo,\
ClosedDate,Address,CD,NCName
1-1001,12/31/2017 11:59:58 PM,01/02/2018 09:00:00 AM,SR Created,BOS,Bulky Items,Closed,Call,NC,\
01/02/2018 09:00:00 AM,1 A ST,13,ECHO PARK NC
1-1002,12/31/2017 10:00:00 PM,,SR Created,,Graffiti Removal,Open,Mobile App,OCB,,2 B ST,1,X NC
1-1003,12/30/2017 08:00:00 AM,,SR Created,LADBS,Illegal Dumping,Closed,Driver Self Report,\
BOS,12/30/2017 09:30:00 AM,3 C ST,4,Y NC
"""


def test_la311_reads_owner_then_assign_to_and_the_council_district(tmp_path):
    events = read_events(_write(tmp_path, "la.csv", LA_CSV), preset="la311")
    assert events["case_id"].tolist() == ["1-1001", "1-1001", "1-1002", "1-1003", "1-1003"]
    assert events["agency"].tolist() == ["BOS", "BOS", "OCB", "LADBS", "LADBS"]
    assert events["channel"].astype(str).tolist()[::2] == ["phone", "app", "other"]
    assert events["region"].astype(str).tolist()[0] == "13"
    # Pacific time: 11:59:58 PM on 31 December is 07:59:58 UTC on 1 January
    assert events["timestamp"].iloc[0] == pd.Timestamp("2018-01-01 07:59:58", tz="UTC")
    assert "Address" in events.attrs["ignored_columns"]


def test_a_missing_column_error_lists_every_column_of_the_file(tmp_path):
    text = "Unique Key,Agency,Descriptor,Incident Address\n1,NYPD,x,y\n"
    with pytest.raises(MissingColumnError) as info:
        read_events(_write(tmp_path, "odd.csv", text), preset="nyc311")
    for column in ("Unique Key", "Agency", "Descriptor", "Incident Address"):
        assert repr(column) in str(info.value)
    with pytest.raises(MissingColumnError) as info:
        read_events(_write(tmp_path, "odd2.csv", "id,when,note\n1,2024-01-05,x\n"))
    assert "'note'" in str(info.value) and "'when'" in str(info.value)


@given(st.lists(st.sampled_from(["A", "B", "C", None]), min_size=1, max_size=12))
def test_carrying_units_never_adds_a_hand_off(units):
    frame = pd.DataFrame(
        {
            "case_id": "r",
            "timestamp": [
                f"2024-01-05 {8 + i // 6:02d}:{(i % 6) * 10:02d}" for i in range(len(units))
            ],
            "agency": units,
            "activity": "in_progress",
            "channel": "web",
        }
    )
    events = canonicalise(frame, Mapping(carry_agency=True))
    known = [u for u in units if u is not None]
    if not known:
        assert events["agency"].isna().all()
        return
    # hops = changes of unit between consecutive events that record one
    expected = sum(a != b for a, b in zip(known, known[1:], strict=False))
    case = case_table(validate(events).clean).iloc[0]
    assert case["hops"] == expected
    assert int(events["agency_carried"].sum()) == len(units) - len(known)
