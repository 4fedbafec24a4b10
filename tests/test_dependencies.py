"""pyproject.toml's dependencies: every runtime package is used by vbhc_code, test-only packages are not."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
# distribution name -> module it is imported as
MODULES = {"python-docx": "docx", "spacy-lookups-data": "spacy_lookups_data", "tomli-w": "tomli_w",
           "scikit-learn": "sklearn", "irrCAC": "irrCAC"}


def _names(specs: list[str]) -> list[str]:
    return [re.split(r"[<>=!~\[; ]", spec, maxsplit=1)[0] for spec in specs]


def _imported() -> set[str]:
    found: set[str] = set()
    for path in (REPO / "vbhc_code").rglob("*.py"):
        text = path.read_text(encoding="utf-8")
        found.update(re.findall(r"^\s*(?:from|import)\s+([A-Za-z_][A-Za-z0-9_]*)", text, flags=re.MULTILINE))
    return found


def test_runtime_dependencies_are_used_and_test_ones_are_not():
    project = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    imported = _imported()
    runtime = _names(project["dependencies"])
    # spacy-lookups-data is data spaCy loads by entry point (no import statement)
    unused = [n for n in runtime if n != "spacy-lookups-data" and MODULES.get(n, n.replace("-", "_")) not in imported]
    assert unused == []
    test_only = [n for n in _names(project["optional-dependencies"]["test"]) if n not in runtime]
    assert "xmlschema" in test_only and "psutil" not in runtime + test_only
    leaked = [n for n in test_only if MODULES.get(n, n.replace("-", "_")) in imported]
    assert leaked == []
