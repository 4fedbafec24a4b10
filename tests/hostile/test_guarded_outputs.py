"""Class 1 of issue 12 end to end: no writer replaces human work without --force (exit 1, the file unchanged)."""

from __future__ import annotations

import pytest
from codings_fixture import CB, make_store
from typer.testing import CliRunner

from vbhc_code.cli import app
from vbhc_code.models import Coding

runner = CliRunner()


@pytest.fixture()
def study(tmp_path):
    store = tmp_path / "s.sqlite"
    with make_store(store) as st:
        docs = ["int01.txt", "int02.txt"]
        st.replace_codings("anna", [Coding("int01.txt", 2, "C1", "anna")], coded_documents=docs, codebook=CB)
        st.replace_codings("ben", [Coding("int01.txt", 2, "C2", "ben")], coded_documents=docs, codebook=CB)
    codings = tmp_path / "codings"
    codings.mkdir()
    (codings / "coder-anna.csv").write_text("document,turn_index,code\nint01.txt,2,C1\n", encoding="utf-8")
    (codings / "coder-ben.csv").write_text("document,turn_index,code\nint01.txt,2,C2\n", encoding="utf-8")
    (codings / "README.md").write_text("# Human codings\n\nDo not overwrite.\n", encoding="utf-8")
    res = runner.invoke(app, ["reconcile", "--coders", "anna", "ben", "--store", str(store),
                              "--out", str(codings / "reconcile-anna-ben.xlsx")])
    assert res.exit_code == 0, res.output
    return store, codings


def _refused(res, target, before: bytes) -> None:
    assert res.exit_code == 1, res.output
    assert str(target) in res.stderr and "--force" in res.stderr and "Traceback" not in res.output
    assert target.read_bytes() == before


@pytest.mark.parametrize("args, name", [
    (["segments", "--out", "{codings}/coder-anna.csv"], "coder-anna.csv"),
    (["agreement", "--coders", "anna", "ben", "--out", "{codings}/reconcile-anna-ben.xlsx"],
     "reconcile-anna-ben.xlsx"),
    (["codebook", "export", "--out", "{codings}/README.md"], "README.md"),
    (["reconcile", "--apply", "{codings}/reconcile-anna-ben.xlsx", "--log", "{codings}/coder-ben.csv"],
     "coder-ben.csv"),
    (["codings", "export", "--coder", "anna", "--out", "{codings}/coder-anna.csv"], "coder-anna.csv"),
    (["codebook", "export", "--out", "{codings}/coder-anna.csv.qdc"], None),
])
def test_the_four_examples_of_the_issue_are_refused_and_work_with_force(study, args, name):
    store, codings = study
    argv = [a.format(codings=codings) for a in args] + ["--store", str(store)] * (args[0] != "codebook")
    if name is None:  # a file of another program under a name we would write
        target = codings / "coder-anna.csv.qdc"
        target.write_bytes(b"<?xml version='1.0'?><CodeBook origin='ATLAS.ti'/>")
    else:
        target = codings / name
    before = target.read_bytes()
    res = runner.invoke(app, argv)
    _refused(res, target, before)
    if args[0] == "reconcile":  # refused before anything was stored
        assert "consensus" not in runner.invoke(app, ["codings", "list", "--store", str(store)]).stdout
        return  # (the workbook has no decisions, so --force would apply nothing)
    forced = runner.invoke(app, [*argv, "--force"])
    assert forced.exit_code == 0, forced.output
    assert target.read_bytes() != before


def test_our_own_earlier_output_is_replaced_without_force(study, tmp_path):
    store, codings = study
    for argv in (["segments", "--out", str(tmp_path / "seg.csv")], ["segments", "--out", str(tmp_path / "seg.xlsx")],
                 ["agreement", "--coders", "anna", "ben", "--out", str(tmp_path / "agr.xlsx")],
                 ["codebook", "export", "--out", str(tmp_path / "cb.md")],
                 ["codebook", "export", "--out", str(tmp_path / "cb.xlsx")],
                 ["codebook", "export", "--out", str(tmp_path / "cb.qdc")],
                 ["codings", "export", "--coder", "anna", "--out", str(tmp_path / "anna.csv")]):
        argv = argv + ["--store", str(store)] * (argv[0] != "codebook")
        assert runner.invoke(app, argv).exit_code == 0
        again = runner.invoke(app, argv)
        assert again.exit_code == 0, (argv, again.output)
    # the same file name as another kind's output is not "our own output of the same kind"
    res = runner.invoke(app, ["agreement", "--coders", "anna", "ben", "--store", str(store),
                              "--out", str(tmp_path / "seg.xlsx")])
    assert res.exit_code == 1 and "not an earlier agreement report" in res.stderr


def test_an_export_into_codings_is_human_work_once_written(study):
    store, codings = study
    target = codings / "anna-export.csv"
    argv = ["codings", "export", "--coder", "anna", "--out", str(target), "--store", str(store)]
    assert runner.invoke(app, argv).exit_code == 0
    before = target.read_bytes()
    _refused(runner.invoke(app, argv), target, before)  # a coder may have edited it since
