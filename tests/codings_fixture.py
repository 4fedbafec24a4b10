"""A tiny hand-built study store for the codings and reconcile tests."""

from __future__ import annotations

from pathlib import Path

from vbhc_code.models import Code, Codebook, Document, Participant, Theme, Turn
from vbhc_code.store import Store

CB = Codebook(
    "test-cb", "1.0", ("en",), (Theme("T", "theme"),),
    (
        Code("C1", "T", "outcomes", definition="Measuring outcomes.", include="PROMs", exclude="work outcomes: C2"),
        Code("C2", "T", "work", definition="Work participation."),
        Code("C3", "T", "data", definition="Exchanging data."),
    ),
)  # fmt: skip
CB2 = Codebook("test-cb", "2.0", ("en",), CB.themes, CB.codes)

# (speaker, participant_id, role, text); the texts test what survives an .xlsx round trip
DOCS = {
    "int01.txt": [
        ("I", None, "interviewer", "How do you measure outcomes?"),
        ("P1", "P1", "participant", "We use PROMs and a registry."),
        ("I", None, "interviewer", "And the costs?"),
        ("P1", "P1", "participant", "=SUM(A1) costs per trajectory\r\nand a second line"),
    ],
    "int02.txt": [
        ("I", None, "interviewer", "What matters to clients?"),
        ("P2", "P2", "participant", "Employers want return to work."),
        ("P2", "P2", "participant", "The data exchange takes ages \U0001f600 and\tmore."),
    ],
}


def make_document(name: str, turns: list[tuple], *, edit: dict[int, str] | None = None) -> Document:
    plain, out = "", []
    for i, (speaker, pid, role, text) in enumerate(turns, start=1):
        text = (edit or {}).get(i, text)
        plain += f"{speaker}: "
        start = len(plain)
        plain += text
        out.append(Turn(i, start, len(plain), text, speaker, pid, role, document=name))
        plain += "\n"
    return Document(name, "txt", "utf-8", "sha-" + name, plain, tuple(out))


def make_store(path: Path) -> Store:
    st = Store.open(path)
    st.save_participants([
        Participant("P1", (), {"group": "manager"}),
        Participant("P2", (), {"group": "physician", "text": "clash"}),
    ])  # fmt: skip
    for name, turns in DOCS.items():
        st.save_document(make_document(name, turns))
    return st
