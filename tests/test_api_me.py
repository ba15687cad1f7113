"""The API's door: bearer tokens, /me, and JSON errors for everything that is not a route."""

import pytest
from api_helpers import API, Api

from sharing.core.extensions import db
from sharing.models import ApiToken
from sharing.services.api_tokens import create_api_token, revoke_api_token
from sharing.services.feeds import organisation_feed_url, personal_feed_url
from sharing.services.organisations import add_member


@pytest.fixture
def user(create_user, create_organisation):
    ressourcerie = create_organisation(slug="ressourcerie", name="La Ressourcerie")
    energie = create_organisation(slug="energie", name="Énergies partagées")
    user = create_user(email="camille@example.org", name="Camille Martin",
                       organisation=ressourcerie, role="manager")
    add_member(user, energie, "member")
    db.session.commit()
    return user


def assert_unauthorized(response):
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"].lower().startswith("bearer")
    assert response.json["error"] == "unauthorized"


def test_me_names_the_user_and_their_organisations(client, user):
    response = Api(client, user).get("/me")
    assert response.status_code == 200
    organisations = {org.slug: org for org in (m.organisation for m in user.memberships)}
    assert response.json == {
        "id": user.id, "email": "camille@example.org", "name": "Camille Martin",
        "is_admin": False,
        "organisations": [
            {"id": organisations["ressourcerie"].id, "slug": "ressourcerie",
             "name": "La Ressourcerie", "role": "manager"},
            {"id": organisations["energie"].id, "slug": "energie",
             "name": "Énergies partagées", "role": "member"},
        ],
        "feeds": {"personal": personal_feed_url(user), "organisations": {
            str(org.id): organisation_feed_url(user, org.id)
            for org in organisations.values()}},
    }


def test_the_feeds_given_by_the_api_answer(client, user, create_resource):
    feeds = Api(client, user).get("/me").json["feeds"]
    resource = create_resource(owner=user.memberships[0].organisation)
    feed_url = Api(client, user).get(f"/resources/{resource.id}").json["feed_url"]
    for url in (feeds["personal"], *feeds["organisations"].values(), feed_url):
        response = client.get(url.removeprefix("http://sharing.test"))
        assert response.status_code == 200
        assert response.mimetype == "text/calendar"


def test_a_request_records_the_tokens_last_use(client, user):
    api = Api(client, user)
    assert api.token.last_used_at is None
    api.get("/me")
    db.session.expire_all()
    assert db.session.get(ApiToken, api.token.id).last_used_at is not None


def test_a_refused_request_keeps_the_tokens_last_use(client, user):
    api = Api(client, user)
    assert api.post("/bookings", json={"resource_id": "x"}).status_code == 422
    db.session.expire_all()
    assert db.session.get(ApiToken, api.token.id).last_used_at is not None


@pytest.mark.parametrize("header", [
    None, "", "Bearer", "Bearer ", "Bearer not-a-token", "Basic Y2FtaWxsZTpzZWNyZXQ=",
    "Token abc", "Bearer \u00e9\u00e9",
])
def test_no_or_bad_token_is_401_with_www_authenticate(client, user, header):
    headers = {} if header is None else {"Authorization": header}
    assert_unauthorized(client.get(f"{API}/me", headers=headers))


def test_the_token_itself_under_another_scheme_is_refused(client, user):
    _token, raw = create_api_token(user, "cli")
    db.session.commit()
    assert_unauthorized(client.get(f"{API}/me", headers={"Authorization": f"Basic {raw}"}))
    assert client.get(f"{API}/me", headers={"Authorization": f"bearer {raw}"}).status_code == 200


def test_revoked_token_is_401(client, user):
    api = Api(client, user)
    assert api.get("/me").status_code == 200
    revoke_api_token(api.token)
    db.session.commit()
    assert_unauthorized(api.get("/me"))


def test_deactivated_users_token_is_401(client, user):
    api = Api(client, user)
    user.active = False
    db.session.commit()
    assert_unauthorized(api.get("/me"))


def test_a_browser_session_does_not_open_the_api(client, login, user):
    login(user)
    assert_unauthorized(client.get(f"{API}/me"))


def test_auth_comes_before_anything_else(client, user):
    """Without a token, even a malformed write learns nothing but 401."""
    assert_unauthorized(client.post(f"{API}/resources", data=b"{"))
    assert_unauthorized(client.put(f"{API}/organisations/1/quotas", json={"quotas": []}))


def test_unknown_route_and_wrong_method_answer_json(client, user):
    api = Api(client, user)
    missing = api.get("/nothing-here")
    assert missing.status_code == 404 and missing.json["error"] == "not_found"
    wrong = api.delete("/me")
    assert wrong.status_code == 405 and wrong.json["error"] == "method_not_allowed"
    assert "GET" in wrong.headers["Allow"]


def test_a_nul_in_the_query_string_is_400(client, user):
    response = Api(client, user).get("/resources?tag=a%00b")
    assert response.status_code == 400 and response.is_json
