"""Estimation: what social-media intake changes, with honest uncertainty.

The fourth layer of sekat (contract → io → clean → paths → **estimate** → report). Every
function takes a case table (or a panel built from it) and returns a result table of
:data:`toolkit.schema.RESULT_TABLE_COLUMNS`, never printing or writing anything:

* :mod:`~toolkit.estimate.models` — the contrast, covariate cells, GLMs on cells, the
  propensity model;
* :mod:`~toolkit.estimate.effects` — hops: naive, Poisson/NB fixed effects, AIPW, by group;
* :mod:`~toolkit.estimate.survival` — time to resolution: Kaplan-Meier, Cox, RMST;
* :mod:`~toolkit.estimate.rollout` — the staggered desk rollout: Callaway-Sant'Anna, TWFE,
  the desk status;
* :mod:`~toolkit.estimate.impact` — what a scenario is worth;
* :mod:`~toolkit.estimate.headline` — the one producer of every headline number
  (:func:`headline_analysis`) and the comparison with a planted truth.
"""

from toolkit.estimate.effects import (
    aipw_hops,
    effects_by_group,
    hops_regression,
    naive_hops,
    overlap_diagnostics,
)
from toolkit.estimate.headline import (
    Headline,
    HeadlineSettings,
    compare_to_truth,
    headline_analysis,
    truth_rows,
)
from toolkit.estimate.impact import UnitCosts, scenario_impact
from toolkit.estimate.models import comparison_cases, propensity_scores
from toolkit.estimate.rollout import (
    callaway_santanna,
    desk_status,
    rollout_event_study,
    rollout_panel,
    twfe,
    with_desk_status,
)
from toolkit.estimate.sensitivity import e_value, e_value_rows
from toolkit.estimate.survival import cox_ph, kaplan_meier, rmst_difference

__all__ = [
    "e_value",
    "e_value_rows",
    "Headline",
    "HeadlineSettings",
    "UnitCosts",
    "aipw_hops",
    "callaway_santanna",
    "compare_to_truth",
    "comparison_cases",
    "cox_ph",
    "desk_status",
    "effects_by_group",
    "headline_analysis",
    "hops_regression",
    "kaplan_meier",
    "naive_hops",
    "overlap_diagnostics",
    "propensity_scores",
    "rmst_difference",
    "rollout_event_study",
    "rollout_panel",
    "scenario_impact",
    "truth_rows",
    "twfe",
    "with_desk_status",
]
