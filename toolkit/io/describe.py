"""Describe a log file before mapping it: its columns, their values, and a mapping to edit.

:func:`describe` is what ``sekat describe FILE`` prints. It loads every column of the file
as text (nothing is mapped, validated or dropped), and returns a :class:`Description`: one
row per column with its apparent type, how many values are filled and distinct, the most
frequent values with their counts and what the mapping (or preset) makes of it; the channel,
activity and agency values *as typed*, counted in requests, with what each is read as; and a
mapping file filled in from all this, for the user to correct. It never raises on a file it
can read: what the mapping cannot do (a required column missing, a ``keep`` column absent)
is listed in ``problems`` instead.

This is the data owner's view: values are shown raw. Nothing here is written to the
prepared folder; look at it before pasting it anywhere.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from toolkit import schema
from toolkit.errors import SekatError
from toolkit.io.mapping import Mapping, normalise_label
from toolkit.io.presets import RequestExport
from toolkit.io.readers import FORMATS, _choose_columns, _strip_text, resolve_format

__all__ = ["Description", "describe", "guess_role"]

#: Words in a column name that suggest its role (matched on the folded name), in order.
_ROLE_HINTS: tuple[tuple[str, tuple[str, ...]], ...] = (
    (schema.CASE_ID, ("caseid", "case", "ticket", "tiket", "requestid", "srnumber", "nomor", "enquiry",
                      "uniquekey", "conceptname")),
    (schema.TIMESTAMP, ("timestamp", "time", "tanggal", "waktu", "date", "created", "opened",
                        "dibuat")),
    (schema.AGENCY, ("agency", "unit", "dinas", "department", "dept", "owner", "orggroup",
                     "instansi", "opd", "queue", "group")),
    (schema.ACTIVITY, ("activity", "status", "event", "aktivitas", "tahap", "action")),
    (schema.CHANNEL, ("channel", "source", "sumber", "kanal", "media", "saluran")),
    (schema.CATEGORY, ("category", "kategori", "type", "topic", "topik", "reason", "jenis")),
    (schema.REGION, ("region", "district", "kecamatan", "kabupaten", "kota", "neighborhood",
                     "borough", "wilayah", "ward")),
)  # fmt: skip
_NOT_ALNUM = re.compile(r"[^0-9a-z]+")
_CLOSE_HINTS = ("closed", "close", "selesai", "resolved", "end", "finished", "ditutup")
_TARGET_HINTS = ("target", "due", "deadline", "batas", "sla")
#: Distinct values listed per vocabulary in the template (the most frequent first).
TEMPLATE_VALUES = 60


def guess_role(column: str) -> str | None:
    """The canonical column a file's column name suggests, from words in it; None if none.

    Examples
    --------
    >>> guess_role("Nomor Tiket"), guess_role("created_at"), guess_role("Kecamatan")
    ('case_id', 'timestamp', 'region')
    >>> guess_role("note") is None
    True
    """
    folded = _NOT_ALNUM.sub("", str(column).lower())
    for role, hints in _ROLE_HINTS:
        if any(hint in folded for hint in hints):
            return role
    return schema.CASE_ID if folded == "id" or str(column).lower().endswith("_id") else None


def _apparent_type(values: pd.Series) -> str:
    """``empty``, ``integer``, ``number``, ``date/time``, ``yes/no`` or ``text``."""
    present = values.dropna()
    if present.empty:
        return "empty"
    sample = present.iloc[:: max(1, len(present) // 500)]
    if sample.str.fullmatch(r"[+-]?\d+").all():
        return "integer"
    if pd.to_numeric(sample, errors="coerce").notna().all():
        return "number"
    if sample.str.lower().isin(["true", "false", "yes", "no", "y", "n", "t", "f"]).all():
        return "yes/no"
    # A date has a year written out (as the reader requires): "T1" is not a time.
    has_year = sample.str.contains(r"\d{4}|\d{1,2}[/.\-]\d{1,2}[/.\-]\d{2}", regex=True)
    if has_year.mean() > 0.9:
        import warnings

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            parsed = pd.to_datetime(sample[has_year], errors="coerce", format="mixed", utc=True)
        if parsed.notna().mean() > 0.9:
            return "date/time"
    return "text"


@dataclass
class Description:
    """What :func:`describe` found; ``str(description)`` is the console text.

    Attributes
    ----------
    file, format : str
        The file's name and detected format.
    rows : int
        Data rows read (the header excluded).
    columns : pandas.DataFrame
        One row per column: ``column``, ``type``, ``filled``, ``distinct``, ``read_as`` and
        ``values`` (the most frequent values with their counts, ``value (n)``).
    vocabulary : dict
        ``{"channel" | "activity" | "agency": DataFrame}`` with ``value`` (as typed),
        ``requests`` (distinct request ids holding it; rows when no id column is known) and
        ``read_as`` (what the mapping makes of it; missing when it does not know it).
    template : str
        A mapping file (TOML) filled in from the file and the mapping, to edit.
    problems : list of str
        What the mapping cannot do on this file (a missing required column, ...).
    """

    file: str
    format: str
    rows: int
    columns: pd.DataFrame
    vocabulary: dict[str, pd.DataFrame] = field(default_factory=dict)
    template: str = ""
    problems: list[str] = field(default_factory=list)

    def __str__(self) -> str:
        lines = [f"{self.file}: {self.format}, {self.rows} rows, {len(self.columns)} columns", ""]
        with pd.option_context("display.max_colwidth", 80, "display.width", 200):
            lines.append(self.columns.to_string(index=False))
        for role, table in self.vocabulary.items():
            unknown = table[table["read_as"].isna()]
            if len(unknown):
                listed = "; ".join(
                    f"{v!r} {n}" for v, n in zip(unknown["value"], unknown["requests"], strict=True)
                )
                lines += ["", f"{role} values the mapping does not know (requests): {listed}"]
        if self.problems:
            lines += ["", "problems:"] + [f"  - {p}" for p in self.problems]
        return "\n".join(lines)


def _counts_by_request(values: pd.Series, case_ids: pd.Series | None) -> pd.Series:
    """How many requests (or rows, without an id) hold each value, most first."""
    if case_ids is None:
        counts = values.dropna().value_counts()
    else:
        pairs = pd.DataFrame({"value": values, "case": case_ids}).dropna(subset=["value"])
        counts = pairs.drop_duplicates()["value"].value_counts()
    return counts.sort_index().sort_values(ascending=False, kind="stable")


def _toml_key(text: str) -> str:
    escaped = str(text).replace("\\", "\\\\").replace('"', '\\"')
    escaped = "".join(c if c.isprintable() else f"\\u{ord(c):04x}" for c in escaped)
    return f'"{escaped}"'


def describe(
    path: str | Path,
    mapping: Mapping | dict[str, Any] | str | Path | None = None,
    preset: str | None = None,
    *,
    values: int = 5,
) -> Description:
    """Describe a log file: its columns and values, and a filled-in mapping to edit.

    Parameters
    ----------
    path : str or path-like
        A file :func:`toolkit.io.readers.read_events` can read (CSV, Parquet, XES, JSON).
    mapping, preset : optional
        As for :func:`~toolkit.io.readers.read_events`; the description says what they make
        of each column and value, and the template starts from them.
    values : int
        Most frequent values listed per column.

    Returns
    -------
    Description

    Raises
    ------
    SekatError
        Only when the file itself cannot be read (missing, empty, binary, not UTF-8 ...) or
        the mapping file is invalid; never because the mapping does not fit the file.

    Examples
    --------
    >>> import pathlib, tempfile
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "log.csv"
    >>> _ = p.write_text("ticket,created,unit,status,source\\n"
    ...                  "T1,2024-01-05 09:00,Dinas PU,Baru,Loket\\n"
    ...                  "T1,2024-01-05 10:00,Dinas PU,Selesai,Loket\\n")
    >>> d = describe(p)
    >>> d.columns[["column", "type", "distinct", "read_as"]].values.tolist()
    ... # doctest: +NORMALIZE_WHITESPACE
    [['ticket', 'text', 1, 'case_id?'], ['created', 'date/time', 2, 'timestamp?'],
     ['unit', 'text', 1, 'agency?'], ['status', 'text', 2, 'activity?'],
     ['source', 'text', 1, 'channel?']]
    >>> columns = d.template[d.template.index('"ticket"') : d.template.index("[channels]")]
    >>> print(columns.strip())
    ... # doctest: +NORMALIZE_WHITESPACE
    "ticket" = "case_id"    # guessed from the name: check
    "created" = "timestamp"    # guessed from the name: check
    "unit" = "agency"    # guessed from the name: check
    "status" = "activity"    # guessed from the name: check
    "source" = "channel"    # guessed from the name: check
    >>> d.problems
    ["required column(s) 'case_id', 'timestamp', 'agency', 'activity', 'channel' not found"]
    """
    path = Path(path)
    resolved, fmt = resolve_format(path, mapping, preset)
    # Every column, as text: a loader given a transform that names no columns reads them all.
    raw = FORMATS[fmt](path, Mapping(encoding=resolved.encoding, transform=_every_column))
    raw = raw.reset_index(drop=True)
    text = {str(c): _strip_text(raw[c].astype("str")) for c in raw.columns}

    problems: list[str] = []
    roles: dict[str, str] = {}  # file column -> what it is read as
    layout = resolved.transform
    if isinstance(layout, RequestExport):
        for role, column in layout.roles(raw).items():
            roles.setdefault(column, role)
        missing = [r for r in ("case_id", "opened", "agency") if r not in roles.values()]
        for role in missing:
            names = " or ".join(repr(n) for n in getattr(layout, role))
            problems.append(f"the {layout.name} preset needs a {role} column ({names})")
    else:
        try:
            chosen = _choose_columns(raw, resolved, path)
        except SekatError as err:
            problems.append(str(err).split(": ", 1)[-1].split("; columns found")[0])
            chosen = _choose_columns(raw, resolved, path, complete=False)
        for target, source in chosen.items():
            roles.setdefault(str(source), "kept" if target in resolved.keep else target)
    if resolved.channel is not None:
        roles = {c: r for c, r in roles.items() if r != schema.CHANNEL}
    types = {column: _apparent_type(values_of) for column, values_of in text.items()}
    # Roles the mapping leaves open, guessed from column names (marked "?"), and the first
    # column of dates for a timestamp still missing.
    guessed: dict[str, str] = {}
    taken = set(roles.values())
    for column in text:
        role = guess_role(column)
        if isinstance(layout, RequestExport):
            break  # the preset names every role it reads
        if column not in roles and role is not None and role not in taken:
            guessed[column] = role
            taken.add(role)
    if schema.TIMESTAMP not in taken and not isinstance(layout, RequestExport):
        dated = [c for c in text if types[c] == "date/time" and c not in roles and c not in guessed]
        if dated:
            guessed[dated[0]] = schema.TIMESTAMP

    rows = []
    for column, values_of in text.items():
        counts = values_of.value_counts()
        counts = counts.sort_index().sort_values(ascending=False, kind="stable")
        top = [
            f"{v if len(v) <= 30 else v[:29] + '…'} ({n})" for v, n in counts.iloc[:values].items()
        ]
        read_as = roles.get(column) or (f"{guessed[column]}?" if column in guessed else "dropped")
        rows.append(
            (column, types[column], int(values_of.notna().sum()), len(counts),
             read_as, ", ".join(top))
        )  # fmt: skip
    columns = pd.DataFrame(
        rows, columns=["column", "type", "filled", "distinct", "read_as", "values"]
    )

    every = {**guessed, **roles}
    by_role = {role: column for column, role in every.items()}
    case_ids = text.get(by_role.get(schema.CASE_ID, ""))
    tables = [
        (schema.CHANNEL, resolved.channel_table()),
        (schema.ACTIVITY, resolved.activity_table()),
    ]
    vocabulary: dict[str, pd.DataFrame] = {}
    for role, table in tables:
        column = by_role.get(role)
        if column is None or column not in text or (role == schema.CHANNEL and resolved.channel):
            continue
        counts = _counts_by_request(text[column], case_ids)
        vocabulary[role] = pd.DataFrame(
            {
                "value": counts.index.astype("str"),
                "requests": counts.to_numpy(),
                "read_as": [table.get(normalise_label(v)) for v in counts.index],
            }
        )
    agency_column = by_role.get(schema.AGENCY)
    if agency_column in text:
        counts = _counts_by_request(text[agency_column], case_ids)
        aliases = resolved.agency_table()
        vocabulary[schema.AGENCY] = pd.DataFrame(
            {
                "value": counts.index.astype("str"),
                "requests": counts.to_numpy(),
                "read_as": [aliases.get(normalise_label(v), v) for v in counts.index],
            }
        )
    template = _template(path.name, columns, resolved, vocabulary, every, layout)
    return Description(
        file=path.name,
        format=fmt,
        rows=len(raw),
        columns=columns,
        vocabulary=vocabulary,
        template=template,
        problems=problems,
    )


def _every_column(frame: pd.DataFrame) -> pd.DataFrame:
    """A transform that names no columns: loaders then read every column of a file."""
    return frame


def _template(
    name: str,
    columns: pd.DataFrame,
    mapping: Mapping,
    vocabulary: dict[str, pd.DataFrame],
    roles: dict[str, str],
    layout: Any,
) -> str:
    """The mapping file a user edits: what the mapping does now, and what is guessed."""
    out = [
        f"# Mapping for {name}, written by 'sekat describe'. Check every line, then run",
        f"#   sekat prepare {name} --mapping THIS_FILE --out data/processed/NAME",
        f'source_tz = "{mapping.source_tz or schema.DEFAULT_SOURCE_TZ}"'
        "    # zone of times written without an offset",
    ]
    if mapping.dayfirst:
        out.append("dayfirst = true")
    if mapping.channel is not None:
        out.append(f'channel = "{mapping.channel}"')
    elif schema.CHANNEL not in roles.values():
        out.append('channel = "other"    # no channel column found: the log records none?')
    out.append("keep = []    # extra columns to carry (all others are dropped)")
    out += ["", "[columns]    # your column -> sekat column"]
    if isinstance(layout, RequestExport):
        out.append(f"# read by the {layout.name} preset (--preset {layout.name}); an entry")
        out.append("# here replaces the preset's column for that role:")
        out += [f"# {_toml_key(c)} = \"{r}\"" for c, r in roles.items()
                if r in schema.CANONICAL_COLUMNS]  # fmt: skip
    elif mapping.name:
        out.append(f"# read with --preset {mapping.name}; an entry here replaces its column")
    for column, role in roles.items():
        if role in schema.CANONICAL_COLUMNS and not isinstance(layout, RequestExport):
            guessed = columns.set_index("column").loc[column, "read_as"].endswith("?")
            note = "    # guessed from the name: check" if guessed else ""
            out.append(f'{_toml_key(column)} = "{role}"{note}')
    dates = columns.loc[columns["type"] == "date/time", "column"].tolist()
    events_log = schema.ACTIVITY in roles.values()
    if len(dates) >= 2 and not events_log and not isinstance(layout, RequestExport):
        folded = {c: _NOT_ALNUM.sub("", c.lower()) for c in dates}
        closed = next((c for c in dates if any(h in folded[c] for h in _CLOSE_HINTS)), None)
        target = next((c for c in dates if any(h in folded[c] for h in _TARGET_HINTS)), None)
        opened = next((c for c in dates if c not in (closed, target)), dates[0])
        out += [
            "",
            "# One row per request (an opening and a closing time on each row)? Then uncomment:",
            "# [request]",
            f"# opened = {_toml_key(opened)}",
        ]
        if closed:
            out.append(f"# closed = {_toml_key(closed)}")
        if target:
            out.append(f"# target = {_toml_key(target)}")
    if mapping.request:
        out += ["", "[request]"] + [f"{k} = {_toml_key(v)}" for k, v in mapping.request.items()]
    for role, section, choices in (
        (schema.CHANNEL, "channels", schema.CHANNELS),
        (schema.ACTIVITY, "activities", schema.ACTIVITIES),
    ):
        table = vocabulary.get(role)
        if table is None:
            continue
        out += ["", f"[{section}]    # value as typed -> one of: {', '.join(choices)}"]
        for value, n, read_as in table.iloc[:TEMPLATE_VALUES].itertuples(index=False):
            if pd.isna(read_as):
                fallback = schema.UNKNOWN_CHANNEL if role == schema.CHANNEL else "in_progress"
                out.append(
                    f'{_toml_key(value)} = "{fallback}"    # {n} requests; not known: choose'
                )
            else:
                out.append(f'{_toml_key(value)} = "{read_as}"    # {n} requests')
        if len(table) > TEMPLATE_VALUES:
            out.append(f"# ... and {len(table) - TEMPLATE_VALUES} rarer values")
    out += ["", "[agencies]    # spelling -> one name (sekat prepare lists names that look alike)"]
    out += [f"{_toml_key(k)} = {_toml_key(v)}" for k, v in mapping.agencies.items()]
    return "\n".join(out) + "\n"
