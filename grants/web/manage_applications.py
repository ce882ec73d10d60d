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
from grants.forms.review import VisibleText
from grants.models import Assignment, Decision, Outcome, Program, Review, User
from grants.services import (
    assets,
    assign,
    counting,
    decide,
    plan_changes,
    redress,
    reviewing,
    screening,
)
from grants.services.decide import award_limit
from grants.services.programs import definition_of
from grants.web import consensus as consensus_web
from grants.web.access import Permission, load_application, require
from grants.web.refusals import REFUSED, refusal

bp = Blueprint("manage_application", __name__, url_prefix="/manage/applications")


class ReturnForm(FlaskForm):
    reason = TextAreaField(_l("Reason, shown to the applicant"),
                           validators=[DataRequired(), Length(max=4000)])


class AssignForm(FlaskForm):
    reviewer_id = SelectField(_l("Reviewer"), coerce=int, validators=[InputRequired()])


class ModerateForm(FlaskForm):
    criterion_id = StringField(validators=[DataRequired(), Length(max=64)])
    score = IntegerField(_l("Moderated score"), validators=[InputRequired()])
    rationale = TextAreaField(_l("Rationale"),
                              validators=[DataRequired(), VisibleText(), Length(max=4000)])


class ReopenForm(FlaskForm):
    note = StringField(_l("What to look at again"),
                       validators=[DataRequired(), VisibleText(), Length(max=1000)])


class WithdrawForm(FlaskForm):
    reason = TextAreaField(_l("The conflict of interest found"),
                           validators=[DataRequired(), VisibleText(), Length(max=1000)])


class DecisionForm(FlaskForm):
    outcome = RadioField(_l("Decision"), choices=options(
        [("award", _l("Award")), ("reject", _l("Reject"))]), validators=[DataRequired()])
    amount_yen = IntegerAnswerField(_l("Award amount (yen)"), validators=[Optional()], yen=True)
    rationale = TextAreaField(_l("Rationale, shown to the applicant"),
                              validators=[DataRequired(), Length(max=4000)])
    conditions = TextAreaField(
        _l("Further conditions of the grant (optional)"),
        description=_l("Added to the standard conditions of the grant decision (交付の条件) "
                       "for an award."), validators=[Optional(), Length(max=4000)])


def _details(application_id: int) -> dict[str, Any]:
    application = load_application(application_id)
    db = get_session()
    assignments = db.scalars(sa.select(Assignment).filter_by(application_id=application.id)
                             .options(selectinload(Assignment.review).selectinload(Review.versions),
                                      selectinload(Assignment.reviewer))
                             .order_by(Assignment.id)).all()
    context: dict[str, Any] = {
        "application": application, "assignments": assignments,
        "definition": definition_of(application.program_version),
        "actions": allowed_actions(application.state, current_user.role),
        "decision": db.scalar(sa.select(Decision).filter_by(application_id=application.id)),
        "return_form": ReturnForm(), "assign_form": _assign_form(application),
        "moderate_form": ModerateForm(), "reopen_form": ReopenForm(),
        "withdraw_form": WithdrawForm(), "withdraw_blank": WithdrawForm(formdata=None),
        "withdraw_id": None, "reopen_id": None, "decision_form": DecisionForm(),
        "findings": application.submissions[-1].findings if application.submissions else [],
        "conflicts": assign.conflicted_assignments(
            db, assignments, {application.id: assign.parties(application)})
        if application.state is State.IN_REVIEW and assignments else {},
    }
    if application.state is not State.SUBMITTED and application.submissions:
        context["scores"] = counting.application_scores(db, application)
        context["history"] = reviewing.history(db, application)
        context["limit"] = award_limit(application)
        context.update(consensus_web.officer_context(db, application))
        context["open_redress"] = redress.open_request(db, application)
        context["pending_change"] = plan_changes.pending(db, application)
        context["pending_disposals"] = assets.pending_disposals(db, application)
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


def _refused(application_id: int, error: DomainError) -> tuple[str, int]:
    """The page again, saying why the change is refused (a decided application, or one not in
    review); nothing was changed."""
    get_session().rollback()
    flash(refusal(error), "error")
    context = _details(application_id)
    return render_template("manage/application.html", **context), 409


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
    except REFUSED as error:
        return _refused(application_id, error)
    except assign.Conflicted as conflicted:
        form.reviewer_id.errors = [reason.get(str(_locale())) for reason in conflicted.reasons]
        return _rerender(application_id, assign_form=form)
    except assign.AlreadyAssigned:
        form.reviewer_id.errors = [_("%(name)s is already assigned to this application.",
                                     name=reviewer.display_name)]
        return _rerender(application_id, assign_form=form)
    return _done(application_id, _("Reviewer assigned."))


@bp.post("/<int:application_id>/assignments/<int:assignment_id>/withdraw")
@require(Permission.CALL_MANAGE)
def withdraw_assignment(application_id: int, assignment_id: int) -> Response | tuple[str, int]:
    """End an assignment for a conflict of interest the officer found after assigning."""
    load_application(application_id)
    assignment = get_session().get(Assignment, assignment_id)
    if assignment is None or assignment.application_id != application_id:
        abort(404)
    form = WithdrawForm()
    if not form.validate():
        return _rerender(application_id, withdraw_form=form, withdraw_id=assignment_id)
    try:
        assign.withdraw(get_session(), assignment, form.reason.data, actor=current_user,
                        now=clock.now())
    except REFUSED as error:
        return _refused(application_id, error)
    except assign.NotActive:
        flash(_("This assignment has already ended."), "error")
        return _rerender(application_id)
    return _done(application_id, _("The assignment is ended; a review already submitted no "
                                   "longer counts and is kept as withdrawn."))


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
    except REFUSED as error:
        return _refused(application_id, error)
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
        return _rerender(application_id, reopen_form=form, reopen_id=review_id)
    try:
        reviewing.reopen(get_session(), review, form.note.data, actor=current_user,
                         now=clock.now())
    except REFUSED as error:
        return _refused(application_id, error)
    except DomainError:  # a draft, or a review withdrawn from the scores: not on the page
        flash(_("Only a submitted review that counts can be reopened."), "error")
        return _rerender(application_id)
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
            extra_conditions=form.conditions.data, actor=current_user, now=clock.now())
    except REFUSED as error:
        return _refused(application_id, error)
    except decide.ConsensusMissing:
        form.outcome.errors = [_(
            "This call's rubric ranks by the consensus report, and none is approved for this "
            "application: approve the consensus report first, or reject the application.")]
        return _rerender(application_id, decision_form=form)
    except decide.KnockoutRefused as refused:
        form.outcome.errors = [_(
            "This application hit a knockout criterion (%(criteria)s) and cannot be awarded: "
            "moderate the criterion, or reject the application.",
            criteria=_(", ").join(title.get(_locale()) for title in refused.criteria))]
        return _rerender(application_id, decision_form=form)
    except decide.ThresholdRefused as refused:
        form.outcome.errors = [_(
            "This application does not reach the rubric's minimum scores (%(reasons)s) and "
            "cannot be awarded: moderate the scores, or reject the application.",
            reasons=_("; ").join(reason.get(_locale()) for reason in refused.reasons))]
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
