"""City 311 and Open311 presets: files in the published layouts, read into events by hand.

Every file here is written by the test in a layout a city has published (the CSV export's
Title Case headers and the open-data API's snake_case ones). Each closed request becomes two
events (submitted at open, closed at close), an open one a single event; hops are unobserved,
so the case table marks them missing, and durations are computed from open to close.
"""

from __future__ import annotations

import json

import pandas as pd
import pytest

from toolkit import schema
from toolkit.clean.validation import validate
from toolkit.cli import main
from toolkit.errors import MissingColumnError
from toolkit.estimate.survival import kaplan_meier
from toolkit.io.presets import PRESETS
from toolkit.io.readers import read_events
from toolkit.paths import case_table
from toolkit.pipeline import prepare

CITY_PRESETS = ("open311", "nyc311", "boston311", "sf311")

NYC_CSV = """\
Unique Key,Created Date,Closed Date,Agency,Agency Name,Complaint Type,Descriptor,\
Incident Address,Status,Borough,Open Data Channel Type
59893717,01/05/2024 08:15:00 AM,01/06/2024 10:00:00 AM,NYPD,New York City Police Department,\
Noise - Residential,Loud Music/Party,123 MAIN ST,Closed,BROOKLYN,PHONE
59893718,01/05/2024 09:00:00 AM,,DSNY,Department of Sanitation,Dirty Condition,Trash,\
1 X AVE,Open,QUEENS,ONLINE
59893719,07/01/2024 11:00:00 PM,07/02/2024 01:00:00 AM,HPD,Housing Preservation,\
HEAT/HOT WATER,x,2 Y ST,Closed,BRONX,MOBILE
59893720,01/07/2024 09:00:00 AM,01/01/1900 12:00:00 AM,DOT,Transportation,Street Condition,\
Pothole,3 Z ST,Closed,MANHATTAN,UNKNOWN
"""

NYC_API_CSV = """\
unique_key,created_date,closed_date,agency,complaint_type,borough,open_data_channel_type
59893717,2024-01-05T08:15:00.000,2024-01-06T10:00:00.000,NYPD,Noise - Residential,\
BROOKLYN,PHONE
59893718,2024-01-05T09:00:00.000,,DSNY,Dirty Condition,QUEENS,ONLINE
"""

BOSTON_CSV = """\
case_enquiry_id,open_dt,target_dt,closed_dt,ontime,case_status,closure_reason,case_title,\
subject,reason,type,queue,department,location,neighborhood,latitude,longitude,source
101005178190,2024-01-05 08:00:00,2024-01-08 08:30:00,2024-01-05 12:30:00,ONTIME,Closed,\
Case Resolved,Pothole,Public Works Department,Highway Maintenance,Request for Pothole Repair,\
PWDx_District 1C: North End,PWDx,1 Hanover St,North End,42.36,-71.05,Citizens Connect App
101005178191,2024-01-05 09:00:00,,,,Open,,Noise,Inspectional Services,Noise Disturbance,\
Loud Parties,ISD_Noise,ISD,2 Main St,Charlestown,42.37,-71.06,Constituent Call
101005178192,2024-01-05 10:00:00,,2024-01-06 10:00:00,ONTIME,Closed,Case Noted,Graffiti,\
Property Management,Graffiti,Graffiti Removal,PROP_GRAF,PROP,3 Elm St,Dorchester,42.3,-71.07,\
Twitter
101005178193,2024-01-05 11:00:00,,2024-01-05 11:30:00,ONTIME,Closed,Case Noted,Sign,\
Transportation,Signs,Sign Repair,BTDT_Signs,BTDT,4 Oak St,Roxbury,42.33,-71.08,Employee Generated
"""

SF_CSV = """\
CaseID,Opened,Closed,Updated,Status,Status Notes,Responsible Agency,Category,Request Type,\
Request Details,Address,Supervisor District,Neighborhood,Point,Source,Media URL
17000001,01/05/2024 08:00:00 AM,01/05/2024 02:00:00 PM,01/05/2024 02:00:00 PM,Closed,done,\
DPW Ops Queue,Street and Sidewalk Cleaning,Bulky Items,Couch,1 Market St,6,Mission,\
"(37.7, -122.4)",Voice In,
17000002,01/05/2024 09:00:00 AM,,01/05/2024 09:00:00 AM,Open,,Recology_Abandoned,\
Street and Sidewalk Cleaning,General Cleaning,Trash,2 Mission St,9,Mission,"(37.7, -122.4)",\
Mobile/Open311,http://x
17000003,01/05/2024 10:00:00 AM,01/07/2024 10:00:00 AM,01/07/2024 10:00:00 AM,Closed,,\
Parking Enforcement,Parking Enforcement,Blocked Driveway,x,3 Haight St,5,Haight Ashbury,\
"(37.7, -122.4)",Twitter,
"""

OPEN311 = [
    {
        "service_request_id": "638344",
        "status": "closed",
        "status_notes": "Duplicate request.",
        "service_name": "Sidewalk and Curb Issues",
        "service_code": "006",
        "description": None,
        "agency_responsible": None,
        "requested_datetime": "2010-04-14T06:37:38-08:00",
        "updated_datetime": "2010-04-14T15:37:38-08:00",
        "address": "8TH AVE and JUDAH ST",
        "zipcode": 94122,
        "lat": 37.762221815,
        "long": -122.4651145,
    },
    {
        "service_request_id": "638349",
        "status": "open",
        "service_name": "Graffiti Removal",
        "service_code": "009",
        "agency_responsible": "Department of Public Works",
        "requested_datetime": "2010-04-19T06:37:38-08:00",
        "updated_datetime": "2010-04-19T08:37:38-08:00",
        "address": "1 X ST",
    },
]


def _write(tmp_path, name: str, text: str):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def utc(text: str) -> pd.Timestamp:
    return pd.Timestamp(text, tz="UTC")


def test_city_presets_are_registered_with_time_zones():
    for name in CITY_PRESETS:
        assert name in PRESETS and PRESETS[name].transform is not None
    assert PRESETS["nyc311"].source_tz == "America/New_York"
    assert PRESETS["boston311"].source_tz == "America/New_York"
    assert PRESETS["sf311"].source_tz == "America/Los_Angeles"
    # named deterministically in manifests (no memory address)
    assert PRESETS["nyc311"].to_dict()["transform"] == "RequestExport('nyc311')"


def test_nyc311_export_becomes_events(tmp_path):
    events = read_events(_write(tmp_path, "nyc.csv", NYC_CSV), preset="nyc311")
    assert (
        events["case_id"].tolist()
        == ["59893717"] * 2 + ["59893718"] + ["59893719"] * 2 + ["59893720"] * 2
    )
    assert events["activity"].astype(str).tolist() == [
        "submitted", "closed", "submitted", "submitted", "closed", "submitted", "closed",
    ]  # fmt: skip
    # 08:15 AM EST = 13:15 UTC; 11 PM EDT (July) = 03:00 UTC the next day.
    assert events["timestamp"].iloc[0] == utc("2024-01-05 13:15")
    assert events["timestamp"].iloc[3] == utc("2024-07-02 03:00")
    assert events["channel"].astype(str).tolist()[:5] == ["phone", "phone", "web", "app", "app"]
    assert events["channel"].iloc[5:].isna().all()  # UNKNOWN is "not recorded", not a channel
    assert events["agency"].tolist()[:3] == ["NYPD", "NYPD", "DSNY"]
    assert events["region"].astype(str).iloc[0] == "BROOKLYN"
    assert events["category"].astype(str).iloc[0] == "Noise - Residential"
    assert events["source_row"].tolist() == [0, 0, 1, 2, 2, 3, 3]
    assert not events[schema.HOPS_OBSERVED].any()
    # free text and addresses are not read
    assert "Incident Address" not in events and "Descriptor" not in events


def test_nyc311_case_table_marks_hops_missing_and_times_observed(tmp_path):
    result = validate(read_events(_write(tmp_path, "nyc.csv", NYC_CSV), preset="nyc311"))
    # 1900-01-01 placeholder close date: closed before opened, the whole request set aside.
    assert result.quarantine["reason"].tolist() == ["closed_before_opened"] * 2
    # counted in source rows (one request, two events)
    assert result.report["reasons"]["closed_before_opened"] == 1
    assert result.report["events_quarantined"] == 2 and result.report["rows_quarantined"] == 1
    assert result.report["cases_without_observed_hops"] == 3
    assert result.report["channels_mapped_to_other"] == {}
    cases = case_table(result.clean).set_index("case_id")
    for column in (schema.HOPS, schema.DISTINCT_AGENCIES, schema.RETURNS):
        assert cases[column].isna().all()  # unobserved, never zero
    assert cases[schema.PATH].isna().all()
    assert not cases[schema.HOPS_OBSERVED].any()
    assert cases.loc["59893717", schema.FINAL_AGENCY] == "NYPD"
    assert cases.loc["59893717", schema.DURATION_HOURS] == pytest.approx(25.75)
    assert cases.loc["59893719", schema.DURATION_HOURS] == pytest.approx(2.0)
    assert bool(cases.loc["59893718", schema.CENSORED])  # still open: censored at the cut-off
    # resolution-time analyses run on it
    km = kaplan_meier(cases.reset_index(), by=None)
    assert len(km.table) == 1


def test_nyc311_api_lowercase_columns_read_the_same(tmp_path):
    title = read_events(_write(tmp_path, "nyc.csv", NYC_CSV), preset="nyc311")
    lower = read_events(_write(tmp_path, "api.csv", NYC_API_CSV), preset="nyc311")
    columns = [schema.CASE_ID, schema.TIMESTAMP, schema.AGENCY, schema.ACTIVITY, schema.CHANNEL]
    pd.testing.assert_frame_equal(lower[columns], title[columns].iloc[:3])


def test_nyc311_socrata_json_reads(tmp_path):
    records = [
        {"unique_key": "1", "created_date": "2024-01-05T08:15:00.000", "agency": "NYPD",
         "closed_date": "2024-01-05T09:15:00.000", "open_data_channel_type": "MOBILE"},
    ]  # fmt: skip
    events = read_events(_write(tmp_path, "rows.json", json.dumps(records)), preset="nyc311")
    assert events["timestamp"].tolist() == [utc("2024-01-05 13:15"), utc("2024-01-05 14:15")]
    assert events["channel"].astype(str).tolist() == ["app", "app"]


def test_boston311_channels_agency_and_both_column_cases(tmp_path):
    events = read_events(_write(tmp_path, "boston.csv", BOSTON_CSV), preset="boston311")
    assert events["case_id"].nunique() == 4 and len(events) == 7  # one request is open
    by_case = events.groupby("case_id")["channel"].first().astype(str).tolist()
    assert by_case == ["app", "phone", "twitter", "other"]
    assert events["agency"].iloc[0] == "PWDx"  # the department, not the queue
    assert events["category"].astype(str).iloc[0] == "Highway Maintenance"
    assert events["region"].astype(str).iloc[0] == "North End"
    assert events["timestamp"].iloc[0] == utc("2024-01-05 13:00")  # EST
    upper = BOSTON_CSV.split("\n", 1)
    upper_text = upper[0].upper() + "\n" + upper[1]
    shouting = read_events(_write(tmp_path, "BOSTON.csv", upper_text), preset="boston311")
    columns = [schema.CASE_ID, schema.TIMESTAMP, schema.AGENCY, schema.CHANNEL]
    pd.testing.assert_frame_equal(shouting[columns], events[columns])
    cases = case_table(validate(events).clean).set_index("case_id")
    assert cases.loc["101005178190", schema.DURATION_HOURS] == pytest.approx(4.5)
    assert cases[schema.HOPS].isna().all()


def test_sf311_pacific_time_and_sources(tmp_path):
    events = read_events(_write(tmp_path, "sf.csv", SF_CSV), preset="sf311")
    assert len(events) == 5
    assert events["timestamp"].iloc[0] == utc("2024-01-05 16:00")  # PST = UTC-8
    assert events["channel"].astype(str).tolist() == [
        "phone", "phone", "app", "twitter", "twitter",
    ]  # fmt: skip
    assert events["agency"].tolist()[2] == "Recology_Abandoned"
    assert events["region"].astype(str).iloc[0] == "Mission"
    assert "Request Details" not in events and "Point" not in events
    cases = case_table(validate(events).clean).set_index("case_id")
    assert cases.loc["17000003", schema.DURATION_HOURS] == pytest.approx(48.0)


def test_open311_json_status_closed_closes_at_last_update(tmp_path):
    path = _write(tmp_path, "requests.json", json.dumps(OPEN311))
    events = read_events(path, preset="open311")
    assert events["case_id"].tolist() == ["638344", "638344", "638349"]
    assert events["activity"].astype(str).tolist() == ["submitted", "closed", "submitted"]
    # the offsets in the file are honoured whatever source_tz says
    assert events["timestamp"].tolist()[:2] == [
        utc("2010-04-14 14:37:38"),
        utc("2010-04-14 23:37:38"),
    ]
    # no agency_responsible: the service name stands in; no channel field: missing
    assert events["agency"].tolist() == [
        "Sidewalk and Curb Issues",
        "Sidewalk and Curb Issues",
        "Department of Public Works",
    ]
    assert events["channel"].isna().all()
    report = validate(events).report
    assert report["channels_mapped_to_other"] == {"<missing>": 2}  # requests, not events
    # a wrapped list ({"requests": [...]}) reads the same
    wrapped = _write(tmp_path, "wrapped.json", json.dumps({"requests": OPEN311}))
    pd.testing.assert_frame_equal(
        read_events(wrapped, preset="open311").drop(columns="source_file"),
        events.drop(columns="source_file"),
    )


def test_missing_required_column_names_file_and_preset(tmp_path):
    path = _write(tmp_path, "odd.csv", "Unique Key,Agency\n1,NYPD\n")
    with pytest.raises(MissingColumnError, match="nyc311 preset needs a opened column") as info:
        read_events(path, preset="nyc311")
    assert "odd.csv" in str(info.value) and "'Unique Key'" in str(info.value)


def test_prepare_with_a_preset_reports_hops_unobserved(tmp_path):
    path = _write(tmp_path, "nyc.csv", NYC_CSV)
    result = prepare([path], tmp_path / "out", preset="nyc311", demo=True)
    assert result.report["hops_observed"] is False
    # source rows, requests and events counted apart: 4 rows made 7 events
    report = result.report
    assert (report["rows_in"], report["rows_kept"], report["rows_quarantined"]) == (4, 3, 1)
    assert (report["events_in"], report["events_kept"], report["events_quarantined"]) == (7, 5, 2)
    assert (report["cases_in"], report["cases_kept"]) == (4, 3)
    cases = pd.read_parquet(tmp_path / "out" / "cases.parquet")
    assert cases[schema.HOPS].isna().all() and not cases[schema.HOPS_OBSERVED].any()
    assert cases[schema.DURATION_HOURS].notna().all()


def test_command_line_prepare_with_a_city_preset(tmp_path):
    path = _write(tmp_path, "boston.csv", BOSTON_CSV)
    out = tmp_path / "out"
    assert main(["prepare", str(path), "--out", str(out), "--preset", "boston311",
                 "--demo-key", "--force"]) == 0  # fmt: skip
    report = json.loads((out / "report.json").read_text())
    assert report["hops_observed"] is False and report["rows_kept"] == 4
    assert report["events_kept"] == 7 and report["target_observed"] is True


def test_columns_a_preset_does_not_read_are_listed(tmp_path):
    events = read_events(_write(tmp_path, "nyc.csv", NYC_CSV), preset="nyc311")
    # "Agency Name" is read: it stands in for a missing "Agency"
    assert events.attrs["ignored_columns"] == ["Descriptor", "Incident Address", "Status"]


OPEN311_XML = """<?xml version="1.0" encoding="utf-8"?>
<service_requests>
  <request>
    <service_request_id>638344</service_request_id>
    <status>closed</status>
    <service_name>Sidewalk and Curb Issues</service_name>
    <agency_responsible></agency_responsible>
    <requested_datetime>2010-04-14T06:37:38-08:00</requested_datetime>
    <updated_datetime>2010-04-14T15:37:38-08:00</updated_datetime>
    <address>8TH AVE and JUDAH ST</address>
  </request>
  <request>
    <service_request_id>638349</service_request_id>
    <status>open</status>
    <service_name>Graffiti Removal</service_name>
    <agency_responsible>Department of Public Works</agency_responsible>
    <requested_datetime>2010-04-19T06:37:38-08:00</requested_datetime>
    <updated_datetime>2010-04-19T08:37:38-08:00</updated_datetime>
  </request>
</service_requests>
"""


def test_open311_xml_reads_like_the_json(tmp_path):
    from toolkit.io.readers import detect_format

    xml = _write(tmp_path, "requests.xml", OPEN311_XML)
    assert detect_format(xml) == "georeport_xml"
    from_xml = read_events(xml, preset="open311")
    from_json = read_events(_write(tmp_path, "r.json", json.dumps(OPEN311)), preset="open311")
    columns = list(schema.CANONICAL_COLUMNS) + [schema.HOPS_OBSERVED]
    pd.testing.assert_frame_equal(from_xml[columns], from_json[columns])


def test_a_wide_export_loads_only_the_columns_a_preset_reads(tmp_path):
    from toolkit.io.readers import describe_columns

    table = describe_columns(_write(tmp_path, "nyc.csv", NYC_CSV), preset="nyc311")
    not_read = table[table["examples"] == "(not read)"]["column"].tolist()
    assert not_read == ["Descriptor", "Incident Address", "Status"]  # values never shown
    assert (table["read_as"] == "read by the nyc311 preset").sum() == 8
