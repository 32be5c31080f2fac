"""Figure functions: a Figure back, labels in both languages, small groups neither drawn nor named."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import networkx as nx  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402
from matplotlib.text import Text  # noqa: E402

from toolkit import schema  # noqa: E402
from toolkit.errors import MissingColumnError, SekatError  # noqa: E402
from toolkit.report.figures import (  # noqa: E402
    CHANNEL_GROUP_COLOURS,
    OKABE_ITO,
    event_study_plot,
    event_study_table,
    figure_suppression,
    forest_plot,
    hops_by_channel_plot,
    hops_summary,
    impact_plot,
    network_plot,
    overlap_plot,
    survival_plot,
    validation_counts,
    validation_plot,
)
from toolkit.report.words import LABELS  # noqa: E402
from toolkit.results import result_frame  # noqa: E402


def texts(fig: Figure) -> list[str]:
    """Every piece of text drawn on a figure (titles, ticks, legends, annotations)."""
    fig.canvas.draw()  # creates the tick labels
    return [t.get_text() for t in fig.findobj(Text) if t.get_visible() and t.get_text()]


def joined(fig: Figure) -> str:
    return " | ".join(texts(fig))


# --- inputs ------------------------------------------------------------------------------


def results_table():
    return pd.DataFrame(
        {
            "term": ["social", "social", "whatsapp", "letter"],
            "estimate": [-0.6, -0.3, -0.4, 0.1],
            "std_error": [0.05, 0.08, 0.1, 0.2],
            "ci_low": [-0.7, -0.46, -0.6, -0.3],
            "ci_high": [-0.5, -0.14, -0.2, 0.5],
            "n": [5000, 5000, 800, 6],
            "method": ["naive", "aipw", "aipw", "aipw"],
        }
    )


def km_curves():
    rows = []
    for group, rate, n in [("social", 0.2, 300), ("traditional", 0.1, 400), ("other", 0.1, 7)]:
        t = np.arange(0, 41, dtype=float)
        s = np.exp(-rate * t)
        rows.append(
            pd.DataFrame(
                {
                    "time": t,
                    "survival": s,
                    "ci_low": s * 0.9,
                    "ci_high": np.minimum(1, s * 1.1),
                    "group": group,
                    "at_risk": np.floor(n * s),
                }
            )
        )
    return pd.concat(rows, ignore_index=True)


def event_study_input():
    et = np.arange(-3, 4)
    robust = pd.DataFrame(
        {"event_time": et, "estimate": np.where(et < 0, 0.0, -0.5), "method": "event_study"}
    )
    naive = pd.DataFrame(
        {"event_time": et, "estimate": np.where(et < 0, 0.05, -0.2), "method": "twfe"}
    )
    table = pd.concat([robust, naive], ignore_index=True)
    table["ci_low"] = table["estimate"] - 0.1
    table["ci_high"] = table["estimate"] + 0.1
    table["n"] = 200
    table.loc[(table["event_time"] == 3) & (table["method"] == "event_study"), "n"] = 4
    return table


def flows_table():
    return pd.DataFrame(
        {
            schema.FROM_AGENCY: ["Intake", "Intake", "Roads", "Water", "Archive"],
            schema.TO_AGENCY: ["Roads", "Water", "Intake", "Intake", "Roads"],
            schema.COUNT: [310, 120, 45, 60, 3],
        }
    )


# --- every figure ------------------------------------------------------------------------


FIGURES = {
    "forest": (forest_plot, results_table),
    "survival": (survival_plot, km_curves),
    "hops": (
        hops_by_channel_plot,
        lambda: pd.DataFrame(
            {
                "channel_group": ["social", "digital", "traditional", "other"],
                "hops": [1.1, 1.6, 2.4, 3.0],
                "n": [300, 250, 400, 7],
            }
        ),
    ),
    "event_study": (event_study_plot, event_study_input),
    "network": (network_plot, flows_table),
    "impact": (
        impact_plot,
        lambda: pd.DataFrame(
            {
                "term": ["walk-in to social", "tiny pilot"],
                "estimate": [1200.0, 40.0],
                "ci_low": [800.0, -10.0],
                "ci_high": [1600.0, 90.0],
                "n": [900, 5],
            }
        ),
    ),
    "validation": (
        validation_plot,
        lambda: {"rows_kept": 980, "reasons": {"missing_timestamp": 20, "duplicate_event": 3}},
    ),
    "overlap": (
        overlap_plot,
        lambda: pd.DataFrame(
            {
                "bin_low": [0.0, 0.5],
                "bin_high": [0.5, 1.0],
                "social": [40, 3],
                "not social": [90, 20],
            }
        ),
    ),
}
# What each input holds that must not be drawn or named (a group under 10 requests).
SMALL = {
    "forest": ("Letter", "Surat"),
    "survival": ("Other", "Lainnya"),
    "hops": ("Other", "Lainnya"),
    "event_study": None,
    "network": ("Archive", "Archive"),
    "impact": ("tiny pilot", "tiny pilot"),
    "validation": ("Duplicate event", "Kejadian ganda"),
    "overlap": None,
}
TITLES = {
    "forest": "title_forest",
    "survival": "title_km",
    "hops": "title_hops",
    "event_study": "title_event_study",
    "network": "title_network",
    "impact": "title_impact",
    "validation": "title_validation",
    "overlap": "title_overlap",
}


@pytest.mark.parametrize("lang", ["en", "id"])
@pytest.mark.parametrize("kind", sorted(FIGURES))
def test_figure_has_title_in_language_and_leaves_out_small_groups(kind, lang):
    plot, make = FIGURES[kind]
    fig = plot(make(), lang=lang)
    assert isinstance(fig, Figure)
    drawn = joined(fig)
    every = texts(fig)
    assert LABELS[TITLES[kind]][lang] in drawn
    other_lang = "id" if lang == "en" else "en"
    assert LABELS[TITLES[kind]][other_lang] not in drawn
    assert not figure_suppression(fig).empty
    if SMALL[kind] is not None:
        small = SMALL[kind][0 if lang == "en" else 1]
        # Not as a tick, a node, nor a legend entry "Other (n = 7)".
        assert not [t for t in every if t == small or t.startswith(small + " (")]


def test_title_can_be_replaced_or_left_out():
    assert "My title" in joined(forest_plot(results_table(), title="My title"))
    fig = forest_plot(results_table(), title="")
    assert LABELS["title_forest"]["en"] not in joined(fig)


def test_unknown_language_is_refused():
    with pytest.raises(SekatError, match="language"):
        forest_plot(results_table(), lang="fr")


def test_missing_column_is_named():
    with pytest.raises(MissingColumnError, match="ci_low"):
        forest_plot(results_table().drop(columns="ci_low"))


# --- one figure at a time ----------------------------------------------------------------


def test_forest_plot_draws_each_term_once_and_each_method_in_the_legend():
    fig = forest_plot(results_table(), lang="id")
    ax = fig.axes[0]
    assert [t.get_text() for t in ax.get_yticklabels()] == ["Media sosial", "WhatsApp"]
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    assert legend == [LABELS["naive"]["id"], LABELS["aipw"]["id"]]
    # Indonesian decimals and interval separator: "−0,60 [−0,70; −0,50]".
    assert "−0,60 [−0,70; −0,50]" in joined(fig)
    assert figure_suppression(fig).to_dict("records") == [
        {"term": "letter", "method": "aipw", "suppression": "primary"}
    ]


def test_forest_plot_without_n_or_method_draws_every_row():
    table = results_table().drop(columns=["n", "method"]).iloc[:1]
    fig = forest_plot(table)
    assert [t.get_text() for t in fig.axes[0].get_yticklabels()] == ["Social media"]
    assert figure_suppression(fig).empty


def test_survival_plot_legend_names_group_sizes_and_cuts_the_small_tail():
    fig = survival_plot(km_curves(), lang="en")
    ax = fig.axes[0]
    assert [t.get_text() for t in ax.get_legend().get_texts()] == [
        "Social media (n = 300)",
        "Traditional (n = 400)",
    ]
    assert ax.get_ylabel() == LABELS["share_open"]["en"]
    # with the number at risk, the time axis is labelled under the table of counts
    assert fig.axes[-1].get_xlabel() == LABELS["time_days"]["en"]
    social = ax.get_lines()[0]
    # 300 * exp(-0.2 t) >= 10 up to t = 17; the curve stops there.
    assert social.get_xdata().max() == 17
    assert social.get_color().lower() == CHANNEL_GROUP_COLOURS["social"].lower()


def test_survival_plot_needs_group_sizes_for_disclosure_control():
    with pytest.raises(MissingColumnError, match="at_risk"):
        survival_plot(km_curves().drop(columns="at_risk"))


def test_hops_summary_by_hand():
    cases = pd.DataFrame(
        {
            schema.CHANNEL_GROUP: ["social", "social", "traditional", "traditional"],
            schema.HOPS: [1, 3, 2, np.nan],
        }
    )
    summary = hops_summary(cases)
    social = summary.set_index(schema.CHANNEL_GROUP).loc["social"]
    # mean 2, sd sqrt(2), se 1: 2 ± 1.96
    assert social["hops"] == 2
    assert social["n"] == 2
    assert social["ci_low"] == pytest.approx(0.04, abs=1e-3)
    assert summary.set_index(schema.CHANNEL_GROUP).loc["traditional", "n"] == 1


def test_hops_plot_orders_channel_groups_and_labels_n():
    table = pd.DataFrame(
        {"channel_group": ["traditional", "social"], "hops": [2.4, 1.1], "n": [1234, 300]}
    )
    fig = hops_by_channel_plot(table, lang="id")
    ax = fig.axes[0]
    assert [t.get_text() for t in ax.get_yticklabels()] == ["Media sosial", "Tradisional"]
    assert "2,40  (n = 1.234)" in joined(fig)
    assert ax.get_xlabel() == LABELS["mean_hops"]["id"]


def test_event_study_shows_robust_and_naive_and_drops_small_periods():
    fig = event_study_plot(event_study_input())
    ax = fig.axes[0]
    assert [t.get_text() for t in ax.get_legend().get_texts()] == [
        LABELS["event_study"]["en"],
        LABELS["twfe"]["en"],
    ]
    robust, naive = ax.get_lines()[:2]
    assert list(robust.get_xdata()) == pytest.approx([-3.06, -2.06, -1.06, -0.06, 0.94, 1.94])
    assert len(naive.get_xdata()) == 7
    assert naive.get_color().lower() == OKABE_ITO["vermillion"].lower()
    assert figure_suppression(fig).to_dict("records") == [
        {"event_time": 3, "method": "event_study", "suppression": "primary"}
    ]


def test_network_plot_accepts_a_graph_and_does_not_draw_the_rare_pair():
    graph = nx.DiGraph()
    for u, v, w in flows_table().itertuples(index=False):
        graph.add_edge(u, v, weight=w)
    fig = network_plot(graph, lang="id")
    ax = fig.axes[0]
    assert agencies(fig) == ["Intake", "Roads", "Water"]
    assert len(ax.patches) == 4  # one arrow per published pair
    assert figure_suppression(fig).to_dict("records") == [
        {"from_agency": "Archive", "to_agency": "Roads", "suppression": "primary"}
    ]
    # every arrow is labelled with its count
    assert sorted(t.get_text() for t in ax.texts if t.get_gid() == "flow") == [
        "120",
        "310",
        "45",
        "60",
    ]


def agencies(fig):
    return sorted(t.get_text() for t in fig.axes[0].texts if t.get_gid() == "agency")


def test_process_map_is_layered_left_to_right_with_start_end_and_median_hours():
    flows = flows_table().assign(median_hours=[5.0, 8.25, 2.0, 3.0, 1.0])
    starts = pd.DataFrame({"agency": ["Intake", "Roads"], "count": [500, 4]})
    ends = pd.DataFrame({"agency": ["Roads", "Water"], "count": [280, 90]})
    fig = network_plot(flows, starts=starts, ends=ends, lang="id")
    ax = fig.axes[0]
    where = {t.get_text(): t.get_position()[0] for t in ax.texts if t.get_gid() != "flow"}
    assert where["Diajukan"] < where["Intake"] < where["Roads"] < where["Selesai"]
    assert where["Roads"] == where["Water"]  # both one hand-off from the intake
    labels = {t.get_text() for t in ax.texts if t.get_gid() == "flow"}
    assert "310 · 5,0 jam" in labels and "500" in labels and "4" not in labels
    assert fig.sekat_left_out.startswith("Semua aliran")


def test_the_largest_flows_are_always_kept_and_what_is_left_out_is_named():
    flows = pd.DataFrame(
        {"from_agency": ["A", "C", "A"], "to_agency": ["B", "D", "C"], "count": [50, 900, 40]}
    )
    fig = network_plot(flows, max_agencies=2)
    assert agencies(fig) == ["C", "D"]  # the largest flow, though its agencies are not busiest
    assert fig.sekat_left_out == (
        "The 1 largest flows are drawn; 2 smaller ones (9% of the hand-offs) are left out."
    )


def test_network_plot_keeps_only_the_busiest_agencies():
    fig = network_plot(flows_table(), max_agencies=2)
    assert agencies(fig) == ["Intake", "Roads"]


def test_impact_plot_axis_names_measure_and_unit():
    table = FIGURES["impact"][1]()
    fig = impact_plot(table, measure="cost_saved", unit="IDR million")
    assert fig.axes[0].get_xlabel() == "Cost saved (IDR million)"
    assert [t.get_text() for t in fig.axes[0].get_yticklabels()] == ["walk-in to social"]


def test_validation_counts_and_plot():
    report = {"rows_kept": 980, "reasons": {"missing_timestamp": 20, "unknown_channel": 0}}
    counts = validation_counts(report)
    assert counts.to_dict("records") == [
        {"reason": "kept", "count": 980},
        {"reason": "missing_timestamp", "count": 20},
        {"reason": "unknown_channel", "count": 0},
    ]
    fig = validation_plot(counts, lang="id")
    drawn = joined(fig)
    assert "Dipertahankan: 98,0% (980)" in drawn
    assert "Dikarantina: 2,0% (20)" in drawn
    # A reason with no rows is not a bar.
    assert [t.get_text() for t in fig.axes[1].get_yticklabels()] == ["Waktu kosong"]


def test_every_quarantine_reason_has_a_label_in_both_languages():
    validation = pytest.importorskip("toolkit.clean.validation")
    missing = [code for code in validation.REASONS if code not in LABELS]
    assert missing == []


def test_event_study_table_reads_rollout_terms_and_static_twfe_is_a_level():
    rows = [
        (-1, 0.0, "callaway_santanna", "hops"),
        (0, -0.5, "callaway_santanna", "hops"),
        (1, -0.6, "callaway_santanna", "hops"),
        (None, -0.2, "twfe", "hops"),
        (None, -0.55, "callaway_santanna", "hops"),  # the summary: not drawn per event time
        (0, 3.0, "callaway_santanna", "rmst_days"),
    ]
    results = result_frame(
        {
            "term": f"whatever {i}",
            "estimate": est,
            "ci_low": est - 0.15,
            "ci_high": est + 0.15,
            "n": 144 if key == "twfe" else 6,  # regions, not requests
            "method": key,
            "estimand": "att",
            "outcome": outcome,
            "event_time": e,
            "method_key": key,
        }
        for i, (e, est, key, outcome) in enumerate(rows)
    )
    table = event_study_table(results, "hops")
    assert table["event_time"].tolist()[:3] == [-1.0, 0.0, 1.0]
    assert np.isnan(table["event_time"].iloc[3])
    assert table["method"].tolist() == ["event_study"] * 3 + ["twfe"]
    # n counts regions here: with n_col=None nothing is dropped for being "small".
    fig = event_study_plot(table, n_col=None)
    assert figure_suppression(fig).empty
    legend = [t.get_text() for t in fig.axes[0].get_legend().get_texts()]
    assert legend == [LABELS["event_study"]["en"], f"{LABELS['twfe']['en']}: −0.20"]
    # Counted as requests, the 6s would all be withheld.
    assert len(figure_suppression(event_study_plot(table))) == 3


def test_network_plot_draws_only_the_largest_flows():
    fig = network_plot(flows_table(), max_edges=2)
    ax = fig.axes[0]
    assert len(ax.patches) == 2  # Intake→Roads (310) and Intake→Water (120)
    assert agencies(fig) == ["Intake", "Roads", "Water"]


def test_channels_take_the_colour_of_their_group():
    table = pd.DataFrame({"channel": ["whatsapp", "letter"], "hops": [1.0, 3.0], "n": [50, 60]})
    bars = hops_by_channel_plot(table, by="channel").axes[0].patches
    assert (
        matplotlib.colors.to_hex(bars[0].get_facecolor()) == CHANNEL_GROUP_COLOURS["social"].lower()
    )
    assert (
        matplotlib.colors.to_hex(bars[1].get_facecolor())
        == CHANNEL_GROUP_COLOURS["traditional"].lower()
    )


def test_survival_axis_stops_where_the_slowest_curve_is_nearly_done():
    fig = survival_plot(km_curves())
    # traditional: exp(-0.1 t) <= 0.05 from t = 30; the axis ends 10% later.
    assert fig.axes[0].get_xlim() == pytest.approx((0, 33))
    assert survival_plot(km_curves(), max_time=12).axes[0].get_xlim() == pytest.approx((0, 12))


def test_validation_plot_says_when_nothing_was_quarantined():
    fig = validation_plot({"rows_kept": 500, "reasons": {"missing_timestamp": 0}}, lang="id")
    assert LABELS["none_quarantined"]["id"] in texts(fig)


def test_impact_panels_give_each_row_its_own_scale_and_compact_numbers():
    rows = pd.DataFrame(
        {
            "term": ["handoffs_saved", "total_value"],
            "estimate": [900.0, 88_184_622.0],
            "ci_low": [600.0, 48_840_912.0],
            "ci_high": [1200.0, 123_807_439.0],
        }
    )
    fig = impact_plot(rows, panels=True, lang="id", unit={"total_value": "IDR/tahun"})
    assert len(fig.axes) == 2
    assert fig.axes[1].get_xlim()[1] > 1e8 > fig.axes[0].get_xlim()[1]
    # The unit on a line of its own, however short the name.
    assert [t.get_text() for t in fig.axes[1].get_yticklabels()] == ["Nilai total\n(IDR/tahun)"]
    assert "88,2 juta\n[48,8 juta; 123,8 juta]" in texts(fig)


# --- polish: zero without a sign, the legend's place, topics in both languages -----------


def test_values_that_round_to_zero_carry_no_minus_sign():
    table = results_table().assign(estimate=[-0.001, -0.3, -0.4, 0.1], ci_low=-0.0001)
    for lang, zero in [("en", "0.00"), ("id", "0,00")]:
        drawn = joined(forest_plot(table, lang=lang))
        assert f"{zero} [" in drawn
        assert f"−{zero}" not in drawn
    static = pd.DataFrame(
        {
            "event_time": [np.nan],
            "estimate": [-0.002],
            "ci_low": [-0.1],
            "ci_high": [0.1],
            "n": [500],
            "method": ["twfe"],
        }
    )
    es = event_study_input()
    es = pd.concat([es.loc[es["method"] == "event_study"], static], ignore_index=True)
    fig = event_study_plot(es)
    legend = [t.get_text() for t in fig.axes[0].get_legend().get_texts()]
    assert f"{LABELS['twfe']['en']}: 0.00" in legend
    assert "−0.00" not in joined(fig)


def _gap_above_legend(fig: Figure) -> float:
    """Inches between the bottom of the x-axis label and the top of the legend."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    FigureCanvasAgg(fig).draw()
    renderer = fig.canvas.get_renderer()
    ax = fig.axes[0]
    label_box = ax.xaxis.label.get_window_extent(renderer)
    legend_box = ax.get_legend().get_window_extent(renderer)
    return (label_box.y0 - legend_box.y1) / fig.dpi


@pytest.mark.parametrize("n_terms", [1, 4, 16])
def test_forest_legend_sits_just_under_the_axis_label_whatever_the_height(n_terms):
    terms = [f"term_{i}" for i in range(n_terms)]
    table = pd.DataFrame(
        {
            "term": np.repeat(terms, 2),
            "estimate": np.tile([-0.2, -0.5], n_terms),
            "ci_low": np.tile([-0.3, -0.7], n_terms),
            "ci_high": np.tile([-0.1, -0.3], n_terms),
            "method": ["aipw", "naive"] * n_terms,
        }
    )
    fig = forest_plot(table)
    gap = _gap_above_legend(fig)
    # Below the label (no overlap) and close to it: the old anchor at 18% of the axes
    # height left 1.5 inches of empty space at 16 terms.
    assert 0.0 <= gap < 0.15


def test_event_study_legend_does_not_overlap_the_axis_label():
    assert 0.0 <= _gap_above_legend(event_study_plot(event_study_input())) < 0.15


def test_topics_are_labelled_in_indonesian():
    table = pd.DataFrame(
        {
            "term": ["roads", "civil_registry", "street_lighting"],
            "estimate": [-0.2, -0.1, 0.0],
            "ci_low": [-0.3, -0.2, -0.1],
            "ci_high": [-0.1, 0.0, 0.1],
        }
    )
    ticks = [t.get_text() for t in forest_plot(table, lang="id").axes[0].get_yticklabels()]
    # An unknown topic is still made readable.
    assert ticks == ["Jalan", "Kependudukan (adminduk)", "Street lighting"]


def test_impact_panel_puts_the_unit_on_its_own_line_and_wraps_the_name():
    rows = pd.DataFrame(
        {
            "term": ["citizen_days_saved", "handoffs_saved"],
            "estimate": [944.0, 192.0],
            "ci_low": [551.0, 120.0],
            "ci_high": [1327.0, 265.0],
        }
    )
    fig = impact_plot(rows, panels=True, unit={"citizen_days_saved": "per year"})
    assert fig.axes[0].get_yticklabels()[0].get_text() == "Citizen days saved\n(per year)"
    assert fig.axes[1].get_yticklabels()[0].get_text() == "Hand-offs saved"


def _drawn(fig: Figure):
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    FigureCanvasAgg(fig).draw()
    return fig.canvas.get_renderer()


def test_network_arrows_start_and_end_at_the_agency_boxes():
    flows = pd.DataFrame(
        {
            schema.FROM_AGENCY: ["Portal Pengaduan Masyarakat", "DLH", "Sekda", "DLH"],
            schema.TO_AGENCY: ["DLH", "Sekda", "Portal Pengaduan Masyarakat", "PU"],
            schema.COUNT: [400, 120, 60, 30],
        }
    )
    fig = network_plot(flows)
    renderer = _drawn(fig)
    ax = fig.axes[0]
    boxes = {
        t.get_text().replace("\n", " "): t.get_bbox_patch()
        for t in ax.texts
        if t.get_gid() == "agency"
    }
    arrows = [p for p in ax.patches if type(p).__name__ == "FancyArrowPatch"]
    assert len(arrows) == 4
    points = 72 / fig.dpi
    for arrow in arrows:
        u, v = arrow.get_label().split(" → ")
        path = ax.transData.transform(arrow.get_path().vertices)
        for name, gap in [(u, arrow.shrinkA), (v, arrow.shrinkB)]:
            box = boxes[name].get_window_extent(renderer)
            inside = (
                (path[:, 0] > box.x0 + 1)
                & (path[:, 0] < box.x1 - 1)
                & (path[:, 1] > box.y0 + 1)
                & (path[:, 1] < box.y1 - 1)
            )
            assert not inside.any(), f"{u} → {v} runs into the box of {name}"
            dx = np.maximum(np.maximum(box.x0 - path[:, 0], path[:, 0] - box.x1), 0)
            dy = np.maximum(np.maximum(box.y0 - path[:, 1], path[:, 1] - box.y1), 0)
            # The arrow reaches its box, up to its shrink and the line's half width.
            reach = np.hypot(dx, dy).min() * points
            assert reach <= gap + arrow.get_linewidth() + 2, (u, v, name, reach)


def test_a_long_title_wraps_inside_the_figure():
    title = " ".join(["Memindahkan 30% pengaduan datang langsung dan surat ke media sosial"] * 2)
    fig = forest_plot(results_table(), title=title)
    renderer = _drawn(fig)
    shown = fig._suptitle
    assert "\n" in shown.get_text()
    assert shown.get_window_extent(renderer).x1 <= fig.bbox.x1


def test_overlap_axis_writes_decimals_in_the_language():
    hist = FIGURES["overlap"][1]()
    fig = overlap_plot(hist, lang="id")
    _drawn(fig)
    ticks = [t.get_text() for t in fig.axes[1].get_xticklabels() if t.get_text()]
    assert "0,5" in ticks
    assert not any("." in t for t in ticks)


def test_a_known_value_is_labelled_without_an_interval():
    table = pd.DataFrame(
        {
            "term": ["social", "social"],
            "estimate": [-0.17, -0.0912],
            "ci_low": [-0.23, -0.0912],
            "ci_high": [-0.11, -0.0912],
            "method": ["aipw", "truth"],
        }
    )
    drawn = texts(forest_plot(table))
    assert "−0.17 [−0.23, −0.11]" in drawn
    assert "−0.09" in drawn
    assert not any(t.startswith("−0.09 [") for t in drawn)


@pytest.mark.parametrize("lang", ["en", "id"])
def test_a_long_axis_label_stays_inside_the_figure(lang):
    ylabel = "Perubahan hari belum selesai dalam 30 hari pertama per permohonan"
    fig = event_study_plot(event_study_input(), lang=lang, ylabel=ylabel)
    renderer = _drawn(fig)
    shown = fig.axes[0].yaxis.label
    assert "\n" in shown.get_text()
    box = shown.get_window_extent(renderer)
    assert box.y0 >= fig.bbox.y0 and box.y1 <= fig.bbox.y1


def test_survival_plot_marks_censoring_medians_the_horizon_and_the_number_at_risk():
    curves = km_curves()
    fig = survival_plot(curves, lang="id", horizon=10)
    ax, table = fig.axes[0], fig.axes[-1]
    drawn = [t.get_text() for t in table.texts]
    assert "300" in drawn and "–" in drawn  # counts under 10 at risk are not shown
    assert any("10" in t.get_text() for t in ax.texts)  # the horizon is labelled
    dashed = [line for line in ax.get_lines() if line.get_linestyle() == "--"]
    assert dashed, "each curve that reaches 50% gets its median marked"
