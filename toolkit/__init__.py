"""sekat: how requests travel between government agencies, and what social-media intake changes.

The front door is a handful of functions (see ``DESIGN.md``)::

    events = toolkit.read_events(path, mapping=None, preset=None, source_tz="Asia/Jakarta")
    result = toolkit.validate(events)        # result.clean, result.quarantine, result.report
    anon   = toolkit.pseudonymise(result.clean, key=...)
    sim    = toolkit.simulate(n_cases=20_000, seed=1)   # sim.events, sim.truth, sim.rollout
    cases  = toolkit.case_table(anon, cutoff=None)      # one row per request
    flows  = toolkit.handovers(anon, by=None)           # from_agency, to_agency, count, ...
    graph  = toolkit.handover_graph(flows)              # networkx.DiGraph, weight = count

Submodules hold the rest, grouped by topic.
"""

from toolkit import schema
from toolkit.errors import SekatError

__version__ = "0.1.0"

__all__ = ["SekatError", "__version__", "schema"]
