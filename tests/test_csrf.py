"""Every form-accepting POST route refuses a request without a CSRF token, changing nothing.

The routes are read from the application's URL map, so forms added by any blueprint are
covered as soon as they are registered. The JSON API (bearer tokens, no cookies) is not.
"""

import re
import uuid

import pytest
from flask import url_for
from sqlalchemy import select
from test_auth import fresh_current_user_per_request  # noqa: F401  (autouse fixture)
from werkzeug.routing import AnyConverter, FloatConverter, IntegerConverter, UUIDConverter

from sharing.extensions import db
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
