"""Reading a prepared folder and its companions: the rollout file and the planted truth."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from toolkit import schema
from toolkit.errors import MissingColumnError, SekatError
from toolkit.io.prepared import (
    load_prepared,
    optional_path,
    read_rollout,
    read_table,
    truth_belongs,
)
from toolkit.paths import case_table, handovers
from toolkit.synthetic import simulate


@pytest.fixture(scope="module")
def sim():
    return simulate(2500, seed=11)


@pytest.fixture(scope="module")
def cases(sim):
    return case_table(sim.events)


def _prepared(folder: Path, sim, cases, log_name: str = "my_log.csv.gz") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    cases.to_parquet(folder / "cases.parquet")
    handovers(sim.events).to_parquet(folder / "handovers.parquet")
    sim.events.to_parquet(folder / "events.parquet")
    report = {"inputs": {log_name: 1}, "rows_in": len(sim.events), "hops_observed": True}
    (folder / "report.json").write_text(json.dumps(report))
    return folder


# --- reading a rollout file ---------------------------------------------------------------


def test_read_rollout_parses_dates_and_never(tmp_path):
    path = tmp_path / "desks.csv"
    path.write_text(
        "region,desk_opened\nCoblong,2023-05-01\nRegol, \nAndir,2024-02-01 00:00:00+07:00\n"
    )
    desks = read_rollout(path)
    assert desks[schema.REGION].tolist() == ["Coblong", "Regol", "Andir"]
    assert desks["desk_opened"].dtype == schema.TIMESTAMP_DTYPE
    assert pd.isna(desks["desk_opened"].iloc[1])
    # A zone given in the file is respected: 00:00 in Jakarta is 17:00 UTC the day before.
    assert desks["desk_opened"].iloc[2] == pd.Timestamp("2024-01-31 17:00", tz="UTC")


def test_read_rollout_names_file_column_and_row(tmp_path):
    path = tmp_path / "desks.csv"
    path.write_text("region,desk_opened\nCoblong,2023-05-01\nRegol,someday\n")
    with pytest.raises(SekatError) as error:
        read_rollout(path)
    assert error.value.file == str(path)
    assert error.value.column == "desk_opened"
    assert error.value.row == 1
    assert "someday" in str(error.value)


def test_read_rollout_missing_column_and_duplicates(tmp_path):
    path = tmp_path / "desks.csv"
    path.write_text("district,date\nCoblong,2023-05-01\n")
    with pytest.raises(MissingColumnError):
        read_rollout(path)
    path.write_text("region,desk_opened\nCoblong,2023-05-01\nCoblong,2023-06-01\n")
    with pytest.raises(SekatError, match="listed twice"):
        read_rollout(path)
    with pytest.raises(SekatError, match="not found"):
        read_rollout(tmp_path / "absent.csv")


# --- loading a prepared folder --------------------------------------------------------------


def test_load_prepared_reads_tables_and_report(tmp_path, sim, cases):
    folder = _prepared(tmp_path / "prepared", sim, cases)
    data = load_prepared(folder, events=True)
    assert len(data.cases) == len(cases)
    assert data.events is not None and len(data.events) == len(sim.events)
    assert data.report["hops_observed"] is True
    assert data.rollout is None and data.truth is None
    assert load_prepared(folder).events is None


def test_load_prepared_missing_file_says_what_to_run(tmp_path):
    with pytest.raises(SekatError, match="sekat prepare") as error:
        load_prepared(tmp_path)
    assert error.value.file.endswith("cases.parquet")


def test_truth_of_another_log_is_left_out(tmp_path, sim, cases):
    folder = _prepared(tmp_path / "prepared", sim, cases, log_name="my_log.csv.gz")
    foreign = tmp_path / "sample_events.truth.csv"
    sim.truth.to_csv(foreign, index=False)
    data = load_prepared(folder, truth_file=foreign)
    assert data.truth is None
    assert "another log" in data.notes[0]
    own = tmp_path / "my_log.truth.csv"
    sim.truth.to_csv(own, index=False)
    assert load_prepared(folder, truth_file=own).truth is not None
    # An absent truth file is a note, not an error: a real log has none.
    assert "not found" in load_prepared(folder, truth_file=tmp_path / "x.truth.csv").notes[0]


def test_truth_belongs_matches_the_log_stem():
    assert truth_belongs("raw/sim.truth.csv", {"inputs": {"sim.csv.gz": 1}})
    assert truth_belongs("raw/sim.truth.csv", {"inputs": {"sim.parquet": 1}})
    assert not truth_belongs("raw/sim.truth.csv", {"inputs": {"simulation.csv": 1}})
    assert not truth_belongs("raw/sim.truth.csv", {})


def test_rollout_of_another_log_is_refused(tmp_path, sim, cases):
    folder = _prepared(tmp_path / "prepared", sim, cases)
    desks = tmp_path / "desks.csv"
    desks.write_text("region,desk_opened\nAtlantis,2023-05-01\n")
    with pytest.raises(SekatError, match="none of its regions") as error:
        load_prepared(folder, rollout_file=desks)
    assert error.value.column == schema.REGION
    sim.rollout.assign(desk_opened=sim.rollout["desk_opened"].astype("str")).to_csv(
        desks, index=False
    )
    data = load_prepared(folder, rollout_file=desks)
    assert len(data.rollout) == len(sim.rollout)
    assert load_prepared(folder, rollout_file="").rollout is None


def test_simulated_rollout_of_another_log_is_left_out(tmp_path, sim, cases):
    folder = _prepared(tmp_path / "prepared", sim, cases, log_name="my_log.csv.gz")
    for name in ("sample_events.rollout.csv", "my_log.rollout.csv"):
        sim.rollout.to_csv(tmp_path / name, index=False)
    foreign = load_prepared(folder, rollout_file=tmp_path / "sample_events.rollout.csv")
    assert foreign.rollout is None
    assert "belongs to another log" in foreign.notes[0]
    assert load_prepared(folder, rollout_file=tmp_path / "my_log.rollout.csv").rollout is not None


def test_optional_paths_and_tables(tmp_path):
    assert optional_path(None) is None and optional_path("None") is None
    assert optional_path(" ") is None and optional_path("a.csv") == Path("a.csv")
    path = tmp_path / "t.csv"
    path.write_text("a,b\n1,2\n")
    assert read_table(path).to_dict("records") == [{"a": 1, "b": 2}]
    path.write_bytes(b"\xff\xfe\x00garbage")
    with pytest.raises(SekatError) as error:
        read_table(path)
    assert error.value.file == str(path)
