"""Exporters: CSV through suppression and formula escaping; figures in three formats plus index."""

from __future__ import annotations

import csv

import matplotlib

matplotlib.use("Agg")

import pandas as pd  # noqa: E402
import pytest  # noqa: E402
from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402
from PIL import Image  # noqa: E402

from toolkit import schema  # noqa: E402
from toolkit.errors import SekatError  # noqa: E402
from toolkit.io.writers import (  # noqa: E402
    FORMULA_TRIGGERS,
    escape_cell,
    escape_csv_injection,
)
from toolkit.report.export import (  # noqa: E402
    INDEX_COLUMNS,
    REGISTRY_FILE,
    export_figure,
    export_table,
)
from toolkit.report.figures import hops_by_channel_plot, network_plot  # noqa: E402

CAPTION = {"en": "Hand-offs by channel group.", "id": "Perpindahan menurut kelompok kanal."}
ALT = {"en": "Horizontal bars, one per group.", "id": "Batang mendatar, satu per kelompok."}


def read_csv_cells(path):
    with open(path, newline="", encoding="utf-8") as handle:
        return list(csv.reader(handle))


# --- CSV injection -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("cell", "expected"),
    [
        ("=cmd|' /C calc'!A0", "'=cmd|' /C calc'!A0"),
        ('+HYPERLINK("x")', '\'+HYPERLINK("x")'),
        ("-2+3", "'-2+3"),
        ("@SUM(A1:A2)", "'@SUM(A1:A2)"),
        ("\t=1", "'\t=1"),
        ("\r=1", "'\r=1"),
        ("-12", "-12"),
        ("-12.5", "-12.5"),
        ("+3", "+3"),
        ("-1e-3", "-1e-3"),
        ("Roads - east", "Roads - east"),
        ("", ""),
    ],
)
def test_escape_cell(cell, expected):
    assert escape_cell(cell) == expected


def test_non_text_cells_are_left_alone():
    assert escape_cell(-3) == -3
    assert escape_cell(None) is None


@settings(deadline=None, max_examples=200)
@given(st.text(max_size=20))
def test_no_escaped_cell_starts_a_formula(text):
    out = escape_cell(text)
    if out.startswith(FORMULA_TRIGGERS):
        float(out)  # only a plain number may keep its sign
    assert out in (text, "'" + text)


def test_escaping_covers_categories_and_column_names():
    table = pd.DataFrame({"=evil": pd.Series(["=1+1", "web"], dtype="category"), "n": [-5, 3]})
    out = escape_csv_injection(table)
    assert list(out.columns) == ["'=evil", "n"]
    assert out["'=evil"].tolist() == ["'=1+1", "web"]
    assert out["n"].tolist() == [-5, 3]


# --- export_table ------------------------------------------------------------------------


def test_export_table_suppresses_and_escapes(tmp_path):
    flows = pd.DataFrame(
        {
            schema.FROM_AGENCY: ["Intake", "Intake", '=HYPERLINK("http://x")', "Water"],
            schema.TO_AGENCY: ["Roads", "Water", "Intake", "Intake"],
            schema.COUNT: [310, 120, 4, 45],
            "mean_hours": [-1.5, 20.0, 33.3, 8.0],
        }
    )
    path = tmp_path / "out" / "flows.csv"
    result = export_table(flows, path, totals=[])
    assert result.record[schema.FROM_AGENCY].tolist() == ['=HYPERLINK("http://x")']
    rows = read_csv_cells(path)
    assert rows[0] == [
        schema.FROM_AGENCY,
        schema.TO_AGENCY,
        schema.COUNT,
        "mean_hours",
        "suppressed",
    ]
    assert rows[1] == ["Intake", "Roads", "310", "-1.5", "False"]
    # The rare pair: its name is escaped, its count and values are blank.
    assert rows[3] == ['\'=HYPERLINK("http://x")', "Intake", "", "", "True"]
    # Nothing says whether a masked cell is small or only protects another.
    assert "primary" not in path.read_text()
    left = [p.name for p in path.parent.iterdir() if p.name != REGISTRY_FILE]
    assert left == ["flows.csv"]  # no temporary file left


def test_export_table_default_protects_published_margins(tmp_path):
    table = pd.DataFrame({"channel": ["sms", "web", "phone"], "count": [3, 40, 25]})
    export_table(table, tmp_path / "t.csv")
    exported = pd.read_csv(tmp_path / "t.csv")
    assert exported["count"].isna().tolist() == [True, False, True]
    assert exported["suppressed"].tolist() == [True, False, True]


def test_export_table_finds_n_and_refuses_tables_without_counts(tmp_path):
    results = pd.DataFrame({"term": ["social", "letter"], "estimate": [-0.5, 0.2], "n": [900, 4]})
    export_table(results, tmp_path / "r.csv", totals=[])
    assert pd.read_csv(tmp_path / "r.csv")["estimate"].isna().tolist() == [False, True]
    with pytest.raises(SekatError, match="count_col"):
        export_table(pd.DataFrame({"term": ["a"]}), tmp_path / "x.csv")
    with pytest.raises(SekatError, match="hops"):
        export_table(results, tmp_path / "x.csv", count_col="hops")
    assert not (tmp_path / "x.csv").exists()
    # Opting out is explicit, and escaping still applies.
    assert export_table(pd.DataFrame({"term": ["-x"]}), tmp_path / "x.csv", count_col=None) is None
    assert read_csv_cells(tmp_path / "x.csv")[1] == ["'-x"]


def test_export_table_overwrites_atomically(tmp_path):
    path = tmp_path / "t.csv"
    path.write_text("old")
    export_table(pd.DataFrame({"channel": ["web"], "count": [40]}), path, totals=[])
    assert path.read_text() == "channel,count,suppressed\nweb,40,False\n"


# --- export_figure -----------------------------------------------------------------------


def hops_figure():
    table = pd.DataFrame(
        {
            "channel_group": ["social", "traditional", "other"],
            "hops": [1.1, 2.4, 3.0],
            "n": [300, 400, 6],
        }
    )
    return hops_by_channel_plot(table)


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    out = tmp_path_factory.mktemp("figures")
    first = export_figure(
        hops_figure(), "hops_by_channel", caption=CAPTION, alt_text=ALT, out_dir=out
    )
    return out, first


def test_export_figure_writes_three_files(exported):
    out, first = exported
    assert sorted(p.name for p in out.iterdir()) == [
        "README_en.md",
        "hops_by_channel_en.pdf",
        "hops_by_channel_en.png",
        "hops_by_channel_en.svg",
        "index_en.csv",
    ]
    assert set(first.files) == {"png", "svg", "pdf"}
    pdf = (out / "hops_by_channel_en.pdf").read_bytes()
    assert pdf.startswith(b"%PDF")
    # Type 42: TrueType outlines (a CID font of TrueType glyphs), never Type 3 bitmaps
    assert b"/CIDFontType2" in pdf and b"/Type3" not in pdf
    assert b"/Title (Hand-offs between agencies by intake channel)" in pdf
    assert b"/Subject (Hand-offs by channel group.)" in pdf
    svg = (out / "hops_by_channel_en.svg").read_bytes()
    assert b'<title id="sekat-title">Hand-offs between agencies by intake channel</title>' in svg
    assert b"<desc" in svg[:3000] and b"Horizontal bars, one per group." in svg[:3000]
    with Image.open(out / "hops_by_channel_en.png") as png:
        assert png.info["dpi"] == pytest.approx((300, 300), abs=0.1)


def test_index_row_holds_both_languages_and_what_was_suppressed(exported):
    out, _ = exported
    index = pd.read_csv(out / "index_en.csv", dtype="str", keep_default_na=False)
    assert list(index.columns) == list(INDEX_COLUMNS)
    row = index.iloc[0]
    assert row["name"] == "hops_by_channel"
    assert row["files"] == "hops_by_channel_en.png;hops_by_channel_en.svg;hops_by_channel_en.pdf"
    assert row["caption"] == CAPTION["en"] and row["alt_text"] == ALT["en"]
    assert row["suppressed"] == "Not shown (fewer than 10 requests): Other."
    readme = (out / "README_en.md").read_text()
    for text in [CAPTION["en"], ALT["en"], row["suppressed"]]:
        assert text in readme
    assert f"![{ALT['en']}](hops_by_channel_en.png)" in readme


def test_the_indonesian_figure_sits_beside_the_english_one(exported):
    out, _ = exported
    table = pd.DataFrame({"channel_group": ["social", "other"], "hops": [1.1, 3.0], "n": [300, 6]})
    done = export_figure(
        hops_by_channel_plot(table, lang="id"),
        "hops_by_channel",
        caption=CAPTION,
        alt_text=ALT,
        out_dir=out,
        formats=["svg"],
    )
    assert done.files["svg"].name == "hops_by_channel_id.svg"
    assert (out / "hops_by_channel_en.svg").exists()
    index = pd.read_csv(out / "index_id.csv", dtype="str", keep_default_na=False)
    assert index.loc[0, "suppressed"] == "Tidak ditampilkan (kurang dari 10 permohonan): Lainnya."
    assert "# Gambar" in (out / "README_id.md").read_text()


def test_markdown_index_escapes_values_from_the_data(tmp_path):
    hostile = "<img src=x onerror=alert(1)> [link](http://x)"
    export_figure(
        hops_figure(),
        "h",
        caption={"en": hostile, "id": "x"},
        alt_text=ALT,
        out_dir=tmp_path,
        formats=["svg"],
    )
    readme = (tmp_path / "README_en.md").read_text()
    assert "<img" not in readme and "[link](http" not in readme
    assert "&lt;img src=x onerror=alert(1)&gt; \\[link\\](http://x)" in readme


def test_rerun_gives_identical_files_and_replaces_the_index_row(exported, tmp_path):
    out, first = exported
    before = {fmt: path.read_bytes() for fmt, path in first.files.items()}
    again = export_figure(
        hops_figure(),
        "hops_by_channel",
        caption=CAPTION,
        alt_text=ALT,
        out_dir=out,
        formats=["svg", "pdf"],
    )
    for fmt in ("svg", "pdf"):
        assert again.files[fmt].read_bytes() == before[fmt], fmt
    flows = pd.DataFrame({"from_agency": ["A", "B"], "to_agency": ["B", "A"], "count": [50, 2]})
    export_figure(
        network_plot(flows),
        "a_network",
        caption=CAPTION,
        alt_text=ALT,
        out_dir=out,
        formats=["svg"],
    )
    index = pd.read_csv(out / "index_en.csv", dtype="str", keep_default_na=False)
    assert index["name"].tolist() == ["a_network", "hops_by_channel"]  # one row each, sorted
    assert index.loc[0, "suppressed"] == (
        "Every published flow is drawn (1). Not shown (fewer than 10 requests): B → A."
    )


def test_svg_does_not_depend_on_the_order_of_formats(tmp_path):
    svg_only = export_figure(
        hops_figure(), "h", caption=CAPTION, alt_text=ALT, out_dir=tmp_path / "a", formats=["svg"]
    )
    png_first = export_figure(
        hops_figure(),
        "h",
        caption=CAPTION,
        alt_text=ALT,
        out_dir=tmp_path / "b",
        formats=["png", "svg"],
    )
    assert svg_only.files["svg"].read_bytes() == png_first.files["svg"].read_bytes()
    assert list(png_first.files) == ["png", "svg"]


def test_caption_must_be_given_in_the_figures_language(tmp_path):
    english = hops_figure()
    indonesian = hops_by_channel_plot(
        pd.DataFrame({"channel_group": ["social"], "hops": [1.0], "n": [50]}), lang="id"
    )
    with pytest.raises(SekatError, match=r"caption is missing in language\(s\) \['id'\]"):
        export_figure(
            indonesian, "x", caption={"en": "Only English"}, alt_text=ALT, out_dir=tmp_path
        )
    with pytest.raises(SekatError, match="caption must be text"):
        export_figure(english, "x", caption=3, alt_text=ALT, out_dir=tmp_path)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("name", ["../escape", "a/b", "", ".hidden"])
def test_figure_name_cannot_leave_the_folder(tmp_path, name):
    with pytest.raises(SekatError, match="figure name"):
        export_figure(hops_figure(), name, caption=CAPTION, alt_text=ALT, out_dir=tmp_path)


def test_explicit_suppression_record_overrides_the_figure(tmp_path):
    record = pd.DataFrame({"channel": ["letter"], "suppression": ["primary"]})
    done = export_figure(
        hops_figure(),
        "h",
        caption=CAPTION,
        alt_text=ALT,
        out_dir=tmp_path,
        suppressed=record,
        formats=["svg"],
    )
    assert done.index_row["suppressed"] == "Not shown (fewer than 10 requests): Letter."


def test_index_with_formula_caption_is_escaped_once(tmp_path):
    caption = {"en": "=1+1 is a caption", "id": "-teks"}
    for _ in range(2):
        export_figure(
            hops_figure(), "h", caption=caption, alt_text=ALT, out_dir=tmp_path, formats=["svg"]
        )
    cells = read_csv_cells(tmp_path / "index_en.csv")
    assert cells[1][2] == "'=1+1 is a caption"
    assert (tmp_path / "README_en.md").read_text().count("=1+1 is a caption") == 1


def test_a_figure_of_your_own_must_declare_its_suppression(tmp_path):
    from matplotlib.figure import Figure

    from toolkit.report.disclosure import suppress_small_cells

    fig = Figure()
    fig.subplots().bar(["web", "sms"], [40, 12])
    with pytest.raises(SekatError, match="suppress_small_cells"):
        export_figure(fig, "own", caption=CAPTION, alt_text=ALT, out_dir=tmp_path, lang="en")
    table = pd.DataFrame({"channel": ["web", "sms"], "count": [40, 12]})
    done = export_figure(
        fig,
        "own",
        caption=CAPTION,
        alt_text=ALT,
        out_dir=tmp_path,
        suppressed=suppress_small_cells(table, totals=[]),
        formats=["svg"],
        lang="en",
    )
    assert done.index_row["suppressed"] == "No group was suppressed."


def _export_many(out_dir: str, prefix: str, count: int) -> None:
    from matplotlib.figure import Figure

    for i in range(count):
        fig = Figure()
        fig.add_subplot().plot([0, 1], [0, 1])
        text = {"en": f"{prefix} {i}", "id": f"{prefix} {i}"}
        export_figure(
            fig,
            f"{prefix}_{i:02d}",
            caption=text,
            alt_text=text,
            out_dir=out_dir,
            suppressed=pd.DataFrame(),
            formats=("svg",),
            lang="en",
        )


def test_concurrent_exports_into_one_folder_keep_every_index_row(tmp_path):
    import multiprocessing

    context = multiprocessing.get_context("fork")
    workers = [
        context.Process(target=_export_many, args=(str(tmp_path), prefix, 12))
        for prefix in ("a", "b", "c")
    ]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(60)
        assert worker.exitcode == 0
    index = pd.read_csv(tmp_path / "index_en.csv")
    assert len(index) == 36
