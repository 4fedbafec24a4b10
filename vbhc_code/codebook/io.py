"""Codebooks to and from other forms: TOML text, the coders' workbook (.xlsx), Markdown, and sheets.

``export_codebook(codebook, out)`` writes .xlsx (via ``vbhc_code.files.xlsx_write``), .md or .qdc (REFI-QDA, via
``vbhc_code.refi.write_qdc``); ``import_codebook(path, out=...)`` reads an .xlsx written by the export
(or edited by a team) or a .csv of codes, validates it, and writes TOML. Export then import gives the
same codebook back.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from vbhc_code.codebook.load import codebook_from_data
from vbhc_code.errors import DataError, UsageError, ValidationError, opt
from vbhc_code.files.atomic import write_text_atomic as _write_text_atomic
from vbhc_code.files.outputs import CODEBOOK, CODEBOOK_TOML, OutputKind, check_replaceable
from vbhc_code.models import Codebook, readable_label

CODE_COLUMNS = ("id", "theme", "label", "title", "definition", "include", "exclude", "examples", "color")
LIST_FIELDS = ("terms", "negative", "patterns", "weak")
CONTEXT_FIELDS = ("context", "interview_talk")  # codebook-wide per-language lists
TERMS_WIDTH = 140.0  # the Terms sheet's items column
TERMS_CELL_LINES = 25  # a list longer than this (printed lines) goes on in the next row


# -- TOML ---------------------------------------------------------------------------------------
def codebook_to_toml(codebook: Codebook) -> str:
    """The codebook as a TOML file that ``load_codebook`` reads back to an equal codebook."""
    import tomli_w

    data: dict[str, Any] = {
        "name": codebook.name,
        "version": codebook.version,
        "languages": list(codebook.languages),
        "description": codebook.description,
        "source": codebook.source,
        "themes": [{"id": t.id, "label": t.label, "description": t.description} for t in codebook.themes],
        "codes": [_code_table(code) for code in codebook.codes],
    }
    for section in CONTEXT_FIELDS:
        per_lang = getattr(codebook, section)
        if any(per_lang.values()):
            data[section] = {lang: list(items) for lang, items in per_lang.items()}
    return tomli_w.dumps(data, indent=4)


def _code_table(code: Any) -> dict[str, Any]:
    # Empty text fields are left out (the loader's defaults); examples always (the list a coder extends).
    table: dict[str, Any] = {
        key: getattr(code, key)
        for key in ("id", "theme", "label", "title", "color", "definition", "include", "exclude")
        if getattr(code, key)
    }
    table["examples"] = list(code.examples)
    for section in LIST_FIELDS:
        per_lang = getattr(code, section)
        if any(per_lang.values()):
            table[section] = {lang: _plain(list(items)) for lang, items in per_lang.items()}
    return table


def _plain(value: Any) -> Any:
    """Mappings and tuples (frozen codebook parts) as the dicts and lists tomli-w writes."""
    if hasattr(value, "items"):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value


def write_text_atomic(path: Path, text: str, *, force: bool = False, kind: OutputKind = CODEBOOK_TOML) -> Path:
    return _write_text_atomic(path, text, kind=kind, force=force)


# -- export -------------------------------------------------------------------------------------
def _code_rows(codebook: Codebook) -> tuple[list[str], list[list[str]]]:
    """The Codes sheet: what a coder reads (the autocoder's lists are on the Terms sheet)."""
    rows = [[code.id, code.theme, code.label, code.title, code.definition, code.include, code.exclude,
             "\n".join(e.replace("\n", " ") for e in code.examples), code.color or ""] for code in codebook.codes]
    return list(CODE_COLUMNS), rows


def _join_items(items: list[str]) -> str:
    """Items as one cell: ``a; b; c`` (compact in print), one per line when an item holds ``;``."""
    return "\n".join(items) if any(";" in i or "\n" in i for i in items) else "; ".join(items)


def _split_items(text: str) -> list[str]:
    """The items of a list cell: one per line, or ``;``-separated on a single line (as ``_join_items`` writes)."""
    if "\n" in text.strip():
        return _split_lines(text)
    return [i.strip() for i in text.split(";") if i.strip()]


def _cells(texts: list[str], *, lines: bool) -> list[str]:
    """``texts`` joined into cells of at most ``TERMS_CELL_LINES`` printed lines (a row never outgrows a page)."""
    from vbhc_code.files.xlsx_layout import text_lines

    cells: list[str] = []
    current: list[str] = []
    for text in texts:
        joined = "\n".join([*current, text]) if lines else _join_items([*current, text])
        if current and text_lines(joined, TERMS_WIDTH) > TERMS_CELL_LINES:
            cells.append("\n".join(current) if lines else _join_items(current))
            current = [text]
        else:
            current.append(text)
    if current:
        cells.append("\n".join(current) if lines else _join_items(current))
    return cells


def _terms_rows(codebook: Codebook) -> list[list[str]]:
    """The Terms sheet: one row per code and list (``terms_en``, ``patterns_nl``, ...); a long list goes on
    over several rows, read back in order."""
    rows = []
    for code in codebook.codes:
        for f in LIST_FIELDS:
            for lang in codebook.languages:
                items = getattr(code, f).get(lang, ())
                if f == "patterns":
                    cells = _cells([json.dumps(p, ensure_ascii=False) for p in items], lines=True)
                else:
                    cells = _cells(list(items), lines=False)
                rows += [[code.id, f"{f}_{lang}", cell] for cell in cells]
    return rows


def export_codebook(codebook: Codebook, out: Path, *, force: bool = False, source: Path | None = None) -> Path:
    """Write the codebook as .xlsx (the coders' reference), .md, .qdc (REFI-QDA codebook) or .toml.

    An earlier .xlsx, .md or .qdc export of vbhc-code is replaced; any other existing file (a .toml, which
    someone may have edited, a README, another program's file) only with ``force``; never the codebook file
    ``source`` being exported.
    """
    out = Path(out)
    suffix = out.suffix.lower()
    if source is not None and out.exists() and out.resolve() == Path(source).resolve():
        raise UsageError(f"{opt('out', out)} is the codebook being exported; choose another file")
    if suffix == ".xlsx":
        return _export_xlsx(codebook, out, force=force)
    if suffix == ".md":
        return write_text_atomic(out, codebook_markdown(codebook), force=force, kind=CODEBOOK)
    if suffix == ".qdc":
        from vbhc_code.refi import write_qdc

        write_qdc(codebook, out, force=force)
        return out
    if suffix == ".toml":
        return write_text_atomic(out, codebook_to_toml(codebook), force=force)
    raise UsageError(f"{opt('out')} must end in .xlsx, .md, .qdc or .toml, not '{out.suffix or out.name}'")


def _export_xlsx(codebook: Codebook, out: Path, *, force: bool) -> Path:
    from vbhc_code.files.xlsx_write import Column, Sheet, write_workbook

    header, rows = _code_rows(codebook)
    widths = {"id": 9, "theme": 8, "label": 16, "title": 22, "definition": 48, "include": 40, "exclude": 40,
              "examples": 40, "color": 9}
    columns = [Column(h, width=widths.get(h, 30), wrap=h not in ("id", "theme", "color")) for h in header]
    terms = Sheet("Terms", [Column("id", width=9), Column("list", width=13),
                            Column("items", width=TERMS_WIDTH, wrap=True)], _terms_rows(codebook))
    themes = Sheet("Themes", [Column("id", width=10), Column("label", width=40, wrap=True),
                              Column("description", width=80, wrap=True)],
                   [[t.id, t.label, t.description] for t in codebook.themes])
    meta = Sheet("Codebook", [Column("field", width=18), Column("value", width=100, wrap=True)], [
        ["name", codebook.name], ["version", codebook.version], ["languages", ", ".join(codebook.languages)],
        ["description", codebook.description], ["source", codebook.source], ["sha256", codebook.sha256],
        *([f"{section}_{lang}", _join_items(list(items))] for section in CONTEXT_FIELDS
          for lang, items in getattr(codebook, section).items() if items),
    ], autofilter=False)
    sheets = [Sheet("Codes", columns, rows), terms, themes, meta]
    return write_workbook(out, sheets, kind=CODEBOOK, force=force)


def codebook_markdown(codebook: Codebook) -> str:
    lines = [f"# Codebook {codebook.name} {codebook.version}", ""]
    if codebook.description:
        lines += [codebook.description, ""]
    if codebook.source:
        lines += [f"Source: {codebook.source}", ""]
    lines += [f"Languages: {', '.join(codebook.languages)}. sha256 `{codebook.sha256 or 'n/a'}`.", ""]
    lines += ["| id | theme | label | definition |", "|---|---|---|---|"]
    lines += [f"| {c.id} | {c.theme} | {c.label} | {_md_cell(c.definition)} |" for c in codebook.codes]
    for theme in codebook.themes:
        lines += ["", f"## {theme.id}: {theme.label}", ""]
        if theme.description:
            lines += [theme.description, ""]
        for code in (c for c in codebook.codes if c.theme == theme.id):
            lines += [f"### {code.id} {code.label}", "", f"**Definition.** {code.definition}", ""]
            if code.include:
                lines += [f"**Use when.** {code.include}", ""]
            if code.exclude:
                lines += [f"**Do not use when.** {code.exclude}", ""]
            if code.examples:
                lines += ["**Examples.**", ""] + [f"- {e}" for e in code.examples] + [""]
            for lang, terms in code.terms.items():
                if terms:
                    lines += [f"**Terms ({lang}).** " + ", ".join(terms), ""]
            for lang, terms in code.weak.items():
                if terms:
                    lines += [f"**Weak terms, only with domain context ({lang}).** " + ", ".join(terms), ""]
            for lang, terms in code.negative.items():
                if terms:
                    lines += [f"**Vetoed by ({lang}).** " + ", ".join(terms), ""]
            for lang, patterns in code.patterns.items():
                for p in patterns:
                    lines += [f"**Pattern ({lang}).** `{json.dumps(p, ensure_ascii=False)}`", ""]
    for section, title in (
        ("context", "Domain context"),
        ("interview_talk", "Talk about the interview (vetoes its sentence)"),
    ):
        for lang, terms in getattr(codebook, section).items():
            if terms:
                lines += ["", f"**{title} ({lang}).** " + ", ".join(terms)]
    return "\n".join(lines).rstrip() + "\n"


def _md_cell(text: str) -> str:
    return " ".join(text.split()).replace("|", "\\|")


# -- import -------------------------------------------------------------------------------------
def import_codebook(path: Path, *, out: Path, name: str | None = None, version: str | None = None,
                    languages: list[str] | None = None, force: bool = False) -> Codebook:
    """Read a codebook sheet (.xlsx from the export, or a .csv of codes), validate it and write TOML."""
    path, out = Path(path), Path(out)
    if out.suffix.lower() != ".toml":
        raise UsageError(f"{opt('out')} must be a .toml file, not '{out.name}'")
    check_replaceable(out, CODEBOOK_TOML, force=force)  # before reading the sheet
    suffix = path.suffix.lower()
    if suffix in (".xlsx", ".xlsm"):
        raw = _raw_from_xlsx(path)
    elif suffix == ".csv":
        raw = _raw_from_csv(path)
    else:
        raise UsageError(f"{path.name}: expected a .xlsx or .csv codebook sheet")
    for key, value in (("name", name), ("version", version)):
        if value:
            raw[key] = value
    if languages:
        raw["languages"] = languages
    raw.setdefault("name", path.stem)
    raw.setdefault("version", "1.0")
    if not raw.get("languages"):
        raw["languages"] = _languages_from_columns(raw.pop("_columns", []))
    raw.pop("_columns", None)
    rows = {"codes": raw.pop("_code_rows", []), "themes": raw.pop("_theme_rows", [])}
    codebook, problems = codebook_from_data(raw)
    errors = [_in_sheet(str(p), rows) for p in problems if p.level == "error"]
    if codebook is None or errors:
        raise ValidationError(f"{path.name}: {len(errors)} problem(s) in the codebook sheet", errors)
    write_text_atomic(out, codebook_to_toml(codebook), force=force)
    from vbhc_code.codebook.load import load_codebook

    return load_codebook(out)


def _in_sheet(problem: str, rows: dict[str, list[str]]) -> str:
    """``[codes[1].definition] ...`` -> ``[codes.csv line 5: definition] ...``: the row a team can find."""

    def where(m: re.Match) -> str:
        located = rows.get(m.group(1), [])
        i = int(m.group(2))
        if i >= len(located):
            return m.group(0)
        return located[i] + (": " if m.group(3) else "")

    return re.sub(r"\b(codes|themes)\[(\d+)\](\.?)", where, problem)


def _languages_from_columns(columns: list[str]) -> list[str]:
    langs = []
    for col in columns:
        for f in LIST_FIELDS:
            if col.startswith(f + "_") and col[len(f) + 1:] not in langs:
                langs.append(col[len(f) + 1:])
    return langs or ["en"]


def _split_lines(text: str) -> list[str]:
    return [ln.strip() for ln in text.splitlines() if ln.strip()]


def _code_from_row(values: dict[str, str], where: str, problems: list[str]) -> dict[str, Any]:
    code: dict[str, Any] = {}
    for key in ("id", "theme", "label", "title", "definition", "include", "exclude", "color"):
        if values.get(key):
            code[key] = values[key]
    if "title" not in values and values.get("label"):  # a sheet without titles: derive them, as REFI names do
        code["title"] = readable_label(values["label"])
    if values.get("examples"):
        code["examples"] = _split_lines(values["examples"])
    for col, value in values.items():
        for f in LIST_FIELDS:
            if col.startswith(f + "_") and value.strip():
                lang = col[len(f) + 1:]
                if f == "patterns":
                    patterns = []
                    for i, line in enumerate(_split_lines(value)):
                        try:
                            patterns.append(json.loads(line))
                        except json.JSONDecodeError:
                            problems.append(f"[{where} {col} line {i + 1}] not a JSON token pattern")
                    code.setdefault(f, {})[lang] = patterns
                else:
                    code.setdefault(f, {})[lang] = _split_items(value)
    return code


def _raw_from_csv(path: Path) -> dict[str, Any]:
    from vbhc_code.files.sheets import read_rows

    header, rows = read_rows(path)
    if "id" not in header:
        raise DataError(f"{path.name}: no 'id' column (expected columns: {', '.join(CODE_COLUMNS)}, terms_en, ...)")
    problems: list[str] = []
    codes, themes = [], {}
    for row in rows:
        codes.append(_code_from_row(row.values, row.where, problems))
        theme = row.values.get("theme", "")
        if theme and theme not in themes:
            themes[theme] = {"id": theme, "label": row.values.get("theme_label") or theme,
                             "description": row.values.get("theme_description", "")}
    if problems:
        raise ValidationError(f"{path.name}: {len(problems)} problem(s)", problems)
    return {"themes": list(themes.values()), "codes": codes, "_columns": header,
            "_code_rows": [row.where for row in rows]}


def _merge_terms(term_rows: list[Any], code_rows: list[Any], header: list[str], problems: list[str]) -> None:
    """Add the Terms sheet's lists to the Codes rows (a list over several rows is joined in order); the
    Codes sheet may hold ``terms_en``... columns itself (an older export), then both are kept."""
    by_id = {r.values.get("id", ""): r.values for r in code_rows}
    for row in term_rows:
        cid, col, items = (row.values.get(k, "") for k in ("id", "list", "items"))
        field = col.rsplit("_", 1)[0] if "_" in col else ""
        if cid not in by_id:
            problems.append(f"[{row.where}] no code with this id on the Codes sheet")
        elif field not in LIST_FIELDS:
            problems.append(f"[{row.where}] list must be one of {', '.join(f + '_<language>' for f in LIST_FIELDS)}")
        elif items:
            values = by_id[cid]
            parts = _split_lines(items) if field == "patterns" else _split_items(items)
            values[col] = "\n".join([*_split_lines(values.get(col, "")), *parts])
            if col not in header:
                header.append(col)


def _raw_from_xlsx(path: Path) -> dict[str, Any]:
    from vbhc_code.files.sheets import open_workbook, worksheet_rows

    with open_workbook(path) as wb:
        sheets = {ws.title.lower(): ws for ws in wb.worksheets}
        if "codes" not in sheets:
            raise DataError(f"{path.name}: no 'Codes' sheet")
        header, rows = worksheet_rows(sheets["codes"], f"{path.name} Codes")
        problems: list[str] = []
        if "terms" in sheets:
            _merge_terms(worksheet_rows(sheets["terms"], f"{path.name} Terms")[1], rows, header, problems)
        codes = [_code_from_row(row.values, f"Codes row {row.number}", problems) for row in rows]
        raw: dict[str, Any] = {"codes": codes, "_columns": header, "_code_rows": [row.where for row in rows]}
        if "themes" in sheets:
            theme_rows = worksheet_rows(sheets["themes"], f"{path.name} Themes")[1]
            raw["themes"] = [{k: v for k, v in row.values.items() if k in ("id", "label", "description") and v}
                             for row in theme_rows]
            raw["_theme_rows"] = [row.where for row in theme_rows]
        else:
            seen = dict.fromkeys(c.get("theme", "") for c in codes if c.get("theme"))
            raw["themes"] = [{"id": t, "label": t} for t in seen]
        if "codebook" in sheets:
            for row in worksheet_rows(sheets["codebook"], f"{path.name} Codebook")[1]:
                field, value = row.values.get("field", ""), row.values.get("value", "")
                if field == "languages":
                    raw["languages"] = [x.strip() for x in value.split(",") if x.strip()]
                elif field in ("name", "version", "description", "source") and value:
                    raw[field] = value
                elif field.startswith(CONTEXT_FIELDS) and "_" in field and value:
                    section, lang = field.rsplit("_", 1)
                    if section in CONTEXT_FIELDS:
                        raw.setdefault(section, {})[lang] = _split_items(value)
        if problems:
            raise ValidationError(f"{path.name}: {len(problems)} problem(s)", problems)
        return raw
