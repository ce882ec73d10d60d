"""Form fields that read what people type: full-width digits, commas and 円 are all fine."""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable
from typing import Any

from flask_babel import gettext
from flask_babel import lazy_gettext as _l
from wtforms import Field, FieldList, SelectMultipleField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.utils import unset_value
from wtforms.validators import ValidationError
from wtforms.widgets import CheckboxInput, ListWidget

from grants.domain.amounts import MAX_AMOUNT, AmountProblem, parse_count, parse_yen
from grants.domain.dates import parse_date

ORGANIZATION_KIND_LABELS = {
    "local_government": _l("Local government (地方公共団体)"),
    "third_sector": _l("Third-sector company (第3セクター)"),
    "npo": _l("NPO (NPO法人)"),
    "other": _l("Other organization"),
}
MEMBER_KIND_LABELS = {
    "local_government": _l("Local government (地方公共団体)"),
    "corporation": _l("Corporation (法人: a company, a third-sector company …)"),
    "npo": _l("NPO (NPO法人)"),
    "other": _l("Other organization"),
}
ACQUISITION_LABELS = {
    "none": _l("Not applicable"),
    "purchase": _l("Purchase"),
    "lease": _l("Lease"),
    "rental": _l("Rental"),
}
YES_NO_LABELS = {"yes": _l("Yes"), "no": _l("No")}

_MAX_INDEX_DIGITS = 6  # the form numbers rows from 0; far more digits is not a row of ours


class IntegerAnswerField(StringField):
    """A whole number or yen amount typed as people type it (see ``grants.domain.amounts``).

    Every number and yen field of the app is this field, so one grammar reads them all. Text
    that is not a number keeps its raw form for the page and is refused naming the field.
    """

    def __init__(self, *args: Any, yen: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.yen = yen

    def process_formdata(self, valuelist: list[str]) -> None:
        self.raw = valuelist[0] if valuelist else ""
        parsed = (parse_yen if self.yen else parse_count)(self.raw)
        self.data = parsed if isinstance(parsed, int) else None
        if parsed in (AmountProblem.MALFORMED, AmountProblem.TOO_LARGE):
            raise ValueError(self._problem_message(parsed))

    def _problem_message(self, problem: AmountProblem) -> str:
        field = str(self.label.text)
        if problem is AmountProblem.TOO_LARGE:
            return gettext("%(field)s: enter at most %(n)s.", field=field, n=f"{MAX_AMOUNT:,}")
        if self.yen:
            return gettext(
                "%(field)s: enter whole yen in digits, such as 1500000 or 1,500,000.", field=field
            )
        return gettext("%(field)s: enter a whole number in digits, such as 1500.", field=field)

    def _value(self) -> str:
        if getattr(self, "raw", None) is not None and self.data is None:
            return self.raw
        return "" if self.data is None else f"{self.data:,}"  # read back with the commas


class DateAnswerField(StringField):
    """A date as people type it (see ``grants.domain.dates``: 2026-10-01, 2026/10/1, full-width
    digits); stored as ISO text."""

    def process_formdata(self, valuelist: list[str]) -> None:
        self.raw = valuelist[0] if valuelist else ""
        self.data = None
        if not unicodedata.normalize("NFKC", self.raw).strip():
            return
        day = parse_date(self.raw)
        if day is None:
            raise ValueError(_l("Enter a date such as 2026-10-01."))
        self.data = day.isoformat()

    def _value(self) -> str:
        if getattr(self, "raw", None) and self.data is None:
            return self.raw
        return self.data or ""


def options(pairs: Iterable[tuple[str, Any]]) -> list[SelectChoice]:
    """Choices for WTForms select and radio fields from (value, label) pairs."""
    return [SelectChoice(value=value, label=label) for value, label in pairs]


class MultiCheckboxField(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class Bounds:
    """Validate an integer against the definition's min/max, naming the limit."""

    def __init__(self, minimum: int | None, maximum: int | None) -> None:
        self.minimum, self.maximum = minimum, maximum

    def __call__(self, _form: Any, field: Field) -> None:
        if field.data is None:
            return
        if self.minimum is not None and field.data < self.minimum:
            raise ValidationError(_l("Enter %(n)s or more.", n=f"{self.minimum:,}"))
        if self.maximum is not None and field.data > self.maximum:
            raise ValidationError(_l("Enter %(n)s or less.", n=f"{self.maximum:,}"))


class OneOf:
    """Allow an empty answer or one of the offered values (a tampered value is refused)."""

    def __call__(self, _form: Any, field: Field) -> None:
        values = {str(value) for value, *_ in field.choices}
        chosen = field.data if isinstance(field.data, list) else [field.data]
        if any(item not in values for item in chosen if item not in (None, "", "None")):
            raise ValidationError(_l("Choose one of the options."))


class RowsField(FieldList):
    """Rows of a list answer (partners, budget lines), at most the program's `max_rows`.

    More rows sent are refused by name and number, never silently dropped: the form is not
    valid, and only the first `max_rows` are read back, so the page stays small. A row index
    must be ASCII digits (WTForms would fail on "²"); anything else is not a row.
    """

    def __init__(self, unbound_field: Any, *, max_rows: int, **kwargs: Any) -> None:
        super().__init__(unbound_field, max_entries=max_rows, **kwargs)
        self.max_rows = max_rows
        self.rows_sent = 0

    def process(self, formdata: Any, data: Any = unset_value, extra_filters: Any = None) -> None:
        self.rows_sent = len(set(self._extract_indices(self.name, formdata or {})))
        super().process(formdata, data, extra_filters)

    def _extract_indices(self, prefix: str, formdata: Any) -> Any:
        offset = len(prefix) + 1
        for key in formdata:
            if key.startswith(prefix):
                index = key[offset:].split(self._field_separator, 1)[0]
                if index.isascii() and index.isdigit() and len(index) <= _MAX_INDEX_DIGITS:
                    yield int(index)

    def validate(self, form: Any, extra_validators: Any = ()) -> bool:
        valid = super().validate(form, extra_validators)
        if self.rows_sent > self.max_rows:
            self.errors.append(
                gettext(
                    "This list holds at most %(limit)d rows, but %(count)d were sent, so nothing "
                    "on this page was saved. Only the first %(limit)d rows are shown below: check "
                    "them and save again.",
                    limit=self.max_rows,
                    count=self.rows_sent,
                )
            )
            return False
        return valid

