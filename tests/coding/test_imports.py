"""Coder workbooks (write, fill as a coder would, import), long-file import, export and listing."""

from __future__ import annotations

import csv
import io
from dataclasses import replace
from pathlib import Path

import pytest
from codings_fixture import CB, CB2, DOCS, make_document, make_store
from hypothesis import example, given, settings
from hypothesis import strategies as hs
from openpyxl import load_workbook
from typer.testing import CliRunner

from vbhc_code.cli import app
from vbhc_code.coding.imports import (
    EXPORT_COLUMNS,
    default_codebook,
    export_codings,
    import_codings,
    list_codings,
    read_long_codings,
    write_workbooks,
)
from vbhc_code.coding.workbook import canonical_text, codebook_sha, text_hash
from vbhc_code.errors import DataError, HumanWorkExists, UsageError, ValidationError
from vbhc_code.files.csvfile import CsvOptions
from vbhc_code.models import Coding

runner = CliRunner()

# Turns sheet layout for the fixture: A document, B turn_index, C speaker, D participant_id, E group,
# F participant_text, G text, H C1, I C2, J C3, K memo; rows 2-5 = int01 #2, int01 #4, int02 #2, int02 #3.
# Documents sheet: E = coded; row 2 int01.txt, row 3 int02.txt.


@pytest.fixture()
def store(tmp_path):
    st = make_store(tmp_path / "s.sqlite")
    yield st
    st.close()


def fill(path: Path, cells: dict[str, dict[str, object]]) -> None:
    """Type values into a workbook as a coder would in Excel (openpyxl, normal load and save)."""
    wb = load_workbook(path)
    for sheet, values in cells.items():
        for coord, value in values.items():
            wb[sheet][coord] = value
    wb.save(path)


def cells(st, coder):
    return {(c.document, c.turn_index, c.code) for c in st.codings(coder)}


def test_workbook_layout(store, tmp_path):
    (issued,) = write_workbooks(store, coders=["anna"], codebook=CB, scope="participant", out_dir=tmp_path / "codings")
    assert issued.path == tmp_path / "codings" / "coder-anna.xlsx" and (issued.turns, issued.documents) == (4, 2)
    wb = load_workbook(issued.path)
    assert wb.sheetnames == ["Turns", "Documents", "Codebook", "Instructions", "_meta", "_turns"]
    assert [ws.sheet_state for ws in wb] == ["visible"] * 4 + ["hidden"] * 2
    turns = wb["Turns"]
    rows = list(turns.iter_rows(values_only=True))
    assert rows[0] == ("document", "turn_index", "speaker", "participant_id", "group", "participant_text", "text",
                       "C1", "C2", "C3", "memo")
    assert [r[:2] for r in rows[1:]] == [("int01.txt", 2), ("int01.txt", 4), ("int02.txt", 2), ("int02.txt", 3)]
    assert rows[1][4:7] == ("manager", "", "We use PROMs and a registry.")
    assert rows[2][6].startswith("=SUM(A1)")  # stored as text, never as a formula
    assert turns["G3"].data_type == "s"
    assert turns.freeze_panes == "A2" and int(turns.column_dimensions["G"].width) == 90
    validations = {str(dv.sqref): dv.formula1 for dv in turns.data_validations.dataValidation}
    assert validations == {"H2:H5": '"1,x"', "I2:I5": '"1,x"', "J2:J5": '"1,x"'}
    docs = list(wb["Documents"].iter_rows(values_only=True))
    assert docs == [("document", "type", "language", "turns", "coded"), ("int01.txt", "interview", "en", 2, "no"),
                    ("int02.txt", "interview", "en", 2, "no")]
    assert {str(dv.sqref): dv.formula1 for dv in wb["Documents"].data_validations.dataValidation} == {
        "E2:E3": '"yes,no"'
    }
    cb = list(wb["Codebook"].iter_rows(values_only=True))
    assert cb[0][:4] == ("code", "theme", "title", "label")  # the readable title beside the identifiers
    assert cb[1][:7] == ("C1", "T", "", "outcomes", "Measuring outcomes.", "PROMs", "work outcomes: C2")
    meta = dict(wb["_meta"].iter_rows(min_row=2, values_only=True))
    assert (meta["coder"], meta["scope"], meta["codebook_name"], meta["codebook_version"]) == (
        "anna", "participant", "test-cb", "1.0")
    assert meta["codebook_sha256"] == store.codebooks()[0].sha256 and meta["prefill"] == ""
    hashes = list(wb["_turns"].iter_rows(min_row=2, values_only=True))
    assert hashes[1] == ("int01.txt", 4, text_hash(DOCS["int01.txt"][3][3]))


def test_scope_all_lists_interviewer_turns(store, tmp_path):
    (issued,) = write_workbooks(store, coders=["anna"], codebook=CB, scope="all", out_dir=tmp_path)
    rows = list(load_workbook(issued.path, read_only=True)["Turns"].iter_rows(min_row=2, values_only=True))
    assert len(rows) == 7 and rows[0][2] == "I"


def test_workbooks_are_blind_unless_prefilled(store, tmp_path):
    store.replace_codings("auto", [Coding("int01.txt", 2, "C1", "auto"), Coding("int02.txt", 3, "C3", "auto")],
                          coded_documents=["int01.txt", "int02.txt"], codebook=CB)
    store.replace_codings("ben", [Coding("int01.txt", 4, "C2", "ben")], coded_documents=["int01.txt"], codebook=CB)
    write_workbooks(store, coders=["anna"], codebook=CB, out_dir=tmp_path / "blind")
    ws = load_workbook(tmp_path / "blind" / "coder-anna.xlsx")["Turns"]
    assert all(ws.cell(r, c).value is None for r in range(2, 6) for c in range(8, 11))
    (issued,) = write_workbooks(store, coders=["anna"], codebook=CB, out_dir=tmp_path / "pre", prefill="auto")
    assert issued.warning == ("coder-anna.xlsx is pre-filled with the codings of 'auto': anna codes with them in "
                              "view (not blind to that coder)")
    wb = load_workbook(tmp_path / "pre" / "coder-anna.xlsx")
    marks = {(r, c) for r in range(2, 6) for c in range(8, 11) if wb["Turns"].cell(r, c).value is not None}
    assert marks == {(2, 8), (5, 10)}  # auto's codes only, never ben's
    assert dict(wb["_meta"].iter_rows(min_row=2, values_only=True))["prefill"] == "auto"
    assert [r[4] for r in wb["Documents"].iter_rows(min_row=2, values_only=True)] == ["no", "no"]
    # re-issuing ben his own work keeps his codes and his 'coded' marks
    (issued,) = write_workbooks(store, coders=["ben"], codebook=CB, out_dir=tmp_path / "own", prefill="ben")
    wb = load_workbook(issued.path)
    assert issued.warning is None and wb["Turns"]["I3"].value == 1
    assert [r[4] for r in wb["Documents"].iter_rows(min_row=2, values_only=True)] == ["yes", "no"]
    import_codings(store, [issued.path])
    assert cells(store, "ben") == {("int01.txt", 4, "C2")} and store.coded_documents("ben") == {"int01.txt"}


def test_existing_workbook_is_never_overwritten_without_force(store, tmp_path):
    write_workbooks(store, coders=["anna"], codebook=CB, out_dir=tmp_path)
    path = tmp_path / "coder-anna.xlsx"
    fill(path, {"Turns": {"H2": "x"}})
    before = path.read_bytes()
    with pytest.raises(HumanWorkExists) as exc:
        write_workbooks(store, coders=["ben", "anna"], codebook=CB, out_dir=tmp_path)
    assert str(exc.value) == f"{path} already exists (a coder's work); use force=True to overwrite"
    assert path.read_bytes() == before and not (tmp_path / "coder-ben.xlsx").exists()  # nothing written
    write_workbooks(store, coders=["anna"], codebook=CB, out_dir=tmp_path, force=True)
    assert load_workbook(path)["Turns"]["H2"].value is None


def test_bad_coder_names_and_prefill(store, tmp_path):
    with pytest.raises(UsageError, match="coder name 'an na' is not usable"):
        write_workbooks(store, coders=["an na"], codebook=CB, out_dir=tmp_path)
    with pytest.raises(UsageError, match="coder 'anna' named twice"):
        write_workbooks(store, coders=["anna", "anna"], codebook=CB, out_dir=tmp_path)
    with pytest.raises(Exception, match="^prefill: no coder 'auto' in the store"):
        write_workbooks(store, coders=["anna"], codebook=CB, out_dir=tmp_path, prefill="auto")


def test_prefill_typo_lists_the_coders(store, tmp_path):
    store.replace_codings("auto", [], coded_documents=[], codebook=CB)
    with pytest.raises(DataError) as err:
        write_workbooks(store, coders=["anna"], codebook=CB, out_dir=tmp_path, prefill="auot")
    assert str(err.value) == "prefill: no coder 'auot' in the store (coders: auto)"
    assert not (tmp_path / "coder-anna.xlsx").exists()


def test_workbook_round_trip(store, tmp_path):
    write_workbooks(store, coders=["anna", "ben"], codebook=CB, out_dir=tmp_path)
    fill(tmp_path / "coder-anna.xlsx", {
        "Turns": {"H2": "x", "I2": 1, "J3": " X ", "K3": "a memo, not imported", "I4": "1"},
        "Documents": {"E2": "yes", "E3": "yes"},
    })
    fill(tmp_path / "coder-ben.xlsx", {"Turns": {"H2": 1}, "Documents": {"E2": "yes"}})
    report = import_codings(store, [tmp_path / "coder-anna.xlsx", tmp_path / "coder-ben.xlsx"])
    assert [c.coder for c in report.coders] == ["anna", "ben"] and report.warnings == []
    assert cells(store, "anna") == {("int01.txt", 2, "C1"), ("int01.txt", 2, "C2"), ("int01.txt", 4, "C3"),
                                    ("int02.txt", 2, "C2")}
    assert store.coded_documents("anna") == {"int01.txt", "int02.txt"}
    assert cells(store, "ben") == {("int01.txt", 2, "C1")} and store.coded_documents("ben") == {"int01.txt"}
    info = {c.name: c for c in store.coders()}
    assert (info["anna"].codebook_name, info["anna"].codebook_version, info["anna"].source) == (
        "test-cb", "1.0", "coder-anna.xlsx")
    # a re-import of different codings is refused; --replace replaces them, it does not add to them
    fill(tmp_path / "coder-anna.xlsx", {"Turns": {"I2": None, "J3": None, "I4": None}, "Documents": {"E3": "no"}})
    with pytest.raises(DataError) as exc:
        import_codings(store, [tmp_path / "coder-anna.xlsx"])
    assert exc.value.problems == [
        "coder 'anna' already has 4 codings (from coder-anna.xlsx); this import would change them: "
        "+0 added / -3 removed cells, +0 / -1 coded documents, source coder-anna.xlsx"]
    assert len(cells(store, "anna")) == 4  # nothing changed
    report = import_codings(store, [tmp_path / "coder-anna.xlsx"], replace=True)
    assert report.coders[0].change.status == "replaced" and report.coders[0].change.removed == 3
    assert cells(store, "anna") == {("int01.txt", 2, "C1")} and store.coded_documents("anna") == {"int01.txt"}


def test_sorted_rows_are_matched_by_document_and_turn(store, tmp_path):
    write_workbooks(store, coders=["anna"], codebook=CB, out_dir=tmp_path)
    path = tmp_path / "coder-anna.xlsx"
    wb = load_workbook(path)
    ws = wb["Turns"]
    rows = [[c.value for c in row] for row in ws.iter_rows(min_row=2)]
    for r, values in enumerate(reversed(rows), start=2):  # the coder sorted the sheet descending
        for c, v in enumerate(values, start=1):
            ws.cell(r, c).value = v
            if isinstance(v, str):
                ws.cell(r, c).data_type = "s"  # pasted as text: openpyxl would make '=...' a formula
    ws["J2"] = "x"  # now int02.txt #3
    wb["Documents"]["E3"] = "yes"
    wb.save(path)
    import_codings(store, [path])
    assert cells(store, "anna") == {("int02.txt", 3, "C3")}


def test_import_reports_every_located_problem_and_stores_nothing(store, tmp_path):
    store.replace_codings("anna", [Coding("int01.txt", 2, "C1", "anna")], coded_documents=["int01.txt"], codebook=CB)
    write_workbooks(store, coders=["anna"], codebook=CB, out_dir=tmp_path, force=True)
    path = tmp_path / "coder-anna.xlsx"
    fill(path, {
        "Turns": {"H2": "y", "I3": 2, "G4": "Employers want a return to work.", "J5": "x", "L1": "C9", "L2": "x"},
        "Documents": {"E2": "yes", "E3": "maybe"},
    })
    with pytest.raises(ValidationError) as exc:
        import_codings(store, [path])
    assert exc.value.message == "6 problem(s); nothing was imported"
    assert exc.value.problems == [
        "[coder-anna.xlsx Turns!H2] value (a text of 1 character) is not 1, x or empty",
        "[coder-anna.xlsx Turns!L1] unknown code (a text of 2 characters) (not in the codebook)",
        "[coder-anna.xlsx Turns!I3] value (a number) is not 1, x or empty",
        "[coder-anna.xlsx Turns!G4] the text of turn int02.txt #2 was edited; restore it",
        "[coder-anna.xlsx Documents!E3] coded (a text of 5 characters) is not yes or no",
        "[coder-anna.xlsx Documents!E3] document 'int02.txt' has codes but is not marked coded=yes",
    ]
    assert cells(store, "anna") == {("int01.txt", 2, "C1")}  # untouched


def test_turn_changed_in_store_and_unknown_turns(store, tmp_path):
    write_workbooks(store, coders=["anna"], codebook=CB, out_dir=tmp_path)
    path = tmp_path / "coder-anna.xlsx"
    fill(path, {"Turns": {"A5": "int09.txt"}, "Documents": {"E2": "yes"}})
    store.save_document(make_document("int01.txt", DOCS["int01.txt"], edit={2: "We use PROMs."}), replace=True)
    with pytest.raises(ValidationError) as exc:
        import_codings(store, [path])
    assert exc.value.problems == [
        "[coder-anna.xlsx Turns!G2] turn int01.txt #2 changed in the store since the workbook was issued "
        "(re-ingested?); issue a new workbook",
        "[coder-anna.xlsx Turns!A5] unknown document/turn int09.txt #3",
    ]


def test_long_csv_import(store, tmp_path):
    path = tmp_path / "coder-ben.csv"
    path.write_text("document,turn_index,code\r\nint01.txt,2,C1\r\nint01.txt,2,C2\r\nint01.txt,2,C1\r\n"
                    "int02.txt,,\r\n", encoding="utf-8")
    report = import_codings(store, [path], codebook=CB)
    assert report.coders[0].coder == "ben"  # from the file name
    assert cells(store, "ben") == {("int01.txt", 2, "C1"), ("int01.txt", 2, "C2")}
    assert store.coded_documents("ben") == {"int01.txt", "int02.txt"}  # named = coded, even without codes
    import_codings(store, [path], coder="carl", codebook=CB)
    assert cells(store, "carl") == cells(store, "ben")


def test_long_import_located_errors(store, tmp_path):
    path = tmp_path / "mixed.csv"
    path.write_text(
        "document,turn_index,code\nint01.txt,2,C1\nint07.txt,1,C1\nint01.txt,99,C1\nint01.txt,2,X5\n"
        "int01.txt,two,C1\n,1,C1\nint01.txt,,C2\n",
        encoding="utf-8",
    )
    with pytest.raises(ValidationError) as exc:
        import_codings(store, [path], coder="ben", codebook=CB)
    assert exc.value.problems == [
        "[mixed.csv line 6] turn_index (a text of 3 characters) is not a whole number",
        "[mixed.csv line 7] empty document",
        "[mixed.csv line 8] code (a text of 2 characters) without a turn_index",
        "[mixed.csv line 3] unknown document (a text of 9 characters)",
        "[mixed.csv line 4] unknown turn int01.txt #99",
        "[mixed.csv line 5] unknown code (a text of 2 characters) (not in test-cb 1.0)",
    ]
    with pytest.raises(ValidationError) as exc:
        import_codings(store, [path.with_name("nobody.csv")], codebook=CB)
    assert exc.value.problems == ["[nobody.csv] file not found"]
    ok = tmp_path / "plain.csv"
    ok.write_text("document,turn_index,code\nint01.txt,2,C1\n", encoding="utf-8")
    with pytest.raises(ValidationError) as exc:
        import_codings(store, [ok], codebook=CB)
    assert exc.value.problems == ["[plain.csv] which coder? pass coder=NAME (or name the file coder-NAME.csv)"]
    bad = tmp_path / "cols.csv"
    bad.write_text("doc,turn,code\nint01.txt,2,C1\n", encoding="utf-8")
    assert read_long_codings(bad)[1] == ["[cols.csv line 1] no 'document' column (the header row has 3 named columns)"]
    assert store.coders() == []


def test_import_errors_never_echo_long_cell_text(store, tmp_path):
    """A coder may paste interview text into a code column: the message describes it, never repeats it."""
    path = tmp_path / "pasted.csv"
    pasted = "we never see the outcome of our assessments"
    path.write_text(f"document,turn_index,code\nint01.txt,2,{pasted}\n", encoding="utf-8")
    with pytest.raises(ValidationError) as exc:
        import_codings(store, [path], coder="ben", codebook=CB)
    assert exc.value.problems == [
        f"[pasted.csv line 2] unknown code (a text of {len(pasted)} characters) (not in test-cb 1.0)"
    ]
    assert "outcome" not in str(exc.value)


def test_long_import_spans_must_lie_in_their_turn(store, tmp_path):
    t = {(x.document, x.turn_index): x for x in store.turns()}[("int01.txt", 2)]
    path = tmp_path / "coder-ben.csv"
    path.write_text(
        "document,turn_index,code,start,end\n"
        f"int01.txt,2,C1,{t.start},{t.start + 3}\n"  # inside: fine
        f"int01.txt,2,C2,0,{t.start + 3}\n"  # starts in the interviewer's question
        f"int01.txt,2,C3,{t.start},{t.end + 1}\n"  # runs past the turn
        f"int01.txt,2,C3,{t.start},\n",  # half a span
        encoding="utf-8",
    )
    with pytest.raises(ValidationError) as exc:
        import_codings(store, [path], codebook=CB)
    assert exc.value.problems == [
        f"[coder-ben.csv line 3] span 0-{t.start + 3} is outside turn int01.txt #2 ({t.start}-{t.end})",
        f"[coder-ben.csv line 4] span {t.start}-{t.end + 1} is outside turn int01.txt #2 ({t.start}-{t.end})",
        "[coder-ben.csv line 5] give both start and end (a span), or neither (the whole turn)",
    ]
    assert store.coders() == []
    path.write_text(f"document,turn_index,code,start,end\nint01.txt,2,C1,{t.start},{t.end}\n", encoding="utf-8")
    import_codings(store, [path], codebook=CB)
    (c,) = store.codings("ben")
    assert (c.start, c.end) == (t.start, t.end)


def test_same_coder_from_two_files(store, tmp_path):
    write_workbooks(store, coders=["anna"], codebook=CB, out_dir=tmp_path)
    fill(tmp_path / "coder-anna.xlsx", {"Documents": {"E2": "yes"}})
    csv_path = tmp_path / "coder-anna.csv"
    csv_path.write_text("document,turn_index,code\nint01.txt,2,C1\n", encoding="utf-8")
    with pytest.raises(ValidationError) as exc:
        import_codings(store, [tmp_path / "coder-anna.xlsx", csv_path], codebook=CB)
    assert exc.value.problems == ["[coder-anna.csv] coder 'anna' is also imported from coder-anna.xlsx"]
    assert store.coders() == []


def test_export_round_trip_csv_and_xlsx(store, tmp_path):
    # int01.txt #2 spans 36-64 ("We use PROMs and a registry."): 'PROMs' is 43-48
    codings = [Coding("int01.txt", 2, "C1", "auto", 43, 48, "=term 'PROMs'"),
               Coding("int02.txt", 3, "C3", "auto", evidence="'-already quoted")]
    store.replace_codings("auto", codings, coded_documents=["int01.txt", "int02.txt"], codebook=CB)
    out = tmp_path / "out" / "auto.csv"
    assert export_codings(store, coder="auto", out=out) == 2
    data = out.read_bytes()
    assert data.startswith(b"\xef\xbb\xbfdocument,turn_index,code,coder,start,end,evidence\r\n")
    # neutralised for spreadsheets: one more apostrophe before anything Excel would run as a formula
    assert data.decode("utf-8-sig").split("\r\n")[1:3] == ["int01.txt,2,C1,auto,43,48,'=term 'PROMs'",
                                                           "int02.txt,3,C3,auto,,,''-already quoted"]
    buf = io.StringIO()
    export_codings(store, coder="auto", stream=buf)
    assert buf.getvalue().encode() == data
    raw = tmp_path / "out" / "raw.csv"
    export_codings(store, coder="auto", out=raw, csv=CsvOptions(bom=False, raw=True))
    assert raw.read_bytes().decode().split("\r\n")[1:3] == ["int01.txt,2,C1,auto,43,48,=term 'PROMs'",
                                                                   "int02.txt,3,C3,auto,,,'-already quoted"]
    key = [(c.document, c.turn_index, c.code, c.start, c.end, c.evidence) for c in codings]
    import_codings(store, [out], coder="again", codebook=CB)  # the reader undoes the neutralising
    assert [(c.document, c.turn_index, c.code, c.start, c.end, c.evidence) for c in store.codings("again")] == key
    import_codings(store, [raw], coder="verbatim", codebook=CB)
    # a --raw file is read by the same rule: only a cell that itself looks neutralised ('-...) changes
    assert [c.evidence for c in store.codings("verbatim")] == ["=term 'PROMs'", "-already quoted"]
    xlsx = tmp_path / "auto.xlsx"
    export_codings(store, coder="auto", out=xlsx)
    rows = list(load_workbook(xlsx, read_only=True).worksheets[0].iter_rows(values_only=True))
    assert rows[0] == EXPORT_COLUMNS and rows[1][:6] == ("int01.txt", 2, "C1", "auto", 43, 48)
    assert load_workbook(xlsx)["Codings"]["G2"].data_type == "s"
    import_codings(store, [xlsx], coder="third", codebook=CB)
    assert cells(store, "third") == cells(store, "auto")
    human = tmp_path / "codings" / "coder-auto.csv"
    human.parent.mkdir()
    human.write_text("human work", encoding="utf-8")
    with pytest.raises(HumanWorkExists, match=r"coder-auto.csv already exists; use force=True to overwrite it \(a file in codings/ is human work\)"):
        export_codings(store, coder="auto", out=human)
    assert human.read_text(encoding="utf-8") == "human work"
    export_codings(store, coder="auto", out=human, force=True)
    assert human.read_bytes() == data
    with pytest.raises(Exception, match=r"no coder 'nobody' in the store \(coders: again, auto, third, verbatim\)"):
        export_codings(store, coder="nobody", out=tmp_path / "x.csv")


def test_codebook_difference_is_warned(store, tmp_path):
    store.replace_codings("anna", [], coded_documents=["int01.txt"], codebook=CB)
    path = tmp_path / "coder-ben.csv"
    path.write_text("document,turn_index,code\nint01.txt,2,C1\n", encoding="utf-8")
    report = import_codings(store, [path], codebook=CB2)
    sha1, sha2 = codebook_sha(store, CB)[:8], codebook_sha(store, CB2)[:8]
    assert report.warnings == [
        f"coder 'ben' used codebook test-cb 2.0 (sha256 {sha2}), which differs from the one of 'anna' "
        f"(test-cb 1.0, sha256 {sha1}); compare their codings with care"
    ]
    assert import_codings(store, [path], codebook=CB).warnings == []
    # same name and version, other content (an edited codebook file): the sha256 tells them apart
    edited = replace(CB, codes=CB.codes[:2])
    (warning,) = import_codings(store, [path], codebook=edited).warnings
    assert warning == (
        f"coder 'ben' used codebook test-cb 1.0 (sha256 {codebook_sha(store, edited)[:8]}), which differs from "
        f"the one of 'anna' (test-cb 1.0, sha256 {sha1}); compare their codings with care"
    )


def test_list_codings(store):
    store.replace_codings("anna", [Coding("int01.txt", 2, "C1", "anna")], coded_documents=["int01.txt"], codebook=CB)
    (row,) = list_codings(store)
    assert (row["coder"], row["codebook"], row["documents_coded"], row["codings"]) == ("anna", "test-cb 1.0", 1, 1)


def test_canonical_text_survives_xlsx_escapes():
    assert canonical_text("a\r\nb\rc\x00") == "a\nb\nc"
    assert text_hash("x\r\ny") == text_hash("x_x000D_\ny")


def test_default_codebook_has_the_fifteen_ids(store):
    ids = default_codebook(store).code_ids
    assert set(ids) == {f"VBHC{i}" for i in range(1, 9)} | {f"SIM{i}" for i in range(1, 8)}


# -- CLI ------------------------------------------------------------------------------------------------
def test_cli_workbook_import_export_list(store, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    s = ["--store", str(store.path)]
    code = default_codebook(store).code_ids[0]
    res = runner.invoke(app, ["codings", "workbook", "--coder", "anna", "--coder", "ben", *s])
    assert res.exit_code == 0, res.output
    assert res.stdout == ""  # messages go to stderr, stdout is for data
    assert res.stderr.splitlines()[0].startswith("wrote codings/coder-anna.xlsx: 4 turns in 2 documents")
    res = runner.invoke(app, ["codings", "workbook", "--coder", "anna", *s])
    assert res.exit_code == 1
    assert res.stderr.strip() == ("error: codings/coder-anna.xlsx already exists (a coder's work); "
                                  "use --force to overwrite")
    res = runner.invoke(app, ["codings", "workbook", "--coder", "anna", "--coder", "ben", *s])
    assert res.stderr.strip() == ("error: codings/coder-anna.xlsx, codings/coder-ben.xlsx already exist "
                                  "(coders' work); use --force to overwrite")
    assert runner.invoke(app, ["codings", "workbook", "--coder", "anna", "--force", *s]).exit_code == 0
    assert runner.invoke(app, ["codings", "workbook", "--coder", "anna", "--scope", "some", *s]).exit_code == 2
    bad = tmp_path / "coder-carl.csv"
    bad.write_text(f"document,turn_index,code\nint01.txt,2,{code}\nint01.txt,8,{code}\n", encoding="utf-8")
    res = runner.invoke(app, ["codings", "import", str(bad), *s])
    assert res.exit_code == 1
    assert res.stderr.splitlines() == ["error: 1 problem(s); nothing was imported",
                                       "[coder-carl.csv line 3] unknown turn int01.txt #8"]
    bad.write_text(f"document,turn_index,code\nint01.txt,2,{code}\n", encoding="utf-8")
    res = runner.invoke(app, ["codings", "import", str(bad), *s])
    assert res.exit_code == 0, res.output
    assert "imported coder 'carl' from coder-carl.csv: 1 codings in 1 coded documents" in res.stderr
    res = runner.invoke(app, ["codings", "export", "--coder", "carl", "--no-bom", *s])
    assert res.exit_code == 0
    assert list(csv.reader(io.StringIO(res.stdout))) == [list(EXPORT_COLUMNS),
                                                          ["int01.txt", "2", code, "carl", "", "", ""]]
    assert runner.invoke(app, ["codings", "export", "--coder", "carl", *s]).stdout.startswith("\ufeffdocument,")
    assert runner.invoke(app, ["codings", "export", "--coder", "nobody", *s]).exit_code == 1
    assert runner.invoke(app, ["codings", "export", "--coder", "carl", "--out", "x.txt", *s]).exit_code == 2
    res = runner.invoke(app, ["codings", "list", "--json", *s])
    assert res.exit_code == 0 and '"coder": "carl"' in res.stdout and '"documents_coded": 1' in res.stdout
    res = runner.invoke(app, ["codings", "list", *s])
    assert res.exit_code == 0 and "carl" in res.stdout


@settings(max_examples=25, deadline=None)
@given(hs.lists(hs.text(min_size=0, max_size=60), min_size=1, max_size=20))
@example(["a\r\nb", "x\ry", "lit _x000D_ and _x005F_x000D_", "=1+1", "\x00\x0b\x1f", " pad ", "\U0001f600\t"])
def test_any_turn_text_hash_survives_an_xlsx_round_trip(tmp_path_factory, texts):
    """Whatever an interview contains (controls, CR/LF, '=', surrogates, '_x000D_'), an untouched cell
    hashes the same after writing and reading, so the edit check never fires on an honest workbook."""
    from vbhc_code.files.xlsx_write import Column, Sheet, write_workbook

    path = tmp_path_factory.mktemp("rt") / "t.xlsx"
    write_workbook(path, [Sheet("T", [Column("text")], [[t] for t in texts])])
    wb = load_workbook(path, read_only=True, data_only=True)
    back = [r[0] for r in wb["T"].iter_rows(min_row=2, max_row=len(texts) + 1, values_only=True)]
    wb.close()
    back += [None] * (len(texts) - len(back))
    assert [text_hash("" if b is None else b) for b in back] == [text_hash(t) for t in texts]


def test_unreadable_files_are_named_once(store, tmp_path):
    (tmp_path / "junk.xlsx").write_text("junk")
    (tmp_path / "notes.txt").write_text("document,turn_index,code\n")
    res = runner.invoke(app, ["codings", "import", str(tmp_path / "junk.xlsx"), str(tmp_path / "notes.txt"),
                              "--coder", "zoe", "--store", str(store.path)])
    assert res.exit_code == 1
    assert res.stderr.splitlines() == [
        "error: 2 problem(s); nothing was imported",
        "[junk.xlsx] not a readable .xlsx workbook (not a zip archive, or a truncated one)",
        "[notes.txt] expected a .csv or .xlsx sheet",
    ]
    assert "zoe" not in {c.name for c in store.coders()}


def test_a_removed_code_column_is_an_import_error(store, tmp_path):
    """Without its column a code's decisions are unknown: never read them as 'not applied'."""
    write_workbooks(store, coders=["anna"], codebook=CB, out_dir=tmp_path)
    path = tmp_path / "coder-anna.xlsx"
    fill(path, {"Turns": {"H2": 1}, "Documents": {"E2": "yes"}})
    wb = load_workbook(path)
    ws = wb["Turns"]
    col = next(c.column for c in ws[1] if c.value == "C2")
    ws.delete_cols(col)
    wb.save(path)
    with pytest.raises(ValidationError) as exc:
        import_codings(store, [path])
    assert exc.value.problems == [
        "[coder-anna.xlsx Turns] the column of code C2 was removed; restore it (empty cells mean 'not applied')"
    ]
    assert store.coders() == []


def test_a_coder_name_differing_only_in_case_is_warned(store, tmp_path):
    path = tmp_path / "codes.csv"
    path.write_text("document,turn_index,code\nint01.txt,2,C1\n", encoding="utf-8")
    import_codings(store, [path], coder="anna", codebook=CB)
    report = import_codings(store, [path], coder="Anna", codebook=CB)
    assert report.warnings == ["coder 'Anna' differs only in case from 'anna': stored as a separate coder"]
    assert {c.name for c in store.coders()} == {"anna", "Anna"}


def test_workbook_prefilled_from_autocode_shows_confidence_and_imports(store, tmp_path):
    from vbhc_code.coding.workbook import write_workbooks as write

    store.replace_codings("auto", [Coding("int01.txt", 2, "C1", "auto", confidence=0.55),
                                   Coding("int01.txt", 2, "C2", "auto", confidence=0.91),
                                   Coding("int02.txt", 3, "C3", "auto", confidence=0.7)],
                          coded_documents=["int01.txt", "int02.txt"], codebook=CB, source="autocode unit=turn")
    (issued,) = write(store, coders=["anna"], codebook=CB, out_dir=tmp_path, prefill="auto")
    wb = load_workbook(issued.path)
    rows = list(wb["Turns"].iter_rows(values_only=True))
    head = list(rows[0])
    got = {(r[0], r[1]): (r[head.index("suggested")], r[head.index("confidence")]) for r in rows[1:]}
    assert got[("int01.txt", 2)] == ("C2 0.91; C1 0.55", 0.91) and got[("int02.txt", 3)] == ("C3 0.70", 0.7)
    assert got[("int01.txt", 4)] == ("", None)
    assert head.index("confidence") < head.index("C1")  # before the code columns, to sort by
    assert any("sort by it" in (c.value or "") for row in wb["Instructions"].iter_rows() for c in row)
    fill(issued.path, {"Documents": {"E2": "yes", "E3": "yes"}})
    import_codings(store, [issued.path])  # the two columns are not codes and import cleanly
    assert cells(store, "anna") == {("int01.txt", 2, "C1"), ("int01.txt", 2, "C2"), ("int02.txt", 3, "C3")}


def test_reimport_is_refused_replaced_or_a_no_op(store, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    first = tmp_path / "coder-anna.csv"
    first.write_text("document,turn_index,code\nint01.txt,2,C1\nint01.txt,2,C2\nint02.txt,2,C2\n", encoding="utf-8")
    second = tmp_path / "one.csv"
    second.write_text("document,turn_index,code\nint01.txt,2,C3\n", encoding="utf-8")
    args = ["--store", str(store.path), "--codebook", str(_codebook_toml(tmp_path))]
    assert runner.invoke(app, ["codings", "import", str(first), *args]).exit_code == 0
    fingerprint = store.codings_fingerprint("anna")
    refused = runner.invoke(app, ["codings", "import", str(second), "--coder", "anna", *args])
    assert refused.exit_code == 1
    assert "+1 added / -3 removed cells, +0 / -1 coded documents, source one.csv" in refused.output
    assert "--replace" in refused.output and store.codings_fingerprint("anna") == fingerprint
    again = runner.invoke(app, ["codings", "import", str(first), *args])
    assert again.exit_code == 0 and "coder 'anna' unchanged" in again.output
    assert store.codings_fingerprint("anna") == fingerprint
    replaced = runner.invoke(app, ["codings", "import", str(second), "--coder", "anna", "--replace", *args])
    assert replaced.exit_code == 0
    assert "replaced coder 'anna': +1 added / -3 removed cells, +0 / -1 coded documents, source one.csv" in (
        replaced.output)
    assert cells(store, "anna") == {("int01.txt", 2, "C3")}


def test_blank_workbook_is_a_warning_and_duplicates_are_counted(store, tmp_path):
    (issued,) = write_workbooks(store, coders=["anna"], codebook=CB, out_dir=tmp_path)
    report = import_codings(store, [issued.path])
    assert report.coders == [] and "anna" not in {c.name for c in store.coders()}
    assert report.warnings == ["no coded documents in coder-anna.xlsx (a blank workbook?): nothing imported for "
                               "coder 'anna'"]
    dup = tmp_path / "coder-ben.csv"
    dup.write_text("document,turn_index,code\nint01.txt,2,C1\nint01.txt,2,C1\nint01.txt,2,C1\n", encoding="utf-8")
    (item,) = import_codings(store, [dup], codebook=CB).coders
    assert item.duplicates == 2 and len(item.codings) == 1
    from vbhc_code.cli.codings import import_line

    assert "2 duplicate row(s) merged" in import_line(item)


def _codebook_toml(tmp_path: Path) -> Path:
    from vbhc_code.codebook.io import codebook_to_toml

    path = tmp_path / "cb.toml"
    titled = replace(CB, codes=tuple(replace(c, title=f"Code {c.id}") for c in CB.codes))
    path.write_text(codebook_to_toml(titled), encoding="utf-8")
    return path
