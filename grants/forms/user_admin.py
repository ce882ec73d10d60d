"""Forms of the site administrators' account pages: the search, and the role change.

Disabling, re-enabling and sending a reset link take only a reason: ``accounts.ReasonForm``.
"""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import SelectField, StringField
from wtforms.validators import InputRequired, Length, Optional, Regexp

from grants.domain.account_admin import STAFF_ROLES
from grants.domain.workflow import Role
from grants.forms.accounts import ReasonForm
from grants.forms.answers import options
from grants.services.user_admin import AccountFilter

ROLE_LABELS = {
    Role.APPLICANT: _l("Applicant"),
    Role.REVIEWER: _l("Reviewer"),
    Role.OFFICER: _l("Program officer"),
    Role.AUDITOR: _l("Auditor"),
    Role.ADMIN: _l("Site administrator"),
}
STATES = {"active": False, "disabled": True}  # the state asked for -> AccountFilter.disabled


class AccountSearchForm(FlaskForm):
    class Meta:
        csrf = False  # a GET search; it changes nothing

    q = StringField(
        _l("E-mail address, name or organization contains"),
        filters=[lambda text: text.strip() if text else text],
        validators=[Optional(), Length(max=200),
                    Regexp(r"^[^\x00-\x1f\x7f]*$", message=_l("Remove the control characters."))])
    role = SelectField(_l("Role"), default="", choices=options(
        [("", _l("Any")), *((role.value, label) for role, label in ROLE_LABELS.items())]))
    state = SelectField(_l("State"), default="", choices=options(
        [("", _l("Any")), ("active", _l("Enabled")), ("disabled", _l("Disabled"))]))

    def criteria(self) -> AccountFilter:
        return AccountFilter(text=self.q.data or "",
                             role=Role(self.role.data) if self.role.data else None,
                             disabled=STATES.get(self.state.data))

    def query(self) -> dict[str, str]:
        """The search as query arguments for the page links, empty ones left out."""
        return {field.name: field.data for field in self if field.data}


class RoleForm(ReasonForm):
    role = SelectField(_l("New role"), validators=[InputRequired()], choices=options(
        (role.value, ROLE_LABELS[role]) for role in STAFF_ROLES))
