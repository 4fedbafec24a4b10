"""Blind coder workbooks: one .xlsx per coder (reading a filled one back is in ``codings_read``).

A workbook carries a hidden ``_meta`` sheet (coder, study, scope, codebook name/version/sha256) and a
hidden ``_turns`` sheet with a SHA-256 per turn text, so an import can tell a turn whose text a coder
edited (or that changed in the store since) from one that is merely coded. Rows are found by their
``document`` and ``turn_index`` cells, so coders may sort and filter the sheet freely.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from vbhc_code import __version__
from vbhc_code.errors import DataError, HumanWorkExists, UsageError, opt
from vbhc_code.files.outputs import CODER_WORKBOOK
from vbhc_code.files.xlsx_write import Column, Sheet, TextSheet, clean_text, number_or_text, write_workbook
from vbhc_code.models import Codebook, Turn
from vbhc_code.store.store import Store, now_iso

WORKBOOK_KIND = "vbhc-code coder workbook"
TURN_COLUMNS = ("document", "turn_index", "speaker", "participant_id")
YES, NO = "yes", "no"
_CODER_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
CONFIDENCE_COLUMNS = ("suggested", "confidence")  # with a prefill from autocode: its codes and best score per turn
_BIG = 50_000  # rows above which the workbook is streamed (constant memory)


def check_coder_name(name: str) -> str:
    """A coder name is also part of a file name and a column header: keep it plain."""
    if not _CODER_NAME.match(name or ""):
        raise UsageError(
            f"coder name '{name}' is not usable: use letters, digits, '-', '_' or '.' (at most 64, no spaces)"
        )
    return name


def workbook_path(out_dir: Path, coder: str) -> Path:
    return Path(out_dir) / f"coder-{coder}.xlsx"


def canonical_text(text: str) -> str:
    """The turn text as it survives an .xlsx round trip (cleaned, capped, line ends as ``\\n``).

    >>> canonical_text("a\\r\\nb") == canonical_text("a_x000D_\\nb") == "a\\nb"
    True
    """
    # Readers differ in undoing the OOXML escapes _x000D_ (carriage return) and _x005F_ (underscore).
    text = clean_text(text).replace("_x005F_", "_").replace("_x000D_", "\r")
    return text.replace("\r\n", "\n").replace("\r", "\n")


def text_hash(text: str) -> str:
    return hashlib.sha256(canonical_text(text).encode("utf-8")).hexdigest()


def attribute_columns(store: Store, reserved: Sequence[str]) -> dict[str, str]:
    """Participant attribute -> column header; a clash with a fixed column or code gets 'participant_'."""
    taken = {r.lower() for r in reserved}
    columns: dict[str, str] = {}
    for p in store.participants().values():
        for key in p.attributes:
            if key not in columns:
                columns[key] = f"participant_{key}" if key.lower() in taken else key
    return columns


def _instructions(coder: str, codebook: Codebook, scope: str, prefill: str | None) -> list[str]:
    scope_words = (
        "participant turns only (interviewer and moderator questions are not coded)"
        if scope == "participant" else "every turn, interviewer and moderator turns included"
    )
    paragraphs = [
        f"This workbook is for coder '{coder}'. Code independently: do not look at anyone else's coding "
        "until agreement has been measured.",
        f"The Turns sheet lists {scope_words}, one row per speaker turn. For each code that applies to a "
        "turn, type 1 or x in that code's column. Leave a cell empty when the code does not apply. Any "
        "other value is rejected at import.",
        "A turn may carry several codes. The memo column is for your own notes; it is not imported.",
        "Do not edit the text, document or turn_index cells: the import checks every turn text against the "
        "version issued and refuses edited turns. You may sort, filter, hide columns and resize rows.",
        "When you have finished a document, set its 'coded' cell on the Documents sheet to 'yes'. An empty "
        "cell in a coded document means a deliberate 'code does not apply'; a document not marked 'yes' is "
        "missing data and is left out of agreement, never counted as zeros. Codes in a document not marked "
        "'yes' are reported as an error at import.",
        f"The Codebook sheet has the definitions and include/exclude rules of {codebook.name} "
        f"version {codebook.version}.",
        "When done, save the file and give it to the study lead, who imports it with "
        "'vbhc-code codings import coder-NAME.xlsx'.",
    ]
    if prefill:
        paragraphs.insert(
            2,
            f"This workbook was pre-filled with the codings of '{prefill}'. Check every pre-filled cell: "
            "keep it, clear it or add codes as your own judgement says. When the codings came from autocode, the "
            "'suggested' column lists each suggested code with its confidence (0-1, from its evidence) and the "
            "'confidence' column holds the turn's highest: sort by it to review the strongest suggestions first.",
        )
    return paragraphs


@dataclass
class IssuedWorkbook:
    coder: str
    path: Path
    turns: int
    documents: int
    codes: int
    prefill: str | None = None

    @property
    def warning(self) -> str | None:
        if self.prefill and self.prefill != self.coder:
            return (f"{self.path.name} is pre-filled with the codings of '{self.prefill}': {self.coder} codes with "
                    "them in view (not blind to that coder)")
        return None


def write_workbooks(
    store: Store,
    *,
    coders: Sequence[str],
    codebook: Codebook,
    scope: str = "participant",
    out_dir: Path = Path("codings"),
    prefill: str | None = None,
    force: bool = False,
) -> list[IssuedWorkbook]:
    """One blind workbook per coder in ``out_dir`` (``coder-NAME.xlsx``).

    Refuses (``HumanWorkExists``) before writing anything when any target exists, unless ``force``.
    ``prefill`` copies that coder's stored codings into the code columns (e.g. the autocoder).
    """
    if not coders:
        raise UsageError(f"name at least one coder ({opt('coders', 'NAME')})")
    if scope not in ("participant", "all"):
        raise UsageError(f"{opt('scope')} must be participant or all, not '{scope}'")
    names = [check_coder_name(c) for c in coders]
    dupes = sorted({c for c in names if names.count(c) > 1})
    if dupes:
        raise UsageError(f"coder '{dupes[0]}' named twice")
    paths = [workbook_path(out_dir, c) for c in names]
    existing = [p for p in paths if p.exists()]
    if existing and not force:
        listed = ", ".join(str(p) for p in existing)
        verb = "already exists (a coder's work)" if len(existing) == 1 else "already exist (coders' work)"
        raise HumanWorkExists(f"{listed} {verb}; use {opt('force', True)} to overwrite")
    turns = store.turns(scope=scope)
    if not turns:
        raise DataError(f"no {'participant ' if scope == 'participant' else ''}turns in the store to code")
    prefilled: dict[tuple[str, int], set[str]] = {}
    scores: dict[tuple[str, int], dict[str, float]] = {}
    prefill_docs: set[str] = set()
    if prefill is not None:
        known = sorted(c.name for c in store.coders())
        if prefill not in known:
            raise DataError(f"{opt('prefill')}: no coder '{prefill}' in the store "
                            f"(coders: {', '.join(known) or 'none yet'})")
        for c in store.codings(prefill):
            prefilled.setdefault((c.document, c.turn_index), set()).add(c.code)
            if c.confidence is not None:
                cell = scores.setdefault((c.document, c.turn_index), {})
                cell[c.code] = max(cell.get(c.code, 0.0), c.confidence)
        prefill_docs = store.coded_documents(prefill)
    sha = codebook_sha(store, codebook)  # saved, so an import finds the exact codebook again by its sha256
    issued = []
    for coder, path in zip(names, paths):
        own = prefill == coder  # re-issuing a coder's own work keeps their 'coded' marks
        sheets = _sheets(store, turns, coder=coder, codebook=codebook, sha=sha, scope=scope, prefill=prefill,
                         prefilled=prefilled, coded_docs=prefill_docs if own else set(), scores=scores)
        write_workbook(path, sheets, kind=CODER_WORKBOOK, force=force, constant_memory=len(turns) > _BIG)
        issued.append(IssuedWorkbook(coder, path, len(turns), len({t.document for t in turns}),
                                     len(codebook.codes), prefill))
    return issued


def codebook_sha(store: Store, codebook: Codebook) -> str:
    """Save ``codebook`` in the store (once) and return the sha256 the store knows it by."""
    return store.codebook_sha(codebook)


def _sheets(
    store: Store, turns: list[Turn], *, coder: str, codebook: Codebook, sha: str, scope: str, prefill: str | None,
    prefilled: dict[tuple[str, int], set[str]], coded_docs: set[str], scores: dict | None = None,
) -> list[Sheet | TextSheet]:
    codes = list(codebook.code_ids)
    attrs = attribute_columns(store, [*TURN_COLUMNS, "text", "memo", *CONFIDENCE_COLUMNS, *codes])
    participants = store.participants()
    code_cols = [
        Column(code, width=8.0, choices=["1", "x"], fills={"1": "#D9EAD3", "x": "#D9EAD3"},
               comment=_code_comment(codebook, code))
        for code in codes
    ]
    def fit(values, header: str) -> float:
        """Wide enough for the longest value (speaker labels like 'Participant 8 (VBHC)'), within reason."""
        return float(min(32, max(12, len(header) + 2, *(len(str(v)) + 2 for v in values))))

    people = [participants.get(t.participant_id or "") for t in turns]
    columns = [
        Column("document", width=fit((t.document for t in turns), "document")),
        Column("turn_index", kind="int", width=10.0),
        Column("speaker", width=fit((t.speaker or "" for t in turns), "speaker")),
        Column("participant_id", width=14.0),
        *(Column(h, width=fit((p.attributes.get(k, "") for p in people if p), h)) for k, h in attrs.items()),
        Column("text", width=90.0, wrap=True),
        *(
            [Column("suggested", width=22.0, wrap=True), Column("confidence", kind="float", width=11.0)]
            if scores and not set(CONFIDENCE_COLUMNS) & set(codes)  # a code named 'confidence' keeps its column
            else []
        ),
        *code_cols,
        Column("memo", width=40.0, wrap=True),
    ]

    def turn_rows():
        for t in turns:
            p = participants.get(t.participant_id or "")
            marks = prefilled.get((t.document, t.turn_index), set())
            yield [
                t.document, t.turn_index, t.speaker or "", t.participant_id or "",
                *((number_or_text(str(p.attributes.get(k, ""))) if p else "") for k in attrs),
                t.text, *(_suggested(scores.get((t.document, t.turn_index), {})) if scores else ()),
                *(1 if c in marks else None for c in codes), None,
            ]

    docs: dict[str, int] = {}
    for t in turns:
        docs[t.document] = docs.get(t.document, 0) + 1
    doc_info = {d.name: d for d in store.documents()}
    doc_rows = [
        [name, doc_info[name].doc_type, doc_info[name].language, n, YES if name in coded_docs else NO]
        for name, n in docs.items()
    ]
    cb_rows = [
        [c.id, c.theme, c.title, c.label, c.definition, c.include, c.exclude, "\n".join(c.examples)]
        for c in codebook.codes
    ]
    meta = {
        "kind": WORKBOOK_KIND,
        "coder": coder,
        "study": store.get_meta("study_name") or store.path.stem,
        "scope": scope,
        "codebook_name": codebook.name,
        "codebook_version": codebook.version,
        "codebook_sha256": sha,
        "codes": ",".join(codes),
        "attribute_columns": ",".join(attrs.values()),
        "prefill": prefill or "",
        "created_at": now_iso(),
        "vbhc_code_version": __version__,
    }
    return [
        Sheet("Turns", columns, turn_rows()),
        Sheet("Documents", [Column("document", width=30.0), Column("type"), Column("language", width=10.0),
                            Column("turns", kind="int", width=8.0),
                            Column("coded", width=10.0, choices=[YES, NO], fills={YES: "#D9EAD3"},
                                   comment="yes = every turn of this document has been coded")],
              doc_rows),
        Sheet("Codebook", [Column("code", width=10.0), Column("theme", width=10.0),
                           Column("title", width=24.0, wrap=True), Column("label", width=20.0, wrap=True),
                           Column("definition", width=60.0, wrap=True), Column("include", width=45.0, wrap=True),
                           Column("exclude", width=45.0, wrap=True), Column("examples", width=45.0, wrap=True)],
              cb_rows),
        TextSheet("Instructions", _instructions(coder, codebook, scope, prefill), title="How to code this workbook"),
        Sheet("_meta", [Column("key"), Column("value")], [[k, v] for k, v in meta.items()], hidden=True),
        Sheet("_turns", [Column("document"), Column("turn_index", kind="int"), Column("sha256")],
              ([t.document, t.turn_index, text_hash(t.text)] for t in turns), hidden=True),
    ]


def _suggested(scores: dict[str, float]) -> tuple[str, float | None]:
    """'SIM4 0.85; VBHC2 0.60' (strongest first) and the highest score, for a prefilled turn."""
    ranked = sorted(scores.items(), key=lambda kv: (-kv[1], kv[0]))
    return "; ".join(f"{code} {score:.2f}" for code, score in ranked), (ranked[0][1] if ranked else None)


def _code_comment(codebook: Codebook, code_id: str) -> str:
    code = codebook.code(code_id)
    return f"{code.id} {code.label}: {code.definition}".strip()[:1000]
