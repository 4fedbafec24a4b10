"""Candidate terms for each code from a human coding: ``vbhc-code codebook suggest-terms``.

Lemma n-grams (1-3 words, not starting or ending with a stop word) are counted in the turns a coder gave
a code and in the rest of the coded turns; the weighted log-odds ratio with an informative Dirichlet
prior (Monroe, Colaresi & Quinn 2008, "Fightin' words", eq. 16-22; the prior is the n-gram's share of
all turns) ranks the n-grams over-represented in the code's turns. Each candidate carries its precision
and recall as a rule on that coding (turns holding it that have the code / the code's turns holding it)
and example turn references (never text: output may go to logs).
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from vbhc_code.codebook.load import normalise_term
from vbhc_code.errors import DataError, opt
from vbhc_code.models import Codebook

PRIOR = 100.0  # alpha_0: total prior pseudo-count, spread over n-grams by their share of all turns
MIN_Z = 1.0  # a ranking, not a test: precision and recall on the coding decide what is accepted
MAX_N = 3


@dataclass
class Candidate:
    code: str
    lang: str
    term: str  # the most frequent surface form
    z: float
    precision: float
    recall: float
    turns: int  # turns holding it
    coded: int  # of those, turns with the code
    examples: list[str] = field(default_factory=list)  # "DOC#turn"
    documents: int = 0  # documents whose coded turns hold it

    def as_dict(self) -> dict[str, Any]:
        return {k: (round(v, 4) if isinstance(v, float) else v) for k, v in self.__dict__.items()}


def _ngrams(words: list[tuple[str, str]], stops: frozenset[str]) -> dict[tuple[str, ...], str]:
    """Lemma n-gram -> its surface form in this turn."""
    out: dict[tuple[str, ...], str] = {}
    for n in range(1, MAX_N + 1):
        for i in range(len(words) - n + 1):
            gram = words[i : i + n]
            if gram[0][0] in stops or gram[-1][0] in stops:
                continue
            out.setdefault(tuple(lemma for _, lemma in gram), " ".join(form for form, _ in gram))
    return out


def log_odds_z(y_i: float, n_i: float, y_j: float, n_j: float, alpha_w: float, alpha_0: float) -> float:
    """z-score of the log-odds ratio of a word in group i vs j with an informative Dirichlet prior."""
    delta = math.log((y_i + alpha_w) / (n_i + alpha_0 - y_i - alpha_w)) - math.log(
        (y_j + alpha_w) / (n_j + alpha_0 - y_j - alpha_w)
    )
    return delta / math.sqrt(1 / (y_i + alpha_w) + 1 / (y_j + alpha_w))


def suggest_terms(
    store: Any, *, coder: str, codebook: Codebook, top: int = 10, min_turns: int = 2
) -> dict[str, list[Candidate]]:
    """Candidates per code (best first) from ``coder``'s codings of participant turns in the documents it coded."""
    from vbhc_code.nlp.match import stop_words, word_lemmas

    known = {c.name for c in store.coders()}
    if coder not in known:
        raise DataError(f"{opt('coder', flag='from')}: no coder '{coder}' in the store "
                        f"(coders: {', '.join(sorted(known)) or 'none yet'})")
    docs = store.coded_documents(coder)
    languages = {d.name: d.language for d in store.documents() if d.name in docs}
    codes_of: dict[tuple[str, int], set[str]] = defaultdict(set)
    for c in store.codings(coder):
        codes_of[(c.document, c.turn_index)].add(c.code)
    turns = [t for t in store.turns(scope="participant") if t.document in docs]
    existing = {(code.id, lang): {normalise_term(t) for t in terms} for code in codebook.codes
                for lang, terms in code.terms.items()}
    out: dict[str, list[Candidate]] = {code: [] for code in codebook.code_ids}
    for lang in sorted(set(languages.values())):
        lang_turns = [t for t in turns if languages[t.document] == lang]
        stops = stop_words(lang)
        grams = [_ngrams(words, stops) for words in word_lemmas((t.text for t in lang_turns), lang)]
        for code in codebook.code_ids:
            out[code] += _rank(code, lang, lang_turns, grams, codes_of, existing.get((code, lang), set()), min_turns)
    for code in out:
        out[code] = sorted(out[code], key=lambda c: -c.z)[:top]
    return out


def _rank(code, lang, turns, grams, codes_of, existing, min_turns) -> list[Candidate]:  # noqa: ANN001
    """Candidates of one code in one language's turns."""
    inside = [code in codes_of.get((t.document, t.turn_index), ()) for t in turns]
    n_coded = sum(inside)
    if n_coded < min_turns:
        return []
    y_i: Counter = Counter()
    y_j: Counter = Counter()
    forms: dict[tuple[str, ...], Counter] = defaultdict(Counter)
    where: dict[tuple[str, ...], list[int]] = defaultdict(list)
    for k, (g, is_in) in enumerate(zip(grams, inside)):
        for gram, form in g.items():
            (y_i if is_in else y_j)[gram] += 1
            forms[gram][form] += 1
            where[gram].append(k)
    n_i, n_j = sum(y_i.values()), sum(y_j.values())
    total = n_i + n_j
    found = []
    for gram, count in y_i.items():
        if count < min_turns:
            continue
        alpha_w = PRIOR * (count + y_j[gram]) / total
        z = log_odds_z(count, n_i, y_j[gram], n_j, alpha_w, PRIOR)
        term = forms[gram].most_common(1)[0][0]
        if z < MIN_Z or normalise_term(term) in existing or " ".join(gram) in existing:
            continue
        holding = where[gram]
        coded = sum(inside[k] for k in holding)
        examples = [f"{turns[k].document}#{turns[k].turn_index}" for k in holding if inside[k]]
        n_docs = len({turns[k].document for k in holding if inside[k]})
        found.append(Candidate(code, lang, term, z, coded / len(holding), coded / n_coded, len(holding), coded,
                               examples[:3], n_docs))
    return _drop_nested(found)


def _drop_nested(found: list[Candidate]) -> list[Candidate]:
    """A shorter n-gram inside a longer one that holds in exactly the same turns says nothing more."""
    keep = []
    for c in found:
        if not any(o is not c and o.turns == c.turns and o.coded == c.coded and f" {c.term} " in f" {o.term} "
                   and len(o.term) > len(c.term) for o in found):
            keep.append(c)
    return keep


def study_codebook_toml(
    candidates: dict[str, list[Candidate]], *, coder: str, name: str, accept: int, min_precision: float
) -> str:
    """A study codebook extending vbhc-sim: per code, its candidates as terms, the first ``accept`` that are
    ``acceptable`` accepted (plain lines), the others commented out for the researcher."""
    from vbhc_code.codebook.load import BUILTIN_NAME

    lines = [
        f"# Study codebook: candidate terms from the coding of '{coder}' (vbhc-code codebook suggest-terms, "
        f"{date.today().isoformat()}).",
        "# Each line shows the candidate's z (weighted log-odds), its precision and recall on that coding and example",
        f"# turns. Accepted: the best {accept} per code with precision >= {min_precision:g} in {ACCEPT_TURNS}+ turns "
        f"of {ACCEPT_DOCUMENTS}+ documents; the others are commented",
        "# out: remove the leading '#' to accept one, or delete the line. Check with: vbhc-code codebook check FILE",
        f'extends = "{BUILTIN_NAME}"',
        f'name = "{name}"',
        'version = "0.1"',
    ]
    for code, found in candidates.items():
        if not found:
            continue
        lines += ["", "[[codes]]", f'id = "{code}"', "", "[codes.terms]"]
        for lang in sorted({c.lang for c in found}):
            lines.append(f"{lang} = [")
            accepted = 0
            for c in (c for c in found if c.lang == lang):
                ok = accepted < accept and acceptable(c, min_precision)
                accepted += ok
                note = (
                    f"z {c.z:.1f}, precision {c.precision:.2f}, recall {c.recall:.2f} ({c.coded} of {c.turns} turns), "
                    f"e.g. {', '.join(c.examples)}"
                )
                lines.append(f"{'' if ok else '# '}    {_toml_string(c.term)},  # {note}")
            lines.append("]")
    return "\n".join(lines) + "\n"


ACCEPT_TURNS = 3  # an automatic accept needs this many coded turns holding the candidate ...
ACCEPT_DOCUMENTS = 2  # ... in this many documents (one speaker's idiom is not the study's language)


def acceptable(c: Candidate, min_precision: float) -> bool:
    """Whether ``--accept`` may take a candidate without the researcher: precise, and seen in several documents."""
    return c.precision >= min_precision and c.coded >= ACCEPT_TURNS and c.documents >= ACCEPT_DOCUMENTS


def _toml_string(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'
