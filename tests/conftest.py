"""Shared fixtures. Data from ../shared is referenced in place, never copied into the repo."""

from __future__ import annotations

from pathlib import Path

import pytest
from repo_paths import SAMPLE, SHARED


@pytest.fixture(scope="session")
def shared_dir() -> Path:
    if not SHARED.is_dir():
        pytest.skip("../shared is not beside the checkout")
    return SHARED


@pytest.fixture(scope="session")
def nlp_en():
    """One blank English pipeline for the whole session (spaCy start-up is slow)."""
    from vbhc_code.nlp.segment import blank_nlp

    return blank_nlp("en")


@pytest.fixture(scope="session")
def nlp_nl():
    from vbhc_code.nlp.segment import blank_nlp

    return blank_nlp("nl")


@pytest.fixture(scope="session")
def sample_store(tmp_path_factory) -> Path:
    """A store ingested from the bundled sample study (read-only: shutil.copy it to tmp_path before writing)."""
    from vbhc_code.ingest.folder import ingest_folder
    from vbhc_code.store.store import Store

    path = tmp_path_factory.mktemp("sample") / "sample.sqlite"
    documents = SAMPLE / "documents.csv"
    with Store.open(path) as store:
        report = ingest_folder(
            SAMPLE, store=store, participants_file=SAMPLE / "participants.csv",
            documents_file=documents if documents.is_file() else None,
        )
    assert not report.failed, [d.error for d in report.documents if d.error]
    return path
