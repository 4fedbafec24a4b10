"""vbhc_code.files.atomic: temp file beside the target, rename on success, nothing left behind on failure."""

from __future__ import annotations

import os
import stat

import pytest

from vbhc_code.errors import DataError, HumanWorkExists
from vbhc_code.files.atomic import atomic_path, write_text_atomic


def test_the_temp_file_sits_beside_the_target_and_replaces_it(tmp_path):
    target = tmp_path / "out.txt"
    target.write_text("old")
    with atomic_path(target, force=True) as tmp:
        assert tmp.parent == tmp_path and tmp != target and tmp.name.startswith(".out.txt.")
        tmp.write_text("new")
        assert target.read_text() == "old"  # the old file stays until the new one is complete
    assert target.read_text() == "new"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.txt"]


def test_a_failure_inside_leaves_the_old_file_and_no_temp_file(tmp_path):
    target = tmp_path / "out.txt"
    target.write_text("old")
    with pytest.raises(RuntimeError):
        with atomic_path(target, force=True) as tmp:
            tmp.write_text("half")  # (force: replacing a file that is not ours)
            raise RuntimeError("writer failed")
    assert target.read_text() == "old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.txt"]
    with pytest.raises(KeyboardInterrupt):
        with atomic_path(tmp_path / "new.txt") as tmp:
            raise KeyboardInterrupt
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.txt"]


def test_parent_folders_are_created_or_refused(tmp_path):
    deep = tmp_path / "a" / "b" / "out.txt"
    write_text_atomic(deep, "x")
    assert deep.read_text() == "x"
    with pytest.raises(DataError, match="the folder .* does not exist"):
        with atomic_path(tmp_path / "missing" / "out.txt", create_parent=False):
            pass
    assert not (tmp_path / "missing").exists()


def test_os_errors_become_located_data_errors(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(DataError, match=r"out.txt: cannot write"):
        write_text_atomic(blocker / "out.txt", "x")
    folder_target = tmp_path / "folder"
    folder_target.mkdir()
    with pytest.raises(DataError, match=r"folder: is a folder"):  # refused before any temp file exists
        write_text_atomic(folder_target, "x", force=True)
    assert [p.name for p in folder_target.iterdir()] == []
    assert sorted(p.name for p in tmp_path.iterdir()) == ["file", "folder"]


def test_written_files_get_normal_permissions_and_lf_line_ends(tmp_path):
    old = os.umask(0o022)
    try:
        path = write_text_atomic(tmp_path / "t.md", "a\nb\r\n")
    finally:
        os.umask(old)
    assert stat.S_IMODE(path.stat().st_mode) == 0o644  # not mkstemp's 0600
    assert path.read_bytes() == b"a\nb\r\n"  # written as given: \n is never translated to \r\n


def test_existing_files_are_refused_without_overwrite(tmp_path):
    path = tmp_path / "human.toml"
    path.write_text("mine")
    with pytest.raises(HumanWorkExists, match="human.toml already exists"):
        write_text_atomic(path, "other")
    assert path.read_text() == "mine"
    assert write_text_atomic(tmp_path / "absent.toml", "x").read_text() == "x"  # nothing there: fine
    assert write_text_atomic(path, "other", force=True).read_text() == "other"
