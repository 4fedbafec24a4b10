"""Reading untrusted REFI-QDA files safely: XML without DTDs or entities, zips without escapes or bombs.

A .qdpx comes from someone else's machine. We never extract it to disk: members are read into memory
after every entry has been checked, and XML is parsed with DTDs refused outright (no entity expansion,
no network access, so no XXE and no "billion laughs").
"""

from __future__ import annotations

import io
import os
import stat
import struct
import zipfile
import zlib
from collections.abc import Generator
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING

from vbhc_code.errors import DataError

if TYPE_CHECKING:  # lxml is imported when XML is first parsed (reading a .csv needs none)
    from lxml import etree

# Limits, one set per kind of input, set from what a real study needs (see docs/limits.md). A 3-hour
# interview .docx is a few MB (its document.xml 1-5 MB); a coder workbook of 50,000 turns has a 23 MB sheet.
# Module constants so a site (or a test) can replace them (dataclasses.replace).


@dataclass(frozen=True)
class Limits:
    """Bounds on one archive: its size on disk, what it unpacks to, and every part that is read."""

    file_bytes: int  # the archive on disk
    total_bytes: int  # all entries, uncompressed
    member_bytes: int  # any one entry, uncompressed
    xml_bytes: int  # any one XML part (by name, or by content starting with '<'), uncompressed
    members: int  # entries in the archive
    ratio: int = 200  # uncompressed / compressed, for entries above RATIO_MIN_BYTES and for the whole archive
    not_zip: str = "not a valid zip archive, or a truncated one"


MiB = 1 << 20
QDPX = Limits(file_bytes=2048 * MiB, total_bytes=1024 * MiB, member_bytes=512 * MiB, xml_bytes=32 * MiB,
              members=100_000,
              not_zip="not a valid zip archive, or a truncated one (.qdpx files are zip archives)")
DOCX = Limits(file_bytes=64 * MiB, total_bytes=128 * MiB, member_bytes=64 * MiB, xml_bytes=6 * MiB, members=5_000)
XLSX = Limits(file_bytes=64 * MiB, total_bytes=160 * MiB, member_bytes=64 * MiB, xml_bytes=32 * MiB, members=5_000,
              not_zip="not a readable .xlsx workbook (not a zip archive, or a truncated one)")
RATIO_MIN_BYTES = 1 << 20
# Plain inputs read whole, refused from their size on disk first: a transcript (.txt .md .vtt .srt, and a source
# text inside a .qdpx), and a sheet, codebook or .qdc.
MAX_TEXT_BYTES = 4 * MiB
MAX_SHEET_BYTES = 24 * MiB

def _size(n: int) -> str:
    return f"{n >> 20} MiB" if n % MiB == 0 else f"{n:,} bytes"


_ZIP_MAGIC = (b"PK\x03\x04", b"PK\x05\x06")


def is_zip(path: Path) -> bool:
    try:
        with path.open("rb") as fh:
            return fh.read(4) in _ZIP_MAGIC
    except OSError as exc:
        raise DataError(f"{path.name}: cannot read the file ({exc.strerror})") from None


def parse_xml(data: bytes, *, where: str, limit: int | None = None) -> etree._ElementTree:
    """Parse XML bytes with line numbers; refuse DTDs (hence entities) and never touch the network."""
    from lxml import etree

    limit = QDPX.xml_bytes if limit is None else limit
    if len(data) > limit:
        raise DataError(f"{where}: XML larger than {_size(limit)}; refused")
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


def read_capped(path: Path, *, name: str, limit: int | None = None, what: str = "file") -> bytes:
    """The bytes of a plain input file, refused from its size on disk before anything is read (and again while
    reading, should it grow): a 1.5 GB text file is never read whole."""
    limit = MAX_SHEET_BYTES if limit is None else limit
    try:
        # non-blocking open, then a regular-file check: a FIFO (or a device) is refused at once, never waited for
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
        with os.fdopen(fd, "rb") as fh:
            if not stat.S_ISREG(os.fstat(fd).st_mode):
                raise DataError(f"{name}: not a regular file (a FIFO, device or socket); refused")
            size = os.fstat(fh.fileno()).st_size
            if size > limit:
                raise DataError(f"{name}: {size:,} bytes; larger than any {what} this tool reads "
                                f"(limit {_size(limit)}); refused")
            data = fh.read(limit + 1)
    except OSError as exc:
        raise DataError(f"{name}: cannot read the file ({exc.strerror or type(exc).__name__})") from None
    if len(data) > limit:
        raise DataError(f"{name}: larger than {_size(limit)} while being read; refused")
    return data


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
    from lxml import etree

    return any(isinstance(node, etree._Entity) for node in tree.getroot().iter(etree.Entity))


def _xml_reason(exc: etree.XMLSyntaxError) -> str:
    """The kind of XML error, never its text: libxml2 messages quote entity names, tags and values."""
    last = exc.error_log.last_error if exc.error_log else None
    kind = getattr(last, "type_name", "") or ""
    if kind.startswith("ERR_"):
        kind = kind[4:]
    return kind.replace("_", " ").lower() or "syntax error"


@dataclass(frozen=True)
class Member:
    name: str  # the name as stored in the archive, '/'-separated
    size: int
    info: zipfile.ZipInfo


class SafeZip:
    """A checked, read-only view of a zip archive (a file or bytes). Every entry is vetted before any is read."""

    def __init__(self, source: Path | bytes, *, label: str | None = None, limits: Limits | None = None) -> None:
        self.limits = limits or QDPX
        self.label = label or (source.name if isinstance(source, Path) else "<archive>")
        try:
            if isinstance(source, Path):
                size = source.stat().st_size
                if size > self.limits.file_bytes:
                    raise DataError(f"{self.label}: {size:,} bytes on disk (limit {_size(self.limits.file_bytes)}); "
                                    "refused")
                self._zf = zipfile.ZipFile(source)
            else:
                self._zf = zipfile.ZipFile(io.BytesIO(source))
        except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, ValueError, NotImplementedError, RuntimeError,
                OverflowError, struct.error):
            # a truncated download ends before the zip's central directory; a damaged one may claim any version
            raise DataError(f"{self.label}: {self.limits.not_zip}") from None
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
        lim = self.limits
        infos = self._zf.infolist()
        if len(infos) > lim.members:
            raise DataError(f"{self.label}: {len(infos)} entries in the archive (limit {lim.members}); refused")
        total = total_packed = 0
        members: list[Member] = []
        seen: set[str] = set()
        for info in infos:
            posix = self._vet_entry(info, seen)
            total += info.file_size
            total_packed += info.compress_size
            if total > lim.total_bytes:
                raise DataError(
                    f"{self.label}: more than {lim.total_bytes} bytes uncompressed in all; refused (zip bomb?)"
                )
            if not info.filename.endswith("/"):
                members.append(Member(name=posix, size=info.file_size, info=info))
        # Many small members can each stay under the per-member ratio check; the archive as a whole cannot.
        if total > RATIO_MIN_BYTES and total > lim.ratio * max(total_packed, 1):
            ratio = total // max(total_packed, 1)
            raise DataError(
                f"{self.label}: compression ratio {ratio}:1 over all entries (limit {lim.ratio}:1); refused (zip bomb)"
            )
        return members

    def _vet_entry(self, info: zipfile.ZipInfo, seen: set[str]) -> str:
        lim = self.limits
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
        limit = lim.xml_bytes if _xml_name(posix) else lim.member_bytes
        if info.file_size > limit:
            raise DataError(f"{where}: {info.file_size} bytes uncompressed (limit {limit}); refused (zip bomb?)")
        if info.file_size > RATIO_MIN_BYTES and info.file_size > lim.ratio * max(info.compress_size, 1):
            ratio = info.file_size // max(info.compress_size, 1)
            raise DataError(f"{where}: compression ratio {ratio}:1 (limit {lim.ratio}:1); refused (zip bomb)")
        return posix

    def find(self, name: str, *, ignore_case: bool = False) -> str | None:
        """The stored name of ``name`` (optionally matched case-insensitively), or None."""
        if name in self._by_name:
            return name
        if ignore_case:
            return self._by_lower.get(name.lower())
        return None

    def read(self, name: str, *, limit: int | None = None, what: str = "entry") -> bytes:
        """A member's bytes, read in chunks so a lying size header cannot exhaust memory; ``limit`` refuses a
        member larger than any ``what`` this tool reads."""
        member = self._by_name.get(name)
        if member is None:
            raise DataError(f"{self.label}: no entry '{name}' in the archive")
        if limit is not None and member.size > limit:
            raise DataError(f"{self.label}: entry '{name}': {member.size:,} bytes uncompressed; larger than any "
                            f"{what} this tool reads (limit {_size(limit)}); refused")
        return b"".join(self._chunks(member))

    def chunks(self, name: str) -> Generator[bytes, None, None]:
        """A member's bytes in chunks of at most 64 KiB (for a peek at its head)."""
        return self._chunks(self._by_name[name])

    def _chunks(self, member: Member) -> Generator[bytes, None, None]:
        """A member's bytes in chunks, never more than its header says (nor than its limit)."""
        info = member.info
        got = 0
        try:
            with self._zf.open(info) as fh:
                while chunk := fh.read(1 << 16):
                    got += len(chunk)
                    if got > info.file_size:
                        raise DataError(f"{self.label}: entry '{member.name}' is larger than its header says; "
                                        "refused")
                    yield chunk
        except (zipfile.BadZipFile, zlib.error, EOFError, OSError, NotImplementedError, ValueError, RuntimeError):
            raise DataError(f"{self.label}: entry '{member.name}' is damaged (bad compressed data or checksum); "
                            "cannot read it") from None

    def scan_markup(self) -> None:
        """Stream every entry, whatever its name, refusing a DOCTYPE or entity declaration (any encoding) and an
        entry that turns out XML (it starts with '<') above the XML limit. For packages a third-party reader
        opens (python-docx, openpyxl): they parse parts by content type, not by name."""
        for member in self.members:
            tail = b""
            got = 0
            xml = _xml_name(member.name)
            for chunk in self._chunks(member):
                if got == 0 and not xml:
                    xml = chunk.lstrip(b"\xef\xbb\xbf\xff\xfe\x00 \t\r\n")[:1] == b"<"
                got += len(chunk)
                if xml and got > self.limits.xml_bytes:
                    raise DataError(f"{self.label}: entry '{member.name}': XML of more than "
                                    f"{self.limits.xml_bytes:,} bytes uncompressed; refused")
                window = tail + chunk
                if any(m in window for m in _DECLARATIONS):
                    raise DataError(f"{self.label}: entry '{member.name}': declares a DOCTYPE or XML entities; "
                                    "refused (Office never writes them; they can hide entity attacks)")
                tail = window[-_TAIL:]


_XML_SUFFIXES = (".xml", ".rels", ".vml", ".qde", ".qdc")
# DOCTYPE/ENTITY declarations in the encodings an XML part may use (UTF-8, UTF-16 LE/BE).
_DECLARATIONS = tuple(w.encode(enc) for w in ("<!DOCTYPE", "<!ENTITY") for enc in ("ascii", "utf-16-le", "utf-16-be"))
_TAIL = max(len(d) for d in _DECLARATIONS)


def _xml_name(name: str) -> bool:
    return name.lower().endswith(_XML_SUFFIXES)


def check_package(source: Path | bytes, *, label: str, limits: Limits) -> list[str]:
    """Vet an Office package (.docx, .xlsx) before a third-party reader opens it: every limit, and every entry
    streamed once for DOCTYPE/entity declarations whatever its name. Returns the entry names."""
    with SafeZip(source, label=label, limits=limits) as archive:
        archive.scan_markup()
        return [m.name for m in archive.members]


def check_docx(data: bytes, *, name: str) -> None:
    """Refuse what is not a Word document, and anything over the .docx limits (``DOCX``)."""
    if not data:
        raise DataError(f"{name}: empty file")
    if not zipfile.is_zipfile(io.BytesIO(data)):
        if data.startswith(b"PK\x03\x04"):
            raise DataError(f"{name}: a damaged or truncated .docx (the zip archive is incomplete)")
        raise DataError(f"{name}: not a .docx file (not a zip archive)")
    names = check_package(data, label=name, limits=DOCX)
    if "word/document.xml" not in names:
        raise DataError(f"{name}: not a Word document (no word/document.xml in the archive)")
