"""The engine speaks in codes (issue 6, §2): its rules run without an application or a
request, its refusals carry a code and values, and the faces word them, once, in the
reader's language. A booking's transaction never carries a half-made change along."""

import ast
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from api_helpers import Api, database_state, make_pole
from engine_helpers import NOW, PARIS, at
from flask import has_app_context
from sqlalchemy import select

from sharing.core.database import UnsavedChanges
from sharing.core.extensions import db
from sharing.core.validation import InvalidInput, Problem
from sharing.engine import CODES, BookingRequest, Conflict, InvalidTransition, book
from sharing.engine.calendar import ResourceCalendar
from sharing.engine.policy import validate_policy
from sharing.engine.recurrence import expand
from sharing.engine.rules import Slot, resource_conflicts
from sharing.models import Booking, Organisation, Resource, Site
from sharing.services.messages import TEXTS, VARIANTS, describe

ENGINE = Path(__file__).parent.parent / "sharing" / "engine"


def test_no_engine_module_imports_flask_babel():
    for module in ENGINE.glob("*.py"):
        imported = set()
        for node in ast.walk(ast.parse(module.read_text())):
            if isinstance(node, ast.Import):
                imported |= {alias.name for alias in node.names}
            elif isinstance(node, ast.ImportFrom):
                imported.add(node.module or "")
        assert not {name for name in imported if name.split(".")[0] == "flask_babel"}, module


# --- the rules, without an application ------------------------------------------------------

def room(**policy) -> Resource:
    """A resource in memory only: no database, no application."""
    return Resource(kind="room", name="Salle", site=Site(name="Voiron", timezone="Europe/Paris"),
                    quantity=1, min_duration_minutes=0, slot_minutes=15, buffer_minutes=0,
                    min_notice_minutes=0, **policy)


def codes_of(resource: Resource, start: datetime, end: datetime) -> list[tuple[str, dict]]:
    slot = Slot(resource, start, end)
    return [(c.code, c.params) for c in resource_conflicts(slot, ResourceCalendar(0), NOW)]


def test_the_rules_run_without_an_application():
    assert not has_app_context()
    assert codes_of(room(), at("2027-03-02 10:00"), at("2027-03-02 11:00")) == []
    assert codes_of(room(max_duration_minutes=60), at("2027-03-02 10:00"),
                    at("2027-03-02 12:00")) == [("too_long", {"n": 60})]
    assert codes_of(room(), at("2027-03-02 10:05"), at("2027-03-02 11:00")) == [
        ("misaligned", {"n": 15})]
    assert codes_of(room(), at("2027-03-28 02:30"), at("2027-03-28 03:30")) == [
        ("nonexistent_local_time", {"time": "02:30"})]
    assert codes_of(room(), at("2027-01-01 10:00"), at("2027-01-01 11:00")) == [
        ("too_soon", {"n": 0})]


def test_a_span_beyond_the_longest_booking_stops_every_other_rule():
    assert not has_app_context()
    hours = {"mon": [["08:00", "12:00"]]}
    # a thousand years, misaligned, outside the opening hours: only too_long is said
    assert codes_of(room(opening_hours=hours), at("2027-03-02 10:05"),
                    datetime(3027, 1, 1, tzinfo=UTC)) == [("too_long", {"n": 31 * 24 * 60})]
    assert codes_of(room(), at("2027-03-02 10:00"), at("2027-03-02 10:00")) == [
        ("invalid_interval", {})]


def test_policy_and_recurrence_problems_are_codes():
    assert not has_app_context()
    with pytest.raises(InvalidInput) as bad:
        validate_policy({"slot_minutes": 0, "opening_hours": {"mon": [["12:00", "08:00"]]}})
    assert bad.value.fields == {
        "slot_minutes": [Problem("whole_number_between", {"low": 1, "high": 1440})],
        "opening_hours": [Problem("opening_ranges", {"day": "mon"})]}
    with pytest.raises(InvalidInput) as bad:
        expand("FREQ=WEEKLY;UNTIL=99991231", at("2027-03-02 10:00"), at("2027-03-02 11:00"),
               PARIS)
    assert bad.value.fields == {"recurrence": [Problem("date_out_of_range")]}
    assert len(expand("FREQ=DAILY;COUNT=3", at("2027-03-27 10:00"), at("2027-03-27 11:00"),
                      PARIS)) == 3


# --- worded at the edge, once ---------------------------------------------------------------

def problem_codes_in_the_engine() -> set[str]:
    source = "\n".join(module.read_text() for module in ENGINE.glob("*.py"))
    pattern = r'(?:Problem|invalid|InvalidTransition|Conflict)\(\s*"([a-z_]+)"'
    return set(re.findall(pattern, source))


def test_every_code_the_engine_gives_has_a_wording():
    used = problem_codes_in_the_engine() | set(CODES) | {"date_out_of_range"}
    assert used - set(TEXTS) - set(VARIANTS) == set()


@pytest.mark.parametrize(("reason", "english"), [
    (Conflict("too_long", {"n": 90}), "Book at most 1 h 30."),
    (Conflict("too_long", {"n": 480}), "Book at most 8 h."),
    (Conflict("too_short", {"n": 45}), "Book at least 45 min."),
    (Conflict("misaligned", {"n": 15}), "Start and end must fall on a grid of 15 min."),
    (Conflict("too_soon", {"n": 0}), "This time has passed."),
    (Conflict("too_soon", {"n": 30}), "Book at least 30 min ahead."),
    (Conflict("too_soon", {"n": 2 * 24 * 60 + 5}), "Book at least 48 h 05 ahead."),
    (Conflict("closed", {"reason": "Travaux"}), "Travaux"),
    (Conflict("closed", {"reason": ""}), "Closed."),
    (Conflict("capacity", {"n": 2}), "Only 2 unit(s) can be booked."),
    (Conflict("capacity", {"title": "Atelier"}), "Already booked by your organisation: Atelier"),
    (Conflict("capacity", {}), "Busy."),
    (Conflict("quota", {"total": 5.5, "period": "week", "limit": 4}),
     "This would bring your organisation to 5.5 h this week; its share is 4 h."),
    (Problem("rule_number", {"name": "COUNT", "low": 1, "high": 500}),
     "COUNT must be a whole number from 1 to 500."),
    (InvalidTransition("already_decided", status="cancelled"),
     "This booking is already cancelled."),
])
def test_describe_words_each_reason(reason, english):
    assert describe(reason) == english


def test_every_conflict_code_is_worded_in_french(app):
    with app.test_request_context(headers={"Accept-Language": "fr"}):
        for code in CODES:
            params = {"n": 3, "time": "02:30", "title": "x", "reason": "",
                      "total": 5, "period": "month", "limit": 4, "price": 1250,
                      "balance": 300, "floor": -1000}
            worded = describe(Conflict(code, params))
            assert worded and "%(" not in worded, code
        assert describe(Conflict("capacity", {})) == "Créneau déjà pris."
        assert describe(Conflict("quota", {"total": 5, "period": "week", "limit": 4})) \
            .endswith("h.")


@pytest.fixture
def pole(create_site, create_organisation, create_resource):
    return make_pole(create_site, create_organisation, create_resource)


def test_the_api_words_refusals_in_the_readers_language(client, pole):
    pole.room.max_advance_days = 30
    pole.partner_member.locale = "fr"
    db.session.commit()
    body = {"resource_id": pole.room.id, "organisation_id": pole.partner.id,
            "start": "2031-03-03T10:00:00Z", "end": "2031-03-03T12:00:00Z"}
    refused = Api(client, pole.partner_member).post("/bookings", json=body)
    assert refused.json["conflicts"] == [{
        "code": "too_far", "resource_id": pole.room.id,
        "message": "Réservez au plus 30 jours à l'avance.",
        "start": "2031-03-03T10:00:00Z", "end": "2031-03-03T12:00:00Z"}]
    pole.partner_member.locale = "en"
    db.session.commit()
    invalid = Api(client, pole.partner_member).post("/bookings", json={**body, "end": body[
        "start"], "start": "1999-12-31T23:59:59Z"})
    assert invalid.json["fields"] == {"start": ["Give a date from 2000-01-01 to 2099-12-31."]}


# --- write_transaction refuses a half-made change ---------------------------------------------

def one_hour(scene) -> BookingRequest:
    return scene.request("2027-03-02 10:00", "2027-03-02 11:00")


def test_a_pending_new_object_is_refused_not_committed(scene):
    db.session.add(Organisation(slug="fantome", name="Fantôme"))
    with pytest.raises(UnsavedChanges):
        book(scene.member, one_hour(scene), now=NOW)
    db.session.rollback()
    assert db.session.scalar(select(Organisation).where(Organisation.slug == "fantome")) is None
    assert db.session.scalars(select(Booking)).all() == []


def test_a_pending_change_is_refused_not_committed(scene):
    scene.room.name = "Renommée en passant"
    with pytest.raises(UnsavedChanges):
        book(scene.member, one_hour(scene), now=NOW)
    db.session.rollback()
    db.session.expire_all()
    assert scene.room.name == "Salle des Tilleuls"


def test_a_session_that_only_read_books(scene):
    db.session.scalars(select(Resource)).all()
    scene.room.name = scene.room.name  # set to the same value: nothing to write
    (booking,) = book(scene.member, one_hour(scene), now=NOW).bookings
    assert booking.ends_at - booking.starts_at == timedelta(hours=1)


def test_the_api_writes_nothing_when_refusing(client, pole):
    before = database_state()
    response = Api(client, pole.partner_member).post("/bookings", json={
        "resource_id": pole.room.id, "organisation_id": pole.partner.id,
        "start": "2031-03-03T10:00:00Z", "end": "2031-03-03T10:00:00Z"})
    assert response.status_code == 409 and response.json["conflicts"][0]["code"] == \
        "invalid_interval"
    assert database_state() == before
