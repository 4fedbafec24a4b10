"""Quotes never publish an identifier: flagged spans are masked in every output, with a located warning."""

from __future__ import annotations

import json
import zipfile

import pytest
from openpyxl import load_workbook
from themes_fixture import CODEBOOK, S, _text_doc
from typer.testing import CliRunner

from vbhc_code.cli import app
from vbhc_code.models import Coding, Participant
from vbhc_code.store.store import Store
from vbhc_code.themes.build import build_themes
from vbhc_code.themes.masking import mask_text

SECRETS = ("jan.devries@example.nl", "06-12345678", "Jansen")
TEXT = (f"{S[0]} Mail me at jan.devries@example.nl or call 06-12345678 about the results. "
        f"Dr. Jansen said that {S[1].lower()} {S[2]}")


@pytest.fixture()
def store(tmp_path):
    st = Store.open(tmp_path / "s.sqlite")
    st.save_document(_text_doc("INT09.txt", "interview", {}, [("I", None, "interviewer", "Tell me."),
                                                              ("P1", "P1", "participant", TEXT)]))
    st.save_participants([Participant("P1", attributes={"group": "SIM"})])
    st.replace_codings("consensus", [Coding("INT09.txt", 2, "A", "consensus")], coded_documents=["INT09.txt"],
                       codebook=CODEBOOK)
    yield st
    st.close()


def test_mask_text_uses_typed_placeholders():
    masked, kinds = mask_text(TEXT)
    assert "[e-mail]" in masked and "[phone]" in masked and "[name] said" in masked
    assert dict(kinds) == {"email": 1, "phone": 1, "name": 1}
    assert not any(s in masked for s in SECRETS)


def test_every_quote_output_is_masked_and_counted(store, tmp_path):
    out, md, docx = tmp_path / "t.xlsx", tmp_path / "t.md", tmp_path / "t.docx"
    res = CliRunner().invoke(app, ["themes", "--coder", "consensus", "--out", str(out), "--md", str(md),
                                   "--docx", str(docx), "--json", "--store", str(store.path)])
    assert res.exit_code == 0, res.output
    assert ("warning: quote of A from INT09.txt #2: possible identifiers masked (1 [e-mail], 1 [name], "
            "1 [phone])") in res.stderr
    assert not any(s in res.stderr for s in SECRETS)  # the warning holds no interview text
    quotes = json.loads(res.stdout)["quotes"]
    assert len(quotes) == 1 and "[e-mail]" in json.dumps(quotes)
    xlsx = "\n".join(str(c) for ws in load_workbook(out, read_only=True) for row in ws.iter_rows(values_only=True)
                     for c in row if c is not None)
    with zipfile.ZipFile(docx) as z:
        word = z.read("word/document.xml").decode()
    for written in (res.stdout, md.read_text(encoding="utf-8"), xlsx, word):
        assert "[e-mail]" in written and not any(s in written for s in SECRETS)
    assert "Identifiers were masked in 1 quote." in md.read_text(encoding="utf-8")
    assert "quotes masked\t1" in "\n".join(
        f"{r[0]}\t{r[1]}" for r in load_workbook(out)["Overview"].iter_rows(values_only=True) if r[0])


def test_allow_list_keeps_known_names(store, tmp_path):
    allow = ["Dr. Jansen"]
    result = build_themes(store, coder="consensus", codebook=CODEBOOK, allow=allow)
    (quote,) = result.quote_objects
    assert "Dr. Jansen" in quote.text and "[e-mail]" in quote.text and result.overview["quotes_masked"] == 1
