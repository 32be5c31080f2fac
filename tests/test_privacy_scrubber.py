"""The scrubber normalises before it matches: no spelling of a phone, NIK, e-mail or address hides.

Every spelling of issue 15 is a case here (other case, no dots, letters glued to numbers, other
separators, en dashes, non-breaking and zero-width spaces, full-width digits, ``l`` for ``1``,
NIK split by double spaces or slashes, ``[at]``/``[dot]``, full-width ``＠``), with the texts
that must stay (road talk, dates, amounts). Then the whole path: a log holding them in 10 or
more requests, in a column name, in its file name and in its mapping goes through ``sekat
prepare``, and none of it is in any output or on the console.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from toolkit.clean.privacy import (
    HASH_FIELDS,
    normalise_text,
    scrub_name,
    scrub_record,
    scrub_text,
)
from toolkit.cli import main

FULL_WIDTH_PHONE = "".join(chr(0xFF10 + int(d)) for d in "081234567890")

#: (text, kind that must be found) for every spelling named in issue 15.
ISSUE_SPELLINGS = [
    ("JL. MERDEKA NO. 10", "address"),
    ("jl. merdeka no 10", "address"),
    ("Jl Merdeka 10", "address"),
    ("Gang Mawar no 3", "address"),
    ("GANG MAWAR NO. 3", "address"),
    ("gg. mawar 3", "address"),
    ("Komplek Griya Asri Blok C3 No. 5", "address"),
    ("kompleks griya asri blok c3 no 5", "address"),
    ("Perumahan Bumi Indah Blok A No. 12", "address"),
    ("HP081234567890", "phone"),
    ("hp.081234567890", "phone"),
    ("0812 - 3456 - 7890", "phone"),
    ("0812/3456/7890", "phone"),
    ("0812\u20133456\u20137890", "phone"),  # en dashes
    ("0812\u20143456\u20147890", "phone"),  # em dashes
    ("0812\u00a03456\u00a07890", "phone"),  # non-breaking spaces
    ("0812\u200b3456\u200b7890", "phone"),  # zero-width spaces
    ("08\u200d12\u20603456\ufeff7890", "phone"),  # joiners, word joiner, BOM
    (FULL_WIDTH_PHONE, "phone"),
    ("08l234567890", "phone"),
    ("O8l2-3456-789O", "phone"),
    ("+62 812  3456  7890", "phone"),
    ("3171  2345  6789  0123", "nik"),
    ("3171/2345/6789/0123", "nik"),
    ("NIK3171234567890123", "nik"),
    ("budi [at] gmail [dot] com", "email"),
    ("budi(at)gmail(dot)com", "email"),
    ("budi at gmail dot com", "email"),
    ("budi @ gmail.com", "email"),
    ("budi\uff20gmail.com", "email"),  # full-width at sign
    ("BUDI.SANTOSO@GMAIL.COM", "email"),
]

#: Texts that name no one and must come out unchanged.
HARMLESS = [
    "jalan rusak",
    "Dinas Jalan Raya",
    "Kelurahan Sukamaju",
    "Blok M",
    "No. 5 antrian",
    "at the office",
    "2024-03-04 08:00:00",
    "04/03/2024 08:00",
    "Rp 1.500.000",
    "Rp 62.000",
    "REQ-2024-0001",
    "Suku Dinas Bina Marga",
    "submitted",
    "lampu jalan padam",
]


@pytest.mark.parametrize(("text", "kind"), ISSUE_SPELLINGS)
def test_every_spelling_of_the_issue_is_found(text, kind):
    scrubbed, counts = scrub_text(text)
    assert counts.get(kind, 0) >= 1, (text, scrubbed, counts)
    assert not re.search(r"\d{3}", scrubbed), scrubbed  # no run of the number is left
    for word in ("merdeka", "mawar", "griya", "bumi", "budi", "santoso", "gmail"):
        assert word not in scrubbed.lower(), scrubbed


@pytest.mark.parametrize(("text", "kind"), ISSUE_SPELLINGS)
def test_found_inside_a_sentence(text, kind):
    scrubbed, counts = scrub_text(f"warga minta dihubungi: {text}, terima kasih")
    assert counts.get(kind, 0) >= 1, scrubbed
    assert scrubbed.startswith("warga minta dihubungi: ")
    assert "[removed:" in scrubbed
    assert scrubbed.endswith(", terima kasih")


@pytest.mark.parametrize("text", HARMLESS)
def test_harmless_text_is_left_alone(text):
    assert scrub_text(text) == (text, {})


def test_nothing_found_means_the_text_is_returned_as_it_was():
    """Normalisation is for matching: a value without PII keeps its own characters."""
    text = "Kelurahan\u00a0Ä\u200b"
    assert scrub_text(text) == (text, {})


def test_normalise_text_by_hand():
    assert normalise_text(FULL_WIDTH_PHONE) == "081234567890"
    assert normalise_text("0812\u20133456") == "0812-3456"
    assert normalise_text("a\u200bb\u00a0c") == "ab c"
    assert normalise_text("budi [at] gmail [dot] co [dot] id") == "budi@gmail.co.id"
    assert normalise_text("08l2 3456 789O") == "0812 3456 7890"
    assert normalise_text("lol 12") == "lol 12"  # too few digits: letters stay letters


def test_names_and_records_are_scrubbed():
    assert scrub_name("contacts/budi.santoso0@gmail.com") == "contacts/[removed:email]"
    record = {
        "columns_not_read": {"laporan 081234567890.csv": ["contacts/budi.santoso0@gmail.com"]},
        "inputs": [{"name": "x 0812-3456-7890.csv", "sha256": "0812345678901234aa"}],
        "n": 3,
    }
    scrubbed = scrub_record(record)
    assert scrubbed == {
        "columns_not_read": {"laporan [removed:phone].csv": ["contacts/[removed:email]"]},
        "inputs": [{"name": "x [removed:phone].csv", "sha256": "0812345678901234aa"}],
        "n": 3,
    }
    assert "sha256" in HASH_FIELDS  # a hash sekat made is never mistaken for a number


_SEPARATORS = st.sampled_from(
    ["", " ", "  ", "-", " - ", ".", "/", "\u2013", "\u00a0", "\u200b", "\u202f", " / "]
)


@settings(max_examples=200, deadline=None)
@given(
    digits=st.text(alphabet="0123456789", min_size=8, max_size=9),
    seps=st.lists(_SEPARATORS, min_size=2, max_size=2),
    prefix=st.sampled_from(["", "HP", "Telp. ", "wa:", "no hp "]),
    full_width=st.booleans(),
)
def test_a_mobile_number_in_any_spelling_is_removed(digits, seps, prefix, full_width):
    """Property: 08 + digits, cut in three groups by any separators, never survives."""
    number = "08" + digits
    text = number[:4] + seps[0] + number[4:8] + seps[1] + number[8:]
    if full_width:
        text = "".join(chr(0xFF10 + int(c)) if c.isdigit() else c for c in text)
    scrubbed, counts = scrub_text(f"{prefix}{text} ok")
    assert counts == {"phone": 1}, (text, scrubbed)
    assert not re.search(r"\d", normalise_text(scrubbed)), scrubbed


@settings(max_examples=100, deadline=None)
@given(
    digits=st.text(alphabet="0123456789", min_size=16, max_size=16),
    sep=st.sampled_from([" ", "  ", "/", ".", "-", " / ", "\u00a0"]),
)
def test_a_nik_in_any_grouping_is_removed(digits, sep):
    text = sep.join([digits[:4], digits[4:8], digits[8:12], digits[12:]])
    scrubbed, counts = scrub_text(f"NIK {text}")
    assert not re.search(r"\d", normalise_text(scrubbed)), scrubbed
    assert sum(counts.values()) >= 1


@settings(max_examples=100, deadline=None)
@given(text=st.text(max_size=60))
def test_scrubbing_is_idempotent(text):
    once, _ = scrub_text(text)
    assert scrub_text(once)[0] == once


# --- the whole path: sekat prepare on a log that hides PII in every place ---------------------

PHONE = "0812-3456-7890"
#: Planted words and digit runs; none may appear in any output or on the console.
PLANTED_WORDS = ("merdeka", "mawar", "griya", "budi", "santoso", "gmail", "siti", "aminah")
PLANTED_DIGITS = ("81234567890", "3171234567890123", "987654321", "1122334455")
HOSTILE_LABELS = [label for label, _ in ISSUE_SPELLINGS if "Bumi" not in label]


def _write_hostile_log(folder: Path) -> tuple[Path, Path]:
    rows = []
    for i in range(12 * len(HOSTILE_LABELS)):  # each label held by 12 requests
        case = f"R{i:04d}"
        label = HOSTILE_LABELS[i % len(HOSTILE_LABELS)]
        rows += [
            (case, "2024-03-04 08:00", "Kelurahan A", "Dibuat", "twitter", "x@y.id"),
            (case, "2024-03-04 09:00", "Dinas PU", label, "twitter", "x@y.id"),
            (case, "2024-03-04 10:00", "Dinas PU", "Pak Siti Aminah 0819-8765-4321", "twitter", ""),
            (case, "2024-03-05 10:00", "Dinas PU", "Selesai", "twitter", ""),
        ]
    frame = pd.DataFrame(
        rows,
        columns=[
            "case_id",
            "timestamp",
            "agency",
            "activity",
            "channel",
            "contacts/budi.santoso0@gmail.com",
        ],
    )
    log = folder / "laporan_budi.santoso@gmail.com_081234567890.csv"
    frame.to_csv(log, index=False)
    mapping = folder / "petugas 0811-2233-4455.toml"
    mapping.write_text(
        "[activities]\n"
        '"Dibuat" = "submitted"\n'
        '"Selesai" = "resolved"\n'
        '"Pak Siti Aminah 0819-8765-4321" = "forwarded"\n',
        encoding="utf-8",
    )
    return log, mapping


def _texts_of(out: Path) -> list[tuple[str, str]]:
    """Every string an output holds: Parquet cells, column names and JSON keys and values."""
    texts = []
    for path in sorted(out.rglob("*.parquet")):
        table = pd.read_parquet(path)
        for column in table.columns:
            texts.append((path.name, str(column)))
            values = table[column]
            if isinstance(values.dtype, pd.CategoricalDtype):
                values = pd.Series(values.cat.categories)
            texts += [(path.name, str(v)) for v in values.dropna().astype("str").unique()]

    def walk(name: str, node: object) -> None:
        if isinstance(node, dict):
            for key, value in node.items():
                texts.append((name, str(key)))
                if key not in HASH_FIELDS:
                    walk(name, value)
        elif isinstance(node, list):
            for item in node:
                walk(name, item)
        elif isinstance(node, str):
            texts.append((name, node))

    for path in sorted(out.glob("*.json")):
        walk(path.name, json.loads(path.read_text(encoding="utf-8")))
    return texts


def _assert_clean(where: str, text: str) -> None:
    lowered = normalise_text(text).lower()
    for word in PLANTED_WORDS:
        assert word not in lowered, (where, word, text)
    digits = re.sub(r"\D", "", lowered)
    for run in PLANTED_DIGITS:
        assert run not in digits or "sha256" in where, (where, run, text)


def test_prepare_lets_no_spelling_out(tmp_path, capsys):
    log, mapping = _write_hostile_log(tmp_path)
    key = tmp_path / "sekat.key"
    key.write_text("a long secret key for the scrubber test\n")
    out = tmp_path / "out"
    argv = ["prepare", str(log), "--out", str(out), "--key-file", str(key)]
    assert main([*argv, "--mapping", str(mapping), "--json"]) == 0
    captured = capsys.readouterr()
    texts = _texts_of(out)
    assert len(texts) > 50
    for where, text in texts:
        _assert_clean(where, text)
    for stream in (captured.err, captured.out):
        for line in stream.splitlines():
            if not line.startswith("{"):
                _assert_clean("console", line)
    for path in out.rglob("*"):  # the words in any byte, compressed or not
        if path.is_file():
            blob = path.read_bytes().lower()
            for word in PLANTED_WORDS:
                assert word.encode() not in blob, (path.name, word)
    # what was found was counted, and the tables still trace each row to its (scrubbed) file
    report = json.loads((out / "report.json").read_text())
    assert report["privacy"]["removed"]["phone"] > 0
    assert report["privacy"]["removed"]["address"] > 0
    assert list(report["inputs"]) == ["[removed:email]_[removed:phone].csv"]
    assert report["privacy"]["columns_not_read"] == {
        "[removed:email]_[removed:phone].csv": ["contacts/[removed:email]"]
    }
    events = pd.read_parquet(out / "events.parquet")
    assert set(events["source_file"]) == {"[removed:email]_[removed:phone].csv"}
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["parameters"]["mapping_file"]["name"] == "petugas [removed:phone].toml"
    assert "mapping" not in manifest["parameters"]  # by hash, never by content
    assert len(manifest["parameters"]["mapping_sha256"]) == 64


def test_mapped_away_labels_are_kept_only_when_asked(tmp_path):
    log, mapping = _write_hostile_log(tmp_path)
    key = tmp_path / "sekat.key"
    key.write_text("a long secret key for the scrubber test\n")
    argv = ["prepare", str(log), "--key-file", str(key), "--mapping", str(mapping), "-q"]
    assert main([*argv, "--out", str(tmp_path / "default")]) == 0
    assert main([*argv, "--out", str(tmp_path / "kept"), "--keep-raw"]) == 0
    default = pd.read_parquet(tmp_path / "default" / "events.parquet")
    kept = pd.read_parquet(tmp_path / "kept" / "events.parquet")
    mapped = default["activity"].isin(["submitted", "resolved", "forwarded"])
    assert default.loc[mapped, "activity_raw"].isna().all()
    assert default.loc[~mapped, "activity_raw"].notna().all()  # unmapped labels are reported
    assert set(kept.loc[mapped, "activity_raw"]) >= {"Dibuat", "Selesai"}
    # even kept, the mapped-away staff label is scrubbed
    assert not kept["activity_raw"].astype("str").str.contains("0819", regex=False).any()
    # the mapped channel is blank too: twitter was read by the vocabulary
    assert default["channel_raw"].isna().all()
    assert (kept["channel_raw"] == "twitter").all()


def test_an_error_naming_a_column_or_a_file_is_scrubbed_on_the_console(tmp_path, capsys):
    """A refused file's error lists the columns found; the console shows them scrubbed."""
    log = tmp_path / "laporan 0812-3456-7890.csv"
    log.write_text("nama,budi.santoso@gmail.com\nx,y\n", encoding="utf-8")
    key = tmp_path / "sekat.key"
    key.write_text("a long secret key for the scrubber test\n")
    argv = ["prepare", str(log), "--out", str(tmp_path / "out"), "--key-file", str(key)]
    assert main([*argv, "--json"]) == 2
    captured = capsys.readouterr()
    line = captured.err.strip()
    assert line.startswith("sekat: error: ") and "columns found" in line
    assert "[removed:email]" in line and "[removed:phone]" in line
    for stream in (captured.err, captured.out):
        assert "budi" not in stream and "0812-3456-7890" not in stream
