"""Forms that do not depend on a program definition."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import EmailField, PasswordField, RadioField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Email, EqualTo, Length, Optional

from grants.forms.answers import ORGANIZATION_KIND_LABELS, options
from grants.services.accounts import MIN_PASSWORD_LENGTH


def organization_kind_choices() -> list[SelectChoice]:
    return options(ORGANIZATION_KIND_LABELS.items())


class SignInForm(FlaskForm):
    email = EmailField(_l("E-mail address"), validators=[DataRequired(), Length(max=254)])
    password = PasswordField(_l("Password"), validators=[DataRequired(), Length(max=1024)])


class SignUpForm(FlaskForm):
    display_name = StringField(_l("Your name"), validators=[DataRequired(), Length(max=100)])
    email = EmailField(
        _l("E-mail address"),
        validators=[DataRequired(), Email(check_deliverability=False), Length(max=254)],
    )
    password = PasswordField(
        _l("Password"),
        description=_l("At least %(n)d characters.", n=MIN_PASSWORD_LENGTH),
        validators=[DataRequired(), Length(min=MIN_PASSWORD_LENGTH, max=1024)],
    )
    password_again = PasswordField(
        _l("Password again"),
        validators=[DataRequired(), EqualTo("password", message=_l("The passwords differ."))],
    )
    organization_kind = RadioField(
        _l("Your organization is a"),
        choices=organization_kind_choices(),
        validators=[DataRequired()],
    )
    lg_query = StringField(
        _l("Local government code or name"),
        description=_l(
            "For a local government: its 6-digit 全国地方公共団体コード (e.g. 011002), or its name."
        ),
        validators=[Optional(), Length(max=50)],
    )
    organization_name = StringField(
        _l("Organization name"),
        description=_l("For other organizations: the registered name."),
        validators=[Optional(), Length(max=200)],
    )
