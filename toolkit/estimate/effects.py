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
    SOCIAL_TERM,
    cluster_covariance,
    covariate_cells,
    covariate_codes,
    dummy_design,
    fit_cell_glm,
    propensity_scores,
    treatment_indicator,
)
from toolkit.results import (
    DEFAULT_ADJUSTMENT,
    EstimateResult,
    adjust_intervals,
    ratio_row,
    result_frame,
    term_name,
    wald_row,
)

__all__ = [
    "aipw_hops",
    "effects_by_group",
    "hops_regression",
    "naive_hops",
    "overlap_diagnostics",
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
    method = (
        f"{'Poisson' if family == 'poisson' else 'negative binomial (NB2)'} regression IRR, "
        f"FE: {', '.join(fixed_effects) or 'none'}; "
        + (f"SE clustered by {cluster}" if cluster else "robust SE")
    )
    row = ratio_row(
        "irr_hops",
        beta,
        se,
        len(data),
        method,
        level,
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

    Returns
    -------
    EstimateResult
        ``table``: rows ``ate_hops`` (average treatment effect, additive, in hops) and
        ``att_hops`` (effect on the social requests), estimands ``ate`` and ``att``. ``diagnostics``: ``overlap`` (propensity quantiles
        and effective sample size by arm), ``propensity_histogram`` (counts of requests by
        propensity bin and arm, for plotting) and ``trimming``.

    Notes
    -----
    With propensity ``e(x)`` and outcome means ``m1(x)``, ``m0(x)``, the AIPW estimate is the
    mean of ``psi = m1 - m0 + T (Y - m1) / e - (1 - T)(Y - m0)/(1 - e)``; it is consistent if
    either model is right, and its standard error is ``sd(psi)/sqrt(n)``. The ATT uses the
    doubly robust form ``sum[T (Y - m0) - (1 - T) e/(1 - e) (Y - m0)] / sum T``. The effective
    sample size of an arm with inverse-probability weights ``w`` is ``(sum w)^2 / sum w^2``;
    a small value signals poor overlap.

    References
    ----------
    Robins, J. M., Rotnitzky, A. and Zhao, L. P. (1994). Estimation of regression coefficients
    when some regressors are not always observed. JASA 89, 846-866.
    Glynn, A. N. and Quinn, K. M. (2010). An introduction to the augmented inverse propensity
    weighted estimator. Political Analysis 18, 36-56.
    Crump, R. K. et al. (2009). Dealing with limited overlap in estimation of average
    treatment effects. Biometrika 96, 187-199.

    Examples
    --------
    >>> c = pd.DataFrame({"channel": ["twitter", "phone"] * 4,
    ...                   "region": list("aabbaabb"), "hops": [1, 2, 1, 3, 1, 2, 1, 3]})
    >>> r = aipw_hops(c, covariates=["region"], outcome_model="linear")
    >>> r.table[["term", "estimate"]].round(3).values.tolist()
    [['ate_hops', -1.5], ['att_hops', -1.5]]
    """
    if outcome_model not in ("poisson", "linear"):
        raise SekatError(f"outcome_model must be 'poisson' or 'linear', got {outcome_model!r}")
    require_columns(cases, [schema.CHANNEL, schema.HOPS], what="the case table")
    hops = pd.to_numeric(cases[schema.HOPS], errors="coerce").astype("float64")
    observed = hops.notna().to_numpy()
    data = cases.loc[observed]
    y = hops.to_numpy()[observed]
    treated = treatment_indicator(data)
    outcome_covariates = list(covariates if outcome_covariates is None else outcome_covariates)
    codes = covariate_codes(data, outcome_covariates)
    e = propensity_scores(data, covariates)
    n_before = len(data)
    keep = np.ones(len(data), dtype=bool)
    if trim is not None:
        if not 0 <= trim < 0.5:
            raise SekatError(f"trim must lie in [0, 0.5), got {trim}")
        keep = (e >= trim) & (e <= 1 - trim)
    y, treated, e = y[keep], treated[keep], e[keep]
    codes = codes.loc[keep]
    if treated.sum() < 2 or (1 - treated).sum() < 2:
        raise SekatError("AIPW needs at least two social and two non-social requests")
    m1, m0 = _arm_means(codes, y, treated, outcome_model)
    e = np.clip(e, 1e-6, 1 - 1e-6)
    psi = m1 - m0 + treated * (y - m1) / e - (1 - treated) * (y - m0) / (1 - e)
    n = len(y)
    ate = psi.mean()
    ate_se = psi.std(ddof=1) / np.sqrt(n)
    p_treated = treated.mean()
    resid0 = y - m0
    att_terms = treated * resid0 - (1 - treated) * e / (1 - e) * resid0
    att = att_terms.sum() / treated.sum()
    att_if = (att_terms - treated * att) / p_treated
    att_se = att_if.std(ddof=1) / np.sqrt(n)
    method = f"AIPW ({outcome_model} outcome, logistic propensity; {', '.join(covariates)})"
    if outcome_covariates != list(covariates):
        method = method[:-1] + f"; outcome: {', '.join(outcome_covariates)})"
    if trim is not None:
        method += f"; trimmed to propensity in [{trim:g}, {1 - trim:g}]"
    described = {"scale": "difference", "method_key": "aipw", **_HOPS}
    table = result_frame(
        [
            wald_row("ate_hops", ate, ate_se, n, method, level, estimand="ate", **described),
            wald_row("att_hops", att, att_se, n, method, level, estimand="att", **described),
        ]
    )
    diagnostics = overlap_diagnostics(e, treated)
    diagnostics["trimming"] = pd.DataFrame(
        {"requests_before": [n_before], "requests_kept": [n], "trim": [trim]}
    )
    return EstimateResult(table, diagnostics)


def _arm_means(
    codes: pd.DataFrame, y: np.ndarray, treated: np.ndarray, outcome_model: str
) -> tuple[np.ndarray, np.ndarray]:
    """Predicted outcome under treatment and under control, from one model per arm."""
    cells = covariate_cells(codes)
    design = dummy_design(cells.codes, cells.n_levels)
    predictions = []
    for arm in (1, 0):
        in_arm = treated == arm
        count = np.bincount(cells.index[in_arm], minlength=len(cells.codes)).astype(float)
        total = np.bincount(cells.index[in_arm], weights=y[in_arm], minlength=len(cells.codes))
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


def overlap_diagnostics(
    propensity: np.ndarray, treated: np.ndarray, *, bins: int = 20
) -> dict[str, pd.DataFrame]:
    """Propensity distribution by arm and the effective sample size of IPW weights.

    Parameters
    ----------
    propensity : numpy.ndarray
        Estimated ``P(social | covariates)`` for each request.
    treated : numpy.ndarray
        0/1 social indicator.
    bins : int
        Number of equal-width propensity bins in the histogram table.

    Returns
    -------
    dict
        ``overlap``: one row per arm with n, min, 1/5/25/50/75/95/99 % quantiles, max, the
        effective sample size ``(sum w)^2/sum w^2`` of the ATE weights (``1/e`` treated,
        ``1/(1-e)`` control) and its ratio to n. ``propensity_histogram``: bin edges and
        the number of requests of each arm in each bin.

    Examples
    --------
    >>> d = overlap_diagnostics(np.array([0.5, 0.5, 0.25, 0.75]), np.array([1, 0, 1, 0]))
    >>> d["overlap"]["effective_n"].round(3).tolist()
    [1.8, 1.8]
    """
    propensity = np.asarray(propensity, dtype=float)
    treated = np.asarray(treated).astype(bool)
    rows = []
    for arm, mask, weight in (
        (SOCIAL_TERM, treated, 1 / propensity),
        ("not social", ~treated, 1 / (1 - propensity)),
    ):
        p = propensity[mask]
        w = weight[mask]
        q = (
            np.quantile(p, [0, 0.01, 0.05, 0.25, 0.5, 0.75, 0.95, 0.99, 1])
            if len(p)
            else [np.nan] * 9
        )
        ess = w.sum() ** 2 / np.sum(w**2) if len(w) else np.nan
        rows.append(
            {
                "arm": arm,
                "n": int(mask.sum()),
                "min": q[0],
                "q01": q[1],
                "q05": q[2],
                "q25": q[3],
                "median": q[4],
                "q75": q[5],
                "q95": q[6],
                "q99": q[7],
                "max": q[8],
                "effective_n": ess,
                "effective_share": ess / max(int(mask.sum()), 1),
            }
        )
    edges = np.linspace(0, 1, bins + 1)
    hist_t = np.histogram(propensity[treated], bins=edges)[0]
    hist_c = np.histogram(propensity[~treated], bins=edges)[0]
    histogram = pd.DataFrame(
        {"bin_low": edges[:-1], "bin_high": edges[1:], SOCIAL_TERM: hist_t, "not social": hist_c}
    )
    return {"overlap": pd.DataFrame(rows), "propensity_histogram": histogram}


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
    rows = []
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
        result = aipw_hops(
            subset, covariates=adjust_set, level=level, outcome_covariates=outcome_set
        ).table
        row = result.loc[result[schema.ESTIMAND] == estimand].iloc[0].to_dict()
        row.update(
            term=term_name(estimand, schema.HOPS_OUTCOME, group=by, group_value=value),
            group=by,
            group_value=str(value),
        )
        rows.append(row)
    if not rows:
        return result_frame([])
    return adjust_intervals(result_frame(rows), method=adjustment, level=level)
