"""The review form, generated from a rubric: a score and a comment per criterion."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import Field, HiddenField, RadioField, TextAreaField
from wtforms.validators import Length, Optional, StopValidation

from grants.domain.rubrics import format_mark, mark
from grants.domain.text import has_visible_text
from grants.forms.answers import OneOf, options
from grants.forms.builder import text_in


class VisibleText:
    """Required, and more than spaces or zero-width characters (`domain.text`)."""

    def __call__(self, form: FlaskForm, field: Field) -> None:
        if not has_visible_text(field.data):
            raise StopValidation(str(_l("Write some text: spaces and invisible characters "
                                        "alone do not count.")))


class ReviewForm(FlaskForm):
    lock_version = HiddenField()
    comment_for_applicant = TextAreaField(
        _l("Comment shared with the applicant"),
        description=_l("Shown to the applicant with the decision. Other comments stay internal."),
        validators=[Optional(), Length(max=4000)],
    )


_FORM_CLASSES: dict[tuple[str, str], type[ReviewForm]] = {}


def build_review_form(rubric: Any, version_sha256: str, locale: str) -> type[ReviewForm]:
    """One radio group (score) and one comment box per criterion, named s_<id> and c_<id>.

    The choices are every mark of the scale: its levels, with their labels, and where the
    rubric allows half-marks (`step: 0.5`) the marks between them (2.5).
    """
    key = (version_sha256, locale)
    if key not in _FORM_CLASSES:
        labels = {level.score: text_in(level.label, locale) for level in rubric.scale.levels}
        levels = [(format_mark(m), f"{format_mark(m)} – {labels[m.numerator]}"
                   if m.denominator == 1 else format_mark(m)) for m in rubric.scale.marks()]
        attrs: dict[str, Any] = {}
        for criterion in rubric.criteria():
            attrs[f"s_{criterion.id}"] = RadioField(
                text_in(criterion.title, locale), description=text_in(criterion.question, locale),
                choices=options(levels), validate_choice=False, validators=[OneOf()])
            attrs[f"c_{criterion.id}"] = TextAreaField(
                _l("Comment"), validators=[Optional(), Length(max=4000)])
        _FORM_CLASSES[key] = type("ReviewFormFor", (ReviewForm,), attrs)
    return _FORM_CLASSES[key]


def _score(value: Any) -> int | float | None:
    """A chosen mark as the review's JSON keeps it: a whole number as an int, as before
    half-marks existed; a half-mark as its decimal (2.5), read back exactly by `rubrics.mark`."""
    if value in (None, "", "None"):
        return None
    exact = mark(Decimal(value))  # one of the offered choices: the form validated it
    return exact.numerator if exact.denominator == 1 else float(Decimal(value))


def ratings_from(rubric: Any, form: ReviewForm
                 ) -> tuple[dict[str, int | float | None], dict[str, str]]:
    ratings = {c.id: _score(form[f"s_{c.id}"].data) for c in rubric.criteria()}
    comments = {c.id: (form[f"c_{c.id}"].data or "").strip() for c in rubric.criteria()}
    return ratings, comments


def form_data(rubric: Any, review: Any) -> dict[str, Any]:
    data: dict[str, Any] = {"comment_for_applicant": review.comment_for_applicant}
    for criterion in rubric.criteria():
        value = review.ratings.get(criterion.id)
        data[f"s_{criterion.id}"] = None if value is None else format_mark(value)
        data[f"c_{criterion.id}"] = review.comments.get(criterion.id, "")
    return data
