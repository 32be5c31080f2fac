"""Writers at the edge of the pipeline: figures and tables leave only through here.

:func:`export_figure` writes a figure as NAME.png (300 dpi), NAME.svg and NAME.pdf, byte for
byte the same on a rerun, and records its caption, alt text and what was suppressed, in
English and Bahasa Indonesia, in ``index.csv`` and ``README.md`` beside it.
:func:`export_table` writes a CSV only after small-cell suppression
(:func:`toolkit.report.disclosure.suppress_small_cells`) and after escaping cells a spreadsheet would
run as a formula (CSV injection). Every write is atomic: a temporary file in the target
folder, then a rename, so an interrupted run never leaves half a file behind.
"""

from __future__ import annotations

import contextlib
import os
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import matplotlib as mpl
import pandas as pd
from matplotlib.figure import Figure

from toolkit import schema
from toolkit.errors import SekatError
from toolkit.io.writers import FORMULA_TRIGGERS, atomic_write, csv_text, write_text
from toolkit.report.disclosure import (
    SUPPRESSION_REASON,
    Suppression,
    check_threshold,
    suppress_small_cells,
)
from toolkit.report.figures import figure_suppression
from toolkit.report.words import LANGS, bilingual, suppression_note

#: Formats :func:`export_figure` writes by default.
FIGURE_FORMATS: tuple[str, ...] = ("png", "svg", "pdf")
#: Resolution of exported PNG files.
FIGURE_DPI: int = 300
#: Name of the figure index (one row per figure) inside the figure folder.
INDEX_CSV: str = "index.csv"
#: Name of the human-readable figure index inside the figure folder.
INDEX_README: str = "README.md"
#: Columns of the figure index.
INDEX_COLUMNS: tuple[str, ...] = (
    "name",
    "files",
    *(f"caption_{lang}" for lang in LANGS),
    *(f"alt_text_{lang}" for lang in LANGS),
    *(f"suppressed_{lang}" for lang in LANGS),
)

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
        What was suppressed (None when ``count_col=None``).

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
    a reader which cells are small. Whole-number counts are written as integers.
    """
    path = Path(path)
    check_threshold(threshold)
    count_col = _resolve_count_col(table, count_col)
    suppression = None
    out = table
    if count_col is not None:
        suppression = suppress_small_cells(
            table,
            count_col=count_col,
            threshold=threshold,
            group_cols=group_cols,
            totals=totals,
            value_cols=value_cols,
        )
        out = suppression.table.drop(columns=SUPPRESSION_REASON)
        counts = out[count_col]
        if pd.api.types.is_float_dtype(counts) and (counts.dropna() % 1 == 0).all():
            out[count_col] = counts.astype("Int64")
    write_text(path, csv_text(out))
    return suppression


@dataclass(frozen=True)
class FigureExport:
    """What :func:`export_figure` wrote.

    Attributes
    ----------
    files : dict of str to pathlib.Path
        Format -> written file.
    index_row : dict of str to str
        The figure's row of ``index.csv``.
    """

    files: dict[str, Path]
    index_row: dict[str, str]


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


def _readme(index: pd.DataFrame) -> str:
    lines = [
        "# Figures",
        "",
        "Written by `toolkit.report.export.export_figure`; rebuilt on every export, do not edit by "
        "hand. Each figure comes as PNG (300 dpi), SVG and PDF, with its caption and alt text "
        "in English and Bahasa Indonesia. No figure draws a group of fewer than "
        f"{schema.MIN_CELL_COUNT} requests; what was left out is named under each figure.",
        "",
    ]
    for row in index.to_dict("records"):
        name = row["name"]
        files = row["files"].split(";") if row["files"] else []
        png = next((f for f in files if f.endswith(".png")), None)
        lines += [f"## {name}", ""]
        if png:
            alt = " ".join(row["alt_text_en"].split()).replace("[", "\\[").replace("]", "\\]")
            lines += [f"![{alt}]({png})", ""]
        lines += [
            f"**Caption.** {row['caption_en']} {row['suppressed_en']}",
            "",
            f"**Keterangan.** {row['caption_id']} {row['suppressed_id']}",
            "",
            f"**Alt text.** {row['alt_text_en']}",
            "",
            f"**Teks alternatif.** {row['alt_text_id']}",
            "",
            "Files: " + ", ".join(f"[{f}]({f})" for f in files),
            "",
        ]
    return "\n".join(lines)


def export_figure(
    fig: Figure,
    name: str,
    *,
    caption: Mapping[str, str],
    alt_text: Mapping[str, str],
    out_dir: str | os.PathLike[str] = "figures",
    suppressed: Suppression | pd.DataFrame | None = None,
    formats: Sequence[str] = FIGURE_FORMATS,
    dpi: int = FIGURE_DPI,
) -> FigureExport:
    """Write a figure as NAME.png/.svg/.pdf and record it in the figure index.

    Parameters
    ----------
    fig : matplotlib.figure.Figure
        A figure, e.g. from :mod:`toolkit.report.figures`.
    name : str
        File stem: letters, digits, ``_``, ``-``, ``.``; no folders.
    caption, alt_text : mapping of language to str
        In every language of :data:`toolkit.report.words.LANGS`, e.g.
        ``{"en": "...", "id": "..."}``. Alt text describes what the figure shows for a
        reader who cannot see it.
    out_dir : path-like, default "figures"
        Folder of the figures, ``index.csv`` and ``README.md``.
    suppressed : Suppression or DataFrame, optional
        What the figure leaves out; default what the figure function recorded
        (:func:`toolkit.report.figures.figure_suppression`). Required for a figure not drawn by
        :mod:`toolkit.report.figures`: pass the :class:`~toolkit.report.disclosure.Suppression` of its
        table (an empty record declares that nothing was left out).
    formats : sequence of str, default ("png", "svg", "pdf")
        Formats to write.
    dpi : int, default 300
        Resolution of raster output.

    Returns
    -------
    FigureExport
        The written files and the figure's index row.

    Examples
    --------
    >>> import pandas as pd, tempfile
    >>> from toolkit.report.figures import hops_by_channel_plot
    >>> fig = hops_by_channel_plot(pd.DataFrame({"channel_group": ["social", "other"],
    ...                                          "hops": [1.2, 2.0], "n": [50, 4]}))
    >>> done = export_figure(fig, "hops", out_dir=tempfile.mkdtemp(),
    ...     caption={"en": "Hops by channel.", "id": "Perpindahan menurut kanal."},
    ...     alt_text={"en": "Bar chart.", "id": "Diagram batang."}, formats=["svg"])
    >>> done.index_row["suppressed_en"]
    'Not shown (fewer than 10 requests): Other.'

    Notes
    -----
    Reruns write identical SVG and PDF bytes: creation dates are left out and SVG ids are
    salted with a fixed string. The index is rewritten with one row per figure name, sorted
    by name, and README.md is regenerated from it.
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
    captions = bilingual(caption, "caption")
    alt_texts = bilingual(alt_text, "alt text")
    record, threshold = _suppression_record(fig, suppressed)
    check_threshold(threshold)
    out_dir = Path(out_dir)
    files: dict[str, Path] = {}
    # Vector formats first: a raster save at 300 dpi nudges the layout, and with it the SVG
    # clip-path ids, so a fixed order keeps reruns byte-identical whatever order is asked.
    ordered = sorted(dict.fromkeys(formats), key=list(_METADATA).index)
    with mpl.rc_context({"svg.hashsalt": _SVG_SALT}):
        for fmt in ordered:
            target = out_dir / f"{name}.{fmt}"

            def save(handle, fmt: str = fmt) -> None:
                fig.savefig(handle, format=fmt, dpi=dpi, metadata=_METADATA[fmt])

            atomic_write(target, save)
            files[fmt] = target
    files = {fmt: files[fmt] for fmt in dict.fromkeys(formats)}
    row = {
        "name": name,
        "files": ";".join(p.name for p in files.values()),
        **{f"caption_{lang}": captions[lang] for lang in LANGS},
        **{f"alt_text_{lang}": alt_texts[lang] for lang in LANGS},
        **{f"suppressed_{lang}": suppression_note(record, lang, threshold) for lang in LANGS},
    }
    index_path = out_dir / INDEX_CSV
    with _index_lock(out_dir):
        index = _read_index(index_path)
        index = index.loc[index["name"] != name]
        index = pd.concat([index, pd.DataFrame([row], dtype="str")], ignore_index=True)
        index = index.sort_values("name", kind="stable").reset_index(drop=True)
        write_text(index_path, csv_text(index))
        write_text(out_dir / INDEX_README, _readme(index))
    return FigureExport(files=files, index_row=row)
