"""Parameters that mean what they say: any treatment and control, checked before any work."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import nbformat
import pandas as pd
import pytest

from toolkit import schema
from toolkit.errors import SekatError
from toolkit.estimate.headline import headline_analysis, truth_key
from toolkit.estimate.models import Contrast, comparison_cases, treatment_indicator
from toolkit.paths import case_table
from toolkit.report.display import check_parameters, passed_parameters
from toolkit.reproduce import check_given
from toolkit.synthetic import simulate

CASES = pd.DataFrame(
    {"channel": ["twitter", "whatsapp", "web", "phone", "letter", "walk_in", "other"]}
)


@pytest.mark.parametrize(
    ("treatment", "control", "treated", "controls", "descriptor"),
    [
        (
            "social",
            "not_social",
            ["twitter", "whatsapp"],
            ["web", "phone", "letter", "walk_in", "other"],
            "social vs not_social",
        ),
        (
            "social",
            "rest",
            ["twitter", "whatsapp"],
            ["web", "phone", "letter", "walk_in", "other"],
            "social vs not_social",
        ),
        (
            "social",
            "traditional",
            ["twitter", "whatsapp"],
            ["phone", "letter", "walk_in"],
            "social vs traditional",
        ),
        ("twitter", "phone", ["twitter"], ["phone"], "twitter vs phone"),
        (
            "Twitter, WhatsApp",
            "digital",
            ["twitter", "whatsapp"],
            ["web"],
            "twitter+whatsapp vs digital",
        ),
        (
            "web",
            "rest",
            ["web"],
            ["twitter", "whatsapp", "phone", "letter", "walk_in", "other"],
            "web vs rest",
        ),
        (
            "twitter",
            "not_social",
            ["twitter"],
            ["web", "phone", "letter", "walk_in", "other"],
            "twitter vs not_social",
        ),
    ],
)
def test_contrast_arms_by_hand(treatment, control, treated, controls, descriptor):
    contrast = Contrast(treatment, control)
    assert contrast.descriptor == descriptor
    rows = comparison_cases(CASES, contrast)
    arm = treatment_indicator(rows).astype(bool)
    assert rows.loc[arm, "channel"].tolist() == treated
    assert rows.loc[~arm, "channel"].tolist() == controls
    assert Contrast.from_descriptor(descriptor) == contrast


@pytest.mark.parametrize(
    ("treatment", "control", "message"),
    [
        ("social", "twitter", "share the channels"),
        ("tiktok", "not_social", "treatment must name"),
        ("social", "everyone", "control must name"),
        ("social", "rest,phone", "cannot be combined"),
    ],
)
def test_contrast_refuses_what_cannot_be_compared(treatment, control, message):
    with pytest.raises(SekatError, match=message):
        Contrast(treatment, control)


@pytest.fixture(scope="module")
def cases():
    return case_table(simulate(2500, seed=31).events)


def test_headline_rows_carry_the_contrast_run_its_arms_and_only_a_planted_truth(cases):
    sim_truth = simulate(2500, seed=31).truth
    default = headline_analysis(cases, seed=2, n_boot=5)
    other = headline_analysis(cases, seed=2, n_boot=5, treatment="social", control="traditional")

    # every row of the contrast carries it; the per-channel rows (each channel against the
    # reference channel, whatever contrast is run) carry their own
    def run(result):
        return result.table.loc[result.table["group"] != schema.CHANNEL, "contrast"].dropna()

    assert set(run(default)) == {schema.SOCIAL_CONTRAST}
    assert set(run(other)) == {"social vs traditional"}
    per_channel = default.rows(group=schema.CHANNEL, outcome="resolution_hazard")
    assert set(per_channel["contrast"]) == {f"{c} vs phone" for c in per_channel["group_value"]}
    arms = other.rows(group="arm")
    assert set(arms["group_value"]) == {"social", "traditional"}
    att = other.row(estimand="att", outcome="hops", method_key="aipw", group=None)
    assert truth_key(att) is None  # the generator planted social vs each request's own channel
    assert truth_key(
        default.row(estimand="att", outcome="hops", method_key="aipw", group=None)
    ) == ("att_hops", "overall")
    # traditional requests only: fewer requests in the comparison than in the default one
    assert (
        att["n"] < default.row(estimand="att", outcome="hops", method_key="aipw", group=None)["n"]
    )
    assert not sim_truth.empty


def test_check_parameters_normalises_and_refuses():
    assert check_parameters(lang=" ID ")["lang"] == "id"
    assert check_parameters(treatment="twitter", control="phone")["contrast"].descriptor == (
        "twitter vs phone"
    )
    for values, message in (
        ({"lang": "fr"}, "lang"),
        ({"seed": -1}, "seed"),
        ({"seed": 1.5}, "seed"),
        ({"min_cell": 5}, "at least 10"),
        ({"treatment": "digital", "control": "web"}, "share the channels"),
        ({"share": 1.2}, "share"),
        ({"n_boot": 1}, "n_boot"),
        ({"tau_days": "30"}, "tau_days"),
        ({"currency": ""}, "currency"),
    ):
        with pytest.raises(SekatError, match=message):
            check_parameters(**values)


def test_a_namespace_with_an_injected_unknown_parameter_is_refused():
    history = [
        "",
        "# Parameters (papermill: -p NAME VALUE)\nlang = 'en'\nmin_cell = 10\n",
        "# Parameters\nmin_cells = 5\n",
    ]
    assert passed_parameters(history) == (["lang", "min_cell"], ["min_cells"])
    namespace = {"In": history, "lang": "EN", "min_cell": 10, "min_cells": 5}
    with pytest.raises(
        SekatError, match="unknown parameter min_cells \\(did you mean min_cell\\?\\)"
    ):
        check_parameters(namespace)
    ok = {"In": history[:2], "lang": "EN", "min_cell": 10}
    check_parameters(ok)
    assert ok["lang"] == "en"  # written back for the rest of the notebook


def _notebook(folder: Path) -> Path:
    params = nbformat.v4.new_code_cell(
        "# Parameters (papermill: -p NAME VALUE)\nlang = 'en'\nmin_cell = 10\n"
    )
    params.metadata["tags"] = ["parameters"]
    check = nbformat.v4.new_code_cell(
        "from toolkit.report import display as show\nshow.check_parameters(globals())\n"
        "open('ran.txt', 'w').write(lang)"
    )
    path = folder / "01_tiny.ipynb"
    notebook = nbformat.v4.new_notebook(cells=[params, check])
    notebook.metadata["kernelspec"] = {
        "name": "python3",
        "language": "python",
        "display_name": "Python 3",
    }
    notebook.metadata["language_info"] = {"name": "python"}
    nbformat.write(notebook, path)
    return path


def _reproduce(folder, name, value):
    """`python -m toolkit.reproduce` on the notebooks of FOLDER with one parameter."""
    command = [sys.executable, "-m", "toolkit.reproduce", "--notebooks", str(folder)]
    command += ["--out", str(folder / "out"), "-p", name, value]
    return subprocess.run(command, capture_output=True, text=True, check=False)


def test_reproduce_refuses_unknown_parameters_before_any_work_in_one_line(tmp_path):
    notebook = _notebook(tmp_path)
    with pytest.raises(SekatError, match="unknown parameter min_cells"):
        check_given([notebook], {"min_cells": 5})
    done = _reproduce(tmp_path, "min_cells", "5")
    assert done.returncode == 2
    assert done.stderr.strip().splitlines() == [
        "sekat: error: unknown parameter min_cells (did you mean min_cell?); "
        "the notebooks take: lang, min_cell"
    ]
    assert not (tmp_path / "out").exists() and not (tmp_path / "ran.txt").exists()


@pytest.mark.slow
def test_a_notebook_run_by_papermill_stops_on_a_bad_parameter_with_one_line(tmp_path):
    notebook = _notebook(tmp_path)
    done = _reproduce(tmp_path, "lang", "ID")
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "ran.txt").read_text() == "id"  # lang is case-insensitive
    import papermill

    with pytest.raises(papermill.PapermillExecutionError) as caught:
        papermill.execute_notebook(
            str(notebook),
            str(tmp_path / "out.ipynb"),
            parameters={"min_cells": 5},
            cwd=str(tmp_path),
            progress_bar=False,
            kernel_name="python3",
        )
    message = str(caught.value)
    assert "sekat: error: unknown parameter min_cells (did you mean min_cell?)" in message
    assert "Traceback" not in message and len(message.strip().splitlines()) < 8
    assert json.loads((tmp_path / "out.ipynb").read_text())  # the executed copy is kept
