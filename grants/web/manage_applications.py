"""Officers on one application: screen, assign, compare scores, moderate, decide."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from sqlalchemy.orm import selectinload
from werkzeug.wrappers import Response
from wtforms import IntegerField, RadioField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, Optional

from grants import clock
from grants.db import get_session
from grants.domain.budget import yen
from grants.domain.errors import DomainError
from grants.domain.workflow import State, allowed_actions
from grants.forms.answers import IntegerAnswerField, options
from grants.models import Assignment, Decision, Outcome, Program, Review, User
from grants.services import assign, decide, reviewing, screening
from grants.services.decide import award_limit
from grants.services.programs import definition_of
from grants.web.access import Permission, load_application, require

bp = Blueprint("manage_application", __name__, url_prefix="/manage/applications")


class ReturnForm(FlaskForm):
    reason = TextAreaField(_l("Reason, shown to the applicant"),
                           validators=[DataRequired(), Length(max=4000)])


class AssignForm(FlaskForm):
    reviewer_id = SelectField(_l("Reviewer"), coerce=int, validators=[InputRequired()])


class ModerateForm(FlaskForm):
    criterion_id = StringField(validators=[DataRequired(), Length(max=64)])
    score = IntegerField(_l("Moderated score"), validators=[InputRequired()])
    rationale = TextAreaField(_l("Rationale"), validators=[DataRequired(), Length(max=4000)])


class ReopenForm(FlaskForm):
    note = StringField(_l("What to look at again"), validators=[DataRequired(), Length(max=1000)])


class DecisionForm(FlaskForm):
    outcome = RadioField(_l("Decision"), choices=options(
        [("award", _l("Award")), ("reject", _l("Reject"))]), validators=[DataRequired()])
    amount_yen = IntegerAnswerField(_l("Award amount (yen)"), validators=[Optional()], yen=True)
    rationale = TextAreaField(_l("Rationale, shown to the applicant"),
                              validators=[DataRequired(), Length(max=4000)])


def _details(application_id: int) -> dict[str, Any]:
    application = load_application(application_id)
    db = get_session()
    assignments = db.scalars(sa.select(Assignment).filter_by(application_id=application.id)
                             .options(selectinload(Assignment.review),
                                      selectinload(Assignment.reviewer))
                             .order_by(Assignment.id)).all()
    context: dict[str, Any] = {
        "application": application, "assignments": assignments,
        "definition": definition_of(application.program_version),
        "actions": allowed_actions(application.state, current_user.role),
        "decision": db.scalar(sa.select(Decision).filter_by(application_id=application.id)),
        "return_form": ReturnForm(), "assign_form": _assign_form(application),
        "moderate_form": ModerateForm(), "reopen_form": ReopenForm(),
        "decision_form": DecisionForm(), "findings": application.submissions[-1].findings
        if application.submissions else [],
    }
    if application.state is not State.SUBMITTED and application.submissions:
        context["scores"] = reviewing.application_scores(db, application)
        context["limit"] = award_limit(application)
    return context


def _assign_form(application: Any) -> AssignForm:
    form = AssignForm()
    program = get_session().get(Program, application.program_version.program_key)
    reviewers = assign.call_reviewers(get_session(), program)
    form.reviewer_id.choices = options((r.id, r.display_name) for r in reviewers)
    return form


@bp.get("/<int:application_id>")
@require(Permission.CALL_READ)
def show(application_id: int) -> str:
    return render_template("manage/application.html", **_details(application_id))


def _rerender(application_id: int, **forms: Any) -> tuple[str, int]:
    context = _details(application_id)
    context.update(forms)
    return render_template("manage/application.html", **context), 422


def _done(application_id: int, message: str) -> Response:
    get_session().commit()
    flash(message, "success")
    return redirect(url_for(".show", application_id=application_id), code=303)


@bp.post("/<int:application_id>/accept")
@require(Permission.CALL_MANAGE)
def accept(application_id: int) -> Response:
    application = load_application(application_id)
    screening.accept(get_session(), application, actor=current_user, now=clock.now())
    return _done(application_id, _("Accepted for review."))


@bp.post("/<int:application_id>/return")
@require(Permission.CALL_MANAGE)
def return_application(application_id: int) -> Response | tuple[str, int]:
    application = load_application(application_id)
    form = ReturnForm()
    if not form.validate():
        return _rerender(application_id, return_form=form)
    screening.return_to_applicant(get_session(), application, form.reason.data,
                                  actor=current_user, now=clock.now())
    return _done(application_id, _("Returned to the applicant."))


@bp.post("/<int:application_id>/assign")
@require(Permission.CALL_MANAGE)
def assign_reviewer(application_id: int) -> Response | tuple[str, int]:
    application = load_application(application_id)
    form = _assign_form(application)
    if not form.validate():  # choices are the call's reviewers: anything else is refused
        abort(400)
    reviewer = get_session().get(User, form.reviewer_id.data)
    try:
        assign.assign(get_session(), application, reviewer, actor=current_user, now=clock.now())
    except assign.Conflicted as conflicted:
        form.reviewer_id.errors = [reason.get(str(_locale())) for reason in conflicted.reasons]
        return _rerender(application_id, assign_form=form)
    return _done(application_id, _("Reviewer assigned."))


def _locale() -> str:
    return str(get_locale() or "ja")


@bp.post("/<int:application_id>/moderate")
@require(Permission.CALL_MANAGE)
def moderate(application_id: int) -> Response | tuple[str, int]:
    application = load_application(application_id)
    form = ModerateForm()
    if not form.validate():
        return _rerender(application_id, moderate_form=form)
    try:
        reviewing.moderate(get_session(), application, form.criterion_id.data, form.score.data,
                           form.rationale.data, actor=current_user, now=clock.now())
    except (DomainError, KeyError):
        form.score.errors = [_("Enter a score on the rubric's scale and a rationale.")]
        return _rerender(application_id, moderate_form=form)
    return _done(application_id, _("Moderated score recorded."))


@bp.post("/<int:application_id>/reviews/<int:review_id>/reopen")
@require(Permission.CALL_MANAGE)
def reopen(application_id: int, review_id: int) -> Response | tuple[str, int]:
    load_application(application_id)
    review = get_session().get(Review, review_id)
    if review is None or review.assignment.application_id != application_id:
        abort(404)
    form = ReopenForm()
    if not form.validate():
        return _rerender(application_id, reopen_form=form)
    reviewing.reopen(get_session(), review, form.note.data, actor=current_user, now=clock.now())
    return _done(application_id, _("The reviewer is asked to look again."))


@bp.post("/<int:application_id>/decide")
@require(Permission.CALL_MANAGE)
def record_decision(application_id: int) -> Response | tuple[str, int]:
    application = load_application(application_id)
    form = DecisionForm()
    if not form.validate():
        return _rerender(application_id, decision_form=form)
    try:
        decision = decide.decide(
            get_session(), application, outcome=Outcome(form.outcome.data),
            amount_yen=form.amount_yen.data, rationale=form.rationale.data,
            actor=current_user, now=clock.now())
    except decide.KnockoutRefused as refused:
        form.outcome.errors = [_(
            "This application hit a knockout criterion (%(criteria)s) and cannot be awarded: "
            "moderate the criterion, or reject the application.",
            criteria=_(", ").join(title.get(_locale()) for title in refused.criteria))]
        return _rerender(application_id, decision_form=form)
    except decide.AmountRefused as refused:
        form.amount_yen.errors = [_("At most %(amount)s may be awarded.",
                                    amount=f"¥{refused.limit.maximum_yen:,}")]
        return _rerender(application_id, decision_form=form)
    return _done(application_id, _decided(decision.computation, form.amount_yen.data))


def _decided(computation: dict[str, Any], entered_yen: int | None) -> str:
    """The confirmation: for an award, every amount that led to it, so no rounding goes unseen."""
    done = _("Decision recorded. The applicant is notified.")
    if "awarded_yen" not in computation:
        return done
    cap = computation["cap_yen"]
    amounts = _("Requested %(requested)s; cap %(cap)s; computed maximum %(maximum)s; "
                "awarded %(awarded)s.", requested=yen(computation["requested_yen"]),
                cap=_("none") if cap is None else yen(cap),
                maximum=yen(computation["maximum_yen"]), awarded=yen(computation["awarded_yen"]))
    if entered_yen is not None and entered_yen != computation["awarded_yen"]:
        amounts += " " + _("The amount entered, %(entered)s, was rounded down to a multiple "
                           "of %(step)s.", entered=yen(entered_yen),
                           step=yen(computation["rounding_yen"]))
    return f"{done} {amounts}"
