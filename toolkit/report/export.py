"""Writers at the edge of the pipeline: figures and tables leave only through here.

:func:`export_figure` writes a figure as NAME_<lang>.png (300 dpi), .svg and .pdf, byte for
byte the same on a rerun, and records its caption, alt text and what was suppressed in the
index of its language (``index_en.csv`` and ``README_en.md``, ``index_id.csv`` and
``README_id.md``), so English and Indonesian figures sit side by side.
:func:`export_table` writes a CSV only after small-cell suppression
(:func:`toolkit.report.disclosure.suppress_small_cells`) and after escaping cells a spreadsheet would
run as a formula (CSV injection). Every write is atomic: a temporary file in the target
folder, then a rename, so an interrupted run never leaves half a file behind.
"""

from __future__ import annotations

import contextlib
import io
import json
import logging
import os
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from xml.sax.saxutils import escape as xml_escape

import matplotlib as mpl
import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from toolkit import schema
from toolkit.errors import SekatError
from toolkit.io.writers import FORMULA_TRIGGERS, atomic_write, csv_text, write_text
from toolkit.report.disclosure import (
    SUPPRESSED,
    SUPPRESSION_REASON,
    ReleaseRegistry,
    Suppression,
    cell_keys,
    check_threshold,
    suppress_small_cells,
)
from toolkit.report.figures import FIGURE_LANG_ATTR, figure_suppression
from toolkit.report.words import check_lang, escape_markdown, suppression_note, text

_log = logging.getLogger(__name__)

#: Formats :func:`export_figure` writes by default.
FIGURE_FORMATS: tuple[str, ...] = ("png", "svg", "pdf")
#: Resolution of exported PNG files.
FIGURE_DPI: int = 300
#: Columns of a figure index (one per language, :func:`index_names`; one row per figure).
INDEX_COLUMNS: tuple[str, ...] = ("name", "files", "caption", "alt_text", "suppressed")

#: The release's registry of masked and published cells, beside the tables it governs.
REGISTRY_FILE: str = ".sekat-disclosure.json"
_SPEC_KEYS = {"count_col", "group_cols", "totals", "value_cols", "threshold"}

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")
# Salt of the ids in SVG files: fixed, so that a rerun writes the same bytes.
_SVG_SALT = "sekat"
_METADATA = {
    "svg": {"Date": None},
    "pdf": {"CreationDate": None, "ModDate": None},
    "png": {"Software": None},
}


def _resolve_count_col(table: pd.DataFrame, count_col: str | None) -> str | None:
    if count_col != "auto":
        if count_col is not None and count_col not in table.columns:
            raise SekatError(
                f"no count column {count_col!r} to check for small cells; "
                f"the table has {list(table.columns)}",
                column=count_col,
            )
        return count_col
    for candidate in (schema.COUNT, "n"):
        if candidate in table.columns:
            return candidate
    raise SekatError(
        "cannot find the column counting requests ('count' or 'n') for small-cell "
        "suppression; name it with count_col=..., or pass count_col=None for a table "
        "that describes no group of requests"
    )


def export_table(
    table: pd.DataFrame,
    path: str | os.PathLike[str],
    *,
    count_col: str | None = "auto",
    threshold: int = schema.MIN_CELL_COUNT,
    group_cols: Sequence[str] | None = None,
    totals: Sequence[Sequence[str]] | None = None,
    value_cols: Sequence[str] | None = None,
) -> Suppression | None:
    """Write a table as CSV after small-cell suppression and CSV-injection escaping.

    Parameters
    ----------
    table : pandas.DataFrame
        One row per published cell.
    path : path-like
        The CSV file to write (folders are created).
    count_col : str or None, default "auto"
        Column counting the requests behind each row; "auto" takes ``count`` or else ``n``.
        ``None`` only for a table that describes no group of requests (no suppression).
    threshold, group_cols, totals, value_cols
        Passed to :func:`toolkit.report.disclosure.suppress_small_cells`; by default every one-way
        margin total is assumed published, so secondary suppression protects against it.

    Returns
    -------
    Suppression or None
        What was suppressed (None when ``count_col=None``, or when the table is empty).

    Examples
    --------
    >>> import pandas as pd, tempfile, pathlib
    >>> flows = pd.DataFrame({"from_agency": ["A", "A", "B"], "to_agency": ["B", "C", "C"],
    ...                       "count": [40, 3, 25]})
    >>> out = pathlib.Path(tempfile.mkdtemp()) / "flows.csv"
    >>> export_table(flows, out, totals=[]).record
      from_agency to_agency suppression
    0           A         C     primary
    >>> print(out.read_text())
    from_agency,to_agency,count,suppressed
    A,B,40,False
    A,C,,True
    B,C,25,False
    <BLANKLINE>

    Notes
    -----
    Masked cells are written empty with ``suppressed`` True. Whether a cell was masked as
    small (primary) or to protect another (secondary) is not written, since that would tell
    a reader which cells are small. Whole-number counts are written as integers. An empty
    table (an analysis the log cannot support) is never published: nothing is written, a
    copy left by an earlier run is removed, and a message says so.
    """
    path = Path(path)
    check_threshold(threshold)
    if table.empty:
        path.unlink(missing_ok=True)
        _log.warning("%s not written: the table has no rows", path.name)
        return None
    count_col = _resolve_count_col(table, count_col)
    if count_col is None:
        write_text(path, csv_text(table))
        return None
    path.parent.mkdir(parents=True, exist_ok=True)
    with _index_lock(path.parent):
        registry = _load_registry(path.parent)
        resolved = list(group_cols) if group_cols is not None else None
        first = suppress_small_cells(
            table,
            count_col=count_col,
            threshold=threshold,
            group_cols=resolved,
            totals=totals,
            value_cols=value_cols,
        )
        spec = {
            "count_col": count_col,
            "group_cols": list(first.group_cols),
            "totals": None if totals is None else [list(t) for t in totals],
            "value_cols": None if value_cols is None else list(value_cols),
            "threshold": int(threshold),
        }
        keys = cell_keys(table, spec["group_cols"])
        suppression = _suppress_for_release(table, spec, keys, registry)
        _write_suppressed(path, suppression, count_col)
        pending = registry.add(keys, suppression.table[SUPPRESSED].to_numpy())
        registry.files[path.name] = spec
        # A cell this table had to mask may stand published in a table written before:
        # mask it there too (and whatever that exposes), until the release agrees.
        while pending:
            pending = []
            for name, other_spec in sorted(registry.files.items()):
                other = path.parent / name
                if not other.is_file() or not _SPEC_KEYS <= set(other_spec):
                    continue
                shown = _read_published(other, other_spec)
                if shown is None:
                    continue  # no longer a table this release wrote
                other_keys = cell_keys(shown, other_spec["group_cols"])
                was_masked = shown[SUPPRESSED].to_numpy(dtype=bool)
                hit = registry.covered(other_keys) & ~was_masked
                if not hit.any():
                    continue
                again = _suppress_for_release(
                    shown.drop(columns=[SUPPRESSED]),
                    other_spec,
                    other_keys,
                    registry,
                    extra=was_masked,
                )
                _write_suppressed(other, again, other_spec["count_col"])
                pending += registry.add(other_keys, again.table[SUPPRESSED].to_numpy())
        write_text(path.parent / REGISTRY_FILE, json.dumps(registry.to_dict(), indent=1) + "\n")
    return suppression


def _suppress_for_release(
    table: pd.DataFrame,
    spec: dict,
    keys: list[dict[str, str]],
    registry: ReleaseRegistry,
    extra: object = None,
) -> Suppression:
    """Suppress one table so that it agrees with the rest of the release."""
    force = registry.covered(keys)
    if extra is not None:
        force = force | np.asarray(extra, dtype=bool)
    return suppress_small_cells(
        table,
        count_col=spec["count_col"],
        threshold=spec["threshold"],
        group_cols=spec["group_cols"],
        totals=spec["totals"],
        value_cols=spec["value_cols"],
        force=force,
        avoid=registry.already_published(keys),
    )


def _write_suppressed(path: Path, suppression: Suppression, count_col: str) -> None:
    out = suppression.table.drop(columns=SUPPRESSION_REASON)
    counts = out[count_col]
    if pd.api.types.is_float_dtype(counts) and (counts.dropna() % 1 == 0).all():
        out[count_col] = counts.astype("Int64")
    write_text(path, csv_text(out))


def _read_published(path: Path, spec: dict) -> pd.DataFrame | None:
    """A table this release wrote, read back as published (masked cells empty)."""
    try:
        shown = pd.read_csv(path, dtype=str, keep_default_na=False)
    except (OSError, ValueError, pd.errors.ParserError):
        return None
    needed = {SUPPRESSED, spec["count_col"], *spec["group_cols"]}
    if not needed <= set(shown.columns):
        return None
    shown[SUPPRESSED] = shown[SUPPRESSED].str.lower() == "true"
    value_cols = spec["value_cols"]
    if value_cols is None:
        value_cols = [c for c in shown.columns if c not in spec["group_cols"] and c != SUPPRESSED]
    for column in {spec["count_col"], *value_cols}:
        if column not in shown.columns:
            continue
        text = shown[column].replace("", np.nan)
        numeric = pd.to_numeric(text, errors="coerce")
        if numeric.notna().sum() == text.notna().sum():  # a numeric column: read it so
            shown[column] = numeric
        else:
            shown[column] = text
    return shown


def _load_registry(folder: Path) -> ReleaseRegistry:
    try:
        data = json.loads((folder / REGISTRY_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return ReleaseRegistry()
    return ReleaseRegistry.from_dict(data if isinstance(data, dict) else {})


@dataclass(frozen=True)
class FigureExport:
    """What :func:`export_figure` wrote.

    Attributes
    ----------
    files : dict of str to pathlib.Path
        Format -> written file.
    index_row : dict of str to str
        The figure's row of its language's index (``index_<lang>.csv``).
    lang : str
        The language of the figure, its file names and its index.
    """

    files: dict[str, Path]
    index_row: dict[str, str]
    lang: str = "en"


def _suppression_record(fig: Figure, suppressed: object) -> tuple[pd.DataFrame, int]:
    if suppressed is None:
        if getattr(fig, "sekat_suppression", None) is None:
            raise SekatError(
                "this figure was not drawn by toolkit.report.figures, so nothing says it passed "
                "small-cell suppression; run its table through "
                "toolkit.report.disclosure.suppress_small_cells and pass suppressed=<the result>"
            )
        record = figure_suppression(fig)
        threshold = fig.sekat_suppression.threshold
    elif isinstance(suppressed, Suppression):
        record, threshold = suppressed.record, suppressed.threshold
    elif isinstance(suppressed, pd.DataFrame):
        record, threshold = suppressed, None
    else:
        raise SekatError(
            "suppressed must be a disclosure.Suppression, its record (a DataFrame) or None, "
            f"got {type(suppressed).__name__}"
        )
    return record, int(threshold or schema.MIN_CELL_COUNT)


@contextlib.contextmanager
def _index_lock(out_dir: Path):
    """Hold an exclusive lock on the figure index of ``out_dir``.

    Two notebooks exporting into one folder at once (``make test`` runs two) would otherwise
    both read the index, add their row and write it back, and one row would be lost.
    """
    try:
        import fcntl
    except ImportError:  # not on POSIX: no concurrent exports are expected there
        yield
        return
    # Lock the folder itself, so that no lock file is left among the figures.
    handle = os.open(out_dir, os.O_RDONLY)
    try:
        fcntl.flock(handle, fcntl.LOCK_EX)
        yield
    finally:
        os.close(handle)  # closing releases the lock


def index_names(lang: str) -> tuple[str, str]:
    """The figure index of one language: ``index_<lang>.csv`` and ``README_<lang>.md``.

    Examples
    --------
    >>> index_names("id")
    ('index_id.csv', 'README_id.md')
    """
    lang = check_lang(lang)
    return f"index_{lang}.csv", f"README_{lang}.md"


def figure_file(name: str, lang: str, fmt: str) -> str:
    """The file name of a figure in one language and format: ``03_hop_effects_id.svg``.

    Examples
    --------
    >>> figure_file("03_hop_effects", "en", "png")
    '03_hop_effects_en.png'
    """
    return f"{name}_{check_lang(lang)}.{fmt}"


def _read_index(path: Path) -> pd.DataFrame:
    if not path.exists():
        return pd.DataFrame(columns=list(INDEX_COLUMNS), dtype="str")
    try:
        index = pd.read_csv(path, dtype="str", keep_default_na=False)
    except (pd.errors.ParserError, UnicodeDecodeError, pd.errors.EmptyDataError) as exc:
        raise SekatError(f"the figure index cannot be read ({exc})", file=str(path)) from exc
    for column in INDEX_COLUMNS:
        if column not in index.columns:
            index[column] = ""
    # Undo the escaping of the last write, so that rows are escaped exactly once.
    escaped = tuple("'" + t for t in FORMULA_TRIGGERS)
    index = index.map(lambda v: v[1:] if isinstance(v, str) and v.startswith(escaped) else v)
    return index[list(INDEX_COLUMNS)]


def withdraw_figure(name: str, out_dir: str | os.PathLike[str], lang: str) -> None:
    """Remove a figure an earlier run published, when this run has nothing to show in it.

    Its files in every format and its row of the language's index go, so a rerun on another
    log never leaves the last log's figure in the folder as if it were this one's.

    Examples
    --------
    >>> import tempfile
    >>> folder = Path(tempfile.mkdtemp())
    >>> _ = (folder / "02_network_en.png").write_bytes(b"old")
    >>> withdraw_figure("02_network", folder, "en")
    >>> sorted(p.name for p in folder.iterdir())
    []
    """
    out_dir = Path(out_dir)
    if not out_dir.is_dir():
        return
    for fmt in _METADATA:
        (out_dir / figure_file(name, lang, fmt)).unlink(missing_ok=True)
    index_csv, index_readme = index_names(lang)
    index_path = out_dir / index_csv
    if not index_path.exists():
        return
    with _index_lock(out_dir):
        index = _read_index(index_path)
        if (index["name"] == name).any():
            index = index.loc[index["name"] != name].reset_index(drop=True)
            write_text(index_path, csv_text(index))
            write_text(out_dir / index_readme, _readme(index, lang))


def _readme(index: pd.DataFrame, lang: str) -> str:
    """The figure index of one language as Markdown; every value from a table is escaped."""
    heading = {"en": "Figures", "id": "Gambar"}[lang]
    intro = text("export", "readme_intro", lang, threshold=schema.MIN_CELL_COUNT)
    words = {part: text("export", part, lang) for part in ("caption", "alt_text", "files")}
    lines = [f"# {heading}", "", intro, ""]
    for row in index.to_dict("records"):
        files = row["files"].split(";") if row["files"] else []
        png = next((f for f in files if f.endswith(".png")), None)
        lines += [f"## {escape_markdown(row['name'])}", ""]
        if png:
            alt = escape_markdown(" ".join(row["alt_text"].split()))
            lines += [f"![{alt}]({png})", ""]
        lines += [
            f"**{words['caption']}** {escape_markdown(row['caption'])} "
            f"{escape_markdown(row['suppressed'])}",
            "",
            f"**{words['alt_text']}** {escape_markdown(row['alt_text'])}",
            "",
            f"{words['files']} " + ", ".join(f"[{f}]({f})" for f in files),
            "",
        ]
    return "\n".join(lines)


def _in_lang(value: str | Mapping[str, str], lang: str, what: str) -> str:
    if isinstance(value, str):
        chosen = value
    elif isinstance(value, Mapping):
        chosen = str(value.get(lang, ""))
    else:
        raise SekatError(f"{what} must be text or {{'en': '...', 'id': '...'}}, got {value!r}")
    if not chosen.strip():
        raise SekatError(f"{what} is missing in language(s) {[lang]}")
    return " ".join(chosen.split())


def _svg_with_title(svg: bytes, title: str, description: str) -> bytes:
    """An SVG whose root starts with ``<title>`` and ``<desc>``: what screen readers announce."""
    head, sep, rest = svg.partition(b"<svg ")
    end = rest.index(b">")
    tag = rest[:end]
    attrs = b' role="img" aria-labelledby="sekat-title sekat-desc"'
    inserted = (
        f'<title id="sekat-title">{xml_escape(title)}</title>'
        f'<desc id="sekat-desc">{xml_escape(description)}</desc>'
    ).encode()
    return head + sep + tag + attrs + b">" + inserted + rest[end + 1 :]


def figure_title(fig: Figure) -> str:
    r"""The title drawn on a figure (its suptitle, else its first axes title), or "".

    Examples
    --------
    >>> from matplotlib.figure import Figure
    >>> fig = Figure()
    >>> _ = fig.suptitle("Hand-offs\nby channel")
    >>> figure_title(fig)
    'Hand-offs by channel'
    """
    title = fig._suptitle.get_text() if fig._suptitle is not None else ""  # noqa: SLF001
    if not title:
        title = next((ax.get_title() for ax in fig.axes if ax.get_title()), "")
    return " ".join(title.split())


def sekat_version() -> str:
    """The installed version of sekat, as outputs record it (``unknown`` if not installed)."""
    from importlib import metadata

    try:
        return metadata.version("sekat")
    except metadata.PackageNotFoundError:
        return "unknown"


def figure_note(fig: Figure, lang: str, suppressed: object = None) -> str:
    """The sentence naming what a figure of :mod:`toolkit.report.figures` leaves out."""
    record, threshold = _suppression_record(fig, suppressed)
    note = suppression_note(record, check_lang(lang), threshold)
    left_out = getattr(fig, "sekat_left_out", "")
    return f"{left_out} {note}" if left_out else note


def inline_svg(fig: Figure, *, title: str, alt: str, suppressed: object = None) -> bytes:
    """A figure as SVG bytes for a page (the brief), under the same disclosure rules as files.

    Parameters
    ----------
    fig : matplotlib.figure.Figure
        A figure of :mod:`toolkit.report.figures` (or one whose suppression is declared).
    title, alt : str
        Its ``<title>`` and ``<desc>`` (the alt text).
    suppressed : optional
        As for :func:`export_figure`.

    Returns
    -------
    bytes

    Examples
    --------
    >>> import pandas as pd
    >>> from toolkit.report.figures import hops_by_channel_plot
    >>> fig = hops_by_channel_plot(pd.DataFrame({"channel_group": ["social"], "hops": [1.2],
    ...                                          "n": [50]}))
    >>> b"<title" in inline_svg(fig, title="Hops", alt="One bar.")[:3000]
    True
    """
    _record, threshold = _suppression_record(fig, suppressed)
    check_threshold(threshold)
    buffer = io.BytesIO()
    with mpl.rc_context({"svg.hashsalt": _SVG_SALT}):
        fig.savefig(buffer, format="svg", metadata={"Date": None, "Title": title})
    return _svg_with_title(buffer.getvalue(), title, alt)


def export_figure(
    fig: Figure,
    name: str,
    *,
    caption: str | Mapping[str, str],
    alt_text: str | Mapping[str, str],
    out_dir: str | os.PathLike[str] = "figures",
    suppressed: Suppression | pd.DataFrame | None = None,
    formats: Sequence[str] = FIGURE_FORMATS,
    dpi: int = FIGURE_DPI,
    lang: str | None = None,
    omitted: str | Mapping[str, str] | None = None,
) -> FigureExport:
    """Write a figure as NAME_<lang>.png/.svg/.pdf and record it in its language's index.

    Parameters
    ----------
    fig : matplotlib.figure.Figure
        A figure, e.g. from :mod:`toolkit.report.figures` (which records its language).
    name : str
        File stem: letters, digits, ``_``, ``-``, ``.``; no folders. The files are
        ``NAME_en.png`` and so on, so the English and Indonesian figures sit side by side.
    caption, alt_text : str or mapping of language to str
        In the figure's language (a mapping may hold every language). Alt text describes
        what the figure shows for a reader who cannot see it.
    out_dir : path-like, default "figures"
        Folder of the figures and the indexes (``index_<lang>.csv``, ``README_<lang>.md``).
    suppressed : Suppression or DataFrame, optional
        What the figure leaves out; default what the figure function recorded
        (:func:`toolkit.report.figures.figure_suppression`). Required for a figure not drawn by
        :mod:`toolkit.report.figures`: pass the :class:`~toolkit.report.disclosure.Suppression` of its
        table (an empty record declares that nothing was left out).
    formats : sequence of str, default ("png", "svg", "pdf")
        Formats to write.
    dpi : int, default 300
        Resolution of raster output.
    lang : {"en", "id"}, optional
        The figure's language; default the one its figure function drew it in.
    omitted : str or mapping of language to str, optional
        A sentence naming what else the figure does not show (groups that were never
        estimated), added to the suppression note.

    Returns
    -------
    FigureExport
        The written files and the figure's index row.

    Examples
    --------
    >>> import pandas as pd, tempfile
    >>> from toolkit.report.figures import hops_by_channel_plot
    >>> fig = hops_by_channel_plot(pd.DataFrame({"channel_group": ["social", "other"],
    ...                                          "hops": [1.2, 2.0], "n": [50, 4]}), lang="id")
    >>> done = export_figure(fig, "hops", out_dir=tempfile.mkdtemp(),
    ...     caption={"en": "Hops by channel.", "id": "Pelimpahan menurut kanal."},
    ...     alt_text="Diagram batang.", formats=["svg"])
    >>> done.files["svg"].name, done.index_row["suppressed"]
    ('hops_id.svg', 'Tidak ditampilkan (kurang dari 10 permohonan): Lainnya.')

    Notes
    -----
    Reruns write identical SVG and PDF bytes: creation dates are left out and SVG ids are
    salted with a fixed string. PDFs embed TrueType (Type 42) fonts, as journals ask, and
    carry the title and caption as their title and subject; SVGs start with ``<title>`` and
    ``<desc>`` (the alt text); PNGs carry the title and alt text as text chunks. The index
    is rewritten with one row per figure name, sorted by name, and its README is regenerated
    from it, every value escaped for Markdown.
    """
    if not isinstance(fig, Figure):
        raise SekatError(f"export_figure needs a matplotlib Figure, got {type(fig).__name__}")
    if not isinstance(name, str) or not _NAME.match(name):
        raise SekatError(
            f"figure name {name!r} must be letters, digits, '_', '-' or '.', with no folders"
        )
    unknown = [f for f in formats if f not in _METADATA]
    if unknown:
        raise SekatError(f"unknown figure format(s) {unknown}; choose from {list(_METADATA)}")
    if lang is None:
        lang = getattr(fig, FIGURE_LANG_ATTR, None)
        if lang is None:
            raise SekatError("say which language the figure is in: lang='en' or lang='id'")
    lang = check_lang(lang)
    caption_text = _in_lang(caption, lang, "caption")
    alt = _in_lang(alt_text, lang, "alt text")
    record, threshold = _suppression_record(fig, suppressed)
    check_threshold(threshold)
    note = suppression_note(record, lang, threshold)
    left_out = getattr(fig, "sekat_left_out", "")
    if left_out:
        note = f"{left_out} {note}"
    if omitted is not None:
        extra = _in_lang(omitted, lang, "omitted") if omitted else ""
        if extra:
            note = extra if len(record) == 0 else f"{note} {extra}"
    title = figure_title(fig) or name
    creator = f"sekat {sekat_version()}"
    metadata = {
        "svg": {"Date": None, "Title": title, "Description": alt, "Creator": creator},
        "pdf": {
            "CreationDate": None,
            "ModDate": None,
            "Title": title,
            "Subject": caption_text,
            "Creator": creator,
        },
        "png": {"Software": None, "Title": title, "Description": alt},
    }
    out_dir = Path(out_dir)
    files: dict[str, Path] = {}
    # Vector formats first: a raster save at 300 dpi nudges the layout, and with it the SVG
    # clip-path ids, so a fixed order keeps reruns byte-identical whatever order is asked.
    ordered = sorted(dict.fromkeys(formats), key=list(_METADATA).index)
    with mpl.rc_context({"svg.hashsalt": _SVG_SALT, "pdf.fonttype": 42, "ps.fonttype": 42}):
        for fmt in ordered:
            target = out_dir / figure_file(name, lang, fmt)
            if fmt == "svg":
                buffer = io.BytesIO()
                fig.savefig(buffer, format="svg", dpi=dpi, metadata=metadata["svg"])
                svg = _svg_with_title(buffer.getvalue(), title, alt)
                atomic_write(target, lambda handle, data=svg: handle.write(data))
            else:

                def save(handle, fmt: str = fmt) -> None:
                    fig.savefig(handle, format=fmt, dpi=dpi, metadata=metadata[fmt])

                atomic_write(target, save)
            files[fmt] = target
    files = {fmt: files[fmt] for fmt in dict.fromkeys(formats)}
    row = {
        "name": name,
        "files": ";".join(p.name for p in files.values()),
        "caption": caption_text,
        "alt_text": alt,
        "suppressed": note,
    }
    index_csv, index_readme = index_names(lang)
    index_path = out_dir / index_csv
    with _index_lock(out_dir):
        index = _read_index(index_path)
        index = index.loc[index["name"] != name]
        index = pd.concat([index, pd.DataFrame([row], dtype="str")], ignore_index=True)
        index = index.sort_values("name", kind="stable").reset_index(drop=True)
        write_text(index_path, csv_text(index))
        write_text(out_dir / index_readme, _readme(index, lang))
    return FigureExport(files=files, index_row=row, lang=lang)
