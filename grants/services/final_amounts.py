"""The final amount (額の確定): worked out by the domain from the accepted report, confirmed by
the officer, then the asset register is made from the report's equipment.

The working is recomputed when the officer confirms (its inputs cannot change once the report
is accepted: the plan changes only while the project runs) and kept whole on the FinalAmount
and in the audit event.
"""

from __future__ import annotations

import datetime as dt
import json

import sqlalchemy as sa
from sqlalchemy.orm import Session

from grants.domain import workflow
from grants.domain.errors import DomainError
from grants.domain.final_amount import FinalAmountWorking, final_amount
from grants.domain.workflow import Action
from grants.models import Application, FinalAmount, User
from grants.services import assets, completion_reports, grant_decisions
from grants.services.apply import data_from_snapshot
from grants.services.audit import AuditTag, record
from grants.services.locking import lock_application
from grants.services.plans import plan_in_force
from grants.services.programs import definition_of


class NotAccepted(DomainError):
    """The final amount is worked out from an accepted completion report: there is none."""


class AlreadyFixed(DomainError):
    """The final amount is fixed once: another request (a second click) fixed it first."""


def fixed(session: Session, application: Application) -> FinalAmount | None:
    return session.scalar(sa.select(FinalAmount).filter_by(application_id=application.id))


def working_for(session: Session, application: Application) -> FinalAmountWorking:
    """The working from the accepted report, the plan in force, the frozen application and the
    grant decision.

    Raises:
        NotAccepted: no report of the application is accepted.
    """
    report = completion_reports.accepted(session, application)
    grant = grant_decisions.grant_of(session, application)
    plan = plan_in_force(session, application)
    if report is None or grant is None or plan is None:
        raise NotAccepted("report_not_accepted")
    snapshot = json.loads(application.submissions[-1].snapshot)
    return final_amount(definition_of(application.program_version), data_from_snapshot(snapshot),
                        report.lines, plan.category_amounts, grant.amount_yen)


def confirm(session: Session, application: Application, *, actor: User,
            now: dt.datetime) -> FinalAmount:
    """Fix the final amount, enter the report's equipment in the asset register, tell the
    grantee.

    Raises:
        AlreadyFixed: the amount is fixed already (checked under the application's row lock).
        NotAccepted: no report of the application is accepted.
        TransitionNotAllowed: the report is not accepted, or `actor` is no officer.
    """
    lock_application(session, application)
    if fixed(session, application) is not None:
        raise AlreadyFixed("amount_fixed")
    working = working_for(session, application)
    report = completion_reports.accepted(session, application)
    application.state = workflow.fire(application.state, Action.FIX_AMOUNT, actor.role)
    computation = working.as_dict()
    final = FinalAmount(application_id=application.id, report_id=report.id,
                        amount_yen=working.final_yen, to_return_yen=working.to_return_yen,
                        computation=computation, confirmed_at=now, confirmed_by_id=actor.id)
    session.add(final)
    session.flush()
    record(session, AuditTag.AMOUNT_FIX, subject_type="application", subject_id=application.id,
           actor=actor, now=now,
           data={"final_amount_id": final.id, "report_id": report.id,
                 "amount_yen": final.amount_yen, "to_return_yen": final.to_return_yen,
                 "computation": computation})
    assets.register_from_report(session, application, report, actor=actor, now=now)
    completion_reports.tell_grantee(session, "final-amount-fixed", application, report, now=now,
                                    final=final)
    return final
