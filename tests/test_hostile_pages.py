"""No live script in any page sekat writes: hostile labels are shown as text, never as markup.

A category, agency, caption and alt text named ``<img src=x onerror=alert(document.domain)>``
go through the exporters (figures in every format, their index in both languages, a table);
every Markdown and SVG file written is then parsed, and none may hold an element or an
attribute that a browser would run (a CSV keeps the label as written: it is data, not a page,
and only its formula triggers are escaped). The policy brief's own checks are in ``test_brief.py``.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from html.parser import HTMLParser

import pandas as pd

from toolkit.report.export import export_figure, export_table
from toolkit.report.figures import hops_by_channel_plot

HOSTILE = "<img src=x onerror=alert(document.domain)>"
HOSTILE_MD = "[x](javascript:alert(1)) **b** <script>alert(1)</script>"


class _Tags(HTMLParser):
    """Every start tag and attribute of an HTML or Markdown text."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, list[tuple[str, str | None]]]] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, attrs))


def _live_markup(text: str) -> list[str]:
    parser = _Tags()
    parser.feed(text)
    found = []
    for tag, attrs in parser.tags:
        if tag in ("script", "img", "iframe", "object", "embed", "svg", "a"):
            found.append(tag)
        found += [f"{tag}@{name}" for name, _ in attrs if name.lower().startswith("on")]
    return found


def _live_svg(blob: bytes) -> list[str]:
    root = ET.fromstring(blob)
    found = []
    for element in root.iter():
        tag = element.tag.rsplit("}", 1)[-1]
        if tag in ("script", "foreignObject", "img", "a"):
            found.append(tag)
        found += [f"{tag}@{name}" for name in element.attrib if name.lower().startswith("on")]
        if "javascript:" in " ".join(element.attrib.values()).lower():
            found.append(f"{tag}: javascript")
    return found


def test_hostile_labels_stay_text_in_every_file_written(tmp_path):
    table = pd.DataFrame(
        {"channel_group": ["social", "traditional"], "hops": [1.2, 2.3], "n": [50, 80]}
    )
    figure = hops_by_channel_plot(table)
    figure.axes[0].set_title(HOSTILE)  # a label from the data drawn into the figure
    export_figure(
        figure,
        "hostile",
        out_dir=tmp_path,
        caption={"en": HOSTILE + " " + HOSTILE_MD, "id": HOSTILE},
        alt_text={"en": HOSTILE, "id": HOSTILE_MD},
        formats=["svg", "png"],
    )
    export_table(
        pd.DataFrame(
            {"category": [HOSTILE, "roads"], "agency": [HOSTILE_MD, "PU"], "count": [40, 50]}
        ),
        tmp_path / "by_category.csv",
    )
    written = sorted(p for p in tmp_path.iterdir() if p.is_file())
    kinds = {p.suffix for p in written}
    assert {".md", ".svg", ".csv", ".png"} <= kinds
    for path in written:
        if path.suffix == ".md":
            text = path.read_text(encoding="utf-8")
            assert HOSTILE not in text and "<script" not in text, path.name
            assert _live_markup(text) == [], path.name
            # no link a reader could follow: an escaped "\]" is text, not a link
            assert not re.search(r"(?<!\\)\]\(javascript:", text), path.name
        elif path.suffix == ".svg":
            blob = path.read_bytes()
            assert _live_svg(blob) == [], path.name
            assert HOSTILE.encode() not in blob, path.name
    # the label is still there, readable, as escaped text
    readme = (tmp_path / "README_en.md").read_text(encoding="utf-8")
    assert "&lt;img src=x onerror=alert(document.domain)&gt;" in readme
    svg = (tmp_path / "hostile_en.svg").read_bytes()
    assert b"&lt;img src=x onerror=alert(document.domain)&gt;" in svg


def test_the_checks_can_fail():
    assert _live_markup(HOSTILE) == ["img", "img@onerror"]
    assert _live_markup("<a href=x onclick=y>") == ["a", "a@onclick"]
    assert re.search(r"(?<!\\)\]\(javascript:", "[x](javascript:alert(1))")
    assert not re.search(r"(?<!\\)\]\(javascript:", "\\[x\\](javascript:alert(1))")
    assert _live_svg(b'<svg xmlns="http://www.w3.org/2000/svg"><script>x</script></svg>') == [
        "script"
    ]
