"""Participants and documents sheets, speaker matching."""

from __future__ import annotations

import pytest

from vbhc_code.errors import DataError, ValidationError
from vbhc_code.files.sheets import SpeakerMatcher, label_key, load_documents_sheet, load_participants


def test_participants_csv(tmp_path):
    f = tmp_path / "participants.csv"
    f.write_text("participant_id,aliases,group\nP01,Anna;Anna B.,SIM\nP02,,VBHC\n", encoding="utf-8")
    ps = load_participants(f)
    assert [p.participant_id for p in ps] == ["P01", "P02"]
    assert ps[0].aliases == ("Anna", "Anna B.")
    assert dict(ps[1].attributes) == {"group": "VBHC"}


@pytest.mark.parametrize("sep", [",", ";", "\t"])
def test_participants_csv_delimiters_quotes_and_apostrophes(tmp_path, sep):
    """Excel in a Dutch locale writes ';'. Only '"' quotes: a cell such as 'P01 (an apostrophe, or a
    neutralised '=... from our own export) never starts a quoted field."""
    f = tmp_path / "participants.csv"
    rows = ["participant_id", "aliases", "role"], ["P01", "'Jan", "'=cmd|x"], ["P02", '"A, B"', "it's"]
    f.write_text("\ufeff" + "\r\n".join(sep.join(r) for r in rows) + "\r\n", encoding="utf-8")
    ps = load_participants(f)
    assert [(p.participant_id, p.aliases, dict(p.attributes)) for p in ps] == [
        ("P01", ("'Jan",), {"role": "=cmd|x"}), ("P02", ("A, B",), {"role": "it's"})]


def test_participants_xlsx(tmp_path):
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    ws.append(["participant_id", "group", "age"])
    ws.append(["P1", "SIM", 54])
    f = tmp_path / "p.xlsx"
    wb.save(f)
    (p,) = load_participants(f)
    assert p.participant_id == "P1" and p.attributes["age"] == "54"


def test_utf16_csv_and_a_damaged_xlsx(tmp_path):
    import io
    import zipfile

    from openpyxl import Workbook

    f = tmp_path / "p.csv"
    f.write_bytes("participant_id\tgroup\nP01\tSIM\n".encode("utf-16"))  # Excel "Unicode text"
    (p,) = load_participants(f)
    assert (p.participant_id, dict(p.attributes)) == ("P01", {"group": "SIM"})
    wb = Workbook()
    wb.active.append(["participant_id"])
    buf = io.BytesIO()
    wb.save(buf)
    data = buf.getvalue()
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        info = zf.getinfo("xl/worksheets/sheet1.xml")
    start = info.header_offset + 30 + len(info.filename.encode()) + int.from_bytes(
        data[info.header_offset + 28:info.header_offset + 30], "little")
    (tmp_path / "p.xlsx").write_bytes(data[:start] + b"\xff" * info.compress_size + data[start + info.compress_size:])
    with pytest.raises(DataError) as exc:
        load_participants(tmp_path / "p.xlsx")
    assert str(exc.value) == (
        "p.xlsx: entry 'xl/worksheets/sheet1.xml' is damaged (bad compressed data or checksum); cannot read it"
    )


def test_missing_participant_id_column(tmp_path):
    f = tmp_path / "participants.csv"
    f.write_text("id,group\nP01,SIM\n", encoding="utf-8")
    with pytest.raises(DataError) as exc:
        load_participants(f)
    assert str(exc.value) == "participants.csv line 1: no 'participant_id' column (the header row has 2 named columns)"


def test_duplicate_ids_located(tmp_path):
    f = tmp_path / "participants.csv"
    f.write_text("participant_id,group\nP01,SIM\nP02,SIM\np1,VBHC\n,SIM\n", encoding="utf-8")
    with pytest.raises(ValidationError) as exc:
        load_participants(f)
    assert exc.value.problems == [
        "[participants.csv line 4] duplicate participant_id (the same as at participants.csv line 2)",
        "[participants.csv line 5] empty participant_id",
    ]


def test_documents_sheet_bad_type(tmp_path):
    f = tmp_path / "documents.csv"
    f.write_text("document,type,health_system\nINT01.txt,interview,NL\nFG01.vtt,focusgroup,BE\n", encoding="utf-8")
    with pytest.raises(ValidationError) as exc:
        load_documents_sheet(f)
    assert exc.value.problems == ["[documents.csv line 3] type (a text of 10 characters) is not one of interview, focus_group"]


def test_label_key_and_matcher():
    from vbhc_code.models import Participant

    m = SpeakerMatcher([Participant("P01", ("Marieke",)), Participant("P02"), Participant("P10")])
    assert m.match("p1") == "P01"
    assert m.match("P 02") == "P02"
    assert m.match("MARIEKE") == "P01"
    assert m.match("Participant 10") == "P10"
    assert m.match("Interviewer") is None
    assert label_key("R03:") == "r3"
    # ambiguous: two participants share an alias -> no match
    amb = SpeakerMatcher([Participant("P01", ("Sam",)), Participant("P02", ("Sam",))])
    assert amb.match("Sam") is None


def test_speaker_role_column_names_interviewers_and_refuses_other_values(tmp_path):
    f = tmp_path / "participants.csv"
    f.write_text("participant_id,aliases,speaker_role\nP01,Max,\nINT,Anna de Vries;AdV,Interviewer\nP02,,participant\n",
                 encoding="utf-8")  # fmt: skip
    ps = load_participants(f)
    assert [p.attributes["speaker_role"] for p in ps] == ["participant", "interviewer", "participant"]
    m = SpeakerMatcher(ps)
    assert m.match("Max") == "P01" and m.match("AdV") is None and m.match("INT") is None  # never a participant
    assert m.is_interviewer("adv") and m.is_interviewer("Anna de Vries") and not m.is_interviewer("Max")
    assert m.interviewer_labels == ["INT", "Anna de Vries", "AdV"] and "AdV" not in m.labels
    f.write_text("participant_id,speaker_role\nP01,moderator\nP02,\n", encoding="utf-8")
    with pytest.raises(ValidationError) as exc:
        load_participants(f)
    assert exc.value.problems == ["[participants.csv line 2] speaker_role (a text of 9 characters) is not one of participant, interviewer"]
