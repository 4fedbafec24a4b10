"""Warnings repeated for many documents become one line with a count and the first few places."""

from __future__ import annotations

from vbhc_code.cli.messages import fold_warnings, identifier_warnings


def test_the_same_warning_for_143_documents_is_one_line():
    names = [f"INT{i:03d}.txt" for i in range(143)]
    warnings = ["participants.csv: P99 has no transcript"]
    warnings += [f"{n}: no speaker labels found; read as one turn" for n in names]
    warnings += ["INT005.txt line 4: odd label 'Dr'"]
    out = fold_warnings(warnings, names)
    assert out == [
        "participants.csv: P99 has no transcript",
        "no speaker labels found; read as one turn (143 documents: INT000.txt, INT001.txt, INT002.txt and 140 more)",
        "INT005.txt line 4: odd label 'Dr'",
    ]


def test_few_documents_and_located_lines():
    names = ["a.txt", "b.txt", "c.txt", "d.txt"]
    assert fold_warnings(["a.txt: x", "b.txt: x", "c.txt: y"], names) == ["a.txt: x", "b.txt: x", "c.txt: y"]
    lines = [f"{n} line {k}: tab in label" for n in names[:2] for k in (1, 2)]
    assert fold_warnings(lines, names) == ["tab in label (4 places in 2 documents: a.txt line 1, a.txt line 2, "
                                           "b.txt line 1 and 1 more)"]


def test_identifier_findings_fold_with_totals():
    few = identifier_warnings({"a.txt": {"phone": 2}})
    assert few == ["a.txt: possible identifiers (2 phone); run 'vbhc-code check-identifiers'"]
    many = identifier_warnings({f"d{i}.txt": {"phone": 1, "email": i} for i in range(1, 6)})
    assert many == ["possible identifiers (15 email, 5 phone) in 5 documents: d1.txt, d2.txt, d3.txt and 2 more; "
                    "run 'vbhc-code check-identifiers'"]
