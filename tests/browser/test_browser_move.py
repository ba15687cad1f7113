"""Real Chromium, phone and desktop: a demo member opens her booking, edits it to a free
time, then asks for a time that is taken, sees why and the free alternatives, and takes
one in a click; no serious accessibility violation, nothing the CSP refuses."""

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from browser.browser_helpers import DESKTOP, PHONE, serious_accessibility_violations, sign_in
from sharing.core.extensions import db
from sharing.engine import BookingRequest, book
from sharing.models import Booking, Organisation, Resource, User
from sharing.services.demo import TIMEZONE, this_monday

PARIS = ZoneInfo(TIMEZONE)


def next_weeks_tuesday():
    """A day the demo fills: "Atelier éco-gestes" holds the Chartreuse room 14:00–16:00."""
    return this_monday(None) + timedelta(days=8)


def booking_of_lea(day) -> Booking:
    lea = db.session.scalar(select(User).where(User.email == "lea.martin@example.org"))
    room = db.session.scalar(select(Resource).where(Resource.slug == "salle-chartreuse"))
    watt = db.session.scalar(select(Organisation).where(Organisation.slug == "watt-solidaire"))
    start = datetime.combine(day, time(16, 30), PARIS)
    return book(lea, BookingRequest(resource_id=room.id, organisation_id=watt.id, start=start,
                                    end=start + timedelta(hours=1),
                                    title="Point mensuel")).bookings[0]


def stored_start(booking_id: int) -> str:
    db.session.rollback()  # a fresh read of what the server committed
    return f"{db.session.get(Booking, booking_id).starts_at.astimezone(PARIS):%H:%M}"


def submit_times(page, start: str, end: str) -> None:
    page.locator("input[type=time]").nth(0).fill(start)
    page.locator("input[type=time]").nth(1).fill(end)
    page.locator("form.booking-form button[type=submit]").click()
    page.wait_for_load_state()


@pytest.mark.parametrize("viewport", [PHONE, DESKTOP], ids=["phone", "desktop"])
def test_member_moves_a_booking_then_takes_an_alternative(page, viewport):
    page.set_viewport_size(viewport)
    day = next_weeks_tuesday()
    booking_id = booking_of_lea(day).id
    sign_in(page, "lea.martin@example.org", then=f"/bookings/{booking_id}")
    page.get_by_role("link", name="Modifier").click()
    page.wait_for_load_state()
    assert page.url.endswith(f"/bookings/{booking_id}/edit")
    assert page.locator("input[type=time]").nth(0).input_value() == "16:30"
    assert serious_accessibility_violations(page) == []

    submit_times(page, "17:00", "18:00")
    assert page.url.endswith(f"/bookings/{booking_id}")
    assert stored_start(booking_id) == "17:00"

    page.goto(f"/bookings/{booking_id}/edit")
    submit_times(page, "14:00", "15:00")
    refusal = page.locator("section.refused")
    assert refusal.is_visible()
    assert refusal.locator("li[data-code=capacity]").count() == 1
    offers = refusal.locator("ul.alternatives button")
    assert offers.count() >= 1
    assert stored_start(booking_id) == "17:00"  # nothing changed
    assert serious_accessibility_violations(page) == []
    offers.first.click()
    page.wait_for_load_state()
    assert page.url.endswith(f"/bookings/{booking_id}")
    assert stored_start(booking_id) not in ("17:00", "14:00")
    assert page.csp_violations == []
