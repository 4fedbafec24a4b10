"""The autocoder: lemma and variant matching (EN, NL), normalisation, vetoes, evidence offsets, scope, CLI."""

from __future__ import annotations

import random
import shutil

import pytest
from hypothesis import given, settings, strategies
from typer.testing import CliRunner

from vbhc_code.autocode.run import autocode, codebook_matcher, explain
from vbhc_code.autocode.terms import term_variants
from vbhc_code.cli import app
from vbhc_code.codebook.load import codebook_from_data, load_codebook
from vbhc_code.errors import DataError, UsageError
from vbhc_code.models import Document, Turn
from vbhc_code.nlp.match import TermMatcher, normalise_for_matching
from vbhc_code.store.store import Store

runner = CliRunner()


def make_codebook(codes: list[dict], languages=("en", "nl"), sha: str = "") -> object:
    raw = {
        "name": "test", "version": "1", "languages": list(languages),
        "themes": [{"id": "T", "label": "Test"}],
        "codes": [{"theme": "T", "label": c["id"].lower(), "title": c["id"], "definition": "d", **c} for c in codes],
    }
    cb, problems = codebook_from_data(raw, sha256=sha)
    assert cb is not None, [str(p) for p in problems]
    return cb


def make_document(name: str, turns: list[tuple[str, str, str]], *, language: str = "en", chat: set[int] = frozenset()) -> Document:
    """turns: (speaker, role, text); the plain text is 'SPEAKER: text' lines."""
    parts, out, pos = [], [], 0
    for i, (speaker, role, text) in enumerate(turns, 1):
        prefix = f"{speaker}: "
        start = pos + len(prefix)
        out.append(Turn(i, start, start + len(text), text, speaker, speaker if role == "participant" else None, role,
                        "chat" if i in chat else "speech", document=name))
        line = prefix + text + "\n"
        parts.append(line)
        pos += len(line)
    return Document(name, "txt", "utf-8", "0" * 64, "".join(parts), tuple(out), language=language)


def hits_for(cb, lang: str, text: str):
    return next(iter(codebook_matcher(cb, lang).match([text])))


# -- matching -----------------------------------------------------------------------------------
def test_english_lemma_matching():
    cb = make_codebook([{"id": "PAY", "terms": {"en": ["pay per case"]}}])
    text = "They Paid per case and paid PER case again."
    hits = hits_for(cb, "en", text)
    assert [(h.code, h.via, text[h.start:h.end]) for h in hits] == [
        ("PAY", "lemma", "Paid per case"), ("PAY", "lemma", "paid PER case"),
    ]


def test_dutch_lemma_and_variant_matching():
    cb = make_codebook([{"id": "G", "terms": {"nl": ["gaan werken", "afspraak", "financieel"]}}])
    text = "Ze gingen werken. De afspraken waren financiële afspraken."
    hits = hits_for(cb, "nl", text)
    assert [(h.via, text[h.start:h.end]) for h in hits] == [
        ("lemma", "gingen werken"), ("lower", "afspraken"), ("lower", "financiële"), ("lower", "afspraken"),
    ]


def test_curly_quotes_dashes_and_diacritics_are_folded():
    cb = make_codebook([{"id": "Q", "terms": {"en": ["client's own goals", "re-assessment", "patient reported"]}}])
    text = "The client\u2019s own goals, a re\u2011assessment and pati\u00ebnt reported data."
    hits = hits_for(cb, "en", text)
    assert [text[h.start:h.end] for h in hits] == ["client\u2019s own goals", "re\u2011assessment", "pati\u00ebnt reported"]
    assert len(normalise_for_matching(text)) == len(text)


def test_plural_and_spelling_variants():
    assert {"case mix", "case-mix", "casemix", "case mixes"} <= term_variants("case mix", "en")
    assert {"pakketten", "prikkels", "uitkomsten"} <= term_variants("pakket", "nl") | term_variants("prikkel", "nl") | term_variants("uitkomst", "nl")
    cb = make_codebook([{"id": "C", "terms": {"en": ["case mix"]}}])
    text = "Case-mix, casemix and case mixes."
    assert [text[h.start:h.end] for h in hits_for(cb, "en", text)] == ["Case-mix", "casemix", "case mixes"]


def test_terms_of_the_other_language_match_as_written():
    cb = make_codebook([{"id": "W", "terms": {"nl": ["bedrijfsarts"], "en": ["occupational physician"]}}])
    en_text = "I called the bedrijfsarts yesterday."
    assert [(h.via, en_text[h.start:h.end]) for h in hits_for(cb, "en", en_text)] == [("lower", "bedrijfsarts")]
    nl_text = "De occupational physicians bellen nooit."
    assert [nl_text[h.start:h.end] for h in hits_for(cb, "nl", nl_text)] == ["occupational physicians"]


def test_negative_terms_veto_overlapping_matches_only():
    cb = make_codebook([{"id": "GEO", "terms": {"en": ["concentrate"]}, "negative": {"en": ["concentrate on"]}}])
    text = "I concentrate on my clients. We should concentrate expertise."
    hits = hits_for(cb, "en", text)
    assert [(text[h.start:h.end], h.vetoed_by) for h in hits] == [("concentrate", "concentrate on"), ("concentrate", None)]


def test_token_patterns_fire_with_their_label():
    cb = make_codebook([{"id": "V", "terms": {"en": ["added value"]},
                         "patterns": {"en": [[{"LOWER": "value"}, {"LOWER": {"IN": ["for", "means"]}}]]}}])
    text = "Value for the client. Value-based care. Value means work."
    hits = hits_for(cb, "en", text)
    assert [(h.kind, h.label, text[h.start:h.end]) for h in hits] == [
        ("pattern", "V.patterns.en[0]", "Value for"), ("pattern", "V.patterns.en[0]", "Value means"),
    ]


def test_pattern_windows_find_what_a_full_matcher_finds():
    """Running the Matcher only around anchor tokens finds what running it on every whole text finds."""
    from spacy.matcher import Matcher

    from vbhc_code.nlp.segment import blank_nlp

    patterns = [
        [{"LEMMA": "pay"}, {"LOWER": "per"}, {"IS_ALPHA": True, "OP": "?"}, {"LOWER": {"IN": ["case", "product"]}}],
        [{"LOWER": "value"}, {"IS_ALPHA": True, "OP": "{0,2}"}, {"LOWER": "client"}],
        [{"LOWER": "the", "OP": "?"}, {"LOWER": "value"}, {"LOWER": "for"}],  # shares its anchor with the one above
        [{"LOWER": {"IN": ["case", "client"]}}, {"LOWER": "of"}],
    ]
    tm = TermMatcher("en")
    full = Matcher(blank_nlp("en").vocab)
    for i, p in enumerate(patterns):
        tm.add_pattern(f"p{i}", p)
        full.add(f"p{i}", [p])
    rng = random.Random(3)
    words = "we pay paid per case product value the a client for of".split()
    texts = [" ".join(rng.choice(words) for _ in range(rng.randint(0, 15))) for _ in range(300)]
    nlp = blank_nlp("en")
    for text, got in zip(texts, tm.pipe(texts, batch_size=50)):
        doc = nlp.make_doc(text)
        for t in doc:  # the Matcher needs lemmas for the LEMMA pattern
            t.lemma_ = {"paid": "pay"}.get(t.lower_, t.lower_)
        want = sorted((nlp.vocab.strings[m], doc[s].idx, doc[e - 1].idx + len(doc[e - 1])) for m, s, e in full(doc))
        assert sorted((k, s, e) for k, _, s, e in got) == want, text


def test_builtin_codebook_codes_typical_statements():
    cb = load_codebook()
    cases = {
        "We send PROMs at intake and the registry corrects for case-mix.": {"VBHC2"},
        "If we had one package price for the whole trajectory, things would change.": {"VBHC4"},
        "Because of the AVG the bedrijfsarts cannot send us the medical information.": {"SIM7"},
        # a profession named without contact or collaboration is not SIM2 (codebook 1.1.0)
        "Before this job I worked as a GP for ten years.": set(),
        "We rarely talk to the occupational physician about the client.": {"SIM2"},
        "What matters is a sustainable return to work for the client.": {"SIM4"},
        "I want to concentrate on the interview now.": set(),
    }
    for text, codes in cases.items():
        assert {h.code for h in hits_for(cb, "en", text) if h.codes} == codes, text
    nl = "De verzekeringsarts wil eerder betrokken worden; de financiële prikkels liggen bij de zorgverzekeraar."
    assert {h.code for h in hits_for(cb, "nl", nl) if h.codes} == {"SIM2", "SIM6"}


# -- autocode on a store ---------------------------------------------------------------------------
@pytest.fixture()
def store(tmp_path):
    st = Store.open(tmp_path / "s.sqlite")
    st.save_document(make_document("a.txt", [
        ("I", "interviewer", "Do you use PROMs or questionnaires?"),
        ("P1", "participant", "Yes. We send PROMs twice. The bedrijfsarts rarely calls."),
        ("P1", "participant", "Nothing to add."),
        ("P2", "participant", "The questionnaire\u2019s results help."),
    ], chat={4}))
    st.save_document(make_document("b.txt", [("P3", "participant", "De vragenlijsten van de bedrijfsartsen.")], language="nl"))
    yield st
    st.close()


def test_autocode_stores_participant_turns_with_exact_evidence(store):
    cb = load_codebook()
    report = autocode(store, codebook=cb)
    codings = store.codings("auto")
    # a.txt turn 4: a bare single word ("questionnaire") codes only with domain context in the turn (1.2.0)
    assert {(c.document, c.turn_index, c.code) for c in codings} == {
        ("a.txt", 2, "VBHC2"), ("a.txt", 2, "SIM2"), ("b.txt", 1, "VBHC2"),
    }
    texts = {d.name: d.plain_text for d in store.documents()}
    matched = {(c.document, c.turn_index, c.code): texts[c.document][c.start:c.end] for c in codings}
    assert matched == {
        ("a.txt", 2, "VBHC2"): "PROMs", ("a.txt", 2, "SIM2"): "bedrijfsarts rarely calls",
        ("b.txt", 1, "VBHC2"): "vragenlijsten",
    }
    for c in codings:  # the evidence names the offsets of the stored span first
        assert f" {c.start}-{c.end}" in c.evidence.split(";")[0]
        assert 0.5 <= c.confidence <= 0.99
    assert report.turns == 4 and report.codings == 3 and report.per_code["VBHC2"] == {"codings": 2, "turns": 2, "vetoed": 2}  # two spans: questionnaire('s)
    assert store.coder_codebook("auto").sha256 == cb.sha256
    assert store.coded_documents("auto") == {"a.txt", "b.txt"}


def test_rerun_replaces_and_scope_all_codes_interviewer_turns(store):
    cb = load_codebook()
    autocode(store, codebook=cb)
    autocode(store, codebook=cb, scope="all")
    keys = [(c.document, c.turn_index, c.code) for c in store.codings("auto")]
    assert len(keys) == len(set(keys)) == 4 and ("a.txt", 1, "VBHC2") in keys


def test_sentence_unit_stores_the_sentence_span(store):
    from vbhc_code.nlp.segment import sentence_spans

    doc = store.document("a.txt")
    turn = doc.turns[1]
    # Fill the sentence spans the ingest would have stored.
    doc2 = make_document("c.txt", [("P1", "participant", turn.text)])
    t = doc2.turns[0]
    from dataclasses import replace

    doc2 = replace(doc2, turns=(replace(t, sentences=tuple(sentence_spans(t.text, offset=t.start))),))
    store.save_document(doc2)
    autocode(store, codebook=load_codebook(), unit="sentence")
    got = {(c.code, doc2.plain_text[c.start:c.end]) for c in store.codings("auto", document="c.txt")}
    assert got == {("VBHC2", "We send PROMs twice."), ("SIM2", "The bedrijfsarts rarely calls.")}


def test_multi_cue_turn_offsets_point_into_the_document(tmp_path):
    text = "00:01 P1: we send\n00:02 P1: PROMs now\n"
    s1, s2 = text.index("we send"), text.index("PROMs now")
    turn = Turn(1, s1, s2 + 9, "we send PROMs now", "P1", "P1", spans=((s1, s1 + 7), (s2, s2 + 9)), document="v.vtt")
    with Store.open(tmp_path / "v.sqlite") as st:
        st.save_document(Document("v.vtt", "vtt", "utf-8", "0" * 64, text, (turn,)))
        autocode(st, codebook=load_codebook())
        (c,) = st.codings("auto")
        assert (c.code, text[c.start:c.end]) == ("VBHC2", "PROMs")


def test_mixing_codebooks_warns(store):
    from dataclasses import replace

    cb = load_codebook()
    autocode(store, codebook=replace(cb, version="0.9", sha256="e" * 64), coder="old")
    report = autocode(store, codebook=cb)
    assert any("coder 'old' coded with codebook 'vbhc-sim' 0.9" in w for w in report.warnings)
    again = autocode(store, codebook=replace(cb, version="0.8", sha256="d" * 64))
    assert any(w.startswith("coder 'auto' was coded with codebook 'vbhc-sim' 1.2.0") for w in again.warnings)


def test_usage_and_data_errors(store, tmp_path):
    cb = load_codebook()
    with pytest.raises(UsageError, match="^unit must be one of turn, sentence, not 'word'"):
        autocode(store, codebook=cb, unit="word")
    with pytest.raises(UsageError, match="^scope must be one of"):
        autocode(store, codebook=cb, scope="interviewer")
    with Store.open(tmp_path / "empty.sqlite") as empty, pytest.raises(DataError, match="no documents"):
        autocode(empty, codebook=cb)


def test_explain_lists_vetoed_hits_and_stored_codings(tmp_path):
    cb = make_codebook([{"id": "GEO", "terms": {"en": ["concentrate"]}, "negative": {"en": ["concentrate on"]}}], sha="a" * 64)
    with Store.open(tmp_path / "e.sqlite") as st:
        st.save_document(make_document("e.txt", [("P1", "participant", "I concentrate on it; we concentrate care.")]))
        autocode(st, codebook=cb)
        result = explain(st, "e.txt", 1, codebook=cb)
    assert [(h["matched"], h["vetoed_by"]) for h in result["hits"]] == [("concentrate", "concentrate on"), ("concentrate", None)]
    assert [s["code"] for s in result["stored"]] == ["GEO"]


# -- CLI ---------------------------------------------------------------------------------------------
def test_cli_autocode_and_explain(store, tmp_path):
    path = str(store.path)
    ok = runner.invoke(app, ["autocode", "--store", path], terminal_width=200)
    assert ok.exit_code == 0, ok.output
    assert "VBHC2" in ok.stdout and "2 documents, 4 turns" in ok.stderr  # the table is data, the summary a message
    shown = runner.invoke(app, ["autocode", "--store", path, "--explain", "a.txt", "2"], terminal_width=200)
    assert shown.exit_code == 0 and "term 'PROM' (lower)" in shown.stdout and "bedrijfsarts" in shown.stdout
    assert runner.invoke(app, ["autocode", "--store", path, "--unit", "word"]).exit_code == 2
    missing = runner.invoke(app, ["autocode", "--store", path, "--explain", "nope.txt", "1"])
    assert missing.exit_code == 1 and "unknown document 'nope.txt'" in missing.stderr
    assert runner.invoke(app, ["autocode", "--store", str(tmp_path / "none.sqlite")]).exit_code == 1
    bad_cb = tmp_path / "bad.toml"
    bad_cb.write_text('name = "x"\n', encoding="utf-8")
    assert runner.invoke(app, ["autocode", "--store", path, "--codebook", str(bad_cb)]).exit_code == 1


def test_sample_study_evidence_points_at_the_text(sample_store, tmp_path):
    path = tmp_path / "sample.sqlite"
    shutil.copy(sample_store, path)
    with Store.open(path) as st:
        report = autocode(st, codebook=load_codebook())
        assert report.codings > 0
        texts = {d.name: d.plain_text for d in st.documents()}
        turns = {(t.document, t.turn_index): t for t in st.turns()}
        for c in st.codings("auto"):
            turn = turns[(c.document, c.turn_index)]
            assert turn.role == "participant"
            assert any(s <= c.start < c.end <= e for s, e in turn.text_spans), c
            span = texts[c.document][c.start:c.end]
            assert span == span.strip() and span, c


def test_cli_explain_json(store):
    import json

    path = str(store.path)
    assert runner.invoke(app, ["autocode", "--store", path]).exit_code == 0
    shown = runner.invoke(app, ["autocode", "--store", path, "--explain", "b.txt", "1", "--json"])
    assert shown.exit_code == 0, shown.output
    data = json.loads(shown.stdout)
    assert data["language"] == "nl"
    assert [(h["code"], h["kind"], h["matched"], h["vetoed_by"]) for h in data["hits"]] == [
        ("VBHC2", "term", "vragenlijsten", None),
        ("", "context", "bedrijfsartsen", None),  # a bare profession is not SIM2 (1.1.0), but domain context (1.2.0)
    ]
    assert {s["code"] for s in data["stored"]} == {"VBHC2"}
    assert 0 < data["stored"][0]["confidence"] < 1


def _hypothesis_codebook():
    return make_codebook([
        {"id": "A", "terms": {"en": ["bundled payment", "case mix", "PROM"]}},
        {"id": "B", "terms": {"nl": ["bedrijfsarts", "financiële prikkel"]}},
    ], sha="b" * 64)


_PIECES = ["bundled payment", "Bundled\u00a0Payments", "case-mix", "casemix", "PROMs", "bedrijfsarts",
           "financi\u00eble prikkels", "Financiele prikkel", "\u201cPROM\u201d", "the", "client\u2019s", "and", ",",
           ".", "\n", "pay", "\u00e9t\u00e9", "x" * 3]


@settings(max_examples=60, deadline=None)
@given(strategies.lists(strategies.sampled_from(_PIECES), max_size=25), strategies.sampled_from(["en", "nl"]))
def test_lower_hits_point_exactly_at_a_variant_of_their_term(pieces, lang):
    cb = _hypothesis_codebook()
    text = " ".join(pieces)
    for hit in hits_for(cb, lang, text):
        matched = " ".join(normalise_for_matching(text[hit.start:hit.end]).lower().split())
        assert text[hit.start:hit.end] == text[hit.start:hit.end].strip()
        if hit.via == "lower":
            term_lang = "nl" if hit.code == "B" else "en"
            variants = {" ".join(normalise_for_matching(v).split()) for v in term_variants(hit.label, term_lang)}
            assert matched in variants, (matched, hit.label)


# -- audit additions ----------------------------------------------------------------------------------
def test_builtin_codebook_applies_its_exclude_rules():
    """Neighbouring codes stay apart where the codebook's include/exclude rules say so (EN and NL)."""
    cb = load_codebook()
    cases = {
        ("en", "With outcome-based funding the providers share one budget for the trajectory."): {"VBHC4"},
        ("nl", "Met integrale bekostiging krijgt het ziekenhuis één bedrag."): {"VBHC4"},
        ("en", "Everything is in the electronic medical record of the hospital."): {"VBHC7"},
        ("nl", "Dan moet je de belastbaarheid goed in kaart brengen."): set(),
        ("nl", "Ik heb daar eerlijk gezegd geen bezwaren tegen."): set(),
        ("nl", "Hoeveel bezwaarprocedures volgen er op een herbeoordeling?"): {"SIM5"},
        ("en", "That fee for service model drives volume, not value."): {"VBHC4"},
    }
    for (lang, text), codes in cases.items():
        assert {h.code for h in hits_for(cb, lang, text) if h.codes} == codes, text


def test_evaluate_names_both_codebooks_when_they_differ(tmp_path):
    from dataclasses import replace

    from vbhc_code.agreement.report import evaluate

    cb = load_codebook()
    edited = replace(cb, sha256="c" * 64)  # same name and version, different content
    with Store.open(tmp_path / "m.sqlite") as st:
        st.save_document(make_document("m.txt", [("P1", "participant", "We send PROMs."), ("P1", "participant", "No.")]))
        autocode(st, codebook=cb)
        report = autocode(st, codebook=edited, coder="ref")
        assert report.warnings == [
            (f"coder 'auto' coded with codebook 'vbhc-sim' 1.2.0 (sha256 {cb.sha256[:12]}), not 'vbhc-sim' 1.2.0 "
             "(sha256 cccccccccccc): comparing them mixes codebook versions")
        ]
        result = evaluate(st, coder="auto", against="ref")
    assert result["reasons"]["codebook"] == (
        f"the coders used different codebooks: ref: vbhc-sim 1.2.0 (sha256 cccccccccccc); auto: vbhc-sim 1.2.0 "
        f"(sha256 {cb.sha256[:12]})"
    )
    assert result["pooled"]["tp"] == 1 and result["pooled"]["fp"] == 0 and result["pooled"]["fn"] == 0


def test_evaluate_against_hand_computed_figures(tmp_path):
    """10 participant turns, two codes; figures worked out by hand and cross-checked with scikit-learn."""
    from sklearn.metrics import cohen_kappa_score

    from vbhc_code.agreement.report import evaluate
    from vbhc_code.models import Coding

    cb = make_codebook([{"id": "X", "terms": {"en": ["x"]}}, {"id": "Y", "terms": {"en": ["y"]}}], sha="f" * 64)
    ref = {"X": {1, 2, 3, 4}, "Y": {1, 2}}
    auto = {"X": {3, 4, 5, 6}, "Y": {1, 2, 3}}
    with Store.open(tmp_path / "h.sqlite") as st:
        st.save_document(make_document("h.txt", [("P1", "participant", f"turn {i}") for i in range(1, 11)]))
        for coder, sets in (("ref", ref), ("auto", auto)):
            codings = [Coding("h.txt", t, code, coder) for code, turns in sets.items() for t in sorted(turns)]
            st.replace_codings(coder, codings, coded_documents=["h.txt"], codebook=cb)
        e = evaluate(st, coder="auto", against="ref")
    x, y, p = e["per_code"]["X"], e["per_code"]["Y"], e["pooled"]
    assert (x["tp"], x["fp"], x["fn"], x["tn"]) == (2, 2, 2, 4)
    assert (y["tp"], y["fp"], y["fn"], y["tn"]) == (2, 1, 0, 7)
    assert x["precision"] == pytest.approx(0.5) and x["recall"] == pytest.approx(0.5) and x["f1"] == pytest.approx(0.5)
    assert x["cohen_kappa"] == pytest.approx((0.6 - 0.52) / 0.48)  # po .6, pe .4*.4 + .6*.6
    assert y["precision"] == pytest.approx(2 / 3) and y["recall"] == pytest.approx(1.0) and y["f1"] == pytest.approx(0.8)
    assert y["cohen_kappa"] == pytest.approx((0.9 - 0.62) / 0.38)  # po .9, pe .3*.2 + .7*.8
    assert (p["tp"], p["fp"], p["fn"], p["tn"]) == (4, 3, 2, 11) and e["n_units"] == 10
    assert p["precision"] == pytest.approx(4 / 7) and p["recall"] == pytest.approx(4 / 6) and p["f1"] == pytest.approx(8 / 13)
    assert p["cohen_kappa"] == pytest.approx((0.75 - 0.56) / 0.44)  # po 15/20, pe .35*.3 + .65*.7

    def flat(sets: dict[str, set[int]]) -> list[int]:
        return [int(t in sets[c]) for c in ("X", "Y") for t in range(1, 11)]

    assert p["cohen_kappa"] == pytest.approx(cohen_kappa_score(flat(ref), flat(auto)))
    assert e["macro"]["f1"] == pytest.approx((0.5 + 0.8) / 2)
    assert e["macro"]["cohen_kappa"] == pytest.approx((x["cohen_kappa"] + y["cohen_kappa"]) / 2)


def test_autocode_never_replaces_a_human_coder(store):
    """A slip of --coder must not wipe a coder's imported work; autocode's own coder is replaced as before."""
    from vbhc_code.models import Coding

    cb = load_codebook()
    human = [Coding("a.txt", 2, "VBHC2", "anna")]
    store.replace_codings("anna", human, coded_documents=["a.txt"], codebook=cb, source="coder-anna.xlsx")
    res = runner.invoke(app, ["autocode", "--coder", "anna", "--store", str(store.path)])
    assert res.exit_code == 1
    assert res.stderr.strip() == ("error: --coder anna: coder 'anna' holds codings from coder-anna.xlsx, "
                                  "not from autocode; choose another --coder")
    assert [(c.document, c.turn_index, c.code) for c in store.codings("anna")] == [("a.txt", 2, "VBHC2")]
    autocode(store, codebook=cb, coder="auto")
    autocode(store, codebook=cb, coder="auto", unit="sentence")  # re-running autocode itself is fine
    assert {c.name for c in store.coders()} == {"anna", "auto"}


def test_coder_help_says_imported_coders_are_refused():
    res = runner.invoke(app, ["autocode", "--help"], terminal_width=200)
    assert res.exit_code == 0
    assert ("Store the codings as this coder (replaces an earlier autocode run; a coder with imported codings is "
            "refused).") in " ".join(res.stdout.split())


def test_matcher_start_up_is_timed_apart_from_coding(store, monkeypatch):
    """A cold start (building spaCy and the codebook's matchers) is not counted in the coding rate."""
    from vbhc_code.autocode import run

    clock = [100.0]
    monkeypatch.setattr(run.time, "perf_counter", lambda: clock[0])
    build, cold = run.codebook_matcher, set()

    def slow_build(codebook, lang):  # noqa: ANN001, ANN202
        if lang not in cold:  # a cold start; coding itself takes no time on this clock
            cold.add(lang)
            clock[0] += 7.0
        return build(codebook, lang)

    monkeypatch.setattr(run, "codebook_matcher", slow_build)
    report = autocode(store, codebook=load_codebook())
    assert cold == {"en", "nl"}
    assert report.startup_seconds == 14.0
    assert report.seconds == 0.0
    assert report.words > 0


def test_documents_in_batches_give_the_codings_of_one_pass(sample_store, tmp_path, monkeypatch):
    """Autocode reads the store a batch of documents at a time (flat memory); any batch size codes alike."""
    from vbhc_code.autocode import run as autocode_run

    results = {}
    for batch in (1, 3, 10_000):
        path = tmp_path / f"batch{batch}.sqlite"
        shutil.copy(sample_store, path)
        monkeypatch.setattr(autocode_run, "DOCUMENT_BATCH", batch)
        seen: list[tuple[int, int]] = []
        words: list[int] = []
        with Store.open(path) as st:
            report = autocode(st, codebook=load_codebook(), on_progress=lambda d, n, seen=seen: seen.append((d, n)),
                              on_words=words.append)
            assert words == sorted(words) and words[-1] == report.words > 0
            results[batch] = (report.words, report.turns, report.per_code, st.codings("auto"))
            assert seen[-1] == (report.turns, report.turns) == (st.count_turns(scope="participant"),) * 2
            assert [d for d, _ in seen] == sorted(d for d, _ in seen)
    assert results[1] == results[3] == results[10_000]
    assert results[1][3]
