"""Opening a REFI-QDA file (.qdpx project or .qdc codebook) and finding its parts, as vendors write them.

Shared by import and check. Vendors drift: ATLAS.ti 8.4 names the main file ``Project.qde`` and the
folder ``Sources/``, qc writes ``plainTextPath="board.txt"`` without ``internal://``, NVivo adds
``sources/.root``. Reading is lenient (elements matched by local name, paths resolved case-insensitively);
``check`` reports each drift as a problem.
"""

from __future__ import annotations

import codecs
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from lxml import etree

from vbhc_code.errors import DataError
from vbhc_code.files.archive import QDPX, SafeZip, is_zip, parse_xml, read_capped

NS_PROJECT = "urn:QDA-XML:project:1.0"
NS_CODEBOOK = "urn:QDA-XML:codebook:1.0"
MAIN_NAME = "project.qde"
SOURCES_DIR = "sources/"

_GUID = re.compile(r"^\{?([0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12})\}?$")


def gkey(guid: str | None) -> str:
    """A GUID compared the way the standard means it: braces and case do not matter."""
    if not guid:
        return ""
    m = _GUID.match(guid.strip())
    return m.group(1).lower() if m else guid.strip().lower()


def local(el: etree._Element) -> str:
    tag = el.tag
    if not isinstance(tag, str):
        return ""
    return tag.rsplit("}", 1)[-1]


def kids(el: etree._Element | None, *names: str) -> list[etree._Element]:
    """Child elements of ``el`` with one of the local ``names`` (all element children when none given)."""
    if el is None:
        return []
    return [c for c in el if isinstance(c.tag, str) and (not names or local(c) in names)]


def kid(el: etree._Element | None, name: str) -> etree._Element | None:
    found = kids(el, name)
    return found[0] if found else None


def descendants(el: etree._Element, name: str) -> Iterator[etree._Element]:
    for node in el.iter():
        if isinstance(node.tag, str) and local(node) == name:
            yield node


def text_of(el: etree._Element | None) -> str:
    return "" if el is None else (el.text or "")


@dataclass
class RefiFile:
    """A parsed REFI file: the XML tree plus, for a .qdpx, the checked archive it came from."""

    path: Path
    kind: str  # project | codebook
    main_name: str  # the member (or file) holding the XML
    tree: etree._ElementTree
    archive: SafeZip | None = None
    notes: list[str] = field(default_factory=list)  # structural drift noticed while opening

    @property
    def root(self) -> etree._Element:
        return self.tree.getroot()

    @property
    def where(self) -> str:
        return self.main_name if self.archive is not None else self.path.name

    def close(self) -> None:
        if self.archive is not None:
            self.archive.close()

    def __enter__(self) -> RefiFile:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def open_refi(path: Path) -> RefiFile:
    """Open a .qdpx (zip with project.qde) or .qdc (codebook XML); refuse anything unsafe."""
    path = Path(path)
    if not path.is_file():
        raise DataError(f"{path.name}: file not found")
    zipped = is_zip(path)
    if not zipped and path.suffix.lower() == ".qdpx":
        raise DataError(f"{path.name}: not a zip archive (a .qdpx project is a zip with project.qde and sources/)")
    if zipped:
        archive = SafeZip(path)
        try:
            notes: list[str] = []
            main = archive.find(MAIN_NAME)
            if main is None:
                main = archive.find(MAIN_NAME, ignore_case=True)
                if main is None:
                    candidates = [m.name for m in archive.members if m.name.lower().endswith(".qde")]
                    if len(candidates) != 1:
                        raise DataError(f"{path.name}: no project.qde in the archive (not a REFI-QDA project)")
                    main = candidates[0]
                notes.append(f"main file is named '{main}' (the standard says 'project.qde' at the top level)")
            tree = parse_xml(archive.read(main), where=f"{path.name}: {main}")
            kind = _kind(tree, f"{path.name}: {main}")
            return RefiFile(path, kind, main, tree, archive, notes)
        except BaseException:
            archive.close()
            raise
    data = read_capped(path, name=path.name, limit=QDPX.xml_bytes, what="codebook")
    tree = parse_xml(data, where=path.name)
    return RefiFile(path, _kind(tree, path.name), path.name, tree)


def _kind(tree: etree._ElementTree, where: str) -> str:
    name = local(tree.getroot())
    if name == "Project":
        return "project"
    if name == "CodeBook":
        return "codebook"
    raise DataError(f"{where}: root element <{name}> is neither <Project> nor <CodeBook> (not a REFI-QDA file)")


@dataclass(frozen=True)
class SourcePath:
    member: str | None  # archive member holding the file, when found
    problem: str = ""  # why it is not conformant or not found ('' when fine)
    external: bool = False  # relative:// or absolute://: the file is outside the archive by design


def resolve_source(refi: RefiFile, value: str) -> SourcePath:
    """Find the archive member a ``plainTextPath``/``path`` points at, tolerating vendor drift."""
    archive = refi.archive
    if value.startswith("internal://"):
        name = value[len("internal://"):].lstrip("/")
        if archive is None:
            return SourcePath(None, f"'{value}' points into an archive, but this is not one")
        exact = archive.find(SOURCES_DIR + name)
        if exact:
            return SourcePath(exact)
        loose = archive.find(SOURCES_DIR + name, ignore_case=True)
        if loose:
            return SourcePath(loose, f"'{value}' is stored as '{loose}' (the folder must be 'sources/')")
        return SourcePath(None, f"'{value}': file not in the archive (expected '{SOURCES_DIR}{name}')")
    if value.startswith(("relative://", "absolute://")):
        return SourcePath(None, f"'{value}' is outside the archive; its text is not included", external=True)
    if archive is not None and "://" not in value:
        for candidate in (SOURCES_DIR + value.lstrip("/"), value.lstrip("/")):
            found = archive.find(candidate) or archive.find(candidate, ignore_case=True)
            if found:
                return SourcePath(found, f"'{value}' lacks the 'internal://' prefix (found '{found}')")
    return SourcePath(None, f"'{value}' is not an internal://, relative:// or absolute:// path")


def decode_text(data: bytes) -> tuple[str, str, bool]:
    """(text, encoding, is_utf8): UTF-8 (BOM allowed); UTF-16 with a BOM; else cp1252, flagged."""
    if data.startswith(codecs.BOM_UTF8):
        try:
            return data[3:].decode("utf-8"), "utf-8-sig", True
        except UnicodeDecodeError:
            pass
    elif data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        try:
            return data.decode("utf-16"), "utf-16", False
        except UnicodeDecodeError:
            pass
    else:
        try:
            return data.decode("utf-8"), "utf-8", True
        except UnicodeDecodeError:
            pass
    return data.decode("cp1252", errors="replace"), "cp1252", False
