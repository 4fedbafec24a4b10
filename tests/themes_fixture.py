"""A hand-built study store for the themes tests (counts are known by construction)."""

from __future__ import annotations

import re
from pathlib import Path

from vbhc_code.models import Code, Codebook, Coding, Document, Participant, Theme, Turn
from vbhc_code.store import Store

S = [  # sentences of 6-9 words; two or more make a 15-80 word quote
    "We measure outcomes that matter to patients.",
    "The bundled payment changed how teams worked together.",
    "Nobody trusted the data at the start.",
    "Later the dashboard made the results visible for everyone.",
    "Employers wanted faster return to work for their staff.",
    "Insurance physicians were sceptical about the whole value idea.",
    "The regional network shared costs and outcomes every quarter.",
    "Privacy rules slowed the linking of records a lot.",
]


def _sentences(plain: str, start: int, end: int) -> tuple[tuple[int, int], ...]:
    return tuple((start + m.start(), start + m.end()) for m in re.finditer(r"[^.?!]+[.?!]", plain[start:end]))


def _text_doc(name, doc_type, attrs, turns):
    """turns: (speaker, participant_id, role, text); plain text 'Speaker: text' lines."""
    plain, out = "", []
    for i, (speaker, pid, role, text) in enumerate(turns, start=1):
        plain += f"{speaker}: "
        s = len(plain)
        plain += text
        e = len(plain)
        plain += "\n"
        sents = tuple((a + (len(plain[a:b]) - len(plain[a:b].lstrip())), b) for a, b in _sentences(plain, s, e))
        out.append(Turn(i, s, e, text, speaker, pid, role, sentences=sents, document=name))
    return Document(name, "txt", "utf-8", "sha-" + name, plain, tuple(out), doc_type, "en", attrs)


def _vtt_doc(name, attrs):
    """One interviewer cue and one participant turn merged from three cues (text != plain slice)."""
    cues = [("I", None, "interviewer", S[0]), ("P4", "P4", "participant", S[1] + " " + S[2]),
            ("P4", "P4", "participant", S[3] + " " + S[4]), ("P4", "P4", "participant", S[5])]
    plain, pieces = "", []
    for k, (_sp, _pid, _role, text) in enumerate(cues):
        plain += f"00:00:0{k}.000 --> 00:00:0{k + 1}.000\n"
        s = len(plain)
        plain += text
        pieces.append((s, len(plain)))
        plain += "\n\n"
    t1 = Turn(1, *pieces[0], cues[0][3], "I", None, "interviewer", sentences=_sentences(plain, *pieces[0]),
              document=name)
    spans = tuple(pieces[1:])
    text = " ".join(plain[a:b] for a, b in spans)
    sents = tuple(
        (a + (len(plain[a:b]) - len(plain[a:b].lstrip())), b) for s, e in spans for a, b in _sentences(plain, s, e)
    )
    t2 = Turn(2, spans[0][0], spans[-1][1], text, "P4", "P4", "participant", spans=spans, sentences=sents,
              document=name)
    return Document(name, "vtt", "utf-8", "sha-" + name, plain, (t1, t2), "interview", "en", attrs)


CODEBOOK = Codebook(
    "VBHC", "1.2", ("en",),
    (Theme("T1", "Value"), Theme("T2", "Data")),
    (Code("A", "T1", "Outcomes", "Talk about outcomes"), Code("B", "T1", "Payment", "Bundled payment"),
     Code("C", "T2", "Data trust", "Trust in data")),
)


def build_store(path: Path, hostile: bool = False) -> Store:
    fg_turns = [
        ("Moderator", None, "interviewer", S[0] + " " + S[1]),
        ("P1", "P1", "participant", " ".join(S[0:6])),
        ("P2", "P2", "participant", " ".join(S[2:5])),
        ("P3", "P3", "participant", ("=HYPERLINK(\"http://x\") says it. " if hostile else "") + " ".join(S[4:8])),
        ("P1", "P1", "participant", " ".join(S[5:8])),
    ]
    store = Store.open(path)
    store.save_document(_text_doc("FG1.txt", "focus_group", {"health_system": "NL"}, fg_turns))
    store.save_document(_vtt_doc("INT01.vtt", {"health_system": "DE"}))
    store.save_document(_text_doc("INT02.txt", "interview", {"health_system": "DE"},
                                  [("P5", "P5", "participant", " ".join(S))]))
    store.save_participants([
        Participant("P1", attributes={"group": "SIM"}), Participant("P2", attributes={"group": "SIM"}),
        Participant("P3", attributes={"group": "VBHC", "group_label": "VBHC professional"}),
        Participant("P4", attributes={"group": "VBHC"}), Participant("P5", attributes={"group": "SIM"}),
    ])
    c = "consensus"
    codings = [
        Coding("FG1.txt", 2, "A", c), Coding("FG1.txt", 3, "A", c), Coding("FG1.txt", 4, "A", c),
        Coding("INT01.vtt", 2, "A", c), Coding("FG1.txt", 5, "A", c),
        Coding("FG1.txt", 2, "B", c), Coding("FG1.txt", 1, "B", c),
        Coding("FG1.txt", 4, "C", c), Coding("INT01.vtt", 2, "C", c, evidence="term 'dashboard'"),
        Coding("FG1.txt", 2, "C", c), Coding("FG1.txt", 2, "C", c, start=10, end=20),  # two rows, one turn
    ]
    store.replace_codings(c, codings, coded_documents=["FG1.txt", "INT01.vtt"], codebook=CODEBOOK)
    # INT02 is coded by another coder only: missing data for the consensus, never counted
    store.replace_codings("anna", [Coding("INT02.txt", 1, "A", "anna")], coded_documents=["INT02.txt"],
                          codebook=CODEBOOK)
    return store


def soffice() -> str | None:
    import shutil

    return shutil.which("soffice") or shutil.which("libreoffice")


def libreoffice_sheets(path: Path, outdir: Path) -> dict[str, list[list[str]]]:
    """Open ``path`` in headless LibreOffice and export every sheet as CSV: {sheet name: rows}.

    LibreOffice fails (or writes nothing) on a workbook it cannot load; text cells come back as written,
    so a formula that LibreOffice evaluated would show its result instead of the text.
    """
    import csv
    import os
    import subprocess

    outdir.mkdir(parents=True, exist_ok=True)
    filt = "csv:Text - txt - csv (StarCalc):44,34,76,1,,0,false,true,false,false,false,-1"
    env = {"HOME": str(outdir), "PATH": os.environ.get("PATH", "/usr/bin:/bin")}
    res = subprocess.run([soffice(), "--headless", "--convert-to", filt, "--outdir", str(outdir), str(path)],
                         check=False, capture_output=True, timeout=180, env=env, text=True)
    assert res.returncode == 0, res.stderr
    out = {}
    for line in res.stdout.splitlines():
        m = re.match(r"Writing sheet (.+) -> (.+\.csv)$", line.strip())
        if m:
            with open(m.group(2), newline="", encoding="utf-8") as fh:
                out[m.group(1)] = list(csv.reader(fh))
    return out
