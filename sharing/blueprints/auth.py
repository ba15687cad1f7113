"""Signing in and out, accepting an invitation, resetting a forgotten password."""

from urllib.parse import urlsplit

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_user, logout_user

from sharing.core.database import reads_only
from sharing.core.extensions import db, login_manager
from sharing.core.limits import account_link_limit, sign_in_limit
from sharing.forms import ActionForm, form_status, save_form
from sharing.forms.accounts import ForgotPasswordForm, JoinForm, LoginForm, NewPasswordForm
from sharing.services.accounts import (
    DeactivatedAccount,
    accept_invitation,
    authenticate,
    end_all_sessions,
    find_user_by_email,
    get_invitation,
    get_reset_token_user,
    join_by_invitation,
    request_password_reset,
    reset_password,
)
from sharing.services.tokens import UnknownLink, UnusableLink

bp = Blueprint("auth", __name__)


@bp.record_once
def configure_login(_state) -> None:
    login_manager.login_view = "auth.login"
    login_manager.login_message = _l("Please log in to see this page.")
    login_manager.login_message_category = "info"


def safe_next(target: str | None) -> str | None:
    """Only a path on this site: never another host, scheme or protocol-relative URL.

    Control characters and spaces are refused: browsers drop tabs and line breaks from
    an address (a tab between two slashes makes "//evil.example"), and a header cannot carry them.
    """
    if not target or not target.startswith("/") or target.startswith(("//", "/\\")) \
            or not target.isprintable() or any(c.isspace() for c in target):
        return None
    parts = urlsplit(target)
    return target if not parts.scheme and not parts.netloc else None


@bp.errorhandler(UnusableLink)
def unusable_link(error: UnusableLink):
    status = 404 if isinstance(error, UnknownLink) else 400
    return render_template("auth/unusable_link.html", message=error.message), status


@bp.route("/login", methods=["GET", "POST"])
@reads_only
@sign_in_limit
def login():
    form = LoginForm()
    target = safe_next(request.args.get("next"))
    if form.validate_on_submit():
        try:
            user, refusal = authenticate(form.email.data, form.password.data), None
        except DeactivatedAccount:
            user, refusal = None, _("This account is deactivated: it can no longer sign in. "
                                    "Ask the pole's coordinator to reactivate it.")
        if user is not None:
            login_user(user)
            return redirect(target or url_for("main.index"))
        form.form_errors.append(refusal or _("Wrong e-mail address or password."))
    return render_template("auth/login.html", form=form), form_status(form)


@bp.post("/logout")
def logout():
    # POST only, and CSRFProtect checks the token: no page can sign a visitor out.
    # Sessions live in signed cookies: a copy of this one (a stolen or shared cookie) can
    # only be revoked with every session of the account.
    if current_user.is_authenticated:
        end_all_sessions(current_user)
        db.session.commit()
    logout_user()
    flash(_("You are logged out."), "info")
    return redirect(url_for("main.index"))


@bp.route("/password/forgot", methods=["GET", "POST"])
@account_link_limit
def forgot_password():
    form = ForgotPasswordForm()
    if form.validate_on_submit():
        request_password_reset(form.email.data)
        db.session.commit()
        flash(_("If an account has this address, a link to choose a new password is on "
                "its way. Check your mailbox."), "info")
        return redirect(url_for("auth.login"))
    return render_template("auth/forgot_password.html", form=form), form_status(form)


@bp.route("/password/reset/<token>", methods=["GET", "POST"], endpoint="reset_password")
@account_link_limit
def reset_password_page(token: str):
    user = get_reset_token_user(token)
    form = NewPasswordForm()
    saved, _user = save_form(form, lambda: reset_password(token, form.password.data))
    if saved:
        flash(_("Your password is changed. You can log in with it."), "info")
        return redirect(url_for("auth.login"))
    page = render_template("auth/reset_password.html", form=form, user=user)
    return page, form_status(form)


@bp.route("/invitations/<token>", methods=["GET", "POST"])
@account_link_limit
def invitation(token: str):
    invite = get_invitation(token)
    signed_in_elsewhere = (current_user.is_authenticated
                           and current_user.email != invite.email)
    if signed_in_elsewhere:
        abort(403, _("This invitation was sent to another address. Log out, then follow "
                     "the link again."))
    if find_user_by_email(invite.email) is None:
        return join(token, invite)
    if not current_user.is_authenticated:
        flash(_("Log in to accept the invitation."), "info")
        return redirect(url_for("auth.login", next=request.path))
    form = ActionForm()
    saved, _token = save_form(form, lambda: accept_invitation(token, current_user))
    if saved:
        flash(_("You are now a member of %(org)s.", org=invite.organisation.name), "info")
        return redirect(url_for("orgs.detail", slug=invite.organisation.slug))
    page = render_template("auth/invitation.html", invite=invite, form=form)
    return page, form_status(form)


def join(token: str, invite):
    """The invited address has no account yet: choose a name and a password."""
    form = JoinForm()
    saved, user = save_form(form, lambda: join_by_invitation(token, form.name.data,
                                                            form.password.data))
    if saved:
        login_user(user)
        flash(_("Welcome! You are now a member of %(org)s.", org=invite.organisation.name),
              "info")
        return redirect(url_for("orgs.detail", slug=invite.organisation.slug))
    return render_template("auth/join.html", invite=invite, form=form), form_status(form)
