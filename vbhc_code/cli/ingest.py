"""CLI commands: ingest, segments, check-identifiers."""

from __future__ import annotations

import io
import json
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.table import Table

from vbhc_code.cli.app import (
    NoBomOption,
    RawOption,
    StoreOption,
    command,
    console,
    csv_options,
    print_warnings,
    progress,
    resolve_store_path,
    say,
)
from vbhc_code.errors import DataError, UsageError, one_line

if TYPE_CHECKING:
    from vbhc_code.ingest.folder import IngestReport


@command("ingest")
def ingest_cmd(
    folder: Annotated[Path, typer.Argument(help="Folder of transcripts (.txt .docx .vtt .srt .md), read recursively.")],
    participants: Annotated[
        Path | None,
        typer.Option("--participants", help="Participants sheet (.csv/.xlsx): participant_id, aliases, attributes."),
    ] = None,
    documents: Annotated[
        Path | None,
        typer.Option("--documents", help="Documents sheet (.csv/.xlsx): document, type, language, attributes."),
    ] = None,
    language: Annotated[str, typer.Option("--language", help="Default document language: en or nl.")] = "en",
    encoding: Annotated[
        str | None,
        typer.Option("--encoding", help="Decode text files with this encoding instead of UTF-8/cp1252 detection."),
    ] = None,
    speaker_pattern: Annotated[
        str | None,
        typer.Option(
            "--speaker-pattern",
            help="Regex: a plain-line label matching it in full is a speaker too (adds to the default rules).",
        ),
    ] = None,
    force: Annotated[
        bool,
        typer.Option(
            "--force",
            help="Re-read changed files even when they have codings (drops those codings); read and hash every file.",
        ),
    ] = False,
    prune: Annotated[
        bool, typer.Option("--prune", help="Remove documents whose files are gone from the folder.")
    ] = False,
    dry_run: Annotated[
        bool,
        typer.Option(
            "--dry-run", help="Show how each file would be read (layout, speakers, first turns); write nothing."
        ),
    ] = False,
    verbose: Annotated[
        bool, typer.Option("--verbose", help="Every document in the report, also for large folders.")
    ] = False,
    jobs: Annotated[
        int | None,
        typer.Option("--jobs", min=1, help="Processes reading files (default: one per core for 24 files or more; "
                                          "1 reads in one process). The store is the same either way."),
    ] = None,
    store: StoreOption = None,
) -> None:
    """Read a folder of transcripts into the study store (idempotent: unchanged files are skipped).

    Exit 0 (with warnings), 1 if any file could not be read (the others are still stored).
    """
    if dry_run:
        _dry_run(folder, participants=participants, documents=documents, language=language, encoding=encoding,
                 speaker_pattern=speaker_pattern)
        return
    store_path = resolve_store_path(store)
    started = time.perf_counter()
    report = _run_ingest(
        store_path, folder, participants=participants, documents=documents, language=language,
        encoding=encoding, speaker_pattern=speaker_pattern, force=force, prune=prune, jobs=jobs,
    )
    _print_ingest_report(report, store_path, verbose=verbose, seconds=time.perf_counter() - started)
    if report.failed:
        raise typer.Exit(1)


def _dry_run(folder: Path, **options: Any) -> None:
    """Print per document how it would be read; no store is opened. Exit 1 when a file cannot be read."""
    from vbhc_code.ingest.preview import preview_folder

    with progress("read", unit="files") as advance:

        def on_progress(name: str, i: int, n: int) -> None:
            advance(i - 1, n)

        previews, skipped = preview_folder(
            folder, participants_file=options["participants"], documents_file=options["documents"],
            language=options["language"], encoding=options["encoding"], speaker_pattern=options["speaker_pattern"],
            on_progress=on_progress,
        )
    out = console.print
    for d in previews:
        if d.error:
            continue
        out(f"{d.name}  [{d.format}; {', '.join(d.layout) or 'no turns'}]  {d.turns} turn(s)", markup=False,
            highlight=False, soft_wrap=True)
        who = [f"{k}: {', '.join(v)}" for k, v in (("known", d.known), ("interviewer", d.interviewers),
                                                  ("unknown", d.unknown)) if v]
        out(f"  speakers  {'; '.join(who) or 'none'}", markup=False, highlight=False, soft_wrap=True)
        for t in d.first:
            speaker = t.speaker or "(no speaker)"
            tag = f" [{t.participant_id}]" if t.participant_id and t.participant_id != t.speaker else ""
            role = " (interviewer)" if t.role == "interviewer" else ""
            out(f"  {t.turn_index:>4}  {speaker}{tag}{role}: {t.text}", markup=False, highlight=False, soft_wrap=True)
    for rel, reason in skipped:
        console.print(f"skipped {rel}: {reason}", markup=False, highlight=False, soft_wrap=True)
    print_warnings([w for d in previews for w in d.warnings])
    say("dry run: nothing was written")
    for d in previews:
        if d.error:
            say(f"error: {d.error}")
    if any(d.error for d in previews):
        raise typer.Exit(1)


def _run_ingest(store_path: Path, folder: Path, **options: Any) -> IngestReport:
    from vbhc_code.ingest.folder import ingest_folder
    from vbhc_code.store.store import open_store

    with open_store(store_path) as st, st.fast_writes():  # a failed first run leaves no store behind
        with progress("ingest", unit="files", rate_unit="words") as advance:
            words = [0]

            def on_progress(name: str, i: int, n: int) -> None:
                advance(i - 1, n, rated=words[0])

            report = ingest_folder(
                folder, store=st, participants_file=options["participants"], documents_file=options["documents"],
                language=options["language"], encoding=options["encoding"], speaker_pattern=options["speaker_pattern"],
                force=options["force"], prune=options["prune"], on_progress=on_progress,
                on_words=lambda n: words.__setitem__(0, n), jobs=options["jobs"],
            )
            advance(len(report.documents))
    return report


def _summary_line(report: IngestReport, store_path: Path, seconds: float) -> str:
    """The one line an ingest ends with: what happened to how many documents, how fast, where."""
    from collections import Counter

    from vbhc_code.cli.messages import rate

    status = Counter(d.status for d in report.documents)
    parts = ", ".join(f"{n:,} {s}" for s, n in sorted(status.items()))
    words = sum(d.words for d in report.documents if d.status == "stored")
    return (f"ingest: {len(report.documents):,} documents ({parts}); {words:,} words read in {seconds:.1f} s "
            f"({rate(words, seconds)}) into {store_path}")


# Above this many documents the report lists only the documents with warnings or errors (unless --verbose).
SUMMARY_ABOVE = 40


def _print_ingest_report(
    report: IngestReport, store_path: Path, *, verbose: bool = False, seconds: float = 0.0
) -> None:
    from vbhc_code.cli.messages import fold_warnings, identifier_warnings

    unknown = report.unmatched_speakers
    rows = report.documents
    summary = len(rows) > SUMMARY_ABOVE and not verbose
    if summary:
        rows = [d for d in rows if d.warnings or d.error or d.name in unknown or d.name in report.identifier_findings]
    table = Table(title=f"Ingested into {store_path}", title_justify="left")
    for col in (
        "document",
        "status",
        "format",
        "encoding",
        "type",
        "speakers",
        "turns",
        "chat turns",
        "words",
        "warnings",
    ):
        table.add_column(
            col, justify="right" if col in ("speakers", "turns", "chat turns", "words", "warnings") else "left"
        )
    for d in rows:
        table.add_row(
            one_line(d.name), d.status, d.format, d.encoding, d.doc_type, str(d.speakers), str(d.turns),
            str(d.chat_turns), str(d.words), str(len(d.warnings)),
        )
    console.print(table)
    if summary:
        _print_summary(report, shown=len(rows))
    for rel, reason in report.skipped:
        console.print(f"skipped {rel}: {reason}", markup=False, highlight=False, soft_wrap=True)
    for name in report.pruned:
        console.print(f"pruned {name}: no longer in the folder", markup=False, highlight=False, soft_wrap=True)
    warnings = [w for d in report.documents for w in d.warnings] + report.warnings
    for name, labels in report.unmatched_speakers.items():
        warnings.append(f"{name}: speakers not in the participants sheet: {', '.join(labels)}")
    warnings += identifier_warnings(report.identifier_findings)
    print_warnings(fold_warnings(warnings, (d.name for d in report.documents)))
    for d in report.documents:
        if d.error:
            say(f"error: {d.error}")
    say(_summary_line(report, store_path, seconds))


def _print_summary(report: IngestReport, *, shown: int) -> None:
    from collections import Counter

    docs = report.documents
    status = Counter(d.status for d in docs)
    formats = Counter(d.format for d in docs if d.format)
    line = (f"{len(docs)} documents: " + ", ".join(f"{n} {s}" for s, n in sorted(status.items()))
            + f"; {sum(d.turns for d in docs):,} turns, {sum(d.words for d in docs):,} words; formats "
            + ", ".join(f"{f} {n}" for f, n in sorted(formats.items())))
    console.print(line, markup=False, highlight=False, soft_wrap=True)
    console.print(f"listed above: the {shown} document(s) with warnings or errors; --verbose lists all",
                  markup=False, highlight=False, soft_wrap=True)


@command("segments")
def segments_cmd(
    out: Annotated[
        Path | None, typer.Option("--out", help="Write to F.csv or F.xlsx (default: CSV to stdout).")
    ] = None,
    force: Annotated[bool, typer.Option(
        "--force", help="Replace --out even when it is not an earlier segments export (e.g. a coder's file).")]
    = False,
    no_bom: NoBomOption = False,
    raw: RawOption = False,
    store: StoreOption = None,
) -> None:
    """Export turns, one row each: document, turn_index, speaker, participant_id, turn_type, start, end, text,
    then role, timestamp, spans and the participant's attributes."""
    from vbhc_code.files.csvfile import write_csv, write_csv_atomic
    from vbhc_code.files.outputs import SEGMENTS, check_replaceable
    from vbhc_code.ingest.segments import iter_segment_rows, segment_columns
    from vbhc_code.store.store import Store

    if out is not None and out.suffix.lower() not in (".csv", ".xlsx"):
        raise UsageError(f"--out must end in .csv or .xlsx, not '{out.suffix}'")
    if out is not None:
        check_replaceable(out, SEGMENTS, force=force)  # before the work
    options = csv_options(no_bom=no_bom, raw=raw)
    with Store.open(resolve_store_path(store), create=False) as st:
        columns = segment_columns(st)
        rows = ([row[c] for c in columns] for row in iter_segment_rows(st))
        if out is None:
            write_csv(sys.stdout, columns, rows, options=options)
            return
        if out.suffix.lower() == ".csv":
            write_csv_atomic(out, columns, rows, options=options, kind=SEGMENTS, force=force)
        else:
            from vbhc_code.files.xlsx_write import Column, Sheet, number_or_text, write_workbook
            from vbhc_code.ingest.segments import SEGMENT_COLUMNS

            cols = [Column(c, wrap=(c == "text"), width=80 if c == "text" else None,
                           kind="int" if c in ("turn_index", "start", "end") else "text") for c in columns]
            first = len(SEGMENT_COLUMNS)  # participant attributes: a number such as an age is a number cell
            cells = ([*r[:first], *(number_or_text(v) if isinstance(v, str) else v for v in r[first:])] for r in rows)
            write_workbook(out, [Sheet("Segments", cols, cells)], kind=SEGMENTS, force=force)
    say(f"wrote {out}")


@command("check-identifiers")
def check_identifiers_cmd(
    allow: Annotated[
        Path | None,
        typer.Option("--allow", help="File of known non-identifiers, one per line (e.g. framework authors)."),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print findings as JSON.")] = False,
    strict: Annotated[bool, typer.Option("--strict", help="Exit 1 when anything is found.")] = False,
    store: StoreOption = None,
) -> None:
    """Flag residual identifiers: e-mail, phone, URL, Dutch postcode, BSN-like numbers, titled names."""
    from vbhc_code.ingest.identifiers import scan_document
    from vbhc_code.store.store import Store

    allowed: list[str] = []
    if allow is not None:
        if not allow.exists():
            raise DataError(f"{allow}: file not found")  # worded like every other missing input file
        try:
            lines = allow.read_text(encoding="utf-8-sig").splitlines()  # Notepad/Excel write a BOM
            allowed = [line.strip() for line in lines if line.strip() and not line.strip().startswith("#")]
        except (OSError, UnicodeDecodeError) as exc:
            why = "not UTF-8 text" if isinstance(exc, UnicodeDecodeError) else type(exc).__name__
            raise DataError(f"{allow.name}: cannot read the allow list ({why})") from None
    with Store.open(resolve_store_path(store), create=False) as st:
        findings = []
        for doc in st.documents(with_turns=True):
            findings.extend(scan_document(doc.name, doc.plain_text, list(doc.turns), fmt=doc.format, allow=allowed))
    if as_json:
        buf = io.StringIO()
        json.dump([f.to_dict() for f in findings], buf, ensure_ascii=False, indent=2)
        typer.echo(buf.getvalue())
    else:
        table = Table(title=f"{len(findings)} possible identifier(s)", title_justify="left")
        for col in ("document", "turn", "start", "end", "kind", "text"):
            table.add_column(col)
        for f in findings:
            turn = "header" if f["turn_index"] is None else str(f["turn_index"])
            table.add_row(f["document"], turn, str(f["start"]), str(f["end"]), f["kind"], f["text"])
        console.print(table)
    if strict and findings:
        raise typer.Exit(1)
