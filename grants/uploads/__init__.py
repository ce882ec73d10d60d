"""Identify uploaded attachments by their content, and refuse what reviewers could not use.

Browsers and file names lie, mostly by accident (a renamed file, an error page saved as .pdf), and
auditors must still be able to open an attachment years later. So the type comes from the bytes,
and the name must agree with them: its extension must be one of the accepted types' and name the
type the content is, so that nothing is ever stored under a name a computer would open as
something else (an .html page, an .exe). Pure Python: the web layer maps `UploadRefused` to a
form error and stores accepted bytes by hash (see `grants.storage`).

This module is the public API. Behind it, `formats` tells the type from the bytes, `ole` reads
legacy Office (OLE2) files for it, and `refusals` holds the refusal codes and their texts.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass

from grants.uploads import formats, ole
from grants.uploads.formats import EXTENSIONS, TYPES, Sniff, ZipLimits
from grants.uploads.refusals import LABELS, TYPE_NAMES, RefusalCode, UploadRefused, mb, refused

__all__ = [
    "MAX_FILENAME_CHARS",
    "MAX_ZIP_ENTRIES",
    "MAX_ZIP_UNCOMPRESSED",
    "TYPES",
    "DetectedFile",
    "RefusalCode",
    "UploadRefused",
    "describe_types",
    "detect_kind",
    "extensions_of",
    "safe_filename",
    "validate_upload",
]

MAX_ZIP_ENTRIES = 5_000  # real documents have tens to hundreds of parts
MAX_ZIP_UNCOMPRESSED = 512 * 1024 * 1024  # declared total: more is a zip bomb, not a document
MAX_FILENAME_CHARS = 200
_MAX_PART_BYTES = 1024 * 1024  # [Content_Types].xml, mimetype, manifest: small by nature
_PDF_WINDOW = formats.PDF_WINDOW  # the names this module had before it became a package
_OLE_MAGIC = ole.MAGIC


@dataclass(frozen=True)
class DetectedFile:
    """What the content is: the accept group, the MIME type to serve it with, its extension."""

    kind_group: str
    mime_type: str
    extension: str  # canonical, without the dot


def detect_kind(data: bytes, filename: str) -> DetectedFile:
    """Return what `data` is, from its bytes; the name only tells CSV from plain text.

    Raises:
        UploadRefused: the file is empty, damaged, encrypted beyond recognition, a zip bomb, or
            not a type we know.
    """
    if not data:
        raise refused("empty")
    sniff = _sniff(data, _extension(filename))
    if sniff.key is None:
        if sniff.encrypted:
            raise refused("encrypted", kind=LABELS[None])
        raise refused("unknown_type", accepted=describe_types(TYPES))
    return _detected(sniff)


def validate_upload(
    data: bytes, filename: str, *, accept: Iterable[str], max_bytes: int
) -> DetectedFile:
    """Check an upload for one file slot; return what it is, or say why it is refused.

    `accept` names the slot's types (keys of `TYPES`). The name's extension must be one of
    theirs, and the content must be the type the extension names. Checks run from the most basic
    to the most specific, so the applicant is told the one thing to fix first: empty, too large,
    name, name vs content, slot, password, macros.

    Raises:
        UploadRefused: with reasons in Japanese and English, and a `RefusalCode`.
        ValueError: `accept` is empty or names a type that is not in `TYPES`.
    """
    accepted = tuple(dict.fromkeys(accept))
    if not accepted or not set(accepted) <= TYPES.keys():
        raise ValueError(f"accept must be a non-empty list of {sorted(TYPES)}, got {accepted}")
    if not data:
        raise refused("empty")
    if len(data) > max_bytes:
        raise refused("too_large", size=mb(len(data)), limit=mb(max_bytes))
    ext = _extension(filename)
    named = EXTENSIONS.get(ext)
    if named is None and ext:
        raise refused("not_accepted.extension", ext=ext, accepted=describe_types(accepted))
    if named is None:
        raise refused("not_accepted.no_extension", accepted=describe_types(accepted))
    sniff = _sniff(data, ext)
    if sniff.key is None and sniff.encrypted:
        raise refused("encrypted", kind=LABELS[None])
    if sniff.key is None:
        raise refused("extension_mismatch.unknown", ext=ext, claimed=LABELS[named])
    if ext not in TYPES[sniff.key].extensions:
        raise refused("extension_mismatch", ext=ext, actual=LABELS[sniff.key])
    if sniff.key not in accepted:
        raise refused("not_accepted", kind=LABELS[sniff.key], accepted=describe_types(accepted))
    if sniff.encrypted:
        raise refused("encrypted", kind=LABELS[sniff.key])
    if sniff.macros:
        raise refused("macros")
    return _detected(sniff)


def describe_types(types: Iterable[str]) -> tuple[str, str]:
    """Name types with their extensions, in (ja, en): "PDF（.pdf）、Word（.docx・.doc）"."""
    grouped: dict[tuple[str, str], list[str]] = {}
    for key in types:
        grouped.setdefault(TYPE_NAMES[key], []).extend(TYPES[key].extensions)
    ja = "、".join(f"{ja}（{'・'.join(_dotted(exts))}）" for (ja, _), exts in grouped.items())
    en = ", ".join(f"{en} ({', '.join(_dotted(exts))})" for (_, en), exts in grouped.items())
    return ja, en


def extensions_of(types: Iterable[str]) -> tuple[str, ...]:
    """The file-name extensions of `types`, with their dots: what a file input may offer."""
    return tuple(_dotted(ext for key in types for ext in TYPES[key].extensions))


def _dotted(extensions: Iterable[str]) -> list[str]:
    return [f".{ext}" for ext in extensions]


def safe_filename(name: str) -> str:
    """Return the user's file name fit for display: NFC, no folders, no control characters.

    Only ever a display name (files are stored by hash), so Japanese stays as it is; what goes is
    what could mislead or break a page: path parts, control and bidi-override characters.
    """
    name = unicodedata.normalize("NFC", name)
    name = re.split(r"[/\\]", name)[-1]
    name = "".join(c for c in name if unicodedata.category(c) not in ("Cc", "Cf", "Cs", "Zl", "Zp"))
    name = name.strip().rstrip(". ").strip()
    if not name:
        return "file"
    stem, dot, ext = name.rpartition(".")
    if not dot or not stem or len(ext) > 16:
        stem, ext = name, ""
    if len(name) > MAX_FILENAME_CHARS:
        suffix = f".{ext}" if ext else ""
        name = stem[: MAX_FILENAME_CHARS - len(suffix)].rstrip() + suffix
    return name


def _sniff(data: bytes, ext: str) -> Sniff:
    """Sniff with the archive limits as they stand now (module attributes, read at each call)."""
    limits = ZipLimits(MAX_ZIP_ENTRIES, MAX_ZIP_UNCOMPRESSED, _MAX_PART_BYTES)
    return formats.sniff(data, ext, limits)


def _detected(sniff: Sniff) -> DetectedFile:
    kind = TYPES[sniff.key or ""]
    mime = f"{kind.mime}; charset={sniff.charset}" if sniff.charset else kind.mime
    return DetectedFile(kind.group, mime, kind.extensions[0])


def _extension(filename: str) -> str:
    """Return the lowercased extension of the display name; NFKC so that ".ＰＤＦ" is "pdf"."""
    stem, dot, ext = safe_filename(filename).rpartition(".")
    return unicodedata.normalize("NFKC", ext).lower() if dot and stem else ""
