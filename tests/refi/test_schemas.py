"""The embedded REFI-QDA schemas are the published ones (comments and annotations aside)."""

from __future__ import annotations

import pytest
from lxml import etree

from vbhc_code.refi.schemas import schema_text

PROJECT_XSD = schema_text("project")
CODEBOOK_XSD = schema_text("codebook")

XSD = "{http://www.w3.org/2001/XMLSchema}"


def _canonical(data: bytes) -> bytes:
    root = etree.fromstring(data, etree.XMLParser(remove_comments=True, remove_blank_text=True))
    for ann in list(root.iter(f"{XSD}annotation")):
        ann.getparent().remove(ann)
    return etree.tostring(root, method="c14n")


@pytest.mark.parametrize(
    ("embedded", "published"),
    [(PROJECT_XSD, "Project.xsd"), (PROJECT_XSD, "Project-mrt2019.xsd"), (CODEBOOK_XSD, "Codebook.xsd")],
)
def test_embedded_schema_equals_the_published_one(shared_dir, embedded, published):
    assert _canonical(embedded.strip().encode()) == _canonical((shared_dir / "refi" / published).read_bytes())


def test_embedded_schemas_compile():
    for text in (PROJECT_XSD, CODEBOOK_XSD):
        etree.XMLSchema(etree.fromstring(text.strip().encode()))


def test_the_shared_samples_validate_with_xmlschema_too(shared_dir):
    """An independent validator (xmlschema) agrees with lxml on the vendor files the README calls valid."""
    import zipfile

    import xmlschema

    schema = xmlschema.XMLSchema(PROJECT_XSD.strip())
    for name, member in [("qc_nvivo_project.qdpx", "project.qde"), ("sky-loom_TestProject.qdpx", "Project.qde"),
                         ("qc_demo.qdpx", "project.qde")]:
        with zipfile.ZipFile(shared_dir / "refi" / "samples" / name) as zf:
            assert schema.is_valid(zf.read(member).decode("utf-8")), name
    cb = xmlschema.XMLSchema(CODEBOOK_XSD.strip())
    assert cb.is_valid((shared_dir / "refi" / "samples" / "spec_A1_codebook.qdc").read_text(encoding="utf-8"))


def test_the_embedded_schemas_carry_refis_licence_notice_verbatim(shared_dir):
    """MIT wants the notice in every copy: xsd/NOTICE.md keeps it word for word as the 2019 Project.xsd has it."""
    import re
    from importlib.resources import files

    def words(text: str) -> str:
        return " ".join(text.split())

    published = words((shared_dir / "refi" / "Project-mrt2019.xsd").read_text(encoding="utf-8"))
    doc = (files("vbhc_code.refi") / "xsd" / "NOTICE.md").read_text(encoding="utf-8")
    notice = doc[doc.index("This specification is licensed") :]
    paragraphs = [words(p) for p in re.split(r"\n\s*\n", notice) if p.strip()]
    assert len(paragraphs) == 5  # licence line, copyright, permission, condition, warranty disclaimer
    assert all(p in published for p in paragraphs)
    assert "232df897" in doc and "openqda/refi-tools" in doc
