"""An imported REFI project is first-class: its codebook is the study's, coded further and compared."""

from __future__ import annotations

import json

from openpyxl import load_workbook
from typer.testing import CliRunner

from vbhc_code.cli import app
from vbhc_code.store.store import Store

runner = CliRunner()


def run(*argv):
    result = runner.invoke(app, [str(a) for a in argv])
    assert result.exit_code == 0, (argv, result.output)
    return result


def test_code_and_compare_a_project_imported_from_qualcoder(shared_dir, tmp_path):
    s = ("--store", tmp_path / "s.sqlite")
    run("refi", "import", shared_dir / "refi" / "samples" / "qc_demo.qdpx", *s)
    with Store.open(tmp_path / "s.sqlite", create=False) as st:
        own = st.study_codebook()
        assert own is not None and len(own.codes) == 262
    # the project's codebook is the default everywhere
    shown = run("codebook", "show", *s).stdout
    assert "qc project" in shown and "vbhc-sim" not in shown
    wrote = run("codings", "workbook", "--coder", "x", "--out", tmp_path / "wb", *s).stderr
    assert "262 codes" in wrote
    # a coder fills in the workbook with the project's own codes; it imports against that codebook
    path = tmp_path / "wb" / "coder-x.xlsx"
    with Store.open(tmp_path / "s.sqlite", create=False) as st:
        coded = sorted({(c.document, c.turn_index, c.code) for c in st.codings("cp")})[:5]
    wb = load_workbook(path)
    turns, docs = wb["Turns"], wb["Documents"]
    head = {c.value: c.column for c in turns[1]}
    for row in turns.iter_rows(min_row=2):
        key = (row[head["document"] - 1].value, row[head["turn_index"] - 1].value)
        for d, i, code in coded:
            if (d, i) == key:
                turns.cell(row[0].row, head[code]).value = "x"
    dhead = {c.value: c.column for c in docs[1]}
    for row in docs.iter_rows(min_row=2):
        if row[dhead["document"] - 1].value == coded[0][0]:
            docs.cell(row[0].row, dhead["coded"]).value = "yes"
    wb.save(path)
    imported = run("codings", "import", path, *s).stderr
    assert "imported coder 'x'" in imported and "qc project" in imported
    # a long file of the project's codes (as exported) imports too, without --codebook
    run("codings", "export", "--coder", "cp", "--out", tmp_path / "cp.csv", *s)
    run("codings", "import", tmp_path / "cp.csv", "--coder", "cp2", *s)
    report = json.loads(run("agreement", "--coders", "cp", "cp2", "--json", *s).stdout)
    assert report["pooled"]["cohen_kappa"] == 1.0
    report = json.loads(run("agreement", "--coders", "x", "cp", "--json", *s).stdout)
    assert report["pooled"]["both"] == len(coded) and len(report["per_code"]) == 262


def test_codebook_commands_read_a_qdc(shared_dir, tmp_path):
    qdc = shared_dir / "refi" / "samples" / "spec_A1_codebook.qdc"
    assert "is valid" in run("codebook", "check", qdc).stdout
    run("codebook", "show", qdc)
    run("codebook", "export", qdc, "--out", tmp_path / "cb.md")
    assert (tmp_path / "cb.md").read_text(encoding="utf-8").strip()
