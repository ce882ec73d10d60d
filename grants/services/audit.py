"""Append events to the hash chain."""

from __future__ import annotations

import datetime as dt
import enum
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from grants.domain import records
from grants.models import AuditEvent, User

# PostgreSQL: serialize appends so two transactions never read the same chain head.
# (SQLite write transactions already hold the database's write lock from BEGIN IMMEDIATE.)
_CHAIN_LOCK_KEY = 0x6772616E7473  # "grants"


class AuditTag(enum.StrEnum):
    """Event vocabulary, "source:subject:action" (stable: stored and hashed)."""

    ACCOUNT_SIGN_UP = "auth:account:sign_up"
    ACCOUNT_CREATE = "admin:account:create"
    ACCOUNT_DISABLE = "admin:account:disable"
    ACCOUNT_ENABLE = "admin:account:enable"
    ACCOUNT_ROLE_CHANGE = "admin:account:role_change"
    ACCOUNT_RESET_LINK = "admin:account:reset_link"
    EMAIL_VERIFY = "auth:email:verify"
    INVITATION_ACCEPT = "auth:invitation:accept"
    PASSWORD_CHANGE = "auth:password:change"  # noqa: S105 (event tags, not passwords)
    PASSWORD_RESET_REQUEST = "auth:password:reset_request"  # noqa: S105
    PASSWORD_RESET = "auth:password:reset"  # noqa: S105
    SESSIONS_END = "auth:sessions:end"
    ORGANIZATION_VERIFY = "manage:organization:verify"
    MEMBERSHIP_REFUSE = "org:membership:refuse"
    MEMBERSHIP_APPROVE = "org:membership:approve"
    MEMBER_INVITE = "org:member:invite"
    MEMBER_REMOVE = "org:member:remove"
    ORG_ADMIN_GRANT = "org:admin:grant"
    ORG_ADMIN_REVOKE = "org:admin:revoke"
    PROGRAM_LOAD = "admin:program:load"
    RUBRIC_LOAD = "admin:rubric:load"
    APPLICATION_START = "apply:application:start"
    APPLICATION_SUBMIT = "apply:application:submit"
    ATTACHMENT_ADD = "apply:attachment:add"
    ATTACHMENT_REMOVE = "apply:attachment:remove"
    APPLICATION_ACCEPT = "manage:application:accept"
    APPLICATION_RETURN = "manage:application:return"
    REVIEWER_ADD = "manage:reviewer:add"
    CONFLICT_DECLARE = "review:conflict:declare"
    ASSIGNMENT_CREATE = "manage:assignment:create"
    ASSIGNMENT_DECLINE = "review:assignment:decline"
    ASSIGNMENT_REACTIVATE = "manage:assignment:reactivate"
    ASSIGNMENT_WITHDRAW = "manage:assignment:withdraw"
    REVIEW_SUBMIT = "review:review:submit"
    REVIEW_REOPEN = "manage:review:reopen"
    SCORE_MODERATE = "manage:score:moderate"
    APPLICATION_DECIDE = "manage:application:decide"
    CONSENSUS_RAPPORTEUR = "manage:consensus:rapporteur"
    CONSENSUS_CIRCULATE = "review:consensus:circulate"
    CONSENSUS_AGREE = "review:consensus:agree"
    CONSENSUS_DISSENT = "review:consensus:dissent"
    CONSENSUS_SEND_BACK = "manage:consensus:send_back"
    CONSENSUS_APPROVE = "manage:consensus:approve"
    REDRESS_REQUEST = "apply:redress:request"
    REDRESS_UPHOLD = "manage:redress:uphold"
    REDRESS_DISMISS = "manage:redress:dismiss"
    GRANT_ISSUE = "manage:grant:issue"
    GRANT_ACCEPT = "apply:grant:accept"
    GRANT_DECLINE = "apply:grant:decline"
    CHANGE_REQUEST = "apply:change:request"
    CHANGE_WITHDRAW = "apply:change:withdraw"
    CHANGE_APPROVE = "manage:change:approve"
    CHANGE_REFUSE = "manage:change:refuse"
    REPORT_SUBMIT = "apply:report:submit"
    REPORT_RETURN = "manage:report:return"
    REPORT_ACCEPT = "manage:report:accept"
    AMOUNT_FIX = "manage:final_amount:fix"
    ASSET_REGISTER = "manage:asset:register"
    DISPOSAL_REQUEST = "apply:disposal:request"
    DISPOSAL_APPROVE = "manage:disposal:approve"
    DISPOSAL_REFUSE = "manage:disposal:refuse"
    DISPOSAL_RECORD = "apply:disposal:record"  # after the restriction: no approval needed
    DISPOSAL_WITHDRAW = "apply:disposal:withdraw"  # the grantee takes a pending request back
    FOLLOWUP_FILE = "apply:followup:file"
    FOLLOWUP_REMIND = "system:followup:remind"
    PURGE_REFUSE = "admin:application:purge_refuse"
    PURGE = "admin:application:purge"
    RECORD_DOWNLOAD = "audit:record:download"
    BATCH_REQUEST = "audit:batch:request"
    BATCH_DOWNLOAD = "audit:batch:download"
    PACKET_DOWNLOAD = "review:packet:download"


def event_body(event: AuditEvent) -> dict[str, Any]:
    """The hashed part of an event, in the documented form auditors recompute."""
    return {
        "at": event.at.astimezone(dt.UTC).isoformat(timespec="microseconds"),
        "actor_id": event.actor_id,
        "tag": event.tag,
        "subject_type": event.subject_type,
        "subject_id": event.subject_id,
        "data": event.data,
    }


def record(
    session: Session,
    tag: AuditTag,
    *,
    subject_type: str,
    subject_id: int,
    actor: User | None,
    now: dt.datetime,
    data: dict[str, Any] | None = None,
) -> AuditEvent:
    """Append one event to the chain, linked to the current head."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(sa.select(sa.func.pg_advisory_xact_lock(_CHAIN_LOCK_KEY)))
    head = session.scalar(sa.select(AuditEvent.hash).order_by(AuditEvent.id.desc()).limit(1))
    event = AuditEvent(
        at=now,
        actor_id=actor.id if actor else None,
        tag=str(tag),
        subject_type=subject_type,
        subject_id=subject_id,
        data=data or {},
        prev_hash=head or records.GENESIS,
    )
    event.hash = records.chain_hash(event.prev_hash, event_body(event))
    session.add(event)
    session.flush()
    return event


@dataclass(frozen=True)
class ChainReport:
    """The outcome of recomputing the chain: how far it holds, and the first broken event."""

    count: int
    head_hash: str | None
    broken: AuditEvent | None


def verify(session: Session) -> ChainReport:
    """Recompute every link in order, streaming, and report the first event that breaks."""
    ids: list[int] = []
    events = session.scalars(
        sa.select(AuditEvent).order_by(AuditEvent.id).execution_options(yield_per=1000))

    def links():
        for event in events:
            ids.append(event.id)
            yield event_body(event), event.prev_hash, event.hash

    try:
        broken_at = records.verify_chain(links())
    finally:
        events.close()  # stopping at a broken link leaves PostgreSQL's server cursor open
    if broken_at is not None:
        return ChainReport(broken_at, None, session.get(AuditEvent, ids[broken_at]))
    head = session.scalar(sa.select(AuditEvent.hash).order_by(AuditEvent.id.desc()).limit(1))
    return ChainReport(len(ids), head, None)
