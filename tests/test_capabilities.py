"""The headline runs exactly what a log supports, and says why it skipped the rest."""

from __future__ import annotations

import pandas as pd
import pytest

from toolkit.estimate.headline import headline_analysis, hops_skip_reason
from toolkit.paths import case_table
from toolkit.report.display import publish
from toolkit.report.export import export_table
from toolkit.report.words import LANGS, skip_text
from toolkit.synthetic import simulate


@pytest.fixture(scope="module")
def cases():
    return case_table(simulate(2500, seed=31).events)


def test_a_log_of_final_agencies_only_gets_time_only(cases):
    flat = cases.assign(hops=0, distinct_agencies=1, returns=0)
    result = headline_analysis(flat, n_boot=10)
    for part in ("hops", "by_category", "by_region"):
        assert result.skipped[part] == "no_handoffs"
    assert result.ran("time") and result.ran("by_channel")
    assert result.rows(outcome="hops").empty  # not even per-channel means of a constant
    assert not result.rows(outcome="rmst_days").empty


def test_the_prepared_folder_can_say_hops_are_unobserved(cases):
    result = headline_analysis(cases, n_boot=10, hops_observed=False)
    assert result.skipped["hops"] == "hops_unobserved"
    assert result.rows(outcome="hops").empty


def test_a_log_without_social_intake_still_gets_its_channels(cases):
    no_social = cases.loc[cases["channel_group"] != "social"]
    result = headline_analysis(no_social, n_boot=10)
    assert result.skipped["hops"] == "one_arm" and result.skipped["time"] == "one_arm"
    assert result.ran("by_channel")
    means = result.rows(estimand="mean", outcome="hops", group="channel")
    assert set(means["group_value"]) == set(no_social["channel"].astype(str))


def test_nothing_resolved_and_no_hops_leaves_nothing(cases):
    stuck = cases.assign(hops=pd.NA, censored=True, resolved=False)
    result = headline_analysis(stuck, n_boot=10)
    assert result.table.empty
    assert result.skipped["time"] == "no_resolutions"
    assert result.skipped["by_channel"] == "no_resolutions"


def test_hops_skip_reason_needs_every_request_flat():
    one_handed_on = pd.DataFrame({"hops": [0, 0, 1], "distinct_agencies": [1, 1, 2]})
    assert hops_skip_reason(one_handed_on) is None


@pytest.mark.parametrize("reason", ["hops_unobserved", "no_handoffs", "one_arm"])
def test_every_skip_reason_is_one_sentence_in_both_languages(reason):
    for lang in LANGS:
        sentence = skip_text(reason, lang)
        assert sentence.endswith(".") and sentence.count(". ") == 0


def test_an_empty_table_is_not_written_and_an_old_copy_goes(tmp_path):
    path = tmp_path / "03_hop_effects.csv"
    path.write_text("stale\n")
    assert export_table(pd.DataFrame({"term": [], "n": []}), path) is None
    assert not path.exists()


def test_a_figure_of_values_the_log_does_not_hold_is_not_published(tmp_path, capsys):
    from toolkit.report.figures import hops_by_channel_plot

    table = pd.DataFrame({"channel": ["phone", "web"], "hops": [float("nan")] * 2, "n": [50, 40]})
    old = tmp_path / "02_hops_by_channel_en.png"
    old.write_bytes(b"from an earlier run")
    done = publish(
        lambda lang: hops_by_channel_plot(table, by="channel", lang=lang),
        "02_hops_by_channel",
        output_dir=tmp_path,
        rows=table,
        describe={"label_col": "channel", "value_col": "hops"},
    )
    assert done == {}
    assert not old.exists()
    assert "Nothing to show" in capsys.readouterr().out


def test_the_brief_states_the_caveats_of_what_ran(cases):
    from toolkit.report.brief import BriefContext, limitations

    no_social = cases.loc[cases["channel_group"] != "social"]
    described = headline_analysis(no_social, n_boot=10)
    compared = headline_analysis(cases, n_boot=10)
    for lang in LANGS:
        only = limitations(
            BriefContext(described.table, lang, skipped=described.skipped), {}, False
        )
        full = limitations(BriefContext(compared.table, lang, skipped=compared.skipped), {}, False)
        # no "the comparisons hold topic ... equal" on a log where no comparison ran
        assert [f.key for f in only][:1] == ["descriptive_only"]
        assert {"self_selection", "confounding"} <= {f.key for f in full}
        assert "descriptive_only" not in {f.key for f in full}
