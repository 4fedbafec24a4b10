"""REFI export: schema-valid .qdpx/.qdc, deterministic GUIDs, exact sources, CRLF offsets, atomic writes."""

from __future__ import annotations

import re
import zipfile

import pytest
from lxml import etree
from refi_fixture import TEXT_1, build_store, codebook, qde_of

from vbhc_code.errors import DataError
from vbhc_code.models import Code, Coding, Theme
from vbhc_code.refi import check_refi, export_qdpx, import_refi, read_refi_codebook, write_qdc
from vbhc_code.refi.check import schema_errors
from vbhc_code.refi.export import RefiInternalError
from vbhc_code.refi.format import code_guid
from vbhc_code.store.store import Store

NS = {"q": "urn:QDA-XML:project:1.0"}


@pytest.fixture()
def study(tmp_path):
    st = build_store(tmp_path / "study.sqlite")
    yield st
    st.close()


def test_export_is_schema_valid_and_passes_every_rule(study, tmp_path):
    out = tmp_path / "s.qdpx"
    report = export_qdpx(study, out=out)
    assert schema_errors(qde_of(out), "project", where="project.qde") == []
    assert check_refi(out) == []
    assert (report.sources, report.codes, report.users, report.codings, report.cases) == (2, 4, 3, 8, 2)


def test_export_structure_users_codes_sets_cases_and_variables(study, tmp_path):
    out = tmp_path / "s.qdpx"
    export_qdpx(study, out=out)
    root = etree.fromstring(qde_of(out))
    assert [u.get("name") for u in root.findall("q:Users/q:User", NS)] == ["anna", "ben", "consensus"]
    themes = root.findall("q:CodeBook/q:Codes/q:Code", NS)
    assert [(t.get("name"), t.get("isCodable")) for t in themes] == [("VBHC vbhc", "false"), ("SIM sim", "false")]
    codes = root.findall("q:CodeBook/q:Codes/q:Code/q:Code", NS)
    # codes without a title show their label made readable; the label itself travels in the description
    assert [c.get("name") for c in codes] == ["VBHC2 Outcome measurement", "VBHC3 Cost measurement",
                                              "SIM4 Work outcomes", "SIM7 It exchange"]
    assert all(re.fullmatch(r"#[0-9A-F]{6}", c.get("color")) for c in codes)
    assert codes[0].get("color") == "#AA0000"
    assert codes[0].findtext("q:Description", namespaces=NS).startswith(
        "Measuring outcomes that matter.\n\nLabel: outcome_measurement\n\nInclude: PROMs")
    sets = {s.get("name"): s for s in root.findall("q:Sets/q:Set", NS)}
    assert set(sets) == {"VBHC vbhc", "SIM sim", "coded by anna", "coded by ben", "coded by consensus"}
    assert all(len(s) > 0 for s in sets.values())
    variables = {v.get("name"): v.get("typeOfVariable") for v in root.findall("q:Variables/q:Variable", NS)}
    assert variables == {"age": "Integer", "score": "Float", "group": "Text", "site": "Text", "wave": "Integer",
                         "doc_type": "Text", "language": "Text", "format": "Text"}
    cases = root.findall("q:Cases/q:Case", NS)
    assert [c.get("name") for c in cases] == ["P01", "P02"]
    assert cases[0].findtext("q:Description", namespaces=NS) == "aliases: Anna de Vries"
    assert len(cases[0].findall("q:SourceRef", NS)) == 1
    src = root.find("q:Sources/q:TextSource", NS)
    assert src.get("plainTextPath") == f"internal://{src.get('guid')}.txt"


def test_every_coding_is_a_selection_with_coderef_and_creating_user(study, tmp_path):
    out = tmp_path / "s.qdpx"
    export_qdpx(study, out=out)
    root = etree.fromstring(qde_of(out))
    users = {u.get("guid"): u.get("name") for u in root.findall("q:Users/q:User", NS)}
    got = set()
    with zipfile.ZipFile(out) as zf:
        for src in root.findall("q:Sources/q:TextSource", NS):
            text = zf.read(f"sources/{src.get('guid')}.txt").decode("utf-8")
            assert text == study.document(src.get("name")).plain_text  # exactly the plain text
            for sel in src.findall("q:PlainTextSelection", NS):
                s, e = int(sel.get("startPosition")), int(sel.get("endPosition"))
                for coding in sel.findall("q:Coding", NS):
                    code = coding.find("q:CodeRef", NS).get("targetGUID")
                    got.add((src.get("name"), users[coding.get("creatingUser")], code, text[s:e]))
    want = set()
    for coder in ("anna", "ben", "consensus"):
        for c in study.codings(coder):
            t = study.turn(c.document, c.turn_index)
            s, e = (c.start, c.end) if c.start is not None else (t.start, t.end)
            want.add((c.document, coder, code_guid(c.code), study.document(c.document).plain_text[s:e]))
    assert got == want and len(want) == 8


def test_export_is_deterministic_byte_for_byte(study, tmp_path):
    export_qdpx(study, out=tmp_path / "a.qdpx")
    export_qdpx(study, out=tmp_path / "b.qdpx")
    assert (tmp_path / "a.qdpx").read_bytes() == (tmp_path / "b.qdpx").read_bytes()


def test_crlf_offsets_point_at_the_same_text(study, tmp_path):
    out = tmp_path / "crlf.qdpx"
    export_qdpx(study, out=out, line_endings="crlf")
    assert check_refi(out) == []
    root = etree.fromstring(qde_of(out))
    checked = 0
    passages = set()
    with zipfile.ZipFile(out) as zf:
        for src in root.findall("q:Sources/q:TextSource", NS):
            raw = zf.read(f"sources/{src.get('guid')}.txt").decode("utf-8")
            lf = study.document(src.get("name")).plain_text
            assert raw == lf.replace("\n", "\r\n") and "\r\n" in raw
            for sel in src.findall("q:PlainTextSelection", NS):
                s, e = int(sel.get("startPosition")), int(sel.get("endPosition"))
                lf_s, lf_e = s - raw[:s].count("\r\n"), e - raw[:e].count("\r\n")  # back to LF offsets
                assert raw[s:e].replace("\r\n", "\n") == lf[lf_s:lf_e]
                passages.add((src.get("name"), lf_s, lf_e))
                checked += 1
    # the two-line turn 2 of int01: its CRLF selection text is the LF text with \r\n
    t2 = study.turn("int01.txt", 2)
    assert "\n" in TEXT_1[t2.start:t2.end] and checked == 7
    # the CRLF selections cover exactly the passages the LF export selects
    lf_out = tmp_path / "lf.qdpx"
    export_qdpx(study, out=lf_out)
    lf_root = etree.fromstring(qde_of(lf_out))
    lf_passages = {(src.get("name"), int(sel.get("startPosition")), int(sel.get("endPosition")))
                   for src in lf_root.findall("q:Sources/q:TextSource", NS)
                   for sel in src.findall("q:PlainTextSelection", NS)}
    assert passages == lf_passages and (("int01.txt", t2.start, t2.end) in passages)
    # the emoji after the last LF is one code point in both exports: offsets never count UTF-16 units
    t4 = study.turn("int01.txt", 4)
    assert ("int01.txt", t4.start, t4.end) in passages and TEXT_1[t4.end - 3 : t4.end] == "\u00e9\U0001f600."


def test_crlf_export_imports_to_the_same_codings(study, tmp_path):
    out = tmp_path / "crlf.qdpx"
    export_qdpx(study, out=out, line_endings="crlf")
    with Store.open(tmp_path / "fresh.sqlite") as fresh:
        import_refi(fresh, out)
        for coder in ("anna", "ben", "consensus"):
            assert fresh.codings(coder) == study.codings(coder)
        assert fresh.document("int01.txt").plain_text == study.document("int01.txt").plain_text


def test_coders_option_limits_users_and_codings(study, tmp_path):
    out = tmp_path / "s.qdpx"
    report = export_qdpx(study, out=out, coders=["ben", "consensus"])
    root = etree.fromstring(qde_of(out))
    assert [u.get("name") for u in root.findall("q:Users/q:User", NS)] == ["ben", "consensus"]
    assert report.codings == 4


def test_unknown_coder_and_empty_store_are_data_errors(study, tmp_path):
    with pytest.raises(DataError) as exc:
        export_qdpx(study, out=tmp_path / "x.qdpx", coders=["anna", "zoe"])
    assert str(exc.value) == "unknown coder(s): zoe (coders in the store: anna, ben, consensus)"
    with Store.open(tmp_path / "empty.sqlite") as empty, pytest.raises(DataError) as exc:
        export_qdpx(empty, out=tmp_path / "x.qdpx")
    assert "no documents" in str(exc.value)
    assert not (tmp_path / "x.qdpx").exists()


def test_an_invalid_export_is_an_internal_error_and_writes_nothing(study, tmp_path, monkeypatch):
    import vbhc_code.refi.export as ex

    out = tmp_path / "s.qdpx"
    out.write_bytes(b"previous export")
    real = ex.project_bytes

    def broken(*args, **kwargs):
        data, sources, report = real(*args, **kwargs)
        return data.replace(b'isCodable="true"', b'isCodable="maybe"', 1), sources, report

    monkeypatch.setattr(ex, "project_bytes", broken)
    with pytest.raises(RefiInternalError) as exc:
        export_qdpx(study, out=out)
    assert "internal error" in str(exc.value) and "isCodable" in str(exc.value)
    assert out.read_bytes() == b"previous export"
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".s.qdpx")] == []


def test_project_xsd_is_checked_before_any_zip_is_written(study, tmp_path, monkeypatch):
    import vbhc_code.refi.export as ex

    real = ex.project_bytes

    def broken(*args, **kwargs):
        data, sources, report = real(*args, **kwargs)
        return data.replace(b' color="#', b' color="', 1), sources, report

    monkeypatch.setattr(ex, "project_bytes", broken)

    def no_zip(*args, **kwargs):
        raise AssertionError("a zip was opened for writing before Project.xsd validation")

    monkeypatch.setattr(ex.zipfile, "ZipFile", no_zip)
    with pytest.raises(RefiInternalError) as exc:
        export_qdpx(study, out=tmp_path / "s.qdpx")
    assert exc.value.message == (
        "internal error: project.qde failed Project.xsd validation (a bug in vbhc-code); nothing written"
    )
    assert exc.value.problems[0].startswith("[project.qde line ") and "attribute 'color'" in exc.value.problems[0]
    assert list(tmp_path.glob("*.qdpx")) == []


def test_codes_used_but_missing_from_the_codebook_are_exported_unthemed(study, tmp_path):
    study.replace_codings("auto", [Coding("int01.txt", 2, "NEW1", "auto")], coded_documents=["int01.txt"])
    out = tmp_path / "s.qdpx"
    report = export_qdpx(study, out=out, coders=["auto"])
    assert check_refi(out) == []
    assert any("NEW1" in w for w in report.warnings)
    root = etree.fromstring(qde_of(out))
    names = [c.get("name") for c in root.iter("{urn:QDA-XML:project:1.0}Code")]
    assert "NEW1" in names and "unthemed" in names


def test_control_characters_in_names_do_not_break_the_xml(study, tmp_path):
    cb = codebook()
    bad = cb.__class__(**{**cb.__dict__, "codes": (*cb.codes, Code("X1", "SIM", "bell\x07label", "def\x00"))})
    out = tmp_path / "c.qdc"
    write_qdc(bad, out)
    assert check_refi(out) == []


def test_write_qdc_is_valid_and_reads_back(tmp_path):
    out = tmp_path / "vbhc.qdc"
    write_qdc(codebook(), out)
    assert schema_errors(out.read_bytes(), "codebook", where="vbhc.qdc") == []
    assert check_refi(out) == []
    back = read_refi_codebook(out)
    cb = codebook()
    assert back.themes == cb.themes
    assert [(c.id, c.theme, c.label, c.definition, c.include, c.exclude, c.examples) for c in back.codes] == [
        (c.id, c.theme, c.label, c.definition, c.include, c.exclude, c.examples) for c in cb.codes
    ]
    assert back.codes[0].color == "#AA0000" and all(c.color for c in back.codes)


def test_write_qdc_puts_orphan_codes_under_a_theme(tmp_path):
    cb = codebook()
    cb = cb.__class__(**{**cb.__dict__, "themes": (Theme("VBHC", "vbhc"),)})
    out = tmp_path / "o.qdc"
    write_qdc(cb, out)
    assert check_refi(out) == []
    assert {c.theme for c in read_refi_codebook(out).codes} == {"VBHC", "unthemed"}


def test_the_builtin_codebook_survives_a_qdc_round_trip(tmp_path):
    from vbhc_code.codebook.load import load_codebook

    cb = load_codebook(None)
    out = tmp_path / "vbhc-sim.qdc"
    write_qdc(cb, out)
    assert check_refi(out) == []
    back = read_refi_codebook(out)
    fields = ("id", "theme", "label", "definition", "include", "exclude", "examples")
    assert [[getattr(c, f) for f in fields] for c in back.codes] == [[getattr(c, f) for f in fields] for c in cb.codes]
    assert [(t.id, t.label, t.description) for t in back.themes] == [(t.id, t.label, t.description) for t in cb.themes]


def _counts_from_qdpx(path) -> dict[str, dict[str, int]]:
    """Per code: both / first_only / second_only / neither characters, as a REFI consumer counts them from
    the selections of the first and second user (every character of every source)."""
    with zipfile.ZipFile(path) as z:
        root = etree.fromstring(z.read("project.qde"))
        texts = {m: z.read(m).decode("utf-8") for m in z.namelist() if m.startswith("sources/")}
    users = [u.get("guid") for u in root.iterfind("q:Users/q:User", NS)]
    code_ids = {c.get("guid"): c.get("name").split()[0] for c in root.iterfind(".//q:Code", NS)
                if c.get("isCodable") == "true"}
    out: dict[str, dict[str, int]] = {}
    for src in root.iterfind("q:Sources/q:TextSource", NS):
        length = len(texts["sources/" + src.get("plainTextPath").removeprefix("internal://")])
        chars: dict[tuple[str, str], set[int]] = {}
        for sel in src.iterfind("q:PlainTextSelection", NS):
            span = range(int(sel.get("startPosition")), int(sel.get("endPosition")))
            for coding in sel.iterfind("q:Coding", NS):
                code = code_ids[coding.find("q:CodeRef", NS).get("targetGUID")]
                chars.setdefault((code, coding.get("creatingUser")), set()).update(span)
        for code in set(code_ids.values()):
            a, b = chars.get((code, users[0]), set()), chars.get((code, users[1]), set())
            row = out.setdefault(code, {"both": 0, "first_only": 0, "second_only": 0, "neither": 0})
            row["both"] += len(a & b)
            row["first_only"] += len(a - b)
            row["second_only"] += len(b - a)
            row["neither"] += length - len(a | b)
    return out


def test_export_counts_the_characters_agreement_mode_nvivo_counts(sample_store, tmp_path):
    import shutil

    from repo_paths import REPO

    from vbhc_code.agreement.report import agreement_report
    from vbhc_code.coding.imports import import_codings

    path = tmp_path / "s.sqlite"
    shutil.copy(sample_store, path)
    with Store.open(path) as st:
        import_codings(st, [REPO / "codings" / "coder-anna.csv", REPO / "codings" / "coder-ben.csv"])
        # the sample has whole-turn codings of caption turns merged from several cues
        multi = {(t.document, t.turn_index) for t in st.turns() if not t.is_single_span}
        assert any((c.document, c.turn_index) in multi for c in st.codings("anna"))
        export_qdpx(st, out=tmp_path / "s.qdpx", coders=["anna", "ben"])
        nvivo = agreement_report(st, coders=["anna", "ben"], unit="character", scope="participant", mode="nvivo")
    ours = _counts_from_qdpx(tmp_path / "s.qdpx")
    keys = ("both", "first_only", "second_only", "neither")
    theirs = {code: {k: row[k] for k in keys} for code, row in nvivo["per_code"].items()}
    assert ours == theirs
