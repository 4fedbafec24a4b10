"""Reading the researcher's sheets (.csv or .xlsx): participants and documents.

Rows are located as ``participants.csv line 5`` (CSV: physical line of the record's start) or
``participants.xlsx row 5`` so every problem can be reported where it is.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Collection, Iterable, Iterator
from contextlib import AbstractContextManager
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from vbhc_code.errors import DataError, ValidationError, describe
from vbhc_code.files.archive import read_capped
from vbhc_code.files.csvfile import restore
from vbhc_code.files.workbook import open_xlsx, sheet_rows
from vbhc_code.models import DOC_TYPES, Participant, frozen_mapping


@dataclass(frozen=True)
class SheetRow:
    where: str  # e.g. "participants.csv line 5"
    values: dict[str, str]
    number: int = 0  # the line (CSV) or row (xlsx) number in the file


def read_rows(
    path: Path, *, sheet: str | None = None, keep_spaces: Collection[str] = ()
) -> tuple[list[str], list[SheetRow]]:
    """Header (lower-cased, stripped) and rows of a .csv or .xlsx file; values are stripped strings, except in
    the columns ``keep_spaces`` (a document name may begin or end with a space; the caller matches it exactly
    first, see ``coding.read.document_name``).

    For a workbook, ``sheet`` names the sheet to read when it has one (else the first sheet is read).
    """
    suffix = path.suffix.lower()
    if not path.is_file():
        raise DataError(f"{path.name}: file not found")
    if suffix == ".csv":
        return _read_csv(path, keep_spaces)
    if suffix in (".xlsx", ".xlsm"):
        return _read_xlsx(path, sheet=sheet, keep_spaces=keep_spaces)
    raise DataError(f"{path.name}: expected a .csv or .xlsx sheet")


def iter_rows(path: Path, *, keep_spaces: Collection[str] = ()) -> tuple[list[str], Iterable[SheetRow]]:
    """``read_rows`` for one pass over a long file: a CSV's rows are made one at a time (a million-row file is
    never held as a million row objects); a workbook's are read as ``read_rows`` reads them."""
    if path.suffix.lower() == ".csv" and path.is_file():
        return _open_csv(path, keep_spaces)
    return read_rows(path, keep_spaces=keep_spaces)


def _read_csv(path: Path, keep_spaces: Collection[str] = ()) -> tuple[list[str], list[SheetRow]]:
    header, rows = _open_csv(path, keep_spaces)
    return header, list(rows)


def _open_csv(path: Path, keep_spaces: Collection[str] = ()) -> tuple[list[str], Iterator[SheetRow]]:
    """Any BOM is dropped; a cell neutralised against formulas (``'=...``) reads as its value (``csvfile.restore``)."""
    data = read_capped(path, name=path.name, what="sheet")
    # utf-16 (Excel's "Unicode text" export), else UTF-8 (a BOM dropped), else cp1252; decoded while the rows are
    # read, so the file is held once, as bytes (a decoded copy of a 20 MB sheet would take 80 MB more)
    encoding, errors = ("utf-16", "strict") if data.startswith((b"\xff\xfe", b"\xfe\xff")) else ("utf-8-sig", "strict")
    try:
        data.decode(encoding)  # checked, not kept
    except UnicodeDecodeError:
        encoding, errors = "cp1252", "replace"
    head = data[:262144].decode(encoding, errors="ignore")
    stream = io.TextIOWrapper(io.BytesIO(data), encoding=encoding, errors=errors, newline="")
    reader = csv.reader(stream, delimiter=_delimiter(head))
    try:
        header = next(reader)
    except StopIteration:
        raise DataError(f"{path.name}: the sheet is empty") from None
    except csv.Error as exc:
        raise DataError(f"{path.name} line 1: {exc}") from None
    header = [restore(h).strip().lower() for h in header]
    return header, _csv_rows(path.name, header, reader, keep_spaces)


def _csv_rows(name: str, header: list[str], reader: Any, keep_spaces: Collection[str]) -> Iterator[SheetRow]:
    line = reader.line_num + 1
    try:
        for record in reader:
            number = line
            line = reader.line_num + 1
            if not any(v.strip() for v in record):
                continue
            values = {h: (_strip(restore(record[i]), h, keep_spaces) if i < len(record) else "")
                      for i, h in enumerate(header) if h}
            yield SheetRow(f"{name} line {number}", values, number)
    except csv.Error as exc:
        raise DataError(f"{name} line {reader.line_num}: {exc}") from None


def _delimiter(text: str) -> str:
    """The header line's delimiter: the most frequent of , ; and tab outside double quotes (default ,).

    Quotes are always ``"`` (RFC 4180, Excel): a guessed quote character would turn a neutralised cell
    (``'=...``, see ``csvfile``) into the start of a quoted field.
    """
    first = re.sub(r'"[^"]*"', "", text[:65536].split("\n", 1)[0])
    counts = {d: first.count(d) for d in ",;\t"}
    best = max(counts, key=lambda d: counts[d])
    return best if counts[best] else ","


def open_workbook(path: Path) -> AbstractContextManager[Any]:
    """An openpyxl workbook (read-only, cached values) of a vetted package: see ``files.workbook``."""
    return open_xlsx(path)


def _strip(value: str, column: str, keep_spaces: Collection[str]) -> str:
    return value if column in keep_spaces and value.strip() else value.strip()


def worksheet_rows(ws: Any, where: str, keep_spaces: Collection[str] = ()) -> tuple[list[str], list[SheetRow]]:
    """Header and non-empty rows of one worksheet, each located as ``{where} row N``; ([], []) when empty."""
    it = sheet_rows(ws, where=where)
    first = next(it, None)
    if first is None:
        return [], []
    header = [str(h).strip().lower() if h is not None else "" for h in first]
    rows = []
    for n, record in enumerate(it, start=2):
        if not any(v is not None for v in record):
            continue
        values = {h: _strip(_cell_text(record[i] if i < len(record) else None, strip=False), h, keep_spaces)
                  for i, h in enumerate(header) if h}
        if any(values.values()):
            rows.append(SheetRow(f"{where} row {n}", values, n))
    return header, rows


def _read_xlsx(
    path: Path, *, sheet: str | None = None, keep_spaces: Collection[str] = ()
) -> tuple[list[str], list[SheetRow]]:
    with open_workbook(path) as wb:
        if sheet is not None and sheet in wb.sheetnames:
            header, rows = worksheet_rows(wb[sheet], f"{path.name} {sheet}", keep_spaces)
        else:
            header, rows = worksheet_rows(wb.worksheets[0], path.name, keep_spaces)
    if not header:
        raise DataError(f"{path.name}: the sheet is empty")
    return header, rows


def _cell_text(value: Any, *, strip: bool = True) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip() if strip else str(value)


def _header_where(path: Path) -> str:
    return f"{path.name} {'line' if path.suffix.lower() == '.csv' else 'row'} 1"


_ID_PARTS = re.compile(r"^([a-z]*?)\s*0*(\d+)$")


@lru_cache(maxsize=8192)  # called for every label-like line of every transcript
def label_key(label: str) -> str:
    """Case- and spacing-insensitive key of a speaker label; 'P01', 'p1' and 'P 1' share a key.

    >>> label_key("P01") == label_key("p1") == label_key("P 1")
    True
    >>> label_key("Anna de Vries")
    'anna de vries'
    """
    text = " ".join(label.strip().strip(":").split()).lower()
    m = _ID_PARTS.match(text)
    if m:
        return f"{m.group(1)}{int(m.group(2))}"
    return text


SPEAKER_ROLES = ("participant", "interviewer")


def load_participants(path: Path) -> list[Participant]:
    """Participants sheet: ``participant_id``, optional ``aliases`` (;-separated), optional ``speaker_role``
    (``participant`` default | ``interviewer``), any attributes. An interviewer row keeps its role as the
    ``speaker_role`` attribute: its labels give turns the interviewer role."""
    header, rows = read_rows(path)
    if "participant_id" not in header:
        raise DataError(
            f"{_header_where(path)}: no 'participant_id' column ({_columns(header)})"
        )
    problems: list[str] = []
    seen: dict[str, str] = {}
    participants: list[Participant] = []
    for row in rows:
        pid = row.values.get("participant_id", "")
        if not pid:
            problems.append(f"[{row.where}] empty participant_id")
            continue
        key = label_key(pid)
        if key in seen:
            problems.append(f"[{row.where}] duplicate participant_id (the same as at {seen[key]})")
            continue
        seen[key] = row.where
        aliases = tuple(a.strip() for a in row.values.get("aliases", "").split(";") if a.strip())
        attributes = {k: v for k, v in row.values.items() if k not in ("participant_id", "aliases")}
        if "speaker_role" in attributes:
            role = attributes["speaker_role"].strip().lower() or "participant"
            if role not in SPEAKER_ROLES:
                problems.append(f"[{row.where}] speaker_role ({describe(attributes['speaker_role'])}) is not one of "
                                f"{', '.join(SPEAKER_ROLES)}")
                continue
            attributes["speaker_role"] = role
        participants.append(Participant(pid, aliases, frozen_mapping(attributes)))
    if problems:
        raise ValidationError(f"{path.name}: {len(problems)} problem(s) in the participants sheet", problems)
    return participants


def load_documents_sheet(path: Path) -> dict[str, dict[str, str]]:
    """Documents sheet: ``document`` (relative path), optional ``type``, ``language`` and any attributes."""
    header, rows = read_rows(path)
    if "document" not in header:
        raise DataError(f"{_header_where(path)}: no 'document' column ({_columns(header)})")
    problems: list[str] = []
    out: dict[str, dict[str, str]] = {}
    for row in rows:
        name = row.values.get("document", "").replace("\\", "/")
        if not name:
            problems.append(f"[{row.where}] empty document")
            continue
        if name in out:
            problems.append(f"[{row.where}] duplicate document '{name}'")
            continue
        doc_type = row.values.get("type", "")
        if doc_type and doc_type not in DOC_TYPES:
            problems.append(f"[{row.where}] type ({describe(doc_type)}) is not one of {', '.join(DOC_TYPES)}")
        out[name] = {k: v for k, v in row.values.items() if k != "document"}
    if problems:
        raise ValidationError(f"{path.name}: {len(problems)} problem(s) in the documents sheet", problems)
    return out


def _columns(header: list[str]) -> str:
    """The header described, never quoted: a header row may hold anything someone typed there."""
    named = sum(1 for h in header if h)
    return f"the header row has {named} named column{'s' if named != 1 else ''}"


def is_interviewer(p: Participant) -> bool:
    return p.attributes.get("speaker_role") == "interviewer"


class SpeakerMatcher:
    """Matches transcript speaker labels to participants (ids and aliases, case-insensitively).

    Interviewers of the sheet (``speaker_role`` interviewer) are known speakers but never participants:
    ``match`` gives them no id, ``interviewer_labels`` lists their labels.
    """

    def __init__(self, participants: list[Participant]) -> None:
        self._by_key: dict[str, set[str]] = {}
        self.interviewer_labels = [label for p in participants if is_interviewer(p)
                                   for label in (p.participant_id, *p.aliases)]
        self._interviewer_keys = {label_key(x) for x in self.interviewer_labels}
        participants = [p for p in participants if not is_interviewer(p)]
        for p in participants:
            for label in (p.participant_id, *p.aliases):
                self._by_key.setdefault(label_key(label), set()).add(p.participant_id)
            # "Participant 4" / "Respondent 4" style labels refer to P04 / R04 when that is unambiguous.
        self.labels = [label for p in participants for label in (p.participant_id, *p.aliases)]

    def match(self, speaker: str | None) -> str | None:
        if not speaker:
            return None
        key = label_key(speaker)
        ids = self._by_key.get(key)
        if not ids:
            m = re.match(r"^(participant|respondent|expert)\s*0*(\d+)$", key)
            if m:
                ids = self._by_key.get(f"{m.group(1)[0]}{int(m.group(2))}")
        if ids and len(ids) == 1:
            return next(iter(ids))
        return None

    def iter_labels(self) -> Iterator[str]:
        yield from self.labels

    def is_interviewer(self, speaker: str | None) -> bool:
        return bool(speaker) and label_key(speaker or "") in self._interviewer_keys
