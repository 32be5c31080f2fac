"""pseudonymise: keyed, stable pseudonyms; nothing outside the contract; PII found and removed."""

from __future__ import annotations

import hashlib
import hmac

import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from toolkit.clean.privacy import (
    DEMO_KEY,
    KEY_ENV,
    PSEUDONYM_HEX_CHARS,
    pseudonym,
    pseudonymise,
    resolve_key,
    scrub_text,
)
from toolkit.errors import KeyMissingError, MissingColumnError


def _events() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "case_id": ["REQ-001", "REQ-001", "REQ-002"],
            "agency": ["Kelurahan A", "Dinas PU", "Kelurahan A"],
            "activity_raw": ["opened", "forwarded REQ-001 to PU", "reply to siti@mail.co.id"],
            "channel_raw": ["WA 0812 3456 7890", "WA 0812 3456 7890", "Twitter"],
            "region": pd.Series(["Menteng", "Menteng", "NIK 3171234567890123"], dtype="category"),
            "complaint_text": ["jalan rusak", "jalan rusak", "air mati"],
            "citizen_id": ["P1", "P1", "P2"],
        }
    )


def test_pseudonym_is_truncated_hmac_sha256():
    expected = hmac.new(b"key", b"REQ-001", hashlib.sha256).hexdigest()[:PSEUDONYM_HEX_CHARS]
    assert pseudonym("REQ-001", b"key") == "c_" + expected
    assert PSEUDONYM_HEX_CHARS >= 16


def test_same_key_same_pseudonyms_other_key_other_pseudonyms():
    a = pseudonymise(_events(), key="key one for the tests")
    b = pseudonymise(_events(), key="key one for the tests")
    c = pseudonymise(_events(), key="key two for the tests")
    assert a["case_id"].tolist() == b["case_id"].tolist()
    assert a["case_id"].iloc[0] == a["case_id"].iloc[1] != a["case_id"].iloc[2]
    assert set(a["case_id"]).isdisjoint(c["case_id"])


def test_columns_outside_the_contract_are_dropped_unless_kept():
    anon = pseudonymise(_events(), key="a key for the privacy tests")
    assert "complaint_text" not in anon and "citizen_id" not in anon
    assert anon.attrs["privacy"]["dropped_columns"] == ["complaint_text", "citizen_id"]
    kept = pseudonymise(
        _events(),
        key="a key for the privacy tests",
        keep=["complaint_text"],
        id_columns=["case_id", "citizen_id"],
    )
    assert kept["complaint_text"].tolist() == ["jalan rusak", "jalan rusak", "air mati"]
    assert kept["citizen_id"].str.startswith("p_").all()


def test_pii_and_raw_ids_are_removed_and_counted():
    anon = pseudonymise(_events(), key="a key for the privacy tests")
    assert anon["activity_raw"].tolist() == [
        "opened",
        "forwarded [removed:id] to PU",
        "reply to [removed:email]",
    ]
    assert anon["channel_raw"].tolist()[0] == "WA [removed:phone]"
    assert anon["region"].astype(str).tolist()[2] == "NIK [removed:nik]"
    assert isinstance(anon["region"].dtype, pd.CategoricalDtype)
    report = anon.attrs["privacy"]
    assert report["removed"] == {
        "address": 0,
        "email": 1,
        "id": 1,
        "nik": 1,
        "phone": 2,
        "rare_value": 0,
    }
    assert report["removed_by_column"]["channel_raw"] == {"phone": 2}
    text = anon.astype(str).to_string()
    for secret in ("REQ-001", "REQ-002", "siti@", "0812", "3171234567890123"):
        assert secret not in text


@pytest.mark.parametrize(
    "phone",
    [
        "08123456789",
        "0812-3456-7890",
        "0812 3456 7890",
        "+62 812 3456 7890",
        "+6281234567890",
        "6281234567890",
        "(021) 5551234",
        "021-5551234",
        "+62 21 5551234",
        "+1 415 555 0100",
        "+44 20 7946 0958",
    ],
)
def test_phone_forms_are_detected(phone):
    cleaned, counts = scrub_text(f"hubungi {phone} segera")
    assert cleaned == "hubungi [removed:phone] segera"
    assert counts == {"phone": 1}


@pytest.mark.parametrize(
    "text",
    [
        "2024-01-05 10:30:00",
        "05-01-2024 10:30",
        "tiket 12345678",
        "T02 Check",
        "RT 03/RW 05",
        "Rp 1.500.000",
    ],
)
def test_dates_and_ordinary_numbers_are_left_alone(text):
    assert scrub_text(text) == (text, {})


def test_nik_and_email_forms():
    assert scrub_text("NIK: 3171 2345 6789 0123") == ("NIK: [removed:nik]", {"nik": 1})
    assert scrub_text("31712345678901234")[1] == {}  # 17 digits: not a NIK (nor a phone)
    assert scrub_text("317123.456789.0123") == ("[removed:nik]", {"nik": 1})
    assert scrub_text("a.b+c@dinas.jakarta.go.id.") == ("[removed:email].", {"email": 1})


def test_key_sources(monkeypatch, tmp_path):
    monkeypatch.delenv(KEY_ENV, raising=False)
    with pytest.raises(KeyMissingError, match="SEKAT_KEY"):
        pseudonymise(_events())
    monkeypatch.setenv(KEY_ENV, "from-env, long enough")
    assert resolve_key() == (b"from-env, long enough", "environment")
    key_file = tmp_path / "sekat.key"
    key_file.write_bytes(b"from-file, long enough\n")
    assert resolve_key(key_file=key_file) == (b"from-file, long enough", "key_file")
    assert resolve_key("explicit, long enough", key_file=key_file) == (
        b"explicit, long enough",
        "argument",
    )
    with pytest.raises(KeyMissingError, match="missing.key"):
        resolve_key(key_file=tmp_path / "missing.key")
    empty = tmp_path / "empty.key"
    empty.write_bytes(b"\n")
    with pytest.raises(KeyMissingError, match="empty"):
        resolve_key(key_file=empty)
    assert pseudonymise(_events(), key=DEMO_KEY).attrs["privacy"]["key_source"] == "demo"
    assert b"NOT-SECRET" in DEMO_KEY


def test_missing_id_column():
    with pytest.raises(MissingColumnError, match="ticket"):
        pseudonymise(_events(), key="a key for the privacy tests", id_columns=["ticket"])


_ID = st.text(alphabet="ABCXYZ0123456789-", min_size=3, max_size=10).filter(
    lambda s: any(c.isalnum() for c in s)
)


@given(ids=st.lists(_ID, min_size=1, max_size=6, unique=True), seed=st.integers(0, 10**6))
def test_raw_ids_never_survive_as_words(ids, seed):
    words = ["ticket", "ke", "dinas", "0812-3456-7890", "x@y.id"]
    rows = []
    for i, case in enumerate(ids):
        other = ids[(i + seed) % len(ids)]
        rows.append(
            {
                "case_id": case,
                "agency": f"dinas {other}",
                "activity_raw": f"{words[(seed + i) % 5]} {other}, {case}.",
            }
        )
    anon = pseudonymise(pd.DataFrame(rows), key="a key for the privacy tests")
    for column in ("agency", "activity_raw"):
        for value in anon[column]:
            tokens = {t.strip(".,") for t in value.split()}
            assert tokens.isdisjoint(ids)
    assert set(anon["case_id"]).isdisjoint(ids)


@given(
    key=st.binary(min_size=1, max_size=130),  # shorter than, equal to and longer than a block
    values=st.lists(st.text(max_size=30), max_size=8),
    prefix=st.sampled_from(["c_", "p_", "t_"]),
)
def test_many_pseudonyms_at_once_are_the_hmac_of_each(key, values, prefix):
    """The batch form pads the key once (RFC 2104); every string equals hmac's own."""
    from toolkit.clean.privacy import pseudonyms

    assert pseudonyms(values, key, prefix) == [pseudonym(v, key, prefix) for v in values]
    by_hand = [
        prefix + hmac.new(key, v.encode("utf-8"), hashlib.sha256).hexdigest()[:20] for v in values
    ]
    assert pseudonyms(values, key, prefix) == by_hand


def test_a_part_pseudonymised_on_the_whole_logs_codes_equals_the_part_on_its_own():
    """prepare pseudonymises the kept rows with the codes of the whole log
    (population_rows); the table and its privacy report are those of the part alone."""
    import numpy as np

    from toolkit.clean.privacy import Rarity

    log = pd.DataFrame(
        {
            "case_id": ["r1", "r1", "r2", "r3", "r3", "r4", "r5"],
            "agency": [
                "Dinas PU",
                "Pak Budi",
                "Dinas PU",
                "Dinas PU",
                "a@b.co",
                "Kel. A",
                "Kel. A",
            ],
            "category": pd.Categorical(["roads", "water", "roads", "roads", "waste", "roads", "x"]),
            "activity_raw": [None, "call 0812 3456 7890", "see r4", None, None, None, "r1"],
        }
    )
    rows = np.array([0, 2, 3, 4, 6])  # r4 is wholly set aside, r1 and r5 partly
    key = b"a long secret key, kept safe"
    alone = pseudonymise(
        log.iloc[rows].reset_index(drop=True), key=key, rare_below=2, population=log
    )
    rarity = Rarity(log, 2)
    shared = pseudonymise(
        log.iloc[rows].reset_index(drop=True),
        key=key,
        rare_below=2,
        population=rarity,
        population_rows=rows,
    )
    pd.testing.assert_frame_equal(shared, alone, check_exact=True)
    assert shared.attrs == alone.attrs
    assert alone.attrs["privacy"]["pseudonymised"] == {"case_id": 4}
