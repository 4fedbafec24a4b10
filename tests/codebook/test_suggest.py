"""codebook suggest-terms: log-odds with an informative Dirichlet prior, precision/recall, study codebook."""

from __future__ import annotations

import math

import pytest
from typer.testing import CliRunner

from vbhc_code.cli import app
from vbhc_code.codebook.load import check_codebook, load_codebook
from vbhc_code.codebook.suggest import log_odds_z, suggest_terms
from vbhc_code.models import Coding, Document, Turn
from vbhc_code.store.store import Store

runner = CliRunner()

TEXTS = [
    ("We get one episode fee for the whole trajectory of the client.", True),
    ("The episode fee covers the assessment and the guidance, for every client.", True),
    ("With an episode fee the insurer pays once; that changes what we do.", True),
    ("The client talked about the weather and his garden.", False),
    ("The physician saw the client on Tuesday, a long appointment.", False),
    ("The fee for parking at the hospital is outrageous.", False),
    ("The insurer phoned the client about the appointment.", False),
    ("Our team meets the client every month.", False),
]


def test_log_odds_z_by_hand():
    # Monroe et al. (2008) eq. 22: delta over sqrt(1/(y_i + a_w) + 1/(y_j + a_w))
    y_i, n_i, y_j, n_j, a_w, a_0 = 5, 100, 1, 200, 0.5, 10
    delta = math.log(5.5 / (110 - 5.5)) - math.log(1.5 / (210 - 1.5))
    assert log_odds_z(y_i, n_i, y_j, n_j, a_w, a_0) == pytest.approx(delta / math.sqrt(1 / 5.5 + 1 / 1.5))
    assert log_odds_z(1, 100, 5, 100, 0.5, 10) < 0 < log_odds_z(5, 100, 1, 100, 0.5, 10)


@pytest.fixture()
def store(tmp_path):
    with Store.open(tmp_path / "s.sqlite") as st:
        codings = []
        for name in ("a.txt", "b.txt"):  # two documents: an automatic accept needs 3+ turns in 2+ documents
            turns, plain = [], ""
            for i, (text, coded) in enumerate(TEXTS, 1):
                plain += "P1: "
                turns.append(Turn(i, len(plain), len(plain) + len(text), text, "P1", "P1", "participant", document=name))
                plain += text + "\n"
                if coded:
                    codings.append(Coding(name, i, "VBHC4", "anna"))
            st.save_document(Document(name, "txt", "utf-8", "0" * 64, plain, tuple(turns), language="en"))
        st.replace_codings("anna", codings, coded_documents=["a.txt", "b.txt"], codebook=load_codebook(),
                           source="anna.xlsx")
        yield st


def test_suggests_the_over_represented_phrase_with_precision_and_recall(store):
    found = suggest_terms(store, coder="anna", codebook=load_codebook())
    best = found["VBHC4"][0]
    assert (best.term, best.lang, best.coded, best.turns, best.documents) == ("episode fee", "en", 6, 6, 2)
    assert (best.precision, best.recall) == (1.0, 1.0) and best.examples == ["a.txt#1", "a.txt#2", "a.txt#3"]
    assert all(c.term not in ("episode", "fee") or c.turns != 6 for c in found["VBHC4"])  # nested n-grams dropped
    fee = next((c for c in found["VBHC4"] if c.term == "fee"), None)
    assert fee is None or (fee.turns, fee.coded, fee.precision) == (8, 6, 0.75)
    assert found["SIM1"] == []  # no turns coded: nothing to learn


def test_cli_writes_a_study_codebook_that_check_and_autocode_accept(store, tmp_path):
    out = tmp_path / "study.toml"
    path = str(store.path)
    result = runner.invoke(app, ["codebook", "suggest-terms", "--from", "anna", "--store", path, "--out", str(out),
                                 "--accept", "1", "--name", "my-study"], terminal_width=200)
    assert result.exit_code == 0, result.output
    assert "episode fee" in result.stdout and "a.txt#1" in result.stdout
    text = out.read_text(encoding="utf-8")
    assert 'extends = "vbhc-sim"' in text and '\n    "episode fee",  # z ' in text
    assert not [p for p in check_codebook(out) if p.level == "error"]
    study = load_codebook(out)
    assert study.name == "my-study" and "episode fee" in study.code("VBHC4").terms["en"]
    again = runner.invoke(app, ["codebook", "suggest-terms", "--from", "anna", "--store", path, "--out", str(out)])
    assert again.exit_code == 1 and "--force" in again.stderr and out.read_text(encoding="utf-8") == text
    store.close()
    ok = runner.invoke(app, ["autocode", "--store", path, "--codebook", str(out)])
    assert ok.exit_code == 0, ok.output
    with Store.open(path) as st:
        assert ("a.txt", 1, "VBHC4") in {(c.document, c.turn_index, c.code) for c in st.codings("auto")}
    unknown = runner.invoke(app, ["codebook", "suggest-terms", "--from", "nobody", "--store", path])
    assert unknown.exit_code == 1 and "no coder 'nobody'" in unknown.stderr


def test_nothing_accepted_by_default(store, tmp_path):
    out = tmp_path / "study.toml"
    assert runner.invoke(app, ["codebook", "suggest-terms", "--from", "anna", "--store", str(store.path),
                               "--out", str(out)]).exit_code == 0
    assert load_codebook(out).code("VBHC4").terms == load_codebook().code("VBHC4").terms
    assert '#     "episode fee",' in out.read_text(encoding="utf-8")
