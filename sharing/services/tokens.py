"""Single-use, expiring links sent by e-mail: invitations and password resets.

Only the hash of a link's secret is stored. A link is used at most once, even when two
requests follow it at the same moment: using it is one conditional UPDATE.
"""

from datetime import timedelta

from flask_babel import lazy_gettext as _l
from sqlalchemy import select, update

from sharing.core.database import utcnow
from sharing.core.extensions import db
from sharing.models import AccountToken, User
from sharing.services.api_tokens import hash_secret, new_secret


class UnusableLink(Exception):
    """The link cannot be used; the message says why, for the person who followed it."""

    message = _l("This link is not valid.")


class UnknownLink(UnusableLink):
    message = _l("This link is not valid. Check that you copied it entirely.")


class ExpiredLink(UnusableLink):
    message = _l("This link has expired. Ask for a new one.")


class UsedLink(UnusableLink):
    message = _l("This link has already been used. Ask for a new one if you need to.")


class WithdrawnLink(UnusableLink):
    message = _l("This invitation was withdrawn: the link is no longer valid.")


def issue_account_token(purpose: str, email: str, lifetime: timedelta,
                        **fields) -> tuple[AccountToken, str]:
    """Add a token to the session (the caller commits); the raw secret goes in the link."""
    raw, token_hash = new_secret()
    token = AccountToken(purpose=purpose, email=email, token_hash=token_hash,
                         expires_at=utcnow() + lifetime, **fields)
    db.session.add(token)
    return token, raw


def find_account_token(purpose: str, raw: str) -> AccountToken | None:
    return db.session.scalar(select(AccountToken).where(
        AccountToken.purpose == purpose, AccountToken.token_hash == hash_secret(raw)))


def get_usable_account_token(purpose: str, raw: str) -> AccountToken:
    token = find_account_token(purpose, raw)
    if token is None:
        raise UnknownLink()
    if token.withdrawn_at is not None:
        raise WithdrawnLink()
    if token.used_at is not None:
        raise UsedLink()
    if token.expires_at <= utcnow():
        raise ExpiredLink()
    return token


def consume_account_token(token: AccountToken) -> None:
    """Mark the token used, in the caller's transaction; raises if it was used meanwhile."""
    used = db.session.execute(
        update(AccountToken)
        .where(AccountToken.id == token.id, AccountToken.used_at.is_(None),
               AccountToken.withdrawn_at.is_(None))
        .values(used_at=utcnow())
        .execution_options(synchronize_session=False))
    if used.rowcount != 1:
        raise UsedLink()
    db.session.refresh(token)


def withdraw_account_token(token: AccountToken) -> bool:
    """Take back an unused link, in the caller's transaction; False if it was used meanwhile."""
    withdrawn = db.session.execute(
        update(AccountToken)
        .where(AccountToken.id == token.id, AccountToken.used_at.is_(None),
               AccountToken.withdrawn_at.is_(None))
        .values(withdrawn_at=utcnow())
        .execution_options(synchronize_session=False))
    db.session.refresh(token)
    return withdrawn.rowcount == 1


def withdraw_account_tokens(purpose: str, user: User) -> None:
    """Make the user's outstanding tokens of this purpose unusable."""
    db.session.execute(
        update(AccountToken)
        .where(AccountToken.purpose == purpose, AccountToken.user_id == user.id,
               AccountToken.used_at.is_(None))
        .values(used_at=utcnow())
        .execution_options(synchronize_session=False))
