"""Read event logs (CSV, gzipped CSV, Parquet, JSON, XES) into the canonical event frame.

:func:`read_events` is the front door: it detects the file format from the content, renames the
log's columns through a :class:`~toolkit.io.mapping.Mapping`, maps channels, activities and agency
aliases onto the contract's vocabularies and turns every timestamp into UTC. It never drops a
row: a timestamp that cannot be read becomes NaT, its raw text is kept in ``timestamp_raw`` and
the fault is named in ``timestamp_issue``, so that :func:`toolkit.clean.validation.validate` can
quarantine the row with a reason. User errors (a missing file or column, an empty, binary or
non-UTF-8 file) raise :class:`~toolkit.errors.SekatError` naming the file.
"""

from __future__ import annotations

import gzip
import json
import logging
import warnings
import zlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from toolkit import schema
from toolkit.errors import MissingColumnError, SekatError
from toolkit.io import limits
from toolkit.io.mapping import Mapping, normalise_label
from toolkit.io.presets import resolve_mapping
from toolkit.io.timestamps import AMBIGUOUS_LOCAL_TIME, parse_timestamps_with_shapes

__all__ = [
    "ACTIVITY_UNMAPPED",
    "AGENCY_CARRIED",
    "CHANNEL_OBSERVED",
    "CHANNEL_UNMAPPED",
    "FORMATS",
    "IGNORED_COLUMNS",
    "READ_MARKERS",
    "TIMESTAMP_FORMAT",
    "TIMESTAMP_ISSUE",
    "TIMESTAMP_RAW",
    "canonicalise",
    "describe_columns",
    "detect_format",
    "read_events",
    "resolve_format",
]

# Bookkeeping columns that read_events adds and validate consumes (and removes from clean events).
TIMESTAMP_RAW = schema.TIMESTAMP_RAW
TIMESTAMP_ISSUE = schema.TIMESTAMP_ISSUE
CHANNEL_UNMAPPED = schema.CHANNEL_UNMAPPED
ACTIVITY_UNMAPPED = schema.ACTIVITY_UNMAPPED
#: The format each timestamp was read with (``ISO 8601``, a strftime format such as
#: ``%d/%m/%Y %H:%M``, or else its written shape: digits as 9 and words as Aaa,
#: ``9 Aaa 9999``), so that the validation report can count the formats one column mixes.
#: (A bookkeeping column like the others; its name belongs in toolkit.schema.)
TIMESTAMP_FORMAT = schema.TIMESTAMP_FORMAT
#: Whether an event's unit was filled from the request's previous event (``carry_agency``).
AGENCY_CARRIED = schema.AGENCY_CARRIED
READ_MARKERS = (
    TIMESTAMP_RAW,
    TIMESTAMP_ISSUE,
    CHANNEL_UNMAPPED,
    ACTIVITY_UNMAPPED,
    TIMESTAMP_FORMAT,
    AGENCY_CARRIED,
)
#: Key of ``DataFrame.attrs`` under which :func:`read_events` lists the file's columns it did
#: not read (data minimisation), so that a report can name them.
IGNORED_COLUMNS = schema.IGNORED_COLUMNS_ATTR
#: Key of ``DataFrame.attrs`` (and of the prepare report): False when the file records no
#: intake channel (the mapping's ``channel`` constant, or the ``xes`` preset's ``other`` for a
#: log without one), so that an analysis never reads a constant channel as a treatment.
CHANNEL_OBSERVED = schema.CHANNEL_OBSERVED


# --- format detection and raw loading ---------------------------------------------------------


def _head(path: Path, n: int = 8192) -> bytes:
    with open(path, "rb") as handle:
        return handle.read(n)


def detect_format(path: str | Path) -> str:
    """Name the format of an event-log file from its first bytes, not its suffix.

    Parameters
    ----------
    path : str or path-like
        The file.

    Returns
    -------
    str
        ``"parquet"``, ``"csv"`` (plain or gzip-compressed), ``"xes"`` (XML),
        ``"georeport_xml"`` (an Open311 GeoReport v2 ``<service_requests>`` list) or ``"json"``
        (text starting with ``[`` or ``{``, e.g. an Open311 or Socrata request list).

    Raises
    ------
    SekatError
        If the file does not exist, is empty or holds binary content that is none of these.

    Examples
    --------
    >>> import pathlib, tempfile
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "log.txt"
    >>> _ = p.write_text("case_id,timestamp\\n1,2024-01-01\\n")
    >>> detect_format(p)
    'csv'
    """
    path = Path(path)
    if path.is_dir():
        raise SekatError("is a directory, not an event-log file", file=str(path))
    if not path.exists():
        raise SekatError("file does not exist", file=str(path))
    head = _head(path)
    if not head:
        raise SekatError("file is empty", file=str(path))
    if head.startswith(b"PAR1"):
        return "parquet"
    if head.startswith(b"\x1f\x8b"):
        try:
            with gzip.open(path, "rb") as handle:
                head = handle.read(8192)
        except (OSError, EOFError, zlib.error) as err:
            raise SekatError(f"corrupt or truncated gzip file ({err})", file=str(path)) from None
        if not head:
            raise SekatError("file is empty (an empty gzip archive)", file=str(path))
    text = head.lstrip(b"\xef\xbb\xbf \t\r\n")
    if text.startswith(b"<?xml") or text.startswith(b"<"):
        return "georeport_xml" if b"<service_requests" in text else "xes"
    if text[:1] in (b"[", b"{"):
        return "json"
    if b"\x00" in head:
        raise SekatError(
            "binary content: not a CSV, gzipped CSV or Parquet file (or a UTF-16 text file; "
            "save it as UTF-8)",
            file=str(path),
        )
    return "csv"


def _first_bad_line(path: Path, compressed: bool, encoding: str) -> int | None:
    opener = gzip.open if compressed else open
    with opener(path, "rb") as handle:
        for number, line in enumerate(handle, start=1):
            try:
                line.decode(encoding)
            except UnicodeDecodeError:
                return number
    return None


_CSV_CHUNK_ROWS = 250_000


def _wanted_columns(mapping: Mapping) -> Callable[[str], bool] | None:
    """Which of a file's columns the mapping can use; None when it cannot tell (read all).

    Loaders read only these, so that a wide export (a city's 40-column 311 file) costs the
    memory of the few columns sekat reads.
    """
    transform_wants = None
    if mapping.transform is not None:
        transform_wants = getattr(mapping.transform, "wants", None)
        if not callable(transform_wants):
            return None
    names = {
        str(n).strip().lower()
        for n in (
            *mapping.columns,
            *schema.CANONICAL_COLUMNS,
            *schema.PROVENANCE_COLUMNS,
            schema.HOPS_OBSERVED,
            *mapping.keep,
        )
    }

    def wanted(column: str) -> bool:
        if str(column).strip().lower() in names:
            return True
        return bool(transform_wants(column)) if transform_wants is not None else False

    return wanted


def _read_csv_columns(path: Path, wanted: Any, options: dict[str, Any]) -> pd.DataFrame:
    """Read a CSV with pandas, keeping the columns ``wanted`` accepts (all when it is None)."""
    if wanted is None:
        return pd.read_csv(path, **options)
    # In chunks, keeping only the columns the mapping can use: a wide export costs the
    # memory of the columns sekat reads (usecols would hide ragged rows, so it is not used).
    header = pd.read_csv(path, nrows=0, **options)
    chosen = [c for c in header.columns if wanted(c)]
    with pd.read_csv(path, chunksize=_CSV_CHUNK_ROWS, **options) as chunks:
        parts = [chunk[chosen] for chunk in chunks] or [header[chosen]]
    frame = pd.concat(parts, ignore_index=True) if len(parts) > 1 else parts[0]
    frame.attrs[IGNORED_COLUMNS] = [str(c) for c in header.columns if not wanted(c)]
    return frame


#: The texts pandas reads as missing in a CSV (its default ``na_values``); the Arrow reader is
#: given the same list, so that both read a file to the same values.
CSV_NA_VALUES: tuple[str, ...] = (
    "",
    "#N/A",
    "#N/A N/A",
    "#NA",
    "-1.#IND",
    "-1.#QNAN",
    "-NaN",
    "-nan",
    "1.#IND",
    "1.#QNAN",
    "<NA>",
    "N/A",
    "NA",
    "NULL",
    "NaN",
    "None",
    "n/a",
    "nan",
    "null",
)
#: Bytes the Arrow CSV reader parses per block (each thread takes blocks).
_ARROW_BLOCK_BYTES = 8 << 20


def _arrow_csv(
    path: Path, compressed: bool, wanted: Any, mapping: Mapping, delimiter: str = ","
) -> pd.DataFrame | None:
    """Read a CSV with Arrow's multi-threaded reader; None where it cannot serve.

    Arrow reads a well-formed UTF-8 file to the same values as pandas (every field as text,
    the same texts as missing). Where the two could differ it declines and pandas reads the
    file instead: another encoding, a header pandas would rename (a blank or repeated column
    name), and any row Arrow cannot parse (a row with fewer or more fields than the header,
    a line of blanks, invalid UTF-8), for which pandas also gives the error message naming
    the line.
    """
    import codecs

    import pyarrow.csv as pa_csv

    try:
        if codecs.lookup(mapping.encoding).name != "utf-8":
            return None
        header = pd.read_csv(
            path,
            nrows=0,
            sep=delimiter,
            dtype=str,
            compression="gzip" if compressed else None,
            encoding="utf-8",
            index_col=False,
        )
    except (LookupError, ValueError, OSError, EOFError, zlib.error):
        return None  # pandas names the fault
    names = [str(c) for c in header.columns]
    compression = "gzip" if compressed else None
    # A header pandas renamed (a blank or repeated name) names columns Arrow does not have:
    # include_columns then fails and pandas reads the file.
    chosen = names if wanted is None else [c for c in names if wanted(c)]
    try:
        with pa.input_stream(str(path), compression=compression) as stream:
            table = pa_csv.read_csv(
                stream,
                read_options=pa_csv.ReadOptions(use_threads=True, block_size=_ARROW_BLOCK_BYTES),
                parse_options=pa_csv.ParseOptions(newlines_in_values=True, delimiter=delimiter),
                convert_options=pa_csv.ConvertOptions(
                    column_types={name: pa.string() for name in chosen},
                    include_columns=chosen,
                    null_values=list(CSV_NA_VALUES),
                    strings_can_be_null=True,
                    quoted_strings_can_be_null=True,
                ),
            )
    except (pa.ArrowInvalid, pa.ArrowKeyError, OSError, EOFError, zlib.error):
        return None
    if table.column_names != chosen:
        return None
    frame = pd.DataFrame(
        {name: pd.Series(table.column(name), dtype="str", copy=False) for name in chosen},
        index=pd.RangeIndex(table.num_rows),
    )
    if wanted is not None:
        frame.attrs[IGNORED_COLUMNS] = [c for c in names if not wanted(c)]
    return frame


def _sniff_delimiter(path: Path, compressed: bool) -> str:
    """``,`` unless the header holds none and holds ``;``, a tab or ``|`` (a European export)."""
    opener = gzip.open if compressed else open
    try:
        with opener(path, "rb") as handle:
            header = handle.readline(1 << 20)
    except (OSError, EOFError, zlib.error):
        return ","
    if b"," in header:
        return ","
    counts = {sep: header.count(sep.encode()) for sep in (";", "\t", "|")}
    best = max(counts, key=counts.__getitem__)
    return best if counts[best] else ","


def _load_csv(path: Path, mapping: Mapping) -> pd.DataFrame:
    compressed = _head(path, 2) == b"\x1f\x8b"
    limits.check_csv_lines(path, compressed)  # a 500 MB field or 200k columns: one line
    delimiter = _sniff_delimiter(path, compressed)
    if delimiter != ",":
        logging.getLogger(__name__).info(
            "%s: read as %s-separated (its header has no comma)",
            path.name,
            {";": "semicolon", "\t": "tab", "|": "pipe"}[delimiter],
        )
    wanted = _wanted_columns(mapping)
    fast = _arrow_csv(path, compressed, wanted, mapping, delimiter)
    if fast is not None:
        return fast
    options: dict[str, Any] = {
        "sep": delimiter,
        "dtype": str,
        "compression": "gzip" if compressed else None,
        "encoding": mapping.encoding,
        "encoding_errors": "strict",
        "skipinitialspace": False,
        # A row with more fields than the header is an error: without this, pandas would take
        # the first column as an index and shift every value of the first row by one.
        "index_col": False,
    }
    try:
        with warnings.catch_warnings():
            # ... and pandas only warns about it, dropping the extra fields: make it an error.
            warnings.simplefilter("error", pd.errors.ParserWarning)
            return _read_csv_columns(path, wanted, options)
    except pd.errors.ParserWarning:
        raise SekatError(
            "not a well-formed CSV file: the first data row (line 2) has more fields than the "
            "header",
            file=str(path),
        ) from None
    except UnicodeDecodeError:
        line = _first_bad_line(path, compressed, mapping.encoding)
        where = f" at line {line}" if line else ""
        raise SekatError(
            f"not valid {mapping.encoding} text{where}; save the file as UTF-8, or name its "
            'encoding in the mapping (encoding = "cp1252")',
            file=str(path),
        ) from None
    except LookupError:
        raise SekatError(f"unknown text encoding {mapping.encoding!r}", file=str(path)) from None
    except pd.errors.EmptyDataError:
        raise SekatError("file is empty (no header line)", file=str(path)) from None
    except pd.errors.ParserError as err:
        raise SekatError(f"not a well-formed CSV file: {err}".strip(), file=str(path)) from None
    except (EOFError, zlib.error, gzip.BadGzipFile) as err:
        raise SekatError(f"corrupt or truncated gzip file ({err})", file=str(path)) from None


def _parquet_column(column: Any, as_text: bool) -> pd.Series:
    """One Parquet column as the reader hands it on: native times, text as ``str``.

    Timestamps stay datetimes (never formatted as text), dictionary columns stay categorical
    (their few distinct values are what later steps look at), text stays Arrow text, integers
    are cast to text by Arrow; other types become text as pandas writes them. ``as_text``
    (a preset's transform reads text) turns categories into text as well.
    """
    kind = column.type
    if pa.types.is_timestamp(kind):
        return column.to_pandas()
    if pa.types.is_dictionary(kind):
        values = column.to_pandas()
        if not isinstance(values.dtype, pd.CategoricalDtype):
            return values.astype("str")
        categories = values.cat.categories
        if not pd.api.types.is_string_dtype(categories.dtype):
            values = values.cat.rename_categories(categories.astype("str"))
        return values.astype("str") if as_text else values
    if pa.types.is_string(kind) or pa.types.is_large_string(kind):
        return pd.Series(column, dtype="str", copy=False)
    if pa.types.is_integer(kind):
        return pd.Series(pc.cast(column, pa.large_string()), dtype="str", copy=False)
    nullable = column.to_pandas(types_mapper=_NULLABLE.get)
    return nullable.astype("str").where(nullable.notna(), None).astype("str")


#: Arrow types read as pandas' nullable types, so that a float or boolean column with gaps
#: becomes the text pandas writes for each value (``1.5``, ``True``) and missing stays missing.
_NULLABLE: dict[Any, Any] = {
    pa.float32(): pd.Float32Dtype(),
    pa.float64(): pd.Float64Dtype(),
    pa.bool_(): pd.BooleanDtype(),
}


def _load_parquet(path: Path, mapping: Mapping) -> pd.DataFrame:
    import pyarrow.parquet as pq

    try:
        names = [str(n) for n in pq.read_schema(path).names]
        wanted = _wanted_columns(mapping)
        chosen = [n for n in names if wanted is None or wanted(n)]
        table = pq.read_table(path, columns=chosen)
        as_text = mapping.transform is not None
        out = {
            str(name): _parquet_column(table.column(name), as_text) for name in table.column_names
        }
    except Exception as err:  # pyarrow raises many types for a broken file
        first = next((line.strip() for line in str(err).splitlines() if line.strip()), "")
        raise SekatError(
            f"not a readable Parquet file ({first or type(err).__name__})", file=str(path)
        ) from None
    result = pd.DataFrame(out, index=pd.RangeIndex(table.num_rows))
    result.attrs[IGNORED_COLUMNS] = [n for n in names if n not in chosen]
    return result


def _json_records(data: Any, path: Path) -> list[Any]:
    """The list of records of a JSON document: a top-level array, or the one array in an object."""
    if isinstance(data, list):
        return data
    if isinstance(data, dict):
        arrays = [v for v in data.values() if isinstance(v, list)]
        if len(arrays) == 1:
            return arrays[0]
    raise SekatError(
        "JSON file is not a list of records (expected a top-level array of objects, as an "
        "Open311 GeoReport v2 request list)",
        file=str(path),
    )


def _load_json(path: Path, mapping: Mapping) -> pd.DataFrame:
    compressed = _head(path, 2) == b"\x1f\x8b"
    bounds = limits.current_limits()
    try:
        data = json.loads(limits.read_document(path, compressed, bounds).decode(mapping.encoding))
    except RecursionError:
        raise bounds.refuse("max_depth", "values are nested deeper", path) from None
    except UnicodeDecodeError:
        raise SekatError(f"not valid {mapping.encoding} text", file=str(path)) from None
    except json.JSONDecodeError as err:
        raise SekatError(f"not well-formed JSON ({err})", file=str(path)) from None
    except (EOFError, OSError, zlib.error) as err:
        raise SekatError(f"cannot read JSON file ({err})", file=str(path)) from None
    limits.json_shape(data, path, bounds)
    records = _json_records(data, path)
    for number, record in enumerate(records):
        if not isinstance(record, dict):
            raise SekatError(
                f"JSON record is a {type(record).__name__}, not an object",
                file=str(path),
                row=number,
            )
    if not records:
        return pd.DataFrame(index=pd.RangeIndex(0))
    frame = pd.json_normalize(records, sep="/")

    def text(value: Any) -> Any:
        if value is None or (isinstance(value, float) and np.isnan(value)):
            return None
        if isinstance(value, list | dict):
            return json.dumps(value, sort_keys=True, ensure_ascii=False)
        if isinstance(value, bool):
            return "true" if value else "false"
        return str(value)

    out = {str(c): frame[c].map(text, na_action="ignore").astype("str") for c in frame.columns}
    return pd.DataFrame(out, index=pd.RangeIndex(len(frame)))


def _load_georeport_xml(path: Path, mapping: Mapping) -> pd.DataFrame:
    """An Open311 GeoReport v2 XML request list: one row per ``<request>``, its fields as text."""
    import xml.etree.ElementTree as ET

    compressed = _head(path, 2) == b"\x1f\x8b"
    opener = gzip.open if compressed else open
    records: list[dict[str, str]] = []
    try:
        with opener(path, "rb") as handle:
            for _, element in ET.iterparse(handle, events=("end",)):
                if element.tag.rsplit("}", 1)[-1] != "request":
                    continue
                records.append(
                    {child.tag.rsplit("}", 1)[-1]: (child.text or "").strip() for child in element}
                )
                element.clear()
    except ET.ParseError as err:
        raise SekatError(f"not well-formed XML ({err})", file=str(path)) from None
    except (EOFError, OSError, zlib.error) as err:
        raise SekatError(f"cannot read XML file ({err})", file=str(path)) from None
    frame = pd.DataFrame(records, dtype="str")
    return frame.where(frame != "").astype("str") if len(frame) else frame


def _load_xes(path: Path, mapping: Mapping) -> pd.DataFrame:
    from toolkit.io import xes

    return xes.load_raw(path, mapping)


#: Format name -> loader returning the raw frame (text columns as strings). A preset for another
#: export layout registers its loader here and names it in ``Mapping.format``.
FORMATS: dict[str, Callable[[Path, Mapping], pd.DataFrame]] = {
    "csv": _load_csv,
    "parquet": _load_parquet,
    "xes": _load_xes,
    "json": _load_json,
    "georeport_xml": _load_georeport_xml,
}


# --- vocabularies ------------------------------------------------------------------------------


def _strip_text(values: pd.Series) -> pd.Series:
    """Text without surrounding whitespace, blanks as missing (``str``), computed by Arrow.

    A categorical column is stripped on its categories, not on every row.
    """
    if isinstance(values.dtype, pd.CategoricalDtype):
        return _category_text(_text_category(values))
    text = values if pd.api.types.is_string_dtype(values.dtype) else values.astype("str")
    array = pa.array(text.array)
    if pa.types.is_null(array.type):  # a column of missing values only
        array = array.cast(pa.large_string())
    trimmed = pc.utf8_trim_whitespace(array)
    # Nothing trimmed (the usual case): keep the array read, not a second copy of the text.
    if not pc.any(pc.not_equal(pc.binary_length(trimmed), pc.binary_length(array))).as_py():
        trimmed = array
    array = trimmed
    blank = pc.equal(array, "")
    if pc.any(blank).as_py():
        array = pc.if_else(blank, pa.scalar(None, array.type), array)
    return pd.Series(array, index=values.index, dtype="str", copy=False)


def _text_and_category(values: pd.Series) -> tuple[pd.Series, pd.Series]:
    """A column stripped (:func:`_strip_text`) and as a category (:func:`_text_category`),
    the text sharing the column's buffers where stripping changed nothing."""
    if isinstance(values.dtype, pd.CategoricalDtype):
        category = _text_category(values)
        return _category_text(category), category
    text = _strip_text(values)
    return text, text.astype("category")


def _category_text(values: pd.Series) -> pd.Series:
    """A categorical column as ``str``, by one Arrow take from its categories."""
    categories = pa.array(values.cat.categories.astype("str").array)
    codes = values.cat.codes.to_numpy()
    text = categories.take(pa.array(codes, mask=codes < 0))
    return pd.Series(text, index=values.index, dtype="str", copy=False)


def _text_column(value: str | None, n: int) -> pd.Series:
    """A ``str`` column of ``n`` copies of one value (missing when None), built by Arrow."""
    scalar = pa.scalar(value, pa.large_string())
    return pd.Series(pa.repeat(scalar, n), dtype="str", copy=False)


def _text_category(values: pd.Series) -> pd.Series:
    """``_strip_text(values).astype("category")``, on the categories of a categorical column.

    The categories are the distinct stripped texts that occur, sorted, as pandas makes them
    from text; a categorical input (a Parquet dictionary column) keeps its codes.
    """
    if not isinstance(values.dtype, pd.CategoricalDtype):
        return _strip_text(values).astype("category")
    codes = values.cat.codes.to_numpy()
    used = np.zeros(len(values.cat.categories) + 1, dtype=bool)
    used[codes] = True  # code -1 marks the extra last slot
    stripped = _strip_text(pd.Series(values.cat.categories.astype("str"), dtype="str"))
    stripped = stripped.where(used[:-1])
    categories = pd.Index(stripped.dropna().unique(), dtype="str").sort_values()
    remap = np.append(categories.get_indexer(stripped), -1)
    return pd.Series(
        pd.Categorical.from_codes(remap[codes], categories=categories),
        index=values.index,
    )


def _map_distinct(values: pd.Series, function: Callable[[str], str]) -> pd.Series:
    """``values.map(function)`` (missing stays missing), calling it once per distinct value."""
    codes, uniques = pd.factorize(values)
    mapped = pd.array([function(str(u)) for u in uniques], dtype="str")
    return pd.Series(mapped.take(codes, allow_fill=True), index=values.index, dtype="str")


def _map_vocabulary(
    raw: pd.Series, table: dict[str, str], vocabulary: tuple[str, ...]
) -> tuple[np.ndarray, np.ndarray]:
    """Codes into ``vocabulary`` (-1 = unknown or missing) and a mask of missing raw values.

    The table is looked up once per distinct value (the codes of a dictionary), never per row.
    """
    if isinstance(raw.dtype, pd.CategoricalDtype):
        codes, uniques = raw.cat.codes.to_numpy(), raw.cat.categories
    else:
        codes, uniques = pd.factorize(raw, use_na_sentinel=True)
    position = {name: i for i, name in enumerate(vocabulary)}
    mapped = np.array(
        [position.get(table.get(normalise_label(u), ""), -1) for u in uniques], dtype=np.int64
    )
    lookup = np.append(mapped, -1)  # code -1 (missing) takes the last entry
    return lookup[codes], codes < 0


_TRUE = frozenset({"true", "t", "1", "yes", "y"})
_FALSE = frozenset({"false", "f", "0", "no", "n"})


def _flags(values: pd.Series) -> pd.Series:
    """A yes/no column (bool, or text such as true/false, 1/0) as bool; missing reads as True."""
    if pd.api.types.is_bool_dtype(values.dtype):
        return values.fillna(True).astype(bool)
    text = values.astype("str").str.strip().str.lower()
    flags = text.map(lambda v: v not in _FALSE if v in _TRUE | _FALSE else True, na_action="ignore")
    return flags.fillna(True).astype(bool)


def _carry_agency(
    case_id: pd.Series, stamps: pd.Series, frame: pd.DataFrame, agency: pd.Series
) -> tuple[pd.Series, pd.Series]:
    """Fill a missing unit from the request's previous event (in time, then source order).

    The first events of a request, before any unit is recorded, take its first recorded unit;
    a request with no unit on any event stays missing (and is quarantined). Returns the filled
    units and a mask of the filled rows.
    """
    rows = (
        frame[schema.SOURCE_ROW].to_numpy(dtype=np.int64)
        if schema.SOURCE_ROW in frame
        else np.arange(len(frame), dtype=np.int64)
    )
    work = pd.DataFrame(
        {"case": case_id.to_numpy(), "at": stamps.to_numpy(), "row": rows, "unit": agency},
        index=agency.index,
    )
    work = work.sort_values(["case", "at", "row"], kind="stable", na_position="last")
    units = work.groupby("case", sort=False, dropna=True)["unit"]
    filled = units.ffill().fillna(units.bfill()).reindex(agency.index)
    filled = filled.astype("str")
    carried = agency.isna() & filled.notna()
    return filled.where(agency.isna(), agency).astype("str"), carried.astype(bool)


def canonicalise(
    frame: pd.DataFrame,
    mapping: Mapping | None = None,
    source_tz: str = schema.DEFAULT_SOURCE_TZ,
    *,
    strict_channels: bool = False,
    source_file: str | None = None,
) -> pd.DataFrame:
    """Bring a frame whose columns already carry canonical names onto the contract.

    Parameters
    ----------
    frame : pandas.DataFrame
        Columns :data:`toolkit.schema.REQUIRED_COLUMNS` (values as text or typed), optionally
        category, region, provenance columns and extra columns.
    mapping : Mapping, optional
        Vocabulary mapping (channels, activities, agency aliases, kept columns, dayfirst).
    source_tz : str
        Time zone of naive timestamps (``mapping.source_tz`` wins when set).
    strict_channels : bool
        Leave unknown channels missing (to be quarantined) instead of reading them as ``other``.
    source_file : str, optional
        Base name written to ``source_file`` when the frame has none.

    Returns
    -------
    pandas.DataFrame
        Canonical columns, provenance columns, kept columns, then :data:`READ_MARKERS`; one
        row per input row in the same order.

    Examples
    --------
    >>> import pandas as pd
    >>> raw = pd.DataFrame({"case_id": ["r1"], "timestamp": ["2024-01-05 07:00"],
    ...                     "agency": [" Kelurahan A "], "activity": ["Submitted"],
    ...                     "channel": ["WA"]})
    >>> row = canonicalise(raw).iloc[0]
    >>> row["channel"], row["activity"], row["agency"], str(row["timestamp"])
    ('whatsapp', 'submitted', 'Kelurahan A', '2024-01-05 00:00:00+00:00')
    """
    mapping = mapping if mapping is not None else Mapping()
    tz = mapping.source_tz or source_tz
    n = len(frame)
    index = pd.RangeIndex(n)
    frame = frame.reset_index(drop=True)
    out: dict[str, Any] = {}

    out[schema.CASE_ID] = _strip_text(frame[schema.CASE_ID])

    timestamps, issues, shapes = parse_timestamps_with_shapes(
        frame[schema.TIMESTAMP], tz, dayfirst=mapping.dayfirst
    )
    out[schema.TIMESTAMP] = timestamps

    agency = _strip_text(frame[schema.AGENCY])
    if mapping.no_agency:
        placeholders = {normalise_label(v) for v in mapping.no_agency}
        is_placeholder = _map_distinct(
            agency, lambda a: "1" if normalise_label(a) in placeholders else ""
        )
        agency = agency.where(is_placeholder != "1")
    aliases = mapping.agency_table()
    if aliases:
        agency = _map_distinct(agency, lambda a: aliases.get(normalise_label(a), a))
    carried = pd.Series(np.zeros(n, dtype=bool), index=index)
    if mapping.carry_agency and agency.isna().any():
        agency, carried = _carry_agency(out[schema.CASE_ID], timestamps, frame, agency)
    out[schema.AGENCY] = agency

    # Vocabularies are mapped on the distinct values (a dictionary), the raw text is kept
    # as it was read (stripped): the same Arrow array when the column serves both.
    activity_text, activity_source = _text_and_category(frame[schema.ACTIVITY])
    activity_raw = (
        _strip_text(frame[schema.ACTIVITY_RAW]) if schema.ACTIVITY_RAW in frame else activity_text
    )
    codes, _ = _map_vocabulary(activity_source, mapping.activity_table(), schema.ACTIVITIES)
    activity_unmapped = codes < 0
    codes = np.where(activity_unmapped, schema.ACTIVITIES.index(schema.UNMAPPED_ACTIVITY), codes)
    out[schema.ACTIVITY] = pd.Categorical.from_codes(codes, dtype=schema.ACTIVITY_DTYPE)

    channel_text, channel_source = _text_and_category(frame[schema.CHANNEL])
    channel_raw = (
        _strip_text(frame[schema.CHANNEL_RAW]) if schema.CHANNEL_RAW in frame else channel_text
    )
    codes, missing = _map_vocabulary(channel_source, mapping.channel_table(), schema.CHANNELS)
    channel_unmapped = (codes < 0) & ~missing
    if not strict_channels:
        codes = np.where(channel_unmapped, schema.CHANNELS.index(schema.UNKNOWN_CHANNEL), codes)
    out[schema.CHANNEL] = pd.Categorical.from_codes(codes, dtype=schema.CHANNEL_DTYPE)

    for optional in schema.OPTIONAL_COLUMNS:
        if optional in frame:
            out[optional] = _text_category(frame[optional])
        else:
            out[optional] = _text_column(None, n).astype("category")

    out[schema.ACTIVITY_RAW] = activity_raw
    out[schema.CHANNEL_RAW] = channel_raw
    if schema.SOURCE_FILE in frame:
        out[schema.SOURCE_FILE] = frame[schema.SOURCE_FILE].astype("str")
    else:
        out[schema.SOURCE_FILE] = _text_column(source_file, n)
    if schema.SOURCE_ROW in frame:
        out[schema.SOURCE_ROW] = frame[schema.SOURCE_ROW].astype("int64")
    else:
        out[schema.SOURCE_ROW] = pd.Series(np.arange(n, dtype=np.int64), index=index)
    if schema.HOPS_OBSERVED in frame:
        out[schema.HOPS_OBSERVED] = _flags(frame[schema.HOPS_OBSERVED])
    for extra in mapping.keep:
        if extra == schema.TARGET_AT and extra in frame:
            # The service target is a time like the others, read in the same zone; one that
            # cannot be read is left missing (it is not an event, so no row is set aside).
            out[extra], _ = parse_timestamps_with_shapes(
                frame[extra], tz, dayfirst=mapping.dayfirst
            )[:2]
        elif extra in frame and extra not in out:
            column = frame[extra]
            out[extra] = column.astype("str") if column.dtype == object else column

    # The raw text of a timestamp is kept only where it could not be read, and only those
    # values are turned into text (a native datetime column is never formatted).
    faulty = (issues.notna() & (issues != AMBIGUOUS_LOCAL_TIME)).to_numpy()
    timestamp_raw = _text_column(None, n)
    raw_times = frame[schema.TIMESTAMP]
    if faulty.any() and not pd.api.types.is_datetime64_any_dtype(raw_times.dtype):
        timestamp_raw[faulty] = raw_times[faulty].astype("str")
    out[TIMESTAMP_RAW] = timestamp_raw
    out[TIMESTAMP_ISSUE] = issues
    out[CHANNEL_UNMAPPED] = pd.Series(channel_unmapped, index=index)
    out[ACTIVITY_UNMAPPED] = pd.Series(activity_unmapped, index=index)
    out[AGENCY_CARRIED] = carried
    out[TIMESTAMP_FORMAT] = (
        shapes.astype("category")
        if shapes.notna().any()
        else pd.Series(
            pd.Categorical.from_codes(np.full(n, -1, np.int8), categories=pd.Index([], dtype="str"))
        )
    )
    result = pd.DataFrame(out, index=index)
    for column in (
        schema.CASE_ID,
        schema.AGENCY,
        schema.ACTIVITY_RAW,
        schema.CHANNEL_RAW,
        TIMESTAMP_RAW,
        TIMESTAMP_ISSUE,
    ):
        result[column] = result[column].astype("str")
    return result


# --- the front door ------------------------------------------------------------------------------


def _choose_columns(
    raw: pd.DataFrame,
    mapping: Mapping,
    path: Path,
    listed: list[str] | None = None,
    *,
    complete: bool = True,
) -> dict[str, str]:
    """``{canonical or kept column: source column}``; errors name missing columns.

    ``listed``: every column of the file (those a loader skipped too), named in errors.
    ``complete=False``: return what was found, without checking for missing columns.
    """
    found = [str(c) for c in raw.columns if c != schema.SOURCE_ROW]
    shown = found if listed is None else listed
    by_folded: dict[str, str] = {}
    for name in found:
        by_folded.setdefault(name.strip().lower(), name)

    def locate(name: str) -> str | None:
        if name in raw.columns:
            return name
        return by_folded.get(name.strip().lower())

    chosen: dict[str, str] = {}  # canonical -> source
    for source, target in mapping.columns.items():
        located = locate(source)
        if located is not None and target not in chosen:
            chosen[target] = located
    for name in schema.CANONICAL_COLUMNS + schema.PROVENANCE_COLUMNS + (schema.HOPS_OBSERVED,):
        if name not in chosen:
            located = locate(name)
            if located is not None and located not in chosen.values():
                chosen[name] = located
    if mapping.channel is not None:
        chosen.pop(schema.CHANNEL, None)  # one channel for every request: no column is read
    optional_channel = mapping.channel is not None or mapping.default_channel is not None
    missing = [
        c
        for c in schema.REQUIRED_COLUMNS
        if c not in chosen and not (c == schema.CHANNEL and optional_channel)
    ]
    if missing and complete:
        hints = {v: k for k, v in mapping.columns.items()}
        wanted = ", ".join(
            f"{c!r}" + (f" (mapped from {hints[c]!r})" if c in hints else "") for c in missing
        )
        seen = list(dict.fromkeys(shown + [str(c) for c in raw.attrs.get(IGNORED_COLUMNS, [])]))
        raise MissingColumnError(
            f"required column(s) {wanted} not found; columns found: "
            f"{', '.join(map(repr, seen)) or 'none'} (map yours with a [columns] mapping"
            + (
                '; a log without an intake channel says channel = "other")'
                if schema.CHANNEL in missing
                else ")"
            ),
            file=path.name,
            column=missing[0],
        )
    for extra in mapping.keep:
        located = locate(extra)
        if located is None and (extra == schema.TARGET_AT or not complete):
            continue  # a request layout's target: only some exports of a city carry one
        if located is None:
            raise MissingColumnError(
                f"column {extra!r} named in 'keep' not found; columns found: "
                f"{', '.join(map(repr, shown))}",
                file=path.name,
                column=extra,
            )
        chosen.setdefault(extra, located)
    return chosen


def resolve_format(
    path: Path, mapping: Mapping | dict[str, Any] | str | Path | None, preset: str | None
) -> tuple[Mapping, str]:
    """The mapping to read ``path`` with and its format (an XES file gets the ``xes`` preset).

    Raises
    ------
    SekatError
        When the format is none of :data:`FORMATS`.
    """
    resolved = resolve_mapping(mapping, preset)
    fmt = resolved.format or detect_format(path)
    if fmt == "xes" and preset is None:
        resolved = resolve_mapping(resolved, "xes")
    if fmt not in FORMATS:
        raise SekatError(
            f"unknown file format {fmt!r}; known: {', '.join(FORMATS)}", file=str(path)
        )
    return resolved, fmt


def describe_columns(
    path: str | Path,
    mapping: Mapping | dict[str, Any] | str | Path | None = None,
    preset: str | None = None,
    *,
    examples: int = 3,
) -> pd.DataFrame:
    """The columns a log file holds, what the mapping makes of each, and a few example values.

    Parameters
    ----------
    path : str or path-like
        An event-log file, as for :func:`read_events`.
    mapping, preset : optional
        As for :func:`read_events`.
    examples : int
        Distinct example values shown per column.

    Returns
    -------
    pandas.DataFrame
        One row per column of the file: ``column``, ``read_as`` (the canonical column it
        becomes, ``kept`` for a column named in ``keep``, ``read by the <name> preset`` for
        an export whose preset reshapes it, else ``dropped``), ``filled`` (non-blank values)
        and ``examples`` (the first distinct values, shortened to 30 characters). Columns
        the mapping cannot use are not even loaded: they come last, ``dropped``, with no
        count and no values shown.

    Notes
    -----
    The whole file is loaded, as :func:`read_events` would; use it on a sample of a large
    log. Example values are the file's own, so look at them before sharing the output. It
    never raises because the mapping does not fit the file (a required column that is
    missing is simply not shown as read); :func:`toolkit.io.describe.describe` (``sekat
    describe``) adds types, value counts, the values as read by request and a mapping
    template to edit.

    Examples
    --------
    >>> import pathlib, tempfile
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "log.csv"
    >>> _ = p.write_text("ticket,timestamp,agency,activity,channel,note\\n"
    ...                  "T1,2024-01-05 09:00,Kelurahan A,Submitted,Loket,x\\n")
    >>> table = describe_columns(p, {"columns": {"ticket": "case_id"}})
    >>> table.set_index("column")["read_as"].to_dict()  # doctest: +NORMALIZE_WHITESPACE
    {'ticket': 'case_id', 'timestamp': 'timestamp', 'agency': 'agency',
     'activity': 'activity', 'channel': 'channel', 'note': 'dropped'}
    """
    path = Path(path)
    resolved, fmt = resolve_format(path, mapping, preset)
    raw = FORMATS[fmt](path, resolved)
    read_as: dict[str, str] = {}
    if resolved.transform is None:
        # Never an error here: a column the mapping cannot find is what the user came to see.
        for target, source in _choose_columns(raw, resolved, path, complete=False).items():
            read_as.setdefault(str(source), "kept" if target in resolved.keep else target)
    rows: list[tuple[str, str, int | None, str]] = []
    for column in raw.columns:
        if column == schema.SOURCE_ROW:
            continue
        values = _strip_text(raw[column].astype("str")).dropna()
        shown = [v if len(v) <= 30 else v[:29] + "…" for v in values.unique()[:examples]]
        if resolved.transform is not None:
            role = f"read by the {resolved.name or 'given'} preset"
        else:
            role = read_as.get(str(column), "dropped")
        rows.append((str(column), role, int(len(values)), ", ".join(shown)))
    for column in raw.attrs.get(IGNORED_COLUMNS, []):  # never loaded: nothing to show
        rows.append((str(column), "dropped", None, "(not read)"))
    table = pd.DataFrame(rows, columns=["column", "read_as", "filled", "examples"])
    return table.astype({"filled": "Int64"})


#: Suffix given to a file's own column that bears the name of a column sekat keeps itself.
CLASH_SUFFIX = "_in_file"


def _rename_bookkeeping_clashes(raw: pd.DataFrame, path: Path) -> pd.DataFrame:
    """A file's own ``source_row``/``source_file`` column is renamed, never trusted.

    sekat numbers the rows and names the file itself, so that every event can be traced to
    one row of one file; a column of that name in the file (89 events claiming one row) is
    renamed ``source_row_in_file`` and, like any column outside the contract, not read
    unless kept by name.
    """
    clashes = {
        column: f"{column}{CLASH_SUFFIX}"
        for column in raw.columns
        if str(column) in (schema.SOURCE_ROW, schema.SOURCE_FILE)
    }
    if not clashes:
        return raw
    taken = {str(c) for c in raw.columns}
    for column, renamed in clashes.items():
        if renamed in taken:
            raise SekatError(
                f"the file has both {column!r} and {renamed!r}; sekat numbers rows and names "
                "files itself, so rename or drop them",
                file=str(path),
                column=str(column),
            )
    logging.getLogger(__name__).warning(
        "%s: column %s renamed %s: sekat traces rows itself",
        path.name,
        " and ".join(map(repr, clashes)),
        " and ".join(map(repr, clashes.values())),
    )
    renamed_frame = raw.rename(columns=clashes)
    renamed_frame.attrs = dict(raw.attrs)
    return renamed_frame


def read_events(
    path: str | Path,
    mapping: Mapping | dict[str, Any] | str | Path | None = None,
    preset: str | None = None,
    source_tz: str = schema.DEFAULT_SOURCE_TZ,
    *,
    strict_channels: bool = False,
) -> pd.DataFrame:
    """Read an event log into the canonical event frame, one row per input row.

    Parameters
    ----------
    path : str or path-like
        A CSV file (plain or gzip-compressed), a Parquet file or an XES log (plain or
        gzipped; read with the ``xes`` preset unless another is named); the format is
        detected from the content, not the suffix.
    mapping : Mapping, dict, path of a TOML file, or None
        How the log names its columns, channels, activities and agencies (see
        :mod:`toolkit.io.mapping`).
    preset : str, optional
        A named mapping from :data:`toolkit.io.presets.PRESETS` (e.g. ``"sekat"``).
    source_tz : str
        IANA time zone of naive timestamps; default Asia/Jakarta (WIB).
    strict_channels : bool
        Leave channel values outside the vocabulary missing, so that
        :func:`~toolkit.clean.validation.validate` quarantines them, instead of reading them as
        ``other``.

    Returns
    -------
    pandas.DataFrame
        The canonical columns (:data:`toolkit.schema.DTYPES`), ``activity_raw``,
        ``channel_raw``, ``source_file`` (base name), ``source_row`` (0-based data row), the
        columns named in ``mapping.keep``, and the bookkeeping columns :data:`READ_MARKERS`.

    Raises
    ------
    MissingColumnError
        A required column is absent; the message names the file and column and lists the
        columns found.
    SekatError
        The path does not exist, or the file is empty, binary, not valid UTF-8 (unless the
        mapping names another encoding), or not well-formed CSV/Parquet.

    Notes
    -----
    Columns other than the canonical ones, ``hops_observed`` (False for exports that name only a
    request's final agency, see :mod:`toolkit.io.presets`) and those named in ``mapping.keep`` are
    dropped on reading (data minimisation). The written shape of every timestamp is kept in
    ``timestamp_format`` so that the validation report can count the formats a column mixes.
    ``events.attrs["ignored_columns"]`` lists the file's columns that were not read, so that a
    report can name them. Channels and activities are matched ignoring case, spaces, hyphens and
    underscores; unknown channels become ``other`` and unknown activities ``in_progress``,
    flagged in ``channel_unmapped`` / ``activity_unmapped`` so the validation report can count
    them. A missing channel stays missing here (validation fills it from the other rows of the
    same case). Rows whose timestamp cannot be read have NaT, their raw text in
    ``timestamp_raw`` and the reason in ``timestamp_issue``. A file that is not valid UTF-8 is
    an error naming the first bad line, never silently re-decoded: name the encoding in the
    mapping (``encoding = "cp1252"``) to read it.

    Examples
    --------
    >>> import pathlib, tempfile
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "log.csv"
    >>> _ = p.write_text("ticket,created,agency,activity,channel\\n"
    ...                  "T1,2024-01-05 09:00,Kelurahan A,Submitted,Loket\\n"
    ...                  "T1,2024-01-05 10:00,Dinas PU,Queued,Loket\\n")
    >>> ev = read_events(p, mapping={"columns": {"ticket": "case_id", "created": "timestamp"}})
    >>> ev[["case_id", "activity", "channel", "source_row"]].values.tolist()
    [['T1', 'submitted', 'walk_in', 0], ['T1', 'in_progress', 'walk_in', 1]]
    >>> ev["activity_unmapped"].tolist()
    [False, True]
    """
    path = Path(path)
    resolved = resolve_mapping(mapping, preset)
    fmt = resolved.format or detect_format(path)
    if fmt == "xes" and preset is None:
        resolved = resolve_mapping(resolved, "xes")  # XES keys name the canonical columns
    if fmt not in FORMATS:
        raise SekatError(
            f"unknown file format {fmt!r}; known: {', '.join(FORMATS)}", file=str(path)
        )
    raw = FORMATS[fmt](path, resolved)
    raw = _rename_bookkeeping_clashes(raw, path).reset_index(drop=True)
    if schema.SOURCE_ROW not in raw.columns:
        raw[schema.SOURCE_ROW] = np.arange(len(raw), dtype=np.int64)
    skipped = list(raw.attrs.get(IGNORED_COLUMNS, []))  # columns the loader did not read
    file_columns = [str(c) for c in raw.columns if c != schema.SOURCE_ROW]
    used: set[str] | None = None
    if resolved.transform is not None:
        columns_used = getattr(resolved.transform, "columns_used", None)
        used = set(columns_used(raw)) if callable(columns_used) else None
        try:
            raw = resolved.transform(raw).reset_index(drop=True)
        except SekatError as err:
            if err.file is not None:
                raise
            named = type(err)(str(err), file=path.name)  # the preset does not know the file
            named.column, named.row = err.column, err.row
            raise named from None
    chosen = _choose_columns(raw, resolved, path, file_columns + skipped)
    selected = pd.DataFrame({t: raw[s] for t, s in chosen.items()}, index=raw.index)
    if used is None:
        used = set(chosen.values()) if resolved.transform is None else set(file_columns)
    if schema.SOURCE_ROW in raw.columns:
        selected[schema.SOURCE_ROW] = raw[schema.SOURCE_ROW].to_numpy()
    selected[schema.SOURCE_FILE] = _text_column(path.name, len(selected))
    constant = resolved.channel
    if constant is None and schema.CHANNEL not in chosen:
        constant = resolved.default_channel
    if constant is not None:
        selected[schema.CHANNEL] = _text_column(constant, len(selected))
    events = canonicalise(selected, resolved, source_tz, strict_channels=strict_channels)
    if constant is not None:
        events[schema.CHANNEL_RAW] = _text_column(None, len(events))
    events.attrs[IGNORED_COLUMNS] = skipped + [c for c in file_columns if c not in used]
    events.attrs[CHANNEL_OBSERVED] = constant is None
    return events
