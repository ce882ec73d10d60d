"""Reaching the mail server: ``GRANTS_SMTP_URL`` read one way only, certificates always verified.

Each scheme has one meaning, so a URL can never fall back to clear text without saying so:

- ``smtp://host[:25]``: plain SMTP, for a relay on this machine or a trusted network. It takes
  no user name or password, which would cross the network in clear text;
- ``smtp+starttls://[user:password@]host[:587]``: STARTTLS required; a server that does not
  offer it gets nothing;
- ``smtps://[user:password@]host[:465]``: TLS from the first byte (implicit TLS).

TLS checks the certificate and the host name against the system's CAs, or only against
``GRANTS_SMTP_CA_FILE`` for a private CA; there is deliberately no way to turn checking off.
The operators' ``doctor`` reuses :func:`parse_smtp_url` and :func:`connect`.
"""

from __future__ import annotations

import enum
import smtplib
import ssl
from dataclasses import dataclass, field
from urllib.parse import unquote, urlsplit

TIMEOUT_SECONDS = 30


class Security(enum.StrEnum):
    PLAIN = "plain"
    STARTTLS = "starttls"
    TLS = "tls"


SCHEMES = {"smtp": (Security.PLAIN, 25), "smtp+starttls": (Security.STARTTLS, 587),
           "smtps": (Security.TLS, 465)}


class SmtpUrlError(ValueError):
    """GRANTS_SMTP_URL cannot be used; the message never repeats the URL (it holds a password)."""


class SmtpSetupError(Exception):
    """The server refuses how we are set up (certificate, STARTTLS, credentials): the operator
    must change a setting; trying again later would not help."""


@dataclass(frozen=True)
class SmtpServer:
    host: str
    port: int
    security: Security
    username: str | None = None
    password: str | None = field(default=None, repr=False)

    def __str__(self) -> str:
        return f"{self.host}:{self.port} ({self.security})"


def parse_smtp_url(url: str) -> SmtpServer:
    """Read ``smtp://``, ``smtp+starttls://`` or ``smtps://`` URLs (see the module's docstring)."""
    parts = urlsplit(url.strip())
    if parts.scheme not in SCHEMES:
        raise SmtpUrlError("must start with smtp:// (plain), smtp+starttls:// or smtps://")
    security, default_port = SCHEMES[parts.scheme]
    try:
        port = parts.port or default_port
    except ValueError as exc:
        raise SmtpUrlError("has a port that is not a number from 1 to 65535") from exc
    if not parts.hostname:
        raise SmtpUrlError("names no host")
    if parts.path not in ("", "/") or parts.query or parts.fragment:
        raise SmtpUrlError("must be only scheme, user, password, host and port")
    username = unquote(parts.username) if parts.username else None
    if username and security is Security.PLAIN:
        raise SmtpUrlError("smtp:// is plain SMTP and would send the password in clear text: "
                           "use smtp+starttls://…:587 or smtps://…:465")
    return SmtpServer(host=parts.hostname, port=port, security=security, username=username,
                      password=unquote(parts.password or "") if username else None)


def tls_context(ca_file: str | None = None) -> ssl.SSLContext:
    """Verify certificates and host names; a CA file replaces the system's CAs."""
    return ssl.create_default_context(cafile=ca_file)


def connect(server: SmtpServer, *, ca_file: str | None = None,
            timeout: float = TIMEOUT_SECONDS) -> smtplib.SMTP:
    """Open a session, secured and signed in as the URL says.

    Raises :class:`SmtpSetupError` when a setting must change, ``OSError`` or
    ``smtplib.SMTPException`` when the server cannot be reached or talked to (worth retrying).
    """
    context = None if server.security is Security.PLAIN else tls_context(ca_file)
    try:
        if server.security is Security.TLS:
            client: smtplib.SMTP = smtplib.SMTP_SSL(server.host, server.port, timeout=timeout,
                                                    context=context)
        else:
            client = smtplib.SMTP(server.host, server.port, timeout=timeout)
    except ssl.SSLError as error:
        raise _tls_refused(server, error) from error
    try:
        if server.security is Security.STARTTLS:
            client.starttls(context=context)
        if server.username:
            client.login(server.username, server.password or "")
    except smtplib.SMTPNotSupportedError as error:
        client.close()
        raise SmtpSetupError(f"{server} does not offer STARTTLS; nothing was sent") from error
    except smtplib.SMTPAuthenticationError as error:
        client.close()
        raise SmtpSetupError(f"{server} refused the user name or password "
                             f"({error.smtp_code})") from error
    except ssl.SSLError as error:
        client.close()
        raise _tls_refused(server, error) from error
    except BaseException:
        client.close()
        raise
    return client


def _tls_refused(server: SmtpServer, error: ssl.SSLError) -> SmtpSetupError:
    if isinstance(error, ssl.SSLCertVerificationError):
        return SmtpSetupError(
            f"the certificate of {server} could not be verified ({error.verify_message}); "
            "for a private CA, set GRANTS_SMTP_CA_FILE to its certificate file")
    return SmtpSetupError(f"TLS with {server} failed ({error.reason or error}): check the "
                          "scheme and port of GRANTS_SMTP_URL")
