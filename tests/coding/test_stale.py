"""A stale consensus (its coders' codings changed after --apply) is flagged everywhere it is used."""

from __future__ import annotations

import pytest
from codings_fixture import CB, make_store
from openpyxl import load_workbook
from typer.testing import CliRunner

from vbhc_code.cli import app
from vbhc_code.coding.reconcile.apply import apply_reconciliation, write_reconcile_workbook
from vbhc_code.coding.stale import stale_for, stale_warnings
from vbhc_code.models import Coding
from vbhc_code.themes.build import build_themes

runner = CliRunner()
ANNA = [("int01.txt", 2, "C1"), ("int01.txt", 2, "C2"), ("int02.txt", 2, "C2")]
BEN = [("int01.txt", 2, "C1"), ("int02.txt", 3, "C3")]


def put(st, coder, cells):
    st.replace_codings(coder, [Coding(d, i, c, coder) for d, i, c in cells],
                       coded_documents=["int01.txt", "int02.txt"], codebook=CB)


@pytest.fixture()
def stale(tmp_path):
    """anna and ben reconciled into 'consensus', then anna's codings changed."""
    st = make_store(tmp_path / "s.sqlite")
    put(st, "anna", ANNA)
    put(st, "ben", BEN)
    out = tmp_path / "reconcile-anna-ben.xlsx"
    write_reconcile_workbook(st, coders=["anna", "ben"], out=out)
    wb = load_workbook(out)
    for row in range(2, wb["Disagreements"].max_row + 1):
        wb["Disagreements"][f"H{row}"] = "apply"
    wb.save(out)
    apply_reconciliation(st, path=out, log_csv=tmp_path / "log.csv")
    assert stale_for(st) == []
    put(st, "anna", ANNA[:2])
    yield st, out
    st.close()


MESSAGE = "coder 'consensus' is stale: it was reconciled from reconcile-anna-ben.xlsx on "


def test_stale_consensus_is_named_with_its_workbook_and_coders(stale):
    st, _ = stale
    (warning,) = stale_warnings(st, ["anna", "ben"])
    assert warning.startswith(MESSAGE)
    assert "the codings of 'anna' changed since; re-run reconcile (coders=anna ben)" in warning
    assert stale_warnings(st, ["auto"]) == []


def test_agreement_export_and_status_flag_it(stale, tmp_path):
    st, out = stale
    s = ["--store", str(st.path)]
    long = tmp_path / "anna.csv"
    long.write_text("document,turn_index,code\nint01.txt,2,C1\nint02.txt,2,C2\n", encoding="utf-8")
    res = runner.invoke(app, ["codings", "import", str(long), "--coder", "ben", "--replace", "--codebook",
                              str(_toml(tmp_path)), *s])
    assert res.exit_code == 0, res.output
    assert "the codings of 'anna' and 'ben' changed since" in res.stderr  # the --replace says it at once
    res = runner.invoke(app, ["agreement", "--coders", "anna", "ben", *s])
    assert res.exit_code == 0 and MESSAGE in res.stderr
    res = runner.invoke(app, ["refi", "export", "--out", str(tmp_path / "x.qdpx"), *s])
    assert res.exit_code == 0 and MESSAGE in res.stderr
    res = runner.invoke(app, ["reconcile", "--status", str(out), *s])
    assert res.exit_code == 1 and MESSAGE in res.stderr
    res = runner.invoke(app, ["reconcile", "--status", str(out), "--json", *s])
    assert res.exit_code == 1


def test_themes_warn_and_methods_report_no_mixed_figures(stale):
    st, _ = stale
    result = build_themes(st, coder="consensus", codebook=CB)
    assert any(w.startswith(MESSAGE) for w in result.warnings)
    methods = " ".join(result.methods)
    assert "Agreement: not reported, because the codings of anna changed after they were reconciled" in methods
    assert "Cohen's kappa" not in methods
    put(st, "anna", ANNA)  # back as reconciled: no longer stale, figures again
    result = build_themes(st, coder="consensus", codebook=CB)
    assert not any("stale" in w for w in result.warnings) and "Cohen's kappa" in " ".join(result.methods)


def _toml(tmp_path):
    from dataclasses import replace

    from vbhc_code.codebook.io import codebook_to_toml

    path = tmp_path / "cb.toml"
    path.write_text(codebook_to_toml(replace(CB, codes=tuple(replace(c, title=c.id) for c in CB.codes))),
                    encoding="utf-8")
    return path
