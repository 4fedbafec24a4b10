"""``ingest``: read a folder of transcripts into the study store, one transaction per document."""

from __future__ import annotations

import hashlib
import json
import os
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from vbhc_code.errors import DataError, UsageError, describe, opt
from vbhc_code.files.sheets import SpeakerMatcher, label_key, load_documents_sheet, load_participants
from vbhc_code.ingest.discover import discover
from vbhc_code.ingest.filestat import STAT_META, file_stat, stat_key, stat_matches
from vbhc_code.ingest.reading import Reading, Task, count_findings, match_and_segment, read_document
from vbhc_code.ingest.summary import (
    WORDS_META,
    count_words,
    keep_summary,
    refresh_metadata,
    report_from_summary,
    sheet_attributes,
)
from vbhc_code.models import Document, Participant, Turn, frozen_mapping
from vbhc_code.nlp import SUPPORTED_LANGUAGES
from vbhc_code.store.store import SUMMARY_META, Store


@dataclass
class DocumentReport:
    name: str
    status: str  # stored | unchanged | error | refused
    format: str = ""
    encoding: str = ""
    doc_type: str = ""
    speakers: int = 0
    turns: int = 0
    chat_turns: int = 0
    words: int = 0
    warnings: list[str] = field(default_factory=list)
    error: str = ""
    layout: list[str] = field(default_factory=list)  # label conventions found (when read in this run)


@dataclass
class IngestReport:
    documents: list[DocumentReport] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)  # (relative path, reason)
    pruned: list[str] = field(default_factory=list)
    unmatched_speakers: dict[str, list[str]] = field(default_factory=dict)  # document -> labels
    identifier_findings: dict[str, dict[str, int]] = field(default_factory=dict)  # document -> kind -> n
    warnings: list[str] = field(default_factory=list)

    @property
    def failed(self) -> bool:
        return any(d.status in ("error", "refused") for d in self.documents)


def document_type(turns: tuple[Turn, ...]) -> str:
    """focus_group when three or more distinct non-interviewer speakers take part, else interview."""
    speakers = {t.participant_id or t.speaker for t in turns if t.role == "participant" and t.speaker}
    return "focus_group" if len(speakers) >= 3 else "interview"


def check_options(folder: Path, *, language: str, speaker_pattern: str | None, encoding: str | None) -> None:
    """Usage errors of ``ingest`` (and its dry run), before anything is read."""
    if not folder.is_dir():
        raise UsageError(f"{folder}: not a folder")
    if language not in SUPPORTED_LANGUAGES:
        raise UsageError(f"{opt('language')} must be one of {', '.join(SUPPORTED_LANGUAGES)}, not '{language}'")
    if speaker_pattern is not None:
        try:
            re.compile(speaker_pattern)
        except re.error as exc:
            raise UsageError(f"{opt('speaker_pattern')} is not a valid regular expression: {exc}") from None
    if encoding is not None:
        import codecs

        try:
            codecs.lookup(encoding)
        except LookupError:
            raise UsageError(f"{opt('encoding')}: unknown encoding '{encoding}'") from None


@dataclass
class _Run:
    """What one ingest run reads every file with, and where it reports."""

    store: Store
    report: IngestReport
    matcher: SpeakerMatcher
    rules: Any  # transcripts.SpeakerRules
    reading: str  # the key of the reading rules, stored per document
    doc_sheet: dict[str, dict[str, str]]
    language: str
    encoding: str | None
    force: bool
    has_participants: bool
    stats: dict[str, str] = field(default_factory=dict)  # document -> recorded stat (filestat.STAT_META)
    readings: dict[str, str] = field(default_factory=dict)  # document -> _READING_META value, read at the start
    word_counts: dict[str, str] = field(default_factory=dict)  # document -> _WORDS_META value, read at the start
    # Read in one query each at the start (re-ingest of an unchanged study must cost little more than start-up):
    states: dict[str, tuple[str, str]] = field(default_factory=dict)  # document -> (sha256, language) stored
    seen: dict[str, os.stat_result | None] = field(default_factory=dict)  # document -> stat taken by _may_skip
    kept: Any = None  # (headers, outlines) of the stored documents, read when the first unchanged file needs them
    summaries: dict[str, str] = field(default_factory=dict)  # document -> summary (ingest.summary), read at the start
    matched: dict[str | None, str | None] = field(default_factory=dict)  # speaker label -> participant id


def ingest_folder(
    folder: Path,
    *,
    store: Store,
    participants_file: Path | None = None,
    documents_file: Path | None = None,
    language: str = "en",
    encoding: str | None = None,
    speaker_pattern: str | None = None,
    force: bool = False,
    prune: bool = False,
    on_progress: Callable[[str, int, int], None] | None = None,
    on_words: Callable[[int], None] | None = None,
    jobs: int | None = None,
) -> IngestReport:
    """Read every transcript below ``folder`` into ``store`` and report per document.

    Files already stored with the same sha256 are skipped; changed files are re-read, but a changed
    file that has codings is refused unless ``force`` (its offsets would move and the codings with them).
    ``jobs`` processes read the files (default: one per core for a large folder; 1 reads in this process);
    the store and the report are the same whatever their number.
    """
    from vbhc_code.ingest.transcripts import SpeakerRules

    check_options(folder, language=language, speaker_pattern=speaker_pattern, encoding=encoding)
    if jobs is not None and jobs < 1:
        raise UsageError(f"{opt('jobs')} must be 1 or more, not {jobs}")
    participants: list[Participant] | None = None
    if participants_file is not None:
        participants = load_participants(participants_file)
    doc_sheet = load_documents_sheet(documents_file) if documents_file is not None else {}
    exclude = {p.resolve() for p in (participants_file, documents_file) if p is not None}
    files, skipped = discover(folder, exclude=exclude)
    report = IngestReport(skipped=skipped)
    if not files:
        raise DataError(f"{folder}: no transcripts found (.txt, .docx, .vtt, .srt, .md)")

    if participants is not None:
        store.save_participants(participants)
    else:
        participants = list(store.participants().values())
    matcher = SpeakerMatcher(participants)
    rules = SpeakerRules(known_labels=list(matcher.iter_labels()), pattern=speaker_pattern,
                         interviewer_labels=matcher.interviewer_labels)
    rules_key = json.dumps([sorted({label_key(x) for x in matcher.iter_labels()}), speaker_pattern, encoding,
                            sorted({label_key(x) for x in matcher.interviewer_labels}), _READER])
    run = _Run(store=store, report=report, matcher=matcher, rules=rules, reading=_reading_key(rules_key),
               doc_sheet=doc_sheet, language=language, encoding=encoding, force=force,
               has_participants=bool(participants),
               stats=store.meta_with_prefix(STAT_META), readings=store.meta_with_prefix(_READING_META),
               word_counts=store.meta_with_prefix(_WORDS_META), states=store.document_states(),
               summaries=store.meta_with_prefix(SUMMARY_META))

    names = {p.relative_to(folder).as_posix(): p for p in files}
    for name in sorted(set(doc_sheet) - names.keys()):
        report.warnings.append(f"{documents_file.name if documents_file else 'documents sheet'}: "
                               f"document '{name}' is not in the folder")
    words = 0
    with _read_ahead(run, names, jobs=jobs) as ahead:
        for i, (name, path) in enumerate(names.items(), 1):
            if on_progress:
                on_progress(name, i, len(names))
            _ingest_file(run, name, path, ahead.take(name) if ahead else None)
            if on_words and report.documents[-1].status == "stored":
                words += report.documents[-1].words
                on_words(words)  # words read so far (for a words/s rate)
    if ahead and ahead.broken:
        report.warnings.append("the worker processes stopped; the files left were read in one process")
    if prune:
        _prune(store, set(names), force=force, report=report)
    return report


def _read_ahead(run: _Run, names: dict[str, Path], *, jobs: int | None) -> Any:
    """Worker processes reading the files that the stat shortcut will not skip, or a null context."""
    from contextlib import nullcontext

    if jobs == 1:
        return nullcontext()
    to_read = [(name, path) for name, path in names.items() if not _may_skip(run, name, path)]
    if len(to_read) < 2:
        return nullcontext()  # (and no multiprocessing to import: re-ingest of an unchanged study stays cheap)
    from vbhc_code.ingest.workers import ReadAhead, worker_count

    workers = worker_count(jobs, len(to_read))
    if workers < 2:
        return nullcontext()
    tasks = [_task(run, name, path) for name, path in to_read]
    try:
        return ReadAhead(tasks, workers=workers, rules=run.rules, matcher=run.matcher, encoding=run.encoding)
    except Exception as exc:  # noqa: BLE001  # no processes here (a sandbox, no /dev/shm): read them here
        run.report.warnings.append(f"worker processes could not start ({type(exc).__name__}); "
                                   "the files were read in one process")
        return nullcontext()


def _may_skip(run: _Run, name: str, path: Path) -> bool:
    """True when the stat shortcut will take the file as unchanged (then it is not read ahead): its stat is
    the one kept, and it was read by the same rules (else it is read again, see ``_keep_unchanged``)."""
    if run.force or name not in run.stats:
        return False
    stored = run.states.get(name)
    run.seen[name] = st = file_stat(path)
    if stored is None or not stat_matches(run.stats[name], stored[0], st):
        return False
    meta = run.doc_sheet.get(name, {})
    return _same_reading(run, name, meta, _language(run, name, meta, warn=False), stored[1])


def _same_reading(run: _Run, name: str, meta: dict[str, str], lang: str, stored_lang: str) -> bool:
    """Would the stored document be read the same way now? Not when the reading rules changed (participants
    sheet, --speaker-pattern, --encoding) or the documents sheet sets a new language (new sentences); without
    that sheet an unchanged file keeps its own language."""
    if bool(meta.get("language")) and lang != stored_lang:
        return False
    return run.readings.get(name) in (None, run.reading)


def _task(run: _Run, name: str, path: Path) -> Task:
    """How to read ``name``: with its language, and not parsed when the store decides without its turns."""
    meta = run.doc_sheet.get(name, {})
    lang = _language(run, name, meta, warn=False)
    stored = run.states.get(name)
    if stored is None:
        return Task(name, path, lang)
    new_language = bool(meta.get("language")) and lang != stored[1]
    keep = stored[0] if _same_reading(run, name, meta, lang, stored[1]) else None
    coded = stored[0] if not run.force and run.store.has_codings(name) else None
    # The same content keeps its stored language unless the documents sheet gives a new one (as _ingest_file).
    return Task(name, path, lang, keep_sha=keep, refuse_unless_sha=coded,
                stored=None if new_language else (stored[0], stored[1]))


def _ingest_file(run: _Run, name: str, path: Path, reading: Reading | None = None) -> None:
    """Read one file into the store (or leave it as it is) and add its line to the report.

    ``reading`` is the file as a worker read it; without it the file is read here.
    """
    store, report = run.store, run.report
    doc_report = DocumentReport(name=name, status="stored", format=path.suffix.lower().lstrip("."))
    report.documents.append(doc_report)
    warned = len(report.warnings)
    meta = run.doc_sheet.get(name, {})
    if reading is None:
        # taken before reading: a file changed while read differs next time
        st = run.seen.pop(name) if name in run.seen else file_stat(path)
        if name in run.stats and not run.force:  # the stat shortcut: one stat, no read, no hashing (filestat)
            stored = run.states.get(name)
            if stored is not None and stat_matches(run.stats[name], stored[0], st):
                if _keep_unchanged(run, name, stored, meta, _language(run, name, meta, warn=False), doc_report):
                    _language(run, name, meta)  # its warning, as when read
                    return
        reading = read_document(_task(run, name, path), rules=run.rules, matcher=run.matcher,
                                encoding=run.encoding, st=st)
    if reading.read_error is not None:
        doc_report.status, doc_report.error = "error", reading.read_error
        return
    sha = reading.sha or ""
    stored = store.document_state(name)
    old_sha = stored[0] if stored else None
    doc_lang = _language(run, name, meta)
    if stored is not None and old_sha == sha:
        if _keep_unchanged(run, name, stored, meta, doc_lang, doc_report):
            _remember_stat(run, name, sha, reading.st)
            return
        if not (bool(meta.get("language")) and doc_lang != stored[1]):
            doc_lang = stored[1]  # without a new language from the documents sheet a file keeps its own
    if old_sha is not None and old_sha != sha and store.has_codings(name) and not run.force:
        doc_report.status = "refused"
        doc_report.error = (
            f"{name}: changed since it was ingested and has codings; re-reading it would move its "
            f"offsets (use {opt('force', True)} to re-read it and drop its codings)"
        )
        return
    if reading.parse_error is None and (reading.parsed is None or reading.lang != doc_lang):
        # The store changed since the reading was planned, or the file keeps its stored language: read it so.
        again = read_document(Task(name, path, doc_lang), rules=run.rules, matcher=run.matcher,
                              encoding=run.encoding, parse=True)
        if again.sha != sha:  # changed meanwhile: decide again on what is there now
            report.documents.pop()
            del report.warnings[warned:]
            _ingest_file(run, name, path, again)
            return
        reading = again
    _store_reading(run, name, meta, reading, doc_report, doc_lang, old_sha)


def _store_reading(
    run: _Run, name: str, meta: dict[str, str], reading: Reading, doc_report: DocumentReport, doc_lang: str,
    old_sha: str | None,
) -> None:
    """Store a file's turns (a new or changed document), or its sentences when only the reading rules changed."""
    store, sha = run.store, reading.sha or ""
    if reading.parse_error is not None or reading.parsed is None or reading.turns is None:
        doc_report.status, doc_report.error = "error", reading.parse_error or f"{name}: not read"
        return
    parsed, turns = reading.parsed, reading.turns
    doc_type = meta.get("type") or document_type(turns)
    attributes = sheet_attributes(meta)
    doc_report.format = parsed.format or doc_report.format  # a .txt holding WebVTT is vtt
    doc_report.layout = list(parsed.layout)
    doc = Document(
        name=name, format=doc_report.format, encoding=parsed.encoding, sha256=sha,
        plain_text=parsed.plain_text, turns=turns, doc_type=doc_type, language=doc_lang,
        attributes=frozen_mapping(attributes), warnings=parsed.warnings,
    )
    if old_sha == sha and store.has_codings(name) and (not run.force or _same_turns(store, name, turns)):
        _reread_coded(run, doc, meta, doc_report)
        return
    doc_report.warnings.extend(parsed.warnings)
    _fill_summary(doc_report, doc)
    with store.transaction():  # the document, how it was read and its word count, together
        if not _still_as_read(run, name, sha, old_sha, doc_report):
            return
        store.save_document(doc, replace=store.document_sha(name) is not None)
        store.set_meta(_READING_META + name, run.reading)
        store.set_meta(_WORDS_META + name, f"{sha} {doc_report.words}")
        keep_summary(store, name, doc_report, sha=sha, attributes=attributes,
                     speakers={(t.speaker, t.role, t.participant_id) for t in turns})
        _remember_stat(run, name, sha, reading.st)
    _report_speakers_and_identifiers(run, doc, reading.findings)


def _language(run: _Run, name: str, meta: dict[str, str], *, warn: bool = True) -> str:
    """The document's language from the documents sheet (warned about and replaced when not supported)."""
    doc_lang = meta.get("language") or run.language
    if doc_lang not in SUPPORTED_LANGUAGES:
        doc_lang = run.language
        if warn:
            run.report.warnings.append(f"{name}: language ({describe(meta.get('language'))}) not supported; "
                                       f"using {run.language}")
    return doc_lang


def _keep_unchanged(
    run: _Run, name: str, stored: tuple[str, str], meta: dict[str, str], doc_lang: str, doc_report: DocumentReport
) -> bool:
    """An unchanged file read by the same rules: its report line from the store (True), else False."""
    if not _same_reading(run, name, meta, doc_lang, stored[1]):
        return False
    doc_report.status = "unchanged"
    unmatched = report_from_summary(run.summaries.get(name), sha=stored[0], meta=meta, matcher=run.matcher,
                                    rep=doc_report, matched=run.matched)
    if unmatched is None:  # no summary of this content, or the sheets change the document: read the store
        if run.kept is None:
            run.kept = (run.store.document_headers(), run.store.turn_outlines())
        headers, outlines = run.kept
        header = headers.get(name)  # read at the first such file: used only while it is the content stored
        kept = (header, outlines.get(name, [])) if header is not None and header.sha256 == stored[0] else None
        unmatched = refresh_metadata(run.store, name, meta, run.matcher, doc_report,
                                     kept_words=run.word_counts.get(name, ""), kept=kept)
    _note_unmatched(run, name, unmatched)
    return True


def _note_unmatched(run: _Run, name: str, unmatched: list[str]) -> None:
    """Labels of an unchanged document that match no participant (reported when there are participants)."""
    if unmatched and run.matcher.labels:
        run.report.unmatched_speakers[name] = unmatched


def _remember_stat(run: _Run, name: str, sha: str, st: os.stat_result | None) -> None:
    """Record the file's stat with its sha256 (a write only when it changed)."""
    key = stat_key(sha, st)
    if key is None:
        if run.stats.pop(name, None) is not None:
            run.store.delete_meta(STAT_META + name)
    elif run.stats.get(name) != key:
        run.store.set_meta(STAT_META + name, key)
        run.stats[name] = key


def _still_as_read(run: _Run, name: str, sha: str, old_sha: str | None, doc_report: DocumentReport) -> bool:
    """Under the store's write lock: is the document still as this run found it? Another ingest of the same
    folder may have stored it meanwhile (then it is unchanged here), or stored other content (then the run's
    rules for a changed file apply again: refused when it has codings)."""
    now = run.store.document_sha(name)
    if now == old_sha:
        return True
    if now == sha:
        doc_report.status = "unchanged"  # stored by a concurrent ingest
        return False
    if run.store.has_codings(name) and not run.force:
        doc_report.status = "refused"
        doc_report.error = f"{name}: changed in the store by another command while it was read; run ingest again"
        return False
    return True


def _reread_coded(run: _Run, doc: Document, meta: dict[str, str], doc_report: DocumentReport) -> None:
    """Same file, new reading rules (participants sheet, --speaker-pattern, --encoding, language):
    codings stay when the turns stay."""
    store, name = run.store, doc.name
    if not _same_turns(store, name, doc.turns):
        run.report.warnings.append(
            f"{name}: the new participants sheet/options would change its turns, but it has codings; "
            f"kept as it was (use {opt('force', True)} to re-read it and drop its codings)"
        )
    else:
        with store.transaction():
            store.replace_sentences(name, doc.turns, doc.language)
            store.set_meta(_READING_META + name, run.reading)
    doc_report.status = "unchanged"
    _note_unmatched(run, name, refresh_metadata(store, name, meta, run.matcher, doc_report))


def _report_speakers_and_identifiers(run: _Run, doc: Document, found: dict[str, int] | None = None) -> None:
    turns = doc.turns
    unmatched = sorted({t.speaker for t in turns if t.speaker and t.role == "participant" and not t.participant_id})
    if unmatched and run.has_participants:
        run.report.unmatched_speakers[doc.name] = unmatched
    if found is None:
        found = count_findings(doc.name, doc.plain_text, turns, fmt=doc.format)
    if found:
        run.report.identifier_findings[doc.name] = found


def _prune(store: Store, present: set[str], *, force: bool, report: IngestReport) -> None:
    """Remove documents whose files are gone from the folder (not those with codings, unless forced)."""
    for name in store.document_names():
        if name not in present:
            if store.has_codings(name) and not force:
                report.warnings.append(f"{name}: gone from the folder but has codings; kept "
                                       f"(use {opt('force', True)} with {opt('prune', True)})")
                continue
            with store.transaction():
                store.delete_document(name)
                store.delete_meta(_READING_META + name)
                store.delete_meta(_WORDS_META + name)
                store.delete_meta(STAT_META + name)
            report.pruned.append(name)


def document_from_text(
    name: str,
    plain_text: str,
    *,
    fmt: str = "txt",
    encoding: str = "utf-8",
    sha256: str | None = None,
    language: str = "en",
    participants: Iterable[Participant] = (),
    attributes: Mapping[str, object] | None = None,
    doc_type: str | None = None,
    speaker_pattern: str | None = None,
) -> Document:
    """A document from already-decoded text, with turns by the same rules as ``ingest`` (used by REFI import).

    Newlines are normalised (``\\r\\n``/``\\r`` -> ``\\n``) so offsets follow the ingest contract; speakers are
    matched to ``participants`` and sentences filled.
    """
    from vbhc_code.ingest.transcripts import parse_plain_text, sniff_format
    from vbhc_code.ingest.transcripts.decode import check_line_lengths
    from vbhc_code.ingest.transcripts.labels import SpeakerRules

    if language not in SUPPORTED_LANGUAGES:
        raise UsageError(f"unsupported language '{language}' (supported: {', '.join(SUPPORTED_LANGUAGES)})")
    if "\r" in plain_text:
        plain_text = plain_text.replace("\r\n", "\n").replace("\r", "\n")
    check_line_lengths(plain_text, name=name)
    participants = list(participants)
    matcher = SpeakerMatcher(participants)
    rules = SpeakerRules(known_labels=list(matcher.iter_labels()), pattern=speaker_pattern,
                         interviewer_labels=matcher.interviewer_labels)
    parsed = parse_plain_text(plain_text, fmt=sniff_format(plain_text, fmt), rules=rules, display_name=name)
    turns = match_and_segment(parsed.turns, name=name, matcher=matcher, lang=language, plain_text=plain_text)
    sha = sha256 or hashlib.sha256(plain_text.encode("utf-8")).hexdigest()
    return Document(
        name=name,
        format=parsed.format if fmt == "txt" else fmt,
        encoding=encoding,
        sha256=sha,
        plain_text=plain_text,
        turns=turns,
        doc_type=doc_type or document_type(turns),
        language=language,
        attributes=frozen_mapping(dict(attributes or {})),
        warnings=parsed.warnings,
    )


# meta key (+ document name) of how a document was read: an unchanged file is re-read when that changes, so a
# participants sheet given after the first ingest still finds its alias labels.
_READING_META = "reading:"
_WORDS_META = WORDS_META  # "sha256 words": its word count in turns, so that re-ingest reads no turn text


# Bumped when the transcript readers change how turns are found, so unchanged files are read again.
_READER = "label-conventions-1"

# Bumped when sentence segmentation changes, so an unchanged file gets its sentences again (codings kept).
_SEGMENTATION = "sentences-over-joined-text"


def _reading_key(rules_key: str) -> str:
    return hashlib.sha256(f"{rules_key}\0{_SEGMENTATION}".encode()).hexdigest()


def _same_turns(store: Store, name: str, turns: tuple[Turn, ...]) -> bool:
    """True when ``turns`` have the stored boundaries, speakers and roles (codings stay valid)."""

    def layout(t: Turn) -> tuple[object, ...]:
        return (t.turn_index, t.start, t.end, tuple(tuple(x) for x in t.spans), t.speaker, t.role, t.turn_type)

    return [layout(t) for t in store.turns(document=name, sentences=False)] == [layout(t) for t in turns]


def _fill_summary(rep: DocumentReport, doc: Document) -> None:
    rep.format = doc.format
    rep.encoding = doc.encoding
    rep.doc_type = doc.doc_type
    rep.speakers = len({t.speaker for t in doc.turns if t.speaker})
    rep.turns = len(doc.turns)
    rep.chat_turns = sum(1 for t in doc.turns if t.turn_type == "chat")
    rep.words = sum(count_words(t.text) for t in doc.turns)
    if not rep.warnings:
        rep.warnings = list(doc.warnings)
