"""Sensitivity to unobserved confounding: how strong would a factor the log does not record have
to be to explain an estimated effect away?

The E-value (VanderWeele and Ding 2017) is the minimum strength of association, on the risk
ratio scale, that an unmeasured confounder would need with both the intake channel and the
outcome, beyond the measured covariates, to move the estimate to no effect (and, for the
confidence limit nearer no effect, to make the interval include it). It needs no assumption
about the confounder beyond that. Rate ratios are used as risk ratios; a hazard ratio of a
common outcome (most requests are resolved) and an additive difference (hops, days) are first
put on the risk-ratio scale with the approximations of VanderWeele (2017) and VanderWeele and
Ding (2017). The rows returned here carry the descriptors of the estimate they qualify and
``group="sensitivity"``, so selections of the headline estimates (``group=None``) never mix
them in, while the brief finds them by their method key (``e_value``).
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from toolkit import schema
from toolkit.errors import SekatError
from toolkit.results import result_frame

__all__ = [
    "SENSITIVITY_GROUP",
    "difference_to_risk_ratio",
    "e_value",
    "e_value_rows",
    "hazard_to_risk_ratio",
]

#: The ``group`` descriptor of a sensitivity row: not a subgroup, a statement about its estimate.
SENSITIVITY_GROUP = "sensitivity"
#: VanderWeele and Ding's factor turning a standardised mean difference into a log risk ratio.
_SMD_TO_LOG_RR = 0.91


def e_value(ratio: float) -> float:
    """The E-value of a risk ratio: ``RR + sqrt(RR (RR - 1))``, with RR below 1 inverted.

    Examples
    --------
    >>> round(e_value(2.0), 3), round(e_value(0.5), 3), e_value(1.0)
    (3.414, 3.414, 1.0)
    """
    ratio = float(ratio)
    if not np.isfinite(ratio) or ratio <= 0:
        return float("nan")
    rr = ratio if ratio >= 1 else 1 / ratio
    return float(rr + np.sqrt(rr * (rr - 1)))


def _interval_e_value(low: float, high: float) -> float:
    """E-value of the confidence limit nearer 1 (1 when the interval includes 1)."""
    if not (np.isfinite(low) and np.isfinite(high)):
        return float("nan")
    if low <= 1 <= high:
        return 1.0
    return e_value(low if low > 1 else high)


def hazard_to_risk_ratio(hazard_ratio: float | np.ndarray) -> float | np.ndarray:
    """A hazard ratio of a common outcome on the risk-ratio scale (VanderWeele 2017).

    ``RR = (1 - 0.5^sqrt(HR)) / (1 - 0.5^sqrt(1/HR))``: resolution is common (most requests are
    resolved), where the hazard ratio is further from 1 than the risk ratio.

    Examples
    --------
    >>> round(float(hazard_to_risk_ratio(2.0)), 3)
    1.613
    """
    hr = np.asarray(hazard_ratio, dtype=float)
    return (1 - 0.5 ** np.sqrt(hr)) / (1 - 0.5 ** np.sqrt(1 / hr))


def difference_to_risk_ratio(
    difference: float | np.ndarray, outcome_sd: float
) -> float | np.ndarray:
    """An additive effect on the risk-ratio scale: ``exp(0.91 * difference / sd(outcome))``.

    Examples
    --------
    >>> round(float(difference_to_risk_ratio(-0.5, 1.0)), 3)
    0.634
    """
    if not outcome_sd > 0:
        raise SekatError(f"the outcome's standard deviation must be positive, got {outcome_sd}")
    return np.exp(_SMD_TO_LOG_RR * np.asarray(difference, dtype=float) / outcome_sd)


def e_value_rows(table: pd.DataFrame, outcome_sd: Mapping[str, float]) -> pd.DataFrame:
    """E-value rows for every ratio and every additive effect of ``table`` with an outcome SD.

    Parameters
    ----------
    table : pandas.DataFrame
        Result rows to qualify: ratios (scale ``ratio``; a ``resolution_hazard`` one is read
        as a hazard ratio of a common outcome) and differences (scale ``difference``, whose
        outcome must be a key of ``outcome_sd``).
    outcome_sd : mapping of outcome to float
        Standard deviation of each outcome (hops per request, days unresolved within tau).

    Returns
    -------
    pandas.DataFrame
        Result table, one row per qualified estimate: term ``e_value[<term>]``, estimate the
        E-value of the point estimate, ``ci_low`` that of the confidence limit nearer no
        effect (1 when the interval includes it), ``ci_high`` the point's, method key
        ``e_value``, group ``sensitivity`` and the estimate's other descriptors.

    References
    ----------
    VanderWeele, T. J. and Ding, P. (2017). Sensitivity analysis in observational research:
    introducing the E-value. Annals of Internal Medicine 167, 268-274.
    VanderWeele, T. J. (2017). On a square-root transformation of the odds ratio for a common
    outcome. Epidemiology 28, e58-e60.

    Examples
    --------
    >>> t = result_frame([{"term": "irr_hops", "estimate": 0.5, "ci_low": 0.4,
    ...     "ci_high": 0.625, "method": "m", "estimand": "conditional", "outcome": "hops",
    ...     "scale": "ratio", "method_key": "poisson_fe"}])
    >>> e_value_rows(t, {})[["term", "estimate", "ci_low"]].round(3).values.tolist()
    [['e_value[irr_hops]', 3.414, 2.581]]
    """
    rows = []
    for row in table.to_dict("records"):
        estimate, low, high = row["estimate"], row["ci_low"], row["ci_high"]
        outcome, scale = row.get(schema.OUTCOME), row.get(schema.SCALE)
        if scale == "ratio":
            if outcome == schema.HAZARD_OUTCOME:
                estimate, low, high = (
                    float(hazard_to_risk_ratio(v)) for v in (estimate, low, high)
                )
                how = "hazard ratio of a common outcome as a risk ratio (square-root rule)"
            else:
                how = "rate ratio as a risk ratio"
        elif scale == "difference" and outcome in outcome_sd:
            sd = float(outcome_sd[outcome])
            estimate, low, high = (
                float(difference_to_risk_ratio(v, sd)) for v in (estimate, low, high)
            )
            how = f"difference as a risk ratio exp(0.91 d / SD), SD = {sd:.3g}"
        else:
            continue
        point = e_value(estimate)
        rows.append(
            {
                **{k: row[k] for k in schema.DESCRIPTOR_COLUMNS},
                "term": f"e_value[{row['term']}]",
                "estimate": point,
                "std_error": np.nan,
                "ci_low": min(_interval_e_value(low, high), point),
                "ci_high": point,
                "n": row["n"],
                "method": f"E-value (VanderWeele and Ding 2017); {how}",
                schema.GROUP: SENSITIVITY_GROUP,
                schema.GROUP_VALUE: None,
                schema.METHOD_KEY: "e_value",
            }
        )
    return result_frame(rows)
