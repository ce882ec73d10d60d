"""Officers on a call: applications to screen, reviewers, automatic assignment, ranking."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from flask import Blueprint, Response, abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from sqlalchemy.orm import selectinload
from wtforms import EmailField, IntegerField, StringField
from wtforms.validators import DataRequired, Email, Length, NumberRange

from grants import clock, exports
from grants.db import get_session
from grants.domain.ranking import TIE_BREAK
from grants.domain.workflow import DECIDED_STATES, State
from grants.models import (
    Application,
    Assignment,
    AssignmentState,
    OutboxMessage,
    Program,
    ProgramVersion,
)
from grants.services import assign, ranking
from grants.services.accounts import AccountError
from grants.services.programs import current_programs, definition_of
from grants.web import mail
from grants.web.access import Permission, require

bp = Blueprint("manage", __name__, url_prefix="/manage")


class SettingsForm(FlaskForm):
    reviewers_per_application = IntegerField(
        _l("Reviewers per application"), validators=[DataRequired(), NumberRange(1, 10)])


class ReviewerForm(FlaskForm):
    name = StringField(_l("Full name"), validators=[DataRequired(), Length(max=100)])
    email = EmailField(_l("E-mail address"),
                       validators=[DataRequired(), Email(check_deliverability=False)])


def _program(program_key: str) -> Program:
    program = get_session().get(Program, program_key)
    if program is None:
        abort(404)
    return program


@bp.get("/")
@require(Permission.CALL_READ)
def list_calls() -> str:
    counts: dict[tuple[str, str], int] = {}
    rows = get_session().execute(
        sa.select(ProgramVersion.program_key, Application.state, sa.func.count())
        .join(Application.program_version).group_by(ProgramVersion.program_key, Application.state))
    for key, state, count in rows:
        column = "decided" if state in DECIDED_STATES else str(state)
        counts[(key, column)] = counts.get((key, column), 0) + count
    return render_template("manage/calls.html", calls=current_programs(get_session()),
                           counts=counts)


def _dashboard(program: Program, **extra: Any) -> str:
    db = get_session()
    applications = db.scalars(
        sa.select(Application).join(Application.program_version)
        .where(ProgramVersion.program_key == program.key, Application.state != State.DRAFT)
        .options(selectinload(Application.organization), selectinload(Application.submissions))
        .order_by(Application.submitted_at)).all()
    loads: dict[int, int] = {}
    reviewer_counts: dict[int, int] = {}  # the reviews that will count: no conflicted reviewer
    active = db.scalars(sa.select(Assignment).where(
        Assignment.application_id.in_([a.id for a in applications]),
        Assignment.state == AssignmentState.ACTIVE).options(selectinload(Assignment.reviewer))
    ).all()
    conflicted = assign.conflicted_assignments(
        db, active, {a.id: assign.parties(a) for a in applications if a.submissions})
    for row in active:
        loads[row.reviewer_id] = loads.get(row.reviewer_id, 0) + 1
        if row.id not in conflicted:
            reviewer_counts[row.application_id] = reviewer_counts.get(row.application_id, 0) + 1
    context = {
        "program": program, "definition": definition_of(program.current_version),
        "applications": applications, "reviewers": assign.call_reviewers(db, program),
        "loads": loads, "reviewer_counts": reviewer_counts,
        "references": {a.id: a.reference for a in applications},
        "settings_form": SettingsForm(reviewers_per_application=program.reviewers_per_application),
        "reviewer_form": ReviewerForm(), **extra,
    }
    return render_template("manage/call.html", **context)


@bp.get("/calls/<program_key>")
@require(Permission.CALL_READ)
def show_call(program_key: str) -> str:
    return _dashboard(_program(program_key))


@bp.post("/calls/<program_key>/settings")
@require(Permission.CALL_MANAGE)
def save_settings(program_key: str) -> Response | tuple[str, int]:
    program = _program(program_key)
    form = SettingsForm()
    if not form.validate():
        return _dashboard(program, settings_form=form), 422
    program.reviewers_per_application = form.reviewers_per_application.data
    get_session().commit()
    flash(_("Saved."), "success")
    return redirect(url_for(".show_call", program_key=program.key), code=303)


@bp.post("/calls/<program_key>/reviewers")
@require(Permission.CALL_MANAGE)
def add_reviewer(program_key: str) -> Response | tuple[str, int]:
    program = _program(program_key)
    form = ReviewerForm()
    if not form.validate():
        return _dashboard(program, reviewer_form=form), 422
    db = get_session()
    try:
        reviewer, invitation = assign.add_reviewer(db, program, email=form.email.data,
                                                   name=form.name.data, actor=current_user,
                                                   now=clock.now())
    except AccountError:
        form.email.errors = [_("This e-mail address belongs to an account that is not a "
                               "reviewer.")]
        return _dashboard(program, reviewer_form=form), 422
    if invitation is not None:
        mail.send("invitation", reviewer, "account.accept_invitation", token=invitation,
                  inviter=current_user)
    db.commit()
    flash(_("Reviewer added. An invitation to set a password was sent to %(email)s.",
            email=reviewer.email) if invitation else _("Reviewer added."), "success")
    return redirect(url_for(".show_call", program_key=program.key), code=303)


@bp.post("/calls/<program_key>/auto-assign")
@require(Permission.CALL_MANAGE)
def auto_assign(program_key: str) -> str | Response:
    program = _program(program_key)
    db = get_session()
    plan = assign.auto_assign(db, program, actor=current_user, now=clock.now())
    db.commit()
    flash(_("%(n)d assignments made.", n=len(plan.pairs)), "success")
    if plan.shortfalls:
        return _dashboard(program, shortfalls=plan.shortfalls)
    return redirect(url_for(".show_call", program_key=program.key), code=303)


@bp.get("/calls/<program_key>/ranking")
@require(Permission.CALL_READ)
def show_ranking(program_key: str) -> str:
    program = _program(program_key)
    result, scored = ranking.call_ranking(get_session(), program)
    definition = definition_of(program.current_version)
    return render_template("manage/ranking.html", program=program, ranking=result,
                           scored=scored, definition=definition, tie_break=TIE_BREAK,
                           track_titles={track.id: track.title for track in definition.tracks})


@bp.get("/calls/<program_key>/<any(ranking, scores):name>.csv")
@require(Permission.CALL_READ)
def export_csv(program_key: str, name: str) -> Response:
    program = _program(program_key)
    result, scored = ranking.call_ranking(get_session(), program)
    table = (exports.ranking_table(result, scored) if name == "ranking"
             else exports.scores_table(list(scored.values())))
    # werkzeug adds "; charset=utf-8" to a text/* mimetype itself
    return _download(exports.to_csv(table), "text/csv", f"{program.key}-{name}.csv")


@bp.get("/calls/<program_key>/export.xlsx")
@require(Permission.CALL_READ)
def export_xlsx(program_key: str) -> Response:
    program = _program(program_key)
    result, scored = ranking.call_ranking(get_session(), program)
    tables = [exports.ranking_table(result, scored), exports.scores_table(list(scored.values()))]
    return _download(exports.to_xlsx(tables), exports.XLSX_MIMETYPE, f"{program.key}.xlsx")


def _download(body: bytes, mimetype: str, filename: str) -> Response:
    return Response(body, mimetype=mimetype,
                    headers={"Content-Disposition": f'attachment; filename="{filename}"'})


@bp.get("/calls/<program_key>/calibration")
@require(Permission.CALL_READ)
def calibration(program_key: str) -> str:
    program = _program(program_key)
    return render_template("manage/calibration.html", program=program,
                           definition=definition_of(program.current_version),
                           calibration=ranking.call_calibration(get_session(), program))


@bp.get("/outbox")
@require(Permission.CALL_READ)
def outbox() -> str:
    messages = get_session().scalars(
        sa.select(OutboxMessage).order_by(OutboxMessage.id.desc()).limit(200)).all()
    return render_template("manage/outbox.html", messages=messages)
