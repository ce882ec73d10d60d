"""Forms of the asset register: the grantee's disposal request or record, the officer's decision."""

from __future__ import annotations

import datetime as dt
from typing import Any

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import HiddenField, RadioField, TextAreaField
from wtforms.validators import DataRequired, Length, ValidationError

from grants.domain.text import has_visible_text
from grants.forms.answers import DateAnswerField, options
from grants.forms.review import VisibleText

KIND_LABELS = {
    "dispose": _l("Dispose of it (sell, scrap or give it away)"),
    "repurpose": _l("Use it for another purpose than the project's"),
}
STATE_LABELS = {
    "held": _l("Held"),
    "disposed": _l("Disposed of"),
    "repurposed": _l("Repurposed"),
}
DISPOSAL_STATE_LABELS = {
    "pending": _l("awaiting the officer's decision"),
    "approved": _l("approved"),
    "refused": _l("refused"),
    "withdrawn": _l("withdrawn"),
}


def day_of(field: DateAnswerField) -> dt.date:
    """The field's date, once the form validated (DateAnswerField keeps ISO text)."""
    return dt.date.fromisoformat(field.data)


class DisposalRequestForm(FlaskForm):
    kind = RadioField(_l("What you plan"), choices=options(KIND_LABELS.items()),
                      validators=[DataRequired()])
    planned_on = DateAnswerField(
        _l("Planned day"), description=_l("From today to the last day of the restriction."),
        validators=[DataRequired()])
    reason = TextAreaField(_l("Why"), validators=[DataRequired(), VisibleText(),
                                                  Length(max=4000)])


class DisposalRecordForm(FlaskForm):
    kind = RadioField(_l("What was done"), choices=options(KIND_LABELS.items()),
                      validators=[DataRequired()])
    disposed_on = DateAnswerField(_l("Day it was done"), validators=[DataRequired()])
    reason = TextAreaField(_l("Why"), validators=[DataRequired(), VisibleText(),
                                                  Length(max=4000)])


class DisposalDecisionForm(FlaskForm):
    # The request the page showed: a decision never lands on one made since (withdrawn, asked
    # again).
    disposal = HiddenField()
    outcome = RadioField(_l("Decision on the request"), choices=options(
        [("approve", _l("Approve: the repayment shown is due")),
         ("refuse", _l("Refuse: the asset stays as it is"))]), validators=[DataRequired()])
    reason = TextAreaField(_l("Reason, shown to the grantee"),
                           description=_l("Required when you refuse."),
                           validators=[Length(max=4000)])  # the check below runs on blank text

    def validate_reason(self, field: Any) -> None:
        if self.outcome.data == "refuse" and not has_visible_text(field.data):
            raise ValidationError(_l("Say why the request is refused."))
