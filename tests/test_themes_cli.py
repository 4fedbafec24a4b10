"""`vbhc-code themes` end to end: files written, JSON printed, exit codes and error lines."""

from __future__ import annotations

import json

import openpyxl
from themes_fixture import build_store
from typer.testing import CliRunner

from vbhc_code.cli import app

runner = CliRunner()


def _store(tmp_path):
    path = tmp_path / "study.sqlite"
    build_store(path).close()
    return path


def test_themes_writes_workbook_markdown_and_json(tmp_path):
    store = _store(tmp_path)
    out, md = tmp_path / "out" / "themes.xlsx", tmp_path / "out" / "themes.md"
    res = runner.invoke(app, ["themes", "--coder", "consensus", "--store", str(store), "--out", str(out),
                              "--md", str(md), "--json", "--quotes", "2"])
    assert res.exit_code == 0, res.output
    data = json.loads(res.stdout)
    assert data["codes"]["A"]["turns"] == 5 and data["codes"]["A"]["by_group"]["SIM"] == {"turns": 3,
                                                                                        "participants": 2}
    assert sum(q["code"] == "A" for q in data["quotes"]) == 2
    assert set(data["quotes"][0]) == {"code", "document", "turn_index", "participant_id", "start", "end", "text",
                                      "attribution"}
    assert data["cooccurrence"]["A"]["C"] == 3
    assert openpyxl.load_workbook(out, read_only=True).sheetnames[0] == "Overview"
    assert md.read_text(encoding="utf-8").startswith("## Themes")
    assert sorted(p.name for p in out.parent.iterdir()) == ["themes.md", "themes.xlsx"]  # no temp files left


def test_themes_usage_and_data_errors(tmp_path):
    store = _store(tmp_path)
    res = runner.invoke(app, ["themes", "--coder", "consensus", "--store", str(store), "--attribution", "{who}",
                              "--out", str(tmp_path / "t.xlsx")])
    assert res.exit_code == 2
    assert res.stderr.startswith("error: --attribution: unknown placeholder {who}; use {participant_id}")
    assert not (tmp_path / "t.xlsx").exists()
    res = runner.invoke(app, ["themes", "--coder", "nobody", "--store", str(store), "--out", str(tmp_path / "t.xlsx")])
    assert res.exit_code == 1
    assert res.stderr.strip() == "error: no codings by coder 'nobody' in the store (coders: anna, consensus)"
    res = runner.invoke(app, ["themes", "--coder", "consensus", "--store", str(store), "--scope", "some"])
    assert res.exit_code == 2 and "--scope must be participant or all" in res.stderr
    assert runner.invoke(app, ["themes", "--help"]).exit_code == 0


def test_unknown_by_and_framework_attributes(tmp_path):
    store = _store(tmp_path)
    res = runner.invoke(app, ["themes", "--coder", "consensus", "--store", str(store), "--by", "age",
                              "--out", str(tmp_path / "t.xlsx")])
    assert res.exit_code == 2
    assert res.stderr.strip() == "error: --by age: no participant has that attribute (attributes: group, group_label)"
    res = runner.invoke(app, ["themes", "--coder", "consensus", "--store", str(store), "--framework", "country",
                              "--out", str(tmp_path / "t.xlsx")])
    assert res.exit_code == 2
    assert res.stderr.strip() == (
        "error: --framework country: no coded document has that attribute (attributes: health_system)")
    assert not (tmp_path / "t.xlsx").exists()
