"""Staggered rollout of social-media desks: a heterogeneity-robust event study.

When desks open in different regions at different months, the naive two-way fixed-effects
(TWFE) regression compares newly treated regions with *already treated* ones and can give
weighted averages of effects with negative weights (Goodman-Bacon 2021). The estimator of
Callaway and Sant'Anna (2021) avoids this: it estimates one 2×2 difference-in-differences per
cohort g (regions whose desk opened in period g) and period t, against regions that are never
treated (or not yet treated), and then aggregates these ATT(g, t) to event time, to cohorts
or to one number.

:func:`callaway_santanna` works on any balanced or unbalanced panel (unit, time,
first-treated period with 0/NaN = never, outcome); :func:`twfe` is the naive regression to
show beside it; :func:`rollout_panel` builds the region-month panel of hops and of time to
resolution from the case table and the desk opening dates.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
from scipy import stats

from toolkit import schema
from toolkit.errors import SekatError, require_columns
from toolkit.results import EstimateResult, normal_interval, result_frame, term_name

#: Column names of the generic panel built by :func:`rollout_panel`.
UNIT, PERIOD, FIRST_TREATED, OUTCOME = "unit", "period", "first_treated", "outcome"


# --- Callaway–Sant'Anna --------------------------------------------------------------------


def callaway_santanna(
    panel: pd.DataFrame,
    *,
    unit: str = UNIT,
    time: str = PERIOD,
    first_treated: str = FIRST_TREATED,
    outcome: str = OUTCOME,
    control: str = "never",
    trends: str = "additive",
    level: float = 0.95,
) -> EstimateResult:
    """Group-time average treatment effects and their aggregations (unconditional PT).

    Parameters
    ----------
    panel : pandas.DataFrame
        One row per unit and period. ``time`` and ``first_treated`` are integers (or
        numbers) on the same scale; ``first_treated`` is 0 or missing for never-treated
        units. Cohorts first treated in the first period (no pre-period) are dropped;
        cohorts first treated after the last period count as never treated.
    unit, time, first_treated, outcome : str
        Column names.
    control : {"never", "notyet"}
        Comparison units: never treated, or never treated plus not yet treated by
        ``max(t, base period)`` (excluding the cohort itself).
    trends : {"additive", "multiplicative"}
        Parallel trends in levels (the published estimator), or in proportions: the
        cohort's untreated mean would have grown by the same *factor* as the comparison
        group's, ``ATT(g,t) = mean_g Y_t - mean_g Y_b * mean_C Y_t / mean_C Y_b``. The
        second suits counts such as hops, whose trends scale with their level; both report
        effects in the outcome's units.
    level : float
        Confidence level (pointwise).

    Returns
    -------
    EstimateResult
        ``table`` rows: ``att_gt[g=G,t=T]`` for every cohort and period, ``event[e=E]`` for
        each event time (dynamic aggregation), ``group[g=G]`` for each cohort, and the
        summaries ``simple`` (average over all post-treatment cells weighted by cohort
        size), ``dynamic`` (mean of ``event[e]`` over ``e >= 0``) and ``group`` (mean of the
        cohort effects weighted by cohort size). ``diagnostics["att_gt"]`` holds ``g``,
        ``t``, ``e`` and the estimates for plotting; ``diagnostics["influence"]`` the unit
        influence functions of the summaries.

    Notes
    -----
    For cohort g and period t with base period b (``g - 1`` after treatment; for
    pre-treatment placebo cells the *varying* base ``t - 1``)::

        ATT(g, t) = mean_{G = g}(Y_t - Y_b) - mean_{C}(Y_t - Y_b)

    Its influence function for unit i is ``1{G=g}(dY_i - m_g)/p_g - 1{C}(dY_i - m_C)/p_C``
    (p the shares of units), and aggregations carry the extra term of estimating the cohort
    shares used as weights, as in the authors' ``did`` package. Standard errors are
    analytic, ``sqrt(sum(influence^2) / (n (n - 1)))`` with n units (clustered by unit,
    with the usual ``n/(n-1)`` small-sample factor), and intervals use Student's t with
    ``n - 1`` degrees of freedom, which matters when the units are a dozen regions. Units missing ``Y_t`` or
    ``Y_b`` drop out of that cell only. Under multiplicative trends the influence function
    is the delta-method one of the ratio form. With few units (a dozen regions) the
    analytic errors are optimistic; read the intervals with care.

    References
    ----------
    Callaway, B. and Sant'Anna, P. H. C. (2021). Difference-in-differences with multiple time
    periods. Journal of Econometrics 225(2), 200-230.

    Examples
    --------
    Two units treated in period 3 gain 1.0; two never-treated units share the same trend.

    >>> panel = pd.DataFrame({"unit": np.repeat([1, 2, 3, 4], 3), "period": [1, 2, 3] * 4,
    ...                       "first_treated": np.repeat([3, 3, 0, 0], 3),
    ...                       "outcome": [0, 1, 3, 1, 2, 4, 0, 1, 2, 2, 3, 4.0]})
    >>> t = callaway_santanna(panel).table.set_index("term")
    >>> float(t.loc["att_gt[g=3,t=3]", "estimate"]), float(t.loc["simple", "estimate"])
    (1.0, 1.0)
    """
    if control not in ("never", "notyet"):
        raise SekatError(f"control must be 'never' or 'notyet', got {control!r}")
    if trends not in ("additive", "multiplicative"):
        raise SekatError(f"trends must be 'additive' or 'multiplicative', got {trends!r}")
    require_columns(panel, [unit, time, first_treated, outcome], what="the panel")
    wide = panel.pivot_table(index=unit, columns=time, values=outcome, aggfunc="mean")
    periods = np.array(sorted(wide.columns), dtype=float)
    if len(periods) < 2:
        raise SekatError("the panel needs at least two periods", column=time)
    group_of_unit = (
        panel.groupby(unit, sort=True)[first_treated]
        .first()
        .reindex(wide.index)
        .astype(float)
        .fillna(0.0)
        .to_numpy()
    )
    group_of_unit = np.where(group_of_unit > periods.max(), 0.0, group_of_unit)
    y = wide.to_numpy(dtype=float)
    n = len(y)
    keep_units = ~((group_of_unit > 0) & (group_of_unit <= periods.min()))
    y, group_of_unit = y[keep_units], group_of_unit[keep_units]
    n = len(y)
    cohorts = np.unique(group_of_unit[group_of_unit > 0])
    if len(cohorts) == 0:
        raise SekatError("no unit is treated within the panel", column=first_treated)
    share = np.array([np.mean(group_of_unit == g) for g in cohorts])

    cells, influences = [], []
    for gi, g in enumerate(cohorts):
        pre = periods[periods < g]
        base_post = pre.max()
        for ti, t in enumerate(periods):
            if t < g:
                if ti == 0:
                    continue
                base = periods[ti - 1]
            else:
                base = base_post
            bi = int(np.searchsorted(periods, base))
            dy = y[:, ti] - y[:, bi]
            ok = ~np.isnan(dy)
            treated = (group_of_unit == g) & ok
            if control == "never":
                ctrl = (group_of_unit == 0) & ok
            else:
                horizon = max(t, base)
                ctrl = ((group_of_unit == 0) | (group_of_unit > horizon)) & ok
                ctrl &= group_of_unit != g
            if treated.sum() == 0 or ctrl.sum() == 0:
                continue
            p_t, p_c = treated.mean(), ctrl.mean()
            psi = np.zeros(n)
            if trends == "additive":
                m_t, m_c = dy[treated].mean(), dy[ctrl].mean()
                psi[treated] = (dy[treated] - m_t) / p_t
                psi[ctrl] = -(dy[ctrl] - m_c) / p_c
                estimate = m_t - m_c
            else:
                yt, yb = y[:, ti], y[:, bi]
                a, b = yt[treated].mean(), yb[treated].mean()
                c, d = yt[ctrl].mean(), yb[ctrl].mean()
                if d == 0:
                    continue
                ratio = c / d
                estimate = a - b * ratio
                psi[treated] = ((yt[treated] - a) - ratio * (yb[treated] - b)) / p_t
                psi[ctrl] = (-(b / d) * (yt[ctrl] - c) + (b * c / d**2) * (yb[ctrl] - d)) / p_c
            cells.append((g, t, gi, estimate))
            influences.append(psi)
    if not cells:
        raise SekatError("no group-time effect could be estimated (no comparison units)")
    gt = pd.DataFrame(cells, columns=["g", "t", "cohort_index", "estimate"])
    gt["e"] = gt["t"] - gt["g"]
    psi = np.column_stack(influences)  # n x cells
    att = gt["estimate"].to_numpy()
    pg = share[gt["cohort_index"].to_numpy()]
    cohort_dummies = np.column_stack([group_of_unit == g for g in cohorts]).astype(float)
    unit_pg = cohort_dummies[:, gt["cohort_index"].to_numpy()]  # n x cells: 1{G_i = g_k}

    def weighted(keepers: np.ndarray) -> tuple[float, np.ndarray]:
        """Cohort-share weighted mean of ATT(g,t) over ``keepers``, with its influence."""
        w = pg[keepers] / pg[keepers].sum()
        estimate = float(att[keepers] @ w)
        if1 = (unit_pg[:, keepers] - pg[keepers]) / pg[keepers].sum()
        if2 = np.outer(
            (unit_pg[:, keepers] - pg[keepers]).sum(axis=1), pg[keepers] / pg[keepers].sum() ** 2
        )
        return estimate, psi[:, keepers] @ w + (if1 - if2) @ att[keepers]

    rows = []

    def add(
        term: str, estimate: float, influence: np.ndarray, count: int, **descriptors: object
    ) -> None:
        se = float(np.sqrt(np.mean(influence**2) / n * n / max(n - 1, 1)))
        critical = stats.t.ppf(0.5 + level / 2, df=max(n - 1, 1))
        lo, hi = estimate - critical * se, estimate + critical * se
        rows.append(
            {
                "term": term,
                "estimate": estimate,
                "std_error": se,
                "ci_low": float(lo),
                "ci_high": float(hi),
                "n": count,
                "method": f"Callaway-Sant'Anna ({control}-treated controls, {trends} "
                "parallel trends), analytic SE, t(n-1) intervals",
                schema.ESTIMAND: "att",
                schema.OUTCOME: outcome,
                schema.SCALE: "difference",
                schema.METHOD_KEY: "callaway_santanna",
                **descriptors,
            }
        )

    for k, cell in gt.iterrows():
        add(
            f"att_gt[g={_fmt(cell['g'])},t={_fmt(cell['t'])}]",
            float(att[k]),
            psi[:, k],
            n,
            group="cohort",
            group_value=_fmt(cell["g"]),
            event_time=int(cell["e"]),
        )
    summaries = {}
    events = np.sort(gt["e"].unique())
    event_if = {}
    for e in events:
        keepers = np.flatnonzero(gt["e"].to_numpy() == e)
        est, inf = weighted(keepers)
        event_if[e] = (est, inf)
        add(f"event[e={_fmt(e)}]", est, inf, n, event_time=int(e))
    post = np.flatnonzero(gt["e"].to_numpy() >= 0)
    group_if = {}
    for gi, g in enumerate(cohorts):
        keepers = np.flatnonzero((gt["cohort_index"].to_numpy() == gi) & (gt["e"].to_numpy() >= 0))
        if len(keepers) == 0:
            continue
        est = float(att[keepers].mean())
        inf = psi[:, keepers].mean(axis=1)
        group_if[gi] = (est, inf)
        add(f"group[g={_fmt(g)}]", est, inf, n, group="cohort", group_value=_fmt(g))
    if len(post):
        summaries["simple"] = weighted(post)
        post_events = [e for e in events if e >= 0]
        summaries["dynamic"] = (
            float(np.mean([event_if[e][0] for e in post_events])),
            np.mean([event_if[e][1] for e in post_events], axis=0),
        )
        gis = np.array(sorted(group_if))
        w = share[gis] / share[gis].sum()
        est = float(np.array([group_if[i][0] for i in gis]) @ w)
        inf = np.column_stack([group_if[i][1] for i in gis]) @ w
        if1 = (cohort_dummies[:, gis] - share[gis]) / share[gis].sum()
        if2 = np.outer(
            (cohort_dummies[:, gis] - share[gis]).sum(axis=1), share[gis] / share[gis].sum() ** 2
        )
        inf = inf + (if1 - if2) @ np.array([group_if[i][0] for i in gis])
        summaries["group"] = (est, inf)
    # the three summaries: "simple" is the ATT; the other two average event times or cohorts
    for name, (est, inf) in summaries.items():
        add(name, est, inf, n, estimand=_SUMMARY_ESTIMANDS[name])
    table = result_frame(rows)
    influence = pd.DataFrame({name: inf for name, (_, inf) in summaries.items()})
    return EstimateResult(
        table, {"att_gt": gt.drop(columns="cohort_index"), "influence": influence}
    )


#: Estimand of each summary of :func:`callaway_santanna`.
_SUMMARY_ESTIMANDS = {"simple": "att", "dynamic": "att_dynamic", "group": "att_cohort"}


def _fmt(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else f"{value:g}"


# --- naive two-way fixed effects ---------------------------------------------------------


def twfe(
    panel: pd.DataFrame,
    *,
    unit: str = UNIT,
    time: str = PERIOD,
    first_treated: str = FIRST_TREATED,
    outcome: str = OUTCOME,
    event_window: tuple[int, int] | None = None,
    level: float = 0.95,
) -> pd.DataFrame:
    """Naive two-way fixed-effects DiD (static, or event-study leads and lags).

    Parameters
    ----------
    panel : pandas.DataFrame
        As for :func:`callaway_santanna`.
    event_window : (int, int), optional
        If given, ``(lowest lead, highest lag)``: the regression has one dummy per event
        time in the window (ends binned, ``e = -1`` the reference) instead of one
        post-treatment dummy.
    level : float
        Confidence level.

    Returns
    -------
    pandas.DataFrame
        Tidy result: ``twfe`` (static) or ``twfe_event[e=E]`` rows, unit-clustered SEs.

    Notes
    -----
    ``Y_it = a_i + l_t + beta D_it + u_it`` with ``D_it = 1{t >= G_i}``, fitted by
    alternating demeaning (exact for balanced panels, iterated to convergence otherwise).
    With staggered adoption and effects that change over time, beta is a weighted average
    of 2x2 comparisons some of which use already-treated units as controls, so it can be far
    from any average effect; it is shown only beside the robust estimator.

    References
    ----------
    Goodman-Bacon, A. (2021). Difference-in-differences with variation in treatment timing.
    Journal of Econometrics 225(2), 254-277.

    Examples
    --------
    >>> panel = pd.DataFrame({"unit": np.repeat([1, 2, 3, 4], 3), "period": [1, 2, 3] * 4,
    ...                       "first_treated": np.repeat([3, 3, 0, 0], 3),
    ...                       "outcome": [0, 1, 3, 1, 2, 4, 0, 1, 2, 2, 3, 4.0]})
    >>> round(float(twfe(panel)["estimate"].iloc[0]), 6)
    1.0
    """
    require_columns(panel, [unit, time, first_treated, outcome], what="the panel")
    data = panel.loc[panel[outcome].notna(), [unit, time, first_treated, outcome]].copy()
    g = data[first_treated].astype(float).fillna(0.0).to_numpy()
    t = data[time].astype(float).to_numpy()
    treated_unit = g > 0
    if event_window is None:
        regressors = {"twfe": (treated_unit & (t >= g)).astype(float)}
        event_times: dict[str, int | None] = {"twfe": None}
    else:
        low, high = event_window
        e = np.clip(t - g, low, high)
        regressors = {
            f"twfe_event[e={k}]": (treated_unit & (e == k)).astype(float)
            for k in range(low, high + 1)
            if k != -1
        }
        event_times = {f"twfe_event[e={k}]": k for k in range(low, high + 1) if k != -1}
    X = np.column_stack(list(regressors.values()))
    y = data[outcome].to_numpy(dtype=float)
    ui = pd.factorize(data[unit])[0]
    ti = pd.factorize(data[time])[0]
    Xd, yd = _two_way_demean(np.column_stack([X, y]), ui, ti)[:, :-1], None
    yd = _two_way_demean(y[:, None], ui, ti)[:, 0]
    keep = np.abs(Xd).sum(axis=0) > 1e-10
    Xd = Xd[:, keep]
    names = [name for name, k in zip(regressors, keep, strict=True) if k]
    beta, *_ = np.linalg.lstsq(Xd, yd, rcond=None)
    resid = yd - Xd @ beta
    bread = np.linalg.pinv(Xd.T @ Xd)
    n_units = int(ui.max()) + 1
    scores = np.zeros((n_units, Xd.shape[1]))
    np.add.at(scores, ui, Xd * resid[:, None])
    n_obs = len(y)
    k = Xd.shape[1] + n_units + int(ti.max())  # parameters incl. absorbed fixed effects
    factor = n_units / max(n_units - 1, 1) * (n_obs - 1) / max(n_obs - k, 1)
    cov = factor * bread @ (scores.T @ scores) @ bread
    se = np.sqrt(np.diag(cov))
    lo, hi = normal_interval(beta, se, level)
    return result_frame(
        {
            "term": name,
            "estimate": beta[j],
            "std_error": se[j],
            "ci_low": lo[j],
            "ci_high": hi[j],
            "n": n_obs,
            "method": "naive two-way fixed effects, SE clustered by unit",
            schema.ESTIMAND: "att",
            schema.OUTCOME: outcome,
            schema.SCALE: "difference",
            schema.EVENT_TIME: event_times[name],
            schema.METHOD_KEY: "twfe",
        }
        for j, name in enumerate(names)
    )


def _two_way_demean(
    values: np.ndarray, unit_codes: np.ndarray, time_codes: np.ndarray, tol: float = 1e-12
) -> np.ndarray:
    """Remove unit and time means by alternating projections."""
    out = values.astype(float).copy()
    nu, nt = unit_codes.max() + 1, time_codes.max() + 1
    cu = np.bincount(unit_codes, minlength=nu)[:, None]
    ct = np.bincount(time_codes, minlength=nt)[:, None]
    for _ in range(1000):
        before = out.copy()
        sums = np.zeros((nu, out.shape[1]))
        np.add.at(sums, unit_codes, out)
        out -= (sums / cu)[unit_codes]
        sums = np.zeros((nt, out.shape[1]))
        np.add.at(sums, time_codes, out)
        out -= (sums / ct)[time_codes]
        if np.max(np.abs(out - before)) < tol * (1 + np.max(np.abs(out))):
            break
    return out


# --- the region-month panel ----------------------------------------------------------------


def month_index(times: pd.Series) -> np.ndarray:
    """Calendar months as consecutive integers: ``12 * year + month`` (so never 0).

    Examples
    --------
    >>> month_index(pd.Series(pd.to_datetime(["2024-01-31", "2024-02-01"], utc=True))).tolist()
    [24289, 24290]
    """
    times = pd.to_datetime(times, utc=True)
    return (times.dt.year * 12 + times.dt.month).to_numpy(dtype=np.int64)


#: Name of the case-level covariate "age of the region's social-media desk at intake".
DESK_AGE = "desk_age"
#: Levels of :data:`DESK_AGE`: no desk open yet (or never), then months since opening.
DESK_AGE_LEVELS = ("no desk", "0-2 months", "3-5 months", "6+ months")
_DESK_AGE_EDGES = (0, 3, 6)  # first calendar month of each open bucket
#: Suffix of a covariate's copy that varies only among requests with an open desk.
DESK_SUFFIX = "|desk"


def desk_status(cases: pd.DataFrame, rollout: pd.DataFrame) -> pd.Series:
    """How long the request's region had had a social-media desk when the request came in.

    Parameters
    ----------
    cases : pandas.DataFrame
        Case table (``region`` and ``start``).
    rollout : pandas.DataFrame
        One row per region: ``region`` and ``desk_opened`` (UTC; NaT = never opened).

    Returns
    -------
    pandas.Series
        Categorical named :data:`DESK_AGE`, aligned with ``cases``, with the levels
        :data:`DESK_AGE_LEVELS`: ``no desk`` (started before the desk opened, in a region
        that never opened one, or in a region the rollout table does not list), else the
        calendar months from opening to intake, bucketed 0-2, 3-5, 6+. Missing where
        ``start`` is missing.

    Notes
    -----
    Where desks open at different dates, the chance that a request arrives through social
    media is about zero in a region before its desk opens and rises over the months after:
    an interaction of region and time that a logistic model with main effects of region and
    calendar month cannot represent. Adding this covariate to the propensity (and outcome)
    models lets them follow the rollout with only what an analyst knows: the opening dates.
    The bias it removes on the synthetic generator is measured in ``benchmarks/README.md``
    (the desk-status adjustment).

    Examples
    --------
    >>> cases = pd.DataFrame({"region": ["a", "a", "a", "b", "c"],
    ...     "start": pd.to_datetime(["2024-01-15", "2024-03-02", "2024-09-01",
    ...                              "2024-05-05", "2024-05-05"], utc=True)})
    >>> rollout = pd.DataFrame({"region": ["a", "b"],
    ...     "desk_opened": pd.to_datetime(["2024-02-01", None], utc=True)})
    >>> desk_status(cases, rollout).tolist()
    ['no desk', '0-2 months', '6+ months', 'no desk', 'no desk']
    """
    require_columns(cases, [schema.REGION, schema.START], what="the case table")
    require_columns(rollout, [schema.REGION, schema.DESK_OPENED], what="the rollout table")
    opened_by_region = dict(
        zip(
            rollout[schema.REGION].astype(str),
            pd.to_datetime(rollout[schema.DESK_OPENED], utc=True),
            strict=True,
        )
    )
    opened = pd.to_datetime(
        cases[schema.REGION].astype("object").map(opened_by_region), utc=True
    ).to_numpy()
    start = pd.to_datetime(cases[schema.START], utc=True)
    months = month_index(start.fillna(pd.Timestamp(0, tz="UTC"))) - month_index(
        pd.Series(opened).fillna(pd.Timestamp(0, tz="UTC"))
    )
    is_open = ~pd.isna(opened) & (start.to_numpy() >= opened)
    bucket = np.where(is_open, np.searchsorted(_DESK_AGE_EDGES, months, side="right"), 0)
    codes = np.where(start.isna().to_numpy(), -1, bucket)
    return pd.Series(
        pd.Categorical.from_codes(codes, categories=list(DESK_AGE_LEVELS)),
        index=cases.index,
        name=DESK_AGE,
    )


def with_desk_status(
    cases: pd.DataFrame, rollout: pd.DataFrame | None, covariates: Sequence[str]
) -> tuple[pd.DataFrame, list[str]]:
    """The case table and adjustment set, extended by the desk status when desks are known.

    Parameters
    ----------
    cases : pandas.DataFrame
        Case table.
    rollout : pandas.DataFrame or None
        Desk opening dates (see :func:`desk_status`); None leaves both inputs as they are.
    covariates : sequence of str
        Adjustment set (columns of ``cases``, or :data:`toolkit.estimate.models.MONTH`).

    Returns
    -------
    (pandas.DataFrame, list of str)
        ``cases`` with a :data:`DESK_AGE` column and, for each covariate ``c``, a column
        ``c + DESK_SUFFIX`` holding ``c`` where the request's desk was open and the most
        frequent level of ``c`` elsewhere (so that its dummy-coded terms are exactly the
        interactions of ``c`` with "desk open"); ``covariates`` extended by these names.
        Without a rollout table, both inputs unchanged.

    Notes
    -----
    With main effects of every covariate, of :data:`DESK_AGE` and of the covariates among
    requests with an open desk, a model is in effect fitted separately to requests before
    and after their region's desk opened (the two sets share no parameter), with the desk's
    age as an extra term after opening. That is the shape of channel choice in a rollout:
    before a desk opens social intake is rare and hardly depends on topic, place or time;
    after, it does, and it grows while the desk is young. ``benchmarks/README.md`` (the
    desk-status adjustment) has its bias against the generator's true propensity, beside
    main effects only and main effects with the desk's age.

    Examples
    --------
    >>> cases = pd.DataFrame({"region": ["a", "a", "b", "b", "b"],
    ...     "start": pd.to_datetime(["2023-12-01", "2024-03-01", "2024-03-01", "2023-12-01",
    ...                              "2024-09-01"], utc=True)})
    >>> rollout = pd.DataFrame({"region": ["a", "b"],
    ...     "desk_opened": pd.to_datetime(["2024-01-01", "2024-02-01"], utc=True)})
    >>> table, covariates = with_desk_status(cases, rollout, ["region"])
    >>> covariates
    ['region', 'desk_age', 'region|desk']
    >>> table["desk_age"].tolist()
    ['no desk', '0-2 months', '0-2 months', 'no desk', '6+ months']
    >>> table["region|desk"].tolist()  # "b" is the reference level
    ['b', 'a', 'b', 'b', 'b']
    """
    from toolkit.estimate.models import covariate_codes

    covariates = list(covariates)
    if rollout is None:
        return cases, covariates
    status = desk_status(cases, rollout)
    columns = {DESK_AGE: status}
    is_open = (status.cat.codes > 0).to_numpy()
    base = [c for c in covariates if c != DESK_AGE and not c.endswith(DESK_SUFFIX)]
    codes = covariate_codes(cases, base)
    for name in base:
        levels = np.asarray(codes.attrs["levels"][name], dtype=object)
        # closed-desk requests join the reference level (code 0, the most frequent), so the
        # dummies are the interactions "level x desk open", not collinear with DESK_AGE
        labels = levels[np.where(is_open, codes[name].to_numpy(), 0)]
        columns[name + DESK_SUFFIX] = pd.Series(labels, index=cases.index, dtype="str")
    cases = cases.assign(**columns)
    for name in columns:
        if name not in covariates:
            covariates.append(name)
    return cases, covariates


def rollout_panel(
    cases: pd.DataFrame,
    rollout: pd.DataFrame,
    *,
    tau_days: float = 30.0,
    cutoff: pd.Timestamp | str | None = None,
) -> pd.DataFrame:
    """Region-month panel of hops and time to resolution, with each region's desk cohort.

    Parameters
    ----------
    cases : pandas.DataFrame
        Case table (``region``, ``start``, ``hops``, ``duration_hours``, ``censored``).
    rollout : pandas.DataFrame
        ``region`` and ``desk_opened`` (timestamp; NaT or absent region = never opened).
    tau_days : float
        Horizon of the time outcome.
    cutoff : timestamp, optional
        Observation cut-off; default the latest ``end`` in the case table (where the case
        table censors open requests).

    Returns
    -------
    pandas.DataFrame
        One row per region and intake month with requests: ``unit`` (region), ``period``
        (:func:`month_index`), ``month`` (``YYYY-MM``), ``first_treated`` (period of the
        first month that starts on or after the desk opening; 0 = never), ``hops`` (mean
        hops of the cell's requests with observed hops; NaN for a month that ends after the
        cut-off), ``rmst_days`` (mean of ``min(duration, tau)`` in days over the cell's
        requests with a full tau of follow-up before the cut-off; NaN if none, and for a month
        that ends less than tau before the cut-off), ``n_requests`` and ``n_followed``.

    Notes
    -----
    A desk opening mid-month makes that month partly treated; it is counted as the last
    pre-treatment month's successor only from the next full month, so that no cell mixes
    treated and untreated days. ``min(T, tau)`` is known exactly for a request submitted at
    least tau before the cut-off (resolved before tau, or still open at tau), so the time
    outcome uses only those requests, and its panel ends tau before the cut-off.

    Examples
    --------
    >>> cases = pd.DataFrame({"region": ["a", "a", "b"], "hops": [1, 3, 2],
    ...     "start": pd.to_datetime(["2024-01-05", "2024-01-09", "2024-01-07"], utc=True),
    ...     "duration_hours": [24.0, 48.0, 24.0], "censored": [False, False, False]})
    >>> desks = pd.DataFrame({"region": ["a", "b"],
    ...                       "desk_opened": pd.to_datetime(["2024-02-01", None], utc=True)})
    >>> rollout_panel(cases, desks, cutoff="2024-03-31")[["unit", "hops", "first_treated"]]
      unit  hops  first_treated
    0    a   2.0          24290
    1    b   2.0              0
    """
    require_columns(cases, [schema.REGION, schema.START, schema.HOPS], what="the case table")
    require_columns(rollout, [schema.REGION, schema.DESK_OPENED], what="the rollout table")
    region = cases[schema.REGION].astype("object")
    period = month_index(cases[schema.START])
    if cutoff is None:
        require_columns(cases, [schema.END], what="the case table")
        cutoff_ts = pd.to_datetime(cases[schema.END]).max()
    else:
        cutoff_ts = pd.Timestamp(cutoff)
        cutoff_ts = cutoff_ts.tz_localize("UTC") if cutoff_ts.tz is None else cutoff_ts
    hops = pd.to_numeric(cases[schema.HOPS], errors="coerce").astype("float64")
    frame = pd.DataFrame({UNIT: region.to_numpy(), PERIOD: period, schema.HOPS: hops.to_numpy()})
    if schema.DURATION_HOURS in cases.columns and schema.CENSORED in cases.columns:
        start = pd.to_datetime(cases[schema.START], utc=True)
        followed = (start + pd.Timedelta(days=tau_days) <= cutoff_ts).to_numpy()
        capped = np.minimum(cases[schema.DURATION_HOURS].to_numpy(dtype=float) / 24.0, tau_days)
        frame["rmst_days"] = np.where(followed, capped, np.nan)
        frame["followed"] = followed.astype(int)
    grouped = frame.groupby([UNIT, PERIOD], sort=True)
    panel = grouped[schema.HOPS].mean().rename("hops").to_frame()
    panel["n_requests"] = grouped.size()
    if "rmst_days" in frame.columns:
        panel["rmst_days"] = grouped["rmst_days"].mean()
        panel["n_followed"] = grouped["followed"].sum()
    panel = panel.reset_index()
    # Incomplete months are left out by rule: a month whose intake runs past the cut-off is
    # only partly in the log (its last cells hold a handful of requests), and a month whose
    # requests cannot all be followed for tau before the cut-off gives a time outcome of its
    # earliest days only.
    years, months = np.divmod(panel[PERIOD].to_numpy() - 1, 12)
    month_end = pd.to_datetime(
        {"year": years + (months == 11), "month": (months + 1) % 12 + 1, "day": 1}, utc=True
    )
    panel.loc[(month_end > cutoff_ts).to_numpy(), "hops"] = np.nan
    if "rmst_days" in panel.columns:
        late = (month_end + pd.Timedelta(days=tau_days) > cutoff_ts).to_numpy()
        panel.loc[late, "rmst_days"] = np.nan
    opened = pd.to_datetime(rollout[schema.DESK_OPENED], utc=True)
    month_start = opened.dt.normalize() - pd.to_timedelta(opened.dt.day - 1, unit="D")
    first = month_index(opened.fillna(pd.Timestamp(0, tz="UTC"))) + (opened > month_start)
    first_period = pd.Series(
        np.where(opened.notna(), first, 0), index=rollout[schema.REGION].astype("object").to_numpy()
    )
    panel[FIRST_TREATED] = panel[UNIT].map(first_period).fillna(0).astype(np.int64)
    years, months = np.divmod(panel[PERIOD].to_numpy() - 1, 12)
    panel["month"] = [f"{y:04d}-{m + 1:02d}" for y, m in zip(years, months, strict=True)]
    columns = [
        UNIT,
        PERIOD,
        "month",
        FIRST_TREATED,
        "hops",
        "rmst_days",
        "n_requests",
        "n_followed",
    ]
    return panel[[c for c in columns if c in panel.columns]]


def rollout_event_study(
    cases: pd.DataFrame,
    rollout: pd.DataFrame,
    *,
    outcomes: Sequence[str] = ("hops", "rmst_days"),
    control: str = "notyet",
    trends: str = "multiplicative",
    tau_days: float = 30.0,
    cutoff: pd.Timestamp | str | None = None,
    level: float = 0.95,
) -> EstimateResult:
    """Callaway–Sant'Anna event study of each outcome on the region-month panel, with TWFE.

    Parameters
    ----------
    cases, rollout : pandas.DataFrame
        As for :func:`rollout_panel`.
    outcomes : sequence of str
        Panel columns to study (``hops``, ``rmst_days``).
    control : {"notyet", "never"}
        Comparison regions (few regions never get a desk, so not-yet-treated is the default).
    trends : {"multiplicative", "additive"}
        Parallel-trends assumption, see :func:`callaway_santanna`. Multiplicative by
        default: hop counts and durations of regions with higher levels move by more in
        absolute terms when a common factor (seasonality, staffing) changes, so trends
        parallel in levels are implausible across urban and rural regions.

    Returns
    -------
    EstimateResult
        ``table``: for each outcome, the rows of :func:`callaway_santanna` and the naive
        TWFE row, with ``contrast`` "desk open vs not yet open" and readable terms:
        ``att_rollout_<outcome>`` (the simple ATT, and TWFE), ``es_<outcome>[e=k]`` (event
        times), ``att_rollout_<outcome>[cohort=g]``, ``att_dynamic_rollout_<outcome>``,
        ``att_cohort_rollout_<outcome>`` and ``att_gt_<outcome>[g=g,e=k]``.
        ``diagnostics["panel"]``: the panel.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> months = pd.date_range("2024-01-01", periods=6, freq="MS", tz="UTC")
    >>> cases = pd.DataFrame({"region": np.repeat(["a", "b", "c"], 60),
    ...     "start": np.tile(np.repeat(months, 10), 3),
    ...     "hops": rng.poisson(2, 180)})
    >>> desks = pd.DataFrame({"region": ["a", "b", "c"], "desk_opened":
    ...     pd.to_datetime(["2024-03-01", "2024-05-01", None], utc=True)})
    >>> r = rollout_event_study(cases, desks, outcomes=["hops"], cutoff="2024-07-01")
    >>> "att_rollout_hops" in set(r.table["term"])
    True
    """
    panel = rollout_panel(cases, rollout, tau_days=tau_days, cutoff=cutoff)
    tables = []
    for name in outcomes:
        if name not in panel.columns:
            raise SekatError(f"no outcome {name!r} in the rollout panel", column=name)
        sub = panel.loc[panel[name].notna()]
        cs = callaway_santanna(sub, outcome=name, control=control, trends=trends, level=level).table
        naive = twfe(sub, outcome=name, level=level)
        both = pd.concat([cs, naive], ignore_index=True)
        both[schema.CONTRAST] = schema.DESK_CONTRAST
        both["term"] = [_rollout_term(row, name) for row in both.to_dict("records")]
        tables.append(both)
    return EstimateResult(result_frame(pd.concat(tables, ignore_index=True)), {"panel": panel})


def _rollout_term(row: dict, outcome: str) -> str:
    """A readable term for a row of the rollout study, from its descriptors."""
    estimand, event_time = row[schema.ESTIMAND], row[schema.EVENT_TIME]
    if row[schema.GROUP] == "cohort" and not pd.isna(event_time):
        return f"att_gt_{outcome}[g={row[schema.GROUP_VALUE]},e={int(event_time)}]"
    if not pd.isna(event_time):
        return term_name(estimand, outcome, event_time=int(event_time), prefix="es")
    name = f"{estimand}_rollout_{outcome}"
    if row[schema.GROUP] == "cohort":
        return f"{name}[cohort={row[schema.GROUP_VALUE]}]"
    return name
