"""sekat: how requests travel between government agencies, and what social-media intake changes.

The front door is a handful of functions::

    events = toolkit.read_events(path, mapping=None, preset=None, source_tz="Asia/Jakarta")
    result = toolkit.validate(events)        # result.clean, result.quarantine, result.report
    anon   = toolkit.pseudonymise(result.clean, key=...)
    sim    = toolkit.simulate(n_cases=20_000, seed=1)   # sim.events, sim.truth, sim.rollout
    cases  = toolkit.case_table(anon, cutoff=None)      # one row per request
    flows  = toolkit.handovers(anon, by=None)           # from_agency, to_agency, count, ...
    graph  = toolkit.handover_graph(flows)              # networkx.DiGraph, weight = count
    result = toolkit.headline_analysis(cases, seed=1)   # every headline estimate, one table

The package is layered along the data flow, and imports only go down it::

    schema, errors, results      the contract: column names, vocabularies, result tables
    io/                          reading logs (CSV, Parquet, XES, JSON), mappings, presets,
                                 timestamps, prepared folders, the one atomic writer
    clean/                       validation, pseudonymisation, re-identification risk
    paths/                       the case table, hand-offs, the hand-off network, Dask
    estimate/                    hops, time to resolution, rollout, impact, the headline
    report/                      words, disclosure control, figures, exports, the brief
    synthetic, pipeline, analysis, cli, reproduce
                                 the generator and the runs that tie the layers together

``ARCHITECTURE.md`` in the repository says where each definition, figure and number of the
brief comes from, and how to add an estimator or a preset. Names are loaded on first use, so
``import toolkit`` (and ``sekat --version``) stays fast.
"""

from __future__ import annotations

import importlib
from typing import Any

__version__ = "0.1.0"

#: Public name -> the module that defines it.
_PUBLIC: dict[str, str] = {
    "schema": "toolkit.schema",
    "SekatError": "toolkit.errors",
    "MissingColumnError": "toolkit.errors",
    "KeyMissingError": "toolkit.errors",
    # io
    "read_events": "toolkit.io.readers",
    "describe_columns": "toolkit.io.readers",
    "describe": "toolkit.io.describe",
    "Mapping": "toolkit.io.mapping",
    "load_mapping": "toolkit.io.mapping",
    "PRESETS": "toolkit.io.presets",
    "write_xes": "toolkit.io.xes",
    "load_prepared": "toolkit.io.prepared",
    # clean
    "ValidationResult": "toolkit.clean.validation",
    "validate": "toolkit.clean.validation",
    "near_duplicate_agencies": "toolkit.clean.validation",
    "quarantine_summary": "toolkit.clean.validation",
    "report_table": "toolkit.clean.validation",
    "DEMO_KEY": "toolkit.clean.privacy",
    "pseudonymise": "toolkit.clean.privacy",
    "k_anonymity_report": "toolkit.clean.reidentification",
    # paths
    "case_table": "toolkit.paths",
    "case_table_and_handovers": "toolkit.paths",
    "handovers": "toolkit.paths",
    "split_path": "toolkit.paths",
    "handover_graph": "toolkit.paths",
    "bottlenecks": "toolkit.paths",
    "chain_length_by_channel": "toolkit.paths",
    "ping_pong_pairs": "toolkit.paths",
    "variants": "toolkit.paths",
    # estimate
    "naive_hops": "toolkit.estimate",
    "hops_regression": "toolkit.estimate",
    "aipw_hops": "toolkit.estimate",
    "effects_by_group": "toolkit.estimate",
    "overlap_diagnostics": "toolkit.estimate",
    "kaplan_meier": "toolkit.estimate",
    "cox_ph": "toolkit.estimate",
    "rmst_difference": "toolkit.estimate",
    "callaway_santanna": "toolkit.estimate",
    "twfe": "toolkit.estimate",
    "rollout_panel": "toolkit.estimate",
    "rollout_event_study": "toolkit.estimate",
    "desk_status": "toolkit.estimate",
    "with_desk_status": "toolkit.estimate",
    "UnitCosts": "toolkit.estimate",
    "scenario_impact": "toolkit.estimate",
    "Headline": "toolkit.estimate",
    "HeadlineSettings": "toolkit.estimate",
    "headline_analysis": "toolkit.estimate",
    "headline_estimates": "toolkit.estimate.headline",
    "compare_to_truth": "toolkit.estimate",
    # report
    "suppress_small_cells": "toolkit.report.disclosure",
    "find_small_cells": "toolkit.report.disclosure",
    "export_figure": "toolkit.report.export",
    "export_table": "toolkit.report.export",
    # runs
    "Simulation": "toolkit.synthetic",
    "simulate": "toolkit.synthetic",
    "PrepareResult": "toolkit.pipeline",
    "prepare": "toolkit.pipeline",
    "analyse": "toolkit.analysis",
    "run_estimate": "toolkit.analysis",
}

__all__ = ["__version__", *sorted(_PUBLIC)]


def __getattr__(name: str) -> Any:
    module = _PUBLIC.get(name)
    if module is None:
        raise AttributeError(f"module 'toolkit' has no attribute {name!r}")
    value = importlib.import_module(module)
    if name != "schema":
        value = getattr(value, name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_PUBLIC))
