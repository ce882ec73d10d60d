"""Embedded files for WeasyPrint 70, and the fixes its PDF writer needs for them.

WeasyPrint's Attachment takes no MIME type (it guesses one from the name), writes the name
as UTF-8 bytes into the ASCII-only /F entry (and uses that as the name-tree key, so readers
show mojibake for 申請データ.json), and matches PDF/A-3 relationships by MD5, so two files
with equal bytes get the same one. A finisher corrects all three before the PDF is written.
"""

from __future__ import annotations

import codecs
import datetime as dt
import hashlib
from collections.abc import Sequence
from typing import Any
from urllib.parse import quote

import pydyf
from weasyprint import Attachment

from grants.rendering.spec import EmbeddedFile


def to_attachments(files: Sequence[EmbeddedFile], created: dt.datetime) -> list[Attachment]:
    """WeasyPrint attachments from bytes: strings only, never file names it would open."""
    return [
        Attachment(
            string=file.data,
            name=file.name,
            description=file.description or None,
            relationship=file.relationship,
            created=created.astimezone(dt.UTC),  # WeasyPrint writes the time with a "Z"
            modified=created.astimezone(dt.UTC),
        )
        for file in files
    ]


class EmbeddedFileFinisher:
    """A ``write_pdf(finisher=...)``: set MIME types, names and relationships as given."""

    def __init__(self, files: Sequence[EmbeddedFile]) -> None:
        self.files = {(file.name, _checksum(file.data)): file for file in files}

    def __call__(self, document: Any, pdf: pydyf.PDF) -> None:
        for spec in pdf.objects:
            if isinstance(spec, dict) and spec.get("Type") == "/Filespec":
                self._fix(pdf, spec)
        names = pdf.catalog.get("Names", {}).get("EmbeddedFiles")
        if names is not None:
            _rekey(pdf, _resolve(pdf, names))

    def _fix(self, pdf: pydyf.PDF, spec: pydyf.Dictionary) -> None:
        name = spec["UF"].string
        spec["F"] = pydyf.String(quote(name, safe=" ._-()[]+,;=@"))
        stream = _resolve(pdf, spec["EF"]["F"])
        file = self.files.get((name, stream.extra["Params"]["CheckSum"]))
        if file is None:  # not ours: a <link rel=attachment> from the static directory
            return
        stream.extra["Subtype"] = "/" + file.mime_type.replace("/", "#2f")
        if "AFRelationship" in spec:  # PDF/A-3 only
            spec["AFRelationship"] = "/" + file.relationship


def _rekey(pdf: pydyf.PDF, tree: pydyf.Dictionary) -> None:
    """Key the EmbeddedFiles name tree by the Unicode names, sorted as the spec requires."""
    references = tree["Names"][1::2]
    keyed = [(_resolve(pdf, ref)["UF"].string, ref) for ref in references]
    keyed.sort(key=lambda pair: _string_bytes(pair[0]))
    tree["Names"] = pydyf.Array(item for name, ref in keyed for item in (pydyf.String(name), ref))


def _string_bytes(text: str) -> bytes:
    """The bytes a PDF string holds (as pydyf writes it): ASCII, else UTF-16BE with a BOM."""
    try:
        return text.encode("ascii")
    except UnicodeEncodeError:
        return codecs.BOM_UTF16_BE + text.encode("utf-16-be")


def _resolve(pdf: pydyf.PDF, reference: bytes | str) -> Any:
    return pdf.objects[int(reference.split()[0])]


def _checksum(data: bytes) -> str:
    return f"<{hashlib.md5(data, usedforsecurity=False).hexdigest()}>"
