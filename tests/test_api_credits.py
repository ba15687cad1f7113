"""/organisations/<id>/account and /grants, and a resource's price through the API."""

from datetime import UTC, datetime

import pytest
from api_helpers import Api, assert_garbage_refused, database_state, make_pole

from sharing.core.extensions import db
from sharing.models import CreditEntry

START = "2027-03-02T09:00:00Z"


@pytest.fixture
def pole(create_site, create_organisation, create_resource):
    return make_pole(create_site, create_organisation, create_resource)


def account(organisation) -> str:
    return f"/organisations/{organisation.id}/account"


def grants(organisation) -> str:
    return f"/organisations/{organisation.id}/grants"


def test_the_coordinator_grants_and_withdraws_with_a_memo(client, pole):
    api = Api(client, pole.admin)
    response = api.post(grants(pole.partner), json={"amount": 12.5, "memo": "Dotation 2027"})
    assert response.status_code == 201
    assert {k: response.json[k] for k in ("amount", "reason", "booking_id", "memo")} == {
        "amount": 12.5, "reason": "grant", "booking_id": None, "memo": "Dotation 2027"}
    assert api.post(grants(pole.partner), json={"amount": -2, "memo": "Correction"}
                    ).status_code == 201
    data = api.get(account(pole.partner)).json
    assert (data["balance"], data["floor"], data["total"], data["pages"]) == (10.5, 0, 2, 1)
    assert [e["amount"] for e in data["entries"]] == [-2, 12.5]  # newest first


@pytest.mark.parametrize("who", ["manager", "member", "partner_member", "outsider_manager"])
def test_only_the_coordinator_grants(client, pole, who):
    state = database_state()
    response = Api(client, getattr(pole, who)).post(
        grants(pole.partner), json={"amount": 5, "memo": "Subvention"})
    assert response.status_code == 403 and database_state() == state


@pytest.mark.parametrize(("who", "status"), [
    ("partner_member", 200), ("admin", 200), ("manager", 403), ("outsider_member", 403)])
def test_members_and_the_coordinator_read_the_account(client, pole, who, status):
    assert Api(client, getattr(pole, who)).get(account(pole.partner)).status_code == status


def test_unknown_organisation_is_404(client, pole):
    api = Api(client, pole.admin)
    assert api.get("/organisations/999999/account").status_code == 404
    assert api.post("/organisations/999999/grants",
                    json={"amount": 1, "memo": "x"}).status_code == 404


@pytest.mark.parametrize(("body", "field"), [
    ({"amount": 0, "memo": "x"}, "amount"), ({"amount": 1.234, "memo": "x"}, "amount"),
    ({"amount": "5", "memo": "x"}, "amount"), ({"amount": 5, "memo": " "}, "memo"),
    ({"amount": 2e6, "memo": "x"}, "amount"), ({"memo": "x"}, "amount"),
])
def test_bad_grants_are_422_naming_the_field(client, pole, body, field):
    response = Api(client, pole.admin).post(grants(pole.partner), json=body)
    assert response.status_code == 422 and field in response.json["fields"]


def test_garbage_grants_never_fail(client, pole):
    assert_garbage_refused(Api(client, pole.admin), "POST", grants(pole.partner),
                           {"amount": 5, "memo": "Subvention"})


def test_the_account_is_paged(client, pole):
    db.session.add_all([CreditEntry(organisation_id=pole.partner.id, reason="grant",
                                    amount_cents=100, memo=f"n{n}", author_id=pole.admin.id,
                                    at=datetime(2027, 1, 1, tzinfo=UTC))
                        for n in range(55)])
    db.session.commit()
    api = Api(client, pole.partner_member)
    first, second = (api.get(account(pole.partner) + f"?page={n}").json for n in (1, 2))
    assert (len(first["entries"]), len(second["entries"]), second["pages"]) == (50, 5, 2)
    assert first["balance"] == 55
    assert api.get(account(pole.partner) + "?page=0").status_code == 422


def test_a_priced_booking_shows_in_both_accounts(client, pole):
    admin = Api(client, pole.admin)
    admin.patch(f"/resources/{pole.room.id}", json={"price": 3, "price_unit": "booking"})
    admin.post(grants(pole.partner), json={"amount": 5, "memo": "Dotation"})
    member = Api(client, pole.partner_member)
    assert member.get(f"/resources/{pole.room.id}").json["price"] == 3
    response = member.post("/bookings", json={
        "resource_id": pole.room.id, "organisation_id": pole.partner.id,
        "start": START, "end": "2027-03-02T10:00:00Z"})
    assert response.status_code == 201, response.json
    assert member.get(account(pole.partner)).json["balance"] == 2
    assert admin.get(account(pole.owner)).json["entries"][0]["booking_id"] == \
        response.json["bookings"][0]["id"]
    refused = member.post("/bookings", json={
        "resource_id": pole.room.id, "organisation_id": pole.partner.id,
        "start": "2027-03-03T09:00:00Z", "end": "2027-03-03T10:00:00Z"})
    assert refused.status_code == 409
    assert [c["code"] for c in refused.json["conflicts"]] == ["credit"]


@pytest.mark.parametrize("price", [0, -1, 1.234, "3", True, 10**7])
def test_a_bad_price_is_422(client, pole, price):
    response = Api(client, pole.manager).patch(f"/resources/{pole.room.id}",
                                               json={"price": price})
    assert response.status_code == 422 and "price" in response.json["fields"]
