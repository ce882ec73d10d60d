"""The asset register (財産管理台帳): entered when the final amount is fixed, then disposals.

Inside an asset's restriction (処分制限期間) the grantee asks to dispose of or repurpose it; the
repayment is computed with the request (grants.domain.assets), the officers are told, and one
approves or refuses it (the grantee's members are told, the repayment due with an approval),
unless the grantee withdraws the request first. After the restriction no approval is needed: the
grantee records the disposal, kept as a disposal row decided at once by nobody, with no
repayment. Every step is an audit event, taken under the application's row lock, so two at once
(a double click) never make two requests or two decisions.
"""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from sqlalchemy.orm import Session

from grants import emails
from grants.domain import assets as rules
from grants.domain import workflow
from grants.domain.definitions import JST
from grants.domain.errors import DomainError
from grants.domain.text import visible_or_none
from grants.domain.workflow import Action
from grants.models import (
    Application,
    Asset,
    AssetDisposal,
    AssetState,
    ChangeState,
    CompletionReport,
    DisposalKind,
    FinalAmount,
    User,
)
from grants.services import grant_decisions
from grants.services.audit import AuditTag, record
from grants.services.locking import lock_application
from grants.services.membership import members
from grants.services.programs import definition_of

STATE_AFTER = {DisposalKind.DISPOSE: AssetState.DISPOSED,
               DisposalKind.REPURPOSE: AssetState.REPURPOSED}


class NoFinalAmount(DomainError):
    """The register is made from the final amount: it must be fixed first."""


class NotHeld(DomainError):
    """The asset was disposed of or repurposed already."""


class AlreadyPending(DomainError):
    """One request per asset at a time: the officer has not decided the last one."""


class NotPending(DomainError):
    """The request was decided or withdrawn already."""


class ReasonRequired(DomainError):
    """A request, a record and a refusal each need a reason a reader can see."""


class DayRefused(DomainError):
    """The day of the disposal does not fit; `until` is the restriction's last day."""

    def __init__(self, code: str, until: dt.date) -> None:
        super().__init__(code)
        self.until = until


def register_from_report(session: Session, application: Application, report: CompletionReport,
                         *, actor: User, now: dt.datetime) -> list[Asset]:
    """Enter the report's items at or above the program's threshold, at FIX_AMOUNT.

    The grant's share of each item is the final amount's share of the eligible actual cost
    (`computation["eligible_total_yen"]` of the FinalAmount; without it, of the report's lines),
    or of the items' total cost where that is more (`grants.domain.assets.share_base`).

    Raises:
        NoFinalAmount: the application has no FinalAmount row yet.
    """
    final = session.scalar(sa.select(FinalAmount).filter_by(application_id=application.id))
    if final is None:
        raise NoFinalAmount("no_final_amount")
    eligible = final.computation.get("eligible_total_yen")
    if eligible is None:
        eligible = sum(int(line["amount_yen"]) for line in report.lines)
    post_award = definition_of(application.program_version).post_award
    base = rules.share_base(eligible, (rules.Item.from_dict(item) for item in report.equipment))
    registered = []
    for item in rules.registered_items(report.equipment, post_award.asset_threshold_yen):
        years = post_award.useful_life(item.kind).years
        asset = Asset(application_id=application.id, report_id=report.id, name=item.name,
                      kind=item.kind, acquired_on=item.acquired_on, cost_yen=item.cost_yen,
                      subsidized_yen=rules.subsidized_share(item.cost_yen, final.amount_yen,
                                                            base),
                      useful_life_years=years,
                      restricted_until=rules.restricted_until(item.acquired_on, years))
        session.add(asset)
        session.flush()
        record(session, AuditTag.ASSET_REGISTER, subject_type="application",
               subject_id=application.id, actor=actor, now=now,
               data={"asset_id": asset.id, "name": asset.name, "kind": asset.kind,
                     "acquired_on": asset.acquired_on.isoformat(), "cost_yen": asset.cost_yen,
                     "subsidized_yen": asset.subsidized_yen, "final_yen": final.amount_yen,
                     "eligible_total_yen": eligible, "share_base_yen": base,
                     "useful_life_years": years,
                     "restricted_until": asset.restricted_until.isoformat()})
        registered.append(asset)
    return registered


def register(session: Session, application: Application) -> list[Asset]:
    """Every asset of the application, in order of acquisition."""
    return list(session.scalars(sa.select(Asset).filter_by(application_id=application.id)
                                .order_by(Asset.acquired_on, Asset.id)))


def asset_of(session: Session, application: Application, asset_id: int) -> Asset | None:
    """The application's asset with this id (None for another application's)."""
    return session.scalar(sa.select(Asset).filter_by(id=asset_id, application_id=application.id))


def pending_disposals(session: Session, application: Application) -> list[AssetDisposal]:
    """The application's disposal requests waiting for the officer, oldest first."""
    return list(session.scalars(
        sa.select(AssetDisposal).join(AssetDisposal.asset)
        .where(Asset.application_id == application.id,
               AssetDisposal.state == ChangeState.PENDING).order_by(AssetDisposal.id)))


def pending(asset: Asset) -> AssetDisposal | None:
    return next((d for d in asset.disposals if d.state is ChangeState.PENDING), None)


def working(asset: Asset, day: dt.date) -> rules.Repayment:
    """The repayment if the asset were disposed of on `day`."""
    return rules.repayment(asset.subsidized_yen, asset.acquired_on, asset.useful_life_years, day)


def _locked(session: Session, asset: Asset) -> Application:
    """The asset's application, locked, with the asset and its disposals read again after the
    lock: a request that waited for another one sees what that one did."""
    application = asset.application
    lock_application(session, application)
    session.refresh(asset)
    return application


def _check_holdable(asset: Asset, reason: str) -> str:
    if asset.state is not AssetState.HELD:
        raise NotHeld("not_held")
    if pending(asset) is not None:
        raise AlreadyPending("disposal_pending")
    text = visible_or_none(reason)
    if text is None:
        raise ReasonRequired("reason_required")
    return text


def request_disposal(session: Session, asset: Asset, *, kind: DisposalKind,
                     planned_on: dt.date, reason: str, actor: User,
                     now: dt.datetime) -> AssetDisposal:
    """Ask the officer's approval to dispose of or repurpose `asset` on `planned_on`, a day
    from today to the restriction's last day; the repayment is computed with it.

    Raises:
        TransitionNotAllowed: the application is not completed, or `actor` is no grantee.
        NotHeld, AlreadyPending, ReasonRequired: see each.
        DayRefused: "no_approval_needed" (the restriction is over on that day, or today), or
            "in_the_past" (the planned day is before today).
    """
    application = _locked(session, asset)
    application.state = workflow.fire(application.state, Action.REQUEST_DISPOSAL, actor.role)
    text = _check_holdable(asset, reason)
    today = now.astimezone(JST).date()
    if not rules.needs_approval(asset.restricted_until, max(today, planned_on)):
        raise DayRefused("no_approval_needed", asset.restricted_until)
    if planned_on < today:
        raise DayRefused("in_the_past", asset.restricted_until)
    found = working(asset, planned_on)
    disposal = AssetDisposal(asset_id=asset.id, kind=kind, planned_on=planned_on, reason=text,
                             repayment_yen=found.repayment_yen, computation=found.to_dict(),
                             requested_at=now, requested_by_id=actor.id)
    session.add(disposal)
    session.flush()
    record(session, AuditTag.DISPOSAL_REQUEST, subject_type="application",
           subject_id=application.id, actor=actor, now=now,
           data={"asset_id": asset.id, "disposal_id": disposal.id, "kind": str(kind),
                 "planned_on": planned_on.isoformat(), "reason": text,
                 "computation": disposal.computation})
    grant = grant_decisions.grant_of(session, application)
    grant_decisions.tell_officers(session, "disposal-requested", grant, now=now, asset=asset,
                                  disposal=disposal)
    return disposal


def record_disposal(session: Session, asset: Asset, *, kind: DisposalKind,
                    disposed_on: dt.date, reason: str, actor: User,
                    now: dt.datetime) -> AssetDisposal:
    """Record a disposal after the restriction: no approval, nothing to repay.

    Raises:
        TransitionNotAllowed: the application is not completed, or `actor` is no grantee.
        NotHeld, AlreadyPending, ReasonRequired: see each.
        DayRefused: "approval_needed" (the restriction still runs today, or on that day), or
            "in_the_future" (a disposal is recorded once it happened).
    """
    application = _locked(session, asset)
    application.state = workflow.fire(application.state, Action.REQUEST_DISPOSAL, actor.role)
    text = _check_holdable(asset, reason)
    today = now.astimezone(JST).date()
    if rules.needs_approval(asset.restricted_until, min(today, disposed_on)):
        raise DayRefused("approval_needed", asset.restricted_until)
    if disposed_on > today:
        raise DayRefused("in_the_future", asset.restricted_until)
    found = working(asset, disposed_on)
    disposal = AssetDisposal(asset_id=asset.id, kind=kind, planned_on=disposed_on, reason=text,
                             repayment_yen=0, computation=found.to_dict(),
                             state=ChangeState.APPROVED, requested_at=now,
                             requested_by_id=actor.id, decided_at=now)
    asset.state = STATE_AFTER[kind]
    session.add(disposal)
    session.flush()
    record(session, AuditTag.DISPOSAL_RECORD, subject_type="application",
           subject_id=application.id, actor=actor, now=now,
           data={"asset_id": asset.id, "disposal_id": disposal.id, "kind": str(kind),
                 "disposed_on": disposed_on.isoformat(), "reason": text,
                 "approval_required": False, "asset_state": str(asset.state),
                 "computation": disposal.computation})
    return disposal


def _locked_pending(session: Session, disposal: AssetDisposal) -> Application:
    """The request's application, locked, once the request and its asset are read again and
    found still pending and held (a second click waits for the first, then is refused)."""
    application = _locked(session, disposal.asset)
    session.refresh(disposal)
    if disposal.state is not ChangeState.PENDING:
        raise NotPending("disposal_not_pending")
    if disposal.asset.state is not AssetState.HELD:
        raise NotHeld("not_held")
    return application


def withdraw(session: Session, disposal: AssetDisposal, *, actor: User,
             now: dt.datetime) -> None:
    """The grantee takes back a request the officer has not decided.

    Raises:
        TransitionNotAllowed: the application is not completed, or `actor` is no grantee.
        NotPending: the request was decided or withdrawn already.
        NotHeld: the asset is disposed of or repurposed already.
    """
    application = _locked_pending(session, disposal)
    workflow.fire(application.state, Action.REQUEST_DISPOSAL, actor.role)
    disposal.state, disposal.decided_at, disposal.decided_by_id = (ChangeState.WITHDRAWN, now,
                                                                   actor.id)
    session.flush()
    record(session, AuditTag.DISPOSAL_WITHDRAW, subject_type="application",
           subject_id=application.id, actor=actor, now=now,
           data={"asset_id": disposal.asset_id, "disposal_id": disposal.id})


def decide(session: Session, disposal: AssetDisposal, *, approve: bool, reason: str,
           actor: User, now: dt.datetime) -> None:
    """The officer's decision on a request; approved, the asset is disposed of or repurposed
    and the repayment computed with the request is due. The grantee's members are told.

    Raises:
        TransitionNotAllowed: the application is not completed, or `actor` is no officer.
        NotPending: the request was decided or withdrawn already.
        NotHeld: the asset is disposed of or repurposed already.
        ReasonRequired: a refusal without a reason.
    """
    application = _locked_pending(session, disposal)
    asset = disposal.asset
    application.state = workflow.fire(application.state, Action.DECIDE_DISPOSAL, actor.role)
    text = visible_or_none(reason)
    if text is None and not approve:
        raise ReasonRequired("reason_required")
    disposal.state = ChangeState.APPROVED if approve else ChangeState.REFUSED
    disposal.decided_at, disposal.decided_by_id, disposal.decision_reason = now, actor.id, text
    if approve:
        asset.state = STATE_AFTER[disposal.kind]
    session.flush()
    record(session, AuditTag.DISPOSAL_APPROVE if approve else AuditTag.DISPOSAL_REFUSE,
           subject_type="application", subject_id=application.id, actor=actor, now=now,
           data={"asset_id": asset.id, "disposal_id": disposal.id, "reason": text,
                 "asset_state": str(asset.state), "repayment_yen":
                     disposal.repayment_yen if approve else 0})
    for person in members(session, application.organization):
        if person.active and person.acts_for_organization:
            emails.queue(session, "disposal-decided", person, now=now, application=application,
                         asset=asset, disposal=disposal)
