"""REFI import: round trip, every shared vendor sample, and damaged but harmless input."""

from __future__ import annotations

import zipfile

import pytest
from refi_fixture import TINY_TEXT, build_store, minimal_qde, write_zip

from vbhc_code.errors import ValidationError
from vbhc_code.refi import export_qdpx, import_refi
from vbhc_code.store.store import Store


def _members(path):
    with zipfile.ZipFile(path) as zf:
        return {name: zf.read(name) for name in zf.namelist()}


def test_round_trip_two_coders_and_consensus(tmp_path):
    first = tmp_path / "first.qdpx"
    second = tmp_path / "second.qdpx"
    with build_store(tmp_path / "a.sqlite") as a:
        a.set_meta("study_name", "vbhc study")
        export_qdpx(a, out=first)
        with Store.open(tmp_path / "b.sqlite") as b:
            report = import_refi(b, first)
            assert (report.sources, report.codes, report.users, report.codings) == (2, 4, 3, 8)
            assert report.coders == ["anna", "ben", "consensus"] and report.skipped == []
            export_qdpx(b, out=second)
            # the store itself round-trips: documents, turns, coders, codings, coded documents, participants
            assert [d.plain_text for d in b.documents()] == [d.plain_text for d in a.documents()]
            assert b.turns() == a.turns()
            assert [c.name for c in b.coders()] == [c.name for c in a.coders()]
            for coder in ("anna", "ben", "consensus"):
                assert b.codings(coder) == a.codings(coder)
                assert b.coded_documents(coder) == a.coded_documents(coder)
            assert b.participants() == a.participants()
            assert [(d.name, d.doc_type, d.language, d.format, dict(d.attributes)) for d in b.documents()] == [
                (d.name, d.doc_type, d.language, d.format, dict(d.attributes)) for d in a.documents()
            ]
            book_a, book_b = a.coder_codebook("anna"), b.coder_codebook("anna")
            assert (book_b.name, book_b.version, book_b.themes) == (book_a.name, book_a.version, book_a.themes)
            fields = ("id", "theme", "label", "definition", "include", "exclude", "examples")
            assert [[getattr(c, f) for f in fields] for c in book_b.codes] == [
                [getattr(c, f) for f in fields] for c in book_a.codes
            ]
    assert _members(second) == _members(first)  # export again: byte-identical project and sources


def test_round_trip_of_the_bundled_sample_study(sample_store, tmp_path):
    """The sample study with the human codings of anna and ben and a consensus (their agreement)."""
    import csv
    import shutil
    from pathlib import Path

    from vbhc_code.models import Coding

    repo = Path(__file__).resolve().parents[2]
    path = tmp_path / "sample.sqlite"
    shutil.copy(sample_store, path)
    rows = {}
    for coder in ("anna", "ben"):
        with (repo / "codings" / f"coder-{coder}.csv").open(encoding="utf-8") as fh:
            rows[coder] = {(r["document"], int(r["turn_index"]), r["code"]) for r in csv.DictReader(fh)}
    from vbhc_code.codebook.load import load_codebook

    codebook = load_codebook(None)  # the built-in VBHC-SIM codebook the sample study was coded with
    rows["consensus"] = rows["anna"] & rows["ben"]
    with Store.open(path) as a:
        docs = a.document_names()
        for coder, keys in rows.items():
            a.replace_codings(coder, [Coding(d, t, c, coder) for d, t, c in sorted(keys)], coded_documents=docs,
                              codebook=codebook)
        first, second = tmp_path / "1.qdpx", tmp_path / "2.qdpx"
        report = export_qdpx(a, out=first, coders=["anna", "ben", "consensus"])
        # a whole-turn coding of a caption turn merged from several cues is one selection per cue text
        from vbhc_code.models import covered_spans

        turns = {(t.document, t.turn_index): t for t in a.turns()}
        per_cue = sum(len(covered_spans(Coding(d, t, c, ""), turns[(d, t)])) for k in rows.values() for d, t, c in k)
        assert per_cue > sum(len(k) for k in rows.values())  # the sample has such turns
        assert report.codings == per_cue and report.codes == len(codebook.codes)
        with Store.open(tmp_path / "fresh.sqlite") as b:
            imported = import_refi(b, first)
            assert imported.skipped == [] and imported.sources == len(docs)
            assert [d.plain_text for d in b.documents()] == [d.plain_text for d in a.documents()]
            assert b.turns() == a.turns()
            assert [c.name for c in b.coders()] == ["anna", "ben", "consensus"]
            assert all(len(a.codings(coder)) == len(rows[coder]) > 0 for coder in rows)
            for coder in rows:
                assert b.codings(coder) == a.codings(coder)
                assert b.coded_documents(coder) == set(docs)
            cb = b.coder_codebook("consensus")
            assert sorted((c.id, c.theme, c.label, c.definition) for c in cb.codes) == sorted(
                (c.id, c.theme, c.label, c.definition) for c in codebook.codes
            )  # codes come back grouped under their themes
            assert [(t.id, t.label, t.description) for t in cb.themes] == [
                (t.id, t.label, t.description) for t in codebook.themes
            ]
            export_qdpx(b, out=second)
    assert _members(second) == _members(first)


# counts per shared sample: sources declared/imported, codes, themes, users, codings declared/imported, coders
SAMPLES = {
    "ponte_blank-atlas-project.qdpx": (0, 0, 0, 0, 2, 0, 0, []),
    "ponte_target-atlas-project.qdpx": (0, 0, 3, 2, 2, 0, 0, []),
    "qc_demo.qdpx": (2, 2, 262, 59, 1, 205, 205, ["cp"]),
    "qc_nvivo_project.qdpx": (2, 2, 262, 59, 2, 0, 0, []),
    "sky-loom_TestProject.qdpx": (6, 0, 14, 2, 3, 7, 0, []),
    "spec_A1_codebook.qdc": (0, 0, 4, 3, 0, 0, 0, []),
}


@pytest.mark.parametrize("name", sorted(SAMPLES))
def test_every_shared_sample_imports_with_its_counts(shared_dir, tmp_path, name):
    with Store.open(tmp_path / "s.sqlite") as st:
        r = import_refi(st, shared_dir / "refi" / "samples" / name)
        got = (r.sources_declared, r.sources, r.codes, r.themes, r.users, r.codings_declared, r.codings, r.coders)
        assert got == SAMPLES[name]
        assert len(st.document_names()) == r.sources
        assert sum(c.n_codings for c in st.coders()) == r.stored_codings
        if r.codes:
            assert any(len(cb.codes) == r.codes for cb in st.codebooks())


def test_qc_demo_selections_become_codings_on_the_turns_they_cover(shared_dir, tmp_path):
    with Store.open(tmp_path / "s.sqlite") as st:
        import_refi(st, shared_dir / "refi" / "samples" / "qc_demo.qdpx")
        doc = st.document("board_2017.txt")
        assert len(doc.plain_text) == 52543
        rows = st.codings("cp")
        assert len(rows) == 205 and st.coded_documents("cp") == {"board_2017.txt"}
        by_turn = {(t.turn_index): t for t in doc.turns}
        for c in rows:  # every span lies inside the turn it is stored on
            t = by_turn[c.turn_index]
            assert c.start is None or t.start <= c.start < c.end <= t.end
        codebook = st.coder_codebook("cp")
        ids = [c.id for c in codebook.codes]
        assert len(ids) == len(set(ids)) == 262
        assert "cs_as_programming/programming" in ids and "programming" in ids  # same name, two parents
        prog = codebook.code("cs_as_programming/programming")
        assert prog.theme == "cs_as_programming" and prog.label == "programming"


def test_sky_loom_reports_every_unsupported_part(shared_dir, tmp_path):
    with Store.open(tmp_path / "s.sqlite") as st:
        r = import_refi(st, shared_dir / "refi" / "samples" / "sky-loom_TestProject.qdpx")
    kinds = [s for s in r.skipped if not s.startswith("[")]
    assert kinds == [
        "PDF sources: 2 (not supported)", "picture sources: 1 (not supported)", "audio sources: 1 (not supported)",
        "video sources: 2 (not supported)", "notes (memos): 2 (not supported)", "links: 1 (not supported)",
        "graphs: 1 (not supported)", "sets: 16 (membership lists are not imported)",
    ]
    missing = [s for s in r.skipped if "source text missing" in s]
    assert len(missing) == 6
    assert missing[0].startswith("[sky-loom_TestProject.qdpx: Project.qde line 42] source text missing:")
    book = r.codebook
    assert book == "ATLAS.ti standard project refi-import"


def test_sky_loom_atlas_double_colon_names_become_a_hierarchy(shared_dir):
    from vbhc_code.refi import read_refi_codebook

    cb = read_refi_codebook(shared_dir / "refi" / "samples" / "sky-loom_TestProject.qdpx")
    assert cb.code("Coke::diet Coke").theme == "Coke"
    assert cb.code("happiness").theme == "ungrouped"
    assert cb.code("Feelings").definition == "thoughts about breakfast foods"
    assert cb.code("happiness").color == "#F00082"


def test_missing_source_and_selection_past_the_end_are_skipped_not_crashes(tmp_path):
    bad = write_zip(tmp_path / "bad.qdpx", {"project.qde": minimal_qde(end=999), "sources/S.txt": TINY_TEXT.encode()})
    gone = write_zip(tmp_path / "gone.qdpx", {"project.qde": minimal_qde()})
    with Store.open(tmp_path / "s.sqlite") as st:
        r = import_refi(st, bad)
        assert r.sources == 1 and r.codings == 0 and st.coders() == []
        assert r.skipped == ["[bad.qdpx: project.qde line 7] selection 0-999 is outside its source "
                             f"({len(TINY_TEXT)} characters)"]
    with Store.open(tmp_path / "t.sqlite") as st:
        r = import_refi(st, gone)
        assert r.sources == 0 and st.document_names() == []
        assert r.skipped == ["[gone.qdpx: project.qde line 5] source text missing: 'internal://S.txt': file not in "
                             "the archive (expected 'sources/S.txt')"]


def test_non_utf8_source_is_decoded_with_a_warning(tmp_path):
    text = "P01: caf\u00e9 na\u00efve talk.\n"
    f = write_zip(tmp_path / "latin.qdpx", {"project.qde": minimal_qde(start=5, end=9),
                                            "sources/S.txt": text.encode("cp1252")})
    with Store.open(tmp_path / "s.sqlite") as st:
        r = import_refi(st, f)
        assert "[sources/S.txt] not UTF-8; decoded as cp1252" in r.warnings
        doc = st.document("doc.txt")
        assert doc.plain_text == text and doc.encoding == "cp1252"
        [coding] = st.codings("eve")
        assert doc.plain_text[coding.start:coding.end] == "caf\u00e9"


def test_a_selection_over_two_turns_becomes_one_coding_per_turn(tmp_path):
    text = "P01: first turn here.\nP02: second turn here.\n"
    f = write_zip(tmp_path / "two.qdpx", {"project.qde": minimal_qde(start=10, end=len(text) - 1),
                                          "sources/S.txt": text.encode()})
    with Store.open(tmp_path / "s.sqlite") as st:
        r = import_refi(st, f)
        rows = st.codings("eve")
        assert r.codings == 1 and r.stored_codings == 2
        t1, t2 = st.turns(document="doc.txt")
        assert [(c.turn_index, c.start, c.end) for c in rows] == [(1, 10, t1.end), (2, None, None)]
        assert (t2.start, t2.end) == (27, len(text) - 1)


def test_conflicting_document_is_refused_and_nothing_is_written(tmp_path):
    f = write_zip(
        tmp_path / "a.qdpx", {"project.qde": minimal_qde(start=5, end=10), "sources/S.txt": TINY_TEXT.encode()}
    )
    g = write_zip(tmp_path / "b.qdpx", {"project.qde": minimal_qde(), "sources/S.txt": b"P01: other text.\n"})
    with Store.open(tmp_path / "s.sqlite") as st:
        import_refi(st, f)
        before = st.codings("eve")
        assert [(c.turn_index, c.start, c.end) for c in before] == [(1, 5, 10)]
        again = import_refi(st, f)  # same text: kept, codings replaced by the same
        assert again.warnings == ["doc.txt: already in the store with the same text; kept as it is",
                                  "coder 'eve' was already in the store; their codings were replaced"]
        assert st.codings("eve") == before
        with pytest.raises(ValidationError) as exc:
            import_refi(st, g)
        assert exc.value.problems == ["[b.qdpx: project.qde line 5] document 'doc.txt' is already in the store "
                                      "with a different text"]
        assert st.document("doc.txt").plain_text == TINY_TEXT


def test_turn_lookup_matches_a_brute_force_scan():
    """Selections map to exactly the turns whose spans they overlap, whatever the turn layout."""
    from hypothesis import given, settings
    from hypothesis import strategies as st

    from vbhc_code.models import Document, Turn
    from vbhc_code.refi.importer import _overlapping, _turn_index

    @settings(max_examples=150, deadline=None)
    @given(st.lists(st.tuples(st.integers(0, 60), st.integers(1, 15), st.integers(0, 6), st.integers(1, 6)),
                    min_size=1, max_size=12),
           st.integers(0, 80), st.integers(1, 30))
    def check(shapes, start, length):
        turns = []
        for i, (s, n, gap, n2) in enumerate(shapes, 1):
            spans = ((s, s + n), (s + n + gap, s + n + gap + n2)) if i % 3 == 0 else ()
            end = spans[-1][1] if spans else s + n
            turns.append(Turn(i, s, end, "x", spans=spans))
        doc = Document("d", "txt", "utf-8", "", "x" * 100, tuple(turns))
        end = start + length
        want = [t for t in turns if any(a < end and start < b for a, b in t.text_spans)]
        assert _overlapping(_turn_index(doc), start, end) == want

    check()


CASES_QDE = b"""<?xml version="1.0" encoding="utf-8"?>
<Project xmlns="urn:QDA-XML:project:1.0" name="cases" origin="MAXQDA 2022">
<Users><User guid="11111111-1111-1111-1111-111111111111" name="eve"/></Users>
<CodeBook><Codes><Code guid="22222222-2222-2222-2222-222222222222" name="Work" isCodable="true">
<Code guid="66666666-6666-6666-6666-666666666666" name="Return" isCodable="true" color="#abc"/></Code></Codes></CodeBook>
<Variables>
<Variable guid="a0000000-0000-0000-0000-000000000001" name="group" typeOfVariable="Text"/>
<Variable guid="a0000000-0000-0000-0000-000000000002" name="age" typeOfVariable="Integer"/>
<Variable guid="a0000000-0000-0000-0000-000000000003" name="site" typeOfVariable="Text"/>
</Variables>
<Cases><Case guid="c0000000-0000-0000-0000-000000000001" name="Maria">
<VariableValue><VariableRef targetGUID="a0000000-0000-0000-0000-000000000001"/><TextValue>client</TextValue></VariableValue>
<VariableValue><VariableRef targetGUID="a0000000-0000-0000-0000-000000000002"/><IntegerValue>52</IntegerValue></VariableValue>
<SourceRef targetGUID="33333333-3333-3333-3333-333333333333"/></Case></Cases>
<Sources><TextSource guid="33333333-3333-3333-3333-333333333333" name="Interview Maria" plainTextPath="internal://S.txt">
<PlainTextSelection guid="44444444-4444-4444-4444-444444444444" startPosition="30" endPosition="40"
 creatingUser="11111111-1111-1111-1111-111111111111">
<Coding guid="55555555-5555-5555-5555-555555555555"><CodeRef targetGUID="66666666-6666-6666-6666-666666666666"/></Coding>
</PlainTextSelection>
<VariableValue><VariableRef targetGUID="a0000000-0000-0000-0000-000000000003"/><TextValue>Zwolle</TextValue></VariableValue>
</TextSource></Sources>
</Project>
"""


def test_cases_variables_and_a_nested_code_from_another_tool(tmp_path):
    text = "Interviewer: How is work?\nMaria: I went back to work in May.\n"
    f = write_zip(tmp_path / "maxqda.qdpx", {"project.qde": CASES_QDE, "sources/S.txt": text.encode()})
    with Store.open(tmp_path / "s.sqlite") as st:
        r = import_refi(st, f)
        assert (r.participants, r.sources, r.codes, r.codings, r.coders) == (1, 1, 2, 1, ["eve"])
        maria = st.participants()["Maria"]
        assert dict(maria.attributes) == {"group": "client", "age": "52"}
        doc = st.document("Interview Maria")
        assert (doc.format, dict(doc.attributes)) == ("qdpx", {"site": "Zwolle"})
        turn = st.turn("Interview Maria", 2)
        assert turn.participant_id == "Maria"  # the case name matches the speaker label
        [coding] = st.codings("eve")  # creatingUser inherited from the selection
        # the selection starts inside the label "Maria: " and is clipped to the turn
        assert (coding.turn_index, coding.code, doc.plain_text[coding.start:coding.end]) == (2, "Return", "I went ")
        assert coding.start == turn.start
        cb = st.coder_codebook("eve")
        assert cb.code("Return").theme == "Work" and cb.code("Return").color == "#AABBCC"
        assert [t.id for t in cb.themes] == ["Work", "ungrouped"] and cb.code("Work").theme == "ungrouped"


def test_a_vendor_project_re_exports_valid_and_round_trips(shared_dir, tmp_path):
    """qc's deep, name-duplicating code tree comes back identical after our export and a re-import."""
    from vbhc_code.refi import check_refi

    with Store.open(tmp_path / "a.sqlite") as a:
        import_refi(a, shared_dir / "refi" / "samples" / "qc_demo.qdpx")
        export_qdpx(a, out=tmp_path / "qc.qdpx")
        assert check_refi(tmp_path / "qc.qdpx") == []  # the drift is gone in our copy
        with Store.open(tmp_path / "b.sqlite") as b:
            import_refi(b, tmp_path / "qc.qdpx")
            assert b.codings("cp") == a.codings("cp") and b.turns() == a.turns()
            ca, cb = a.coder_codebook("cp"), b.coder_codebook("cp")
            assert sorted((c.id, c.theme, c.label) for c in cb.codes) == sorted(
                (c.id, c.theme, c.label) for c in ca.codes
            )
            assert [(t.id, t.label) for t in cb.themes] == [(t.id, t.label) for t in ca.themes]


def test_identical_codings_by_one_user_are_counted_when_merged(tmp_path):
    qde = minimal_qde(start=5, end=10).decode()
    twin = ('<Coding guid="66666666-6666-6666-6666-666666666666" creatingUser="11111111-1111-1111-1111-111111111111">'
            '<CodeRef targetGUID="22222222-2222-2222-2222-222222222222"/></Coding></PlainTextSelection>')
    qde = qde.replace("</PlainTextSelection>", twin, 1)
    f = write_zip(tmp_path / "twice.qdpx", {"project.qde": qde.encode(), "sources/S.txt": TINY_TEXT.encode()})
    with Store.open(tmp_path / "s.sqlite") as st:
        r = import_refi(st, f)
        assert (r.codings, r.merged, r.stored_codings) == (2, 1, 1)
