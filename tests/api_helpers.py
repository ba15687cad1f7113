"""Calling the JSON API in tests: a client carrying a user's token, the database's state
read through a separate connection, and a battery of malformed bodies."""

import json
import uuid
from dataclasses import dataclass
from functools import cache
from typing import Any

from conftest import one_commit
from sqlalchemy import Dialect, Table

from sharing.core.extensions import db
from sharing.models import ApiToken, Membership, Organisation, Resource, Site, User
from sharing.services.api_tokens import create_api_token

API = "/api/v1"


class Api:
    """The test client, sending `Authorization: Bearer <a fresh token of user>`."""

    def __init__(self, client, user):
        self.token, raw = create_api_token(user, "tests")
        db.session.commit()
        self.client = client
        self.headers = {"Authorization": f"Bearer {raw}"}

    def call(self, method: str, path: str, **kwargs):
        return self.client.open(API + path, method=method, headers=self.headers, **kwargs)

    def get(self, path: str, **kwargs):
        return self.call("GET", path, **kwargs)

    def post(self, path: str, **kwargs):
        return self.call("POST", path, **kwargs)

    def put(self, path: str, **kwargs):
        return self.call("PUT", path, **kwargs)

    def patch(self, path: str, **kwargs):
        return self.call("PATCH", path, **kwargs)

    def delete(self, path: str, **kwargs):
        return self.call("DELETE", path, **kwargs)


def database_state() -> dict[str, list[str]]:
    """Every row of every table (but API tokens, whose last use changes), each as text,
    read through a connection of its own: what was really committed. One statement for
    all the tables: on PostgreSQL a statement per table, each its own round trip, made
    this check cost more than the request it checks."""
    state: dict[str, list[str]] = {table.name: [] for table in STATE_TABLES}
    with db.engine.connect() as connection:
        for name, row in connection.exec_driver_sql(state_query(connection.dialect)):
            state[name].append(row)
    return {name: sorted(rows) for name, rows in state.items()}


STATE_TABLES = [table for table in db.metadata.sorted_tables
                if table.name != ApiToken.__tablename__]


@cache
def state_query(dialect: Dialect) -> str:
    quote = dialect.identifier_preparer

    def row_as_text(table: Table) -> str:
        if dialect.name == "postgresql":
            return "CAST(r AS text)"
        return f"json_array({', '.join('r.' + quote.quote(c.name) for c in table.columns)})"

    return " UNION ALL ".join(f"SELECT '{table.name}', {row_as_text(table)} "
                              f"FROM {quote.format_table(table)} AS r" for table in STATE_TABLES)


RAW_GARBAGE = [
    b"", b"null", b"[]", b"[1, 2]", b'"text"', b"42", b"true", b"{", b'{"a":', b"}{",
    b"\xff\xfe\x00", b"NaN", b'{"x": NaN}', b'{"x": Infinity}', b'{"x": -Infinity}', b"1e999",
    b'{"x": 1e999}', b"9" * 5000, b"[" * 100_000, b'{"a":' * 50_000, b"<xml/>",
    b"start=2027-01-01", "{\"é\": \"\u2028\"}".encode("utf-16"),
]
GARBAGE_VALUES: list[Any] = [
    None, True, False, 0, -1, 2**31, 2**63, 10**40, -(10**40), 1.5, -0.0, 1e308, "", " ",
    "x", "\u0000", "a" * 10_000, "2027-01-01", "2027-01-01T10:00:00", "2027-13-45T99:99:99Z",
    "9999-12-31T23:59:59-23:59", "0001-01-01T00:00:00+01:00", [], [1, "a", None], {},
    {"a": {"b": [{}]}}, [[["deep"]]],
]


def garbage_bodies(valid: dict[str, Any]) -> list[bytes]:
    """Malformed documents, then the valid body with each field missing, replaced by each
    garbage value, and with an unknown field."""
    bodies = list(RAW_GARBAGE)
    for name in valid:
        bodies.append(json.dumps({k: v for k, v in valid.items() if k != name}).encode())
        bodies.extend(json.dumps({**valid, name: value}).encode() for value in GARBAGE_VALUES)
    bodies.append(json.dumps({**valid, "unexpected": 1}).encode())
    bodies.append(json.dumps({"data": valid}).encode())
    return bodies


def assert_garbage_refused(api: Api, method: str, path: str, valid: dict[str, Any]) -> None:
    """No garbage body gets a 500; a refused one writes nothing and answers JSON."""
    state = database_state()
    for body in garbage_bodies(valid):
        response = api.call(method, path, data=body, content_type="application/json")
        assert response.status_code < 500, (body[:200], response.get_data(as_text=True))
        if response.status_code >= 400:
            assert response.is_json and response.json["error"], body[:200]
            assert database_state() == state, body[:200]
        else:  # accepted: what it wrote is the new state to keep
            state = database_state()


@dataclass
class Pole:
    """Three organisations on one site. The ressourcerie owns a room shared with all and a
    van listed for the pâtisserie only; énergie is an outsider to the van."""

    site: Site
    owner: Organisation
    partner: Organisation
    outsider: Organisation
    manager: User  # manages the owner
    member: User  # member of the owner
    partner_member: User
    outsider_member: User
    outsider_manager: User
    admin: User
    room: Resource
    van: Resource


def person(organisation: Organisation | None = None, role: str = "member",
           is_admin: bool = False) -> User:
    """A user without a password (hashing one is slow, and the API needs none)."""
    user = User(email=f"{uuid.uuid4().hex[:10]}@example.org", display_name="Dominique",
                is_admin=is_admin)
    if organisation is not None:
        user.memberships.append(Membership(organisation=organisation, role=role))
    db.session.add(user)
    return user


def make_pole(create_site, create_organisation, create_resource) -> Pole:
    with one_commit():
        site = create_site(name="Voiron")
        owner = create_organisation(slug="ressourcerie")
        partner = create_organisation(slug="patisserie")
        outsider = create_organisation(slug="energie")
        room = create_resource(kind="room", owner=owner, site=site, name="Salle des Tilleuls",
                               capacity=12, tags=["reunion"])
        van = create_resource(kind="equipment", owner=owner, site=site,
                              name="Camion frigorifique", quantity=2, visibility="listed",
                              tags=["froid"], pickup_place="Quai 2")
    van.visible_to_ids = [partner.id]
    pole = Pole(
        site=site, owner=owner, partner=partner, outsider=outsider,
        manager=person(owner, "manager"), member=person(owner),
        partner_member=person(partner), outsider_member=person(outsider),
        outsider_manager=person(outsider, "manager"), admin=person(is_admin=True),
        room=room, van=van,
    )
    db.session.commit()
    return pole
