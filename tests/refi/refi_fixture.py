"""Shared builders for the REFI tests: a small two-coder study with a consensus, built from the model."""

from __future__ import annotations

import zipfile
from pathlib import Path

from vbhc_code.models import Code, Codebook, Coding, Participant, Theme, frozen_mapping
from vbhc_code.store.store import Store

TEXT_1 = (
    "Interviewer: What does value mean to you?\n"
    "P01: Outcomes that matter, like returning to work.\nAnd feedback on them.\n"
    "Interviewer: And costs?\n"
    "P01: We never measure the full care cycle \u00e9\U0001f600.\n"
)
TEXT_2 = (
    "Interviewer: Tell me about the UWV.\n"
    "P02: The bedrijfsarts and the verzekeringsarts never talk. =SUM(A1)\n"
    "P02: Privacy law blocks it.\n"
)
PARTICIPANTS = (
    Participant("P01", ("Anna de Vries",), frozen_mapping({"group": "physician", "age": "45", "score": "3.5"})),
    Participant("P02", (), frozen_mapping({"group": "client", "age": "38", "score": "4"})),
)


def codebook() -> Codebook:
    return Codebook(
        "vbhc-sim", "1.0", ("en", "nl"),
        (Theme("VBHC", "vbhc", "Porter's value agenda"), Theme("SIM", "sim", "")),
        (
            Code("VBHC2", "VBHC", "outcome_measurement", "Measuring outcomes that matter.", include="PROMs",
                 exclude="which outcomes: SIM4", examples=("we measure PROMs", "registries"), color="#AA0000"),
            Code("VBHC3", "VBHC", "cost_measurement", "Cost of a full care cycle."),
            Code("SIM4", "SIM", "work_outcomes", "Work and participation outcomes."),
            Code("SIM7", "SIM", "it_exchange", "Data exchange between SIM and care."),
        ),
    )


def make_document(name: str, text: str, participants=PARTICIPANTS, **kwargs):
    from vbhc_code.ingest.folder import document_from_text

    return document_from_text(name, text, participants=participants, **kwargs)


def build_store(path: Path) -> Store:
    """Two documents, two participants, coders anna and ben (one span coding) and a consensus."""
    st = Store.open(path)
    st.save_participants(PARTICIPANTS)
    st.save_document(make_document("int01.txt", TEXT_1, attributes={"site": "Utrecht", "wave": "2"}))
    st.save_document(make_document("sub/int02.txt", TEXT_2, attributes={"site": "Zwolle", "wave": "2"}))
    cb = codebook()
    turns = {(t.document, t.turn_index): t for t in st.turns()}
    t2 = turns[("int01.txt", 2)]

    def c(doc, ti, code, coder, s=None, e=None):
        return Coding(doc, ti, code, coder, s, e)

    st.replace_codings("anna", [
        c("int01.txt", 2, "SIM4", "anna"), c("int01.txt", 2, "VBHC2", "anna"), c("int01.txt", 4, "VBHC3", "anna"),
        c("sub/int02.txt", 2, "SIM7", "anna"),
    ], coded_documents=["int01.txt", "sub/int02.txt"], codebook=cb)
    st.replace_codings("ben", [
        c("int01.txt", 2, "SIM4", "ben", t2.start + 9, t2.end), c("int01.txt", 4, "VBHC3", "ben"),
    ], coded_documents=["int01.txt", "sub/int02.txt"], codebook=cb)
    st.replace_codings("consensus", [c("int01.txt", 2, "SIM4", "consensus"), c("int01.txt", 4, "VBHC3", "consensus")],
                       coded_documents=["int01.txt"], codebook=cb)
    return st


def qde_of(path: Path) -> bytes:
    with zipfile.ZipFile(path) as zf:
        return zf.read("project.qde")


def write_zip(path: Path, members: dict[str, bytes]) -> Path:
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return path


def minimal_qde(*, text_path: str = "internal://S.txt", start: int = 0, end: int = 5, extra: str = "") -> bytes:
    """A tiny hand-written project: one user, one code, one source with one coded selection."""
    return f"""<?xml version="1.0" encoding="utf-8"?>
<Project xmlns="urn:QDA-XML:project:1.0" name="tiny" origin="hand">
<Users><User guid="11111111-1111-1111-1111-111111111111" name="eve"/></Users>
<CodeBook><Codes><Code guid="22222222-2222-2222-2222-222222222222" name="topic" isCodable="true" color="#00FF00"/></Codes></CodeBook>
<Sources><TextSource guid="33333333-3333-3333-3333-333333333333" name="doc.txt" plainTextPath="{text_path}">
<PlainTextSelection guid="44444444-4444-4444-4444-444444444444" startPosition="{start}" endPosition="{end}"
 creatingUser="11111111-1111-1111-1111-111111111111">
<Coding guid="55555555-5555-5555-5555-555555555555" creatingUser="11111111-1111-1111-1111-111111111111">
<CodeRef targetGUID="22222222-2222-2222-2222-222222222222"/></Coding></PlainTextSelection>
</TextSource></Sources>{extra}
</Project>
""".encode()


TINY_TEXT = "P01: Hello world, this is a test.\n"


def test_builder_gives_the_study_the_tests_expect(tmp_path):
    st = build_store(tmp_path / "s.sqlite")
    assert [c.name for c in st.coders()] == ["anna", "ben", "consensus"]
    assert [(c.name, c.n_codings) for c in st.coders()] == [("anna", 4), ("ben", 2), ("consensus", 2)]
    turn = st.turn("int01.txt", 2)
    assert turn.participant_id == "P01" and "\n" in turn.text  # a turn over two lines: CRLF shifts inside it
