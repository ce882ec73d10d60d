"""Evaluation reviews (評価の再審査の申出): the applicant's request page and the officer's
finding page."""

from __future__ import annotations

import datetime as dt
from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from werkzeug.wrappers import Response
from wtforms import RadioField, TextAreaField
from wtforms.validators import DataRequired, Length

from grants import clock
from grants.db import get_session
from grants.documents.event_labels import GROUND_LABELS
from grants.domain.redress import WindowClosed
from grants.forms.answers import options
from grants.forms.review import VisibleText
from grants.models import Application, RedressGround
from grants.services import redress
from grants.templating import jst
from grants.web.access import Permission, load_application, require

bp = Blueprint("redress", __name__)

GROUNDS = list(GROUND_LABELS.items())


class RequestForm(FlaskForm):
    ground = RadioField(_l("Which part of the procedure went wrong"), choices=options(GROUNDS),
                        validators=[DataRequired()])
    description = TextAreaField(
        _l("What happened"),
        description=_l("Say what in the evaluation's conduct was wrong and where it shows. The "
                       "experts' judgement of the proposal's merits is not reviewed."),
        validators=[DataRequired(), VisibleText(), Length(max=8000)])


class FindingForm(FlaskForm):
    outcome = RadioField(_l("Finding"), choices=options(
        [("upheld", _l("Upheld: set the decision aside and evaluate again with new reviewers")),
         ("dismissed", _l("Dismissed: the decision stands"))]), validators=[DataRequired()])
    finding = TextAreaField(_l("Reasons, shown to the applicant"),
                            validators=[DataRequired(), VisibleText(), Length(max=8000)])


def closed_on(closes_at: dt.datetime) -> str:
    """The window's last day, Japan time (it closes at the end of that day)."""
    return jst(closes_at - dt.timedelta(seconds=1), "%Y-%m-%d")


def _context(application: Application) -> dict[str, Any]:
    db = get_session()
    closes_at = redress.window_closes_at(db, application)
    return {"application": application, "requests": redress.requests(db, application),
            "open_request": redress.open_request(db, application), "closes_at": closes_at,
            "window_open": closes_at is not None and clock.now() < closes_at,
            "last_day": closed_on(closes_at) if closes_at else None,
            "grounds": dict(GROUNDS)}


@bp.get("/applications/<int:application_id>/evaluation-review")
@require(Permission.APPLICATION_READ_OWN)
def show(application_id: int) -> str:
    application = load_application(application_id)
    return render_template("apply/evaluation_review.html", form=RequestForm(),
                           **_context(application))


@bp.post("/applications/<int:application_id>/evaluation-review")
@require(Permission.APPLICATION_WRITE)
def request_review(application_id: int) -> Response | tuple[str, int]:
    application = load_application(application_id, for_writing=True)
    form = RequestForm()
    status = 422
    if form.validate():
        db = get_session()
        try:
            redress.request_review(db, application, ground=RedressGround(form.ground.data),
                                   description=form.description.data, actor=current_user,
                                   now=clock.now())
        except WindowClosed as closed:
            status = 409
            form.ground.errors = [_("The window for an evaluation review closed at the end "
                                    "of %(day)s (Japan time).", day=closed_on(closed.closed_at))]
        except redress.AlreadyOpen:
            status = 409
            form.ground.errors = [_("A request about this application awaits the program "
                                    "office's finding: one at a time.")]
        except redress.NotDecided:
            status = 409
            form.ground.errors = [_("An evaluation review is asked for once the application "
                                    "is decided.")]
        else:
            db.commit()
            flash(_("Your request is sent to the program office. You will be told its finding "
                    "by e-mail."), "success")
            return redirect(url_for(".show", application_id=application.id), code=303)
        db.rollback()
    return render_template("apply/evaluation_review.html", form=form,
                           **_context(application)), status


@bp.get("/manage/applications/<int:application_id>/evaluation-review")
@require(Permission.CALL_READ)
def manage(application_id: int) -> str:
    application = load_application(application_id)
    return render_template("manage/evaluation_review.html", form=FindingForm(),
                           **_context(application))


@bp.post("/manage/applications/<int:application_id>/evaluation-review/finding")
@require(Permission.CALL_MANAGE)
def record_finding(application_id: int) -> Response | tuple[str, int]:
    application = load_application(application_id)
    db = get_session()
    request = redress.open_request(db, application)
    if request is None:
        abort(404)
    form = FindingForm()
    if not form.validate():
        return render_template("manage/evaluation_review.html", form=form,
                               **_context(application)), 422
    act = redress.uphold if form.outcome.data == "upheld" else redress.dismiss
    act(db, request, form.finding.data, actor=current_user, now=clock.now())
    db.commit()
    flash(_("The finding is recorded and the applicant is notified.") + (
        " " + _("The application is back in review: assign new reviewers.")
        if form.outcome.data == "upheld" else ""), "success")
    return redirect(url_for(".manage", application_id=application.id), code=303)
