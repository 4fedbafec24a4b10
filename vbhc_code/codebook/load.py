"""Codebooks as TOML files: loading, validation with located problems, and the built-in vbhc-sim.

A codebook file has ``name``, ``version``, ``languages``, ``description``, ``source``, a list of
``[[themes]]`` (id, label, description) and a list of ``[[codes]]`` (id, theme, label, title, definition,
include, exclude, examples, color, and per language ``terms``, ``patterns``, ``negative`` and ``weak``: terms
that code only with domain context in the turn), and per language ``context`` (domain words) and
``interview_talk`` (phrases about the interview itself: they veto every match in their sentence).
A study codebook has ``extends = "vbhc-sim"`` and adds to the built-in one (see ``_extend``).
``title`` is the readable name tables and the paper use ("Integrated practice units"); every code needs one.
Problems are located by their path in the file, 0-based like the TOML arrays:
``[codes[3].theme] unknown theme 'acces'``.
"""

from __future__ import annotations

import hashlib
import re
import tomllib
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from vbhc_code.errors import DataError, Problem, ValidationError
from vbhc_code.models import Code, Codebook, Theme, frozen_mapping

BUILTIN_NAME = "vbhc-sim"
TOP_KEYS = ("name", "version", "languages", "description", "source", "themes", "codes",
            "context", "interview_talk", "extends")
THEME_KEYS = ("id", "label", "description")
CODE_KEYS = (
    "id", "theme", "label", "title", "definition", "include", "exclude", "examples", "color", "terms", "patterns",
    "negative",
    "weak",
)
_LISTS = ("terms", "patterns", "negative", "weak")  # per-language lists a study codebook adds to
_ID = re.compile(r"^[A-Za-z][A-Za-z0-9_.-]*$")
_COLOR = re.compile(r"^#[0-9A-Fa-f]{6}$")


def builtin_codebook_path() -> Path:
    """The built-in vbhc-sim codebook shipped inside the package (``vbhc_code/codebook/data/vbhc-sim.toml``)."""
    from importlib.resources import files

    resource = files("vbhc_code.codebook") / "data" / f"{BUILTIN_NAME}.toml"
    path = Path(str(resource))
    if not path.is_file():  # pragma: no cover - a broken installation
        raise DataError(f"the built-in codebook is missing from the installation ({path})")
    return path


REFI_SUFFIXES = (".qdc", ".qdpx")


def load_codebook(path: Path | str | None = None) -> Codebook:
    """Load and validate a codebook file (None = the built-in vbhc-sim); errors raise ValidationError.

    A REFI-QDA codebook (.qdc) or project (.qdpx) is read with its code tree (``refi.codebook``).
    """
    path = builtin_codebook_path() if path is None else Path(path)
    if path.suffix.lower() in REFI_SUFFIXES:
        from vbhc_code.refi.codebook import read_refi_codebook

        return read_refi_codebook(path)
    codebook, problems = _load(path)
    errors = [p for p in problems if p.level == "error"]
    if errors or codebook is None:
        raise ValidationError(f"{path}: {_count(errors)} in the codebook", [str(p) for p in errors])
    return codebook


def check_codebook(path: Path | str) -> list[Problem]:
    """Every problem in a codebook file, errors and warnings, in file order (a .qdc/.qdpx: read errors raise)."""
    if Path(path).suffix.lower() in REFI_SUFFIXES:
        load_codebook(path)
        return []
    return _load(Path(path))[1]


def codebook_from_data(raw: Any, *, sha256: str = "") -> tuple[Codebook | None, list[Problem]]:
    """Validate parsed codebook data (a dict as read from TOML) and build the Codebook if it has no errors."""
    v = _Validator()
    codebook = v.codebook(raw, sha256)
    return (None if v.has_errors else codebook), v.problems


def _count(problems: list[Problem]) -> str:
    return f"{len(problems)} problem" + ("" if len(problems) == 1 else "s")


def _load(path: Path) -> tuple[Codebook | None, list[Problem]]:
    if not path.exists():
        raise DataError(f"{path}: file not found")
    from vbhc_code.files.archive import read_capped

    data = read_capped(path, name=str(path), what="codebook")
    try:
        raw = tomllib.loads(data.decode("utf-8"))
    except UnicodeDecodeError as exc:
        return None, [Problem(f"byte {exc.start}", "not UTF-8 text")]
    except tomllib.TOMLDecodeError as exc:
        message = str(exc)
        m = re.search(r"\(at line (\d+), column (\d+)\)$", message)
        where = f"line {m.group(1)}, column {m.group(2)}" if m else "file"
        message = message[: m.start()].strip() if m else message
        return None, [Problem(where, f"invalid TOML: {message}")]
    sha = hashlib.sha256(data)
    if isinstance(raw, dict) and "extends" in raw:
        base, problems = _extend_base(raw)
        if base is None:
            return None, problems
        sha.update(b"\0" + builtin_codebook_path().read_bytes())
        raw = _extend(base, raw)
        codebook, more = codebook_from_data(raw, sha256=sha.hexdigest())
        return codebook, problems + more
    return codebook_from_data(raw, sha256=sha.hexdigest())


def _extend_base(raw: dict) -> tuple[dict | None, list[Problem]]:
    """The parsed built-in codebook a study codebook extends, or the problems that stop it."""
    problems = []
    if raw.get("extends") != BUILTIN_NAME:
        problems.append(
            Problem("extends", f"only the built-in '{BUILTIN_NAME}' can be extended, not {_show(raw.get('extends'))}")
        )
    for key in ("name", "version"):
        if not isinstance(raw.get(key), str) or not raw[key].strip():
            problems.append(Problem(key, f"a study codebook needs its own {key}"))
    if problems:
        return None, problems
    return tomllib.loads(builtin_codebook_path().read_text(encoding="utf-8")), []


def _extend(base: dict, study: dict) -> dict:
    """``base`` with ``study`` on top: its codes add terms, patterns, negative and weak terms to the code of the
    same id (or are new codes), its themes are added, its texts and context lists replace or extend the base's."""
    out = {k: v for k, v in base.items()}
    for key in ("name", "version", "description", "source", "languages"):
        if key in study:
            out[key] = study[key]
    for key in ("context", "interview_talk"):
        if isinstance(study.get(key), dict):
            merged = {lang: list(v) for lang, v in (base.get(key) or {}).items()}
            for lang, items in study[key].items():
                merged[lang] = merged.get(lang, []) + (items if isinstance(items, list) else [items])
            out[key] = merged
    out["themes"] = list(base.get("themes", [])) + list(
        study.get("themes", []) if isinstance(study.get("themes"), list) else []
    )
    codes = [dict(c) for c in base.get("codes", [])]
    by_id = {c.get("id"): c for c in codes}
    for table in study.get("codes", []) if isinstance(study.get("codes"), list) else []:
        if not isinstance(table, dict) or table.get("id") not in by_id:
            codes.append(table)
            continue
        target = by_id[table["id"]]
        for key, value in table.items():
            if key in _LISTS and isinstance(value, dict):
                merged = {lang: list(v) for lang, v in (target.get(key) or {}).items()}
                for lang, items in value.items():
                    merged[lang] = merged.get(lang, []) + (items if isinstance(items, list) else [items])
                target[key] = merged
            elif key != "id":
                target[key] = value
    out["codes"] = codes
    out["extends"] = study["extends"]
    return out


def normalise_term(term: str) -> str:
    """The form two terms are compared in: normalised, lower-case, single spaces."""
    from vbhc_code.nlp.match import normalise_for_matching

    return " ".join(normalise_for_matching(term).lower().split())


class _Validator:
    def __init__(self) -> None:
        self.problems: list[Problem] = []

    @property
    def has_errors(self) -> bool:
        return any(p.level == "error" for p in self.problems)

    def error(self, where: str, what: str) -> None:
        self.problems.append(Problem(where, what))

    def warn(self, where: str, what: str) -> None:
        self.problems.append(Problem(where, what, "warning"))

    def text(self, table: dict, key: str, where: str, *, required: bool = False, what: str = "") -> str:
        value = table.get(key)
        if value is None or (isinstance(value, str) and not value.strip()):
            if required:
                self.error(f"{where}{key}", f"missing {what or key}")
            return ""
        if not isinstance(value, str):
            self.error(f"{where}{key}", f"expected text, not {_type(value)}")
            return ""
        return value.strip()

    def unknown_keys(self, table: dict, allowed: tuple[str, ...], where: str) -> None:
        for key in table:
            if key not in allowed:
                self.warn(f"{where}{key}", "unknown key (ignored)")

    def codebook(self, raw: Any, sha256: str) -> Codebook | None:
        if not isinstance(raw, dict):
            self.error("file", "a codebook must be a TOML table")
            return None
        self.unknown_keys(raw, TOP_KEYS, "")
        name = self.text(raw, "name", "", required=True, what="codebook name")
        version = self.text(raw, "version", "", required=True, what="codebook version")
        languages = self.languages(raw.get("languages"))
        themes = self.themes(raw.get("themes"))
        codes = self.codes(raw.get("codes"), {t.id for t in themes}, languages)
        self.shared_terms()
        return Codebook(
            name=name, version=version, languages=tuple(languages), themes=tuple(themes), codes=tuple(codes),
            description=self.text(raw, "description", ""), source=self.text(raw, "source", ""), sha256=sha256,
            context=self.per_language(raw.get("context"), "context", languages, self.terms),
            interview_talk=self.per_language(raw.get("interview_talk"), "interview_talk", languages, self.terms),
            extends=self.text(raw, "extends", ""),
        )

    def languages(self, value: Any) -> list[str]:
        from vbhc_code.nlp.segment import SUPPORTED_LANGUAGES

        if not isinstance(value, list) or not value:
            self.error("languages", "missing languages (a list such as [\"en\", \"nl\"])")
            return []
        out: list[str] = []
        for i, lang in enumerate(value):
            if not isinstance(lang, str) or lang not in SUPPORTED_LANGUAGES:
                self.error(
                    f"languages[{i}]",
                    f"unsupported language {_show(lang)} (supported: {', '.join(SUPPORTED_LANGUAGES)})",
                )
            elif lang in out:
                self.warn(f"languages[{i}]", f"language '{lang}' listed twice")
            else:
                out.append(lang)
        return out

    def table_list(self, value: Any, where: str) -> list[dict]:
        if value is None:
            self.error(where, f"no {where} (add [[{where}]] tables)")
            return []
        if not isinstance(value, list) or not all(isinstance(t, dict) for t in value):
            self.error(where, f"expected [[{where}]] tables")
            return []
        if not value:
            self.error(where, f"no {where}")
        return value

    def ident(self, table: dict, where: str, seen: dict[str, int], kind: str) -> str:
        ident = self.text(table, "id", where, required=True)
        if ident and not _ID.match(ident):
            self.error(
                f"{where}id", f"{kind} id {_show(ident)} must start with a letter and hold only letters, digits, _ . -"
            )
        elif ident in seen:
            self.error(f"{where}id", f"duplicate {kind} id '{ident}' (also {kind}s[{seen[ident]}])")
        return ident

    def themes(self, value: Any) -> list[Theme]:
        seen: dict[str, int] = {}
        themes = []
        for i, table in enumerate(self.table_list(value, "themes")):
            where = f"themes[{i}]."
            self.unknown_keys(table, THEME_KEYS, where)
            ident = self.ident(table, where, seen, "theme")
            if ident and ident not in seen:
                seen[ident] = i
                themes.append(
                    Theme(ident, self.text(table, "label", where) or ident, self.text(table, "description", where))
                )
        return themes

    def codes(self, value: Any, theme_ids: set[str], languages: list[str]) -> list[Code]:
        seen: dict[str, int] = {}
        codes = []
        self.all_codes: list[tuple[int, Code]] = []
        for i, table in enumerate(self.table_list(value, "codes")):
            where = f"codes[{i}]."
            self.unknown_keys(table, CODE_KEYS, where)
            ident = self.ident(table, where, seen, "code")
            duplicate = ident in seen
            if ident and not duplicate:
                seen[ident] = i
            theme = self.text(table, "theme", where, required=True)
            if theme and theme not in theme_ids:
                self.error(f"{where}theme", f"unknown theme '{theme}'")
            label = self.text(table, "label", where, required=True)
            title = self.title(table, where)
            definition = self.text(table, "definition", where, required=True, what="definition")
            color = self.text(table, "color", where)
            if color and not _COLOR.match(color):
                self.error(f"{where}color", f"colour {_show(color)} is not #RRGGBB")
            code = Code(
                id=ident, theme=theme, label=label, definition=definition,
                include=self.text(table, "include", where), exclude=self.text(table, "exclude", where),
                examples=tuple(self.strings(table.get("examples"), f"{where}examples")),
                terms=self.per_language(table.get("terms"), f"{where}terms", languages, self.terms),
                patterns=self.per_language(table.get("patterns"), f"{where}patterns", languages, self.patterns),
                negative=self.per_language(table.get("negative"), f"{where}negative", languages, self.terms),
                weak=self.per_language(table.get("weak"), f"{where}weak", languages, self.terms),
                color=color or None, title=title,
            )
            if not any(code.terms.values()) and not any(code.patterns.values()) and not any(code.weak.values()):
                self.warn(f"{where}terms", "no terms or patterns: autocode will never apply this code")
            self.all_codes.append((i, code))
            if not duplicate:
                codes.append(code)
        return codes

    def title(self, table: dict, where: str) -> str:
        """A code's readable one-line title (what Table 1 of a paper shows)."""
        title = self.text(table, "title", where)
        if not title:
            if "title" not in table or isinstance(table.get("title"), str):
                self.error(f"{where}title", 'no title: add a readable name for tables, e.g. '
                           'title = "Integrated practice units"')
            return ""
        if "\n" in title:
            self.error(f"{where}title", "title must be one line")
        return " ".join(title.split())

    def strings(self, value: Any, where: str) -> list[str]:
        if value is None:
            return []
        if not isinstance(value, list):
            self.error(where, f"expected a list of texts, not {_type(value)}")
            return []
        out = []
        for i, item in enumerate(value):
            if not isinstance(item, str):
                self.error(f"{where}[{i}]", f"expected text, not {_type(item)}")
            elif not item.strip():
                self.error(f"{where}[{i}]", "empty text")
            else:
                out.append(item.strip())
        return out

    def per_language(self, value: Any, where: str, languages: list[str], check) -> Any:  # noqa: ANN001
        if value is None:
            return frozen_mapping({})
        if not isinstance(value, dict):
            self.error(where, f"expected a table of languages (e.g. {where}.en), not {_type(value)}")
            return frozen_mapping({})
        out = {}
        for lang, items in value.items():
            if lang not in languages:
                declared = ", ".join(languages) or "none"
                self.error(
                    f"{where}.{lang}",
                    f"{where.rsplit('.', 1)[-1]} for undeclared language '{lang}' (languages: {declared})",
                )
                continue
            out[lang] = tuple(check(items, f"{where}.{lang}"))
        return frozen_mapping(out)

    def terms(self, value: Any, where: str) -> list[str]:
        terms = self.strings(value, where)
        seen: dict[str, int] = {}
        for i, term in enumerate(terms):
            key = normalise_term(term)
            if key in seen:
                self.warn(f"{where}[{i}]", f"term '{term}' repeats {where}[{seen[key]}]")
            seen.setdefault(key, i)
        return terms

    def patterns(self, value: Any, where: str) -> list[list[dict]]:
        from vbhc_code.nlp.match import pattern_problem, pattern_unset_attrs

        if not isinstance(value, list):
            self.error(where, f"expected a list of token patterns, not {_type(value)}")
            return []
        out = []
        for i, pattern in enumerate(value):
            problem = pattern_problem(pattern)
            if problem:
                self.error(f"{where}[{i}]", problem)
                continue
            for token, attr in pattern_unset_attrs(pattern):
                self.warn(f"{where}[{i}]", f"token {token} uses {attr}, which autocode's tokenizer-only pipeline "
                          "never sets: the pattern cannot match")
            out.append(pattern)
        return out

    def shared_terms(self) -> None:
        """The same term under two codes is allowed (a turn may get both) but usually a slip."""
        owner: dict[tuple[str, str], tuple[str, str]] = {}
        for ci, code in getattr(self, "all_codes", []):
            for lang, terms in code.terms.items():
                for ti, term in enumerate(terms):
                    key = (lang, normalise_term(term))
                    first = owner.get(key)
                    if first is None:
                        owner[key] = (code.id, f"codes[{ci}].terms.{lang}[{ti}]")
                    elif first[0] != code.id:
                        self.warn(
                            f"codes[{ci}].terms.{lang}[{ti}]",
                            f"term '{term}' is also a term of {first[0]} ({first[1]})",
                        )


def _type(value: Any) -> str:
    return {dict: "a table", list: "a list", str: "text", bool: "true/false", int: "a number", float: "a number"}.get(
        type(value), type(value).__name__
    )


def _show(value: Any) -> str:
    return f"'{value}'" if isinstance(value, str) else _type(value)


def themes_by_id(codebook: Codebook) -> dict[str, Theme]:
    return {t.id: t for t in codebook.themes}


def describe(codebook: Codebook) -> str:
    """``vbhc-sim 1.0 (sha256 0123456789ab)``: how commands name a codebook."""
    return f"'{codebook.name}' {codebook.version} (sha256 {codebook.sha256[:12] or 'unknown'})"


def codebook_mix_warnings(store: Any, codebook: Codebook, *, coder: str | None = None) -> list[str]:
    """Warnings when codings made with ``codebook`` (by ``coder``) would sit beside another codebook's.

    Every other coder in the store whose recorded codebook differs (by sha256) is named, so an
    agreement or reconciliation between them is known to compare different code definitions.
    """
    warnings = []
    for info in store.coders():
        if info.name == coder or not info.codebook_sha256 or info.codebook_sha256 == codebook.sha256:
            continue
        warnings.append(
            f"coder '{info.name}' coded with codebook '{info.codebook_name}' {info.codebook_version} "
            f"(sha256 {info.codebook_sha256[:12]}), not {describe(codebook)}: comparing them mixes codebook versions"
        )
    return warnings


def mixed_codebook_warnings(store: Any, coders: Iterable[str]) -> list[str]:
    """One warning when ``coders`` did not all code with the same codebook (name, version, sha256)."""
    infos = {i.name: i for i in store.coders()}
    used = {}
    for name in coders:
        info = infos.get(name)
        if info is not None and info.codebook_sha256:
            used[name] = f"'{info.codebook_name}' {info.codebook_version} (sha256 {info.codebook_sha256[:12]})"
    if len(set(used.values())) <= 1:
        return []
    detail = "; ".join(f"{name}: {desc}" for name, desc in sorted(used.items()))
    return [f"coders used different codebooks ({detail}): results mix codebook versions"]
