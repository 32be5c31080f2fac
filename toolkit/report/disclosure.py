"""Disclosure control: nothing published describes fewer than ``MIN_CELL_COUNT`` requests.

:func:`suppress_small_cells` is the one gate every export passes (tables, figures, hand-off
edge lists, the policy brief): it masks cells that count fewer requests than the threshold
(*primary* suppression) and then enough further cells (*secondary* suppression) that no
published margin total lets a masked cell be recomputed by subtraction.
:func:`find_small_cells` checks a table that is about to be published.

:class:`ReleaseRegistry` makes suppression agree across the tables of one release.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from toolkit import schema
from toolkit.errors import SekatError, require_columns

#: Name of the boolean column :func:`suppress_small_cells` adds: True where a cell is masked.
SUPPRESSED: str = "suppressed"
#: Name of the column giving why a cell is masked: "primary", "secondary" or "" (published).
SUPPRESSION_REASON: str = "suppression"
PRIMARY: str = "primary"
SECONDARY: str = "secondary"


@dataclass(frozen=True)
class Suppression:
    """A table after small-cell suppression, with the record of what was masked.

    Attributes
    ----------
    table : pandas.DataFrame
        The input rows in their order. Masked cells hold NaN in the count column and in every
        value column; the boolean column ``suppressed`` marks them and ``suppression`` says
        why ("primary": fewer requests than the threshold; "secondary": masked so that a
        published total cannot reveal a primary cell; "" where published).
    record : pandas.DataFrame
        One row per masked cell: the group columns identifying it and ``suppression``. It
        holds no counts, so it can itself be published (e.g. named in a caption).
    withheld_totals : pandas.DataFrame
        Margins (columns ``margin`` and the margin's key columns) whose total must not be
        published because no complementary cell could protect their masked cell.
    threshold : int
        Smallest number of requests a published cell may describe.
    group_cols : tuple of str
        The columns identifying a cell.
    """

    table: pd.DataFrame
    record: pd.DataFrame
    withheld_totals: pd.DataFrame = field(default_factory=pd.DataFrame)
    threshold: int = schema.MIN_CELL_COUNT
    group_cols: tuple[str, ...] = ()

    @property
    def published(self) -> pd.DataFrame:
        """The rows that may be drawn or labelled, without the suppression columns."""
        kept = self.table.loc[~self.table[SUPPRESSED]]
        return kept.drop(columns=[SUPPRESSED, SUPPRESSION_REASON]).reset_index(drop=True)

    @property
    def n_suppressed(self) -> int:
        """Number of masked cells."""
        return len(self.record)


def _counts(table: pd.DataFrame, count_col: str) -> np.ndarray:
    counts = pd.to_numeric(table[count_col], errors="coerce").astype("float64").to_numpy()
    bad = np.flatnonzero(np.isnan(counts) & table[count_col].notna().to_numpy())
    if bad.size:
        raise SekatError(
            f"count is not a number: {table[count_col].iloc[bad[0]]!r}",
            column=count_col,
            row=int(bad[0]),
        )
    negative = np.flatnonzero(counts < 0)
    if negative.size:
        raise SekatError("a count cannot be negative", column=count_col, row=int(negative[0]))
    return counts


def _default_totals(group_cols: tuple[str, ...]) -> list[tuple[str, ...]]:
    """Every one-way margin: the total over each group column with the others held fixed."""
    if len(group_cols) <= 1:
        return [()]
    return [tuple(c for c in group_cols if c != summed) for summed in group_cols]


def check_threshold(threshold: object) -> int:
    """The disclosure floor: a published threshold is a whole number of at least 10.

    Every exporter (:func:`toolkit.report.export.export_table`, ``export_figure``) calls this,
    so no parameter of a notebook or a script can publish cells smaller than
    :data:`toolkit.schema.MIN_CELL_COUNT` requests; a stricter threshold is allowed.

    Examples
    --------
    >>> check_threshold(20)
    20
    >>> check_threshold(5)
    Traceback (most recent call last):
    toolkit.errors.SekatError: the disclosure threshold must be a whole number of at least 10 requests, got 5
    """
    if (
        isinstance(threshold, bool)
        or not isinstance(threshold, int | np.integer)
        or threshold < schema.MIN_CELL_COUNT
    ):
        raise SekatError(
            "the disclosure threshold must be a whole number of at least "
            f"{schema.MIN_CELL_COUNT} requests, got {threshold!r}"
        )
    return int(threshold)


def suppress_small_cells(
    table: pd.DataFrame,
    count_col: str = schema.COUNT,
    threshold: int = schema.MIN_CELL_COUNT,
    group_cols: Sequence[str] | None = None,
    totals: Sequence[Sequence[str]] | None = None,
    value_cols: Sequence[str] | None = None,
    force: Sequence[bool] | np.ndarray | None = None,
    avoid: Sequence[bool] | np.ndarray | None = None,
) -> Suppression:
    """Mask cells counting fewer requests than ``threshold``, and their complements.

    Parameters
    ----------
    table : pandas.DataFrame
        One row per published cell, with a count of requests in ``count_col``.
    count_col : str, default "count"
        Column holding the number of requests a cell describes. Missing counts (e.g. an
        estimate with no ``n``) are neither suppressed nor used as complements.
    threshold : int, default :data:`toolkit.schema.MIN_CELL_COUNT` (10)
        Cells with ``0 < count < threshold`` are masked. Zero cells are published: a
        structural zero describes nobody.
    group_cols : sequence of str, optional
        Columns identifying a cell. Default: every column that is not numeric.
    totals : sequence of sequences of str, optional
        The published margin totals, each given by the group columns *held fixed* in it:
        for a table of ``(from_agency, to_agency, count)``, ``[("from_agency",)]`` says
        each agency's total outflow is published, ``[()]`` the grand total, ``[]`` none.
        Default: every one-way margin (for one group column, the grand total), the
        cautious assumption.
    value_cols : sequence of str, optional
        Further columns describing the cell (means, rates, estimates), masked with it.
        Default: every column that is neither a group column nor the count.
    force : sequence of bool, optional
        Rows to mask whatever their count (a cell masked in another table of the same
        release, :class:`ReleaseRegistry`); they are protected like primary cells.
    avoid : sequence of bool, optional
        Rows not to choose as complements while another choice exists (cells another table
        of the release already published: masking them here would protect nothing).

    Returns
    -------
    Suppression
        ``.table`` (input rows, masked values as NaN, plus ``suppressed`` and
        ``suppression``), ``.record`` (which cells, and why), ``.withheld_totals``,
        ``.published`` (only the rows that may be shown).

    Raises
    ------
    SekatError
        If a column is missing, a count is not a number or negative, or the threshold is
        below 1.

    Examples
    --------
    A hand-off edge list in which one pair of agencies is rare; no totals are published:

    >>> import pandas as pd
    >>> edges = pd.DataFrame({"from_agency": ["A", "A", "B"], "to_agency": ["B", "C", "C"],
    ...                       "count": [40, 3, 25]})
    >>> s = suppress_small_cells(edges, totals=[])
    >>> s.table
      from_agency to_agency  count  suppressed suppression
    0           A         B   40.0       False
    1           A         C    NaN        True     primary
    2           B         C   25.0       False
    >>> s.record
      from_agency to_agency suppression
    0           A         C     primary

    With the grand total published, 3 = total - 40 - 25 could be recomputed, so the
    smallest other cell is masked too:

    >>> suppress_small_cells(edges, totals=[()]).record
      from_agency to_agency suppression
    0           A         C     primary
    1           B         C   secondary

    Notes
    -----
    *Primary* suppression masks every cell with ``0 < count < threshold``. *Secondary*
    suppression then visits every group of cells that sum to a published total: while the
    group holds masked cells that are fewer than two, or that together count fewer than
    ``threshold`` requests, the smallest published non-zero cell of the group is masked too
    (ties: first row). Masking in one margin can expose a cell in another, so the margins
    are revisited until nothing changes. If a group has no cell left to mask, its total is
    listed in ``withheld_totals`` and must not be published. This is the usual heuristic
    of statistical offices; it guarantees that no single subtraction recovers a masked cell,
    but not that no system of linear equations over many margins does (that audit needs
    linear programming, e.g. tau-argus).

    References
    ----------
    Hundepool, A. et al. (2012). *Statistical Disclosure Control*, ch. 4 (frequency tables,
    primary and secondary cell suppression). Wiley.
    """
    if threshold < 1:
        raise SekatError(f"the suppression threshold must be at least 1, got {threshold}")
    require_columns(table, [count_col], what="small-cell suppression")
    if group_cols is None:
        group_cols = [
            c
            for c in table.columns
            if c != count_col and not pd.api.types.is_numeric_dtype(table[c])
        ]
    group_cols = tuple(group_cols)
    require_columns(table, group_cols, what="small-cell suppression")
    if value_cols is None:
        value_cols = [c for c in table.columns if c not in group_cols and c != count_col]
    value_cols = [c for c in value_cols if c not in (SUPPRESSED, SUPPRESSION_REASON)]
    require_columns(table, value_cols, what="small-cell suppression")
    margins = _default_totals(group_cols) if totals is None else [tuple(m) for m in totals]
    for margin in margins:
        require_columns(table, margin, what="a published total")

    counts = _counts(table, count_col)
    n = len(table)
    known = ~np.isnan(counts)
    reason = np.full(n, "", dtype=object)
    reason[known & (counts > 0) & (counts < threshold)] = PRIMARY
    forced = np.zeros(n, bool) if force is None else np.asarray(force, dtype=bool)
    reason[forced & (reason == "")] = SECONDARY
    avoided = np.zeros(n, bool) if avoid is None else np.asarray(avoid, dtype=bool)
    withheld: dict[tuple[tuple[str, ...], tuple], None] = {}

    # Positions of the cells in each margin group, computed once.
    groups: list[tuple[tuple[str, ...], tuple, np.ndarray]] = []
    for margin in margins:
        if margin:
            grouped = table.groupby(list(margin), sort=False, dropna=False, observed=True)
            for key, members in grouped.indices.items():
                key = key if isinstance(key, tuple) else (key,)
                groups.append((margin, key, np.sort(np.asarray(members))))
        else:
            groups.append(((), (), np.arange(n)))

    changed = True
    while changed:
        changed = False
        for margin, key, members in groups:
            masked = members[reason[members] != ""]
            if masked.size == 0:
                continue
            while masked.size < 2 or np.nansum(counts[masked]) < threshold:
                candidates = members[
                    (reason[members] == "") & known[members] & (counts[members] > 0)
                ]
                if candidates.size == 0:
                    withheld[(margin, key)] = None
                    break
                fresh = candidates[~avoided[candidates]]
                candidates = fresh if fresh.size else candidates
                # The smallest count; argmin returns the first row among ties.
                pick = candidates[np.argmin(counts[candidates])]
                reason[pick] = SECONDARY
                masked = members[reason[members] != ""]
                changed = True

    is_masked = reason != ""
    out = table.copy()
    for col in [count_col, *value_cols]:
        if is_masked.any():
            if not pd.api.types.is_float_dtype(out[col]):
                numeric = pd.api.types.is_numeric_dtype(out[col])
                out[col] = out[col].astype("float64" if numeric else "object")
            out.loc[is_masked, col] = np.nan
    out[SUPPRESSED] = is_masked
    out[SUPPRESSION_REASON] = pd.Series(reason, index=out.index, dtype="str")
    record = out.loc[is_masked, [*group_cols, SUPPRESSION_REASON]].reset_index(drop=True)
    withheld_rows = [
        {
            "margin": " × ".join(margin) if margin else "(grand total)",
            **dict(zip(margin, key, strict=True)),
        }
        for margin, key in withheld
    ]
    return Suppression(
        table=out,
        record=record,
        withheld_totals=pd.DataFrame(withheld_rows),
        threshold=int(threshold),
        group_cols=group_cols,
    )


def cell_keys(table: pd.DataFrame, group_cols: Sequence[str]) -> list[dict[str, str]]:
    """The key of each row as a release knows it: ``{group column: value as text}``.

    Missing values read as ``""``, whole numbers without ``.0``, and ``channel_group`` is
    dropped beside ``channel`` (a channel names its group), so that the same cell has the
    same key in every table, whatever other columns describe it.

    Examples
    --------
    >>> import pandas as pd
    >>> cell_keys(pd.DataFrame({"channel_group": ["digital"], "channel": ["sms"]}),
    ...           ["channel_group", "channel"])
    [{'channel': 'sms'}]
    """
    columns = [str(c) for c in group_cols]
    if schema.CHANNEL in columns and schema.CHANNEL_GROUP in columns:
        columns.remove(schema.CHANNEL_GROUP)

    def text(value: object) -> str:
        if value is None or (isinstance(value, float) and np.isnan(value)) or value is pd.NA:
            return ""
        if isinstance(value, float) and value.is_integer():
            return str(int(value))
        return str(value)

    values = [table[c].tolist() for c in columns]
    return (
        [
            {c: text(v) for c, v in zip(columns, row, strict=True)}
            for row in zip(*values, strict=True)
        ]
        if columns
        else [{} for _ in range(len(table))]
    )


def _hashed(key: dict[str, str]) -> dict[str, str]:
    """A key with each value replaced by 16 hex digits of SHA-256 of its column and text."""
    return {
        column: hashlib.sha256(f"{column}\0{value}".encode()).hexdigest()[:16]
        for column, value in key.items()
    }


@dataclass
class ReleaseRegistry:
    """Every cell one release (one output folder) has masked or published, and where.

    A cell masked in one table must not be published in another, or the two together give
    it back: ``01_requests_by_channel.csv`` masks sms and email, ``02_chain_length_by_
    channel.csv`` publishes email = 59, a result table publishes n = 2000, so sms =
    2000 − (published channels) − 59. The registry is how tables of a release agree:
    :func:`toolkit.report.export.export_table` masks every row whose key contains a key
    masked anywhere in the release, prefers complements no other table has published, and
    masks again, in files already written, cells that a later table had to mask.

    It holds no count and no label: each value of a key is kept as a hash of its column and
    text (:func:`_hashed`), enough to tell cells apart.

    Attributes
    ----------
    masked : list of dict
        Keys (:func:`cell_keys`, values hashed) masked in some table.
    published : list of dict
        Keys (values hashed) of cells published with a count.
    files : dict
        File name -> how it was suppressed (count_col, group_cols, totals, value_cols,
        threshold), so that it can be suppressed again.

    Examples
    --------
    >>> registry = ReleaseRegistry()
    >>> registry.add([{"channel": "email"}], np.array([True]))
    [{'channel': 'email'}]
    >>> registry.covered([{"channel": "email"}, {"channel": "web"},
    ...                   {"channel": "email", "chain_length": "2"}]).tolist()
    [True, False, True]
    """

    masked: list[dict[str, str]] = field(default_factory=list)
    published: list[dict[str, str]] = field(default_factory=list)
    files: dict[str, dict] = field(default_factory=dict)

    def covered(self, keys: Sequence[dict[str, str]]) -> np.ndarray:
        """True for each key that contains a masked key (the same cell or a part of it)."""
        masked = [m.items() for m in self.masked if m]
        return np.array(
            [any(m <= _hashed(key).items() for m in masked) for key in keys], dtype=bool
        )

    def already_published(self, keys: Sequence[dict[str, str]]) -> np.ndarray:
        """True for each key another table has published with a count."""
        seen = {tuple(sorted(k.items())) for k in self.published}
        return np.array([tuple(sorted(_hashed(k).items())) in seen for k in keys], dtype=bool)

    def add(self, keys: Sequence[dict[str, str]], masked: np.ndarray) -> list[dict[str, str]]:
        """Record one table's cells; return the keys masked that were not masked before."""
        known = {tuple(sorted(k.items())) for k in self.masked}
        shown = {tuple(sorted(k.items())) for k in self.published}
        new = []
        for plain, is_masked in zip(keys, masked, strict=True):
            key = _hashed(plain)
            item = tuple(sorted(key.items()))
            if not key:
                continue
            if is_masked and item not in known:
                known.add(item)
                self.masked.append(dict(key))
                new.append(dict(plain))
            elif not is_masked and item not in shown:
                shown.add(item)
                self.published.append(dict(key))
        return new

    def to_dict(self) -> dict:
        return {"masked": self.masked, "published": self.published, "files": self.files}

    @classmethod
    def from_dict(cls, data: dict) -> ReleaseRegistry:
        return cls(
            masked=[dict(k) for k in data.get("masked", [])],
            published=[dict(k) for k in data.get("published", [])],
            files=dict(data.get("files", {})),
        )


def find_small_cells(
    table: pd.DataFrame,
    count_col: str = schema.COUNT,
    threshold: int = schema.MIN_CELL_COUNT,
) -> pd.DataFrame:
    """The rows of a table about to be published that break the small-cell rule.

    Parameters
    ----------
    table : pandas.DataFrame
        A table with a column of request counts; masked counts are NaN.
    count_col : str, default "count"
        The count column.
    threshold : int, default :data:`toolkit.schema.MIN_CELL_COUNT`
        Smallest count a published cell may hold.

    Returns
    -------
    pandas.DataFrame
        The offending rows (``0 < count < threshold``); empty when the table may be published.

    Examples
    --------
    >>> import pandas as pd
    >>> find_small_cells(pd.DataFrame({"channel": ["sms", "web"], "count": [4, 50]}))
      channel  count
    0     sms      4
    """
    require_columns(table, [count_col], what="the small-cell check")
    counts = _counts(table, count_col)
    return table.loc[(counts > 0) & (counts < threshold)]
