"""Small-cell suppression and the k-anonymity report, checked on tables computed by hand."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from toolkit import schema
from toolkit.clean.reidentification import INTAKE_WEEK, intake_week, k_anonymity_report
from toolkit.errors import MissingColumnError, SekatError
from toolkit.report.disclosure import (
    PRIMARY,
    SECONDARY,
    SUPPRESSED,
    SUPPRESSION_REASON,
    find_small_cells,
    suppress_small_cells,
)


def masked(result, *cols):
    rows = result.table.loc[result.table[SUPPRESSED], list(cols)]
    return set(map(tuple, rows.to_numpy().tolist()))


# --- primary suppression -----------------------------------------------------------------


def test_primary_masks_cells_below_threshold_but_not_zeros_or_the_threshold_itself():
    table = pd.DataFrame({"channel": ["sms", "web", "letter", "phone"], "count": [9, 10, 0, 1]})
    result = suppress_small_cells(table, totals=[])
    assert result.table[SUPPRESSED].tolist() == [True, False, False, True]
    assert result.table[SUPPRESSION_REASON].tolist() == [PRIMARY, "", "", PRIMARY]
    assert result.table["count"].isna().tolist() == [True, False, False, True]
    assert result.record["channel"].tolist() == ["sms", "phone"]
    assert result.published["channel"].tolist() == ["web", "letter"]
    assert result.n_suppressed == 2


def test_threshold_is_configurable():
    table = pd.DataFrame({"channel": ["sms", "web"], "count": [4, 7]})
    assert suppress_small_cells(table, threshold=5, totals=[]).record["channel"].tolist() == ["sms"]
    assert suppress_small_cells(table, threshold=3, totals=[]).n_suppressed == 0


def test_values_describing_a_masked_cell_are_masked_with_it():
    table = pd.DataFrame({"channel": ["sms", "web"], "count": [4, 70], "mean_hours": [12.5, 30.0]})
    result = suppress_small_cells(table, totals=[])
    assert np.isnan(result.table.loc[0, "mean_hours"])
    assert result.table.loc[1, "mean_hours"] == 30.0
    assert result.table.loc[1, "count"] == 70


def test_input_table_is_not_modified():
    table = pd.DataFrame({"channel": ["sms", "web"], "count": [4, 70]})
    suppress_small_cells(table)
    assert table["count"].tolist() == [4, 70]
    assert list(table.columns) == ["channel", "count"]


# --- secondary suppression ---------------------------------------------------------------


def test_grand_total_published_masks_next_smallest_cell():
    # total 68 is published: 68 - 40 - 25 would give the 3 back.
    table = pd.DataFrame({"channel": ["sms", "web", "phone"], "count": [3, 40, 25]})
    result = suppress_small_cells(table, totals=[()])
    assert result.table[SUPPRESSION_REASON].tolist() == [PRIMARY, "", SECONDARY]


def test_two_small_cells_that_sum_below_threshold_need_a_third():
    # 2 + 3 = 5 < 10: the total would reveal that the two together hold five requests.
    table = pd.DataFrame({"channel": ["a", "b", "c", "d"], "count": [2, 3, 50, 60]})
    result = suppress_small_cells(table, totals=[()])
    assert result.table[SUPPRESSION_REASON].tolist() == [PRIMARY, PRIMARY, SECONDARY, ""]


def test_two_way_table_with_row_and_column_totals():
    #            social digital traditional
    # region A        3      20          40
    # region B       15      12          50
    # region C       30      25          60
    # (A, social) is small. Row A then needs (A, digital); column social needs (B, social);
    # that leaves row B with one masked cell, so (B, digital) follows. Column digital now
    # holds two masked cells (20 + 12 >= 10) and the process stops.
    table = pd.DataFrame(
        {
            "region": ["A"] * 3 + ["B"] * 3 + ["C"] * 3,
            "channel_group": ["social", "digital", "traditional"] * 3,
            "count": [3, 20, 40, 15, 12, 50, 30, 25, 60],
        }
    )
    result = suppress_small_cells(table)  # default: every one-way margin is published
    assert masked(result, "region", "channel_group") == {
        ("A", "social"),
        ("A", "digital"),
        ("B", "social"),
        ("B", "digital"),
    }
    reasons = dict(
        zip(
            zip(result.table["region"], result.table["channel_group"], strict=True),
            result.table[SUPPRESSION_REASON],
            strict=True,
        )
    )
    assert reasons[("A", "social")] == PRIMARY
    assert reasons[("B", "digital")] == SECONDARY
    assert result.withheld_totals.empty


def test_margin_with_a_single_cell_is_reported_as_a_withheld_total():
    table = pd.DataFrame(
        {"region": ["A", "B", "B"], "channel": ["sms", "sms", "web"], "count": [4, 30, 40]}
    )
    result = suppress_small_cells(table, totals=[("region",)])
    assert result.withheld_totals.to_dict("records") == [{"margin": "region", "region": "A"}]
    # Region B holds no masked cell, so nothing there is touched.
    assert result.table[SUPPRESSED].tolist() == [True, False, False]


def test_rare_handoff_pair_is_suppressed_in_an_edge_list():
    flows = pd.DataFrame(
        {
            schema.FROM_AGENCY: ["Intake", "Intake", "Roads", "Water", "Roads"],
            schema.TO_AGENCY: ["Roads", "Water", "Intake", "Intake", "Water"],
            schema.COUNT: [310, 120, 2, 45, 60],
        }
    )
    published = suppress_small_cells(flows, totals=[])
    assert masked(published, schema.FROM_AGENCY, schema.TO_AGENCY) == {("Roads", "Intake")}
    assert find_small_cells(published.table).empty
    # With each agency's outflow published, Roads' other pair must go too.
    with_outflows = suppress_small_cells(flows, totals=[(schema.FROM_AGENCY,)])
    assert masked(with_outflows, schema.FROM_AGENCY, schema.TO_AGENCY) == {
        ("Roads", "Intake"),
        ("Roads", "Water"),
    }
    assert with_outflows.record[SUPPRESSION_REASON].tolist() == [PRIMARY, SECONDARY]
    assert 2 not in with_outflows.published[schema.COUNT].tolist()


@st.composite
def two_way_tables(draw):
    n_rows = draw(st.integers(1, 5))
    n_cols = draw(st.integers(1, 5))
    counts = draw(
        st.lists(
            st.one_of(st.integers(0, 12), st.integers(0, 200)),
            min_size=n_rows * n_cols,
            max_size=n_rows * n_cols,
        )
    )
    rows, cols = np.meshgrid(range(n_rows), range(n_cols), indexing="ij")
    return pd.DataFrame(
        {
            "row": [f"r{i}" for i in rows.ravel()],
            "col": [f"c{j}" for j in cols.ravel()],
            "count": counts,
        }
    )


@settings(deadline=None, max_examples=80)
@given(two_way_tables(), st.integers(1, 15))
def test_no_margin_lets_a_masked_cell_be_recomputed(table, threshold):
    result = suppress_small_cells(table, threshold=threshold)
    out = result.table
    original = table["count"].to_numpy()
    is_masked = out[SUPPRESSED].to_numpy()
    # Every small non-zero cell is masked; every published count is the true count.
    assert is_masked[(original > 0) & (original < threshold)].all()
    assert (out.loc[~is_masked, "count"].to_numpy() == original[~is_masked]).all()
    assert find_small_cells(out, threshold=threshold).empty
    withheld = {(r["margin"], r[r["margin"]]) for r in result.withheld_totals.to_dict("records")}
    for margin in ("row", "col"):  # the column held fixed in a published total
        for key, group in table.assign(masked=is_masked).groupby(margin):
            m = group["masked"].to_numpy()
            if not m.any() or (margin, key) in withheld:
                continue
            # At least two masked cells, together holding at least `threshold` requests.
            assert m.sum() >= 2, (margin, key)
            assert group.loc[group["masked"], "count"].sum() >= threshold, (margin, key)


# --- errors ------------------------------------------------------------------------------


def test_missing_count_column_names_the_column():
    with pytest.raises(MissingColumnError, match="count"):
        suppress_small_cells(pd.DataFrame({"channel": ["sms"], "n": [3]}))


def test_negative_or_non_numeric_counts_name_the_row():
    with pytest.raises(SekatError, match="row 1"):
        suppress_small_cells(pd.DataFrame({"channel": ["a", "b"], "count": [3, -1]}))
    with pytest.raises(SekatError, match="row 0"):
        suppress_small_cells(pd.DataFrame({"channel": ["a"], "count": ["many"]}))


def test_threshold_below_one_is_refused():
    with pytest.raises(SekatError, match="threshold"):
        suppress_small_cells(pd.DataFrame({"channel": ["a"], "count": [3]}), threshold=0)


def test_missing_counts_are_neither_masked_nor_used_as_complements():
    table = pd.DataFrame({"term": ["a", "b", "c"], "n": [3, np.nan, 40]})
    result = suppress_small_cells(table, count_col="n", totals=[()])
    assert result.table[SUPPRESSION_REASON].tolist() == [PRIMARY, "", SECONDARY]


# --- k-anonymity -------------------------------------------------------------------------


def cases_frame():
    monday = pd.Timestamp("2024-03-04 08:00", tz="UTC")
    return pd.DataFrame(
        {
            schema.CHANNEL: ["web", "web", "web", "sms", "web"],
            schema.REGION: ["X", "X", "X", "X", "X"],
            schema.CATEGORY: ["roads"] * 5,
            # Three requests in the week of 4 March, one (sms) too, one a week later.
            schema.START: [
                monday,
                monday + pd.Timedelta(days=2),
                monday + pd.Timedelta(days=6, hours=15),
                monday,
                monday + pd.Timedelta(days=7),
            ],
        }
    )


def test_intake_week_starts_on_monday_utc():
    weeks = intake_week(cases_frame()[schema.START])
    assert weeks.iloc[2] == pd.Timestamp("2024-03-04", tz="UTC")  # Sunday 23:00 still week 1
    assert weeks.iloc[4] == pd.Timestamp("2024-03-11", tz="UTC")


def test_k_anonymity_counts_unique_and_small_groups():
    report = k_anonymity_report(cases_frame(), k=3)
    groups = report.groups
    assert groups["group_size"].tolist() == [1, 1, 3]
    assert groups["below_k"].tolist() == [True, True, False]
    assert INTAKE_WEEK in groups.columns
    summary = report.summary
    assert summary["n_requests"] == 5
    assert summary["n_groups"] == 3
    assert summary["unique_requests"] == 2
    assert summary["requests_below_k"] == 2
    assert summary["share_below_k"] == pytest.approx(0.4)
    assert summary["groups_below_k"] == 2
    assert summary["missing_quasi_identifiers"] == []


def test_k_anonymity_skips_absent_optional_columns_and_says_so():
    cases = cases_frame().drop(columns=[schema.REGION, schema.CATEGORY])
    report = k_anonymity_report(cases, k=2)
    assert report.summary["missing_quasi_identifiers"] == [schema.REGION, schema.CATEGORY]
    assert report.summary["quasi_identifiers"] == [schema.CHANNEL, INTAKE_WEEK]


def test_k_anonymity_requires_the_columns_it_cannot_derive():
    with pytest.raises(MissingColumnError, match="start"):
        k_anonymity_report(cases_frame().drop(columns=[schema.START]))


def test_missing_values_form_their_own_group():
    cases = pd.DataFrame({"channel": ["web", "web", None], "region": ["X", "X", "X"]})
    report = k_anonymity_report(cases, quasi_identifiers=["channel", "region"], k=2)
    assert report.summary["unique_requests"] == 1
    assert report.groups["group_size"].sum() == 3


# --- every exported table passes the rule -------------------------------------------------


def test_every_table_the_exporters_write_passes_the_small_cell_rule(tmp_path):
    """Walk a figures folder filled by the exporters from a generated log: no cell under 10."""
    from toolkit.paths import case_table, handovers
    from toolkit.paths.network import bottlenecks, chain_length_by_channel, handover_graph, variants
    from toolkit.report.export import export_figure, export_table
    from toolkit.report.figures import hops_by_channel_plot, hops_summary, network_plot
    from toolkit.synthetic import simulate

    events = simulate(n_cases=600, seed=4).events
    cases = case_table(events)
    flows = handovers(events)
    by_cell = (
        cases.groupby([schema.CHANNEL, schema.REGION, schema.CATEGORY], observed=True)
        .size()
        .rename(schema.COUNT)
        .reset_index()
    )
    tables = {
        "flows.csv": (flows[[schema.FROM_AGENCY, schema.TO_AGENCY, schema.COUNT]], {}),
        "channel_region_category.csv": (by_cell, {}),
        "variants.csv": (variants(cases), {"count_col": "requests", "group_cols": ["path"]}),
        "bottlenecks.csv": (
            bottlenecks(handover_graph(flows, cases)),
            {"count_col": "requests", "group_cols": [schema.AGENCY]},
        ),
        "chain_length.csv": (
            chain_length_by_channel(cases),
            {"count_col": "requests", "group_cols": [schema.CHANNEL]},
        ),
        "hops_summary.csv": (hops_summary(cases, by=schema.CHANNEL), {}),
    }
    small_before = 0
    figures = tmp_path / "figures"
    for name, (table, options) in tables.items():
        count_col = options.get("count_col", schema.COUNT if schema.COUNT in table else "n")
        small_before += len(find_small_cells(table, count_col=count_col))
        export_table(table, figures / name, **options)
    assert small_before > 10  # the raw tables did hold small cells: the walk can fail
    caption = {"en": "x", "id": "x"}
    export_figure(
        network_plot(flows),
        "network",
        out_dir=figures,
        caption=caption,
        alt_text=caption,
        formats=["svg"],
    )
    summary = hops_summary(cases)
    export_figure(
        hops_by_channel_plot(summary),
        "hops",
        out_dir=figures,
        caption=caption,
        alt_text=caption,
        formats=["svg"],
    )

    walked = 0
    for path in sorted(figures.glob("*.csv")):
        table = pd.read_csv(path)
        columns = [c for c in (schema.COUNT, "n", "requests") if c in table.columns]
        if path.name.startswith("index_"):
            assert not columns
            continue
        assert columns, path.name
        for column in columns:
            assert find_small_cells(table, count_col=column).empty, (path.name, column)
        walked += 1
    assert walked == len(tables)
    # the figures name what they left out rather than drawing it
    index = pd.read_csv(figures / "index_en.csv")
    assert index["suppressed"].str.contains("fewer than 10").any()
