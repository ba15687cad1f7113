"""The booking endpoints: make, list, read, cancel, approve, reject; availability."""

import pytest
from api_helpers import Api, assert_garbage_refused, make_pole
from sqlalchemy import select

from sharing.core.extensions import db
from sharing.models import Booking

MONDAY = "2031-03-03"


def slot(hour: int, minutes: int = 60, day: str = MONDAY) -> tuple[str, str]:
    end_hour, end_minute = divmod(hour * 60 + minutes, 60)
    return f"{day}T{hour:02d}:00:00+01:00", f"{day}T{end_hour:02d}:{end_minute:02d}:00+01:00"


@pytest.fixture
def pole(create_site, create_organisation, create_resource):
    return make_pole(create_site, create_organisation, create_resource)


@pytest.fixture
def api_as(client):
    return lambda user: Api(client, user)


def booking_body(pole, hour=10, **fields):
    start, end = slot(hour)
    return {"resource_id": pole.room.id, "organisation_id": pole.partner.id, "start": start,
            "end": end, "title": "Atelier pâtisserie", **fields}


def stored_bookings():
    return list(db.session.scalars(select(Booking).order_by(Booking.id)))


def test_book_then_read_and_list(pole, api_as):
    api = api_as(pole.partner_member)
    response = api.post("/bookings", json=booking_body(pole, note="Prévoir le four"))
    assert response.status_code == 201, response.json
    (booking,) = response.json["bookings"]
    assert response.json["skipped"] == []
    assert booking["start"] == "2031-03-03T09:00:00Z" and booking["end"] == "2031-03-03T10:00:00Z"
    assert booking["status"] == "confirmed" and booking["sequence"] == 0
    assert booking["title"] == "Atelier pâtisserie" and booking["uid"]
    (row,) = stored_bookings()
    assert row.id == booking["id"] and row.note == "Prévoir le four"
    assert api.get(f"/bookings/{row.id}").json["title"] == "Atelier pâtisserie"
    listed = api.get("/bookings", query_string={"start": "2031-03-01T00:00:00Z",
                                                "end": "2031-03-10T00:00:00Z"}).json
    assert [b["id"] for b in listed["bookings"]] == [row.id]


def test_another_organisations_booking_is_redacted(pole, api_as):
    api_as(pole.partner_member).post("/bookings", json=booking_body(pole, note="secret"))
    (row,) = stored_bookings()
    seen = api_as(pole.outsider_member).get(f"/bookings/{row.id}").json
    assert seen == {"busy": True, "resource_id": pole.room.id, "quantity": 1,
                    "start": "2031-03-03T09:00:00Z", "end": "2031-03-03T10:00:00Z"}
    listed = api_as(pole.outsider_member).get("/bookings", query_string={
        "start": "2031-03-01T00:00:00Z", "end": "2031-03-10T00:00:00Z"}).json["bookings"]
    assert listed == [seen]
    # the resource's owner sees the details
    assert api_as(pole.manager).get(f"/bookings/{row.id}").json["note"] == "secret"


def test_conflict_names_reasons_busy_only_and_alternatives(pole, api_as):
    api_as(pole.member).post("/bookings", json={**booking_body(pole),
                                                "organisation_id": pole.owner.id,
                                                "title": "Conseil d'administration"})
    response = api_as(pole.partner_member).post("/bookings", json=booking_body(pole))
    assert response.status_code == 409
    body = response.json
    assert body["error"] == "conflict"
    assert [(c["code"], c["start"], c["end"]) for c in body["conflicts"]] == [
        ("capacity", "2031-03-03T09:00:00Z", "2031-03-03T10:00:00Z")]
    assert "administration" not in response.get_data(as_text=True)
    assert body["alternatives"] and len(body["alternatives"]) <= 5
    api = api_as(pole.partner_member)
    for alternative in body["alternatives"]:
        booked = api.post("/bookings", json={**booking_body(pole), **alternative})
        assert booked.status_code == 201, booked.json
        api.post(f"/bookings/{booked.json['bookings'][0]['id']}/cancel")


def test_series_with_skipped_occurrences(pole, api_as):
    api = api_as(pole.partner_member)
    api.post("/bookings", json=booking_body(pole, hour=10) | {
        "start": slot(10, day="2031-03-10")[0], "end": slot(10, day="2031-03-10")[1]})
    response = api.post("/bookings", json=booking_body(
        pole, recurrence="FREQ=WEEKLY;BYDAY=MO;COUNT=3", skip_conflicts=True))
    assert response.status_code == 201
    assert [b["start"] for b in response.json["bookings"]] == [
        "2031-03-03T09:00:00Z", "2031-03-17T09:00:00Z"]
    (skipped,) = response.json["skipped"]
    assert skipped["start"] == "2031-03-10T09:00:00Z"
    assert skipped["conflicts"][0]["code"] == "capacity"
    series = {b["series_id"] for b in response.json["bookings"]}
    assert len(series) == 1 and None not in series


def test_cancel_following_and_reject_flow(pole, api_as):
    api = api_as(pole.partner_member)
    made = api.post("/bookings", json=booking_body(
        pole, recurrence="FREQ=DAILY;COUNT=3")).json["bookings"]
    cancelled = api.post(f"/bookings/{made[1]['id']}/cancel",
                         json={"scope": "following", "reason": "Four en panne"})
    assert cancelled.status_code == 200
    assert [b["status"] for b in cancelled.json["bookings"]] == ["cancelled", "cancelled"]
    assert [b.status for b in stored_bookings()] == ["confirmed", "cancelled", "cancelled"]
    again = api.post(f"/bookings/{made[1]['id']}/cancel")
    assert again.status_code == 409 and again.json["error"] == "invalid_state"
    assert api.post(f"/bookings/{made[0]['id']}/cancel", json={"scope": "all"}).status_code == 422


def test_approval_by_owner_managers_only(pole, api_as):
    pole.room.requires_approval = True
    db.session.commit()
    (pending,) = api_as(pole.partner_member).post("/bookings", json=booking_body(pole)).json[
        "bookings"]
    assert pending["status"] == "pending"
    path = f"/bookings/{pending['id']}"
    assert api_as(pole.partner_member).post(path + "/approve").status_code == 403
    assert api_as(pole.outsider_manager).post(path + "/approve").status_code == 403
    assert api_as(pole.manager).post(path + "/reject", json={}).status_code == 422
    assert stored_bookings()[0].status == "pending"
    approved = api_as(pole.manager).post(path + "/approve")
    assert approved.status_code == 200 and approved.json["status"] == "confirmed"
    assert approved.json["sequence"] == 1
    rejected = api_as(pole.manager).post(path + "/reject", json={"reason": "Trop tard"})
    assert rejected.status_code == 409


def test_reject_keeps_the_row_and_says_why(pole, api_as):
    pole.room.requires_approval = True
    db.session.commit()
    (pending,) = api_as(pole.partner_member).post("/bookings", json=booking_body(pole)).json[
        "bookings"]
    response = api_as(pole.manager).post(f"/bookings/{pending['id']}/reject",
                                         json={"reason": "Salle réservée au CA"})
    assert response.json["status"] == "rejected"
    (row,) = stored_bookings()
    assert row.decision_reason == "Salle réservée au CA" and row.decided_by_id == pole.manager.id


def test_permissions_and_unknowns(pole, api_as, client):
    body = booking_body(pole)
    assert client.post("/api/v1/bookings", json=body).status_code == 401
    # booking for an organisation one does not belong to
    assert api_as(pole.outsider_member).post("/bookings", json=body).status_code == 403
    # a resource listed for others is unknown to outsiders: nothing leaks
    van = {**body, "resource_id": pole.van.id, "organisation_id": pole.outsider.id}
    response = api_as(pole.outsider_member).post("/bookings", json=van)
    assert response.status_code == 422 and "resource_id" in response.json["fields"]
    assert api_as(pole.outsider_member).get(
        f"/resources/{pole.van.id}/availability",
        query_string={"start": "2031-03-03T00:00:00Z", "end": "2031-03-04T00:00:00Z"},
    ).status_code == 404
    api = api_as(pole.partner_member)
    for path in ("/bookings/999", "/bookings/999/approve", "/bookings/999/cancel"):
        assert api.call("GET" if path == "/bookings/999" else "POST", path).status_code == 404
    assert stored_bookings() == []


def test_bookings_of_a_hidden_resource_are_not_found(pole, api_as):
    api_as(pole.partner_member).post("/bookings", json={
        **booking_body(pole), "resource_id": pole.van.id})
    (row,) = stored_bookings()
    assert api_as(pole.outsider_member).get(f"/bookings/{row.id}").status_code == 404
    assert api_as(pole.outsider_member).post(f"/bookings/{row.id}/cancel").status_code == 404
    assert stored_bookings()[0].status == "confirmed"


def test_naive_times_and_bad_fields_are_422(pole, api_as):
    api = api_as(pole.partner_member)
    naive = {**booking_body(pole), "start": "2031-03-03T10:00:00"}
    response = api.post("/bookings", json=naive)
    assert response.status_code == 422 and "start" in response.json["fields"]
    response = api.post("/bookings", json={**booking_body(pole), "recurrence": "FREQ=HOURLY"})
    assert response.status_code == 422 and "recurrence" in response.json["fields"]
    assert stored_bookings() == []


def test_invalid_interval_is_a_conflict(pole, api_as):
    body = {**booking_body(pole), "end": booking_body(pole)["start"]}
    response = api_as(pole.partner_member).post("/bookings", json=body)
    assert response.status_code == 409
    assert [c["code"] for c in response.json["conflicts"]] == ["invalid_interval"]


def test_availability(pole, api_as):
    api = api_as(pole.partner_member)
    api.post("/bookings", json=booking_body(pole))
    response = api.get(f"/resources/{pole.room.id}/availability", query_string={
        "start": "2031-03-03T08:00:00Z", "end": "2031-03-03T12:00:00Z"})
    assert response.status_code == 200
    assert response.json == {
        "busy": [{"start": "2031-03-03T09:00:00Z", "end": "2031-03-03T10:00:00Z", "units": 1}],
        "free": [{"start": "2031-03-03T08:00:00Z", "end": "2031-03-03T09:00:00Z"},
                 {"start": "2031-03-03T10:00:00Z", "end": "2031-03-03T12:00:00Z"}]}
    missing = api.get(f"/resources/{pole.room.id}/availability")
    assert missing.status_code == 422 and set(missing.json["fields"]) == {"start", "end"}
    backwards = api.get(f"/resources/{pole.room.id}/availability", query_string={
        "start": "2031-03-03T12:00:00Z", "end": "2031-03-03T08:00:00Z"})
    assert backwards.status_code == 422


def test_garbage_bodies_never_500_nor_write(pole, api_as):
    api = api_as(pole.partner_member)
    assert_garbage_refused(api, "POST", "/bookings", booking_body(pole, hour=14))
    made = api.post("/bookings", json=booking_body(pole, hour=8)).json["bookings"][0]
    assert_garbage_refused(api, "POST", f"/bookings/{made['id']}/cancel", {"reason": "x"})
    pole.room.requires_approval = True
    db.session.commit()
    pending = api.post("/bookings", json=booking_body(pole, hour=11)).json["bookings"][0]
    assert_garbage_refused(api_as(pole.manager), "POST", f"/bookings/{pending['id']}/reject",
                           {"reason": "non"})
