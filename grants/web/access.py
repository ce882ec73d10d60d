"""Who may do what: a permission vocabulary, the role table, and the route guard.

Flask-Login only knows whether someone is signed in; permissions are ours. Every view carries
either ``@require(...)`` or ``@public``; a test walks the URL map and fails on any that has neither.
"""

from __future__ import annotations

import enum
from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

import sqlalchemy as sa
from flask import abort
from flask_login import current_user

from grants.db import get_session
from grants.domain.workflow import Role, State
from grants.extensions import login_manager
from grants.models import Application, Assignment, AssignmentState, User
from grants.services import auditing

F = TypeVar("F", bound=Callable[..., Any])


class Permission(enum.StrEnum):
    APPLICATION_WRITE = "apply:application:write"  # own organization's drafts
    APPLICATION_READ_OWN = "apply:application:read"  # own organization's applications
    APPLICATION_READ_ANY = "manage:application:read"  # staff: every submitted application
    CALL_MANAGE = "manage:call:write"  # screen, assign, moderate, decide
    CALL_READ = "manage:call:read"  # rankings, exports, calibration, outbox
    REVIEW_WRITE = "review:review:write"  # own assignments only
    AUDIT_READ = "audit:record:read"  # funded applications, their records, batch downloads
    ORGANIZATION_MANAGE = "org:member:manage"  # an organization's admins: invite, approve, remove
    ORGANIZATION_VERIFY = "manage:organization:verify"  # the program office: first accounts
    ACCOUNT_MANAGE = "admin:account:manage"  # site admins: disable, enable, reset link, role


ROLE_PERMISSIONS: dict[Role, frozenset[Permission]] = {
    Role.APPLICANT: frozenset({Permission.APPLICATION_WRITE, Permission.APPLICATION_READ_OWN,
                               Permission.ORGANIZATION_MANAGE}),
    Role.REVIEWER: frozenset({Permission.REVIEW_WRITE}),
    # Officers search and download records too: the ministry's staff answer the Board of
    # Audit's requests for documents. Every download is an audit event naming who made it.
    Role.OFFICER: frozenset(
        {Permission.APPLICATION_READ_ANY, Permission.CALL_MANAGE, Permission.CALL_READ,
         Permission.AUDIT_READ, Permission.ORGANIZATION_VERIFY}
    ),
    Role.AUDITOR: frozenset({Permission.AUDIT_READ}),
    Role.ADMIN: frozenset({Permission.APPLICATION_READ_ANY, Permission.CALL_READ,
                           Permission.ORGANIZATION_VERIFY, Permission.ACCOUNT_MANAGE}),
}
# Held only while the account acts for its organization (an approved member with a proven
# address): a pending, refused or removed member sees nothing of the organization.
MEMBER_PERMISSIONS = frozenset({Permission.APPLICATION_WRITE, Permission.APPLICATION_READ_OWN,
                                Permission.ORGANIZATION_MANAGE})


def has_permission(user: Any, permission: Permission) -> bool:
    if not user.is_authenticated or permission not in ROLE_PERMISSIONS[user.role]:
        return False
    if permission in MEMBER_PERMISSIONS and not user.acts_for_organization:
        return False
    return permission is not Permission.ORGANIZATION_MANAGE or user.is_org_admin


def require(*permissions: Permission) -> Callable[[F], F]:
    """Let the view run only for a signed-in user holding one of ``permissions``."""

    def decorate(view: F) -> F:
        @wraps(view)
        def guarded(*args: Any, **kwargs: Any) -> Any:
            if not current_user.is_authenticated:
                return login_manager.unauthorized()
            if permissions and not any(has_permission(current_user, p) for p in permissions):
                abort(403)
            return view(*args, **kwargs)

        guarded.access = permissions or ("signed_in",)  # type: ignore[attr-defined]
        return guarded  # type: ignore[return-value]

    return decorate


def public(view: F) -> F:
    """Mark a view as open to everyone (the route-table test requires a deliberate choice)."""
    view.access = ("public",)  # type: ignore[attr-defined]
    return view


def load_application(application_id: int, *, for_writing: bool = False) -> Application:
    """Return an application the current user may see, else 404 (never reveal that it exists)."""
    application = get_session().get(Application, application_id)
    if application is None or not can_see(current_user, application):
        abort(404)
    if for_writing and not can_edit(current_user, application):
        abort(404 if current_user.role is not Role.APPLICANT else 403)
    return application


def load_application_by_reference(reference: str) -> Application:
    found = get_session().scalar(sa.select(Application.id).filter_by(reference=reference))
    if found is None:
        abort(404)
    return load_application(found)


def load_readable(application_id: int) -> Application:
    """An application the user may read, or 404: their organization's, any for the program
    office and admins, a funded one for auditors. The answer never says whether it exists."""
    session = get_session()
    application = session.get(Application, application_id)
    if application is not None and can_see(current_user, application):
        return application
    if has_permission(current_user, Permission.AUDIT_READ):
        funded = auditing.load_funded(session, application_id)
        if funded is not None:
            return funded.application
    abort(404)


def can_see(user: User, application: Application) -> bool:
    if user.role is Role.APPLICANT:
        return (has_permission(user, Permission.APPLICATION_READ_OWN)
                and application.organization_id == user.organization_id)
    if has_permission(user, Permission.APPLICATION_READ_ANY):
        return application.state is not State.DRAFT
    return False


def can_edit(user: User, application: Application) -> bool:
    return (
        has_permission(user, Permission.APPLICATION_WRITE)
        and application.organization_id == user.organization_id
    )


def load_assignment(assignment_id: int) -> Assignment:
    """Return the current reviewer's own active, unconflicted assignment, else 404."""
    from grants.services.assign import conflicts_of

    assignment = get_session().get(Assignment, assignment_id)
    if (
        assignment is None
        or assignment.reviewer_id != current_user.id
        or assignment.state is not AssignmentState.ACTIVE
        or conflicts_of(get_session(), current_user, assignment.application)
    ):
        abort(404)
    return assignment
