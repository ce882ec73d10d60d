"""StaticOnlyFetcher: regular files under the static directory are served, nothing else is;
and WeasyPrint 70 really asks the fetcher for every URL (it runs here in-process)."""

from __future__ import annotations

import io
import logging
from pathlib import Path

import pikepdf
import pytest
from weasyprint import CSS, HTML
from weasyprint.urls import URLFetchingError, path2url

from grants.rendering.fetcher import SHOWN_URL_CHARS, RefusedURL, StaticOnlyFetcher
from tests.rendering.conftest import STATIC_CSS
from tests.rendering.helpers import page_texts


def fetch(fetcher: StaticOnlyFetcher, url: str) -> bytes:
    response = fetcher.fetch(url)
    try:
        return response.read()
    finally:
        response.close()


def test_a_file_inside_static_is_served_with_its_mime_type(static_dir):
    fetcher = StaticOnlyFetcher(static_dir)

    response = fetcher.fetch((static_dir / "grants-pdf.css").as_uri())

    assert response.read() == STATIC_CSS.encode()
    assert response.content_type == "text/css"
    assert response.url == (static_dir / "grants-pdf.css").as_uri()
    assert fetcher.refused == []


@pytest.mark.parametrize(
    "path",
    [
        "css/nested.css",  # a subfolder
        "alias.css",  # a symlink to a file inside static
        "grants-pdf.css?v=3#top",  # query and fragment are ignored
    ],
)
def test_files_inside_static_are_served(static_dir, path):
    fetcher = StaticOnlyFetcher(static_dir)

    assert fetch(fetcher, path2url(str(static_dir)) + path)
    assert fetcher.refused == []


def test_static_url_paths_of_the_web_app_map_onto_the_static_directory(static_dir):
    fetcher = StaticOnlyFetcher(static_dir)

    assert fetch(fetcher, "file:///static/grants-pdf.css") == STATIC_CSS.encode()


def refused_urls(static: Path, port: int) -> list[str]:
    return [
        "file:///etc/passwd",
        f"file://{static}/../secret.txt",
        f"file://{static}/%2e%2e/secret.txt",
        (static / "leak.css").as_uri(),  # a symlink pointing outside
        f"file://{static}/css",  # a directory
        f"file://{static}/",  # the static directory itself
        f"file://otherhost{static}/grants-pdf.css",  # a file URL naming a host
        f"http://127.0.0.1:{port}/x.css",
        f"https://127.0.0.1:{port}/x.css",
        f"ftp://127.0.0.1:{port}/x.css",
        "data:text/css,body{color:red}",
        "file:///static/../etc/passwd",
    ]


def test_everything_else_is_refused_recorded_and_logged(static_dir, http_server, caplog):
    fetcher = StaticOnlyFetcher(static_dir)
    urls = refused_urls(static_dir, http_server.server.server_address[1])

    with caplog.at_level(logging.WARNING, logger="grants.rendering"):
        for url in urls:
            with pytest.raises(RefusedURL):
                fetcher.fetch(url)

    assert fetcher.refused == urls
    logged = [record.getMessage() for record in caplog.records]
    assert all(any(url in message for message in logged) for url in urls)
    assert http_server.requests == []


def test_a_missing_file_is_an_error_but_not_a_refusal(static_dir):
    fetcher = StaticOnlyFetcher(static_dir)

    with pytest.raises(FileNotFoundError):
        fetcher.fetch((static_dir / "missing.css").as_uri())
    assert fetcher.refused == []


def test_huge_data_urls_are_recorded_shortened(static_dir):
    fetcher = StaticOnlyFetcher(static_dir)

    with pytest.raises(RefusedURL):
        fetcher.fetch("data:image/png;base64," + "A" * 100_000)

    assert len(fetcher.refused[0]) == SHOWN_URL_CHARS + 1


def test_the_static_directory_must_exist(tmp_path):
    with pytest.raises(NotADirectoryError):
        StaticOnlyFetcher(tmp_path / "nowhere")


# --- WeasyPrint 70 sends every URL through the fetcher ------------------------------------------


def test_weasyprint_asks_the_fetcher_for_every_url(static_dir, http_server):
    """Older releases let redirects and ``stylesheets=`` bypass a custom fetcher; 70 does not."""
    fetcher = StaticOnlyFetcher(static_dir)
    remote = http_server.url
    html = f"""<html lang="ja"><head>
      <link rel="stylesheet" href="{remote}/link.css">
      <link rel="stylesheet" href="file:///etc/passwd">
      <link rel="stylesheet" href="grants-pdf.css">
      <link rel="attachment" href="../secret.txt">
      <style>
        @import url({remote}/import.css);
        @font-face {{ font-family: Remote; src: url({remote}/font.woff2); }}
        h1 {{ background: url({remote}/background.png); }}
      </style></head>
      <body style="background-image: url('{remote}/inline.png')">
        <h1>審査</h1><p class="from-static">静的</p><div class="user">利用者</div>
        <img src="{remote}/image.png"><img src="data:image/gif;base64,R0lGODlhAQABAAAAACw=">
        <svg width="10" height="10"><image href="{remote}/svg.png" width="10" height="10"/></svg>
      </body></html>"""
    user_css = CSS(
        string=f"@import url({remote}/user.css); .user {{ background: url(../secret.txt) }}",
        base_url=path2url(str(static_dir)),
        url_fetcher=fetcher,
    )

    pdf = HTML(string=html, base_url=str(static_dir), url_fetcher=fetcher).write_pdf(
        stylesheets=[user_css]
    )

    assert http_server.requests == []
    refused = "\n".join(fetcher.refused)
    for name in ("link.css", "import.css", "font.woff2", "background.png", "inline.png"):
        assert f"{remote}/{name}" in refused
    for name in ("image.png", "svg.png", "user.css"):
        assert f"{remote}/{name}" in refused
    assert "file:///etc/passwd" in refused
    assert "data:image/gif" in refused
    assert refused.count("secret.txt") == 2  # the attachment and the user stylesheet's url()
    assert "STATIC-CSS-OK" in page_texts(pdf)[0]  # the served stylesheet did apply
    with pikepdf.open(io.BytesIO(pdf)) as document:
        assert not document.attachments


def test_a_css_object_fetching_a_url_is_refused(static_dir, http_server):
    fetcher = StaticOnlyFetcher(static_dir)

    with pytest.raises(URLFetchingError):
        CSS(url=f"{http_server.url}/x.css", url_fetcher=fetcher)

    assert http_server.requests == []
    assert fetcher.refused == [f"{http_server.url}/x.css"]


def test_file_names_bypass_the_fetcher_so_render_passes_only_strings(static_dir, tmp_path):
    """Why weasy.py builds CSS and Attachment from strings: names are opened directly."""
    outside = tmp_path / "outside.txt"
    outside.write_bytes(b"read without asking")
    fetcher = StaticOnlyFetcher(static_dir)

    pdf = HTML(string="<p>x</p>", url_fetcher=fetcher).write_pdf(attachments=[str(outside)])

    with pikepdf.open(io.BytesIO(pdf)) as document:  # keep it open: specs point into it
        attached = document.attachments["outside.txt"].get_file().read_bytes()
    assert attached == b"read without asking"
    assert fetcher.refused == []
