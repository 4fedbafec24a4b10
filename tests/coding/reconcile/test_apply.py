"""Reconciliation: the workbook, keeping decisions across re-runs, applying, the audit log, the CLI."""

from __future__ import annotations

import csv
import json

import pytest
from codings_fixture import CB, make_store
from openpyxl import load_workbook
from typer.testing import CliRunner

from vbhc_code.cli import app
from vbhc_code.coding.reconcile.apply import (
    LOG_COLUMNS,
    apply_reconciliation,
    compare_coders,
    reconcile_status,
    write_log_csv,
    write_reconcile_workbook,
)
from vbhc_code.errors import HumanWorkExists, UsageError, ValidationError
from vbhc_code.files.csvfile import CsvOptions
from vbhc_code.models import Coding

runner = CliRunner()

ANNA = [("int01.txt", 2, "C1"), ("int01.txt", 2, "C2"), ("int01.txt", 4, "C3"), ("int02.txt", 2, "C2")]
BEN = [("int01.txt", 2, "C1"), ("int01.txt", 4, "C1"), ("int02.txt", 3, "C3")]
# Disagreements rows 2-6: int01 #2 C2 (1,0), int01 #4 C1 (0,1), int01 #4 C3 (1,0), int02 #2 C2 (1,0),
# int02 #3 C3 (0,1). Columns: A document .. E text, F anna, G ben, H decision, I rationale, J decided_by.
DISAGREE = [("int01.txt", 2, "C2"), ("int01.txt", 4, "C1"), ("int01.txt", 4, "C3"), ("int02.txt", 2, "C2"),
            ("int02.txt", 3, "C3")]


def put(st, coder, cells, docs=("int01.txt", "int02.txt")):
    st.replace_codings(coder, [Coding(d, i, c, coder) for d, i, c in cells], coded_documents=docs, codebook=CB)


@pytest.fixture()
def store(tmp_path):
    st = make_store(tmp_path / "s.sqlite")
    put(st, "anna", ANNA)
    put(st, "ben", BEN)
    yield st
    st.close()


def fill(path, values):
    wb = load_workbook(path)
    for coord, value in values.items():
        wb["Disagreements"][coord] = value
        if isinstance(value, str):
            wb["Disagreements"][coord].data_type = "s"  # typed as text, not as a formula
    wb.save(path)


def sheet(path, name="Disagreements"):
    return list(load_workbook(path, read_only=True)[name].iter_rows(values_only=True))


def test_compare_coders(store):
    comp = compare_coders(store, "anna", "ben")
    assert comp.agreed == {("int01.txt", 2, "C1")}
    assert list(comp.disagreements) == DISAGREE
    assert comp.disagreements[("int01.txt", 4, "C1")] == (0, 1)


def test_workbook_layout(store, tmp_path):
    out = tmp_path / "codings" / "reconcile-anna-ben.xlsx"
    rep = write_reconcile_workbook(store, coders=["anna", "ben"], out=out)
    assert (rep.disagreements, rep.agreed, rep.decided, rep.documents) == (5, 1, 0, 2)
    rows = sheet(out)
    assert rows[0] == ("document", "turn_index", "code", "speaker", "text", "anna", "ben", "decision", "rationale",
                       "decided_by")
    assert [r[:3] for r in rows[1:]] == DISAGREE
    assert rows[1][3:7] == ("P1", "We use PROMs and a registry.", 1, 0)
    wb = load_workbook(out)
    assert {str(dv.sqref): dv.formula1 for dv in wb["Disagreements"].data_validations.dataValidation} == {
        "H2:H6": '"apply,omit,anna,ben"'
    }
    assert sheet(out, "Agreed")[1:] == [("int01.txt", 2, "C1", "P1", "We use PROMs and a registry.")]
    assert wb["_meta"].sheet_state == "hidden"
    hostile = wb["Disagreements"]["E3"]  # int01 #4 starts with '=SUM(A1)': text, never a formula
    assert hostile.data_type == "s" and hostile.value.startswith("=SUM(A1) costs")
    assert wb["Disagreements"].freeze_panes == "A2"
    with pytest.raises(UsageError, match="'anna' named twice"):
        write_reconcile_workbook(store, coders=["anna", "anna"], out=out)


def test_documents_coded_by_one_coder_only_are_not_reconciled(store, tmp_path):
    put(store, "ben", BEN[:2], docs=("int01.txt",))
    rep = write_reconcile_workbook(store, coders=["anna", "ben"], out=tmp_path / "r.xlsx")
    assert rep.warnings == ["1 document(s) coded by anna only are not reconciled: int02.txt"]
    assert [r[:3] for r in sheet(tmp_path / "r.xlsx")[1:]] == DISAGREE[:3]


def test_rerun_keeps_every_decision(store, tmp_path):
    out = tmp_path / "r.xlsx"
    write_reconcile_workbook(store, coders=["anna", "ben"], out=out)
    fill(out, {"H2": "apply", "I2": "PROMs named", "J2": "AB", "H3": "ben", "I3": "costs are C1", "H5": "omit",
               "I4": "still talking"})
    # ben re-imports: now codes int01 #2 C2 and #4 C3 (agreeing), drops #3 C3, adds int02 #2 C1
    put(store, "ben", [*BEN[:2], ("int01.txt", 2, "C2"), ("int01.txt", 4, "C3"), ("int02.txt", 2, "C1")])
    decided = out.read_bytes()
    rep = write_reconcile_workbook(store, coders=["anna", "ben"], out=out)
    assert dict(rep.changes) == {"kept": 2, "new": 1, "resolved-by-reimport": 3}
    # decided rows would move: the decided workbook stays as it is, the refresh is written beside it
    assert out.read_bytes() == decided and rep.path == tmp_path / "r-2.xlsx"
    assert rep.warnings == [
        "the codings changed since r.xlsx was written (new 1, resolved-by-reimport 3): 2 decided row(s) would "
        "move or change, so r.xlsx is left as it is and the refreshed workbook (decisions carried over) is "
        "r-2.xlsx; check it and apply it, or use force=True to refresh r.xlsx in place"]
    out = rep.path
    rows = sheet(out)
    assert [(r[:3], r[7], r[8]) for r in rows[1:]] == [
        (("int01.txt", 4, "C1"), "ben", "costs are C1"),
        (("int02.txt", 2, "C1"), None, None),
        (("int02.txt", 2, "C2"), "omit", None),
    ]
    changes = {r[:4] for r in sheet(out, "Changes")[1:]}
    assert changes == {("int01.txt", 2, "C2", "resolved-by-reimport"), ("int01.txt", 4, "C1", "kept"),
                       ("int01.txt", 4, "C3", "resolved-by-reimport"), ("int02.txt", 2, "C2", "kept"),
                       ("int02.txt", 3, "C3", "resolved-by-reimport"), ("int02.txt", 2, "C1", "new")}
    earlier = sheet(out, "Earlier decisions")
    assert [r[:9] for r in earlier[1:]] == [
        ("int01.txt", 2, "C2", 1, 0, "apply", "PROMs named", "AB", "resolved-by-reimport"),
        ("int01.txt", 4, "C3", 1, 0, None, "still talking", None, "resolved-by-reimport"),
    ]
    # ben goes back to the first coding: the earlier decision comes back, nothing was lost
    put(store, "ben", BEN)
    rep = write_reconcile_workbook(store, coders=["anna", "ben"], out=out)
    assert rep.changes["restored"] == 2
    rows = {r[:3]: r[7:10] for r in sheet(out)[1:]}
    assert rows[("int01.txt", 2, "C2")] == ("apply", "PROMs named", "AB")
    assert rows[("int01.txt", 4, "C1")][0] == "ben" and rows[("int02.txt", 2, "C2")][0] == "omit"
    assert len(sheet(out, "Earlier decisions")) == 3  # still listed as history
    assert rep.path == out  # no decided row moved: refreshed in place
    again = write_reconcile_workbook(store, coders=["anna", "ben"], out=out)
    assert not again.written and again.path == out  # up to date: nothing written


def test_force_refreshes_a_decided_workbook_in_place(store, tmp_path):
    out = tmp_path / "r.xlsx"
    write_reconcile_workbook(store, coders=["anna", "ben"], out=out)
    fill(out, {"H2": "apply"})
    put(store, "ben", [*BEN[:2], ("int01.txt", 2, "C2")])
    rep = write_reconcile_workbook(store, coders=["anna", "ben"], out=out, force=True)
    assert rep.path == out and rep.warnings == [] and not (tmp_path / "r-2.xlsx").exists()
    assert sheet(out, "Earlier decisions")[1][5] == "apply"


def test_unreadable_existing_workbook_needs_force(store, tmp_path):
    out = tmp_path / "r.xlsx"
    out.write_bytes(b"not a workbook")
    with pytest.raises(HumanWorkExists) as exc:
        write_reconcile_workbook(store, coders=["anna", "ben"], out=out)
    assert str(exc.value) == (f"{out} already exists and its decisions cannot be carried over (r.xlsx: not a "
                              "readable .xlsx workbook (not a zip archive, or a truncated one)); use force=True to overwrite it or choose "
                              "another out")
    assert out.read_bytes() == b"not a workbook"
    write_reconcile_workbook(store, coders=["anna", "ben"], out=out, force=True)
    wb = load_workbook(out)
    wb["Disagreements"]["B3"] = "four"
    wb["Disagreements"]["H3"] = "apply"
    wb.save(out)
    with pytest.raises(ValidationError) as exc:
        write_reconcile_workbook(store, coders=["anna", "ben"], out=out)
    assert exc.value.problems == ["[r.xlsx Disagreements!B3] turn_index is not a number"]
    assert load_workbook(out)["Disagreements"]["H3"].value == "apply"  # not overwritten
    put(store, "carl", BEN)
    with pytest.raises(HumanWorkExists, match="it reconciles anna and ben, not anna and carl"):
        write_reconcile_workbook(store, coders=["anna", "carl"], out=out)


def test_apply_lists_every_missing_or_invalid_decision(store, tmp_path):
    out = tmp_path / "r.xlsx"
    write_reconcile_workbook(store, coders=["anna", "ben"], out=out)
    fill(out, {"H2": "apply", "H3": "maybe", "H4": "as Anna", "H6": "omit"})
    with pytest.raises(ValidationError) as exc:
        apply_reconciliation(store, path=out, log_csv=None)
    assert exc.value.message == "r.xlsx: 2 problem(s); nothing was applied"
    assert exc.value.problems == [
        "[r.xlsx Disagreements!H3] decision (a text of 5 characters) is not apply, omit, anna or ben",
        "[r.xlsx Disagreements!H5] no decision for int02.txt #2 C2",
    ]
    assert "consensus" not in {c.name for c in store.coders()} and store.reconciliation_log() == []
    with pytest.raises(ValidationError) as exc:  # --partial still refuses invalid decisions
        apply_reconciliation(store, path=out, partial=True, log_csv=None)
    assert exc.value.problems == ["[r.xlsx Disagreements!H3] decision (a text of 5 characters) is not apply, omit, anna or ben"]
    with pytest.raises(UsageError, match="must not overwrite one of the reconciled coders"):
        apply_reconciliation(store, path=out, as_coder="anna", log_csv=None)


def test_apply_stores_consensus_and_audit_log(store, tmp_path):
    out = tmp_path / "r.xlsx"
    write_reconcile_workbook(store, coders=["anna", "ben"], out=out)
    fill(out, {"H2": "apply", "I2": "PROMs named", "J2": "AB", "H3": "anna", "H4": "ben", "H5": "omit",
               "H6": "as ben", "I6": "=cmd|' /C calc'!A0", "J6": "AB"})
    log = tmp_path / "outputs" / "reconciliation-log.csv"
    rep = apply_reconciliation(store, path=out, log_csv=log)
    expected = {("int01.txt", 2, "C1"), ("int01.txt", 2, "C2"), ("int02.txt", 3, "C3")}
    assert {(c.document, c.turn_index, c.code) for c in store.codings("consensus")} == expected
    assert store.coded_documents("consensus") == {"int01.txt", "int02.txt"}
    assert store.coder_codebook("consensus").version == "1.0"
    assert dict(rep.settled) == {"apply": 1, "as anna": 1, "as ben": 2, "omit": 1}
    assert (rep.codings, rep.agreed, rep.undecided) == (3, 1, 0)
    assert rep.warnings[0] == "3 decision(s) have no decided_by"
    logged = store.reconciliation_log()
    assert len(logged) == 5
    assert {k: logged[0][k] for k in ("document", "turn_index", "code", "value_a", "value_b", "decision",
                                      "rationale", "decided_by", "consensus_coder")} == {
        "document": "int01.txt", "turn_index": 2, "code": "C2", "value_a": 1, "value_b": 0, "decision": "apply",
        "rationale": "PROMs named", "decided_by": "AB", "consensus_coder": "consensus"}
    assert log.read_bytes().startswith(b"\xef\xbb\xbfcell,")  # UTF-8 with a BOM, for Excel
    with log.open(newline="", encoding="utf-8-sig") as fh:
        rows = list(csv.reader(fh))
    assert tuple(rows[0]) == LOG_COLUMNS and len(rows) == 6
    assert rows[1][:10] == ["int01.txt #2 C2", "int01.txt", "2", "C2", "anna", "1", "ben", "0", "apply", "1"]
    # a rationale that Excel would run as a formula is neutralised; --raw writes it verbatim
    assert rows[3][8:10] == ["ben", "0"] and rows[5][8:11] == ["ben", "1", "'=cmd|' /C calc'!A0"]
    assert log.read_bytes().count(b"\r\n") == 6
    write_log_csv(store, log, options=CsvOptions(bom=False, raw=True))
    assert log.read_bytes().startswith(b"cell,")
    assert ",=cmd|' /C calc'!A0," in log.read_text(encoding="utf-8")
    # applying again replaces the consensus (a reconciliation's own coder) ...
    apply_reconciliation(store, path=out, log_csv=log)
    assert len(store.reconciliation_log()) == 10
    # ... but never a coder whose codings came from elsewhere
    put(store, "carl", ANNA[:1])
    with pytest.raises(HumanWorkExists) as exc:
        apply_reconciliation(store, path=out, as_coder="carl", log_csv=log)
    assert exc.value.message == ("as_coder=carl: coder 'carl' holds codings from elsewhere, not from a reconciliation; "
                                 "choose another as_coder")
    assert len(store.codings("carl")) == 1 and len(store.reconciliation_log()) == 10


def test_apply_reports_agreement_with_consensus(store, tmp_path):
    pytest.importorskip("vbhc_code.agreement.report")
    out = tmp_path / "r.xlsx"
    write_reconcile_workbook(store, coders=["anna", "ben"], out=out)
    fill(out, {f"H{r}": "anna" for r in range(2, 7)})
    rep = apply_reconciliation(store, path=out, log_csv=None)
    # the consensus is anna's coding: 4 participant turns x 3 codes, anna agrees on all 12, ben on 7
    assert rep.agreement["anna"]["percent_agreement"] == pytest.approx(1.0)
    assert rep.agreement["ben"]["percent_agreement"] == pytest.approx(7 / 12)


def test_partial_apply_leaves_undecided_documents_out(store, tmp_path):
    out = tmp_path / "r.xlsx"
    write_reconcile_workbook(store, coders=["anna", "ben"], out=out)
    fill(out, {"H2": "apply", "H3": "omit", "H4": "omit", "H5": "apply"})
    rep = apply_reconciliation(store, path=out, partial=True, log_csv=None)
    assert rep.skipped_documents == ["int02.txt"] and rep.undecided == 1
    assert store.coded_documents("consensus") == {"int01.txt"}
    assert {(c.document, c.turn_index, c.code) for c in store.codings("consensus")} == {
        ("int01.txt", 2, "C1"), ("int01.txt", 2, "C2")}
    assert len(store.reconciliation_log()) == 4


def test_apply_refuses_a_stale_workbook(store, tmp_path):
    out = tmp_path / "r.xlsx"
    write_reconcile_workbook(store, coders=["anna", "ben"], out=out)
    fill(out, {f"H{r}": "apply" for r in range(2, 7)})
    put(store, "ben", [*BEN[:2], ("int01.txt", 2, "C2"), ("int01.txt", 4, "C2")])
    with pytest.raises(ValidationError) as exc:
        apply_reconciliation(store, path=out, log_csv=None)
    assert exc.value.problems == [
        "[r.xlsx Disagreements!A2] int01.txt #2 C2 no longer disagrees in the store; "
        "re-run reconcile (coders=anna ben)",
        "[r.xlsx Disagreements!A6] int02.txt #3 C3 no longer disagrees in the store; "
        "re-run reconcile (coders=anna ben)",
        "[r.xlsx Disagreements] int01.txt #4 C2 disagrees in the store but is not listed; "
        "re-run reconcile (coders=anna ben)",
    ]


def test_status(store, tmp_path):
    out = tmp_path / "r.xlsx"
    write_reconcile_workbook(store, coders=["anna", "ben"], out=out)
    fill(out, {"H2": "apply", "H3": "ben", "H4": "nope"})
    st = reconcile_status(store, path=out)
    assert (st["disagreements"], st["decided"], st["undecided"], st["invalid"], st["stale"]) == (5, 2, 2, 1, 0)
    assert st["by_decision"] == {"apply": 1, "as ben": 1} and st["percent_decided"] == 40.0
    assert st["by_code"]["C3"] == {"invalid": 1, "undecided": 1}
    assert st["invalid_cells"] == ["[r.xlsx Disagreements!H4] decision (a text of 4 characters) is not apply, omit, anna or ben"]


def test_cli_status_locates_invalid_decisions(store, tmp_path):
    out = tmp_path / "r.xlsx"
    write_reconcile_workbook(store, coders=["anna", "ben"], out=out)
    fill(out, {"H2": "apply", "H4": "nope"})
    res = runner.invoke(app, ["reconcile", "--status", str(out), "--store", str(store.path)])
    assert res.exit_code == 0, res.output
    assert res.stdout.splitlines()[:3] == [
        f"{out}: 1 of 5 disagreements decided (20%), 3 undecided, 1 invalid",
        "invalid: [r.xlsx Disagreements!H4] decision (a text of 4 characters) is not apply, omit, anna or ben",
        "decisions: apply 1",
    ]


def test_cli_help_keeps_one_usage_form_per_line():
    res = runner.invoke(app, ["reconcile", "--help"])
    assert res.exit_code == 0
    lines = [line.strip() for line in res.stdout.splitlines()]
    assert "vbhc-code reconcile --coders A B [--out F.xlsx]   write or refresh (decisions are kept)" in lines
    assert "vbhc-code reconcile --apply F.xlsx [--as consensus] [--partial]" in lines
    assert "vbhc-code reconcile --status [F.xlsx]" in lines


def test_cli_reconcile(store, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    s = ["--store", str(store.path)]
    res = runner.invoke(app, ["reconcile", "--coders", "anna", "ben", *s])
    assert res.exit_code == 0, res.output
    assert res.stdout == ""  # messages go to stderr, stdout is for data
    assert res.stderr.splitlines()[0] == ("wrote codings/reconcile-anna-ben.xlsx: 5 disagreements (0 decided), "
                                          "1 agreed cells, 2 documents coded by both")
    out = tmp_path / "codings" / "reconcile-anna-ben.xlsx"
    fill(out, {"H2": "apply", "H3": "omit"})
    res = runner.invoke(app, ["reconcile", "--status", *s])
    assert res.exit_code == 0
    assert res.stdout.splitlines()[0] == ("codings/reconcile-anna-ben.xlsx: 2 of 5 disagreements decided (40%), "
                                          "3 undecided, 0 invalid")
    res = runner.invoke(app, ["reconcile", "--status", str(out), "--json", *s])
    assert json.loads(res.stdout)["decided"] == 2
    res = runner.invoke(app, ["reconcile", "--apply", str(out), *s])
    assert res.exit_code == 1
    assert res.stderr.splitlines() == [
        "error: reconcile-anna-ben.xlsx: 3 problem(s); nothing was applied",
        "[reconcile-anna-ben.xlsx Disagreements!H4] no decision for int01.txt #4 C3",
        "[reconcile-anna-ben.xlsx Disagreements!H5] no decision for int02.txt #2 C2",
        "[reconcile-anna-ben.xlsx Disagreements!H6] no decision for int02.txt #3 C3",
    ]
    fill(out, {"H4": "omit"})  # int01.txt is now fully decided
    res = runner.invoke(app, ["reconcile", "--apply", str(out), "--partial", "--as", "agreed", *s])
    assert res.exit_code == 0, res.output
    assert "stored coder 'agreed': 2 codings in 1 documents" in res.stderr
    assert "Settled by decision" in res.stdout
    assert (tmp_path / "outputs" / "reconciliation-log.csv").read_bytes().startswith(b"\xef\xbb\xbfcell,")
    res = runner.invoke(app, ["reconcile", "--apply", str(out), "--partial", "--as", "agreed", "--no-bom", *s])
    assert res.exit_code == 0, res.output
    assert (tmp_path / "outputs" / "reconciliation-log.csv").read_bytes().startswith(b"cell,")
    assert runner.invoke(app, ["reconcile", *s]).exit_code == 2
    assert runner.invoke(app, ["reconcile", "--coders", "anna", "ben", "--apply", str(out), *s]).exit_code == 2
    assert runner.invoke(app, ["reconcile", "--coders", "anna", "nobody", *s]).exit_code == 1


def test_flipped_cell_keeps_its_decision_and_is_flagged(store, tmp_path):
    out = tmp_path / "r.xlsx"
    write_reconcile_workbook(store, coders=["anna", "ben"], out=out)
    fill(out, {"H2": "anna", "I2": "anna was right"})
    put(store, "anna", [c for c in ANNA if c != ("int01.txt", 2, "C2")])
    put(store, "ben", [*BEN, ("int01.txt", 2, "C2")])
    rep = write_reconcile_workbook(store, coders=["anna", "ben"], out=out)
    assert rep.changes["kept-values-changed"] == 1
    assert rep.path == tmp_path / "r-2.xlsx"  # a decision whose meaning changed: the refresh goes beside
    out = rep.path
    first = sheet(out)[1]
    assert first[:3] == ("int01.txt", 2, "C2") and first[5:9] == (0, 1, "anna", "anna was right")


def test_sample_study_end_to_end(sample_store, tmp_path):
    """The bundled human codings: import, reconcile, settle every cell 'as anna' -> consensus == anna."""
    import shutil

    from repo_paths import REPO

    from vbhc_code.coding.imports import import_codings
    from vbhc_code.store.store import Store

    files = [REPO / "codings" / "coder-anna.csv", REPO / "codings" / "coder-ben.csv"]
    raw = {}
    for f, coder in zip(files, ("anna", "ben")):
        with f.open(newline="", encoding="utf-8") as fh:
            raw[coder] = {(r["document"], int(r["turn_index"]), r["code"]) for r in csv.DictReader(fh) if r["code"]}
    path = tmp_path / "s.sqlite"
    shutil.copy(sample_store, path)
    with Store.open(path, create=False) as st:
        import_codings(st, files)
        assert {(c.document, c.turn_index, c.code) for c in st.codings("anna")} == raw["anna"]
        out = tmp_path / "r.xlsx"
        rep = write_reconcile_workbook(st, coders=["anna", "ben"], out=out)
        assert rep.disagreements == len(raw["anna"] ^ raw["ben"]) and rep.agreed == len(raw["anna"] & raw["ben"])
        n = len(sheet(out))
        fill(out, {f"H{r}": "anna" for r in range(2, n + 1)})
        apply_reconciliation(st, path=out, log_csv=tmp_path / "log.csv")
        assert {(c.document, c.turn_index, c.code) for c in st.codings("consensus")} == raw["anna"]
        assert len(st.reconciliation_log()) == rep.disagreements
