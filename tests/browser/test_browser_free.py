"""Real Chromium against the demo, on a phone and a desktop: find a free room with "What
is free?" and book it in two taps; approve several requests at once; book a series
without its one clashing date. Home, catalogue, results and approvals pages have no
serious accessibility violation, and the strict CSP refuses nothing on them.

The new words are not in the compiled French catalogue yet: the elements are found by
their place (ids, classes, names), not by their text.
"""

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from browser.browser_helpers import DESKTOP, PHONE, serious_accessibility_violations, sign_in
from sharing.core.extensions import db
from sharing.models import Booking, Organisation, Resource, User

PARIS = ZoneInfo("Europe/Paris")
SCREENS = pytest.mark.parametrize("screen", [PHONE, DESKTOP], ids=["phone", "desktop"])


def tuesday_in(weeks: int) -> date:
    """A Tuesday after the demo's three weeks of bookings, so that only what a test adds
    stands in the way."""
    today = date.today()
    return today - timedelta(days=today.weekday()) + timedelta(weeks=weeks, days=1)


def demo(model, **where):
    return db.session.scalars(select(model).filter_by(**where)).one()


def mine(title: str) -> list[Booking]:
    db.session.rollback()  # a new snapshot: the server wrote since this session read
    return list(db.session.scalars(select(Booking).filter_by(title=title)
                                   .order_by(Booking.starts_at)))


def wall(booking: Booking) -> datetime:
    return booking.starts_at.astimezone(PARIS).replace(tzinfo=None)


@SCREENS
def test_find_a_free_room_and_book_it_in_two_taps(page, screen):
    page.set_viewport_size(screen)
    sign_in(page, "karim.haddad@example.org")  # one organisation: nothing more to choose
    assert serious_accessibility_violations(page) == []
    day = tuesday_in(4)
    search = page.locator("form.free-search")
    search.locator("[name=free-date]").fill(day.isoformat())
    search.locator("[name=free-start_time]").fill("10:00")
    search.locator("[name=free-end_time]").fill("12:00")
    search.locator("[name=free-people]").fill("10")
    search.locator("button[type=submit]").click()
    page.wait_for_load_state()
    results = page.locator(".free-results a.button")
    assert results.count() >= 1
    assert serious_accessibility_violations(page) == []

    results.filter(has_text="Chartreuse").click()  # tap 1: the prefilled form
    page.wait_for_load_state()
    assert page.locator("input[name=date]").input_value() == day.isoformat()
    assert page.locator("input[name=start_time]").input_value() == "10:00"
    page.locator("input[name=title]").fill("Trouvé libre")
    page.locator("form.booking-form button[type=submit]").click()  # tap 2: booked
    page.wait_for_load_state()
    (booking,) = mine("Trouvé libre")
    assert booking.resource.slug == "salle-chartreuse" and booking.status == "confirmed"
    assert wall(booking) == datetime.combine(day, time(10))
    assert page.csp_violations == []


@SCREENS
def test_the_catalogue_carries_the_search_and_passes_axe(page, screen):
    page.set_viewport_size(screen)
    sign_in(page, "karim.haddad@example.org", then="/rooms")
    assert page.locator("form.free-search [name=free-kind]").input_value() == "room"
    assert serious_accessibility_violations(page) == []
    assert page.csp_violations == []


@SCREENS
def test_approve_several_requests_at_once(page, screen, app):
    page.set_viewport_size(screen)
    van = demo(Resource, slug="camion-frigorifique")
    pending = [b.id for b in db.session.scalars(select(Booking).filter_by(
        resource_id=van.id, status="pending").order_by(Booking.starts_at))]
    assert len(pending) >= 3
    # Julien manages the pâtisserie, which owns the van.
    sign_in(page, "julien.faure@example.org", then="/bookings/approvals")
    assert serious_accessibility_violations(page) == []
    for ident in pending[:2]:
        page.locator(f"#pick-{ident}").check()
    page.locator("#bulk-approve button[type=submit]").click()
    page.wait_for_load_state()
    db.session.rollback()  # a new snapshot: the server wrote since this session read
    status = {b.id: b.status for b in db.session.scalars(
        select(Booking).where(Booking.id.in_(pending)))}
    assert [status[ident] for ident in pending[:2]] == ["confirmed", "confirmed"]
    assert {status[ident] for ident in pending[2:]} == {"pending"}
    assert page.locator(f"#pick-{pending[0]}").count() == 0
    assert page.csp_violations == []


@SCREENS
def test_a_series_with_one_clashing_date_is_booked_with_skip(page, screen, create_booking):
    page.set_viewport_size(screen)
    room = demo(Resource, slug="salle-chartreuse")
    first = tuesday_in(4)
    clash = datetime.combine(first + timedelta(weeks=1), time(10), tzinfo=PARIS)
    create_booking(room, demo(Organisation, slug="ressourcerie-voironnais"),
                   demo(User, email="marc.perrin@example.org"), clash, title="Déjà pris")
    sign_in(page, "karim.haddad@example.org", then="/bookings/new?resource=salle-chartreuse")
    page.locator("input[name=date]").fill(first.isoformat())
    page.locator("input[name=start_time]").fill("10:00")
    page.locator("input[name=end_time]").fill("11:00")
    page.locator("input[name=title]").fill("Série sautée")
    page.locator("select[name=repeat]").select_option("WEEKLY")
    page.locator("input[name=occurrences]").fill("3")
    page.locator("form.booking-form button[type=submit]").click()
    page.wait_for_load_state()
    assert page.locator("ul.clashing li").count() == 1
    assert mine("Série sautée") == []
    assert serious_accessibility_violations(page) == []
    page.locator("form.skip-conflicts button[type=submit]").click()
    page.wait_for_load_state()
    assert [wall(b) for b in mine("Série sautée")] == [
        datetime.combine(first + timedelta(weeks=n), time(10)) for n in (0, 2)]
    assert page.csp_violations == []
