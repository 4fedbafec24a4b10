"""`vbhc-code themes` end to end: files written, JSON printed, exit codes and error lines."""

from __future__ import annotations

import json

import openpyxl
from themes_fixture import build_store
from typer.testing import CliRunner

from vbhc_code.cli import app
from vbhc_code.store.store import Store
from vbhc_code.themes.build import build_themes, themes_json

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
    res = runner.invoke(
        app, ["themes", "--coder", "consensus", "--store", str(store), "--out", str(tmp_path / "t.csv")]
    )
    assert res.exit_code == 2
    assert res.stderr.strip() == f"error: --out {tmp_path / 't.csv'}: the workbook must be a .xlsx file"
    res = runner.invoke(
        app,
        [
            "themes",
            "--coder",
            "consensus",
            "--store",
            str(store),
            "--out",
            str(tmp_path / "t.xlsx"),
            "--md",
            str(tmp_path),
        ],
    )
    assert res.exit_code == 2 and res.stderr.strip() == f"error: --md {tmp_path}: is a folder; give a file name"
    assert not (tmp_path / "t.xlsx").exists() and not (tmp_path / "t.csv").exists()
    res = runner.invoke(app, ["themes", "--coder", "consensus", "--store", str(store), "--scope", "some"])
    assert res.exit_code == 2 and "--scope must be participant or all" in res.stderr
    assert runner.invoke(app, ["themes", "--help"]).exit_code == 0


def test_unknown_by_and_framework_attributes(tmp_path):
    store = _store(tmp_path)
    res = runner.invoke(app, ["themes", "--coder", "consensus", "--store", str(store), "--by", "age",
                              "--out", str(tmp_path / "t.xlsx")])
    assert res.exit_code == 2
    assert res.stderr.strip() == (
        "error: --by age: no participant or coded document has that attribute (participant attributes: group, "
        "group_label; document attributes: health_system)")
    res = runner.invoke(app, ["themes", "--coder", "consensus", "--store", str(store), "--framework", "country",
                              "--out", str(tmp_path / "t.xlsx")])
    assert res.exit_code == 2
    assert res.stderr.strip() == (
        "error: --framework country: no coded document has that attribute (attributes: health_system)")
    assert not (tmp_path / "t.xlsx").exists()


def test_json_equals_library_and_pins_warn(tmp_path):
    store = _store(tmp_path)
    pins = tmp_path / "pins.csv"
    pins.write_text("document,turn_index,code\nFG1.txt,3,B\nINT01.vtt,2,A\n", encoding="utf-8")
    excl = tmp_path / "excl.csv"
    excl.write_text("document,turn_index,code\nFG1.txt,3,A\n", encoding="utf-8")
    out = tmp_path / "t.xlsx"
    res = runner.invoke(app, ["themes", "--coder", "consensus", "--store", str(store), "--out", str(out), "--json",
                              "--pin", str(pins), "--exclude", str(excl), "--by", "health_system",
                              "--attribution", "{participant_id} ({group})"])
    assert res.exit_code == 0, res.output
    assert res.stderr.splitlines() == [
        "warning: [pins.csv line 2] FG1.txt #3 is not coded B by consensus; pin ignored",
        f"wrote {out}",
    ]
    with Store.open(store) as st:
        lib = themes_json(build_themes(st, coder="consensus", pins=pins, excludes=excl, by="health_system",
                                       attribution="{participant_id} ({group})"))
    data = json.loads(res.stdout)
    assert data == lib
    assert data["quotes"][0]["attribution"] == "P4 (DE)"
    assert all((q["document"], q["turn_index"]) != ("FG1.txt", 3) for q in data["quotes"] if q["code"] == "A")


def test_bad_files_exit_1_with_located_lines(tmp_path):
    store = _store(tmp_path)
    bad = tmp_path / "pins.csv"
    bad.write_text("document,turn_index\nFG1.txt,two\n", encoding="utf-8")
    res = runner.invoke(app, ["themes", "--coder", "consensus", "--store", str(store), "--pin", str(bad),
                              "--out", str(tmp_path / "t.xlsx")])
    assert res.exit_code == 1
    assert res.stderr.splitlines() == ["error: pins.csv: 1 problem(s) in the --pin file",
                                       "[pins.csv line 2] turn_index must be a whole number"]
    res = runner.invoke(app, ["themes", "--coder", "consensus", "--store", str(store), "--codebook",
                              str(tmp_path / "missing.toml"), "--out", str(tmp_path / "t.xlsx")])
    assert res.exit_code == 1 and "missing.toml: file not found" in res.stderr
    res = runner.invoke(app, ["themes", "--coder", "consensus", "--store", str(tmp_path / "none.sqlite")])
    assert res.exit_code == 1 and "no study store here" in res.stderr
    assert not (tmp_path / "t.xlsx").exists()


def test_rerun_keeps_framework_ratings(tmp_path):
    store = _store(tmp_path)
    out = tmp_path / "themes.xlsx"
    args = ["themes", "--coder", "consensus", "--store", str(store), "--out", str(out)]
    assert runner.invoke(app, args).exit_code == 0
    wb = openpyxl.load_workbook(out)
    wb["Framework"]["G2"] = "red"
    wb.save(out)
    res = runner.invoke(app, args)
    assert res.exit_code == 0 and res.stderr.strip() == f"wrote {out} (kept 1 Framework ratings/notes)"
    assert openpyxl.load_workbook(out)["Framework"]["G2"].value == "red"


def test_refuses_to_replace_other_work_without_force(tmp_path):
    store = _store(tmp_path)
    other = tmp_path / "coder-anna.xlsx"
    wb = openpyxl.Workbook()
    wb.active.title = "Turns"
    wb.save(other)
    draft = tmp_path / "paper.md"
    draft.write_text("# My paper\n", encoding="utf-8")
    before = other.read_bytes()
    res = runner.invoke(app, ["themes", "--coder", "consensus", "--store", str(store), "--out", str(other)])
    assert res.exit_code == 1
    assert res.stderr.strip() == f"error: {other} already exists; use --force to overwrite it (not an earlier " \
                                 "themes output of vbhc-code)"
    assert other.read_bytes() == before
    out = tmp_path / "themes.xlsx"
    res = runner.invoke(app, ["themes", "--coder", "consensus", "--store", str(store), "--out", str(out),
                              "--md", str(draft)])
    assert res.exit_code == 1 and "paper.md already exists; use --force to overwrite it (not an earlier themes" in res.stderr
    assert not out.exists() and draft.read_text(encoding="utf-8") == "# My paper\n"
    res = runner.invoke(app, ["themes", "--coder", "consensus", "--store", str(store), "--out", str(other),
                              "--md", str(draft), "--force"])
    assert res.exit_code == 0
    assert "Quotes" in openpyxl.load_workbook(other, read_only=True).sheetnames
    assert draft.read_text(encoding="utf-8").startswith("## Themes")
    # an earlier themes output is replaced without --force
    assert runner.invoke(app, ["themes", "--coder", "consensus", "--store", str(store), "--out", str(other),
                               "--md", str(draft)]).exit_code == 0
