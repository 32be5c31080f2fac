"""sekat describe: a file's columns and values, counted by hand, and a mapping that works.

The description is the data owner's view: raw values, counted in requests. It never raises
on a file it can read, whatever the mapping; its template, once saved, reads the file.
"""

from __future__ import annotations

import tomllib

import pytest

from toolkit.cli import main
from toolkit.errors import SekatError
from toolkit.io.describe import describe, guess_role
from toolkit.io.readers import describe_columns, read_events

LOG = """\
no_tiket,dibuat,unit_kerja,status,kanal,catatan
T1,2024-01-05 08:00,Dinas PU,Diterima,WhatsApp,rusak
T1,2024-01-05 09:00,Dinas PU,Selesai,WhatsApp,
T2,2024-01-05 10:00,Dinas P.U.,Diterima,Radio,banjir
T3,2024-01-06 10:00,Kelurahan A,Diterima,Radio,
T3,2024-01-06 11:00,Kelurahan A,Diterima,Radio,
"""


@pytest.fixture
def log(tmp_path):
    path = tmp_path / "log.csv"
    path.write_text(LOG, encoding="utf-8")
    return path


def test_columns_types_and_counts_by_hand(log):
    found = describe(log)
    table = found.columns.set_index("column")
    assert found.rows == 5 and list(table.index)[-1] == "catatan"
    assert table.loc["dibuat", "type"] == "date/time" and table.loc["no_tiket", "type"] == "text"
    assert (table.loc["catatan", "filled"], table.loc["catatan", "distinct"]) == (2, 2)
    assert table.loc["kanal", "values"] == "Radio (3), WhatsApp (2)"
    assert (
        table.loc["kanal", "read_as"] == "channel?" and table.loc["catatan", "read_as"] == "dropped"
    )


def test_vocabulary_is_raw_and_counted_in_requests(log):
    found = describe(log, {"columns": {"no_tiket": "case_id"}})
    channels = found.vocabulary["channel"].set_index("value")
    # Radio: 3 rows but 2 requests (T2, T3); WhatsApp: 2 rows, 1 request
    assert channels["requests"].to_dict() == {"Radio": 2, "WhatsApp": 1}
    assert channels.loc["WhatsApp", "read_as"] == "whatsapp"
    assert channels["read_as"].isna().tolist() == [True, False]  # Radio is unknown
    activities = found.vocabulary["activity"].set_index("value")["requests"].to_dict()
    assert activities == {"Diterima": 3, "Selesai": 1}
    assert "'Radio' 2" in str(found)  # the console shows the raw value


def test_never_raises_when_the_mapping_does_not_fit(log):
    found = describe(log, {"columns": {"nothing": "case_id"}, "keep": ["absent"]})
    assert found.problems and "required column" in found.problems[0]
    assert describe_columns(log, {"keep": ["absent"]})["column"].tolist()[0] == "no_tiket"
    with pytest.raises(SekatError, match="does not exist"):
        describe(log.with_name("missing.csv"))  # a file it cannot read is still an error


def test_the_template_once_edited_reads_the_file(log, tmp_path):
    found = describe(log)
    data = tomllib.loads(found.template)  # valid TOML as written
    assert data["columns"] == {
        "no_tiket": "case_id",
        "dibuat": "timestamp",
        "unit_kerja": "agency",
        "status": "activity",
        "kanal": "channel",
    }
    assert data["channels"]["Radio"] == "other" and data["channels"]["WhatsApp"] == "whatsapp"
    edited = found.template.replace('"Selesai" = "in_progress"', '"Selesai" = "resolved"')
    mapping = tmp_path / "m.toml"
    mapping.write_text(edited, encoding="utf-8")
    events = read_events(log, mapping=mapping)
    assert events["activity"].tolist()[:2] == ["in_progress", "resolved"]


def test_a_request_layout_is_suggested_for_two_dates_and_no_activity(tmp_path):
    path = tmp_path / "req.csv"
    path.write_text(
        "id,created,closed,dept\n1,2024-01-05 08:00,2024-01-06 08:00,PW\n2,2024-01-05 09:00,,PW\n",
        encoding="utf-8",
    )
    template = describe(path).template
    assert '# opened = "created"' in template and '# closed = "closed"' in template
    mapping = template.replace("# [request]", "[request]").replace("# opened", "opened")
    mapping = mapping.replace("# closed", "closed")
    (tmp_path / "m.toml").write_text(mapping, encoding="utf-8")
    events = read_events(path, mapping=tmp_path / "m.toml")
    assert events["activity"].tolist() == ["submitted", "closed", "submitted"]
    assert events["channel"].astype(str).tolist() == ["other"] * 3  # channel = "other"


def test_guessed_roles():
    assert guess_role("CASE_ENQUIRY_ID") == "case_id"
    assert guess_role("Tanggal Laporan") == "timestamp"
    assert guess_role("Sumber Pengaduan") == "channel"
    assert guess_role("request_id") == "case_id"


def test_sekat_describe_prints_near_duplicates_and_writes_the_template(log, tmp_path, capsys):
    template = tmp_path / "mapping.toml"
    assert main(["describe", str(log), "--template", str(template)]) == 0
    out = capsys.readouterr().out
    assert "'Dinas P.U.' (1) and 'Dinas PU' (1)" in out
    assert tomllib.loads(template.read_text())["columns"]["kanal"] == "channel"
    assert main(["describe", str(tmp_path / "none.csv")]) == 2
