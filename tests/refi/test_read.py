"""vbhc_code.refi.read: opening .qdpx/.qdc files as vendors write them, finding sources, decoding text."""

from __future__ import annotations

import codecs

import pytest
from refi_fixture import TINY_TEXT, minimal_qde, write_zip

from vbhc_code.errors import DataError
from vbhc_code.refi.read import decode_text, descendants, gkey, kid, kids, local, open_refi, resolve_source, text_of

CODEBOOK_XML = b"""<?xml version="1.0" encoding="utf-8"?>
<CodeBook xmlns="urn:QDA-XML:codebook:1.0"><Codes><Code guid="22222222-2222-2222-2222-222222222222" name="a"
 isCodable="true"><Description>d</Description></Code></Codes></CodeBook>"""


def test_a_standard_project_opens_with_its_parts(tmp_path):
    path = write_zip(tmp_path / "p.qdpx", {"project.qde": minimal_qde(), "sources/S.txt": TINY_TEXT.encode()})
    with open_refi(path) as refi:
        assert (refi.kind, refi.main_name, refi.where, refi.notes) == ("project", "project.qde", "project.qde", [])
        assert local(refi.root) == "Project"
        assert [local(k) for k in kids(refi.root)] == ["Users", "CodeBook", "Sources"]
        assert [c.get("name") for c in descendants(refi.root, "Code")] == ["topic"]
        assert kid(refi.root, "Notes") is None and text_of(None) == ""
        assert resolve_source(refi, "internal://S.txt").member == "sources/S.txt"
        assert resolve_source(refi, "internal://S.txt").problem == ""


def test_vendor_drift_is_tolerated_and_noted(tmp_path):
    # ATLAS.ti 8.4: Project.qde and Sources/; qc: a plain path without internal://
    path = write_zip(tmp_path / "a.qdpx", {"Project.qde": minimal_qde(), "Sources/S.txt": b"x", "board.txt": b"y"})
    with open_refi(path) as refi:
        assert refi.main_name == "Project.qde" and "main file is named 'Project.qde'" in refi.notes[0]
        loose = resolve_source(refi, "internal://S.txt")
        assert loose.member == "Sources/S.txt" and "the folder must be 'sources/'" in loose.problem
        bare = resolve_source(refi, "board.txt")
        assert bare.member == "board.txt" and "lacks the 'internal://' prefix" in bare.problem
        missing = resolve_source(refi, "internal://gone.txt")
        assert missing.member is None and "file not in the archive" in missing.problem
        external = resolve_source(refi, "relative://../S.txt")
        assert external.external and external.member is None
        assert "is not an internal://" in resolve_source(refi, "ftp://host/S.txt").problem


def test_a_codebook_file_opens_without_an_archive(tmp_path):
    path = tmp_path / "c.qdc"
    path.write_bytes(CODEBOOK_XML)
    with open_refi(path) as refi:
        assert (refi.kind, refi.archive, refi.where) == ("codebook", None, "c.qdc")
        assert "not one" in resolve_source(refi, "internal://S.txt").problem


@pytest.mark.parametrize(("name", "content", "message"), [
    ("x.qdpx", b"plain text", "not a zip archive"),
    ("x.qdc", b"<Other/>", r"root element <Other> is neither <Project> nor <CodeBook>"),
    ("absent.qdpx", None, "absent.qdpx: file not found"),
])  # fmt: skip
def test_files_that_are_not_refi_are_located_errors(tmp_path, name, content, message):
    path = tmp_path / name
    if content is not None:
        path.write_bytes(content)
    with pytest.raises(DataError, match=message):
        open_refi(path)


def test_an_archive_without_a_main_file_is_refused(tmp_path):
    path = write_zip(tmp_path / "e.qdpx", {"sources/S.txt": b"x"})
    with pytest.raises(DataError, match="no project.qde in the archive"):
        open_refi(path)


def test_guids_compare_without_braces_or_case():
    assert gkey("{ABCDEF01-2345-6789-ABCD-EF0123456789}") == gkey("abcdef01-2345-6789-abcd-ef0123456789")
    assert gkey(None) == "" and gkey(" Not-A-Guid ") == "not-a-guid"


@pytest.mark.parametrize(("data", "expected"), [
    ("héllo".encode(), ("héllo", "utf-8", True)),
    (codecs.BOM_UTF8 + "héllo".encode(), ("héllo", "utf-8-sig", True)),
    ("héllo".encode("utf-16"), ("héllo", "utf-16", False)),
    ("héllo".encode("cp1252"), ("héllo", "cp1252", False)),
])  # fmt: skip
def test_source_text_decoding(data, expected):
    assert decode_text(data) == expected
