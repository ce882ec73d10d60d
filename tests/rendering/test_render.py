"""render_pdf end to end: Japanese text with embedded CJK fonts, running heads and footers,
PDF/A-3 with embedded files, the URL policy inside the child, and the child's limits."""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import logging
from pathlib import Path

import pikepdf
import pytest

from grants.rendering import (
    BASE_CSS,
    DocumentInfo,
    EmbeddedFile,
    RenderFailed,
    RenderResult,
    RenderTimeout,
    limits,
    render_pdf,
    within_request,
)
from tests.rendering.helpers import embedded_fonts, needs_fontconfig, page_texts, to_unicode

pytestmark = needs_fontconfig

HASH = hashlib.sha256(b"record 2026-0001").hexdigest()
JST = dt.timezone(dt.timedelta(hours=9))


def document(body: str, *, title: str = "審査票") -> str:
    return f"""<!doctype html><html lang="ja"><head><meta charset="utf-8">
      <title>{title}</title></head><body>
      <p class="pdf-program">地域情報化推進事業</p>
      <p class="pdf-reference">R8-0042</p>
      <p class="pdf-hash">{HASH}</p>
      {body}</body></html>"""


PACKET = document(
    """<h1>審査票</h1>
    <table><thead><tr><th>経費区分</th><th>金額</th></tr></thead><tbody>
      <tr><td>人件費</td><td class="yen">1,200,000</td></tr>
      <tr><td>設備費</td><td class="yen">3,450,000</td></tr></tbody></table>
    <p class="from-static">申請者: 北海道札幌市</p>
    <section style="break-before: page"><h2>所見</h2><p>事業の効果が見込まれる。</p></section>"""
)


@pytest.fixture(scope="module")
def packet(static_dir: Path) -> RenderResult:
    html = PACKET.replace("</head>", '<link rel="stylesheet" href="grants-pdf.css"></head>')
    return render_pdf(html, static_dir=static_dir, stylesheets=[BASE_CSS])


def test_japanese_text_page_numbers_heads_and_hash(packet):
    first, second = page_texts(packet.pdf)

    assert packet.page_count == 2
    assert "審査票" in first and "人件費" in first and "1,200,000円" in first
    assert "事業の効果が見込まれる。" in second
    assert "1 / 2" in first and "2 / 2" in second
    for text in (first, second):
        assert "地域情報化推進事業" in text and "R8-0042" in text
        assert f"SHA-256 {HASH}" in text
    assert "STATIC-CSS-OK" in first  # <link href="grants-pdf.css"> resolved in static_dir
    assert packet.refused_urls == ()


def test_a_japanese_font_is_embedded_and_maps_the_text_back(packet):
    with pikepdf.open(io.BytesIO(packet.pdf)) as pdf:
        fonts = embedded_fonts(pdf)
        cjk = [name for name in fonts if "CJK" in name]
        assert cjk, fonts.keys()
        for descriptor in fonts.values():
            assert "/FontFile2" in descriptor or "/FontFile3" in descriptor
        covered = set().union(*(to_unicode(pdf, name) for name in cjk))
    assert set("審査票人件費所見") <= covered


# --- PDF/A-3 audit records with embedded files ------------------------------------------------

SOURCE = EmbeddedFile(
    "申請データ.json",
    '{"金額": 1200000}'.encode(),
    description="審査の元データ",
    mime_type="application/json",
    relationship="Source",
)
BINARY = EmbeddedFile("scan.bin", bytes(range(256)) * 64 + b"\x00%%EOF\r\n", relationship="Data")
SAME_BYTES = EmbeddedFile(
    "copy.json", SOURCE.data, mime_type="text/plain", relationship="Supplement"
)
INFO = DocumentInfo(
    title="審査記録 R8-0042",
    author="地域情報化推進事業 事務局",
    subject="交付決定の記録",
    keywords=("審査", "記録"),
    lang="ja-JP",
    created=dt.datetime(2026, 11, 20, 10, 0, tzinfo=JST),
)


@pytest.fixture(scope="module", params=["pdf/a-3u", "pdf/a-3b"])
def record(request: pytest.FixtureRequest, static_dir: Path) -> RenderResult:
    return render_pdf(
        document("<h1>審査記録</h1><p>交付を決定した。</p>"),
        static_dir=static_dir,
        stylesheets=[BASE_CSS],
        pdf_variant=request.param,
        attachments=[SOURCE, BINARY, SAME_BYTES],
        metadata=INFO,
    )


def test_a_record_declares_pdfa_3_and_has_an_output_intent(record):
    with pikepdf.open(io.BytesIO(record.pdf)) as pdf:
        metadata = pdf.open_metadata()
        assert metadata["pdfaid:part"] == "3"
        assert metadata["pdfaid:conformance"] in ("U", "B")
        assert metadata["dc:title"] == INFO.title
        intents = pdf.Root.OutputIntents
        assert len(intents) == 1 and intents[0].S == "/GTS_PDFA1"
        assert "/DestOutputProfile" in intents[0]


def test_a_record_carries_its_files_byte_exact_as_associated_files(record):
    with pikepdf.open(io.BytesIO(record.pdf)) as pdf:
        files = {name: spec for name, spec in pdf.attachments.items()}
        assert sorted(files) == sorted(f.name for f in (SOURCE, BINARY, SAME_BYTES))
        for given in (SOURCE, BINARY, SAME_BYTES):
            spec = files[given.name]
            stored = spec.get_file()
            assert spec.filename == given.name
            assert stored.read_bytes() == given.data
            assert stored.mime_type == given.mime_type
            assert spec.obj.AFRelationship == f"/{given.relationship}"
            assert str(spec.obj.F).isascii()
        assert str(files[SOURCE.name].description) == SOURCE.description
        associated = {str(spec.UF) for spec in pdf.Root.AF}
        assert associated == set(files)


def test_document_info_overrides_the_html(record):
    with pikepdf.open(io.BytesIO(record.pdf)) as pdf:
        info = pdf.docinfo
        assert str(info.Title) == INFO.title
        assert str(info.Author) == INFO.author
        assert str(info.Subject) == INFO.subject
        assert str(info.Keywords) == "審査, 記録"
        assert str(info.CreationDate) == "D:20261120100000+09'00"
        assert str(pdf.Root.Lang) == "ja-JP"


def test_variants_that_drop_embedded_files_are_refused(static_dir):
    with pytest.raises(ValueError, match="pdf/a-3"):
        render_pdf("<p>x</p>", static_dir=static_dir, pdf_variant="pdf/a-2b", attachments=[SOURCE])


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ({"pdf_variant": "pdf/a-9z"}, "unknown PDF variant"),
        ({"attachments": [SOURCE, SOURCE]}, "unique"),
        ({"timeout_s": 0}, "positive"),
        ({"memory_mb": -1}, "positive"),
    ],
)
def test_bad_arguments_fail_in_the_caller(static_dir, arguments, message):
    with pytest.raises(ValueError, match=message):
        render_pdf("<p>x</p>", static_dir=static_dir, **arguments)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"name": "../x.json", "data": b""}, "plain file name"),
        ({"name": "x", "data": b"", "mime_type": "json"}, "MIME"),
        ({"name": "x", "data": b"", "relationship": "Parent"}, "relationship"),
    ],
)
def test_embedded_files_are_checked_when_made(kwargs, message):
    with pytest.raises(ValueError, match=message):
        EmbeddedFile(**kwargs)


# --- the URL policy holds inside the child ------------------------------------------------------


def test_nothing_outside_static_is_fetched_and_refusals_come_back(static_dir, http_server, caplog):
    remote = http_server.url
    html = document(
        f"""<link rel="stylesheet" href="{remote}/link.css">
        <link rel="stylesheet" href="/static/css/nested.css">
        <style>@import url({remote}/import.css);
          .x {{ background: url(file:///etc/passwd) }}</style>
        <p class="x nested">本文</p>
        <img src="{remote}/image.png"><img src="data:image/gif;base64,R0lGODlhAQABAAAAACw=">
        <img src="../secret.txt"><img src="leak.css">"""
    )
    user_css = f"@import url({remote}/user.css);"

    with caplog.at_level(logging.WARNING):
        result = render_pdf(html, static_dir=static_dir, stylesheets=[BASE_CSS, user_css])

    assert http_server.requests == []
    secret = static_dir.parent / "secret.txt"
    assert set(result.refused_urls) == {
        f"{remote}/link.css",
        f"{remote}/import.css",
        f"{remote}/user.css",
        f"{remote}/image.png",
        "file:///etc/passwd",
        "data:image/gif;base64,R0lGODlhAQABAAAAACw=",
        secret.as_uri(),
        (static_dir / "leak.css").as_uri(),
    }
    assert "NESTED-CSS-OK" in page_texts(result.pdf)[0]  # /static/... maps onto static_dir
    forwarded = [r.getMessage() for r in caplog.records if r.name == "grants.rendering"]
    assert sum("refused to fetch" in message for message in forwarded) == 8


# --- limits -------------------------------------------------------------------------------------


def test_a_render_over_its_time_is_stopped(static_dir):
    with pytest.raises(RenderTimeout, match=r"0\.01 s"):
        render_pdf(PACKET, static_dir=static_dir, timeout_s=0.01)


def test_a_render_within_a_request_gets_the_shorter_limit(static_dir, monkeypatch):
    monkeypatch.setattr(limits, "REQUEST_RENDER_SECONDS", 0.01)

    with pytest.raises(RenderTimeout, match=r"0\.01 s"), within_request():
        render_pdf(PACKET, static_dir=static_dir)

    assert render_pdf(PACKET, static_dir=static_dir).pdf.startswith(b"%PDF")  # outside it


def test_a_render_over_its_memory_fails_clearly(static_dir):
    with pytest.raises(RenderFailed, match="50 MB") as failure:
        render_pdf(PACKET, static_dir=static_dir, memory_mb=50)

    # for the log: what the child wrote to stderr (a traceback, or GLib's complaint when a
    # thread could not start), or its exit status when a signal left nothing
    assert failure.value.detail.strip()
