"""Atomic releases: one writer per folder, nobody else's folder touched, the whole set at once.

Issue 15: every run deleted every ``.sekat-tmp-*`` folder (another live run's, a user's own),
and a kill between two renames left new ``events.parquet``/``cases.parquet`` beside the old
``report.json``. Here a kill is injected before every rename of a release; whatever instant
it hits, the folder read afterwards holds the old set or the new one, byte for byte.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from toolkit.cli import main
from toolkit.errors import SekatError
from toolkit.io import writers
from toolkit.io.prepared import load_prepared
from toolkit.io.writers import (
    COMMIT_FILE,
    STAGING_MARK,
    STAGING_PREFIX,
    finish_release,
    folder_lock,
)
from toolkit.pipeline import prepare

KEY = "a key for the release tests, long enough"
HEADER = "case_id,timestamp,agency,activity,channel\n"


def _log(folder: Path, n: int, name: str = "log.csv") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    rows = "".join(
        f"r{i},2024-01-05 08:{i % 60:02d},A,submitted,web\n"
        f"r{i},2024-01-06 09:{i % 60:02d},B{i % 3},resolved,web\n"
        for i in range(n)
    )
    path.write_text(HEADER + rows)
    return path


def _snapshot(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in folder.iterdir() if p.is_file()}


class _Killed(BaseException):
    """Stands for SIGKILL: nothing after it runs, no cleanup is owed."""


def _kill_at_rename(monkeypatch, out: Path, at: int) -> None:
    real = os.replace
    seen = {"n": 0}

    def replace(src, dst, *args, **kwargs):
        src, dst = Path(src), Path(dst)
        if dst.parent == out and src.parent.name.startswith(STAGING_PREFIX):
            if seen["n"] == at:
                raise _Killed(f"killed before rename {at}")
            seen["n"] += 1
        return real(src, dst, *args, **kwargs)

    monkeypatch.setattr(writers.os, "replace", replace)


@pytest.fixture(scope="module")
def sets(tmp_path_factory):
    """An old and a new release of the same folder, as bytes."""
    folder = tmp_path_factory.mktemp("sets")
    old_log, new_log = _log(folder / "old", 30), _log(folder / "new", 45)
    prepare([old_log], folder / "a", key=KEY)
    prepare([new_log], folder / "b", key=KEY)
    return old_log, new_log, _snapshot(folder / "a"), _snapshot(folder / "b")


def test_a_kill_before_any_rename_leaves_the_old_or_the_new_set(tmp_path, monkeypatch, sets):
    old_log, new_log, old, new = sets
    assert old != new and set(old) == set(new)
    killed = 0
    for at in range(len(new) + 1):  # before rename 0, 1, ..., and none at all
        out = tmp_path / f"out{at}"
        out.mkdir()
        for name, blob in old.items():
            (out / name).write_bytes(blob)
        with monkeypatch.context() as patch:
            _kill_at_rename(patch, out, at)
            try:
                prepare([new_log], out, key=KEY)
            except _Killed:
                killed += 1
                assert list(out.glob(STAGING_PREFIX + "*")), "the committed release is left"
        # a reader finishes what the killed run committed, then reads a consistent set
        load_prepared(out)
        assert _snapshot(out) == new, at
        assert not list(out.glob(STAGING_PREFIX + "*"))
    assert killed == len(new)  # a kill before every rename, then a run left alone


def _killed_release(tmp_path, old):
    """An output folder holding the old set and the staging folder of a killed release."""
    out = tmp_path / "out"
    out.mkdir()
    for name, blob in old.items():
        (out / name).write_bytes(blob)
    staging = out / f"{STAGING_PREFIX}killed"
    staging.mkdir()
    (staging / STAGING_MARK).write_bytes(b"")
    return out, staging


def test_a_kill_before_the_commit_point_leaves_the_old_set(tmp_path, sets):
    _, _, old, new = sets
    out, staging = _killed_release(tmp_path, old)
    (staging / "events.parquet").write_bytes(new["events.parquet"])  # staged, not committed
    finish_release(out)
    assert _snapshot(out) == old
    assert not staging.exists()


def test_committed_but_unfinished_is_rolled_forward_by_the_next_run(tmp_path, sets):
    _, new_log, old, new = sets
    out, staging = _killed_release(tmp_path, old)
    names = sorted(n for n in new if n != "manifest.json") + ["manifest.json"]
    for name in names[2:]:  # the first two were renamed before the kill
        (staging / name).write_bytes(new[name])
    for name in names[:2]:
        (out / name).write_bytes(new[name])
    (staging / COMMIT_FILE).write_text("".join(n + "\n" for n in names))
    result = prepare([new_log], out, key=KEY)
    assert result.skipped  # the finished release is the one asked for: nothing to redo
    assert _snapshot(out) == new


def test_a_second_writer_stops_with_a_clear_message_and_touches_nothing(tmp_path, capsys, sets):
    _, new_log, old, _ = sets
    out = tmp_path / "out"
    out.mkdir()
    for name, blob in old.items():
        (out / name).write_bytes(blob)
    live = out / f"{STAGING_PREFIX}live"  # a live run's staging folder
    live.mkdir()
    (live / STAGING_MARK).write_bytes(b"")
    with folder_lock(out):
        with pytest.raises(SekatError, match="another sekat run is writing to this folder"):
            prepare([new_log], out, key=KEY)
        key = tmp_path / "k"
        key.write_text(KEY)
        argv = ["prepare", str(new_log), "--out", str(out), "--key-file", str(key)]
        assert main(argv) == 2
        err = capsys.readouterr().err.strip()
        assert len(err.splitlines()) == 1 and "another sekat run" in err
        assert live.is_dir()  # never deleted from under the run that owns it
    assert _snapshot(out) == old


def test_a_folder_sekat_did_not_make_is_never_removed(tmp_path, sets):
    _, new_log, _, new = sets
    out = tmp_path / "out"
    mine = out / f"{STAGING_PREFIX}mine"
    mine.mkdir(parents=True)
    (mine / "notes.txt").write_text("my own work")
    prepare([new_log], out, key=KEY)
    assert (mine / "notes.txt").read_text() == "my own work"
    assert {p.name for p in out.iterdir()} == set(new) | {mine.name}


def test_a_failed_first_run_leaves_no_empty_folder(tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_text("not,a,log\n1,2,3\n")
    with pytest.raises(SekatError):
        prepare([bad], tmp_path / "out", key=KEY)
    assert not (tmp_path / "out").exists()
