"""The sekat command: simulate, prepare, and bad input that ends in one line and exit status 2."""

from __future__ import annotations

import gzip
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from toolkit.cli import main

GOOD = [
    "r1,2024-01-05 08:00,Kelurahan A,submitted,twitter",
    "r1,2024-01-05 09:00,Dinas PU,resolved,twitter",
]


def _error_line(capsys) -> str:
    err = capsys.readouterr().err
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("sekat: error: ")
    assert "Traceback" not in err
    return lines[0]


@pytest.fixture
def prepared(write_log, tmp_path):
    """An output directory already holding a good run, and a snapshot of its bytes."""
    out = tmp_path / "processed"
    assert (
        main(["prepare", str(write_log(GOOD, name="good.csv")), "--out", str(out), "--demo-key"])
        == 0
    )
    snapshot = {p.name: p.read_bytes() for p in out.iterdir()}
    return out, snapshot


def _bad_files(tmp_path: Path) -> dict[str, tuple[Path, list[str]]]:
    """name -> (file, strings the error line must contain)."""
    files = {}
    path = tmp_path / "nocolumn.csv"
    path.write_text("case_id,timestamp,agency,activity\nr1,2024-01-05,A,submitted\n")
    files["missing column"] = (path, ["nocolumn.csv", "'channel'", "columns found"])
    path = tmp_path / "empty.csv"
    path.write_bytes(b"")
    files["empty"] = (path, ["empty.csv", "empty"])
    path = tmp_path / "latin1.csv"
    path.write_bytes(b"case_id,timestamp,agency,activity,channel\nr1,2024-01-05,Dinas \xc9,x,web\n")
    files["non-utf8"] = (path, ["latin1.csv", "line 2", "UTF-8"])
    path = tmp_path / "garbage.csv"
    path.write_bytes(bytes(np.random.default_rng(1).integers(0, 256, 2048, dtype=np.uint8)))
    files["binary"] = (path, ["garbage.csv"])
    files["missing path"] = (tmp_path / "nowhere.csv", ["nowhere.csv", "does not exist"])
    path = tmp_path / "truncated.csv.gz"
    rows = "".join(f"r{i},2024-01-05,A{i * 7919 % 997},submitted,web\n" for i in range(3000))
    packed = gzip.compress(("case_id,timestamp,agency,activity,channel\n" + rows).encode())
    path.write_bytes(packed[: len(packed) // 2])
    files["truncated gzip"] = (path, ["truncated.csv.gz"])
    return files


@pytest.mark.parametrize(
    "case", ["missing column", "empty", "non-utf8", "binary", "missing path", "truncated gzip"]
)
def test_bad_input_exits_2_with_one_line_and_leaves_outputs(case, prepared, tmp_path, capsys):
    out, snapshot = prepared
    path, expected = _bad_files(tmp_path)[case]
    capsys.readouterr()
    assert main(["prepare", str(path), "--out", str(out), "--demo-key"]) == 2
    line = _error_line(capsys)
    for text in expected:
        assert text.lower() in line.lower(), line
    assert {p.name: p.read_bytes() for p in out.iterdir()} == snapshot


def test_unparseable_timestamps_are_quarantined_not_fatal(write_log, tmp_path, capsys):
    log = write_log(
        [*GOOD, "r2,31/02/2024 25:99,Kelurahan B,submitted,web", "r3,,Kelurahan B,submitted,web"]
    )
    out = tmp_path / "out"
    assert main(["prepare", str(log), "--out", str(out), "--demo-key"]) == 0
    err = capsys.readouterr().err
    assert "quarantined 2" in err and "unparseable_timestamp 1" in err
    report = json.loads((out / "report.json").read_text())
    assert report["rows_in"] == 4 and report["rows_kept"] == 2 and report["rows_quarantined"] == 2
    assert report["reasons"]["missing_timestamp"] == 1
    quarantine = pd.read_parquet(out / "quarantine.parquet")
    assert quarantine["source_row"].tolist() == [2, 3]


def test_prepare_twice_says_up_to_date(prepared, write_log, capsys):
    out, snapshot = prepared
    capsys.readouterr()
    log = Path(out).parent / "good.csv"
    assert main(["prepare", str(log), "--out", str(out), "--demo-key"]) == 0
    assert "up to date" in capsys.readouterr().err
    assert {p.name: p.read_bytes() for p in out.iterdir()} == snapshot


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (["prepare", "x.csv"], "--out"),
        (["prepare", "x.csv", "--out", "o", "--preset", "nope"], "invalid choice"),
        (["simulate", "--cases", "0", "--out", "x.csv"], "must be positive"),
        (["simulate", "--cases", "many", "--out", "x.csv"], "not a whole number"),
        (["simulate", "--out", "x.txt"], "x.txt"),
        (["frobnicate"], "invalid choice"),
        ([], "COMMAND"),
    ],
)
def test_usage_errors_are_one_line(argv, expected, capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert main(argv) == 2
    assert expected in _error_line(capsys)


def test_missing_key_and_bad_mapping(write_log, tmp_path, capsys, monkeypatch):
    monkeypatch.delenv("SEKAT_KEY", raising=False)
    log = write_log(GOOD)
    assert main(["prepare", str(log), "--out", str(tmp_path / "o")]) == 2
    assert "SEKAT_KEY" in _error_line(capsys)
    key = tmp_path / "missing.key"
    assert main(["prepare", str(log), "--out", str(tmp_path / "o"), "--key-file", str(key)]) == 2
    assert "missing.key" in _error_line(capsys)
    mapping = tmp_path / "m.toml"
    mapping.write_text("[channels]\nLoket = 'counter'\n")
    argv = [
        "prepare",
        str(log),
        "--out",
        str(tmp_path / "o"),
        "--demo-key",
        "--mapping",
        str(mapping),
    ]
    assert main(argv) == 2
    assert "m.toml" in _error_line(capsys)
    assert not (tmp_path / "o").exists()


def test_key_file_and_mapping_file(write_log, tmp_path, capsys):
    log = write_log(
        ["T1,2024-01-05 08:00,A,submitted,Loket Kelurahan"],
        header="ticket,timestamp,agency,activity,channel",
    )
    mapping = tmp_path / "m.toml"
    mapping.write_text('[columns]\nticket = "case_id"\n[channels]\n"Loket Kelurahan" = "walk_in"\n')
    key = tmp_path / "sekat.key"
    key.write_text("a long random secret\n")
    out = tmp_path / "out"
    argv = [
        "prepare",
        str(log),
        "--out",
        str(out),
        "--key-file",
        str(key),
        "--mapping",
        str(mapping),
        "--strict-channels",
        "--cutoff",
        "2024-02-01",
    ]
    assert main(argv) == 0
    events = pd.read_parquet(out / "events.parquet")
    assert events["channel"].tolist() == ["walk_in"]
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["parameters"]["key_source"] == "key_file"
    assert manifest["parameters"]["mapping_file"]["name"] == "m.toml"
    assert "a long random secret" not in (out / "manifest.json").read_text()


@pytest.mark.parametrize("suffix", [".csv.gz", ".parquet", ".csv"])
def test_simulate_writes_log_and_siblings_reproducibly(tmp_path, suffix, capsys):
    first = tmp_path / "a" / f"sample{suffix}"
    second = tmp_path / "b" / f"sample{suffix}"
    for target in (first, second):
        assert main(["simulate", "--cases", "200", "--seed", "7", "--out", str(target)]) == 0
    for name in (f"sample{suffix}", "sample.truth.csv", "sample.rollout.csv", "sample.params.json"):
        assert (first.parent / name).read_bytes() == (second.parent / name).read_bytes(), name
    assert json.loads((first.parent / "sample.params.json").read_text())["seed"] == 7
    if suffix == ".csv.gz":
        assert first.read_bytes()[4:8] == b"\x00\x00\x00\x00"  # gzip mtime 0
    from toolkit.io.readers import read_events

    assert read_events(first)["case_id"].nunique() == 200


def test_console_script_has_no_traceback(tmp_path):
    sekat = Path(sys.executable).with_name("sekat")
    command = [str(sekat)] if sekat.exists() else [sys.executable, "-m", "toolkit.cli"]
    done = subprocess.run(
        [
            *command,
            "prepare",
            str(tmp_path / "absent.csv"),
            "--out",
            str(tmp_path / "o"),
            "--demo-key",
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 2
    assert done.stderr.strip() == f"sekat: error: {tmp_path / 'absent.csv'}: file does not exist"


# --- sekat estimate -------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def simulated_and_prepared(tmp_path_factory):
    """A small simulated log (2,000 requests) prepared by the CLI, with its truth table."""
    folder = tmp_path_factory.mktemp("estimate")
    log = folder / "sim.csv.gz"
    assert main(["simulate", "--cases", "2000", "--seed", "5", "--out", str(log)]) == 0
    prepared = folder / "prepared"
    assert main(["prepare", str(log), "--out", str(prepared), "--demo-key"]) == 0
    return folder, prepared


def test_estimate_writes_tidy_rows_with_the_planted_truth(simulated_and_prepared, capsys):
    from toolkit.estimate.headline import TRUTH_COLUMNS
    from toolkit.schema import RESULT_TABLE_COLUMNS

    folder, prepared = simulated_and_prepared
    out = folder / "estimates.csv"
    argv = ["estimate", str(prepared), "--out", str(out), "--truth", str(folder / "sim.truth.csv")]
    capsys.readouterr()
    assert main([*argv, "--seed", "3", "--n-boot", "5"]) == 0
    err = capsys.readouterr().err
    table = pd.read_csv(out)
    assert list(table.columns) == [*RESULT_TABLE_COLUMNS, *TRUTH_COLUMNS, "suppressed"]
    # one row per estimate: a term is never repeated by the same method
    assert not table.duplicated(["term", "method"]).any()
    assert {"difference_hops", "att_hops", "ato_hops", "att_rmst_days"} <= set(table["term"])
    # an ATE is a row, or held back by the overlap rule with a warning on stderr
    for term in ("ate_hops", "ate_rmst_days"):
        assert term in set(table["term"]) or "poor overlap" in err and term in err
    planted = table.dropna(subset=["truth"])
    assert len(planted) >= 4
    inside = (planted["ci_low"] <= planted["truth"]) & (planted["truth"] <= planted["ci_high"])
    assert planted["covered"].astype(bool).tolist() == inside.tolist()
    assert f"inside {int(inside.sum())} of {len(planted)} intervals" in err
    assert not [p for p in folder.iterdir() if p.suffix == ".tmp"]


def test_estimate_user_errors_exit_2_with_one_line(simulated_and_prepared, tmp_path, capsys):
    folder, prepared = simulated_and_prepared
    out = tmp_path / "e.csv"
    empty = tmp_path / "empty_dir"
    empty.mkdir()
    bad_truth = tmp_path / "truth.csv"
    bad_truth.write_text("term,estimate\nx,1\n")
    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "cases.parquet").write_bytes(b"PAR1 not really")
    cases = [
        (["estimate", str(tmp_path / "nowhere"), "--out", str(out)], "does not exist"),
        (["estimate", str(empty), "--out", str(out)], "cases.parquet"),
        (["estimate", str(broken), "--out", str(out)], "cases.parquet"),
        (["estimate", str(prepared), "--out", str(tmp_path / "e.txt")], ".csv"),
        (["estimate", str(prepared), "--out", str(out), "--truth", str(bad_truth)], "value"),
        (["estimate", str(prepared), "--out", str(out), "--truth", "no.csv"], "no.csv"),
        (["estimate", str(prepared), "--out", str(out), "--n-boot", "0"], "must be positive"),
        (["estimate", str(prepared), "--out", str(out), "--tau-days", "-3"], "positive"),
        (["estimate", str(prepared)], "--out"),
    ]
    for argv, expected in cases:
        capsys.readouterr()
        assert main(argv) == 2, argv
        assert expected in _error_line(capsys), argv
    assert not out.exists()
