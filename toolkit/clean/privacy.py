"""Pseudonymisation: keyed pseudonyms for ids, no columns outside the contract, no stray PII.

:func:`pseudonymise` replaces case ids (and any other id columns named) by keyed HMAC-SHA256
pseudonyms, drops every column outside the contract unless it is kept by name, and removes
e-mail addresses, phone numbers, 16-digit NIK numbers, street addresses and raw ids from every
remaining text column, counting what it removed. Names and free text cannot be recognised by a
pattern, so a text value held by fewer than ``rare_below`` requests (a complaint body typed into
the category column, a citizen's name in an activity label) is replaced by a keyed pseudonym
too: it stays distinct, so paths and hops are unchanged, but its words are gone. The key comes
from the caller, a key file or the ``SEKAT_KEY`` environment variable, never from the code; the
one exception is :data:`DEMO_KEY`, which only the shipped synthetic data may use.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import re
from collections.abc import Iterable
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa

from toolkit import schema
from toolkit.errors import KeyMissingError, MissingColumnError

__all__ = [
    "DEMO_KEY",
    "KEY_ENV",
    "PII_PATTERNS",
    "PRIVACY_ATTR",
    "PSEUDONYM_HEX_CHARS",
    "RARE_PREFIX",
    "key_fingerprint",
    "pseudonym",
    "rare_values",
    "pseudonymise",
    "resolve_key",
    "scrub_text",
]

#: Environment variable holding the pseudonymisation key.
KEY_ENV = "SEKAT_KEY"
#: NOT A SECRET. Published with the code, for the shipped synthetic log only: pseudonyms made
#: with it can be recomputed by anyone. Never use it for real data.
DEMO_KEY = b"sekat-demo-key-NOT-SECRET-for-the-shipped-synthetic-data-only"
#: Hex characters of HMAC-SHA256 kept in a pseudonym (80 bits: collisions are negligible for
#: logs of up to hundreds of millions of requests).
PSEUDONYM_HEX_CHARS = 20
#: Key of ``DataFrame.attrs`` under which :func:`pseudonymise` leaves its report.
PRIVACY_ATTR = "privacy"
_PREFIX = {schema.CASE_ID: "c_"}
_DEFAULT_PREFIX = "p_"
#: Prefix of the pseudonym that replaces a rare text value (``t_`` + 20 hex digits).
RARE_PREFIX = "t_"
#: Text columns the rare-value rule leaves alone: the input file's own name, and the codes
#: sekat itself writes.
_NOT_LOG_TEXT = (schema.SOURCE_FILE, schema.REASON, schema.TIMESTAMP_ISSUE)

#: What is detected in text, in the order it is removed; each match becomes ``[removed:KIND]``.
PII_PATTERNS: dict[str, re.Pattern[str]] = {
    # The look-behind starts a match only where a run of address characters starts, so a
    # long run without "@" is scanned once, not once per character (linear, not quadratic).
    "email": re.compile(
        r"(?<![A-Za-z0-9._%+\-])[A-Za-z0-9._%+\-]+@[A-Za-z0-9\-]+(?:\.[A-Za-z0-9\-]+)*"
        r"\.[A-Za-z]{2,}"
    ),
    # NIK (Nomor Induk Kependudukan): 16 digits, possibly grouped by spaces, dots or hyphens.
    "nik": re.compile(r"(?<![\d+])\d(?:[ .\-]?\d){15}(?![ .\-]?\d)"),
    # Street addresses: "Jl."/"Jln." and a capitalised name, or "Jalan"/"Gang"/"Gg." and a
    # capitalised name with a house number ("jalan rusak", "Dinas Jalan Raya" stay).
    "address": re.compile(
        r"\b(?:(?:Jl|Jln)(?:\.[ ]*|[ ]+)[A-Z][\w'.\-]*(?:[ ]+[A-Z][\w'.\-]*){0,4}"
        r"(?:[ ,]+(?:No|Nomor|Kav|Blok)\.?[ ]*[\w/\-]+|[ ]+\d+[A-Za-z]?\b)?"
        r"|(?:Jalan|Gang|Gg\.)[ ]+[A-Z][\w'.\-]*(?:[ ]+[A-Z][\w'.\-]*){0,4}"
        r"(?:[ ,]+(?:No|Nomor|Kav|Blok)\.?)?[ ]*\d+[A-Za-z]?\b)"
    ),
    "phone": re.compile(
        r"(?<![\w+])(?:"
        # Indonesian mobile: +62 8.., 62 8.., 08..; 9-12 digits after the leading 8
        r"(?:\+62|62|0)[ .\-]?\(?8\d{1,3}\)?(?:[ .\-]?\d{2,5}){1,3}"
        # Indonesian landline: +62 21 .., (021) ..
        r"|(?:\+62[ .\-]?|\(?0)[2-7]\d{0,2}\)?[ .\-]?\d{3,4}[ .\-]?\d{3,5}"
        # international: +CC then 6-14 digits in groups
        r"|\+[1-9]\d{0,2}[ .\-]?\(?\d{1,4}\)?(?:[ .\-]?\d{2,5}){1,4}"
        r")(?!\d)"
    ),
}
_TOKEN = re.compile(r"[^\s,;:()\[\]{}<>\"'|=#!?*&]+")


def _digits(text: str) -> int:
    return sum(ch.isdigit() for ch in text)


def _plausible_phone(text: str) -> bool:
    return 8 <= _digits(text) <= 15


def resolve_key(
    key: bytes | str | None = None, key_file: str | Path | None = None
) -> tuple[bytes, str]:
    """Find the pseudonymisation key and say where it came from.

    Parameters
    ----------
    key : bytes or str, optional
        The key itself.
    key_file : str or path-like, optional
        A file holding the key (surrounding whitespace and a final newline are ignored).

    Returns
    -------
    key : bytes
    source : str
        ``"demo"`` (the published :data:`DEMO_KEY`), ``"argument"``, ``"key_file"`` or
        ``"environment"``.

    Raises
    ------
    KeyMissingError
        If no key is given anywhere, or the key is empty.

    Notes
    -----
    An explicit argument wins, then an explicitly named key file, then ``SEKAT_KEY``.

    Examples
    --------
    >>> resolve_key(DEMO_KEY)[1]
    'demo'
    >>> resolve_key("my secret")
    (b'my secret', 'argument')
    """
    if key is not None:
        value, source = (key.encode() if isinstance(key, str) else bytes(key)), "argument"
    elif key_file is not None:
        path = Path(key_file)
        try:
            value, source = path.read_bytes().strip(), "key_file"
        except FileNotFoundError:
            raise KeyMissingError("key file does not exist", file=str(path)) from None
        except (IsADirectoryError, PermissionError) as err:
            raise KeyMissingError(
                f"cannot read key file ({err.strerror})", file=str(path)
            ) from None
    elif os.environ.get(KEY_ENV):
        value, source = os.environ[KEY_ENV].encode(), "environment"
    else:
        raise KeyMissingError(
            f"no pseudonymisation key: set {KEY_ENV}, pass a key file (--key-file), or use "
            "--demo-key for the shipped synthetic data only"
        )
    if not value:
        raise KeyMissingError(f"the pseudonymisation key from the {source} is empty")
    if hmac.compare_digest(value, DEMO_KEY):
        source = "demo"
    return value, source


def pseudonym(value: str, key: bytes, prefix: str = "c_") -> str:
    """The keyed pseudonym of one id.

    Parameters
    ----------
    value : str
        The raw id.
    key : bytes
        The secret key.
    prefix : str
        Marks what the pseudonym stands for (``c_`` for requests).

    Returns
    -------
    str
        ``prefix`` + the first :data:`PSEUDONYM_HEX_CHARS` hex digits of
        HMAC-SHA256(key, value as UTF-8).

    Examples
    --------
    >>> pseudonym("REQ-1", b"k")
    'c_54d47404388b544d61a1'
    >>> pseudonym("REQ-1", b"k") == pseudonym("REQ-1", b"other key")
    False
    """
    digest = hmac.digest(key, value.encode("utf-8"), "sha256").hex()  # the one-shot C path
    return prefix + digest[:PSEUDONYM_HEX_CHARS]


def key_fingerprint(key: bytes) -> str:
    """A short public fingerprint of a key: tells keys apart without revealing them.

    Examples
    --------
    >>> key_fingerprint(b"a") != key_fingerprint(b"b")
    True
    """
    return hmac.new(key, b"sekat key fingerprint", hashlib.sha256).hexdigest()[:12]


def scrub_text(text: str, raw_ids: frozenset[str] = frozenset()) -> tuple[str, dict[str, int]]:
    """Remove e-mail addresses, phone numbers, NIK numbers and raw ids from one string.

    Parameters
    ----------
    text : str
        Any text.
    raw_ids : frozenset of str
        Raw id values that must not appear as a word of the text.

    Returns
    -------
    text : str
        The text with each finding replaced by ``[removed:KIND]``.
    counts : dict
        ``{kind: number removed}`` for kinds found.

    Notes
    -----
    Street addresses: ``Jl.``/``Jln.`` followed by a capitalised name (and any house
    number), or ``Jalan``/``Gang``/``Gg.`` followed by a capitalised name and a house number;
    lower-case road talk ("jalan rusak") and names without a number ("Dinas Jalan Raya") are
    left alone. Phone numbers: Indonesian mobile numbers in the +62 / 62 / 08 forms, Indonesian landlines
    (+62 21 .., (021) ..) and international +CC numbers, with spaces, dots or hyphens between
    digit groups, 8 to 15 digits in all. NIK: 16 digits, possibly grouped by single spaces, dots or hyphens. Numbers
    without one of those prefixes (ticket numbers, dates) are left alone.

    Examples
    --------
    >>> scrub_text("call 0812-3456-7890 or mail siti@example.id")
    ('call [removed:phone] or mail [removed:email]', {'email': 1, 'phone': 1})
    >>> scrub_text("NIK 3171234567890123, ticket REQ-9", frozenset({"REQ-9"}))
    ('NIK [removed:nik], ticket [removed:id]', {'nik': 1, 'id': 1})
    >>> scrub_text("lubang di Jl. Melati No. 5, jalan rusak")
    ('lubang di [removed:address], jalan rusak', {'address': 1})
    """
    counts: dict[str, int] = {}
    for kind, pattern in PII_PATTERNS.items():

        def replace(match: re.Match[str], kind: str = kind) -> str:
            if kind == "phone" and not _plausible_phone(match.group(0)):
                return match.group(0)
            counts[kind] = counts.get(kind, 0) + 1
            return f"[removed:{kind}]"

        text = pattern.sub(replace, text)
    if raw_ids:

        def replace_id(match: re.Match[str]) -> str:
            token = match.group(0)
            if token in raw_ids or token.rstrip(".") in raw_ids:
                counts["id"] = counts.get("id", 0) + 1
                return "[removed:id]" + token[len(token.rstrip(".")) :]
            return token

        text = _TOKEN.sub(replace_id, text)
    return text, counts


def rare_values(
    frame: pd.DataFrame, column: str, below: int, by: str = schema.CASE_ID
) -> frozenset[str]:
    """The text values of a column held by fewer than ``below`` distinct requests.

    Parameters
    ----------
    frame : pandas.DataFrame
        Events, with raw ids in ``by`` (rows are counted when ``by`` is absent).
    column : str
        A text column.
    below : int
        Values held by fewer requests than this are rare; 0 or 1 finds none.
    by : str
        The column identifying a request.

    Returns
    -------
    frozenset of str

    Examples
    --------
    >>> import pandas as pd
    >>> ev = pd.DataFrame({"case_id": ["r1", "r1", "r2", "r3"],
    ...                    "agency": ["Dinas PU", "Pak Budi", "Dinas PU", "Dinas PU"]})
    >>> sorted(rare_values(ev, "agency", below=2))
    ['Pak Budi']
    """
    if below <= 1 or column not in frame.columns or len(frame) == 0:
        return frozenset()
    requests = _distinct_codes(frame[by])[0] if by in frame.columns else None
    return _rare_texts(*_distinct_codes(frame[column]), requests, below)


def _rare_texts(
    codes: np.ndarray, uniques: np.ndarray, requests: np.ndarray | None, below: int
) -> frozenset[str]:
    """:func:`rare_values` on integer codes: distinct (value, request) pairs per value."""
    present = codes >= 0
    seen = np.bincount(codes[present], minlength=len(uniques)) > 0
    if requests is None:
        held = np.bincount(codes[present], minlength=len(uniques))
    else:
        both = present & (requests >= 0)
        width = int(requests.max()) + 1 if both.any() else 1
        pairs = pd.unique(codes[both] * width + requests[both])
        held = np.bincount(pairs // width, minlength=len(uniques))
    return frozenset(str(v) for v in uniques[seen & (held < below)])


def _distinct_codes(values: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """Integer codes of a column's values as text (-1 = missing) and the distinct texts."""
    if isinstance(values.dtype, pd.CategoricalDtype):
        codes = values.cat.codes.to_numpy().astype(np.int64)
        text = values.cat.categories.astype("str")
        # categories that read as the same text share one code
        first, uniques = pd.factorize(text)
        return np.append(first, -1)[codes], np.asarray(uniques, dtype=object)
    codes, uniques = pd.factorize(values.astype("str"))
    return codes.astype(np.int64), np.asarray(uniques, dtype=object)


def _present_texts(codes: np.ndarray, uniques: np.ndarray) -> frozenset[str]:
    """The distinct texts a coded column holds (missing values aside)."""
    seen = np.bincount(codes[codes >= 0], minlength=len(uniques)) > 0
    return frozenset(str(u) for u in uniques[seen])


def _scrub_column(
    column: pd.Series,
    raw_ids: frozenset[str],
    rare: frozenset[str] = frozenset(),
    key: bytes = b"",
    coded: tuple[np.ndarray, np.ndarray] | None = None,
) -> tuple[pd.Series, dict[str, int]]:
    codes, uniques = coded if coded is not None else _distinct_codes(column)
    times_seen = np.bincount(codes[codes >= 0], minlength=len(uniques))
    replacements: dict[str, str] = {}
    totals: dict[str, int] = {}
    for value, times in zip(uniques, times_seen, strict=True):
        if not times:
            continue
        cleaned, found = scrub_text(value, raw_ids)
        if value in rare:  # what it held is still counted, then the whole value goes
            replacements[value] = pseudonym(value, key, RARE_PREFIX)
            totals["rare_value"] = totals.get("rare_value", 0) + int(times)
        elif found:
            replacements[value] = cleaned
        if found:
            for kind, n in found.items():
                totals[kind] = totals.get(kind, 0) + n * int(times)
    if not replacements:
        return column, totals
    # Replaced once per distinct value; the rows take the new text by integer code.
    new_text = pa.array([replacements.get(u, u) for u in uniques], type=pa.large_string())
    scrubbed = pd.Series(
        new_text.take(pa.array(codes, mask=codes < 0)), index=column.index, dtype="str"
    )
    if isinstance(column.dtype, pd.CategoricalDtype):
        scrubbed = scrubbed.astype("category")
    return scrubbed, totals


def pseudonymise(
    events: pd.DataFrame,
    key: bytes | str | None = None,
    *,
    id_columns: Iterable[str] = (schema.CASE_ID,),
    keep: Iterable[str] = (),
    key_file: str | Path | None = None,
    extra_ids: Iterable[str] = (),
    rare_below: int = 0,
    population: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Replace ids by keyed pseudonyms, drop columns outside the contract, remove PII from text.

    Parameters
    ----------
    events : pandas.DataFrame
        Events (typically ``validate(...).clean``); any frame holding ``id_columns``.
    key : bytes or str, optional
        Secret key. If None, ``key_file`` is read, else the ``SEKAT_KEY`` environment variable.
    id_columns : iterable of str
        Columns whose values are replaced by pseudonyms (``c_`` prefix for case_id, ``p_``
        for others). The same raw value gets the same pseudonym in every column, so ids that
        refer to each other stay linked.
    keep : iterable of str
        Extra columns to keep besides the canonical and provenance columns; the others are
        dropped.
    key_file : str or path-like, optional
        File holding the key.
    extra_ids : iterable of str
        Further raw ids to remove from text, e.g. the case ids of a table pseudonymised
        separately (a quarantined row may mention a kept request).
    rare_below : int, default 0
        A text value held by fewer than this many distinct requests is replaced by the keyed
        pseudonym ``t_`` + HMAC (:data:`RARE_PREFIX`), since names and free text cannot be
        recognised by a pattern but are rare. 0 keeps every value.
        :func:`toolkit.pipeline.prepare` uses :data:`toolkit.schema.MIN_CELL_COUNT`.
    population : pandas.DataFrame, optional
        The events over which rarity is counted (raw ids in ``case_id``); default
        ``events`` itself. Pass the whole log when pseudonymising a part of it (the
        quarantine), so that a value is treated the same in every part.

    Returns
    -------
    pandas.DataFrame
        The pseudonymised events, same rows and order. ``result.attrs["privacy"]`` holds the
        report: key_source, key_fingerprint, pseudonym_hex_chars, pseudonymised {column:
        distinct ids}, dropped_columns, removed {kind: count}, removed_by_column,
        rare_below, rare_values {column: distinct values replaced}.

    Raises
    ------
    KeyMissingError
        No key was given anywhere.
    MissingColumnError
        An id column is not in the frame.

    Notes
    -----
    A pseudonym is ``prefix + HMAC-SHA256(key, raw id)[:20 hex]``: stable for the same key,
    unlinkable to the raw id without the key, and different under another key. Every text
    column left (agency, activity_raw, channel_raw, category, region, source_file and kept
    columns) is scanned; e-mail addresses, street addresses, phone numbers, NIK numbers and
    words equal to a raw id are replaced by ``[removed:email]``, ``[removed:address]``,
    ``[removed:phone]``, ``[removed:nik]``, ``[removed:id]`` and counted (occurrences, over
    all rows). With ``rare_below``, values held by fewer requests are first replaced whole
    (``removed["rare_value"]`` counts the rows); the source file name and sekat's own codes
    (reason, timestamp_issue) are exempt. A name that recurs in many requests (a staff
    member's name in an activity label) is neither rare nor a pattern and is kept: map such
    values with an activity or agency mapping. The key protects the link to raw ids; it
    does not stop a rare combination of time, place and category from singling a request
    out (that is disclosure control's job).

    References
    ----------
    .. [1] Krawczyk, Bellare and Canetti, "HMAC: Keyed-Hashing for Message Authentication",
       RFC 2104, 1997.

    Examples
    --------
    >>> import pandas as pd
    >>> ev = pd.DataFrame({"case_id": ["REQ-1", "REQ-1"], "agency": ["A", "B"],
    ...                    "activity_raw": ["opened REQ-1", "call 08123456789"],
    ...                    "citizen_name": ["Siti", "Siti"]})
    >>> anon = pseudonymise(ev, key=b"k")
    >>> anon["case_id"].tolist()
    ['c_54d47404388b544d61a1', 'c_54d47404388b544d61a1']
    >>> anon["activity_raw"].tolist()
    ['opened [removed:id]', 'call [removed:phone]']
    >>> anon.attrs["privacy"]["dropped_columns"], anon.attrs["privacy"]["removed"]["phone"]
    (['citizen_name'], 1)

    A value held by fewer requests than ``rare_below`` loses its words, not its identity:

    >>> pseudonymise(ev, key=b"k", rare_below=2)["agency"].str[:2].tolist()
    ['t_', 't_']
    """
    secret, source = resolve_key(key, key_file)
    id_columns = tuple(id_columns)
    keep = tuple(keep)
    for column in id_columns + keep:
        if column not in events.columns:
            raise MissingColumnError(
                f"column to {'pseudonymise' if column in id_columns else 'keep'} not found; "
                f"columns found: {', '.join(map(repr, map(str, events.columns)))}",
                column=column,
            )
    allowed = set(schema.CANONICAL_COLUMNS + schema.PROVENANCE_COLUMNS + keep + id_columns)
    dropped = [str(c) for c in events.columns if c not in allowed]
    frame = events.drop(columns=dropped)
    frame.attrs = {}

    raw_ids: set[str] = set()
    pseudonymised: dict[str, int] = {}
    for column in id_columns:
        # Each distinct id is hashed once; the rows take their pseudonym by integer code.
        codes, uniques = _distinct_codes(frame[column])
        raw_ids.update(uniques)
        prefix = _PREFIX.get(column, _DEFAULT_PREFIX)
        hashed = pa.array([pseudonym(u, secret, prefix) for u in uniques], type=pa.large_string())
        frame[column] = pd.Series(
            hashed.take(pa.array(codes, mask=codes < 0)), index=frame.index, dtype="str"
        )
        pseudonymised[column] = len(uniques)

    ids = frozenset(raw_ids | {str(i) for i in extra_ids})
    removed = {kind: 0 for kind in (*PII_PATTERNS, "id", "rare_value")}
    rare_counted: dict[str, int] = {}
    counted_over = events if population is None else population
    requests: np.ndarray | None = None  # request codes of the population, made when needed
    by_column: dict[str, dict[str, int]] = {}
    for column in frame.columns:
        if column in id_columns:
            continue
        dtype = frame[column].dtype
        if not (
            pd.api.types.is_string_dtype(dtype)
            or pd.api.types.is_object_dtype(dtype)
            or isinstance(dtype, pd.CategoricalDtype)
        ):
            continue
        if isinstance(dtype, pd.CategoricalDtype) and column in (
            schema.ACTIVITY,
            schema.CHANNEL,
        ):
            continue  # closed vocabularies: nothing personal can be in them
        if isinstance(dtype, pd.CategoricalDtype):
            # An unused category is still written (Parquet stores the whole dictionary): a
            # value seen only in the other part of the log would leak through it.
            frame[column] = frame[column].cat.remove_unused_categories()
        coded = _distinct_codes(frame[column])
        rare: frozenset[str] = frozenset()
        if rare_below > 1 and column not in _NOT_LOG_TEXT:
            held = _present_texts(*coded)
            # A value the population lacks is held by no request of it: rare.
            if column in counted_over.columns:
                if requests is None and schema.CASE_ID in counted_over.columns:
                    requests = _distinct_codes(counted_over[schema.CASE_ID])[0]  # once
                population_coded = _distinct_codes(counted_over[column])
                common = held - _rare_texts(*population_coded, requests, rare_below)
                common &= _present_texts(*population_coded)
            else:
                common = frozenset()
            rare = held - common
        frame[column], found = _scrub_column(frame[column], ids, rare, secret, coded)
        if rare:
            rare_counted[str(column)] = len(rare)
        if found:
            by_column[str(column)] = dict(sorted(found.items()))
            for kind, n in found.items():
                removed[kind] += n

    frame.attrs[PRIVACY_ATTR] = {
        "key_source": source,
        "key_fingerprint": key_fingerprint(secret),
        "pseudonym_hex_chars": PSEUDONYM_HEX_CHARS,
        "pseudonymised": pseudonymised,
        "dropped_columns": dropped,
        "removed": dict(sorted(removed.items())),
        "removed_by_column": by_column,
        "rare_below": int(rare_below),
        "rare_values": rare_counted,
    }
    return frame
