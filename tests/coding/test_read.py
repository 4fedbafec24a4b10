"""vbhc_code.coding.read: a document name is matched exactly first, so names with spaces round-trip."""

from __future__ import annotations

from codings_fixture import CB, DOCS, make_document
from openpyxl import load_workbook

from vbhc_code.coding.imports import import_codings, write_workbooks
from vbhc_code.coding.read import document_name
from vbhc_code.store.store import Store


def test_document_name_is_exact_first_then_stripped():
    known = {" INT01.txt", "INT02.txt"}
    assert document_name(" INT01.txt", known) == " INT01.txt"
    assert document_name("INT02.txt  ", known) == "INT02.txt"  # a space typed after a name
    assert document_name(" INT03.txt", known) == "INT03.txt" and document_name(None, known) == ""


def test_a_name_with_leading_and_trailing_spaces_round_trips_through_its_workbook(tmp_path):
    names = [" int01.txt", "int01.txt", "int02.txt "]  # a name with a space is a document of its own
    with Store.open(tmp_path / "s.sqlite") as st:
        for name, turns in zip(names, [DOCS["int01.txt"], DOCS["int01.txt"], DOCS["int02.txt"]]):
            st.save_document(make_document(name, turns))
        (issued,) = write_workbooks(st, coders=["anna"], codebook=CB, out_dir=tmp_path)
        wb = load_workbook(issued.path)
        turns = wb["Turns"]
        rows = {(turns.cell(r, 1).value, turns.cell(r, 2).value): r for r in range(2, turns.max_row + 1)}
        assert set(rows) >= {(" int01.txt", 2), ("int01.txt", 2), ("int02.txt ", 2)}  # written as they are
        col = {turns.cell(1, c).value: c for c in range(1, turns.max_column + 1)}
        turns.cell(rows[(" int01.txt", 2)], col["C1"]).value = "1"  # C1 on the spaced name's turn only
        turns.cell(rows[("int02.txt ", 2)], col["C2"]).value = "x"
        docs = wb["Documents"]
        for r in range(2, docs.max_row + 1):
            docs.cell(r, 5).value = "yes"
        wb.save(issued.path)
        import_codings(st, [issued.path])
        assert {(c.document, c.turn_index, c.code) for c in st.codings("anna")} == {
            (" int01.txt", 2, "C1"), ("int02.txt ", 2, "C2")}
        assert st.coded_documents("anna") == set(names)


def test_a_spaced_name_round_trips_through_a_long_csv_and_xlsx(tmp_path):
    from vbhc_code.coding.imports import export_codings
    from vbhc_code.models import Coding

    names = [" int01.txt", "int01.txt"]
    with Store.open(tmp_path / "s.sqlite") as st:
        for name in names:
            st.save_document(make_document(name, DOCS["int01.txt"]))
        st.replace_codings("anna", [Coding(" int01.txt", 2, "C1", "anna")], coded_documents=names, codebook=CB)
        for suffix in ("csv", "xlsx"):
            out = tmp_path / f"anna.{suffix}"
            export_codings(st, coder="anna", out=out)
            import_codings(st, [out], coder=f"again-{suffix}", codebook=CB)
            assert [(c.document, c.turn_index) for c in st.codings(f"again-{suffix}")] == [(" int01.txt", 2)]
        typed = tmp_path / "typed.csv"  # a space typed after a name that has none is still that name
        typed.write_text("document,turn_index,code\nint01.txt  ,4,C2\n", encoding="utf-8")
        import_codings(st, [typed], coder="typed", codebook=CB)
        assert [(c.document, c.turn_index) for c in st.codings("typed")] == [("int01.txt", 4)]
