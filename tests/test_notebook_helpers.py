"""Tests of toolkit.notebook: loading a prepared folder, parameters, estimand-named effects."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from toolkit import schema
from toolkit.errors import MissingColumnError, SekatError
from toolkit.estimate import headline_estimates
from toolkit.notebook import (
    check_lines,
    check_parameters,
    comparison_cases,
    days_effects,
    describe_rows,
    hop_effects,
    load_prepared,
    plot_table,
    read_rollout,
    rollout_summary,
    truth_belongs,
    with_truth,
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


# --- parameters and the comparison ----------------------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"lang": "fr"}, "lang"),
        ({"seed": -1}, "seed"),
        ({"seed": 1.5}, "seed"),
        ({"min_cell": 5}, "at least 10"),
        ({"treatment": "digital"}, "treatment"),
        ({"control": "everyone"}, "control"),
        ({"share": 1.2}, "share"),
    ],
)
def test_check_parameters_rejects(kwargs, message):
    with pytest.raises(SekatError, match=message):
        check_parameters(**kwargs)


def test_check_parameters_accepts_defaults_and_stricter_cells():
    check_parameters()
    check_parameters(lang="id", seed=0, min_cell=25, control="traditional", share=0.0)


def test_comparison_cases_by_hand():
    cases = pd.DataFrame({"channel": ["twitter", "web", "letter", "whatsapp", "other"]})
    assert comparison_cases(cases)["channel"].tolist() == cases["channel"].tolist()
    assert comparison_cases(cases, "traditional")["channel"].tolist() == [
        "twitter",
        "letter",
        "whatsapp",
    ]
    assert comparison_cases(cases, "digital")["channel"].tolist() == ["twitter", "web", "whatsapp"]


# --- estimand-named effects agree with the headline table -----------------------------------


def test_hop_and_day_effects_equal_the_headline_estimates(cases):
    headline = headline_estimates(cases, seed=5, n_boot=20)
    hops, diagnostics = hop_effects(cases)
    days, draws = days_effects(cases, seed=5, n_boot=20)
    for table in (hops, days):
        for row in table.to_dict("records"):
            match = headline.loc[
                (headline["term"] == row["term"]) & (headline["method"] == row["method"])
            ]
            assert len(match) == 1, row["term"]
            assert match["estimate"].iloc[0] == pytest.approx(row["estimate"], rel=1e-12)
            assert match["ci_low"].iloc[0] == pytest.approx(row["ci_low"], rel=1e-12)
    assert len(draws) == 20
    # The draws are the ATT replicates: their spread is the reported standard error.
    att = days.set_index("term").loc["att_rmst_diff_days"]
    assert np.std(draws, ddof=1) == pytest.approx(att["std_error"], rel=1e-9)
    assert {"overlap", "propensity_histogram"} <= set(diagnostics)


def test_rollout_summary_keeps_robust_then_naive():
    study = pd.DataFrame(
        {
            "term": [
                "hops:event[e=0]",
                "hops:simple",
                "hops:twfe",
                "rmst_days:simple",
                "rmst_days:twfe",
            ],
            "estimate": [-0.3, -0.1, 0.0, -0.5, 0.2],
            "std_error": [0.1] * 5,
            "ci_low": [-0.5, -0.3, -0.2, -1.5, -0.5],
            "ci_high": [-0.1, 0.1, 0.2, 0.5, 0.9],
            "n": [12, 12, 288, 12, 288],
            "method": ["CS", "CS", "TWFE", "CS", "TWFE"],
        }
    )
    summary = rollout_summary(study)
    assert summary["term"].tolist() == ["att_rollout_hops"] * 2 + ["att_rollout_rmst_days"] * 2
    assert summary["estimate"].tolist() == [-0.1, 0.0, -0.5, 0.2]


def test_with_truth_and_plot_table_put_the_planted_value_beside(sim, cases):
    hops, _ = hop_effects(cases)
    compared = with_truth(hops, sim.truth)
    att = compared.loc[compared["term"] == "att_hops"].iloc[0]
    planted = sim.truth.loc[
        (sim.truth["estimand"] == "att_hops") & (sim.truth["group"] == "overall"), "value"
    ].iloc[0]
    assert att["truth"] == pytest.approx(planted)
    table = plot_table(hops, "en", sim.truth)
    truth_rows = table.loc[table["method"] == "Planted truth"]
    # One planted row per estimand that has one (ate, att, att_irr), drawn as a point.
    assert len(truth_rows) == 3
    assert (truth_rows["ci_low"] == truth_rows["estimate"]).all()
    assert plot_table(hops, "id")["method"].iloc[0] == "Perbandingan naif"


# --- stable text for checked cells ----------------------------------------------------------


def test_check_lines_by_hand():
    table = pd.DataFrame(
        {"term": ["a", "b"], "estimate": [-0.004, 1.23456], "n": [12, 3], "x": [np.nan, 2.0]}
    )
    assert check_lines(table) == "term | estimate | n | x\na | 0.00 | 12 | NA\nb | 1.23 | 3 | 2.00"


@settings(max_examples=60, deadline=None)
@given(st.floats(allow_nan=False, allow_infinity=False, min_value=-1e6, max_value=1e6))
def test_check_lines_never_prints_negative_zero(value):
    text = check_lines(pd.DataFrame({"v": [value]}), decimals=2).splitlines()[1]
    assert text != "-0.00"
    assert float(text) == pytest.approx(round(value, 2), abs=0.006)


def test_describe_rows_words_codes_and_skips_point_intervals():
    table = pd.DataFrame(
        {
            "term": ["walk_in", "Planted"],
            "estimate": [2.6, -0.2],
            "ci_low": [2.5, -0.2],
            "ci_high": [2.7, -0.2],
        }
    )
    assert (
        describe_rows(table, "id")
        == "Datang langsung: 2,60 (2,50 sampai 2,70); Planted: \u22120,20"
    )
