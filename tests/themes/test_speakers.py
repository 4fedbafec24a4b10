"""P-style labels are one person without a sheet; speakers the sheet does not list are named and warned."""

from __future__ import annotations

from themes_fixture import CODEBOOK, S, _text_doc

from vbhc_code.models import Coding, Participant
from vbhc_code.store.store import Store
from vbhc_code.themes.build import build_themes
from vbhc_code.themes.speakers import normalised_label

TEXT = " ".join(S[:3])


def _store(path, turns_by_doc, participants=()):
    st = Store.open(path)
    for name, turns in turns_by_doc.items():
        st.save_document(_text_doc(name, "interview", {}, turns))
    if participants:
        st.save_participants(participants)
    codings = [Coding(name, i, "A", "c") for name, turns in turns_by_doc.items() for i in range(1, len(turns) + 1)]
    st.replace_codings("c", codings, coded_documents=list(turns_by_doc), codebook=CODEBOOK)
    return st


def test_normalised_label():
    assert [normalised_label(x) for x in ("P2", "p2", "P02", "P 2", "R3", "Anna", "SUPERVISOR")] == [
        "P02", "P02", "P02", "P02", "R03", "Anna", "SUPERVISOR"]


def test_p2_and_p02_are_one_person_without_a_sheet(tmp_path):
    st = _store(tmp_path / "s.sqlite", {"a.txt": [("P2", None, "participant", TEXT)],
                                        "b.txt": [("P02", None, "participant", TEXT)]})
    result = build_themes(st, coder="c", codebook=CODEBOOK)
    row = result.themes.set_index("code").loc["A"]
    assert row["participants"] == 1 and result.overview["participants"] == 1
    assert {q.participant_id for q in result.quote_objects} == {"P02"}
    st.close()


def test_a_speaker_not_in_the_sheet_is_named_and_warned(tmp_path):
    st = _store(tmp_path / "s.sqlite", {"fg.txt": [("P1", "P1", "participant", TEXT),
                                                   ("SUPERVISOR", None, "participant", TEXT)]},
                [Participant("P1", attributes={"group": "SIM"})])
    result = build_themes(st, coder="c", codebook=CODEBOOK, quotes=5)
    assert ("speaker 'SUPERVISOR' (fg.txt) is not in the participants sheet: counted and quoted under that label; "
            "add it to the sheet (as an alias or with speaker_role interviewer) and ingest again") in result.warnings
    attributions = {q.participant_id: q.attribution for q in result.quote_objects}
    assert attributions["SUPERVISOR"].startswith("SUPERVISOR (not in the participants sheet)")
    assert not attributions["P1"].startswith("P1 (")
    assert any("1 speaker not in the participants sheet (SUPERVISOR) is counted and quoted under the transcript "
               "label." in p for p in result.methods)
    st.close()
