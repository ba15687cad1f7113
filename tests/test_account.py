"""The account page and personal API tokens."""

import hashlib

import pytest
from sqlalchemy import select

from sharing.api_tokens import create_api_token, find_user_by_api_token, revoke_api_token
from sharing.extensions import db
from sharing.models import ApiToken
from sharing.validation import InvalidInput


def test_api_token_is_stored_hashed_and_finds_its_user(create_user):
    user = create_user()
    token, raw = create_api_token(user, "laptop")
    db.session.commit()
    stored = db.session.scalar(select(ApiToken).where(ApiToken.id == token.id))
    assert stored.token_hash == hashlib.sha256(raw.encode()).hexdigest()
    assert raw not in stored.token_hash
    assert stored.last_used_at is None
    assert find_user_by_api_token(raw) == user
    db.session.commit()
    assert db.session.get(ApiToken, token.id).last_used_at is not None


def test_revoked_unknown_and_inactive_tokens_find_nobody(create_user):
    user = create_user()
    idle = create_user(active=False)
    token, raw = create_api_token(user, "laptop")
    _, idle_raw = create_api_token(idle, "old")
    db.session.commit()
    revoke_api_token(token)
    db.session.commit()
    assert find_user_by_api_token(raw) is None
    assert find_user_by_api_token(idle_raw) is None
    assert find_user_by_api_token("nope") is None
    assert find_user_by_api_token("") is None


def test_api_token_needs_a_name(app, create_user):
    user = create_user()
    with app.test_request_context(), pytest.raises(InvalidInput) as error:
        create_api_token(user, "  ")
    assert "name" in error.value.fields
    assert db.session.scalars(select(ApiToken)).all() == []
