"""Reading untrusted REFI-QDA files safely: XML without DTDs or entities, zips without escapes or bombs.

A .qdpx comes from someone else's machine. We never extract it to disk: members are read into memory
after every entry has been checked, and XML is parsed with DTDs refused outright (no entity expansion,
no network access, so no XXE and no "billion laughs").
"""

from __future__ import annotations

import stat
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from lxml import etree

from vbhc_code.errors import DataError

# Limits for one archive; module constants so a site (or a test) can tighten them.
MAX_TOTAL_BYTES = 1 << 30  # 1 GiB uncompressed in all
MAX_MEMBER_BYTES = 512 << 20  # 512 MiB for one member
MAX_RATIO = 200  # uncompressed / compressed, checked for members above RATIO_MIN_BYTES
RATIO_MIN_BYTES = 1 << 20
MAX_MEMBERS = 100_000
MAX_XML_BYTES = 256 << 20

_ZIP_MAGIC = (b"PK\x03\x04", b"PK\x05\x06")


def is_zip(path: Path) -> bool:
    try:
        with path.open("rb") as fh:
            return fh.read(4) in _ZIP_MAGIC
    except OSError as exc:
        raise DataError(f"{path.name}: cannot read the file ({exc.strerror})") from None


def parse_xml(data: bytes, *, where: str) -> etree._ElementTree:
    """Parse XML bytes with line numbers; refuse DTDs (hence entities) and never touch the network."""
    if len(data) > MAX_XML_BYTES:
        raise DataError(f"{where}: XML larger than {MAX_XML_BYTES >> 20} MiB; refused")
    if _may_have_dtd(data):
        _refuse_dtd(data, where)
    parser = etree.XMLParser(
        resolve_entities=False, no_network=True, load_dtd=False, dtd_validation=False,
        huge_tree=False, remove_blank_text=False,
    )
    try:
        tree = etree.ElementTree(etree.fromstring(data, parser))
    except etree.XMLSyntaxError as exc:
        line = getattr(exc, "lineno", None)
        at = f" line {line}" if line else ""
        raise DataError(f"{where}{at}: not well-formed XML ({_xml_reason(exc)})") from None
    if tree.docinfo.doctype or tree.docinfo.internalDTD is not None or _has_entity_refs(tree):
        raise DataError(f"{where}: {_DTD_REFUSED}")
    return tree


_DOCTYPE_MARKERS = (b"<!DOCTYPE", "<!DOCTYPE".encode("utf-16-le"), "<!DOCTYPE".encode("utf-16-be"))
_DTD_REFUSED = "contains a DTD (<!DOCTYPE>); refused because DTDs can hide entity attacks (XXE)"


def _may_have_dtd(data: bytes) -> bool:
    return any(marker in data for marker in _DOCTYPE_MARKERS)


def _refuse_dtd(data: bytes, where: str) -> None:
    """defusedxml (expat) decides whether the DOCTYPE is markup or just text inside a comment or value."""
    import defusedxml.ElementTree as safe_et
    from defusedxml import DefusedXmlException

    try:
        safe_et.fromstring(data, forbid_dtd=True, forbid_entities=True, forbid_external=True)
    except DefusedXmlException:
        raise DataError(f"{where}: {_DTD_REFUSED}") from None
    except Exception:  # noqa: BLE001 - malformed XML is reported by the lxml parse that follows
        pass


def _has_entity_refs(tree: etree._ElementTree) -> bool:
    return any(isinstance(node, etree._Entity) for node in tree.getroot().iter(etree.Entity))


def _xml_reason(exc: etree.XMLSyntaxError) -> str:
    msg = str(exc.msg if hasattr(exc, "msg") else exc)
    return msg.split(", line ")[0]


@dataclass(frozen=True)
class Member:
    name: str  # the name as stored in the archive, '/'-separated
    size: int
    info: zipfile.ZipInfo


class SafeZip:
    """A checked, read-only view of a zip archive. Every entry is vetted before any is read."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.label = path.name
        try:
            self._zf = zipfile.ZipFile(path)
        except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, ValueError):
            # a truncated download ends before the zip's central directory
            raise DataError(f"{self.label}: not a valid zip archive, or a truncated one "
                            "(.qdpx files are zip archives)") from None
        except OSError as exc:
            raise DataError(f"{self.label}: cannot read the file ({exc.strerror})") from None
        try:
            self.members = self._vet()
        except BaseException:
            self._zf.close()
            raise
        self._by_name = {m.name: m for m in self.members}
        self._by_lower: dict[str, str] = {}
        for m in self.members:
            self._by_lower.setdefault(m.name.lower(), m.name)

    def close(self) -> None:
        self._zf.close()

    def __enter__(self) -> SafeZip:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _vet(self) -> list[Member]:
        infos = self._zf.infolist()
        if len(infos) > MAX_MEMBERS:
            raise DataError(f"{self.label}: {len(infos)} entries in the archive (limit {MAX_MEMBERS}); refused")
        total = total_packed = 0
        members: list[Member] = []
        seen: set[str] = set()
        for info in infos:
            name = info.filename
            where = f"{self.label}: entry '{name}'"
            if "\x00" in name:
                raise DataError(f"{where}: NUL byte in the name; refused")
            posix = name.replace("\\", "/")
            # Two entries with one name: tools disagree on which one counts, so the archive is ambiguous.
            if posix in seen:
                raise DataError(f"{where}: the archive has two entries with this name; refused")
            seen.add(posix)
            if posix.startswith("/") or (len(posix) > 1 and posix[1] == ":") or posix.startswith("//"):
                raise DataError(f"{where}: absolute path; refused")
            if ".." in PurePosixPath(posix).parts:
                raise DataError(f"{where}: path escapes the archive folder ('..'); refused (zip slip)")
            mode = info.external_attr >> 16
            if info.create_system == 3 and stat.S_ISLNK(mode):
                raise DataError(f"{where}: symbolic link; refused")
            if info.flag_bits & 0x1:
                raise DataError(f"{where}: encrypted; cannot read it")
            if info.file_size > MAX_MEMBER_BYTES:
                raise DataError(
                    f"{where}: {info.file_size} bytes uncompressed (limit {MAX_MEMBER_BYTES}); refused (zip bomb?)"
                )
            if info.file_size > RATIO_MIN_BYTES and info.file_size > MAX_RATIO * max(info.compress_size, 1):
                ratio = info.file_size // max(info.compress_size, 1)
                raise DataError(f"{where}: compression ratio {ratio}:1 (limit {MAX_RATIO}:1); refused (zip bomb)")
            total += info.file_size
            total_packed += info.compress_size
            if total > MAX_TOTAL_BYTES:
                raise DataError(
                    f"{self.label}: more than {MAX_TOTAL_BYTES} bytes uncompressed in all; refused (zip bomb?)"
                )
            if not name.endswith("/"):
                members.append(Member(name=posix, size=info.file_size, info=info))
        # Many small members can each stay under the per-member ratio check; the archive as a whole cannot.
        if total > RATIO_MIN_BYTES and total > MAX_RATIO * max(total_packed, 1):
            ratio = total // max(total_packed, 1)
            raise DataError(
                f"{self.label}: compression ratio {ratio}:1 over all entries (limit {MAX_RATIO}:1); refused (zip bomb)"
            )
        return members

    def find(self, name: str, *, ignore_case: bool = False) -> str | None:
        """The stored name of ``name`` (optionally matched case-insensitively), or None."""
        if name in self._by_name:
            return name
        if ignore_case:
            return self._by_lower.get(name.lower())
        return None

    def read(self, name: str) -> bytes:
        """A member's bytes, read in chunks so a lying size header cannot exhaust memory."""
        member = self._by_name.get(name)
        if member is None:
            raise DataError(f"{self.label}: no entry '{name}' in the archive")
        info = member.info
        limit = min(MAX_MEMBER_BYTES, info.file_size)
        chunks: list[bytes] = []
        got = 0
        try:
            with self._zf.open(info) as fh:
                while True:
                    chunk = fh.read(1 << 16)
                    if not chunk:
                        break
                    got += len(chunk)
                    if got > limit:
                        raise DataError(f"{self.label}: entry '{name}' is larger than its header says; refused")
                    chunks.append(chunk)
        except (zipfile.BadZipFile, zlib.error, EOFError, OSError, NotImplementedError, ValueError):
            raise DataError(f"{self.label}: entry '{name}' is damaged (bad compressed data or checksum); "
                            "cannot read it") from None
        return b"".join(chunks)
