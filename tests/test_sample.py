"""The shipped sample is exactly what `sekat simulate` writes with the parameters beside it."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

from toolkit.cli import main

RAW = Path(__file__).resolve().parent.parent / "data" / "raw"
SAMPLE = RAW / "sample_events.csv.gz"


def test_regenerating_the_sample_with_its_seed_gives_the_same_bytes(tmp_path):
    params = json.loads((RAW / "sample_events.params.json").read_text())
    out = tmp_path / "sample_events.csv.gz"
    status = main(
        [
            "simulate",
            "--cases",
            str(params["n_cases"]),
            "--seed",
            str(params["seed"]),
            "--out",
            str(out),
        ]
    )
    assert status == 0
    assert out.read_bytes() == SAMPLE.read_bytes()
    for sibling in [
        "sample_events.truth.csv",
        "sample_events.rollout.csv",
        "sample_events.params.json",
    ]:
        assert (tmp_path / sibling).read_bytes() == (RAW / sibling).read_bytes(), sibling


def test_the_sample_is_small_and_about_twenty_thousand_requests():
    assert SAMPLE.stat().st_size < 5 * 2**20
    log = pd.read_csv(SAMPLE, usecols=["case_id"])
    assert log["case_id"].nunique() == 20_000
