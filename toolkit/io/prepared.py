"""Reading what ``sekat prepare`` wrote, and the files that travel with it.

A *prepared folder* holds the validated, pseudonymised events and the tables derived from them
(:data:`PREPARED_FILES`); :func:`load_prepared` reads it into a :class:`PreparedData` for the
notebooks and ``sekat estimate``, with the two companions a log may have: the desk opening
dates of a staggered rollout (:func:`read_rollout`) and, for a synthetic log, the generator's
planted truth, used only with the log it was written for (:func:`truth_belongs`).
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from toolkit import schema
from toolkit.errors import MissingColumnError, SekatError
from toolkit.io.writers import finish_release

__all__ = [
    "CASES_FILE",
    "EVENTS_FILE",
    "HANDOVERS_FILE",
    "MANIFEST_FILE",
    "PREPARED_FILES",
    "QUARANTINE_FILE",
    "REPORT_FILE",
    "PreparedData",
    "load_prepared",
    "optional_path",
    "read_rollout",
    "read_table",
    "truth_belongs",
]

#: The files of a prepared folder (``sekat prepare`` writes them, the manifest last).
EVENTS_FILE = "events.parquet"
QUARANTINE_FILE = "quarantine.parquet"
CASES_FILE = "cases.parquet"
HANDOVERS_FILE = "handovers.parquet"
REPORT_FILE = "report.json"
MANIFEST_FILE = "manifest.json"
PREPARED_FILES = (
    EVENTS_FILE,
    QUARANTINE_FILE,
    CASES_FILE,
    HANDOVERS_FILE,
    REPORT_FILE,
    MANIFEST_FILE,
)


def read_table(path: str | os.PathLike[str]) -> pd.DataFrame:
    """A CSV or Parquet table (by suffix), or a SekatError naming the file.

    Examples
    --------
    >>> read_table("/no/such/table.csv")  # doctest: +IGNORE_EXCEPTION_DETAIL
    Traceback (most recent call last):
    toolkit.errors.SekatError: /no/such/table.csv: file not found
    """
    path = Path(path)
    if not path.is_file():
        raise SekatError("file not found", file=str(path))
    try:
        if path.name.lower().endswith(".parquet"):
            return pd.read_parquet(path)
        return pd.read_csv(path)
    except (OSError, ValueError, UnicodeDecodeError) as error:
        raise SekatError(f"cannot read the table: {error}", file=str(path)) from error


@dataclass(frozen=True)
class PreparedData:
    """What a notebook works on: the tables of one prepared folder, and companions.

    Attributes
    ----------
    data_dir : pathlib.Path
        The prepared folder.
    cases : pandas.DataFrame
        One row per request (:func:`toolkit.paths.case_table`).
    events : pandas.DataFrame or None
        The validated, pseudonymised events (None unless asked for).
    handovers : pandas.DataFrame
        Agency-to-agency hand-off counts.
    report : dict
        The validation report (rows in, kept, quarantined, reasons, privacy).
    rollout : pandas.DataFrame or None
        ``region``, ``desk_opened`` (UTC; NaT = never), when a rollout file was given.
    truth : pandas.DataFrame or None
        The generator's planted effects, when a truth file was given and belongs to this log.
    notes : tuple of str
        What was left out and why (e.g. a truth file of another log).
    """

    data_dir: Path
    cases: pd.DataFrame
    events: pd.DataFrame | None
    handovers: pd.DataFrame
    report: dict
    rollout: pd.DataFrame | None
    truth: pd.DataFrame | None
    notes: tuple[str, ...] = ()


def optional_path(path: str | os.PathLike[str] | None) -> Path | None:
    """A path parameter, or None for "none" (``None``, ``""`` or ``"None"``, as papermill passes).

    Examples
    --------
    >>> optional_path(""), optional_path("a.csv")
    (None, PosixPath('a.csv'))
    """
    if path is None or str(path).strip() in ("", "None"):
        return None
    return Path(path)


def read_rollout(path: str | os.PathLike[str]) -> pd.DataFrame:
    """Read a rollout file: one row per region and the date its social-media desk opened.

    Parameters
    ----------
    path : path-like
        CSV with columns ``region`` and ``desk_opened`` (a date or timestamp; empty for a
        region that never opened a desk). Dates without a zone are read as UTC.

    Returns
    -------
    pandas.DataFrame
        ``region`` (str) and ``desk_opened`` (datetime64[ns, UTC]), one row per region.

    Raises
    ------
    SekatError
        When the file or a column is missing, a date cannot be read (naming its row) or a
        region is listed twice.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> f = pathlib.Path(tempfile.mkdtemp()) / "desks.csv"
    >>> _ = f.write_text("region,desk_opened\\nCoblong,2023-05-01\\nRegol,\\n")
    >>> read_rollout(f)["desk_opened"].dt.strftime("%Y-%m-%d").tolist()
    ['2023-05-01', nan]

    Notes
    -----
    The row number in an error counts data rows from 0, as the rest of sekat does.
    """
    path = Path(path)
    if not path.is_file():
        raise SekatError("rollout file not found", file=str(path))
    try:
        raw = pd.read_csv(path, dtype="str", keep_default_na=False)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as error:
        raise SekatError(f"cannot read the rollout file ({error})", file=str(path)) from error
    missing = [c for c in schema.ROLLOUT_COLUMNS if c not in raw.columns]
    if missing:
        raise MissingColumnError(
            f"needs columns {list(schema.ROLLOUT_COLUMNS)}; found {list(raw.columns)}",
            file=str(path),
            column=missing[0],
        )
    text = raw[schema.DESK_OPENED].str.strip()
    opened = pd.to_datetime(text.where(text != ""), utc=True, errors="coerce", format="mixed")
    bad = np.flatnonzero(opened.isna().to_numpy() & (text != "").to_numpy())
    if len(bad):
        raise SekatError(
            f"cannot read the date {text.iloc[bad[0]]!r}",
            file=str(path),
            column=schema.DESK_OPENED,
            row=int(bad[0]),
        )
    region = raw[schema.REGION].str.strip()
    twice = np.flatnonzero(region.duplicated().to_numpy())
    if len(twice):
        raise SekatError(
            f"region {region.iloc[twice[0]]!r} is listed twice",
            file=str(path),
            column=schema.REGION,
            row=int(twice[0]),
        )
    return pd.DataFrame(
        {
            schema.REGION: region.astype("str"),
            schema.DESK_OPENED: opened.astype(schema.TIMESTAMP_DTYPE),
        }
    )


def _log_stems(report: dict) -> set[str]:
    names = report.get("inputs", {})
    stems = set()
    for name in names:
        stem = str(name)
        for suffix in (".gz", ".csv", ".parquet", ".xes", ".tsv"):
            stem = stem.removesuffix(suffix)
        stems.add(stem)
    return stems


def truth_belongs(truth_path: str | os.PathLike[str], report: dict) -> bool:
    """Whether a truth file was written beside the log this folder was prepared from.

    ``sekat simulate --out NAME.csv.gz`` writes ``NAME.truth.csv`` beside the log; the
    report names the log it read. A truth file of another log must never be compared with
    these estimates.

    Examples
    --------
    >>> truth_belongs("data/raw/sample_events.truth.csv", {"inputs": {"sample_events.csv.gz": 1}})
    True
    >>> truth_belongs("data/raw/sample_events.truth.csv", {"inputs": {"my_city.csv": 1}})
    False
    """
    stem = Path(truth_path).name.removesuffix(".csv").removesuffix(".truth")
    return stem in _log_stems(report)


def load_prepared(
    data_dir: str | os.PathLike[str],
    *,
    rollout_file: str | os.PathLike[str] | None = None,
    truth_file: str | os.PathLike[str] | None = None,
    events: bool = False,
) -> PreparedData:
    """Read a folder written by ``sekat prepare``, with the rollout and truth files if any.

    Parameters
    ----------
    data_dir : path-like
        The prepared folder (cases.parquet, handovers.parquet, report.json, ...).
    rollout_file : path-like, optional
        Desk opening dates (:func:`read_rollout`); "" or None for none. Its regions must
        include at least one region of the log. A file named ``NAME.rollout.csv`` (as
        ``sekat simulate`` writes beside ``NAME.csv.gz``) is used only with the log it was
        written for, like the truth file; otherwise it is left out with a note.
    truth_file : path-like, optional
        The planted truth of a synthetic log. It is used only if it sits beside the log the
        folder was prepared from (see :func:`truth_belongs`) and exists; otherwise it is left
        out and :attr:`PreparedData.notes` says so, since a user's own log has no truth.
    events : bool, default False
        Also read events.parquet (larger; only notebooks that need events ask for it).

    Returns
    -------
    PreparedData

    Raises
    ------
    SekatError
        A missing folder or file names the file and the command that makes it.

    Examples
    --------
    >>> load_prepared("/no/such/folder")  # doctest: +IGNORE_EXCEPTION_DETAIL
    Traceback (most recent call last):
    toolkit.errors.SekatError: /no/such/folder/cases.parquet: not found; run sekat prepare
    """
    folder = Path(data_dir)
    # A release killed after its commit point is finished first (and one being written is
    # waited for), so a reader never sees new tables beside an old report.
    finish_release(folder)
    tables: dict[str, pd.DataFrame] = {}
    for name in (CASES_FILE, REPORT_FILE, HANDOVERS_FILE, *([EVENTS_FILE] if events else [])):
        path = folder / name
        if not path.is_file():
            raise SekatError(
                "not found; run `sekat prepare LOG --out FOLDER` first (see README)",
                file=str(path),
            )
        if name == REPORT_FILE:
            try:
                report = json.loads(path.read_text(encoding="utf-8"))
            except (OSError, ValueError) as error:
                raise SekatError(f"not a prepare report ({error})", file=str(path)) from None
        else:
            tables[name] = read_table(path)
    cases = tables[CASES_FILE]
    notes: list[str] = []
    rollout = None
    rollout_path = optional_path(rollout_file)
    if rollout_path is not None and rollout_path.name.endswith(".rollout.csv"):
        # Written by `sekat simulate` beside its log: it belongs to that log only.
        if not truth_belongs(rollout_path.name.replace(".rollout.csv", ".truth.csv"), report):
            notes.append(f"no rollout: {rollout_path.name} belongs to another log")
            rollout_path = None
    if rollout_path is not None:
        rollout = read_rollout(rollout_path)
        if schema.REGION not in cases.columns or not set(rollout[schema.REGION]) & set(
            cases[schema.REGION].dropna().astype("str")
        ):
            raise SekatError(
                "none of its regions occurs in the log; is it the rollout of another log?",
                file=str(rollout_path),
                column=schema.REGION,
            )
    truth = None
    truth_path = optional_path(truth_file)
    if truth_path is not None:
        if not truth_path.is_file():
            notes.append(f"no planted truth: {truth_path.name} not found")
        elif not truth_belongs(truth_path, report):
            notes.append(f"no planted truth: {truth_path.name} belongs to another log")
        else:
            truth = pd.read_csv(truth_path)
    return PreparedData(
        data_dir=folder,
        cases=cases,
        events=tables.get(EVENTS_FILE),
        handovers=tables[HANDOVERS_FILE],
        report=report,
        rollout=rollout,
        truth=truth,
        notes=tuple(notes),
    )
