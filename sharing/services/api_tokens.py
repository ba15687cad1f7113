"""Personal bearer tokens for the JSON API: shown once, stored only as a hash, revocable."""

import hashlib
import secrets
from datetime import timedelta

from flask_babel import gettext as _
from sqlalchemy import select, update
from sqlalchemy.orm import joinedload

from sharing.core.database import utcnow, write_transaction
from sharing.core.extensions import db
from sharing.core.validation import InvalidInput
from sharing.models import ApiToken, User

NAME_MAX_LENGTH = 100
# "Last used" is for spotting forgotten tokens: to the minute is plenty, and most API
# calls then write nothing.
LAST_USE_PRECISION = timedelta(minutes=1)


def hash_secret(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


def new_secret() -> tuple[str, str]:
    """A fresh random secret and the hash under which it is stored."""
    raw = secrets.token_urlsafe(32)
    return raw, hash_secret(raw)


def create_api_token(user: User, name: str) -> tuple[ApiToken, str]:
    """Add a token to the session (the caller commits); the raw value is returned once."""
    name = name.strip()
    if not name:
        raise InvalidInput(name=_("Give the token a name."))
    if len(name) > NAME_MAX_LENGTH:
        raise InvalidInput(name=_("Use at most %(n)d characters.", n=NAME_MAX_LENGTH))
    raw, token_hash = new_secret()
    token = ApiToken(user=user, name=name, token_hash=token_hash)
    db.session.add(token)
    return token, raw


def find_user_by_api_token(raw: str) -> User | None:
    """The active owner of a live token, noting when it was last used."""
    if not raw:
        return None
    token = db.session.scalar(select(ApiToken).options(joinedload(ApiToken.user)).where(
        ApiToken.token_hash == hash_secret(raw), ApiToken.revoked_at.is_(None)))
    if token is None or not token.user.active:
        return None
    if token.last_used_at is None or utcnow() - token.last_used_at > LAST_USE_PRECISION:
        note_use(token)
    return token.user


def note_use(token: ApiToken) -> None:
    """Record the token's use in a short write of its own, even while serving a GET: kept
    even if the request then fails."""
    with write_transaction():
        db.session.execute(update(ApiToken).where(ApiToken.id == token.id)
                           .values(last_used_at=utcnow()))


def get_api_tokens(user: User) -> list[ApiToken]:
    """The user's live tokens, newest first."""
    return list(db.session.scalars(
        select(ApiToken)
        .where(ApiToken.user_id == user.id, ApiToken.revoked_at.is_(None))
        .order_by(ApiToken.created_at.desc(), ApiToken.id.desc())))


def revoke_api_token(token: ApiToken) -> None:
    """Stop the token working; the row stays as a record (the caller commits)."""
    if token.revoked_at is None:
        token.revoked_at = utcnow()


def revoke_all_api_tokens(user: User) -> int:
    """Stop every live token of the user (the caller commits); how many there were."""
    revoked = db.session.execute(
        update(ApiToken).where(ApiToken.user_id == user.id, ApiToken.revoked_at.is_(None))
        .values(revoked_at=utcnow()).execution_options(synchronize_session=False))
    return revoked.rowcount
