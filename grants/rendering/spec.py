"""What a render is asked to make and what comes back: plain data that crosses the process gap.

Everything here is picklable and free of WeasyPrint, so the parent never loads the renderer.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from pathlib import Path

# AFRelationship values PDF/A-3 allows (ISO 19005-3, 6.8); PDF 2.0 adds more, we need none.
RELATIONSHIPS = frozenset({"Source", "Data", "Alternative", "Supplement", "Unspecified"})
# WeasyPrint 70's variant names (weasyprint.pdf.VARIANTS), checked here so that a typo fails
# in the caller with a clear message instead of as a KeyError inside the child.
PDF_VARIANTS = frozenset(
    {"pdf/a-1a", "pdf/a-1b", "pdf/a-2a", "pdf/a-2b", "pdf/a-2u", "pdf/a-3a", "pdf/a-3b"}
    | {"pdf/a-3u", "pdf/a-4e", "pdf/a-4f", "pdf/a-4u", "pdf/ua-1", "pdf/ua-2"}
    | {"pdf/x-1a", "pdf/x-3", "pdf/x-4", "pdf/x-5g"}
)
# PDF/A-1 drops embedded files and PDF/A-2 keeps only PDF ones: refuse rather than lose data.
DROPS_ATTACHMENTS = ("pdf/a-1", "pdf/a-2")
_MIME = re.compile(r"^[a-z0-9][a-z0-9!#$&^_.+-]*/[a-z0-9][a-z0-9!#$&^_.+-]*$")


@dataclass(frozen=True)
class EmbeddedFile:
    """A file carried inside the PDF, e.g. the JSON an audit record was rendered from."""

    name: str
    data: bytes
    description: str = ""
    mime_type: str = "application/octet-stream"
    relationship: str = "Unspecified"  # PDF/A-3 AFRelationship: Source, Data, Supplement...

    def __post_init__(self) -> None:
        if not self.name or "/" in self.name or "\\" in self.name:
            raise ValueError(f"embedded file name must be a plain file name: {self.name!r}")
        if not _MIME.match(self.mime_type):
            raise ValueError(f"not a MIME type (type/subtype): {self.mime_type!r}")
        if self.relationship not in RELATIONSHIPS:
            raise ValueError(
                f"relationship must be one of {sorted(RELATIONSHIPS)}: {self.relationship!r}"
            )


@dataclass(frozen=True)
class DocumentInfo:
    """PDF document information; given fields override the HTML's <title>, <meta> and lang."""

    title: str | None = None
    author: str | None = None
    subject: str | None = None
    keywords: tuple[str, ...] = ()
    lang: str | None = None  # BCP 47, e.g. "ja"
    created: dt.datetime | None = None  # aware; also the embedded files' dates

    def __post_init__(self) -> None:
        if self.created is not None and self.created.utcoffset() is None:
            raise ValueError("DocumentInfo.created must be timezone-aware")


@dataclass(frozen=True)
class RenderJob:
    """Everything the child needs; built by render_pdf, consumed by the child."""

    html: str
    static_dir: Path
    stylesheets: tuple[str, ...] = ()
    pdf_variant: str | None = None
    attachments: tuple[EmbeddedFile, ...] = ()
    metadata: DocumentInfo | None = None

    def __post_init__(self) -> None:
        if self.pdf_variant is not None and self.pdf_variant not in PDF_VARIANTS:
            raise ValueError(f"unknown PDF variant {self.pdf_variant!r}")
        if self.attachments and (self.pdf_variant or "").startswith(DROPS_ATTACHMENTS):
            raise ValueError(f"{self.pdf_variant} drops embedded files: use pdf/a-3b or pdf/a-3u")
        names = [attachment.name for attachment in self.attachments]
        if len(set(names)) != len(names):
            raise ValueError(f"embedded file names must be unique: {names}")


@dataclass(frozen=True)
class RenderResult:
    """The PDF, and the URLs the document asked for but was refused (an audit fact)."""

    pdf: bytes
    refused_urls: tuple[str, ...] = ()
    page_count: int = 0
