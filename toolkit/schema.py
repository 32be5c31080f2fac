"""The canonical event-log contract: column names, dtypes and vocabularies.

Every other module imports its column names, lifecycle activities, channels and
channel groups from here, so that the contract (``ARCHITECTURE.md``; the README's data
contract) is spelled out exactly once. A frame that follows this contract is called *canonical*: one row
per event, the columns below, with the dtypes of :data:`DTYPES`.
"""

from __future__ import annotations

from typing import Final

import pandas as pd

# --- column names --------------------------------------------------------------------------

CASE_ID: Final = "case_id"
TIMESTAMP: Final = "timestamp"
AGENCY: Final = "agency"
ACTIVITY: Final = "activity"
CHANNEL: Final = "channel"
CATEGORY: Final = "category"
REGION: Final = "region"
#: The log's own activity name, kept beside the mapped lifecycle activity.
ACTIVITY_RAW: Final = "activity_raw"
#: The log's own channel value, kept beside the mapped channel.
CHANNEL_RAW: Final = "channel_raw"
#: Row number in the source file (0-based, header excluded); ties in time are broken by it.
SOURCE_ROW: Final = "source_row"
#: Name of the file a row came from (base name only, never a full path).
SOURCE_FILE: Final = "source_file"

# Bookkeeping a reader adds so that validation can quarantine a row with its reason.
#: The original text of a timestamp that could not be read.
TIMESTAMP_RAW: Final = "timestamp_raw"
#: Why a timestamp could not be read (unparseable, out of range, nonexistent local time...).
TIMESTAMP_ISSUE: Final = "timestamp_issue"
#: Whether a channel value was outside the vocabulary and the channel mapping.
CHANNEL_UNMAPPED: Final = "channel_unmapped"
#: Whether an activity name was outside the lifecycle and the activity mapping.
ACTIVITY_UNMAPPED: Final = "activity_unmapped"
#: The shape of format a timestamp was read with (reported, so mixed formats are visible).
TIMESTAMP_FORMAT: Final = "timestamp_format"
#: Reason code of a quarantined row.
REASON: Final = "reason"
#: Whether hops are observed: False for exports holding one row per request (only the
#: final agency), where hop-based columns of the case table are missing rather than zero.
HOPS_OBSERVED: Final = "hops_observed"
#: The service target of a request (the time by which the agency means to close it, such as
#: Boston's ``TARGET_DT``), on every event of the request; only when the log records one.
TARGET_AT: Final = "target_at"
#: Key of ``DataFrame.attrs`` naming the file's columns a loader did not read.
IGNORED_COLUMNS_ATTR: Final = "ignored_columns"
#: Report key (and events attribute): whether the log records each request's intake channel.
CHANNEL_OBSERVED: Final = "channel_observed"
#: Report key: whether the log records a service target per request (``target_at``).
TARGET_OBSERVED: Final = "target_observed"
#: Report key: the warnings of a prepare run, each ``{"code": ..., ...}`` (codes below).
WARNINGS: Final = "warnings"
#: Warning codes of a prepare run (``report.json`` ``warnings``), for the analysis to read.
NO_RESOLUTIONS: Final = "no_resolutions"
FEW_RESOLUTIONS: Final = "few_resolutions"
CUTOFF_AFTER_LAST_INTAKE: Final = "cutoff_far_after_last_intake"
FUTURE_TIMESTAMPS: Final = "future_timestamps"
OUTLYING_TIMESTAMPS: Final = "outlying_timestamps"
CHANNEL_NOT_OBSERVED: Final = "channel_not_observed"
WARNING_CODES: Final = (
    NO_RESOLUTIONS,
    FEW_RESOLUTIONS,
    CUTOFF_AFTER_LAST_INTAKE,
    FUTURE_TIMESTAMPS,
    OUTLYING_TIMESTAMPS,
    CHANNEL_NOT_OBSERVED,
)
#: Whether the reader filled an event's missing unit from the request's previous event.
AGENCY_CARRIED: Final = "agency_carried"

REQUIRED_COLUMNS: Final = (CASE_ID, TIMESTAMP, AGENCY, ACTIVITY, CHANNEL)
OPTIONAL_COLUMNS: Final = (CATEGORY, REGION)
CANONICAL_COLUMNS: Final = REQUIRED_COLUMNS + OPTIONAL_COLUMNS
#: Bookkeeping columns that may travel with canonical events.
PROVENANCE_COLUMNS: Final = (ACTIVITY_RAW, CHANNEL_RAW, SOURCE_FILE, SOURCE_ROW, HOPS_OBSERVED)

# --- vocabularies ---------------------------------------------------------------------------

SUBMITTED: Final = "submitted"
FORWARDED: Final = "forwarded"
ACKNOWLEDGED: Final = "acknowledged"
IN_PROGRESS: Final = "in_progress"
RESOLVED: Final = "resolved"
CLOSED: Final = "closed"
REOPENED: Final = "reopened"
REJECTED: Final = "rejected"

#: The request lifecycle. Any activity a log names is mapped onto one of these.
ACTIVITIES: Final = (
    SUBMITTED,
    FORWARDED,
    ACKNOWLEDGED,
    IN_PROGRESS,
    RESOLVED,
    CLOSED,
    REOPENED,
    REJECTED,
)
#: Activities that end a request (unless it is reopened afterwards).
TERMINAL_ACTIVITIES: Final = (RESOLVED, CLOSED)
#: Activity given to a log's activity name that the activity mapping does not know.
UNMAPPED_ACTIVITY: Final = IN_PROGRESS

SOCIAL: Final = "social"
DIGITAL: Final = "digital"
TRADITIONAL: Final = "traditional"
OTHER: Final = "other"

#: Channel groups, in the order figures and tables list them.
CHANNEL_GROUPS: Final[dict[str, tuple[str, ...]]] = {
    SOCIAL: ("twitter", "facebook", "instagram", "whatsapp"),
    DIGITAL: ("web", "app", "email", "sms"),
    TRADITIONAL: ("phone", "walk_in", "letter"),
    OTHER: (OTHER,),
}
#: Intake channels, grouped as above.
CHANNELS: Final = tuple(c for group in CHANNEL_GROUPS.values() for c in group)
#: Channel given to a value outside :data:`CHANNELS` (unless strict channels are asked for).
UNKNOWN_CHANNEL: Final = OTHER
#: channel -> channel group.
CHANNEL_GROUP_OF: Final[dict[str, str]] = {
    channel: group for group, members in CHANNEL_GROUPS.items() for channel in members
}
SOCIAL_CHANNELS: Final = CHANNEL_GROUPS[SOCIAL]

# --- dtypes ---------------------------------------------------------------------------------

TIMESTAMP_DTYPE: Final = pd.DatetimeTZDtype(unit="ns", tz="UTC")
ACTIVITY_DTYPE: Final = pd.CategoricalDtype(list(ACTIVITIES))
CHANNEL_DTYPE: Final = pd.CategoricalDtype(list(CHANNELS))
CHANNEL_GROUP_DTYPE: Final = pd.CategoricalDtype(list(CHANNEL_GROUPS))

#: The dtype of every canonical column.
DTYPES: Final[dict[str, object]] = {
    CASE_ID: "str",
    TIMESTAMP: TIMESTAMP_DTYPE,
    AGENCY: "str",
    ACTIVITY: ACTIVITY_DTYPE,
    CHANNEL: CHANNEL_DTYPE,
    CATEGORY: "category",
    REGION: "category",
    ACTIVITY_RAW: "str",
    CHANNEL_RAW: "str",
    SOURCE_FILE: "str",
    SOURCE_ROW: "int64",
}

# --- the case table -------------------------------------------------------------------------

CHANNEL_GROUP: Final = "channel_group"
START: Final = "start"
END: Final = "end"
FIRST_AGENCY: Final = "first_agency"
FINAL_AGENCY: Final = "final_agency"
PATH: Final = "path"
#: Separator of agencies in a path string: "Kelurahan A > Dinas PU > Kelurahan A".
PATH_SEPARATOR: Final = " > "
HOPS: Final = "hops"
DISTINCT_AGENCIES: Final = "distinct_agencies"
RETURNS: Final = "returns"
REOPENED_COUNT: Final = "reopened"
IS_RESOLVED: Final = "resolved"
DURATION_HOURS: Final = "duration_hours"
CENSORED: Final = "censored"

#: The case table's columns, in order (one row per request).
CASE_COLUMNS: Final = (
    CASE_ID,
    CHANNEL,
    CHANNEL_GROUP,
    CATEGORY,
    REGION,
    START,
    FIRST_AGENCY,
    FINAL_AGENCY,
    PATH,
    HOPS,
    DISTINCT_AGENCIES,
    RETURNS,
    REOPENED_COUNT,
    IS_RESOLVED,
    END,
    DURATION_HOURS,
    CENSORED,
)

# --- hand-offs ------------------------------------------------------------------------------

FROM_AGENCY: Final = "from_agency"
TO_AGENCY: Final = "to_agency"
COUNT: Final = "count"
#: Median and mean hours between the two events of a hand-off.
MEDIAN_HOURS: Final = "median_hours"
MEAN_HOURS: Final = "mean_hours"

# --- tidy results ---------------------------------------------------------------------------

#: The tidy columns every estimator's result table starts with (one row per estimate). ``n``
#: is the number of units the estimate rests on: requests for request-level estimators, and
#: the panel's units (regions, or region-months) for the rollout event study.
RESULT_COLUMNS: Final = ("term", "estimate", "std_error", "ci_low", "ci_high", "n", "method")

#: What an estimate is about, as data rather than text: nothing in sekat reads ``term`` or
#: ``method`` to find out what a row estimates; it reads these.
ESTIMAND: Final = "estimand"
OUTCOME: Final = "outcome"
SCALE: Final = "scale"
CONTRAST: Final = "contrast"
#: The grouping column a subgroup estimate is about (``category``, ``region``,
#: ``channel_group``, ``arm``, ``cohort``) and the group's value; missing for an overall
#: estimate.
GROUP: Final = "group"
GROUP_VALUE: Final = "group_value"
#: Months since the desk opened, for the rows of an event study; missing otherwise.
EVENT_TIME: Final = "event_time"
METHOD_KEY: Final = "method_key"
DESCRIPTOR_COLUMNS: Final = (
    ESTIMAND,
    OUTCOME,
    SCALE,
    CONTRAST,
    GROUP,
    GROUP_VALUE,
    EVENT_TIME,
    METHOD_KEY,
)
#: Every result table's columns, in order: the tidy columns, then the descriptors.
RESULT_TABLE_COLUMNS: Final = RESULT_COLUMNS + DESCRIPTOR_COLUMNS

#: Estimands: the average effect over all requests (``ate``) or over the treated ones
#: (``att``); an unadjusted ``difference`` between the arms (what a naive comparison
#: estimates); a ``conditional`` effect within covariate cells (a regression's rate or hazard
#: ratio); a ``mean`` or ``median`` of one group; what a ``scenario`` would change; the
#: overlap-weighted effect (``ato``: requests that could have come either way, weighted by
#: ``e(1-e)``).
#: The rollout study adds two averages of its cell effects: over event times
#: (``att_dynamic``) and over cohorts (``att_cohort``).
ESTIMANDS: Final = (
    "ate",
    "att",
    "ato",
    "difference",
    "conditional",
    "mean",
    "median",
    "scenario",
    "att_dynamic",
    "att_cohort",
)
#: Outcomes: hand-offs per request; days unresolved within the first tau days (restricted
#: mean survival time); days to resolution (Kaplan-Meier medians); the hazard of
#: resolution (Cox); and the scenario quantities of :mod:`toolkit.estimate.impact`.
HOPS_OUTCOME: Final = "hops"
RMST_OUTCOME: Final = "rmst_days"
DAYS_OUTCOME: Final = "days_to_resolution"
HAZARD_OUTCOME: Final = "resolution_hazard"
#: Scales: an additive ``difference``, a ``ratio``, or the ``level`` of one group.
SCALES: Final = ("difference", "ratio", "level")
#: The estimators, as :data:`METHOD_KEY` names them (``truth``: a planted value drawn beside
#: them).
METHOD_KEYS: Final = (
    "mean",
    "naive",
    "aipw",
    "poisson_fe",
    "negbin_fe",
    "km",
    "ipw_km",
    "cox",
    "callaway_santanna",
    "twfe",
    "scenario",
    "e_value",
    "aalen_johansen",
    "truth",
)

# --- treatment and rollout ------------------------------------------------------------------

#: The comparison group "every request not from social media".
NOT_SOCIAL: Final = "not_social"
#: Contrast of a channel's effect: social-media intake against the rest.
SOCIAL_CONTRAST: Final = f"{SOCIAL} vs {NOT_SOCIAL}"
#: Contrast of the rollout: a district's desk open against desks not yet open.
DESK_CONTRAST: Final = "desk open vs not yet open"
#: Column of a rollout table: when a region's social-media desk opened (missing: never).
DESK_OPENED: Final = "desk_opened"
#: Columns of a rollout table: one row per region.
ROLLOUT_COLUMNS: Final = (REGION, DESK_OPENED)

# --- defaults -------------------------------------------------------------------------------

DEFAULT_SOURCE_TZ: Final = "Asia/Jakarta"
#: Smallest number of requests a published cell may describe.
MIN_CELL_COUNT: Final = 10


def channel_group(channels: pd.Series) -> pd.Series:
    """Map intake channels to their channel group.

    Parameters
    ----------
    channels : pandas.Series
        Channel names from :data:`CHANNELS`.

    Returns
    -------
    pandas.Series
        Categorical series of channel groups (social, digital, traditional, other); values
        outside the vocabulary become missing.

    Examples
    --------
    >>> import pandas as pd
    >>> channel_group(pd.Series(["twitter", "walk_in", "web"])).tolist()
    ['social', 'traditional', 'digital']
    """
    groups = channels.astype("object").map(CHANNEL_GROUP_OF)
    return groups.astype(CHANNEL_GROUP_DTYPE).rename(CHANNEL_GROUP)


def is_social(channels: pd.Series) -> pd.Series:
    """Whether each channel is a social-media channel (the main treatment).

    Examples
    --------
    >>> import pandas as pd
    >>> is_social(pd.Series(["whatsapp", "phone"])).tolist()
    [True, False]
    """
    return channels.astype("object").isin(SOCIAL_CHANNELS)
