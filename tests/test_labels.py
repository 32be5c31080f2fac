"""Labels: every vocabulary word in both languages, short captions, numbers as readers write them."""

from __future__ import annotations

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from toolkit import schema
from toolkit.errors import SekatError
from toolkit.report.words import (
    LABELS,
    LANGS,
    MAX_NOTE_ITEMS,
    format_compact,
    format_number,
    label,
    suppression_note,
)
from toolkit.synthetic import CATEGORIES


def pairs(n: int) -> pd.DataFrame:
    return pd.DataFrame(
        {
            schema.FROM_AGENCY: [f"Dinas {i}" for i in range(n)],
            schema.TO_AGENCY: ["Sekda"] * n,
            "suppression": ["primary"] * n,
        }
    )


# --- suppression_note --------------------------------------------------------------------


def test_note_names_the_first_few_and_counts_the_rest():
    record = pairs(12)
    assert suppression_note(record, "en") == (
        "Not shown (fewer than 10 requests): Dinas 0 → Sekda; Dinas 1 → Sekda; "
        "Dinas 2 → Sekda; Dinas 3 → Sekda; Dinas 4 → Sekda; ... and 7 more."
    )
    assert suppression_note(record, "id", threshold=5) == (
        "Tidak ditampilkan (kurang dari 5 permohonan): Dinas 0 → Sekda; Dinas 1 → Sekda; "
        "Dinas 2 → Sekda; Dinas 3 → Sekda; Dinas 4 → Sekda; ... dan 7 lainnya."
    )


def test_note_names_all_when_they_are_few_or_when_asked():
    assert MAX_NOTE_ITEMS == 5
    assert "more" not in suppression_note(pairs(5), "en")
    assert suppression_note(pairs(5), "en").count("→") == 5
    assert suppression_note(pairs(40), "en", max_items=None).count("→") == 40
    assert suppression_note(pairs(0), "id") == LABELS["suppressed_none"]["id"]


def test_note_counts_thousands_as_the_language_writes_them():
    assert suppression_note(pairs(1239), "id").endswith("... dan 1.234 lainnya.")
    assert suppression_note(pairs(1239), "en").endswith("... and 1,234 more.")


def test_note_refuses_a_limit_below_one():
    with pytest.raises(SekatError, match="max_items"):
        suppression_note(pairs(3), "en", max_items=0)


@settings(deadline=None, max_examples=40)
@given(n=st.integers(0, 60), limit=st.integers(1, 10), lang=st.sampled_from(LANGS))
def test_note_names_at_most_the_limit_and_the_count_adds_up(n, limit, lang):
    note = suppression_note(pairs(n), lang, max_items=limit)
    named = min(n, limit)
    assert note.count("→") == named
    if n > limit:
        more = "more" if lang == "en" else "lainnya"
        assert note.endswith(f"{n - limit} {more}.")
    else:
        assert "..." not in note


# --- vocabulary --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "code",
    [*CATEGORIES, *schema.CHANNELS, *schema.CHANNEL_GROUPS, "not_social"],
)
def test_every_topic_channel_and_group_has_a_label_in_both_languages(code):
    entry = LABELS[code]
    assert set(entry) == set(LANGS)
    assert all(entry[lang].strip() for lang in LANGS)


@pytest.mark.parametrize("topic", CATEGORIES)
def test_topics_are_translated(topic):
    assert label(topic, "id") != label(topic, "en")


def test_topic_labels_by_hand():
    assert label("water", "id") == "Air bersih"
    assert label("civil_registry", "en") == "Civil registry"
    assert label("transport", "id") == "Perhubungan"
    # An unknown topic still reads as words, in either language.
    assert label("street_lighting", "id") == "Street lighting"


def test_words_of_the_overlap_figure_live_in_the_labels():
    import toolkit.report.figures

    for key in ("title_overlap", "propensity", "requests_per_bin"):
        assert set(LABELS[key]) == set(LANGS)
    assert not hasattr(toolkit.report.figures, "_OVERLAP_WORDS")


# --- numbers -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("x", "lang", "decimals", "expected"),
    [
        (-0.004, "en", 2, "0.00"),
        (-0.0, "en", None, "0.00"),
        (-0.004, "id", 2, "0,00"),
        (-0.4, "en", 0, "0"),
        (-0.006, "en", 2, "−0.01"),
        (-1234.5, "id", 1, "−1.234,5"),
    ],
)
def test_a_value_that_rounds_to_zero_has_no_sign(x, lang, decimals, expected):
    assert format_number(x, lang, decimals=decimals) == expected


def test_compact_numbers_round_to_an_unsigned_zero_too():
    assert format_compact(-0.001, "id") == "0,00"
    assert format_compact(-2_000_000, "en") == "−2 million"
