"""Workbooks that print and paste: every sheet of every workbook vbhc-code writes for the bundled study fits
the page width, repeats its header, keeps numbers as numbers; printed page counts checked with LibreOffice."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import openpyxl
import pytest
from repo_paths import REPO
from themes_fixture import soffice
from typer.testing import CliRunner

from vbhc_code.cli import app

runner = CliRunner()


@pytest.fixture(scope="module")
def workbooks(sample_store, tmp_path_factory) -> dict[str, Path]:
    """themes, codebook, agreement, a coder workbook and a reconciliation workbook of the bundled study,
    written by the commands the demo runs."""
    decisions = REPO / "codings" / "reconcile-anna-ben.xlsx"
    if not (REPO / "codings" / "coder-anna.csv").is_file() or not decisions.is_file():
        pytest.skip("the sample's codings/ are not there")
    out = tmp_path_factory.mktemp("print")
    store = out / "s.sqlite"
    shutil.copy(sample_store, store)
    s = ["--store", str(store)]
    steps = [
        ["codings", "import", str(REPO / "codings" / "coder-anna.csv"), "--coder", "anna", *s],
        ["codings", "import", str(REPO / "codings" / "coder-ben.csv"), "--coder", "ben", *s],
        ["codebook", "export", "--out", str(out / "codebook.xlsx")],
        ["codings", "workbook", "--coder", "carl", "--out", str(out), *s],
        ["agreement", "--coders", "anna", "ben", "--out", str(out / "agreement.xlsx"), *s],
        ["reconcile", "--coders", "anna", "ben", "--out", str(out / "reconcile.xlsx"), *s],
        ["reconcile", "--apply", str(decisions), "--log", str(out / "log.csv"), *s],
        ["themes", "--coder", "consensus", "--out", str(out / "themes.xlsx"), *s],
    ]
    for argv in steps:
        res = runner.invoke(app, argv)
        assert res.exit_code == 0, (argv, res.output)
    return {name: out / f"{name}.xlsx" for name in ("themes", "codebook", "agreement", "coder-carl", "reconcile")}


def test_every_sheet_fits_the_page_width_and_repeats_its_header(workbooks):
    for name, path in workbooks.items():
        wb = openpyxl.load_workbook(path)
        for ws in wb.worksheets:
            if ws.sheet_state != "visible":
                continue
            where = f"{name} {ws.title}"
            assert ws.page_setup.paperSize == 9, where
            table = ws.page_setup.orientation == "landscape"
            if table:
                assert ws.sheet_properties.pageSetUpPr.fitToPage, where
                assert ws.page_setup.fitToWidth in (None, 1) and ws.page_setup.fitToHeight == 0, where
                assert ws.print_title_rows == "$1:$1", where
            else:  # a text sheet: one column narrow enough for a portrait page
                assert ws.max_column == 1 and ws.column_dimensions["A"].width < 80, where


def test_numbers_are_number_cells_with_number_formats(workbooks):
    wb = openpyxl.load_workbook(workbooks["themes"])
    overview = {r[0].value: r[1] for r in wb["Overview"].iter_rows(min_row=2)}
    for item in ("documents", "participants", "turns", "reconciliation decisions"):
        cell = overview[item]
        assert cell.data_type == "n" and isinstance(cell.value, int) and cell.number_format == "0", item
    themes = wb["Themes"]
    head = [c.value for c in themes[1]]
    assert themes.cell(2, head.index("turns") + 1).number_format == "0"
    assert themes.cell(2, head.index("participants_pct") + 1).number_format == "0.0%"
    assert head[:4] == ["theme", "code", "label", "title"]  # readable title, identifiers in their own columns
    assert all("_" not in str(themes.cell(r, 4).value) for r in range(2, themes.max_row + 1))
    turns = openpyxl.load_workbook(workbooks["coder-carl"])["Turns"]
    head = [c.value for c in turns[1]]
    years = [r[head.index("years_experience")] for r in turns.iter_rows(min_row=2) if r[head.index("participant_id")].value]
    assert years and all(c.data_type == "n" and c.number_format == "0" for c in years if c.value is not None)
    assert {c.data_type for r in turns.iter_rows(min_row=2) for c in r[:1]} == {"s"}  # document names stay text
    agreement = openpyxl.load_workbook(workbooks["agreement"])["Agreement"]
    head = [c.value for c in agreement[1]]
    assert head[:2] == ["code", "title"] and agreement["B2"].value == "Integrated practice units"
    kappa = agreement.cell(2, head.index("Cohen's kappa") + 1)
    assert kappa.data_type == "n" and kappa.number_format != "General"
    assert kappa.alignment.horizontal == "right" and kappa.alignment.indent >= 1  # a gap before the CI column


def _pdf_pages(path: Path, outdir: Path) -> int:
    env = {"HOME": str(outdir), "PATH": os.environ.get("PATH", "/usr/bin:/bin")}
    res = subprocess.run([soffice(), "--headless", "--convert-to", "pdf", "--outdir", str(outdir), str(path)],
                         capture_output=True, timeout=240, env=env, text=True, check=False)
    assert res.returncode == 0, res.stderr
    data = (outdir / (path.stem + ".pdf")).read_bytes()
    return len(re.findall(rb"/Type\s*/Page(?!s)", data))


@pytest.mark.slow
@pytest.mark.skipif(not soffice(), reason="LibreOffice absent")
def test_printed_page_counts_of_the_bundled_study(workbooks, tmp_path):
    """Issue 15: the gold-sized study (15 codes, 45 quotes) prints themes.xlsx on at most ~15 pages and
    codebook.xlsx on at most ~20 (before: 31 and 74)."""
    pages = {name: _pdf_pages(workbooks[name], tmp_path) for name in ("themes", "codebook", "agreement")}
    assert 5 <= pages["themes"] <= 15 and 4 <= pages["codebook"] <= 20 and pages["agreement"] <= 4, pages
