"""Helpers for the rendering tests: a local HTTP server that must stay silent, PDF inspection."""

from __future__ import annotations

import http.server
import io
import os
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pikepdf
import pypdf
import pytest

needs_fontconfig = pytest.mark.skipif(
    shutil.which("fc-list") is None, reason="fontconfig's fc-list is not installed"
)

needs_proc = pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="needs /proc")


class SilentServer:
    """A local HTTP server that records every request; the tests assert it got none."""

    def __init__(self) -> None:
        self.requests: list[str] = []
        requests = self.requests

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                requests.append(self.path)
                # A redirect to a local file: older WeasyPrint releases followed these.
                self.send_response(302)
                self.send_header("Location", "file:///etc/passwd")
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    def __enter__(self) -> SilentServer:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join()


def page_texts(pdf: bytes) -> list[str]:
    return [page.extract_text() for page in pypdf.PdfReader(io.BytesIO(pdf)).pages]


def embedded_fonts(pdf: pikepdf.Pdf) -> dict[str, pikepdf.Dictionary]:
    """BaseFont name -> the font's descriptor, for every font on every page."""
    found = {}
    for page in pdf.pages:
        for font in page.Resources.get("/Font", {}).values():
            for descendant in font.get("/DescendantFonts", [font]):
                found[str(descendant.BaseFont)] = descendant.FontDescriptor
    return found


def to_unicode(pdf: pikepdf.Pdf, base_font: str) -> set[str]:
    """The characters a Type0 font's /ToUnicode CMap maps its glyphs to (bfchar entries)."""
    chars: set[str] = set()
    for page in pdf.pages:
        for font in page.Resources.get("/Font", {}).values():
            if str(font.BaseFont) == base_font:
                cmap = font.ToUnicode.read_bytes().decode("ascii")
                pairs = re.findall(r"<([0-9a-fA-F]+)>\s*<([0-9a-fA-F]+)>", cmap)
                chars |= {bytes.fromhex(text).decode("utf-16-be") for _, text in pairs}
    return chars


# --- processes, read from /proc (psutil is not installed) -----------------------------------


def noted_pids(note: Path, within_s: float = 20) -> list[int]:
    deadline = time.monotonic() + within_s
    while not note.exists():
        assert time.monotonic() < deadline, "the target never started"
        time.sleep(0.05)
    return [int(pid) for pid in note.read_text(encoding="utf-8").split()]


def running(pid: int) -> bool:
    """True while ``pid`` is a live process (a zombie waiting for init to reap it is dead)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text(encoding="utf-8")
    except FileNotFoundError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] not in ("Z", "X")


def all_gone(pids: list[int], within_s: float = 5) -> bool:
    deadline = time.monotonic() + within_s
    while any(running(pid) for pid in pids):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


def my_children() -> list[int]:
    me = str(os.getpid())
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text(encoding="utf-8").rsplit(")", 1)[1].split()
        except (FileNotFoundError, ProcessLookupError):
            continue
        if fields[1] == me:
            found.append(int(stat.parent.name))
    return found


def renderer_outlives_killed_parent(code: str, note: Path) -> bool:
    """Run ``code`` (which starts a renderer writing its pids to ``note``) in a parent killed
    outright (SIGKILL: no finally block runs); whether the renderer is still running after."""
    root = Path(__file__).resolve().parents[2]
    parent = subprocess.Popen([sys.executable, "-c", code], cwd=root,
                              env={**os.environ, "PYTHONPATH": str(root)})
    try:
        renderer, helper = noted_pids(note)
    finally:
        parent.kill()
        parent.wait()
    gone = all_gone([renderer])
    os.kill(helper, signal.SIGKILL)  # the renderer's own child is orphaned, not ours to test
    return not gone
