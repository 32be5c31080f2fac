"""Effects of social-media intake on the number of hand-offs ("hops") a request makes.

Three estimators, from the plainest to the most careful:

* :func:`naive_hops` — mean hops by channel group and the raw social minus not-social
  difference (confounded whenever channel choice depends on topic, place or time);
* :func:`hops_regression` — Poisson or negative-binomial (NB2) regression of hops on the
  social indicator with the fixed effects the analyst chooses (category, region, month of
  intake, intake agency) and cluster-robust standard errors, reported as an incidence-rate
  ratio;
* :func:`aipw_hops` — the doubly robust augmented inverse-probability-weighted (AIPW)
  estimate of the average effect of social intake (ATE) and the effect on the requests that
  came in through social media (ATT), with overlap diagnostics.

:func:`effects_by_group` repeats AIPW within each category (or region) and widens the
intervals for the number of comparisons.

All models take categorical covariates only and are fitted on covariate cells
(:mod:`toolkit.estimate.models`), exactly and in milliseconds even for millions of requests.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from toolkit import schema
from toolkit.errors import SekatError, require_columns
from toolkit.estimate.models import (
    DEFAULT_COVARIATES,
    MAX_WEIGHT_SHARE,
    MIN_EFFECTIVE_SHARE,
    PropensityModel,
    cluster_covariance,
    covariate_cells,
    covariate_codes,
    dummy_design,
    fit_cell_glm,
    overlap_diagnostics,
    overlap_rule,
    propensity_scores,
    treatment_indicator,
)
from toolkit.results import (
    DEFAULT_ADJUSTMENT,
    EstimateResult,
    adjust_intervals,
    influence_se,
    ratio_row,
    result_frame,
    term_name,
    wald_row,
)

__all__ = [
    "MAX_WEIGHT_SHARE",
    "MIN_EFFECTIVE_SHARE",
    "aipw_hops",
    "effects_by_group",
    "hops_regression",
    "naive_hops",
    "overlap_diagnostics",
    "overlap_rule",
]

#: Descriptors of every effect here: the outcome and the contrast of social intake.
_HOPS = {schema.OUTCOME: schema.HOPS_OUTCOME, schema.CONTRAST: schema.SOCIAL_CONTRAST}

# --- naive difference ----------------------------------------------------------------------


def naive_hops(cases: pd.DataFrame, *, level: float = 0.95) -> pd.DataFrame:
    """Mean hops by channel group and the raw social minus not-social difference.

    Parameters
    ----------
    cases : pandas.DataFrame
        Case table; requests with missing ``hops`` are left out.
    level : float
        Confidence level.

    Returns
    -------
    pandas.DataFrame
        Result table: one row ``mean_hops[<group>]`` per channel group present (estimand
        ``mean``, group ``channel_group``), and the row ``difference_hops``: social minus
        not social (estimand ``difference``, Welch standard error), method ``naive
        difference``.

    Notes
    -----
    The naive difference compares raw means. It is biased whenever channel choice is related
    to the request's topic, place or time, which is why the adjusted estimators exist; it is
    reported beside them so the reader sees the size of the confounding.

    Examples
    --------
    >>> c = pd.DataFrame({"channel": ["twitter", "whatsapp", "phone", "letter"],
    ...                   "channel_group": ["social", "social", "traditional", "traditional"],
    ...                   "hops": [1, 1, 3, 5]})
    >>> naive_hops(c)[["term", "estimand", "estimate"]].values.tolist()
    [['mean_hops[social]', 'mean', 1.0], ['mean_hops[traditional]', 'mean', 4.0], ['difference_hops', 'difference', -3.0]]
    """
    require_columns(cases, [schema.CHANNEL, schema.HOPS], what="the case table")
    hops = pd.to_numeric(cases[schema.HOPS], errors="coerce").astype("float64")
    observed = hops.notna().to_numpy()
    y = hops.to_numpy()[observed]
    treated = treatment_indicator(cases)[observed].astype(bool)
    groups = (
        cases[schema.CHANNEL_GROUP]
        if schema.CHANNEL_GROUP in cases.columns
        else schema.channel_group(cases[schema.CHANNEL])
    )
    groups = groups.astype("object").to_numpy()[observed]
    rows = []
    for group in schema.CHANNEL_GROUPS:
        values = y[groups == group]
        if len(values):
            se = values.std(ddof=1) / np.sqrt(len(values)) if len(values) > 1 else np.nan
            rows.append(
                wald_row(
                    f"mean_hops[{group}]",
                    values.mean(),
                    se,
                    len(values),
                    "mean",
                    level,
                    estimand="mean",
                    outcome=schema.HOPS_OUTCOME,
                    scale="level",
                    group=schema.CHANNEL_GROUP,
                    group_value=group,
                    method_key="mean",
                )
            )
    y1, y0 = y[treated], y[~treated]
    if len(y1) > 1 and len(y0) > 1:
        diff = y1.mean() - y0.mean()
        se = np.sqrt(y1.var(ddof=1) / len(y1) + y0.var(ddof=1) / len(y0))
        rows.append(
            wald_row(
                term_name("difference", schema.HOPS_OUTCOME),
                diff,
                se,
                len(y),
                "naive difference",
                level,
                estimand="difference",
                scale="difference",
                method_key="naive",
                **_HOPS,
            )
        )
    return result_frame(rows)


# --- Poisson / negative-binomial regression ----------------------------------------------


def hops_regression(
    cases: pd.DataFrame,
    *,
    fixed_effects: Sequence[str] = DEFAULT_COVARIATES,
    family: str = "poisson",
    cluster: str | None = schema.REGION,
    level: float = 0.95,
) -> EstimateResult:
    """Poisson or negative-binomial regression of hops on social intake, as an IRR.

    Parameters
    ----------
    cases : pandas.DataFrame
        Case table; requests with missing ``hops`` are left out.
    fixed_effects : sequence of str
        Categorical fixed effects: any of ``category``, ``region``, ``month``,
        ``first_agency`` (intake agency).
    family : {"poisson", "negbin"}
        ``negbin`` is NB2 with dispersion estimated by the moment regression of Cameron and
        Trivedi, then held fixed while the coefficients are fitted.
    cluster : str or None
        Column whose values define clusters for the robust covariance (default region);
        None gives heteroskedasticity-robust (HC1-type) errors, one cluster per request.
    level : float
        Confidence level.

    Returns
    -------
    EstimateResult
        ``table`` has one row, term ``irr_hops`` (estimand ``conditional``, scale ``ratio``):
        the incidence-rate ratio ``exp(beta)``,
        its delta-method standard error ``IRR * se(beta)`` and the interval
        ``exp(beta ± z se(beta))``. ``diagnostics["fit"]`` holds the log-scale coefficient,
        its SE, alpha, the number of clusters and convergence.

    Notes
    -----
    ``log E[hops | social, FE] = beta * social + FE``: the IRR ``exp(beta)`` is the ratio of
    the expected hops of a social request to that of an otherwise identical non-social one
    (a conditional, multiplicative effect). The Poisson quasi-likelihood is consistent for
    ``beta`` whenever the conditional mean is right, whatever the dispersion, so with
    cluster-robust errors it is the safer default; NB2 is more efficient when its variance
    function holds.

    References
    ----------
    Cameron, A. C. and Trivedi, P. K. (2013). Regression Analysis of Count Data, 2nd ed.
    Wooldridge, J. M. (1999). Distribution-free estimation of some nonlinear panel data
    models. J. Econometrics 90, 77-97.

    Examples
    --------
    >>> c = pd.DataFrame({"channel": ["twitter"] * 2 + ["phone"] * 2,
    ...                   "region": ["a", "b", "a", "b"], "hops": [1, 1, 2, 2]})
    >>> r = hops_regression(c, fixed_effects=["region"], cluster=None)
    >>> round(float(r.table["estimate"].iloc[0]), 6)
    0.5
    """
    if family not in ("poisson", "negbin"):
        raise SekatError(f"family must be 'poisson' or 'negbin', got {family!r}")
    require_columns(cases, [schema.CHANNEL, schema.HOPS], what="the case table")
    hops = pd.to_numeric(cases[schema.HOPS], errors="coerce").astype("float64")
    data = cases.loc[hops.notna().to_numpy()]
    y = hops.to_numpy()[hops.notna().to_numpy()]
    if len(data) == 0:
        raise SekatError("no request has an observed hop count", column=schema.HOPS)
    treated = treatment_indicator(data)
    codes = covariate_codes(data, list(fixed_effects))
    if cluster is None:
        cluster_codes = np.arange(len(data))
    else:
        require_columns(data, [cluster], what="the case table")
        cluster_codes = pd.factorize(data[cluster].astype("object"), use_na_sentinel=False)[0]
    cells = covariate_cells(codes, [treated, cluster_codes])
    n_cov = codes.shape[1]
    design = np.column_stack(
        [dummy_design(cells.codes[:, :n_cov], cells.n_levels), cells.codes[:, n_cov].astype(float)]
    )
    count = np.bincount(cells.index, minlength=len(cells.codes)).astype(float)
    total = np.bincount(cells.index, weights=y, minlength=len(cells.codes))
    fit = fit_cell_glm(design, total, count, family="poisson")
    alpha = 0.0
    if family == "negbin":
        total_sq = np.bincount(cells.index, weights=y * y, minlength=len(cells.codes))
        mu = fit.mean
        # sum_i (y_i - mu)^2 - y_i  =  sum y^2 - 2 mu sum y + n mu^2 - sum y, per cell
        numerator = np.sum(total_sq - 2 * mu * total + count * mu**2 - total)
        alpha = max(float(numerator / np.sum(count * mu**2)), 1e-8)
        fit = fit_cell_glm(design, total, count, family="negbin", alpha=alpha, start=fit.params)
    resid = (total - count * fit.mean) / (1 + alpha * fit.mean)
    cov, n_clusters = cluster_covariance(
        design, resid, cells.codes[:, n_cov + 1], fit.bread, len(data)
    )
    beta, se = fit.params[-1], float(np.sqrt(cov[-1, -1]))
    # few districts: the cluster-robust SE has about G - 1 degrees of freedom
    df = n_clusters - 1 if cluster is not None and n_clusters >= 2 else None
    method = (
        f"{'Poisson' if family == 'poisson' else 'negative binomial (NB2)'} regression IRR, "
        f"FE: {', '.join(fixed_effects) or 'none'}; "
        + (
            f"SE clustered by {cluster} (G={n_clusters}, t critical values)"
            if df is not None
            else "robust SE"
        )
    )
    row = ratio_row(
        "irr_hops",
        beta,
        se,
        len(data),
        method,
        level,
        df=df,
        estimand="conditional",
        method_key="poisson_fe" if family == "poisson" else "negbin_fe",
        **_HOPS,
    )
    table = result_frame([row])
    fit_table = pd.DataFrame(
        {
            "log_irr": [beta],
            "log_irr_se": [se],
            "alpha": [alpha],
            "clusters": [n_clusters],
            "parameters": [design.shape[1]],
            "converged": [fit.converged],
        }
    )
    return EstimateResult(table, {"fit": fit_table})


def aipw_hops(
    cases: pd.DataFrame,
    *,
    covariates: Sequence[str] = DEFAULT_COVARIATES,
    outcome_model: str = "poisson",
    trim: float | None = None,
    level: float = 0.95,
    outcome_covariates: Sequence[str] | None = None,
    cluster: str | None = schema.REGION,
    cross_fit: int | None = None,
    seed: int = 0,
) -> EstimateResult:
    """Doubly robust (AIPW) effect of social intake on hops, with overlap diagnostics.

    Parameters
    ----------
    cases : pandas.DataFrame
        Case table; requests with missing ``hops`` are left out.
    covariates : sequence of str
        Categorical covariates of both the propensity model (logistic, main effects) and the
        outcome models (one per arm, main effects).
    outcome_model : {"poisson", "linear"}
        Link of the per-arm outcome models.
    trim : float, optional
        Drop requests whose propensity lies outside ``[trim, 1 - trim]`` (this changes the
        estimand to the overlap population; the number dropped is reported).
    level : float
        Confidence level.
    outcome_covariates : sequence of str, optional
        Covariates of the outcome models, if not ``covariates`` (e.g. a richer propensity
        model, :func:`toolkit.estimate.rollout.with_desk_status`, beside main-effects outcome models
        that stay stable in small arms).
    cluster : str or None
        Column whose values are the clusters of the standard errors (default region: requests
        of one district share its backlog and its staff); the intervals then use t critical
        values with G - 1 degrees of freedom. None (or a column with one value) treats requests
        as independent.
    cross_fit : int, optional
        Number of folds of cross-fitting: the propensity and outcome models of each fold's
        requests are fitted on the other folds (Chernozhukov et al. 2018). None fits them once
        on all requests (the cell models here are low-dimensional, so both are valid).
    seed : int
        Seed of the fold assignment when cross-fitting.

    Returns
    -------
    EstimateResult
        ``table``: rows ``ate_hops`` (average treatment effect, additive, in hops),
        ``att_hops`` (effect on the social requests) and ``ato_hops`` (overlap-weighted
        effect), estimands ``ate``, ``att`` and ``ato``. ``diagnostics``: ``overlap``
        (propensity quantiles, effective sample size and the largest weight share by arm, for
        the ATE and the ATT weights), ``propensity_histogram`` (counts of requests by
        propensity bin and arm, for plotting), ``trimming`` and ``overlap_rule`` (whether the
        ATE passes :data:`toolkit.estimate.models.MIN_EFFECTIVE_SHARE`).

    Notes
    -----
    With propensity ``e(x)`` and outcome means ``m1(x)``, ``m0(x)``, the AIPW estimate is the
    mean of ``psi = m1 - m0 + T (Y - m1) / e - (1 - T)(Y - m0)/(1 - e)``; it is consistent if
    either model is right. The ATT uses the doubly robust form
    ``sum[T (Y - m0) - (1 - T) e/(1 - e) (Y - m0)] / sum T``. The overlap-weighted effect
    (ATO) weights ``psi`` by ``h = e (1 - e)``: it is the effect among requests that could
    have come either way, and it never divides by a propensity near 0 or 1 (Li, Morgan and
    Zaslavsky 2018). Standard errors are those of the influence functions, summed within
    districts when ``cluster`` is given. The effective sample size of an arm with weights
    ``w`` is ``(sum w)^2 / sum w^2``; a small value signals poor overlap.

    References
    ----------
    Robins, J. M., Rotnitzky, A. and Zhao, L. P. (1994). Estimation of regression coefficients
    when some regressors are not always observed. JASA 89, 846-866.
    Glynn, A. N. and Quinn, K. M. (2010). An introduction to the augmented inverse propensity
    weighted estimator. Political Analysis 18, 36-56.
    Crump, R. K. et al. (2009). Dealing with limited overlap in estimation of average
    treatment effects. Biometrika 96, 187-199.
    Li, F., Morgan, K. L. and Zaslavsky, A. M. (2018). Balancing covariates via propensity
    score weighting. JASA 113, 390-400.
    Chernozhukov, V. et al. (2018). Double/debiased machine learning for treatment and
    structural parameters. Econometrics Journal 21, C1-C68.

    Examples
    --------
    >>> c = pd.DataFrame({"channel": ["twitter", "phone"] * 4,
    ...                   "region": list("aabbaabb"), "hops": [1, 2, 1, 3, 1, 2, 1, 3]})
    >>> r = aipw_hops(c, covariates=["region"], outcome_model="linear", cluster=None)
    >>> r.table[["term", "estimate"]].round(3).values.tolist()
    [['ate_hops', -1.5], ['att_hops', -1.5], ['ato_hops', -1.5]]
    """
    if outcome_model not in ("poisson", "linear"):
        raise SekatError(f"outcome_model must be 'poisson' or 'linear', got {outcome_model!r}")
    if cross_fit is not None and (isinstance(cross_fit, bool) or cross_fit < 2):
        raise SekatError(f"cross_fit must be None or at least 2 folds, got {cross_fit!r}")
    require_columns(cases, [schema.CHANNEL, schema.HOPS], what="the case table")
    hops = pd.to_numeric(cases[schema.HOPS], errors="coerce").astype("float64")
    observed = hops.notna().to_numpy()
    data = cases.loc[observed]
    y = hops.to_numpy()[observed]
    treated = treatment_indicator(data)
    outcome_covariates = list(covariates if outcome_covariates is None else outcome_covariates)
    codes = covariate_codes(data, outcome_covariates)
    clusters = _cluster_labels(data, cluster)
    n_before = len(data)
    e = propensity_scores(data, covariates)
    keep = np.ones(len(data), dtype=bool)
    if trim is not None:
        if not 0 <= trim < 0.5:
            raise SekatError(f"trim must lie in [0, 0.5), got {trim}")
        keep = (e >= trim) & (e <= 1 - trim)
    if not keep.all():
        data, y, treated, codes = data.loc[keep], y[keep], treated[keep], codes.loc[keep]
        clusters = None if clusters is None else clusters[keep]
    if treated.sum() < 2 or (1 - treated).sum() < 2:
        raise SekatError("AIPW needs at least two social and two non-social requests")
    if cross_fit is None:
        e = e[keep] if trim is not None else e
        m1, m0 = _arm_means(codes, y, treated, outcome_model)
    else:
        e, m1, m0 = _cross_fitted(
            data, codes, y, treated, covariates, outcome_model, cross_fit, seed
        )
    e = np.clip(e, 1e-6, 1 - 1e-6)
    psi = m1 - m0 + treated * (y - m1) / e - (1 - treated) * (y - m0) / (1 - e)
    n = len(y)
    ate = psi.mean()
    p_treated = treated.mean()
    resid0 = y - m0
    att_terms = treated * resid0 - (1 - treated) * e / (1 - e) * resid0
    att = att_terms.sum() / treated.sum()
    att_if = (att_terms - treated * att) / p_treated
    h = e * (1 - e)
    ato = float(np.sum(h * psi) / np.sum(h))
    ato_if = h * (psi - ato) / h.mean()
    ate_se, df = influence_se(psi - ate, clusters)
    att_se, _ = influence_se(att_if, clusters)
    ato_se, _ = influence_se(ato_if, clusters)
    method = f"AIPW ({outcome_model} outcome, logistic propensity; {', '.join(covariates)})"
    if outcome_covariates != list(covariates):
        method = method[:-1] + f"; outcome: {', '.join(outcome_covariates)})"
    if trim is not None:
        method += f"; trimmed to propensity in [{trim:g}, {1 - trim:g}]"
    if cross_fit is not None:
        method += f"; {cross_fit}-fold cross-fitted (seed={seed})"
    if df is not None:
        method += f"; SE clustered by {cluster} (G={df + 1}, t critical values)"
    described = {"scale": "difference", "method_key": "aipw", **_HOPS}
    table = result_frame(
        [
            wald_row("ate_hops", ate, ate_se, n, method, level, df=df, estimand="ate", **described),
            wald_row("att_hops", att, att_se, n, method, level, df=df, estimand="att", **described),
            wald_row(
                "ato_hops",
                ato,
                ato_se,
                n,
                method + "; overlap weights e(1-e)",
                level,
                df=df,
                estimand="ato",
                **described,
            ),
        ]
    )
    diagnostics = overlap_diagnostics(e, treated)
    diagnostics["trimming"] = pd.DataFrame(
        {"requests_before": [n_before], "requests_kept": [n], "trim": [trim]}
    )
    diagnostics["overlap_rule"] = overlap_rule(diagnostics["overlap"])
    diagnostics["inference"] = pd.DataFrame(
        {
            "cluster": [cluster if df is not None else None],
            "clusters": [df + 1 if df else 0],
            "df": [df if df is not None else np.nan],
        }
    )
    return EstimateResult(table, diagnostics)


def _cluster_labels(data: pd.DataFrame, cluster: str | None) -> np.ndarray | None:
    """Cluster label per request, or None when there is nothing to cluster on."""
    if cluster is None or cluster not in data.columns:
        return None
    labels = data[cluster].astype("object").to_numpy()
    return labels if pd.Series(labels).nunique(dropna=False) >= 2 else None


def _cross_fitted(
    data: pd.DataFrame,
    codes: pd.DataFrame,
    y: np.ndarray,
    treated: np.ndarray,
    covariates: Sequence[str],
    outcome_model: str,
    folds: int,
    seed: int,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Propensity and arm means of each request from models fitted on the other folds."""
    rng = np.random.default_rng(seed)
    fold = rng.permutation(np.arange(len(y)) % folds)
    model = PropensityModel(data, covariates)
    e, m1, m0 = np.empty(len(y)), np.empty(len(y)), np.empty(len(y))
    for k in range(folds):
        here = fold == k
        train = (~here).astype(float)
        e[here] = model.fit(train)[0][here]
        a1, a0 = _arm_means(codes, y, treated, outcome_model, weights=train)
        m1[here], m0[here] = a1[here], a0[here]
    return e, m1, m0


def _arm_means(
    codes: pd.DataFrame,
    y: np.ndarray,
    treated: np.ndarray,
    outcome_model: str,
    weights: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Predicted outcome under treatment and under control, from one model per arm."""
    cells = covariate_cells(codes)
    design = dummy_design(cells.codes, cells.n_levels)
    w = np.ones(len(y)) if weights is None else np.asarray(weights, dtype=float)
    predictions = []
    for arm in (1, 0):
        in_arm = treated == arm
        count = np.bincount(
            cells.index[in_arm], weights=w[in_arm], minlength=len(cells.codes)
        ).astype(float)
        total = np.bincount(
            cells.index[in_arm], weights=w[in_arm] * y[in_arm], minlength=len(cells.codes)
        )
        if outcome_model == "poisson":
            cell_mean = fit_cell_glm(design, total, count, family="poisson").mean
        else:
            keep = count > 0
            xw = design[keep] * count[keep, None]
            gram = xw.T @ design[keep]
            gram[np.diag_indices_from(gram)] += 1e-9 * max(np.trace(gram), 1.0)
            coef = np.linalg.solve(gram, design[keep].T @ total[keep])
            cell_mean = design @ coef
        predictions.append(cell_mean[cells.index])
    return predictions[0], predictions[1]


# --- uneven reform -----------------------------------------------------------------------


def effects_by_group(
    cases: pd.DataFrame,
    *,
    by: str = schema.CATEGORY,
    covariates: Sequence[str] = DEFAULT_COVARIATES,
    estimand: str = "att",
    adjustment: str = DEFAULT_ADJUSTMENT,
    min_requests: int = schema.MIN_CELL_COUNT,
    level: float = 0.95,
    outcome_covariates: Sequence[str] | None = None,
) -> pd.DataFrame:
    """AIPW effect of social intake on hops within each category (or region), adjusted.

    Parameters
    ----------
    cases : pandas.DataFrame
        Case table.
    by : str
        Column whose levels define the subgroups (``category`` or ``region``).
    covariates : sequence of str
        Adjustment set; ``by`` itself (and ``<by>|...`` copies of it) is removed from it
        within each subgroup.
    estimand : {"att", "ate"}
        Effect on the social requests of the subgroup (default; it needs overlap only for
        them) or on all its requests.
    adjustment : {"bonferroni", "sidak", "holm", "none"}
        Multiplicity adjustment of the intervals (see :func:`toolkit.results.adjust_intervals`);
        default Bonferroni, whose intervals are simultaneous.
    min_requests : int
        Subgroups with fewer social or fewer non-social requests are skipped.
    level : float
        Family-wise confidence level.
    outcome_covariates : sequence of str, optional
        Covariates of the outcome models, if not ``covariates`` (see :func:`aipw_hops`).

    Returns
    -------
    pandas.DataFrame
        Result table, one row ``<estimand>_hops[<by>=<level>]`` per subgroup, with
        ``group`` = ``by`` and ``group_value`` the level.

    Notes
    -----
    With m subgroups, unadjusted 95 % intervals miss at least one truth far more often than
    5 % of the time (for independent estimates ``1 - 0.95**m``). The adjustment widens them so
    that the statement "every subgroup effect lies in its interval" keeps ``level``.

    Examples
    --------
    >>> c = pd.DataFrame({"channel": ["twitter", "phone"] * 20, "category": ["x"] * 20 + ["y"] * 20,
    ...                   "region": list("ab" * 20)[::-1], "hops": [1, 2] * 10 + [1, 3] * 10})
    >>> effects_by_group(c, covariates=["region"], estimand="ate")["estimate"].round(3).tolist()
    [-1.0, -2.0]
    """
    require_columns(cases, [by], what="the case table")
    if estimand not in ("att", "ate"):
        raise SekatError(f"estimand must be 'att' or 'ate', got {estimand!r}")
    rows: list[dict] = []
    dfs: list[float] = []
    groups = cases[by].astype("object")
    # ``by`` and its copies (e.g. ``region|desk`` of toolkit.estimate.rollout.with_desk_status) are
    # constant within a subgroup, or collinear with the rest
    adjust_set = [c for c in covariates if c != by and not c.startswith(f"{by}|")]
    outcome_set = None
    if outcome_covariates is not None:
        outcome_set = [c for c in outcome_covariates if c != by and not c.startswith(f"{by}|")]
    for value in sorted(groups.dropna().unique(), key=str):
        subset = cases.loc[(groups == value).to_numpy()]
        treated = treatment_indicator(subset)
        if treated.sum() < min_requests or (1 - treated).sum() < min_requests:
            continue
        fitted = aipw_hops(
            subset, covariates=adjust_set, level=level, outcome_covariates=outcome_set
        )
        result = fitted.table
        group_df = fitted.diagnostics["inference"]["df"].iloc[0]
        if np.isfinite(group_df):
            dfs.append(float(group_df))
        row = result.loc[result[schema.ESTIMAND] == estimand].iloc[0].to_dict()
        row.update(
            term=term_name(estimand, schema.HOPS_OUTCOME, group=by, group_value=value),
            group=by,
            group_value=str(value),
        )
        rows.append(row)
    if not rows:
        return result_frame([])
    return adjust_intervals(
        result_frame(rows), method=adjustment, level=level, df=min(dfs) if dfs else None
    )
