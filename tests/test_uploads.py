"""Upload checks on real, hand-built sample files: the verdict and the words the applicant reads."""

from __future__ import annotations

import io
import struct
import unicodedata
import zipfile
import zlib

import pytest

from grants import uploads
from grants.domain.file_types import DEFAULT_FILE_TYPES, SHORTHANDS, FileType
from grants.uploads import (
    DetectedFile,
    UploadRefused,
    describe_types,
    detect_kind,
    extensions_of,
    safe_filename,
    validate_upload,
)

MB = 1024 * 1024
ALL = tuple(uploads.TYPES)  # every type the checks know: what content they recognise


def check(data: bytes, filename: str, *, accept=ALL, max_bytes: int = 20 * MB) -> DetectedFile:
    return validate_upload(data, filename, accept=accept, max_bytes=max_bytes)


def refusal(data: bytes, filename: str, **kwargs) -> UploadRefused:
    with pytest.raises(UploadRefused) as caught:
        check(data, filename, **kwargs)
    return caught.value


# --- sample files --------------------------------------------------------------------------------


def make_pdf(
    *, trailer: bytes = b"", extra_objects: tuple[bytes, ...] = (), text=b"Hello"
) -> bytes:
    """A minimal valid PDF: catalog, pages, one page with a content stream, classic xref."""
    content = b"BT /F1 12 Tf 72 720 Td (" + text + b") Tj ET"
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R >>",
        b"<< /Length %d >>\nstream\n%s\nendstream" % (len(content), content),
        *extra_objects,
    ]
    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n%s\nendobj\n" % (number, body)
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R%s >>\n" % (len(objects) + 1, trailer)
    out += b"startxref\n%d\n%%%%EOF\n" % xref
    return bytes(out)


ENCRYPT_DICT = b"<< /Filter /Standard /V 2 /R 3 /Length 128 /P -3904 /O <00> /U <00> >>"


def make_pdf_with_xref_stream_encrypt() -> bytes:
    """A PDF 1.5 whose /Encrypt is in an xref stream dictionary far from the end of the file."""
    head = make_pdf().split(b"xref\n")[0]
    xref_offset = len(head)
    table = bytes(range(256)) * 64  # 16 KiB of xref data: the dictionary is outside the tail
    xref = b"5 0 obj\n<< /Type /XRef /Size 6 /Root 1 0 R /Encrypt 6 0 R /W [1 4 2] /Length %d >>"
    xref = xref % len(table) + b"\nstream\n" + table + b"\nendstream\nendobj\n"
    return head + xref + b"startxref\n%d\n%%%%EOF\n" % xref_offset


def make_png() -> bytes:
    """A 1×1 red PNG with correct chunk CRCs."""

    def chunk(tag: bytes, body: bytes) -> bytes:
        crc = zlib.crc32(tag + body) & 0xFFFFFFFF
        return struct.pack(">I", len(body)) + tag + body + struct.pack(">I", crc)

    header = struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)
    pixels = zlib.compress(b"\x00\xff\x00\x00")
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", pixels) + chunk(b"IEND", b"")
    )


JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00\xff\xd9"
GIF = (
    b"GIF89a\x01\x00\x01\x00\x80\x00\x00\x00\x00\x00\xff\xff\xff!\xf9\x04\x01\x00\x00\x00\x00"
    b",\x00\x00\x00\x00\x01\x00\x01\x00\x00\x02\x02D\x01\x00;"
)
WEBP = b"RIFF" + struct.pack("<I", 20) + b"WEBPVP8L" + struct.pack("<I", 8) + b"\x2f" + bytes(7)
TIFF = b"II*\x00\x08\x00\x00\x00\x00\x00\x00\x00\x00\x00"
EXE = (
    b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00"
    + bytes(48)
    + (b"This program cannot be run in DOS mode.\r\r\n$" + bytes(64))
)

OOXML = "application/vnd.openxmlformats-officedocument."
ODF = "application/vnd.oasis.opendocument."
MAIN_PARTS = {
    "docx": (OOXML + "wordprocessingml.document.main+xml", "word/document.xml"),
    "xlsx": (OOXML + "spreadsheetml.sheet.main+xml", "xl/workbook.xml"),
    "pptx": (OOXML + "presentationml.presentation.main+xml", "ppt/presentation.xml"),
    "xlsm": ("application/vnd.ms-excel.sheet.macroEnabled.main+xml", "xl/workbook.xml"),
}


def make_zip(parts: dict[str, bytes | str], *, first_stored: bool = False) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for index, (name, content) in enumerate(parts.items()):
            stored = first_stored and index == 0
            archive.writestr(name, content, zipfile.ZIP_STORED if stored else zipfile.ZIP_DEFLATED)
    return buffer.getvalue()


def make_ooxml(kind: str, extra: dict[str, bytes | str] | None = None) -> bytes:
    """An OOXML package: [Content_Types].xml declaring the main part, the rels, the main part."""
    main_type, main_part = MAIN_PARTS[kind]
    content_types = (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
        '<Default Extension="rels" '
        'ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
        '<Default Extension="xml" ContentType="application/xml"/>'
        f'<Override PartName="/{main_part}" ContentType="{main_type}"/></Types>'
    )
    rels = (
        '<?xml version="1.0" encoding="UTF-8"?><Relationships '
        'xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
        '<Relationship Id="rId1" Target="' + main_part + '" Type="http://schemas.openxmlformats'
        '.org/officeDocument/2006/relationships/officeDocument"/></Relationships>'
    )
    parts = {"[Content_Types].xml": content_types, "_rels/.rels": rels, main_part: "<x/>"}
    return make_zip({**parts, **(extra or {})})


def make_odf(kind: str = "text", extra: dict[str, bytes | str] | None = None) -> bytes:
    """An ODF package: an uncompressed `mimetype` first, then content and manifest."""
    manifest = (
        '<?xml version="1.0" encoding="UTF-8"?><manifest:manifest '
        'xmlns:manifest="urn:oasis:names:tc:opendocument:xmlns:manifest:1.0">'
        '<manifest:file-entry manifest:full-path="/" manifest:media-type="application/'
        f'vnd.oasis.opendocument.{kind}"/></manifest:manifest>'
    )
    parts = {
        "mimetype": f"application/vnd.oasis.opendocument.{kind}",
        "content.xml": "<office:document-content/>",
        "META-INF/manifest.xml": manifest,
    }
    return make_zip({**parts, **(extra or {})}, first_stored=True)


def with_declared_size(archive: bytes, size: int) -> bytes:
    """Rewrite every entry's declared uncompressed size, in local and central headers."""
    data = bytearray(archive)
    for signature, offset in ((b"PK\x03\x04", 22), (b"PK\x01\x02", 24)):
        start = data.find(signature)
        while start != -1:
            struct.pack_into("<I", data, start + offset, size)
            start = data.find(signature, start + 4)
    return bytes(data)


# Legacy Office: a version-3 compound file with one FAT sector and one directory sector.
ENDOFCHAIN, FREESECT, FATSECT, NOSTREAM = 0xFFFFFFFE, 0xFFFFFFFF, 0xFFFFFFFD, 0xFFFFFFFF


def _cfb_entry(name: str, kind: int, start: int, size: int) -> bytes:
    raw = name.encode("utf-16-le") + b"\x00\x00"
    links = struct.pack("<III", NOSTREAM, NOSTREAM, NOSTREAM)
    entry = raw.ljust(64, b"\x00") + struct.pack("<HBB", len(raw), kind, 1) + links
    return entry + bytes(36) + struct.pack("<IQ", start, size)


def make_cfb(entries: list[tuple[str, int, bytes]]) -> bytes:
    """Build an OLE2 file from (name, kind 1=storage 2=stream, content); streams in sectors."""
    fat, body, directory = [FATSECT, ENDOFCHAIN], b"", [_cfb_entry("Root Entry", 5, ENDOFCHAIN, 0)]
    for name, kind, content in entries:
        count = -(-len(content) // 512)
        start = len(fat) if count else ENDOFCHAIN
        fat += [len(fat) + i + 1 for i in range(count - 1)] + ([ENDOFCHAIN] if count else [])
        body += content.ljust(count * 512, b"\x00")
        directory.append(_cfb_entry(name, kind, start, len(content)))
    assert len(directory) <= 4 and len(fat) <= 128
    header = uploads._OLE_MAGIC + bytes(16) + struct.pack("<HHHHH", 0x3E, 3, 0xFFFE, 9, 6)
    header += bytes(6) + struct.pack("<9I", 0, 1, 1, 0, 4096, ENDOFCHAIN, 0, ENDOFCHAIN, 0)
    header += struct.pack("<109I", 0, *[FREESECT] * 108)
    fat_sector = struct.pack("<128I", *fat, *[FREESECT] * (128 - len(fat)))
    return header + fat_sector + b"".join(directory).ljust(512, b"\x00") + body


def word_stream(*, encrypted: bool = False) -> bytes:
    flags = 0x0100 if encrypted else 0
    return (struct.pack("<HHHHHH", 0xA5EC, 0x00C1, 0, 0x0411, 0, flags)).ljust(4096, b"\x00")


def workbook_stream(*, encrypted: bool = False) -> bytes:
    bof = struct.pack("<HH", 0x0809, 16) + struct.pack("<HH", 0x0600, 0x0005) + bytes(12)
    second = struct.pack("<HHH", 0x002F, 2, 1) if encrypted else struct.pack("<HHH", 0x0042, 2, 932)
    return (bof + second).ljust(4096, b"\x00")


# --- accepted files ------------------------------------------------------------------------------


WORD_97 = make_cfb([("WordDocument", 2, word_stream())])
EXCEL_97 = make_cfb([("Workbook", 2, workbook_stream())])
POWERPOINT_97 = make_cfb([("PowerPoint Document", 2, b"x" * 600)])
SAMPLES = [  # content, file name, expected (group, MIME type, extension)
    (make_pdf(), "申請書.pdf", ("pdf", "application/pdf", "pdf")),
    (make_png(), "写真.png", ("image", "image/png", "png")),
    (JPEG, "photo.JPEG", ("image", "image/jpeg", "jpg")),
    (GIF, "map.gif", ("image", "image/gif", "gif")),
    (WEBP, "map.webp", ("image", "image/webp", "webp")),
    (TIFF, "scan.tif", ("image", "image/tiff", "tif")),
    (make_ooxml("docx"), "計画書.docx", ("office", OOXML + "wordprocessingml.document", "docx")),
    (make_ooxml("xlsx"), "予算.xlsx", ("office", OOXML + "spreadsheetml.sheet", "xlsx")),
    (make_ooxml("pptx"), "概要.pptx", ("office", OOXML + "presentationml.presentation", "pptx")),
    (make_odf("text"), "a.odt", ("office", "application/vnd.oasis.opendocument.text", "odt")),
    (make_odf("spreadsheet"), "a.ods", ("office", ODF + "spreadsheet", "ods")),
    (make_odf("presentation"), "a.odp", ("office", ODF + "presentation", "odp")),
    (WORD_97, "旧.doc", ("office", "application/msword", "doc")),
    (EXCEL_97, "旧.xls", ("office", "application/vnd.ms-excel", "xls")),
    (POWERPOINT_97, "旧.ppt", ("office", "application/vnd.ms-powerpoint", "ppt")),
]


@pytest.mark.parametrize(("data", "filename", "expected"), SAMPLES, ids=[s[1] for s in SAMPLES])
def test_validate_upload_real_sample_accepted_with_type_from_content(data, filename, expected):
    assert check(data, filename) == DetectedFile(*expected)


def test_validate_upload_shift_jis_csv_accepted_with_charset():
    data = "団体名,金額\r\n札幌市,1000000\r\n函館市,500000\r\n".encode("cp932")
    with pytest.raises(UnicodeDecodeError):
        data.decode("utf-8")  # the sample really is Shift_JIS, not UTF-8 by accident
    assert check(data, "予算内訳.csv") == DetectedFile(
        "office", "text/csv; charset=Shift_JIS", "csv"
    )


def test_validate_upload_utf8_text_accepted_as_plain_text():
    result = check("事業概要\n地域の雇用を創出する。\n".encode(), "memo.txt")
    assert result == DetectedFile("office", "text/plain; charset=utf-8", "txt")


def test_validate_upload_name_without_extension_refused_naming_accepted_types():
    error = refusal(make_png(), "スキャン", accept=["pdf", "png"])
    assert error.code == "not_accepted"
    assert error.reason_ja == (
        "ファイル名に拡張子（.pdf など）がないため、添付できません。"
        "形式に合った拡張子を付けてください。添付できる形式: PDF（.pdf）、PNG（.png）"
    )
    assert error.reason_en.endswith("Accepted: PDF (.pdf), PNG (.png).")


def test_validate_upload_fullwidth_uppercase_extension_matches_content():
    assert check(make_pdf(), "報告書.ＰＤＦ").extension == "pdf"


def test_validate_upload_pdf_mentioning_encrypt_in_text_accepted():
    assert check(make_pdf(text=b"(see /Encrypt 1 0 in the spec)"), "a.pdf").kind_group == "pdf"


def test_detect_kind_png_named_pdf_reports_content_type():
    assert detect_kind(make_png(), "x.pdf") == DetectedFile("image", "image/png", "png")


def test_detect_kind_unknown_content_refused():
    with pytest.raises(UploadRefused) as caught:
        detect_kind(EXE, "setup.exe")
    assert caught.value.code == "unknown_type"


def test_detect_kind_empty_refused():
    with pytest.raises(UploadRefused) as caught:
        detect_kind(b"", "a.pdf")
    assert caught.value.code == "empty"


# --- refusals ------------------------------------------------------------------------------------


def test_validate_upload_empty_file_refused():
    error = refusal(b"", "申請書.pdf")
    assert error.code == "empty"
    assert "空" in error.reason_ja
    assert "empty" in error.reason_en


def test_validate_upload_too_large_refused_naming_limit_in_mb():
    error = refusal(make_pdf() + b" " * (3 * MB // 2), "a.pdf", max_bytes=1 * MB)
    assert error.code == "too_large"
    assert error.reason_ja == "ファイルが大きすぎます（1.5 MB）。1ファイルの上限は1 MBです。"
    assert "The limit is 1 MB per file" in error.reason_en
    assert "(1.5 MB)" in error.reason_en


def test_validate_upload_renamed_exe_with_pdf_extension_refused_as_mismatch():
    error = refusal(EXE, "申請書.pdf")
    assert error.code == "extension_mismatch"
    assert error.reason_ja.startswith("ファイル名は「.pdf」ですが、中身はPDFではありません。")
    assert "the content is not a PDF" in error.reason_en


def test_validate_upload_unknown_extension_refused_naming_accepted_types():
    error = refusal(EXE, "setup.exe", accept=("pdf", "jpeg", "png"))
    assert error.code == "not_accepted"
    assert error.reason_ja == (
        "ファイル名が「.exe」で終わるファイルは添付できません。添付できる形式: "
        "PDF（.pdf）、JPEG（.jpg・.jpeg・.jpe・.jfif）、PNG（.png）"
    )
    assert error.reason_en == (
        "Files whose name ends in “.exe” cannot be attached. "
        "Accepted: PDF (.pdf), JPEG (.jpg, .jpeg, .jpe, .jfif), PNG (.png)."
    )


HTML = b"<!DOCTYPE html><html><body><script>alert(document.cookie)</script></body></html>\n"
SVG = b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>\n'
DANGEROUS = [
    (HTML, "申請書.html"),
    (HTML, "申請書.htm"),
    (SVG, "図.svg"),
    (b"alert(document.cookie);\n", "script.js"),
    (b"@echo off\r\ndel /q C:\\*\r\n", "run.bat"),
    (HTML, "app.hta"),
    (EXE, "setup.exe"),
    (EXE, "screen.scr"),
    (b"\x7fELF\x02\x01\x01" + bytes(60), "tool"),
]


@pytest.mark.parametrize(("data", "filename"), DANGEROUS, ids=[d[1] for d in DANGEROUS])
def test_validate_upload_active_or_unknown_files_refused_with_default_types(data, filename):
    error = refusal(data, filename, accept=DEFAULT_FILE_TYPES)
    assert error.code == "not_accepted"
    extension = filename.rpartition(".")[2] if "." in filename else None
    assert (f"「.{extension}」" if extension else "拡張子") in error.reason_ja
    assert "PDF（.pdf）、Word（.docx・.doc）、Excel（.xlsx・.xls）" in error.reason_ja
    assert "PowerPoint (.pptx, .ppt), JPEG (.jpg, .jpeg, .jpe, .jfif), PNG (.png)" in (
        error.reason_en
    )


def test_validate_upload_html_refused_even_where_text_files_are_accepted():
    error = refusal(HTML, "page.html", accept=["pdf", "txt"])
    assert error.code == "not_accepted"
    assert error.reason_en.endswith("Accepted: PDF (.pdf), text (.txt).")


def test_validate_upload_pdf_named_docx_refused_as_mismatch():
    error = refusal(make_pdf(), "計画書.docx", accept=DEFAULT_FILE_TYPES)
    assert error.code == "extension_mismatch"
    assert error.reason_ja.startswith("ファイル名は「.docx」ですが、中身はPDFです。")


def test_validate_upload_workbook_named_docx_refused_as_mismatch():
    error = refusal(make_ooxml("xlsx"), "計画書.docx", accept=DEFAULT_FILE_TYPES)
    assert error.code == "extension_mismatch"
    assert "中身はExcelブック（.xlsx）です" in error.reason_ja


@pytest.mark.parametrize(
    ("data", "filename"),
    [(GIF, "map.gif"), (TIFF, "scan.tiff"), (WEBP, "map.webp"), (make_odf("text"), "a.odt")],
)
def test_validate_upload_types_outside_the_default_refused_by_default(data, filename):
    assert refusal(data, filename, accept=DEFAULT_FILE_TYPES).code == "not_accepted"


DEFAULT_SAMPLES = [  # content, file name, the MIME type it is served with
    (make_pdf(), "申請書.pdf", "application/pdf"),
    (make_ooxml("docx"), "計画書.docx", OOXML + "wordprocessingml.document"),
    (make_ooxml("xlsx"), "予算.xlsx", OOXML + "spreadsheetml.sheet"),
    (make_ooxml("pptx"), "概要.pptx", OOXML + "presentationml.presentation"),
    (WORD_97, "旧.doc", "application/msword"),
    (make_png(), "写真.png", "image/png"),
    (JPEG, "写真.jpg", "image/jpeg"),
    (JPEG, "写真.JPEG", "image/jpeg"),
]


@pytest.mark.parametrize(
    ("data", "filename", "mime"), DEFAULT_SAMPLES, ids=[d[1] for d in DEFAULT_SAMPLES]
)
def test_validate_upload_default_types_accepted(data, filename, mime):
    assert check(data, filename, accept=DEFAULT_FILE_TYPES).mime_type == mime


def test_domain_file_types_are_upload_types_without_macros():
    names = set(FileType.__args__) - set(SHORTHANDS)
    assert names <= set(uploads.TYPES)
    assert names.isdisjoint({"docm", "xlsm", "pptm"})
    assert {t for types in SHORTHANDS.values() for t in types} <= names


def test_describe_types_groups_extensions_by_name():
    assert describe_types(["docx", "doc", "png"]) == (
        "Word（.docx・.doc）、PNG（.png）",
        "Word (.docx, .doc), PNG (.png)",
    )
    assert extensions_of(["pdf", "xlsx", "xls"]) == (".pdf", ".xlsx", ".xls")


def test_validate_upload_zip_named_pdf_refused_as_mismatch():
    error = refusal(make_ooxml("docx"), "申請書.pdf")
    assert error.code == "extension_mismatch"
    assert "中身はWord文書（.docx）です" in error.reason_ja
    assert "the content is a Word document (.docx)" in error.reason_en


def test_validate_upload_plain_zip_named_docx_refused_as_mismatch():
    error = refusal(make_zip({"readme.txt": "hi"}), "計画書.docx")
    assert error.code == "extension_mismatch"
    assert "中身はWord文書（.docx）ではありません" in error.reason_ja


def test_validate_upload_jpeg_named_png_refused_as_mismatch():
    assert refusal(JPEG, "photo.png").code == "extension_mismatch"


def test_validate_upload_text_with_nul_bytes_named_txt_refused():
    error = refusal(b"name\x00value\n", "data.txt")
    assert error.code == "extension_mismatch"
    assert "テキストファイルではありません" in error.reason_ja


def test_validate_upload_type_not_in_slot_refused_naming_what_is_accepted():
    error = refusal(make_png(), "写真.png", accept=["pdf"])
    assert error.code == "not_accepted"
    assert error.reason_ja == "この欄にはPNG画像は添付できません。添付できる形式: PDF（.pdf）"
    assert error.reason_en == "A PNG image cannot be attached here. Accepted: PDF (.pdf)."


def test_validate_upload_encrypted_pdf_refused_because_reviewers_cannot_open():
    data = make_pdf(trailer=b" /Encrypt 5 0 R", extra_objects=(ENCRYPT_DICT,))
    error = refusal(data, "申請書.pdf")
    assert error.code == "encrypted"
    assert "パスワードで保護された（暗号化された）PDF" in error.reason_ja
    assert "審査担当者が開けない" in error.reason_ja
    assert "reviewers could not open it" in error.reason_en


def test_validate_upload_encrypt_in_xref_stream_found_through_startxref():
    data = make_pdf_with_xref_stream_encrypt()
    assert b"/Encrypt" not in data[-uploads._PDF_WINDOW :]
    assert refusal(data, "a.pdf").code == "encrypted"


def test_validate_upload_xlsm_refused_for_macros():
    data = make_ooxml("xlsm", {"xl/vbaProject.bin": bytes(range(256))})
    error = refusal(data, "予算.xlsm")
    assert error.code == "macros"
    assert "マクロを含むファイル" in error.reason_ja
    assert "Files containing macros cannot be accepted" in error.reason_en


def test_validate_upload_docx_smuggling_vba_project_refused_for_macros():
    data = make_ooxml("docx", {"word/vbaProject.bin": b"\x00" * 64})
    assert refusal(data, "計画書.docx").code == "macros"


def test_validate_upload_xlsm_renamed_xlsx_refused_as_mismatch():
    data = make_ooxml("xlsm", {"xl/vbaProject.bin": b"\x00" * 64})
    error = refusal(data, "予算.xlsx")
    assert error.code == "extension_mismatch"
    assert "マクロ付きExcelブック（.xlsm）" in error.reason_ja


def test_validate_upload_zip_bomb_declared_size_refused():
    data = with_declared_size(make_ooxml("docx"), 0xFFFFFFF0)
    error = refusal(data, "計画書.docx")
    assert error.code == "archive_limits"
    assert "512 MB" in error.reason_ja
    assert "512 MB" in error.reason_en


def test_validate_upload_zip_with_too_many_entries_refused(monkeypatch):
    monkeypatch.setattr(uploads, "MAX_ZIP_ENTRIES", 10)
    data = make_ooxml("xlsx", {f"xl/worksheets/sheet{i}.xml": "<x/>" for i in range(10)})
    error = refusal(data, "予算.xlsx")
    assert error.code == "archive_limits"
    assert "13個、上限10個" in error.reason_ja


def test_validate_upload_oversized_content_types_part_refused(monkeypatch):
    monkeypatch.setattr(uploads, "_MAX_PART_BYTES", 100)
    assert refusal(make_ooxml("docx"), "a.docx").code == "archive_limits"


def test_validate_upload_truncated_zip_refused_as_damaged():
    error = refusal(make_ooxml("docx")[:200], "計画書.docx")
    assert error.code == "damaged"
    assert "壊れている" in error.reason_ja


def test_validate_upload_odf_with_basic_macro_refused():
    data = make_odf("spreadsheet", {"Basic/Standard/Module1.xml": "<script:module/>"})
    assert refusal(data, "集計.ods").code == "macros"


def test_validate_upload_odf_with_empty_basic_library_index_accepted():
    data = make_odf("text", {"Basic/script-lc.xml": "<x/>", "Basic/Standard/script-lb.xml": "<x/>"})
    assert check(data, "a.odt").extension == "odt"


def test_validate_upload_password_protected_odf_refused():
    data = make_odf("text", {"META-INF/manifest.xml": "<manifest:encryption-data/>"})
    assert refusal(data, "a.odt").code == "encrypted"


def test_validate_upload_word_97_with_macros_refused():
    data = make_cfb([("WordDocument", 2, word_stream()), ("Macros", 1, b"")])
    assert refusal(data, "旧.doc").code == "macros"


def test_validate_upload_password_protected_word_97_refused():
    data = make_cfb([("WordDocument", 2, word_stream(encrypted=True))])
    error = refusal(data, "旧.doc")
    assert error.code == "encrypted"
    assert "Word 97-2003文書（.doc）" in error.reason_ja


def test_validate_upload_password_protected_excel_97_refused():
    assert refusal(make_cfb([("Workbook", 2, workbook_stream(encrypted=True))]), "a.xls").code == (
        "encrypted"
    )


def test_validate_upload_password_protected_xlsx_refused():
    data = make_cfb([("EncryptionInfo", 2, b"\x04\x00" * 300), ("EncryptedPackage", 2, b"")])
    error = refusal(data, "予算.xlsx")
    assert error.code == "encrypted"
    assert "Excelブック（.xlsx）" in error.reason_ja


def test_validate_upload_other_compound_file_named_doc_refused():
    data = make_cfb([("\x05SummaryInformation", 2, b"\x00" * 100)])  # e.g. an .msi installer
    assert refusal(data, "旧.doc").code == "extension_mismatch"
    assert refusal(data, "setup.msi").code == "not_accepted"


def test_validate_upload_truncated_compound_file_refused_as_damaged():
    assert refusal(uploads._OLE_MAGIC + bytes(40), "旧.xls").code == "damaged"


def test_validate_upload_check_order_reports_slot_before_password():
    data = make_pdf(trailer=b" /Encrypt 5 0 R")
    assert refusal(data, "a.pdf", accept=["png"]).code == "not_accepted"


@pytest.mark.parametrize("accept", [[], ["pdf", "video"], "pdf", ["pdf", "image"]])
def test_validate_upload_bad_accept_list_raises_value_error(accept):
    with pytest.raises(ValueError, match="accept"):
        check(make_pdf(), "a.pdf", accept=accept)


def test_upload_refused_reason_falls_back_to_japanese():
    error = refusal(b"", "a.pdf")
    assert error.reason("en") == error.reason_en
    assert error.reason("en_US") == error.reason_en
    assert error.reason("ja") == error.reason_ja
    assert error.reason("fr") == error.reason_ja
    assert str(error) == error.reason_en


# --- display names -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("C:\\Users\\山田\\Desktop\\申請書.pdf", "申請書.pdf"),
        ("../../etc/passwd", "passwd"),
        (unicodedata.normalize("NFD", "データ・ガイド.pdf"), "データ・ガイド.pdf"),
        ("報告\x00書\r\n.pdf", "報告書.pdf"),
        ("invoice\u202egpj.exe", "invoicegpj.exe"),
        ("  事業計画書（案）.docx  ", "事業計画書（案）.docx"),
        ("", "file"),
        ("..", "file"),
        ("folder/", "file"),
    ],
)
def test_safe_filename_unsafe_parts_removed(name, expected):
    assert safe_filename(name) == expected


def test_safe_filename_long_name_capped_keeping_extension():
    result = safe_filename("あ" * 300 + ".xlsx")
    assert len(result) == 200
    assert result == "あ" * 195 + ".xlsx"


def test_safe_filename_long_name_without_extension_capped():
    assert safe_filename("x" * 250) == "x" * 200
