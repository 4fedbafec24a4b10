"""vbhc_code.coding.reconcile.workbook: decisions written, edited by a team (openpyxl) and read back."""

from __future__ import annotations

import openpyxl
import pytest

from vbhc_code.coding.reconcile.workbook import (
    RECONCILE_KIND,
    DecisionRow,
    cell_label,
    decision_cell,
    decision_value,
    normalise_decision,
    read_reconcile_xlsx,
    write_reconcile_xlsx,
)
from vbhc_code.errors import DataError

ROWS = [
    DecisionRow(0, ("INT01.txt", 3, "VBHC1"), 1, 0),
    DecisionRow(0, ("INT01.txt", 7, "SIM2"), 0, 1, decision="ben", rationale="=SUM(A1) is not a formula",
                decided_by="AB"),  # fmt: skip
]
EARLIER = [DecisionRow(0, ("INT02.txt", 4, "VBHC2"), 1, 0, "apply", "kept", "CD", "no longer disagrees", "2026-01-01")]


def write(path, rows=ROWS, **extra):
    return write_reconcile_xlsx(
        path, coder_a="anna", coder_b="ben", rows=rows, agreed=[("INT01.txt", 5, "VBHC3")],
        turn_info={("INT01.txt", 3): ("P01", "Some turn text")}, changes=[], earlier=EARLIER,
        meta={"documents": "2", **extra},
    )  # fmt: skip


def test_round_trip_keeps_every_decision_and_row_number(tmp_path):
    sheet = read_reconcile_xlsx(write(tmp_path / "r.xlsx"))
    assert (sheet.coder_a, sheet.coder_b, sheet.meta["kind"], sheet.meta["documents"]) == (
        "anna", "ben", RECONCILE_KIND, "2")
    assert [(r.row, r.cell, r.value_a, r.value_b, r.decision, r.rationale, r.decided_by) for r in sheet.rows] == [
        (2, ("INT01.txt", 3, "VBHC1"), 1, 0, "", "", ""),
        (3, ("INT01.txt", 7, "SIM2"), 0, 1, "ben", "=SUM(A1) is not a formula", "AB"),
    ]
    assert [(e.cell, e.decision, e.status, e.noted_at) for e in sheet.earlier] == [
        (("INT02.txt", 4, "VBHC2"), "apply", "no longer disagrees", "2026-01-01")]
    assert sheet.problems == []
    assert decision_cell(sheet, sheet.rows[1]) == "r.xlsx Disagreements!H3"
    assert decision_cell(sheet, sheet.rows[0], "rationale") == "r.xlsx Disagreements!I2"


def test_team_edits_are_read_and_bad_rows_located(tmp_path):
    path = write(tmp_path / "r.xlsx")
    wb = openpyxl.load_workbook(path)
    ws = wb["Disagreements"]
    ws["H2"], ws["I2"], ws["J2"] = "  Apply ", "both agree now", "EF"
    ws["B3"] = "seven"  # a damaged turn_index
    ws.append([None] * 10)  # blank rows are ignored
    wb.save(path)
    sheet = read_reconcile_xlsx(path)
    assert [(r.row, r.decision, r.rationale, r.decided_by) for r in sheet.rows] == [(2, "Apply", "both agree now", "EF")]
    assert sheet.problems == ["[r.xlsx Disagreements!B3] turn_index is not a number"]


def test_files_that_are_not_reconciliation_workbooks_are_refused(tmp_path):
    with pytest.raises(DataError, match="file not found"):
        read_reconcile_xlsx(tmp_path / "absent.xlsx")
    other = tmp_path / "other.xlsx"
    wb = openpyxl.Workbook()
    wb.active.title = "Disagreements"
    wb.save(other)
    with pytest.raises(DataError, match="other.xlsx: not a vbhc-code reconciliation workbook"):
        read_reconcile_xlsx(other)
    path = write(tmp_path / "r.xlsx")
    wb = openpyxl.load_workbook(path)
    wb["Disagreements"]["H1"] = "verdict"
    wb.save(path)
    with pytest.raises(DataError, match="r.xlsx Disagreements: column 'decision' is missing"):
        read_reconcile_xlsx(path)
    damaged = tmp_path / "damaged.xlsx"
    damaged.write_bytes(b"PK\x03\x04 not really a zip")
    with pytest.raises(DataError):
        read_reconcile_xlsx(damaged)


@pytest.mark.parametrize(("text", "expected"), [
    ("apply", "apply"), (" OMIT ", "omit"), ("as Anna", "anna"), ("Ben", "ben"), ("as  ben", "ben"),
    ("maybe", None), ("", None), ("as", None),
])  # fmt: skip
def test_decisions_are_normalised(text, expected):
    assert normalise_decision(text, "anna", "ben") == expected


def test_decision_values_and_labels():
    assert [decision_value(d, "anna", "ben", 1, 0) for d in ("apply", "omit", "anna", "as ben", "??")] == [
        1, 0, 1, 0, None]
    assert cell_label(("INT01.txt", 3, "VBHC1")) == "INT01.txt #3 VBHC1"
