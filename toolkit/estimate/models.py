"""The models the estimators share: covariate cells, GLMs fitted on them, the propensity model.

Every model in sekat takes categorical covariates only (topic, district, month of intake,
desk status, ...). Its likelihood then depends on the data only through sums within
*covariate cells* (one cell per combination of covariate levels and treatment), so every fit
runs on the cell table, exactly, in milliseconds even for millions of requests;
request-level quantities (influence functions, weights) are mapped back to requests by cell
index. :func:`covariate_codes` codes the covariates, :func:`covariate_cells` groups requests
into cells, :func:`fit_cell_glm` fits Poisson, NB2 and logistic models on them and
:class:`PropensityModel` is the logistic model of social intake that AIPW and the weighted
Kaplan-Meier curves re-fit in every bootstrap replicate.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.special import expit

from toolkit import schema
from toolkit.errors import SekatError, require_columns

__all__ = [
    "ARM_JOINER",
    "CONTROLS",
    "COVARIATE_COLUMNS",
    "DEFAULT_COVARIATES",
    "MAX_WEIGHT_SHARE",
    "MIN_EFFECTIVE_SHARE",
    "MONTH",
    "SOCIAL_TERM",
    "REST",
    "TREATED",
    "Cells",
    "Contrast",
    "GLMFit",
    "PropensityModel",
    "as_contrast",
    "cluster_covariance",
    "comparison_cases",
    "covariate_cells",
    "covariate_codes",
    "dummy_design",
    "fit_cell_glm",
    "overlap_diagnostics",
    "overlap_rule",
    "propensity_scores",
    "treatment_indicator",
]

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


#: Column :func:`comparison_cases` adds: 1 for a request of the treatment arm, 0 for the
#: control arm. :func:`treatment_indicator` reads it, so every estimator compares the arms of
#: the chosen contrast without knowing which channels they hold.
TREATED = "treated"


def treatment_indicator(cases: pd.DataFrame) -> np.ndarray:
    """The treatment arm as a 0/1 integer array.

    The arms of :func:`comparison_cases` when it made the table (its :data:`TREATED`
    column), else social intake (the main treatment).

    Examples
    --------
    >>> treatment_indicator(pd.DataFrame({"channel": ["twitter", "phone"]})).tolist()
    [1, 0]
    >>> cases = pd.DataFrame({"channel": ["twitter", "phone", "web"]})
    >>> treatment_indicator(comparison_cases(cases, Contrast("web", "phone"))).tolist()
    [0, 1]
    """
    if TREATED in cases.columns:
        return cases[TREATED].to_numpy(dtype=np.int64)
    require_columns(cases, [schema.CHANNEL], what="the case table")
    return schema.is_social(cases[schema.CHANNEL]).to_numpy(dtype=np.int64)


#: Comparison groups besides channels and channel groups: every request not from social media.
CONTROLS = (schema.NOT_SOCIAL, schema.DIGITAL, schema.TRADITIONAL)
#: A control arm meaning "every request outside the treatment".
REST = "rest"
#: Joins several channels or groups of one arm in a contrast descriptor ("twitter+whatsapp").
ARM_JOINER = "+"
_VS = " vs "


def _arm_names(value: object, what: str) -> tuple[str, ...]:
    if isinstance(value, str):
        parts = [p.strip().lower() for p in value.replace(ARM_JOINER, ",").split(",")]
    elif isinstance(value, Sequence):
        parts = [str(p).strip().lower() for p in value]
    else:
        raise SekatError(f"{what} must be a channel or channel group name, got {value!r}")
    parts = [p for p in parts if p]
    known = (*schema.CHANNEL_GROUPS, *schema.CHANNELS)
    special = (schema.NOT_SOCIAL, REST) if what == "control" else ()
    unknown = [p for p in parts if p not in known and p not in special]
    if not parts or unknown:
        choices = ", ".join((*special, *schema.CHANNEL_GROUPS, *schema.CHANNELS))
        raise SekatError(
            f"{what} must name channels or channel groups ({choices}); got {value!r}"
        )
    if len(parts) > 1 and any(p in special for p in parts):
        raise SekatError(f"{what} {parts[0]!r} cannot be combined with other names")
    return tuple(dict.fromkeys(parts))


def _channels_of(names: Sequence[str]) -> frozenset[str]:
    out: set[str] = set()
    for name in names:
        out |= set(schema.CHANNEL_GROUPS.get(name, (name,)))
    return frozenset(out)


@dataclass(frozen=True)
class Contrast:
    """Which requests are compared: a treatment arm and a control arm of intake channels.

    Each arm names channels (``twitter``, ``phone``, ...) or channel groups (``social``,
    ``digital``, ``traditional``, ``other``), one or several (``"twitter,whatsapp"`` or a
    list). The control may also be ``not_social`` (every channel outside the social group)
    or ``rest`` (every channel outside the treatment). The arms may not share a channel.

    Parameters
    ----------
    treatment : str or sequence of str
        Default ``social``.
    control : str or sequence of str
        Default ``not_social``.

    Attributes
    ----------
    descriptor : str
        The value of the ``contrast`` descriptor of result rows: ``"social vs not_social"``
        (:data:`toolkit.schema.SOCIAL_CONTRAST`, the contrast the synthetic generator plants
        effects for), ``"social vs traditional"``, ``"twitter+whatsapp vs phone"``.

    Examples
    --------
    >>> Contrast().descriptor
    'social vs not_social'
    >>> Contrast("social", "rest").descriptor, Contrast("Twitter", "digital").descriptor
    ('social vs not_social', 'twitter vs digital')
    >>> Contrast.from_descriptor("twitter+whatsapp vs phone").treatment
    ('twitter', 'whatsapp')
    >>> Contrast("social", "twitter")  # doctest: +IGNORE_EXCEPTION_DETAIL
    Traceback (most recent call last):
    toolkit.errors.SekatError: treatment and control share the channels ['twitter']
    """

    treatment: tuple[str, ...] = (schema.SOCIAL,)
    control: tuple[str, ...] = (schema.NOT_SOCIAL,)

    def __init__(
        self,
        treatment: str | Sequence[str] = schema.SOCIAL,
        control: str | Sequence[str] = schema.NOT_SOCIAL,
    ) -> None:
        treated = _arm_names(treatment, "treatment")
        controls = _arm_names(control, "control")
        if controls == (REST,) and _channels_of(treated) == frozenset(schema.SOCIAL_CHANNELS):
            controls = (schema.NOT_SOCIAL,)
        object.__setattr__(self, "treatment", treated)
        object.__setattr__(self, "control", controls)
        shared = sorted(self.treatment_channels & self.control_channels)
        if shared:
            raise SekatError(f"treatment and control share the channels {shared}")
        if not self.control_channels:
            raise SekatError(f"the control {control!r} leaves no channel to compare with")

    @property
    def treatment_channels(self) -> frozenset[str]:
        """The channels of the treatment arm."""
        return _channels_of(self.treatment)

    @property
    def control_channels(self) -> frozenset[str]:
        """The channels of the control arm."""
        if self.control == (schema.NOT_SOCIAL,):
            return frozenset(schema.CHANNELS) - frozenset(schema.SOCIAL_CHANNELS)
        if self.control == (REST,):
            return frozenset(schema.CHANNELS) - self.treatment_channels
        return _channels_of(self.control)

    @property
    def descriptor(self) -> str:
        """``"<treatment> vs <control>"``, names joined by ``+``."""
        return ARM_JOINER.join(self.treatment) + _VS + ARM_JOINER.join(self.control)

    @classmethod
    def from_descriptor(cls, descriptor: str) -> Contrast:
        """The contrast a ``contrast`` descriptor names (the inverse of :attr:`descriptor`)."""
        if not isinstance(descriptor, str) or _VS not in descriptor:
            raise SekatError(f"not a contrast of channels: {descriptor!r}")
        treatment, control = descriptor.split(_VS, 1)
        return cls(treatment.split(ARM_JOINER), control.split(ARM_JOINER))

    def is_default(self) -> bool:
        """Whether this is social intake against every other request."""
        return self.descriptor == schema.SOCIAL_CONTRAST


def as_contrast(
    contrast: Contrast | str | None = None, treatment: str | Sequence[str] | None = None
) -> Contrast:
    """A :class:`Contrast` from a contrast, a control name (the 0.1 argument) or a descriptor.

    Examples
    --------
    >>> as_contrast("traditional").descriptor, as_contrast("web vs phone").descriptor
    ('social vs traditional', 'web vs phone')
    """
    if isinstance(contrast, Contrast):
        return contrast
    if isinstance(contrast, str) and _VS in contrast:
        return Contrast.from_descriptor(contrast)
    return Contrast(
        schema.SOCIAL if treatment is None else treatment,
        schema.NOT_SOCIAL if contrast is None else contrast,
    )


def comparison_cases(
    cases: pd.DataFrame, control: Contrast | str = schema.NOT_SOCIAL
) -> pd.DataFrame:
    """The requests of a contrast, each marked with its arm (:data:`TREATED`).

    Parameters
    ----------
    cases : pandas.DataFrame
        Case table.
    control : Contrast or str
        The contrast; a plain name is the control arm of social intake (``not_social``
        keeps every request, a channel group keeps social requests and that group's).

    Returns
    -------
    pandas.DataFrame
        The requests of either arm, index reset, with the column :data:`TREATED`.

    Examples
    --------
    >>> cases = pd.DataFrame({"channel": ["twitter", "web", "letter", "phone"]})
    >>> comparison_cases(cases, "traditional")["channel"].tolist()
    ['twitter', 'letter', 'phone']
    >>> comparison_cases(cases, Contrast("web", "letter"))[["channel", "treated"]].values.tolist()
    [['web', 1], ['letter', 0]]
    """
    contrast = as_contrast(control)
    require_columns(cases, [schema.CHANNEL], what="the case table")
    channels = cases[schema.CHANNEL].astype("object")
    treated = channels.isin(contrast.treatment_channels).to_numpy()
    keep = treated | channels.isin(contrast.control_channels).to_numpy()
    if contrast.control == (schema.NOT_SOCIAL,) and contrast.is_default():
        keep = np.ones(len(cases), dtype=bool)  # every request: social or not
    out = cases.loc[keep].reset_index(drop=True)
    out[TREATED] = treated[keep].astype(np.int64)
    return out


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
            require_columns(cases, [schema.START], what="the case table")
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
            require_columns(cases, [name], what="the case table")
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
class Cells:
    """Requests grouped by covariate cell (and optionally treatment)."""

    index: np.ndarray  # cell of each request
    codes: np.ndarray  # (n_cells, n_covariates) covariate codes of each cell
    n_levels: list[int]


def covariate_cells(codes: pd.DataFrame, extra: Sequence[np.ndarray] = ()) -> Cells:
    arrays = [codes[c].to_numpy() for c in codes.columns] + [np.asarray(a) for a in extra]
    if not arrays:
        n = len(codes)
        return Cells(np.zeros(n, dtype=np.int64), np.zeros((1, 0), dtype=np.int64), [])
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
    return Cells(index.ravel(), unique, n_levels)


def dummy_design(cell_codes: np.ndarray, n_levels: Sequence[int]) -> np.ndarray:
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


def cluster_covariance(
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
        cells = covariate_cells(covariate_codes(cases, list(covariates)))
        self.index = cells.index
        self.n_cells = len(cells.codes)
        self.design = dummy_design(cells.codes, cells.n_levels)

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


# --- overlap ------------------------------------------------------------------------------

#: The overlap rule. The ATE of social intake is a headline number only when, in both arms,
#: the effective sample size of its inverse-probability weights, ``(sum w)^2 / sum w^2``, is at
#: least this share of the arm's requests and no single request carries more than
#: :data:`MAX_WEIGHT_SHARE` of the arm's weight. Below it the ATE leans on a few requests whose
#: propensity is near 0 or 1 (a handful of social requests standing in for a whole district),
#: its interval is not to be trusted, and the ATT and the overlap-weighted effect (which need
#: overlap only where the social requests are) are the headline numbers instead.
MIN_EFFECTIVE_SHARE = 0.10
#: See :data:`MIN_EFFECTIVE_SHARE`: the largest share of an arm's ATE weight one request may hold.
MAX_WEIGHT_SHARE = 0.05


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
        ``1/(1-e)`` control), its ratio to n and the largest share of the arm's weight held
        by one request (``max_weight_share``), and the same two for the ATT weights (``1``
        treated, ``e/(1-e)`` control: ``effective_n_att``, ``max_weight_share_att``). ``propensity_histogram``: bin edges and
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
    with np.errstate(divide="ignore"):
        att_weight = np.where(treated, 1.0, propensity / (1 - propensity))
    for arm, mask, weight in (
        (SOCIAL_TERM, treated, 1 / propensity),
        ("not social", ~treated, 1 / (1 - propensity)),
    ):
        p = propensity[mask]
        w = weight[mask]
        wt = att_weight[mask]
        q = (
            np.quantile(p, [0, 0.01, 0.05, 0.25, 0.5, 0.75, 0.95, 0.99, 1])
            if len(p)
            else [np.nan] * 9
        )
        ess = w.sum() ** 2 / np.sum(w**2) if len(w) else np.nan
        ess_att = wt.sum() ** 2 / np.sum(wt**2) if len(wt) and np.sum(wt**2) > 0 else np.nan
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
                "max_weight_share": float(w.max() / w.sum()) if len(w) else np.nan,
                "effective_n_att": ess_att,
                "max_weight_share_att": float(wt.max() / wt.sum())
                if len(wt) and wt.sum() > 0
                else np.nan,
            }
        )
    edges = np.linspace(0, 1, bins + 1)
    hist_t = np.histogram(propensity[treated], bins=edges)[0]
    hist_c = np.histogram(propensity[~treated], bins=edges)[0]
    histogram = pd.DataFrame(
        {"bin_low": edges[:-1], "bin_high": edges[1:], SOCIAL_TERM: hist_t, "not social": hist_c}
    )
    return {"overlap": pd.DataFrame(rows), "propensity_histogram": histogram}


def overlap_rule(overlap: pd.DataFrame) -> pd.DataFrame:
    """Whether the ATE passes the overlap rule (:data:`MIN_EFFECTIVE_SHARE`), arm by arm.

    Parameters
    ----------
    overlap : pandas.DataFrame
        The ``overlap`` table of :func:`overlap_diagnostics`.

    Returns
    -------
    pandas.DataFrame
        One row: ``min_effective_share`` and ``max_weight_share`` over the arms (ATE
        weights), the thresholds, and ``ate_supported`` (bool).

    Examples
    --------
    >>> d = overlap_diagnostics(np.array([0.5, 0.5, 0.25, 0.75]), np.array([1, 0, 1, 0]))
    >>> bool(overlap_rule(d["overlap"])["ate_supported"].iloc[0])
    False
    """
    share = float(overlap["effective_share"].min())
    top = float(overlap["max_weight_share"].max())
    return pd.DataFrame(
        {
            "min_effective_share": [share],
            "max_weight_share": [top],
            "effective_share_threshold": [MIN_EFFECTIVE_SHARE],
            "weight_share_threshold": [MAX_WEIGHT_SHARE],
            "ate_supported": [bool(share >= MIN_EFFECTIVE_SHARE and top <= MAX_WEIGHT_SHARE)],
        }
    )
