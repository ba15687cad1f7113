"""Forms for signing in, invitations, password resets, the account page and memberships."""

from flask_babel import lazy_gettext as _l
from wtforms import EmailField, PasswordField, SelectChoice, SelectField, StringField
from wtforms.validators import DataRequired, EqualTo, Length

from sharing.forms import Form, at_most
from sharing.services.accounts import EMAIL_MAX_LENGTH

LANGUAGE_CHOICES = [SelectChoice("fr", "Français"), SelectChoice("en", "English")]
ROLE_CHOICES = [SelectChoice("member", _l("Member")), SelectChoice("manager", _l("Manager"))]


class LoginForm(Form):
    email = EmailField(_l("E-mail address"), validators=[DataRequired()],
                       render_kw=at_most(EMAIL_MAX_LENGTH, autocomplete="username"))
    password = PasswordField(_l("Password"), validators=[DataRequired()],
                             render_kw={"autocomplete": "current-password"})


class ForgotPasswordForm(Form):
    email = EmailField(_l("E-mail address"), validators=[DataRequired()],
                       render_kw=at_most(EMAIL_MAX_LENGTH, autocomplete="email"))


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
    timezone = StringField(_l("Timezone"), validators=[DataRequired(), Length(max=64)],
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
    email = EmailField(_l("E-mail address"), validators=[DataRequired()],
                       render_kw=at_most(EMAIL_MAX_LENGTH))
    role = SelectField(_l("Role"), choices=ROLE_CHOICES)


class RoleForm(Form):
    role = SelectField(_l("Role"), choices=ROLE_CHOICES)


SEND = SelectChoice("on", _l("Send each message"))
DONT_SEND = SelectChoice("off", _l("Do not send"))


class NotificationsForm(Form):
    """Which booking messages the person receives (see `services.notifications`)."""

    request = SelectField(_l("Booking requests to approve (managers)"), choices=[
        SEND, SelectChoice("digest", _l("One daily digest")), DONT_SEND])
    decision = SelectField(_l("Approval or rejection of my requests"),
                           choices=[SEND, DONT_SEND])
    confirmation = SelectField(_l("Confirmation of my bookings"), choices=[SEND, DONT_SEND])
    cancellation = SelectField(_l("Cancellations"), choices=[SEND, DONT_SEND])
    staff = SelectField(_l("Bookings of my time (staff and experts)"),
                        choices=[SEND, DONT_SEND])
