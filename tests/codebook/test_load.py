"""Codebook files: the built-in vbhc-sim, validation with located problems, export/import, the CLI."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from vbhc_code.cli import app
from vbhc_code.codebook.io import codebook_to_toml, export_codebook, import_codebook
from vbhc_code.codebook.load import (
    builtin_codebook_path,
    check_codebook,
    codebook_mix_warnings,
    load_codebook,
    mixed_codebook_warnings,
)
from vbhc_code.errors import DataError, HumanWorkExists, ValidationError
from vbhc_code.models import Coding, Document, Turn
from vbhc_code.store.schema import codebook_to_json
from vbhc_code.store.store import Store

REPO = Path(__file__).resolve().parents[2]
runner = CliRunner()

CODE_IDS = (
    "VBHC1", "VBHC2", "VBHC3", "VBHC4", "VBHC5", "VBHC6", "VBHC7", "VBHC8",
    "SIM1", "SIM2", "SIM3", "SIM4", "SIM5", "SIM6", "SIM7",
)
LABELS = (
    "ipu", "outcome_measurement", "cost_measurement", "bundled_payment", "system_integration", "geography",
    "it_platform", "culture", "value_meaning", "care_networks", "specialisation", "work_outcomes", "cost_drivers",
    "financial_incentives", "it_exchange",
)

BAD = """
name = "bad"
version = "0.1"
languages = ["en"]

[[themes]]
id = "access"
label = "Access"

[[codes]]
id = "A1"
theme = "access"
label = "waiting"
title = "Waiting times"
definition = "Waiting times."
terms = { en = ["waiting list", "queue"] }

[[codes]]
id = "A2"
theme = "access"
label = "no definition"
title = "No definition"
terms = { en = ["distance"] }

[[codes]]
id = "A1"
theme = "access"
label = "duplicate"
title = "Duplicate"
definition = "Same id again."
terms = { en = ["x"] }

[[codes]]
id = "A3"
theme = "acces"
label = "typo in theme"
definition = "Theme id misspelt."
terms = { en = ["Waiting  List"], nl = ["wachtlijst"] }
patterns = { en = [[{ LOWERR = "x" }]] }
"""


def write(tmp_path: Path, text: str, name: str = "cb.toml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


# -- the built-in codebook ------------------------------------------------------------------------
def test_builtin_codebook_validates_with_the_fixed_ids():
    problems = check_codebook(builtin_codebook_path())
    assert [str(p) for p in problems if p.level == "error"] == []
    cb = load_codebook()
    assert cb.name == "vbhc-sim" and cb.languages == ("en", "nl")
    assert [t.id for t in cb.themes] == ["VBHC", "SIM"]
    assert cb.code_ids == CODE_IDS
    assert tuple(c.label for c in cb.codes) == LABELS
    assert len(cb.sha256) == 64
    for code in cb.codes:
        assert code.definition and code.include and code.exclude and code.examples, code.id
        assert len(code.terms["en"]) >= 10 and len(code.terms["nl"]) >= 10, code.id
        assert code.theme == code.id.rstrip("0123456789")


def test_builtin_codebook_is_one_file_shipped_in_the_package():
    data = REPO / "vbhc_code" / "codebook" / "data" / "vbhc-sim.toml"
    assert builtin_codebook_path().resolve() == (REPO / "codebooks" / "vbhc-sim.toml").resolve()
    assert data.is_symlink() and not Path(str(data.readlink())).is_absolute()
    assert data.read_bytes() == (REPO / "codebooks" / "vbhc-sim.toml").read_bytes()


def test_include_exclude_name_the_neighbouring_codes():
    cb = load_codebook()
    assert "SIM4" in cb.code("VBHC2").exclude and "VBHC2" in cb.code("SIM4").exclude
    assert "VBHC4" in cb.code("SIM6").exclude and "SIM6" in cb.code("VBHC4").exclude
    assert "VBHC7" in cb.code("SIM7").exclude and "SIM7" in cb.code("VBHC7").exclude


# -- validation ------------------------------------------------------------------------------------
def test_every_problem_is_collected_and_located(tmp_path):
    problems = [str(p) for p in check_codebook(write(tmp_path, BAD))]
    assert problems == [
        "[codes[1].definition] missing definition",
        "[codes[2].id] duplicate code id 'A1' (also codes[0])",
        "[codes[3].theme] unknown theme 'acces'",
        '[codes[3].title] no title: add a readable name for tables, e.g. title = "Integrated practice units"',
        "[codes[3].terms.nl] terms for undeclared language 'nl' (languages: en)",
        "[codes[3].patterns.en[0]] spaCy's Matcher rejects it: token 0 LOWERR: Extra inputs are not permitted",
        "warning: [codes[3].terms.en[0]] term 'Waiting  List' is also a term of A1 (codes[0].terms.en[0])",
    ]


def test_load_raises_once_with_errors_only(tmp_path):
    path = write(tmp_path, BAD)
    with pytest.raises(ValidationError) as info:
        load_codebook(path)
    assert info.value.message == f"{path}: 6 problems in the codebook"
    assert len(info.value.problems) == 6 and not any(p.startswith("warning") for p in info.value.problems)


def test_toml_syntax_error_is_located(tmp_path):
    problems = check_codebook(write(tmp_path, 'name = "x"\nversion = \n'))
    assert [str(p) for p in problems] == ["[line 2, column 11] invalid TOML: Invalid value"]


def test_structure_problems(tmp_path):
    text = 'name = "x"\nlanguages = ["en", "de"]\n[[themes]]\nid = "T"\n[[codes]]\nid = "1bad"\ntheme = "T"\n' \
           'label = "l"\ntitle = "L"\ndefinition = "d"\ncolor = "red"\nexamples = "one"\nterms = { en = "single" }\n'
    assert [str(p) for p in check_codebook(write(tmp_path, text))] == [
        "[version] missing codebook version",
        "[languages[1]] unsupported language 'de' (supported: en, nl)",
        "[codes[0].id] code id '1bad' must start with a letter and hold only letters, digits, _ . -",
        "[codes[0].color] colour 'red' is not #RRGGBB",
        "[codes[0].examples] expected a list of texts, not text",
        "[codes[0].terms.en] expected a list of texts, not text",
        "warning: [codes[0].terms] no terms or patterns: autocode will never apply this code",
    ]


def test_missing_file_is_a_data_error(tmp_path):
    with pytest.raises(DataError, match="file not found"):
        load_codebook(tmp_path / "none.toml")


# -- export and import -----------------------------------------------------------------------------
def _same(a, b) -> bool:
    from dataclasses import replace

    return codebook_to_json(replace(a, sha256="")) == codebook_to_json(replace(b, sha256=""))


def test_toml_writer_round_trips_awkward_text(tmp_path):
    cb = load_codebook()
    from dataclasses import replace

    odd = replace(cb.codes[0], definition='Quotes " and \\ backslash,\ttab\nnewline and \x7f', examples=("=SUM(A1)",))
    cb2 = replace(cb, codes=(odd, *cb.codes[1:]))
    path = write(tmp_path, codebook_to_toml(cb2), "rt.toml")
    assert _same(load_codebook(path), cb2)


def test_xlsx_export_then_import_gives_the_same_codebook(tmp_path):
    cb = load_codebook()
    xlsx = export_codebook(cb, tmp_path / "codebook.xlsx")
    back = import_codebook(xlsx, out=tmp_path / "back.toml")
    assert _same(back, cb)
    with pytest.raises(HumanWorkExists):
        import_codebook(xlsx, out=tmp_path / "back.toml")


def test_xlsx_lists_go_on_a_terms_sheet_that_prints_and_reads_back(tmp_path):
    """Codes holds what a coder reads (it fits a printed page); the autocoder's lists are on Terms, ';'-joined
    and split over rows so no cell outgrows a page; an item holding ';' keeps one item per line."""
    from dataclasses import replace

    from openpyxl import load_workbook

    from vbhc_code.codebook import io as cbio
    from vbhc_code.files.xlsx_layout import text_lines

    cb = load_codebook()
    odd = replace(cb.codes[0], terms={**cb.codes[0].terms, "en": ("semi;colon", *cb.codes[0].terms["en"])})
    cb2 = replace(cb, codes=(odd, *cb.codes[1:]))
    xlsx = export_codebook(cb2, tmp_path / "codebook.xlsx")
    wb = load_workbook(xlsx)
    assert wb.sheetnames == ["Codes", "Terms", "Themes", "Codebook"]
    assert [c.value for c in wb["Codes"][1]] == list(cbio.CODE_COLUMNS)
    rows = list(wb["Terms"].iter_rows(min_row=2, values_only=True))
    assert all(text_lines(items, cbio.TERMS_WIDTH) <= cbio.TERMS_CELL_LINES for _i, _l, items in rows)
    first = [items for cid, col, items in rows if (cid, col) == (odd.id, "terms_en")]
    assert first[0].split("\n")[:2] == ["semi;colon", odd.terms["en"][1]]  # one per line: ';' is in an item
    second = [items for cid, col, items in rows if (cid, col) == (cb.codes[1].id, "terms_en")]
    assert "; " in second[0] and "\n" not in second[0]
    assert len([r for r in rows if r[1] == "terms_en"]) > len(cb.codes)  # long lists go on over several rows
    assert _same(import_codebook(xlsx, out=tmp_path / "back.toml"), cb2)
    # a Terms row naming no code is a located problem (lists as Codes columns: the CSV test above)
    ws = wb["Terms"]
    ws.append(["NOPE", "terms_en", "x"])
    wb.save(tmp_path / "bad.xlsx")
    with pytest.raises(ValidationError) as exc:
        import_codebook(tmp_path / "bad.xlsx", out=tmp_path / "bad.toml")
    assert exc.value.problems == [f"[bad.xlsx Terms row {ws.max_row}] no code with this id on the Codes sheet"]


def test_markdown_export_has_every_code(tmp_path):
    md = export_codebook(load_codebook(), tmp_path / "cb.md").read_text(encoding="utf-8")
    for code_id, label in zip(CODE_IDS, LABELS):
        assert f"### {code_id} {label}" in md
    assert "**Do not use when.**" in md


def test_csv_import_builds_themes_and_languages(tmp_path):
    csv = tmp_path / "codes.csv"
    csv.write_text(
        "id,theme,theme_label,label,definition,terms_en,terms_nl,patterns_en\n"
        'W1,WORK,Work,return,Back at work.,"return to work\nback to work",werkhervatting,"[{""LOWER"": ""rtw""}]"\n',
        encoding="utf-8",
    )
    cb = import_codebook(csv, out=tmp_path / "w.toml", name="work", version="2")
    assert (cb.name, cb.version, cb.languages) == ("work", "2", ("en", "nl"))
    assert cb.themes[0].label == "Work" and cb.code("W1").terms["en"] == ("return to work", "back to work")
    assert cb.code("W1").patterns["en"] == ([{"LOWER": "rtw"}],)


def test_csv_import_reports_sheet_problems(tmp_path):
    csv = tmp_path / "codes.csv"
    csv.write_text("id,theme,label,definition\n\nW1,WORK,a,\n,,,\nW2,WORK,b,ok\nW1,WORK,c,again\n", encoding="utf-8")
    with pytest.raises(ValidationError) as info:
        import_codebook(csv, out=tmp_path / "w.toml")
    assert info.value.message == "codes.csv: 2 problem(s) in the codebook sheet"
    assert info.value.problems == [  # the lines a team can find, blank lines counted
        "[codes.csv line 3: definition] missing definition",
        "[codes.csv line 6: id] duplicate code id 'W1' (also codes.csv line 3)",
    ]
    assert not (tmp_path / "w.toml").exists()


# -- codebook versions in the store ---------------------------------------------------------------
def _tiny_store(path: Path) -> Store:
    store = Store.open(path)
    text = "P1: We measure outcomes."
    store.save_document(
        Document("d.txt", "txt", "utf-8", "0" * 64, text, (Turn(1, 4, len(text), text[4:], "P1", "P1"),))
    )
    return store


def test_mixing_codebook_versions_is_reported(tmp_path):
    from dataclasses import replace

    cb = load_codebook()
    other = replace(cb, version="0.9", sha256="f" * 64)
    with _tiny_store(tmp_path / "s.sqlite") as store:
        store.replace_codings("anna", [Coding("d.txt", 1, "VBHC2", "anna")], coded_documents=["d.txt"], codebook=other)
        assert codebook_mix_warnings(store, other, coder="auto") == []
        warnings = codebook_mix_warnings(store, cb, coder="auto")
        assert warnings == [
            f"coder 'anna' coded with codebook 'vbhc-sim' 0.9 (sha256 ffffffffffff), not 'vbhc-sim' 1.2.0 "
            f"(sha256 {cb.sha256[:12]}): comparing them mixes codebook versions"
        ]
        store.replace_codings("ben", [], coded_documents=["d.txt"], codebook=cb)
        assert mixed_codebook_warnings(store, ["anna", "ben"]) == [
            f"coders used different codebooks (anna: 'vbhc-sim' 0.9 (sha256 ffffffffffff); ben: 'vbhc-sim' 1.2.0 "
            f"(sha256 {cb.sha256[:12]})): results mix codebook versions"
        ]


# -- CLI -------------------------------------------------------------------------------------------
def test_cli_check_exit_codes(tmp_path):
    ok = runner.invoke(app, ["codebook", "check", str(builtin_codebook_path())])
    assert ok.exit_code == 0, ok.output
    assert "codebook 'vbhc-sim' 1.2.0 is valid: 2 themes, 15 codes" in ok.stdout.replace("\n", " ")
    bad = runner.invoke(app, ["codebook", "check", str(write(tmp_path, BAD))])
    assert bad.exit_code == 1
    lines = bad.stderr.splitlines()
    assert lines[0] == f"error: {tmp_path / 'cb.toml'}: 6 errors in the codebook"
    assert "[codes[3].theme] unknown theme 'acces'" in lines
    assert runner.invoke(app, ["codebook", "check", str(tmp_path / "missing.toml")]).exit_code == 1


def test_cli_show_export_import(tmp_path):
    shown = runner.invoke(app, ["codebook", "show"], terminal_width=200)
    assert shown.exit_code == 0 and "SIM7" in shown.stdout and "it_exchange" in shown.stdout
    one = runner.invoke(app, ["codebook", "show", "--code", "VBHC4"], terminal_width=200)
    assert one.exit_code == 0 and "bundled_payment" in one.stdout
    assert runner.invoke(app, ["codebook", "show", "--code", "NOPE"]).exit_code == 2
    out = tmp_path / "cb.xlsx"
    assert runner.invoke(app, ["codebook", "export", "--out", str(out)]).exit_code == 0 and out.is_file()
    assert runner.invoke(app, ["codebook", "export", "--out", str(tmp_path / "cb.pdf")]).exit_code == 2
    back = tmp_path / "back.toml"
    assert runner.invoke(app, ["codebook", "import", str(out), "--out", str(back)]).exit_code == 0
    assert _same(load_codebook(back), load_codebook())
    again = runner.invoke(app, ["codebook", "import", str(out), "--out", str(back)])
    assert again.exit_code == 1 and "already exists; use --force" in again.stderr
    assert runner.invoke(app, ["codebook", "import", str(out), "--out", str(back), "--force"]).exit_code == 0


def test_json_of_builtin_patterns_is_valid():
    for code in load_codebook().codes:
        for patterns in code.patterns.values():
            for p in patterns:
                assert json.loads(json.dumps(p)) == p


def test_qdc_export_goes_through_refi_and_validates(tmp_path):
    refi = pytest.importorskip("vbhc_code.refi")
    out = tmp_path / "vbhc-sim.qdc"
    result = runner.invoke(app, ["codebook", "export", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert refi.check_refi(out) == []
    text = out.read_text(encoding="utf-8")
    assert all(f'name="{code_id} ' in text or code_id in text for code_id in CODE_IDS)


# -- audit additions --------------------------------------------------------------------------------
def test_cli_check_prints_every_problem_once_exactly(tmp_path):
    path = write(tmp_path, BAD)
    bad = runner.invoke(app, ["codebook", "check", str(path)])
    assert bad.exit_code == 1 and bad.stdout == ""
    assert bad.stderr.splitlines() == [
        f"error: {path}: 6 errors in the codebook",
        "[codes[1].definition] missing definition",
        "[codes[2].id] duplicate code id 'A1' (also codes[0])",
        "[codes[3].theme] unknown theme 'acces'",
        '[codes[3].title] no title: add a readable name for tables, e.g. title = "Integrated practice units"',
        "[codes[3].terms.nl] terms for undeclared language 'nl' (languages: en)",
        "[codes[3].patterns.en[0]] spaCy's Matcher rejects it: token 0 LOWERR: Extra inputs are not permitted",
        "warning: [codes[3].terms.en[0]] term 'Waiting  List' is also a term of A1 (codes[0].terms.en[0])",
    ]


def test_pattern_on_an_attribute_autocode_never_sets_is_a_warning(tmp_path):
    text = (
        'name = "x"\nversion = "1"\nlanguages = ["en"]\n[[themes]]\nid = "T"\n[[codes]]\nid = "A"\ntheme = "T"\n'
        'label = "a"\ntitle = "A"\ndefinition = "d"\n[codes.patterns]\nen = [[{ LOWER = "value" }, { POS = "NOUN", OP = "?" }]]\n'
    )
    path = write(tmp_path, text)
    assert [str(p) for p in check_codebook(path)] == [
        "warning: [codes[0].patterns.en[0]] token 1 uses POS, which autocode's tokenizer-only pipeline never sets: "
        "the pattern cannot match",
    ]
    ok = runner.invoke(app, ["codebook", "check", str(path)])
    assert ok.exit_code == 0 and "1 warning" in ok.stdout


def test_export_never_overwrites_its_input_or_an_existing_toml(tmp_path):
    src = tmp_path / "mine.toml"
    src.write_bytes(builtin_codebook_path().read_bytes())
    same = runner.invoke(app, ["codebook", "export", str(src), "--out", str(src)])
    assert (
        same.exit_code == 2
        and same.stderr.strip() == f"error: --out {src} is the codebook being exported; choose another file"
    )
    other = tmp_path / "other.toml"
    other.write_text("# edited by hand\n", encoding="utf-8")
    kept = runner.invoke(app, ["codebook", "export", str(src), "--out", str(other)])
    assert kept.exit_code == 1 and "already exists; use --force" in kept.stderr
    assert other.read_text(encoding="utf-8") == "# edited by hand\n"
    assert runner.invoke(app, ["codebook", "export", str(src), "--out", str(other), "--force"]).exit_code == 0
    assert _same(load_codebook(other), load_codebook(src))
    assert src.read_bytes() == builtin_codebook_path().read_bytes()
    xlsx = tmp_path / "cb.xlsx"
    for _ in range(2):  # derived exports are simply replaced
        assert runner.invoke(app, ["codebook", "export", str(src), "--out", str(xlsx)]).exit_code == 0


def test_builtin_codebook_loads_from_a_plain_copy_of_the_package(tmp_path):
    """A wheel holds a real file at vbhc_code/codebook/data/ (the symlink resolved); loading must not need the repo."""
    import shutil
    import subprocess
    import sys
    import tomllib

    package = tmp_path / "site" / "vbhc_code"
    shutil.copytree(REPO / "vbhc_code", package, symlinks=False, ignore=shutil.ignore_patterns("__pycache__", "tests"))
    assert not (package / "codebook" / "data" / "vbhc-sim.toml").is_symlink()
    code = ("import sys; sys.path.insert(0, sys.argv[1]); from vbhc_code.codebook.load import builtin_codebook_path, "
            "load_codebook; cb = load_codebook(); print(builtin_codebook_path()); print(cb.sha256)")
    out = subprocess.run([sys.executable, "-I", "-c", code, str(tmp_path / "site")], capture_output=True, text=True,
                         cwd=tmp_path, check=True).stdout.split()
    assert out == [str(package / "codebook" / "data" / "vbhc-sim.toml"), load_codebook().sha256]
    pyproject = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))
    assert "data/*.toml" in pyproject["tool"]["setuptools"]["package-data"]["vbhc_code.codebook"]


def test_xlsx_import_problems_name_the_sheet_row(tmp_path):
    from vbhc_code.files.xlsx_write import Column, Sheet, write_workbook

    xlsx = tmp_path / "team.xlsx"
    header = ["id", "theme", "label", "definition", "terms_en"]
    rows = [["A1", "T", "a", "Defined.", "x"], ["", "", "", "", ""], ["A2", "T", "b", "", "y"]]
    themes = Sheet("Themes", [Column("id"), Column("label")], [["T", "Theme"], ["T", "again"]])
    write_workbook(xlsx, [Sheet("Codes", [Column(h) for h in header], rows), themes])
    with pytest.raises(ValidationError) as info:
        import_codebook(xlsx, out=tmp_path / "t.toml")
    assert info.value.problems == [
        "[team.xlsx Themes row 3: id] duplicate theme id 'T' (also team.xlsx Themes row 2)",
        "[team.xlsx Codes row 4: definition] missing definition",
    ]


def test_every_code_has_a_readable_title(tmp_path):
    cb = load_codebook()
    titles = [c.title for c in cb.codes]
    assert titles[0] == "Integrated practice units" and len(set(titles)) == len(titles)
    assert all(t and "_" not in t and t[0].isupper() for t in titles)
    # the export carries titles and the import gives them back
    out = tmp_path / "cb.xlsx"
    export_codebook(cb, out)
    back = import_codebook(out, out=tmp_path / "back.toml")
    assert [c.title for c in back.codes] == titles
    # a team's sheet without a title column: titles are derived from the labels (as REFI names are used)
    csv = tmp_path / "codes.csv"
    csv.write_text("id,theme,label,definition,terms_en\nW1,WORK,return_to_work,Back at work.,back to work\n",
                   encoding="utf-8")
    assert import_codebook(csv, out=tmp_path / "w.toml").code("W1").title == "Return to work"
