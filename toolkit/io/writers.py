"""Writing files: atomically, reproducibly, and safe to open in a spreadsheet.

Every file sekat writes goes through :func:`atomic_write`: the bytes go to a hidden temporary
file beside the target, are flushed and synced to disk, get the one permission every output
has (:data:`FILE_MODE`, readable by all, writable by the owner), and the temporary file is then
renamed over the target, so a reader never sees half a file and an interrupted run leaves the
old file in place. On top of it: :func:`write_text`, :func:`write_bytes`, deterministic Parquet
(:func:`write_parquet`), CSV with cells a spreadsheet would run as a formula defused
(:func:`write_csv`, :func:`escape_csv_injection`) and :func:`write_table`, which picks the
format from the file name.
"""

from __future__ import annotations

import contextlib
import errno
import gzip
import os
import re
import secrets
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import IO, Any

from toolkit.errors import SekatError

__all__ = [
    "COMMIT_FILE",
    "STAGING_MARK",
    "STAGING_PREFIX",
    "FILE_MODE",
    "FORMULA_TRIGGERS",
    "TABLE_SUFFIXES",
    "GZIP_LEVEL",
    "atomic_write",
    "csv_bytes",
    "csv_text",
    "escape_cell",
    "escape_csv_injection",
    "finish_release",
    "folder_lock",
    "fsync_dir",
    "release",
    "parquet_bytes",
    "table_suffix",
    "write_bytes",
    "write_csv",
    "write_parquet",
    "write_table",
    "write_text",
]

#: Permission of every file sekat writes: figures, tables and the brief are meant to be shared,
#: and the prepared data are protected by pseudonyms and by where the user keeps them, not by
#: a mode a copy would lose.
FILE_MODE = 0o644
#: First characters that make a spreadsheet read a cell as a formula.
FORMULA_TRIGGERS: tuple[str, ...] = ("=", "+", "-", "@", "\t", "\r")
#: Suffixes :func:`write_table` understands.
TABLE_SUFFIXES = (".csv.gz", ".csv", ".parquet")

#: errno values of a full disk or an exhausted quota.
_DISK_FULL = {errno.ENOSPC, errno.EDQUOT, errno.EFBIG}
#: Prefix of the hidden folder a release is staged in, beside the files it replaces.
STAGING_PREFIX = ".sekat-tmp-"
#: File inside a staging folder that says sekat made it: no other folder is ever removed.
STAGING_MARK = ".sekat-staging"
#: File inside a staging folder, written once every file is staged and synced: the commit
#: point. A staging folder with it is rolled forward; one without it is discarded.
COMMIT_FILE = ".sekat-commit"

_PLAIN_NUMBER = re.compile(r"^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$")


def fsync_dir(path: str | os.PathLike[str]) -> None:
    """Sync a directory, so that a rename inside it survives a crash (where the OS allows)."""
    with contextlib.suppress(OSError):  # not every platform can open a directory
        fd = os.open(path, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def atomic_write(path: str | os.PathLike[str], write: Callable[[IO[bytes]], None]) -> Path:
    """Write a file through ``write(handle)`` into a temporary file, then rename it into place.

    Parameters
    ----------
    path : path-like
        The target; its folder is created if needed.
    write : callable
        Called with a binary handle open for writing.

    Returns
    -------
    pathlib.Path
        The target.

    Examples
    --------
    >>> import tempfile
    >>> target = Path(tempfile.mkdtemp()) / "note.txt"
    >>> _ = atomic_write(target, lambda handle: handle.write(b"hello"))
    >>> target.read_bytes(), oct(target.stat().st_mode & 0o777)
    (b'hello', '0o644')
    """
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    temporary = target.with_name(f".{target.name}.{secrets.token_hex(6)}.tmp")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, FILE_MODE)
    try:
        with os.fdopen(fd, "wb") as handle:
            write(handle)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(temporary, FILE_MODE)  # os.open honours the umask; outputs get one mode
        os.replace(temporary, target)
    except OSError as err:
        temporary.unlink(missing_ok=True)
        if err.errno in _DISK_FULL:
            raise SekatError(
                f"no space left on the device ({os.strerror(err.errno)}); free some and run "
                "again (the previous file is unchanged)",
                file=str(target),
            ) from None
        raise
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
    fsync_dir(target.parent)
    return target


def write_bytes(path: str | os.PathLike[str], data: bytes) -> Path:
    """Write bytes atomically (:func:`atomic_write`)."""
    return atomic_write(path, lambda handle: handle.write(data))


def write_text(path: str | os.PathLike[str], text: str) -> Path:
    """Write UTF-8 text atomically (:func:`atomic_write`)."""
    return write_bytes(path, text.encode("utf-8"))


def parquet_bytes(frame: Any) -> bytes:
    """A frame as Parquet bytes, deterministically: the same frame gives the same bytes.

    The index is not written and ``DataFrame.attrs`` are left out (they would be stored in the
    schema metadata); Parquet holds no write time, so the bytes depend only on the data, the
    schema and the pyarrow version.

    Examples
    --------
    >>> import pandas as pd
    >>> parquet_bytes(pd.DataFrame({"a": [1]})) == parquet_bytes(pd.DataFrame({"a": [1]}))
    True
    """
    import pyarrow as pa
    import pyarrow.parquet as pq

    plain = frame.reset_index(drop=True)
    plain.attrs = {}
    sink = pa.BufferOutputStream()
    pq.write_table(pa.Table.from_pandas(plain, preserve_index=False), sink, compression="zstd")
    return sink.getvalue().to_pybytes()


def write_parquet(frame: Any, path: str | os.PathLike[str]) -> Path:
    """Write a frame to Parquet deterministically (:func:`parquet_bytes`) and atomically.

    Examples
    --------
    >>> import pathlib, tempfile, pandas as pd
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> _ = write_parquet(pd.DataFrame({"a": [1]}), d / "x.parquet")
    >>> pd.read_parquet(d / "x.parquet")["a"].tolist()
    [1]
    """
    import pyarrow as pa
    import pyarrow.parquet as pq

    plain = frame.reset_index(drop=True)
    plain.attrs = {}
    table = pa.Table.from_pandas(plain, preserve_index=False)
    return atomic_write(path, lambda handle: pq.write_table(table, handle, compression="zstd"))


def escape_cell(value: object) -> object:
    """Defuse a cell a spreadsheet would run as a formula, by a leading apostrophe.

    Parameters
    ----------
    value : object
        A cell. Only strings are changed.

    Returns
    -------
    object
        ``"'" + value`` if the string starts with =, +, -, @, a tab or a carriage return and
        is not a plain number; else ``value`` unchanged.

    Examples
    --------
    >>> escape_cell("=cmd|' /C calc'!A0")
    "'=cmd|' /C calc'!A0"
    >>> escape_cell("-12.5"), escape_cell("@SUM(A1)"), escape_cell(-3)
    ('-12.5', "'@SUM(A1)", -3)

    Notes
    -----
    A plain number (``-12.5``, ``+3``, ``-1e-3``) is left alone: spreadsheets read it as
    the number it is, and an apostrophe would turn it into text.

    References
    ----------
    OWASP Foundation. CSV Injection. https://owasp.org/www-community/attacks/CSV_Injection
    """
    if isinstance(value, str) and value.startswith(FORMULA_TRIGGERS):
        if not _PLAIN_NUMBER.match(value):
            return "'" + value
    return value


def escape_csv_injection(table: Any) -> Any:
    """Apply :func:`escape_cell` to every text cell and column name of a table.

    Examples
    --------
    >>> import pandas as pd
    >>> escape_csv_injection(pd.DataFrame({"agency": ["=1+1", "-5", "Roads"]}))["agency"].tolist()
    ["'=1+1", '-5', 'Roads']
    """
    import pandas as pd

    out = table.copy()
    for column in out.columns:
        series = out[column]
        if isinstance(series.dtype, pd.CategoricalDtype):
            series = series.astype("object")
        if pd.api.types.is_object_dtype(series) or pd.api.types.is_string_dtype(series):
            out[column] = series.map(escape_cell, na_action="ignore")
    out.columns = [escape_cell(str(c)) for c in out.columns]
    return out


def csv_text(table: Any, **to_csv: Any) -> str:
    """A table as CSV text with formula cells defused, ``\\n`` line ends and no index."""
    return escape_csv_injection(table).to_csv(index=False, lineterminator="\n", **to_csv)


def write_csv(table: Any, path: str | os.PathLike[str], **to_csv: Any) -> Path:
    """Write a table as CSV (:func:`csv_text`), atomically.

    Examples
    --------
    >>> import pathlib, tempfile, pandas as pd
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "t.csv"
    >>> _ = write_csv(pd.DataFrame({"a": ["=1+1"]}), p)
    >>> p.read_text()
    "a\\n'=1+1\\n"
    """
    return write_text(path, csv_text(table, **to_csv))


def table_suffix(path: str | os.PathLike[str]) -> str:
    """The table format of a file name (one of :data:`TABLE_SUFFIXES`), or a SekatError.

    Examples
    --------
    >>> table_suffix("log.CSV.gz")
    '.csv.gz'
    """
    name = Path(path).name
    for suffix in TABLE_SUFFIXES:
        if name.lower().endswith(suffix) and len(name) > len(suffix):
            return suffix
    raise SekatError(
        f"cannot tell the format from the name; end it in {', '.join(TABLE_SUFFIXES)}",
        file=str(path),
    )


#: Gzip level of ``.csv.gz`` tables: the ``gzip`` tool's default (level 9 took three times as
#: long for 7 % smaller files: 26 s against 8 s for a 600 MB log of a million requests).
GZIP_LEVEL = 6


def _csv_field(text: str) -> str:
    """One text cell as pandas' CSV writer puts it: defused, quoted where it must be."""
    text = escape_cell(text)
    if any(ch in text for ch in ',"\n'):  # what pandas' writer quotes with "\n" line ends
        return '"' + text.replace('"', '""') + '"'
    return text


def _utc_seconds_text(seconds: Any) -> Any:
    """Seconds since the epoch as ``YYYY-MM-DD HH:MM:SS+00:00`` (an Arrow text array).

    Digits are computed with integer arithmetic into one byte matrix, 25 bytes a row, which
    becomes the array's data buffer: no per-row formatting.
    """
    import numpy as np
    import pyarrow as pa

    stamps = np.asarray(seconds, dtype="int64").astype("datetime64[s]")
    days = stamps.astype("datetime64[D]")
    months = stamps.astype("datetime64[M]")
    years = stamps.astype("datetime64[Y]")
    fields = (
        (years.astype(np.int64) + 1970, 4),
        ((months - years.astype("datetime64[M]")).astype(np.int64) + 1, 2),
        ((days - months.astype("datetime64[D]")).astype(np.int64) + 1, 2),
    )
    clock = (stamps - days.astype("datetime64[s]")).astype(np.int64)
    fields += ((clock // 3600, 2), (clock // 60 % 60, 2), (clock % 60, 2))
    matrix = np.empty((25, len(stamps)), dtype=np.uint8)  # one row per character
    column = 0
    for (value, width), after in zip(fields, "-- ::+", strict=True):
        for place in range(width - 1, -1, -1):
            matrix[column + place] = value % 10 + 48
            value = value // 10
        column += width
        matrix[column] = ord(after)
        column += 1
    matrix[column:] = np.frombuffer(b"00:00", dtype=np.uint8)[:, None]
    matrix = np.ascontiguousarray(matrix.T)
    offsets = np.arange(0, 25 * len(stamps) + 1, 25, dtype=np.int64)
    return pa.LargeStringArray.from_buffers(
        len(stamps), pa.py_buffer(offsets), pa.py_buffer(matrix.reshape(-1))
    )


def _csv_column(values: Any) -> Any:
    """A column's CSV cells as an Arrow text array (missing as empty); None if unsupported.

    Text is quoted and defused once per distinct value of a categorical column, and only on
    the rows that need it otherwise; whole-second UTC times are written as pandas writes
    them (``2024-01-05 08:00:00+00:00``).
    """
    import numpy as np
    import pandas as pd
    import pyarrow as pa
    import pyarrow.compute as pc

    dtype = values.dtype
    empty = pa.scalar("", pa.large_string())
    if isinstance(dtype, pd.CategoricalDtype):
        categories = dtype.categories
        if not (pd.api.types.is_string_dtype(categories.dtype) or categories.dtype == object):
            return None
        if not all(isinstance(c, str) for c in categories):
            return None
        cells = pa.array([_csv_field(c) for c in categories], type=pa.large_string())
        codes = values.cat.codes.to_numpy()
        return pc.fill_null(cells.take(pa.array(codes, mask=codes < 0)), empty)
    if isinstance(dtype, pd.DatetimeTZDtype):
        if str(dtype.tz) != "UTC":
            return None
        ns = values.dt.as_unit("ns").array.asi8
        missing = values.isna().to_numpy()
        if (ns[~missing] % 1_000_000_000 != 0).any():
            return None  # fractions of a second: pandas' own formatting decides
        text = _utc_seconds_text(np.where(missing, 0, ns // 1_000_000_000))
        return pc.if_else(pa.array(missing), empty, text)
    if pd.api.types.is_integer_dtype(dtype) and not isinstance(
        dtype, pd.api.extensions.ExtensionDtype
    ):
        return pc.cast(pa.array(values.to_numpy()), pa.large_string())
    if isinstance(dtype, np.dtype) and dtype.kind == "b":
        return pc.if_else(
            pa.array(values.to_numpy()),
            pa.scalar("True", pa.large_string()),
            pa.scalar("False", pa.large_string()),
        )
    if isinstance(dtype, pd.StringDtype):
        text = pa.array(values.array).cast(pa.large_string())
        special = pc.match_substring_regex(text, r'[,"\n]|^[=+\-@\t\r]')
        if pc.any(special).as_py():
            rows = np.flatnonzero(pc.fill_null(special, False).to_numpy(zero_copy_only=False))
            fixed = pa.array(
                [_csv_field(v) for v in text.take(pa.array(rows)).to_pylist()],
                type=pa.large_string(),
            )
            text = pc.replace_with_mask(
                text, pa.array(pc.fill_null(special, False).to_numpy(zero_copy_only=False)), fixed
            )
        return pc.fill_null(text, empty)
    return None


def csv_bytes(table: Any) -> bytes | memoryview:
    """:func:`csv_text` as UTF-8 bytes, built by Arrow where the columns allow (same bytes).

    Text, categorical, integer, boolean and whole-second UTC time columns are encoded
    column by column with Arrow; any other column (floats, fractions of a second, mixed
    objects) sends the table through pandas' writer.

    Examples
    --------
    >>> import pandas as pd
    >>> table = pd.DataFrame({"a": ["x,y", "=1"], "n": [1, 2]})
    >>> bytes(csv_bytes(table)) == csv_text(table).encode()
    True
    """
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc

    if len(table.columns) < 2 or len(table) == 0 or not table.columns.is_unique:
        return csv_text(table).encode("utf-8")
    columns = []
    for name in table.columns:
        cells = _csv_column(table[name])
        if cells is None:
            return csv_text(table).encode("utf-8")
        columns.append(cells)
    header = ",".join(_csv_field(str(name)) for name in table.columns) + "\n"
    comma = pa.scalar(",", pa.large_string())
    newline = pa.scalar("\n", pa.large_string())
    lines = pc.binary_join_element_wise(*columns, comma)
    lines = pc.binary_join_element_wise(lines, pa.scalar("", pa.large_string()), newline)
    if isinstance(lines, pa.ChunkedArray):
        lines = lines.combine_chunks()
    lines = pa.concat_arrays([pa.array([header], type=pa.large_string()), lines])
    # The rows' text lies end to end in the array's data buffer: that buffer is the file.
    offsets = np.frombuffer(lines.buffers()[1], dtype=np.int64)
    start, stop = int(offsets[lines.offset]), int(offsets[lines.offset + len(lines)])
    return memoryview(lines.buffers()[2])[start:stop]


def write_table(table: Any, path: str | os.PathLike[str]) -> Path:
    """Write a table as CSV, gzipped CSV or Parquet (by suffix), atomically and reproducibly.

    Parameters
    ----------
    table : pandas.DataFrame
        The table; its index is not written.
    path : path-like
        Ends in ``.csv``, ``.csv.gz`` or ``.parquet``.

    Notes
    -----
    Gzip members are written with mtime 0 and no file name at level :data:`GZIP_LEVEL`, so
    the same table gives the same bytes on every run. CSV cells a spreadsheet would run as a
    formula are defused (:func:`escape_csv_injection`); Parquet keeps every value as it is.

    Examples
    --------
    >>> import pathlib, tempfile, pandas as pd
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "t.csv.gz"
    >>> _ = write_table(pd.DataFrame({"a": [1, 2]}), p)
    >>> pd.read_csv(p)["a"].tolist()
    [1, 2]
    """
    suffix = table_suffix(path)
    if suffix == ".parquet":
        return write_parquet(table, path)
    text = csv_bytes(table)
    if suffix == ".csv":
        return atomic_write(path, lambda handle: handle.write(text))

    def packed(handle: IO[bytes]) -> None:
        with gzip.GzipFile(
            filename="", mode="wb", fileobj=handle, mtime=0, compresslevel=GZIP_LEVEL
        ) as stream:
            stream.write(text)

    return atomic_write(path, packed)


# --- releases: a set of files that switches at once -----------------------------------------------


@contextlib.contextmanager
def folder_lock(folder: str | os.PathLike[str], *, wait: bool = False):
    """Hold the one writer's lock of an output folder (an advisory lock on the folder itself).

    Parameters
    ----------
    folder : path-like
        An existing folder.
    wait : bool
        Wait for the lock (a reader waiting for a release to finish); by default a second
        writer stops at once with a clear message.

    Raises
    ------
    SekatError
        Another run holds the lock and ``wait`` is False.
    """
    try:
        import fcntl
    except ImportError:  # not POSIX: no lock, as before
        yield
        return
    handle = os.open(folder, os.O_RDONLY)
    try:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | (0 if wait else fcntl.LOCK_NB))
        except BlockingIOError:
            raise SekatError(
                "another sekat run is writing to this folder; wait for it to finish, or "
                "write to another folder (--out)",
                file=str(folder),
            ) from None
        yield
    finally:
        os.close(handle)  # closing releases the lock


def _staged_names(staging: Path) -> list[str]:
    text = (staging / COMMIT_FILE).read_text(encoding="utf-8")
    return [line for line in text.splitlines() if line and "/" not in line and line[0] != "."]


def finish_release(folder: str | os.PathLike[str], *, locked: bool = False) -> None:
    """Complete or discard what a killed release left in ``folder``; call under the lock.

    A staging folder that sekat made (it holds :data:`STAGING_MARK`) and that reached its
    commit point (:data:`COMMIT_FILE`) is rolled forward: its remaining files are renamed into
    place, so the folder holds the new set whole. One that did not is removed: the folder
    holds the old set whole. Folders sekat did not make are never touched.

    Parameters
    ----------
    folder : path-like
    locked : bool
        The caller holds :func:`folder_lock` already; otherwise it is taken (waiting).
    """
    folder = Path(folder)
    if not folder.is_dir():
        return
    stale = [d for d in folder.glob(STAGING_PREFIX + "*") if (d / STAGING_MARK).is_file()]
    if not stale:
        return
    with contextlib.nullcontext() if locked else folder_lock(folder, wait=True):
        for staging in sorted(folder.glob(STAGING_PREFIX + "*")):
            if not (staging / STAGING_MARK).is_file():
                continue  # a folder of the user's that happens to share the prefix
            if (staging / COMMIT_FILE).is_file():
                for name in _staged_names(staging):
                    if (staging / name).is_file():
                        os.replace(staging / name, folder / name)
                fsync_dir(folder)
            for leftover in staging.iterdir():
                leftover.unlink()
            staging.rmdir()


@contextlib.contextmanager
def release(folder: str | os.PathLike[str], order: Callable[[list[str]], list[str]] | None = None):
    """Stage a set of files, then switch the whole set at once. Call under :func:`folder_lock`.

    The caller writes files into the yielded staging folder. On exit every file is synced,
    :data:`COMMIT_FILE` is written (listing them, in ``order``), and they are renamed into
    ``folder``; a kill before the commit point leaves the old set, a kill after it is rolled
    forward by the next :func:`finish_release` (every ``sekat prepare`` and every reader of a
    prepared folder calls it), so the folder never serves a mixture.

    Examples
    --------
    >>> import pathlib, tempfile
    >>> out = pathlib.Path(tempfile.mkdtemp())
    >>> with folder_lock(out), release(out) as staging:
    ...     _ = write_text(staging / "a.txt", "new")
    >>> sorted(p.name for p in out.iterdir())
    ['a.txt']
    """
    folder = Path(folder)
    finish_release(folder, locked=True)
    staging = Path(tempfile.mkdtemp(prefix=STAGING_PREFIX, dir=folder))
    (staging / STAGING_MARK).write_bytes(b"")
    try:
        yield staging
        names = sorted(p.name for p in staging.iterdir() if not p.name.startswith("."))
        names = order(names) if order is not None else names
        fsync_dir(staging)
    except BaseException:
        for leftover in staging.iterdir():
            leftover.unlink()
        staging.rmdir()
        raise
    write_text(staging / COMMIT_FILE, "".join(f"{name}\n" for name in names))
    fsync_dir(staging)
    # From here on the new set is committed: an interruption is finished, never undone.
    for name in names:
        os.replace(staging / name, folder / name)
    fsync_dir(folder)
    for leftover in staging.iterdir():
        leftover.unlink()
    staging.rmdir()
