"""The rollout travels with the data: prepare carries it, estimate reads or overrides it, and a
log with a known rollout is never analysed without it silently."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from toolkit import schema
from toolkit.analysis import run_estimate
from toolkit.cli import main
from toolkit.errors import SekatError
from toolkit.io.writers import write_table
from toolkit.pipeline import ROLLOUT_FILE, find_rollout, prepare
from toolkit.synthetic import simulate


@pytest.fixture(scope="module")
def raw(tmp_path_factory):
    """A small synthetic log with its rollout beside it, as ``sekat simulate`` writes them."""
    folder = tmp_path_factory.mktemp("raw")
    assert (
        main(["simulate", "--cases", "2500", "--seed", "5", "--out", str(folder / "sim.csv.gz")])
        == 0
    )
    return folder


def test_find_rollout_beside_the_log_given_or_none(raw, tmp_path):
    assert find_rollout([raw / "sim.csv.gz"]) == (raw / "sim.rollout.csv", "beside_log")
    assert find_rollout([raw / "sim.csv.gz"], rollout=False) == (None, "none")
    assert find_rollout([raw / "sim.csv.gz"], rollout="") == (None, "none")
    assert find_rollout([tmp_path / "mine.csv"]) == (None, "none")
    with pytest.raises(SekatError, match="does not exist"):
        find_rollout([raw / "sim.csv.gz"], rollout=tmp_path / "nowhere.csv")
    (tmp_path / "a.rollout.csv").write_text("region,desk_opened\nx,2023-01-01\n")
    (tmp_path / "b.rollout.csv").write_text("region,desk_opened\ny,2023-01-01\n")
    with pytest.raises(SekatError, match="different rollout files"):
        find_rollout([tmp_path / "a.csv", tmp_path / "b.csv"])


def test_prepare_carries_the_rollout_found_beside_the_log(raw, tmp_path):
    out = tmp_path / "prepared"
    result = prepare([raw / "sim.csv.gz"], out, demo=True)
    carried = out / ROLLOUT_FILE
    assert carried.read_bytes() == (raw / "sim.rollout.csv").read_bytes()
    record = json.loads((out / "manifest.json").read_text())["parameters"]["rollout"]
    assert record["name"] == "sim.rollout.csv" and record["found"] == "beside_log"
    assert ROLLOUT_FILE in result.manifest["outputs"]
    # saying "none" rebuilds without it, and the rollout carried before is gone
    again = prepare([raw / "sim.csv.gz"], out, demo=True, rollout=False)
    assert not again.skipped and not carried.exists()
    assert json.loads((out / "manifest.json").read_text())["parameters"]["rollout"] is None


def test_prepare_refuses_a_rollout_of_another_city(raw, tmp_path):
    other = tmp_path / "desks.csv"
    other.write_text("region,desk_opened\nAtlantis,2023-03-01\n")
    with pytest.raises(SekatError, match="none of its regions occurs"):
        prepare([raw / "sim.csv.gz"], tmp_path / "out", demo=True, rollout=other)


def test_estimate_reads_the_carried_rollout_and_an_override_wins(raw, tmp_path):
    out = tmp_path / "prepared"
    prepare([raw / "sim.csv.gz"], out, demo=True)
    table = run_estimate(out, tmp_path / "est.csv", seed=1, n_boot=5)
    assert table.attrs["rollout"] == str(out / ROLLOUT_FILE)
    assert (table[schema.CONTRAST] == schema.DESK_CONTRAST).any()
    # an override with every desk opened a month later changes the event study
    desks = simulate(2500, seed=5).rollout
    desks[schema.DESK_OPENED] = desks[schema.DESK_OPENED] + pd.DateOffset(months=1)
    write_table(desks, tmp_path / "later.csv")
    moved = run_estimate(
        out, tmp_path / "est2.csv", rollout=tmp_path / "later.csv", seed=1, n_boot=5
    )
    assert moved.attrs["rollout"] == str(tmp_path / "later.csv")
    es = moved[moved[schema.CONTRAST] == schema.DESK_CONTRAST]
    assert not es["estimate"].equals(
        table.loc[table[schema.CONTRAST] == schema.DESK_CONTRAST, "estimate"]
    )


def test_a_named_rollout_of_another_log_is_refused_not_dropped(raw, tmp_path):
    out = tmp_path / "prepared"
    prepare([raw / "sim.csv.gz"], out, demo=True, rollout=False)
    foreign = tmp_path / "other.rollout.csv"
    foreign.write_bytes((raw / "sim.rollout.csv").read_bytes())
    with pytest.raises(SekatError, match="belongs to another log"):
        run_estimate(out, tmp_path / "est.csv", rollout=foreign, seed=1, n_boot=5)


def test_cli_says_what_it_carried_and_warns_without_a_rollout(raw, tmp_path, caplog):
    out = tmp_path / "prepared"
    caplog.set_level("INFO", logger="toolkit")
    assert main(["prepare", str(raw / "sim.csv.gz"), "--out", str(out), "--demo-key"]) == 0
    assert "rollout: sim.rollout.csv (found beside the log" in caplog.text
    caplog.clear()
    assert (
        main(["prepare", str(raw / "sim.csv.gz"), "--out", str(out), "--demo-key", "--no-rollout"])
        == 0
    )
    assert not (out / ROLLOUT_FILE).exists()
    args = ["estimate", str(out), "--out", str(tmp_path / "e.csv"), "--n-boot", "5"]
    assert main(args) == 0
    assert "no rollout: the event study is skipped" in caplog.text
