"""Sessions can be ended: a copy of an old session cookie opens nothing once its owner
signed out everywhere, changed or reset their password, or was deactivated; API tokens
go with a reset, or on request."""

from datetime import timedelta

import pytest
from conftest import PASSWORD
from sqlalchemy import select

from sharing.core.extensions import db
from sharing.models import ApiToken
from sharing.services.accounts import set_user_active
from sharing.services.api_tokens import create_api_token
from sharing.services.tokens import issue_account_token

NEW_PASSWORD = "a brand new passphrase"


@pytest.fixture
def user(create_user):
    return create_user(email="camille@example.org")


def signed_in(app, user, password=PASSWORD):
    """A browser that signed in through the login form."""
    browser = app.test_client()
    response = browser.post("/login", data={"email": user.email, "password": password})
    assert response.status_code == 302
    return browser


def stolen_copy(app, browser):
    """Another browser holding a copy of the first one's session cookie."""
    domain = app.config["SERVER_NAME"]
    thief = app.test_client()
    thief.set_cookie("session", browser.get_cookie("session", domain).value, domain=domain)
    return thief


def opens_account(browser) -> bool:
    return browser.get("/account/").status_code == 200


def api_token(user) -> str:
    _token, raw = create_api_token(user, "script")
    db.session.commit()
    return raw


def api_answers(client, raw: str) -> int:
    return client.get("/api/v1/me", headers={"Authorization": f"Bearer {raw}"}).status_code


def test_sign_out_everywhere_ends_every_copy(app, user):
    browser = signed_in(app, user)
    thief = stolen_copy(app, browser)
    assert opens_account(thief)
    assert browser.post("/account/sessions/end").status_code == 302
    assert not opens_account(thief)
    assert not opens_account(browser)
    assert opens_account(signed_in(app, user))  # signing in again works


def test_signing_out_ends_a_copy_of_the_session_cookie(app, user):
    browser = signed_in(app, user)
    thief = stolen_copy(app, browser)
    assert opens_account(thief)
    assert browser.post("/logout").status_code == 302
    assert not opens_account(thief)
    assert opens_account(signed_in(app, user))


def test_a_password_change_keeps_this_browser_only(app, user):
    browser = signed_in(app, user)
    thief = stolen_copy(app, browser)
    response = browser.post("/account/password", data={
        "password-current_password": PASSWORD, "password-new_password": NEW_PASSWORD,
        "password-confirm": NEW_PASSWORD})
    assert response.status_code == 302
    assert opens_account(browser)
    assert not opens_account(thief)


def test_a_reset_ends_sessions_and_api_tokens(app, client, user):
    browser = signed_in(app, user)
    raw_token = api_token(user)
    assert api_answers(client, raw_token) == 200
    _link, raw_link = issue_account_token("reset", user.email, timedelta(hours=1), user=user)
    db.session.commit()
    response = client.post(f"/password/reset/{raw_link}",
                           data={"password": NEW_PASSWORD, "confirm": NEW_PASSWORD})
    assert response.status_code == 302
    assert not opens_account(browser)
    assert api_answers(client, raw_token) == 401
    assert opens_account(signed_in(app, user, NEW_PASSWORD))


def test_deactivation_ends_sessions_for_good(app, user):
    browser = signed_in(app, user)
    set_user_active(user, False)
    db.session.commit()
    assert not opens_account(browser)
    set_user_active(user, True)
    db.session.commit()
    assert not opens_account(browser)  # reactivated: must sign in again


def test_a_cookie_from_before_session_versions_opens_nothing(app, client, user):
    with client.session_transaction() as session:
        session["_user_id"] = str(user.id)
    assert not opens_account(client)


def test_revoke_all_my_api_tokens(app, client, user, create_user):
    other = create_user()
    mine = [api_token(user), api_token(user)]
    theirs = api_token(other)
    browser = signed_in(app, user)
    page = browser.get("/account/")
    assert b"/account/tokens/revoke-all" in page.data and b"/account/sessions/end" in page.data
    assert browser.post("/account/tokens/revoke-all").status_code == 302
    assert [api_answers(client, raw) for raw in mine] == [401, 401]
    assert api_answers(client, theirs) == 200
    assert db.session.scalars(select(ApiToken.revoked_at).where(
        ApiToken.user_id == user.id)).all() != [None, None]


def test_both_buttons_need_the_csrf_token(app, user):
    browser = signed_in(app, user)
    raw = api_token(user)
    app.config["WTF_CSRF_ENABLED"] = True
    assert browser.post("/account/tokens/revoke-all").status_code == 400
    assert browser.post("/account/sessions/end").status_code == 400
    assert opens_account(browser)
    assert api_answers(app.test_client(), raw) == 200
