"""Tell a file's type from its bytes: magic numbers, PDF, ZIP-based Office and ODF, legacy Office
(through `ole`), plain text.

`sniff` returns the type (a `TYPES` key, or None when it is not one we know) and the flags that get
a known type refused; it raises `UploadRefused` only for damaged files and archive-limit breaches.
"""

from __future__ import annotations

import io
import re
import struct
import zipfile
import zlib
from dataclasses import dataclass

from grants.uploads import ole
from grants.uploads.refusals import UploadRefused, mb, refused

PDF_WINDOW = 8 * 1024  # trailer + startxref + %%EOF, or the xref dictionary startxref points to


@dataclass(frozen=True)
class _Type:
    group: str
    mime: str
    extensions: tuple[str, ...]  # the first is canonical


_OOXML = "application/vnd.openxmlformats-officedocument."
_ODF = "application/vnd.oasis.opendocument."
_MS = "application/vnd.ms-"
TYPES: dict[str, _Type] = {
    "pdf": _Type("pdf", "application/pdf", ("pdf",)),
    "png": _Type("image", "image/png", ("png",)),
    "jpeg": _Type("image", "image/jpeg", ("jpg", "jpeg", "jpe", "jfif")),
    "gif": _Type("image", "image/gif", ("gif",)),
    "webp": _Type("image", "image/webp", ("webp",)),
    "tiff": _Type("image", "image/tiff", ("tif", "tiff")),
    "docx": _Type("office", _OOXML + "wordprocessingml.document", ("docx",)),
    "xlsx": _Type("office", _OOXML + "spreadsheetml.sheet", ("xlsx",)),
    "pptx": _Type("office", _OOXML + "presentationml.presentation", ("pptx",)),
    "docm": _Type("office", _MS + "word.document.macroEnabled.12", ("docm",)),
    "xlsm": _Type("office", _MS + "excel.sheet.macroEnabled.12", ("xlsm",)),
    "pptm": _Type("office", _MS + "powerpoint.presentation.macroEnabled.12", ("pptm",)),
    "odt": _Type("office", _ODF + "text", ("odt",)),
    "ods": _Type("office", _ODF + "spreadsheet", ("ods",)),
    "odp": _Type("office", _ODF + "presentation", ("odp",)),
    "doc": _Type("office", "application/msword", ("doc",)),
    "xls": _Type("office", _MS + "excel", ("xls",)),
    "ppt": _Type("office", _MS + "powerpoint", ("ppt",)),
    "csv": _Type("office", "text/csv", ("csv",)),
    "txt": _Type("office", "text/plain", ("txt",)),
}
EXTENSIONS = {ext: key for key, t in TYPES.items() for ext in t.extensions}


@dataclass(frozen=True)
class Sniff:
    key: str | None  # a TYPES key, None when the content is not one we know
    encrypted: bool = False
    macros: bool = False
    charset: str | None = None  # text only: the browser needs it to show Shift_JIS right


@dataclass(frozen=True)
class ZipLimits:
    """What a real document stays within: an archive beyond these is a zip bomb."""

    entries: int
    uncompressed: int  # the declared total of all entries, in bytes
    part_bytes: int  # the few parts read: [Content_Types].xml, mimetype, manifest


_IMAGE_MAGIC = (
    (b"\x89PNG\r\n\x1a\n", "png"),
    (b"\xff\xd8\xff", "jpeg"),
    (b"GIF87a", "gif"),
    (b"GIF89a", "gif"),
    (b"II*\x00", "tiff"),
    (b"MM\x00*", "tiff"),
)


def sniff(data: bytes, ext: str, limits: ZipLimits) -> Sniff:
    """Return the type the bytes say, plus the flags that get a known type refused."""
    if data.startswith(b"%PDF-"):
        return Sniff("pdf", encrypted=_pdf_encrypted(data))
    for magic, key in _IMAGE_MAGIC:
        if data.startswith(magic):
            return Sniff(key)
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return Sniff("webp")
    if data.startswith(b"PK\x03\x04"):
        return _sniff_zip(data, limits)
    if data.startswith(ole.MAGIC):
        return _sniff_ole(data, ext)
    charset = _text_charset(data)
    if charset:
        return Sniff("csv" if ext == "csv" else "txt", charset=charset)
    return Sniff(None)


_PDF_ENCRYPT = re.compile(rb"/Encrypt\s*(?:\d+\s+\d+\s+R|<<)")
_PDF_STARTXREF = re.compile(rb"startxref\s+(\d+)")


def _pdf_encrypted(data: bytes) -> bool:
    """Look for /Encrypt in the trailer, or in the xref stream dictionary startxref points to."""
    tail = data[-PDF_WINDOW:]
    if _PDF_ENCRYPT.search(tail):
        return True
    offsets = [int(m.group(1)) for m in _PDF_STARTXREF.finditer(tail)]
    xref = data[offsets[-1] : offsets[-1] + PDF_WINDOW] if offsets else b""
    return _PDF_ENCRYPT.search(xref) is not None


_TEXT_CONTROLS = re.compile(r"[\x00-\x08\x0b\x0e-\x1f\x7f-\x9f]")


def _text_charset(data: bytes) -> str | None:
    """Return "utf-8" or "Shift_JIS" when `data` is plain text in it, else None."""
    if b"\x00" in data:
        return None
    for codec, label in (("utf-8", "utf-8"), ("cp932", "Shift_JIS")):
        try:
            text = data.decode(codec)
        except UnicodeDecodeError:
            continue
        return None if _TEXT_CONTROLS.search(text) else label
    return None


_OOXML_MAIN = (  # content type of the main part (lowercase), the folder holding it, the type
    (_OOXML + "wordprocessingml.document.main+xml", "word/", "docx"),
    (_MS + "word.document.macroenabled.main+xml", "word/", "docm"),
    (_OOXML + "spreadsheetml.sheet.main+xml", "xl/", "xlsx"),
    (_MS + "excel.sheet.macroenabled.main+xml", "xl/", "xlsm"),
    (_OOXML + "presentationml.presentation.main+xml", "ppt/", "pptx"),
    (_MS + "powerpoint.presentation.macroenabled.main+xml", "ppt/", "pptm"),
)
_ODF_MIMETYPES = {TYPES[k].mime.encode(): k for k in ("odt", "ods", "odp")}
_ODF_MACRO = re.compile(r"^(?:Scripts/.+[^/]|Basic/[^/]+/(?!(?:script|dialog)-l[bc]\.xml$)[^/]+)$")
_ZIP_ERRORS = (zipfile.BadZipFile, EOFError, OSError, RuntimeError, ValueError, struct.error)


def _sniff_zip(data: bytes, limits: ZipLimits) -> Sniff:
    """Tell OOXML and ODF apart from other ZIPs, reading only a few small, capped parts."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            infos = archive.infolist()
            _check_zip_limits(infos, limits)
            names = {info.filename for info in infos}
            encrypted = any(info.flag_bits & 0x1 for info in infos)
            if infos and infos[0].filename == "mimetype":
                manifest = _read_part(archive, "META-INF/manifest.xml", limits)
                return Sniff(
                    _ODF_MIMETYPES.get(_read_part(archive, "mimetype", limits).strip()),
                    encrypted=encrypted or b"encryption-data" in manifest,
                    macros=any(_ODF_MACRO.match(name) for name in names),
                )
            if "[Content_Types].xml" in names:
                key = _ooxml_type(_read_part(archive, "[Content_Types].xml", limits), names)
                macros = any(name.lower().endswith("vbaproject.bin") for name in names)
                return Sniff(key, encrypted, macros or key in ("docm", "xlsm", "pptm"))
    except UploadRefused:
        raise
    except (*_ZIP_ERRORS, zlib.error) as exc:
        raise refused("damaged") from exc
    return Sniff(None)


def _ooxml_type(content_types: bytes, names: set[str]) -> str | None:
    """Return the OOXML type whose main part is both declared and present."""
    declared = content_types.decode("utf-8", "replace").lower()
    for main, folder, key in _OOXML_MAIN:
        if main in declared and any(name.startswith(folder) for name in names):
            return key
    return None


def _check_zip_limits(infos: list[zipfile.ZipInfo], limits: ZipLimits) -> None:
    """Refuse archives whose declared contents are far beyond any real document (zip bombs)."""
    if len(infos) > limits.entries:
        raise refused("archive_limits.entries", count=len(infos), limit=limits.entries)
    if sum(info.file_size for info in infos) > limits.uncompressed:
        raise refused("archive_limits.size", limit=mb(limits.uncompressed))


def _read_part(archive: zipfile.ZipFile, name: str, limits: ZipLimits) -> bytes:
    """Read one small part, never more than the cap whatever its header claims."""
    try:
        info = archive.getinfo(name)
    except KeyError:
        return b""
    if info.flag_bits & 0x1:
        return b""  # an encrypted entry: the caller reports the archive as encrypted
    with archive.open(info) as part:
        content = part.read(limits.part_bytes + 1)
    if len(content) > limits.part_bytes:
        raise refused("archive_limits.part")
    return content


_OLE_MACROS = frozenset({"Macros", "_VBA_PROJECT_CUR"})  # Word's and Excel's VBA storages


def _sniff_ole(data: bytes, ext: str) -> Sniff:
    """Tell .doc/.xls/.ppt from other compound files (.msi, .msg) by their stream names."""
    try:
        sector_size, entries = ole.directory(data)
    except (struct.error, ValueError) as exc:
        raise refused("damaged") from exc
    if "EncryptedPackage" in entries:  # a password-protected docx/xlsx/pptx is an OLE2 file
        return Sniff(EXTENSIONS[ext] if ext in ("docx", "xlsx", "pptx") else None, True)
    macros = not _OLE_MACROS.isdisjoint(entries)
    if "WordDocument" in entries:
        fib = ole.stream_head(data, sector_size, entries["WordDocument"])
        encrypted = len(fib) >= 12 and bool(struct.unpack_from("<H", fib, 0x0A)[0] & 0x0100)
        return Sniff("doc", encrypted, macros)
    book = entries.get("Workbook") or entries.get("Book")
    if book:
        head = ole.stream_head(data, sector_size, book)
        return Sniff("xls", ole.second_biff_record(head) == 0x002F, macros)  # 0x2F: FILEPASS
    if "PowerPoint Document" in entries:
        return Sniff("ppt", "EncryptedSummary" in entries, macros)
    return Sniff(None)
