"""Each preset on a file in the layout of a real export (tests/data), through read and prepare.

The counts are those of the files themselves, counted again here with plain pandas (rows,
closed rows, sources), so a reader that drops, doubles or misreads a row cannot pass.
"""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pandas as pd
import pytest

from toolkit import schema
from toolkit.clean.validation import validate
from toolkit.cli import main
from toolkit.io.describe import describe
from toolkit.io.readers import read_events
from toolkit.paths import case_table
from toolkit.pipeline import prepare

DATA = Path(__file__).parent / "data"
BOSTON = sorted((DATA / "boston311").glob("*.csv.gz"))
LA = DATA / "la311" / "MyLA311_synthetic_2017.csv.gz"
XES = DATA / "xes" / "receipt_layout.xes.gz"
XES_NO_CHANNEL = DATA / "xes" / "receipt_layout_no_channel.xes"


def _raw(path: Path) -> pd.DataFrame:
    return pd.read_csv(path, dtype=str, keep_default_na=False)


def test_the_suite_ships_its_own_files():
    assert len(BOSTON) == 2 and LA.is_file() and XES.is_file() and XES_NO_CHANNEL.is_file()
    for path in [*BOSTON, LA, XES, XES_NO_CHANNEL]:
        assert path.stat().st_size < 200_000


def test_boston_files_combine_into_one_log(tmp_path):
    raw = pd.concat([_raw(p) for p in BOSTON], ignore_index=True)
    closed = int((raw["CLOSED_DT"] != "").sum())
    twitter = int((raw["Source"] == "Twitter").sum())
    result = prepare(BOSTON, tmp_path / "out", preset="boston311", demo=True)
    report = result.report
    assert report["rows_in"] == len(raw) == 300
    assert report["cases_in"] == raw["CASE_ENQUIRY_ID"].nunique() == 300
    assert report["events_in"] == len(raw) + closed
    assert report["inputs"] == {p.name: int(len(_raw(p)) + (_raw(p)["CLOSED_DT"] != "").sum())
                                for p in BOSTON}  # fmt: skip
    assert report["hops_observed"] is False and report["target_observed"] is True
    assert report["channels_mapped_to_other"] == {}  # every Boston source is known
    cases = pd.read_parquet(tmp_path / "out" / "cases.parquet")
    assert int((cases["channel"] == "twitter").sum()) == twitter == 10
    assert cases["hops"].isna().all()
    assert int((~cases["censored"]).sum()) == closed


def test_boston_times_are_eastern_and_the_target_is_read():
    path = BOSTON[0]
    raw = _raw(path)
    events = read_events(path, preset="boston311")
    first = events[events["activity"] == "submitted"].iloc[0]
    opened = pd.Timestamp(pd.to_datetime(raw["OPEN_DT"].iloc[0], format="%m/%d/%Y %I:%M:%S %p"))
    assert first["timestamp"] == opened.tz_localize("America/New_York").tz_convert("UTC")
    has_target = raw["TARGET_DT"] != ""
    submitted = events[events["activity"] == "submitted"]
    assert int(submitted[schema.TARGET_AT].notna().sum()) == int(has_target.sum())


def test_la311_synthetic_export_through_the_command_line(tmp_path):
    raw = _raw(LA)
    out = tmp_path / "out"
    assert main(["prepare", str(LA), "--preset", "la311", "--out", str(out), "--demo-key"]) == 0
    report = json.loads((out / "report.json").read_text())
    assert report["rows_in"] == len(raw) == 200
    assert report["reasons"]["closed_before_opened"] == 1  # the row closed before it opened
    assert report["rows_kept"] == 199 and report["channels_mapped_to_other"] == {}
    events = read_events(LA, preset="la311")
    # a blank Owner falls back to AssignTo
    blank = raw.index[raw["Owner"] == ""]
    by_row = events.drop_duplicates("source_row").set_index("source_row")["agency"]
    assert (by_row.loc[blank] == raw.loc[blank, "AssignTo"]).all()
    sources = events.drop_duplicates("source_row")["channel"].astype(str).value_counts().to_dict()
    expected = {"Call": "phone", "Mobile App": "app", "Driver Self Report": "other",
                "Self Service": "web", "Email": "email", "Walk-in": "walk_in"}  # fmt: skip
    counted = raw["RequestSource"].map(expected).value_counts().to_dict()
    assert sources == counted


def test_xes_with_a_channel_and_placeholder_groups():
    events = read_events(XES, preset="xes")
    with gzip.open(XES, "rt", encoding="utf-8") as handle:
        text = handle.read()
    assert len(events) == text.count("<event>")
    assert events["channel"].astype(str).isin(["web", "walk_in", "letter", "email"]).all()
    assert not events["agency"].isin(["EMPTY"]).any()  # a placeholder is never a unit
    assert events["agency_carried"].sum() == text.count('value="EMPTY"') - 1  # one stays alone


def test_xes_without_a_channel_reads_as_other_and_org_resource_can_be_the_unit(tmp_path):
    events = read_events(
        XES_NO_CHANNEL, preset="xes", mapping={"columns": {"org:resource": "agency"}}
    )
    assert events["channel"].astype(str).eq("other").all()
    assert events["agency"].str.startswith("Resource").all()
    mapping = {
        "columns": {"org:resource": "agency"},
        "activities": {
            "Confirmation of receipt": "submitted",
            "T10 Determine necessity to stop indication": "resolved",
        },
    }
    result = prepare([XES_NO_CHANNEL], tmp_path / "out", preset="xes", mapping=mapping, demo=True)
    report = result.report
    assert report["channel_observed"] is False and report["hops_observed"] is True
    codes = [w["code"] for w in report["warnings"]]
    assert "channel_not_observed" in codes and "no_resolutions" not in codes
    cases = case_table(validate(read_events(XES_NO_CHANNEL, preset="xes", mapping=mapping)).clean)
    # resolved: the requests that reached T10 (each trace holds it at most once)
    text = XES_NO_CHANNEL.read_text(encoding="utf-8")
    reached = text.count('value="T10 Determine necessity to stop indication"')
    assert (cases["hops"] >= 0).all() and int(cases["resolved"].sum()) == reached > 0
    assert len(cases) == text.count("<trace>")


@pytest.mark.parametrize(
    ("path", "preset"),
    [(BOSTON[0], "boston311"), (LA, "la311"), (XES, "xes"), (XES_NO_CHANNEL, None)],
)
def test_describe_reads_every_shipped_layout(path, preset):
    found = describe(path, preset=preset)
    assert found.rows > 0 and not found.columns.empty and found.template.startswith("# Mapping")
