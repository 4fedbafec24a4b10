"""Writing REFI-QDA: a study as a .qdpx project, a codebook as a .qdc, both schema-valid or not at all."""

from __future__ import annotations

import bisect
import hashlib
import zipfile
from collections import defaultdict
from dataclasses import dataclass, field, replace
from pathlib import Path

from lxml import etree

from vbhc_code import __version__
from vbhc_code.errors import DataError, UsageError, VbhcError, opt
from vbhc_code.files.atomic import atomic_path
from vbhc_code.files.outputs import CODEBOOK, REFI_PROJECT, OutputKind
from vbhc_code.models import Code, Codebook, Coding, Document, Participant, Theme, covered_spans
from vbhc_code.refi.format import (
    DOC_TYPE_VARIABLE,
    FORMAT_VARIABLE,
    LANGUAGE_VARIABLE,
    VALUE_ELEMENT,
    code_description,
    code_guid,
    coded_set_guid,
    color_for,
    display_name,
    make_guid,
    theme_guid,
    user_guid,
    variable_type,
    xml_safe,
)
from vbhc_code.refi.read import MAIN_NAME, NS_CODEBOOK, NS_PROJECT, SOURCES_DIR
from vbhc_code.store.store import Store

ORIGIN = f"vbhc-code {__version__}"
CODEBOOK_NAME_LINE = "codebook name: "
CODEBOOK_VERSION_LINE = "codebook version: "
UNTHEMED = Theme("unthemed", "unthemed", "Codes used in codings but missing from the codebook.")
_ZIP_DATE = (1980, 1, 1, 0, 0, 0)


class RefiInternalError(VbhcError):
    """Our own output broke the standard: a bug in vbhc-code, never the user's data. Nothing is written."""


@dataclass
class ExportReport:
    path: Path
    sources: int = 0
    codes: int = 0
    users: int = 0
    selections: int = 0
    codings: int = 0
    cases: int = 0
    warnings: list[str] = field(default_factory=list)


# -- codebook -----------------------------------------------------------------------------------
def _code_elements(codebook: Codebook, ns: str) -> etree._Element:
    """``<Codes>``: one non-codable parent per theme with its codes inside, descriptions and colours."""
    codes_el = etree.Element(f"{{{ns}}}Codes")
    by_theme: dict[str, list[tuple[int, Code]]] = defaultdict(list)
    for i, code in enumerate(codebook.codes):
        by_theme[code.theme].append((i, code))
    for theme in codebook.themes:
        t_el = etree.SubElement(codes_el, f"{{{ns}}}Code", guid=theme_guid(theme.id),
                                name=xml_safe(display_name(theme.id, theme.label)), isCodable="false")
        if theme.description:
            etree.SubElement(t_el, f"{{{ns}}}Description").text = xml_safe(theme.description)
        for i, code in by_theme.get(theme.id, ()):
            c_el = etree.SubElement(t_el, f"{{{ns}}}Code", guid=code_guid(code.id),
                                    name=xml_safe(display_name(code.id, code.display_title)), isCodable="true",
                                    color=color_for(i, code.color))
            # the name carries the readable title; the short label travels in the description
            label = code.label if code.label not in (code.id, code.display_title) else ""
            desc = code_description(code.definition, code.include, code.exclude, code.examples, label)
            if desc:
                etree.SubElement(c_el, f"{{{ns}}}Description").text = xml_safe(desc)
    return codes_el


def _theme_sets(codebook: Codebook, ns: str, *, member_attr: str) -> list[etree._Element]:
    """One Set per theme that has codes (the standard forbids empty Sets)."""
    sets = []
    for theme in codebook.themes:
        members = [c for c in codebook.codes if c.theme == theme.id]
        if not members:
            continue
        s = etree.Element(f"{{{ns}}}Set", guid=make_guid("theme-set", theme.id),
                          name=xml_safe(display_name(theme.id, theme.label)))
        for code in members:
            etree.SubElement(s, f"{{{ns}}}MemberCode", {member_attr: code_guid(code.id)})
        sets.append(s)
    return sets


def _complete_themes(codebook: Codebook) -> Codebook:
    """Every code must sit under a theme; orphans go to a visible 'unthemed' theme."""
    known = {t.id for t in codebook.themes}
    if all(c.theme in known for c in codebook.codes):
        return codebook
    codes = tuple(c if c.theme in known else replace(c, theme=UNTHEMED.id) for c in codebook.codes)
    themes = codebook.themes if UNTHEMED.id in known else (*codebook.themes, UNTHEMED)
    return replace(codebook, themes=themes, codes=codes)


def qdc_bytes(codebook: Codebook) -> bytes:
    codebook = _complete_themes(codebook)
    root = etree.Element(f"{{{NS_CODEBOOK}}}CodeBook", nsmap={None: NS_CODEBOOK}, origin=ORIGIN)
    root.append(_code_elements(codebook, NS_CODEBOOK))
    sets = _theme_sets(codebook, NS_CODEBOOK, member_attr="guid")
    if sets:
        sets_el = etree.SubElement(root, f"{{{NS_CODEBOOK}}}Sets")
        sets_el.extend(sets)
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True)


def write_qdc(codebook: Codebook, path: Path, *, force: bool = False) -> Path:
    """Write ``codebook`` as a REFI-QDA .qdc, validated against Codebook.xsd, atomically (an existing file that
    vbhc-code did not write is refused unless ``force``)."""
    from vbhc_code.refi.check import schema_errors

    if not codebook.codes:
        raise DataError(f"codebook '{codebook.name}' has no codes; a .qdc needs at least one")
    data = qdc_bytes(codebook)
    errors = schema_errors(data, "codebook", where=Path(path).name)
    if errors:
        raise RefiInternalError("internal error: the .qdc failed Codebook.xsd validation (a bug in vbhc-code); "
                                "nothing written", problems=errors)
    _atomic_write(Path(path), lambda fh: fh.write(data), kind=CODEBOOK, force=force)
    return Path(path)


# -- project ------------------------------------------------------------------------------------
def _study_key(docs) -> str:
    h = hashlib.sha256()
    for doc in sorted(docs, key=lambda d: d.name):
        h.update(doc.name.encode("utf-8") + b"\x00" + hashlib.sha256(doc.plain_text.encode("utf-8")).digest())
    return h.hexdigest()[:32]


def _crlf(text: str) -> tuple[str, list[int]]:
    """Text with lone LF as CRLF, and the sorted positions (in the LF text) of the LFs converted."""
    positions = [i for i, ch in enumerate(text) if ch == "\n" and (i == 0 or text[i - 1] != "\r")]
    if not positions:
        return text, []
    out, prev = [], 0
    for p in positions:
        out.append(text[prev:p])
        out.append("\r\n")
        prev = p + 1
    out.append(text[prev:])
    return "".join(out), positions


def shift_offset(pos: int, converted: list[int]) -> int:
    """An LF-text offset in the CRLF text: one more for every converted LF before it."""
    return pos + bisect.bisect_left(converted, pos)


def _merged_codebook(store: Store, coders: list[str], report: ExportReport) -> Codebook:
    books: list[Codebook] = []
    seen: set[str] = set()
    for coder in coders:
        book = store.coder_codebook(coder)
        if book is not None and book.sha256 not in seen:
            seen.add(book.sha256)
            books.append(book)
    if not books:
        stored = store.codebooks()
        if stored:
            books.append(stored[-1])
    if not books:
        return Codebook(name="codebook", version="", languages=(), themes=(), codes=())
    base = books[0]
    themes = {t.id: t for t in base.themes}
    codes = {c.id: c for c in base.codes}
    for other in books[1:]:
        if (other.name, other.version) != (base.name, base.version):
            report.warnings.append(
                f"coders used different codebooks ({base.name} {base.version} and {other.name} {other.version}); "
                "exported the union, first definition wins"
            )
        for t in other.themes:
            themes.setdefault(t.id, t)
        for c in other.codes:
            codes.setdefault(c.id, c)
    return replace(base, themes=tuple(themes.values()), codes=tuple(codes.values()))


def _el(parent: etree._Element, tag: str, **attrs: str | None) -> etree._Element:
    return etree.SubElement(parent, f"{{{NS_PROJECT}}}{tag}", {k: v for k, v in attrs.items() if v is not None})


def _export_coders(store: Store, coders: list[str] | None) -> list[str]:
    known = [c.name for c in store.coders()]
    if coders is None:
        return known
    unknown = [c for c in coders if c not in known]
    if unknown:
        raise DataError(f"unknown coder(s): {', '.join(unknown)} (coders in the store: {', '.join(known) or 'none'})")
    return list(dict.fromkeys(coders))


def _export_codebook(store: Store, coders: list[str], used: set[str], report: ExportReport) -> Codebook:
    """The coders' codebooks merged, plus every code used in a coding that none of them defines."""
    codebook = _merged_codebook(store, coders, report)
    missing = sorted(used - set(codebook.code_ids))
    if missing:
        report.warnings.append(
            f"{len(missing)} code(s) used in codings are not in any codebook; exported under "
            f"theme '{UNTHEMED.id}': {', '.join(missing)}"
        )
        codebook = replace(codebook, codes=(*codebook.codes, *(Code(m, UNTHEMED.id, m) for m in missing)))
    return _complete_themes(codebook)


@dataclass
class _Variables:
    """One REFI variable per attribute name, typed over every value it takes (cases and sources alike)."""

    per_doc: list[dict[str, str]]
    types: dict[str, str]
    guids: dict[str, str]

    @classmethod
    def of(cls, study: str, docs: list[Document], participants: dict[str, Participant]) -> _Variables:
        per_doc: list[dict[str, str]] = []
        for doc in docs:
            values = {k: str(v) for k, v in doc.attributes.items() if v is not None and str(v) != ""}
            values[DOC_TYPE_VARIABLE] = doc.doc_type
            values[LANGUAGE_VARIABLE] = doc.language
            values[FORMAT_VARIABLE] = doc.format
            per_doc.append(values)
        all_values: dict[str, list[str]] = defaultdict(list)
        for p in participants.values():
            for k, v in p.attributes.items():
                if v is not None and str(v) != "":
                    all_values[k].append(str(v))
        for values in per_doc:
            for k, v in values.items():
                all_values[k].append(v)
        types = {k: variable_type(v) for k, v in all_values.items()}
        return cls(per_doc, types, {k: make_guid(study, "variable", k) for k in all_values})

    def declare(self, root: etree._Element) -> None:
        if self.types:
            vars_el = _el(root, "Variables")
            for k in sorted(self.types):
                _el(vars_el, "Variable", guid=self.guids[k], name=xml_safe(k), typeOfVariable=self.types[k])

    def add_value(self, parent: etree._Element, key: str, value: str) -> None:
        vv = _el(parent, "VariableValue")
        _el(vv, "VariableRef", targetGUID=self.guids[key])
        _el(vv, VALUE_ELEMENT[self.types[key]]).text = xml_safe(value)


def _add_cases(root: etree._Element, study: str, docs: list[Document], participants: dict[str, Participant],
               variables: _Variables, source_guid: dict[str, str], report: ExportReport) -> None:
    speaks_in: dict[str, set[str]] = defaultdict(set)
    for doc in docs:
        for t in doc.turns:
            if t.participant_id:
                speaks_in[t.participant_id].add(doc.name)
    if not participants:
        return
    cases_el = _el(root, "Cases")
    for pid, p in participants.items():
        case = _el(cases_el, "Case", guid=make_guid(study, "case", pid), name=xml_safe(pid))
        if p.aliases:
            _el(case, "Description").text = xml_safe("aliases: " + "; ".join(p.aliases))
        for k, v in sorted(p.attributes.items()):
            if v is not None and str(v) != "":
                variables.add_value(case, k, str(v))
        for doc_name in sorted(speaks_in.get(pid, ())):
            _el(case, "SourceRef", targetGUID=source_guid[doc_name])
        report.cases += 1


Selections = dict[str, dict[tuple[int, int, str], list[str]]]


def _selections(docs: list[Document], codings_by_coder: dict[str, list[Coding]]) -> Selections:
    """One selection per (document, coder, span), carrying every code that coder gave that span.

    Spans are ``models.covered_spans``: a whole-turn coding of a caption turn merged from several cues is one
    selection per cue text, so a REFI consumer counts the same characters as ``agreement --mode nvivo``.
    """
    groups: Selections = defaultdict(lambda: defaultdict(list))
    turn_of = {(d.name, t.turn_index): t for d in docs for t in d.turns}
    for coder, codings in codings_by_coder.items():
        for c in codings:
            turn = turn_of[(c.document, c.turn_index)]
            for start, end in covered_spans(c, turn):
                codes = groups[c.document][(start, end, coder)]
                if c.code not in codes:
                    codes.append(c.code)
    return groups


def _add_sources(root: etree._Element, study: str, docs: list[Document], variables: _Variables,
                 groups: Selections, source_guid: dict[str, str], line_endings: str,
                 report: ExportReport) -> dict[str, bytes]:
    sources: dict[str, bytes] = {}
    sources_el = _el(root, "Sources")
    for doc, values in zip(docs, variables.per_doc):
        guid = source_guid[doc.name]
        text, converted = (_crlf(doc.plain_text) if line_endings == "crlf" else (doc.plain_text, []))
        member = f"{SOURCES_DIR}{guid}.txt"
        sources[member] = text.encode("utf-8")
        src = _el(sources_el, "TextSource", guid=guid, name=xml_safe(doc.name), plainTextPath=f"internal://{guid}.txt")
        for (start, end, coder), codes in sorted(groups.get(doc.name, {}).items()):
            s, e = shift_offset(start, converted), shift_offset(end, converted)
            sel_guid = make_guid(study, "selection", doc.name, coder, str(start), str(end))
            sel = _el(src, "PlainTextSelection", guid=sel_guid, startPosition=str(s), endPosition=str(e),
                      creatingUser=user_guid(coder))
            for code in codes:
                coding = _el(sel, "Coding", guid=make_guid(sel_guid, "coding", code), creatingUser=user_guid(coder))
                _el(coding, "CodeRef", targetGUID=code_guid(code))
                report.codings += 1
            report.selections += 1
        for k in sorted(values):
            variables.add_value(src, k, values[k])
        report.sources += 1
    return sources


def _add_sets(root: etree._Element, store: Store, codebook: Codebook, coders: list[str],
              source_guid: dict[str, str]) -> None:
    ns = NS_PROJECT
    sets = _theme_sets(codebook, ns, member_attr="targetGUID")
    for coder in coders:
        coded = sorted(store.coded_documents(coder))
        if coded:
            s = etree.Element(f"{{{ns}}}Set", guid=coded_set_guid(coder), name=xml_safe(f"coded by {coder}"))
            for doc_name in coded:
                etree.SubElement(s, f"{{{ns}}}MemberSource", targetGUID=source_guid[doc_name])
            sets.append(s)
    if sets:
        _el(root, "Sets").extend(sets)


def project_bytes(
    store: Store, *, coders: list[str] | None = None, line_endings: str = "lf", name: str | None = None
) -> tuple[bytes, dict[str, bytes], ExportReport]:
    """The project.qde bytes, the source files (member name -> bytes) and a report; nothing written."""
    if line_endings not in ("lf", "crlf"):
        raise UsageError(f"{opt('line_endings')} must be lf or crlf, not '{line_endings}'")
    report = ExportReport(path=Path())
    coders = _export_coders(store, coders)
    docs = store.documents(with_turns=True)
    if not docs:
        raise DataError("the store has no documents; nothing to export (run 'vbhc-code ingest' first)")
    study = _study_key(docs)
    codings_by_coder = {c: store.codings(c) for c in coders}
    codebook = _export_codebook(store, coders, {x.code for cs in codings_by_coder.values() for x in cs}, report)

    project_name = name or store.get_meta("study_name") or Path(store.path).stem
    root = etree.Element(f"{{{NS_PROJECT}}}Project", nsmap={None: NS_PROJECT}, name=xml_safe(project_name),
                         origin=ORIGIN)
    if coders:
        users_el = _el(root, "Users")
        for coder in coders:
            _el(users_el, "User", guid=user_guid(coder), name=xml_safe(coder))
    if codebook.codes or codebook.themes:
        _el(root, "CodeBook").append(_code_elements(codebook, NS_PROJECT))
    participants = store.participants()
    variables = _Variables.of(study, docs, participants)
    variables.declare(root)
    source_guid = {doc.name: make_guid(study, "source", doc.name) for doc in docs}
    _add_cases(root, study, docs, participants, variables, source_guid, report)
    groups = _selections(docs, codings_by_coder)
    sources = _add_sources(root, study, docs, variables, groups, source_guid, line_endings, report)
    _add_sets(root, store, codebook, coders, source_guid)
    _el(root, "Description").text = xml_safe(
        f"Exported by {ORIGIN}.\n{CODEBOOK_NAME_LINE}{codebook.name}\n{CODEBOOK_VERSION_LINE}{codebook.version}"
    )
    report.codes = len(codebook.codes)
    report.users = len(coders)
    data = etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True)
    return data, sources, report


def export_qdpx(store: Store, *, out: Path, coders: list[str] | None = None, line_endings: str = "lf",
                force: bool = False) -> ExportReport:
    """Write the study as a REFI-QDA project. Checked (schema + standard rules) before it replaces ``out``."""
    from vbhc_code.refi.check import check_refi, schema_errors

    out = Path(out)
    data, sources, report = project_bytes(store, coders=coders, line_endings=line_endings)
    report.path = out
    # Project.xsd first, before any zip exists; the rules the XSD cannot express need the archive (below).
    errors = schema_errors(data, "project", where=MAIN_NAME)
    if errors:
        raise RefiInternalError(
            "internal error: project.qde failed Project.xsd validation (a bug in vbhc-code); nothing written",
            problems=errors,
        )

    def write(fh) -> None:
        with zipfile.ZipFile(fh, "w", compression=zipfile.ZIP_DEFLATED) as zf:
            for member, payload in [(MAIN_NAME, data), *sorted(sources.items())]:
                info = zipfile.ZipInfo(member, date_time=_ZIP_DATE)
                info.compress_type = zipfile.ZIP_DEFLATED
                info.external_attr = 0o644 << 16
                zf.writestr(info, payload)

    def verify(tmp: Path) -> None:
        problems = check_refi(tmp)
        if problems:
            raise RefiInternalError(
                "internal error: the export broke the REFI-QDA standard (a bug in vbhc-code); nothing written",
                problems=problems,
            )

    _atomic_write(out, write, verify=verify, kind=REFI_PROJECT, force=force)
    return report


def _atomic_write(path: Path, writer, *, kind: OutputKind, force: bool, verify=None) -> None:
    """Write to a temporary file beside ``path``, optionally verify it, then replace ``path``."""
    with atomic_path(path, kind=kind, force=force, create_parent=False) as tmp:
        with open(tmp, "wb") as fh:
            writer(fh)
        if verify is not None:
            verify(tmp)
