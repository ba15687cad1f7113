"""Every form-accepting POST route refuses a request without a CSRF token, changing nothing.

The routes are read from the application's URL map, so forms added by any blueprint are
covered as soon as they are registered. The JSON API (bearer tokens, no cookies) is not.
"""

import re
import uuid

import pytest
from booking_page_helpers import english  # noqa: F401  (fixture)
from flask import url_for
from sqlalchemy import select
from test_auth import english_pages  # noqa: F401  (autouse fixture)
from werkzeug.routing import AnyConverter, FloatConverter, IntegerConverter, UUIDConverter

from sharing.core.extensions import db
from sharing.models import Site

DUMMY_VALUES = {IntegerConverter: 1, FloatConverter: 1.0, UUIDConverter: uuid.UUID(int=1)}


@pytest.fixture
def app_config():
    return {"WTF_CSRF_ENABLED": True}


def form_post_rules(app):
    for rule in app.url_map.iter_rules():
        if "POST" in rule.methods and not rule.rule.startswith("/api/"):
            yield rule


def dummy_value(converter):
    if isinstance(converter, AnyConverter):
        return sorted(converter.items)[0]
    return DUMMY_VALUES.get(type(converter), "x")


def dummy_url(app, rule) -> str:
    values = {name: dummy_value(converter) for name, converter in rule._converters.items()}
    with app.test_request_context():
        return url_for(rule.endpoint, **values)


def database_snapshot() -> dict[str, list]:
    db.session.expire_all()
    return {table.name: sorted(map(tuple, db.session.execute(select(table)).all()), key=repr)
            for table in db.metadata.sorted_tables}


@pytest.fixture
def scene(create_user, create_organisation, create_resource, create_booking, now):
    org = create_organisation(slug="x")
    admin = create_user(email="admin@example.org", is_admin=True, organisation=org,
                        role="manager")
    resource = create_resource(owner=org, slug="x")
    create_booking(resource, org, admin, now)
    return admin


def test_every_form_post_needs_a_csrf_token(app, client, login, scene):
    rules = list(form_post_rules(app))
    assert {"auth.login", "auth.logout", "admin.new_site", "orgs.invite"} <= {
        rule.endpoint for rule in rules}
    login(scene)
    before = database_snapshot()
    for rule in rules:
        url = dummy_url(app, rule)
        response = client.post(url, data={"name": "Intruder", "email": "x@example.org",
                                          "slug": "intruder", "timezone": "Europe/Paris"})
        assert response.status_code == 400, f"{rule.endpoint} {url}"
        assert b"CSRF" in response.data, rule.endpoint
    assert database_snapshot() == before


def test_a_post_with_the_token_goes_through(client, login, scene):
    login(scene)
    page = client.get("/admin/sites/new")
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page.text)
    token = token or re.search(r'name="csrf-token" content="([^"]+)"', page.text)
    response = client.post("/admin/sites/new", data={
        "csrf_token": token.group(1), "name": "Voiron", "timezone": "Europe/Paris"})
    assert response.status_code == 302
    assert db.session.scalars(select(Site.address).where(Site.name == "Voiron")).all() == [""]


GARBAGE_IDS = {IntegerConverter: 2**70, FloatConverter: 1e308, UUIDConverter: uuid.UUID(int=1)}
FIELD_NAMES = ["email", "password", "confirm", "name", "slug", "timezone", "address",
               "legal_form", "role", "profile-name", "profile-locale", "profile-timezone",
               "password-current_password", "password-new_password", "password-confirm",
               "token-name", "description", "tags", "quantity", "capacity", "site", "q"]


@pytest.mark.parametrize("with_nul", [True, False], ids=["nul-characters", "huge-ids"])
def test_no_page_answers_500_to_garbage(app, client, login, scene, with_nul):
    """Every page (with CSRF off, as in the other tests) for huge ids and NUL characters."""
    app.config["WTF_CSRF_ENABLED"] = False
    garbage = {name: "a\x00b" if with_nul else "9" * 30 for name in FIELD_NAMES}
    for rule in app.url_map.iter_rules():
        # /readyz rightly answers 503 here: create_all() leaves no migration version.
        if rule.rule.startswith(("/api/", "/static/")) or rule.endpoint == "health.readyz":
            continue
        values = {name: GARBAGE_IDS.get(type(conv), "x\x00" if with_nul else "x")
                  for name, conv in rule._converters.items()}
        if any(isinstance(conv, AnyConverter) for conv in rule._converters.values()):
            continue
        with app.test_request_context():
            url = url_for(rule.endpoint, **values)
        for method in sorted(rule.methods & {"GET", "POST"}):
            login(scene)  # again: one of the rules is the logout
            response = client.open(url, method=method, data=garbage,
                                   query_string=garbage if method == "GET" else None)
            assert response.status_code < 500, f"{method} {url}"
