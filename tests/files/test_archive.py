"""Hostile REFI files: zip slip, absolute paths, symlinks, zip bombs, DTDs/XXE, billion laughs, junk."""

from __future__ import annotations

import dataclasses
import zipfile

import pytest
from refi_fixture import TINY_TEXT, minimal_qde, write_zip

import vbhc_code.files.archive as safety
from vbhc_code.errors import DataError
from vbhc_code.refi import check_refi, import_refi
from vbhc_code.store.store import Store


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
    monkeypatch.setattr(safety, "QDPX", dataclasses.replace(safety.QDPX, total_bytes=1000))
    f = write_zip(tmp_path / "big.qdpx", {"project.qde": minimal_qde(), "sources/S.txt": b"a" * 600})
    assert _refused(tmp_path, f) == "big.qdpx: more than 1000 bytes uncompressed in all; refused (zip bomb?)"


def test_member_size_limit(tmp_path, monkeypatch):
    monkeypatch.setattr(safety, "QDPX", dataclasses.replace(safety.QDPX, xml_bytes=500))
    f = write_zip(tmp_path / "m.qdpx", {"project.qde": minimal_qde()})
    size = len(minimal_qde())
    assert (
        _refused(tmp_path, f)
        == f"m.qdpx: entry 'project.qde': {size} bytes uncompressed (limit 500); refused (zip bomb?)"
    )


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
    junk = tmp_path / "junk.qdc"
    junk.write_bytes(b"\x00\x01 not xml")
    assert _refused(tmp_path, junk).startswith("junk.qdc line 1: not well-formed XML")
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


def test_a_qdpx_that_is_not_a_zip_is_refused(tmp_path):
    for name, data in [("text.qdpx", b"hello, not an archive"), ("empty.qdpx", b""), ("bare.qdpx", minimal_qde())]:
        f = tmp_path / name
        f.write_bytes(data)  # even a bare project.qde renamed .qdpx: its internal:// sources cannot exist
        assert _refused(tmp_path, f) == (
            f"{name}: not a zip archive (a .qdpx project is a zip with project.qde and sources/)"
        )


def test_a_truncated_zip_is_refused(tmp_path):
    whole = write_zip(tmp_path / "whole.qdpx", {"project.qde": minimal_qde(), "sources/S.txt": TINY_TEXT.encode()})
    cut = tmp_path / "cut.qdpx"
    cut.write_bytes(whole.read_bytes()[: whole.stat().st_size // 2])  # a download that stopped half-way
    assert _refused(tmp_path, cut) == (
        "cut.qdpx: not a valid zip archive, or a truncated one (.qdpx files are zip archives)"
    )


@pytest.mark.parametrize("compression", [zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED])
def test_a_damaged_entry_is_refused_not_a_crash(tmp_path, compression):
    f = tmp_path / "bad.qdpx"
    with zipfile.ZipFile(f, "w", compression=compression) as zf:
        zf.writestr("project.qde", minimal_qde())
        zf.writestr("sources/S.txt", TINY_TEXT.encode() * 50)
    data = bytearray(f.read_bytes())
    with zipfile.ZipFile(f) as zf:
        info = zf.getinfo("sources/S.txt")
    at = info.header_offset + 30 + len(info.filename) + info.compress_size // 2  # inside the entry's data
    data[at] ^= 0xFF
    f.write_bytes(bytes(data))
    assert _refused(tmp_path, f) == (
        "bad.qdpx: entry 'sources/S.txt' is damaged (bad compressed data or checksum); cannot read it"
    )


def test_two_entries_with_one_name_are_refused(tmp_path):
    f = tmp_path / "twice.qdpx"
    with pytest.warns(UserWarning), zipfile.ZipFile(f, "w") as zf:
        zf.writestr("project.qde", minimal_qde())
        zf.writestr("sources/S.txt", TINY_TEXT.encode())
        zf.writestr("project.qde", b'<Project xmlns="urn:QDA-XML:project:1.0" name="other"/>')
    assert (
        _refused(tmp_path, f) == "twice.qdpx: entry 'project.qde': the archive has two entries with this name; refused"
    )


def test_zip_bomb_of_many_small_entries_is_refused_by_the_overall_ratio(tmp_path):
    members = {"project.qde": minimal_qde(), "sources/S.txt": TINY_TEXT.encode()}
    members.update(
        {f"sources/pad{i}.txt": b"\0" * safety.RATIO_MIN_BYTES for i in range(3)}
    )  # each under the member check
    f = write_zip(tmp_path / "many.qdpx", members)
    message = _refused(tmp_path, f)
    assert message.startswith("many.qdpx: compression ratio ")
    assert message.endswith(":1 over all entries (limit 200:1); refused (zip bomb)")


# .docx and plain inputs: the same layer, with limits from what a real interview needs (docs/limits.md).


def test_a_docx_document_over_the_part_limit_is_refused_from_its_header(tmp_path):
    from hostile import SENTINEL, docx_document_bomb

    from vbhc_code.ingest.transcripts import read_transcript

    f = tmp_path / "big.docx"
    f.write_bytes(docx_document_bomb(safety.DOCX.xml_bytes + (1 << 20)))  # 97:1 and more, like the case
    with pytest.raises(DataError) as exc:
        read_transcript(f)
    message = str(exc.value)
    assert message.startswith("big.docx: entry 'word/document.xml': ") and message.endswith(
        f" bytes uncompressed (limit {safety.DOCX.xml_bytes}); refused (zip bomb?)")
    assert SENTINEL not in message


@pytest.mark.parametrize("part", ["word/media/image1.png", "customXml/item1", "word/document.xml"])
def test_a_docx_dtd_is_refused_in_any_part(tmp_path, part):
    from hostile import DTD, docx_with_part

    from vbhc_code.ingest.transcripts import read_transcript

    f = tmp_path / "d.docx"
    f.write_bytes(docx_with_part(part, DTD))
    with pytest.raises(DataError, match=rf"^d\.docx: entry '{part}': declares a DOCTYPE or XML entities; refused"):
        read_transcript(f)


def test_a_huge_text_file_is_refused_before_it_is_read(tmp_path):
    import resource

    from hostile import sparse_file

    from vbhc_code.ingest.transcripts import read_transcript

    f = sparse_file(tmp_path / "huge.txt", 3 << 29)  # 1.5 GB, a hole on disk
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    with pytest.raises(DataError) as exc:
        read_transcript(f)
    assert str(exc.value) == ("huge.txt: 1,610,612,736 bytes; larger than any transcript this tool reads "
                              "(limit 4 MiB); refused")
    assert resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before < 100_000  # KiB: nothing was read whole


def test_a_qdpx_source_text_over_the_text_limit_is_refused(tmp_path, monkeypatch):
    monkeypatch.setattr("vbhc_code.refi.importer.MAX_TEXT_BYTES", 3)
    f = write_zip(tmp_path / "t.qdpx", {"project.qde": minimal_qde(), "sources/S.txt": TINY_TEXT.encode()})
    with pytest.raises(DataError) as exc:
        _import(tmp_path, f)
    assert str(exc.value) == (f"t.qdpx: entry 'sources/S.txt': {len(TINY_TEXT.encode()):,} bytes uncompressed; "
                              "larger than any source text this tool reads (limit 3 bytes); refused")
