"""Public pages: the list of calls, a call's plain-language page, and the eligibility pre-check."""

from __future__ import annotations

from flask import Blueprint, abort, redirect, render_template, url_for
from flask_babel import get_locale
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from werkzeug.wrappers import Response
from wtforms import RadioField
from wtforms.validators import InputRequired

from grants import clock
from grants.db import get_session
from grants.domain.consortia import only_as_lead
from grants.domain.describe import describe
from grants.domain.eligibility import precheck
from grants.domain.workflow import Role
from grants.forms.answers import YES_NO_LABELS, options
from grants.forms.builder import text_in
from grants.forms.static import organization_kind_choices
from grants.models import Program
from grants.services import apply
from grants.services.programs import current_programs, definition_of
from grants.web.access import Permission, public, require

bp = Blueprint("calls", __name__)


@bp.get("/")
@public
def list_calls() -> str:
    moment = clock.now()
    calls = [
        {
            "program": p,
            "definition": d,
            "open": apply.is_open(d, moment),
            "upcoming": moment < d.call.opens,
        }
        for p, d in current_programs(get_session())
    ]
    return render_template("calls/list.html", calls=calls)


def _load(program_key: str) -> tuple[Program, object]:
    program = get_session().get(Program, program_key)
    if program is None:
        abort(404)
    return program, definition_of(program.current_version)


@bp.get("/calls/<program_key>")
@public
def show_call(program_key: str) -> str:
    program, definition = _load(program_key)
    return render_template(
        "calls/show.html",
        program=program,
        definition=definition,
        sentences=describe(definition),
        open=apply.is_open(definition, clock.now()),
    )


def _precheck_form(definition: object, ask_type: bool) -> FlaskForm:
    locale = str(get_locale() or "ja")
    attrs = {}
    if ask_type:
        attrs["applicant_type"] = RadioField(
            _l("Your organization is a"),
            choices=organization_kind_choices(),
            validators=[InputRequired()],
        )
    for question in definition.eligibility_questions:
        attrs[f"q_{question.id}"] = RadioField(
            text_in(question.question, locale),
            description=text_in(question.help, locale),
            choices=options(YES_NO_LABELS.items()),
            validators=[InputRequired(message=_l("Answer this question."))],
        )
    return type("PrecheckForm", (FlaskForm,), attrs)()


def _signed_in_applicant_type() -> str | None:
    if current_user.is_authenticated and current_user.role is Role.APPLICANT:
        return str(current_user.organization.kind)
    return None


@bp.route("/calls/<program_key>/eligibility", methods=["GET", "POST"])
@public
def check_eligibility(program_key: str) -> str:
    program, definition = _load(program_key)
    known_type = _signed_in_applicant_type()
    form = _precheck_form(definition, ask_type=known_type is None)
    result, notes = None, []
    if form.validate_on_submit():
        applicant_type = known_type or form.applicant_type.data
        answers = {q.id: form[f"q_{q.id}"].data == "yes" for q in definition.eligibility_questions}
        result = precheck(definition, applicant_type, answers)
        notes = only_as_lead(definition, applicant_type)
    return render_template(
        "calls/eligibility.html",
        program=program,
        definition=definition,
        form=form,
        result=result,
        notes=notes,
        open=apply.is_open(definition, clock.now()),
    )


@bp.post("/calls/<program_key>/start")
@require(Permission.APPLICATION_WRITE)
def start_application(program_key: str) -> Response:
    program, _definition = _load(program_key)
    db = get_session()
    application = apply.start(db, program, actor=current_user, now=clock.now())
    db.commit()
    return redirect(url_for("apply.first_step", application_id=application.id), code=303)
