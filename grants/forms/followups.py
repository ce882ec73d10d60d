"""The follow-up report form (状況報告): operating or not, users, the year's operating cost by
who pays it (one yen field per payer) and a result for each KPI the program names."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import RadioField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional, ValidationError

from grants.domain.followups import PAYERS
from grants.domain.text import has_visible_text
from grants.forms.answers import Bounds, IntegerAnswerField, options
from grants.forms.review import VisibleText
from grants.templating import localized

# Users in a year: a service may count uses rather than people, so more than Japan's population
# is possible; two thousand million stays within the 32-bit column (2,147,483,647).
MAX_USERS = 2_000_000_000

OPERATING_LABELS = {
    "yes": _l("Yes, operating"),
    "partly": _l("Partly operating"),
    "stopped": _l("Stopped"),
}


class FollowupForm(FlaskForm):
    operating = RadioField(_l("Is the service operating?"),
                           choices=options(OPERATING_LABELS.items()), validators=[DataRequired()])
    stop_reason = TextAreaField(
        _l("Why it operates only partly, or stopped"),
        description=_l("Required unless the service is operating."),
        validators=[Length(max=4000)])  # the check below runs on blank text too
    users = IntegerAnswerField(
        _l("Users in the year"),
        description=_l("People or organizations who used the service in the fiscal year."),
        validators=[Optional(), Bounds(0, MAX_USERS)])
    note = TextAreaField(_l("Remarks"), validators=[Optional(), Length(max=4000)])

    def validate_stop_reason(self, field: Any) -> None:
        if self.operating.data in ("partly", "stopped") and not has_visible_text(field.data):
            raise ValidationError(_l("Say why the service operates only partly, or stopped."))

    def costs(self) -> dict[str, int]:
        return {payer: self[f"cost_{payer}"].data or 0 for payer in PAYERS}

    def kpi_results(self, kpi_ids: Sequence[str]) -> dict[str, str]:
        return {field_id: self[f"kpi_{field_id}"].data.strip() for field_id in kpi_ids}


def followup_form(kpis: Sequence[tuple[str, str]], **kwargs: Any) -> FollowupForm:
    """The form with a yen field per payer and a result per KPI: (field id, its label)."""
    attrs: dict[str, Any] = {
        f"cost_{payer}": IntegerAnswerField(localized(label), validators=[Optional()], yen=True)
        for payer, label in PAYERS.items()}
    for field_id, label in kpis:
        attrs[f"kpi_{field_id}"] = StringField(
            label, validators=[DataRequired(), VisibleText(), Length(max=500)])
    return type("FollowupFormFor", (FollowupForm,), attrs)(**kwargs)
