"""A moved booking in mails and feeds: the same UID with a higher SEQUENCE and the new
time; the booker told, the owner's managers when it is a request again; a refused move
sends nothing. An expired request reads as cancelled in the feeds."""

from datetime import timedelta

import pytest
from engine_helpers import NOW, at
from mail_helpers import body
from test_feeds import events_of, get_feed
from test_mail import app_config, english, only_event  # noqa: F401  (fixtures)

from sharing.core.extensions import db
from sharing.engine import BookingChanges, BookingRefused, book, expire_past_requests, move
from sharing.services.feeds import personal_feed_url


def booked(scene):
    request = scene.request("2027-03-02 10:00", "2027-03-02 11:00", title="Assemblée générale")
    return book(scene.member, request, NOW).bookings[0]


def later(booking_id, scene, start="2027-03-02 14:00", end="2027-03-02 15:00", user=None):
    return move(user or scene.member, booking_id,
                BookingChanges(start=at(start), end=at(end)), now=NOW)


@pytest.mark.usefixtures("english")
def test_the_booker_gets_the_new_time_as_an_update_of_the_same_event(scene, inbox):
    booking = booked(scene)
    (confirmation,) = inbox.messages
    _calendar, first = only_event(confirmation)
    inbox.clear()
    later(booking.id, scene)
    (message,) = inbox.messages
    assert message["To"] == "member@example.org"
    assert message["Subject"] == f"Booking changed: {scene.room.name}"
    assert "Tue 2 Mar 2027 14:00–15:00" in body(message)
    calendar, event = only_event(message)
    assert calendar["METHOD"] == "REQUEST"
    assert event["UID"] == first["UID"] and event["SEQUENCE"] > first["SEQUENCE"]
    assert event.decoded("DTSTART") == at("2027-03-02 14:00")


@pytest.mark.usefixtures("english")
def test_a_request_again_goes_to_the_owners_managers(scene, inbox):
    scene.room.requires_approval = True
    db.session.commit()
    booking = booked(scene)
    inbox.clear()
    later(booking.id, scene)
    assert sorted((m["To"], m["Subject"].split(":")[0]) for m in inbox.messages) == [
        ("manager@example.org", "Booking request to approve"),
        ("member@example.org", "Booking changed")]


@pytest.mark.usefixtures("english")
def test_a_refused_move_sends_nothing(scene, inbox, create_booking):
    booking = booked(scene)
    create_booking(scene.room, scene.owner, scene.manager, at("2027-03-02 14:00"))
    inbox.clear()
    with pytest.raises(BookingRefused):
        later(booking.id, scene)
    assert inbox.messages == []


def test_the_feed_keeps_the_uid_with_a_higher_sequence(client, scene):
    booking = booked(scene)
    url = personal_feed_url(scene.member)
    before = events_of(get_feed(client, url))[booking.uid]
    later(booking.id, scene)
    after = events_of(get_feed(client, url))
    assert list(after) == [booking.uid]
    assert after[booking.uid]["sequence"] == before["sequence"] + 1
    assert after[booking.uid]["start"] == at("2027-03-02 14:00")


def test_an_expired_request_reads_as_cancelled_in_the_feed(client, scene, create_booking,
                                                         now):
    request = create_booking(scene.room, scene.booker, scene.member, now + timedelta(hours=1),
                             status="pending")
    url = personal_feed_url(scene.member)
    before = events_of(get_feed(client, url))[request.uid]
    expire_past_requests(now + timedelta(hours=2))
    after = events_of(get_feed(client, url))[request.uid]
    assert (before["status"], after["status"]) == ("TENTATIVE", "CANCELLED")
    assert after["sequence"] > before["sequence"]
