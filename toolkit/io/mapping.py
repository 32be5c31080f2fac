"""How a log's own vocabulary maps onto the canonical event-log contract.

A :class:`Mapping` tells :func:`toolkit.io.readers.read_events` which of a file's columns are the
canonical ones, how the log spells its channels, activities and agencies, which extra columns to
keep, and in which time zone naive timestamps were written. It can be built in Python, loaded
from a small TOML file with :func:`load_mapping`, or taken by name from the registry
:data:`toolkit.io.presets.PRESETS` (``preset="sekat"``). Presets for exports that are not one row per event (XES, city 311
request lists) plug in through :attr:`Mapping.format` and :attr:`Mapping.transform`, so callers
never change.

A mapping file looks like this::

    source_tz = "Asia/Jakarta"
    keep = ["kelurahan"]

    [columns]            # source column -> canonical column
    ticket = "case_id"
    created = "timestamp"

    [channels]           # raw value -> channel (matching ignores case and spacing)
    "Twitter @lapor1708" = "twitter"
    Loket = "walk_in"

    [activities]         # raw activity name -> lifecycle activity
    "T02 Check confirmation of receipt" = "acknowledged"

    [agencies]           # alias -> canonical agency name
    "Dinas PU" = "Dinas Pekerjaan Umum"

A log of one row per request (a city 311 export) names its opening and closing columns in a
``[request]`` section; each row then becomes a ``submitted`` event at the opening time and a
``closed`` event at the closing time (none while the request is open), hops are unobserved::

    [columns]
    ticket = "case_id"
    department = "agency"

    [request]
    opened = "created"      # when the request came in (required)
    closed = "closed"       # when it was closed; blank = still open (censored)
    target = "due"          # the service target (optional): kept as target_at

A log without an intake channel says so with ``channel = "other"`` (or names the one channel
every request came in by, ``channel = "phone"``). Units written as placeholders (``no_agency =
["EMPTY"]``) and events without a unit take the unit that held the request before
(``carry_agency = true``), so that a blank is never counted as a hand-off.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Callable
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

import pandas as pd

from toolkit import schema
from toolkit.errors import SekatError

__all__ = [
    "CHANNEL_ALIASES",
    "Mapping",
    "TOML_SCALARS",
    "TOML_SECTIONS",
    "load_mapping",
    "mapping_from_dict",
    "REQUEST_ROLES",
    "normalise_label",
]

_SEPARATORS = re.compile(r"[\s_\-]+")


def normalise_label(value: str) -> str:
    """Fold a vocabulary value for matching: lower case, one space between words.

    Parameters
    ----------
    value : str
        A raw channel, activity or agency spelling.

    Returns
    -------
    str
        The value in lower case, stripped, with runs of spaces, hyphens and underscores
        turned into one space.

    Examples
    --------
    >>> normalise_label("  Walk-In ")
    'walk in'
    >>> normalise_label("walk_in") == normalise_label("WALK IN")
    True
    """
    return _SEPARATORS.sub(" ", str(value).strip().lower()).strip()


#: Common spellings of the intake channels, so that most logs need no channel mapping at all.
#: Keys are matched after :func:`normalise_label`; canonical channel names map to themselves.
CHANNEL_ALIASES: dict[str, str] = {
    # social
    "x": "twitter",
    "tweet": "twitter",
    "twitter/x": "twitter",
    "x/twitter": "twitter",
    "fb": "facebook",
    "facebook messenger": "facebook",
    "messenger": "facebook",
    "ig": "instagram",
    "insta": "instagram",
    "wa": "whatsapp",
    "whats app": "whatsapp",
    "whatsapp business": "whatsapp",
    # digital
    "website": "web",
    "web form": "web",
    "online form": "web",
    "online": "web",
    "portal": "web",
    "internet": "web",
    "web self service": "web",
    "self service": "web",
    "mobile app": "app",
    "application": "app",
    "aplikasi": "app",
    "mobile": "app",
    "e mail": "email",
    "surel": "email",
    "text": "sms",
    "text message": "sms",
    # traditional
    "telephone": "phone",
    "telepon": "phone",
    "call": "phone",
    "call center": "phone",
    "call centre": "phone",
    "hotline": "phone",
    "voice": "phone",
    "voice in": "phone",
    "walkin": "walk_in",
    "in person": "walk_in",
    "counter": "walk_in",
    "loket": "walk_in",
    "desk": "walk_in",
    "front desk": "walk_in",
    "service desk": "walk_in",
    "datang langsung": "walk_in",
    "surat": "letter",
    "post": "letter",
    "postal": "letter",
    "mail letter": "letter",
}


#: Roles of a ``[request]`` section: the column of each (``opened`` is required).
REQUEST_ROLES = ("opened", "closed", "target")


@dataclass(frozen=True)
class Mapping:
    """How one log's columns and vocabularies map onto the canonical contract.

    Parameters
    ----------
    columns : dict
        ``{source column: canonical column}``. Source columns are matched exactly first, then
        ignoring case and surrounding spaces. Columns already named canonically need no entry.
    channels : dict
        ``{raw channel value: channel}``; matched after :func:`normalise_label`. Values already
        in :data:`toolkit.schema.CHANNELS` and those in :data:`CHANNEL_ALIASES` need no entry.
    activities : dict
        ``{raw activity name: lifecycle activity}``; matched after :func:`normalise_label`.
        Names already in :data:`toolkit.schema.ACTIVITIES` need no entry.
    agencies : dict
        ``{alias: canonical agency}``; matched ignoring case and spacing.
    keep : tuple of str
        Extra (non-canonical) columns to carry along; every other column is dropped on reading.
    source_tz : str or None
        Time zone of naive timestamps; None means the ``source_tz`` argument of the reader.
    dayfirst : bool
        How to read ambiguous day/month dates that are not ISO 8601 (``05/01/2024``).
    encoding : str
        Text encoding of CSV files. UTF-8 by default; a file that is not valid UTF-8 is an
        error unless another encoding is named here explicitly (e.g. ``"cp1252"``).
    format : str or None
        File format name from the reader registry; None detects it from the content.
    transform : callable or None
        Reshapes the raw frame (all columns as strings) before columns are renamed; presets of
        exports that hold one row per request use it to turn each row into events.
    name : str or None
        Preset name, for reports and manifests.
    request : dict
        ``{role: source column}`` for a log of one row per request: ``opened`` (required),
        ``closed`` and ``target`` (see the module docstring). Turned into a transform by
        :func:`toolkit.io.presets.resolve_mapping`.
    channel : str or None
        One channel for every request, whatever the file holds: ``"other"`` says the log
        records no intake channel. The report then says the channel was not observed.
    default_channel : str or None
        The channel of every request when the file has *no* channel column (the ``xes`` preset
        sets ``"other"``: most process-mining logs record none); a column, when present, wins.
    no_agency : tuple of str
        Unit values that mean "no unit recorded" (placeholders such as ``EMPTY``); read as
        missing. Matched ignoring case and spacing.
    carry_agency : bool
        An event without a unit takes the unit of the request's previous event (the first
        events of a request, before any unit, take its first unit): the request stays where
        it was, so a blank is never a hand-off. Without it such events are quarantined
        (``missing_agency``).

    Examples
    --------
    >>> m = Mapping(columns={"ticket": "case_id"}, channels={"Loket": "walk_in"})
    >>> m.columns["ticket"], m.source_tz is None
    ('case_id', True)
    """

    columns: dict[str, str] = field(default_factory=dict)
    channels: dict[str, str] = field(default_factory=dict)
    activities: dict[str, str] = field(default_factory=dict)
    agencies: dict[str, str] = field(default_factory=dict)
    keep: tuple[str, ...] = ()
    source_tz: str | None = None
    dayfirst: bool = False
    encoding: str = "utf-8"
    format: str | None = None
    transform: Callable[[pd.DataFrame], pd.DataFrame] | None = field(default=None, compare=False)
    name: str | None = None
    request: dict[str, str] = field(default_factory=dict)
    channel: str | None = None
    default_channel: str | None = None
    no_agency: tuple[str, ...] = ()
    carry_agency: bool = False

    def __post_init__(self) -> None:
        object.__setattr__(self, "keep", tuple(self.keep))
        object.__setattr__(self, "no_agency", tuple(self.no_agency))
        for key in ("channel", "default_channel"):
            value = getattr(self, key)
            if value is not None and value not in schema.CHANNELS:
                raise SekatError(
                    f"mapping {key} = {value!r} is not a channel "
                    f"(expected one of {', '.join(schema.CHANNELS)})"
                )
        unknown_roles = sorted(set(self.request) - set(REQUEST_ROLES))
        if unknown_roles:
            raise SekatError(
                f"mapping [request] names {', '.join(map(repr, unknown_roles))}; expected "
                f"{', '.join(REQUEST_ROLES)}"
            )
        if self.request and "opened" not in self.request:
            raise SekatError(
                'mapping [request] needs opened = "<column>" (when each request came in)'
            )
        if not isinstance(self.carry_agency, bool):
            raise SekatError("mapping carry_agency must be true or false")
        for target in self.columns.values():
            if target not in schema.CANONICAL_COLUMNS:
                raise SekatError(
                    f"mapping [columns] names {target!r}, which is not a canonical column "
                    f"(expected one of {', '.join(schema.CANONICAL_COLUMNS)})"
                )
        for raw, channel in self.channels.items():
            if channel not in schema.CHANNELS:
                raise SekatError(
                    f"mapping [channels] maps {raw!r} to {channel!r}, which is not a channel "
                    f"(expected one of {', '.join(schema.CHANNELS)})"
                )
        for raw, activity in self.activities.items():
            if activity not in schema.ACTIVITIES:
                raise SekatError(
                    f"mapping [activities] maps {raw!r} to {activity!r}, which is not a "
                    f"lifecycle activity (expected one of {', '.join(schema.ACTIVITIES)})"
                )

    def channel_table(self) -> dict[str, str]:
        """Normalised raw channel -> channel: canonical names, built-in aliases, then the user's.

        Examples
        --------
        >>> Mapping(channels={"Loket Kelurahan": "walk_in"}).channel_table()["loket kelurahan"]
        'walk_in'
        >>> Mapping().channel_table()["wa"]
        'whatsapp'
        """
        table = {normalise_label(c): c for c in schema.CHANNELS}
        table.update({normalise_label(k): v for k, v in CHANNEL_ALIASES.items()})
        table.update({normalise_label(k): v for k, v in self.channels.items()})
        return table

    def activity_table(self) -> dict[str, str]:
        """Normalised raw activity -> lifecycle activity: canonical names, then the user's.

        Examples
        --------
        >>> Mapping(activities={"Queued": "submitted"}).activity_table()["queued"]
        'submitted'
        """
        table = {normalise_label(a): a for a in schema.ACTIVITIES}
        table.update({normalise_label(k): v for k, v in self.activities.items()})
        return table

    def agency_table(self) -> dict[str, str]:
        """Normalised alias -> canonical agency name.

        Examples
        --------
        >>> Mapping(agencies={"Dinas PU": "Dinas Pekerjaan Umum"}).agency_table()
        {'dinas pu': 'Dinas Pekerjaan Umum'}
        """
        return {normalise_label(k): v for k, v in self.agencies.items()}

    def to_dict(self) -> dict[str, Any]:
        """The mapping as plain data (for manifests); a transform is named, not serialised.

        Examples
        --------
        >>> Mapping(name="sekat").to_dict()["name"]
        'sekat'
        """
        out: dict[str, Any] = {}
        for f in fields(self):
            value = getattr(self, f.name)
            if f.name == "transform":
                value = None if value is None else getattr(value, "__qualname__", repr(value))
            elif isinstance(value, tuple):
                value = list(value)
            elif isinstance(value, dict):
                value = dict(sorted(value.items()))
            out[f.name] = value
        return out


TOML_SECTIONS = ("columns", "channels", "activities", "agencies", "request")
TOML_SCALARS = (
    "keep",
    "source_tz",
    "dayfirst",
    "encoding",
    "format",
    "name",
    "channel",
    "no_agency",
    "carry_agency",
)


def mapping_from_dict(data: dict[str, Any], *, source: str | None = None) -> Mapping:
    """Build a :class:`Mapping` from plain data (a parsed TOML file or a dict).

    Parameters
    ----------
    data : dict
        Sections ``columns``, ``channels``, ``activities``, ``agencies``, ``request`` (tables
        of strings) and keys ``keep``, ``source_tz``, ``dayfirst``, ``encoding``, ``format``,
        ``name``, ``channel``, ``no_agency``, ``carry_agency``.
    source : str, optional
        File the data came from, named in errors.

    Returns
    -------
    Mapping

    Examples
    --------
    >>> mapping_from_dict({"columns": {"ticket": "case_id"}, "keep": ["ward"]}).keep
    ('ward',)
    """
    unknown = sorted(set(data) - set(TOML_SECTIONS) - set(TOML_SCALARS))
    if unknown:
        raise SekatError(
            f"unknown mapping key(s) {', '.join(map(repr, unknown))}; expected sections "
            f"{', '.join(TOML_SECTIONS)} and keys {', '.join(TOML_SCALARS)}",
            file=source,
        )
    kwargs: dict[str, Any] = {}
    for section in TOML_SECTIONS:
        table = data.get(section, {})
        if not isinstance(table, dict) or not all(
            isinstance(k, str) and isinstance(v, str) for k, v in table.items()
        ):
            raise SekatError(f"mapping [{section}] must be a table of strings", file=source)
        kwargs[section] = dict(table)
    for key in TOML_SCALARS:
        if key in data:
            kwargs[key] = data[key]
    for key in ("keep", "no_agency"):
        if not isinstance(kwargs.get(key, []), list | tuple):
            raise SekatError(f"mapping '{key}' must be a list of strings", file=source)
    try:
        return Mapping(**kwargs)
    except SekatError as err:
        raise SekatError(str(err), file=source) from None


def load_mapping(path: str | Path) -> Mapping:
    """Read a mapping from a TOML file.

    Parameters
    ----------
    path : str or path-like
        A TOML file with the sections described in this module's docstring.

    Returns
    -------
    Mapping

    Raises
    ------
    SekatError
        If the file is missing, is not valid TOML or names unknown keys, columns, channels or
        activities; the message names the file.

    Examples
    --------
    >>> import pathlib, tempfile
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "m.toml"
    >>> _ = p.write_text('[columns]\\nticket = "case_id"\\n')
    >>> load_mapping(p).columns
    {'ticket': 'case_id'}
    """
    path = Path(path)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise SekatError("mapping file does not exist", file=str(path)) from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as err:
        raise SekatError(f"not a valid TOML mapping file ({err})", file=str(path)) from None
    return mapping_from_dict(data, source=str(path))
