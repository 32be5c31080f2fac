"""Resource limits of the readers: a hostile file ends in one line, never in exhaustion.

A CSV with one 500 MB field or 200,000 columns, JSON nested 100,000 deep or with 20,000
distinct keys, an XES log of 100,000 nested containers or a 50 MB attribute, a 4 MB gzip that
expands to 4 GiB: each would exhaust memory or time long before it said anything useful. The
readers check these limits as they read and stop with a :class:`LimitError` naming the file,
the limit and how to raise it. Every limit is set by an environment variable (read at each
call, so a test or a user can change it):

=============================  ===========  ==================================================
variable                       default      bounds
=============================  ===========  ==================================================
``SEKAT_MAX_LINE_BYTES``       16 MiB       one line of a CSV (so one field)
``SEKAT_MAX_COLUMNS``          2,000        columns of a CSV header
``SEKAT_MAX_KEYS``             2,000        distinct keys of JSON records or XES attributes
``SEKAT_MAX_DEPTH``            64           nesting of JSON values and XES elements
``SEKAT_MAX_VALUE_BYTES``      16 MiB       one XES attribute value
``SEKAT_MAX_DOCUMENT_BYTES``   1 GiB        a JSON document (read whole)
``SEKAT_MAX_DECOMPRESSED``     8 GiB        what a gzip file may expand to
=============================  ===========  ==================================================
"""

from __future__ import annotations

import gzip
import os
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from toolkit.errors import SekatError

__all__ = [
    "LIMIT_VARIABLES",
    "LimitError",
    "Limits",
    "check_csv_lines",
    "check_markup_gaps",
    "current_limits",
    "json_shape",
    "read_document",
]

_MIB = 1 << 20
#: Field of :class:`Limits` -> (environment variable, default, unit for messages).
LIMIT_VARIABLES: dict[str, tuple[str, int, str]] = {
    "max_line_bytes": ("SEKAT_MAX_LINE_BYTES", 16 * _MIB, "bytes"),
    "max_columns": ("SEKAT_MAX_COLUMNS", 2_000, "columns"),
    "max_keys": ("SEKAT_MAX_KEYS", 2_000, "distinct keys"),
    "max_depth": ("SEKAT_MAX_DEPTH", 64, "levels"),
    "max_value_bytes": ("SEKAT_MAX_VALUE_BYTES", 16 * _MIB, "bytes"),
    "max_document_bytes": ("SEKAT_MAX_DOCUMENT_BYTES", 1024 * _MIB, "bytes"),
    "max_decompressed": ("SEKAT_MAX_DECOMPRESSED", 8192 * _MIB, "bytes"),
}
_CHUNK = 16 * _MIB


class LimitError(SekatError):
    """A file goes past a resource limit; the message names the file, the limit and its variable."""


@dataclass(frozen=True)
class Limits:
    """The limits in force (see the module's table)."""

    max_line_bytes: int = LIMIT_VARIABLES["max_line_bytes"][1]
    max_columns: int = LIMIT_VARIABLES["max_columns"][1]
    max_keys: int = LIMIT_VARIABLES["max_keys"][1]
    max_depth: int = LIMIT_VARIABLES["max_depth"][1]
    max_value_bytes: int = LIMIT_VARIABLES["max_value_bytes"][1]
    max_document_bytes: int = LIMIT_VARIABLES["max_document_bytes"][1]
    max_decompressed: int = LIMIT_VARIABLES["max_decompressed"][1]

    def refuse(self, name: str, what: str, path: Path | str) -> LimitError:
        """The one-line error for going past limit ``name``."""
        variable, _, unit = LIMIT_VARIABLES[name]
        value = getattr(self, name)
        shown = (
            f"{value / _MIB:g} MiB" if unit == "bytes" and value >= _MIB else f"{value:,} {unit}"
        )
        return LimitError(
            f"{what}: past the limit of {shown} ({variable}; raise it if the file is trusted)",
            file=str(path),
        )


def current_limits() -> Limits:
    """The limits, each from its environment variable or its default.

    Examples
    --------
    >>> current_limits().max_depth >= 1
    True
    """
    values = {}
    for name, (variable, default, _) in LIMIT_VARIABLES.items():
        text = os.environ.get(variable, "").strip().replace("_", "")
        try:
            values[name] = int(text) if text else default
        except ValueError:
            raise SekatError(f"{variable} must be a whole number, got {text!r}") from None
        if values[name] < 1:
            raise SekatError(f"{variable} must be at least 1, got {values[name]}")
    return Limits(**values)


def read_document(path: Path, compressed: bool, limits: Limits | None = None) -> bytes:
    """A whole document's bytes (JSON), refusing one larger than ``max_document_bytes``."""
    limits = limits or current_limits()
    opener = gzip.open if compressed else open
    with opener(path, "rb") as handle:
        data = handle.read(limits.max_document_bytes + 1)
    if len(data) > limits.max_document_bytes:
        what = "the file expands to more" if compressed else "the file is larger"
        raise limits.refuse("max_document_bytes", what, path)
    return data


def check_csv_lines(path: Path, compressed: bool, limits: Limits | None = None) -> None:
    """Scan a CSV once for a line, a header or a decompressed size past its limit.

    Linear in the file's size, on whole chunks (numpy finds the line ends), and in constant
    memory; run before a parser that would allocate a whole line or field at once.

    Raises
    ------
    LimitError
        A line longer than ``max_line_bytes``, a header with more than ``max_columns``
        fields, or a gzip file expanding past ``max_decompressed``.

    Examples
    --------
    >>> import pathlib, tempfile
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "log.csv"
    >>> _ = p.write_text("a,b\\n1,2\\n")
    >>> check_csv_lines(p, compressed=False)
    >>> check_csv_lines(p, compressed=False, limits=Limits(max_columns=1))
    Traceback (most recent call last):
    toolkit.io.limits.LimitError: ...log.csv: the header has 2 columns: past the limit of 1 columns (SEKAT_MAX_COLUMNS; raise it if the file is trusted)
    """
    limits = limits or current_limits()
    line = 0  # length of the line running into the next chunk
    header: bytes | None = b""
    try:
        for chunk in _chunks(path, compressed, limits):
            ends = np.flatnonzero(np.frombuffer(chunk, dtype=np.uint8) == 10)
            if header is not None:
                cut = int(ends[0]) if ends.size else len(chunk)
                header += chunk[:cut]
                if ends.size or len(header) > limits.max_line_bytes:
                    _check_header(header, limits, path)
                    header = None
            line = _longest_gap(line, ends, len(chunk), limits.max_line_bytes)
            if line > limits.max_line_bytes:
                raise limits.refuse("max_line_bytes", "a line is longer", path)
    except (EOFError, zlib.error, gzip.BadGzipFile):
        return  # the reader names a broken archive itself
    if header:
        _check_header(header, limits, path)


def check_markup_gaps(path: Path, compressed: bool, limits: Limits | None = None) -> None:
    """Scan an XML file once for a run of text or an attribute longer than ``max_value_bytes``.

    In XML neither text nor an attribute value may hold a raw ``<``, so the longest stretch
    between two ``<`` bounds every value; expat would otherwise spend minutes growing its
    buffer for a 50 MB attribute. Also bounds what a gzip file expands to.

    Examples
    --------
    >>> import pathlib, tempfile
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "log.xes"
    >>> _ = p.write_text("<log><trace/></log>")
    >>> check_markup_gaps(p, compressed=False)
    """
    limits = limits or current_limits()
    run = 0
    try:
        for chunk in _chunks(path, compressed, limits):
            opens = np.flatnonzero(np.frombuffer(chunk, dtype=np.uint8) == 60)
            run = _longest_gap(run, opens, len(chunk), limits.max_value_bytes)
            if run > limits.max_value_bytes:
                raise limits.refuse("max_value_bytes", "an attribute or text is longer", path)
    except (EOFError, zlib.error, gzip.BadGzipFile):
        return  # the parser names a broken archive itself


def _chunks(path: Path, compressed: bool, limits: Limits) -> Iterator[bytes]:
    """A file's (decompressed) bytes in chunks; a gzip file past ``max_decompressed`` stops."""
    opener = gzip.open if compressed else open
    total = 0
    with opener(path, "rb") as handle:
        while chunk := handle.read(_CHUNK):
            total += len(chunk)
            if compressed and total > limits.max_decompressed:
                raise limits.refuse("max_decompressed", "the gzip file expands to more", path)
            yield chunk


def _longest_gap(run: int, marks: np.ndarray, size: int, bound: int) -> int:
    """The stretch without a mark that a chunk leaves running, or one past ``bound`` inside it.

    ``run`` is the stretch running into the chunk, ``marks`` the chunk's mark positions.
    """
    if marks.size == 0:
        return run + size
    longest = max(run + int(marks[0]), int(np.diff(marks).max(initial=0)))
    return longest if longest > bound else size - int(marks[-1]) - 1


def _check_header(header: bytes, limits: Limits, path: Path) -> None:
    fields = max(header.count(sep) for sep in (b",", b";", b"\t", b"|")) + 1
    if fields > limits.max_columns:
        raise limits.refuse("max_columns", f"the header has {fields:,} columns", path)
    if len(header) > limits.max_line_bytes:
        raise limits.refuse("max_line_bytes", "the header line is longer", path)


def json_shape(data: object, path: Path, limits: Limits | None = None) -> None:
    """Refuse JSON records nested deeper than ``max_depth`` or with more than ``max_keys`` keys.

    Iterative (no recursion), stopping at the first value past a limit.
    """
    limits = limits or current_limits()
    keys: set[str] = set()
    stack: list[tuple[object, int, str]] = [(data, 0, "")]
    while stack:
        value, depth, prefix = stack.pop()
        if depth > limits.max_depth:
            raise limits.refuse("max_depth", "values are nested deeper", path)
        if isinstance(value, dict):
            for key, item in value.items():
                flat = f"{prefix}/{key}" if prefix else str(key)
                keys.add(flat)
                if len(keys) > limits.max_keys:
                    raise limits.refuse("max_keys", "the records have more keys", path)
                stack.append((item, depth + 1, flat))
        elif isinstance(value, list):
            stack.extend((item, depth + 1, prefix) for item in value)
