"""Turn a program's form step into a FlaskForm class (after Indico's make_review_form).

Forms check shape only (types, lengths, offered choices). Whether an answer is required, and
every business rule, is the domain's job: it comes back as findings shown beside the field.
"""

from __future__ import annotations

from typing import Any

from flask_babel import get_locale
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    Form,
    FormField,
    HiddenField,
    RadioField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import Length, Optional, ValidationError

from grants.domain.consortia import member_problems, member_row
from grants.domain.identifiers import normalize
from grants.domain.localgov import load_registry
from grants.forms.answers import (
    ACQUISITION_LABELS,
    MEMBER_KIND_LABELS,
    ORGANIZATION_KIND_LABELS,
    YES_NO_LABELS,
    Bounds,
    DateAnswerField,
    IntegerAnswerField,
    MultiCheckboxField,
    OneOf,
    RowsField,
    options,
)

BLANK_ROWS = 2


def text_in(text: Any, locale: str) -> str:
    return getattr(text, locale, None) or getattr(text, "ja", "") if text else ""


class StepForm(FlaskForm):
    lock_version = HiddenField()


class PartnerRowForm(Form):
    kind = SelectField(
        _l("Type"),
        validate_choice=False,
        choices=options(ORGANIZATION_KIND_LABELS.items()),
    )
    # Canonical before any check or storage: ０１２３３５ and " 012335" are 012335.
    code = StringField(_l("Local government code"), filters=[normalize])
    name = StringField(_l("Name"), validators=[Optional(), Length(max=200)])
    role = StringField(_l("Role in the project"), validators=[Optional(), Length(max=200)])

    def is_blank(self) -> bool:
        return not any((f.data or "").strip() for f in (self.code, self.name, self.role))

    def validate_code(self, field: StringField) -> None:
        if self.is_blank():
            return
        if self.kind.data not in ORGANIZATION_KIND_LABELS:
            raise ValidationError(_l("Choose one of the options."))
        if self.kind.data != "local_government":
            return
        result = load_registry().lookup(field.data)
        if not result.ok:
            raise ValidationError(result.message.get(str(get_locale() or "ja")))

    def validate_name(self, field: StringField) -> None:
        if not self.is_blank() and self.kind.data != "local_government" and not field.data:
            raise ValidationError(_l("Enter the organization's name."))


class MemberRowForm(Form):
    """One consortium member: its kind, identifier (全国地方公共団体コード or 法人番号), name.

    The identifier is checked by the domain (`consortia.member_problems`), check digit
    included; a local government's name comes from the MIC list.
    """

    kind = SelectField(
        _l("Type"), validate_choice=False, choices=options(MEMBER_KIND_LABELS.items())
    )
    code = StringField(_l("Local government code or 法人番号"), filters=[normalize])
    name = StringField(_l("Name"), validators=[Optional(), Length(max=200)])
    role = StringField(_l("Role in the project"), validators=[Optional(), Length(max=200)])

    def is_blank(self) -> bool:
        return not any((f.data or "").strip() for f in (self.code, self.name, self.role))

    def validate(self, extra_validators: Any = None) -> bool:
        valid = super().validate(extra_validators)
        if self.is_blank():
            return valid
        locale = str(get_locale() or "ja")
        for column, message in member_problems(
            self.kind.data, self.code.data, self.name.data
        ).items():
            self[column].errors = [*self[column].errors, message.get(locale)]
            valid = False
        return valid


class BudgetLineRowForm(Form):
    category = SelectField(_l("Cost category"), validate_choice=False, choices=[])
    description = StringField(_l("Description"), validators=[Optional(), Length(max=300)])
    acquisition = SelectField(
        _l("Acquisition"),
        validate_choice=False,
        choices=options(ACQUISITION_LABELS.items()),
    )
    amount_yen = IntegerAnswerField(_l("Amount (yen)"), yen=True)

    def is_blank(self) -> bool:
        return not (self.description.data or "").strip() and self.amount_yen.data is None

    def validate_category(self, field: SelectField) -> None:
        if self.is_blank():
            return
        if field.data not in {choice.value for choice in field.choices if choice.value}:
            raise ValidationError(_l("Choose a cost category."))
        if self.acquisition.data not in ACQUISITION_LABELS:
            raise ValidationError(_l("Choose one of the options."))

    def validate_amount_yen(self, field: IntegerAnswerField) -> None:
        if not self.is_blank() and field.data is None:
            raise ValidationError(_l("Enter the amount in yen."))


def field_choices(definition: Any, field: Any, locale: str) -> list[tuple[str, str]]:
    source = getattr(field, "choices_from", None)
    if source == "tracks":
        return [(t.id, text_in(t.title, locale)) for t in definition.tracks]
    if source == "fields_of_use":
        return [(f.id, text_in(f.title, locale)) for f in definition.fields_of_use]
    return [(str(c.value), text_in(c.label, locale)) for c in (field.choices or [])]


def _make_field(definition: Any, field: Any, locale: str) -> Any:
    label, help_text = text_in(field.label, locale), text_in(field.help, locale)
    common: dict[str, Any] = {"label": label, "description": help_text}
    kind = field.kind
    if kind in ("text", "long_text"):
        limit = field.max_length or (200 if kind == "text" else 4000)
        cls = StringField if kind == "text" else TextAreaField
        return cls(validators=[Optional(), Length(max=limit)], **common)
    if kind in ("number", "yen"):
        minimum = field.min if field.min is not None else (0 if kind == "yen" else None)
        return IntegerAnswerField(
            validators=[Bounds(minimum, field.max)], yen=kind == "yen", **common
        )
    if kind == "date":
        return DateAnswerField(**common)
    if kind == "choice":
        choices = field_choices(definition, field, locale)
        return RadioField(
            choices=options(choices), validate_choice=False, validators=[OneOf()], **common
        )
    if kind == "multi_choice":
        choices = field_choices(definition, field, locale)
        return MultiCheckboxField(
            choices=options(choices), validate_choice=False, validators=[OneOf()], **common
        )
    if kind == "yes_no":
        return RadioField(
            choices=options(YES_NO_LABELS.items()),
            validate_choice=False,
            validators=[OneOf()],
            **common,
        )
    if kind in ("partners", "consortium", "budget_lines"):
        rows: dict[str, type[Form]] = {"partners": PartnerRowForm, "consortium": MemberRowForm}
        row = rows[kind] if kind in rows else budget_row_form(definition, locale)
        blank = min(BLANK_ROWS, field.max_rows)
        return RowsField(FormField(row), min_entries=blank, max_rows=field.max_rows, **common)
    return None  # file fields are uploaded separately


def budget_row_form(definition: Any, locale: str) -> type[Form]:
    choices = [("", str(_l("Choose…")))] + [
        (c.id, text_in(c.title, locale)) for c in definition.budget.categories
    ]

    category = SelectField(_l("Cost category"), validate_choice=False, choices=options(choices))
    return type("BudgetLineRow", (BudgetLineRowForm,), {"category": category})


_FORM_CLASSES: dict[tuple[str, str, str], type[StepForm]] = {}


def build_step_form(
    definition: Any, version_sha256: str, step_id: str, locale: str
) -> type[StepForm]:
    """Return the form class for one step, made once per program version, step and language."""
    key = (version_sha256, step_id, locale)
    if key not in _FORM_CLASSES:
        step = next(s for s in definition.steps if s.id == step_id)
        attrs = {}
        for field in step.fields:
            made = _make_field(definition, field, locale)
            if made is not None:
                attrs[f"f_{field.id}"] = made
        _FORM_CLASSES[key] = type(f"Step_{step_id}_Form", (StepForm,), attrs)
    return _FORM_CLASSES[key]


def _to_form(kind: str, value: Any) -> Any:
    if kind == "yes_no":
        return None if value is None else ("yes" if value else "no")
    return value


def _from_form(kind: str, form_field: Any) -> Any:
    if kind == "yes_no":
        return {"yes": True, "no": False}.get(form_field.data)
    if kind in ("text", "long_text"):
        return (form_field.data or "").strip() or None
    if kind == "choice":
        return form_field.data or None
    if kind == "multi_choice":
        return list(form_field.data or [])
    if kind == "partners":
        return [_partner(row.form) for row in form_field if not row.form.is_blank()]
    if kind == "consortium":
        return [
            member_row(row.form.kind.data, row.form.code.data, row.form.name.data,
                       row.form.role.data)
            for row in form_field
            if not row.form.is_blank()
        ]
    if kind == "budget_lines":
        return [budget_line(row.form) for row in form_field if not row.form.is_blank()]
    return form_field.data


def _partner(row: PartnerRowForm) -> dict[str, Any]:
    code = row.code.data
    if row.kind.data == "local_government":
        government = load_registry().get(code)
        return {
            "code": code,
            "name": government.name if government else code,
            "kind": "local_government",
            "role": (row.role.data or "").strip(),
        }
    return {
        "code": None,
        "name": row.name.data.strip(),
        "kind": row.kind.data,
        "role": (row.role.data or "").strip(),
    }


def budget_line(row: BudgetLineRowForm) -> dict[str, Any]:
    return {
        "category": row.category.data,
        "description": (row.description.data or "").strip(),
        "acquisition": row.acquisition.data or "none",
        "amount_yen": row.amount_yen.data,
    }


def form_data(step: Any, answers: dict[str, Any]) -> dict[str, Any]:
    """The data= mapping that shows saved answers in a step form."""
    return {
        f"f_{f.id}": _to_form(f.kind, answers.get(f.id))
        for f in step.fields
        if f.kind != "file" and answers.get(f.id) is not None
    }


def answers_from_form(step: Any, form: StepForm) -> dict[str, Any]:
    """The answers of one step as JSON-safe values (see the program schema)."""
    return {f.id: _from_form(f.kind, form[f"f_{f.id}"]) for f in step.fields if f.kind != "file"}
