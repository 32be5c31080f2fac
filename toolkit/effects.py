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

All models here take categorical covariates only. Their likelihoods then depend on the data
only through sums within *covariate cells* (one cell per combination of covariate levels
and treatment), so every fit runs on the cell table, exactly, in a few milliseconds even for
millions of requests; individual-level quantities (influence functions, weights) are mapped
back to requests by cell index.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.special import expit

from toolkit import schema
from toolkit.errors import MissingColumnError, SekatError
from toolkit.results import (
    EstimateResult,
    adjust_intervals,
    normal_interval,
    ratio_row,
    result_frame,
)

#: Name of the derived covariate "calendar month of intake" (from the ``start`` column).
MONTH = "month"
#: Covariates the estimators know, besides :data:`MONTH`.
COVARIATE_COLUMNS = (schema.CATEGORY, schema.REGION, schema.FIRST_AGENCY, schema.CHANNEL)
#: Default adjustment set: topic, place and time of intake.
DEFAULT_COVARIATES = (schema.CATEGORY, schema.REGION, MONTH)
#: Name of the treatment indicator built from the channel.
SOCIAL_TERM = "social"

_MISSING_LEVEL = "(missing)"


# --- covariate cells ---------------------------------------------------------------------


def treatment_indicator(cases: pd.DataFrame) -> np.ndarray:
    """Social intake as a 0/1 integer array (the main treatment).

    Examples
    --------
    >>> treatment_indicator(pd.DataFrame({"channel": ["twitter", "phone"]})).tolist()
    [1, 0]
    """
    _require(cases, [schema.CHANNEL])
    return schema.is_social(cases[schema.CHANNEL]).to_numpy(dtype=np.int64)


def covariate_codes(cases: pd.DataFrame, covariates: Sequence[str]) -> pd.DataFrame:
    """Integer codes of each covariate, with missing values as a level of their own.

    Parameters
    ----------
    cases : pandas.DataFrame
        Case table.
    covariates : sequence of str
        Column names of the case table, or :data:`MONTH` for the calendar month (UTC) of
        ``start``.

    Returns
    -------
    pandas.DataFrame
        One int64 column per covariate; the code 0 is the most frequent level (the reference
        level of dummy coding); ties are ordered by sorted value. ``frame.attrs["levels"]`` maps each covariate to its levels.

    Examples
    --------
    >>> c = pd.DataFrame({"region": ["b", "a", "b", None]})
    >>> codes = covariate_codes(c, ["region"])
    >>> codes["region"].tolist(), codes.attrs["levels"]["region"]
    ([0, 2, 0, 1], ['b', '(missing)', 'a'])
    """
    columns = {}
    levels = {}
    for name in covariates:
        if name == MONTH:
            _require(cases, [schema.START])
            start = pd.to_datetime(cases[schema.START], utc=True)
            # integer months: strftime on a million timestamps would take seconds
            month = (start.dt.year * 12 + start.dt.month - 1).to_numpy(dtype="float64")
            codes, numbers = pd.factorize(month, sort=True, use_na_sentinel=False)
            uniques = np.array(
                [
                    _MISSING_LEVEL if np.isnan(m) else f"{int(m) // 12:04d}-{int(m) % 12 + 1:02d}"
                    for m in numbers
                ],
                dtype=object,
            )
        else:
            _require(cases, [name])
            values = cases[name]
            if isinstance(values.dtype, pd.CategoricalDtype):
                values = values.cat.remove_unused_categories()
                codes = values.cat.codes.to_numpy().astype(np.int64)
                uniques = np.array(list(values.cat.categories.astype(str)), dtype=object)
                if (codes < 0).any():
                    uniques = np.append(uniques, _MISSING_LEVEL)
                    codes = np.where(codes < 0, len(uniques) - 1, codes)
            else:
                values = values.astype("object").where(values.notna(), _MISSING_LEVEL)
                codes, uniques = pd.factorize(values, sort=True)
        counts = np.bincount(codes, minlength=len(uniques))
        order = np.argsort(-counts, kind="stable")  # most frequent level first
        recode = np.empty(len(uniques), dtype=np.int64)
        recode[order] = np.arange(len(uniques))
        columns[name] = recode[codes]
        levels[name] = [str(uniques[i]) for i in order]
    frame = pd.DataFrame(columns, index=cases.index)
    frame.attrs["levels"] = levels
    return frame


@dataclass(frozen=True)
class _Cells:
    """Requests grouped by covariate cell (and optionally treatment)."""

    index: np.ndarray  # cell of each request
    codes: np.ndarray  # (n_cells, n_covariates) covariate codes of each cell
    n_levels: list[int]


def _cells(codes: pd.DataFrame, extra: Sequence[np.ndarray] = ()) -> _Cells:
    arrays = [codes[c].to_numpy() for c in codes.columns] + [np.asarray(a) for a in extra]
    if not arrays:
        n = len(codes)
        return _Cells(np.zeros(n, dtype=np.int64), np.zeros((1, 0), dtype=np.int64), [])
    sizes = [int(a.max()) + 1 if len(a) else 1 for a in arrays]
    if float(np.prod(np.array(sizes, dtype=float))) < 2**62:
        # one mixed-radix integer key per request: far faster than unique rows
        key = np.zeros(len(arrays[0]), dtype=np.int64)
        for a, size in zip(arrays, sizes, strict=True):
            key = key * size + a.astype(np.int64)
        index, keys = pd.factorize(key, sort=True)
        unique = np.empty((len(keys), len(arrays)), dtype=np.int64)
        rest = np.asarray(keys, dtype=np.int64)
        for j in range(len(arrays) - 1, -1, -1):
            rest, unique[:, j] = np.divmod(rest, sizes[j])
    else:
        stacked = np.column_stack(arrays).astype(np.int64)
        unique, index = np.unique(stacked, axis=0, return_inverse=True)
    n_levels = sizes[: codes.shape[1]]
    return _Cells(index.ravel(), unique, n_levels)


def _dummies(cell_codes: np.ndarray, n_levels: Sequence[int]) -> np.ndarray:
    """Intercept plus treatment-coded dummies (level 0 is the reference) for each cell."""
    blocks = [np.ones((len(cell_codes), 1))]
    for j, k in enumerate(n_levels):
        if k > 1:
            block = np.zeros((len(cell_codes), k - 1))
            rows = np.flatnonzero(cell_codes[:, j] > 0)
            block[rows, cell_codes[rows, j] - 1] = 1.0
            blocks.append(block)
    return np.hstack(blocks)


# --- generalised linear models on cells --------------------------------------------------


@dataclass(frozen=True)
class GLMFit:
    """A GLM fitted on cell sums.

    Attributes
    ----------
    params : numpy.ndarray
        Coefficients (log scale for Poisson/NB, logit scale for binomial).
    bread : numpy.ndarray
        Inverse of the (expected) information matrix.
    mean : numpy.ndarray
        Fitted mean per request in each cell (probability for binomial).
    converged : bool
        Whether Newton's method met the tolerance.
    """

    params: np.ndarray
    bread: np.ndarray
    mean: np.ndarray
    converged: bool


def fit_cell_glm(
    design: np.ndarray,
    total: np.ndarray,
    count: np.ndarray,
    *,
    family: str,
    alpha: float = 0.0,
    start: np.ndarray | None = None,
    max_iter: int = 100,
    tol: float = 1e-13,
) -> GLMFit:
    """Fit a Poisson, NB2 (fixed alpha) or binomial GLM on cell sums by Newton's method.

    Parameters
    ----------
    design : numpy.ndarray
        Design matrix, one row per cell.
    total : numpy.ndarray
        Sum of the outcome over the requests of each cell (successes for binomial).
    count : numpy.ndarray
        Number of requests in each cell (may be fractional: weights).
    family : {"poisson", "negbin", "binomial"}
        Log link for poisson/negbin, logit link for binomial.
    alpha : float
        NB2 dispersion, ``Var = mu + alpha * mu**2`` (ignored otherwise).

    Returns
    -------
    GLMFit

    Notes
    -----
    With categorical covariates every request in a cell has the same linear predictor, so the
    score ``sum_i x_i (y_i - mu_i) / (1 + alpha mu_i)`` and the expected information are
    functions of the cell sums only: the fit equals the request-level fit exactly. A tiny
    ridge (1e-9 x trace) keeps the Newton step defined when a level is empty.

    Examples
    --------
    >>> X = np.array([[1.0, 0.0], [1.0, 1.0]])
    >>> fit = fit_cell_glm(X, np.array([10.0, 40.0]), np.array([10.0, 20.0]), family="poisson")
    >>> np.round(np.exp(fit.params), 6).tolist()
    [1.0, 2.0]
    """
    if family not in ("poisson", "negbin", "binomial"):
        raise SekatError(f"unknown GLM family {family!r}")
    k = design.shape[1]
    keep = count > 0
    X, y, n = design[keep], total[keep], count[keep]
    if start is not None:
        beta = np.array(start, dtype=float)
    elif family == "binomial":
        beta = np.zeros(k)
        beta[0] = np.log((y.sum() + 0.5) / (n.sum() - y.sum() + 0.5))
    else:
        beta = np.zeros(k)
        beta[0] = np.log(max(y.sum() / n.sum(), 1e-12))

    def loglik(b: np.ndarray) -> float:
        eta = X @ b
        if family == "binomial":
            return float(np.sum(y * eta - n * np.logaddexp(0.0, eta)))
        mu = np.exp(eta)
        if family == "poisson":
            return float(np.sum(y * eta - n * mu))
        # NB2 kernel for fixed alpha, in terms of cell sums
        return float(np.sum(y * eta - (y + n / alpha) * np.log1p(alpha * mu)))

    converged = False
    current = loglik(beta)
    for _ in range(max_iter):
        eta = X @ beta
        if family == "binomial":
            p = expit(eta)
            resid, w = y - n * p, n * p * (1 - p)
        elif family == "poisson":
            mu = np.exp(eta)
            resid, w = y - n * mu, n * mu
        else:
            mu = np.exp(eta)
            resid, w = (y - n * mu) / (1 + alpha * mu), n * mu / (1 + alpha * mu)
        score = X.T @ resid
        info = (X * w[:, None]).T @ X
        info[np.diag_indices(k)] += 1e-9 * max(np.trace(info), 1.0) / k
        step = np.linalg.solve(info, score)
        # stop on the Newton decrement (promised gain), relative to the log-likelihood: a
        # test on the change of a log-likelihood of millions of requests meets rounding noise
        if score @ step < tol * (1.0 + abs(current)):
            converged = True
            break
        halving, slack = 1.0, 1e-12 * (1.0 + abs(current))
        for _halving in range(30):
            candidate = beta + halving * step
            value = loglik(candidate)
            if value >= current - slack:
                break
            halving /= 2
        beta, current = candidate, value
    eta = design @ beta
    mean = expit(eta) if family == "binomial" else np.exp(eta)
    eta_k = X @ beta
    if family == "binomial":
        pk = expit(eta_k)
        w = n * pk * (1 - pk)
    else:
        mk = np.exp(eta_k)
        w = n * mk / (1 + alpha * mk) if family == "negbin" else n * mk
    info = (X * w[:, None]).T @ X
    try:
        bread = np.linalg.pinv(info)
    except np.linalg.LinAlgError:
        # LAPACK's SVD can fail on an information matrix with near-zero weights (a level
        # (quasi-)separated in a bootstrap resample); the same tiny ridge as in the Newton
        # steps makes it well-posed without moving the estimate.
        info[np.diag_indices(k)] += 1e-9 * max(np.trace(info), 1.0) / k
        bread = np.linalg.pinv(info)
    return GLMFit(beta, bread, mean, converged)


def _cluster_covariance(
    design: np.ndarray,
    score_resid: np.ndarray,
    cluster: np.ndarray,
    bread: np.ndarray,
    n_obs: int,
) -> tuple[np.ndarray, int]:
    """Cluster-robust sandwich with the usual small-sample factor G/(G-1) (N-1)/(N-K)."""
    codes, uniques = pd.factorize(cluster)
    n_clusters = len(uniques)
    scores = np.zeros((n_clusters, design.shape[1]))
    np.add.at(scores, codes, design * score_resid[:, None])
    meat = scores.T @ scores
    k = design.shape[1]
    factor = n_clusters / max(n_clusters - 1, 1) * (n_obs - 1) / max(n_obs - k, 1)
    return factor * bread @ meat @ bread, n_clusters


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
        Tidy result: one row ``mean_hops[<group>]`` per channel group present, and the row
        ``social - not social`` (Welch standard error), method ``naive difference``.

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
    >>> naive_hops(c).set_index("term")["estimate"].tolist()
    [1.0, 4.0, -3.0]
    """
    _require(cases, [schema.CHANNEL, schema.HOPS])
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
            rows.append(_row(f"mean_hops[{group}]", values.mean(), se, len(values), "mean", level))
    y1, y0 = y[treated], y[~treated]
    if len(y1) > 1 and len(y0) > 1:
        diff = y1.mean() - y0.mean()
        se = np.sqrt(y1.var(ddof=1) / len(y1) + y0.var(ddof=1) / len(y0))
        rows.append(_row("social - not social", diff, se, len(y), "naive difference", level))
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
        ``table`` has one row, term ``social``: the incidence-rate ratio ``exp(beta)``,
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
    _require(cases, [schema.CHANNEL, schema.HOPS])
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
        _require(data, [cluster])
        cluster_codes = pd.factorize(data[cluster].astype("object"), use_na_sentinel=False)[0]
    cells = _cells(codes, [treated, cluster_codes])
    n_cov = codes.shape[1]
    design = np.column_stack(
        [_dummies(cells.codes[:, :n_cov], cells.n_levels), cells.codes[:, n_cov].astype(float)]
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
    cov, n_clusters = _cluster_covariance(
        design, resid, cells.codes[:, n_cov + 1], fit.bread, len(data)
    )
    beta, se = fit.params[-1], float(np.sqrt(cov[-1, -1]))
    method = (
        f"{'Poisson' if family == 'poisson' else 'negative binomial (NB2)'} regression IRR, "
        f"FE: {', '.join(fixed_effects) or 'none'}; "
        + (f"SE clustered by {cluster}" if cluster else "robust SE")
    )
    table = result_frame([ratio_row(SOCIAL_TERM, beta, se, len(data), method, level)])
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


# --- AIPW ----------------------------------------------------------------------------------


class PropensityModel:
    """Logistic model of social intake on categorical covariates, re-fittable with weights.

    The covariate cells are found once; each :meth:`fit` (e.g. per bootstrap replicate,
    with resampling counts as weights) then runs on the cell table only.

    Parameters
    ----------
    cases : pandas.DataFrame
        Case table.
    covariates : sequence of str
        Categorical covariates, as in :func:`covariate_codes`.

    Examples
    --------
    >>> c = pd.DataFrame({"channel": ["twitter", "phone", "phone", "twitter"],
    ...                   "region": ["a", "a", "b", "b"]})
    >>> e, _ = PropensityModel(c, ["region"]).fit()
    >>> e.round(3).tolist()
    [0.5, 0.5, 0.5, 0.5]
    """

    def __init__(self, cases: pd.DataFrame, covariates: Sequence[str]) -> None:
        self.treated = treatment_indicator(cases).astype(float)
        cells = _cells(covariate_codes(cases, list(covariates)))
        self.index = cells.index
        self.n_cells = len(cells.codes)
        self.design = _dummies(cells.codes, cells.n_levels)

    def fit(
        self, weights: np.ndarray | None = None, start: np.ndarray | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """Propensity of every request and the coefficients, for request weights."""
        w = np.ones(len(self.index)) if weights is None else np.asarray(weights, dtype=float)
        count = np.bincount(self.index, weights=w, minlength=self.n_cells)
        total = np.bincount(self.index, weights=w * self.treated, minlength=self.n_cells)
        fit = fit_cell_glm(self.design, total, count, family="binomial", start=start)
        return fit.mean[self.index], fit.params


def propensity_scores(
    cases: pd.DataFrame,
    covariates: Sequence[str] = DEFAULT_COVARIATES,
    *,
    weights: np.ndarray | None = None,
) -> np.ndarray:
    """Probability of social intake given the covariates (main-effects logistic model).

    Parameters
    ----------
    cases : pandas.DataFrame
        Case table.
    covariates : sequence of str
        Categorical covariates, as in :func:`covariate_codes`.
    weights : numpy.ndarray, optional
        Request weights (e.g. bootstrap counts).

    Returns
    -------
    numpy.ndarray
        ``P(social | covariates)`` for each request.

    Examples
    --------
    >>> c = pd.DataFrame({"channel": ["twitter", "phone", "twitter", "twitter"],
    ...                   "region": ["a", "a", "b", "b"]})
    >>> propensity_scores(c, ["region"]).round(3).tolist()
    [0.5, 0.5, 1.0, 1.0]
    """
    return PropensityModel(cases, covariates).fit(weights)[0]


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
        model, :func:`toolkit.rollout.with_desk_status`, beside main-effects outcome models
        that stay stable in small arms).

    Returns
    -------
    EstimateResult
        ``table``: rows ``ate`` (average treatment effect, additive, in hops) and ``att``
        (effect on the social requests). ``diagnostics``: ``overlap`` (propensity quantiles
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
    >>> r.table.set_index("term")["estimate"].round(3).tolist()
    [-1.5, -1.5]
    """
    if outcome_model not in ("poisson", "linear"):
        raise SekatError(f"outcome_model must be 'poisson' or 'linear', got {outcome_model!r}")
    _require(cases, [schema.CHANNEL, schema.HOPS])
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
    table = result_frame(
        [
            _row("ate", ate, ate_se, n, method, level),
            _row("att", att, att_se, n, method, level),
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
    cells = _cells(codes)
    design = _dummies(cells.codes, cells.n_levels)
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
    adjustment: str = "holm",
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
    adjustment : {"holm", "bonferroni", "sidak", "none"}
        Multiplicity adjustment of the intervals (see :func:`toolkit.results.adjust_intervals`).
    min_requests : int
        Subgroups with fewer social or fewer non-social requests are skipped.
    level : float
        Family-wise confidence level.
    outcome_covariates : sequence of str, optional
        Covariates of the outcome models, if not ``covariates`` (see :func:`aipw_hops`).

    Returns
    -------
    pandas.DataFrame
        Tidy result, one row ``<estimand>_hops[<by>=<level>]`` per subgroup (the names of
        the generator's truth table).

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
    _require(cases, [by])
    if estimand not in ("att", "ate"):
        raise SekatError(f"estimand must be 'att' or 'ate', got {estimand!r}")
    rows = []
    groups = cases[by].astype("object")
    # ``by`` and its copies (e.g. ``region|desk`` of toolkit.rollout.with_desk_status) are
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
        row = result.set_index("term").loc[estimand].to_dict()
        row["term"] = f"{estimand}_hops[{by}={value}]"
        rows.append(row)
    if not rows:
        return result_frame([])
    return adjust_intervals(result_frame(rows), method=adjustment, level=level)


# --- helpers -------------------------------------------------------------------------------


def _row(term: str, estimate: float, se: float, n: int, method: str, level: float) -> dict:
    lo, hi = normal_interval(estimate, se, level)
    return {
        "term": term,
        "estimate": float(estimate),
        "std_error": float(se),
        "ci_low": float(lo),
        "ci_high": float(hi),
        "n": int(n),
        "method": method,
    }


def _require(frame: pd.DataFrame, columns: Sequence[str]) -> None:
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise MissingColumnError(
            f"the case table lacks {missing}; found {list(frame.columns)}", column=missing[0]
        )
