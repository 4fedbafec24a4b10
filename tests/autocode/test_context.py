"""Context rules and confidence of the autocoder (codebook 1.2.0): domain context, interview talk,
off-topic documents, confidence scores and --min-confidence, study codebooks that extend vbhc-sim."""

from __future__ import annotations

from dataclasses import replace

import pytest
from typer.testing import CliRunner

from vbhc_code.autocode.run import NO_CONTEXT, Hit, autocode, confidence, explain
from vbhc_code.cli import app
from vbhc_code.codebook.load import check_codebook, codebook_from_data, load_codebook
from vbhc_code.errors import UsageError, ValidationError
from vbhc_code.models import Document, Turn
from vbhc_code.nlp.segment import sentence_spans
from vbhc_code.store.store import Store

runner = CliRunner()


def codebook(**extra):
    raw = {
        "name": "t", "version": "1", "languages": ["en"], "themes": [{"id": "T", "label": "T"}],
        "codes": [
            {"id": "PAY", "theme": "T", "label": "pay", "title": "Payment", "definition": "d", "terms": {"en": ["bundled payment", "DRG"]},
             "weak": {"en": ["bundle"]}},
            {"id": "CON", "theme": "T", "label": "consent", "title": "Consent", "definition": "d", "terms": {"en": ["consent"]}},
        ],
        "context": {"en": ["client", "insurance physician"]},
        "interview_talk": {"en": ["the recording"]},
        **extra,
    }
    cb, problems = codebook_from_data(raw, sha256="")
    assert cb is not None, [str(p) for p in problems]
    return cb


def document(name: str, texts: list[str]) -> Document:
    out, parts, pos = [], [], 0
    for i, text in enumerate(texts, 1):
        start = pos + 4
        sentences = tuple(sentence_spans(text, offset=start))
        out.append(Turn(i, start, start + len(text), text, "P1", "P1", "participant", sentences=sentences, document=name))
        parts.append(f"P1: {text}\n")
        pos += len(parts[-1])
    return Document(name, "txt", "utf-8", "0" * 64, "".join(parts), tuple(out), language="en")


def coded(store: Store, coder: str = "auto") -> set[tuple[str, int, str]]:
    return {(c.document, c.turn_index, c.code) for c in store.codings(coder)}


@pytest.fixture()
def store(tmp_path):
    with Store.open(tmp_path / "s.sqlite") as st:
        st.save_document(document("a.txt", [
            "A bundle of papers lay on the desk.",  # weak term, no context: not coded
            "The client gets one bundle for the whole trajectory.",  # weak term with a context word
            "The consent form is on the table.",  # single word, no context
            "The insurance physician needs consent before calling the GP.",  # single word with context
            "You have my consent for the recording. We use a bundled payment.",  # interview talk: first sentence only
            "We have DRG prices.",  # an acronym needs no context
        ]))
        yield st


def test_context_and_interview_talk_rules(store):
    autocode(store, codebook=codebook())
    assert coded(store) == {("a.txt", 2, "PAY"), ("a.txt", 4, "CON"), ("a.txt", 5, "PAY"), ("a.txt", 6, "PAY")}
    why = {(h["code"], h["label"]): h["vetoed_by"] for h in explain(store, "a.txt", 1, codebook=codebook())["hits"]}
    assert why == {("PAY", "bundle"): NO_CONTEXT}
    hits = explain(store, "a.txt", 5, codebook=codebook())["hits"]
    assert {(h["code"], h["vetoed_by"]) for h in hits if h["code"]} == {
        ("CON", "interview talk 'the recording'"), ("PAY", None),
    }


def test_off_topic_document_is_not_coded_but_a_short_one_is_judged_by_turn(store):
    long_text = " ".join(["The club meeting discussed the budget and the new pitch for the team."] * 30)
    store.save_document(document("club.txt", [long_text + " We use a bundled payment and DRG tables."]))
    autocode(store, codebook=codebook())
    assert not {k for k in coded(store) if k[0] == "club.txt"}
    reasons = {h["vetoed_by"] for h in explain(store, "club.txt", 1, codebook=codebook())["hits"] if h["code"]}
    assert len(reasons) == 1 and next(iter(reasons)).startswith("off-topic document: 0 distinct")
    store.save_document(document("short.txt", ["We use a bundled payment."]))
    autocode(store, codebook=codebook())
    assert ("short.txt", 1, "PAY") in coded(store)


def test_confidence_grows_with_distinct_evidence_and_filters(store):
    one = [Hit("PAY", "term", "bundled payment", "lower", 0, 15)]
    two = one + [Hit("PAY", "term", "DRG", "lower", 20, 23)]
    same_twice = one + [Hit("PAY", "term", "bundled payment", "lower", 30, 45)]
    weak = [Hit("PAY", "weak", "bundle", "lower", 0, 6)]
    assert confidence(weak, 1) < confidence(one, 0) < confidence(one, 2) < confidence(two, 0) <= 0.99
    assert confidence(same_twice, 0) == confidence(one, 0)  # distinct triggers count, not repetitions
    autocode(store, codebook=codebook())
    scores = {(c.turn_index, c.code): c.confidence for c in store.codings("auto")}
    assert all(0 < v <= 0.99 for v in scores.values())
    autocode(store, codebook=codebook(), min_confidence=scores[(2, "PAY")] + 0.01)
    assert (2, "PAY") not in {(c.turn_index, c.code) for c in store.codings("auto")}
    assert store.coders()[0].source.endswith(f"min_confidence={scores[(2, 'PAY')] + 0.01:g}")
    with pytest.raises(UsageError, match="^min_confidence must be between 0 and 1"):
        autocode(store, codebook=codebook(), min_confidence=1.5)


def test_cli_min_confidence(store):
    path = str(store.path)
    store.close()
    ok = runner.invoke(app, ["autocode", "--store", path, "--min-confidence", "0.99"])
    assert ok.exit_code == 0, ok.output
    with Store.open(path) as st:
        assert all(c.confidence >= 0.99 for c in st.codings("auto"))
    bad = runner.invoke(app, ["autocode", "--store", path, "--min-confidence", "2"])
    assert bad.exit_code == 2 and "--min-confidence" in bad.stderr


STUDY = """
extends = "vbhc-sim"
name = "my-study"
version = "0.1"

[[codes]]
id = "VBHC4"
terms.en = ["whole-package fee"]
weak.en = ["package"]

[context]
en = ["jobcoach"]
"""


def test_study_codebook_extends_the_builtin(tmp_path):
    path = tmp_path / "study.toml"
    path.write_text(STUDY, encoding="utf-8")
    base = load_codebook()
    study = load_codebook(path)
    assert (study.name, study.version, study.extends) == ("my-study", "0.1", "vbhc-sim")
    assert study.code_ids == base.code_ids
    vbhc4 = study.code("VBHC4")
    assert vbhc4.terms["en"][: len(base.code("VBHC4").terms["en"])] == base.code("VBHC4").terms["en"]
    assert vbhc4.terms["en"][-1] == "whole-package fee" and vbhc4.weak["en"][-1] == "package"
    assert study.context["en"][-1] == "jobcoach"
    assert study.code("VBHC4").definition == base.code("VBHC4").definition
    assert study.sha256 != base.sha256
    assert not [p for p in check_codebook(path) if p.level == "error"]
    ok = runner.invoke(app, ["codebook", "check", str(path)])
    assert ok.exit_code == 0, ok.output


def test_study_codebook_problems_are_located(tmp_path):
    path = tmp_path / "bad.toml"
    path.write_text('extends = "other"\nversion = "1"\n', encoding="utf-8")
    problems = [str(p) for p in check_codebook(path)]
    assert problems == ["[extends] only the built-in 'vbhc-sim' can be extended, not 'other'",
                        "[name] a study codebook needs its own name"]
    with pytest.raises(ValidationError):
        load_codebook(path)
    path.write_text(STUDY.replace('weak.en = ["package"]', 'weak.xx = ["package"]'), encoding="utf-8")
    assert any("weak.xx" in str(p) and p.level == "error" for p in check_codebook(path))


def test_builtin_codebook_round_trips_context_lists(tmp_path):
    from vbhc_code.codebook.io import export_codebook

    cb = load_codebook()
    assert cb.context["en"] and cb.interview_talk["nl"]
    back = load_codebook(export_codebook(cb, tmp_path / "cb.toml", force=True))
    assert back.context == cb.context and back.interview_talk == cb.interview_talk
    assert [c.weak for c in back.codes] == [c.weak for c in cb.codes]
    assert replace(back, sha256="") == replace(cb, sha256="")


def test_evaluate_reports_precision_and_recall_by_confidence_band(tmp_path):
    from vbhc_code.agreement.report import evaluate
    from vbhc_code.models import Coding

    with Store.open(tmp_path / "e.sqlite") as st:
        st.save_document(document("a.txt", [f"turn {i}." for i in range(1, 6)]))
        auto = [Coding("a.txt", 1, "C", "auto", confidence=0.9), Coding("a.txt", 2, "C", "auto", confidence=0.9),
                Coding("a.txt", 3, "C", "auto", confidence=0.6), Coding("a.txt", 4, "C", "auto", confidence=0.3)]
        ref = [Coding("a.txt", 1, "C", "ref"), Coding("a.txt", 3, "C", "ref"), Coding("a.txt", 5, "C", "ref")]
        st.replace_codings("auto", auto, coded_documents=["a.txt"], source="autocode unit=turn")
        st.replace_codings("ref", ref, coded_documents=["a.txt"])
        bands = {tuple(b["band"]): b for b in evaluate(st, coder="auto", against="ref")["confidence_bands"]}
        top, mid, low = bands[(0.85, 1.0)], bands[(0.5, 0.7)], bands[(0.0, 0.5)]
        assert (top["codings"], top["tp"], top["precision"], top["recall"]) == (2, 1, 0.5, 1 / 3)
        assert (mid["codings"], mid["precision"], mid["recall"]) == (1, 1.0, 1 / 3)
        assert (low["codings"], low["precision"]) == (1, 0.0)
        assert (low["codings_at_or_above"], low["precision_at_or_above"], low["recall_at_or_above"]) == (4, 0.5, 2 / 3)
        assert bands[(0.7, 0.85)]["codings"] == 0 and bands[(0.7, 0.85)]["precision"] is None
        shown = runner.invoke(app, ["evaluate", "--coder", "auto", "--against", "ref", "--store", str(st.path)],
                              terminal_width=200)
        assert shown.exit_code == 0 and "auto by confidence" in shown.stdout and "0.85-1.00" in shown.stdout
