"""Shared fixtures. Data from ../shared is referenced in place, never copied into the repo."""

from __future__ import annotations

from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"
SAMPLE = REPO / "transcripts"


@pytest.fixture(scope="session")
def shared_dir() -> Path:
    if not SHARED.is_dir():
        pytest.skip("../shared is not beside the checkout")
    return SHARED


@pytest.fixture(scope="session")
def nlp_en():
    """One blank English pipeline for the whole session (spaCy start-up is slow)."""
    from vbhc_code.segment import blank_nlp

    return blank_nlp("en")


@pytest.fixture(scope="session")
def nlp_nl():
    from vbhc_code.segment import blank_nlp

    return blank_nlp("nl")
