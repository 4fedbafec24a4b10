"""The hostile and faulty cases of issue 12, one function per case: each prepares its input in a copy of a
small study (the sample study after ``vbhc-code demo``) and returns the command line to run.

A case is ``Case(cls, name, build, exits, ...)``: ``build(d)`` writes into the study folder ``d`` and returns
the CLI arguments; ``exits`` are the acceptable exit codes; ``check(d, out, err)`` may return a problem.
Every generated text carries ``SENTINEL``: the campaign fails a case whose stdout or stderr shows it.
"""

from __future__ import annotations

import os
import re
import sys
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

sys.path[:0] = [str(Path(__file__).resolve().parents[1] / "tests" / f) for f in ("fixtures", "refi")]

import hostile as h  # noqa: E402

S = h.SENTINEL
ST = ["--store", "out/s.sqlite"]


@dataclass(frozen=True)
class Case:
    cls: int
    name: str
    build: Callable[[Path], list[str]]
    exits: tuple[int, ...] = (1,)
    check: Callable[[Path, str, str], str | None] | None = None
    quick: bool = True  # in the pytest subset
    stdout_to: str | None = None
    file_size: int | None = None
    twice: bool = False  # run two copies at once (concurrency)
    options: dict = field(default_factory=dict)


def _folder(d: Path, files: dict[str, bytes]) -> Path:
    f = d / "in"
    f.mkdir(exist_ok=True)
    for name, data in files.items():
        (f / name).write_bytes(data)
    return f


def _unchanged(rel: str) -> Callable[[Path], list[str]]:
    """Remember a file's bytes before the run; the check compares them after."""
    def remember(d: Path) -> None:
        (d / ".before").write_bytes((d / rel).read_bytes())
    return remember  # type: ignore[return-value]


def _same(rel: str) -> Callable[[Path, str, str], str | None]:
    def check(d: Path, out: str, err: str) -> str | None:
        return None if (d / rel).read_bytes() == (d / ".before").read_bytes() else f"{rel} was changed"
    return check


def _guarded(args: list[str], target: str) -> Case:
    def build(d: Path) -> list[str]:
        _unchanged(target)(d)  # type: ignore[func-returns-value]
        return [*args, *ST]
    return Case(1, f"{' '.join(args[:1])} over {target}", build, (1,), _same(target))


CLASS1 = [
    _guarded(["segments", "--out", "codings/coder-anna.csv"], "codings/coder-anna.csv"),
    _guarded(["agreement", "--coders", "anna", "ben", "--out", "codings/reconcile-anna-ben.xlsx"],
             "codings/reconcile-anna-ben.xlsx"),
    _guarded(["codebook", "export", "--out", "codings/README.md"], "codings/README.md"),
    _guarded(["reconcile", "--apply", "codings/reconcile-anna-ben.xlsx", "--log", "codings/coder-ben.csv"],
             "codings/coder-ben.csv"),
]


def _participants(data: bytes, name: str = "participants.xlsx") -> Callable[[Path], list[str]]:
    def build(d: Path) -> list[str]:
        (d / name).write_bytes(data)
        folder = _folder(d, {"a.txt": f"P01: {S} fine.\n".encode()})
        return ["ingest", str(folder), "--participants", name, *ST]
    return build


def _transcript(name: str, make: Callable[[], bytes]) -> Callable[[Path], list[str]]:
    def build(d: Path) -> list[str]:
        return ["ingest", str(_folder(d, {name: make()})), "--store", "new.sqlite"]
    return build


def _sparse_txt(d: Path) -> list[str]:
    (d / "in").mkdir()
    h.sparse_file(d / "in" / "huge.txt", 3 << 29)
    return ["ingest", "in", "--store", "new.sqlite"]


def _dense_text(size: int) -> bytes:
    import random

    rng = random.Random(1)
    words = ["care", "value", "doctor", "wait", "time", "pain", "claim", "work", "form", S]
    lines = (f"{rng.choice(['P01', 'Interviewer'])}: {' '.join(rng.choices(words, k=8))} {rng.randrange(10**6)}.\n"
             for _ in range(size // 40))
    data = "".join(lines).encode()
    return data[: data.rindex(b"\n", 0, size) + 1]


def _workbook_import(data: bytes) -> Callable[[Path], list[str]]:
    def build(d: Path) -> list[str]:
        (d / "coder-x.xlsx").write_bytes(data)
        return ["codings", "import", "coder-x.xlsx", "--coder", "xena", *ST]
    return build


def _reconcile_apply(data: bytes) -> Callable[[Path], list[str]]:
    def build(d: Path) -> list[str]:
        (d / "r.xlsx").write_bytes(data)
        return ["reconcile", "--apply", "r.xlsx", *ST]
    return build


def _qdpx(members: dict[str, bytes]) -> Callable[[Path], list[str]]:
    def build(d: Path) -> list[str]:
        from refi_fixture import write_zip

        write_zip(d / "p.qdpx", members)
        return ["refi", "import", "p.qdpx", "--store", "new.sqlite"]
    return build


def _qdpx_raw(data: bytes) -> Callable[[Path], list[str]]:
    def build(d: Path) -> list[str]:
        (d / "p.qdpx").write_bytes(data)
        return ["refi", "import", "p.qdpx", "--store", "new.sqlite"]
    return build


def _many_entries(n: int) -> bytes:
    return h.rezip(h.xlsx_bytes(h.PARTICIPANTS), {f"xl/pad/{i}.bin": b"x" for i in range(n)}, level=1)


def _encrypted() -> bytes:
    data = bytearray(h.xlsx_bytes(h.PARTICIPANTS))
    central = data.index(b"PK\x01\x02")
    data[central + 8] |= 1  # the general-purpose flag: encrypted
    return bytes(data)


def _qde(extra: str = "") -> bytes:
    from refi_fixture import minimal_qde

    return minimal_qde(extra=extra)


XXE = b'<?xml version="1.0"?><!DOCTYPE p [<!ENTITY x SYSTEM "file:///etc/passwd">]><Project name="&x;"/>'
GB = 1 << 30


def class2(full: bool) -> list[Case]:
    big = 2 * GB if full else 40 << 20
    cases = [
        Case(2, f"participants.xlsx sheet unpacking to {big >> 20} MB", _participants(h.xlsx_sheet_bomb(big)),
             quick=not full),
        Case(2, "participants.xlsx dimension A1:XFD1048576", _participants(h.xlsx_dimension_bomb())),
        Case(2, "participants.xlsx row 2,000,000,000", _participants(h.xlsx_row_number_bomb())),
        Case(2, "participants.xlsx DTD in a part not named .xml", _participants(h.xlsx_with_part("xl/a.bin", h.DTD))),
        Case(2, "participants.xlsx UTF-16 DTD", _participants(h.xlsx_with_part("xl/b.xml", h.DTD.decode().encode(
            "utf-16")))),
        Case(2, "documents.xlsx sheet bomb", lambda d: ["ingest", str(_folder(d, {"a.txt": b"P01: hi.\n"})),
                                                       "--documents", "docs.xlsx", *ST]
             if (d / "docs.xlsx").write_bytes(h.xlsx_sheet_bomb(40 << 20)) else []),
        Case(2, "coder workbook sheet bomb", _workbook_import(h.xlsx_sheet_bomb(40 << 20))),
        Case(2, "coder workbook dimension bomb", _workbook_import(h.xlsx_dimension_bomb())),
        Case(2, "reconcile workbook sheet bomb", _reconcile_apply(h.xlsx_sheet_bomb(40 << 20))),
        Case(2, "reconcile workbook row bomb", _reconcile_apply(h.xlsx_row_number_bomb())),
        Case(2, "long codings .xlsx DTD", _workbook_import(h.xlsx_with_part("customXml/i.dat", h.DTD))),
        Case(2, "docx 250 MB document.xml at ~97:1" if full else "docx 8 MB document.xml",
             _transcript("big.docx", lambda: h.docx_document_bomb(250 << 20 if full else 8 << 20)), quick=not full),
        Case(2, "docx just inside the limits (6 MiB document.xml)", _transcript(
            "inside.docx", lambda: h.docx_document_bomb((6 << 20) - 4096, varied=True)), (0,), quick=False),
        Case(2, "docx DTD in word/media", _transcript("d.docx", lambda: h.docx_with_part("word/media/i.png", h.DTD))),
        Case(2, "docx DTD in customXml without a suffix", _transcript(
            "e.docx", lambda: h.docx_with_part("customXml/item1", h.DTD))),
        Case(2, "1.5 GB text file (sparse)", _sparse_txt),
        Case(2, "text just inside the limit (4 MiB)", _transcript("inside.txt", lambda: _dense_text(4 << 20)), (0,),
             quick=False),
        Case(2, "qdpx zip bomb", _qdpx({"project.qde": _qde(), "sources/S.txt": b"\0" * (64 << 20)})),
        Case(2, "qdpx XXE", _qdpx({"project.qde": XXE})),
        Case(2, "qdpx zip slip", _qdpx({"project.qde": _qde(), "sources/../../x.txt": S.encode()})),
        Case(2, "participants.xlsx that is a renamed text file", _participants(f"participant_id\nP01 {S}\n".encode())),
        Case(2, "participants.xlsx cut in half", _participants(h.xlsx_bytes(h.PARTICIPANTS)[:2500])),
        Case(2, "participants.xlsx of 6,000 entries", _participants(_many_entries(6000))),
        Case(2, "coder workbook with an encrypted entry", _workbook_import(_encrypted())),
        Case(2, "qdpx that is not a zip", _qdpx_raw(f"<Project>{S}</Project>".encode())),
        Case(2, "qdpx source text over 4 MiB", _qdpx({"project.qde": _qde(), "sources/S.txt": _dense_text(5 << 20)})),
    ]
    return cases


def _dup_project(**kw) -> Callable[[Path], list[str]]:
    def build(d: Path) -> list[str]:
        from test_guids import _project
        from test_guids import _qdpx as make

        make(d, _project(**kw))
        return ["refi", "import", "dup.qdpx", "--store", "new.sqlite"]
    return build


def class3() -> list[Case]:
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "refi"))
    from test_guids import C1, S1, U1

    sample = Path(__file__).resolve().parents[2] / "shared" / "refi" / "samples" / "sky-loom_TestProject.qdpx"
    cases = [Case(3, "refi import: two TextSources share a GUID", _dup_project(sources=(S1, S1))),
             Case(3, "refi import: two Codes share a GUID", _dup_project(codes=(C1, C1))),
             Case(3, "refi import: two Users share a GUID", _dup_project(users=(U1, U1))),
             Case(3, "refi import: one User repeated identically", _dup_project(users=(U1, U1),
                                                                                 user_names=("eve", "eve")), (0,))]
    if sample.is_file():
        cases.append(Case(3, "refi import: the ATLAS.ti sample (duplicate selection GUIDs)",
                          lambda d: ["refi", "import", str(sample), "--store", "new.sqlite"], (0,)))
    return cases


def class4() -> list[Case]:
    def loop(d: Path) -> list[str]:
        f = _folder(d, {"a.txt": f"P01: {S} fine.\n".encode()})
        (f / "loop").symlink_to(f / "loop")
        os.mkfifo(f / "pipe.txt")
        (f / "fifo.txt").symlink_to(f / "pipe.txt")
        return ["ingest", str(f), "--store", "new.sqlite"]

    def not_db(d: Path) -> list[str]:
        (d / "junk.sqlite").write_bytes(f"{S} not a database".encode() * 200)
        return ["segments", "--store", "junk.sqlite"]

    def store_is_folder(d: Path) -> list[str]:
        (d / "dir.sqlite").mkdir()
        return ["ingest", str(_folder(d, {"a.txt": b"P01: hi.\n"})), "--store", "dir.sqlite"]

    return [
        Case(4, "segments > /dev/full", lambda d: ["segments", *ST], (74, 1), stdout_to="/dev/full"),
        Case(4, "symlink loop and a FIFO in the folder", loop, (0, 1)),
        Case(4, "store that is not a database", not_db, (1,)),
        Case(4, "store path is a folder", store_is_folder, (1,)),
        Case(4, "store cut in half", _half_store, (1,)),
        Case(4, "themes --out with a 16 KB file size limit (a full disk)",
             lambda d: ["themes", "--coder", "anna", "--out", "t.xlsx", *ST], (1, 74), _no_temp, file_size=16 << 10),
    ]


def _no_temp(d: Path, out: str, err: str) -> str | None:
    left = [p.name for p in d.iterdir() if p.name.endswith(".tmp") or p.name == "t.xlsx"]
    return f"left behind: {', '.join(left)}" if left else None


def _half_store(d: Path) -> list[str]:
    data = (d / "out" / "s.sqlite").read_bytes()
    (d / "half.sqlite").write_bytes(data[: len(data) // 2])
    return ["segments", "--out", "x.csv", "--store", "half.sqlite"]


def class5() -> list[Case]:
    return [
        Case(5, "a turn of 20,000 emoji", _transcript("emoji.txt", lambda: ("P01: " + "😀" * 20_000 + "\n").encode()),
             (0,)),
        Case(5, "a turn of 40,000 '!'", _transcript("bang.txt", lambda: ("P01: " + "!" * 40_000 + "\n").encode()), (0,)),
        Case(5, "autocode over a turn of 40,000 '.' and one of 20,000 emoji", _autocode, (0,), quick=False),
    ]


def _autocode(d: Path) -> list[str]:
    _folder(d, {"dots.txt": ("P01: " + "." * 40_000 + "\n").encode(), "e.txt": ("P01: " + "😀" * 20_000).encode()})
    return ["autocode", "--store", "new.sqlite"] if _run_ingest(d) else []


def _run_ingest(d: Path) -> bool:
    import subprocess

    return subprocess.run([sys.executable, "-m", "vbhc_code", "ingest", "in", "--store", "new.sqlite"], cwd=d,
                          capture_output=True).returncode == 0


def _csv_formula_free(rel: str) -> Callable[[Path, str, str], str | None]:
    def check(d: Path, out: str, err: str) -> str | None:
        import csv

        text = (d / rel).read_text(encoding="utf-8-sig")
        bad = [c for row in csv.reader(text.splitlines()) for c in row if c[:1] in ("=", "+", "-", "@", "\t", "\r")]
        return f"{len(bad)} live formula cell(s) in {rel}" if bad else None
    return check


def _xlsx_formula_free(rel: str) -> Callable[[Path, str, str], str | None]:
    def check(d: Path, out: str, err: str) -> str | None:
        with zipfile.ZipFile(d / rel) as zf:
            for name in zf.namelist():
                data = zf.read(name)
                if name.startswith("xl/worksheets/") and b"<f>" in data or b"<f " in data and b"sheet" in name.encode():
                    return f"a formula cell in {rel} {name}"
                refs = re.findall(rb"<c:f>(.*?)</c:f>", data, flags=re.S) if name.startswith("xl/charts/") else []
                if any(b"cmd" in r or S.encode() in r for r in refs):
                    return f"a chart reference made from text in {rel} {name}"
        return None
    return check


FORMULA = "=cmd|' /C calc'!A0"


def _injected(d: Path) -> None:
    (d / "transcripts_x").mkdir()
    (d / "transcripts_x" / "a.txt").write_text(f"P01: =HYPERLINK(\"http://x\",\"{S}\") and more.\n"
                                               f"P02: +SUM(1,2) {S}.\n", encoding="utf-8")
    (d / "p.csv").write_text(f"participant_id,role\nP01,\"{FORMULA}\"\nP02,@x\n", encoding="utf-8")


def class7() -> list[Case]:
    def segments(d: Path) -> list[str]:
        _injected(d)
        _run(d, ["ingest", "transcripts_x", "--participants", "p.csv", "--store", "x.sqlite"])
        return ["segments", "--out", "seg.csv", "--store", "x.sqlite"]

    def themes(d: Path) -> list[str]:
        return ["themes", "--coder", "anna", "--by", "role", "--out", "t.xlsx", *ST] if _roles(d) else []

    return [Case(7, "segments CSV of formula-like turns", segments, (0,), _csv_formula_free("seg.csv")),
            Case(7, "themes --by role with a formula role", themes, (0,), _xlsx_formula_free("t.xlsx"), quick=False)]


def _roles(d: Path) -> bool:
    path = d / "transcripts_demo" / "participants.csv"
    text = path.read_text(encoding="utf-8-sig").splitlines()
    head = text[0].split(",")
    if "role" not in head:
        return False
    i = head.index("role")
    rows = [r.split(",") for r in text[1:]]
    for r in rows[:1]:
        r[i] = f'"{FORMULA}"'
    path.write_text("\n".join([text[0], *(",".join(r) for r in rows)]) + "\n", encoding="utf-8")
    return _run(d, ["ingest", "transcripts_demo", "--participants", str(path), *ST]) == 0


def _run(d: Path, args: list[str]) -> int:
    import subprocess

    return subprocess.run([sys.executable, "-m", "vbhc_code", *args], cwd=d, capture_output=True).returncode


def class8() -> list[Case]:
    def escapes(d: Path) -> list[str]:
        f = _folder(d, {"ok.txt": b"P01: fine.\n"})
        (f / "a\x1b[2J\x1b[31mred\nINT.txt").write_bytes(b"")
        return ["ingest", str(f), "--store", "new.sqlite"]

    def one_error_line(d: Path, out: str, err: str) -> str | None:
        return "a raw escape sequence reached the terminal" if "\x1b" in out + err else None

    def decision(d: Path) -> list[str]:
        from openpyxl import load_workbook

        wb = load_workbook(d / "codings" / "reconcile-anna-ben.xlsx")
        ws = wb["Disagreements"]
        col = [c.value for c in ws[1]].index("decision") + 1
        ws.cell(row=2, column=col, value=S[:10])
        wb.save(d / "r.xlsx")
        return ["reconcile", "--apply", "r.xlsx", *ST]

    return [
        Case(8, "file name with escape sequences and a newline", escapes, (1,), one_error_line),
        Case(8, "invalid decision cell holding text", decision, (1,)),
        Case(8, "participants header row holding text", _participants(
            f"name,{S}\nP01,x\n".encode(), "participants.csv"), (1,)),
        Case(8, "codebook .qdc with an undeclared entity named with text", lambda d: (
            (d / "c.qdc").write_bytes(f'<?xml version="1.0"?><CodeBook xmlns="urn:QDA-XML:codebook:1.0"><Codes>'
                                      f'<Code name="&{S};" guid="22222222-2222-2222-2222-222222222222" '
                                      f'isCodable="true"/></Codes></CodeBook>'.encode())
            and ["refi", "import", "c.qdc", "--store", "new.sqlite"])),
    ]


def class9() -> list[Case]:
    def many_rows(d: Path, n: int = 1_000_000) -> list[str]:
        rows = "".join(f"INT99.txt,{i},c{i},xena\n" for i in range(n)).encode()
        if n > 1_000_000:  # as many as fit just inside the sheet limit
            from vbhc_code.files.archive import MAX_SHEET_BYTES

            rows = rows[: rows.rindex(b"\n", 0, MAX_SHEET_BYTES - 40) + 1]
        (d / "long.csv").write_bytes(b"document,turn_index,code,coder\n" + rows)
        return ["codings", "import", "long.csv", "--coder", "xena", *ST]

    def short(d: Path, out: str, err: str) -> str | None:
        return f"{len(err):,} bytes of messages" if len(err) > 20_000 else None

    def duplicates(d: Path) -> list[str]:
        text = (d / "codings" / "coder-anna.csv").read_text(encoding="utf-8-sig").splitlines()
        (d / "dup.csv").write_text("\n".join([*text, text[1], text[1]]) + "\n", encoding="utf-8")
        return ["codings", "import", "dup.csv", "--coder", "dora", *ST]

    vtt = ("WEBVTT\n\n00:00:05.000 --> 00:00:02.000\nP01: " + S + "\n\n00:00:01.000 --> 00:00:09.000\n"
           "P02: overlap\n").encode()
    return [
        Case(9, "1,000,000 invalid long-codings rows (28 MB)", many_rows, (1,), short, quick=False),
        Case(9, "invalid long-codings rows just inside the 24 MiB sheet limit",
             lambda d: many_rows(d, 1_300_000), (1,), short, quick=False),
        Case(9, "duplicate rows in a long codings CSV", duplicates, (0, 1)),
        Case(9, "reversed and overlapping VTT timings", _transcript("t.vtt", lambda: vtt), (0,)),
        Case(9, "invalid UTF-8 late in a CR-only file", _transcript(
            "cr.txt", lambda: b"P01: a\rP02: b\rP01: \x81\x90 " + S.encode() + b"\r"), (0, 1)),
    ]


def class6() -> list[Case]:
    def two(d: Path) -> list[str]:
        folder = _folder(d, {f"INT{i:02d}.txt": f"P01: {S} {i}.\nInterviewer: ok.\n".encode() for i in range(30)})
        return ["ingest", str(folder), "--store", "shared.sqlite"]

    return [Case(6, "two ingests of one folder into one new store at once", two, (0,), twice=True)]


def all_cases(*, full: bool) -> list[Case]:
    return [*CLASS1, *class2(full), *class3(), *class4(), *class5(), *class6(), *class7(), *class8(), *class9()]
