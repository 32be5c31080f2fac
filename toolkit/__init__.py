"""sekat: how requests travel between government agencies, and what social-media intake changes.

The front door is a handful of functions (see ``DESIGN.md``)::

    events = toolkit.read_events(path, mapping=None, preset=None, source_tz="Asia/Jakarta")
    result = toolkit.validate(events)        # result.clean, result.quarantine, result.report
    anon   = toolkit.pseudonymise(result.clean, key=...)
    sim    = toolkit.simulate(n_cases=20_000, seed=1)   # sim.events, sim.truth, sim.rollout
    cases  = toolkit.case_table(anon, cutoff=None)      # one row per request
    flows  = toolkit.handovers(anon, by=None)           # from_agency, to_agency, count, ...
    graph  = toolkit.handover_graph(flows)              # networkx.DiGraph, weight = count

Submodules hold the rest, grouped by topic: :mod:`toolkit.network` (bottlenecks, ping-pong,
variants), :mod:`toolkit.effects` (hop counts), :mod:`toolkit.survival` (resolution time),
:mod:`toolkit.rollout` (staggered adoption), :mod:`toolkit.impact` (what it is worth),
:mod:`toolkit.disclosure`, :mod:`toolkit.figures` and :mod:`toolkit.export`.
"""

from toolkit import schema
from toolkit.disclosure import find_small_cells, k_anonymity_report, suppress_small_cells
from toolkit.effects import (
    aipw_hops,
    effects_by_group,
    hops_regression,
    naive_hops,
    overlap_diagnostics,
)
from toolkit.errors import KeyMissingError, MissingColumnError, SekatError
from toolkit.estimate import compare_to_truth, headline_estimates, run_estimate
from toolkit.export import export_figure, export_table
from toolkit.impact import UnitCosts, scenario_impact
from toolkit.mapping import PRESETS, Mapping, load_mapping
from toolkit.network import (
    bottlenecks,
    chain_length_by_channel,
    handover_graph,
    ping_pong_pairs,
    variants,
)
from toolkit.paths import case_table, case_table_and_handovers, handovers, split_path
from toolkit.pipeline import PrepareResult, prepare
from toolkit.privacy import DEMO_KEY, pseudonymise
from toolkit.readers import describe_columns, read_events
from toolkit.rollout import (
    callaway_santanna,
    desk_status,
    rollout_event_study,
    rollout_panel,
    twfe,
    with_desk_status,
)
from toolkit.survival import cox_ph, kaplan_meier, rmst_difference
from toolkit.synthetic import Simulation, simulate
from toolkit.validation import (
    ValidationResult,
    near_duplicate_agencies,
    quarantine_summary,
    report_table,
    validate,
)
from toolkit.xes import write_xes

__version__ = "0.1.0"

__all__ = [
    "DEMO_KEY",
    "KeyMissingError",
    "Mapping",
    "MissingColumnError",
    "PRESETS",
    "PrepareResult",
    "SekatError",
    "Simulation",
    "UnitCosts",
    "ValidationResult",
    "__version__",
    "aipw_hops",
    "bottlenecks",
    "callaway_santanna",
    "case_table",
    "case_table_and_handovers",
    "chain_length_by_channel",
    "compare_to_truth",
    "cox_ph",
    "describe_columns",
    "desk_status",
    "effects_by_group",
    "export_figure",
    "export_table",
    "find_small_cells",
    "handover_graph",
    "handovers",
    "headline_estimates",
    "hops_regression",
    "k_anonymity_report",
    "kaplan_meier",
    "load_mapping",
    "naive_hops",
    "near_duplicate_agencies",
    "overlap_diagnostics",
    "ping_pong_pairs",
    "prepare",
    "pseudonymise",
    "quarantine_summary",
    "read_events",
    "report_table",
    "rmst_difference",
    "rollout_event_study",
    "rollout_panel",
    "run_estimate",
    "scenario_impact",
    "schema",
    "simulate",
    "split_path",
    "suppress_small_cells",
    "twfe",
    "validate",
    "variants",
    "with_desk_status",
    "write_xes",
]
