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

import functools
import hashlib
import hmac
import os
import re
import unicodedata
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from toolkit import schema
from toolkit.errors import KeyMissingError, MissingColumnError

__all__ = [
    "DEMO_KEY",
    "FINGERPRINT_SALT",
    "KEY_ENV",
    "MAX_KEY_BYTES",
    "MIN_KEY_BYTES",
    "PII_PATTERNS",
    "PRIVACY_ATTR",
    "PSEUDONYM_HEX_CHARS",
    "RARE_PREFIX",
    "Rarity",
    "check_key",
    "key_fingerprint",
    "pseudonym",
    "pseudonyms",
    "rare_values",
    "pseudonymise",
    "resolve_key",
    "HASH_FIELDS",
    "normalise_text",
    "scrub_name",
    "scrub_record",
    "scrub_text",
]

#: Environment variable holding the pseudonymisation key.
KEY_ENV = "SEKAT_KEY"
#: NOT A SECRET. Published with the code, for the shipped synthetic log only: pseudonyms made
#: with it can be recomputed by anyone. Never use it for real data.
DEMO_KEY = b"sekat-demo-key-NOT-SECRET-for-the-shipped-synthetic-data-only"
#: Keys shorter than this are refused (:func:`check_key`).
MIN_KEY_BYTES = 16
#: A key file longer than this is not a key (``--key-file /dev/zero`` is refused, not read).
MAX_KEY_BYTES = 4096
#: Salt of :func:`key_fingerprint` outside a release (a release salts with its own hash).
FINGERPRINT_SALT = b"sekat key fingerprint v2"
_MAKE_KEY = 'python -c "import secrets; print(secrets.token_hex(32))"'
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

#: Characters that render as nothing (zero-width spaces and joiners, the soft hyphen, the
#: byte-order mark, bidirectional controls): removed before matching, so they cannot split a
#: number or an address.
_INVISIBLE = dict.fromkeys(
    map(
        ord,
        "\u00ad\u034f\u061c\u115f\u1160\u17b4\u17b5\u180e\u200b\u200c\u200d\u200e\u200f"
        "\u202a\u202b\u202c\u202d\u202e\u2060\u2061\u2062\u2063\u2064\u2066\u2067\u2068"
        "\u2069\ufeff",
    ),
    None,
)
#: Dashes and minus signs read as "-", unusual spaces as " " (after NFKC, which already folds
#: full-width digits and "＠" and most spaces).
_FOLD = {
    **dict.fromkeys(map(ord, "\u2010\u2011\u2012\u2013\u2014\u2015\u2212\ufe58\ufe63\uff0d"), "-"),
    **dict.fromkeys(
        map(
            ord,
            "\u00a0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007"
            "\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000\t\r\n\v\f",
        ),
        " ",
    ),
}
#: Separators allowed between the digit groups of a phone or NIK number: spaces, dots,
#: hyphens and slashes, any number of them.
_SEP = r"[ ./\-]*"
#: A run of digits and digit-like letters (``l``/``I`` for 1, ``o``/``O`` for 0) with separators.
_DIGIT_RUN = re.compile(r"[0-9lIoO](?:[ ./\-]*[0-9lIoO])*")
_DIGIT_LIKE = re.compile(r"(?<=[0-9])[lIoO]|[lIoO](?=[0-9])")
_LOOKS_LIKE = str.maketrans("lIoO", "1100")
#: E-mail obfuscations: "[at]", "(at)", "{at}", "<at>", " at " before a dotted domain, and
#: "[dot]", "(dot)", "(titik)".
_AT = re.compile(r"\s*[\[({<]\s*(?:at|@|et)\s*[\])}>]\s*", re.IGNORECASE)
_DOT = re.compile(r"\s*[\[({<]\s*(?:dot|titik|\.)\s*[\])}>]\s*", re.IGNORECASE)
_SPELLED_EMAIL = re.compile(
    r"(?<![\w.+\-])([\w.+\-]+)\s+(?:at|@)\s+([\w\-]+)((?:\s*(?:\.|\s+dot\s+|\s+titik\s+)[a-z]{2,})+)\b",
    re.IGNORECASE,
)
_SPELLED_DOT = re.compile(r"\s*(?:\.|\s+dot\s+|\s+titik\s+)\s*", re.IGNORECASE)
_SPACED_AT = re.compile(r"(?<=[\w.+\-])\s*@\s*(?=[\w\-])")

#: The start of an Indonesian address: a road (jalan, jl., jln.), an alley (gang, gg.), an
#: estate (komplek, perumahan, perum, blok) or a neighbourhood unit (RT/RW).
_ROAD = r"(?:jalan|jln?\b\.?|gang|gg\b\.?)"
_ESTATE = r"(?:kompleks?|komp\b\.?|perumahan|perum\b\.?|blok)"
_NAME = r"[^\W\d_][\w'.\-]*"
_HOUSE = r"(?:no|nomor|nomer|kav|blok|rt|rw)\b\.?"
_NUMBER = r"[A-Za-z]?\d+[A-Za-z]?(?:[/\-][A-Za-z]?\d+[A-Za-z]?)*"

#: What is detected in text, in the order it is removed; each match becomes ``[removed:KIND]``.
#: All are matched on the normalised text (:func:`normalise_text`), ignoring case.
PII_PATTERNS: dict[str, re.Pattern[str]] = {
    # The look-behind starts a match only where a run of address characters starts, so a
    # long run without "@" is scanned once, not once per character (linear, not quadratic).
    "email": re.compile(
        r"(?<![A-Za-z0-9._%+\-])[A-Za-z0-9._%+\-]+@[A-Za-z0-9\-]+(?:\.[A-Za-z0-9\-]+)*"
        r"\.[A-Za-z]{2,}",
        re.IGNORECASE,
    ),
    # NIK (Nomor Induk Kependudukan): 16 digits, possibly grouped by spaces, dots, hyphens
    # or slashes of any length; letters may touch it ("NIK3171...").
    "nik": re.compile(r"(?<![\d+])\d(?:" + _SEP + r"\d){15}(?!" + _SEP + r"\d)"),
    # Street addresses, in any case: a road word and a name ("Jl. Merdeka", "JL MERDEKA NO
    # 10"); "jalan"/"gang" or an estate word, a name and a house number ("Gang Mawar no 3",
    # "Komplek Griya Blok C3 No. 5"). Road talk without a number ("jalan rusak", "Dinas
    # Jalan Raya") stays.
    "address": re.compile(
        r"(?<!\w)(?:"
        r"jln?(?:\.\s*|\s+)" + _NAME + r"(?:\s+" + _NAME + r"){0,5}"
        r"(?:[\s,]+" + _HOUSE + r"\s*" + _NUMBER + r"|\s+" + _NUMBER + r"(?!\w))?"
        r"|(?:" + _ROAD + r"|" + _ESTATE + r")\s+" + _NAME + r"(?:\s+" + _NAME + r"){0,5}"
        r"(?:[\s,]+" + _HOUSE + r")?\s*" + _NUMBER + r"(?!\w)"
        r")(?:[\s,]+" + _HOUSE + r"\s*" + _NUMBER + r"(?!\w))*",
        re.IGNORECASE,
    ),
    # Letters may touch a number ("HP081234567890"), digits may not.
    "phone": re.compile(
        r"(?<![\d+])(?:"
        # Indonesian mobile: +62 8.., 62 8.., 08..; 9-12 digits after the leading 8
        r"(?:\+62|62|0)" + _SEP + r"\(?8\d{1,3}\)?(?:" + _SEP + r"\d{2,5}){1,3}"
        # Indonesian landline: +62 21 .., (021) ..
        r"|(?:\+62" + _SEP + r"|\(?0)[2-7]\d{0,2}\)?" + _SEP + r"\d{3,4}" + _SEP + r"\d{3,5}"
        # international: +CC then 6-14 digits in groups
        r"|\+[1-9]\d{0,2}" + _SEP + r"\(?\d{1,4}\)?(?:" + _SEP + r"\d{2,5}){1,4}"
        r")(?!\d)"
    ),
}
_TOKEN = re.compile(r"[^\s,;:()\[\]{}<>\"'|=#!?*&]+")
#: Keys of a report or manifest whose values are hashes or codes sekat made, never text
#: from the log: :func:`scrub_record` leaves them alone.
HASH_FIELDS = frozenset({"sha256", "build", "key_fingerprint", "key_salt", "mapping_sha256"})


def _digits(text: str) -> int:
    return sum(ch.isdigit() for ch in text)


def _plausible_phone(text: str) -> bool:
    return 8 <= _digits(text) <= 15


def normalise_text(text: str) -> str:
    """The form of a text that PII is matched in.

    Unicode NFKC (full-width digits and "＠" become ASCII), invisible characters removed,
    dashes read as "-" and unusual spaces as " ", e-mail obfuscations undone ("budi [at]
    gmail [dot] com" reads as "budi@gmail.com"), and in a run of at least 7 digits a letter
    touching a digit read as the digit it looks like ("08l2" as "0812", "O" as "0").

    Examples
    --------
    >>> normalise_text("０８１２\u20133456\u200b7890")
    '0812-34567890'
    >>> normalise_text("budi [at] gmail (dot) com")
    'budi@gmail.com'
    >>> normalise_text("08l2 3456 789O")
    '0812 3456 7890'
    """
    if text.isascii():
        folded = text
    else:
        folded = unicodedata.normalize("NFKC", text.translate(_INVISIBLE)).translate(_INVISIBLE)
    folded = folded.translate(_FOLD)
    if "@" in folded or any(w in folded.lower() for w in ("at", "dot", "titik")):
        folded = _AT.sub("@", folded)
        folded = _DOT.sub(".", folded)
        folded = _SPELLED_EMAIL.sub(
            lambda m: f"{m.group(1)}@{m.group(2)}" + _SPELLED_DOT.sub(".", m.group(3)), folded
        )
        folded = _SPACED_AT.sub("@", folded)

    def digits_for_letters(match: re.Match[str]) -> str:
        run = match.group(0)
        if run.isdigit() or _digits(run) < 7:
            return run
        for _ in range(4):  # "0OO8": each pass reads the letters touching a digit
            read = _DIGIT_LIKE.sub(lambda m: m.group(0).translate(_LOOKS_LIKE), run)
            if read == run:
                break
            run = read
        return run

    return _DIGIT_RUN.sub(digits_for_letters, folded)


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
        If no key is given anywhere, or the key is empty, shorter than
        :data:`MIN_KEY_BYTES`, one character repeated (:func:`check_key`) or a key file longer
        than :data:`MAX_KEY_BYTES`.

    Notes
    -----
    An explicit argument wins, then an explicitly named key file, then ``SEKAT_KEY``.

    Examples
    --------
    >>> resolve_key(DEMO_KEY)[1]
    'demo'
    >>> resolve_key("a long secret key, kept safe")
    (b'a long secret key, kept safe', 'argument')
    """
    if key is not None:
        value, source = (key.encode() if isinstance(key, str) else bytes(key)), "argument"
    elif key_file is not None:
        path = Path(key_file)
        try:
            with open(path, "rb") as handle:  # bounded: /dev/zero is not a key
                value, source = handle.read(MAX_KEY_BYTES + 1), "key_file"
            if len(value) > MAX_KEY_BYTES:
                raise KeyMissingError(
                    f"the key file is longer than {MAX_KEY_BYTES} bytes: is it a key?",
                    file=str(path),
                )
            value = value.strip()
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
        return value, "demo"
    check_key(value, source)
    return value, source


def check_key(key: bytes, source: str = "argument") -> None:
    """Refuse a key that could be guessed: shorter than 16 bytes, or one character repeated.

    Parameters
    ----------
    key : bytes
        The key, as read.
    source : str
        Where it came from, for the message.

    Raises
    ------
    KeyMissingError
        The key is too short or one repeated character. The message never shows the key.

    Examples
    --------
    >>> check_key(b"a long secret key, kept outside the repository")
    >>> check_key(b"a")
    Traceback (most recent call last):
    toolkit.errors.KeyMissingError: the pseudonymisation key from the argument is too short (1 bytes; at least 16): make one with: python -c "import secrets; print(secrets.token_hex(32))"
    """
    if len(key) < MIN_KEY_BYTES:
        raise KeyMissingError(
            f"the pseudonymisation key from the {source} is too short ({len(key)} bytes; at "
            f"least {MIN_KEY_BYTES}): make one with: {_MAKE_KEY}"
        )
    if len(set(key)) == 1:
        raise KeyMissingError(
            f"the pseudonymisation key from the {source} is one character repeated: make a "
            f"random one with: {_MAKE_KEY}"
        )


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


#: SHA-256 reads its input in blocks of this many bytes; HMAC pads its key to one block.
_SHA256_BLOCK = 64
_INNER_PAD = bytes(b ^ 0x36 for b in range(256))
_OUTER_PAD = bytes(b ^ 0x5C for b in range(256))


def pseudonyms(values: Iterable[str], key: bytes, prefix: str = "c_") -> list[str]:
    """:func:`pseudonym` of many ids: the same strings, with the key's HMAC pads made once.

    HMAC-SHA256(K, m) = H((K' xor opad) || H((K' xor ipad) || m)), K' the key padded to one
    block (or its hash, when longer) [1]_. The two padded-key states are hashed once and
    copied for every id, which takes less than half the time of :func:`hmac.digest` per id.

    Parameters
    ----------
    values : iterable of str
        Raw ids.
    key : bytes
        The secret key.
    prefix : str
        As for :func:`pseudonym`.

    Returns
    -------
    list of str
        ``[pseudonym(v, key, prefix) for v in values]``.

    References
    ----------
    .. [1] Krawczyk, Bellare and Canetti, "HMAC: Keyed-Hashing for Message Authentication",
       RFC 2104, 1997, section 2.

    Examples
    --------
    >>> pseudonyms(["REQ-1", "REQ-2"], b"k") == [pseudonym("REQ-1", b"k"), pseudonym("REQ-2", b"k")]
    True
    """
    if len(key) > _SHA256_BLOCK:
        key = hashlib.sha256(key).digest()
    key = key.ljust(_SHA256_BLOCK, b"\0")
    inner_start = hashlib.sha256(key.translate(_INNER_PAD))
    outer_start = hashlib.sha256(key.translate(_OUTER_PAD))
    made = []
    for value in values:
        inner = inner_start.copy()
        inner.update(value.encode("utf-8"))
        outer = outer_start.copy()
        outer.update(inner.digest())
        made.append(prefix + outer.hexdigest()[:PSEUDONYM_HEX_CHARS])
    return made


@functools.lru_cache(maxsize=8)
def key_fingerprint(key: bytes, salt: bytes = FINGERPRINT_SALT) -> str:
    """A public fingerprint of a key: tells keys apart without giving them back.

    Derived with scrypt (n = 2**14, r = 8, p = 1: 16 MiB and, measured on a loaded 2-core
    machine, 0.18 s per guess) and a salt, so that trying candidate keys against it is slow
    and a table computed for one salt serves no other; :func:`toolkit.pipeline.prepare` salts it
    with the hash of the release's inputs and parameters.

    Parameters
    ----------
    key : bytes
    salt : bytes

    Returns
    -------
    str
        32 hex digits.

    Examples
    --------
    >>> key_fingerprint(b"a long secret key") != key_fingerprint(b"another long key")
    True
    >>> key_fingerprint(b"a long secret key", b"salt 1") != key_fingerprint(b"a long secret key", b"salt 2")
    True
    """
    return hashlib.scrypt(key, salt=salt, n=2**14, r=8, p=1, maxmem=64 << 20, dklen=16).hex()


def scrub_text(text: str, raw_ids: frozenset[str] = frozenset()) -> tuple[str, dict[str, int]]:
    """Remove e-mail addresses, phone numbers, NIK numbers, addresses and raw ids from a string.

    Parameters
    ----------
    text : str
        Any text.
    raw_ids : frozenset of str
        Raw id values that must not appear as a word of the text.

    Returns
    -------
    text : str
        The text unchanged when nothing was found; else its normalised form
        (:func:`normalise_text`) with each finding replaced by ``[removed:KIND]``.
    counts : dict
        ``{kind: number removed}`` for kinds found.

    Notes
    -----
    Matching is done on the normalised text, ignoring case, so full-width digits, invisible
    characters, en dashes, non-breaking spaces, ``l``/``O`` typed for digits and e-mail
    obfuscations (``[at]``, ``(dot)``, ``＠``) hide nothing. Street addresses: ``Jl.``/``Jln.``
    and a name (and any house number), or ``Jalan``/``Gang``/``Gg.``, ``Komplek``,
    ``Perumahan``, ``Blok`` and a name with a house number, in any case, with or without
    dots; road talk without a number ("jalan rusak", "Dinas Jalan Raya") is left alone.
    Phone numbers: Indonesian mobile numbers in the +62 / 62 / 08 forms, Indonesian
    landlines (+62 21 .., (021) ..) and international +CC numbers, with any run of spaces,
    dots, hyphens or slashes between digit groups, letters allowed to touch them
    ("HP081234567890"), 8 to 15 digits in all. NIK: 16 digits, grouped in any way by the
    same separators. Numbers without one of those prefixes (ticket numbers, dates) are left
    alone.

    Examples
    --------
    >>> scrub_text("call 0812-3456-7890 or mail siti@example.id")
    ('call [removed:phone] or mail [removed:email]', {'email': 1, 'phone': 1})
    >>> scrub_text("NIK 3171234567890123, ticket REQ-9", frozenset({"REQ-9"}))
    ('NIK [removed:nik], ticket [removed:id]', {'nik': 1, 'id': 1})
    >>> scrub_text("lubang di Jl. Melati No. 5, jalan rusak")
    ('lubang di [removed:address], jalan rusak', {'address': 1})
    >>> scrub_text("HP08l2 - 3456 - 7890, budi [at] gmail [dot] com, GANG MAWAR NO 3")[0]
    'HP[removed:phone], [removed:email], [removed:address]'
    """
    normal = normalise_text(text)
    counts: dict[str, int] = {}
    for kind, pattern in PII_PATTERNS.items():

        def replace(match: re.Match[str], kind: str = kind) -> str:
            if kind == "phone" and not _plausible_phone(match.group(0)):
                return match.group(0)
            counts[kind] = counts.get(kind, 0) + 1
            return f"[removed:{kind}]"

        normal = pattern.sub(replace, normal)
    if raw_ids:

        def replace_id(match: re.Match[str]) -> str:
            token = match.group(0)
            if token in raw_ids or token.rstrip(".") in raw_ids:
                counts["id"] = counts.get("id", 0) + 1
                return "[removed:id]" + token[len(token.rstrip(".")) :]
            return token

        normal = _TOKEN.sub(replace_id, normal)
    return (normal if counts else text), counts


def scrub_name(name: object) -> str:
    """A column, key or file name as it may be shown: :func:`scrub_text` of its text.

    Examples
    --------
    >>> scrub_name("contacts/budi.santoso0@gmail.com")
    'contacts/[removed:email]'
    >>> scrub_name("laporan_081234567890.csv")
    'laporan_[removed:phone].csv'
    """
    return scrub_text(str(name))[0]


def scrub_record(record: Any, raw_ids: frozenset[str] = frozenset()) -> Any:
    """A JSON-like record (dicts, lists, strings, numbers) with every key and string scrubbed.

    Used on everything sekat writes as JSON or prints (the report, the manifest), so that a
    name in a column name, a file name or a JSON key leaves only in scrubbed form. Values
    under :data:`HASH_FIELDS` (hashes sekat made) are left as they are.

    Examples
    --------
    >>> scrub_record({"columns_not_read": {"log_0812-3456-7890.csv": ["a@b.co"]}, "sha256": "08123456789"})
    {'columns_not_read': {'log_[removed:phone].csv': ['[removed:email]']}, 'sha256': '08123456789'}
    """
    if isinstance(record, dict):
        scrubbed: dict[Any, Any] = {}
        for key, value in record.items():
            name = scrub_text(key, raw_ids)[0] if isinstance(key, str) else key
            if isinstance(key, str) and key in HASH_FIELDS:
                scrubbed[name] = value
            else:
                scrubbed[name] = scrub_record(value, raw_ids)
        return scrubbed
    if isinstance(record, list | tuple):
        return [scrub_record(item, raw_ids) for item in record]
    if isinstance(record, str):
        return scrub_text(record, raw_ids)[0]
    return record


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
    return Rarity(frame, below, by=by).rare(column)


class Rarity:
    """The rare text values of one log, counted once per column and remembered.

    A value is rare when fewer than ``below`` distinct requests hold it
    (:func:`rare_values`). ``sekat prepare`` asks the same question of the same log several
    times (the kept events, the quarantine, the report's unmapped values and agency names);
    a ``Rarity`` of the whole log answers all of them from one factorisation of the request
    ids and one per column, so every part treats a value the same way. The same codes serve a
    part of the log that :func:`pseudonymise` is given with its ``population_rows``: its
    columns are not coded again, and each distinct id is hashed once for all parts.

    Parameters
    ----------
    frame : pandas.DataFrame
        The log over which rarity is counted, with raw ids in ``by`` (rows are counted when
        ``by`` is absent).
    below : int
        Values held by fewer requests than this are rare; 0 or 1 finds none.
    by : str
        The column identifying a request.
    coded : dict, optional
        Columns of ``frame`` already coded, ``{column: (codes, distinct values)}``, as
        :func:`pandas.factorize` of their text gives them (:func:`toolkit.validate` leaves its
        codes in ``ValidationResult.codes``): they are not coded again.

    Examples
    --------
    >>> import pandas as pd
    >>> ev = pd.DataFrame({"case_id": ["r1", "r1", "r2", "r3"],
    ...                    "agency": ["Dinas PU", "Pak Budi", "Dinas PU", "Dinas PU"]})
    >>> rarity = Rarity(ev, below=2)
    >>> sorted(rarity.rare("agency")), sorted(rarity.present("agency"))
    (['Pak Budi'], ['Dinas PU', 'Pak Budi'])
    >>> sorted(rarity.raw_ids("case_id"))
    ['r1', 'r2', 'r3']
    """

    def __init__(
        self,
        frame: pd.DataFrame,
        below: int,
        by: str = schema.CASE_ID,
        coded: dict[str, tuple[np.ndarray, Any]] | None = None,
    ) -> None:
        self.frame = frame
        self.below = int(below)
        self.by = by
        self._coded: dict[str, tuple[np.ndarray, np.ndarray]] = {
            column: (np.asarray(codes, dtype=np.int64), _as_texts(uniques))
            for column, (codes, uniques) in (coded or {}).items()
        }
        self._rare: dict[str, frozenset[str]] = {}
        self._hashed: dict[tuple[str, bytes, str], pa.Array] = {}
        self._ids: dict[str, frozenset[str]] = {}

    def __contains__(self, column: object) -> bool:
        return column in self.frame.columns

    def codes(self, column: str) -> tuple[np.ndarray, np.ndarray]:
        """Integer codes of a column's values as text (-1 = missing) and its distinct texts."""
        if column not in self._coded:
            self._coded[column] = _distinct_codes(self.frame[column])
        return self._coded[column]

    def requests(self) -> np.ndarray | None:
        """Integer codes of the requests (made once), None when the log has no ``by``."""
        return self.codes(self.by)[0] if self.by in self.frame.columns else None

    def rare(self, column: str) -> frozenset[str]:
        """The values of ``column`` held by fewer than ``below`` requests."""
        if self.below <= 1 or column not in self.frame.columns or len(self.frame) == 0:
            return frozenset()
        if column not in self._rare:
            self._rare[column] = _rare_texts(*self.codes(column), self.requests(), self.below)
        return self._rare[column]

    def present(self, column: str) -> frozenset[str]:
        """The distinct values ``column`` holds (missing values aside)."""
        if column not in self.frame.columns:
            return frozenset()
        return _present_texts(*self.codes(column))

    def raw_ids(self, column: str, held: np.ndarray | None = None) -> frozenset[str]:
        """The distinct values of an id column, or those of them that ``held`` marks (a flag
        per distinct value, as :meth:`codes` orders them); the whole set is made once."""
        if column not in self._ids:
            self._ids[column] = frozenset(self.codes(column)[1])
        if held is None or held.all():
            return self._ids[column]
        return frozenset(self.codes(column)[1][held])

    def pseudonyms(self, column: str, key: bytes) -> pa.Array:
        """The pseudonym (as :func:`pseudonymise` makes it) of each distinct value of an id
        column, in the order of :meth:`codes`; hashed once per key."""
        slot = (column, key)
        if slot not in self._hashed:
            uniques = self.codes(column)[1]
            prefix = _PREFIX.get(column, _DEFAULT_PREFIX)
            self._hashed[slot] = pa.array(pseudonyms(uniques, key, prefix), type=pa.large_string())
        return self._hashed[slot]

    def pseudonym_order(self, column: str, key: bytes, rows: np.ndarray) -> np.ndarray:
        """Codes of the pseudonyms of ``column`` at ``rows`` whose order is the order of the
        pseudonyms themselves (equal pseudonyms, equal codes): what sorting the pseudonymised
        rows needs, from one sort of the distinct pseudonyms.

        Examples
        --------
        >>> import pandas as pd
        >>> ev = pd.DataFrame({"case_id": ["r1", "r2", "r1", "r3"]})
        >>> rarity, key = Rarity(ev, below=0), b"a long secret key, kept safe"
        >>> codes = rarity.pseudonym_order("case_id", key, np.arange(4))
        >>> anon = pseudonymise(ev, key=key)["case_id"]
        >>> bool((anon.rank(method="dense").to_numpy() - 1 == codes).all())
        True
        """
        hashed = self.pseudonyms(column, key)
        by_text = pc.sort_indices(hashed).to_numpy()
        ordered = hashed.take(pa.array(by_text))
        rank = np.empty(len(hashed), dtype=np.int64)
        if len(hashed):
            change = pc.not_equal(ordered.slice(1), ordered.slice(0, len(ordered) - 1))
            dense = np.r_[0, np.cumsum(change.to_numpy(zero_copy_only=False))]
            rank[by_text] = dense
        codes = self.codes(column)[0][rows]
        return np.where(codes >= 0, rank[codes], -1)


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
        # distinct pairs by one integer sort (faster than hashing them)
        pairs = np.sort(codes[both] * width + requests[both])
        pairs = pairs[np.r_[True, pairs[1:] != pairs[:-1]]] if len(pairs) else pairs
        held = np.bincount(pairs // width, minlength=len(uniques))
    return frozenset(str(v) for v in uniques[seen & (held < below)])


def _as_texts(uniques: Any) -> np.ndarray:
    """Distinct values as an object array of str (never iterated value by value from Arrow)."""
    if isinstance(uniques, np.ndarray) and uniques.dtype == object:
        return uniques
    return np.asarray(pd.Series(uniques).astype("str").to_numpy(), dtype=object)


def _distinct_codes(values: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """Integer codes of a column's values as text (-1 = missing) and the distinct texts."""
    if isinstance(values.dtype, pd.CategoricalDtype):
        codes = values.cat.codes.to_numpy().astype(np.int64)
        text = values.cat.categories.astype("str")
        # categories that read as the same text share one code
        first, uniques = pd.factorize(text)
        return np.append(first, -1)[codes], _as_texts(uniques)
    codes, uniques = pd.factorize(values.astype("str"))
    return codes.astype(np.int64), _as_texts(uniques)


def _present_texts(codes: np.ndarray, uniques: np.ndarray) -> frozenset[str]:
    """The distinct texts a coded column holds (missing values aside)."""
    seen = np.bincount(codes[codes >= 0], minlength=len(uniques)) > 0
    return frozenset(str(u) for u in uniques[seen])


def _union(sets: list[frozenset[str]]) -> frozenset[str]:
    """The union of sets, without copying the largest when it holds all the others."""
    sets = sorted(sets, key=len, reverse=True)
    union = sets[0] if sets else frozenset()
    for other in sets[1:]:
        if not other <= union:
            union = union | other
    return union


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
    population: pd.DataFrame | Rarity | None = None,
    population_rows: np.ndarray | None = None,
    fingerprint_salt: bytes = FINGERPRINT_SALT,
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
    population : pandas.DataFrame or Rarity, optional
        The events over which rarity is counted (raw ids in ``case_id``); default
        ``events`` itself. Pass the whole log when pseudonymising a part of it (the
        quarantine), so that a value is treated the same in every part; a :class:`Rarity`
        of it (with ``below == rare_below``) lets several calls share one count.
    population_rows : numpy.ndarray of int, optional
        With a :class:`Rarity` population: the position in its log of each row of
        ``events``, which are those rows with the same values in every column both hold
        (``validate(...).kept_rows`` for the clean events). The population's codes then serve
        every such column (none is coded again) and its ids are hashed once for all parts;
        the result is the same as without it.
    fingerprint_salt : bytes
        Salt of the key fingerprint in the report (:func:`key_fingerprint`).

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
    >>> anon = pseudonymise(ev, key=b"a long secret key, kept safe")
    >>> anon["case_id"].tolist()
    ['c_eebc76b53833fab777b2', 'c_eebc76b53833fab777b2']
    >>> anon["activity_raw"].tolist()
    ['opened [removed:id]', 'call [removed:phone]']
    >>> anon.attrs["privacy"]["dropped_columns"], anon.attrs["privacy"]["removed"]["phone"]
    (['citizen_name'], 1)

    A value held by fewer requests than ``rare_below`` loses its words, not its identity:

    >>> pseudonymise(ev, key=b"a long secret key, kept safe", rare_below=2)["agency"].str[:2].tolist()
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

    removed = {kind: 0 for kind in (*PII_PATTERNS, "id", "rare_value")}
    rare_counted: dict[str, int] = {}
    if isinstance(population, Rarity):
        if population.below != int(rare_below) and rare_below > 1:
            raise ValueError(
                f"the Rarity counts below {population.below}, not rare_below={rare_below}"
            )
        rarity = population
    else:
        if population_rows is not None:
            raise ValueError("population_rows needs a Rarity as the population")
        rarity = Rarity(events if population is None else population, rare_below)

    def coded(column: str) -> tuple[np.ndarray, np.ndarray]:
        """The frame's codes of a column and their texts, from the population when it has them."""
        if population_rows is not None and column in rarity:
            codes, uniques = rarity.codes(column)
            return codes[population_rows], uniques
        return _distinct_codes(frame[column])

    id_sets: list[frozenset[str]] = []
    pseudonymised: dict[str, int] = {}
    for column in id_columns:
        # Each distinct id is hashed once; the rows take their pseudonym by integer code.
        codes, uniques = coded(column)
        prefix = _PREFIX.get(column, _DEFAULT_PREFIX)
        if population_rows is not None and column in rarity:
            hashed = rarity.pseudonyms(column, secret)
            held = np.bincount(codes[codes >= 0], minlength=len(uniques)) > 0
            id_sets.append(rarity.raw_ids(column, held))
            pseudonymised[column] = int(held.sum())
        else:
            hashed = pa.array(pseudonyms(uniques, secret, prefix), type=pa.large_string())
            id_sets.append(frozenset(uniques))
            pseudonymised[column] = len(uniques)
        frame[column] = pd.Series(
            hashed.take(pa.array(codes, mask=codes < 0)), index=frame.index, dtype="str"
        )
    extra = extra_ids if isinstance(extra_ids, frozenset) else frozenset(map(str, extra_ids))
    ids = _union([*id_sets, extra])
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
            category_codes = frame[column].cat.codes.to_numpy().astype(np.int64)
            used = np.bincount(category_codes + 1, minlength=len(dtype.categories) + 1)
            if not used[1:].all():
                frame[column] = frame[column].cat.remove_unused_categories()
        column_codes = coded(column)
        rare: frozenset[str] = frozenset()
        if rare_below > 1 and column not in _NOT_LOG_TEXT:
            held = _present_texts(*column_codes)
            # A value the population lacks is held by no request of it: rare.
            if column in rarity:
                common = (held - rarity.rare(column)) & rarity.present(column)
            else:
                common = frozenset()
            rare = held - common
        frame[column], found = _scrub_column(frame[column], ids, rare, secret, column_codes)
        if rare:
            rare_counted[str(column)] = len(rare)
        if found:
            by_column[str(column)] = dict(sorted(found.items()))
            for kind, n in found.items():
                removed[kind] += n

    frame.attrs[PRIVACY_ATTR] = {
        "key_source": source,
        "key_fingerprint": key_fingerprint(secret, fingerprint_salt),
        "pseudonym_hex_chars": PSEUDONYM_HEX_CHARS,
        "pseudonymised": pseudonymised,
        "dropped_columns": dropped,
        "removed": dict(sorted(removed.items())),
        "removed_by_column": by_column,
        "rare_below": int(rare_below),
        "rare_values": rare_counted,
    }
    return frame
