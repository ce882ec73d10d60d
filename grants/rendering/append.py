"""Append applicants' own PDFs after a generated review packet, skipping what cannot be read.

An applicant's file is untrusted and often odd (encrypted, truncated, made by a scanner);
one bad file must cost a note in the packet, never the packet itself.
"""

from __future__ import annotations

import io
import logging
from collections.abc import Sequence
from dataclasses import dataclass

from pypdf import PdfReader, PdfWriter

LOGGER = logging.getLogger("grants.rendering")
PDFA_NAMESPACE = b"http://www.aiim.org/pdfa/ns/id/"


@dataclass(frozen=True)
class SkippedPdf:
    """One extra PDF left out: its position in ``extra`` and why."""

    index: int
    reason: str


@dataclass(frozen=True)
class AppendResult:
    """The combined PDF, and the extras left out (to list in the packet or the audit log)."""

    pdf: bytes
    skipped: tuple[SkippedPdf, ...] = ()


def append_pdfs(base: bytes, extra: Sequence[bytes]) -> AppendResult:
    """Return ``base`` followed by every readable, unencrypted PDF of ``extra``, in order.

    The base keeps its document information, XMP metadata, outline and embedded files.
    A PDF/A base is refused (ValueError): appending arbitrary pages would make its PDF/A
    claim false, and audit records are never combined.
    """
    reader = PdfReader(io.BytesIO(base))
    if _claims_pdfa(reader):
        raise ValueError("the base PDF is PDF/A (an audit record): records never get appendices")
    writer = PdfWriter(clone_from=reader)
    skipped = []
    for index, data in enumerate(extra):
        pages_before = len(writer.pages)
        try:
            writer.append(PdfReader(io.BytesIO(_normalized(data))))
        except Exception as exc:  # pypdf raises many kinds on malformed input
            while len(writer.pages) > pages_before:  # no half of a file in the packet
                writer.remove_page(len(writer.pages) - 1)
            reason = _reason(exc)
            LOGGER.warning("appended PDF #%d skipped: %s", index, reason)
            skipped.append(SkippedPdf(index, reason))
    out = io.BytesIO()
    writer.write(out)
    return AppendResult(out.getvalue(), tuple(skipped))


def appendable(data: bytes) -> str | None:
    """Why ``data`` would be skipped by append_pdfs, or None: to name the file before merging."""
    try:
        _normalized(data)
    except Exception as exc:  # pypdf raises many kinds on malformed input
        return _reason(exc)
    return None


class _Unusable(Exception):
    """A PDF pypdf can read but we will not append."""


def _normalized(data: bytes) -> bytes:
    """Read every page and write a fresh copy, so that a file failing halfway through fails
    here, before any of its pages reach the packet."""
    reader = PdfReader(io.BytesIO(data))
    if reader.is_encrypted:
        raise _Unusable("encrypted PDF")
    if not reader.pages:
        raise _Unusable("PDF without pages")
    copy = PdfWriter(clone_from=reader)
    out = io.BytesIO()
    copy.write(out)
    return out.getvalue()


def _reason(exc: Exception) -> str:
    return str(exc) if isinstance(exc, _Unusable) else f"unreadable PDF ({exc})"


def _claims_pdfa(reader: PdfReader) -> bool:
    metadata = reader.trailer["/Root"].get("/Metadata")
    return metadata is not None and PDFA_NAMESPACE in metadata.get_object().get_data()
