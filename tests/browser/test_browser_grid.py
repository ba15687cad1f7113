"""Free time at a glance in real Chromium, on the demo: tap a free hour of a resource's week
grid and book it (phone and desktop), the booking form's timeline follows the date chosen
(static/timeline.js), and the pages showing time have no serious accessibility violation
and break no CSP rule."""

from datetime import date, timedelta
from urllib.parse import parse_qs, urlsplit
from zoneinfo import ZoneInfo

import pytest

from browser.browser_helpers import (
    DESKTOP,
    PHONE,
    playwright_api,
    serious_accessibility_violations,
    sign_in,
)
from sharing.core.extensions import db
from sharing.models import Booking

ROOM = "salle-chartreuse"  # demo room: Monday to Friday, 08:00-12:00 and 13:30-18:00


def next_monday() -> date:
    today = date.today()
    return today + timedelta(days=7 - today.weekday())


def iso_week(day: date) -> str:
    year, number, _weekday = day.isocalendar()
    return f"{year}-W{number:02d}"


@pytest.mark.parametrize("size", [PHONE, DESKTOP], ids=["phone", "desktop"])
def test_tap_a_free_hour_on_the_week_grid_and_book_it(page, size):
    page.set_viewport_size(size)
    sign_in(page, "lea.martin@example.org", then=f"/rooms/{ROOM}?week={iso_week(next_monday())}")
    free = page.locator(".tg-free a").first
    asked = parse_qs(urlsplit(free.get_attribute("href")).query)
    free.click()
    page.wait_for_load_state()
    assert page.locator("#date").input_value() == asked["date"][0]
    assert page.locator("#start_time").input_value() == asked["start_time"][0]
    page.locator("#title").fill(f"Réunion prise sur la grille {size['width']}")
    page.locator("form.booking-form button[type=submit]").click()
    page.wait_for_load_state()

    booking = db.session.query(Booking).filter_by(
        title=f"Réunion prise sur la grille {size['width']}").one()
    start = booking.starts_at.astimezone(ZoneInfo("Europe/Paris"))
    assert f"{start:%Y-%m-%d}" == asked["date"][0]
    assert f"{start:%H:%M}" == asked["start_time"][0]
    assert booking.status == "confirmed"
    # back on the grid, that hour is the member's booking, no longer free
    page.goto(f"/rooms/{ROOM}?week={iso_week(next_monday())}")
    assert page.locator(".tg-rows > li.own", has_text=asked["start_time"][0]).count() == 1
    assert page.csp_violations == []


def test_the_form_timeline_follows_the_date_chosen(page):
    monday = next_monday()
    sign_in(page, "lea.martin@example.org",
            then=f"/bookings/new?resource={ROOM}&date={monday.isoformat()}")
    heading = page.locator("#day-timeline h3")
    assert heading.inner_text().startswith("lundi")
    page.locator("#date").fill((monday + timedelta(days=5)).isoformat())
    playwright_api.expect(page.locator("#day-timeline h3")).to_contain_text("samedi")
    # Saturday is closed: nothing free to tap, and the page was not reloaded
    assert page.locator("#day-timeline .tg-free").count() == 0
    assert page.locator("#title").input_value() == ""
    assert page.csp_violations == []


@pytest.mark.parametrize("size", [PHONE, DESKTOP], ids=["phone", "desktop"])
def test_pages_showing_time_have_no_serious_accessibility_violation(page, size):
    page.set_viewport_size(size)
    sign_in(page, "lea.martin@example.org", then=None)
    monday = next_monday()
    for path in (f"/rooms/{ROOM}?week={iso_week(monday)}",
                 f"/bookings/new?resource={ROOM}&date={monday.isoformat()}",
                 f"/bookings/planning?week={iso_week(monday)}",
                 f"/bookings/planning?view=day&date={monday.isoformat()}"):
        page.goto(path)
        assert serious_accessibility_violations(page) == [], path
    assert page.csp_violations == []


def test_the_planning_prints_on_a4_landscape_without_its_controls(page):
    sign_in(page, "lea.martin@example.org",
            then=f"/bookings/planning?week={iso_week(next_monday())}")
    pdf = page.pdf(prefer_css_page_size=True)
    assert b"/MediaBox [0 0 841.91998 594.95996]" in pdf  # 297 x 210 mm, in points
    page.emulate_media(media="print")
    assert not page.locator("form.filters").is_visible()
    assert not page.locator("table.planning td > a").first.is_visible()
    assert page.locator("table.planning tbody tr").first.is_visible()
