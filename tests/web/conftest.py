"""Fixtures shared by the page tests."""

from __future__ import annotations

import pytest

from grants.domain.workflow import Role
from grants.models import Program
from grants.services import apply
from tests.conftest import NOW


@pytest.fixture
def draft(session, make_user):
    """A 札幌市 applicant and their fresh ICT絆 draft."""
    user = make_user(Role.APPLICANT, lg_code="011002")
    application = apply.start(session, session.get(Program, "ict-kizuna-2010"), actor=user, now=NOW)
    session.commit()
    return user, application
