"""A WeasyPrint URL fetcher that serves regular files from one directory and nothing else.

Documents carry applicants' text: an <img src="file:///etc/passwd">, an http URL into the
intranet (SSRF) or a data: URL must never be read. WeasyPrint 70 sends every URL it meets
(<link>, CSS(url=...), @import, url(), <img>, @font-face, <link rel=attachment>) through the
fetcher; only file *names* given to HTML()/CSS()/Attachment() are opened directly, so the
renderer passes it strings and never names.
"""

from __future__ import annotations

import logging
import mimetypes
import os
import stat
from collections.abc import Mapping
from pathlib import Path
from typing import NoReturn
from urllib.parse import unquote, urlsplit

from weasyprint.urls import URLFetcher, URLFetcherResponse

LOGGER = logging.getLogger("grants.rendering")
SHOWN_URL_CHARS = 200  # data: URLs can be megabytes; logs and audit facts keep the start


class RefusedURL(ValueError):
    """WeasyPrint catches it, logs the resource as unavailable and renders without it."""


class StaticOnlyFetcher(URLFetcher):
    """Serve ``file:`` URLs of regular files under ``root``; refuse and record anything else.

    ``mount`` maps the web app's static URL path (``/static/x.css`` resolves to
    ``file:///static/x.css``) onto ``root``, so templates shared with the web still work.
    """

    def __init__(self, root: Path | str, *, mount: str | None = "/static/") -> None:
        super().__init__(allow_redirects=False, allowed_protocols={"file"})
        self.root = os.path.realpath(root)
        if not os.path.isdir(self.root):
            raise NotADirectoryError(f"static directory not found: {root}")
        self.mount = mount
        self.refused: list[str] = []

    def fetch(self, url: str, headers: Mapping[str, str] | None = None) -> URLFetcherResponse:
        path = self._local_path(url)
        real = os.path.realpath(path)
        if real != self.root and not real.startswith(self.root + os.sep):
            self._refuse(url, "outside the static directory")
        try:
            fd = os.open(real, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC | os.O_NOFOLLOW)
        except FileNotFoundError:
            LOGGER.warning("not found in the static directory: %s", _shown(url))
            raise
        if not stat.S_ISREG(os.fstat(fd).st_mode):  # a directory, a FIFO, a device
            os.close(fd)
            self._refuse(url, "not a regular file")
        with os.fdopen(fd, "rb") as handle:
            body = handle.read()
        mime_type = mimetypes.guess_type(real)[0] or "application/octet-stream"
        # The URL of the path as asked (not the symlink target): relative url()s inside a
        # stylesheet resolve next to it, and so stay inside the static directory.
        return URLFetcherResponse(path.as_uri(), body=body, headers={"Content-Type": mime_type})

    def _local_path(self, url: str) -> Path:
        """The absolute path a file URL names, after the cheap refusals."""
        parts = urlsplit(url)
        if parts.scheme.lower() != "file":
            self._refuse(url, f"{parts.scheme or 'relative'} URLs are not fetched")
        if parts.netloc not in ("", "localhost"):
            self._refuse(url, "file URL names a host")
        raw = unquote(parts.path)  # query and fragment dropped
        if "\x00" in raw or not raw.startswith("/"):
            self._refuse(url, "malformed path")
        if ".." in raw.split("/"):
            self._refuse(url, "'..' in path")
        inside = raw.startswith(self.root + "/")
        if not inside and self.mount and raw.startswith(self.mount):
            return Path(self.root, raw.removeprefix(self.mount))
        return Path(raw)

    def _refuse(self, url: str, reason: str) -> NoReturn:
        shown = _shown(url)
        self.refused.append(shown)
        LOGGER.warning("refused to fetch %s: %s", shown, reason)
        raise RefusedURL(f"{reason}: {shown}")


def _shown(url: str) -> str:
    return url if len(url) <= SHOWN_URL_CHARS else url[:SHOWN_URL_CHARS] + "…"
