"""The completion report form (実績報告), made once per program version and language: cost lines
as the application's budget lines, a reason box per category, a result box per KPI target of
the program, the jobs created, the equipment acquired and the outcome.

The form checks shape only (amounts as people type them, dates, offered choices); whether a
reason or the jobs are required is the service's check when the report is filed.
"""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import Form, FormField, HiddenField, SelectField, StringField, TextAreaField
from wtforms.validators import Length, Optional, ValidationError

from grants.domain.text import has_visible_text
from grants.forms.answers import Bounds, DateAnswerField, IntegerAnswerField, RowsField, options
from grants.forms.builder import budget_line, budget_row_form, text_in
from grants.services.completion_reports import Contents

TEXT_LIMIT = 4000
OUTCOME_LIMIT = 8000
# Jobs one project created: ten million is a seventh of Japan's workforce, far beyond any
# project, and within the 32-bit column that keeps the count (2,147,483,647).
MAX_JOBS = 10_000_000
EQUIPMENT_ROWS = 100
LINE_ROWS = 100  # for a program without a budget_lines field (its own limit otherwise)


class EquipmentRowForm(Form):
    name = StringField(_l("Item"), validators=[Optional(), Length(max=200)])
    kind = SelectField(_l("Kind (useful life)"), validate_choice=False, choices=[])
    acquired_on = DateAnswerField(_l("Acquired on"))
    cost_yen = IntegerAnswerField(_l("Cost (yen)"), yen=True)

    def is_blank(self) -> bool:
        return (not has_visible_text(self.name.data) and self.cost_yen.data is None
                and not self.acquired_on.data and not getattr(self.acquired_on, "raw", None))

    def validate_name(self, field: StringField) -> None:
        if not self.is_blank() and not has_visible_text(field.data):
            raise ValidationError(_l("Name the item."))

    def validate_kind(self, field: SelectField) -> None:
        if not self.is_blank() and field.data not in {c.value for c in field.choices if c.value}:
            raise ValidationError(_l("Choose the kind of item."))

    def validate_acquired_on(self, field: DateAnswerField) -> None:
        if not self.is_blank() and field.data is None and not getattr(field, "raw", None):
            raise ValidationError(_l("Enter the day it was acquired."))

    def validate_cost_yen(self, field: IntegerAnswerField) -> None:
        if not self.is_blank() and field.data is None:
            raise ValidationError(_l("Enter the cost in yen."))


class ReportForm(FlaskForm):
    lock_version = HiddenField()
    jobs_created = IntegerAnswerField(_l("Jobs created (people)"),
                                      validators=[Bounds(0, MAX_JOBS)])
    outcome = TextAreaField(_l("What the project achieved"),
                            validators=[Optional(), Length(max=OUTCOME_LIMIT)])
    categories: tuple[str, ...] = ()
    kpi_fields: tuple[str, ...] = ()

    def contents(self) -> Contents:
        """What the grantee wrote, as the report stores it (blank rows and boxes left out)."""
        return Contents(
            lines=[budget_line(row.form) for row in self["lines"] if not row.form.is_blank()],
            variance_reasons=_texts(self, "reason_", self.categories),
            kpi_results=_texts(self, "kpi_", self.kpi_fields),
            jobs_created=self.jobs_created.data,
            equipment=[_item(row.form) for row in self["equipment"] if not row.form.is_blank()],
            outcome=(self.outcome.data or "").strip())


def _texts(form: ReportForm, prefix: str, keys: tuple[str, ...]) -> dict[str, str]:
    written = {key: (form[prefix + key].data or "").strip() for key in keys}
    return {key: text for key, text in written.items() if text}


def _item(row: EquipmentRowForm) -> dict[str, Any]:
    return {"name": row.name.data.strip(), "kind": row.kind.data,
            "acquired_on": row.acquired_on.data, "cost_yen": row.cost_yen.data}


def form_data(contents: Contents) -> dict[str, Any]:
    """The data= mapping that shows a saved report (or the returned one it starts from)."""
    data: dict[str, Any] = {"lines": contents.lines, "equipment": contents.equipment,
                            "jobs_created": contents.jobs_created, "outcome": contents.outcome}
    data |= {f"reason_{key}": text for key, text in contents.variance_reasons.items()}
    data |= {f"kpi_{key}": text for key, text in contents.kpi_results.items()}
    return data


_FORM_CLASSES: dict[tuple[str, str], type[ReportForm]] = {}


def report_form(definition: Any, version_sha256: str, locale: str) -> type[ReportForm]:
    """The form class of one program version in one language."""
    key = (version_sha256, locale)
    if key not in _FORM_CLASSES:
        budget_field = definition.budget_field
        kinds = [("", str(_l("Choose…")))] + [
            (life.kind, f"{text_in(life.title, locale)} ({life.years})")
            for life in definition.post_award.useful_lives]
        equipment_row = type("EquipmentRow", (EquipmentRowForm,), {"kind": SelectField(
            _l("Kind (useful life)"), validate_choice=False, choices=options(kinds))})
        attrs: dict[str, Any] = {
            "categories": tuple(c.id for c in definition.budget.categories),
            "kpi_fields": tuple(definition.post_award.kpi_fields),
            "lines": RowsField(FormField(budget_row_form(definition, locale)), min_entries=1,
                               max_rows=budget_field.max_rows if budget_field else LINE_ROWS,
                               label=_l("Actual costs")),
            "equipment": RowsField(FormField(equipment_row), max_rows=EQUIPMENT_ROWS,
                                   label=_l("Equipment acquired")),
        }
        for category in definition.budget.categories:
            attrs[f"reason_{category.id}"] = TextAreaField(
                text_in(category.title, locale), validators=[Optional(), Length(max=TEXT_LIMIT)])
        for field_id in definition.post_award.kpi_fields:
            attrs[f"kpi_{field_id}"] = TextAreaField(
                text_in(definition.field(field_id).label, locale),
                validators=[Optional(), Length(max=TEXT_LIMIT)])
        _FORM_CLASSES[key] = type("CompletionReportForm", (ReportForm,), attrs)
    return _FORM_CLASSES[key]
