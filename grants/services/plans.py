"""The plan in force: the latest plan version of a funded project (every later check uses it)."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from sqlalchemy.orm import Session

from grants.models import Application, PlanVersion


def plan_in_force(session: Session, application: Application) -> PlanVersion | None:
    """The latest plan version; None until the grantee accepted the grant decision."""
    return session.scalar(sa.select(PlanVersion).filter_by(application_id=application.id)
                          .order_by(PlanVersion.number.desc()).limit(1))


def project_end_in_force() -> sa.ScalarSelect[dt.date]:
    """The plan in force's project end for the `Application` of the enclosing query (NULL
    before the grantee accepted), so a list of projects takes it in the same query."""
    return (sa.select(PlanVersion.project_end)
            .where(PlanVersion.application_id == Application.id)
            .order_by(PlanVersion.number.desc()).limit(1)
            .correlate(Application).scalar_subquery())
