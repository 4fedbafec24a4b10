"""vbhc_code.errors: the one mapping of OS and store errors to located errors and exit codes; messages that
show positions, lengths and kinds, never content, one line each with control characters escaped (issue 12
class 8)."""

from __future__ import annotations

import errno
import sqlite3

import pytest
from hostile import SENTINEL
from typer.testing import CliRunner

from vbhc_code.cli import app
from vbhc_code.errors import Busy, DataError, SystemFault, ValidationError, describe, one_line, os_error, store_error


def test_os_errors_map_to_system_faults_or_data_errors():
    full = os_error("out.xlsx", OSError(errno.ENOSPC, "No space left on device: 'secret text'"))
    assert isinstance(full, SystemFault) and full.exit_code == 74
    assert str(full) == "out.xlsx: cannot write (no space left on the device)"  # never the OS message
    big = os_error("s.sqlite", OSError(errno.EFBIG, "x"), "cannot read")
    assert big.exit_code == 74 and str(big) == "s.sqlite: cannot read (file too large for this system or its limits)"
    denied = os_error("codings", PermissionError(errno.EACCES, "x"))
    assert type(denied) is DataError and denied.exit_code == 1 and "permission denied" in str(denied)
    loop = os_error("a.txt", OSError(errno.ELOOP, "x"), "cannot read the file")
    assert str(loop) == "a.txt: cannot read the file (too many levels of symbolic links (a symlink loop))"
    odd = os_error("f", OSError("no errno"))
    assert type(odd) is DataError and str(odd) == "f: cannot write (OSError)"


def test_store_errors_map_by_kind():
    cases = {
        "database or disk is full": (SystemFault, 74, "no space left"),
        "disk I/O error": (SystemFault, 74, "input/output error"),
        "database is locked": (Busy, 75, "another vbhc-code command is using the store"),
        "attempt to write a readonly database": (DataError, 1, "read-only"),
        "unable to open database file": (DataError, 1, "cannot open the store file"),
        "file is not a database": (DataError, 1, "file is not a database"),
    }
    for message, (cls, code, words) in cases.items():
        err = store_error("s.sqlite", sqlite3.OperationalError(message))
        assert type(err) is cls and err.exit_code == code and words in str(err), message
        assert str(err).startswith("s.sqlite: cannot write to the study store (")
    other = store_error("s.sqlite", sqlite3.IntegrityError("UNIQUE constraint failed: t.x 'a text'"))
    assert str(other) == "s.sqlite: cannot write to the study store (IntegrityError)"


def test_a_million_problems_print_the_first_twenty_and_a_count():
    from vbhc_code.errors import MAX_PROBLEMS, ValidationError

    err = ValidationError("bad.csv: 1000000 problems", (f"[bad.csv line {i}] unknown document" for i in range(10**6)))
    lines = str(err).splitlines()
    assert len(lines) == MAX_PROBLEMS + 2 and lines[1] == "[bad.csv line 0] unknown document"
    assert lines[-1] == "... and 999,980 more"
    assert str(ValidationError("two", ["a", "b"])) == "two\na\nb"  # under the cap: all, no count


def test_one_line_escapes_escape_sequences_newlines_and_bidi_overrides():
    assert one_line("a\x1b[2Jb\nc\rd\te\x7f\u202egnp.exe") == "a\\x1b[2Jb\\x0ac\\x0dd\\x09e\\x7f\\u202egnp.exe"
    assert one_line("INT01 – café.txt") == "INT01 – café.txt"  # ordinary Unicode is left alone


def test_an_error_is_one_line_per_problem_whatever_the_names_hold():
    exc = ValidationError("x\ny.csv: 2 problems", ["[x\ny.csv line 2] bad", "[z\x1b[31m.csv] bad"])
    assert str(exc).splitlines() == ["x\\x0ay.csv: 2 problems", "[x\\x0ay.csv line 2] bad", "[z\\x1b[31m.csv] bad"]
    assert str(DataError("a\nb")) == "a\\x0ab"


@pytest.mark.parametrize(("value", "shown"), [
    (SENTINEL, f"a text of {len(SENTINEL)} characters"), ("x", "a text of 1 character"), (2.5, "a number"),
    (None, "an empty cell"), ("  ", "an empty cell"), (True, "a true/false value"),
])
def test_describe_gives_the_kind_and_length_never_the_content(value, shown):
    assert describe(value) == shown


def test_a_file_name_with_an_escape_sequence_and_a_newline_stays_one_escaped_line(tmp_path):
    folder = tmp_path / "t"
    folder.mkdir()
    (folder / "ok.txt").write_text("P01: Fine.\n", encoding="utf-8")
    (folder / "a\x1b[31mred\nINT.txt").write_bytes(b"")
    result = CliRunner().invoke(app, ["ingest", str(folder), "--store", str(tmp_path / "s.sqlite")])
    assert result.exit_code == 1
    assert "\x1b" not in result.stderr and "\x1b" not in result.stdout  # the report table escapes it too
    assert "a\\x1b[31mred\\x0aINT.txt" in result.stdout
    errors = [line for line in result.stderr.splitlines() if line.startswith("error: ")]
    assert errors == ["error: a\\x1b[31mred\\x0aINT.txt: empty file"]


def test_sheet_headers_and_short_cells_are_described_not_echoed(tmp_path):
    from vbhc_code.files.sheets import load_documents_sheet, load_participants

    f = tmp_path / "p.csv"
    f.write_text(f"name,{SENTINEL}\nx,y\n", encoding="utf-8")
    with pytest.raises(DataError) as exc:
        load_participants(f)
    assert str(exc.value) == "p.csv line 1: no 'participant_id' column (the header row has 2 named columns)"
    f.write_text(f"participant_id,speaker_role\nZQX,{SENTINEL}\nZQX,\n", encoding="utf-8")
    with pytest.raises(ValidationError) as exc:
        load_participants(f)
    assert SENTINEL not in str(exc.value) and "ZQX" not in str(exc.value)
    assert exc.value.problems == [
        f"[p.csv line 2] speaker_role (a text of {len(SENTINEL)} characters) is not one of participant, interviewer",
        "[p.csv line 3] duplicate participant_id (the same as at p.csv line 2)",
    ]
    d = tmp_path / "d.csv"
    d.write_text(f"document,type\na.txt,{SENTINEL[:6]}\n", encoding="utf-8")
    with pytest.raises(ValidationError) as exc:
        load_documents_sheet(d)
    assert exc.value.problems == ["[d.csv line 2] type (a text of 6 characters) is not one of interview, focus_group"]


def test_xml_errors_give_the_kind_never_entity_names_or_text(tmp_path):
    from vbhc_code.refi import check_refi

    f = tmp_path / "c.qdc"
    f.write_bytes(f'<?xml version="1.0"?>\n<CodeBook xmlns="urn:QDA-XML:codebook:1.0"><Codes>\n<Code name="&{SENTINEL};"'
                  f' guid="22222222-2222-2222-2222-222222222222" isCodable="true"/></Codes>\n'
                  f"</CodeBook><{SENTINEL}>".encode())
    problems = check_refi(f)
    assert problems == ["[c.qdc] c.qdc line 3: not well-formed XML (undeclared entity)"]
