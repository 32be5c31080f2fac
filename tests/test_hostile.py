"""Hostile and broken input: every case ends in a clear SekatError or a quarantine entry.

Random bytes, truncated gzip, enormous fields and lines, wrong types, timestamps in year 1 or
9999, columns full of missing values, 10,000 events in one request, non-UTF-8 text and CSV
injection strings go through the readers, ``prepare`` and the case-table builder. Never a
crash, never a hang (each case runs under an alarm), and always rows_in = rows_kept +
rows_quarantined, with the tables on disk holding exactly those rows.
"""

from __future__ import annotations

import contextlib
import csv
import gzip
import os
import signal
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from toolkit import schema
from toolkit.errors import SekatError
from toolkit.io.readers import read_events
from toolkit.io.writers import FORMULA_TRIGGERS, write_table
from toolkit.paths import case_table
from toolkit.pipeline import prepare
from toolkit.report.export import export_table

HEADER = "case_id,timestamp,agency,activity,channel,category,region"
INJECTIONS = ("=cmd|' /C calc'!A0", "+SUM(1+1)*cmd|' /C calc'!A0", "@foo", "-2+3", "=HYPERLINK(x)")


@contextlib.contextmanager
def _deadline(seconds: int) -> Iterator[None]:
    """Fail instead of hanging: SIGALRM after ``seconds``."""
    if os.name != "posix":
        yield
        return

    def hang(signum, frame):
        raise TimeoutError(f"no answer within {seconds} s: a hang")

    previous = signal.signal(signal.SIGALRM, hang)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


def _prepare_accounts_for_every_row(path: Path, out: Path, seconds: int = 30) -> dict | None:
    """Prepare one file: a SekatError naming it, or outputs where every row is accounted for."""
    try:
        with _deadline(seconds):
            result = prepare([path], out, key="a key for the hostile tests", force=True)
    except SekatError as err:
        assert path.name in str(err), str(err)
        assert "\n" not in str(err).strip(), "an error is one line"
        return None
    report = result.report
    assert report["rows_in"] == report["rows_kept"] + report["rows_quarantined"]
    assert report["rows_quarantined"] == sum(report["reasons"].values())
    assert report["inputs"] == {path.name: report["rows_in"]}
    events = pd.read_parquet(out / "events.parquet")
    quarantine = pd.read_parquet(out / "quarantine.parquet")
    assert len(events) == report["rows_kept"]
    assert len(quarantine) == report["rows_quarantined"]
    # every source row appears exactly once, in one table or the other
    rows = sorted([*events[schema.SOURCE_ROW], *quarantine[schema.SOURCE_ROW]])
    assert rows == list(range(report["rows_in"]))
    cases = pd.read_parquet(out / "cases.parquet")
    assert len(cases) == events[schema.CASE_ID].nunique()
    return report


# --- fuzz: bytes and hostile cells ----------------------------------------------------------------

_CELLS = st.sampled_from(
    [
        "r1",
        "r2",
        "",
        "NaN",
        "null",
        "2024-01-05 08:00",
        "0001-01-01",
        "9999-12-31 23:59:59",
        "1677-09-21",
        "2262-04-12",
        "1e308",
        "-0",
        "2024-02-30",
        "25:61",
        "twitter",
        "WA",
        "submitted",
        "resolved",
        "Dinas PU",
        "Kelurahan Ä",
        '"quoted, comma"',
        '"line\nbreak"',
        "\u202e\u0000x",
        "😀",
        *INJECTIONS,
    ]
)
_LINES = st.lists(st.lists(_CELLS, min_size=7, max_size=7).map(",".join), max_size=12)


@settings(max_examples=25, deadline=None)
@given(body=st.binary(max_size=400))
def test_random_bytes(tmp_path_factory, body):
    folder = tmp_path_factory.mktemp("bytes")
    path = folder / "hostile.csv"
    path.write_bytes(body)
    _prepare_accounts_for_every_row(path, folder / "out")


@settings(max_examples=30, deadline=None)
@given(lines=_LINES, encoding=st.sampled_from(["utf-8", "latin-1", "utf-8-sig"]))
def test_hostile_cells(tmp_path_factory, lines, encoding):
    folder = tmp_path_factory.mktemp("cells")
    path = folder / "hostile.csv"
    text = "\n".join([HEADER, *lines]) + "\n"
    path.write_bytes(text.encode(encoding, errors="replace"))
    _prepare_accounts_for_every_row(path, folder / "out")


def _gzipped_log(n: int = 400) -> bytes:
    rows = "".join(
        f"r{i},2024-01-05 08:{i % 60:02d},A{i % 13},submitted,web,x,y\n" for i in range(n)
    )
    return gzip.compress((HEADER + "\n" + rows).encode(), mtime=0)


@settings(max_examples=15, deadline=None)
@given(fraction=st.floats(0.0, 1.0))
def test_truncated_gzip(tmp_path_factory, fraction):
    folder = tmp_path_factory.mktemp("gzip")
    packed = _gzipped_log()
    cut = int(len(packed) * fraction)
    path = folder / "cut.csv.gz"
    path.write_bytes(packed[:cut])
    report = _prepare_accounts_for_every_row(path, folder / "out")
    if cut < len(packed):
        assert report is None, "a truncated archive is an error, not a shorter log"
    else:
        assert report["rows_in"] == 400


# --- named hostile cases ------------------------------------------------------------------------


def _write(folder: Path, rows: list[str], name: str = "log.csv") -> Path:
    path = folder / name
    path.write_text("\n".join([HEADER, *rows]) + "\n", encoding="utf-8")
    return path


def test_timestamps_in_year_1_and_9999_are_quarantined(tmp_path):
    path = _write(
        tmp_path,
        [
            "r1,0001-01-01 00:00,A,submitted,web,x,y",
            "r1,9999-12-31 23:59,B,resolved,web,x,y",
            "r2,2024-01-05 08:00,A,submitted,web,x,y",
            "r3,1000-06-15T10:00:00+07:00,A,submitted,web,x,y",
        ],
    )
    report = _prepare_accounts_for_every_row(path, tmp_path / "out")
    assert report["reasons"]["timestamp_out_of_range"] == 3
    assert report["rows_kept"] == 1


@pytest.mark.parametrize(
    ("column", "reason"),
    [
        ("case_id", "missing_case_id"),
        ("timestamp", "missing_timestamp"),
        ("agency", "missing_agency"),
        ("channel", None),
        ("activity", None),
        ("category", None),
        ("region", None),
    ],
)
def test_a_column_full_of_missing_values(tmp_path, column, reason):
    columns = HEADER.split(",")
    rows = []
    for i in range(12):
        cells = [f"r{i % 4}", f"2024-01-0{i % 9 + 1} 08:00", "A", "submitted", "web", "x", "y"]
        cells[columns.index(column)] = ""
        rows.append(",".join(cells))
    report = _prepare_accounts_for_every_row(_write(tmp_path, rows), tmp_path / "out")
    assert report is not None
    if reason is not None:
        assert report["reasons"][reason] == 12 and report["rows_kept"] == 0


def test_ten_thousand_events_in_one_request(tmp_path):
    rows = [f"r1,2024-01-01 00:00:00.{i:06d},A{i % 7},in_progress,web,x,y" for i in range(10_000)]
    with _deadline(30):
        report = _prepare_accounts_for_every_row(_write(tmp_path, rows), tmp_path / "out")
    assert report["rows_kept"] == 10_000
    cases = pd.read_parquet(tmp_path / "out" / "cases.parquet")
    assert len(cases) == 1
    # the holding agency changes at every event: A0 -> A1 -> ... -> A6 -> A0 ...
    assert cases[schema.HOPS].iloc[0] == 9_999
    assert cases[schema.DISTINCT_AGENCIES].iloc[0] == 7
    assert cases[schema.RETURNS].iloc[0] == 9_999 - 6


def test_an_enormous_field_is_read_in_time(tmp_path):
    huge = "Dinas " + "A" * 2_000_000  # also stresses the PII patterns: no quadratic scan
    rows = [f"r{i},2024-01-05 08:0{i},{huge},submitted,web,x,y" for i in range(3)]
    report = _prepare_accounts_for_every_row(_write(tmp_path, rows), tmp_path / "out", seconds=60)
    assert report["rows_kept"] == 3
    events = pd.read_parquet(tmp_path / "out" / "events.parquet")
    # three requests share it: rare, so the text is replaced by its keyed pseudonym
    assert events[schema.AGENCY].str.len().max() < 100


def test_an_enormous_line_of_extra_fields_is_a_clear_error(tmp_path):
    rows = [
        "r1,2024-01-05 08:00,A,submitted,web,x,y",
        "r2,2024-01-05,A,submitted,web,x,y" + ",z" * 20_000,
    ]
    with pytest.raises(SekatError, match="log.csv"), _deadline(60):
        prepare([_write(tmp_path, rows)], tmp_path / "out", key="a key for the hostile tests")


def test_extra_fields_on_the_first_row_are_an_error_not_a_shift(tmp_path):
    path = tmp_path / "ragged.csv"
    path.write_text(
        "case_id,timestamp,agency,activity,channel\n"
        "r1,2024-01-05,A,submitted,web,extra\n"
        "r2,2024-01-05,B,submitted,web\n"
    )
    with pytest.raises(SekatError, match="ragged.csv.*more fields than the header"):
        read_events(path)


def test_non_utf8_text_names_the_line(tmp_path):
    path = tmp_path / "latin.csv"
    path.write_bytes(
        (HEADER + "\nr1,2024-01-05,A,submitted,web,x,y\n").encode()
        + b"r2,2024-01-05,Dinas \xc9,submitted,web,x,y\n"
    )
    with pytest.raises(SekatError, match=r"latin.csv.*line 3"):
        prepare([path], tmp_path / "out", key="a key for the hostile tests")


@pytest.mark.parametrize(
    "column_values",
    [
        {"case_id": [1.5, 2.5, np.nan], "timestamp": [1, 2, 3]},  # numbers for text and time
        {"agency": [1, 2, 3], "channel": [True, False, True]},
        {"timestamp": ["2024-01-05", None, "kemarin"], "category": [1, None, 3.5]},
        {"case_id": [None, None, None], "agency": [None, None, None]},
    ],
)
def test_wrong_types_in_parquet(tmp_path, column_values):
    frame = pd.DataFrame(
        {
            "case_id": ["r1", "r1", "r2"],
            "timestamp": ["2024-01-05 08:00", "2024-01-05 09:00", "2024-01-05 10:00"],
            "agency": ["A", "B", "A"],
            "activity": ["submitted", "resolved", "submitted"],
            "channel": ["web", "web", "phone"],
        }
    )
    for column, values in column_values.items():
        frame[column] = values
    path = tmp_path / "typed.parquet"
    frame.to_parquet(path)
    _prepare_accounts_for_every_row(path, tmp_path / "out")


# --- the case-table builder on raw, unvalidated frames -----------------------------------------

_AGENCY = st.one_of(st.none(), st.sampled_from(["A", "B", "", "=1+1", "😀"]))
_TIME = st.one_of(
    st.none(),
    st.datetimes(
        min_value=pd.Timestamp("1678-01-01").to_pydatetime(),
        max_value=pd.Timestamp("2261-12-31").to_pydatetime(),
    ),
)


@settings(max_examples=40, deadline=None)
@given(
    rows=st.lists(
        st.tuples(
            st.sampled_from(["r1", "r2", "r3"]),
            _TIME,
            _AGENCY,
            st.sampled_from([*schema.ACTIVITIES, None]),
        ),
        min_size=1,
        max_size=25,
    )
)
def test_case_table_on_unvalidated_events(rows):
    frame = pd.DataFrame(rows, columns=["case_id", "timestamp", "agency", "activity"])
    frame["timestamp"] = pd.to_datetime(frame["timestamp"]).dt.tz_localize("UTC")
    frame["activity"] = frame["activity"].astype(schema.ACTIVITY_DTYPE)
    frame["channel"] = pd.Categorical(["web"] * len(frame), dtype=schema.CHANNEL_DTYPE)
    try:
        with _deadline(20):
            cases = case_table(frame)
    except SekatError as err:
        assert "\n" not in str(err).strip()
        return
    assert len(cases) == frame["case_id"].nunique()
    events_per_case = frame.groupby("case_id").size()
    held = cases.set_index(schema.CASE_ID)
    n = events_per_case.reindex(held.index)
    # an event without an agency holds nothing: distinct agencies may be 0, never negative
    assert held[schema.HOPS].between(0, n - 1).all()
    assert held[schema.DISTINCT_AGENCIES].between(0, n).all()
    assert (held[schema.RETURNS] <= held[schema.HOPS]).all()


# --- CSV injection ------------------------------------------------------------------------------


def _cells(path: Path) -> list[str]:
    with open(path, newline="", encoding="utf-8") as handle:
        return [cell for row in csv.reader(handle) for cell in row]


def _formula_cells(cells: list[str]) -> list[str]:
    numberish = ("-", "+")
    bad = []
    for cell in cells:
        if cell.startswith(FORMULA_TRIGGERS):
            if cell.startswith(numberish):
                with contextlib.suppress(ValueError):
                    float(cell)
                    continue
            bad.append(cell)
    return bad


def test_csv_injection_in_agency_and_category_never_reaches_a_csv_unescaped(tmp_path):
    rows = []
    for i in range(24):  # twelve requests per agency value: common, so kept by name
        agency = INJECTIONS[i % 2]
        category = INJECTIONS[2 + i % 2]
        rows += [
            [f"r{i}", "2024-01-05 08:00", "Kelurahan A", "submitted", "web", category, "y"],
            [f"r{i}", "2024-01-05 09:00", agency, "forwarded", "web", category, "y"],
            [f"r{i}", "2024-01-06 09:00", agency, "resolved", "web", category, "y"],
        ]
    path = tmp_path / "log.csv"
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(HEADER.split(","))
        writer.writerows(rows)
    report = _prepare_accounts_for_every_row(path, tmp_path / "out")
    events = pd.read_parquet(tmp_path / "out" / "events.parquet")
    assert set(INJECTIONS[:2]) <= set(events["agency"])  # the values did arrive as read

    flows = pd.read_parquet(tmp_path / "out" / "handovers.parquet")
    cases = pd.read_parquet(tmp_path / "out" / "cases.parquet")
    export_table(flows[["from_agency", "to_agency", "count"]], tmp_path / "flows.csv", totals=[])
    by_category = cases.groupby("category", observed=True).size().rename("count").reset_index()
    export_table(by_category, tmp_path / "by_category.csv")
    write_table(cases, tmp_path / "cases.csv")
    write_table(events, tmp_path / "events.csv.gz")
    (tmp_path / "events.csv").write_bytes(
        gzip.decompress((tmp_path / "events.csv.gz").read_bytes())
    )
    for name in ("flows.csv", "by_category.csv", "cases.csv", "events.csv"):
        cells = _cells(tmp_path / name)
        assert _formula_cells(cells) == [], name
        assert any(c.startswith("'=cmd") or c.startswith("'@foo") for c in cells), name
    assert report["rows_kept"] == 72


def test_the_formula_check_can_fail():
    assert _formula_cells(["=1+1", "-2+3", "@x", "-12.5", "+3", "plain"]) == ["=1+1", "-2+3", "@x"]


# --- issue 15: bookkeeping columns, limits, clear errors ------------------------------------------


@pytest.mark.parametrize("column", ["source_row", "source_file"])
def test_a_column_named_like_sekats_bookkeeping_is_renamed_not_trusted(tmp_path, column):
    """89 events claiming one source row: the file's column is renamed, sekat numbers rows."""
    rows = [f"r{i % 30},2024-01-05 08:{i % 60:02d},A{i % 3},submitted,web,x,y,0" for i in range(89)]
    path = tmp_path / "log.csv"
    path.write_text("\n".join([HEADER + f",{column}", *rows]) + "\n", encoding="utf-8")
    report = _prepare_accounts_for_every_row(path, tmp_path / "out")
    assert report["rows_in"] == 89
    events = pd.read_parquet(tmp_path / "out" / "events.parquet")
    assert set(events[schema.SOURCE_FILE]) == {"log.csv"}
    assert f"{column}_in_file" in report["privacy"]["columns_not_read"]["log.csv"]


# --- the corpus of issue 15, each case in a child process under a time and a memory limit -------

#: Address-space limit of each child: a reader that tried to hold a 4 GiB document, a 500 MB
#: field or 20,000 columns of 2,000 rows would die here instead of answering.
CHILD_MEMORY = 3 << 30
CHILD_SECONDS = 90
CHILD_KEY = "a key for the hostile corpus, long enough"


def _limit_child() -> None:  # runs in the child before exec
    import resource

    resource.setrlimit(resource.RLIMIT_AS, (CHILD_MEMORY, CHILD_MEMORY))


def _sekat_prepare(path: Path, tmp_path: Path, **env: str) -> tuple[int, str]:
    """``sekat prepare`` on one file in a child process with bounded memory and time."""
    import subprocess
    import sys

    key = tmp_path / "corpus.key"
    key.write_text(CHILD_KEY)
    completed = subprocess.run(
        [sys.executable, "-m", "toolkit", "prepare", str(path), "--out", str(tmp_path / "out")]
        + ["--key-file", str(key), "-q"],
        capture_output=True,
        text=True,
        timeout=CHILD_SECONDS,
        preexec_fn=_limit_child if os.name == "posix" else None,
        env={**os.environ, "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", **env},
    )
    return completed.returncode, completed.stderr


def _gzip_of_repeats(head: bytes, block: bytes, times: int, tail: bytes) -> bytes:
    """A small gzip file that expands to ``len(block) * times`` bytes: concatenated members."""
    member = gzip.compress(block, mtime=0)
    return gzip.compress(head, mtime=0) + member * times + gzip.compress(tail, mtime=0)


def _corpus(folder: Path) -> dict[str, tuple[Path, str]]:
    """Name -> (file, the limit variable its refusal must name)."""
    mib = 1 << 20
    cases: dict[str, tuple[bytes, str, str]] = {
        "json nested 100k deep": (b"[" * 100_000 + b"]" * 100_000, "deep.json", "SEKAT_MAX_DEPTH"),
        "json.gz expanding to 4 GiB": (
            _gzip_of_repeats(b'[{"case_id": "', b" " * (16 * mib), 256, b'"}]'),
            "bomb.json.gz",
            "SEKAT_MAX_DOCUMENT_BYTES",
        ),
        "json with 20k distinct keys": (
            ("[" + ",".join("{" + f'"k{i}": 1' + "}" for i in range(20_000)) + "]").encode(),
            "keys.json",
            "SEKAT_MAX_KEYS",
        ),
        "xes with 20k distinct keys": (
            (
                "<log><trace><string key='concept:name' value='r1'/><event>"
                + "".join(f"<string key='k{i}' value='v'/>" for i in range(20_000))
                + "</event></trace></log>"
            ).encode(),
            "keys.xes",
            "SEKAT_MAX_KEYS",
        ),
        "xes nested 100k containers": (
            b"<log><trace><event>"
            + b"<container key='a'>" * 100_000
            + b"</container>" * 100_000
            + b"</event></trace></log>",
            "nested.xes",
            "SEKAT_MAX_DEPTH",
        ),
        "xes attribute of 50 MB": (
            _gzip_of_repeats(
                b"<log><trace><event><string key='org:group' value='",
                b"A" * mib,
                50,
                b"'/></event></trace></log>",
            ),
            "wide.xes.gz",
            "SEKAT_MAX_VALUE_BYTES",
        ),
        "csv field of 500 MB": (
            _gzip_of_repeats(
                (HEADER + "\nr1,2024-01-05 08:00,").encode(),
                b"A" * (16 * mib),
                32,
                b",submitted,web,x,y\n",
            ),
            "field.csv.gz",
            "SEKAT_MAX_LINE_BYTES",
        ),
        "csv of 200k columns": (
            (HEADER + "".join(f",c{i}" for i in range(200_000)) + "\n").encode(),
            "columns.csv",
            "SEKAT_MAX_COLUMNS",
        ),
    }
    written = {}
    for name, (blob, file_name, variable) in cases.items():
        path = folder / file_name
        path.write_bytes(blob)
        written[name] = (path, variable)
    return written


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    return _corpus(tmp_path_factory.mktemp("corpus"))


@pytest.mark.parametrize(
    "case",
    [
        "json nested 100k deep",
        "json.gz expanding to 4 GiB",
        "json with 20k distinct keys",
        "xes with 20k distinct keys",
        "xes nested 100k containers",
        "xes attribute of 50 MB",
        "csv field of 500 MB",
        "csv of 200k columns",
    ],
)
def test_each_exhausting_file_is_refused_in_one_line(corpus, tmp_path, case):
    path, variable = corpus[case]
    status, err = _sekat_prepare(path, tmp_path)
    lines = err.strip().splitlines()
    assert status == 2, (case, err[-2000:])
    assert len(lines) == 1 and lines[0].startswith("sekat: error: "), err[-2000:]
    assert path.name in lines[0] and variable in lines[0], lines[0]
    assert "Traceback" not in err
    assert not (tmp_path / "out" / "events.parquet").exists()


def test_limits_are_settings(tmp_path, monkeypatch):
    """The same file refused under a lower limit and read under the default one."""
    path = _write(tmp_path, ["r1,2024-01-05 08:00,A,submitted,web,x,y"])
    monkeypatch.setenv("SEKAT_MAX_COLUMNS", "5")
    with pytest.raises(
        SekatError, match=r"log\.csv.*7 columns.*limit of 5 columns.*SEKAT_MAX_COLUMNS"
    ):
        read_events(path)
    monkeypatch.setenv("SEKAT_MAX_COLUMNS", "many")
    with pytest.raises(SekatError, match="SEKAT_MAX_COLUMNS must be a whole number"):
        read_events(path)
    monkeypatch.delenv("SEKAT_MAX_COLUMNS")
    assert len(read_events(path)) == 1


@pytest.mark.parametrize(("separator", "name"), [(";", "semicolon"), ("\t", "tab"), ("|", "pipe")])
def test_a_csv_with_another_separator_is_read(tmp_path, separator, name):
    rows = [f"r{i},2024-01-05 08:0{i},A,submitted,web,x,y" for i in range(3)]
    path = tmp_path / f"{name}.csv"
    path.write_text(
        "\n".join(line.replace(",", separator) for line in [HEADER, *rows]) + "\n",
        encoding="utf-8",
    )
    report = _prepare_accounts_for_every_row(path, tmp_path / "out")
    assert report["rows_kept"] == 3


def test_parquet_with_duplicate_field_names_is_one_line(tmp_path):
    import pyarrow as pa
    import pyarrow.parquet as pq

    table = pa.Table.from_arrays(
        [pa.array(["r1"]), pa.array(["r2"]), pa.array(["2024-01-05"])],
        names=["case_id", "case_id", "timestamp"],
    )
    path = tmp_path / "dupes.parquet"
    pq.write_table(table, path)
    with pytest.raises(SekatError) as info:
        read_events(path)
    assert "dupes.parquet" in str(info.value) and "\n" not in str(info.value)


def test_a_full_disk_names_the_file(tmp_path, monkeypatch):
    import errno

    from toolkit.io import writers

    def full(fd):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(writers.os, "fsync", full)
    target = tmp_path / "report.json"
    with pytest.raises(SekatError, match=r"report\.json.*no space left"):
        writers.write_text(target, "{}")
    assert not list(tmp_path.iterdir())  # no temporary file left behind
