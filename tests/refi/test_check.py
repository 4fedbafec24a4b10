"""``refi check``: XSD errors with line numbers and the rules the XSD cannot express, on vendor and bad files."""

from __future__ import annotations

import pytest
from refi_fixture import write_zip

from vbhc_code.refi import check_refi

BAD_QDE = b"""<?xml version="1.0" encoding="utf-8"?>
<Project xmlns="urn:QDA-XML:project:1.0" name="bad" creatingUserGUID="99999999-9999-9999-9999-999999999999">
<Users><User guid="11111111-1111-1111-1111-111111111111" name="eve"/></Users>
<CodeBook><Codes>
<Code guid="22222222-2222-2222-2222-222222222222" name="topic" isCodable="true" color="red"/>
<Code guid="66666666-6666-6666-6666-666666666666" name="group" isCodable="false" color="#0f0"/>
</Codes></CodeBook>
<Sources>
<TextSource guid="33333333-3333-3333-3333-333333333333" name="doc.txt" plainTextPath="internal://S.txt">
<PlainTextSelection guid="44444444-4444-4444-4444-444444444444" startPosition="3" endPosition="999">
<Coding guid="55555555-5555-5555-5555-555555555555" creatingUser="77777777-7777-7777-7777-777777777777">
<CodeRef targetGUID="88888888-8888-8888-8888-888888888888"/></Coding>
<Coding guid="aaaaaaaa-5555-5555-5555-555555555555"><CodeRef targetGUID="66666666-6666-6666-6666-666666666666"/></Coding>
</PlainTextSelection>
</TextSource>
<TextSource guid="bbbbbbbb-3333-3333-3333-333333333333" name="latin.txt" plainTextPath="internal://L.txt"/>
<TextSource guid="cccccccc-3333-3333-3333-333333333333" name="both" plainTextPath="internal://S.txt"><PlainTextContent>x</PlainTextContent></TextSource>
<TextSource guid="{33333333-3333-3333-3333-333333333333}" name="dup" plainTextPath="internal://gone.txt"/>
</Sources>
<Sets><Set guid="dddddddd-3333-3333-3333-333333333333" name="empty"/></Sets>
</Project>
"""


def test_every_rule_is_reported_with_its_line(tmp_path):
    f = write_zip(tmp_path / "bad.qdpx", {"project.qde": BAD_QDE, "sources/S.txt": b"P01: hello\n",
                                          "sources/L.txt": "caf\u00e9".encode("cp1252")})
    assert check_refi(f) == [
        "[project.qde line 5] Element '{urn:QDA-XML:project:1.0}Code', attribute 'color': [facet 'pattern'] "
        "The value 'red' is not accepted by the pattern '#([A-Fa-f0-9]{6}|[A-Fa-f0-9]{3})'.",
        "[project.qde line 18] GUID 33333333-3333-3333-3333-333333333333 is used by 2 elements (lines 9, 18); "
        "GUIDs must be unique",
        "[project.qde line 2] creatingUserGUID 99999999-9999-9999-9999-999999999999 is not the GUID of a User",
        "[project.qde line 6] colour '#0f0' is the short form; the standard writes #RRGGBB",
        "[project.qde line 11] creatingUser 77777777-7777-7777-7777-777777777777 is not the GUID of a User",
        "[project.qde line 12] CodeRef targetGUID 88888888-8888-8888-8888-888888888888 does not point at an "
        "existing code",
        "[project.qde line 13] a coding uses code 66666666-6666-6666-6666-666666666666, which is not codable "
        "(isCodable=false)",
        "[project.qde line 17] TextSource has both PlainTextContent and plainTextPath (one only)",
        "[project.qde line 20] Set 'empty' is empty; the standard wants members",
        "[project.qde line 18] plainTextPath 'internal://gone.txt': file not in the archive (expected "
        "'sources/gone.txt')",
        "[project.qde line 10] selection 3-999 ends past the end of its source (11 characters)",
        "[sources/L.txt] not UTF-8 (read as cp1252)",
    ]


def test_schema_errors_of_a_codebook_have_line_numbers(tmp_path):
    f = tmp_path / "c.qdc"
    f.write_text('<CodeBook xmlns="urn:QDA-XML:codebook:1.0">\n<Codes>\n<Code name="x" isCodable="yes"/>\n'
                 "</Codes>\n</CodeBook>\n", encoding="utf-8")
    problems = check_refi(f)
    assert problems == [
        "[c.qdc line 3] Element '{urn:QDA-XML:codebook:1.0}Code', attribute 'isCodable': 'yes' is not a valid "
        "value of the atomic type 'xs:boolean'.",
        "[c.qdc line 3] Element '{urn:QDA-XML:codebook:1.0}Code': The attribute 'guid' is required but missing.",
    ]


# Which vendor file breaks which rule (docs/refi.md reports the same).
VENDOR_PROBLEMS = {
    "ponte_blank-atlas-project.qdpx": {},
    "ponte_target-atlas-project.qdpx": {},
    "spec_A1_codebook.qdc": {},
    "qc_demo.qdpx": {"lacks the 'internal://' prefix": 2},
    "qc_nvivo_project.qdpx": {"is empty although it has a rich text file": 2},
    "sky-loom_TestProject.qdpx": {
        "main file is named 'Project.qde'": 1, "GUIDs must be unique": 2, "is empty; the standard wants members": 1,
        "file not in the archive": 23,
    },
}


@pytest.mark.parametrize("name", sorted(VENDOR_PROBLEMS))
def test_vendor_samples_break_the_rules_we_document(shared_dir, name):
    problems = check_refi(shared_dir / "refi" / "samples" / name)
    want = VENDOR_PROBLEMS[name]
    assert sum(want.values()) == len(problems)
    for phrase, n in want.items():
        assert sum(phrase in p for p in problems) == n, phrase
    if name == "sky-loom_TestProject.qdpx":
        assert "[Project.qde line 254] Set '<3' is empty; the standard wants members" in problems
