"""XES: streaming reader (nested attributes, lifecycle, time zones, gzip) and writer round trip."""

from __future__ import annotations

import gzip

import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from toolkit import schema
from toolkit.clean.validation import validate
from toolkit.errors import SekatError
from toolkit.io.readers import detect_format, read_events
from toolkit.io.xes import load_raw, write_xes

LOG = """<?xml version="1.0" encoding="UTF-8" ?>
<log xes.version="1.0" xmlns="http://www.xes-standard.org/">
  <extension name="Concept" prefix="concept" uri="http://www.xes-standard.org/concept.xesext"/>
  <global scope="event"><string key="org:group" value="UNKNOWN"/></global>
  <string key="concept:name" value="the log"/>
  <trace>
    <string key="concept:name" value="R1"/>
    <string key="channel" value="Twitter"/>
    <container key="citizen">
      <string key="ward" value="Menteng"/>
    </container>
    <event>
      <string key="concept:name" value="submitted"/>
      <string key="lifecycle:transition" value="start"/>
      <string key="org:group" value="Kelurahan A"/>
      <date key="time:timestamp" value="2024-01-05T08:00:00.000+07:00"/>
      <float key="cost" value="1.5"><string key="currency" value="IDR"/></float>
    </event>
    <event>
      <string key="concept:name" value="submitted"/>
      <string key="lifecycle:transition" value="complete"/>
      <string key="org:group" value="Kelurahan A"/>
      <date key="time:timestamp" value="2024-01-05T01:30:00Z"/>
    </event>
    <event>
      <string key="concept:name" value="resolved"/>
      <string key="org:group" value="Dinas PU"/>
    </event>
  </trace>
  <trace>
    <event>
      <string key="concept:name" value="Queued"/>
      <string key="org:group" value="Kelurahan B"/>
      <date key="time:timestamp" value="2024-01-06T09:00:00"/>
    </event>
    <string key="concept:name" value="R2"/>
    <string key="channel" value="Loket"/>
  </trace>
  <trace><string key="concept:name" value="R3"/></trace>
</log>
"""


@pytest.fixture
def xes_file(tmp_path):
    path = tmp_path / "log.xes"
    path.write_text(LOG, encoding="utf-8")
    return path


def test_raw_rows_flatten_trace_and_nested_attributes(xes_file):
    raw = load_raw(xes_file)
    assert len(raw) == 4  # the trace without events yields no rows
    first = raw.iloc[0]
    assert first["case:concept:name"] == "R1" and first["case:citizen/ward"] == "Menteng"
    assert first["cost"] == "1.5" and first["cost/currency"] == "IDR"
    # trace attributes written after the events still reach every event of the trace
    assert raw.iloc[3]["case:concept:name"] == "R2" and raw.iloc[3]["case:channel"] == "Loket"
    assert pd.isna(raw.iloc[2]["time:timestamp"])


def test_read_events_on_xes(xes_file):
    assert detect_format(xes_file) == "xes"
    events = read_events(xes_file)
    assert events["case_id"].tolist() == ["R1", "R1", "R1", "R2"]
    assert events["channel"].tolist() == ["twitter"] * 3 + ["walk_in"]
    assert events["agency"].tolist() == ["Kelurahan A", "Kelurahan A", "Dinas PU", "Kelurahan B"]
    stamps = events["timestamp"].tolist()
    assert stamps[0] == pd.Timestamp("2024-01-05 01:00", tz="UTC")  # offset +07:00 honoured
    assert stamps[1] == pd.Timestamp("2024-01-05 01:30", tz="UTC")
    assert stamps[3] == pd.Timestamp("2024-01-06 02:00", tz="UTC")  # naive: Asia/Jakarta
    result = validate(events)
    assert result.quarantine["reason"].tolist() == ["missing_timestamp"]
    assert result.report["unmapped_activities"] == {"Queued": 1}


def test_gzipped_xes_and_flattened_csv_read_the_same(xes_file, tmp_path):
    packed = tmp_path / "log.xes.gz"
    packed.write_bytes(gzip.compress(xes_file.read_bytes()))
    from_xes = read_events(packed)
    flat = tmp_path / "flat.csv"
    load_raw(xes_file).to_csv(flat, index=False)
    from_csv = read_events(flat, preset="xes")
    columns = list(schema.CANONICAL_COLUMNS) + [schema.ACTIVITY_RAW, schema.CHANNEL_RAW]
    pd.testing.assert_frame_equal(from_xes[columns], from_csv[columns])


@pytest.mark.parametrize(
    ("text", "match"),
    [
        ("<log><trace><event></trace></log>", "line 1, column"),
        ('<?xml version="1.0"?><html><body/></html>', "not an XES <log>"),
        ('<?xml version="1.0"?>\n<log>\n<trace>\n', "not well-formed"),
    ],
)
def test_broken_xes_is_a_clear_error(tmp_path, text, match):
    path = tmp_path / "broken.xes"
    path.write_text(text)
    with pytest.raises(SekatError, match=match) as info:
        read_events(path)
    assert "broken.xes" in str(info.value)


def test_external_entities_are_not_resolved(tmp_path):
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP-SECRET")
    path = tmp_path / "xxe.xes"
    path.write_text(
        f'<?xml version="1.0"?><!DOCTYPE log [<!ENTITY x SYSTEM "file://{secret}">]>'
        '<log><trace><string key="concept:name" value="R1"/><event>'
        '<string key="concept:name" value="&x;"/></event></trace></log>'
    )
    try:
        raw = load_raw(path)
    except SekatError:
        return
    assert "TOP-SECRET" not in raw.to_string()


_NAMES = st.text(alphabet="abcXY <>&\"'é/", min_size=1, max_size=6).map(str.strip).filter(bool)


@given(
    cases=st.lists(
        st.tuples(
            _NAMES,
            st.sampled_from(schema.CHANNELS),
            st.lists(
                st.tuples(_NAMES, st.sampled_from(schema.ACTIVITIES), st.integers(0, 10**12)),
                min_size=1,
                max_size=4,
            ),
        ),
        max_size=5,
        unique_by=lambda c: c[0],
    ),
    gz=st.booleans(),
)
def test_write_then_read_round_trips(tmp_path_factory, cases, gz):
    rows = [
        {
            "case_id": case,
            "channel": channel,
            "agency": agency,
            "activity": activity,
            "timestamp": pd.Timestamp("2020-01-01", tz="UTC") + pd.Timedelta(microseconds=us),
        }
        for case, channel, events in cases
        for agency, activity, us in events
    ]
    frame = pd.DataFrame(rows, columns=["case_id", "timestamp", "agency", "activity", "channel"])
    frame["timestamp"] = pd.to_datetime(frame["timestamp"], utc=True).astype(schema.TIMESTAMP_DTYPE)
    path = tmp_path_factory.mktemp("xes") / ("out.xes.gz" if gz else "out.xes")
    write_xes(frame, path)
    if not rows:
        assert load_raw(path).empty
        return
    events = read_events(path)
    assert events["case_id"].tolist() == frame["case_id"].tolist()
    assert events["agency"].tolist() == frame["agency"].tolist()
    assert events["timestamp"].tolist() == frame["timestamp"].tolist()
    assert events["activity"].astype(str).tolist() == frame["activity"].tolist()
    assert events["channel"].astype(str).tolist() == frame["channel"].tolist()


def test_writer_is_deterministic(tmp_path):
    frame = pd.DataFrame(
        {
            "case_id": ["b", "a", "b"],
            "timestamp": pd.to_datetime(["2024-01-01", "2024-01-02", "2024-01-03"], utc=True),
            "agency": ["A", "B", "C"],
            "activity": ["submitted", "submitted", "resolved"],
            "channel": ["web", "sms", "web"],
        }
    )
    write_xes(frame, tmp_path / "one.xes.gz")
    write_xes(frame, tmp_path / "two.xes.gz")
    assert (tmp_path / "one.xes.gz").read_bytes() == (tmp_path / "two.xes.gz").read_bytes()
    assert load_raw(tmp_path / "one.xes.gz")["case:concept:name"].tolist() == ["b", "b", "a"]


def _one_trace(events_xml: str) -> str:
    return (
        '<?xml version="1.0"?><log xmlns="http://www.xes-standard.org/"><trace>'
        '<string key="concept:name" value="R1"/><string key="channel" value="web"/>'
        f"{events_xml}</trace></log>"
    )


def _event(activity: str, stamp: str, transition: str | None = None, group: str = "A") -> str:
    life = f'<string key="lifecycle:transition" value="{transition}"/>' if transition else ""
    return (
        f'<event><string key="concept:name" value="{activity}"/>{life}'
        f'<string key="org:group" value="{group}"/>'
        f'<date key="time:timestamp" value="{stamp}"/></event>'
    )


def test_lifecycle_transitions_at_one_instant_are_kept_apart_only_when_asked(tmp_path):
    path = tmp_path / "life.xes"
    path.write_text(
        _one_trace(
            _event("submitted", "2024-01-05T08:00:00+07:00", "start")
            + _event("submitted", "2024-01-05T08:00:00+07:00", "complete")
        )
    )
    # Without the transition the two rows say the same thing: the second is a duplicate.
    plain = validate(read_events(path))
    assert plain.quarantine["reason"].tolist() == ["duplicate_event"]
    # Kept as a column, the transition tells them apart.
    kept = validate(read_events(path, mapping={"keep": ["lifecycle:transition"]}))
    assert kept.clean["lifecycle:transition"].tolist() == ["start", "complete"]
    assert kept.report["rows_quarantined"] == 0


def test_xes_time_zones_offsets_and_daylight_saving(tmp_path):
    path = tmp_path / "tz.xes"
    path.write_text(
        _one_trace(
            _event("submitted", "2024-03-09T23:00:00-05:00")  # offset honoured
            + _event("forwarded", "2024-03-10T02:30:00", group="B")  # naive, skipped in NY
            + _event("resolved", "2024-03-10T12:00:00.250", group="B")  # naive, EDT
        )
    )
    events = read_events(path, source_tz="America/New_York")
    assert events["timestamp"].iloc[0] == pd.Timestamp("2024-03-10 04:00", tz="UTC")
    assert events["timestamp"].iloc[2] == pd.Timestamp("2024-03-10 16:00:00.250", tz="UTC")
    result = validate(events)
    assert result.quarantine["reason"].tolist() == ["nonexistent_local_time"]
    assert result.report["timestamp_formats"] == {"ISO 8601": 3}
