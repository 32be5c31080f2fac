"""prepare: outputs, byte-identical reruns, manifest skips and rebuilds, privacy, killed runs."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pandas as pd
import pytest

from toolkit.errors import KeyMissingError, SekatError
from toolkit.pipeline import MANIFEST_FILE, prepare

OUTPUTS = {
    "events.parquet",
    "quarantine.parquet",
    "cases.parquet",
    "handovers.parquet",
    "report.json",
    "manifest.json",
}

ROWS = [
    "REQ-1,2024-01-05 08:00,Kelurahan A,submitted,Twitter",
    "REQ-1,2024-01-05 09:00,Dinas PU,forwarded,Twitter",
    "REQ-1,2024-01-06 09:00,Dinas PU,resolved,Twitter",
    "REQ-2,2024-01-05 08:30,Kelurahan B,submitted,Loket",
    "REQ-2,kemarin,Kelurahan B,in_progress,Loket",
    "REQ-3,2024-01-05 10:00,Kelurahan A,submitted,pigeon",
]


def _snapshot(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir()) if p.is_file()}


def test_outputs_and_report(write_log, tmp_path):
    log = write_log(ROWS)
    # every value of a three-request log is rare; rare_below=0 shows the values as read
    result = prepare([log], tmp_path / "out", key="secret key for the tests", rare_below=0)
    assert not result.skipped
    assert {p.name for p in (tmp_path / "out").iterdir()} == OUTPUTS
    report = json.loads((tmp_path / "out" / "report.json").read_text())
    assert (report["rows_in"], report["rows_kept"], report["rows_quarantined"]) == (6, 5, 1)
    assert report["reasons"]["relative_timestamp"] == 1  # "kemarin" (yesterday) is never read
    assert report["channels_mapped_to_other"] == {"pigeon": 1}
    assert report["inputs"] == {"log.csv": 6}
    events = pd.read_parquet(tmp_path / "out" / "events.parquet")
    assert len(events) == 5 and events["case_id"].str.startswith("c_").all()
    assert str(events["timestamp"].dtype) == "datetime64[ns, UTC]"
    cases = pd.read_parquet(tmp_path / "out" / "cases.parquet")
    assert len(cases) == 3
    quarantine = pd.read_parquet(tmp_path / "out" / "quarantine.parquet")
    assert quarantine["reason"].tolist() == ["relative_timestamp"]
    assert quarantine["timestamp_raw"].tolist() == ["kemarin"]
    assert quarantine["case_id"].iloc[0] in set(events["case_id"])  # same pseudonym
    manifest = json.loads((tmp_path / "out" / "manifest.json").read_text())
    assert manifest["inputs"][0]["name"] == "log.csv" and len(manifest["inputs"][0]["sha256"]) == 64
    assert "secret" not in json.dumps(manifest)


def test_rerun_is_byte_identical(write_log, tmp_path):
    log = write_log(ROWS)
    prepare([log], tmp_path / "a", key="secret key for the tests")
    prepare([log], tmp_path / "b", key="secret key for the tests", force=True)
    first = _snapshot(tmp_path / "a")
    assert first == _snapshot(tmp_path / "b")
    prepare([log], tmp_path / "a", key="secret key for the tests", force=True)
    assert first == _snapshot(tmp_path / "a")


def test_unchanged_inputs_skip_and_changes_rebuild(write_log, tmp_path):
    log = write_log(ROWS)
    out = tmp_path / "out"
    prepare([log], out, key="secret key for the tests")
    stamp = (out / "events.parquet").stat().st_mtime_ns
    assert prepare([log], out, key="secret key for the tests").skipped
    assert (out / "events.parquet").stat().st_mtime_ns == stamp
    # another key changes every pseudonym, so it rebuilds
    assert not prepare([log], out, key="another key for the tests").skipped
    # a changed raw file rebuilds
    write_log([*ROWS, "REQ-4,2024-01-07 08:00,Kelurahan A,submitted,web"])
    result = prepare([log], out, key="another key for the tests")
    assert not result.skipped and result.report["rows_in"] == 7
    # a damaged output is noticed and rebuilt
    (out / "cases.parquet").write_bytes(b"broken")
    assert not prepare([log], out, key="another key for the tests").skipped


def test_no_raw_ids_or_pii_anywhere_in_the_outputs(tmp_path):
    log = tmp_path / "messy.csv"
    log.write_text(
        "case_id,timestamp,agency,activity,channel,citizen,complaint\n"
        "TKT-77,2024-01-05 08:00,Kelurahan A,Submitted by siti@mail.id,WA 081234567890,"
        "Siti Aminah,Jalan Melati 5 rusak\n"
        "TKT-77,2024-01-05 09:00,Dinas PU,forwarded TKT-77,WA 081234567890,Siti Aminah,x\n"
        "TKT-78,not-a-time,Kelurahan A,NIK 3171234567890123 TKT-77,web,Budi,y\n"
    )
    prepare([log], tmp_path / "out", key="secret key for the tests")
    blob = b"".join((tmp_path / "out" / name).read_bytes() for name in OUTPUTS)
    for secret in (
        "TKT-77",
        "TKT-78",
        "siti@mail.id",
        "081234567890",
        "3171234567890123",
        "Siti Aminah",
        "Melati",
        "Budi",
    ):
        assert secret.encode() not in blob, secret
    report = json.loads((tmp_path / "out" / "report.json").read_text())
    assert report["privacy"]["removed"]["email"] == 1
    assert report["quarantine_privacy"]["removed"]["nik"] == 1


def test_bad_inputs_fail_before_touching_outputs(write_log, tmp_path, monkeypatch):
    log = write_log(ROWS)
    out = tmp_path / "out"
    prepare([log], out, key="secret key for the tests")
    before = _snapshot(out)
    bad = tmp_path / "bad.csv"
    bad.write_text("case_id,timestamp\nx,2024-01-01\n")
    with pytest.raises(SekatError, match="bad.csv"):
        prepare([log, bad], out, key="secret key for the tests")
    with pytest.raises(SekatError, match="missing.csv"):
        prepare([tmp_path / "missing.csv"], out, key="secret key for the tests")
    monkeypatch.delenv("SEKAT_KEY", raising=False)
    with pytest.raises(KeyMissingError):
        prepare([log], out)
    with pytest.raises(SekatError, match="cut-off"):
        prepare([log], out, key="secret key for the tests", cutoff="whenever")
    assert _snapshot(out) == before
    assert not list(out.glob(".sekat-tmp-*"))


_SLOW_PREPARE = textwrap.dedent(
    """
    import sys, time
    import toolkit.pipeline as pipeline
    original = pipeline.write_parquet
    def slow(frame, path):
        original(frame, path)
        print("staged", flush=True)
        time.sleep(30)
    pipeline.write_parquet = slow
    pipeline.prepare([sys.argv[1]], sys.argv[2], key="secret key for the tests", force=True)
    """
)


@pytest.mark.skipif(os.name != "posix", reason="SIGKILL")
def test_killed_run_leaves_previous_outputs_intact(write_log, tmp_path):
    log = write_log(ROWS)
    out = tmp_path / "out"
    prepare([log], out, key="secret key for the tests")
    before = _snapshot(out)
    write_log([*ROWS, "REQ-9,2024-01-08 08:00,Kelurahan C,submitted,web"])
    process = subprocess.Popen(
        [sys.executable, "-c", _SLOW_PREPARE, str(log), str(out)],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout.readline().strip() == "staged"  # midway: one table written
        process.send_signal(signal.SIGKILL)
    finally:
        process.wait(timeout=30)
    assert _snapshot(out) == before  # nothing replaced, nothing half-written
    result = prepare([log], out, key="secret key for the tests")
    assert not result.skipped and result.report["rows_in"] == 7
    assert not list(out.glob(".sekat-tmp-*"))  # the killed run's staging is cleaned up
    assert json.loads((out / MANIFEST_FILE).read_text())["build"] == result.manifest["build"]


def test_scheduler_gives_the_same_tables(write_log, tmp_path):
    pytest.importorskip("distributed")
    from distributed import LocalCluster

    log = write_log(ROWS)
    prepare([log], tmp_path / "local", key="secret key for the tests")
    start = time.perf_counter()
    with LocalCluster(
        n_workers=1, threads_per_worker=1, processes=False, dashboard_address=None
    ) as cluster:
        prepare(
            [log],
            tmp_path / "dask",
            key="secret key for the tests",
            scheduler=cluster.scheduler_address,
        )
    assert time.perf_counter() - start < 60
    for name in ("cases.parquet", "handovers.parquet"):
        pd.testing.assert_frame_equal(
            pd.read_parquet(tmp_path / "local" / name), pd.read_parquet(tmp_path / "dask" / name)
        )
    # the scheduler is not a parameter of the results: the files are the same bytes
    assert _snapshot(tmp_path / "local") == _snapshot(tmp_path / "dask")


def _staged_file(out: Path) -> bool:
    return any(p.is_file() for stage in out.glob(".sekat-tmp-*") for p in stage.iterdir())


@pytest.mark.skipif(os.name != "posix", reason="SIGKILL")
def test_sigkill_of_the_real_command_midway_then_a_rerun_completes(tmp_path):
    """`sekat prepare` itself, unpatched, killed while its outputs are being staged."""
    sample = Path(__file__).resolve().parents[1] / "data" / "raw" / "sample_events.csv.gz"
    if not sample.exists():
        pytest.skip("the shipped sample is missing")
    sekat = Path(sys.executable).with_name("sekat")
    command = [str(sekat)] if sekat.exists() else [sys.executable, "-m", "toolkit.cli"]
    out = tmp_path / "out"
    small = tmp_path / "small.csv"
    small.write_text("\n".join(["case_id,timestamp,agency,activity,channel", *ROWS]) + "\n")
    prepare([small], out, key="secret key for the tests")
    before = _snapshot(out)
    argv = [*command, "prepare", str(sample), "--out", str(out), "--force"]
    environment = {**os.environ, "SEKAT_KEY": "secret key for the tests"}
    killed = False
    for _attempt in range(3):  # the staging window is short; try again if it was missed
        process = subprocess.Popen(argv, env=environment, stderr=subprocess.DEVNULL)
        try:
            while process.poll() is None and not _staged_file(out):
                time.sleep(0.002)
            if process.poll() is None:
                process.send_signal(signal.SIGKILL)
                killed = True
        finally:
            process.wait(timeout=120)
        if killed:
            break
        prepare(
            [small], out, key="secret key for the tests", force=True
        )  # the run finished: reset and retry
    assert killed, "never caught the command while it was staging its outputs"
    assert process.returncode == -signal.SIGKILL
    assert list(out.glob(".sekat-tmp-*")), "killed midway: its staging folder is left behind"
    assert _snapshot(out) == before  # the previous outputs, byte for byte
    done = subprocess.run(argv[:-1], env=environment, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert not list(out.glob(".sekat-tmp-*"))
    report = json.loads((out / "report.json").read_text())
    assert report["rows_in"] == report["rows_kept"] + report["rows_quarantined"] > 100_000
    assert json.loads((out / MANIFEST_FILE).read_text())["inputs"][0]["name"] == sample.name


def test_a_rebuild_touches_only_its_own_outputs(write_log, tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    (out / "notes.txt").write_text("mine")
    (out / "figures").mkdir()
    (out / "figures" / "keep.csv").write_text("a\n1\n")
    log = write_log(ROWS)
    other = write_log(["REQ-7,2024-01-05 08:00,Kelurahan A,submitted,web"], name="other.csv")
    prepare([log, other], out, key="secret key for the tests")
    stamps = {p.name: p.stat().st_mtime_ns for p in out.iterdir() if p.is_file()}
    assert prepare(
        [log, other], out, key="secret key for the tests"
    ).skipped  # nothing changed: nothing written
    assert {p.name: p.stat().st_mtime_ns for p in out.iterdir() if p.is_file()} == stamps
    write_log(["REQ-7,2024-01-05 08:00,Kelurahan B,submitted,web"], name="other.csv")
    result = prepare([log, other], out, key="secret key for the tests")
    assert not result.skipped and result.report["inputs"] == {"log.csv": 6, "other.csv": 1}
    assert (out / "notes.txt").read_text() == "mine"
    assert (out / "figures" / "keep.csv").read_text() == "a\n1\n"
    assert (out / "notes.txt").stat().st_mtime_ns == stamps["notes.txt"]
    manifest = json.loads((out / MANIFEST_FILE).read_text())
    assert sorted(manifest["outputs"]) == sorted(OUTPUTS - {MANIFEST_FILE})
