"""The REFI-QDA 1.0 schemas (QDA-XML ``Project.xsd`` and ``Codebook.xsd``), shipped as package data.

``export`` validates ``project.qde`` before it writes anything and ``check`` validates other tools' files,
on any installation, so the schemas travel with the package (``vbhc_code/refi/xsd/``). Provenance, the
changes made (comments and annotations removed) and REFI's MIT notice are in ``xsd/NOTICE.md``.
"""

from __future__ import annotations

import functools
from importlib.resources import files


@functools.cache
def schema_text(kind: str) -> str:
    """The XSD text for ``kind`` 'project' or 'codebook'."""
    name = {"project": "Project.xsd", "codebook": "Codebook.xsd"}[kind]
    return (files("vbhc_code.refi") / "xsd" / name).read_text(encoding="utf-8")
