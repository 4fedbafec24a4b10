"""Spelling variants of codebook terms: plurals and inflections of the head word, hyphen/space/joined forms.

The lookup lemmatizer only knows listed word forms (and its Dutch table misses many common ones), so
each term is also matched, on its lower-case form, in the forms interviewees and speech recognition
actually produce. Variants that are not words are harmless: they never occur in a transcript.

>>> sorted(term_variants("case mix", "en"))[:6]
['case mix', "case mix's", 'case mixes', 'case mixs', 'case-mix', "case-mix's"]
>>> sorted(v for v in term_variants("afspraak", "nl") if v.endswith("en"))
['afspraaken', 'afspraken']
"""

from __future__ import annotations

import re

_VOWELS = "aeiou"
_LONG = re.compile(r"(aa|ee|oo|uu)([b-df-hj-np-tv-z])$")
_SHORT_CLOSED = re.compile(r"(?:^|[^aeiou])([aeiou])([bdfgklmnprst])$")


def _english(word: str) -> set[str]:
    forms = {word + "s", word + "'s"}
    if word.endswith(("s", "x", "z", "ch", "sh")):
        forms.add(word + "es")
    if len(word) > 2 and word.endswith("y") and word[-2] not in _VOWELS:
        forms.add(word[:-1] + "ies")
    return forms


def _dutch(word: str) -> set[str]:
    forms = {word + "s", word + "'s", word + "en", word + "e"}
    if word.endswith("e"):
        forms |= {word + "n", word + "s"}
    long = _LONG.search(word)
    if long:  # afspraak -> afspraken, financieel -> financiele (diacritics are folded)
        stem = word[: long.start()] + long.group(1)[0] + long.group(2)
        forms |= {stem + "en", stem + "e"}
    short = _SHORT_CLOSED.search(word)
    if short and not word.endswith(("ing", "heid")):  # pakket -> pakketten
        forms |= {word + word[-1] + "en", word + word[-1] + "e"}
    if word.endswith("f"):
        forms |= {word[:-1] + "ven", word[:-1] + "ve"}
    if word.endswith("s") and not word.endswith("ss"):
        forms |= {word[:-1] + "zen", word[:-1] + "ze"}
    if word.endswith("heid"):
        forms = {word[:-4] + "heden"}
    return forms


def term_variants(term: str, lang: str) -> set[str]:
    """Lower-case spellings of ``term`` to match as written (the term itself included)."""
    base = " ".join(term.lower().split())
    forms = {base}
    words = base.split(" ")
    if "-" in base:
        forms |= {base.replace("-", " "), base.replace("-", "")}
    if len(words) == 2:
        forms.add("".join(words))
    if 2 <= len(words) <= 3:
        forms.add("-".join(words))
    inflect = _dutch if lang == "nl" else _english
    out = set(forms)
    for form in forms:
        cut = max(form.rfind(" "), form.rfind("-")) + 1
        head = form[cut:]
        if len(head) >= 3 and head.isalpha():
            out |= {form[:cut] + h for h in inflect(head)}
    return out
