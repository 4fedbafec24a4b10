"""Duplicate GUIDs never misattribute: ambiguous ones are refused (kind, GUID, lines), identical repeats are
read once with a warning, selection and cross-kind duplicates are harmless (the shared ATLAS.ti sample)."""

from __future__ import annotations

import pytest
from refi_fixture import write_zip

from vbhc_code.errors import ValidationError
from vbhc_code.refi import check_refi, import_refi
from vbhc_code.store.store import Store

U1, U2 = "11111111-1111-1111-1111-111111111111", "11111111-1111-1111-1111-1111111111b2"
C1, C2 = "22222222-2222-2222-2222-222222222222", "22222222-2222-2222-2222-2222222222b2"
S1, S2 = "33333333-3333-3333-3333-333333333333", "33333333-3333-3333-3333-3333333333b2"
SECRET = "ZQXSENTINELQZX"


def _project(*, users: tuple[str, str] = (U1, U2), codes: tuple[str, str] = (C1, C2),
             sources: tuple[str, str] = (S1, S2), user_names: tuple[str, str] = ("eve", "bob"),
             code_names: tuple[str, str] = ("alpha", "beta"), sel_guids: tuple[str, str] = ("a" * 32, "b" * 32)) -> bytes:
    """Two users, two codes, two sources: eve codes doc1 with alpha, bob codes doc2 with beta."""
    def source(i: int) -> str:
        return (f'<TextSource guid="{sources[i]}" name="doc{i + 1}.txt" plainTextPath="internal://S{i + 1}.txt">'
                f'<PlainTextSelection guid="{sel_guids[i]}" startPosition="5" endPosition="19" '
                f'creatingUser="{users[i]}"><Coding guid="{i + 5}{"5" * 31}" creatingUser="{users[i]}">'
                f'<CodeRef targetGUID="{codes[i]}"/></Coding></PlainTextSelection></TextSource>\n')

    return (f'<?xml version="1.0" encoding="utf-8"?>\n<Project xmlns="urn:QDA-XML:project:1.0" name="p" origin="t">\n'
            f'<Users><User guid="{users[0]}" name="{user_names[0]}"/>\n<User guid="{users[1]}" name="{user_names[1]}"/>'
            f'</Users>\n<CodeBook><Codes><Code guid="{codes[0]}" name="{code_names[0]}" isCodable="true"/>\n'
            f'<Code guid="{codes[1]}" name="{code_names[1]}" isCodable="true"/></Codes></CodeBook>\n<Sources>\n'
            f"{source(0)}{source(1)}</Sources>\n</Project>\n").encode()


def _qdpx(tmp_path, qde: bytes):
    return write_zip(tmp_path / "dup.qdpx", {"project.qde": qde, "sources/S1.txt": f"P01: {SECRET} one.\n".encode(),
                                              "sources/S2.txt": f"P02: {SECRET} two.\n".encode()})


def _refused(tmp_path, qde: bytes) -> list[str]:
    f = _qdpx(tmp_path, qde)
    with Store.open(tmp_path / "s.sqlite") as st:
        with pytest.raises(ValidationError) as exc:
            import_refi(st, f)
        assert st.document_names() == [] and st.coders() == []  # nothing imported
    assert str(exc.value.message) == ("dup.qdpx: 1 ambiguous GUID(s); nothing imported (make each GUID unique in "
                                      "the program that wrote the file)")
    assert SECRET not in str(exc.value)
    return exc.value.problems


@pytest.mark.parametrize(("kw", "kind", "guid", "lines"), [
    ({"sources": (S1, S1)}, "TextSource", S1, "8, 9"),
    ({"codes": (C1, C1)}, "Code", C1, "5, 6"),
    ({"users": (U1, U1)}, "User", U1, "3, 4"),
])
def test_different_elements_sharing_a_guid_are_refused_with_kind_guid_and_lines(tmp_path, kw, kind, guid, lines):
    problems = _refused(tmp_path, _project(**kw))
    second = lines.split(", ")[1]
    assert problems == [f"[dup.qdpx: project.qde line {second}] 2 different {kind} elements share GUID {guid} "
                        f"(lines {lines}); their codings could go to the wrong one"]


def test_the_same_codes_under_one_guid_with_braces_and_case_are_still_one_guid(tmp_path):
    problems = _refused(tmp_path, _project(codes=(C1, "{" + C1.upper() + "}")))
    assert "2 different Code elements share GUID" in problems[0]


def test_an_identical_repeat_is_read_once_with_a_located_warning(tmp_path):
    # the same user written twice: both codings are eve's, which is what the file says either way
    f = _qdpx(tmp_path, _project(users=(U1, U1), user_names=("eve", "eve")))
    with Store.open(tmp_path / "s.sqlite") as st:
        r = import_refi(st, f)
        assert r.users == 1 and r.coders == ["eve"]
        assert {(c.document, c.code) for c in st.codings("eve")} == {("doc1.txt", "alpha"), ("doc2.txt", "beta")}
    assert r.warnings[0] == (f"[dup.qdpx: project.qde line 4] User GUID {U1} is repeated identically (lines 3, 4); "
                             "read once (the first)")


def test_without_duplicates_each_coding_keeps_its_document_code_and_coder(tmp_path):
    with Store.open(tmp_path / "s.sqlite") as st:
        import_refi(st, _qdpx(tmp_path, _project()))
        assert {(c.document, c.code) for c in st.codings("eve")} == {("doc1.txt", "alpha")}
        assert {(c.document, c.code) for c in st.codings("bob")} == {("doc2.txt", "beta")}


def test_selection_and_cross_kind_duplicates_are_harmless_and_imported(tmp_path):
    # two selections share a GUID, and a code shares the GUID of a user: nothing is looked up across kinds
    f = _qdpx(tmp_path, _project(sel_guids=("a" * 32, "a" * 32), codes=(U1, C2)))
    with Store.open(tmp_path / "s.sqlite") as st:
        r = import_refi(st, f)
        assert {(c.document, c.code) for c in st.codings("eve")} == {("doc1.txt", "alpha")}
        assert {(c.document, c.code) for c in st.codings("bob")} == {("doc2.txt", "beta")}
    assert not any("GUID" in w for w in r.warnings)
    assert any("GUIDs must be unique" in p for p in check_refi(f))  # check still reports them


def test_the_shared_atlas_sample_with_duplicate_selection_guids_still_imports(shared_dir, tmp_path):
    sample = shared_dir / "refi" / "samples" / "sky-loom_TestProject.qdpx"
    assert sum("GUIDs must be unique" in p for p in check_refi(sample)) == 2
    with Store.open(tmp_path / "s.sqlite") as st:
        r = import_refi(st, sample)
    assert r.codes == 14 and not any("GUID" in w for w in r.warnings)
