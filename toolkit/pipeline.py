"""The prepare pipeline: raw logs in, validated and pseudonymised tables out, atomically.

:func:`prepare` reads every input, validates, pseudonymises and writes ``events.parquet``,
``quarantine.parquet``, ``cases.parquet``, ``handovers.parquet``, ``report.json`` and
``manifest.json`` into one directory. Writes are atomic as a set: one run at a time holds the
folder's lock (a second stops with a clear message); everything is written and fsynced in a
staging folder beside the outputs, a commit file is written, then the files are moved into
place with ``os.replace``, the manifest last (:func:`toolkit.io.writers.release`). A run
killed before the commit point leaves the previous set; one killed after it is finished by
the next run or reader, so the folder never serves new tables beside an old report. Only
staging folders sekat made are ever removed. Outputs are byte-identical for identical inputs and parameters (no
wall-clock times anywhere), and a rerun whose inputs and parameters hash the same as the
manifest's is skipped.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import time
from collections.abc import Iterable
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
    Rarity,
    key_fingerprint,
    pseudonym,
    pseudonymise,
    resolve_key,
    scrub_name,
    scrub_record,
    scrub_text,
)
from toolkit.clean.reidentification import k_anonymity_report
from toolkit.clean.validation import REASON, time_warnings, validate
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
from toolkit.io.writers import (
    finish_release,
    folder_lock,
    release,
    write_bytes,
    write_parquet,
)
from toolkit.paths.walk import event_order

__all__ = [
    "ROLLOUT_FILE",
    "PrepareResult",
    "file_sha256",
    "find_rollout",
    "prepare",
    "public_name",
]

#: The desk opening dates carried with a prepared folder (``sekat prepare --rollout``);
#: ``sekat estimate`` and :func:`toolkit.analysis.run_estimate` read it from there.
ROLLOUT_FILE = "rollout.csv"
#: Suffixes of a log's file name, stripped to find the files written beside it.
_LOG_SUFFIXES = (".gz", ".csv", ".parquet", ".xes", ".tsv", ".json", ".xml")

_log = logging.getLogger(__name__)
#: Columns of the quarantine table that are not personal and explain the fault.
_QUARANTINE_KEEP = (REASON, readers.TIMESTAMP_RAW, readers.TIMESTAMP_ISSUE)


@dataclass
class PrepareResult:
    """What :func:`prepare` did: where, whether it was skipped, the report and manifest."""

    out_dir: Path
    skipped: bool
    report: dict[str, Any] = field(default_factory=dict)
    manifest: dict[str, Any] = field(default_factory=dict)
    #: The data owner's view, never written to disk: channel and activity values the mapping
    #: did not know and agency spellings that look alike, as typed (only e-mail addresses,
    #: phone and NIK numbers, street addresses and raw ids removed), counted in requests (the
    #: report writes them pseudonymised or scrubbed). Empty when the run was skipped.
    raw_vocabulary: dict[str, Any] = field(default_factory=dict)

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


def _manifest_last(names: list[str]) -> list[str]:
    """The order files switch in: the outputs, then the manifest."""
    return [n for n in names if n != MANIFEST_FILE] + [n for n in names if n == MANIFEST_FILE]


def public_name(path: Path) -> str:
    """The name an input file is known by in every output: its base name, scrubbed.

    A file named after a person (``laporan budi@gmail.com.csv``) is recorded as
    ``laporan [removed:email].csv`` in ``source_file``, the report and the manifest.

    Examples
    --------
    >>> public_name(Path("/data/laporan_budi.santoso@gmail.com_081234567890.csv"))
    '[removed:email]_[removed:phone].csv'
    """
    return scrub_name(path.name)


def _inputs_record(paths: list[Path]) -> list[dict[str, Any]]:
    names = [public_name(p) for p in paths]
    duplicated = {n for n in names if names.count(n) > 1}
    if duplicated:
        raise SekatError(
            f"two inputs share the file name {sorted(duplicated)[0]!r}; rows are traced by "
            "file name, so rename one",
            file=sorted(duplicated)[0],
        )
    record = []
    for path, name in zip(paths, names, strict=True):
        if not path.is_file():
            raise SekatError(
                "file does not exist" if not path.exists() else "is not a file", file=str(path)
            )
        record.append({"name": name, "bytes": path.stat().st_size, "sha256": file_sha256(path)})
    return record


def _mapping_sha256(data: dict[str, Any]) -> str:
    """The mapping as a hash: its words (which may name staff) never enter the manifest."""
    return hashlib.sha256(_json_bytes(data)).hexdigest()


def _mapped_away(frame: pd.DataFrame, keep_raw: bool) -> pd.DataFrame:
    """Blank ``activity_raw``/``channel_raw`` where a mapping read the value, unless kept.

    A raw label the mapping turned into a lifecycle activity or a channel is the text the
    user mapped away (a staff name, a phone number written into an activity); it stays only
    with ``keep_raw``. Unmapped values stay (scrubbed later), since the report counts them.
    """
    if keep_raw:
        return frame
    frame = frame.copy(deep=False)  # new columns replace the raw ones; the rest is shared
    for raw, unmapped in (
        (schema.ACTIVITY_RAW, readers.ACTIVITY_UNMAPPED),
        (schema.CHANNEL_RAW, readers.CHANNEL_UNMAPPED),
    ):
        if raw in frame and unmapped in frame:
            mapped = ~frame[unmapped].astype(bool).to_numpy()
            values = frame[raw].astype("str")
            frame[raw] = values.mask(mapped)
    return frame


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
    keep_raw: bool = False,
    as_of: Any = None,
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
        As for :func:`toolkit.io.readers.read_events`; a mapping is recorded by its SHA-256 only (its words may name staff), a mapping file by its scrubbed name and hash.
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
    keep_raw : bool, default False
        Keep in ``activity_raw``/``channel_raw`` the raw labels that the mapping read as a
        lifecycle activity or a channel (still scrubbed). By default only the unmapped ones
        are kept, since a label mapped away may be what the user wanted gone.
    as_of : timestamp-like, optional
        The run date: requests with a time after it are quarantined (``future_timestamp``).
        Default now; not part of the manifest, so outputs stay byte-identical until the date
        passes a time written in the log.
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
        mapping_file = {"name": scrub_name(Path(mapping).name), "sha256": file_sha256(mapping)}
    try:
        cutoff_text = None if cutoff is None else pd.Timestamp(cutoff).isoformat()
    except (ValueError, TypeError):
        raise SekatError(f"cannot read the cut-off {cutoff!r} as a time") from None
    try:
        as_of = None if as_of is None else pd.Timestamp(as_of)
    except (ValueError, TypeError):
        raise SekatError(f"cannot read the run date {as_of!r} as a time") from None
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
        "mapping_sha256": _mapping_sha256(resolved.to_dict()),
        "mapping_file": mapping_file,
        "strict_channels": bool(strict_channels),
        "cutoff": cutoff_text,
        "source_tz": source_tz,
        "key_source": key_source,
        "rare_below": int(rare_below),
        "k": int(k),
        "keep_raw": bool(keep_raw),
        "rollout": rollout_record,
    }
    versions = {
        "sekat": toolkit.__version__,
        "pandas": pd.__version__,
        "pyarrow": pa.__version__,
    }
    input_record = _inputs_record(paths)
    # The fingerprint is salted with everything else the build depends on: slow to test a
    # guess against, and a guess tested for one release serves no other.
    salt = hashlib.sha256(
        _json_bytes({"inputs": input_record, "parameters": parameters, "versions": versions})
    ).digest()
    parameters["key_fingerprint"] = key_fingerprint(secret, salt)
    build = hashlib.sha256(
        _json_bytes({"inputs": input_record, "parameters": parameters, "versions": versions})
    ).hexdigest()

    created = not out_dir.exists()
    out_dir.mkdir(parents=True, exist_ok=True)
    try:
        with folder_lock(out_dir):
            finish_release(out_dir, locked=True)  # what a killed run left: finished or discarded
            if not force:
                previous = _previous_manifest(out_dir)
                if previous is not None and previous.get("build") == build:
                    report = json.loads((out_dir / REPORT_FILE).read_text(encoding="utf-8"))
                    return PrepareResult(
                        out_dir=out_dir, skipped=True, report=report, manifest=previous
                    )

            with progress.bar(len(paths) + 5, "sekat prepare") as shown:
                frames = []
                for path, entry in zip(paths, input_record, strict=True):
                    with progress.step(shown, f"reading {entry['name']}", _log):
                        frame = readers.read_events(
                            path, resolved, source_tz=source_tz, strict_channels=strict_channels
                        )
                        ignored = frame.attrs.get(readers.IGNORED_COLUMNS, [])
                        frame = _mapped_away(frame, keep_raw)
                        frame[schema.SOURCE_FILE] = entry["name"]
                        frame.attrs[readers.IGNORED_COLUMNS] = ignored
                        frames.append(frame)
                    _log.debug("%s: %d rows", entry["name"], len(frames[-1]))
                # Columns outside the contract never reach the tables; the report names them
                # (scrubbed: a column name can be an e-mail address).
                not_read = {
                    entry["name"]: sorted(
                        map(scrub_name, frame.attrs.get(readers.IGNORED_COLUMNS, []))
                    )
                    for entry, frame in zip(input_record, frames, strict=True)
                }
                events = pd.concat(frames, ignore_index=True) if len(frames) > 1 else frames[0]
                with progress.step(shown, "validating", _log):
                    checked = validate(events, strict_channels=strict_channels, as_of=as_of)

                # Rarity is counted over the whole log once, for every part and the report, on
                # the codes validation made (text columns of the log are coded once).
                rarity = Rarity(
                    events,
                    rare_below,
                    coded={
                        column: codes
                        for column, codes in checked.codes.items()
                        if isinstance(events[column].dtype, pd.StringDtype)
                    },
                )
                # The clean events are let go once pseudonymised: one copy of the log at a time.
                clean, kept_rows = checked.clean, checked.kept_rows
                validation_report, set_aside = checked.report, checked.quarantine
                del checked
                with progress.step(shown, "pseudonymising", _log):
                    anon = pseudonymise(
                        clean,
                        key=secret,
                        keep=resolved.keep,
                        rare_below=rare_below,
                        population=rarity,
                        population_rows=kept_rows,
                        fingerprint_salt=salt,
                    )
                    del clean
                with progress.step(shown, "pseudonymising the quarantine", _log):
                    quarantine = set_aside.drop(
                        columns=[c for c in readers.READ_MARKERS if c not in _QUARANTINE_KEEP],
                        errors="ignore",
                    )
                    quarantined = pseudonymise(
                        quarantine,
                        key=secret,
                        keep=tuple(
                            c for c in resolved.keep + _QUARANTINE_KEEP if c in quarantine.columns
                        ),
                        # the ids of the kept events, and of the quarantine itself: every id
                        extra_ids=rarity.raw_ids(schema.CASE_ID),
                        rare_below=rare_below,
                        population=rarity,
                        fingerprint_salt=salt,
                    )
                    quarantined = quarantined.sort_values(
                        [schema.SOURCE_FILE, schema.SOURCE_ROW], kind="stable"
                    ).reset_index(drop=True)

                # What the report needs of the whole log; then the log is let go, before the
                # events are copied into their order: one copy of the log at a time.
                case_order = rarity.pseudonym_order(schema.CASE_ID, secret, kept_rows)
                raw_ids = rarity.raw_ids(schema.CASE_ID)
                rare_words = {
                    column: rarity.rare(column)
                    for column in (schema.CHANNEL_RAW, schema.ACTIVITY_RAW, schema.AGENCY)
                }
                rows_read = [len(frame) for frame in frames]
                channel_observed = all(
                    frame.attrs.get(readers.CHANNEL_OBSERVED, True) for frame in frames
                )
                del events, frames, frame, rarity
                with progress.step(shown, "ordering the events", _log):
                    # The one ordering of the rows: (case, time, source file, source row), found on
                    # integer codes (the distinct pseudonyms sorted once); events.parquet is
                    # written in it, and the path tables see it.
                    anon = anon.take(event_order(anon, case_codes=case_order))
                    anon = anon.reset_index(drop=True)
                tables = {EVENTS_FILE: anon, QUARANTINE_FILE: quarantined}
                with progress.step(shown, "case and hand-off tables", _log):
                    tables.update(_paths_tables(anon, cutoff, scheduler))

            report = dict(validation_report)
            # The data owner's view (the console): values as typed, not pseudonymised, so that
            # the mapping can be fixed; e-mail addresses, phone and NIK numbers, street addresses
            # and raw ids are still removed, since a terminal's scrollback is often copied.

            def shown(text: Any) -> str:
                return scrub_text(str(text), raw_ids)[0]

            raw_vocabulary = {
                key: {shown(value): n for value, n in report[key].items()}
                for key in ("channels_mapped_to_other", "unmapped_activities")
            }
            raw_vocabulary["agency_near_duplicates"] = [
                {
                    **pair,
                    "agency": shown(pair["agency"]),
                    "similar_agency": shown(pair["similar_agency"]),
                }
                for pair in report["agency_near_duplicates"]
            ]
            # Raw channel and activity names are free text: the report must not leak through them.
            for counts, column in (
                ("channels_mapped_to_other", schema.CHANNEL_RAW),
                ("unmapped_activities", schema.ACTIVITY_RAW),
            ):
                report[counts] = _scrubbed_counts(
                    report[counts], raw_ids, rare_words[column], secret
                )
            # A misspelt agency is rare by nature: name it as the tables do, never as typed.
            rare_agencies = rare_words[schema.AGENCY]
            for pair in report.get("agency_near_duplicates", []):
                for side in ("agency", "similar_agency"):
                    if side in pair:
                        (name,) = _scrubbed_counts(
                            {str(pair[side]): 0}, raw_ids, rare_agencies, secret
                        )
                        pair[side] = name
            report["inputs"] = {  # every row of a file carries its (distinct) name
                entry["name"]: rows for entry, rows in zip(input_record, rows_read, strict=True)
            }
            report["privacy"] = {
                **anon.attrs.get(PRIVACY_ATTR, {}),
                "columns_not_read": {name: cols for name, cols in not_read.items() if cols},
            }
            report["quarantine_privacy"] = quarantined.attrs.get(PRIVACY_ATTR, {})
            if CASES_FILE in tables:
                report["k_anonymity"] = k_anonymity_report(tables[CASES_FILE], k=k).summary
            report[schema.HOPS_OBSERVED] = (
                bool(anon[schema.HOPS_OBSERVED].all()) if schema.HOPS_OBSERVED in anon else True
            )
            report[schema.CHANNEL_OBSERVED] = channel_observed
            report[schema.TARGET_OBSERVED] = bool(
                schema.TARGET_AT in anon and anon[schema.TARGET_AT].notna().any()
            )
            report[schema.WARNINGS] = time_warnings(tables[CASES_FILE], report, cutoff)
            for warning in report[schema.WARNINGS]:
                _log.warning("warning (%s): %s", warning["code"], warning["message"])
            # Every key and text of the report as the tables show them (column names, file names,
            # validation messages naming a value): the last pass before anything is written.
            report = scrub_record(report, raw_ids)

            if rollout_path is not None and CASES_FILE in tables:
                cases = tables[CASES_FILE]
                logged = (
                    set(cases[schema.REGION].dropna().astype("str"))
                    if schema.REGION in cases
                    else set()
                )
                if not set(desks[schema.REGION]) & logged:
                    raise SekatError(
                        "none of its regions occurs in the log; is it the rollout of another log?",
                        file=str(rollout_path),
                        column=schema.REGION,
                    )
            with contextlib.suppress(OSError, ValueError):
                before = json.loads((out_dir / MANIFEST_FILE).read_text(encoding="utf-8"))
                if rollout_path is None and ROLLOUT_FILE in before.get("outputs", {}):
                    # The rollout this folder carried before must not be read with the new
                    # data; the old manifest then no longer matches, so an interrupted run
                    # is redone.
                    (out_dir / ROLLOUT_FILE).unlink(missing_ok=True)

            began = time.perf_counter()
            # Staged, synced, committed, then switched: a kill at any instant leaves the old set or
            # (rolled forward by the next run or reader) the new one, the manifest last.
            with release(out_dir, order=_manifest_last) as staging:
                for name, table in tables.items():
                    write_parquet(table, staging / name)
                write_bytes(staging / REPORT_FILE, _json_bytes(report))
                written = [*tables, REPORT_FILE]
                if rollout_path is not None:
                    write_bytes(staging / ROLLOUT_FILE, rollout_path.read_bytes())
                    written.append(ROLLOUT_FILE)
                outputs = {
                    name: {
                        "sha256": file_sha256(staging / name),
                        "bytes": (staging / name).stat().st_size,
                    }
                    for name in sorted(written)
                }
                manifest = {
                    "build": build,
                    "inputs": input_record,
                    "parameters": parameters,
                    "versions": versions,
                    "outputs": outputs,
                }
                write_bytes(staging / MANIFEST_FILE, _json_bytes(scrub_record(manifest)))
            _log.debug("writing the outputs: %.2f s", time.perf_counter() - began)
            return PrepareResult(
                out_dir=out_dir,
                skipped=False,
                report=report,
                manifest=manifest,
                raw_vocabulary=raw_vocabulary,
            )
    except BaseException:
        with contextlib.suppress(OSError):
            if created and not any(out_dir.iterdir()):
                out_dir.rmdir()  # a folder this run made and left empty
        raise
