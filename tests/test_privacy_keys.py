"""Keys that could be guessed are refused, and the manifest's fingerprint gives no key back.

Issue 15: ``SEKAT_KEY=a`` and a key of three spaces were accepted, and the 12-hex HMAC
fingerprint of a four-letter key gave it back by brute force in 2 s. Now a key must be 16
bytes or more and not one repeated character; the fingerprint is scrypt, salted with the
release's own hash.
"""

from __future__ import annotations

import hashlib
import hmac
import json

import pandas as pd
import pytest

from toolkit.clean.privacy import (
    DEMO_KEY,
    KEY_ENV,
    MAX_KEY_BYTES,
    MIN_KEY_BYTES,
    check_key,
    key_fingerprint,
    pseudonymise,
    resolve_key,
)
from toolkit.cli import main
from toolkit.errors import KeyMissingError

GOOD_KEY = "a long secret key, kept outside the repository"


def _log(tmp_path):
    path = tmp_path / "log.csv"
    path.write_text(
        "case_id,timestamp,agency,activity,channel\n"
        "r1,2024-01-05 08:00,A,submitted,web\n"
        "r1,2024-01-05 09:00,B,resolved,web\n"
    )
    return path


@pytest.mark.parametrize(
    ("key", "why"),
    [
        ("a", "too short"),
        ("abcd", "too short"),
        ("x" * (MIN_KEY_BYTES - 1), "too short"),
        ("   ", "too short"),
        ("a" * 40, "one character repeated"),
        (" " * 20, "one character repeated"),
        (b"\x00" * 32, "one character repeated"),
    ],
)
def test_weak_keys_are_refused(key, why):
    with pytest.raises(KeyMissingError, match=why) as info:
        resolve_key(key)
    text = key if isinstance(key, str) else key.decode("latin-1")
    if len(text.strip()) > 3:
        assert text not in str(info.value)  # the message never shows the key
    with pytest.raises(KeyMissingError):
        pseudonymise(pd.DataFrame({"case_id": ["r1"]}), key=key)


def test_keys_of_16_bytes_and_more_are_accepted():
    assert resolve_key("0123456789abcdef") == (b"0123456789abcdef", "argument")
    check_key(b"ab" * 8)
    assert resolve_key(DEMO_KEY)[1] == "demo"


@pytest.mark.parametrize("value", ["a", "   ", "aaaaaaaaaaaaaaaaaaaaaaaa"])
def test_the_command_refuses_a_weak_key_from_the_environment(tmp_path, capsys, monkeypatch, value):
    monkeypatch.setenv(KEY_ENV, value)
    assert main(["prepare", str(_log(tmp_path)), "--out", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "sekat: error:" in err
    assert "secrets.token_hex" in err  # says how to make a good one
    assert not (tmp_path / "out").exists()


def test_a_key_file_that_never_ends_is_refused(tmp_path, capsys):
    argv = ["prepare", str(_log(tmp_path)), "--out", str(tmp_path / "out")]
    assert main([*argv, "--key-file", "/dev/zero"]) == 2
    err = capsys.readouterr().err.strip()
    assert "/dev/zero" in err and str(MAX_KEY_BYTES) in err
    big = tmp_path / "big.key"
    big.write_bytes(b"k" * (MAX_KEY_BYTES + 10))
    assert main([*argv, "--key-file", str(big)]) == 2


def test_demo_key_stays_for_the_synthetic_sample(tmp_path):
    assert main(["prepare", str(_log(tmp_path)), "--out", str(tmp_path / "out"), "--demo-key"]) == 0


def test_fingerprint_is_salted_scrypt_not_a_fast_hash(tmp_path):
    key = tmp_path / "sekat.key"
    key.write_text(GOOD_KEY + "\n")
    out = tmp_path / "out"
    assert main(["prepare", str(_log(tmp_path)), "--out", str(out), "--key-file", str(key)]) == 0
    manifest_text = (out / "manifest.json").read_text()
    manifest = json.loads(manifest_text)
    fingerprint = manifest["parameters"]["key_fingerprint"]
    assert len(fingerprint) == 32
    # the fast fingerprint of old is nowhere
    fast = hmac.new(GOOD_KEY.encode(), b"sekat key fingerprint", hashlib.sha256).hexdigest()
    assert fast[:12] not in manifest_text
    assert GOOD_KEY not in manifest_text
    # it is scrypt of the key, salted: another salt, another fingerprint
    assert key_fingerprint(GOOD_KEY.encode(), b"salt one") != key_fingerprint(
        GOOD_KEY.encode(), b"salt two"
    )
    salts = [bytes([i]) * 16 for i in range(3)]
    assert fingerprint not in {key_fingerprint(GOOD_KEY.encode(), s) for s in salts}
    expected = hashlib.scrypt(
        GOOD_KEY.encode(), salt=b"x", n=2**14, r=8, p=1, maxmem=64 << 20, dklen=16
    ).hex()
    assert key_fingerprint(GOOD_KEY.encode(), b"x") == expected
    # the report carries the same fingerprint as the manifest, not a second, faster one
    report = json.loads((out / "report.json").read_text())
    assert report["privacy"]["key_fingerprint"] == fingerprint


def test_same_key_same_release_same_fingerprint_so_reruns_skip(tmp_path):
    key = tmp_path / "sekat.key"
    key.write_text(GOOD_KEY + "\n")
    argv = ["prepare", str(_log(tmp_path)), "--key-file", str(key), "-q"]
    assert main([*argv, "--out", str(tmp_path / "a")]) == 0
    assert main([*argv, "--out", str(tmp_path / "b")]) == 0
    a = (tmp_path / "a" / "manifest.json").read_bytes()
    assert a == (tmp_path / "b" / "manifest.json").read_bytes()  # byte-identical
    key.write_text("another long secret key, also kept outside\n")
    assert main([*argv, "--out", str(tmp_path / "a")]) == 0
    assert (tmp_path / "a" / "manifest.json").read_bytes() != a  # another key rebuilds
