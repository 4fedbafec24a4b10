"""vbhc_code.files.xlsx_write: safe cell values, validations, hidden sheets, charts, atomic writes."""

from __future__ import annotations

import openpyxl
import pytest
from themes_fixture import libreoffice_sheets, soffice

from vbhc_code.errors import HumanWorkExists
from vbhc_code.files import xlsx_write as excel
from vbhc_code.files.xlsx_write import MAX_CELL, Chart, Column, Sheet, TextSheet, write_workbook

HOSTILE = ["=1+1", "+A1", "-2", "@SUM(A1)", "\t=cmd|' /C calc'!A0", "=HYPERLINK(\"http://x\")", "_x0041_", "0042"]


def _sheets(rows):
    return [
        Sheet(
            "Quotes",
            [
                Column("text", wrap=True),
                Column("n", kind="int"),
                Column("share", kind="percent"),
                Column("rating", choices=["red", "amber", "green"], fills={"red": "#F4CCCC", "green": "#D9EAD3"}),
                Column("code", choices=[f"CODE_{i:03d} a long label" for i in range(30)], comment="pick one"),
            ],
            rows,
            charts=[Chart("n by text", 0, [1]), Chart("on charts", 0, [1, 2], kind="column", sheet="Charts")],
        ),
        TextSheet("Methods", ["First paragraph.", "=not a formula"], title="Methods"),
        Sheet("Lists", [Column("x")], [["hidden"]], hidden=True),
    ]


def test_hostile_text_stays_text(tmp_path):
    path = tmp_path / "out.xlsx"
    write_workbook(path, _sheets([(h, i, i / 10, None, None) for i, h in enumerate(HOSTILE)]))
    wb = openpyxl.load_workbook(path)
    for ws in wb.worksheets:
        for row in ws.iter_rows():
            for cell in row:
                assert cell.data_type != "f", (ws.title, cell.coordinate)
    got = [r[0] for r in wb["Quotes"].iter_rows(min_row=2, values_only=True)]
    assert got == HOSTILE
    assert [r[1] for r in wb["Quotes"].iter_rows(min_row=2, values_only=True)] == list(range(len(HOSTILE)))
    assert wb["Methods"]["A4"].value == "=not a formula"


def test_control_characters_stripped_and_cap(tmp_path):
    long = "word " * 8000  # 40,000 characters
    astral = "\U0001F600" * 20_000  # 40,000 UTF-16 units
    rows = [("a\x00b\x07c\x1f\ufffe\tkeep\nlines\r", 1, 0, None, None), (long, 2, 0, None, None),
            (astral, 3, 0, None, None)]
    path = tmp_path / "out.xlsx"
    write_workbook(path, _sheets(rows))
    ws = openpyxl.load_workbook(path)["Quotes"]
    # \r is legal; xlsxwriter stores it as _x000D_, which openpyxl does not unescape (Excel does)
    assert ws["A2"].value in ("abc\tkeep\nlines\r", "abc\tkeep\nlines_x000D_")
    capped = ws["A3"].value
    assert len(capped) <= MAX_CELL
    body, _, note = capped.rpartition(" [truncated: ")
    assert long.startswith(body)
    assert note == f"{len(long) - len(body)} characters]"
    emoji = ws["A4"].value
    assert len(emoji.encode("utf-16-le")) // 2 <= MAX_CELL and "[truncated:" in emoji


def test_sheet_names_validations_hidden_and_charts(tmp_path):
    sheets = _sheets([("a", 1, 0.5, "red", "CODE_001 a long label"), ("b", 2, 0.25, None, None)])
    sheets.append(TextSheet("bad[name]:*?/\\ that is far too long for excel", ["x"]))
    sheets.append(TextSheet("methods", ["dup name, case-insensitive"]))
    path = tmp_path / "out.xlsx"
    write_workbook(path, sheets)
    wb = openpyxl.load_workbook(path)
    assert wb.sheetnames == ["Quotes", "Methods", "Lists", "bad_name______ that is far too", "methods (2)",
                             "Charts", "_lists"]
    assert {n: wb[n].sheet_state for n in wb.sheetnames}["Lists"] == "hidden"
    assert wb["_lists"].sheet_state == "hidden"
    dvs = {str(dv.sqref): dv.formula1 for dv in wb["Quotes"].data_validations.dataValidation}
    assert dvs["D2:D3"] == '"red,amber,green"'
    assert dvs["E2:E3"] == "'_lists'!$A$1:$A$30"
    assert [c.value for c in wb["_lists"]["A"]][:2] == ["CODE_000 a long label", "CODE_001 a long label"]
    fills = wb["Quotes"].conditional_formatting
    assert any("D2:D3" in str(rng.sqref) for rng in fills)
    assert wb["Quotes"].freeze_panes == "A2"
    assert wb["Quotes"]["A1"].font.b
    assert len(wb["Quotes"]._charts) == 1 and len(wb["Charts"]._charts) == 1
    assert wb["Quotes"]["E1"].comment is not None


def test_overwrite_refused_and_atomic(tmp_path):
    path = tmp_path / "coder.xlsx"
    path.write_bytes(b"human work")
    with pytest.raises(HumanWorkExists) as err:
        write_workbook(path, _sheets([]))
    assert "coder.xlsx" in str(err.value) and "force=True" in str(err.value)
    assert path.read_bytes() == b"human work"

    def boom():
        yield ("ok", 1, 0, None, None)
        raise RuntimeError("failed mid-write")

    with pytest.raises(RuntimeError):
        write_workbook(path, _sheets(boom()), force=True)
    assert path.read_bytes() == b"human work"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["coder.xlsx"]
    new = tmp_path / "new.xlsx"
    with pytest.raises(RuntimeError):
        write_workbook(new, _sheets(boom()))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["coder.xlsx"]


def test_constant_memory_same_values(tmp_path):
    rows = [(f"={i}", i, i / 100, "green", None) for i in range(500)]
    a, b = tmp_path / "a.xlsx", tmp_path / "b.xlsx"
    write_workbook(a, _sheets(rows))
    write_workbook(b, _sheets(rows), constant_memory=True)
    va = list(openpyxl.load_workbook(a)["Quotes"].iter_rows(values_only=True))
    vb = list(openpyxl.load_workbook(b)["Quotes"].iter_rows(values_only=True))
    assert va == vb and len(va) == 501


def test_sheet_names_helper():
    assert excel.sheet_names(["History", "'quoted'", "", "a" * 40, "A" * 40]) == [
        "History_", "quoted", "Sheet_", "a" * 31, "A" * 27 + " (2)"]


@pytest.mark.slow
@pytest.mark.skipif(not soffice(), reason="LibreOffice absent")
def test_libreoffice_opens_every_sheet_and_keeps_text(tmp_path):
    path = tmp_path / "out.xlsx"
    long = "x" * (MAX_CELL + 10)
    rows = [(h, i, 0.1, "red", "CODE_002 a long label") for i, h in enumerate(HOSTILE)] + [(long, 9, 0.2, None, None)]
    write_workbook(path, _sheets(rows))
    sheets = libreoffice_sheets(path, tmp_path / "lo")
    assert list(sheets) == ["Quotes", "Methods", "Lists", "Charts", "_lists"]
    quotes = sheets["Quotes"]
    assert quotes[0] == ["text", "n", "share", "rating", "code"]
    assert [r[0] for r in quotes[1:-1]] == HOSTILE  # never evaluated, never converted to numbers
    assert quotes[-1][0].endswith(" [truncated: 50 characters]")
    assert sheets["Methods"][-1] == ["=not a formula"]
    assert sheets["_lists"][1] == ["CODE_001 a long label"]


def test_chart_titles_dates_text_sheet_charts_and_row_limit(tmp_path, monkeypatch):
    import datetime as dt

    sheets = [
        Sheet("Data", [Column("name"), Column("n", kind="int"), Column("when"), Column("day", kind="date")],
              [("a", 1, dt.date(2025, 3, 4), dt.date(2025, 3, 4)), ("b", 2, None, None)],
              charts=[Chart("=A1 title", 0, [1], sheet="Charts")]),
        TextSheet("Charts", ["Intro line.", "Second line."], title="Charts"),
        TextSheet("Methods", ["m"]),
    ]
    path = write_workbook(tmp_path / "c.xlsx", sheets)
    wb = openpyxl.load_workbook(path)
    assert wb.sheetnames == ["Data", "Charts", "Methods"]  # the chart goes on the text sheet, order kept
    chart = wb["Charts"]._charts[0]
    assert chart.anchor._from.row >= 4  # below the title and the two paragraphs
    assert wb["Data"]["C2"].value == "2025-03-04" and wb["Data"]["C2"].data_type == "s"
    assert wb["Data"]["D2"].is_date
    monkeypatch.setattr(excel, "MAX_ROWS", 3)
    with pytest.raises(excel.DataError, match="^sheet Big: more than 3 rows do not fit in an Excel sheet$"):
        write_workbook(tmp_path / "big.xlsx", [Sheet("Big", [Column("x")], ([i] for i in range(5)))])
    assert not (tmp_path / "big.xlsx").exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["c.xlsx"]


def test_fast_path_skips_only_clean_text():
    """The writer skips clean_text for printable strings: every character clean_text strips is unprintable."""
    stripped = [chr(c) for c in range(0x110000) if excel._ILLEGAL.match(chr(c))]
    assert len(stripped) == 29 + 2 + 2048
    assert not any(ch.isprintable() for ch in stripped)


def test_write_workbook_matches_clean_text_for_any_text(tmp_path):
    from hypothesis import HealthCheck, given, settings
    from hypothesis import strategies as st

    @settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
    @given(st.lists(st.text(max_size=40), min_size=1, max_size=5))
    def check(texts):
        path = tmp_path / "h.xlsx"
        write_workbook(path, [Sheet("S", [Column("t")], [(t,) for t in texts])])
        got = [r[0] for r in openpyxl.load_workbook(path, read_only=True)["S"].iter_rows(min_row=2,
                                                                                          values_only=True)]
        got = [(g or "").replace("_x000D_", "\r") for g in got] + [""] * (len(texts) - len(got))
        assert got == [excel.clean_text(t) for t in texts]

    check()


def test_layout_row_heights_print_setup_and_freeze(tmp_path):
    """LibreOffice does not fit rows to wrapped text: the writer sets heights that grow with the text; tables
    print landscape on A4 with the header repeated, fitted to the page width; a text sheet's paragraphs get
    heights too."""
    short, long = "one line", "word " * 120  # 600 characters in a 40-wide column: several lines
    narrow = Sheet("Narrow", [Column("participants_pct [focus group]", kind="percent"),
                              Column("text", wrap=True, width=40)], [(0.5, short), (0.25, long), (0.1, None)])
    wide = Sheet("Wide", [Column(f"c{i}", width=20) for i in range(15)], [tuple(range(15))], freeze_columns=2)
    path = write_workbook(tmp_path / "l.xlsx", [narrow, wide, TextSheet("Methods", ["short.", long], title="Methods")])
    wb = openpyxl.load_workbook(path)
    ws = wb["Narrow"]
    assert ws.row_dimensions[2].height is None  # one line: Excel's default height
    assert abs(ws.row_dimensions[3].height - excel.row_points(excel.text_lines(long, 40))) < 1  # pixel-rounded
    assert ws.row_dimensions[3].height > 100
    assert ws.row_dimensions[4].height is None
    # a number column with a long header: two header lines instead of a 33-wide column
    assert ws.column_dimensions["A"].width < 20 and abs(ws.row_dimensions[1].height - excel.row_points(2)) < 1
    assert ws["A1"].alignment.horizontal == "right" and ws["B1"].alignment.horizontal is None
    assert ws.page_setup.orientation == "landscape" and ws.page_setup.paperSize == 9
    assert ws.sheet_properties.pageSetUpPr.fitToPage and ws.page_setup.fitToHeight == 0
    assert ws.print_title_rows == "$1:$1" and ws.freeze_panes == "A2"
    assert ws.oddFooter.left.text == "&A"
    w2 = wb["Wide"]  # 300 width units: fitted to the page width too (never split sideways)
    assert w2.sheet_properties.pageSetUpPr.fitToPage and w2.page_setup.fitToWidth in (None, 1)
    assert w2.page_setup.fitToHeight == 0 and w2.freeze_panes == "C2" and w2.print_title_rows == "$1:$1"
    assert w2.column_dimensions["A"].width > 19  # an explicit width is kept
    m = wb["Methods"]
    assert m.column_dimensions["A"].width < 80 and m.page_setup.orientation in (None, "portrait")
    assert m.row_dimensions[3].height is None and m.row_dimensions[4].height > 60


def test_a_wide_table_narrows_its_number_columns_and_turns_their_headers(tmp_path):
    groups = ["SIM", "VBHC", "focus group", "interview"]
    cols = [Column("code", width=9), Column("definition", width=48, wrap=True)] + [
        Column(f"{m} [{g}]", kind="percent" if m.endswith("pct") else "int")
        for g in groups for m in ("turns", "participants", "participants_pct", "documents")]
    narrow = [Column("code", width=9), Column("turns", kind="int"), Column("participants_pct [SIM]", kind="percent")]
    rows = [["A", "x", *([3, 2, 0.5, 1] * 4)]]
    path = write_workbook(tmp_path / "w.xlsx", [Sheet("Wide", cols, rows), Sheet("Narrow", narrow, [["A", 3, 0.5]])])
    wb = openpyxl.load_workbook(path)
    ws = wb["Wide"]
    widths = [d.width for d in ws.column_dimensions.values() for _ in range(d.min, d.max + 1)]  # runs of one width
    assert sum(widths) < excel.FIT_WIDTH  # 2 text + 16 number columns fit one landscape page at a readable scale
    assert len(widths) == len(cols) and all(abs(w - excel.COMPACT_NUMBER_WIDTH) < 1 for w in widths[2:])
    assert ws["C1"].alignment.textRotation == 90 and ws["A1"].alignment.textRotation in (None, 0)
    assert ws.row_dimensions[1].height >= excel.rotated_header_points("participants_pct [focus group]") - 1
    assert ws["E2"].number_format == "0.0%" and ws["C2"].number_format == "0" and ws["C2"].data_type == "n"
    assert ws["C2"].alignment.horizontal == "right" and ws["C2"].alignment.indent == 1  # a gap before the next
    n = wb["Narrow"]  # fits as it is: nothing turned
    assert n["C1"].alignment.textRotation in (None, 0) and n.column_dimensions["C"].width > 10


def test_text_lines_estimate():
    assert excel.text_lines("", 40) == 1 and excel.text_lines("x" * 40, 40) == 1
    assert excel.text_lines("x" * 200, 40) == 5  # 45 characters a line
    assert excel.text_lines("a\nb\n\nc", 40) == 4  # every paragraph starts a line
    assert excel.row_points(10_000) == excel.MAX_ROW_POINTS


def test_chart_series_names_percent_axis_and_order(tmp_path):
    sheets = [Sheet("Data", [Column("code"), Column("share [=SIM]", kind="percent"), Column("n!A1", kind="int")],
                    [("A", 0.5, 1), ("B", 0.25, 2)],
                    charts=[Chart("shares", 0, [1], names=["=SIM"], percent=True),
                            Chart("=cmd|' /C calc'!A0", 0, [2], kind="column")])]
    wb = openpyxl.load_workbook(write_workbook(tmp_path / "c.xlsx", sheets))
    bar, col = wb["Data"]._charts
    assert bar.series[0].tx.v == "=SIM" and bar.series[0].tx.strRef is None  # a name is text, never a formula
    assert bar.x_axis.scaling.orientation == "maxMin" and bar.y_axis.numFmt.formatCode == "0%"
    assert bar.legend is None  # one series: no legend
    # a header that looks like a reference is still a literal name, and so is a title
    assert col.x_axis.scaling.orientation == "minMax" and col.series[0].tx.v == "n!A1" and col.series[0].tx.strRef is None
    assert col.title.tx.rich.p[0].r[0].t == "=cmd|' /C calc'!A0" and col.title.tx.strRef is None


def test_numpy_text_stays_text(tmp_path):
    import numpy as np

    rows = [(np.str_("42"), np.int64(7)), (np.str_("=1+1"), np.float64(0.5)), (np.str_("\x07x"), np.nan)]
    path = write_workbook(tmp_path / "n.xlsx", [Sheet("S", [Column("t"), Column("n", kind="float")], rows)])
    ws = openpyxl.load_workbook(path)["S"]
    assert [(c.value, c.data_type) for c in ws["A"][1:]] == [("42", "s"), ("=1+1", "s"), ("x", "s")]
    assert [c.value for c in ws["B"][1:]] == [7, 0.5, None]
