"""The prepare pipeline: raw logs in, validated and pseudonymised tables out, atomically.

:func:`prepare` reads every input, validates, pseudonymises and writes ``events.parquet``,
``quarantine.parquet``, ``cases.parquet``, ``handovers.parquet``, ``report.json`` and
``manifest.json`` into one directory. Writes are atomic: everything is written and fsynced in
a temporary directory beside the outputs, then moved into place with ``os.replace``, the
manifest last, so a run killed at any moment leaves the previous outputs readable and the
next run redoes the work. Outputs are byte-identical for identical inputs and parameters (no
wall-clock times anywhere), and a rerun whose inputs and parameters hash the same as the
manifest's is skipped.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import shutil
import tempfile
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa

from toolkit import paths, progress, schema
from toolkit.clean.privacy import (
    DEMO_KEY,
    PRIVACY_ATTR,
    RARE_PREFIX,
    key_fingerprint,
    pseudonym,
    pseudonymise,
    rare_values,
    resolve_key,
    scrub_text,
)
from toolkit.clean.reidentification import k_anonymity_report
from toolkit.clean.validation import REASON, validate
from toolkit.errors import SekatError
from toolkit.io import readers
from toolkit.io.mapping import Mapping
from toolkit.io.prepared import (
    CASES_FILE,
    EVENTS_FILE,
    HANDOVERS_FILE,
    MANIFEST_FILE,
    QUARANTINE_FILE,
    REPORT_FILE,
    read_rollout,
)
from toolkit.io.presets import resolve_mapping
from toolkit.io.writers import fsync_dir, write_bytes, write_parquet
from toolkit.paths.walk import event_order

__all__ = [
    "ROLLOUT_FILE",
    "PrepareResult",
    "file_sha256",
    "find_rollout",
    "prepare",
]

#: The desk opening dates carried with a prepared folder (``sekat prepare --rollout``);
#: ``sekat estimate`` and :func:`toolkit.analysis.run_estimate` read it from there.
ROLLOUT_FILE = "rollout.csv"
#: Suffixes of a log's file name, stripped to find the files written beside it.
_LOG_SUFFIXES = (".gz", ".csv", ".parquet", ".xes", ".tsv", ".json", ".xml")

_log = logging.getLogger(__name__)
_TEMP_PREFIX = ".sekat-tmp-"
#: Columns of the quarantine table that are not personal and explain the fault.
_QUARANTINE_KEEP = (REASON, readers.TIMESTAMP_RAW, readers.TIMESTAMP_ISSUE)


@dataclass
class PrepareResult:
    """What :func:`prepare` did: where, whether it was skipped, the report and manifest."""

    out_dir: Path
    skipped: bool
    report: dict[str, Any] = field(default_factory=dict)
    manifest: dict[str, Any] = field(default_factory=dict)

    @property
    def outputs(self) -> list[Path]:
        """Paths of the files the manifest lists (report and manifest included)."""
        names = list(self.manifest.get("outputs", {})) + [MANIFEST_FILE]
        return [self.out_dir / name for name in names]


def file_sha256(path: str | Path) -> str:
    """SHA-256 of a file's bytes, read in chunks.

    Examples
    --------
    >>> import pathlib, tempfile
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "x"
    >>> _ = p.write_bytes(b"abc")
    >>> file_sha256(p)[:12]
    'ba7816bf8f01'
    """
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _json_bytes(data: Any) -> bytes:
    return (
        json.dumps(data, indent=2, sort_keys=True, ensure_ascii=False, default=str) + "\n"
    ).encode()


@contextlib.contextmanager
def _staging(out_dir: Path) -> Iterator[Path]:
    """A temporary directory beside the outputs (same file system, so os.replace is atomic)."""
    for stale in out_dir.glob(_TEMP_PREFIX + "*"):  # left by a run that was killed
        shutil.rmtree(stale, ignore_errors=True)
    staging = Path(tempfile.mkdtemp(prefix=_TEMP_PREFIX, dir=out_dir))
    try:
        yield staging
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def _inputs_record(paths: list[Path]) -> list[dict[str, Any]]:
    names = [p.name for p in paths]
    duplicated = {n for n in names if names.count(n) > 1}
    if duplicated:
        raise SekatError(
            f"two inputs share the file name {sorted(duplicated)[0]!r}; rows are traced by "
            "file name, so rename one",
            file=sorted(duplicated)[0],
        )
    record = []
    for path in paths:
        if not path.is_file():
            raise SekatError(
                "file does not exist" if not path.exists() else "is not a file", file=str(path)
            )
        record.append(
            {"name": path.name, "bytes": path.stat().st_size, "sha256": file_sha256(path)}
        )
    return record


def find_rollout(
    inputs: Iterable[str | Path], rollout: str | Path | bool | None = None
) -> tuple[Path | None, str]:
    """The rollout file to carry with a prepared folder, and how it was found.

    Parameters
    ----------
    inputs : iterable of paths
        The logs being prepared.
    rollout : path, False or None
        A path: that file (``"given"``). False or ``""``: none (``"none"``). None: the file
        ``NAME.rollout.csv`` that ``sekat simulate --out NAME.csv.gz`` writes beside its log,
        if there is one (``"beside_log"``), so that a log with a known rollout is never
        prepared without it unless the user says so.

    Returns
    -------
    (Path or None, str)

    Raises
    ------
    SekatError
        When a given file does not exist, or logs with different rollouts beside them are
        prepared together without ``--rollout``.

    Examples
    --------
    >>> import pathlib, tempfile
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> _ = (d / "sim.rollout.csv").write_text("region,desk_opened\\nA,2023-02-01\\n")
    >>> path, how = find_rollout([d / "sim.csv.gz"])
    >>> path.name, how
    ('sim.rollout.csv', 'beside_log')
    >>> find_rollout([d / "sim.csv.gz"], rollout=False)
    (None, 'none')
    """
    if rollout is False or (isinstance(rollout, str) and rollout.strip() in ("", "None")):
        return None, "none"
    if rollout is not None and rollout is not True:
        path = Path(rollout)
        if not path.is_file():
            raise SekatError("rollout file does not exist", file=str(path))
        return path, "given"
    found = []
    for log in inputs:
        log = Path(log)
        stem = log.name
        for suffix in _LOG_SUFFIXES:
            stem = stem.removesuffix(suffix)
        sibling = log.with_name(f"{stem}.rollout.csv")
        if sibling.is_file() and sibling not in found:
            found.append(sibling)
    if len(found) > 1:
        raise SekatError(
            f"the logs have different rollout files beside them ({', '.join(p.name for p in found)}); "
            "give the one to use with --rollout FILE (or --no-rollout)"
        )
    return (found[0], "beside_log") if found else (None, "none")


def _previous_manifest(out_dir: Path) -> dict[str, Any] | None:
    try:
        manifest = json.loads((out_dir / MANIFEST_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    for name, entry in manifest.get("outputs", {}).items():
        path = out_dir / name
        if not path.is_file() or file_sha256(path) != entry.get("sha256"):
            return None
    return manifest


def _scrubbed_counts(
    counts: dict[str, int], raw_ids: frozenset[str], rare: frozenset[str], key: bytes
) -> dict[str, int]:
    """Report keys as the tables show them: rare values as their pseudonyms, PII removed."""
    merged: dict[str, int] = {}
    for raw, n in counts.items():
        if raw in rare:
            text = pseudonym(raw, key, RARE_PREFIX)
        else:
            text, _ = scrub_text(raw, raw_ids)
        merged[text] = merged.get(text, 0) + n
    return dict(sorted(merged.items()))


def _paths_tables(
    events: pd.DataFrame, cutoff: Any, scheduler: str | None
) -> dict[str, pd.DataFrame]:
    if scheduler is None:
        # The events are already in walk order (see prepare): neither table sorts again.
        cases, flows = paths.case_table_and_handovers(events, cutoff=cutoff)
        return {CASES_FILE: cases, HANDOVERS_FILE: flows}
    import dask.dataframe as dd

    from toolkit.paths import cluster

    with cluster.connect(scheduler):
        lazy = dd.from_pandas(events, npartitions=max(1, min(64, len(events) // 250_000 + 1)))
        cases = paths.case_table(lazy, cutoff=cutoff).compute()
        flows = paths.handovers(lazy).compute()
    cases = cases.sort_values(schema.CASE_ID, kind="stable").reset_index(drop=True)
    # Dask types the (empty) categories of all-missing columns as object; pandas as str.
    for column in cases.columns:
        values = cases[column]
        if isinstance(values.dtype, pd.CategoricalDtype) and len(values.cat.categories) == 0:
            cases[column] = values.cat.set_categories(pd.Index([], dtype="str"))
    keys = [
        c for c in flows.columns if c not in (schema.COUNT, schema.MEDIAN_HOURS, schema.MEAN_HOURS)
    ]
    flows = flows.sort_values(keys, kind="stable").reset_index(drop=True)
    return {CASES_FILE: cases, HANDOVERS_FILE: flows}


def prepare(
    inputs: str | Path | Iterable[str | Path],
    out_dir: str | Path,
    *,
    mapping: Mapping | dict[str, Any] | str | Path | None = None,
    preset: str | None = None,
    key: bytes | str | None = None,
    key_file: str | Path | None = None,
    demo: bool = False,
    strict_channels: bool = False,
    cutoff: Any = None,
    source_tz: str = schema.DEFAULT_SOURCE_TZ,
    scheduler: str | None = None,
    force: bool = False,
    rare_below: int = schema.MIN_CELL_COUNT,
    k: int = schema.MIN_CELL_COUNT,
    rollout: str | Path | bool | None = None,
) -> PrepareResult:
    """Read, validate and pseudonymise event logs; write the prepared tables atomically.

    Parameters
    ----------
    inputs : path or iterable of paths
        Event-log files (CSV, gzipped CSV, Parquet); distinct base names.
    out_dir : str or path-like
        Output directory (created if missing). Files other than the six outputs are left alone.
    mapping, preset : optional
        As for :func:`toolkit.io.readers.read_events`; a mapping file is recorded by content.
    key, key_file : optional
        Pseudonymisation key, or a file holding it; else ``SEKAT_KEY``.
    demo : bool
        Use the published :data:`toolkit.clean.privacy.DEMO_KEY` (shipped synthetic data only).
    strict_channels : bool
        Quarantine unknown channels instead of reading them as ``other``.
    cutoff : timestamp-like, optional
        Observation cut-off for the case table (default: the last event).
    source_tz : str
        Time zone of naive timestamps.
    scheduler : str, optional
        Address of a dask.distributed scheduler for the case and hand-off tables; results
        are identical to the in-process ones, so it is not part of the manifest.
    force : bool
        Rebuild even if the manifest says nothing changed.
    rare_below : int, default :data:`toolkit.schema.MIN_CELL_COUNT` (10)
        Text values (agency, category, region, raw activity and channel names, ...) held by
        fewer requests of the whole log are replaced by keyed pseudonyms, since names and
        free text hide there (see :func:`toolkit.clean.privacy.pseudonymise`); 0 keeps them.
    k : int, default :data:`toolkit.schema.MIN_CELL_COUNT` (10)
        Group size of the k-anonymity report on the case table.
    rollout : path, False or None
        Desk opening dates (``region, desk_opened``) to carry with the prepared data: copied
        to ``rollout.csv`` in ``out_dir`` and recorded in the manifest (name, SHA-256, how it
        was found), where ``sekat estimate`` finds it. None (the default) takes the
        ``NAME.rollout.csv`` written beside the log by ``sekat simulate``, if any, and says so;
        False carries none (see :func:`find_rollout`).

    Returns
    -------
    PrepareResult
        ``skipped`` is True when the outputs were already up to date.

    Raises
    ------
    SekatError
        A missing or unreadable input, a missing column, a missing key, an unknown preset.

    Notes
    -----
    Outputs: ``events.parquet`` (clean, pseudonymised events sorted by case_id, timestamp,
    source_file, source_row), ``quarantine.parquet`` (quarantined rows, pseudonymised and
    scrubbed, with reason), ``cases.parquet`` and ``handovers.parquet`` (from
    :mod:`toolkit.paths.walk`), ``report.json`` (the validation report at top level: rows_in,
    rows_kept, rows_quarantined, reasons, ...; plus ``privacy``, ``inputs`` and
    ``k_anonymity``, the counts of :func:`toolkit.clean.reidentification.k_anonymity_report` over
    channel x region x category x week of intake: read them before sharing a row-level
    table) and
    ``manifest.json`` (input names, sizes and SHA-256, parameters, key fingerprint,
    versions, output hashes; no times). A run is skipped when the manifest's ``build`` hash
    (over inputs, parameters and versions) matches and every listed output still has the
    recorded hash.

    Examples
    --------
    >>> import pathlib, tempfile
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> _ = (d / "log.csv").write_text("case_id,timestamp,agency,activity,channel\\n"
    ...                                "r1,2024-01-05 08:00,A,submitted,web\\n"
    ...                                "r1,2024-01-05 09:00,B,resolved,web\\n")
    >>> result = prepare([d / "log.csv"], d / "out", demo=True)
    >>> result.report["rows_kept"], result.skipped
    (2, False)
    >>> prepare([d / "log.csv"], d / "out", demo=True).skipped
    True
    """
    import toolkit

    if isinstance(inputs, str | Path):
        inputs = [inputs]
    paths = [Path(p) for p in inputs]
    if not paths:
        raise SekatError("no input files given")
    out_dir = Path(out_dir)
    if out_dir.exists() and not out_dir.is_dir():
        raise SekatError("output path exists and is not a directory", file=str(out_dir))

    if rare_below < 0:
        raise SekatError(f"rare_below must be 0 or more, got {rare_below}")
    if k < 1:
        raise SekatError(f"k must be at least 1, got {k}")
    if demo and (key is not None or key_file is not None):
        raise SekatError("give either the demo key or a key, not both")
    secret, key_source = (DEMO_KEY, "demo") if demo else resolve_key(key, key_file)
    resolved = resolve_mapping(mapping, preset)
    mapping_file = None
    if isinstance(mapping, str | Path):
        mapping_file = {"name": Path(mapping).name, "sha256": file_sha256(mapping)}
    try:
        cutoff_text = None if cutoff is None else pd.Timestamp(cutoff).isoformat()
    except (ValueError, TypeError):
        raise SekatError(f"cannot read the cut-off {cutoff!r} as a time") from None
    rollout_path, rollout_how = find_rollout(paths, rollout)
    rollout_record = None
    if rollout_path is not None:
        desks = read_rollout(rollout_path)  # refused here, naming file, column and row
        rollout_record = {
            "name": rollout_path.name,
            "sha256": file_sha256(rollout_path),
            "found": rollout_how,
            "regions": int(len(desks)),
        }
        _log.debug(
            "carrying the rollout %s (%s) as %s",
            rollout_path,
            "given"
            if rollout_how == "given"
            else "found beside the log; --no-rollout leaves it out",
            ROLLOUT_FILE,
        )

    parameters = {
        "preset": preset,
        "mapping": resolved.to_dict(),
        "mapping_file": mapping_file,
        "strict_channels": bool(strict_channels),
        "cutoff": cutoff_text,
        "source_tz": source_tz,
        "key_source": key_source,
        "key_fingerprint": key_fingerprint(secret),
        "rare_below": int(rare_below),
        "k": int(k),
        "rollout": rollout_record,
    }
    versions = {
        "sekat": toolkit.__version__,
        "pandas": pd.__version__,
        "pyarrow": pa.__version__,
    }
    input_record = _inputs_record(paths)
    build = hashlib.sha256(
        _json_bytes({"inputs": input_record, "parameters": parameters, "versions": versions})
    ).hexdigest()

    if not force and out_dir.is_dir():
        previous = _previous_manifest(out_dir)
        if previous is not None and previous.get("build") == build:
            report = json.loads((out_dir / REPORT_FILE).read_text(encoding="utf-8"))
            return PrepareResult(out_dir=out_dir, skipped=True, report=report, manifest=previous)

    with progress.bar(len(paths) + 5, "sekat prepare") as shown:
        frames = []
        for path in paths:
            with progress.step(shown, f"reading {path.name}", _log):
                frames.append(
                    readers.read_events(
                        path, resolved, source_tz=source_tz, strict_channels=strict_channels
                    )
                )
            _log.debug("%s: %d rows", path.name, len(frames[-1]))
        # Columns outside the contract never reach the tables; the report names them.
        not_read = {
            path.name: sorted(map(str, frame.attrs.get(readers.IGNORED_COLUMNS, [])))
            for path, frame in zip(paths, frames, strict=True)
        }
        events = pd.concat(frames, ignore_index=True) if len(frames) > 1 else frames[0]
        with progress.step(shown, "validating", _log):
            checked = validate(events, strict_channels=strict_channels)

        with progress.step(shown, "pseudonymising", _log):
            anon = pseudonymise(
                checked.clean,
                key=secret,
                keep=resolved.keep,
                rare_below=rare_below,
                population=events,
            )
        with progress.step(shown, "ordering the events", _log):
            # The one ordering of the rows: (case, time, source file, source row), found on
            # integer codes; events.parquet is written in it, and the path tables see it.
            anon = anon.take(event_order(anon)).reset_index(drop=True)
        with progress.step(shown, "pseudonymising the quarantine", _log):
            quarantine = checked.quarantine.drop(
                columns=[c for c in readers.READ_MARKERS if c not in _QUARANTINE_KEEP],
                errors="ignore",
            )
            quarantined = pseudonymise(
                quarantine,
                key=secret,
                keep=tuple(c for c in resolved.keep + _QUARANTINE_KEEP if c in quarantine.columns),
                extra_ids=checked.clean[schema.CASE_ID].dropna().unique(),
                rare_below=rare_below,
                population=events,
            )
            quarantined = quarantined.sort_values(
                [schema.SOURCE_FILE, schema.SOURCE_ROW], kind="stable"
            ).reset_index(drop=True)

        tables = {EVENTS_FILE: anon, QUARANTINE_FILE: quarantined}
        with progress.step(shown, "case and hand-off tables", _log):
            tables.update(_paths_tables(anon, cutoff, scheduler))

    report = dict(checked.report)
    # Raw channel and activity names are free text: the report must not leak through them.
    raw_ids = frozenset(events[schema.CASE_ID].dropna().unique())
    for counts, column in (
        ("channels_mapped_to_other", schema.CHANNEL_RAW),
        ("unmapped_activities", schema.ACTIVITY_RAW),
    ):
        rare = rare_values(events, column, rare_below)
        report[counts] = _scrubbed_counts(report[counts], raw_ids, rare, secret)
    # A misspelt agency is rare by nature: name it as the tables do, never as typed.
    rare_agencies = rare_values(events, schema.AGENCY, rare_below)
    for pair in report.get("agency_near_duplicates", []):
        for side in ("agency", "similar_agency"):
            if side in pair:
                (name,) = _scrubbed_counts({str(pair[side]): 0}, raw_ids, rare_agencies, secret)
                pair[side] = name
    report["inputs"] = {
        entry["name"]: int((events[schema.SOURCE_FILE] == entry["name"]).sum())
        for entry in input_record
    }
    report["privacy"] = {
        **anon.attrs.get(PRIVACY_ATTR, {}),
        "columns_not_read": {name: cols for name, cols in not_read.items() if cols},
    }
    report["quarantine_privacy"] = quarantined.attrs.get(PRIVACY_ATTR, {})
    if CASES_FILE in tables:
        report["k_anonymity"] = k_anonymity_report(tables[CASES_FILE], k=k).summary
    report["hops_observed"] = (
        bool(anon[schema.HOPS_OBSERVED].all()) if schema.HOPS_OBSERVED in anon else True
    )

    if rollout_path is not None and CASES_FILE in tables:
        cases = tables[CASES_FILE]
        logged = (
            set(cases[schema.REGION].dropna().astype("str")) if schema.REGION in cases else set()
        )
        if not set(desks[schema.REGION]) & logged:
            raise SekatError(
                "none of its regions occurs in the log; is it the rollout of another log?",
                file=str(rollout_path),
                column=schema.REGION,
            )

    out_dir.mkdir(parents=True, exist_ok=True)
    began = time.perf_counter()
    stale_rollout = False
    with contextlib.suppress(OSError, ValueError):
        before = json.loads((out_dir / MANIFEST_FILE).read_text(encoding="utf-8"))
        stale_rollout = rollout_path is None and ROLLOUT_FILE in before.get("outputs", {})
    with _staging(out_dir) as staging:
        for name, table in tables.items():
            write_parquet(table, staging / name)
        write_bytes(staging / REPORT_FILE, _json_bytes(report))
        written = [*tables, REPORT_FILE]
        if rollout_path is not None:
            write_bytes(staging / ROLLOUT_FILE, rollout_path.read_bytes())
            written.append(ROLLOUT_FILE)
        outputs = {
            name: {"sha256": file_sha256(staging / name), "bytes": (staging / name).stat().st_size}
            for name in sorted(written)
        }
        manifest = {
            "build": build,
            "inputs": input_record,
            "parameters": parameters,
            "versions": versions,
            "outputs": outputs,
        }
        write_bytes(staging / MANIFEST_FILE, _json_bytes(manifest))
        fsync_dir(staging)
        # The manifest goes last: until it is replaced, the old manifest no longer matches
        # the half-new outputs, so an interrupted run is redone in full next time.
        if stale_rollout:
            # The rollout this folder carried before must not be read with the new data; the
            # old manifest then no longer matches, so an interrupted run is redone.
            with contextlib.suppress(FileNotFoundError):
                (out_dir / ROLLOUT_FILE).unlink()
        for name in [*sorted(outputs), MANIFEST_FILE]:
            os.replace(staging / name, out_dir / name)
        fsync_dir(out_dir)
    _log.debug("writing the outputs: %.2f s", time.perf_counter() - began)
    return PrepareResult(out_dir=out_dir, skipped=False, report=report, manifest=manifest)
