"""Re-identification risk of the prepared data: k-anonymity on what a reader could know.

:func:`k_anonymity_report` says, before a row-level table leaves ``data/processed``, how many
requests are unique or sit in groups smaller than *k* on the quasi-identifiers a reader could
know (intake channel, region, category, week of intake). ``sekat prepare`` writes it into
``report.json``; it is a measure, not a protection (the pseudonyms and small-cell suppression of
published tables are the protections).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import pandas as pd

from toolkit import schema
from toolkit.errors import SekatError, require_columns

__all__ = ["DEFAULT_QUASI_IDENTIFIERS", "KAnonymityReport", "intake_week", "k_anonymity_report"]

#: Column of the intake week (Monday 00:00 UTC of the week the request was submitted).
INTAKE_WEEK: str = "intake_week"
#: Column of a k-anonymity group's size.
GROUP_SIZE: str = "group_size"
#: The quasi-identifiers of :func:`k_anonymity_report` by default.
DEFAULT_QUASI_IDENTIFIERS: tuple[str, ...] = (
    schema.CHANNEL,
    schema.REGION,
    schema.CATEGORY,
    INTAKE_WEEK,
)


def intake_week(start: pd.Series) -> pd.Series:
    """The week a request was submitted: Monday 00:00 UTC of that week.

    Examples
    --------
    >>> import pandas as pd
    >>> intake_week(pd.Series(pd.to_datetime(["2024-03-07 15:00"], utc=True))).tolist()
    [Timestamp('2024-03-04 00:00:00+0000', tz='UTC')]
    """
    start = pd.to_datetime(start, utc=True)
    day = start.dt.floor("D")
    return (day - pd.to_timedelta(day.dt.day_of_week, unit="D")).rename(INTAKE_WEEK)


@dataclass(frozen=True)
class KAnonymityReport:
    """How identifiable requests are from their quasi-identifiers.

    Attributes
    ----------
    groups : pandas.DataFrame
        One row per combination of quasi-identifier values that occurs: the quasi-identifiers,
        ``group_size`` (requests sharing the combination) and ``below_k``; smallest first.
    summary : dict
        n_requests, n_groups, k, quasi_identifiers (used), missing_quasi_identifiers (asked
        for but absent from the table), unique_requests, requests_below_k,
        share_below_k, groups_below_k.
    """

    groups: pd.DataFrame
    summary: dict


def k_anonymity_report(
    cases: pd.DataFrame,
    quasi_identifiers: Sequence[str] = DEFAULT_QUASI_IDENTIFIERS,
    k: int = schema.MIN_CELL_COUNT,
) -> KAnonymityReport:
    """Count the requests that are unique, or in groups smaller than *k*, on quasi-identifiers.

    Parameters
    ----------
    cases : pandas.DataFrame
        A row-level table, one row per request (the case table). ``intake_week`` is derived
        from ``start`` when asked for and absent.
    quasi_identifiers : sequence of str, default channel, region, category, intake_week
        Attributes an outsider could know about a request. Optional contract columns
        (region, category) absent from the table are skipped and listed in the summary;
        any other absent column is an error.
    k : int, default 10
        Groups with fewer than *k* requests are flagged.

    Returns
    -------
    KAnonymityReport
        ``.groups`` (tidy, one row per combination) and ``.summary`` (a dict).

    Examples
    --------
    >>> import pandas as pd
    >>> cases = pd.DataFrame({"channel": ["web"] * 3 + ["sms"],
    ...                       "region": ["X", "X", "Y", "X"]})
    >>> report = k_anonymity_report(cases, quasi_identifiers=["channel", "region"], k=2)
    >>> report.groups
      channel region  group_size  below_k
    0     sms      X           1     True
    1     web      Y           1     True
    2     web      X           2    False
    >>> report.summary["unique_requests"], report.summary["requests_below_k"]
    (2, 2)

    Notes
    -----
    A table is *k*-anonymous when every combination of quasi-identifier values is shared by
    at least *k* rows. Missing values form their own group. A request that is unique on
    channel x region x category x week can be singled out by anyone who knows those four
    facts, whatever its pseudonym.

    References
    ----------
    Sweeney, L. (2002). k-anonymity: a model for protecting privacy. *International Journal
    of Uncertainty, Fuzziness and Knowledge-Based Systems*, 10(5), 557-570.
    """
    if k < 1:
        raise SekatError(f"k must be at least 1, got {k}")
    cases = cases.copy()
    if INTAKE_WEEK in quasi_identifiers and INTAKE_WEEK not in cases.columns:
        require_columns(cases, [schema.START], what=f"the quasi-identifier {INTAKE_WEEK!r}")
        cases[INTAKE_WEEK] = intake_week(cases[schema.START])
    absent = [q for q in quasi_identifiers if q not in cases.columns]
    optional_absent = [q for q in absent if q in schema.OPTIONAL_COLUMNS]
    require_columns(
        cases, [q for q in quasi_identifiers if q not in optional_absent], what="k-anonymity"
    )
    used = [q for q in quasi_identifiers if q not in optional_absent]
    if used:
        groups = (
            cases.groupby(used, dropna=False, observed=True, sort=True)
            .size()
            .rename(GROUP_SIZE)
            .reset_index()
        )
    else:
        groups = pd.DataFrame({GROUP_SIZE: [len(cases)]})
    groups = groups.sort_values(GROUP_SIZE, kind="stable").reset_index(drop=True)
    groups[GROUP_SIZE] = groups[GROUP_SIZE].astype("int64")
    groups["below_k"] = groups[GROUP_SIZE] < k
    small = groups.loc[groups["below_k"], GROUP_SIZE]
    n_requests = len(cases)
    summary = {
        "n_requests": n_requests,
        "n_groups": len(groups),
        "k": int(k),
        "quasi_identifiers": used,
        "missing_quasi_identifiers": optional_absent,
        "unique_requests": int((groups[GROUP_SIZE] == 1).sum()),
        "requests_below_k": int(small.sum()),
        "share_below_k": float(small.sum() / n_requests) if n_requests else 0.0,
        "groups_below_k": int(len(small)),
    }
    return KAnonymityReport(groups=groups, summary=summary)
