"""The analysis of a prepared folder: the headline estimates, computed once and read everywhere.

:func:`analyse` runs :func:`toolkit.estimate.headline_analysis` on a prepared folder (with its
rollout file, if any) and keeps the result beside the data, in ``analysis/<key>/`` of the
prepared folder, keyed by the case table's bytes, the rollout, every setting and the toolkit
version. ``sekat estimate``, notebooks 03 to 07 and the policy brief all call it, so they all
show the same numbers, and the models are fitted once per analysis rather than once per
notebook. :func:`run_estimate` is ``sekat estimate``: the same table, checked against a
planted truth when one is given, written to CSV through small-cell suppression.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
from pathlib import Path

import pandas as pd

from toolkit import schema
from toolkit.errors import SekatError
from toolkit.estimate.headline import (
    Headline,
    HeadlineSettings,
    compare_to_truth,
    headline_analysis,
)
from toolkit.estimate.headline import hops_skip_reason as _cases_hops_skip_reason
from toolkit.io.prepared import CASES_FILE, PreparedData, load_prepared, read_table
from toolkit.io.writers import fsync_dir, parquet_bytes, write_bytes
from toolkit.pipeline import ROLLOUT_FILE

__all__ = [
    "ANALYSIS_DIR",
    "analyse",
    "analysis_key",
    "estimate_prepared",
    "hops_observed",
    "hops_skip_reason",
    "run_estimate",
]

#: Folder of cached analyses inside a prepared folder.
ANALYSIS_DIR = "analysis"
#: Bumped whenever the cached layout changes, so that old caches are never read.
_CACHE_FORMAT = 3  # 2: the by-channel part and hops_observed in the key; 3: warnings kept
_TABLE = "table.parquet"
_META = "analysis.json"


def _file_digest(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def hops_observed(data: PreparedData) -> bool | None:
    """What the prepared folder says of its hops: ``hops_observed`` of its manifest or report.

    None when neither says (then :func:`toolkit.estimate.headline_analysis` decides from the
    case table: a log whose every request names one agency and no hand-off has none).

    Examples
    --------
    >>> from types import SimpleNamespace
    >>> hops_observed(SimpleNamespace(report={"hops_observed": False}, data_dir=Path("/none")))
    False
    """
    manifest = data.data_dir / "manifest.json"
    try:
        said = json.loads(manifest.read_text(encoding="utf-8")).get("hops_observed")
    except (OSError, ValueError, AttributeError):
        said = None
    if said is None:
        said = (data.report or {}).get("hops_observed")
    return None if said is None else bool(said)


def hops_skip_reason(data: PreparedData) -> str | None:
    """Why a prepared folder supports no hop or hand-off analysis (a reason code), or None.

    The rule of the headline (:func:`toolkit.estimate.headline.hops_skip_reason`), given
    what the folder says of its hops; notebooks 01 and 02 ask it before drawing paths.
    """
    return _cases_hops_skip_reason(data.cases, hops_observed(data))


def analysis_key(data: PreparedData, settings: HeadlineSettings) -> str:
    """The cache key of an analysis: what the result depends on, hashed.

    The case table's bytes, the rollout table (if any), every setting, the toolkit version and
    the cache layout: change any and the analysis is run again.
    """
    import toolkit

    parts = {
        "cases": _file_digest(data.data_dir / CASES_FILE),
        "rollout": None
        if data.rollout is None
        else hashlib.sha256(data.rollout.to_csv(index=False).encode()).hexdigest(),
        "settings": settings.to_dict(),
        "hops_observed": hops_observed(data),
        "version": toolkit.__version__,
        "format": _CACHE_FORMAT,
    }
    text = json.dumps(parts, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:24]


def _read_cached(folder: Path, settings: HeadlineSettings) -> Headline | None:
    try:
        meta = json.loads((folder / _META).read_text(encoding="utf-8"))
        table = pd.read_parquet(folder / _TABLE)
        diagnostics = {
            name: pd.read_parquet(folder / f"{name}.parquet") for name in meta["diagnostics"]
        }
    except (OSError, ValueError, KeyError):
        return None
    return Headline(
        table=table,
        diagnostics=diagnostics,
        skipped=dict(meta["skipped"]),
        settings=settings,
        warnings=dict(meta.get("warnings", {})),
    )


def _write_cached(folder: Path, result: Headline) -> None:
    """Write a result into ``folder`` as a whole: staged beside it, then one rename."""
    folder.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{folder.name}.", dir=folder.parent))
    try:
        write_bytes(staging / _TABLE, parquet_bytes(result.table))
        for name, frame in result.diagnostics.items():
            write_bytes(staging / f"{name}.parquet", parquet_bytes(frame))
        meta = {
            "settings": result.settings.to_dict(),
            "skipped": result.skipped,
            "warnings": result.warnings,
            "diagnostics": sorted(result.diagnostics),
        }
        write_bytes(staging / _META, (json.dumps(meta, indent=2, sort_keys=True) + "\n").encode())
        os.chmod(staging, 0o755)
        try:
            os.rename(staging, folder)
        except OSError:
            if not (folder / _META).is_file():  # not another run's finished copy: a real fault
                raise
        fsync_dir(folder.parent)
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def analyse(
    data: PreparedData,
    *,
    settings: HeadlineSettings | None = None,
    cache: bool = True,
    **overrides: object,
) -> Headline:
    """The headline analysis of a prepared folder, run once and then read back.

    Parameters
    ----------
    data : PreparedData
        What :func:`toolkit.io.prepared.load_prepared` read (its rollout is used).
    settings : HeadlineSettings, optional
        The parameters; or give them by name (``seed=1, n_boot=100, control="digital"``).
    cache : bool
        Keep the result in ``analysis/<key>/`` of the prepared folder and read it from there
        next time. A folder that cannot be written is no error: the result is then simply
        not kept.

    Returns
    -------
    Headline
        As :func:`toolkit.estimate.headline_analysis` returns it.

    Examples
    --------
    >>> analyse(load_prepared("/no/such/folder"))  # doctest: +IGNORE_EXCEPTION_DETAIL
    Traceback (most recent call last):
    toolkit.errors.SekatError: /no/such/folder/cases.parquet: not found; run sekat prepare
    """
    if settings is None:
        settings = HeadlineSettings(**overrides)
    elif overrides:
        raise SekatError("give either settings or settings by name, not both")
    folder = data.data_dir / ANALYSIS_DIR / analysis_key(data, settings)
    if cache:
        cached = _read_cached(folder, settings)
        if cached is not None:
            return cached
    result = headline_analysis(
        data.cases, rollout=data.rollout, settings=settings, hops_observed=hops_observed(data)
    )
    if cache:
        try:
            _write_cached(folder, result)
        except PermissionError:
            pass  # a read-only prepared folder: compute every time
    return result


def run_estimate(
    prepared_dir: str | os.PathLike[str],
    out: str | os.PathLike[str],
    truth: str | os.PathLike[str] | None = None,
    *,
    rollout: str | os.PathLike[str] | bool | None = None,
    settings: HeadlineSettings | None = None,
    **overrides: object,
) -> pd.DataFrame:
    """``sekat estimate``: the headline estimates of a prepared folder, written to CSV.

    Parameters
    ----------
    prepared_dir : path
        Folder written by ``sekat prepare``.
    out : path
        CSV file to write (atomically; cells describing fewer than 10 requests are masked).
    truth : path, optional
        The generator's truth table (as ``sekat simulate`` writes it beside the log): adds the
        columns of :func:`toolkit.estimate.compare_to_truth`.
    rollout : path or False, optional
        CSV of ``region, desk_opened``: overrides the rollout that ``sekat prepare`` carried
        into the folder (``rollout.csv``, see :func:`toolkit.pipeline.prepare`); False
        ignores it. Adds the rollout event study and the desk status.
    settings, **overrides
        As for :func:`analyse` (``seed``, ``tau_days``, ``n_boot``, ``control``, ...).

    Returns
    -------
    pandas.DataFrame
        The table written; ``attrs["warnings"]`` holds the analysis's warnings
        (:attr:`toolkit.estimate.headline.Headline.warnings`) and ``attrs["rollout"]`` the
        rollout file used (None: none).

    Examples
    --------
    >>> run_estimate("/no/such/folder", "out.csv")  # doctest: +IGNORE_EXCEPTION_DETAIL
    Traceback (most recent call last):
    toolkit.errors.SekatError: /no/such/folder/cases.parquet: not found; run sekat prepare
    """
    return estimate_prepared(
        prepared_dir, out, truth, rollout=rollout, settings=settings, **overrides
    )[1]


def estimate_prepared(
    prepared_dir: str | os.PathLike[str],
    out: str | os.PathLike[str],
    truth: str | os.PathLike[str] | None = None,
    *,
    rollout: str | os.PathLike[str] | None = None,
    settings: HeadlineSettings | None = None,
    **overrides: object,
) -> tuple[Headline, pd.DataFrame]:
    """:func:`run_estimate`, also returning the :class:`Headline` (what ran, what was skipped).

    Examples
    --------
    >>> estimate_prepared("/no/such/folder", "out.csv")  # doctest: +IGNORE_EXCEPTION_DETAIL
    Traceback (most recent call last):
    toolkit.errors.SekatError: /no/such/folder/cases.parquet: not found; run sekat prepare
    """
    from toolkit.report.export import export_table

    folder = Path(prepared_dir)
    carried = folder / ROLLOUT_FILE
    if rollout is False:
        rollout = None  # the user asked for none: the carried rollout is not read
    elif rollout is None and carried.is_file():
        rollout = carried
    data = load_prepared(folder, rollout_file=rollout)
    if rollout is not None and data.rollout is None:
        # a rollout the user named (or prepare carried) is never dropped silently
        raise SekatError(
            "; ".join(n for n in data.notes if n.startswith("no rollout"))
            or "the rollout file could not be used",
            file=str(rollout),
        )
    result = analyse(data, settings=settings, **overrides)
    table = result.table
    if truth is not None:
        table = compare_to_truth(table, read_table(truth))
    if table.empty:
        raise SekatError(
            "this log supports none of the estimates: " + " ".join(_skip_sentences(result.skipped)),
            file=str(folder),
        )
    export_table(table, out, count_col=schema.RESULT_COLUMNS[5], totals=[])
    table.attrs["warnings"] = dict(result.warnings)
    table.attrs["rollout"] = None if data.rollout is None else str(rollout)
    return result, table


def _skip_sentences(skipped: dict[str, str], lang: str = "en") -> list[str]:
    from toolkit.report.words import skip_text

    return list(dict.fromkeys(skip_text(reason, lang) for reason in skipped.values()))
