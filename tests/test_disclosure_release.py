"""Suppression agrees across every table of a release: no cell comes back by subtraction.

Issue 15: ``01_requests_by_channel.csv`` masked sms (4 requests) and email,
``02_chain_length_by_channel.csv`` published email = 59 and ``03_hop_effects.csv`` published
n = 2000, so sms = 2000 − 404 − 405 − 59 − 1128 = 4. The attacker below reads every CSV of
a folder, gathers each cell's published count from whichever file shows it, and subtracts
from every published total; it must recover nothing, in whichever order the tables were
written.
"""

from __future__ import annotations

import json
import re

import numpy as np
import pandas as pd
import pytest

from toolkit import paths, schema
from toolkit.report.disclosure import ReleaseRegistry, cell_keys, suppress_small_cells
from toolkit.report.export import REGISTRY_FILE, export_table
from toolkit.synthetic import simulate

THRESHOLD = 10


def _requests_by_channel(counts: dict[str, int]) -> pd.DataFrame:
    groups = {c: g for g, members in schema.CHANNEL_GROUPS.items() for c in members}
    return pd.DataFrame(
        {
            schema.CHANNEL_GROUP: [groups.get(c, "other") for c in counts],
            schema.CHANNEL: list(counts),
            "count": list(counts.values()),
        }
    )


ISSUE_COUNTS = {"twitter": 404, "whatsapp": 405, "email": 59, "sms": 4, "walk_in": 1128}


def _chain_lengths(counts: dict[str, int]) -> pd.DataFrame:
    return pd.DataFrame(
        {
            schema.CHANNEL: list(counts),
            "requests": list(counts.values()),
            "mean_chain_length": np.linspace(1.5, 2.5, len(counts)),
        }
    )


def _effects(total: int) -> pd.DataFrame:
    return pd.DataFrame(
        {"term": ["social vs not social"], "method": ["naive"], "estimate": [-0.4], "n": [total]}
    )


def _published_counts(folder) -> tuple[dict[tuple, float], float | None]:
    """Every published count by cell key, from any file; the largest ``n`` as a grand total."""
    known: dict[tuple, float] = {}
    grand_total = None
    for path in sorted(folder.glob("*.csv")):
        table = pd.read_csv(path)
        count_col = next((c for c in ("count", "requests", "n") if c in table.columns), None)
        if count_col is None:
            continue
        published = table[~table["suppressed"].astype(bool)]
        if count_col == "n":
            top = published["n"].max()
            grand_total = top if grand_total is None else max(grand_total, top)
            continue
        group_cols = [
            c
            for c in table.columns
            if c not in (count_col, "suppressed") and not pd.api.types.is_numeric_dtype(table[c])
        ]
        for key, count in zip(cell_keys(published, group_cols), published[count_col], strict=True):
            known[tuple(sorted(key.items()))] = float(count)
    return known, grand_total


def _recovered_by_subtraction(folder, column: str, values: list[str]) -> dict[str, float]:
    """Cells of ``column`` an attacker gets back: total minus every other published count."""
    known, total = _published_counts(folder)
    unknown = [v for v in values if ((column, v),) not in known]
    recovered = {}
    if total is not None and len(unknown) == 1:
        rest = sum(known[((column, v),)] for v in values if v not in unknown)
        recovered[unknown[0]] = total - rest
    return recovered


def _attack_fails(folder, counts: dict[str, int]) -> None:
    recovered = _recovered_by_subtraction(folder, schema.CHANNEL, list(counts))
    assert not recovered, f"recovered by subtraction: {recovered}"
    known, _ = _published_counts(folder)
    for channel, n in counts.items():
        if 0 < n < THRESHOLD:
            assert ((schema.CHANNEL, channel),) not in known, channel


def test_the_attack_of_the_issue_works_without_a_registry(tmp_path):
    """The test can fail: each table suppressed alone gives sms back, exactly as in the issue."""
    for name, table, kwargs in (
        ("01.csv", _requests_by_channel(ISSUE_COUNTS), {}),
        ("02.csv", _chain_lengths(ISSUE_COUNTS), {"count_col": "requests", "totals": []}),
        ("03.csv", _effects(2000), {"count_col": "n", "totals": []}),
    ):
        alone = tmp_path / name.removesuffix(".csv")
        export_table(table, alone / name, threshold=THRESHOLD, **kwargs)
        (tmp_path / name).write_bytes((alone / name).read_bytes())
    assert _recovered_by_subtraction(tmp_path, schema.CHANNEL, list(ISSUE_COUNTS)) == {"sms": 4}


@pytest.mark.parametrize("order", [(0, 1, 2), (1, 0, 2), (2, 1, 0), (1, 2, 0)])
def test_no_cell_recovered_in_any_order(tmp_path, order):
    exports = [
        ("01_requests_by_channel.csv", _requests_by_channel(ISSUE_COUNTS), {}),
        (
            "02_chain_length_by_channel.csv",
            _chain_lengths(ISSUE_COUNTS),
            {"count_col": "requests", "totals": [], "group_cols": [schema.CHANNEL]},
        ),
        ("03_hop_effects.csv", _effects(2000), {"count_col": "n", "totals": []}),
    ]
    for i in order:
        name, table, kwargs = exports[i]
        export_table(table, tmp_path / name, threshold=THRESHOLD, **kwargs)
    _attack_fails(tmp_path, ISSUE_COUNTS)
    chains = pd.read_csv(tmp_path / "02_chain_length_by_channel.csv")
    masked = set(chains.loc[chains["suppressed"], schema.CHANNEL])
    first = pd.read_csv(tmp_path / "01_requests_by_channel.csv")
    assert masked == set(first.loc[first["suppressed"], schema.CHANNEL])  # the same cells
    assert "sms" in masked
    # a masked cell's values are blank wherever it is masked
    assert chains.loc[chains["suppressed"], ["requests", "mean_chain_length"]].isna().all().all()
    # the registry holds neither a count nor a label
    registry = json.loads((tmp_path / REGISTRY_FILE).read_text())
    cells = registry["masked"] + registry["published"]
    assert registry["masked"] and all(
        re.fullmatch(r"[0-9a-f]{16}", value) for cell in cells for value in cell.values()
    )


def test_a_finer_table_hides_the_parts_of_a_masked_cell(tmp_path):
    export_table(_requests_by_channel(ISSUE_COUNTS), tmp_path / "a.csv", threshold=THRESHOLD)
    finer = pd.DataFrame(
        {
            schema.CHANNEL: ["email", "email", "sms", "web"],
            "category": ["roads", "water", "roads", "roads"],
            "count": [30, 29, 4, 80],
        }
    )
    export_table(finer, tmp_path / "b.csv", threshold=THRESHOLD, totals=[])
    written = pd.read_csv(tmp_path / "b.csv")
    assert written.loc[written[schema.CHANNEL].isin(["email", "sms"]), "suppressed"].all()
    assert not written.loc[written[schema.CHANNEL] == "web", "suppressed"].any()


def test_registry_by_hand():
    registry = ReleaseRegistry()
    keys = [{"channel": "sms"}, {"channel": "web"}]
    assert registry.add(keys, np.array([True, False])) == [{"channel": "sms"}]
    assert registry.covered([{"channel": "sms", "week": "3"}, {"channel": "web"}]).tolist() == [
        True,
        False,
    ]
    assert registry.already_published([{"channel": "web"}]).tolist() == [True]
    again = ReleaseRegistry.from_dict(registry.to_dict())
    assert again.covered([{"channel": "sms"}]).tolist() == [True]
    assert again.already_published([{"channel": "web"}, {"channel": "sms"}]).tolist() == [
        True,
        False,
    ]
    assert "sms" not in str(registry.to_dict())  # labels are kept as hashes only


def test_complements_prefer_cells_not_published_elsewhere():
    table = pd.DataFrame({"channel": ["sms", "email", "web", "app"], "count": [4, 20, 30, 500]})
    plain = suppress_small_cells(table, totals=[()])
    assert plain.record["channel"].tolist() == ["sms", "email"]
    avoiding = suppress_small_cells(table, totals=[()], avoid=[False, True, False, False])
    assert avoiding.record["channel"].tolist() == ["sms", "web"]
    forced = suppress_small_cells(table, totals=[()], force=[False, False, False, True])
    assert set(forced.record["channel"]) == {"sms", "app"}  # app forced, sms and app protect


def test_every_table_of_the_sample_resists_the_subtraction_attack(tmp_path):
    """The export functions on a simulated sample with a rare channel, as notebooks 01-03 call them."""
    sim = simulate(n_cases=1500, seed=23)
    cases = paths.case_table(sim.events)
    rare = cases.index[cases[schema.CHANNEL] == "web"][:4]  # four requests arrive by sms
    channel = cases[schema.CHANNEL].astype("str")
    channel.loc[cases.index.isin(rare) | (channel == "sms")] = "web"
    channel.loc[rare] = "sms"
    cases[schema.CHANNEL] = channel.astype(schema.CHANNEL_DTYPE)
    requests = (
        cases.groupby([schema.CHANNEL_GROUP, schema.CHANNEL], observed=True)
        .size()
        .rename("count")
        .reset_index()
    )
    chains = paths.chain_length_by_channel(cases, by=schema.CHANNEL)
    effects = _effects(len(cases))
    for order in ((0, 1, 2), (1, 2, 0)):
        folder = tmp_path / "".join(map(str, order))
        calls = [
            lambda f: export_table(requests, f / "01_requests_by_channel.csv", threshold=10),
            lambda f: export_table(
                chains,
                f / "02_chain_length_by_channel.csv",
                count_col="requests",
                group_cols=[schema.CHANNEL],
                totals=[],
                threshold=10,
            ),
            lambda f: export_table(
                effects, f / "03_hop_effects.csv", count_col="n", totals=[], threshold=10
            ),
        ]
        for i in order:
            calls[i](folder)
        counts = cases[schema.CHANNEL].astype("str").value_counts().to_dict()
        assert counts["sms"] == 4
        _attack_fails(folder, counts)
