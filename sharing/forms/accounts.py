"""Forms for signing in, invitations, password resets, the account page and memberships."""

from collections.abc import Callable
from typing import TypeVar

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import EmailField, PasswordField, SelectField, StringField
from wtforms.validators import DataRequired, EqualTo, Length

from sharing.extensions import db
from sharing.validation import InvalidInput

T = TypeVar("T")

# The status of a page showing a posted form again with its errors.
FORM_ERROR = 422
# In URLs: ids fit the database's INTEGER columns; a larger one is a 404, not a DB error.
ROW_ID = "int(max=2147483647)"


def form_status(form: FlaskForm) -> int:
    return FORM_ERROR if form.is_submitted() else 200

LANGUAGE_CHOICES = [("fr", "Français"), ("en", "English")]
ROLE_CHOICES = [("member", _l("Member")), ("manager", _l("Manager"))]


def show_errors(form: FlaskForm, error: InvalidInput) -> None:
    """Put a service's messages beside the form's fields (or above it, for the others)."""
    for name, messages in error.fields.items():
        field = form._fields.get(name)
        if field is None:
            form.form_errors.extend(messages)
        else:
            field.errors = [*field.errors, *messages]


def save_form(form: FlaskForm, change: Callable[[], T]) -> tuple[bool, T | None]:
    """Validate the form, run the change and commit; on bad input show why, write nothing."""
    if not form.validate_on_submit():
        return False, None
    try:
        result = change()
        db.session.commit()
    except InvalidInput as error:
        db.session.rollback()
        show_errors(form, error)
        return False, None
    return True, result


class Form(FlaskForm):
    """Refuses NUL characters in every field: PostgreSQL cannot store them in text."""

    def validate(self, extra_validators=None) -> bool:
        valid = super().validate(extra_validators)
        for field in self:
            if any(isinstance(raw, str) and "\x00" in raw for raw in field.raw_data or ()):
                field.errors = [*field.errors, _l("Remove the invisible (NUL) characters.")]
                valid = False
        return valid


class ActionForm(Form):
    """A button that changes something: carries only the CSRF token."""


class LoginForm(Form):
    email = EmailField(_l("E-mail address"), validators=[DataRequired()],
                       render_kw={"autocomplete": "username"})
    password = PasswordField(_l("Password"), validators=[DataRequired()],
                             render_kw={"autocomplete": "current-password"})


class ForgotPasswordForm(Form):
    email = EmailField(_l("E-mail address"), validators=[DataRequired()],
                       render_kw={"autocomplete": "email"})


class NewPasswordForm(Form):
    password = PasswordField(_l("New password"), validators=[DataRequired()],
                             render_kw={"autocomplete": "new-password"})
    confirm = PasswordField(_l("Repeat the password"), validators=[
        DataRequired(), EqualTo("password", message=_l("The two passwords differ."))],
        render_kw={"autocomplete": "new-password"})


class JoinForm(NewPasswordForm):
    name = StringField(_l("Your name"), validators=[DataRequired(), Length(max=120)],
                       render_kw={"autocomplete": "name"})

    field_order = ("csrf_token", "name", "password", "confirm")

    def __iter__(self):
        return (self[name] for name in self.field_order if name in self._fields)


class ProfileForm(Form):
    name = StringField(_l("Display name"), validators=[DataRequired(), Length(max=120)])
    locale = SelectField(_l("Language"), choices=LANGUAGE_CHOICES)
    timezone = StringField(_l("Timezone"), validators=[DataRequired()],
                           description=_l("For example Europe/Paris."))


class ChangePasswordForm(Form):
    current_password = PasswordField(_l("Current password"), validators=[DataRequired()],
                                     render_kw={"autocomplete": "current-password"})
    new_password = PasswordField(_l("New password"), validators=[DataRequired()],
                                 render_kw={"autocomplete": "new-password"})
    confirm = PasswordField(_l("Repeat the new password"), validators=[
        DataRequired(), EqualTo("new_password", message=_l("The two passwords differ."))],
        render_kw={"autocomplete": "new-password"})


class ApiTokenForm(Form):
    name = StringField(_l("Token name"), validators=[DataRequired(), Length(max=100)],
                       description=_l("Where you will use it, e.g. “planning spreadsheet”."))


class InviteForm(Form):
    email = EmailField(_l("E-mail address"), validators=[DataRequired()])
    role = SelectField(_l("Role"), choices=ROLE_CHOICES)


class RoleForm(Form):
    role = SelectField(_l("Role"), choices=ROLE_CHOICES)
