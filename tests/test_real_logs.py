"""A real city log, end to end: prepare, estimate, every notebook and the brief.

``tests/data/boston311_2015_extract.csv.gz`` is 401 requests cut from the public-domain Boston
311 2015 export (ODC-PDDL; ``data/raw/boston311_2015/README.md``): all 61 Twitter requests and
340 others drawn at random, with the columns the ``boston311`` preset reads. One row per
request, so hops are unobserved: the analysis must run exactly the time parts, say why the
rest did not run, publish no empty figure or table, and never call the log synthetic.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pandas as pd
import pytest

from toolkit.cli import main
from toolkit.io.prepared import load_prepared

EXTRACT = Path(__file__).resolve().parent / "data" / "boston311_2015_extract.csv.gz"
NOTEBOOKS = Path(__file__).resolve().parents[1] / "notebooks"


@pytest.fixture(scope="module")
def prepared(tmp_path_factory):
    folder = tmp_path_factory.mktemp("boston")
    key = folder / "run.key"
    key.write_text("a real log needs a real key, never the demo one\n")
    code = main(
        [
            "prepare",
            str(EXTRACT),
            "--preset",
            "boston311",
            "--key-file",
            str(key),
            "--out",
            str(folder / "prepared"),
            "-q",
        ]
    )
    assert code == 0
    return folder


def test_the_extract_is_what_its_docstring_says():
    raw = pd.read_csv(EXTRACT, dtype=str)
    assert len(raw) == 401
    assert (raw["Source"] == "Twitter").sum() == 61


def test_estimate_runs_the_time_parts_and_names_the_rest(prepared, capsys):
    out = prepared / "estimates.csv"
    code = main(
        [
            "estimate",
            str(prepared / "prepared"),
            "--out",
            str(out),
            "--n-boot",
            "20",
            "--holidays",
            "US",
            "--json",
        ]
    )
    assert code == 0
    captured = capsys.readouterr()
    summary = json.loads(captured.out.strip().splitlines()[-1])
    assert summary["skipped"] == {
        "hops": "hops_unobserved",
        "by_category": "hops_unobserved",
        "by_region": "hops_unobserved",
        "rollout": "no_rollout",
    }
    assert "hand-offs are not observed" in captured.err
    table = pd.read_csv(out)
    assert not (table["outcome"] == "hops").any()
    assert {"rmst_days", "days_to_resolution", "on_time"} <= set(table["outcome"])
    twitter = table.loc[(table["term"] == "median_days[twitter]")].iloc[0]
    assert twitter["n"] == 61


def test_every_notebook_and_the_brief_on_the_real_extract(prepared):
    from toolkit.reproduce import run_notebooks

    figures = prepared / "figures"
    run_notebooks(
        NOTEBOOKS,
        prepared / "executed",
        {
            "raw_file": str(EXTRACT),
            "mapping_file": "",
            "preset": "boston311",
            "data_dir": str(prepared / "prepared"),
            "output_dir": str(figures),
            "rollout_file": "",
            "truth_file": "",
            "holidays": "US",
            "n_boot": 20,
        },
    )
    names = {p.name for p in figures.iterdir()}
    assert {"policy_brief_en.html", "policy_brief_id.html"} <= names
    # nothing about hand-offs is published for a log that does not record them
    assert not any(n.startswith(("02_", "03_")) for n in names), sorted(names)
    assert "04_time_by_channel_en.png" in names and "04_on_time_by_channel_id.svg" in names
    for table in figures.glob("*.csv"):
        if table.name.startswith("index_"):
            continue
        assert len(pd.read_csv(table)) > 0, table.name
    for lang in ("en", "id"):
        index = pd.read_csv(figures / f"index_{lang}.csv", keep_default_na=False)
        assert not index["alt_text"].str.endswith(": .").any()
        assert not index["alt_text"].str.contains(r":\s*\.$").any()
    words = " ".join(
        p.read_text(encoding="utf-8")
        for p in figures.iterdir()
        if p.suffix in {".csv", ".md", ".html"}
    ).lower()
    for word in ("synthetic", "planted", "sintetis", "ditanam"):
        assert word not in words
    brief = re.sub(r"<[^>]+>", " ", (figures / "policy_brief_en.html").read_text())
    assert "Only 61 of 401 requests" in brief
    assert "hand-offs are not observed" in brief
    assert "AIPW" not in brief  # the method paragraph names only what ran


def test_hops_unobserved_is_read_from_the_prepared_folder(prepared):
    from toolkit.analysis import hops_observed, hops_skip_reason

    data = load_prepared(prepared / "prepared")
    assert hops_observed(data) is False
    assert hops_skip_reason(data) == "hops_unobserved"
