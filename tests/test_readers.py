"""read_events: formats, mappings, vocabularies, time zones, and bad input that must fail clearly."""

from __future__ import annotations

import gzip
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from toolkit import schema
from toolkit.errors import MissingColumnError, SekatError
from toolkit.io.mapping import Mapping, load_mapping
from toolkit.io.presets import PRESETS, resolve_mapping
from toolkit.io.readers import (
    ACTIVITY_UNMAPPED,
    CHANNEL_UNMAPPED,
    TIMESTAMP_ISSUE,
    TIMESTAMP_RAW,
    detect_format,
    read_events,
)
from toolkit.io.timestamps import parse_timestamps

# --- columns and dtypes -----------------------------------------------------------------------


def test_column_mapping_and_dtypes(write_log):
    path = write_log(
        ["T1,2024-01-05 09:00,Kelurahan A,submitted,twitter,Menteng,x"],
        header="ticket,created,agency,activity,channel,Ward,secret",
    )
    events = read_events(
        path, mapping={"columns": {"ticket": "case_id", "created": "timestamp"}, "keep": ["Ward"]}
    )
    for column, dtype in schema.DTYPES.items():
        assert str(events[column].dtype) == str(dtype), column
    assert events.loc[0, "case_id"] == "T1"
    assert events.loc[0, "Ward"] == "Menteng"
    assert "secret" not in events.columns  # columns not kept are dropped on reading
    assert events.loc[0, "source_file"] == "log.csv"
    assert events.loc[0, "source_row"] == 0


def test_header_names_match_ignoring_case(write_log):
    path = write_log(
        ["r1,2024-01-05 09:00,A,submitted,web"], header="Case_ID,TIMESTAMP,Agency,Activity,Channel"
    )
    assert read_events(path).loc[0, "case_id"] == "r1"


def test_missing_column_names_file_column_and_found_columns(write_log):
    path = write_log(["r1,2024-01-05,A,submitted"], header="case_id,timestamp,agency,activity")
    with pytest.raises(MissingColumnError) as info:
        read_events(path)
    message = str(info.value)
    assert "log.csv" in message and "'channel'" in message
    assert "'case_id', 'timestamp', 'agency', 'activity'" in message
    assert info.value.column == "channel"


def test_missing_kept_column_is_an_error(write_log):
    path = write_log(["r1,2024-01-05,A,submitted,web"])
    with pytest.raises(MissingColumnError, match="'ward'"):
        read_events(path, mapping={"keep": ["ward"]})


def test_header_only_file_reads_zero_rows(write_log):
    events = read_events(write_log([]))
    assert len(events) == 0
    assert str(events["timestamp"].dtype) == "datetime64[ns, UTC]"


# --- vocabularies -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "channel"),
    [
        ("Twitter", "twitter"),
        (" WA ", "whatsapp"),
        ("walk-in", "walk_in"),
        ("Walk In", "walk_in"),
        ("Loket", "walk_in"),
        ("Surat", "letter"),
        ("SMS", "sms"),
        ("fb", "facebook"),
    ],
)
def test_common_channel_spellings(write_log, raw, channel):
    events = read_events(write_log([f"r1,2024-01-05,A,submitted,{raw}"]))
    assert events.loc[0, "channel"] == channel
    assert not events.loc[0, CHANNEL_UNMAPPED]
    assert events.loc[0, "channel_raw"] == raw.strip()


def test_channel_mapping_unknown_and_strict(write_log):
    path = write_log(
        ["r1,2024-01-05,A,submitted,Twitter @lapor1708", "r2,2024-01-05,A,submitted,pigeon"]
    )
    mapping = {"channels": {"twitter @LAPOR1708": "twitter"}}
    events = read_events(path, mapping=mapping)
    assert events["channel"].tolist() == ["twitter", "other"]
    assert events[CHANNEL_UNMAPPED].tolist() == [False, True]
    strict = read_events(path, mapping=mapping, strict_channels=True)
    assert strict["channel"].isna().tolist() == [False, True]


def test_activity_mapping_and_unmapped(write_log):
    path = write_log(
        [
            "r1,2024-01-05 08:00,A,T02 Check confirmation of receipt,web",
            "r1,2024-01-05 09:00,A,Queued,web",
            "r1,2024-01-05 10:00,A,RESOLVED,web",
        ]
    )
    events = read_events(
        path, mapping={"activities": {"T02 Check confirmation of receipt": "acknowledged"}}
    )
    assert events["activity"].tolist() == ["acknowledged", "in_progress", "resolved"]
    assert events[ACTIVITY_UNMAPPED].tolist() == [False, True, False]
    assert events["activity_raw"].tolist()[1] == "Queued"


def test_agency_aliases(write_log):
    path = write_log(["r1,2024-01-05,dinas  pu,submitted,web", "r1,2024-01-06,Dinas PUPR,x,web"])
    events = read_events(
        path,
        mapping={
            "agencies": {"Dinas PU": "Dinas Pekerjaan Umum", "Dinas PUPR": "Dinas Pekerjaan Umum"}
        },
    )
    assert events["agency"].tolist() == ["Dinas Pekerjaan Umum"] * 2


# --- timestamps -----------------------------------------------------------------------------------


def test_timestamps_to_utc(write_log):
    path = write_log(
        [
            "a,2024-01-05 07:00:00,A,submitted,web",  # naive: Jakarta, UTC+7
            "b,2024-01-05T07:00:00+07:00,A,submitted,web",
            "c,2024-01-05T00:00:00Z,A,submitted,web",
            "d,2024-01-05 09:00:00+0900,A,submitted,web",
        ]
    )
    events = read_events(path)
    assert (events["timestamp"] == pd.Timestamp("2024-01-05 00:00", tz="UTC")).all()
    assert events[TIMESTAMP_ISSUE].isna().all()


def test_row_faults_are_marked_not_dropped(write_log):
    path = write_log(
        [
            "a,not a date,A,submitted,web",
            "b,0001-01-01 00:00:00,A,submitted,web",
            "c,9999-12-31 23:59:59,A,submitted,web",
            "d,,A,submitted,web",
            "e,2024-01-05 07:00,A,submitted,web",
        ]
    )
    events = read_events(path)
    assert len(events) == 5
    assert events[TIMESTAMP_ISSUE].tolist()[:4] == [
        "unparseable_timestamp",
        "timestamp_out_of_range",
        "timestamp_out_of_range",
        "missing_timestamp",
    ]
    assert events[TIMESTAMP_RAW].tolist()[:3] == [
        "not a date",
        "0001-01-01 00:00:00",
        "9999-12-31 23:59:59",
    ]
    assert events["timestamp"].isna().tolist() == [True, True, True, True, False]


def test_daylight_saving_gap_and_overlap():
    raw = pd.Series(["2024-03-10 02:30:00", "2024-11-03 01:30:00", "2024-07-01 12:00:00"])
    ts, issues = parse_timestamps(raw, "America/New_York")
    assert pd.isna(ts[0]) and issues[0] == "nonexistent_local_time"
    # 01:30 happens twice on 3 Nov; the earlier instant is 01:30 EDT = 05:30 UTC.
    assert ts[1] == pd.Timestamp("2024-11-03 05:30", tz="UTC")
    assert issues[1] == "ambiguous_local_time"
    assert ts[2] == pd.Timestamp("2024-07-01 16:00", tz="UTC") and pd.isna(issues[2])


def test_non_iso_dates_use_dayfirst(write_log):
    path = write_log(["a,05/01/2024 07:00,A,submitted,web", "b,2024-01-05 07:00,A,submitted,web"])
    events = read_events(path, mapping={"dayfirst": True})
    assert events["timestamp"].tolist() == [pd.Timestamp("2024-01-05 00:00", tz="UTC")] * 2


def test_unknown_time_zone_is_a_clear_error(write_log):
    with pytest.raises(SekatError, match="unknown time zone"):
        read_events(write_log(["a,2024-01-05,A,submitted,web"]), source_tz="Mars/Olympus")


# --- formats ------------------------------------------------------------------------------------


def test_gzip_detected_by_content_not_suffix(tmp_path):
    text = "case_id,timestamp,agency,activity,channel\nr1,2024-01-05,A,submitted,web\n"
    path = tmp_path / "log.csv"  # gzip-compressed despite the name
    path.write_bytes(gzip.compress(text.encode()))
    assert detect_format(path) == "csv"
    assert read_events(path).loc[0, "case_id"] == "r1"


def test_parquet_detected_by_content(tmp_path):
    frame = pd.DataFrame(
        {
            "case_id": [1, 2],
            "timestamp": pd.to_datetime(["2024-01-05 07:00", "2024-01-06 07:00"]),
            "agency": ["A", "B"],
            "activity": ["submitted", "resolved"],
            "channel": ["web", "WA"],
        }
    )
    path = tmp_path / "events.data"
    frame.to_parquet(path)
    assert detect_format(path) == "parquet"
    events = read_events(path)
    assert events["case_id"].tolist() == ["1", "2"]
    assert events["timestamp"][0] == pd.Timestamp("2024-01-05 00:00", tz="UTC")
    assert events["channel"].tolist() == ["web", "whatsapp"]


# --- bad input ---------------------------------------------------------------------------------


def test_missing_path(tmp_path):
    with pytest.raises(SekatError, match="nope.csv: file does not exist"):
        read_events(tmp_path / "nope.csv")


def test_empty_file(tmp_path):
    path = tmp_path / "empty.csv"
    path.write_bytes(b"")
    with pytest.raises(SekatError, match="empty.csv: file is empty"):
        read_events(path)


def test_non_utf8_fails_with_line_and_reads_with_named_encoding(tmp_path):
    path = tmp_path / "latin.csv"
    path.write_bytes(
        b"case_id,timestamp,agency,activity,channel\n"
        b"r1,2024-01-05,A,submitted,web\n"
        b"r2,2024-01-05,Dinas Kebersihan \xe9,submitted,web\n"
    )
    with pytest.raises(SekatError, match=r"latin.csv: not valid utf-8 text at line 3"):
        read_events(path)
    events = read_events(path, mapping={"encoding": "cp1252"})
    assert events.loc[1, "agency"] == "Dinas Kebersihan \u00e9"


def test_binary_garbage(tmp_path):
    path = tmp_path / "garbage.csv"
    path.write_bytes(bytes(np.random.default_rng(0).integers(0, 256, 4096, dtype=np.uint8)))
    with pytest.raises(SekatError, match="garbage.csv"):
        read_events(path)


def test_truncated_gzip(tmp_path):
    rows = "".join(f"r{i},2024-01-05,A{i * 7919 % 1000},submitted,web\n" for i in range(2000))
    packed = gzip.compress(("case_id,timestamp,agency,activity,channel\n" + rows).encode())
    path = tmp_path / "cut.csv.gz"
    path.write_bytes(packed[: len(packed) // 2])
    with pytest.raises(SekatError, match="cut.csv.gz"):
        read_events(path)


def test_ragged_csv(write_log):
    path = write_log(["r1,2024-01-05,A,submitted,web", "r2,2024-01-05,A,submitted,web,extra,x"])
    with pytest.raises(SekatError, match="log.csv: not a well-formed CSV"):
        read_events(path)


# --- mappings and presets -------------------------------------------------------------------------


def test_load_mapping_from_toml(tmp_path, write_log):
    toml = tmp_path / "mapping.toml"
    toml.write_text(
        'source_tz = "UTC"\nkeep = ["ward"]\n'
        '[columns]\nticket = "case_id"\n'
        '[channels]\n"Twitter @lapor1708" = "twitter"\n'
    )
    mapping = load_mapping(toml)
    assert mapping.source_tz == "UTC" and mapping.keep == ("ward",)
    path = write_log(
        ["T9,2024-01-05 07:00,A,submitted,Twitter @lapor1708,W1"],
        header="ticket,timestamp,agency,activity,channel,ward",
    )
    events = read_events(path, mapping=toml)
    assert events.loc[0, "timestamp"] == pd.Timestamp("2024-01-05 07:00", tz="UTC")
    assert events.loc[0, "channel"] == "twitter"


@pytest.mark.parametrize(
    ("text", "match"),
    [
        ("[columns\n", "not a valid TOML"),
        ("[colums]\nx = 'case_id'\n", "unknown mapping key"),
        ("[columns]\nx = 'caseid'\n", "not a canonical column"),
        ("[channels]\nx = 'telegram'\n", "not a channel"),
        ("[activities]\nx = 'done'\n", "not a lifecycle activity"),
    ],
)
def test_bad_mapping_files(tmp_path, text, match):
    toml = tmp_path / "bad.toml"
    toml.write_text(text)
    with pytest.raises(SekatError, match=match) as info:
        load_mapping(toml)
    assert "bad.toml" in str(info.value)


def test_presets():
    assert "sekat" in PRESETS
    merged = resolve_mapping({"channels": {"Loket": "walk_in"}}, preset="sekat")
    assert merged.name == "sekat" and merged.channels == {"Loket": "walk_in"}
    with pytest.raises(SekatError, match="unknown preset 'nope'"):
        resolve_mapping(None, preset="nope")


def test_preset_transform_hook_reshapes_rows(write_log, monkeypatch):
    # A one-row-per-request export becomes two events per request through a preset's transform.
    def requests_to_events(raw: pd.DataFrame) -> pd.DataFrame:
        opened = raw.assign(timestamp=raw["opened"], activity="submitted")
        closed = raw.assign(timestamp=raw["closed"], activity="closed")
        both = pd.concat([opened, closed]).sort_values("source_row", kind="stable")
        return both.drop(columns=["opened", "closed"])

    monkeypatch.setitem(PRESETS, "requests", Mapping(name="requests", transform=requests_to_events))
    path = write_log(
        ["r1,2024-01-05,2024-01-07,A,web"], header="case_id,opened,closed,agency,channel"
    )
    events = read_events(path, preset="requests")
    assert events["activity"].tolist() == ["submitted", "closed"]
    assert events["source_row"].tolist() == [0, 0]


# --- round trip -----------------------------------------------------------------------------------

_TEXT = st.text(alphabet="abcXYZ019 _-/.", min_size=1, max_size=8).map(str.strip).filter(bool)


@st.composite
def canonical_frames(draw):
    n = draw(st.integers(0, 12))
    seconds = draw(st.lists(st.integers(0, 10**9), min_size=n, max_size=n))
    return pd.DataFrame(
        {
            "case_id": draw(st.lists(_TEXT, min_size=n, max_size=n)),
            "timestamp": pd.to_datetime(
                np.array(seconds, dtype="int64") * 10**9 + 10**18, utc=True
            ).astype(schema.TIMESTAMP_DTYPE),
            "agency": draw(st.lists(_TEXT, min_size=n, max_size=n)),
            "activity": draw(st.lists(st.sampled_from(schema.ACTIVITIES), min_size=n, max_size=n)),
            "channel": draw(st.lists(st.sampled_from(schema.CHANNELS), min_size=n, max_size=n)),
        }
    )


@given(frame=canonical_frames(), fmt=st.sampled_from(["csv", "csv.gz", "parquet"]))
def test_round_trip_of_a_canonical_frame(tmp_path_factory, frame, fmt):
    path = tmp_path_factory.mktemp("rt") / f"events.{fmt}"
    if fmt == "parquet":
        frame.to_parquet(path, index=False)
    else:
        frame.to_csv(path, index=False)
    events = read_events(path)
    assert len(events) == len(frame)
    for column in ("case_id", "agency"):
        assert events[column].tolist() == frame[column].tolist()
    assert events["timestamp"].tolist() == frame["timestamp"].tolist()
    assert events["activity"].astype(str).tolist() == frame["activity"].tolist()
    assert events["channel"].astype(str).tolist() == frame["channel"].tolist()
    assert events["source_row"].tolist() == list(range(len(frame)))
    assert not events[CHANNEL_UNMAPPED].any() and not events[ACTIVITY_UNMAPPED].any()


# --- hostile input: a clear error or a frame, never a crash ----------------------------------------

_HEADER = b"case_id,timestamp,agency,activity,channel\n"
_CELL = st.sampled_from(
    [
        b"",
        b"r1",
        b"2024-01-05",
        b"0001-01-01",
        b"\xff\xfe",
        b'"a,b"',
        b'"',
        b"=cmd|' /C calc'!A0",
        b"NaN",
        b"x" * 300,
        b"\x00",
        b"2024-13-45T99:00+07:00",
        b"twitter",
        b"\xe9",
    ]
)


@given(
    body=st.one_of(
        st.binary(max_size=300),
        st.lists(st.lists(_CELL, min_size=1, max_size=7).map(b",".join), max_size=8).map(
            lambda lines: _HEADER + b"\n".join(lines)
        ),
    )
)
def test_hostile_bytes_end_in_a_sekat_error_or_events(tmp_path_factory, body):
    path = tmp_path_factory.mktemp("fuzz") / "hostile.csv"
    path.write_bytes(body)
    try:
        events = read_events(path)
    except SekatError as err:
        assert "hostile.csv" in str(err)
        return
    assert str(events["timestamp"].dtype) == "datetime64[ns, UTC]"
    assert events["source_row"].tolist() == list(range(len(events)))


# --- the shipped messy example ------------------------------------------------------------------

EXAMPLES = Path(__file__).resolve().parents[1] / "data" / "raw" / "examples"


def test_shipped_example_reads_with_expected_counts():
    # Faults planted in data/raw/examples/pengaduan_contoh.csv (see its mapping file).
    from toolkit.clean.validation import validate

    events = read_events(
        EXAMPLES / "pengaduan_contoh.csv", mapping=EXAMPLES / "pengaduan_contoh.toml"
    )
    report = validate(events).report
    assert (report["rows_in"], report["rows_kept"], report["rows_quarantined"]) == (455, 441, 14)
    assert {k: v for k, v in report["reasons"].items() if v} == {
        "missing_timestamp": 1,  # an empty time
        "unparseable_timestamp": 1,  # "kemarin sore"
        "duplicate_event": 3,  # three rows exported twice
        "closed_before_opened": 9,  # TK-2024-0050, all nine events
    }
    # counted in requests (one request came in by radio, in 5 events; one by TikTok, in 7)
    assert report["channels_mapped_to_other"] == {"Radio": 1, "TikTok": 1}
    assert report["unmapped_activities"] == {"Menunggu Tanggapan": 16}
    assert report["timestamp_formats"] == {"%d/%m/%Y %H:%M": 51, "Aaa Aaa": 1, "ISO 8601": 402}
    assert [(d["agency"], d["similar_agency"]) for d in report["agency_near_duplicates"]] == [
        ("Dinas Lingkungan Hidup", "Dinas Lingkungan Hidop")
    ]
    # aliases merged: no "Dinas PU" or "DISHUB" left
    assert not events["agency"].isin(["Dinas PU", "DISHUB"]).any()
    assert (report["cases_in"], report["cases_kept"]) == (80, 79)


def test_describe_columns_of_the_shipped_example():
    from toolkit.io.readers import describe_columns

    table = describe_columns(
        EXAMPLES / "pengaduan_contoh.csv", EXAMPLES / "pengaduan_contoh.toml"
    ).set_index("column")
    assert table.loc["no_tiket", "read_as"] == "case_id"
    assert table.loc["unit_kerja", "read_as"] == "agency"
    assert table.loc["waktu", "filled"] == 454  # one empty time
    assert table.loc["no_tiket", "examples"] == "TK-2024-0001, TK-2024-0002, TK-2024-0003"


def test_describe_columns_kept_dropped_and_preset(write_log, tmp_path):
    from toolkit.io.readers import describe_columns

    header = "case_id,timestamp,agency,activity,channel,ward,note"
    path = write_log(["a,2024-01-05,A,submitted,web,Menteng,x"], header=header)
    roles = describe_columns(path, {"keep": ["ward"]}).set_index("column")["read_as"]
    assert roles["ward"] == "kept" and roles["note"] == "dropped"
    nyc = tmp_path / "nyc.csv"
    nyc.write_text("Unique Key,Created Date,Agency\n1,01/05/2024 08:00:00 AM,NYPD\n")
    roles = describe_columns(nyc, preset="nyc311")["read_as"].unique().tolist()
    assert roles == ["read by the nyc311 preset"]


def test_columns_not_read_are_listed_in_attrs(write_log):
    from toolkit.io.readers import IGNORED_COLUMNS

    header = "ticket,timestamp,agency,activity,channel,nama_pelapor,ward"
    path = write_log(["a,2024-01-05,A,submitted,web,Siti,3"], header=header)
    events = read_events(path, mapping={"columns": {"ticket": "case_id"}, "keep": ["ward"]})
    assert events.attrs[IGNORED_COLUMNS] == ["nama_pelapor"]
    assert "nama_pelapor" not in events
