"""The headline analysis on a generated log, compared with the planted truth; sekat estimate."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from toolkit import schema
from toolkit.analysis import analyse, run_estimate
from toolkit.errors import SekatError
from toolkit.estimate.headline import (
    TRUTH_COLUMNS,
    HeadlineSettings,
    compare_to_truth,
    headline_analysis,
    truth_key,
    truth_rows,
)
from toolkit.io.prepared import load_prepared
from toolkit.io.writers import write_table
from toolkit.paths import case_table
from toolkit.pipeline import prepare
from toolkit.results import check_result, result_frame, select
from toolkit.synthetic import simulate


@pytest.fixture(scope="module")
def generated():
    sim = simulate(12_000, seed=4)
    cases = case_table(sim.events)
    result = headline_analysis(cases, seed=1, rollout=sim.rollout, n_boot=60)
    return sim, cases, result


def test_headline_is_one_tidy_table_with_every_part(generated):
    _, _, result = generated
    check_result(result.table)
    assert result.skipped == {}
    wanted = [
        dict(estimand="difference", outcome="hops", method_key="naive"),
        dict(estimand="att", outcome="hops", method_key="aipw", group=None),
        dict(estimand="ato", outcome="hops", method_key="aipw", group=None),
        dict(estimand="conditional", outcome="hops", method_key="poisson_fe"),
        dict(estimand="difference", outcome="rmst_days", method_key="naive", scale="difference"),
        dict(estimand="att", outcome="rmst_days", method_key="ipw_km", scale="difference"),
        dict(estimand="median", outcome="days_to_resolution", group_value="social"),
        dict(estimand="conditional", outcome="resolution_hazard", method_key="cox", group=None),
        # what a 311 desk measures, per intake channel
        dict(estimand="mean", outcome="hops", group="channel", group_value="whatsapp"),
        dict(estimand="median", outcome="days_to_resolution", group_value="twitter"),
        dict(estimand="median", outcome="working_days_to_resolution", group_value="twitter"),
        dict(outcome="resolution_hazard", group="channel", contrast="twitter vs phone"),
        dict(outcome="on_time", group="channel", group_value="letter"),
        dict(
            contrast=schema.DESK_CONTRAST,
            outcome="hops",
            method_key="callaway_santanna",
            estimand="att",
            group=None,
            event_time=None,
        ),
        dict(contrast=schema.DESK_CONTRAST, outcome="hops", method_key="twfe", event_time=None),
    ]
    for criteria in wanted:
        assert len(result.rows(**criteria)) == 1, criteria
    # an ATE is a headline row, or held back with a warning when its weights fail the overlap
    # rule: never both, never neither
    held_back = result.diagnostics.get("ate_not_headline", result_frame([]))
    for criteria in (
        dict(estimand="ate", outcome="hops", method_key="aipw"),
        dict(estimand="ate", outcome="rmst_days", method_key="ipw_km", scale="difference"),
    ):
        shown, kept = result.rows(**criteria), select(held_back, **criteria)
        assert len(shown) + len(kept) == 1, criteria
        if len(kept):
            assert result.warnings[kept["term"].iloc[0]] == "poor_overlap"
    # one row per topic and per district, all with simultaneous (Bonferroni) intervals
    for group in (schema.CATEGORY, schema.REGION):
        rows = result.rows(group=group)
        assert len(rows) >= 6 and rows["method"].str.contains("bonferroni").all()
    assert {"overlap", "propensity_histogram", "km_curves", "ph_test", "rmst_bootstrap"} <= set(
        result.diagnostics
    )


def test_adjusted_estimates_cover_truth_and_naive_ones_are_biased(generated):
    sim, _, result = generated
    compared = compare_to_truth(result.table, sim.truth)
    assert set(TRUTH_COLUMNS) <= set(compared.columns)
    truth = sim.truth.set_index(["estimand", "group"])["value"]
    for criteria in (
        dict(estimand="att", outcome="hops", method_key="aipw", group=None),
        dict(
            estimand="att",
            outcome="rmst_days",
            scale="difference",
            group=None,
            contrast=schema.SOCIAL_CONTRAST,
        ),
    ):
        row = select(compared, **criteria).iloc[0]
        assert bool(row["covered"]), (criteria, row["estimate"], row["truth"])
    # planted confounding (urban, recent, easy requests use social media and are quicker
    # anyway) makes the naive comparisons overstate the benefit: more negative than truth
    naive_hops = result.row(estimand="difference", outcome="hops")
    assert naive_hops["ci_high"] < truth["ate_hops", "overall"]
    assert naive_hops["ci_high"] < truth["att_hops", "overall"]
    naive_time = result.row(estimand="difference", outcome="rmst_days", scale="difference")
    assert naive_time["ci_high"] < truth["rmst_diff_days", "overall"]
    assert naive_time["ci_high"] < truth["att_rmst_diff_days", "overall"]
    # a naive difference and a conditional ratio estimate nothing the generator plants
    for criteria in (dict(estimand="difference"), dict(estimand="conditional")):
        assert select(compared, **criteria)["covered"].isna().all()


def test_truth_keys_come_from_descriptors_only():
    social = {
        "scale": "difference",
        "contrast": schema.SOCIAL_CONTRAST,
        "group": None,
        "group_value": None,
        "event_time": None,
        "method_key": "aipw",
    }
    assert truth_key({**social, "estimand": "att", "outcome": "rmst_days"}) == (
        "att_rmst_diff_days",
        "overall",
    )
    assert truth_key(
        {
            **social,
            "estimand": "ate",
            "outcome": "hops",
            "group": "category",
            "group_value": "roads",
        }
    ) == ("ate_hops", "category=roads")
    desk = {
        **social,
        "contrast": schema.DESK_CONTRAST,
        "estimand": "att",
        "outcome": "hops",
        "method_key": "callaway_santanna",
    }
    assert truth_key({**desk, "event_time": -2}) == ("es_hops", "e=-2")
    assert truth_key(desk) == ("att_rollout_hops", "overall")
    assert truth_key({**desk, "method_key": "twfe"}) is None
    # a region subgroup has no planted value, and a term never decides anything
    assert (
        truth_key(
            {
                **social,
                "estimand": "att",
                "outcome": "hops",
                "group": "region",
                "group_value": "Coblong",
                "term": "att_hops",
            }
        )
        is None
    )


def test_compare_to_truth_matches_groups_and_draws_truth_rows():
    est = result_frame(
        [
            {
                "term": "anything",
                "estimate": 0.0,
                "ci_low": -1.0,
                "ci_high": 1.0,
                "method": "m",
                "estimand": "att",
                "outcome": "hops",
                "contrast": schema.DESK_CONTRAST,
                "event_time": 1,
                "method_key": "callaway_santanna",
            },
            {
                "term": "named freely",
                "estimate": 5.5,
                "ci_low": 5.0,
                "ci_high": 6.0,
                "method": "m",
                "estimand": "ate",
                "outcome": "hops",
                "scale": "difference",
                "contrast": schema.SOCIAL_CONTRAST,
                "group": "category",
                "group_value": "roads",
            },
            {"term": "ate_hops", "estimate": 0.0, "ci_low": -1.0, "ci_high": 1.0, "method": "m"},
        ]
    )
    truth = pd.DataFrame(
        {
            "estimand": ["es_hops", "ate_hops"],
            "group": ["e=1", "category=roads"],
            "value": [0.5, 0.2],
        }
    )
    out = compare_to_truth(est, truth)
    assert out["truth"].tolist()[:2] == [0.5, 0.2]
    assert out["covered"].tolist()[:2] == [True, False]
    assert pd.isna(out["covered"].iloc[2])  # a term alone names no estimand
    drawn = truth_rows(est, truth)
    assert drawn["estimate"].tolist() == [0.5, 0.2] and set(drawn["method_key"]) == {"truth"}
    assert compare_to_truth(est, None)["truth"].isna().all()
    with pytest.raises(SekatError):
        compare_to_truth(est, truth.drop(columns="value"))


def test_skipped_parts_say_why():
    sim = simulate(1500, seed=2)
    cases = case_table(sim.events)
    no_hops = cases.assign(hops=pd.array([pd.NA] * len(cases), dtype="Int64"))
    result = headline_analysis(no_hops, seed=1, n_boot=5)
    assert result.skipped["hops"] == "hops_unobserved" and result.skipped["rollout"] == "no_rollout"
    assert result.ran("time") and result.rows(outcome="hops").empty
    unresolved = cases.assign(censored=True, resolved=False)
    assert headline_analysis(unresolved, seed=1, n_boot=5).skipped["time"] == "no_resolutions"
    one_arm = cases.loc[~schema.is_social(cases[schema.CHANNEL])]
    assert headline_analysis(one_arm, seed=1, n_boot=5).skipped["hops"] == "one_arm"
    with pytest.raises(SekatError, match="n_boot"):
        HeadlineSettings(n_boot=1)


@pytest.fixture(scope="module")
def prepared(tmp_path_factory):
    folder = tmp_path_factory.mktemp("estimate")
    sim = simulate(3000, seed=6)
    write_table(sim.events, folder / "sim.csv.gz")
    write_table(sim.truth, folder / "sim.truth.csv")
    write_table(sim.rollout, folder / "sim.rollout.csv")
    prepare(folder / "sim.csv.gz", folder / "prepared", demo=True)
    return folder


def test_analyse_is_computed_once_and_read_back(prepared):
    data = load_prepared(prepared / "prepared", rollout_file=prepared / "sim.rollout.csv")
    first = analyse(data, seed=3, n_boot=10)
    cached = list((prepared / "prepared" / "analysis").iterdir())
    assert len(cached) == 1
    second = analyse(data, seed=3, n_boot=10)
    pd.testing.assert_frame_equal(first.table, second.table)
    assert second.skipped == first.skipped
    analyse(data, seed=4, n_boot=10)  # another setting is another analysis
    assert len(list((prepared / "prepared" / "analysis").iterdir())) == 2


def test_run_estimate_writes_csv_with_truth(prepared, tmp_path):
    out = tmp_path / "out" / "estimates.csv"
    table = run_estimate(
        prepared / "prepared",
        out,
        truth=prepared / "sim.truth.csv",
        n_boot=10,
        rollout=prepared / "sim.rollout.csv",
    )
    written = pd.read_csv(out)
    assert list(written.columns) == [*table.columns, "suppressed"]
    assert {"truth", "covered"} <= set(written.columns)
    assert not any(p.suffix == ".tmp" for p in out.parent.iterdir())
    assert oct(out.stat().st_mode & 0o777) == "0o644"
    with pytest.raises(SekatError, match="cases.parquet"):
        run_estimate(tmp_path / "missing", out)


@pytest.mark.slow
def test_a_bootstrap_resample_with_a_separated_level_does_not_stop_the_headline():
    # Seed 1 at 5,000 requests: one weighted-RMST bootstrap resample leaves a propensity level
    # (quasi-)separated, and LAPACK's SVD of its information matrix failed ("SVD did not
    # converge") with one BLAS thread, as make sets; the coverage study lost 3 of 40 runs so.
    sim = simulate(5_000, seed=1)
    result = headline_analysis(case_table(sim.events), seed=1, rollout=sim.rollout, n_boot=200)
    att = result.row(
        estimand="att",
        outcome="rmst_days",
        scale="difference",
        group=None,
        contrast=schema.SOCIAL_CONTRAST,
    )
    assert np.isfinite([att["estimate"], att["ci_low"], att["ci_high"]]).all()
