"""`flask grants audit verify` recomputes the hash chain and names the first broken event."""

from __future__ import annotations

import sqlalchemy as sa

from grants.domain.workflow import Role
from grants.models import AuditEvent


def _verify(app):
    return app.test_cli_runner().invoke(args=["grants", "audit", "verify"])


def test_an_intact_chain_is_reported_with_its_head(app, session, make_user):
    for _ in range(3):
        make_user(Role.APPLICANT)
    result = _verify(app)
    head = session.scalar(sa.select(AuditEvent.hash).order_by(AuditEvent.id.desc()).limit(1))
    assert result.exit_code == 0, result.output
    assert "audit chain intact" in result.output and head in result.output


def test_one_changed_event_breaks_the_chain_at_that_event(app, session, make_user):
    for _ in range(4):
        make_user(Role.APPLICANT)
    events = session.scalars(sa.select(AuditEvent).order_by(AuditEvent.id)).all()
    target = events[len(events) // 2]
    session.execute(sa.update(AuditEvent).where(AuditEvent.id == target.id)
                    .values(data={**target.data, "email": "someone-else@example.jp"}))
    session.commit()
    result = _verify(app)
    assert result.exit_code == 1
    assert f"BROKEN at event {target.id} ({target.tag}" in result.output
    assert f"{events.index(target)} event(s) before it hold" in result.output


def test_a_removed_event_breaks_the_chain_where_it_was(app, session, make_user):
    for _ in range(3):
        make_user(Role.APPLICANT)
    events = session.scalars(sa.select(AuditEvent).order_by(AuditEvent.id)).all()
    session.execute(sa.delete(AuditEvent).where(AuditEvent.id == events[1].id))
    session.commit()
    result = _verify(app)
    assert result.exit_code == 1
    assert f"BROKEN at event {events[2].id} " in result.output
