"""Every iCalendar document the application sends, built with `icalendar` in one place:
the subscribed feeds, a booking's single-event `.ics`, and the iTIP invitations mailed.

Times are written in UTC: every client reads them right and no VTIMEZONE is needed (the
one `icalendar` generates is misread by Mozilla's ical.js after the March change).
Each event's stamps come from the booking's last change, never from the clock, so an
unchanged calendar serialises to the same bytes.
"""

import hashlib
import hmac
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.utils import parseaddr

from flask import current_app
from flask_babel import force_locale
from flask_babel import gettext as _
from icalendar import Calendar, Event, vCalAddress, vDuration, vText

from sharing.core.urls import external_url_builder
from sharing.models import Booking, User
from sharing.services.permissions import can_see_booking_details

PRODID = "-//sharing//Bookings//EN"
REFRESH = timedelta(hours=1)
STATUSES = {"confirmed": "CONFIRMED", "pending": "TENTATIVE",
            "cancelled": "CANCELLED", "rejected": "CANCELLED", "expired": "CANCELLED"}
ITIP_METHODS = ("REQUEST", "CANCEL")

# Decides, per booking, whether the reader may see its title, note and who booked it.
ShowsDetails = Callable[[Booking], bool]


def utc(moment: datetime) -> datetime:
    return moment.astimezone(UTC)


def new_calendar(method: str) -> Calendar:
    calendar = Calendar()
    calendar.add("version", "2.0")
    calendar.add("prodid", PRODID)
    calendar.add("method", method)
    return calendar


def busy_uid(booking: Booking) -> str:
    """A stable UID for a booking shown as busy time: its real uid would let readers of
    different feeds link another organisation's bookings together."""
    key = current_app.config["SECRET_KEY"].encode()
    digest = hmac.new(key, b"busy-uid:" + booking.uid.encode(), hashlib.sha256).hexdigest()
    return f"{digest[:32]}@busy.sharing"


def location(booking: Booking) -> str:
    site = booking.resource.site
    return ", ".join(part for part in (site.name, site.address) if part)


@dataclass(frozen=True)
class Wording:
    """What a calendar's events say, looked up once per calendar (in the language of the
    moment), and the link back to a booking's page, bound once."""

    busy: str
    booked_by: str
    booking_url: Callable[..., str]

    @classmethod
    def current(cls) -> "Wording":
        return cls(_("Booked"), _("%(resource)s, booked by %(person)s for %(organisation)s."),
                   external_url_builder("bookings.detail"))


def description(booking: Booking, wording: Wording) -> str:
    lines = [wording.booked_by % {"resource": booking.resource.name,
                                  "person": booking.user.display_name,
                                  "organisation": booking.organisation.name}]
    lines += [booking.note] if booking.note else []
    lines += [booking.decision_reason] if booking.decision_reason else []
    return "\n".join(lines)


def booking_event(booking: Booking, detailed: bool, wording: Wording) -> Event:
    """One booking as a VEVENT; without details, only its interval and state."""
    event = Event()
    event.add("uid", booking.uid if detailed else busy_uid(booking))
    event.add("sequence", booking.sequence)
    event.add("dtstamp", utc(booking.updated_at))
    event.add("last-modified", utc(booking.updated_at))
    event.add("dtstart", utc(booking.starts_at))
    event.add("dtend", utc(booking.ends_at))
    event.add("status", STATUSES[booking.status])
    event.add("transp", "OPAQUE" if booking.holds_capacity else "TRANSPARENT")
    event.add("summary", (booking.title or booking.resource.name) if detailed else wording.busy)
    if detailed:
        event.add("description", description(booking, wording))
    event.add("location", location(booking))
    event.add("url", wording.booking_url(booking_id=booking.id))
    return event


def serialised(calendar: Calendar) -> bytes:
    """CRLF line ends, folded lines, escaped text: icalendar's own serialisation."""
    return calendar.to_ical()


def feed_calendar(name: str, about: str, bookings: Iterable[Booking],
                  shows_details: ShowsDetails) -> bytes:
    """A subscribed feed (METHOD:PUBLISH) of these bookings, in the current language."""
    calendar = new_calendar("PUBLISH")
    calendar.add("name", name)
    calendar.add("x-wr-calname", name)
    calendar.add("description", about)
    calendar.add("x-wr-caldesc", about)
    # RFC 7986 requires VALUE=DURATION on REFRESH-INTERVAL; some readers ignore it without.
    calendar.add("refresh-interval", REFRESH, parameters={"VALUE": "DURATION"})
    calendar.add("x-published-ttl", vDuration(REFRESH))
    wording = Wording.current()
    for booking in bookings:
        calendar.add_component(booking_event(booking, shows_details(booking), wording))
    return serialised(calendar)


def single_event_calendar(booking: Booking, viewer: User) -> bytes:
    """"Add to my calendar": one booking as its viewer may see it."""
    calendar = new_calendar("PUBLISH")
    calendar.add_component(booking_event(booking, can_see_booking_details(viewer, booking),
                                         Wording.current()))
    return serialised(calendar)


def mail_address(address: str, name: str) -> vCalAddress:
    value = vCalAddress(f"mailto:{address}")
    value.params["CN"] = vText(name)
    return value


def organizer(booking: Booking) -> vCalAddress:
    """The resource's owner, reached at the application's sending address (which may be
    written "Name <address>")."""
    sender = parseaddr(current_app.config["MAIL_DEFAULT_SENDER"])[1]
    return mail_address(sender, booking.resource.owner.name)


def attendee(recipient: User) -> vCalAddress:
    """The recipient; the booking is decided in the application, so no reply is asked."""
    value = mail_address(recipient.email, recipient.display_name)
    value.params["ROLE"] = vText("REQ-PARTICIPANT")
    value.params["RSVP"] = vText("FALSE")
    return value


def itip_calendar(booking: Booking, method: str, recipient: User) -> bytes:
    """An iTIP message (RFC 5546) for a mail to `recipient`: METHOD:REQUEST puts the
    booking in their calendar, METHOD:CANCEL (same UID, the higher SEQUENCE that
    cancelling gave the booking) takes it out. In the recipient's language."""
    if method not in ITIP_METHODS:
        raise ValueError(f"iTIP method must be one of {ITIP_METHODS}, not {method!r}")
    with force_locale(recipient.locale):
        event = booking_event(booking, can_see_booking_details(recipient, booking),
                              Wording.current())
    if method == "CANCEL":
        event["status"] = vText("CANCELLED")
    event.add("organizer", organizer(booking))
    event.add("attendee", attendee(recipient))
    calendar = new_calendar(method)
    calendar.add_component(event)
    return serialised(calendar)
