"""The manuscript pieces: `themes --docx` on the bundled study, read back with python-docx, and the Markdown."""

from __future__ import annotations

import json
import re
import shutil
import subprocess

import docx
import pytest
from repo_paths import REPO
from themes_fixture import build_store, soffice
from typer.testing import CliRunner

from vbhc_code.cli import app
from vbhc_code.store.store import Store
from vbhc_code.themes.build import build_themes, themes_markdown
from vbhc_code.themes.masking import mask_text
from vbhc_code.themes.paper import paper
from vbhc_code.themes.prose import verbatim_pieces

runner = CliRunner()
STYLES = {"Normal", "Heading 1", "Heading 2", "Caption", "Table Text", "Table Number", "Table Heading",
          "Table Theme"}


def _norm(text):
    return " ".join(text.split())


@pytest.fixture
def study(sample_store, tmp_path):
    """The bundled study with anna's codings imported (the store is copied: the session one stays clean)."""
    from vbhc_code.coding.imports import import_codings

    anna = REPO / "codings" / "coder-anna.csv"
    if not anna.is_file():
        pytest.skip("codings/coder-anna.csv is not there")
    path = tmp_path / "sample.sqlite"
    shutil.copy(sample_store, path)
    with Store.open(path) as st:
        import_codings(st, [anna], coder="anna")
    return path


def _body(document):
    """The body's paragraphs and tables in document order."""
    from docx.table import Table
    from docx.text.paragraph import Paragraph

    out = []
    for el in document.element.body.iterchildren():
        if el.tag.endswith("}p"):
            out.append(Paragraph(el, document))
        elif el.tag.endswith("}tbl"):
            out.append(Table(el, document))
    return out


def test_docx_on_the_bundled_study(study, tmp_path):
    out = tmp_path / "out"
    res = runner.invoke(app, ["themes", "--coder", "anna", "--store", str(study), "--out", str(out / "t.xlsx"),
                              "--docx", str(out / "themes.docx"), "--md", str(out / "themes.md"), "--json"])
    assert res.exit_code == 0, res.output
    data = json.loads(res.stdout)
    d = docx.Document(str(out / "themes.docx"))
    body = _body(d)
    tables = [i for i, x in enumerate(body) if isinstance(x, docx.table.Table)]
    assert len(tables) == 2
    captions = [body[i - 1] for i in tables]  # each table right below its caption
    assert [c.style.name for c in captions] == ["Caption", "Caption"]
    assert captions[0].text.startswith("Table 1. ") and "coding: anna" in captions[0].text
    assert "turn" in captions[0].text and captions[1].text.startswith("Table 2. ")
    t1, t2 = (body[i] for i in tables)
    assert t1.style.name == t2.style.name == "Table Grid"
    # Table 1: counts are the --json counts, code by code and group by group
    head = [c.text for c in t1.rows[0].cells]
    groups = [re.match(r"(.+) \(n = \d+\)$", h).group(1) for h in head[2:-1]]
    assert groups == ["SIM", "VBHC"] and head[-1] == "Turns"
    by_title = {js["title"]: (code, js) for code, js in data["codes"].items()}
    seen = set()
    for row in t1.rows[1:]:
        cells = [c.text for c in row.cells]
        if len(set(cells)) == 1:  # a theme's heading row (one merged cell)
            continue
        code, js = by_title[cells[0]]
        seen.add(code)
        assert int(cells[1].split()[0]) == js["participants"] and int(cells[-1]) == js["turns"]
        for g, cell in zip(groups, cells[2:-1]):
            assert int(cell.split()[0]) == js["by_group"][g]["participants"]
    assert seen == set(data["codes"]) and all("_" not in t for t in by_title)  # readable titles
    # Table 2: the --json quotes in order, verbatim in their turns, attributed
    rows = [[c.text for c in r.cells] for r in t2.rows[1:]]
    assert len(rows) == len(data["quotes"]) > 0
    with Store.open(study, create=False) as st:
        turns = {(t.document, t.turn_index): t for t in st.turns(scope="all")}
    for (_title, quote, attribution), q in zip(rows, data["quotes"]):
        assert quote == f"\u201c{q['text']}\u201d" and attribution == q["attribution"]
        assert re.match(r"P\d+, expert in (SIM|VBHC), (interview|focus group)$", attribution)
        text = mask_text(turns[(q["document"], q["turn_index"])].text)[0]  # identifiers read as placeholders
        assert all(_norm(p) in _norm(text) for p in verbatim_pieces(q["text"]))
    assert {r[0] for r in rows} - {""} <= set(by_title)
    # Word styles only: no direct run formatting, headings and captions by style
    names = {p.style.name for p in d.paragraphs}
    names |= {p.style.name for t in d.tables for c in t._cells for p in c.paragraphs}
    assert {"Heading 1", "Heading 2", "Caption"} <= names <= STYLES
    runs = [r for p in d.paragraphs for r in p.runs] + [r for t in d.tables for c in t._cells for p in c.paragraphs
                                                        for r in p.runs]
    assert all(r.bold is None and r.italic is None and r.font.size is None for r in runs)
    assert all(s.orientation == 0 for s in d.sections)  # five columns fit a portrait page
    methods = "\n".join(p.text for p in d.paragraphs)
    assert "anna" in methods and "vbhc-sim" in methods and "Table 2 holds" in methods
    # the Markdown shows the same tables and quotes
    md = (out / "themes.md").read_text(encoding="utf-8")
    assert "Table 1. " in md and "Table 2. " in md and "\\_" not in md.split("## Methods")[0]
    for q in data["quotes"]:
        assert q["attribution"] in md
    if soffice():
        env = {"HOME": str(tmp_path), "PATH": "/usr/bin:/bin"}
        res = subprocess.run([soffice(), "--headless", "--convert-to", "pdf", "--outdir", str(tmp_path / "pdf"),
                              str(out / "themes.docx")], capture_output=True, timeout=180, env=env, text=True, check=False)
        assert res.returncode == 0 and (tmp_path / "pdf" / "themes.pdf").stat().st_size > 5000, res.stderr


def test_wide_table_gets_a_landscape_section_only(tmp_path):
    from vbhc_code.files.docx_write import (
        Heading,
        Paragraph,
        TableBlock,
        write_document,
    )

    wide = TableBlock("Table 1. Wide.", [f"c{i}" for i in range(9)], [("row", [str(i) for i in range(9)])])
    narrow = TableBlock("Table 2. Narrow.", ["a", "b"], [("heading", ["Theme"]), ("row", ["x", "1 (50%)"])])
    path = write_document(tmp_path / "d.docx", [Heading("Results"), wide, narrow, Paragraph("end \x07")])
    d = docx.Document(str(path))
    assert [s.orientation for s in d.sections] == [0, 1, 0]  # portrait, landscape for the wide table, portrait
    assert d.sections[1].page_width > d.sections[1].page_height
    t = d.tables[1]
    assert t.rows[1].cells[0].paragraphs[0].style.name == "Table Theme"
    assert t.rows[2].cells[1].paragraphs[0].style.name == "Table Number"
    assert d.paragraphs[-1].text == "end "  # control characters cannot go into XML


def test_docx_refuses_other_work_and_markdown_matches(tmp_path):
    st = build_store(tmp_path / "s.sqlite")
    try:
        r = build_themes(st, coder="consensus")
    finally:
        st.close()
    mine = tmp_path / "paper.docx"
    docx.Document().save(str(mine))  # someone's manuscript
    res = runner.invoke(app, ["themes", "--coder", "consensus", "--store", str(tmp_path / "s.sqlite"),
                              "--out", str(tmp_path / "t.xlsx"), "--docx", str(mine)])
    assert res.exit_code == 1 and "not an earlier themes output" in res.stderr
    assert not (tmp_path / "t.xlsx").exists()  # nothing written
    again = ["themes", "--coder", "consensus", "--store", str(tmp_path / "s.sqlite"),
             "--out", str(tmp_path / "t.xlsx"), "--docx", str(tmp_path / "ours.docx")]
    assert runner.invoke(app, again).exit_code == 0
    assert runner.invoke(app, again).exit_code == 0  # our own earlier output is replaced
    assert runner.invoke(app, [*again[:-1], str(tmp_path / "x.doc")]).exit_code == 2
    doc = paper(r)
    md = themes_markdown(r)
    for row in doc.table2.rows:
        assert row.cells[1] in md  # the same quotes as the Word document
    assert [row.cells[0] for row in doc.table1.rows if row.kind == "theme"] == ["Value", "Data"]
