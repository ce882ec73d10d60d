"""``packet`` and ``record``: write an application's review packet or audit record.

The documents need a locale but no request: a command forces the one asked for with
``--locale`` (default GRANTS_DEFAULT_LOCALE), as the background jobs force their requester's.
Unlike the other commands they render in a read transaction and write only their audit event.
"""

from __future__ import annotations

from pathlib import Path

import click
import sqlalchemy as sa
from flask import current_app
from flask_babel import force_locale
from sqlalchemy.orm import Session

from grants import clock, db
from grants.cli import grants_cli, reading_session
from grants.documents.packet import review_packet_pdf
from grants.documents.record import audit_record_pdf
from grants.domain.workflow import Role
from grants.i18n import LOCALES
from grants.models import (
    Application,
    User,
)
from grants.services import accounts
from grants.services.audit import AuditTag, record

# --- documents -------------------------------------------------------------------------------

locale_option = click.option(
    "--locale", type=click.Choice(LOCALES), default=None,
    help="Language of the document (default: GRANTS_DEFAULT_LOCALE).")


def _application(session: Session, reference: str) -> Application:
    application = session.scalar(sa.select(Application).filter_by(reference=reference))
    if application is None or not application.submissions:
        raise click.ClickException(f"no submitted application {reference!r}")
    return application


def _locale(chosen: str | None) -> str:
    return chosen or current_app.config["DEFAULT_LOCALE"]


def _audit(session: Session, tag: AuditTag, application_id: int, actor: User | None,
           data: dict[str, object]) -> None:
    """Record the download once the PDF is written. The render ran in a read transaction, so
    (on SQLite) the app's writers were not held up by it; the event takes the write lock."""
    session.commit()
    with db.writing():
        record(session, tag, subject_type="application", subject_id=application_id,
               actor=actor, now=clock.now(), data=data)
        session.commit()


@grants_cli.command("packet")
@click.argument("reference")
@click.option("-o", "--output", type=click.Path(dir_okay=False, writable=True), required=True)
@click.option("--as", "viewer_email", help="render as this reviewer or officer sees it "
              "(default: the program office's packet, with every review)")
@locale_option
def packet_command(reference: str, output: str, viewer_email: str | None,
                   locale: str | None) -> None:
    """Write the review packet of application REFERENCE to a PDF file."""
    with reading_session() as session, force_locale(_locale(locale)):
        application = _application(session, reference)
        viewer = _viewer(session, viewer_email)
        packet = review_packet_pdf(session, application, viewer,
                                   officer_view=viewer.role is not Role.REVIEWER, now=clock.now())
        Path(output).write_bytes(packet.pdf)
        _audit(session, AuditTag.PACKET_DOWNLOAD, application.id, viewer if viewer.id else None,
               {"via": "cli", "as": viewer.email, "bytes": len(packet.pdf)})
    click.echo(f"wrote {output} ({len(packet.pdf):,} bytes, {len(packet.appended)} attachment(s) "
               f"appended{', skipped: ' + '; '.join(packet.skipped) if packet.skipped else ''})")


def _viewer(session: Session, email: str | None) -> User:
    if email is None:
        return User(email="flask grants packet", display_name="flask grants packet",
                    role=Role.OFFICER)
    viewer = session.scalar(sa.select(User).filter_by(email=accounts.normalize_email(email)))
    if viewer is None or viewer.role not in (Role.REVIEWER, Role.OFFICER, Role.ADMIN):
        raise click.ClickException(f"no reviewer, officer or admin account {email!r}")
    return viewer


@grants_cli.command("record")
@click.argument("reference")
@click.option("-o", "--output", type=click.Path(dir_okay=False, writable=True), required=True)
@locale_option
def record_command(reference: str, output: str, locale: str | None) -> None:
    """Write the PDF/A-3 audit record of application REFERENCE to a file."""
    with reading_session() as session, force_locale(_locale(locale)):
        application = _application(session, reference)
        pdf = audit_record_pdf(session, application, now=clock.now())
        Path(output).write_bytes(pdf)
        _audit(session, AuditTag.RECORD_DOWNLOAD, application.id, None,
               {"via": "cli", "bytes": len(pdf)})
    click.echo(f"wrote {output} ({len(pdf):,} bytes, PDF/A-3u)")
