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
from vbhc_code.errors import DataError, UsageError, ValidationError
from vbhc_code.files.atomic import write_text_atomic as _write_text_atomic
from vbhc_code.files.outputs import CODEBOOK, CODEBOOK_TOML, OutputKind, check_replaceable
from vbhc_code.models import Codebook, readable_label

CODE_COLUMNS = ("id", "theme", "label", "title", "definition", "include", "exclude", "examples", "color")
LIST_FIELDS = ("terms", "negative", "patterns", "weak")
CONTEXT_FIELDS = ("context", "interview_talk")  # codebook-wide per-language lists


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
    langs = list(codebook.languages)
    header = list(CODE_COLUMNS) + [f"{f}_{lang}" for f in LIST_FIELDS for lang in langs]
    rows = []
    for code in codebook.codes:
        row = [code.id, code.theme, code.label, code.title, code.definition, code.include, code.exclude,
               "\n".join(e.replace("\n", " ") for e in code.examples), code.color or ""]
        for f in LIST_FIELDS:
            for lang in langs:
                items = getattr(code, f).get(lang, ())
                row.append(
                    "\n".join(json.dumps(p, ensure_ascii=False) for p in items) if f == "patterns" else "\n".join(items)
                )
        rows.append(row)
    return header, rows


def export_codebook(codebook: Codebook, out: Path, *, force: bool = False, source: Path | None = None) -> Path:
    """Write the codebook as .xlsx (the coders' reference), .md, .qdc (REFI-QDA codebook) or .toml.

    An earlier .xlsx, .md or .qdc export of vbhc-code is replaced; any other existing file (a .toml, which
    someone may have edited, a README, another program's file) only with ``force``; never the codebook file
    ``source`` being exported.
    """
    out = Path(out)
    suffix = out.suffix.lower()
    if source is not None and out.exists() and out.resolve() == Path(source).resolve():
        raise UsageError(f"--out {out} is the codebook being exported; choose another file")
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
    raise UsageError(f"--out must end in .xlsx, .md, .qdc or .toml, not '{out.suffix or out.name}'")


def _export_xlsx(codebook: Codebook, out: Path, *, force: bool) -> Path:
    from vbhc_code.files.xlsx_write import Column, Sheet, write_workbook

    header, rows = _code_rows(codebook)
    widths = {
        "id": 9,
        "theme": 8,
        "label": 20,
        "definition": 60,
        "include": 50,
        "exclude": 50,
        "examples": 50,
        "color": 9,
    }
    columns = [Column(h, width=widths.get(h, 30), wrap=True) for h in header]
    themes = Sheet("Themes", [Column("id", width=10), Column("label", width=40, wrap=True),
                              Column("description", width=80, wrap=True)],
                   [[t.id, t.label, t.description] for t in codebook.themes])
    meta = Sheet("Codebook", [Column("field", width=14), Column("value", width=100, wrap=True)], [
        ["name", codebook.name], ["version", codebook.version], ["languages", ", ".join(codebook.languages)],
        ["description", codebook.description], ["source", codebook.source], ["sha256", codebook.sha256],
        *([f"{section}_{lang}", "\n".join(items)] for section in CONTEXT_FIELDS
          for lang, items in getattr(codebook, section).items() if items),
    ], autofilter=False)
    return write_workbook(out, [Sheet("Codes", columns, rows), themes, meta], kind=CODEBOOK, force=force)


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
        raise UsageError(f"--out must be a .toml file, not '{out.name}'")
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
                    code.setdefault(f, {})[lang] = _split_lines(value)
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


def _raw_from_xlsx(path: Path) -> dict[str, Any]:
    from vbhc_code.files.sheets import open_workbook, worksheet_rows

    with open_workbook(path) as wb:
        sheets = {ws.title.lower(): ws for ws in wb.worksheets}
        if "codes" not in sheets:
            raise DataError(f"{path.name}: no 'Codes' sheet")
        header, rows = worksheet_rows(sheets["codes"], f"{path.name} Codes")
        problems: list[str] = []
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
                        raw.setdefault(section, {})[lang] = _split_lines(value)
        if problems:
            raise ValidationError(f"{path.name}: {len(problems)} problem(s)", problems)
        return raw
