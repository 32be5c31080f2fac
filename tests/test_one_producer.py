"""One producer per estimand: `sekat estimate` and the notebooks' tables give the same numbers.

The CLI and the notebooks 03, 04 and 06 all read :func:`toolkit.analysis.analyse`; this test
runs them as a user would, on copies of one prepared folder (so that no cached analysis is
shared), with and without a rollout file, and compares every estimate the two publish.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pandas as pd
import pytest

from toolkit import schema
from toolkit.cli import main
from toolkit.io.writers import write_table
from toolkit.synthetic import simulate

NOTEBOOKS = Path(__file__).resolve().parents[1] / "notebooks"
#: The tables each notebook exports, and the descriptors that identify a row in them.
EXPORTS = {
    "03_hops.ipynb": ["03_hop_effects.csv"],
    "04_resolution_time.ipynb": ["04_days_saved.csv"],
    "06_uneven_reform_and_impact.ipynb": [
        "06_effects_by_category.csv",
        "06_effects_by_region.csv",
    ],
}
KEY = ["estimand", "outcome", "scale", "contrast", "group", "group_value", "method_key"]
SETTINGS = {"seed": 7, "n_boot": 20, "tau_days": 30.0}


@pytest.fixture(scope="module")
def log(tmp_path_factory):
    folder = tmp_path_factory.mktemp("one_producer")
    sim = simulate(4000, seed=8)
    write_table(sim.events, folder / "city.csv.gz")
    write_table(sim.rollout, folder / "city.rollout.csv")
    assert (
        main(
            [
                "prepare",
                str(folder / "city.csv.gz"),
                "--out",
                str(folder / "prepared"),
                "--demo-key",
            ]
        )
        == 0
    )
    return folder


def _notebook_tables(log: Path, prepared: Path, rollout: str) -> pd.DataFrame:
    import papermill

    figures = prepared.parent / f"figures-{prepared.name}"
    for name in EXPORTS:
        papermill.execute_notebook(
            str(NOTEBOOKS / name),
            str(prepared.parent / f"{prepared.name}-{name}"),
            parameters={
                "data_dir": str(prepared),
                "output_dir": str(figures),
                "rollout_file": rollout,
                "truth_file": "",
                **SETTINGS,
            },
            cwd=str(NOTEBOOKS),
            progress_bar=False,
            kernel_name="python3",
        )
    return pd.concat(
        [pd.read_csv(figures / table) for tables in EXPORTS.values() for table in tables],
        ignore_index=True,
    )


@pytest.mark.slow
@pytest.mark.parametrize("with_rollout", [True, False], ids=["rollout", "no-rollout"])
def test_cli_and_notebooks_publish_the_same_estimates(log, with_rollout, tmp_path):
    pytest.importorskip("papermill")
    for copy in ("cli", "notebooks"):
        shutil.copytree(log / "prepared", tmp_path / copy)
    rollout = str(log / "city.rollout.csv") if with_rollout else ""
    argv = [
        "estimate",
        str(tmp_path / "cli"),
        "--out",
        str(tmp_path / "cli.csv"),
        "--seed",
        str(SETTINGS["seed"]),
        "--n-boot",
        str(SETTINGS["n_boot"]),
    ]
    # prepare carried city.rollout.csv (it sits beside the log): without one, say so
    assert main([*argv, *(["--rollout", rollout] if rollout else ["--no-rollout"])]) == 0
    cli = pd.read_csv(tmp_path / "cli.csv")
    notebooks = _notebook_tables(log, tmp_path / "notebooks", rollout)
    assert len(notebooks) >= 10
    merged = notebooks.merge(cli, on=KEY, how="left", suffixes=("_nb", "_cli"), indicator=True)
    assert (merged["_merge"] == "both").all(), merged.loc[merged["_merge"] != "both", KEY]
    for column in ("estimate", "std_error", "ci_low", "ci_high", "n"):
        pd.testing.assert_series_equal(
            merged[f"{column}_nb"], merged[f"{column}_cli"], check_names=False, rtol=1e-9
        )
    # the propensity models follow the desk status exactly when the rollout is given
    aipw = cli.loc[(cli["method_key"] == "aipw") & cli["group"].isna()]
    assert aipw["method"].str.contains("desk_age").all() == with_rollout
    assert (cli["contrast"] == schema.DESK_CONTRAST).any() == with_rollout
