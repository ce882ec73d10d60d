"""A small real SMTP server for the tests (aiosmtpd is not a dependency), and test certificates.

It speaks enough of RFC 5321 for smtplib: EHLO/HELO, STARTTLS, AUTH PLAIN, MAIL, RCPT, DATA,
RSET, NOOP, QUIT; over plain TCP, STARTTLS or TLS from the first byte. Recipients choose the
answer: ``reject…@`` gets 550 (permanent), ``defer…@`` 451 (temporary), ``drop…@`` has the
connection closed on it; anyone else is accepted and stored.
"""

from __future__ import annotations

import base64
import email
import email.policy
import socketserver
import ssl
import subprocess
import sys
import threading
from dataclasses import dataclass, field
from email.message import EmailMessage
from pathlib import Path

USER, PASSWORD = "mailer@example.jp", "p@ss word"  # the only account AUTH accepts


@dataclass
class Received:
    sender: str
    recipients: list[str]
    message: EmailMessage
    tls: bool
    user: str | None


@dataclass
class Journal:
    """What the server saw, for the tests' assertions."""

    messages: list[Received] = field(default_factory=list)
    connections: int = 0
    auth_in_clear: int = 0  # AUTH attempted before TLS: must stay 0
    errors: list[str] = field(default_factory=list)  # e.g. a client refusing our certificate


class _Server(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True
    journal: Journal

    def handle_error(self, request: object, client_address: object) -> None:
        """Record the error (a client may rightly abort a handshake) instead of printing it."""
        self.journal.errors.append(repr(sys.exc_info()[1]))


class SmtpServer:
    """``with SmtpServer(...) as server:`` listens on 127.0.0.1:<server.port> until the end."""

    def __init__(self, *, tls_context: ssl.SSLContext | None = None,
                 implicit_tls: bool = False) -> None:
        self.journal = Journal()
        journal = self.journal

        class Handler(socketserver.StreamRequestHandler):
            timeout = 10

            def handle(self) -> None:
                journal.connections += 1
                self.tls, self.user = False, None
                try:
                    if implicit_tls:
                        self._start_tls()
                    self._reply("220 test.example ESMTP ready")
                    self._session()
                finally:
                    if self.connection is not self.request:  # the TLS socket made from it
                        self.connection.close()

            def _start_tls(self) -> None:
                self.rfile.close()
                self.wfile.close()
                self.connection = tls_context.wrap_socket(self.connection, server_side=True)
                self.rfile = self.connection.makefile("rb")
                self.wfile = self.connection.makefile("wb", buffering=0)
                self.tls = True

            def _reply(self, line: str) -> None:
                self.wfile.write(line.encode() + b"\r\n")

            def _session(self) -> None:
                sender, recipients = None, []
                while line := self.rfile.readline():
                    verb, _, argument = line.decode().rstrip("\r\n").partition(" ")
                    verb = verb.upper()
                    if verb in ("EHLO", "HELO"):
                        features = ["SMTPUTF8", "AUTH PLAIN"]
                        if tls_context is not None and not self.tls:
                            features.insert(0, "STARTTLS")
                        lines = ["test.example", *features]
                        for number, text in enumerate(lines):
                            self._reply(f"250{'-' if number < len(lines) - 1 else ' '}{text}")
                    elif verb == "STARTTLS" and tls_context is not None and not self.tls:
                        self._reply("220 go ahead")
                        self._start_tls()
                    elif verb == "AUTH":
                        journal.auth_in_clear += not self.tls
                        _, _, token = argument.partition(" ")
                        _, user, password = base64.b64decode(token).decode().split("\0")
                        if (user, password) == (USER, PASSWORD):
                            self.user = user
                            self._reply("235 accepted")
                        else:
                            self._reply("535 5.7.8 bad credentials")
                    elif verb == "MAIL":
                        sender, recipients = argument.split(":", 1)[1].strip("<> "), []
                        self._reply("250 ok")
                    elif verb == "RCPT":
                        recipient = argument.split(":", 1)[1].strip("<> ")
                        if recipient.startswith("reject"):
                            self._reply(f"550 5.1.1 <{recipient}>: no such user")
                        elif recipient.startswith("defer"):
                            self._reply("451 4.3.0 mailbox busy, try later")
                        elif recipient.startswith("drop"):
                            return
                        else:
                            recipients.append(recipient)
                            self._reply("250 ok")
                    elif verb == "DATA":
                        self._reply("354 end with .")
                        self._store(sender, recipients)
                        self._reply("250 queued")
                    elif verb in ("RSET", "NOOP"):
                        sender, recipients = None, []
                        self._reply("250 ok")
                    elif verb == "QUIT":
                        self._reply("221 bye")
                        return
                    else:
                        self._reply("502 not implemented")

            def _store(self, sender: str | None, recipients: list[str]) -> None:
                data = b""
                while (line := self.rfile.readline()) not in (b".\r\n", b""):
                    data += line[1:] if line.startswith(b"..") else line
                message = email.message_from_bytes(data, policy=email.policy.default)
                journal.messages.append(Received(sender or "", recipients, message, self.tls,
                                                 self.user))

        self.server = _Server(("127.0.0.1", 0), Handler)
        self.server.journal = journal
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever,
                                       kwargs={"poll_interval": 0.05}, daemon=True)

    def __enter__(self) -> SmtpServer:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join()


@dataclass(frozen=True)
class Certificates:
    ca: Path  # a private CA's certificate: what GRANTS_SMTP_CA_FILE names
    server: ssl.SSLContext  # the server's side, a certificate for 127.0.0.1 signed by that CA
    other_name: ssl.SSLContext  # signed by the same CA, but for mail.example.jp only


def make_certificates(folder: Path) -> Certificates:
    """A private CA and two server certificates it signed, made with the openssl command."""

    def openssl(*args: str) -> None:
        subprocess.run(["openssl", *args], cwd=folder, check=True, capture_output=True)

    key = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
    openssl("req", "-x509", *key, "-keyout", "ca.key", "-out", "ca.pem", "-days", "2",
            "-subj", "/CN=Grants test CA", "-addext", "basicConstraints=critical,CA:TRUE",
            "-addext", "keyUsage=critical,keyCertSign,cRLSign")
    contexts = []
    for name, alt in (("server", "IP:127.0.0.1,DNS:localhost"), ("other", "DNS:mail.example.jp")):
        (folder / f"{name}.ext").write_text(
            f"subjectAltName={alt}\nextendedKeyUsage=serverAuth\nbasicConstraints=CA:FALSE\n")
        openssl("req", "-new", *key, "-keyout", f"{name}.key", "-out", f"{name}.csr",
                "-subj", f"/CN={name}")
        openssl("x509", "-req", "-in", f"{name}.csr", "-CA", "ca.pem", "-CAkey", "ca.key",
                "-CAcreateserial", "-days", "2", "-extfile", f"{name}.ext", "-out",
                f"{name}.pem")
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(folder / f"{name}.pem", folder / f"{name}.key")
        contexts.append(context)
    return Certificates(ca=folder / "ca.pem", server=contexts[0], other_name=contexts[1])
