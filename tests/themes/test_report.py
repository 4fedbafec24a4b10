"""vbhc_code.themes.report: the themes workbook as a file (chart XML, print setup, numbers)."""

from __future__ import annotations

import re
import zipfile

import pytest
from themes_fixture import build_store

from vbhc_code.models import Participant
from vbhc_code.themes.build import build_themes, write_themes_xlsx

HOSTILE_ROLE = "=cmd|' /C calc'!A0"


@pytest.fixture
def store(tmp_path):
    st = build_store(tmp_path / "study.sqlite")
    yield st
    st.close()


def test_a_hostile_attribute_is_a_literal_chart_series_name(store, tmp_path):
    roles = {"P1": HOSTILE_ROLE, "P2": "@SUM(1)", "P3": "Sheet1!A1", "P4": "expert", "P5": "expert"}
    store.save_participants([Participant(p, attributes={"role": r}) for p, r in roles.items()])
    path = write_themes_xlsx(build_themes(store, coder="consensus", by="role"), tmp_path / "themes.xlsx")
    with zipfile.ZipFile(path) as z:
        charts = [z.read(n).decode() for n in z.namelist() if n.startswith("xl/charts/chart")]
    assert len(charts) == 2
    names = [re.findall(r"<c:tx>(.*?)</c:tx>", xml, re.S) for xml in charts]
    flat = [n for per_chart in names for n in per_chart]
    assert flat and not any("<c:f>" in n or "strRef" in n for n in flat)  # no series name is a reference
    series = [v for n in flat for v in re.findall(r"<c:v>(.*?)</c:v>", n)]
    expected = {"=cmd|&apos; /C calc&apos;!A0", "=cmd|' /C calc'!A0"}  # either XML escape of the apostrophe
    assert expected & set(series) and "@SUM(1)" in series and "Sheet1!A1" in series and "expert" in series
    assert "participants" in series
    # the only formulas in a chart are its own data ranges, on our own sheets
    refs = [f for xml in charts for f in re.findall(r"<c:f>(.*?)</c:f>", xml)]
    assert refs and all(re.fullmatch(r"(Groups|Themes)!\$[A-Z]+\$2:\$[A-Z]+\$\d+", f) for f in refs)
