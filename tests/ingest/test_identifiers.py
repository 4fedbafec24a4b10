"""Identifier detection: what must be flagged, and (as important) what must not be."""

from __future__ import annotations

import pytest

from vbhc_code.ingest.identifiers import bsn_11_test, find_identifiers, scan_document, scan_turns
from vbhc_code.models import Turn


def found(text: str, **kw) -> list[tuple[str, str]]:
    return [(f.kind, f.text) for f in find_identifiers(text, **kw)]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Mail jan.jansen@example.org today.", [("email", "jan.jansen@example.org")]),
        ("See https://www.uwv.nl/werkgevers?x=1. Or www.zorginstituut.nl, ok",
         [("url", "https://www.uwv.nl/werkgevers?x=1"), ("url", "www.zorginstituut.nl")]),
        ("Bel 06-12345678, 06 1234 5678 of 0612345678.",
         [("phone", "06-12345678"), ("phone", "06 1234 5678"), ("phone", "0612345678")]),
        ("Office 020-1234567, 020 123 4567, (020) 1234567 and 0512-123456.",
         [("phone", "020-1234567"), ("phone", "020 123 4567"), ("phone", "(020) 1234567"), ("phone", "0512-123456")]),
        ("Abroad +31 6 12345678, +31 (0)20 123 4567, 0031 20 1234567, +44 20 7946 0958.",
         [("phone", "+31 6 12345678"), ("phone", "+31 (0)20 123 4567"), ("phone", "0031 20 1234567"),
          ("phone", "+44 20 7946 0958")]),
        ("I live at 1234 AB Amsterdam, postcode 1012AB.", [("postcode", "1234 AB"), ("postcode", "1012AB")]),
        ("BSN 111222333, 123456782 or 123.456.782.",
         [("bsn", "111222333"), ("bsn", "123456782"), ("bsn", "123.456.782")]),
        ("I spoke with dr. Jansen, prof. dr. J.A. van der Berg, Mrs Smith, mevr. De Vries and Dr Anna Bakker.",
         [("name", "dr. Jansen"), ("name", "prof. dr. J.A. van der Berg"), ("name", "Mrs Smith"),
          ("name", "mevr. De Vries"), ("name", "Dr Anna Bakker")]),
        ("mr. drs. P. de Groot", [("name", "mr. drs. P. de Groot")]),
    ],
)
def test_flags_real_identifiers(text, expected):
    assert found(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "In 2019-2020 we had 1500 clients, 25% of 12,000 people; the 10:30 meeting; version 3.2.1; 2024-03-04.",
        "the WIA 35-80 rule, 100.000 euro, IQ 120, room 1.23, 1 234 567 890, 0,5 fte",
        "not a BSN: 123456789 (fails the 11-test), an amount: \u20ac123.456.782",
        "the budget was 123.456.782 euro, or 111.222.333,- EUR, or 111222333 dollars, 111222333 \u20ac",
        "In 2024 we started. In 2019 IT budgets grew. 3500 EU citizens. Since 2020 NL law changed.",
        "I asked the dr. The next day it was fine. The dr said so. ms patients. Porter says value.",
        "Call me at five. The figure was 0.6123456789 percent.",
        "user@localhost is not an address; a@b is not either",
        # Realistic numbers in SIM/VBHC interviews: dates, times, money, percentages, law articles, ICD codes,
        # versions, scales and decimals (a list of single digits or decimals is not a phone number).
        "On 12-03-2024 at 14:30, also 12/03/2024, 12.03.2024 and 09:15:30; the 10:00-11:30 slot.",
        "It cost \u20ac1.500.000, EUR 250 000, \u20ac 1.234.567,89 or $ 2,500,000; about 100.000.000 people.",
        "About 45%, 12.5 % or 0,5 procent; WIA 80-100 and 35-80; the 0-20-40-60-80-100 rule.",
        "Article 7:658 BW, artikel 19 Wet WIA, art. 2.1 Zvw, section 4.3.2, Stb. 2020, 123.",
        "ICD-10 F32.1 and M54.5, ICD-11 6A70, ICF b152; version 3.10.2, Python 3.11, release 2.0.1-beta.",
        "scores 0 1 2 3 4 5 6 7 8 9 10 on the scale; 0.25 0.50 0.75 1.00 1.25 as weights",
        "periods 2019-2023, 2014-2018, 1998-2002; born in 1975, 1980, 1985; the years 2019 2020 2021 2022",
        "kvk 12345678, AGB-code 01234567, ratio 0,123456789, 12 345 678 9, ISBN 978-90-368-1234-5",
    ],
)
def test_no_false_alarms_on_ordinary_speech(text):
    assert found(text) == []


def test_phone_numbers_in_groups_are_still_found():
    assert found("bel 06 12 34 56 78 of +31 6 12 34 56 78") == [
        ("phone", "06 12 34 56 78"), ("phone", "+31 6 12 34 56 78")
    ]


def test_bsn_11_test_against_known_values():
    assert bsn_11_test("111222333") and bsn_11_test("123456782")
    assert not bsn_11_test("123456789") and not bsn_11_test("000000000") and not bsn_11_test("12345678")


def test_offsets_point_at_the_text_and_overlaps_resolve_to_the_stronger_kind():
    text = "Write to info@06-12345678.nl or visit https://example.org/0612345678 now"
    fs = find_identifiers(text)
    assert [(f.kind, text[f.start : f.end]) for f in fs] == [
        ("email", "info@06-12345678.nl"), ("url", "https://example.org/0612345678")
    ]


def test_allow_list_drops_known_non_identifiers():
    text = "As prof. Porter and Mrs Teisberg wrote; ask dr. Jansen."
    assert found(text, allow=["Porter", "mrs teisberg"]) == [("name", "dr. Jansen")]


def test_scan_turns_uses_document_offsets_per_cue_span():
    plain = "WEBVTT\n\n00:01.000 --> 00:02.000\ncall 06-12345678\n\n00:02.000 --> 00:03.000\nor mail a.b@c.nl\n"
    s1, s2 = plain.index("call"), plain.index("or mail")
    turn = Turn(1, s1, len(plain) - 1, "call 06-12345678 or mail a.b@c.nl", speaker="P01", document="d.vtt",
                spans=((s1, s1 + 16), (s2, len(plain) - 1)))
    findings = scan_turns([turn], plain_text=plain)
    assert [(f["kind"], plain[f["start"] : f["end"]], f["turn_index"]) for f in findings] == [
        ("phone", "06-12345678", 1), ("email", "a.b@c.nl", 1)
    ]


def test_scan_document_also_scans_headers_of_text_formats():
    plain = "Location: home of dr. Visser\n\nP01: Hello.\n"
    turns = [Turn(1, plain.index("Hello"), plain.index("Hello") + 6, "Hello.", speaker="P01")]
    findings = scan_document("a.txt", plain, turns, fmt="txt")
    assert findings == [{"document": "a.txt", "turn_index": None, "start": 18, "end": 28, "kind": "name",
                         "text": "dr. Visser"}]
    assert scan_document("a.vtt", plain, turns, fmt="vtt") == []
