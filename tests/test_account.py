"""The account page and personal API tokens."""

import hashlib
import re

import pytest
from booking_page_helpers import english  # noqa: F401  (fixture)
from conftest import PASSWORD
from sqlalchemy import select
from test_auth import english_pages  # noqa: F401  (autouse fixture)

from sharing.core.extensions import db
from sharing.core.validation import InvalidInput
from sharing.models import ApiToken
from sharing.services.api_tokens import create_api_token, find_user_by_api_token, revoke_api_token


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


# --- the account page -------------------------------------------------------------------

@pytest.fixture
def user(create_user):
    return create_user(email="camille@example.org", name="Camille")


def test_account_page_shows_the_person_and_their_tokens(client, login, user, create_user):
    create_api_token(user, "mine")
    create_api_token(create_user(), "someone else's")
    db.session.commit()
    login(user)
    page = client.get("/account/")
    assert page.status_code == 200
    assert "camille@example.org" in page.text and "mine" in page.text
    assert "someone else" not in page.text


def test_profile_is_saved(client, login, user):
    login(user)
    response = client.post("/account/profile", data={
        "profile-name": " Camille M. ", "profile-locale": "fr",
        "profile-timezone": "America/Cayenne"})
    assert response.status_code == 302
    db.session.refresh(user)
    assert (user.display_name, user.locale, user.timezone) == (
        "Camille M.", "fr", "America/Cayenne")


@pytest.mark.parametrize("data, field", [
    ({"profile-name": "C", "profile-locale": "de", "profile-timezone": "Europe/Paris"},
     "locale"),
    ({"profile-name": "C", "profile-locale": "fr", "profile-timezone": "Mars/Olympus"},
     "timezone"),
    ({"profile-name": " ", "profile-locale": "fr", "profile-timezone": "Europe/Paris"},
     "name"),
    ({"profile-name": "x" * 121, "profile-locale": "fr", "profile-timezone": "Europe/Paris"},
     "name"),
    ({}, "name"),
])
def test_bad_profiles_change_nothing(client, login, user, data, field):
    login(user)
    response = client.post("/account/profile", data=data)
    assert response.status_code == 422
    assert f'id="profile-{field}-error"' in response.text
    db.session.refresh(user)
    assert (user.display_name, user.locale, user.timezone) == ("Camille", "en", "Europe/Paris")


def test_password_change_needs_the_current_password(client, login, user):
    login(user)
    wrong = client.post("/account/password", data={
        "password-current_password": "not it", "password-new_password": "brand new secret",
        "password-confirm": "brand new secret"})
    assert wrong.status_code == 422
    assert "not your current password" in wrong.text
    short = client.post("/account/password", data={
        "password-current_password": PASSWORD, "password-new_password": "short",
        "password-confirm": "short"})
    assert short.status_code == 422
    db.session.refresh(user)
    assert user.check_password(PASSWORD)
    done = client.post("/account/password", data={
        "password-current_password": PASSWORD, "password-new_password": "brand new secret",
        "password-confirm": "brand new secret"})
    assert done.status_code == 302
    db.session.refresh(user)
    assert user.check_password("brand new secret")


def test_token_is_shown_once_and_stored_hashed(client, login, user):
    login(user)
    response = client.post("/account/tokens", data={"token-name": "spreadsheet"})
    assert response.status_code == 200
    raw = re.search(r'id="new-token"[^>]*value="([^"]+)"', response.text).group(1)
    token = db.session.scalar(select(ApiToken))
    assert (token.user_id, token.name) == (user.id, "spreadsheet")
    assert token.token_hash == hashlib.sha256(raw.encode()).hexdigest()
    assert raw not in client.get("/account/").text
    assert find_user_by_api_token(raw) == user


def test_token_without_a_name_is_refused(client, login, user):
    login(user)
    assert client.post("/account/tokens", data={"token-name": "  "}).status_code == 422
    assert client.post("/account/tokens", data={}).status_code == 422
    assert client.post("/account/tokens",
                       data={"token-name": "x" * 101}).status_code == 422
    assert db.session.scalars(select(ApiToken)).all() == []


def test_revoking_a_token(client, login, user, create_user):
    mine, raw = create_api_token(user, "mine")
    theirs, their_raw = create_api_token(create_user(), "theirs")
    db.session.commit()
    login(user)
    assert client.post(f"/account/tokens/{theirs.id}/revoke").status_code == 404
    assert client.post("/account/tokens/999999/revoke").status_code == 404
    assert client.post("/account/tokens/abc/revoke").status_code == 404
    assert find_user_by_api_token(their_raw) is not None
    assert client.post(f"/account/tokens/{mine.id}/revoke").status_code == 302
    db.session.refresh(mine)
    assert mine.revoked_at is not None
    assert find_user_by_api_token(raw) is None
    assert "mine" not in client.get("/account/").text.split("API tokens")[1]
    assert client.post(f"/account/tokens/{mine.id}/revoke").status_code == 404
