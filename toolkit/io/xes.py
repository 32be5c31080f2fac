"""XES (IEEE 1849) event logs: a streaming reader for read_events and a writer.

XES is the process-mining standard that PM4Py, ProM, Disco and bupaR read and write. A log
holds traces (here: requests), each with its own attributes and a list of events.
:func:`load_raw` streams a ``.xes`` or ``.xes.gz`` file with ``iterparse``, clearing every trace
once it is read, and returns one row per event: event attributes under their own keys, trace
attributes under ``case:<key>`` (the flattening PM4Py uses, so a flattened CSV export of the
same log reads identically with the ``xes`` preset). Nested attributes become
``parent/child``. :func:`write_xes` writes canonical events back to XES.
"""

from __future__ import annotations

import gzip
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any
from xml.sax.saxutils import quoteattr

import pandas as pd

from toolkit import schema
from toolkit.errors import SekatError
from toolkit.io import limits
from toolkit.io.mapping import Mapping

__all__ = ["TRACE_PREFIX", "load_raw", "write_xes"]

#: Prefix of trace (case) attributes in the flat frame.
TRACE_PREFIX = "case:"
_ATTRIBUTES = {"string", "date", "int", "float", "boolean", "id", "list", "container"}
_CHUNK_ROWS = 50_000


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _open(path: Path) -> IO[bytes]:
    with open(path, "rb") as handle:
        magic = handle.read(2)
    return gzip.open(path, "rb") if magic == b"\x1f\x8b" else open(path, "rb")


def _rows(handle: IO[bytes], path: Path) -> Iterator[dict[str, str]]:
    """Yield one dict per event, trace attributes merged in, clearing each trace after use."""
    root = None
    trace: dict[str, str] | None = None
    event: dict[str, str] | None = None
    events: list[dict[str, str]] = []
    keys: list[str | None] = []  # open attribute elements: their flattened keys
    bounds = limits.current_limits()
    distinct: set[str] = set()
    for kind, element in ET.iterparse(handle, events=("start", "end")):
        tag = _local(element.tag)
        if root is None:
            root = element
            if tag != "log":
                raise SekatError(
                    f"an XML file whose root is <{tag}>, not an XES <log>", file=str(path)
                )
            continue
        if kind == "start":
            if tag == "trace" and not keys:
                trace, events = {}, []
            elif tag == "event" and not keys and trace is not None:
                event = {}
            elif tag in _ATTRIBUTES:
                key = element.get("key")
                parent = keys[-1] if keys else ""
                if tag == "list" or key is None:
                    flat = parent or None
                else:
                    flat = f"{parent}/{key}" if parent else key
                keys.append(flat)
                if len(keys) > bounds.max_depth:
                    raise bounds.refuse("max_depth", "attributes are nested deeper", path)
                if flat is not None and flat not in distinct:
                    distinct.add(flat)
                    if len(distinct) > bounds.max_keys:
                        raise bounds.refuse("max_keys", "the events have more attribute keys", path)
                target = event if event is not None else trace
                value = element.get("value")
                if value is not None and len(value) > bounds.max_value_bytes:
                    raise bounds.refuse("max_value_bytes", "an attribute value is longer", path)
                if target is not None and flat is not None and value is not None:
                    target.setdefault(flat, value)
            continue
        # kind == "end"
        if tag in _ATTRIBUTES:
            keys.pop()
        elif tag == "event" and event is not None and not keys:
            events.append(event)
            event = None
        elif tag == "trace" and trace is not None and not keys:
            shared = {TRACE_PREFIX + k: v for k, v in trace.items()}
            for row in events:
                yield {**shared, **row}
            trace, events = None, []
            root.clear()  # drop the finished trace: memory stays at one trace


def load_raw(path: str | Path, mapping: Mapping | None = None) -> pd.DataFrame:
    """Read an XES log (plain or gzipped) into a flat frame of strings, one row per event.

    Parameters
    ----------
    path : str or path-like
        A ``.xes`` or ``.xes.gz`` file (gzip is detected from the content).
    mapping : Mapping, optional
        Unused; present so that :data:`toolkit.io.readers.FORMATS` can call every loader alike.

    Returns
    -------
    pandas.DataFrame
        Event attributes under their keys (``concept:name``, ``time:timestamp``,
        ``org:group``, ...), trace attributes under ``case:<key>``, nested attributes as
        ``parent/child``; all values as strings, missing where an event lacks the key.

    Raises
    ------
    SekatError
        If the file is not well-formed XML (naming the line) or not an XES log.

    Notes
    -----
    Parsing streams: each trace is cleared once its events are emitted, and rows are
    collected into string columns in chunks, so memory grows with the frame, not the XML
    tree. Traces without events yield no rows. Log-level attributes, globals and
    classifiers are ignored (globals are defaults, not values). Entity expansion is left to
    expat, which refuses external entities and limits entity amplification.

    Examples
    --------
    >>> import pathlib, tempfile
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "log.xes"
    >>> _ = p.write_text('<log><trace><string key="concept:name" value="r1"/>'
    ...     '<event><string key="concept:name" value="submitted"/></event></trace></log>')
    >>> load_raw(p).to_dict("records")
    [{'case:concept:name': 'r1', 'concept:name': 'submitted'}]
    """
    path = Path(path)
    with open(path, "rb") as handle:
        compressed = handle.read(2) == b"\x1f\x8b"
    limits.check_markup_gaps(path, compressed)  # a 50 MB attribute: one line, not minutes
    chunks: list[pd.DataFrame] = []
    rows: list[dict[str, str]] = []
    try:
        with _open(path) as handle:
            for row in _rows(handle, path):
                rows.append(row)
                if len(rows) >= _CHUNK_ROWS:
                    chunks.append(pd.DataFrame(rows, dtype="str"))
                    rows = []
    except ET.ParseError as err:
        raise SekatError(f"not well-formed XES ({err})", file=str(path)) from None
    except (EOFError, OSError) as err:
        raise SekatError(f"cannot read XES file ({err})", file=str(path)) from None
    if rows or not chunks:
        chunks.append(pd.DataFrame(rows, dtype="str"))
    frame = pd.concat(chunks, ignore_index=True) if len(chunks) > 1 else chunks[0]
    return frame.astype("str")


# --- writing -------------------------------------------------------------------------------------


def _timestamp_text(stamps: pd.Series) -> pd.Series:
    utc = stamps.dt.tz_convert("UTC")
    fine = bool((utc.dt.microsecond % 1000 != 0).any()) or bool((utc.dt.nanosecond != 0).any())
    text = utc.dt.strftime("%Y-%m-%dT%H:%M:%S.%f")
    if not fine:
        text = text.str.slice(0, -3)
    return text + "+00:00"


def _attribute(kind: str, key: str, value: Any, indent: str) -> str:
    return f"{indent}<{kind} key={quoteattr(key)} value={quoteattr(str(value))}/>\n"


def write_xes(events: pd.DataFrame, path: str | Path) -> None:
    """Write canonical events as an XES log (gzip-compressed when the name ends in ``.gz``).

    Parameters
    ----------
    events : pandas.DataFrame
        Canonical events (case_id, timestamp, agency, activity, channel; category, region and
        activity_raw when present).
    path : str or path-like
        Target file, e.g. ``events.xes`` or ``events.xes.gz``.

    Notes
    -----
    One trace per case, in order of first appearance; events in their frame order. Trace
    attributes: ``concept:name`` (case_id), ``channel``, ``category``, ``region``. Event
    attributes: ``concept:name`` (lifecycle activity), ``org:group`` (agency),
    ``time:timestamp`` (UTC, milliseconds unless finer ones are present) and
    ``activity_raw``. The output is deterministic (gzip mtime 0); read it back with
    ``read_events(path)``.

    References
    ----------
    .. [1] IEEE Standard for eXtensible Event Stream (XES) for Achieving Interoperability in
       Event Logs and Event Streams, IEEE Std 1849-2016.

    Examples
    --------
    >>> import pathlib, tempfile, pandas as pd
    >>> ev = pd.DataFrame({"case_id": ["r1"], "agency": ["A"], "activity": ["submitted"],
    ...     "channel": ["web"], "timestamp": pd.to_datetime(["2024-01-05 01:00"], utc=True)})
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "events.xes"
    >>> write_xes(ev, p)
    >>> 'value="2024-01-05T01:00:00.000+00:00"' in p.read_text()
    True
    """
    path = Path(path)
    missing = [c for c in schema.REQUIRED_COLUMNS if c not in events.columns]
    if missing:
        raise SekatError(f"cannot write XES without column(s) {', '.join(missing)}")
    frame = events.reset_index(drop=True)
    stamps = _timestamp_text(frame[schema.TIMESTAMP])
    trace_columns = [c for c in (schema.CHANNEL, schema.CATEGORY, schema.REGION) if c in frame]
    parts = [
        '<?xml version="1.0" encoding="UTF-8" ?>\n',
        '<log xes.version="1.0" xes.features="" xmlns="http://www.xes-standard.org/">\n',
        '\t<extension name="Concept" prefix="concept" '
        'uri="http://www.xes-standard.org/concept.xesext"/>\n',
        '\t<extension name="Time" prefix="time" uri="http://www.xes-standard.org/time.xesext"/>\n',
        '\t<extension name="Organizational" prefix="org" '
        'uri="http://www.xes-standard.org/org.xesext"/>\n',
        '\t<classifier name="Activity" keys="concept:name"/>\n',
        _attribute("string", "concept:name", "sekat events", "\t"),
    ]
    for case, rows in frame.groupby(schema.CASE_ID, sort=False, dropna=False).indices.items():
        parts.append("\t<trace>\n")
        if not pd.isna(case):
            parts.append(_attribute("string", "concept:name", case, "\t\t"))
        first = rows[0]
        for column in trace_columns:
            value = frame.at[first, column]
            if not pd.isna(value):
                parts.append(_attribute("string", column, value, "\t\t"))
        for i in rows:
            parts.append("\t\t<event>\n")
            activity = frame.at[i, schema.ACTIVITY]
            if not pd.isna(activity):
                parts.append(_attribute("string", "concept:name", activity, "\t\t\t"))
            agency = frame.at[i, schema.AGENCY]
            if not pd.isna(agency):
                parts.append(_attribute("string", "org:group", agency, "\t\t\t"))
            if not pd.isna(stamps.iat[i]):
                parts.append(_attribute("date", "time:timestamp", stamps.iat[i], "\t\t\t"))
            if schema.ACTIVITY_RAW in frame and not pd.isna(frame.at[i, schema.ACTIVITY_RAW]):
                parts.append(
                    _attribute(
                        "string", schema.ACTIVITY_RAW, frame.at[i, schema.ACTIVITY_RAW], "\t\t\t"
                    )
                )
            parts.append("\t\t</event>\n")
        parts.append("\t</trace>\n")
    parts.append("</log>\n")
    data = "".join(parts).encode("utf-8")
    path.parent.mkdir(parents=True, exist_ok=True)
    temp = path.with_name(f".{path.name}.tmp")
    with open(temp, "wb") as handle:
        if path.name.lower().endswith(".gz"):
            with gzip.GzipFile(filename="", mode="wb", fileobj=handle, mtime=0) as packed:
                packed.write(data)
        else:
            handle.write(data)
    temp.replace(path)
