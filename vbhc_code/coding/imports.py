"""Human codings in and out of the store: coder workbooks, long CSV/XLSX import, export, listing.

The long exchange format is one row per (turn, code): ``document, turn_index, code`` (import) and
``document, turn_index, code, coder, start, end, evidence`` (export). A document named in a long file
counts as coded by that coder, so a row with a document and no code records "coded, nothing applies".
An import validates everything first and stores nothing unless every file is clean.
"""

from __future__ import annotations

import sys
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

from vbhc_code.coding.listing import list_codings
from vbhc_code.coding.read import _shown, document_name, is_coder_workbook, read_workbook
from vbhc_code.coding.reimport import Change, compare_with_store, refuse_changes
from vbhc_code.coding.workbook import IssuedWorkbook, check_coder_name, codebook_sha, text_hash, write_workbooks
from vbhc_code.errors import DataError, Problems, UsageError, ValidationError, opt
from vbhc_code.files.csvfile import DEFAULT as DEFAULT_CSV
from vbhc_code.files.csvfile import CsvOptions
from vbhc_code.files.sheets import iter_rows
from vbhc_code.models import Codebook, Coding
from vbhc_code.store.store import Store

__all__ = [
    "EXPORT_COLUMNS", "ImportedCoder", "IssuedWorkbook", "LongRow", "default_codebook", "export_codings",
    "import_codings", "list_codings", "load_codebook_file", "read_long_codings", "write_workbooks",
]

EXPORT_COLUMNS = ("document", "turn_index", "code", "coder", "start", "end", "evidence")

def default_codebook(store: Store | None = None) -> Codebook:
    """The study's own codebook (one that came with an imported REFI project or .qdc), else the built-in one."""
    from vbhc_code.codebook.load import load_codebook

    own = store.study_codebook() if store is not None else None
    return own if own is not None else load_codebook(None)


def load_codebook_file(path: Path | None, store: Store | None = None) -> Codebook:
    """``--codebook F`` (TOML, .qdc or .qdpx); None: the study's own codebook, else the built-in one."""
    from vbhc_code.codebook.load import load_codebook

    return default_codebook(store) if path is None else load_codebook(Path(path))


# -- long files --------------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class LongRow:
    where: str  # e.g. "coder-anna.csv line 7"
    document: str
    turn_index: int | None  # None: the row only marks the document as coded
    code: str
    coder: str = ""
    start: int | None = None
    end: int | None = None
    evidence: str | None = None


def read_long_codings(
    path: Path, documents: Collection[str] = ()
) -> tuple[list[LongRow], list[str] | Problems]:
    """Rows of a long ``document, turn_index, code`` file (.csv/.xlsx) and the located problems found.

    A document cell that is exactly one of ``documents`` keeps its spaces (`` INT01.txt``); any other is stripped.
    """
    path = Path(path)
    header, rows = iter_rows(path, keep_spaces=("document",))
    missing = [c for c in ("document", "turn_index", "code") if c not in header]
    if missing:
        named = sum(1 for h in header if h)
        return [], [f"[{path.name} line 1] no '{missing[0]}' column (the header row has {named} named columns)"]
    out: list[LongRow] = []
    problems = Problems()
    for row in rows:
        v = row.values
        doc = document_name(v.get("document", "").replace("\\", "/"), documents)
        idx_text, code = v.get("turn_index", ""), v.get("code", "")
        if not doc:
            problems.append(f"[{row.where}] empty document")
            continue
        idx = None
        if idx_text:
            idx = int(idx_text) if idx_text.isdigit() else None
            if idx is None:
                problems.append(f"[{row.where}] turn_index {_shown(idx_text)} is not a whole number")
                continue
        elif code:
            problems.append(f"[{row.where}] code {_shown(code)} without a turn_index")
            continue
        span: list[int | None] = []
        for key in ("start", "end"):
            text = v.get(key, "")
            span.append(int(text) if text.isdigit() else None)
            if text and not text.isdigit():
                problems.append(f"[{row.where}] {key} {_shown(text)} is not a whole number")
        if span[0] is not None and span[1] is not None and span[0] >= span[1]:
            problems.append(f"[{row.where}] start {span[0]} is not before end {span[1]}")
        out.append(LongRow(row.where, doc, idx, code, v.get("coder", ""), span[0], span[1], v.get("evidence") or None))
    return out, problems


# -- import ------------------------------------------------------------------------------------------
@dataclass
class ImportedCoder:
    coder: str
    sources: list[str]
    codebook: Codebook
    codings: list[Coding] = field(default_factory=list)
    coded_documents: set[str] = field(default_factory=set)
    duplicates: int = 0  # rows naming a coding already read (merged into one)
    change: Change | None = None  # set by import_codings: new, unchanged or replaced


@dataclass
class ImportReport:
    coders: list[ImportedCoder]
    warnings: list[str]


def import_codings(
    store: Store, files: Sequence[Path], *, coder: str | None = None, codebook: Codebook | Path | None = None,
    replace: bool = False,
) -> ImportReport:
    """Validate every file, then store each coder's codings atomically (all or nothing).

    Raises ``ValidationError`` listing every located problem; nothing is stored then. A coder who already
    has different codings is refused (``DataError``, nothing stored) unless ``replace``; identical codings
    are a no-op. A blank workbook (no document marked coded) is a warning and imports nothing.
    """
    if not files:
        raise UsageError("name at least one file to import")
    if coder is not None:
        check_coder_name(coder)
    explicit = load_codebook_file(codebook, store) if isinstance(codebook, (str, Path)) else codebook
    cache: list[Codebook] = []

    def default_cb() -> Codebook:  # loaded only when a file does not say which codebook it used
        if not cache:
            cache.append(explicit or default_codebook(store))
        return cache[0]

    all_turns = store.turns()
    turn_hashes = {(t.document, t.turn_index): text_hash(t.text) for t in all_turns}
    turn_spans = {(t.document, t.turn_index): (t.start, t.end) for t in all_turns}
    documents = set(store.document_names())
    problems = Problems()
    warnings: list[str] = []
    imported: dict[str, ImportedCoder] = {}

    def claim(name: str, source: str, cb: Codebook) -> ImportedCoder:
        if name in imported:
            problems.append(f"[{source}] coder '{name}' is also imported from {', '.join(imported[name].sources)}")
            imported[name].sources.append(source)
        else:
            imported[name] = ImportedCoder(name, [source], cb)
        return imported[name]

    for path in map(Path, files):
        if not path.is_file():
            problems.append(f"[{path.name}] file not found")
            continue
        if is_coder_workbook(path):
            _import_workbook(store, path, coder, explicit, default_cb, turn_hashes, claim, problems, warnings)
        else:
            cb = default_cb()  # outside the try: a missing codebook is not a problem of this file
            try:
                _import_long(path, coder, cb, turn_spans, documents, claim, problems)
            except DataError as exc:
                problems.append(_located(path, exc))
    if problems:
        raise ValidationError(f"{len(problems)} problem(s); nothing was imported", problems)
    warnings.extend(_codebook_warnings(store, imported.values()))
    existing = {c.name for c in store.coders()}
    for name in imported:
        twins = sorted(e for e in existing if e != name and e.casefold() == name.casefold())
        if twins:
            warnings.append(f"coder '{name}' differs only in case from '{twins[0]}': stored as a separate coder")
    for item in imported.values():
        item.change = compare_with_store(store, item.coder, item.codings, item.coded_documents,
                                         source=", ".join(item.sources))
    if not replace:
        refuse_changes(item.change for item in imported.values() if item.change)
    with store.transaction():
        for item in imported.values():
            if item.change is not None and item.change.status == "unchanged" and _same_codebook(store, item):
                continue
            store.replace_codings(item.coder, item.codings, coded_documents=item.coded_documents,
                                  codebook=item.codebook, source=", ".join(item.sources))
    return ImportReport(list(imported.values()), warnings)


def _same_codebook(store: Store, item: ImportedCoder) -> bool:
    info = {c.name: c for c in store.coders()}.get(item.coder)
    return info is not None and info.codebook_sha256 == _sha(store, item.codebook)


def _located(path: Path, exc: DataError) -> str:
    """``[file] what``, without naming the file a second time when the reader's message starts with it."""
    message = exc.message.removeprefix(f"{path.name}: ")
    return f"[{path.name}] {message}"


def _import_workbook(store, path, coder, explicit, default_cb, turn_hashes, claim, problems, warnings) -> None:
    def codebook_for(meta: dict[str, str]) -> Codebook:
        return explicit or store.codebook_by_sha(meta.get("codebook_sha256", "")) or default_cb()

    try:
        result = read_workbook(path, store, codebook_for=codebook_for, turn_hashes=turn_hashes)
    except DataError as exc:
        problems.append(_located(path, exc))
        return
    if result.codebook is None:  # not a coder workbook after all: problems say so
        problems.extend(result.problems)
        return
    cb = result.codebook
    problems.extend(result.problems)
    warnings.extend(result.warnings)
    name = coder or result.coder
    if not result.coded_documents and not result.codings:
        warnings.append(f"no coded documents in {path.name} (a blank workbook?): nothing imported for coder "
                        f"'{name or '?'}'")
        return
    if coder and result.coder and coder != result.coder:
        warnings.append(f"{path.name}: issued to '{result.coder}', imported as '{coder}' ({opt('coder')})")
    if not name:
        problems.append(f"[{path.name} _meta] no coder name; pass {opt('coder', 'NAME')}")
        return
    item = claim(name, path.name, cb)
    item.codings = [Coding(d, i, c, name) for d, i, c in sorted(result.codings)]
    item.coded_documents = set(result.coded_documents)


def _coder_from_filename(path: Path) -> str | None:
    stem = path.stem
    if stem.lower().startswith("coder-") and len(stem) > 6:
        return stem[6:]
    return None


def _import_long(path, coder, cb, turn_spans, docs, claim, problems) -> None:
    """A long file: ``turn_spans`` maps each (document, turn_index) of the store to its (start, end)."""
    rows, found = read_long_codings(path, docs)
    problems.extend(found)
    named = sorted({r.coder for r in rows if r.coder})
    if coder is not None:
        if len(named) > 1:
            problems.append(f"[{path.name}] holds coders {', '.join(named)}; {opt('coder')} cannot name them all")
            return
        groups = {coder: rows}
    elif named:
        if any(not r.coder for r in rows):
            first = next(r for r in rows if not r.coder)
            problems.append(f"[{first.where}] empty coder (the file names coders in other rows)")
        groups = {n: [r for r in rows if r.coder == n] for n in named}
    else:
        guess = _coder_from_filename(path)
        if guess is None:
            problems.append(f"[{path.name}] which coder? pass {opt('coder', 'NAME')} (or name the file coder-NAME.csv)")
            return
        groups = {guess: rows}
    known_codes = set(cb.code_ids)
    for name, group in groups.items():
        try:
            check_coder_name(name)
        except UsageError as exc:
            problems.append(f"[{path.name}] {exc.message}")
            continue
        item = claim(name, path.name, cb)
        seen: set[tuple[str, int, str, int | None, int | None]] = set()
        for r in group:
            if r.document not in docs:
                problems.append(f"[{r.where}] unknown document {_shown(r.document)}")
                continue
            item.coded_documents.add(r.document)
            if r.turn_index is None or not r.code:
                if r.turn_index is not None and (r.document, r.turn_index) not in turn_spans:
                    problems.append(f"[{r.where}] unknown turn {r.document} #{r.turn_index}")
                continue
            if (r.document, r.turn_index) not in turn_spans:
                problems.append(f"[{r.where}] unknown turn {r.document} #{r.turn_index}")
                continue
            if r.code not in known_codes:
                problems.append(f"[{r.where}] unknown code {_shown(r.code)} (not in {cb.name} {cb.version})")
                continue
            if (r.start is None) != (r.end is None):
                problems.append(f"[{r.where}] give both start and end (a span), or neither (the whole turn)")
                continue
            t_start, t_end = turn_spans[(r.document, r.turn_index)]
            if r.start is not None and r.end is not None and not t_start <= r.start < r.end <= t_end:
                problems.append(f"[{r.where}] span {r.start}-{r.end} is outside turn {r.document} #{r.turn_index} "
                                f"({t_start}-{t_end})")
                continue
            key = (r.document, r.turn_index, r.code, r.start, r.end)
            if key in seen:
                item.duplicates += 1  # the same coding twice is one coding (counted in the summary)
                continue
            seen.add(key)
            item.codings.append(Coding(r.document, r.turn_index, r.code, name, r.start, r.end, r.evidence))


def _codebook_warnings(store: Store, items: Iterable[ImportedCoder]) -> list[str]:
    out = []
    items = list(items)
    for item in items:
        sha = _sha(store, item.codebook)
        others = {c.name: c for c in store.coders() if c.name != item.coder}
        for other in items:
            if other.coder != item.coder:
                others.pop(other.coder, None)
        differing = [
            f"'{o.name}' ({o.codebook_name} {o.codebook_version}, sha256 {o.codebook_sha256[:8]})"
            for o in others.values() if o.codebook_sha256 and o.codebook_sha256 != sha
        ]
        differing += [
            f"'{o.coder}' ({o.codebook.name} {o.codebook.version}, sha256 {_sha(store, o.codebook)[:8]})"
            for o in items if o.coder != item.coder and _sha(store, o.codebook) != sha
        ]
        if differing:
            out.append(
                f"coder '{item.coder}' used codebook {item.codebook.name} {item.codebook.version} (sha256 "
                f"{sha[:8]}), which differs "
                f"from the one of {', '.join(differing)}; compare their codings with care"
            )
    return out


def _sha(store: Store, codebook: Codebook) -> str:
    return codebook_sha(store, codebook)


# -- export and listing ------------------------------------------------------------------------------
def _known_coder(store: Store, coder: str) -> None:
    names = [c.name for c in store.coders()]
    if coder not in names:
        listed = ", ".join(names) if names else "none yet"
        raise DataError(f"no coder '{coder}' in the store (coders: {listed})")


def export_rows(store: Store, coder: str) -> list[list[Any]]:
    return [
        [c.document, c.turn_index, c.code, c.coder, c.start, c.end, c.evidence or ""]
        for c in store.codings(coder)
    ]


def export_codings(
    store: Store, *, coder: str, out: Path | None = None, stream: TextIO | None = None, force: bool = False,
    csv: CsvOptions = DEFAULT_CSV,
) -> int:
    """Write ``coder``'s codings as long CSV or XLSX (by ``out``'s suffix), or CSV to ``stream``/stdout.

    ``csv`` sets the byte order mark and formula neutralising of a CSV (``vbhc_code.files.csvfile``).

    An existing file is only replaced when it is an earlier export outside ``codings/`` (a file in a ``codings/``
    folder is a coder's work), or with ``force``.
    """
    from vbhc_code.files.csvfile import write_csv, write_csv_atomic
    from vbhc_code.files.outputs import CODINGS_EXPORT, check_replaceable

    if out is not None and Path(out).suffix.lower() not in (".csv", ".xlsx"):
        raise UsageError(f"{opt('out')} must end in .csv or .xlsx, not '{Path(out).suffix}'")
    if out is not None:
        check_replaceable(Path(out), CODINGS_EXPORT, force=force)
    _known_coder(store, coder)
    rows = export_rows(store, coder)
    if out is None:
        write_csv(stream or sys.stdout, EXPORT_COLUMNS, rows, options=csv)
    elif Path(out).suffix.lower() == ".csv":
        write_csv_atomic(Path(out), EXPORT_COLUMNS, rows, options=csv, kind=CODINGS_EXPORT, force=force)
    else:
        from vbhc_code.files.xlsx_write import Column, Sheet, write_workbook

        kinds = {"turn_index": "int", "start": "int", "end": "int"}
        cols = [Column(c, kind=kinds.get(c, "text"), width=40.0 if c == "evidence" else None) for c in EXPORT_COLUMNS]
        write_workbook(Path(out), [Sheet("Codings", cols, rows)], kind=CODINGS_EXPORT, force=force)
    return len(rows)
