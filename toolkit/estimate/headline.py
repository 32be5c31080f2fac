"""The headline analysis: one producer for every number the CLI, notebooks 03-07 and the brief show.

:func:`headline_analysis` runs, on one case table, every estimator of the effect of social
intake (hops: naive, AIPW, Poisson fixed effects, AIPW by topic and by district; time:
Kaplan-Meier medians, the restricted-mean differences naive and weighted, Cox), what a 311 desk
measures per intake channel (mean hand-offs; medians in days and in working days, Cox against a
reference channel and the share that met the service standard:
:mod:`toolkit.estimate.service`; no contrast needed, so a log without social intake gets them
too) and, given desk opening dates, the staggered-rollout event study, and stacks their result
tables into one :class:`Headline`. The rules that must not differ between the places that show a number are
applied here once:

* the contrast (:func:`toolkit.estimate.models.comparison_cases`);
* the desk status: with a rollout table, every propensity model (AIPW, AIPW by group, the
  weighted Kaplan-Meier curves) adjusts for it (:func:`toolkit.estimate.rollout.with_desk_status`),
  and the outcome regressions keep the plain adjustment set;
* one multiplicity rule for subgroup intervals (:data:`toolkit.results.DEFAULT_ADJUSTMENT`);
* what the log can support: a part whose data are missing (hops unobserved, one arm empty,
  no resolution, no rollout, one district) is skipped with a reason code in
  :attr:`Headline.skipped`, never run on data that cannot carry it.

:func:`compare_to_truth` puts the generator's planted value beside each row that has one, by
the rows' descriptors (estimand, outcome, scale, contrast, group, event time), never by
parsing a term.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

import numpy as np
import pandas as pd

from toolkit import schema
from toolkit.errors import SekatError, require_columns
from toolkit.estimate.effects import aipw_hops, effects_by_group, hops_regression, naive_hops
from toolkit.estimate.models import (
    ARM_JOINER,
    DEFAULT_COVARIATES,
    SOCIAL_TERM,
    Contrast,
    comparison_cases,
    treatment_indicator,
)
from toolkit.estimate.rollout import rollout_event_study, with_desk_status
from toolkit.estimate.sensitivity import e_value_rows
from toolkit.estimate.service import (
    WorkingCalendar,
    compliance,
    cox_by_channel,
    hops_by_channel,
    resolution_by_channel,
)
from toolkit.estimate.survival import DEFAULT_TAU_DAYS, cox_ph, kaplan_meier, rmst_difference
from toolkit.results import ADJUSTMENTS, DEFAULT_ADJUSTMENT, result_frame, select, select_one

__all__ = [
    "DEFAULT_N_BOOT",
    "DEFAULT_SEED",
    "SKIP_REASONS",
    "TRUTH_COLUMNS",
    "WARNING_CODES",
    "Headline",
    "HeadlineSettings",
    "compare_to_truth",
    "headline_analysis",
    "headline_estimates",
    "hops_skip_reason",
    "truth_key",
    "truth_rows",
]

#: Seed of the bootstrap when none is given: the notebooks' default, so that ``sekat
#: estimate`` and the notebooks print the same numbers.
DEFAULT_SEED = 20261129
#: Bootstrap replicates of the restricted-mean differences.
DEFAULT_N_BOOT = 200
#: Columns :func:`compare_to_truth` adds to a result table.
TRUTH_COLUMNS = ("truth", "bias", "covered")

#: Why a part of the analysis was not run (reason codes; the report layer words them).
SKIP_REASONS = (
    "hops_unobserved",  # the log names only the final agency (one row per request)
    "one_arm",  # no (or too few) requests on one side of the contrast
    "no_resolutions",  # no request is resolved, so there is no time to resolution
    "no_rollout",  # no desk opening dates were given
    "no_groups",  # the column is absent or holds a single level
    "no_adopters",  # no region opens its desk inside the log's window
    "no_handoffs",  # hops recorded, but no request was ever handed on: likely final agency only
)
#: Warnings of an analysis (codes; the report layer words them, ``[warnings.<code>]``).
WARNING_CODES = (
    "poor_overlap",  # the ATE failed the overlap rule: not a headline number
    "ph_violated",  # the proportional-hazards test rejects for the channel: the HR is an average
)
#: Level of the proportional-hazards test (Grambsch-Therneau) under which the hazard ratio
#: is flagged (``ph_violated``) and the restricted-mean difference is the number to read.
PH_ALPHA = 0.01
#: The parts of the analysis, in the order they run.
PARTS = ("hops", "by_category", "by_region", "time", "by_channel", "rollout")
#: Column of each request's own service deadline, when the prepared data carries one (a city's
#: target date, Boston's ``TARGET_DT``): compliance is then measured against it.
TARGET_COLUMN = schema.TARGET_AT


@dataclass(frozen=True)
class HeadlineSettings:
    """The parameters of a headline analysis (all of them; a cached result is keyed by them).

    Attributes
    ----------
    seed : int
        Seed of every bootstrap.
    tau_days : float
        Horizon of the restricted mean survival time ("days unresolved in the first tau").
    n_boot : int
        Bootstrap replicates of the restricted-mean differences.
    level : float
        Confidence level.
    treatment : str
        The treatment arm: channels or channel groups (:class:`toolkit.estimate.models.Contrast`),
        ``social`` by default; several are joined by ``+`` (``"twitter+whatsapp"``).
    control : str
        What the treatment is compared with: channels, channel groups, ``not_social`` (the
        default) or ``rest``.
    covariates : tuple of str
        The adjustment set (category, region, month of intake by default).
    min_requests : int
        A subgroup (topic, district) is estimated only with this many social and this many
        other requests; the same floor decides whether the two arms can be compared at all.
    adjustment : str
        Multiplicity adjustment of subgroup intervals.
    reference_channel : str, optional
        The channel the per-channel Cox model compares every other with; default ``phone``
        when the log has enough of it, else its largest channel.
    holidays : str, optional
        Country code of the national holidays (``ID``, the default, as the default source
        time zone is Jakarta; ``US``; ...) for time in working days and for the service
        standard; None counts the working week only.
    workweek : str
        The working week (``mon-fri``, ``sun-thu``, ``mon-sat`` or day names).
    local_tz : str, optional
        Time zone whose calendar dates count; default the holiday country's (Jakarta for ID,
        New York for US), else UTC.
    standard_days : int
        The service standard: resolved within this many working days (used when the data
        carry no per-request target).
    """

    seed: int = DEFAULT_SEED
    tau_days: float = DEFAULT_TAU_DAYS
    n_boot: int = DEFAULT_N_BOOT
    level: float = 0.95
    control: str = schema.NOT_SOCIAL
    treatment: str = schema.SOCIAL
    covariates: tuple[str, ...] = DEFAULT_COVARIATES
    min_requests: int = schema.MIN_CELL_COUNT
    adjustment: str = DEFAULT_ADJUSTMENT
    reference_channel: str | None = None
    holidays: str | None = "ID"
    workweek: str = "mon-fri"
    local_tz: str | None = None
    standard_days: int = 5

    def __post_init__(self) -> None:
        if isinstance(self.seed, bool) or not isinstance(self.seed, int | np.integer):
            raise SekatError(f"seed must be a whole number, got {self.seed!r}")
        if not self.tau_days > 0:
            raise SekatError(f"tau_days must be positive, got {self.tau_days!r}")
        if isinstance(self.n_boot, bool) or not isinstance(self.n_boot, int | np.integer):
            raise SekatError(f"n_boot must be a whole number, got {self.n_boot!r}")
        if self.n_boot < 2:
            raise SekatError(f"n_boot must be at least 2, got {self.n_boot}")
        if not 0 < self.level < 1:
            raise SekatError(f"level must lie strictly between 0 and 1, got {self.level!r}")
        contrast = Contrast(self.treatment, self.control)
        object.__setattr__(self, "treatment", ARM_JOINER.join(contrast.treatment))
        object.__setattr__(self, "control", ARM_JOINER.join(contrast.control))
        if self.adjustment not in ADJUSTMENTS:
            raise SekatError(f"adjustment must be one of {ADJUSTMENTS}, got {self.adjustment!r}")
        object.__setattr__(self, "covariates", tuple(self.covariates))
        for name in ("reference_channel", "holidays", "local_tz"):
            if getattr(self, name) == "":  # a notebook's "" for none
                object.__setattr__(self, name, None)
        if isinstance(self.standard_days, bool) or not isinstance(
            self.standard_days, int | np.integer
        ):
            raise SekatError(f"standard_days must be a whole number, got {self.standard_days!r}")
        if self.standard_days < 0:
            raise SekatError(f"standard_days must not be negative, got {self.standard_days}")
        self.calendar()  # a bad working week or time zone fails here, before any model

    def calendar(self) -> WorkingCalendar:
        """The working calendar of time in working days and of the service standard."""
        return WorkingCalendar(self.holidays, self.workweek, self.local_tz)

    @property
    def contrast(self) -> Contrast:
        """The treatment and control arms compared."""
        return Contrast(self.treatment.split(ARM_JOINER), self.control.split(ARM_JOINER))

    def to_dict(self) -> dict[str, object]:
        """The settings as plain JSON-able values."""
        values = asdict(self)
        values["covariates"] = list(self.covariates)
        return values


@dataclass(frozen=True)
class Headline:
    """Every headline estimate of one case table, its diagnostics and what was skipped.

    Attributes
    ----------
    table : pandas.DataFrame
        One result table (:data:`toolkit.schema.RESULT_TABLE_COLUMNS`) of every estimate.
    diagnostics : dict of str to pandas.DataFrame
        ``overlap``, ``propensity_histogram`` (AIPW), ``km_curves``, ``ph_test`` (Cox),
        ``rmst_bootstrap`` (the replicates of the weighted ATT of days, for carrying its
        uncertainty into a scenario), ``rollout_panel``; those of skipped parts are absent.
    skipped : dict of str to str
        Part of the analysis (:data:`PARTS`) -> reason code (:data:`SKIP_REASONS`).
    settings : HeadlineSettings
        What it was run with.
    warnings : dict of str to str
        Estimate (term) or part -> warning code (:data:`WARNING_CODES`): what a reader must
        know about a number that was shown, or held back (``poor_overlap``: the ATE failed
        the overlap rule and is kept in ``diagnostics["ate_not_headline"]`` only).
    """

    table: pd.DataFrame
    diagnostics: dict[str, pd.DataFrame]
    skipped: dict[str, str]
    settings: HeadlineSettings = field(default_factory=HeadlineSettings)
    warnings: dict[str, str] = field(default_factory=dict)

    def rows(self, **criteria: object) -> pd.DataFrame:
        """The rows whose descriptors match (:func:`toolkit.results.select`)."""
        return select(self.table, **criteria)

    def row(self, **criteria: object) -> pd.Series:
        """The one row whose descriptors match (:func:`toolkit.results.select_one`)."""
        return select_one(self.table, **criteria)

    def ran(self, part: str) -> bool:
        """Whether a part of the analysis (:data:`PARTS`) ran."""
        if part not in PARTS:
            raise SekatError(f"unknown part {part!r}; parts are {PARTS}")
        return part not in self.skipped


def _levels(cases: pd.DataFrame, column: str) -> int:
    if column not in cases.columns:
        return 0
    return int(cases[column].dropna().nunique())


def hops_skip_reason(cases: pd.DataFrame, hops_observed: bool | None = None) -> str | None:
    """Why a case table supports no hop analysis (a :data:`SKIP_REASONS` code), or None.

    ``hops_unobserved`` when the prepared folder says so (``hops_observed`` False) or no
    request has a hop count; ``no_handoffs`` when every request with one has zero hand-offs
    and a single agency (a one-row-per-request export read as events).

    Examples
    --------
    >>> c = pd.DataFrame({"hops": [0, 0], "distinct_agencies": [1, 1]})
    >>> hops_skip_reason(c), hops_skip_reason(c.assign(hops=[0, 2], distinct_agencies=[1, 2]))
    ('no_handoffs', None)
    >>> hops_skip_reason(c, hops_observed=False)
    'hops_unobserved'
    """
    hops = pd.to_numeric(cases.get(schema.HOPS), errors="coerce")
    observed = hops.notna().to_numpy() if hops is not None else np.zeros(len(cases), dtype=bool)
    if hops_observed is False or not observed.any():
        return "hops_unobserved"
    if _no_handoffs(cases, observed):
        return "no_handoffs"
    return None


def _no_handoffs(cases: pd.DataFrame, observed: np.ndarray) -> bool:
    """Whether no request with observed hops was ever handed on (all zero, one agency each)."""
    hops = pd.to_numeric(cases[schema.HOPS], errors="coerce").to_numpy()[observed]
    if (hops != 0).any():
        return False
    if schema.DISTINCT_AGENCIES in cases.columns:
        agencies = pd.to_numeric(cases[schema.DISTINCT_AGENCIES], errors="coerce")
        return bool((agencies.to_numpy()[observed] <= 1).all())
    return True


def _arms_comparable(cases: pd.DataFrame, floor: int, observed: np.ndarray | None = None) -> bool:
    treated = treatment_indicator(cases).astype(bool)
    if observed is not None:
        treated = treated[observed]
        n = int(observed.sum())
    else:
        n = len(cases)
    return int(treated.sum()) >= floor and n - int(treated.sum()) >= floor


def headline_analysis(
    cases: pd.DataFrame,
    *,
    rollout: pd.DataFrame | None = None,
    settings: HeadlineSettings | None = None,
    hops_observed: bool | None = None,
    **overrides: object,
) -> Headline:
    """Every headline estimate of a case table, in one result table.

    Parameters
    ----------
    cases : pandas.DataFrame
        Case table (:func:`toolkit.paths.case_table`).
    rollout : pandas.DataFrame, optional
        Desk opening dates (``region``, ``desk_opened``, UTC): adds the rollout event study
        and the desk status to every propensity model.
    settings : HeadlineSettings, optional
        The parameters; or give them by name (``seed=1, n_boot=50``).
    hops_observed : bool, optional
        What the prepared folder says (``hops_observed`` of its report or manifest): False
        skips every hop analysis. Default: decided from the data (see Notes).

    Returns
    -------
    Headline
        Rows (terms in brackets), each with its descriptors:

        - hops: ``mean_hops[<channel group>]``, ``difference_hops`` (naive), ``ate_hops``
          and ``att_hops`` (AIPW), ``irr_hops`` (Poisson fixed effects, a conditional rate
          ratio), ``att_hops[category=<c>]`` and ``att_hops[region=<r>]`` (AIPW within each
          group, simultaneous intervals);
        - time: ``median_days[<channel group>]`` (Kaplan-Meier), ``difference_rmst_days``
          (naive), ``ate_rmst_days`` and ``att_rmst_days`` (propensity-weighted
          Kaplan-Meier) with the per-arm ``rmst_days[...]``, ``hazard_ratio`` (Cox,
          stratified by category);
        - by channel (every request, whatever the contrast): ``mean_hops[<channel>]``,
          ``median_days[<channel>]`` and ``median_working_days[<channel>]`` (group
          ``channel``), ``hazard_ratio[channel=<c>]`` (contrast ``"<c> vs <reference>"``),
          ``on_time[<channel>]`` (outcome ``on_time``: resolved within
          ``standard_days`` working days, or by the ``target`` column when the cases carry
          one);
        - sensitivity: ``e_value[<term>]`` beside the AIPW ATT of hops, the rate ratio, the
          weighted ATT of days and the hazard ratio (group ``sensitivity``, method key
          ``e_value``; :mod:`toolkit.estimate.sensitivity`);
        - with ``rollout``: the rows of :func:`toolkit.estimate.rollout.rollout_event_study`
          (``att_rollout_<outcome>``, ``es_<outcome>[e=k]``, ...) on every request (the
          rollout compares districts, not channels).

    Notes
    -----
    Hops are compared on requests with observed hops, time on every request (open ones
    censored). A log whose every request has zero hand-offs and one agency (a one-row-per-
    request export read without saying so) carries no hop information: the hop parts are
    skipped as ``no_handoffs`` rather than fitted to a constant. Where desks open at staggered dates, social intake is near zero in a region
    before its desk opens, a region-by-time pattern that main effects of region and month
    miss: the propensity models get the desk status (see
    :func:`toolkit.estimate.rollout.with_desk_status`; ``benchmarks/README.md`` has the
    measured bias with and without it). The outcome models (AIPW's per-arm Poisson models,
    the Poisson fixed-effects ratio, Cox) keep the plain adjustment set.

    Examples
    --------
    >>> from toolkit.synthetic import simulate
    >>> from toolkit.paths import case_table
    >>> result = headline_analysis(case_table(simulate(3000, seed=2).events), seed=1, n_boot=20)
    >>> result.row(estimand="att", outcome="hops", group=None)["term"]
    'att_hops'
    >>> result.skipped
    {'rollout': 'no_rollout'}
    """
    if settings is None:
        settings = HeadlineSettings(**overrides)
    elif overrides:
        raise SekatError("give either settings or settings by name, not both")
    require_columns(cases, [schema.CHANNEL, schema.START], what="the case table")
    contrast = settings.contrast
    compared = comparison_cases(cases, contrast)
    covariates = [c for c in settings.covariates if c == "month" or _levels(compared, c) > 0]
    weighted, propensity_covariates = with_desk_status(compared, rollout, covariates)
    level, floor = settings.level, settings.min_requests
    parts: list[pd.DataFrame] = []
    diagnostics: dict[str, pd.DataFrame] = {}
    skipped: dict[str, str] = {}
    warnings: dict[str, str] = {}
    held_back: list[pd.DataFrame] = []

    def overlap_gate(table: pd.DataFrame, rule: pd.DataFrame) -> pd.DataFrame:
        """The ATE rows leave the headline when the weights fail the overlap rule."""
        if bool(rule["ate_supported"].iloc[0]):
            return table
        ate = (table[schema.ESTIMAND] == "ate").fillna(False).to_numpy(dtype=bool)
        for term in table.loc[ate, schema.RESULT_COLUMNS[0]]:
            warnings[str(term)] = "poor_overlap"
        held_back.append(table.loc[ate])
        return table.loc[~ate]

    hops = pd.to_numeric(compared.get(schema.HOPS), errors="coerce")
    observed = hops.notna().to_numpy() if hops is not None else np.zeros(len(compared), dtype=bool)
    no_hops = hops_skip_reason(cases, hops_observed)
    if no_hops is not None:
        for part in ("hops", "by_category", "by_region"):
            skipped[part] = no_hops
    elif not _arms_comparable(compared, floor, observed):
        for part in ("hops", "by_category", "by_region"):
            skipped[part] = "one_arm"
    else:
        parts.append(naive_hops(compared, level=level))
        aipw = aipw_hops(
            weighted,
            covariates=propensity_covariates,
            outcome_covariates=covariates,
            level=level,
        )
        parts.append(overlap_gate(aipw.table, aipw.diagnostics["overlap_rule"]))
        diagnostics.update(aipw.diagnostics)
        parts.append(hops_regression(compared, fixed_effects=covariates, level=level).table)
        for part, column in (("by_category", schema.CATEGORY), ("by_region", schema.REGION)):
            if _levels(compared, column) < 2:
                skipped[part] = "no_groups"
                continue
            by_group = effects_by_group(
                weighted,
                by=column,
                covariates=propensity_covariates,
                outcome_covariates=covariates,
                estimand="att",
                adjustment=settings.adjustment,
                min_requests=floor,
                level=level,
            )
            if by_group.empty:
                skipped[part] = "one_arm"
            else:
                parts.append(by_group)

    resolved = compared.get(schema.CENSORED)
    if resolved is None or bool(resolved.astype(bool).all()):
        skipped["time"] = "no_resolutions"
    elif not _arms_comparable(compared, floor):
        skipped["time"] = "one_arm"
    else:
        km = kaplan_meier(compared, by=schema.CHANNEL_GROUP, level=level)
        parts.append(km.table)
        diagnostics["km_curves"] = km.diagnostics["curves"]
        for weighting, estimand in (("naive", "ate"), ("ipw", "ate"), ("ipw", "att")):
            rmst = rmst_difference(
                weighted,
                tau_days=settings.tau_days,
                weighting=weighting,
                covariates=propensity_covariates,
                estimand=estimand,
                n_boot=settings.n_boot,
                seed=settings.seed,
                level=level,
            )
            if weighting == "ipw":
                diagnostics[f"rmst_overlap_{estimand}"] = rmst.diagnostics["overlap"]
                if estimand == "ate":
                    rmst = type(rmst)(
                        overlap_gate(rmst.table, rmst.diagnostics["overlap_rule"]),
                        rmst.diagnostics,
                    )
            parts.append(rmst.table)
            if weighting == "ipw" and estimand == "att":
                diagnostics["rmst_bootstrap"] = rmst.diagnostics["bootstrap"]
        strata = schema.CATEGORY if _levels(compared, schema.CATEGORY) > 1 else None
        cox = cox_ph(
            compared,
            covariates=[c for c in covariates if c != strata],
            strata=strata,
            level=level,
        )
        parts.append(cox.table)
        diagnostics["ph_test"] = cox.diagnostics["ph_test"]
        ph = cox.diagnostics["ph_test"].set_index("term")["p_value"]
        if SOCIAL_TERM in ph.index and ph[SOCIAL_TERM] < PH_ALPHA:
            # one hazard ratio averages a ratio that changes over time: say so, and point to
            # the restricted-mean difference, which assumes nothing about hazards
            for term in select(cox.table, estimand="conditional")["term"]:
                warnings[str(term)] = "ph_violated"

    time_observed = skipped.get("time") != "no_resolutions"
    if no_hops is not None and not time_observed:
        skipped["by_channel"] = "no_resolutions"
    else:
        by_channel, channel_diagnostics = _by_channel(
            cases, settings, hops=no_hops is None, time=time_observed
        )
        parts.append(by_channel)
        diagnostics.update(channel_diagnostics)

    if rollout is None:
        skipped["rollout"] = "no_rollout"
    elif _levels(cases, schema.REGION) < 2:
        skipped["rollout"] = "no_groups"
    else:
        try:
            study = rollout_event_study(cases, rollout, tau_days=settings.tau_days, level=level)
        except SekatError as error:
            if "no unit is treated" not in str(error):
                raise
            skipped["rollout"] = "no_adopters"
        else:
            parts.append(study.table)
            diagnostics["rollout_panel"] = study.diagnostics["panel"]

    table = result_frame(pd.concat(parts, ignore_index=True)) if parts else result_frame([])
    table = _with_e_values(table, compared, settings.tau_days)
    table = _name_the_contrast(table, contrast)
    if held_back:
        diagnostics["ate_not_headline"] = _name_the_contrast(
            result_frame(pd.concat(held_back, ignore_index=True)), contrast
        )
    return Headline(
        table=table,
        diagnostics=diagnostics,
        skipped=dict(skipped),
        settings=settings,
        warnings=warnings,
    )


#: The headline estimates qualified by an E-value (:mod:`toolkit.estimate.sensitivity`).
_SENSITIVITY_OF = (
    {"estimand": "att", "outcome": schema.HOPS_OUTCOME, "method_key": "aipw"},
    {"estimand": "conditional", "outcome": schema.HOPS_OUTCOME, "method_key": "poisson_fe"},
    {
        "estimand": "att",
        "outcome": schema.RMST_OUTCOME,
        "method_key": "ipw_km",
        "scale": "difference",
    },
    {"estimand": "conditional", "outcome": schema.HAZARD_OUTCOME, "method_key": "cox"},
)


def _with_e_values(table: pd.DataFrame, cases: pd.DataFrame, tau_days: float) -> pd.DataFrame:
    """The table with an E-value row beside each headline effect it has (group "sensitivity")."""
    qualified = [
        select(table, group=None, contrast=schema.SOCIAL_CONTRAST, **c) for c in _SENSITIVITY_OF
    ]
    qualified = [q for q in qualified if len(q)]
    if not qualified:
        return table
    spread: dict[str, float] = {}
    hops = pd.to_numeric(cases.get(schema.HOPS), errors="coerce")
    if hops is not None and hops.notna().sum() > 1 and hops.std() > 0:
        spread[schema.HOPS_OUTCOME] = float(hops.std())
    if schema.DURATION_HOURS in cases.columns:
        # days unresolved within tau (censored requests at their censoring time: an
        # approximation of the spread of min(T, tau))
        days = pd.to_numeric(cases[schema.DURATION_HOURS], errors="coerce") / 24.0
        restricted = days.clip(upper=tau_days)
        if restricted.notna().sum() > 1 and restricted.std() > 0:
            spread[schema.RMST_OUTCOME] = float(restricted.std())
    rows = e_value_rows(pd.concat(qualified, ignore_index=True), spread)
    return result_frame(pd.concat([table, rows], ignore_index=True)) if len(rows) else table


def _reference_channel(cases: pd.DataFrame, settings: HeadlineSettings) -> str | None:
    counts = cases[schema.CHANNEL].astype("object").value_counts()
    resolved = (
        cases.loc[~cases[schema.CENSORED].astype(bool), schema.CHANNEL]
        .astype("object")
        .value_counts()
    )
    usable = [c for c, n in counts.items() if n >= settings.min_requests and resolved.get(c, 0) > 0]
    if settings.reference_channel is not None:
        if settings.reference_channel not in usable:
            raise SekatError(
                f"reference channel {settings.reference_channel!r} has fewer than "
                f"{settings.min_requests} requests or none resolved; channels usable: {usable}",
                column=schema.CHANNEL,
            )
        return settings.reference_channel
    if "phone" in usable:
        return "phone"
    return usable[0] if usable else None


def _by_channel(
    cases: pd.DataFrame, settings: HeadlineSettings, *, hops: bool, time: bool
) -> tuple[pd.DataFrame, dict[str, pd.DataFrame]]:
    """What a 311 desk measures, per channel: mean hand-offs (where recorded); medians in days
    and working days, Cox against a reference channel and the share that met the service
    standard (where requests are resolved). No contrast is needed: a log without social
    intake still gets them."""
    level, calendar = settings.level, settings.calendar()
    if time and schema.END not in cases.columns:
        # A case table cut down to the columns the contrast needs: the end is, by definition,
        # the start plus the duration (working days are counted between the two dates).
        duration = pd.to_timedelta(pd.to_numeric(cases[schema.DURATION_HOURS]), unit="h")
        cases = cases.assign(**{schema.END: pd.to_datetime(cases[schema.START]) + duration})
    tables = [hops_by_channel(cases, level=level).table] if hops else []
    if not time:
        return pd.concat(tables, ignore_index=True), {}
    days = resolution_by_channel(cases, level=level)
    workdays = resolution_by_channel(cases, calendar=calendar, level=level)
    tables += [days.table, workdays.table]
    diagnostics = {
        "km_channel_curves": days.diagnostics["curves"],
        "km_channel_working_curves": workdays.diagnostics["curves"],
        "channel_summary": days.diagnostics["summary"],
    }
    reference = _reference_channel(cases, settings)
    if reference is not None and cases[schema.CHANNEL].nunique() > 1:
        covariates = [c for c in settings.covariates if c == "month" or _levels(cases, c) > 1]
        strata = schema.CATEGORY if _levels(cases, schema.CATEGORY) > 1 else None
        cox = cox_by_channel(
            cases,
            reference=reference,
            covariates=[c for c in covariates if c != strata],
            strata=strata,
            min_requests=settings.min_requests,
            level=level,
        )
        tables.append(cox.table)
        diagnostics["channel_left_out"] = cox.diagnostics["left_out"]
    target = TARGET_COLUMN if TARGET_COLUMN in cases.columns else None
    if target is not None and not cases[target].notna().any():
        target = None
    if target is not None:
        standard = compliance(cases, target=target, level=level)
    else:
        standard = compliance(cases, within=settings.standard_days, calendar=calendar, level=level)
    tables.append(standard.table)
    diagnostics["compliance_counts"] = standard.diagnostics["counts"]
    diagnostics["service_standard"] = pd.DataFrame(
        {
            "standard": ["target" if target is not None else "working_days"],
            "working_days": [settings.standard_days],
        }
    )
    return pd.concat(tables, ignore_index=True), diagnostics


def _name_the_contrast(table: pd.DataFrame, contrast: Contrast) -> pd.DataFrame:
    """Rows of the channel contrast carry its descriptor, and its arms their names.

    The estimators compare the arms of :func:`comparison_cases` as "social" and "not social";
    here those rows get the contrast actually run (``"web vs phone"``), so labels, captions
    and the planted truth (:func:`truth_key`) follow it.
    """
    if contrast.is_default() or table.empty:
        return table
    table = table.copy()
    ours = (table[schema.CONTRAST] == schema.SOCIAL_CONTRAST).fillna(False).to_numpy(dtype=bool)
    table.loc[ours, schema.CONTRAST] = contrast.descriptor
    arm = ours & (table[schema.GROUP] == "arm").fillna(False).to_numpy(dtype=bool)
    names = {
        schema.SOCIAL: ARM_JOINER.join(contrast.treatment),
        schema.NOT_SOCIAL: ARM_JOINER.join(contrast.control),
    }
    table.loc[arm, schema.GROUP_VALUE] = table.loc[arm, schema.GROUP_VALUE].map(
        lambda v: names.get(v, v)
    )
    return table


def headline_estimates(
    cases: pd.DataFrame, *, rollout: pd.DataFrame | None = None, **settings: object
) -> pd.DataFrame:
    """The result table of :func:`headline_analysis` (its ``.table``), for callers of 0.1.

    Examples
    --------
    >>> from toolkit.synthetic import simulate
    >>> from toolkit.paths import case_table
    >>> table = headline_estimates(case_table(simulate(2000, seed=3).events), seed=1, n_boot=5)
    >>> "att_hops" in set(table["term"])
    True
    """
    return headline_analysis(cases, rollout=rollout, **settings).table


# --- planted truth -----------------------------------------------------------------------------

#: (estimand, outcome, scale, contrast) of a result row -> the name of its planted value in the
#: generator's truth table (:func:`toolkit.synthetic.simulate`).
_TRUTH_NAMES: dict[tuple[str, str, str, str], str] = {
    ("ate", schema.HOPS_OUTCOME, "difference", schema.SOCIAL_CONTRAST): "ate_hops",
    ("att", schema.HOPS_OUTCOME, "difference", schema.SOCIAL_CONTRAST): "att_hops",
    ("ate", schema.RMST_OUTCOME, "difference", schema.SOCIAL_CONTRAST): "rmst_diff_days",
    ("att", schema.RMST_OUTCOME, "difference", schema.SOCIAL_CONTRAST): "att_rmst_diff_days",
    ("att", schema.HOPS_OUTCOME, "difference", schema.DESK_CONTRAST): "att_rollout_hops",
    ("att", schema.RMST_OUTCOME, "difference", schema.DESK_CONTRAST): "att_rollout_rmst_days",
}
#: The truth table's name of the event-study values, by outcome.
_EVENT_TRUTH_NAMES = {schema.HOPS_OUTCOME: "es_hops", schema.RMST_OUTCOME: "es_rmst_days"}


def truth_key(row: dict[str, object] | pd.Series) -> tuple[str, str] | None:
    """The (estimand, group) key of a result row in the generator's truth table, if it has one.

    Only estimands the generator plants have a key: the ATE and ATT of social intake on hops
    and on days unresolved within tau (overall and by category), and the rollout's overall
    effect and event-time effects. Naive differences and conditional ratios estimate other
    quantities and get none, and so does every other contrast (``"social vs digital"``,
    ``"twitter vs phone"``): the generator plants the effect of social intake against each
    request's own non-social channel only.

    Examples
    --------
    >>> truth_key({"estimand": "att", "outcome": "hops", "scale": "difference",
    ...     "contrast": "social vs not_social", "group": "category", "group_value": "roads",
    ...     "event_time": None})
    ('att_hops', 'category=roads')
    >>> truth_key({"estimand": "difference", "outcome": "hops", "scale": "difference",
    ...     "contrast": "social vs not_social", "group": None, "group_value": None,
    ...     "event_time": None}) is None
    True
    """

    def value(name: str) -> object:
        item = row.get(name) if isinstance(row, dict) else row[name]
        return None if item is None or (not isinstance(item, str) and pd.isna(item)) else item

    contrast = value(schema.CONTRAST)
    outcome = value(schema.OUTCOME)
    if value(schema.METHOD_KEY) == "twfe":
        return None  # TWFE targets no well-defined average under staggered adoption
    event_time = value(schema.EVENT_TIME)
    group = value(schema.GROUP)
    if event_time is not None:
        if (
            contrast != schema.DESK_CONTRAST
            or group is not None
            or outcome not in _EVENT_TRUTH_NAMES
        ):
            return None
        return _EVENT_TRUTH_NAMES[str(outcome)], f"e={int(event_time)}"
    key = (value(schema.ESTIMAND), outcome, value(schema.SCALE), contrast)
    name = _TRUTH_NAMES.get(key)  # type: ignore[arg-type]
    if name is None:
        return None
    if group is None:
        return name, "overall"
    if group == schema.CATEGORY and contrast == schema.SOCIAL_CONTRAST:
        return name, f"{group}={value(schema.GROUP_VALUE)}"
    return None


def compare_to_truth(estimates: pd.DataFrame, truth: pd.DataFrame | None) -> pd.DataFrame:
    """Put the planted value beside each estimate that has one, with its bias and coverage.

    Parameters
    ----------
    estimates : pandas.DataFrame
        A result table.
    truth : pandas.DataFrame or None
        The generator's truth table (``estimand``, ``group``, ``value``, ...); None for a
        real log (then every planted value is missing).

    Returns
    -------
    pandas.DataFrame
        ``estimates`` with the columns ``truth``, ``bias`` (estimate minus truth) and
        ``covered`` (truth inside [ci_low, ci_high]; <NA> where nothing was planted).

    Examples
    --------
    >>> est = result_frame([{"term": "att_hops", "estimate": -0.2, "ci_low": -0.3,
    ...     "ci_high": -0.1, "method": "AIPW", "estimand": "att", "outcome": "hops",
    ...     "scale": "difference", "contrast": "social vs not_social"}])
    >>> truth = pd.DataFrame({"estimand": ["att_hops"], "group": ["overall"],
    ...                       "value": [-0.25]})
    >>> compare_to_truth(est, truth)[["truth", "covered"]].values.tolist()
    [[-0.25, True]]
    """
    out = estimates.copy()
    values = np.full(len(out), np.nan)
    if truth is not None:
        require_columns(truth, ("estimand", "group", "value"), what="the truth table")
        planted = {
            (str(e), str(g)): float(v)
            for e, g, v in zip(truth["estimand"], truth["group"], truth["value"], strict=True)
        }
        for i, row in enumerate(out.to_dict("records")):
            key = truth_key(row)
            if key is not None:
                values[i] = planted.get(key, np.nan)
    out["truth"] = values
    out["bias"] = out["estimate"] - out["truth"]
    covered = (out["ci_low"] <= out["truth"]) & (out["truth"] <= out["ci_high"])
    out["covered"] = pd.array(covered, dtype="boolean")
    out.loc[out["truth"].isna(), "covered"] = pd.NA
    return out


def truth_rows(estimates: pd.DataFrame, truth: pd.DataFrame | None) -> pd.DataFrame:
    """The planted values of the estimands in ``estimates``, as result rows of their own.

    One row per distinct estimand with a planted value (method "planted truth", method key
    ``truth``, a zero-width interval), carrying the descriptors of the first estimate of it, so
    a figure can draw the truth beside the estimates.

    Examples
    --------
    >>> est = result_frame([{"term": "att_hops", "estimate": -0.2, "method": "AIPW",
    ...     "estimand": "att", "outcome": "hops", "scale": "difference",
    ...     "contrast": "social vs not_social", "method_key": "aipw"}])
    >>> truth = pd.DataFrame({"estimand": ["att_hops"], "group": ["overall"], "value": [-0.25]})
    >>> truth_rows(est, truth)[["term", "estimate", "method_key"]].values.tolist()
    [['att_hops', -0.25, 'truth']]
    """
    compared = compare_to_truth(estimates, truth)
    planted = compared.loc[compared["truth"].notna()]
    planted = planted.drop_duplicates(["term"])
    return result_frame(
        planted.assign(
            estimate=planted["truth"],
            std_error=np.nan,
            ci_low=planted["truth"],
            ci_high=planted["truth"],
            n=pd.NA,
            method="planted truth",
            method_key="truth",
        )
    )
