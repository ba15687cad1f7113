"""Booking messages, through the outbox and a real SMTP server on loopback: who gets what,
in which language, with which iTIP attachment; a rollback sends nothing; preferences and
the daily digest."""

from datetime import timedelta

import pytest
from engine_helpers import NOW
from icalendar import Calendar
from mail_helpers import body, calendars
from sqlalchemy import func, select

from sharing.core.database import utcnow, write_transaction
from sharing.core.extensions import db
from sharing.engine import BookingRefused, book, cancel, decide
from sharing.models import Booking, NotificationPreference, OutboxMessage
from sharing.services.notifications import queue_message, save_settings
from sharing.services.personal_data import anonymise_person
from sharing.services.worker import run_once


@pytest.fixture
def app_config(smtp_port):
    return {"MAIL_SERVER": "127.0.0.1", "MAIL_PORT": smtp_port}


@pytest.fixture
def english(scene):
    """The scene's people read English, except where a test says otherwise."""
    for user in (scene.manager, scene.member):
        user.locale = "en"
    db.session.commit()
    return scene


def outbox_count(**where) -> int:
    return db.session.scalar(select(func.count()).select_from(OutboxMessage)
                             .filter_by(**where))


def only_event(message) -> tuple[Calendar, object]:
    (ics,) = calendars(message)
    calendar = Calendar.from_ical(ics)
    (event,) = calendar.walk("VEVENT")
    return calendar, event


def book_all(scene, **fields) -> list[Booking]:
    request = scene.request("2027-03-02 10:00", "2027-03-02 11:00", title="Assemblée générale",
                            note="Code de la porte 1234", **fields)
    return book(scene.member, request, NOW).bookings


def book_room(scene, **fields) -> Booking:
    (booking,) = book_all(scene, **fields)
    return booking


def test_a_request_goes_to_the_owners_managers_with_an_invitation(english, inbox,
                                                                    create_user):
    scene = english
    scene.room.requires_approval = True
    second = create_user(email="second@example.org", organisation=scene.owner, role="manager",
                         locale="en")
    create_user(email="plain@example.org", organisation=scene.owner)  # a member: no mail
    booking = book_room(scene)
    messages = inbox.messages
    assert sorted(m["To"] for m in messages) == ["manager@example.org", second.email]
    message = messages[0]
    assert message["Subject"] == f"Booking request to approve: {scene.room.name}"
    text = body(message)
    assert "http://sharing.test/bookings/approvals" in text
    assert "Assemblée générale" in text and "Tue 2 Mar 2027 10:00–11:00" in text
    calendar, event = only_event(message)
    assert calendar["METHOD"] == "REQUEST"
    assert str(event["UID"]) == booking.uid
    assert str(event["ORGANIZER"]).startswith("mailto:")
    assert str(event["ATTENDEE"]) == f"mailto:{message['To']}"
    assert event.decoded("DTSTART") == booking.starts_at


def test_approval_then_cancellation_reach_the_booker_with_a_higher_sequence(english, inbox):
    scene = english
    scene.room.requires_approval = True
    booking = book_room(scene)
    inbox.clear()
    decide(scene.manager, booking.id, approve=True)
    (approved,) = inbox.messages
    assert approved["To"] == "member@example.org"
    assert approved["Subject"].startswith("Booking approved")
    _calendar, first = only_event(approved)
    cancel(scene.manager, booking.id, reason="Dégât des eaux")
    cancelled = inbox.messages[1]
    assert cancelled["To"] == "member@example.org"
    assert "Reason: Dégât des eaux" in body(cancelled)
    calendar, second = only_event(cancelled)
    assert calendar["METHOD"] == "CANCEL" and second["STATUS"] == "CANCELLED"
    assert second["UID"] == first["UID"] and second["SEQUENCE"] > first["SEQUENCE"]


def test_a_rejection_says_why(english, inbox):
    scene = english
    scene.room.requires_approval = True
    booking = book_room(scene)
    inbox.clear()
    decide(scene.manager, booking.id, approve=False, reason="Salle en travaux")
    (message,) = inbox.messages
    assert message["Subject"].startswith("Booking request rejected")
    assert "Reason: Salle en travaux" in body(message)
    assert only_event(message)[0]["METHOD"] == "CANCEL"


@pytest.fixture
def shared_time(english, create_user, create_resource):
    """A resource of the owner that is someone's time: `shared_time(kind, name, email)`."""

    def factory(kind: str, name: str, email: str):
        person = create_user(email=email, locale="en")
        return create_resource(kind=kind, owner=english.owner, site=english.room.site,
                               name=name, person=person)

    return factory


def test_a_confirmed_booking_of_staff_time_tells_the_booker_and_the_person(
        english, inbox, shared_time):
    scene = english
    book_room(scene, resource=shared_time("staff", "Comptable partagée", "compta@example.org"))
    messages = {m["To"]: m for m in inbox.messages}
    assert set(messages) == {"member@example.org", "compta@example.org"}
    assert messages["member@example.org"]["Subject"] == "Booking confirmed: Comptable partagée"
    assert messages["compta@example.org"]["Subject"] == "Your time is booked: Comptable partagée"
    assert "Assemblée générale" in body(messages["compta@example.org"])  # they may see it


def test_the_person_hears_when_a_booking_of_their_time_is_cancelled(english, inbox,
                                                                    shared_time):
    scene = english
    booking = book_room(scene, resource=shared_time("expertise", "Diagnostic énergie",
                                                    "expert@example.org"))
    inbox.clear()
    cancel(scene.member, booking.id)
    messages = {m["To"]: m for m in inbox.messages}
    assert set(messages) == {"manager@example.org", "expert@example.org"}
    message = messages["expert@example.org"]
    assert message["Subject"] == "Booking of your time cancelled: Diagnostic énergie"
    calendar, event = only_event(message)
    assert calendar["METHOD"] == "CANCEL" and str(event["UID"]) == booking.uid


def test_the_booker_cancelling_tells_the_other_side_only(english, inbox):
    scene = english
    booking = book_room(scene)
    inbox.clear()
    cancel(scene.member, booking.id)
    (message,) = inbox.messages
    assert message["To"] == "manager@example.org"
    assert message["Subject"] == f"Booking cancelled: {scene.room.name}"


def test_pages_queue_the_messages_in_their_own_transaction(english, inbox, login):
    scene = english
    series = book_all(scene, recurrence="FREQ=WEEKLY;COUNT=3")
    inbox.clear()
    client = login(scene.manager)
    response = client.post(f"/bookings/{series[1].id}/cancel",
                           data={"scope": "following", "cancel_reason": "Fin du projet"})
    assert response.status_code == 302
    assert outbox_count(kind="cancellation", status="waiting") == 1  # not sent by the request
    (message,) = inbox.messages
    assert message["To"] == "member@example.org"
    assert message["Subject"] == f"2 bookings cancelled: {scene.room.name}"
    uids = {str(Calendar.from_ical(ics).walk("VEVENT")[0]["UID"]) for ics in calendars(message)}
    assert uids == {series[1].uid, series[2].uid}


def test_each_message_is_in_its_recipients_language(scene, inbox):
    scene.member.locale = "en"  # the manager keeps the factory's French
    scene.room.requires_approval = True
    book_room(scene)
    (message,) = inbox.messages
    assert body(message).startswith("Bonjour Camille Martin,")


def test_a_series_makes_one_message_with_an_invitation_per_occurrence(english, inbox):
    scene = english
    book_all(scene, recurrence="FREQ=WEEKLY;COUNT=3")
    (message,) = inbox.messages
    assert message["Subject"] == f"3 bookings confirmed: {scene.room.name}"
    assert len(calendars(message)) == 3


def test_a_rolled_back_change_sends_nothing(english, inbox):
    scene = english
    with pytest.raises(RuntimeError), write_transaction():
        db.session.add(Booking(resource=scene.room, organisation=scene.booker,
                               user=scene.member, starts_at=NOW, ends_at=NOW + timedelta(hours=1),
                               blocks_until=NOW + timedelta(hours=1)))
        db.session.flush()
        raise RuntimeError("the change fails after its booking was flushed")
    assert outbox_count() == 0
    scene.member.display_name = "Camille M."  # a later commit must not revive the change
    db.session.commit()
    assert outbox_count() == 0
    assert inbox.messages == []


def test_a_refused_booking_sends_nothing(english, inbox):
    scene = english
    book_room(scene)
    inbox.clear()
    with pytest.raises(BookingRefused):
        book_room(scene)
    assert inbox.messages == []


def test_someone_outside_the_booking_may_read_only_the_interval(english, inbox, create_user,
                                                                 create_organisation):
    scene = english
    booking = book_room(scene)
    inbox.clear()
    outsider = create_user(email="out@example.org", name="Sam Dehors",
                           organisation=create_organisation(), locale="en")
    queue_message("cancellation", outsider, [booking])
    db.session.commit()
    (message,) = inbox.messages
    text = body(message) + calendars(message)[0].decode()
    for secret in ("Assemblée", "Code de la porte", scene.booker.name, "Camille",
                   booking.uid):
        assert secret not in text
    assert "Booked" in text and scene.room.name in text


def test_anonymising_a_person_forgets_their_mail_and_sends_none(english, inbox):
    scene = english
    book_room(scene)  # a confirmation waits for the member
    anonymise_person(scene.member)
    db.session.commit()
    assert inbox.messages == []
    row = db.session.scalar(select(OutboxMessage).where(OutboxMessage.kind == "confirmation"))
    assert (row.status, row.recipient, row.subject, row.content) == (
        "failed", f"anonymised-{scene.member.id}@invalid", "", "")


# --- preferences and the digest ------------------------------------------------------------

def test_a_kind_turned_off_is_not_sent(english, inbox):
    scene = english
    save_settings(scene.member, {"confirmation": "off"})
    db.session.commit()
    book_room(scene)
    assert inbox.messages == []
    assert outbox_count() == 0


def test_managers_may_get_pending_requests_as_a_daily_digest(english, inbox):
    scene = english
    scene.room.requires_approval = True
    save_settings(scene.manager, {"request": "digest"})
    db.session.commit()
    first = book_room(scene)
    book(scene.member, scene.request("2027-03-03 10:00", "2027-03-03 11:00"), NOW)
    assert inbox.messages == []
    assert outbox_count(status="held") == 2
    decide(scene.manager, first.id, approve=False, reason="Non")  # no longer pending
    inbox.clear()
    run_once(utcnow() + timedelta(days=1))
    (digest,) = inbox.received
    assert digest["Subject"] == "1 booking request awaits your decision"
    assert "http://sharing.test/bookings/approvals" in body(digest)
    assert len(calendars(digest)) == 1
    run_once(utcnow() + timedelta(days=2))
    assert len(inbox.received) == 1  # each request is in one digest only


def test_preferences_on_the_account_page(english, client, login):
    scene = english
    login(scene.manager)
    page = client.get("/account/")
    assert "One daily digest" in page.text
    response = client.post("/account/notifications", data={
        "notifications-request": "digest", "notifications-decision": "on",
        "notifications-confirmation": "off", "notifications-cancellation": "on",
        "notifications-staff": "on"})
    assert response.status_code == 302
    settings = dict(db.session.execute(select(NotificationPreference.kind,
                                              NotificationPreference.setting)).all())
    assert settings == {"request": "digest", "confirmation": "off"}


def test_a_bad_preference_is_refused_naming_the_field(english, client, login):
    scene = english
    login(scene.manager)
    response = client.post("/account/notifications", data={
        "notifications-request": "on", "notifications-decision": "digest",
        "notifications-confirmation": "on", "notifications-cancellation": "on",
        "notifications-staff": "on"})
    assert response.status_code == 422
    assert "Not a valid choice" in response.text
    assert db.session.scalar(select(func.count()).select_from(NotificationPreference)) == 0
