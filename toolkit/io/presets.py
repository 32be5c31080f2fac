"""Presets for city 311 and Open311 exports: one row per request turned into events.

Cities publish their service requests as one row per request: when it was opened, when it was
closed, the agency responsible *at the end*, how it came in, what it was about. Such a row is
not a path. Each preset here names the columns a city has published (in every spelling seen:
``Unique Key`` in the CSV export and ``unique_key`` in the open-data API are one column), the
city's time zone and how its intake channels map onto sekat's, and its transform turns every
row into events: ``submitted`` at the opening time and ``closed`` at the closing time when
there is one, both at the responsible agency, with ``hops_observed`` False.

Hops are therefore *unobserved*, not zero: :func:`toolkit.paths.case_table` leaves ``hops``,
``distinct_agencies``, ``returns`` and ``path`` missing for these requests and the prepare
report says ``"hops_observed": false``. Resolution times are observed (open to close, censored
while open), so the survival analyses run as on any log.

:data:`PRESETS` is the registry of every named layout (these, ``sekat`` and ``xes``), and
:func:`resolve_mapping` lays a user's mapping over one of them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from toolkit import schema
from toolkit.errors import MissingColumnError, SekatError
from toolkit.io.mapping import (
    Mapping,
    load_mapping,
    mapping_from_dict,
)

__all__ = [
    "CITY_PRESETS",
    "PRESETS",
    "RequestExport",
    "fold_column_name",
    "resolve_mapping",
]

_NOT_ALNUM = re.compile(r"[^0-9a-z]+")


def fold_column_name(name: str) -> str:
    """Fold a published column name so that a city's spellings of it compare equal.

    Parameters
    ----------
    name : str
        A column name as published (``"Unique Key"``, ``"unique_key"``, ``"CASE_ENQUIRY_ID"``).

    Returns
    -------
    str
        Lower case letters and digits only.

    Examples
    --------
    >>> fold_column_name("Unique Key") == fold_column_name("unique_key")
    True
    >>> fold_column_name("CASE_ENQUIRY_ID")
    'caseenquiryid'
    """
    return _NOT_ALNUM.sub("", str(name).lower())


@dataclass(frozen=True)
class RequestExport:
    """The layout of a one-row-per-request export, and the transform that turns it into events.

    Each field lists the column names the export has used for that role, most usual first
    (names compare after :func:`fold_column_name`); a row takes the first non-blank value
    among those present in the file.

    Parameters
    ----------
    name : str
        Preset name.
    case_id, opened, agency : tuple of str
        Required roles: request id, opening time, responsible agency.
    closed : tuple of str
        Closing time; a request without one is still open (censored).
    channel, category, region : tuple of str
        Optional roles: intake channel, request type, coarse area (never an address).
    status : tuple of str
        Status column; only read when ``closed_status`` is set.
    closed_status : tuple of str
        For exports without a closing time (Open311): the status values meaning closed.
    missing_channels : tuple of str
        Channel values that mean "not recorded" (read as missing, not as a channel).
    target : tuple of str
        The service target (the date by which the city means to close the request, Boston's
        ``TARGET_DT``); carried on every event of the request as ``target_at``.
    keep : tuple of str
        Further columns carried as they are (a mapping's ``keep``).

    Examples
    --------
    >>> export = RequestExport(name="mini", case_id=("id",), opened=("open",),
    ...                        agency=("dept",), closed=("close",))
    >>> raw = pd.DataFrame({"ID": ["r1"], "Open": ["2024-01-05 08:00"],
    ...                     "Close": ["2024-01-06 08:00"], "Dept": ["PW"]})
    >>> export(raw)[["case_id", "timestamp", "activity", "hops_observed"]].values.tolist()
    [['r1', '2024-01-05 08:00', 'submitted', False], ['r1', '2024-01-06 08:00', 'closed', False]]
    """

    name: str
    case_id: tuple[str, ...]
    opened: tuple[str, ...]
    agency: tuple[str, ...]
    closed: tuple[str, ...] = ()
    channel: tuple[str, ...] = ()
    category: tuple[str, ...] = ()
    region: tuple[str, ...] = ()
    status: tuple[str, ...] = ()
    closed_status: tuple[str, ...] = ()
    missing_channels: tuple[str, ...] = field(default=("unknown", "n/a", "na", "none"))
    target: tuple[str, ...] = ()
    keep: tuple[str, ...] = ()

    def __repr__(self) -> str:  # named in manifests: must not depend on memory addresses
        return f"RequestExport({self.name!r})"

    def _columns(self, raw: pd.DataFrame, names: tuple[str, ...]) -> list[str]:
        folded: dict[str, str] = {}
        for column in raw.columns:
            folded.setdefault(fold_column_name(column), column)
        found = [folded.get(fold_column_name(name)) for name in names]
        return list(dict.fromkeys(c for c in found if c is not None))

    def wants(self, column: str) -> bool:
        """Whether a file column can fill one of this layout's roles (loaders skip the rest).

        Examples
        --------
        >>> NYC311.wants("unique_key"), NYC311.wants("Incident Address")
        (True, False)
        """
        folded = fold_column_name(column)
        roles = (
            self.case_id, self.opened, self.agency, self.closed, self.channel, self.category,
            self.region, self.status, self.target, self.keep,
        )  # fmt: skip
        return any(folded == fold_column_name(name) for names in roles for name in names)

    def roles(self, raw: pd.DataFrame) -> dict[str, str]:
        """``{role: column}``: the column of ``raw`` that fills each role (the first found).

        Examples
        --------
        >>> NYC311.roles(pd.DataFrame(columns=["Unique Key", "Descriptor", "Agency"]))
        {'case_id': 'Unique Key', 'agency': 'Agency'}
        """
        found = {}
        for role in ("case_id", "opened", "closed", "agency", "channel", "category", "region",
                     "target"):  # fmt: skip
            columns = self._columns(raw, getattr(self, role))
            if columns:
                found[role] = columns[0]
        return found

    def columns_used(self, raw: pd.DataFrame) -> list[str]:
        """The columns of ``raw`` this layout reads (every other column is left out).

        Examples
        --------
        >>> NYC311.columns_used(pd.DataFrame(columns=["Unique Key", "Descriptor", "Agency"]))
        ['Unique Key', 'Agency']
        """
        roles = (
            self.case_id, self.opened, self.agency, self.closed, self.channel, self.category,
            self.region, self.status if self.closed_status else (), self.target, self.keep,
        )  # fmt: skip
        return list(dict.fromkeys(c for names in roles for c in self._columns(raw, names)))

    def _take(self, raw: pd.DataFrame, names: tuple[str, ...]) -> pd.Series | None:
        """The first non-blank value among the role's columns present, row by row."""
        columns = self._columns(raw, names)
        if not columns:
            return None
        values = None
        for column in columns:
            text = raw[column].astype("str").str.strip()
            text = text.where(text != "")
            values = text if values is None else values.fillna(text)
        return values

    def __call__(self, raw: pd.DataFrame) -> pd.DataFrame:
        """Turn one row per request into events (see the module docstring)."""
        found = {}
        for role in ("case_id", "opened", "agency"):
            column = self._take(raw, getattr(self, role))
            if column is None:
                names = " or ".join(repr(n) for n in getattr(self, role))
                every = [str(c) for c in raw.columns if c != schema.SOURCE_ROW]
                every += [str(c) for c in raw.attrs.get(schema.IGNORED_COLUMNS_ATTR, [])]
                listed = ", ".join(repr(c) for c in every)
                who = (
                    f"the {self.name} preset"
                    if self.name in CITY_PRESETS
                    else "the mapping's [request] layout"
                )
                raise MissingColumnError(
                    f"{who} needs a {role} column ({names}), not found; "
                    f"columns found: {listed or 'none'}",
                    column=getattr(self, role)[0],
                )
            found[role] = column
        n = len(raw)

        def take(role: str) -> pd.Series | None:
            return self._take(raw, getattr(self, role))

        requests = pd.DataFrame(
            {schema.CASE_ID: found["case_id"], schema.AGENCY: found["agency"]},
            index=raw.index,
        )
        channel = take("channel")
        if channel is not None:
            unrecorded = channel.str.strip().str.lower().isin(self.missing_channels)
            channel = channel.where(~unrecorded)
        requests[schema.CHANNEL] = (
            channel if channel is not None else pd.Series(pd.NA, index=raw.index, dtype="str")
        )
        for role in (schema.CATEGORY, schema.REGION):
            values = take(role)
            if values is not None:
                requests[role] = values
        target = take("target")
        if target is not None:
            requests[schema.TARGET_AT] = target
        for extra in self.keep:
            (column,) = self._columns(raw, (extra,)) or (None,)
            if column is not None:
                requests[extra] = raw[column]
        requests[schema.HOPS_OBSERVED] = False
        requests[schema.SOURCE_ROW] = (
            raw[schema.SOURCE_ROW].to_numpy()
            if schema.SOURCE_ROW in raw
            else np.arange(n, dtype=np.int64)
        )

        opened = found["opened"]
        closed = take("closed")
        if self.closed_status:
            status = take("status")
            is_closed = (
                status.str.strip().str.lower().isin(self.closed_status)
                if status is not None
                else pd.Series(False, index=raw.index)
            )
            closed = closed.where(is_closed) if closed is not None else None
        if closed is None:
            closed = pd.Series(pd.NA, index=raw.index, dtype="str")
        has_close = closed.str.strip().fillna("") != ""

        opening = requests.assign(**{schema.TIMESTAMP: opened, schema.ACTIVITY: schema.SUBMITTED})
        closing = requests[has_close].assign(
            **{schema.TIMESTAMP: closed[has_close], schema.ACTIVITY: schema.CLOSED}
        )
        # Interleave: each request's opening row, then its closing row (ties keep this order).
        opening["_order"] = np.arange(n) * 2
        closing["_order"] = np.flatnonzero(has_close.to_numpy()) * 2 + 1
        events = pd.concat([opening, closing], ignore_index=True)
        events = events.sort_values("_order", kind="stable").drop(columns="_order")
        return events.reset_index(drop=True)


def _channels(groups: dict[str, tuple[str, ...]]) -> dict[str, str]:
    return {raw: channel for channel, spellings in groups.items() for raw in spellings}


#: Open311 GeoReport v2 request lists (``requests.json`` or ``requests.xml``). The standard
#: has no intake-channel and no closing-time field: a request whose ``status`` is ``closed``
#: is closed at its ``updated_datetime`` (or at an extension field ``closed_datetime`` when a
#: city adds one); a ``channel`` or ``source`` extension is read when present. Timestamps
#: carry offsets.
OPEN311 = RequestExport(
    name="open311",
    case_id=("service_request_id", "token"),
    opened=("requested_datetime",),
    closed=("closed_datetime", "updated_datetime"),
    agency=("agency_responsible", "service_name"),
    channel=("channel", "source"),
    category=("service_name", "service_code"),
    status=("status",),
    closed_status=("closed",),
)

#: NYC 311 Service Requests (NYC Open Data, 2010 to present): the CSV export's ``Unique Key``,
#: ``Created Date``... and the API's ``unique_key``, ``created_date``...
NYC311 = RequestExport(
    name="nyc311",
    case_id=("Unique Key",),
    opened=("Created Date",),
    closed=("Closed Date",),
    agency=("Agency", "Agency Name"),
    channel=("Open Data Channel Type",),
    category=("Complaint Type",),
    region=("Borough",),
)

#: Boston 311 Service Requests (Analyze Boston; CRM exports ``case_enquiry_id``/``open_dt``
#: and the later ``case_id``/``open_date`` layout). The agency is the department, else the
#: queue; the category is the ``reason`` (coarser than ``type``); the region the neighborhood.
BOSTON311 = RequestExport(
    name="boston311",
    case_id=("case_enquiry_id", "case_id"),
    opened=("open_dt", "open_date"),
    closed=("closed_dt", "close_date", "closed_date"),
    agency=("department", "queue"),
    channel=("source",),
    category=("reason", "type"),
    region=("neighborhood",),
    target=("target_dt", "sla_target_dt"),
)

#: San Francisco 311 Cases (DataSF): ``CaseID``, ``Opened``, ``Closed``, ``Responsible
#: Agency``, ``Source``... and the API's ``service_request_id``, ``requested_datetime``...
SF311 = RequestExport(
    name="sf311",
    case_id=("CaseID", "Case ID", "service_request_id"),
    opened=("Opened", "requested_datetime"),
    closed=("Closed", "closed_date"),
    agency=("Responsible Agency", "agency_responsible"),
    channel=("Source",),
    category=("Category", "service_name"),
    region=("Neighborhood", "analysis_neighborhood", "neighborhoods_sffind_boundaries"),
)

#: Los Angeles MyLA311 Service Request Data (data.lacity.org, 2015 to present): ``SRNumber``,
#: ``CreatedDate``, ``ClosedDate``; the agency is the ``Owner`` (the department, BOS = Bureau
#: of Sanitation), else ``AssignTo`` (its sub-unit); the category the ``RequestType``; the
#: region the council district ``CD`` (15 districts, coarser than the neighbourhood councils).
LA311 = RequestExport(
    name="la311",
    case_id=("SRNumber", "srnumber"),
    opened=("CreatedDate", "createddate"),
    closed=("ClosedDate", "closeddate"),
    agency=("Owner", "AssignTo"),
    channel=("RequestSource",),
    category=("RequestType",),
    region=("CD", "Council District", "NCName"),
)

_CITY_CHANNELS = _channels(
    {
        "twitter": ("Twitter", "Tweet"),
        "facebook": ("Facebook",),
        "phone": ("PHONE", "Phone", "Constituent Call", "Voice In", "Call", "Voicemail"),
        "app": (
            "MOBILE",
            "Citizens Connect App",
            "BOS:311 App",
            "Mobile/Open311",
            "Open311",
            "Mobile",
        ),
        "web": ("ONLINE", "Self Service", "Web Self Service", "Web", "Online"),
        "email": ("Email", "e-mail", "E-Mail", "e-mail In", "Email In"),
        "walk_in": ("Walk In", "Walk-In", "In Person"),
        "letter": ("Mail In", "Mail", "Letter"),
        "other": (
            "OTHER",
            "Employee Generated",
            "City Worker App",
            "Maximo Integration",
            "Integrated Agency",
            "Other Department",
            "Internal",
            # MyLA311: requests raised by city staff, not by a citizen's channel.
            "Driver Self Report",
            "Self Report",
            "Council's Office",
        ),
    }
)

#: name -> (layout, IANA time zone of naive timestamps, day first in non-ISO dates).
CITY_PRESETS: dict[str, tuple[RequestExport, str | None, bool]] = {
    "open311": (OPEN311, None, False),
    "nyc311": (NYC311, "America/New_York", False),
    "boston311": (BOSTON311, "America/New_York", False),
    "sf311": (SF311, "America/Los_Angeles", False),
    "la311": (LA311, "America/Los_Angeles", False),
}

#: Named mappings for known log layouts: ``sekat`` (the canonical layout itself), ``xes`` and the
#: city exports of :data:`CITY_PRESETS` (open311, nyc311, boston311, sf311, la311).
PRESETS: dict[str, Mapping] = {
    "sekat": Mapping(name="sekat"),
    # XES logs, and CSV exports flattened the PM4Py way (trace attributes as "case:<key>").
    "xes": Mapping(
        name="xes",
        columns={
            "case:concept:name": schema.CASE_ID,
            "time:timestamp": schema.TIMESTAMP,
            "org:group": schema.AGENCY,
            "concept:name": schema.ACTIVITY,
            "case:channel": schema.CHANNEL,
            "case:category": schema.CATEGORY,
            "case:region": schema.REGION,
        },
        # Most process-mining logs (the BPI Challenge logs) record no intake channel.
        default_channel=schema.UNKNOWN_CHANNEL,
        # OpenXES writes these for an event whose unit was not recorded (WABO's org:group
        # "EMPTY"; "UNKNOWN" is the usual global default): the request stays where it was.
        no_agency=("EMPTY", "UNKNOWN"),
        carry_agency=True,
    ),
}


def resolve_mapping(
    mapping: Mapping | dict[str, Any] | str | Path | None = None, preset: str | None = None
) -> Mapping:
    """Combine a preset and a user mapping into the one mapping a reader uses.

    Parameters
    ----------
    mapping : Mapping, dict, path or None
        A mapping object, plain data, or the path of a TOML file. Its non-empty sections are
        laid over the preset's (user entries win).
    preset : str, optional
        A key of :data:`PRESETS`.

    Returns
    -------
    Mapping

    Examples
    --------
    >>> resolve_mapping({"channels": {"Loket": "walk_in"}}, preset="sekat").name
    'sekat'
    """
    if preset is not None:
        if preset not in PRESETS:
            raise SekatError(
                f"unknown preset {preset!r}; known presets: {', '.join(sorted(PRESETS))}"
            )
        base = PRESETS[preset]
    else:
        base = Mapping()
    if mapping is None:
        return base
    if isinstance(mapping, str | Path):
        user = load_mapping(mapping)
    elif isinstance(mapping, dict):
        user = mapping_from_dict(mapping)
    elif isinstance(mapping, Mapping):
        user = mapping
    else:
        raise SekatError(f"mapping must be a Mapping, a dict or a TOML path, not {type(mapping)}")
    changes: dict[str, Any] = {}
    for section in ("channels", "activities", "agencies"):
        changes[section] = {**getattr(base, section), **getattr(user, section)}
    # [columns]: a user's entry wins over the preset's entry for the same target.
    targets = set(user.columns.values())
    columns = dict(user.columns)
    for source, target in base.columns.items():
        if target not in targets and source not in columns:
            columns[source] = target
    changes["columns"] = columns
    changes["request"] = {**base.request, **user.request}
    changes["keep"] = tuple(dict.fromkeys(base.keep + user.keep))
    changes["no_agency"] = tuple(dict.fromkeys(base.no_agency + user.no_agency))
    default = Mapping()
    for key in (
        "source_tz", "dayfirst", "encoding", "format", "transform", "channel", "default_channel",
    ):  # fmt: skip
        if getattr(user, key) != getattr(default, key):
            changes[key] = getattr(user, key)
    changes["name"] = base.name or user.name
    if user.carry_agency:
        changes["carry_agency"] = True
    merged = replace(base, **changes)
    return _request_layout(merged, user)


def _request_layout(mapping: Mapping, user: Mapping) -> Mapping:
    """A mapping whose one-row-per-request layout follows the user's [columns] and [request].

    A user's ``[request]`` section builds a :class:`RequestExport` from the mapping's
    ``[columns]`` (the source columns of case_id, agency, channel, category and region); over
    a city preset, the user's entries replace the preset's columns for those roles.
    """
    layout = mapping.transform
    if not mapping.request and not isinstance(layout, RequestExport):
        return mapping
    by_role: dict[str, tuple[str, ...]] = {}
    for source, target in user.columns.items():
        if target in (schema.CASE_ID, schema.AGENCY, schema.CHANNEL, schema.CATEGORY,
                      schema.REGION):  # fmt: skip
            by_role[target] = (source,)
    if mapping.request:
        by_role["opened"] = (mapping.request["opened"],)
        for role in ("closed", "target"):
            if role in mapping.request:
                by_role[role] = (mapping.request[role],)
    if isinstance(layout, RequestExport):
        if not by_role and not user.keep:
            return mapping
        extra = tuple(k for k in user.keep if k not in (schema.HOPS_OBSERVED, schema.TARGET_AT))
        layout = replace(layout, **by_role, keep=extra)
    else:
        sources = {target: source for source, target in mapping.columns.items()}

        def role(target: str) -> tuple[str, ...]:
            return by_role.get(target, (sources.get(target, target),))

        layout = RequestExport(
            name=mapping.name or "request",
            case_id=role(schema.CASE_ID),
            opened=by_role["opened"],
            agency=role(schema.AGENCY),
            closed=by_role.get("closed", ()),
            channel=role(schema.CHANNEL),
            category=role(schema.CATEGORY),
            region=role(schema.REGION),
            target=by_role.get("target", ()),
            keep=tuple(
                k for k in mapping.keep if k not in (schema.HOPS_OBSERVED, schema.TARGET_AT)
            ),
        )
    keep = tuple(dict.fromkeys((*mapping.keep, schema.HOPS_OBSERVED)))
    if layout.target:
        keep = tuple(dict.fromkeys((*keep, schema.TARGET_AT)))
    return replace(mapping, transform=layout, keep=keep)


for _name, (_layout, _tz, _dayfirst) in CITY_PRESETS.items():
    PRESETS[_name] = Mapping(
        name=_name,
        channels=dict(_CITY_CHANNELS),
        keep=(schema.HOPS_OBSERVED,) + ((schema.TARGET_AT,) if _layout.target else ()),
        source_tz=_tz,
        dayfirst=_dayfirst,
        transform=_layout,
    )
