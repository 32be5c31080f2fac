"""A synthetic city-government request log with planted, known causal effects.

:func:`simulate` models an Indonesian-style city: citizens send requests (a broken road,
no water, uncollected waste, an ID card, ...) by social media, web, app, e-mail, SMS, phone,
walk-in or letter. A front office takes each request in (a kelurahan or kecamatan office,
the call centre, the complaint portal, the city secretariat, or a kecamatan's social-media
desk) and it travels to the responsible dinas or utility, with misrouting and ping-pong on
the way, heavy-tailed service times, rejections, reopened requests and right-censoring at the
end of the observation window. Social-media desks open at staggered months across kecamatan.

For every request both potential outcomes are simulated with common random numbers: the hops
and the resolution time it would have had with social intake (``Y1``) and with its
non-social channel (``Y0``); the log shows the one that matches its channel. The truth table
holds sample average effects computed exactly from these potential outcomes, in the units the
estimators report (hops, incidence-rate ratios, days within a 30-day horizon), so every
estimator can be checked against it. Channel choice is confounded by region, category and
time, and the same covariates move hops and time, so the naive social-vs-not comparison
overstates the benefit; ``confounding=0`` removes that and zero effects give a zero truth.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa

from toolkit import schema
from toolkit.errors import SekatError

__all__ = [
    "CATEGORIES",
    "DEFAULT_EFFECT_HOPS",
    "DEFAULT_EFFECT_TIME",
    "DEFAULT_REGIONS",
    "Simulation",
    "simulate",
]

# --- the city ------------------------------------------------------------------------------

#: Request categories of the synthetic city, in the order of the ``category`` dtype.
CATEGORIES: tuple[str, ...] = (
    "roads",
    "drainage",
    "water",
    "waste",
    "civil_registry",
    "health",
    "transport",
    "electricity",
)

#: Kecamatan (regions), from the most to the least urban (young, online) one, each with two
#: kelurahan that take walk-in requests.
DEFAULT_REGIONS: Mapping[str, tuple[str, str]] = MappingProxyType(
    {
        "Coblong": ("Dago", "Lebak Siliwangi"),
        "Sukajadi": ("Sukagalih", "Sukawarna"),
        "Lengkong": ("Malabar", "Turangga"),
        "Cicendo": ("Pasirkaliki", "Arjuna"),
        "Regol": ("Ciateul", "Pungkur"),
        "Andir": ("Ciroyom", "Garuda"),
        "Batununggal": ("Kebon Waru", "Samoja"),
        "Astanaanyar": ("Karasak", "Pelindung Hewan"),
        "Bojongloa Kaler": ("Kopo", "Babakan Asih"),
        "Kiaracondong": ("Kebonjayanti", "Babakansari"),
        "Arcamanik": ("Sukamiskin", "Cisaranten Kulon"),
        "Ujungberung": ("Pasanggrahan", "Cigending"),
    }
)

#: Planted effect of social intake on hops, per category: the log rate ratio of hops
#: (negative = fewer hops), at full desk maturity; exp() of it is the incidence-rate ratio.
DEFAULT_EFFECT_HOPS: Mapping[str, float] = MappingProxyType(
    {
        "roads": -0.30,
        "drainage": -0.25,
        "water": -0.20,
        "waste": -0.40,
        "civil_registry": -0.05,
        "health": -0.10,
        "transport": -0.25,
        "electricity": -0.15,
    }
)
#: Planted effect of social intake on time, per category: the log time ratio applied to
#: every hand-over delay and service time (negative = faster), at full desk maturity.
DEFAULT_EFFECT_TIME: Mapping[str, float] = MappingProxyType(
    {
        "roads": -0.30,
        "drainage": -0.25,
        "water": -0.20,
        "waste": -0.40,
        "civil_registry": -0.10,
        "health": -0.15,
        "transport": -0.25,
        "electricity": -0.10,
    }
)

# Per category: share of requests, social tilt (log-odds; easy, visible problems are posted
# more), log hop term, median service days, responsible agency, agencies it gets confused
# with ("@kecamatan" = the request's own kecamatan office).
_CATEGORY_TABLE: dict[str, tuple[float, float, float, float, str, tuple[str, ...]]] = {
    "roads": (0.20, 0.6, -0.10, 4.0, "Dinas PU", ("Dishub", "Dinas Perkim", "DLH")),
    "drainage": (0.10, 0.2, 0.10, 6.0, "Dinas PU", ("DLH", "Dinas Perkim", "PDAM")),
    "water": (0.15, 0.0, 0.00, 4.0, "PDAM", ("Dinas PU", "Dinas Perkim")),
    "waste": (0.15, 0.8, -0.30, 2.0, "DLH", ("@kecamatan", "Dinas PU", "Satpol PP")),
    "civil_registry": (0.12, -0.8, 0.30, 9.0, "Disdukcapil", ("@kecamatan", "Dinsos")),
    "health": (0.08, -0.5, 0.20, 7.0, "Dinkes", ("RSUD", "Dinsos", "Disdukcapil")),
    "transport": (0.10, 0.4, -0.10, 4.0, "Dishub", ("Dinas PU", "Satpol PP")),
    "electricity": (0.10, 0.1, 0.10, 3.0, "PLN", ("Dishub", "Dinas PU")),
}

_SOCIAL_PLATFORMS = {"twitter": 0.22, "facebook": 0.18, "instagram": 0.27, "whatsapp": 0.33}
# Non-social channel: base share, log hop term, median hours before the first hand-over,
# log-odds tilt per unit of urbanness (rural people walk in and write letters).
_NONSOCIAL_TABLE: dict[str, tuple[float, float, float, float]] = {
    "web": (0.12, 0.00, 12.0, 0.4),
    "app": (0.10, -0.10, 8.0, 0.5),
    "email": (0.05, 0.10, 24.0, 0.3),
    "sms": (0.05, 0.10, 12.0, 0.0),
    "phone": (0.24, 0.10, 8.0, 0.0),
    "walk_in": (0.33, 0.30, 24.0, -0.6),
    "letter": (0.10, 0.40, 72.0, -0.6),
    "other": (0.01, 0.20, 24.0, 0.0),
}
_CALL_CENTRE = "Call Center"
_PORTAL = "Portal Pengaduan"
_SEKDA = "Sekda"
_HUMAS = "Humas Setda"  # takes social posts where no desk exists yet

_ACT = {name: i for i, name in enumerate(schema.ACTIVITIES)}
_HOUR = 3600


@dataclass(frozen=True)
class Simulation:
    """A simulated request log with its planted truth.

    Attributes
    ----------
    events : pandas.DataFrame
        Canonical event log (columns and dtypes of :data:`toolkit.schema.DTYPES`), rows in
        time order, events after the observation cut-off removed.
    truth : pandas.DataFrame
        Planted sample average effects: ``estimand, group, value, unit, n, description``.
    rollout : pandas.DataFrame
        ``region`` and ``desk_opened`` (UTC timestamp; NaT where no desk opens in the window).
    params : dict
        Every parameter of the run, JSON-serialisable; ``params["end"]`` is the cut-off.
    outcomes : pandas.DataFrame
        One row per request (in ``case_id`` order), what no real log shows: ``case_id``,
        ``channel``, ``nonsocial_channel`` (the channel it would use without social media),
        ``category``, ``region``, ``month`` (intake month index, 0 = first), ``social``,
        ``desk_open``, ``event_time`` (months since its region's desk opened, -1 if none),
        ``maturity`` (the share of the full effect it gets under social intake, 0 to 1),
        both potential outcomes ``hops_0``, ``hops_1``, ``duration_hours_0``,
        ``duration_hours_1`` (full paths, uncensored), ``complete`` (every event of the
        realised request lies before the cut-off, so the log shows its full outcome) and
        ``censored`` (the log shows it unresolved at the cut-off; a request resolved before
        the cut-off and reopened after it looks resolved). For teaching and checking
        estimators.
    """

    events: pd.DataFrame
    truth: pd.DataFrame
    rollout: pd.DataFrame
    params: dict[str, Any] = field(repr=False)
    outcomes: pd.DataFrame = field(repr=False)

    @property
    def cutoff(self) -> pd.Timestamp:
        """End of the observation window (events at or after it are not in the log)."""
        return pd.Timestamp(self.params["end"])

    def summary(self) -> pd.DataFrame:
        """Headline numbers of the run, one row each, for a first look.

        Returns
        -------
        pandas.DataFrame
            Columns ``quantity`` and ``value``: requests, events, events per request, social
            share, share unresolved at the cut-off, and the planted ATT on hops and on the
            RMST beside the naive social-minus-not-social difference of the same (computed
            on the full, uncensored realised outcomes, so only confounding separates them).

        Examples
        --------
        >>> simulate(200, seed=3).summary()["quantity"].tolist()[:2]
        ['requests', 'events']
        """
        po, truth = self.outcomes, self.truth.set_index(["estimand", "group"])["value"]
        social = po["social"].to_numpy()
        hops = np.where(social, po["hops_1"], po["hops_0"])
        tau_h = 24.0 * self.params["rmst_horizon_days"]
        days = np.minimum(np.where(social, po["duration_hours_1"], po["duration_hours_0"]), tau_h)
        days = days / 24.0

        def gap(y: np.ndarray) -> float:
            return (
                float(y[social].mean() - y[~social].mean()) if 0 < social.sum() < len(y) else np.nan
            )

        rows = [
            ("requests", float(len(po))),
            ("events", float(len(self.events))),
            ("events per request", len(self.events) / max(len(po), 1)),
            ("social share", float(social.mean())),
            ("unresolved at cut-off", float(po[schema.CENSORED].mean())),
            ("planted att_hops", float(truth[("att_hops", "overall")])),
            ("naive hops difference", gap(hops)),
            ("planted att_rmst_diff_days", float(truth[("att_rmst_diff_days", "overall")])),
            ("naive rmst difference (days)", gap(days)),
        ]
        return pd.DataFrame(rows, columns=["quantity", "value"])


# --- parameters ----------------------------------------------------------------------------


def _effects(value: float | Mapping[str, float], name: str) -> dict[str, float]:
    if isinstance(value, Mapping):
        unknown = sorted(set(value) - set(CATEGORIES))
        if unknown:
            raise SekatError(f"{name}: unknown categories {unknown}; known: {list(CATEGORIES)}")
        return {c: float(value.get(c, 0.0)) for c in CATEGORIES}
    return dict.fromkeys(CATEGORIES, float(value))


def _default_desk_months(regions: Sequence[str], months: int) -> dict[str, int | None]:
    """Staggered desk openings: urban kecamatan first, the two least urban never."""
    n = len(regions)
    n_never = min(n - 1, max(1, round(n / 6)))
    adopters = list(regions[: n - n_never])
    fractions = (0.15, 0.35, 0.55, 0.75)
    out: dict[str, int | None] = {}
    for rank, region in enumerate(adopters):
        cohort = min(len(fractions) - 1, rank * len(fractions) // len(adopters))
        out[region] = max(1, int(round(fractions[cohort] * months)))
    for region in regions[n - n_never :]:
        out[region] = None
    return out


# --- the simulation ------------------------------------------------------------------------


def simulate(
    n_cases: int = 20_000,
    seed: int = 1,
    *,
    start: str = "2023-01-01",
    months: int = 24,
    social_share: float = 0.25,
    effect_hops: float | Mapping[str, float] = DEFAULT_EFFECT_HOPS,
    effect_time: float | Mapping[str, float] = DEFAULT_EFFECT_TIME,
    effect_ramp_months: int = 6,
    confounding: float = 1.0,
    regions: Sequence[str] | None = None,
    desk_open_months: Mapping[str, int | None] | None = None,
    uptake_months: int = 4,
    social_share_before_desk: float = 0.01,
    mean_hops: float = 1.6,
    hop_dispersion: float = 2.0,
    max_hops: int = 16,
    service_sigma: float = 1.1,
    stuck_rate: float = 0.08,
    reject_rate: float = 0.04,
    reopen_rate: float = 0.06,
    close_rate: float = 0.4,
    volume_growth: float = 0.15,
    rmst_horizon_days: float = 30.0,
    region_shock: float = 0.0,
    region_month_shock: float = 0.0,
) -> Simulation:
    """Simulate a city's request log with planted effects of social-media intake.

    Parameters
    ----------
    n_cases : int
        Number of requests submitted in the window.
    seed : int
        Seed of the random generator; the same arguments give identical frames.
    start : str
        First day of the observation window (UTC).
    months : int
        Length of the window in months; events at or after its end are cut off.
    social_share : float
        Share of social intake in a region whose desk is mature, at average covariates.
    effect_hops, effect_time : float or mapping of category to float
        Planted effects of social intake at full desk maturity, per category (a float gives
        every category the same): the log rate ratio of hops, and the log time ratio of
        every hand-over delay and service time.
        Negative = fewer hops / faster. Zero both to switch the effect off.
    effect_ramp_months : int
        The effect grows linearly over the first months after a desk opens, reaching full
        size in month ``effect_ramp_months - 1`` of event time (0 or 1: immediate).
    confounding : float
        Strength of confounding (0 = none, 1 = default, larger = stronger). It scales how
        much urbanness, category and time move channel choice, and how much urbanness and
        time move hops and resolution time.
    regions : sequence of str, optional
        Kecamatan names ordered from most to least urban; default :data:`DEFAULT_REGIONS`.
    desk_open_months : mapping of region to int or None, optional
        Month index (0 = first month) at which each region's social-media desk opens, or
        None for never. Default: four cohorts, urban ones first, the least urban never.
    uptake_months : int
        Months over which the social share rises to its mature level after a desk opens.
    social_share_before_desk : float
        Share of social intake where no desk is open (handled by the secretariat's public
        relations unit, with no effect).
    mean_hops : float
        Mean number of hops at baseline (before category, channel and covariate terms).
    hop_dispersion : float
        Gamma frailty shape of the hop rate (smaller = more overdispersed).
    max_hops : int
        Cap on the hops of one request.
    service_sigma : float
        Log-scale standard deviation of service times (heavy right tail).
    stuck_rate : float
        Share of requests stuck in a backlog: their service time is multiplied by a Pareto
        factor (5 to 100, tail index 1.5), so some take months.
    reject_rate, reopen_rate, close_rate : float
        Probability that a request is rejected (then closed), that a resolved request is
        reopened once, and that a resolution is followed by a ``closed`` event.
    volume_growth : float
        Yearly growth of the number of requests.
    rmst_horizon_days : float
        Horizon tau of the restricted mean survival time in the truth table.
    region_shock, region_month_shock : float
        Log-scale standard deviations of shocks shared by every request of a district, and of
        a district in one month (a backlog, a storm, a short-staffed office): each multiplies
        the hop rate and the service times of both potential outcomes (separate draws for
        hops and for time). They make outcomes correlated within a district, as real ones
        are, so that a coverage study can see whether intervals account for it. Default 0
        (none); drawn from their own random stream, so the rest of the log does not change,
        and written to ``params`` only when used.

    Returns
    -------
    Simulation
        ``events``, ``truth``, ``rollout`` and ``params``.

    Examples
    --------
    >>> sim = simulate(500, seed=7)
    >>> sim.events[["case_id", "agency", "activity"]].iloc[0].tolist()  # doctest: +SKIP
    ['REQ-2023-000001', 'Kelurahan Dago', 'submitted']
    >>> sorted(set(sim.events["activity"].astype(str)))[:3]
    ['acknowledged', 'closed', 'forwarded']
    >>> t = sim.truth.set_index(["estimand", "group"])["value"]
    >>> bool(t["att_hops", "overall"] < 0)
    True
    >>> off = simulate(500, seed=7, effect_hops=0, effect_time=0)
    >>> t = off.truth.set_index(["estimand", "group"])["value"]
    >>> float(t["att_hops", "overall"]), float(t["irr_hops", "overall"])
    (0.0, 1.0)

    Notes
    -----
    *Routes.* A request with ``H`` hops is handled by its intake office when ``H = 0``;
    otherwise it reaches the responsible agency of its category, after one detour when ``H``
    is even (the kecamatan for a kelurahan intake, the secretariat, or a wrong dinas), then
    ping-pongs from the responsible agency to a wrong agency (or back to the intake office)
    and back. ``H_d`` is the Poisson quantile of one uniform per request at rate
    ``lambda_d = mean_hops * frailty * exp(channel + category + confounders)`` with a gamma
    frailty (so hops are negative binomial), and ``lambda_1 = lambda_0 * exp(g * effect_hops)``
    where ``g`` in [0, 1] is the desk's maturity (0 where no desk is open): the planted
    incidence-rate ratio of a mature desk is ``exp(effect_hops)``. Hops of a request are the
    changes of holding agency between consecutive events. ``lambda_0`` is log-linear in
    category, region and month, so a Poisson model with those main effects is correct for
    ``E[H0 | x]``.

    *Time.* Every hand-over delay and service time is lognormal, drawn once per request and
    multiplied by ``exp(g * effect_time)`` under social intake; a request ends at its last
    ``resolved``/``closed`` event not followed by ``reopened``. Duration is first event to
    end, in hours, exactly as the case table computes it from the events.

    *Truth.* With ``H_d`` the hops and ``T_d`` the duration (uncensored) under intake ``d``:
    ``ate_hops = mean(H1 - H0)``, ``att_hops`` the same among social requests,
    ``irr_hops = mean(H1) / mean(H0)``, ``rmst_diff_days = mean(min(T1, tau) - min(T0, tau))``
    in days, and the rollout estimands ``es_*`` / ``att_rollout_*``: the mean over treated
    region-months (desk open, event time ``e`` = months since opening) of the cell mean of
    ``Y_obs - Y0``; ``es_*`` also has the pre-periods ``e < 0`` of regions whose desk opens
    later (zero by design). Groups are ``overall``, ``category=<name>`` and ``e=<k>``.

    References
    ----------
    Rubin, D. B. (1974). Estimating causal effects of treatments in randomized and
    nonrandomized studies. *Journal of Educational Psychology* 66(5), 688-701.
    Callaway, B. and Sant'Anna, P. H. C. (2021). Difference-in-differences with multiple
    time periods. *Journal of Econometrics* 225(2), 200-230.
    """
    params = _check_params(locals())
    rng = np.random.default_rng(seed)
    city = _build_city(params)
    req = _draw_requests(n_cases, rng, params, city)
    req.update(_district_shocks(req, params, len(city["regions"])))
    arms = [_potential_outcome(req, city, params, d) for d in (0, 1)]
    events = _realise_events(req, arms, city, params, rng)
    truth = _truth_table(req, arms, params, city["desk_month"])
    outcomes = _outcome_frame(req, arms, city, params)
    rollout = pd.DataFrame(
        {
            schema.REGION: pd.Categorical(city["regions"], categories=city["regions"]),
            "desk_opened": pd.Series(city["desk_opened"], dtype=schema.TIMESTAMP_DTYPE),
        }
    )
    return Simulation(events=events, truth=truth, rollout=rollout, params=params, outcomes=outcomes)


def _check_params(args: dict[str, Any]) -> dict[str, Any]:
    n_cases, months = args["n_cases"], args["months"]
    if not isinstance(n_cases, int | np.integer) or n_cases < 1:
        raise SekatError(f"n_cases must be a positive integer, got {n_cases!r}")
    if not isinstance(months, int | np.integer) or months < 2:
        raise SekatError(f"months must be an integer of at least 2, got {months!r}")
    for name in (
        "social_share",
        "social_share_before_desk",
        "reject_rate",
        "reopen_rate",
        "close_rate",
        "stuck_rate",
    ):
        if not 0.0 <= float(args[name]) < 1.0:
            raise SekatError(f"{name} must lie in [0, 1), got {args[name]!r}")
    if float(args["confounding"]) < 0:
        raise SekatError(f"confounding must be >= 0, got {args['confounding']!r}")
    try:
        start = pd.Timestamp(args["start"])
    except (ValueError, TypeError) as exc:
        raise SekatError(f"start is not a date: {args['start']!r}") from exc
    start = start.tz_localize("UTC") if start.tzinfo is None else start.tz_convert("UTC")
    start = start.normalize().replace(day=1)
    regions = list(args["regions"] if args["regions"] is not None else DEFAULT_REGIONS)
    if len(regions) < 3 or len(set(regions)) != len(regions):
        raise SekatError("regions must name at least three distinct kecamatan")
    desk = args["desk_open_months"]
    if desk is None:
        desk = _default_desk_months(regions, int(months))
    else:
        unknown = sorted(set(desk) - set(regions))
        if unknown:
            raise SekatError(f"desk_open_months names unknown regions {unknown}")
        desk = {r: (None if desk.get(r) is None else int(desk[r])) for r in regions}
        early = sorted(r for r, m in desk.items() if m is not None and m < 0)
        if early:
            raise SekatError(f"desk_open_months must be >= 0 (month 0 = the first); got {early}")
    shocks = {}
    for name in ("region_shock", "region_month_shock"):
        value = float(args[name])
        if not (np.isfinite(value) and value >= 0):
            raise SekatError(f"{name} must be a standard deviation >= 0, got {args[name]!r}")
        if value > 0:
            shocks[name] = value
    end = start + pd.DateOffset(months=int(months))
    return {
        "n_cases": int(n_cases),
        "seed": int(args["seed"]),
        "start": start.isoformat(),
        "end": pd.Timestamp(end).isoformat(),
        "months": int(months),
        "social_share": float(args["social_share"]),
        "effect_hops": _effects(args["effect_hops"], "effect_hops"),
        "effect_time": _effects(args["effect_time"], "effect_time"),
        "effect_ramp_months": int(args["effect_ramp_months"]),
        "confounding": float(args["confounding"]),
        "regions": regions,
        "desk_open_months": desk,
        "uptake_months": int(args["uptake_months"]),
        "social_share_before_desk": float(args["social_share_before_desk"]),
        "mean_hops": float(args["mean_hops"]),
        "hop_dispersion": float(args["hop_dispersion"]),
        "max_hops": int(args["max_hops"]),
        "service_sigma": float(args["service_sigma"]),
        "stuck_rate": float(args["stuck_rate"]),
        "reject_rate": float(args["reject_rate"]),
        "reopen_rate": float(args["reopen_rate"]),
        "close_rate": float(args["close_rate"]),
        "volume_growth": float(args["volume_growth"]),
        "rmst_horizon_days": float(args["rmst_horizon_days"]),
        **shocks,
    }


def _build_city(params: dict[str, Any]) -> dict[str, Any]:
    """Agency names and codes, region attributes and desk dates."""
    regions = params["regions"]
    n_reg = len(regions)
    agencies: list[str] = []
    code: dict[str, int] = {}

    def add(name: str) -> int:
        if name not in code:
            code[name] = len(agencies)
            agencies.append(name)
        return code[name]

    kecamatan = np.array([add(f"Kecamatan {r}") for r in regions])
    kelurahan = np.array(
        [
            [add(f"Kelurahan {k}") for k in DEFAULT_REGIONS.get(r, (f"{r} I", f"{r} II"))]
            for r in regions
        ]
    )
    desk = np.array([add(f"Desk Medsos {r}") for r in regions])
    for name in (_CALL_CENTRE, _PORTAL, _SEKDA, _HUMAS):
        add(name)
    responsible = np.array([add(_CATEGORY_TABLE[c][4]) for c in CATEGORIES])
    n_wrong = max(len(_CATEGORY_TABLE[c][5]) for c in CATEGORIES)
    # -1 stands for the request's own kecamatan office
    wrong = np.full((len(CATEGORIES), n_wrong), -2, dtype=np.int64)
    for i, c in enumerate(CATEGORIES):
        for j, name in enumerate(_CATEGORY_TABLE[c][5]):
            wrong[i, j] = -1 if name == "@kecamatan" else add(name)
    n_wrong_of = np.array([len(_CATEGORY_TABLE[c][5]) for c in CATEGORIES])

    urban = np.linspace(1.5, -1.5, n_reg) if n_reg > 1 else np.zeros(1)
    # fixed, uneven populations (deterministic, independent of the seed)
    population = 1.0 + 0.5 * np.cos(np.arange(n_reg) * 2.3)
    start = pd.Timestamp(params["start"])
    desk_month = np.array(
        [
            -1 if params["desk_open_months"][r] is None else params["desk_open_months"][r]
            for r in regions
        ]
    )
    desk_opened = [
        pd.NaT if m < 0 or m >= params["months"] else start + pd.DateOffset(months=int(m))
        for m in desk_month
    ]
    desk_month = np.where(desk_month >= params["months"], -1, desk_month)
    return {
        "regions": regions,
        "agencies": agencies,
        "code": code,
        "kecamatan": kecamatan,
        "kelurahan": kelurahan,
        "desk": desk,
        "responsible": responsible,
        "wrong": wrong,
        "n_wrong": n_wrong_of,
        "urban": urban,
        "population": population / population.sum(),
        "desk_month": desk_month,
        "desk_opened": desk_opened,
    }


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))


def _draw_requests(
    n: int, rng: np.random.Generator, params: dict[str, Any], city: dict[str, Any]
) -> dict[str, np.ndarray]:
    """Covariates, channel choice and the common random numbers of every request."""
    months, conf = params["months"], params["confounding"]
    n_cat = len(CATEGORIES)
    start = pd.Timestamp(params["start"]).as_unit("ns")
    month_starts = pd.date_range(start, periods=months + 1, freq="MS").as_unit("ns")
    month_sec = (month_starts.asi8 - start.value) // 1_000_000_000
    month_sec = month_sec.astype(np.int64)

    volume = (1.0 + params["volume_growth"]) ** (np.arange(months) / 12.0)
    volume = volume * np.diff(month_sec)
    month = rng.choice(months, size=n, p=volume / volume.sum())
    t0 = month_sec[month] + np.floor(
        rng.random(n) * (month_sec[month + 1] - month_sec[month])
    ).astype(np.int64)
    region = rng.choice(len(city["regions"]), size=n, p=city["population"])
    cat_w = np.array([_CATEGORY_TABLE[c][0] for c in CATEGORIES])
    category = rng.choice(n_cat, size=n, p=cat_w / cat_w.sum())

    urban = city["urban"][region]
    time_z = (month + 0.5) / months - 0.5  # -0.5 .. 0.5 over the window

    # non-social channel: the one a request uses (or would use) without social media
    ns_names = list(_NONSOCIAL_TABLE)
    base = np.log([_NONSOCIAL_TABLE[c][0] for c in ns_names])
    tilt = np.array([_NONSOCIAL_TABLE[c][3] for c in ns_names])
    logits = base[None, :] + conf * urban[:, None] * tilt[None, :]
    probs = np.exp(logits)
    cum = np.cumsum(probs, axis=1)
    u = rng.random(n) * cum[:, -1]
    nonsocial = (u[:, None] > cum).sum(axis=1)
    social_names = list(_SOCIAL_PLATFORMS)
    sp = np.array(list(_SOCIAL_PLATFORMS.values()))
    platform = rng.choice(len(social_names), size=n, p=sp / sp.sum())

    # desk status and social uptake
    dm = city["desk_month"][region]
    open_ = (dm >= 0) & (month >= dm)
    event_time = np.where(open_, month - dm, -1)
    uptake = np.minimum(1.0, (event_time + 1) / max(params["uptake_months"], 1))
    soc_tilt = np.array([_CATEGORY_TABLE[c][1] for c in CATEGORIES])[category]
    s = params["social_share"]
    logit_s = math.log(s / (1 - s)) if s > 0 else -np.inf
    p_open = uptake * _sigmoid(logit_s + conf * (0.8 * urban + soc_tilt + 0.8 * time_z))
    p_social = np.where(open_, p_open, params["social_share_before_desk"])
    social = rng.random(n) < p_social

    ramp = max(params["effect_ramp_months"], 1)
    maturity = np.where(open_, np.minimum(1.0, (event_time + 1) / ramp), 0.0)

    # kelurahan (70 %) or kecamatan office for walk-ins
    walk_office = np.where(
        rng.random(n) < 0.7,
        city["kelurahan"][region, rng.integers(0, 2, size=n)],
        city["kecamatan"][region],
    )

    # common random numbers, shared by both potential outcomes
    k = params["hop_dispersion"]
    crn = {
        "u_hops": rng.random(n),
        "frailty": rng.gamma(k, 1.0 / k, size=n) if k > 0 else np.ones(n),
        "z_service": rng.standard_normal(n),
        "z_service2": rng.standard_normal(n),
        "f_ack": rng.random(n),
        "f_ip": rng.random(n),
        "f_ip2": rng.random(n),
        "u_ack": rng.random(n),
        "u_stuck": rng.random(n),
        "u_backlog": rng.random(n),
        "u_ip": rng.random(n),
        "u_reject": rng.random(n),
        "u_reopen": rng.random(n),
        "u_close": rng.random(n),
        "z_close": rng.standard_normal(n),
        "z_close2": rng.standard_normal(n),
        "z_reopen": rng.standard_normal(n),
    }
    hop_max = params["max_hops"]
    if n * hop_max > 5e7:  # pragma: no cover - only for enormous runs
        raise SekatError("n_cases * max_hops is too large for one run")
    # Numbers per hop (one row per request, in the order drawn): only the hops that happen
    # read them, through ``draw_row``, so the matrices are never reordered.
    per_hop = {"z_delay": rng.standard_normal((n, hop_max))}
    # route labels: which detour and which wrong agencies (labels do not change hops)
    crn["u_detour"] = rng.random(n)
    per_hop["u_wrong"] = rng.random((n, (hop_max + 1) // 2))
    per_hop["u_return"] = rng.random((n, (hop_max + 1) // 2))

    # walk-ins and letters arrive in office hours, 08:00-15:00 WIB (01:00-08:00 UTC), on the
    # same (UTC) day, so the intake month does not change
    u_hour = rng.random(n)
    office = ~social & np.isin(nonsocial, [ns_names.index("walk_in"), ns_names.index("letter")])
    day = t0 // 86_400
    t0 = np.where(office, day * 86_400 + _HOUR + np.floor(u_hour * 7 * _HOUR).astype(np.int64), t0)

    req = {
        "n": n,
        "month": month,
        "t0": t0,
        "region": region,
        "category": category,
        "urban": urban,
        "time_z": time_z,
        "nonsocial": nonsocial,
        "ns_names": ns_names,
        "platform": platform,
        "social_names": social_names,
        "social": social,
        "open": open_,
        "event_time": event_time,
        "maturity": maturity,
        "walk_office": walk_office,
        "crn": crn,
    }
    # number requests in order of submission
    order = np.argsort(t0, kind="stable")
    for table in (req, crn):
        for key, value in table.items():
            if isinstance(value, np.ndarray) and value.shape[:1] == (n,):
                table[key] = value[order]
    req["per_hop"] = per_hop
    req["draw_row"] = order  # request i (in submission order) was drawn as row order[i]
    return req


def _district_shocks(
    req: dict[str, Any], params: dict[str, Any], n_regions: int
) -> dict[str, np.ndarray]:
    """Log-scale shocks of each request's district and district-month, for hops and for time."""
    sd_region = params.get("region_shock", 0.0)
    sd_month = params.get("region_month_shock", 0.0)
    n = req["n"]
    if sd_region == 0 and sd_month == 0:
        return {"shock_hops": np.zeros(n), "shock_time": np.zeros(n)}
    # their own stream: switching shocks on leaves every other draw of the log unchanged
    rng = np.random.default_rng([params["seed"], 0x5E_CA7])
    shocks = {}
    for name in ("shock_hops", "shock_time"):
        region = sd_region * rng.standard_normal(n_regions)
        region_month = sd_month * rng.standard_normal((n_regions, params["months"]))
        shocks[name] = region[req["region"]] + region_month[req["region"], req["month"]]
    return shocks


def _poisson_quantile(u: np.ndarray, lam: np.ndarray, cap: int) -> np.ndarray:
    """Smallest k <= cap with P(X <= k) >= u for X ~ Poisson(lam); monotone in lam."""
    pmf = np.exp(-lam)
    cdf = pmf.copy()
    k = np.zeros(u.shape, dtype=np.int64)
    for j in range(cap):
        k += u > cdf
        pmf = pmf * lam / (j + 1)
        cdf = cdf + pmf
    return k


#: Keys of a potential outcome with one entry per hop that happens, not one per request.
_HOP_CELLS = ("hop_row", "hop_k", "hop_time")


def _hop_cells(hops: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The hops that happen as cells: (request of each, hop number k from 0, first cell of
    each request), request by request and in hop order within a request.

    Examples
    --------
    >>> [a.tolist() for a in _hop_cells(np.array([2, 0, 1]))]
    [[0, 0, 2], [0, 1, 0], [0, 2, 2]]
    """
    rows = np.repeat(np.arange(len(hops)), hops)
    first = np.cumsum(hops) - hops
    return rows, np.arange(len(rows)) - first[rows], first


def _seconds(hours: np.ndarray, minimum: int = 2) -> np.ndarray:
    return np.maximum(minimum, np.rint(hours * _HOUR)).astype(np.int64)


def _potential_outcome(
    req: dict[str, Any], city: dict[str, Any], params: dict[str, Any], arm: int
) -> dict[str, np.ndarray]:
    """Hops and event-time offsets (seconds after submission) under intake ``arm``."""
    crn, conf = req["crn"], params["confounding"]
    cat = req["category"]
    eff_h = np.array([params["effect_hops"][c] for c in CATEGORIES])[cat]
    eff_t = np.array([params["effect_time"][c] for c in CATEGORIES])[cat]
    g = req["maturity"] * arm
    ns_hop = np.array([_NONSOCIAL_TABLE[c][1] for c in req["ns_names"]])[req["nonsocial"]]
    cat_hop = np.array([_CATEGORY_TABLE[c][2] for c in CATEGORIES])[cat]
    covar = conf * (-0.25 * req["urban"] - 0.6 * req["time_z"])
    lam = (
        params["mean_hops"]
        * crn["frailty"]
        * np.exp(ns_hop + cat_hop + covar + req["shock_hops"] + g * eff_h)
    )
    hops = _poisson_quantile(crn["u_hops"], lam, params["max_hops"])

    speed = np.exp(g * eff_t)  # time ratio under this arm
    first_h = np.array([_NONSOCIAL_TABLE[c][2] for c in req["ns_names"]])[req["nonsocial"]]
    n = req["n"]
    # Only the hops that happen are timed: one cell per (request, hop k), request by request.
    rows, k, first = _hop_cells(hops)
    median_h = np.where(k == 0, first_h[rows], 18.0)
    z_delay = req["per_hop"]["z_delay"][req["draw_row"][rows], k]
    delay = _seconds(speed[rows] * median_h * np.exp(0.9 * z_delay))
    has_hops = hops > 0
    starts = first[has_hops]
    # arrival at hop k+1: the delays summed within the request
    running = np.cumsum(delay)
    before = np.zeros(n, dtype=np.int64)
    before[has_hops] = running[starts] - delay[starts]
    hop_time = running - before[rows]
    # arrival at the agency that handles it (the intake office itself when hops == 0)
    t_resp = np.zeros(n, dtype=np.int64)
    t_resp[has_hops] = hop_time[starts + hops[has_hops] - 1]

    svc_days = np.array([_CATEGORY_TABLE[c][3] for c in CATEGORIES])[cat]
    sigma = params["service_sigma"]
    log_svc = (
        np.log(svc_days * 24.0)
        + conf * (-0.25 * req["urban"] - 0.6 * req["time_z"])
        + req["shock_time"]
    )
    # a backlog: some requests get stuck for weeks to months (Pareto tail, alpha 1.5)
    stuck = crn["u_stuck"] < params["stuck_rate"]
    backlog = np.where(
        stuck, np.minimum(5.0 * (1.0 - crn["u_backlog"]) ** (-1.0 / 1.5), 100.0), 1.0
    )
    service = _seconds(speed * backlog * np.exp(log_svc + sigma * crn["z_service"]), 4)
    service2 = _seconds(speed * np.exp(log_svc - 0.7 + sigma * crn["z_service2"]), 4)
    close_d = _seconds(24.0 * np.exp(0.8 * crn["z_close"]))
    close_d2 = _seconds(24.0 * np.exp(0.8 * crn["z_close2"]))
    reopen_d = _seconds(72.0 * np.exp(0.8 * crn["z_reopen"]))

    rejected = crn["u_reject"] < params["reject_rate"]
    closes = rejected | (crn["u_close"] < params["close_rate"])
    reopened = ~rejected & (crn["u_reopen"] < params["reopen_rate"])
    ip_offset = np.maximum(2, np.floor(crn["f_ip"] * service * 0.5)).astype(np.int64)
    t_ip = t_resp + ip_offset
    # acknowledged before the first hand-over, or before work starts if there is none
    ack_base = ip_offset.copy()
    ack_base[has_hops] = delay[starts]
    t_ack = np.maximum(1, np.floor(crn["f_ack"] * ack_base * 0.5)).astype(np.int64)
    t_res = t_resp + service
    t_close = t_res + close_d
    t_end1 = np.where(closes, t_close, t_res)
    t_reopen = t_end1 + reopen_d
    t_ip2 = t_reopen + np.maximum(2, np.floor(crn["f_ip2"] * service2 * 0.5)).astype(np.int64)
    t_res2 = t_reopen + service2
    t_close2 = t_res2 + close_d2
    t_end2 = np.where(closes, t_close2, t_res2)
    t_end = np.where(reopened, t_end2, t_end1)
    return {
        "hops": hops,
        "hop_row": rows,
        "hop_k": k,
        "hop_time": hop_time,
        "t_ack": t_ack,
        "t_ip": t_ip,
        "t_res": t_res,
        "t_close": t_close,
        "t_reopen": t_reopen,
        "t_ip2": t_ip2,
        "t_res2": t_res2,
        "t_close2": t_close2,
        "t_end": t_end,
        "duration_hours": t_end / _HOUR,
        "rejected": rejected,
        "closes": closes,
        "reopened": reopened,
    }


def _route(
    req: dict[str, Any],
    city: dict[str, Any],
    intake: np.ndarray,
    hops: np.ndarray,
    rows: np.ndarray,
    k: np.ndarray,
) -> np.ndarray:
    """Agency code held after hop ``k`` (0-based) of request ``rows``, for each pair given.

    Only the hops that happen are drawn out (not a requests x hop_max matrix): the same
    values, a fraction of the work.
    """
    crn, n = req["crn"], req["n"]
    u_wrong, u_return = req["per_hop"]["u_wrong"], req["per_hop"]["u_return"]
    drawn = req["draw_row"][rows]  # the row of the per-hop numbers of each request given
    cat, region = req["category"], req["region"]
    resp = city["responsible"][cat]
    kec = city["kecamatan"][region]
    n_wrong = city["n_wrong"][cat]

    def wrong_agency(u: np.ndarray, at: np.ndarray) -> np.ndarray:
        idx = np.minimum((u * n_wrong[at]).astype(np.int64), n_wrong[at] - 1)
        code = city["wrong"][cat[at], idx]
        return np.where(code == -1, kec[at], code)

    every = np.arange(n)
    u_det = crn["u_detour"]
    at_kelurahan = np.isin(intake, city["kelurahan"].ravel())
    detour = np.where(
        at_kelurahan & (u_det < 0.7),
        kec,
        np.where(
            u_det < 0.3, city["code"][_SEKDA], wrong_agency(u_wrong[req["draw_row"], 0], every)
        ),
    )
    # a detour must differ from the intake office (e.g. Sekda for a letter)
    sekda = city["code"][_SEKDA]
    detour = np.where(detour == intake, np.where(intake == sekda, kec, sekda), detour)

    detoured = (hops[rows] >= 2) & (hops[rows] % 2 == 0)  # an odd remainder ends right
    j = k - detoured  # position after the optional detour
    pair = np.minimum(np.maximum(j, 0) // 2, u_wrong.shape[1] - 1)  # ping-pong number
    wrong = wrong_agency(u_wrong[drawn, pair], rows)
    wrong = np.where(u_return[drawn, pair] < 0.2, intake[rows], wrong)  # sent back
    route = np.where(j % 2 == 0, resp[rows], wrong)
    return np.where(j < 0, detour[rows], route)


def _case_ids(req: dict[str, Any], params: dict[str, Any]) -> pa.Array:
    """Raw-looking ids: REQ-<year>-<number in order of submission within the year>."""
    if "ids" in req:  # made once: the outcome table and the events share them
        return req["ids"]
    start_ns = pd.Timestamp(params["start"]).as_unit("ns").value
    year = pd.DatetimeIndex(start_ns + req["t0"] * 1_000_000_000, tz="UTC").year.to_numpy()
    rank = np.arange(req["n"])  # requests are in submission order
    first = np.searchsorted(year, year, side="left")  # years are sorted too
    number = rank - first + 1
    width = max(6, len(str(int(number.max()))))
    text = pa.string()
    req["ids"] = pa.compute.binary_join_element_wise(
        pa.scalar("REQ", text),
        pa.compute.cast(pa.array(year), text),
        pa.compute.utf8_lpad(pa.compute.cast(pa.array(number), text), width=width, padding="0"),
        pa.scalar("-", text),
    )
    return req["ids"]


def _channel_codes(req: dict[str, Any]) -> tuple[np.ndarray, np.ndarray]:
    """Codes (of :data:`toolkit.schema.CHANNEL_DTYPE`) of each request's channel and of the
    non-social channel it would use, found once per channel name, not once per request."""
    categories = schema.CHANNEL_DTYPE.categories
    nonsocial = categories.get_indexer(req["ns_names"])[req["nonsocial"]]
    platform = categories.get_indexer(req["social_names"])[req["platform"]]
    return np.where(req["social"], platform, nonsocial), nonsocial


def _time_order(
    t: np.ndarray, case: np.ndarray, step: np.ndarray, payload: np.ndarray, n: int, steps: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Events sorted by time, then request, then lifecycle step: ``(t, case, payload)``.

    ``(case, step)`` is unique, so the order is the one of ``np.lexsort((step, case, t))``.
    When every field fits into one 64-bit integer (times from 0, ``case < n``, ``step <
    steps``, ``payload >= 0``) they are packed into it and sorted as plain integers, which is
    several times faster than a lexsort or an argsort and a gather; otherwise, lexsort.

    Examples
    --------
    >>> t, case, payload = _time_order(np.array([5, 0, 5]), np.array([1, 0, 0]),
    ...                                np.array([0, 0, 1]), np.array([7, 8, 9]), 2, 2)
    >>> t.tolist(), case.tolist(), payload.tolist()
    ([0, 5, 5], [0, 0, 1], [8, 9, 7])
    """
    width = int(payload.max()) + 1 if len(payload) else 1
    if len(t) and t.min() >= 0 and (int(t.max()) + 1) * n * steps * width < 2**63:
        key = np.sort(((t * n + case) * steps + step) * width + payload)
        payload, key = key % width, key // width // steps
        return key // n, key % n, payload
    order = np.lexsort((step, case, t))
    return t[order], case[order], payload[order]


def _outcome_frame(
    req: dict[str, Any],
    arms: list[dict[str, np.ndarray]],
    city: dict[str, Any],
    params: dict[str, Any],
) -> pd.DataFrame:
    """One row per request: covariates, intake and both potential outcomes."""
    social = req["social"]
    channel, nonsocial = _channel_codes(req)
    end_sec = (pd.Timestamp(params["end"]) - pd.Timestamp(params["start"])) // pd.Timedelta(
        seconds=1
    )

    def realised(key: str) -> np.ndarray:
        return req["t0"] + np.where(social, arms[1][key], arms[0][key])

    # what the log shows at the cut-off: resolved if a resolved/closed event came before it
    # and no reopen came between that event and the cut-off
    rejected = arms[0]["rejected"]
    first_terminal = np.where(rejected, realised("t_close"), realised("t_res"))
    reopened_before = arms[0]["reopened"] & (realised("t_reopen") < end_sec)
    resolved = (first_terminal < end_sec) & (~reopened_before | (realised("t_res2") < end_sec))
    return pd.DataFrame(
        {
            schema.CASE_ID: pd.Series(_case_ids(req, params), dtype=schema.DTYPES[schema.CASE_ID]),
            schema.CHANNEL: pd.Categorical.from_codes(channel, dtype=schema.CHANNEL_DTYPE),
            "nonsocial_channel": pd.Categorical.from_codes(nonsocial, dtype=schema.CHANNEL_DTYPE),
            schema.CATEGORY: pd.Categorical.from_codes(
                req["category"], categories=list(CATEGORIES)
            ),
            schema.REGION: pd.Categorical.from_codes(req["region"], categories=city["regions"]),
            "month": req["month"],
            "social": social,
            "desk_open": req["open"],
            "event_time": req["event_time"],
            "maturity": req["maturity"],
            "hops_0": arms[0]["hops"],
            "hops_1": arms[1]["hops"],
            "duration_hours_0": arms[0]["duration_hours"],
            "duration_hours_1": arms[1]["duration_hours"],
            "complete": realised("t_end") < end_sec,
            schema.CENSORED: ~resolved,
        }
    )


def _realise_events(
    req: dict[str, Any],
    arms: list[dict[str, np.ndarray]],
    city: dict[str, Any],
    params: dict[str, Any],
    rng: np.random.Generator,
) -> pd.DataFrame:
    """The event log of the realised arm, cut at the end of the window, in time order."""
    n, social = req["n"], req["social"]

    def pick(key: str) -> np.ndarray:
        a0, a1 = arms[0][key], arms[1][key]
        return np.where(social[:, None], a1, a0) if a0.ndim == 2 else np.where(social, a1, a0)

    obs = {key: pick(key) for key in arms[0] if key not in _HOP_CELLS}
    channel_code, _ = _channel_codes(req)
    code = city["code"]
    nonsocial, ns_index = req["nonsocial"], req["ns_names"].index
    ns_office = np.select(
        [
            nonsocial == ns_index("walk_in"),
            nonsocial == ns_index("letter"),
            np.isin(nonsocial, [ns_index("phone"), ns_index("sms")]),
        ],
        [req["walk_office"], code[_SEKDA], code[_CALL_CENTRE]],
        default=code[_PORTAL],
    )
    social_office = np.where(req["open"], city["desk"][req["region"]], code[_HUMAS])
    intake = np.where(social, social_office, ns_office)
    # the agency that does the work: the responsible one, or the intake office itself
    resp = np.where(obs["hops"] > 0, city["responsible"][req["category"]], intake)

    idx = np.arange(n)
    parts: list[tuple[np.ndarray, np.ndarray, np.ndarray, int | np.ndarray, np.ndarray]] = []

    def add(mask: np.ndarray, t: np.ndarray, agency: np.ndarray, act: str, seq) -> None:
        m = np.asarray(mask, dtype=bool)
        seq_arr = np.broadcast_to(np.asarray(seq), (n,))[m]
        parts.append((idx[m], req["t0"][m] + t[m], agency[m], np.full(m.sum(), _ACT[act]), seq_arr))

    every = np.ones(n, dtype=bool)
    zero = np.zeros(n, dtype=np.int64)
    add(every, zero, intake, schema.SUBMITTED, 0)
    add(req["crn"]["u_ack"] < 0.5, obs["t_ack"], intake, schema.ACKNOWLEDGED, 1)
    # the hops of the realised arm: each request's cells from the arm of its channel
    taken = [np.flatnonzero(social[arm["hop_row"]] == bool(d)) for d, arm in enumerate(arms)]
    hop_rows, hop_k, hop_time = (
        np.concatenate([arm[key][at] for arm, at in zip(arms, taken, strict=True)])
        for key in _HOP_CELLS
    )
    parts.append(
        (
            hop_rows,
            req["t0"][hop_rows] + hop_time,
            _route(req, city, intake, obs["hops"], hop_rows, hop_k),
            np.full(hop_rows.size, _ACT[schema.FORWARDED]),
            2 + hop_k,
        )
    )
    base = 2 + params["max_hops"]
    rejected, closes, reopened = obs["rejected"], obs["closes"], obs["reopened"]
    add(req["crn"]["u_ip"] < 0.6, obs["t_ip"], resp, schema.IN_PROGRESS, base)
    add(~rejected, obs["t_res"], resp, schema.RESOLVED, base + 1)
    add(rejected, obs["t_res"], resp, schema.REJECTED, base + 1)
    add(closes, obs["t_close"], resp, schema.CLOSED, base + 2)
    add(reopened, obs["t_reopen"], resp, schema.REOPENED, base + 3)
    add(reopened, obs["t_ip2"], resp, schema.IN_PROGRESS, base + 4)
    add(reopened, obs["t_res2"], resp, schema.RESOLVED, base + 5)
    add(reopened & closes, obs["t_close2"], resp, schema.CLOSED, base + 6)

    case = np.concatenate([p[0] for p in parts])
    t = np.concatenate([p[1] for p in parts])
    agency = np.concatenate([p[2] for p in parts])
    act = np.concatenate([p[3] for p in parts])
    seq = np.concatenate([p[4] for p in parts])
    end_sec = (pd.Timestamp(params["end"]) - pd.Timestamp(params["start"])) // pd.Timedelta(
        seconds=1
    )
    keep = t < end_sec
    n_act = len(schema.ACTIVITIES)
    t, case, payload = _time_order(
        t[keep], case[keep], seq[keep], agency[keep] * n_act + act[keep], n, base + 7
    )
    agency, act = payload // n_act, payload % n_act

    start_ns = pd.Timestamp(params["start"]).as_unit("ns").value
    ids = _case_ids(req, params)
    agencies = np.array(city["agencies"], dtype=object)
    region_cat = pd.Categorical.from_codes(req["region"][case], categories=city["regions"])
    frame = pd.DataFrame(
        {
            schema.CASE_ID: pd.Series(
                ids.take(pa.array(case)), dtype=schema.DTYPES[schema.CASE_ID]
            ),
            schema.TIMESTAMP: pd.DatetimeIndex(
                (start_ns + t * 1_000_000_000).astype("datetime64[ns]")
            ).tz_localize("UTC"),
            schema.AGENCY: pd.Series(
                pa.array(agencies).take(pa.array(agency)), dtype=schema.DTYPES[schema.AGENCY]
            ),
            schema.ACTIVITY: pd.Categorical.from_codes(act, dtype=schema.ACTIVITY_DTYPE),
            schema.CHANNEL: pd.Categorical.from_codes(
                channel_code[case], dtype=schema.CHANNEL_DTYPE
            ),
            schema.CATEGORY: pd.Categorical.from_codes(
                req["category"][case], categories=list(CATEGORIES)
            ),
            schema.REGION: region_cat,
        }
    )
    return frame


def _truth_table(
    req: dict[str, Any],
    arms: list[dict[str, np.ndarray]],
    params: dict[str, Any],
    desk_month: np.ndarray,
) -> pd.DataFrame:
    """Sample average effects from the potential outcomes (see :func:`simulate`, Notes)."""
    tau_h = params["rmst_horizon_days"] * 24.0
    h0, h1 = arms[0]["hops"].astype(float), arms[1]["hops"].astype(float)
    r0 = np.minimum(arms[0]["duration_hours"], tau_h) / 24.0
    r1 = np.minimum(arms[1]["duration_hours"], tau_h) / 24.0
    social, cat = req["social"], req["category"]
    tau = f"tau={params['rmst_horizon_days']:g} days"
    rows: list[tuple[str, str, float, str, int, str]] = []

    def by_group(estimand: str, mask: np.ndarray, stat, unit: str, what: str) -> None:
        groups = [("overall", mask)] + [
            (f"category={c}", mask & (cat == i)) for i, c in enumerate(CATEGORIES)
        ]
        for name, m in groups:
            value = stat(m) if m.any() else float("nan")
            rows.append((estimand, name, float(value), unit, int(m.sum()), what))

    every = np.ones(req["n"], dtype=bool)
    for prefix, mask, who in (("", every, "all requests"), ("att_", social, "social requests")):
        by_group(
            "ate_hops" if not prefix else "att_hops",
            mask,
            lambda m: np.mean(h1[m] - h0[m]),
            "hops",
            f"mean(H1 - H0) over {who}: hops under social minus non-social intake",
        )
        by_group(
            f"{prefix}irr_hops",
            mask,
            lambda m: np.mean(h1[m]) / np.mean(h0[m]) if h0[m].any() else float("nan"),
            "ratio",
            f"mean(H1) / mean(H0) over {who}: incidence-rate ratio of hops",
        )
        by_group(
            f"{prefix}rmst_diff_days",
            mask,
            lambda m: np.mean(r1[m] - r0[m]),
            "days",
            f"mean(min(T1, tau) - min(T0, tau)) over {who}, {tau}; negative = faster",
        )
    by_group(
        "mean_hops_y0",
        every,
        lambda m: np.mean(h0[m]),
        "hops",
        "mean(H0): hops without social intake (baseline for ratios)",
    )
    by_group(
        "mean_rmst_y0_days",
        every,
        lambda m: np.mean(r0[m]),
        "days",
        f"mean(min(T0, tau)) without social intake, {tau}",
    )

    # rollout: cells = (region, intake month) with the desk open
    # (event time e = month - opening month; e < 0 in regions whose desk opens later: the
    # pre-periods of an event study, where the effect is zero by construction)
    n_reg, months = len(params["regions"]), params["months"]
    cell = req["region"] * months + req["month"]
    size = np.bincount(cell, minlength=n_reg * months)
    desk_month = np.repeat(desk_month, months)
    e_cell = np.tile(np.arange(months), n_reg) - desk_month
    adopter = desk_month >= 0
    treated_cell = adopter & (e_cell >= 0)
    for label, y1, y0, unit in (("hops", h1, h0, "hops"), ("rmst_days", r1, r0, "days")):
        gain = np.where(social, y1 - y0, 0.0)
        cell_mean = np.bincount(cell, weights=gain, minlength=size.size) / np.maximum(size, 1)
        ok = treated_cell & (size > 0)
        what = "hops" if label == "hops" else f"min(T, tau) in days, {tau}"
        in_study = adopter & (size > 0)
        for e in np.unique(e_cell[in_study]):
            m = in_study & (e_cell == e)
            rows.append(
                (
                    f"es_{label}",
                    f"e={int(e)}",
                    float(cell_mean[m].mean()),
                    unit,
                    int(m.sum()),
                    f"mean over region-months at event time e (months since the desk opened; "
                    f"e < 0: before, zero by design) of cell mean(Y_obs - Y0), {what}",
                )
            )
        rows.append(
            (
                f"att_rollout_{label}",
                "overall",
                float(cell_mean[ok].mean()) if ok.any() else float("nan"),
                unit,
                int(ok.sum()),
                f"mean over all treated region-months of cell mean(Y_obs - Y0), {what}",
            )
        )
    truth = pd.DataFrame(rows, columns=["estimand", "group", "value", "unit", "n", "description"])
    for col in ("estimand", "group", "unit", "description"):
        truth[col] = truth[col].astype("str")
    return truth
