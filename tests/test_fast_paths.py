"""The fast paths give exactly what the reference paths give.

Each fast path (Arrow's CSV reader, Arrow's ISO 8601 parser, the Arrow CSV encoder, the walk of
a log already in order, the remembered walk) has a slower reference beside it; these tests
force the reference and compare, on hand-made and generated inputs.
"""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import toolkit
from toolkit.cli import main
from toolkit.io import readers, timestamps
from toolkit.io.writers import csv_bytes, csv_text
from toolkit.paths import case_table, handovers
from toolkit.paths.walk import event_order

HEADER = "case_id,timestamp,agency,activity,channel,category"

# Field texts that exercise quoting, blanks, missing-value tokens and non-ASCII letters.
_TEXT = st.one_of(
    st.sampled_from(["", " ", "NA", "null", "None", "n/a", "Dinas PU", "Kel. A, B", "x"]),
    st.text(alphabet=st.sampled_from(list('ab ,"\n\té€1-=')), max_size=8),
)
_STAMP = st.sampled_from(
    [
        "2024-01-05 08:00:00",
        "2024-01-05T08:00:00+07:00",
        "2024-01-05",
        "05/01/2024 08:00",
        "soon",
        "",
        "2024-03-10 02:30:00",
    ]
)


def _quote(text: str) -> str:
    if any(ch in text for ch in ',"\n\r') or text != text.strip():
        return '"' + text.replace('"', '""') + '"'
    return text


def _read(path, monkeypatch, *, arrow: bool) -> pd.DataFrame:
    if not arrow:
        monkeypatch.setattr(readers, "_arrow_csv", lambda *args: None)
    try:
        return readers.read_events(path)
    finally:
        monkeypatch.undo()


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    rows=st.lists(st.tuples(_TEXT, _STAMP, _TEXT, _TEXT, _TEXT, _TEXT), min_size=1, max_size=12),
    gzipped=st.booleans(),
)
def test_arrow_csv_reads_what_pandas_reads(tmp_path_factory, monkeypatch, rows, gzipped):
    lines = [HEADER] + [",".join(_quote(v) for v in row) for row in rows]
    data = ("\n".join(lines) + "\n").encode()
    path = tmp_path_factory.mktemp("csv") / ("log.csv.gz" if gzipped else "log.csv")
    if gzipped:
        import gzip

        data = gzip.compress(data, mtime=0)
    path.write_bytes(data)
    fast = _read(path, monkeypatch, arrow=True)
    reference = _read(path, monkeypatch, arrow=False)
    pd.testing.assert_frame_equal(fast, reference)
    assert fast.attrs == reference.attrs


def test_arrow_serves_a_well_formed_log_and_declines_a_ragged_one(write_log):
    good = write_log(["r1,2024-01-05 08:00,A,submitted,web"])
    assert readers._arrow_csv(good, False, None, readers.Mapping()) is not None
    ragged = good.with_name("ragged.csv")
    ragged.write_text(good.read_text() + "r2,2024-01-05\n")
    assert readers._arrow_csv(ragged, False, None, readers.Mapping()) is None
    events = readers.read_events(ragged)  # pandas reads it: the short row is padded
    assert events["case_id"].tolist() == ["r1", "r2"]


def test_native_timestamps_are_never_formatted(monkeypatch):
    stamps = pd.Series(pd.to_datetime(["2024-01-05 08:00", None], utc=True))
    frame = pd.DataFrame(
        {
            "case_id": ["a", "b"],
            "timestamp": stamps,
            "agency": ["A", "A"],
            "activity": ["submitted"] * 2,
            "channel": ["web"] * 2,
        }
    )

    def refuse(*args, **kwargs):
        raise AssertionError("a native timestamp column was formatted as text")

    monkeypatch.setattr(pd.arrays.DatetimeArray, "_format_native_types", refuse)
    events = readers.canonicalise(frame)
    assert events["timestamp_issue"].tolist()[1] == "missing_timestamp"
    assert events["timestamp_raw"].isna().all()


_ISO = st.builds(
    lambda y, mo, d, h, mi, s, zone: f"{y:04d}-{mo:02d}-{d:02d} {h:02d}:{mi:02d}:{s:02d}{zone}",
    st.integers(1600, 2300),
    st.integers(1, 12),
    st.integers(1, 31),
    st.integers(0, 23),
    st.integers(0, 59),
    st.integers(0, 59),
    st.sampled_from(["", "Z", "+07:00", "-03:30", "+0530"]),
)


@settings(max_examples=80, deadline=None)
@given(
    values=st.lists(_ISO, min_size=1, max_size=10),
    tz=st.sampled_from(["Asia/Jakarta", "America/New_York", "UTC"]),
)
def test_arrow_iso_reading_equals_the_format_by_format_path(values, tz):
    column = pd.Series(values, dtype="str")
    fast = timestamps.parse_timestamps_with_shapes(column, tz, dayfirst=False)
    original = timestamps._read_iso_by_arrow
    timestamps._read_iso_by_arrow = lambda present: None
    try:
        reference = timestamps.parse_timestamps_with_shapes(column, tz, dayfirst=False)
    finally:
        timestamps._read_iso_by_arrow = original
    for got, want in zip(fast, reference, strict=True):
        pd.testing.assert_series_equal(got, want)


def test_a_mixed_column_still_reads_every_format():
    values = pd.Series(["2024-01-05 08:00:00+00:00", "2024-01-05 08:00"], dtype="str")
    stamps, issues = timestamps.parse_timestamps(values, "UTC")
    assert stamps.dt.strftime("%H:%M").tolist() == ["08:00", "08:00"] and issues.isna().all()


_CELLS = st.text(alphabet=st.sampled_from(list('ab ,"\n\r\t=+-@1é')), max_size=6)


@settings(max_examples=60, deadline=None)
@given(
    text=st.lists(st.one_of(st.none(), _CELLS), min_size=1, max_size=8),
    seconds=st.lists(
        st.one_of(st.none(), st.integers(-5_000_000_000, 5_000_000_000)), min_size=8, max_size=8
    ),
)
def test_arrow_csv_encoding_equals_pandas_writer(text, seconds):
    n = len(text)
    stamps = pd.Series(
        [pd.NaT if s is None else pd.Timestamp(s, unit="s", tz="UTC") for s in seconds[:n]],
        dtype="datetime64[ns, UTC]",
    )
    table = pd.DataFrame(
        {
            "text": pd.Series(text, dtype="str"),
            "=label": pd.Series(text, dtype="str").astype("category"),
            "when": stamps,
            "n": np.arange(n, dtype=np.int64) - 3,
            "flag": np.arange(n) % 2 == 0,
        }
    )
    assert bytes(csv_bytes(table)) == csv_text(table).encode()


@pytest.fixture(scope="module")
def log():
    sim = toolkit.simulate(n_cases=400, seed=7)
    events = sim.events.sample(frac=1.0, random_state=3).reset_index(drop=True)
    events["source_file"] = "log.csv"
    events["source_row"] = np.arange(len(events), dtype=np.int64)
    return events


def test_a_log_already_in_order_gives_the_same_tables(log):
    ordered = log.take(event_order(log)).reset_index(drop=True)
    assert not log.equals(ordered)
    pd.testing.assert_frame_equal(case_table(ordered), case_table(log))
    pd.testing.assert_frame_equal(handovers(ordered), handovers(log))
    assert (event_order(ordered) == np.arange(len(ordered))).all()


def test_the_order_from_the_pseudonyms_sorted_once_is_the_order_of_the_pseudonymised_log(log):
    """sekat prepare orders the pseudonymised events on codes from one sort of the distinct
    pseudonyms (Rarity.pseudonym_order) instead of coding the 5 million ids again."""
    from toolkit.clean.privacy import Rarity, pseudonymise

    key = b"a long secret key, kept safe"
    part = np.flatnonzero(np.arange(len(log)) % 7 != 3)  # a part of the log, as the kept rows
    anon = pseudonymise(log.iloc[part].reset_index(drop=True), key=key)
    codes = Rarity(log, 0).pseudonym_order("case_id", key, part)
    assert (event_order(anon, case_codes=codes) == event_order(anon)).all()
    assert (anon["case_id"].rank(method="dense").to_numpy() - 1 == codes).all()


def test_a_changed_frame_never_meets_its_remembered_walk(log):
    events = log.copy()
    before = case_table(events)
    # in place, on a column the walk reads: the remembered walk must not be used
    events.loc[events.index[:50], "agency"] = "Inspektorat"
    events.loc[events.index[50:60], "timestamp"] = pd.Timestamp("2023-01-01", tz="UTC")
    after = case_table(events)
    pd.testing.assert_frame_equal(after, case_table(events.copy()))
    assert not after.equals(before)
    pd.testing.assert_frame_equal(handovers(events), handovers(events.copy()))


def test_prepare_json_and_quiet(tmp_path, capsys):
    sim = toolkit.simulate(n_cases=200, seed=11)
    raw = tmp_path / "log.csv"
    raw.write_bytes(bytes(csv_bytes(sim.events)))
    out = tmp_path / "out"
    status = main(["prepare", str(raw), "--out", str(out), "--demo-key", "--json", "--quiet"])
    captured = capsys.readouterr()
    assert status == 0 and captured.err == ""
    summary = json.loads(captured.out)
    assert summary["status"] == "prepared" and summary["command"] == "prepare"
    assert (
        summary["rows_in"] == len(sim.events) == summary["rows_kept"] + summary["rows_quarantined"]
    )
    status = main(["prepare", str(raw), "--out", str(out), "--demo-key", "--json", "--verbose"])
    captured = capsys.readouterr()
    assert json.loads(captured.out)["status"] == "up_to_date"
    assert "up to date" in captured.err
    status = main(["prepare", str(raw), "--out", str(out), "--demo-key", "--force", "--verbose"])
    assert "validating:" in capsys.readouterr().err  # step timings


def test_prepare_json_reports_an_error(tmp_path, capsys):
    status = main(
        [
            "prepare",
            str(tmp_path / "missing.csv"),
            "--out",
            str(tmp_path / "o"),
            "--demo-key",
            "--json",
        ]
    )
    captured = capsys.readouterr()
    assert status == 2
    assert json.loads(captured.out)["status"] == "error"
    assert len(captured.err.strip().splitlines()) == 1


def test_progress_is_off_without_a_terminal(capsys):
    from toolkit import progress

    assert not progress.enabled()  # pytest's stderr is not a terminal
    with progress.bar(2, "x") as shown:
        shown.update(2)
    assert capsys.readouterr().err == ""
