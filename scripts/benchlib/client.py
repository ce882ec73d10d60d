"""One simulated browser over HTTP/1.1 keep-alive: cookies, timing, and the form tokens."""

from __future__ import annotations

import http.client
import re
import secrets
import time
from dataclasses import dataclass, field
from urllib.parse import urlencode, urlsplit

from benchlib.common import REQUEST_TIMEOUT
from benchlib.measure import Recorder, Sample

LOCK_VERSION_RE = re.compile(r'id="lock_version" name="lock_version" type="hidden" value="(\d+)"')
CSRF_RES = (
    re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"'),
    re.compile(r'name="csrf_token" value="([^"]+)"'),
)


class TimeUp(Exception):
    """The run's time cap has passed: stop sending requests."""


class JourneyFailed(Exception):
    """A step of a simulated applicant did not get the expected answer."""


@dataclass(frozen=True)
class Response:
    status: int
    location: str
    text: str
    content: bytes = b""  # the body as received (an .xlsx is not text)
    headers: dict[str, str] = field(default_factory=dict)  # names in lower case


class Client:
    """One browser: a keep-alive connection (reopened when the server closes it) and cookies."""

    def __init__(
        self, port: int, recorder: Recorder, deadline: float, timeout: float = REQUEST_TIMEOUT
    ) -> None:
        self.port = port
        self.recorder = recorder
        self.deadline = deadline
        self.cookies: dict[str, str] = {}
        self.connection = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)

    def clone(self) -> Client:
        twin = Client(self.port, self.recorder, self.deadline)
        twin.cookies = dict(self.cookies)
        return twin

    def close(self) -> None:
        self.connection.close()

    def get(self, path: str, kind: str = "page") -> Response:
        return self.request("GET", path, kind)

    def post(self, path: str, data: dict[str, str], kind: str = "other") -> Response:
        body = urlencode(data).encode()
        return self.request(
            "POST", path, kind, body, {"Content-Type": "application/x-www-form-urlencoded"}
        )

    def post_multipart(
        self,
        path: str,
        data: dict[str, str],
        files: dict[str, tuple[str, bytes]],
        kind: str = "other",
    ) -> Response:
        boundary = "bench" + secrets.token_hex(12)
        parts: list[bytes] = []
        for name, value in data.items():
            parts.append(
                f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n'.encode()
                + value.encode()
                + b"\r\n"
            )
        for name, (filename, content) in files.items():
            parts.append(
                f"--{boundary}\r\nContent-Disposition: form-data; "
                f'name="{name}"; filename="{filename}"\r\n'
                "Content-Type: application/pdf\r\n\r\n".encode()
                + content
                + b"\r\n"
            )
        body = b"".join(parts) + f"--{boundary}--\r\n".encode()
        headers = {"Content-Type": f"multipart/form-data; boundary={boundary}"}
        return self.request("POST", path, kind, body, headers)

    def request(
        self,
        method: str,
        path: str,
        kind: str,
        body: bytes | None = None,
        headers: dict[str, str] | None = None,
    ) -> Response:
        if time.monotonic() > self.deadline:
            raise TimeUp
        headers = dict(headers or {})
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        began = time.perf_counter()
        try:
            status, pairs, content = self._send(method, path, body, headers, kind)
        except (OSError, http.client.HTTPException) as exc:
            self.connection.close()
            self.recorder.add(Sample(kind, "ERR", (time.perf_counter() - began) * 1000))
            raise JourneyFailed(f"{method} {path}: {type(exc).__name__}") from exc
        self.recorder.add(Sample(kind, status, (time.perf_counter() - began) * 1000))
        for name, value in pairs:
            if name.lower() == "set-cookie":
                self._store_cookie(value)
        found = {name.lower(): value for name, value in pairs}
        return Response(
            status=status,
            location=urlsplit(found.get("location", "")).path,
            text=content.decode("utf-8", "replace"),
            content=content,
            headers=found,
        )

    def _send(
        self, method: str, path: str, body: bytes | None, headers: dict[str, str], kind: str
    ) -> tuple[int, list[tuple[str, str]], bytes]:
        """One exchange over the connection: status, header pairs and body (``kind`` is for
        subclasses that measure by request kind)."""
        self.connection.request(method, path, body=body, headers=headers)
        response = self.connection.getresponse()
        return response.status, response.getheaders(), response.read()

    def _store_cookie(self, header: str) -> None:
        pair, _, attributes = header.partition(";")
        name, _, value = pair.strip().partition("=")
        lowered = attributes.lower()
        if "max-age=0" in lowered or "expires=thu, 01 jan 1970" in lowered or not value:
            self.cookies.pop(name, None)
        else:
            self.cookies[name] = value


def sign_in(client: Client, email: str, password: str) -> None:
    """Sign in through the form, as a browser does: GET for the token, POST, expect 302."""
    page = client.get("/sign-in")
    response = client.post(
        "/sign-in",
        {"csrf_token": csrf_token(page.text), "email": email, "password": password},
        kind="sign_in",
    )
    if response.status != 302:
        raise JourneyFailed(f"sign-in answered {response.status}")


def csrf_token(html: str) -> str:
    for pattern in CSRF_RES:
        match = pattern.search(html)
        if match:
            return match.group(1)
    raise JourneyFailed("no CSRF token in the page")


def lock_version(html: str) -> int:
    match = LOCK_VERSION_RE.search(html)
    if not match:
        raise JourneyFailed("no lock_version in the step page")
    return int(match.group(1))
