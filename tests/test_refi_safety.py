"""Hostile REFI files: zip slip, absolute paths, symlinks, zip bombs, DTDs/XXE, billion laughs, junk."""

from __future__ import annotations

import zipfile

import pytest
from test_refi_support import TINY_TEXT, minimal_qde, write_zip

import vbhc_code.refi_safety as safety
from vbhc_code.errors import DataError
from vbhc_code.refi import check_refi, import_refi
from vbhc_code.store import Store


def _import(tmp_path, archive):
    with Store.open(tmp_path / "s.sqlite") as st:
        try:
            import_refi(st, archive)
        finally:
            assert st.document_names() == []  # nothing was written


def _refused(tmp_path, archive) -> str:
    with pytest.raises(DataError) as exc:
        _import(tmp_path, archive)
    assert check_refi(archive) == [f"[{archive.name}] {exc.value}"]  # check reports the same refusal
    return str(exc.value)


def test_zip_slip_is_refused(tmp_path):
    f = write_zip(tmp_path / "slip.qdpx", {"project.qde": minimal_qde(), "sources/../../evil.txt": b"x"})
    assert _refused(tmp_path, f) == (
        "slip.qdpx: entry 'sources/../../evil.txt': path escapes the archive folder ('..'); refused (zip slip)"
    )
    assert not (tmp_path.parent / "evil.txt").exists()


def test_absolute_paths_are_refused(tmp_path):
    f = tmp_path / "abs.qdpx"
    with zipfile.ZipFile(f, "w") as zf:
        zf.writestr("project.qde", minimal_qde())
        info = zipfile.ZipInfo("x")
        info.filename = "/etc/cron.d/evil"
        zf.writestr(info, b"x")
    assert _refused(tmp_path, f) == "abs.qdpx: entry '/etc/cron.d/evil': absolute path; refused"
    g = write_zip(tmp_path / "drive.qdpx", {"project.qde": minimal_qde(), "C:/Windows/evil.txt": b"x"})
    assert _refused(tmp_path, g) == "drive.qdpx: entry 'C:/Windows/evil.txt': absolute path; refused"


def test_symlinks_are_refused(tmp_path):
    f = tmp_path / "link.qdpx"
    with zipfile.ZipFile(f, "w") as zf:
        zf.writestr("project.qde", minimal_qde())
        info = zipfile.ZipInfo("sources/S.txt")
        info.create_system = 3
        info.external_attr = 0o120777 << 16
        zf.writestr(info, b"/etc/passwd")
    assert _refused(tmp_path, f) == "link.qdpx: entry 'sources/S.txt': symbolic link; refused"


def test_zip_bomb_by_ratio_is_refused(tmp_path):
    f = write_zip(tmp_path / "bomb.qdpx", {"project.qde": minimal_qde(), "sources/S.txt": b"\0" * (8 << 20)})
    message = _refused(tmp_path, f)
    assert message.startswith("bomb.qdpx: entry 'sources/S.txt': compression ratio ")
    assert message.endswith(":1 (limit 200:1); refused (zip bomb)")


def test_zip_bomb_by_total_size_is_refused(tmp_path, monkeypatch):
    monkeypatch.setattr(safety, "MAX_TOTAL_BYTES", 1000)
    f = write_zip(tmp_path / "big.qdpx", {"project.qde": minimal_qde(), "sources/S.txt": b"a" * 600})
    assert _refused(tmp_path, f) == "big.qdpx: more than 1000 bytes uncompressed in all; refused (zip bomb?)"


def test_member_size_limit(tmp_path, monkeypatch):
    monkeypatch.setattr(safety, "MAX_MEMBER_BYTES", 500)
    f = write_zip(tmp_path / "m.qdpx", {"project.qde": minimal_qde()})
    size = len(minimal_qde())
    assert _refused(tmp_path, f) == f"m.qdpx: entry 'project.qde': {size} bytes uncompressed (limit 500); refused (zip bomb?)"


XXE = b"""<?xml version="1.0"?>
<!DOCTYPE Project [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<Project xmlns="urn:QDA-XML:project:1.0" name="&xxe;"/>
"""
LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]>
<CodeBook xmlns="urn:QDA-XML:codebook:1.0"><Codes><Code guid="22222222-2222-2222-2222-222222222222"
 name="&lol3;" isCodable="true"/></Codes></CodeBook>
"""


def test_xxe_in_a_project_is_refused(tmp_path):
    f = write_zip(tmp_path / "xxe.qdpx", {"project.qde": XXE, "sources/S.txt": TINY_TEXT.encode()})
    assert _refused(tmp_path, f) == (
        "xxe.qdpx: project.qde: contains a DTD (<!DOCTYPE>); refused because DTDs can hide entity attacks (XXE)"
    )


def test_billion_laughs_in_a_codebook_is_refused(tmp_path):
    f = tmp_path / "lol.qdc"
    f.write_bytes(LAUGHS)
    assert _refused(tmp_path, f) == (
        "lol.qdc: contains a DTD (<!DOCTYPE>); refused because DTDs can hide entity attacks (XXE)"
    )


def test_junk_and_archives_without_a_project(tmp_path):
    junk = tmp_path / "junk.qdpx"
    junk.write_bytes(b"\x00\x01 not xml")
    assert _refused(tmp_path, junk).startswith("junk.qdpx line 1: not well-formed XML")
    empty = write_zip(tmp_path / "empty.qdpx", {"readme.txt": b"hi"})
    assert _refused(tmp_path, empty) == "empty.qdpx: no project.qde in the archive (not a REFI-QDA project)"
    other = tmp_path / "other.qdc"
    other.write_bytes(b"<html/>")
    assert _refused(tmp_path, other) == (
        "other.qdc: root element <html> is neither <Project> nor <CodeBook> (not a REFI-QDA file)"
    )


def test_safe_zip_reads_members_in_memory_only(tmp_path):
    f = write_zip(tmp_path / "ok.qdpx", {"project.qde": minimal_qde(), "sources/S.txt": TINY_TEXT.encode()})
    with safety.SafeZip(f) as z:
        assert [m.name for m in z.members] == ["project.qde", "sources/S.txt"]
        assert z.read("sources/S.txt") == TINY_TEXT.encode()
        assert z.find("SOURCES/s.txt", ignore_case=True) == "sources/S.txt"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ok.qdpx"]
