"""The consensus report: the rapporteur's drafting page, the other reviewers' agree/dissent
page, and the officer's naming, approval and sending back (on the application's page)."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from sqlalchemy.orm import Session
from werkzeug.wrappers import Response
from wtforms import RadioField, SelectField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, Optional

from grants import clock
from grants.db import get_session
from grants.domain.consensus import ConsensusRefused, DraftIncomplete
from grants.domain.errors import DomainError
from grants.domain.rubrics import format_mark
from grants.forms.answers import options
from grants.forms.review import VisibleText, build_review_form, ratings_from
from grants.models import Application, ConsensusReport, User
from grants.services import consensus, counting
from grants.web.access import Permission, load_application, require
from grants.web.refusals import REFUSED, refusal

bp = Blueprint("consensus", __name__)

_FORMS: dict[tuple[str, str], type[FlaskForm]] = {}


class RapporteurForm(FlaskForm):
    reviewer_id = SelectField(_l("Rapporteur"), coerce=int, validators=[InputRequired()])


class SendBackForm(FlaskForm):
    note = TextAreaField(_l("What the rapporteur should change"),
                         validators=[DataRequired(), VisibleText(), Length(max=2000)])


class ResponseForm(FlaskForm):
    answer = RadioField(_l("Your answer"), choices=options(
        [("agree", _l("I agree with this consensus report")),
         ("dissent", _l("I dissent"))]), validators=[DataRequired()])
    reason = TextAreaField(_l("Why you dissent"), validators=[Optional(), Length(max=4000)])


def draft_form_class(rubric: Any, sha256: str, locale: str) -> type[FlaskForm]:
    """The review form's score and comment per criterion, plus the overall comment."""
    key = (sha256, locale)
    if key not in _FORMS:
        overall = TextAreaField(_l("Overall comment"), validators=[Optional(), Length(max=8000)])
        _FORMS[key] = type("ConsensusForm", (build_review_form(rubric, sha256, locale),),
                           {"overall_comment": overall})
    return _FORMS[key]


def _locale() -> str:
    return str(get_locale() or "ja")


def officer_context(session: Session, application: Application) -> dict[str, Any]:
    """What the application page shows and asks of the officer about the consensus."""
    report = consensus.current_report(session, application)
    form = RapporteurForm()
    form.reviewer_id.choices = options(
        (u.id, u.display_name) for u in consensus.counted_reviewers(session, application))
    if report is not None:
        form.reviewer_id.data = report.rapporteur_id
    return {"consensus": consensus.standing(session, report) if report else None,
            "rapporteur_form": form, "send_back_form": SendBackForm()}


def _report_for_reviewer(application_id: int) -> tuple[Application, ConsensusReport]:
    """The application's report, for one of its counted reviewers only; else 404."""
    application = get_session().get(Application, application_id)
    if application is None:
        abort(404)
    report = consensus.current_report(get_session(), application)
    counted = {u.id for u in consensus.counted_reviewers(get_session(), application)}
    if report is None or current_user.id not in counted:
        abort(404)
    return application, report


def _page(application: Application, report: ConsensusReport, *, form: FlaskForm | None = None,
          response_form: FlaskForm | None = None, problems: Any = (), status: int = 200
          ) -> tuple[str, int]:
    db = get_session()
    scores = counting.application_scores(db, application)
    version = scores.reviews[0][0].rubric_version if scores.reviews else None
    if form is None and version is not None:
        data: dict[str, Any] = {"overall_comment": report.overall_comment}
        for criterion in scores.rubric.criteria():
            value = report.scores.get(criterion.id)
            data[f"s_{criterion.id}"] = None if value is None else format_mark(value)
            data[f"c_{criterion.id}"] = report.comments.get(criterion.id, "")
        form = draft_form_class(scores.rubric, version.sha256, _locale())(data=data)
    mine = next((r for r in report.responses if r.reviewer_id == current_user.id), None)
    if response_form is None:
        response_form = ResponseForm(data={"answer": None if mine is None else
                                           ("agree" if mine.agrees else "dissent"),
                                           "reason": mine.reason if mine else None})
    return render_template(
        "review/consensus.html", application=application, report=report, scores=scores,
        standing=consensus.standing(db, report), form=form, response_form=response_form,
        mine=mine, problems=problems, is_rapporteur=report.rapporteur_id == current_user.id,
    ), status


@bp.get("/review/applications/<int:application_id>/consensus")
@require(Permission.REVIEW_WRITE)
def show_report(application_id: int) -> tuple[str, int]:
    return _page(*_report_for_reviewer(application_id))


@bp.post("/review/applications/<int:application_id>/consensus")
@require(Permission.REVIEW_WRITE)
def save_report(application_id: int) -> Response | tuple[str, int]:
    """The rapporteur saves the draft, or saves and circulates it."""
    application, report = _report_for_reviewer(application_id)
    if report.rapporteur_id != current_user.id:
        abort(403)
    db = get_session()
    scores = counting.application_scores(db, application)
    version = scores.reviews[0][0].rubric_version
    form = draft_form_class(scores.rubric, version.sha256, _locale())()
    if not form.validate():
        return _page(application, report, form=form, status=422)
    ratings, comments = ratings_from(scores.rubric, form)
    circulating = request.form.get("action") == "circulate"
    try:
        consensus.save_draft(db, report, scores=ratings, comments=comments,
                             overall_comment=form.overall_comment.data, actor=current_user,
                             now=clock.now())
        if circulating:
            consensus.circulate(db, report, actor=current_user, now=clock.now())
    except DraftIncomplete as incomplete:
        db.rollback()
        return _page(application, report, form=form, problems=incomplete.problems, status=422)
    except (*REFUSED, ConsensusRefused) as error:
        return _refused(application, report, error)
    db.commit()
    flash(_("The consensus report is circulated to the other reviewers.") if circulating
          else _("Saved."), "success")
    return redirect(url_for(".show_report", application_id=application.id), code=303)


@bp.post("/review/applications/<int:application_id>/consensus/response")
@require(Permission.REVIEW_WRITE)
def respond(application_id: int) -> Response | tuple[str, int]:
    """Another counted reviewer agrees with the circulated report or records dissent."""
    application, report = _report_for_reviewer(application_id)
    if report.rapporteur_id == current_user.id:
        abort(403)
    form = ResponseForm()
    if not form.validate():
        return _page(application, report, response_form=form, status=422)
    db = get_session()
    try:
        consensus.respond(db, report, current_user, agrees=form.answer.data == "agree",
                          reason=form.reason.data, now=clock.now())
    except consensus.ReasonRequired:
        db.rollback()
        form.reason.errors = [_("Say why you dissent: spaces and invisible characters alone "
                                "do not count.")]
        return _page(application, report, response_form=form, status=422)
    except (*REFUSED, ConsensusRefused) as error:
        return _refused(application, report, error)
    db.commit()
    flash(_("Your answer is recorded."), "success")
    return redirect(url_for(".show_report", application_id=application.id), code=303)


def _refused(application: Application, report: ConsensusReport, error: DomainError
             ) -> tuple[str, int]:
    get_session().rollback()
    flash(_why(error), "error")
    return _page(application, report, status=409)


def _why(error: DomainError) -> str:
    if isinstance(error, REFUSED):
        return refusal(error)
    return _("This step is not possible now: the consensus report has moved on (it was "
             "circulated, sent back or approved). Reload the page.")


# The officer, from the application's page.

def _officer_done(application_id: int, message: str, category: str = "success") -> Response:
    if category == "success":
        get_session().commit()
    else:
        get_session().rollback()
    flash(message, category)
    return redirect(url_for("manage_application.show", application_id=application_id,
                            _anchor="consensus"), code=303)


@bp.post("/manage/applications/<int:application_id>/consensus/rapporteur")
@require(Permission.CALL_MANAGE)
def name_rapporteur(application_id: int) -> Response:
    application = load_application(application_id)
    db = get_session()
    form = RapporteurForm()
    form.reviewer_id.choices = options(
        (u.id, u.display_name) for u in consensus.counted_reviewers(db, application))
    if not form.validate():
        return _officer_done(application_id, _("Choose the rapporteur among the reviewers "
                                               "whose reviews count."), "error")
    try:
        consensus.name_rapporteur(db, application, db.get(User, form.reviewer_id.data),
                                  actor=current_user, now=clock.now())
    except (*REFUSED, ConsensusRefused, consensus.NotCountedReviewer) as error:
        return _officer_done(application_id, _why(error), "error")
    return _officer_done(application_id, _("Rapporteur named: they draft the consensus report."))


def _officer_report(application_id: int) -> tuple[Application, ConsensusReport]:
    application = load_application(application_id)
    report = consensus.current_report(get_session(), application)
    if report is None:
        abort(404)
    return application, report


@bp.post("/manage/applications/<int:application_id>/consensus/approve")
@require(Permission.CALL_MANAGE)
def approve(application_id: int) -> Response:
    report = _officer_report(application_id)[1]
    try:
        consensus.approve(get_session(), report, actor=current_user, now=clock.now())
    except consensus.AwaitingResponses as waiting:
        return _officer_done(application_id, _(
            "Not every reviewer has answered yet: %(names)s.",
            names=_(", ").join(u.display_name for u in waiting.reviewers)), "error")
    except consensus.ConsensusStale:
        return _officer_done(application_id, _(
            "The counted reviews changed since the report was circulated: send it back so "
            "the rapporteur revises and circulates it again."), "error")
    except (*REFUSED, ConsensusRefused) as error:
        return _officer_done(application_id, _why(error), "error")
    return _officer_done(application_id, _("Consensus report approved."))


@bp.post("/manage/applications/<int:application_id>/consensus/send-back")
@require(Permission.CALL_MANAGE)
def send_back(application_id: int) -> Response:
    report = _officer_report(application_id)[1]
    form = SendBackForm()
    if not form.validate():
        return _officer_done(application_id, _("Say what the rapporteur should change."),
                             "error")
    try:
        consensus.send_back(get_session(), report, form.note.data, actor=current_user,
                            now=clock.now())
    except (*REFUSED, ConsensusRefused) as error:
        return _officer_done(application_id, _why(error), "error")
    return _officer_done(application_id, _("The consensus report is sent back to the "
                                           "rapporteur."))
