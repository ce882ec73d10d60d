"""Reviewers: their queue, declared interests, and the review form for one assignment."""

from __future__ import annotations

import json
from typing import Any

import sqlalchemy as sa
from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from werkzeug.wrappers import Response
from wtforms import SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional

from grants import clock
from grants.db import begin_write, get_session
from grants.domain.errors import DomainError
from grants.domain.identifiers import normalize
from grants.domain.localgov import load_registry
from grants.domain.signals import compute_signals
from grants.forms.answers import options
from grants.forms.review import VisibleText, build_review_form, form_data, ratings_from
from grants.models import (
    Assignment,
    ConflictDeclaration,
    ReviewState,
)
from grants.services import assign, consensus, reviewing
from grants.services.apply import data_from_snapshot
from grants.services.programs import definition_of
from grants.services.rubrics import rubric_of
from grants.templating import answer_labels
from grants.web.access import Permission, load_assignment, require
from grants.web.refusals import REFUSED, refusal

bp = Blueprint("review", __name__, url_prefix="/review")


class InterestForm(FlaskForm):
    organization_id = SelectField(_l("An applicant organization of your calls"), coerce=int,
                                  validate_choice=False)
    lg_code = StringField(_l("Local government code"), filters=[normalize])
    note = StringField(_l("Other interest (organization, relationship)"),
                       validators=[Optional(), Length(max=500)])


class DeclineForm(FlaskForm):
    reason = TextAreaField(_l("Why you decline"),
                           validators=[DataRequired(), VisibleText(), Length(max=1000)])


@bp.get("/")
@require(Permission.REVIEW_WRITE)
def queue() -> str:
    assignments = assign.open_assignments(get_session(), current_user)
    reports = consensus.with_reports(get_session(), [a.application_id for a in assignments])
    return render_template("review/queue.html", assignments=assignments, reports=reports)


@bp.route("/interests", methods=["GET", "POST"])
@require(Permission.REVIEW_WRITE)
def interests() -> str | Response:
    """Declare local governments and other interests that must keep you off an application."""
    form = InterestForm()
    db = get_session()
    applicants = dict(assign.applicant_organizations(db, current_user))
    form.organization_id.choices = options([(0, _("(none)")), *applicants.items()])
    if form.validate_on_submit():
        found = load_registry().lookup(form.lg_code.data) if form.lg_code.data else None
        organization_id = form.organization_id.data if form.organization_id.data in applicants \
            else None
        if found is not None and not found.ok:
            form.lg_code.errors = [found.message.get(_locale())]
        elif found or organization_id or form.note.data:
            declared = assign.declare(db, current_user, organization_id=organization_id,
                                      lg_code=found.code if found else None,
                                      note=form.note.data or None, now=clock.now())
            db.commit()
            flash(_("Your declaration is recorded."), "success")
            if declared.ended:
                flash(_("It conflicts with %(n)d of your assignments: they are ended, and any "
                        "review you submitted for them no longer counts. The program office "
                        "sees why.", n=len(declared.ended)), "info")
            return redirect(url_for(".interests"), code=303)
        else:
            form.note.errors = [_("Choose an organization, enter a local government code, or "
                                  "describe the interest.")]
    declared = db.scalars(sa.select(ConflictDeclaration).filter_by(
        reviewer_id=current_user.id).order_by(ConflictDeclaration.id)).all()
    status = 422 if form.is_submitted() else 200
    return render_template("review/interests.html", form=form, declared=declared,
                           organizations=applicants), status


def _locale() -> str:
    return str(get_locale() or "ja")


def _page(assignment: Assignment, form: FlaskForm | None = None, **extra: Any) -> str:
    db = get_session()
    review = reviewing.open_review(db, assignment, now=clock.now())
    rubric = rubric_of(review.rubric_version)
    application = assignment.application
    definition = definition_of(application.program_version)
    snapshot = json.loads(application.submissions[-1].snapshot)
    if form is None:
        form_class = build_review_form(rubric, review.rubric_version.sha256, _locale())
        form = form_class(data=form_data(rubric, review), lock_version=review.lock_version)
    return render_template(
        "review/assignment.html", assignment=assignment, application=application,
        review=review, rubric=rubric, form=form, definition=definition, snapshot=snapshot,
        signals=compute_signals(rubric.signal_kinds(), definition, data_from_snapshot(snapshot)),
        decline_form=DeclineForm(),
        **answer_labels(definition), **extra,
    )


@bp.get("/assignments/<int:assignment_id>")
@require(Permission.REVIEW_WRITE)
def show_assignment(assignment_id: int) -> str:
    assignment = load_assignment(assignment_id)
    if assignment.review is None:  # the first visit starts the draft: a page view that writes
        db = get_session()
        begin_write(db)
        reviewing.open_review(db, assignment, now=clock.now())
        db.commit()
    return _page(assignment)


@bp.post("/assignments/<int:assignment_id>")
@require(Permission.REVIEW_WRITE)
def save_review(assignment_id: int) -> str | Response | tuple[str, int]:
    assignment = load_assignment(assignment_id)
    db = get_session()
    review = reviewing.open_review(db, assignment, now=clock.now())
    rubric = rubric_of(review.rubric_version)
    form = build_review_form(rubric, review.rubric_version.sha256, _locale())()
    if not form.validate():
        return _page(assignment, form), 422
    ratings, comments = ratings_from(rubric, form)
    try:
        reviewing.save(db, review, ratings=ratings, comments=comments,
                       comment_for_applicant=form.comment_for_applicant.data,
                       expected_version=int(form.lock_version.data or -1), now=clock.now())
        if request.form.get("action") == "submit":
            reviewing.submit(db, review, actor=current_user, now=clock.now())
    except reviewing.ReviewRefused as refused:
        db.rollback()
        return _page(assignment, form, refused=refused.findings), 422
    except (reviewing.ReviewLocked, reviewing.ReviewStale):
        db.rollback()
        flash(_("This review changed or was submitted elsewhere: check it before saving."),
              "error")
        return redirect(url_for(".show_assignment", assignment_id=assignment.id), code=303)
    except REFUSED as error:
        return _refused(assignment, error)
    db.commit()
    submitted = review.state is ReviewState.SUBMITTED
    flash(_("Your review is submitted.") if submitted else _("Saved."), "success")
    if submitted:
        return redirect(url_for(".queue"), code=303)
    return redirect(url_for(".show_assignment", assignment_id=assignment.id), code=303)


@bp.post("/assignments/<int:assignment_id>/decline")
@require(Permission.REVIEW_WRITE)
def decline(assignment_id: int) -> str | Response | tuple[str, int]:
    assignment = load_assignment(assignment_id)
    form = DeclineForm()
    if not form.validate():
        return _page(assignment, decline_errors=True), 422
    db = get_session()
    try:
        assign.decline(db, assignment, form.reason.data, actor=current_user, now=clock.now())
    except REFUSED as error:
        return _refused(assignment, error)
    except assign.DeclineRefused:
        db.rollback()
        flash(_("You have submitted this review, so it can no longer be declined. If you "
                "cannot stand by it, ask the program office; if you have a conflict of "
                "interest, declare it under “Declared interests”."), "error")
        return _page(assignment), 409
    db.commit()
    flash(_("You declined this assignment. The program office will assign someone else."), "info")
    return redirect(url_for(".queue"), code=303)


def _refused(assignment: Assignment, error: DomainError) -> tuple[str, int]:
    """The review page again with why nothing was changed (a decided application)."""
    get_session().rollback()
    flash(refusal(error), "error")
    return _page(assignment), 409
