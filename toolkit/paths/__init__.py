"""Paths: each request's route through agencies, the hand-offs between them, and their network.

The third layer of sekat (contract → io → clean → **paths** → estimate → report). It owns the
definitions of the case table (:func:`case_table`: path, hops, distinct agencies, returns,
reopenings, resolution, duration, censoring; written out with worked examples in its
docstring) and of a hand-off (:func:`handovers`), and what is read off them as a network
(:mod:`toolkit.paths.network`: the hand-off graph, bottlenecks, ping-pong pairs, chain
lengths, variants). :mod:`toolkit.paths.walk` holds the vectorised kernels both tables share
and :mod:`toolkit.paths.cluster` runs them on a Dask cluster. Everything here is a pure
function of validated, pseudonymised events.
"""

from toolkit.paths.cases import case_table, case_table_and_handovers, handovers
from toolkit.paths.network import (
    bottlenecks,
    chain_length_by_channel,
    handover_graph,
    ping_pong_pairs,
    variants,
)
from toolkit.paths.walk import PATH_SEPARATOR, split_path

__all__ = [
    "PATH_SEPARATOR",
    "bottlenecks",
    "case_table",
    "case_table_and_handovers",
    "chain_length_by_channel",
    "handover_graph",
    "handovers",
    "ping_pong_pairs",
    "split_path",
    "variants",
]
