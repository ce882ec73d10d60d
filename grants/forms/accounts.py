"""Forms of the account pages: sign-in and sign-up, passwords, links, members."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import EmailField, PasswordField, RadioField, StringField, TextAreaField
from wtforms.validators import DataRequired, Email, EqualTo, Length, Optional, Regexp

from grants.forms.static import organization_kind_choices
from grants.services.accounts import MIN_PASSWORD_LENGTH

PASSWORD_HINT = _l("At least %(n)d characters.", n=MIN_PASSWORD_LENGTH)


def _email_field(label=None) -> EmailField:
    return EmailField(label or _l("E-mail address"), validators=[
        DataRequired(), Email(check_deliverability=False), Length(max=254)])


def _new_password() -> PasswordField:
    return PasswordField(_l("New password"), description=PASSWORD_HINT, validators=[
        DataRequired(), Length(min=MIN_PASSWORD_LENGTH, max=1024)])


def _password_again(other: str) -> PasswordField:
    return PasswordField(_l("Password again"), validators=[
        DataRequired(), EqualTo(other, message=_l("The passwords differ."))])


class SignInForm(FlaskForm):
    email = EmailField(_l("E-mail address"), validators=[DataRequired(), Length(max=254)])
    password = PasswordField(_l("Password"), validators=[DataRequired(), Length(max=1024)])


class SignUpForm(FlaskForm):
    display_name = StringField(_l("Your name"), validators=[DataRequired(), Length(max=100)])
    email = _email_field()
    telephone = StringField(
        _l("Telephone"),
        description=_l("A number at your organization where the program office can reach you."),
        validators=[DataRequired(), Length(max=30),
                    Regexp(r"^[0-9０-９+＋()（）\-－ー‐ 　]+$",
                           message=_l("Enter digits, hyphens and parentheses only."))],
    )
    password = PasswordField(_l("Password"), description=PASSWORD_HINT, validators=[
        DataRequired(), Length(min=MIN_PASSWORD_LENGTH, max=1024)])
    password_again = _password_again("password")
    organization_kind = RadioField(
        _l("Your organization is a"), choices=organization_kind_choices(),
        validators=[DataRequired()])
    lg_query = StringField(
        _l("Local government code or name"),
        description=_l(
            "For a local government: its 6-digit 全国地方公共団体コード (e.g. 011002), or its name."
        ),
        validators=[Optional(), Length(max=50)],
    )
    corporate_number = StringField(
        _l("Corporate number (法人番号)"),
        description=_l("For other organizations: the 13-digit 法人番号 from the National Tax "
                       "Agency's register."),
        validators=[Optional(), Length(max=40)],
    )
    organization_name = StringField(
        _l("Organization name"),
        description=_l("For other organizations: the registered name."),
        validators=[Optional(), Length(max=200)],
    )


class EmailForm(FlaskForm):
    email = _email_field()


class ResetPasswordForm(FlaskForm):
    password = _new_password()
    password_again = _password_again("password")


class ChangePasswordForm(FlaskForm):
    current_password = PasswordField(_l("Current password"), validators=[
        DataRequired(), Length(max=1024)])
    password = _new_password()
    password_again = _password_again("password")


class InvitationForm(FlaskForm):
    display_name = StringField(_l("Your name"), validators=[DataRequired(), Length(max=100)])
    password = _new_password()
    password_again = _password_again("password")


class InviteForm(FlaskForm):
    name = StringField(_l("Full name"), validators=[DataRequired(), Length(max=100)])
    email = _email_field()


class ReasonForm(FlaskForm):
    reason = TextAreaField(_l("Reason"), validators=[DataRequired(), Length(max=500)])


class OptionalReasonForm(FlaskForm):
    reason = TextAreaField(_l("Reason (optional)"), validators=[Optional(), Length(max=500)])
