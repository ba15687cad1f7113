"""The signed-in person's own settings: profile, password, API tokens."""

from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user, login_user, logout_user
from flask_wtf import FlaskForm

from sharing.blueprints.lookups import signed_in_only
from sharing.core.extensions import db
from sharing.forms import FORM_ERROR, ROW_ID, ActionForm, save_form
from sharing.forms.accounts import (
    ApiTokenForm,
    ChangePasswordForm,
    NotificationsForm,
    ProfileForm,
)
from sharing.models import ApiToken
from sharing.services.accounts import change_password, end_all_sessions, update_profile
from sharing.services.api_tokens import (
    create_api_token,
    get_api_tokens,
    revoke_all_api_tokens,
    revoke_api_token,
)
from sharing.services.notifications import save_settings, settings_of

# Every page here is about the signed-in person.
bp = signed_in_only(Blueprint("account", __name__, url_prefix="/account"))


# Four forms share the page: prefixes keep their field names and ids apart.
def render_page(status: int = 200, new_token: str | None = None, **forms: FlaskForm):
    forms.setdefault("profile_form", ProfileForm(
        formdata=None, prefix="profile", name=current_user.display_name,
        locale=current_user.locale, timezone=current_user.timezone))
    forms.setdefault("password_form", ChangePasswordForm(formdata=None, prefix="password"))
    forms.setdefault("token_form", ApiTokenForm(formdata=None, prefix="token"))
    forms.setdefault("notifications_form", NotificationsForm(
        formdata=None, prefix="notifications", data=settings_of(current_user)))
    return render_template("account/index.html", tokens=get_api_tokens(current_user),
                           revoke_form=ActionForm(), new_token=new_token, **forms), status


def save_section(name: str, form: FlaskForm, change, saved_message: str):
    """One section of the page was posted: save it, or show it again with its errors."""
    saved, _none = save_form(form, change)
    if not saved:
        return render_page(FORM_ERROR, **{name: form})
    flash(saved_message, "info")
    return redirect(url_for("account.index"))


@bp.get("/")
def index():
    return render_page()


@bp.post("/profile")
def profile():
    form = ProfileForm(prefix="profile")
    return save_section("profile_form", form, lambda: update_profile(
        current_user, form.name.data, form.locale.data, form.timezone.data),
        _("Your profile is saved."))


@bp.post("/password")
def password():
    form = ChangePasswordForm(prefix="password")
    user = current_user._get_current_object()
    response = save_section("password_form", form, lambda: change_password(
        user, form.current_password.data, form.new_password.data),
        _("Your password is changed. Your other sessions are signed out."))
    login_user(user)  # this browser stays signed in, under the new session version
    return response


@bp.post("/sessions/end")
def end_sessions():
    """Sign out everywhere, this browser included."""
    if ActionForm().validate_on_submit():
        end_all_sessions(current_user)
        db.session.commit()
        logout_user()
        flash(_("You are signed out everywhere, here too."), "info")
    return redirect(url_for("auth.login"))


@bp.post("/tokens/revoke-all")
def revoke_all_tokens():
    if ActionForm().validate_on_submit():
        count = revoke_all_api_tokens(current_user)
        db.session.commit()
        flash(ngettext("%(num)d token no longer works.", "%(num)d tokens no longer work.",
                       count), "info")
    return redirect(url_for("account.index"))


@bp.post("/notifications")
def notifications():
    form = NotificationsForm(prefix="notifications")
    return save_section("notifications_form", form, lambda: save_settings(
        current_user, {name: field.data for name, field in form._fields.items()
                       if name != "csrf_token"}),
        _("Your e-mail preferences are saved."))


@bp.post("/tokens")
def create_token():
    form = ApiTokenForm(prefix="token")
    saved, created = save_form(form, lambda: create_api_token(current_user, form.name.data))
    if not saved:
        return render_page(FORM_ERROR, token_form=form)
    # Shown in this response only: it is stored hashed and cannot be displayed again.
    return render_page(new_token=created[1])


@bp.post(f"/tokens/<{ROW_ID}:token_id>/revoke")
def revoke_token(token_id: int):
    token = db.session.get(ApiToken, token_id)
    if token is None or token.user_id != current_user.id or token.revoked_at is not None:
        abort(404)
    revoke_api_token(token)
    db.session.commit()
    flash(_("The token “%(name)s” no longer works.", name=token.name), "info")
    return redirect(url_for("account.index"))
