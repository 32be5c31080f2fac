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
from toolkit.errors import KeyMissingError, MissingColumnError, SekatError
from toolkit.estimate import compare_to_truth, headline_estimates
from toolkit.export import export_figure, export_table
from toolkit.mapping import PRESETS, Mapping, load_mapping
from toolkit.network import (
    bottlenecks,
    chain_length_by_channel,
    handover_graph,
    ping_pong_pairs,
    variants,
)
from toolkit.paths import case_table, handovers
from toolkit.pipeline import PrepareResult, prepare
from toolkit.privacy import DEMO_KEY, pseudonymise
from toolkit.readers import read_events
from toolkit.synthetic import Simulation, simulate
from toolkit.validation import ValidationResult, validate
from toolkit.xes import write_xes

__version__ = "0.1.0"

__all__ = [
    "DEMO_KEY",
    "PRESETS",
    "KeyMissingError",
    "Mapping",
    "MissingColumnError",
    "PrepareResult",
    "SekatError",
    "Simulation",
    "ValidationResult",
    "__version__",
    "bottlenecks",
    "case_table",
    "chain_length_by_channel",
    "compare_to_truth",
    "export_figure",
    "export_table",
    "find_small_cells",
    "handover_graph",
    "handovers",
    "headline_estimates",
    "k_anonymity_report",
    "load_mapping",
    "ping_pong_pairs",
    "prepare",
    "pseudonymise",
    "read_events",
    "schema",
    "simulate",
    "suppress_small_cells",
    "validate",
    "variants",
    "write_xes",
]
