"""CLI ``refi export|import|check``: exit codes and messages."""

from __future__ import annotations

from refi_fixture import build_store, minimal_qde, write_zip
from typer.testing import CliRunner

from vbhc_code.cli import app
from vbhc_code.store.store import Store

runner = CliRunner()


def _run(*args):
    return runner.invoke(app, list(args))


def test_export_import_check_from_the_command_line(tmp_path):
    build_store(tmp_path / "a.sqlite").close()
    out = tmp_path / "s.qdpx"
    r = _run("refi", "export", "--out", str(out), "--coders", "anna", "consensus", "--line-endings", "crlf",
             "--store", str(tmp_path / "a.sqlite"))
    assert r.exit_code == 0, r.output
    assert r.stderr == f"wrote {out}: 2 sources, 4 codes, 2 users, 5 selections with 6 codings, 2 cases\n"
    r = _run("refi", "check", str(out))
    assert r.exit_code == 0 and "s.qdpx: valid REFI-QDA" in r.output
    r = _run("refi", "import", str(out), "--store", str(tmp_path / "b.sqlite"))
    assert r.exit_code == 0, r.output
    assert (
        "2 of 2 text sources, 4 codes, 2 users, 6 of 6 codings (6 turn codings) by coders anna, consensus" in r.output
    )
    with Store.open(tmp_path / "b.sqlite") as b:
        assert [c.name for c in b.coders()] == ["anna", "consensus"]


def test_usage_errors_exit_2(tmp_path):
    build_store(tmp_path / "a.sqlite").close()
    store = str(tmp_path / "a.sqlite")
    r = _run("refi", "export", "--out", str(tmp_path / "s.zip"), "--store", store)
    assert r.exit_code == 2 and "a REFI-QDA project is written as .qdpx" in r.output
    r = _run("refi", "export", "--out", str(tmp_path / "s.qdpx"), "--line-endings", "cr", "--store", store)
    assert r.exit_code == 2 and "--line-endings must be lf or crlf, not 'cr'" in r.output
    r = _run("refi", "export", "--out", str(tmp_path / "s.qdpx"), "stray", "--store", store)
    assert r.exit_code == 2 and "unexpected argument 'stray'" in r.output


def test_data_errors_exit_1_without_traceback(tmp_path):
    build_store(tmp_path / "a.sqlite").close()
    r = _run(
        "refi", "export", "--out", str(tmp_path / "s.qdpx"), "--coders", "zoe", "--store", str(tmp_path / "a.sqlite")
    )
    assert r.exit_code == 1
    assert "error: unknown coder(s): zoe (coders in the store: anna, ben, consensus)" in r.output
    slip = write_zip(tmp_path / "slip.qdpx", {"project.qde": minimal_qde(), "../x.txt": b"x"})
    r = _run("refi", "import", str(slip), "--store", str(tmp_path / "c.sqlite"))
    assert r.exit_code == 1 and "refused (zip slip)" in r.output and "Traceback" not in r.output


def test_check_exits_1_on_a_vendor_file_that_breaks_the_standard(shared_dir):
    r = _run("refi", "check", str(shared_dir / "refi" / "samples" / "qc_demo.qdpx"))
    assert r.exit_code == 1
    assert "plainTextPath 'board_2017.txt' lacks the 'internal://' prefix" in r.output
    assert "qc_demo.qdpx: 2 problem(s)" in r.output
    r = _run("refi", "check", str(shared_dir / "refi" / "samples" / "spec_A1_codebook.qdc"))
    assert r.exit_code == 0


def test_import_of_a_codebook_reports_codes(shared_dir, tmp_path):
    r = _run("refi", "import", str(shared_dir / "refi" / "samples" / "spec_A1_codebook.qdc"),
             "--store", str(tmp_path / "s.sqlite"))
    assert r.exit_code == 0, r.output
    assert "imported codebook 'spec_A1_codebook refi-import' from spec_A1_codebook.qdc: 4 codes in 3 themes" in r.output


def test_broken_archives_exit_1_with_one_clear_line_and_an_untouched_store(tmp_path):
    whole = write_zip(tmp_path / "whole.qdpx", {"project.qde": minimal_qde(), "sources/S.txt": b"P01: hello there.\n"})
    (tmp_path / "cut.qdpx").write_bytes(whole.read_bytes()[:40])
    (tmp_path / "text.qdpx").write_bytes(b"just some text")
    expected = {
        "cut.qdpx": "error: cut.qdpx: not a valid zip archive, or a truncated one (.qdpx files are zip archives)",
        "text.qdpx": "error: text.qdpx: not a zip archive (a .qdpx project is a zip with project.qde and sources/)",
    }
    store = tmp_path / "s.sqlite"
    for name, line in expected.items():
        r = _run("refi", "import", str(tmp_path / name), "--store", str(store))
        assert r.exit_code == 1 and r.output.strip() == line, r.output
        r = _run("refi", "check", str(tmp_path / name))
        assert r.exit_code == 1 and f"[{name}] {line[len('error: '):]}" in r.output
    with Store.open(store) as st:
        assert st.document_names() == [] and st.coders() == [] and st.codebooks() == []


def test_a_selection_past_the_end_is_skipped_visibly(tmp_path):
    """Damaged selections cost only themselves: reported on stderr and counted in the summary, exit 0."""
    f = write_zip(
        tmp_path / "past.qdpx", {"project.qde": minimal_qde(end=999), "sources/S.txt": b"P01: hello there.\n"}
    )
    r = _run("refi", "import", str(f), "--store", str(tmp_path / "s.sqlite"))
    assert r.exit_code == 0, r.output
    assert (
        "skipped: [past.qdpx: project.qde line 7] selection 0-999 is outside its source (18 characters)"
        in r.output
    )
    assert "1 of 1 text sources, 1 codes, 1 users, 0 of 1 codings (0 turn codings) by coders none" in r.output


def test_a_failed_import_into_a_new_store_leaves_no_empty_store(tmp_path):
    """Otherwise later commands would accept an empty store instead of saying 'run ingest first'."""
    (tmp_path / "text.qdpx").write_bytes(b"just some text")
    store = tmp_path / "new" / "s.sqlite"
    r = _run("refi", "import", str(tmp_path / "text.qdpx"), "--store", str(store))
    assert r.exit_code == 1
    assert (
        r.output.strip()
        == "error: text.qdpx: not a zip archive (a .qdpx project is a zip with project.qde and sources/)"
    )
    assert not store.exists()
    r = _run("codings", "list", "--store", str(store))
    assert r.exit_code == 1
    assert r.output.strip() == f"error: {store}: no study store here (ingest a folder first, or name the store: --store)"
    build_store(tmp_path / "a.sqlite").close()  # an existing store is kept as it was
    r = _run("refi", "import", str(tmp_path / "text.qdpx"), "--store", str(tmp_path / "a.sqlite"))
    assert r.exit_code == 1
    with Store.open(tmp_path / "a.sqlite", create=False) as st:
        assert [c.name for c in st.coders()] == ["anna", "ben", "consensus"]


def test_export_coders_forms(tmp_path):
    build_store(tmp_path / "a.sqlite").close()
    for i, form in enumerate((["--coders", "anna,consensus"], ["--coder", "anna", "--coder", "consensus"],
                              ["--coders", "anna", "consensus"])):
        out = tmp_path / f"s{i}.qdpx"
        r = _run("refi", "export", "--out", str(out), *form, "--store", str(tmp_path / "a.sqlite"))
        assert r.exit_code == 0, r.output
        assert "2 users" in r.stderr and r.stdout == ""
