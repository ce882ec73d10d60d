"""append_pdfs: applicants' PDFs follow the packet; an unreadable one is skipped and reported,
never fatal; the packet keeps its own metadata; PDF/A records are never appended to."""

from __future__ import annotations

import io
import logging

import pikepdf
import pypdf
import pytest

from grants.rendering import AppendResult, SkippedPdf, append_pdfs, appendable


def pdf_with_pages(count: int, *, width: int = 595, title: str | None = None) -> bytes:
    writer = pypdf.PdfWriter()
    for _ in range(count):
        writer.add_blank_page(width=width, height=842)
    if title:
        writer.add_metadata({"/Title": title})
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def packet() -> bytes:
    """A generated packet: two pages, a title, XMP and an embedded file, as WeasyPrint writes."""
    with pikepdf.open(io.BytesIO(pdf_with_pages(2, title="審査資料"))) as pdf:
        with pdf.open_metadata() as xmp:
            xmp["dc:title"] = "審査資料"
        pdf.attachments["申請データ.json"] = pikepdf.AttachedFileSpec(pdf, b"{}")
        out = io.BytesIO()
        pdf.save(out)
    return out.getvalue()


def encrypted() -> bytes:
    writer = pypdf.PdfWriter(clone_from=pypdf.PdfReader(io.BytesIO(pdf_with_pages(1))))
    writer.encrypt(user_password="secret", algorithm="RC4-128")
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def page_widths(data: bytes) -> list[int]:
    return [int(page.mediabox.width) for page in pypdf.PdfReader(io.BytesIO(data)).pages]


def test_extras_follow_the_packet_in_order():
    result = append_pdfs(packet(), [pdf_with_pages(1, width=300), pdf_with_pages(3, width=400)])

    assert page_widths(result.pdf) == [595, 595, 300, 400, 400, 400]
    assert result.skipped == ()


def test_unreadable_and_encrypted_pdfs_are_skipped_and_reported(caplog):
    extras = [
        b"not a PDF at all",
        pdf_with_pages(1, width=300),
        encrypted(),
        b"",
        pdf_with_pages(1)[:200],  # truncated
        pdf_with_pages(1, width=400),
    ]

    with caplog.at_level(logging.WARNING, logger="grants.rendering"):
        result = append_pdfs(packet(), extras)

    assert page_widths(result.pdf) == [595, 595, 300, 400]
    assert [skipped.index for skipped in result.skipped] == [0, 2, 3, 4]
    assert result.skipped[1] == SkippedPdf(2, "encrypted PDF")
    assert all(skipped.reason for skipped in result.skipped)
    assert len([r for r in caplog.records if "skipped" in r.getMessage()]) == 4


def test_the_packet_keeps_its_metadata_and_embedded_files():
    result = append_pdfs(packet(), [pdf_with_pages(1, title="applicant's own title")])

    with pikepdf.open(io.BytesIO(result.pdf)) as pdf:
        assert str(pdf.docinfo.Title) == "審査資料"
        assert pdf.open_metadata()["dc:title"] == "審査資料"
        assert pdf.attachments["申請データ.json"].get_file().read_bytes() == b"{}"


def test_nothing_to_append_returns_the_packet_readable():
    result = append_pdfs(packet(), [])

    assert isinstance(result, AppendResult)
    assert page_widths(result.pdf) == [595, 595]


def test_a_pdfa_record_is_never_appended_to():
    with pikepdf.open(io.BytesIO(pdf_with_pages(1))) as pdf:
        with pdf.open_metadata() as xmp:
            xmp["pdfaid:part"] = "3"
            xmp["pdfaid:conformance"] = "U"
        out = io.BytesIO()
        pdf.save(out)

    with pytest.raises(ValueError, match="PDF/A"):
        append_pdfs(out.getvalue(), [pdf_with_pages(1)])


def test_appendable_says_why_before_merging():
    assert appendable(pdf_with_pages(1)) is None
    assert appendable(encrypted()) == "encrypted PDF"
    assert appendable(b"not a PDF at all").startswith("unreadable PDF")
