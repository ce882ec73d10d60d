"""``packet`` and ``record``: write an application's review packet or audit record."""

from __future__ import annotations

from pathlib import Path

import click
import sqlalchemy as sa
from sqlalchemy.orm import Session

from grants import clock
from grants.cli import command_session, grants_cli
from grants.documents.packet import review_packet_pdf
from grants.documents.record import audit_record_pdf
from grants.domain.workflow import Role
from grants.models import (
    Application,
    User,
)
from grants.services import accounts
from grants.services.audit import AuditTag, record

# --- documents -------------------------------------------------------------------------------


def _application(session: Session, reference: str) -> Application:
    application = session.scalar(sa.select(Application).filter_by(reference=reference))
    if application is None or not application.submissions:
        raise click.ClickException(f"no submitted application {reference!r}")
    return application


@grants_cli.command("packet")
@click.argument("reference")
@click.option("-o", "--output", type=click.Path(dir_okay=False, writable=True), required=True)
@click.option("--as", "viewer_email", help="render as this reviewer or officer sees it "
              "(default: the program office's packet, with every review)")
def packet_command(reference: str, output: str, viewer_email: str | None) -> None:
    """Write the review packet of application REFERENCE to a PDF file."""
    with command_session() as session:
        application = _application(session, reference)
        viewer = _viewer(session, viewer_email)
        packet = review_packet_pdf(session, application, viewer,
                                   officer_view=viewer.role is not Role.REVIEWER, now=clock.now())
        Path(output).write_bytes(packet.pdf)
        record(session, AuditTag.PACKET_DOWNLOAD, subject_type="application",
               subject_id=application.id, actor=viewer if viewer.id else None, now=clock.now(),
               data={"via": "cli", "as": viewer.email, "bytes": len(packet.pdf)})
        session.commit()
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
def record_command(reference: str, output: str) -> None:
    """Write the PDF/A-3 audit record of application REFERENCE to a file."""
    with command_session() as session:
        application = _application(session, reference)
        pdf = audit_record_pdf(session, application, now=clock.now())
        Path(output).write_bytes(pdf)
        record(session, AuditTag.RECORD_DOWNLOAD, subject_type="application",
               subject_id=application.id, actor=None, now=clock.now(),
               data={"via": "cli", "bytes": len(pdf)})
        session.commit()
    click.echo(f"wrote {output} ({len(pdf):,} bytes, PDF/A-3u)")
