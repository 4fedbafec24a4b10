"""The public API in vbhc_code/__init__.py: lazy, complete, and the README's example runs as printed."""

import json
import re
import shutil
import subprocess
import sys

import pytest
from repo_paths import REPO

import vbhc_code


def test_every_public_name_resolves_to_its_core_function():
    from vbhc_code.agreement import coefficients
    from vbhc_code.ingest.folder import ingest_folder

    assert vbhc_code.coefficients is coefficients and vbhc_code.ingest_folder is ingest_folder
    for name in vbhc_code.__all__:
        assert getattr(vbhc_code, name) is not None
    with pytest.raises(AttributeError, match="no attribute 'nonexistent'"):
        vbhc_code.nonexistent  # noqa: B018


def test_importing_the_package_loads_no_heavy_library():
    code = "import sys, vbhc_code; print(sorted(m for m in ('spacy', 'pandas', 'openpyxl') if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


@pytest.mark.slow
def test_the_readme_example_runs_in_a_copy_of_the_repository(tmp_path):
    block = re.search(r"<!-- python-api -->\n```python\n(.*?)```", (REPO / "README.md").read_text(), re.S)
    assert block, "README has no python-api block"
    for folder in ("transcripts", "codings"):
        shutil.copytree(REPO / folder, tmp_path / folder)
    (tmp_path / "outputs").mkdir()
    before = {p.name: p.read_bytes() for p in (tmp_path / "codings").iterdir()}
    run = subprocess.run([sys.executable, "-c", block.group(1)], cwd=tmp_path, capture_output=True, text=True)
    assert run.returncode == 0, run.stderr[-2000:]
    kappa = float(run.stdout.split("pooled kappa")[1])
    cli = subprocess.run([sys.executable, "-m", "vbhc_code", "agreement", "--coders", "anna", "ben", "--json",
                          "--store", "outputs/api.sqlite"], cwd=tmp_path, capture_output=True, text=True, check=True)
    assert kappa == pytest.approx(json.loads(cli.stdout)["pooled"]["cohen_kappa"], abs=1e-12)  # the CLI's figure
    assert 0.5 < kappa <= 1
    for name in ("api-themes.xlsx", "api.qdpx", "api-log.csv", "api.sqlite"):
        assert (tmp_path / "outputs" / name).stat().st_size > 0
    assert {p.name: p.read_bytes() for p in (tmp_path / "codings").iterdir()} == before  # human work untouched


def test_typed_results_read_as_their_json_dicts():
    from vbhc_code.models import AgreementReport, IdentifierFinding

    report = AgreementReport(unit="turn", scope="participant", mode=None, coders=["A", "B"], n_units=3,
                             pooled={"cohen_kappa": 0.5}, macro={}, per_code={}, reasons={})
    assert report.pooled is report["pooled"] and list(report)[:3] == ["unit", "scope", "mode"]
    assert report == report.to_dict() and json.loads(json.dumps(report.to_dict()))["n_units"] == 3
    with pytest.raises(KeyError):
        report["to_dict"]
    finding = IdentifierFinding(document="INT01.txt", turn_index=None, start=3, end=9, kind="e-mail", text="x@y.nl")
    assert dict(finding) == {"document": "INT01.txt", "turn_index": None, "start": 3, "end": 9, "kind": "e-mail",
                             "text": "x@y.nl"}
