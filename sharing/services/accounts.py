"""People and their organisations: look-ups, sign-in, invitations, password resets."""

from datetime import timedelta

from flask import current_app, render_template
from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy import func, select
from werkzeug.security import check_password_hash

from sharing.core.database import utcnow, write_transaction
from sharing.core.extensions import db, login_manager
from sharing.core.mail import send_mail
from sharing.core.security import shared_password_hash
from sharing.core.urls import external_url
from sharing.core.validation import InvalidInput
from sharing.models import LOCALES, ROLES, AccountToken, Organisation, User
from sharing.services.api_tokens import revoke_all_api_tokens
from sharing.services.organisations import add_member, is_valid_timezone
from sharing.services.permissions import is_member
from sharing.services.tokens import (
    consume_account_token,
    get_usable_account_token,
    issue_account_token,
    withdraw_account_token,
    withdraw_account_tokens,
)

PASSWORD_MIN_LENGTH = 10
NAME_MAX_LENGTH = 120
EMAIL_MAX_LENGTH = 254


def normalise_email(email: str) -> str:
    return email.strip().lower()


def find_user_by_email(email: str) -> User | None:
    return db.session.scalar(select(User).where(func.lower(User.email) == normalise_email(email)))


@login_manager.user_loader
def load_user(session_id: str) -> User | None:
    """The user a session or remember cookie names (`User.get_id`): `<id>.<version>`.

    A cookie made before the user's sessions were ended carries an older version, and
    one made before versions existed none: both sign nobody in. A deactivated account
    loses its open sessions too.
    """
    user_id, _dot, version = session_id.partition(".")
    if not (user_id.isdigit() and version.isdigit()):
        return None
    user = db.session.get(User, int(user_id))
    if user is None or not user.active or user.session_version != int(version):
        return None
    return user


def end_all_sessions(user: User) -> None:
    """Sign the user out of every browser (the caller commits)."""
    user.session_version += 1


def set_user_active(user: User, active: bool) -> None:
    """Deactivating closes the account's sessions at once (the caller commits)."""
    user.active = active
    if not active:
        end_all_sessions(user)


def check_email(email: str) -> str:
    """The address in its stored form, or InvalidInput."""
    email = normalise_email(email)
    local, _at, domain = email.partition("@")
    if not local or "." not in domain or " " in email or len(email) > EMAIL_MAX_LENGTH:
        raise InvalidInput(email=_("Enter a valid e-mail address."))
    return email


def check_display_name(name: str) -> str:
    name = name.strip()
    if not name:
        raise InvalidInput(name=_("A name is required."))
    if len(name) > NAME_MAX_LENGTH:
        raise InvalidInput(name=_("Use at most %(n)d characters.", n=NAME_MAX_LENGTH))
    return name


def check_new_password(password: str, field: str = "password") -> None:
    if len(password) < PASSWORD_MIN_LENGTH:
        raise InvalidInput({field: [_("Use at least %(n)d characters.", n=PASSWORD_MIN_LENGTH)]})


def create_user(email: str, name: str, password: str | None, *, is_admin: bool = False,
                locale: str = "fr") -> User:
    """Add a user to the session (the caller commits); refuses a taken address."""
    email = check_email(email)
    if find_user_by_email(email):
        raise InvalidInput(email=_("A user with this e-mail address already exists."))
    user = User(email=email, display_name=check_display_name(name), is_admin=is_admin,
                locale=locale)
    if password is not None:
        user.set_password(password)
    db.session.add(user)
    return user


class DeactivatedAccount(Exception):
    """The right password for an account the coordinator deactivated."""


def authenticate(email: str, password: str) -> User | None:
    """The active user with this address and password; None says nothing about which failed.
    The right password of a deactivated account raises DeactivatedAccount.

    A locked account (too many wrong passwords) is refused even with the right one, in
    the same words, so that the answer reveals neither the address nor the lock. Commits
    the count of failures.
    """
    user = find_user_by_email(email)
    if user is None:
        # Spend the time a real check costs, so response times reveal no addresses.
        check_password_hash(shared_password_hash("decoy password"), password)
        return None
    right = user.check_password(password)
    if is_locked(user):
        return None
    if not user.active:
        # Said only to whoever knows the password: it reveals nothing to others.
        if right:
            raise DeactivatedAccount()
        return None
    if not right:
        record_failed_login(user)
        return None
    if user.failed_logins:
        with write_transaction():
            user.failed_logins, user.locked_until = 0, None
    return user


def is_locked(user: User) -> bool:
    return user.locked_until is not None and user.locked_until > utcnow()


def record_failed_login(user: User) -> None:
    """Count the failure; from the threshold on, lock the account for twice as long as the
    time before, and tell its owner the first time."""
    config = current_app.config
    with write_transaction():
        db.session.refresh(user, with_for_update=True)
        user.failed_logins += 1
        beyond = user.failed_logins - config["LOCKOUT_THRESHOLD"]
        if beyond < 0:
            return
        minutes = min(config["LOCKOUT_FIRST_MINUTES"] * 2 ** min(beyond, 20),
                      config["LOCKOUT_MAX_MINUTES"])
        user.locked_until = utcnow() + timedelta(minutes=minutes)
        if beyond == 0:
            tell_owner_of_lockout(user, minutes)


def tell_owner_of_lockout(user: User, minutes: int) -> None:
    link = external_url("auth.forgot_password")
    with force_locale(user.locale):
        send_mail(user.email, _("Your account is locked for a while"),
                  render_template("mail/lockout.txt", user=user, minutes=minutes,
                                  attempts=user.failed_logins, link=link),
                  kind="lockout", user=user)


def update_profile(user: User, name: str, locale: str, timezone: str) -> None:
    fields: dict[str, list[str]] = {}
    if locale not in LOCALES:
        fields["locale"] = [_("Choose a language from the list.")]
    if not is_valid_timezone(timezone):
        fields["timezone"] = [_("Unknown timezone %(tz)s.", tz=timezone)]
    try:
        name = check_display_name(name)
    except InvalidInput as error:
        fields.update(error.fields)
    if fields:
        raise InvalidInput(fields)
    user.display_name, user.locale, user.timezone = name, locale, timezone


def change_password(user: User, current: str, new: str) -> None:
    if not user.check_password(current):
        raise InvalidInput(current_password=_("This is not your current password."))
    check_new_password(new, "new_password")
    user.set_password(new)
    end_all_sessions(user)


def request_password_reset(email: str) -> None:
    """E-mail a reset link if an active account has this address; silent otherwise."""
    user = find_user_by_email(email)
    if user is None or not user.active:
        return
    hours = current_app.config["PASSWORD_RESET_HOURS"]
    _token, raw = issue_account_token("reset", user.email, timedelta(hours=hours), user=user)
    link = external_url("auth.reset_password", token=raw)
    with force_locale(user.locale):
        send_mail(user.email, _("Reset your password"),
                  render_template("mail/password_reset.txt", user=user, link=link,
                                  hours=hours), kind="password_reset", user=user)


def get_reset_token_user(raw: str) -> User:
    """The user a usable reset link belongs to; raises UnusableLink otherwise."""
    return get_usable_account_token("reset", raw).user


def reset_password(raw: str, password: str) -> User:
    """Set a new password through a reset link, which then stops working with its siblings.

    Commits, holding the write lock: of two requests following one link, one succeeds and
    the other finds the link used.
    """
    check_new_password(password)
    with write_transaction():
        token = get_usable_account_token("reset", raw)
        consume_account_token(token)
        withdraw_account_tokens("reset", token.user)
        start_afresh(token.user, password)
    return token.user


def start_afresh(user: User, password: str) -> None:
    """After a reset, whoever knew the old password keeps nothing: not a session, not an
    API token, not a lock."""
    user.set_password(password)
    end_all_sessions(user)
    revoke_all_api_tokens(user)
    user.failed_logins, user.locked_until = 0, None


def invite_to_organisation(organisation: Organisation, email: str, role: str,
                           invited_by: User) -> AccountToken:
    """E-mail a single-use link that makes the address a member (the caller commits)."""
    email = check_email(email)
    if role not in ROLES:
        raise InvalidInput(role=_("Choose member or manager."))
    invitee = find_user_by_email(email)
    if invitee is not None and is_member(invitee, organisation):
        raise InvalidInput(email=_("This person is already a member of the organisation."))
    days = current_app.config["INVITATION_DAYS"]
    token, raw = issue_account_token("invite", email, timedelta(days=days),
                                     organisation=organisation, role=role,
                                     created_by_id=invited_by.id)
    link = external_url("auth.invitation", token=raw)
    locale = invitee.locale if invitee else current_app.config["BABEL_DEFAULT_LOCALE"]
    with force_locale(locale):
        send_mail(email, _("Invitation to join %(org)s", org=organisation.name),
                  render_template("mail/invitation.txt", organisation=organisation,
                                  invited_by=invited_by, link=link, days=days, role=role),
                  kind="invitation", user=invitee)
    return token


def get_invitation(raw: str) -> AccountToken:
    """A usable invitation; raises UnusableLink otherwise."""
    return get_usable_account_token("invite", raw)


def accept_invitation(raw: str, user: User) -> AccountToken:
    """Add the invited user to the organisation; the link then stops working. Commits."""
    with write_transaction():
        token = get_invitation(raw)
        if normalise_email(user.email) != token.email:
            raise InvalidInput(email=_("This invitation was sent to another address."))
        consume_account_token(token)
        add_member(user, token.organisation, token.role or "member")
    return token


def join_by_invitation(raw: str, name: str, password: str) -> User:
    """Create the invited person's account and membership in one go. Commits."""
    check_new_password(password)
    with write_transaction():
        token = get_invitation(raw)
        # The link first: a second request for it stops here, before creating anyone.
        consume_account_token(token)
        user = create_user(token.email, name, password)
        add_member(user, token.organisation, token.role or "member")
    return user


def pending_invitations_of(organisation: Organisation):
    return (select(AccountToken)
            .where(AccountToken.purpose == "invite",
                   AccountToken.organisation_id == organisation.id,
                   AccountToken.used_at.is_(None), AccountToken.withdrawn_at.is_(None),
                   AccountToken.expires_at > utcnow()))


def get_pending_invitations(organisation: Organisation) -> list[AccountToken]:
    """Invitations sent and neither used, withdrawn nor expired yet, newest first."""
    return list(db.session.scalars(
        pending_invitations_of(organisation).order_by(AccountToken.created_at.desc())))


def find_pending_invitation(organisation: Organisation, token_id: int) -> AccountToken | None:
    return db.session.scalar(
        pending_invitations_of(organisation).where(AccountToken.id == token_id))


def withdraw_invitation(invitation: AccountToken) -> None:
    """Its link stops working (the caller commits); refused if it was accepted meanwhile."""
    if not withdraw_account_token(invitation):
        raise InvalidInput(invitation=_("This invitation was accepted in the meantime."))
