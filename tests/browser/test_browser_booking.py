"""Real Chromium on a phone-sized screen against a real server: a demo member signs in,
finds the catalogue, books a room through the form, and finds the booking again; the
pages on the way have no serious accessibility violation (axe-core).

Needs Debian's Chromium (`apt-get install chromium`), the `playwright` Python package and,
for the accessibility checks, `npm install` (axe-core); skipped with the reason otherwise.
"""

from datetime import date, timedelta
from zoneinfo import ZoneInfo

import pytest

from browser.browser_helpers import (
    AXE,
    playwright_api,
    serious_accessibility_violations,
    sign_in,
)
from sharing.core.extensions import db
from sharing.models import Booking, Resource
from sharing.services.demo import PASSWORD as DEMO_PASSWORD


def test_axe_is_installed():
    if not AXE.exists():
        pytest.skip("axe-core not installed (npm install): accessibility not checked")
    assert AXE.stat().st_size > 100_000


def next_tuesday() -> date:
    today = date.today()
    return today + timedelta(days=(1 - today.weekday()) % 7 or 7)


def test_member_signs_in_books_a_room_and_finds_it(page):
    """Through the login form, as people do (the other tests are given its cookie)."""
    page.goto("/login")
    assert page.locator("html").get_attribute("lang") == "fr"
    assert serious_accessibility_violations(page) == []
    page.get_by_label("E-mail", exact=False).first.fill("lea.martin@example.org")
    page.get_by_label("Mot de passe", exact=False).first.fill(DEMO_PASSWORD)
    page.locator("form button[type=submit]").first.click()
    page.wait_for_load_state()
    page.get_by_role("link", name="Locaux").first.click()
    page.wait_for_load_state()
    assert page.get_by_role("heading", level=1).inner_text() == "Locaux"
    assert page.get_by_role("link", name="Salle de réunion Chartreuse").count() == 1
    assert serious_accessibility_violations(page) == []

    page.get_by_role("link", name="Salle de réunion Chartreuse").click()
    page.wait_for_load_state()
    page.get_by_role("link", name="Réserver").first.click()
    page.wait_for_load_state()
    assert serious_accessibility_violations(page) == []
    day = next_tuesday() + timedelta(days=7)
    page.locator("input[type=date]").first.fill(day.isoformat())
    page.locator("input[type=time]").nth(0).fill("16:00")
    page.locator("input[type=time]").nth(1).fill("17:00")
    page.locator("input[name$=title]").fill("Atelier navigateur")
    page.locator("form button[type=submit]").last.click()
    page.wait_for_load_state()
    assert "Atelier navigateur" in page.content()

    booking = db.session.query(Booking).filter_by(title="Atelier navigateur").one()
    assert booking.status == "confirmed"
    assert booking.starts_at.astimezone(ZoneInfo(booking.resource.timezone)).hour == 16
    page.goto("/bookings/")
    assert page.get_by_text("Atelier navigateur").count() >= 1
    assert serious_accessibility_violations(page) == []
    assert page.csp_violations == []  # the strict CSP breaks nothing on these pages


def test_member_copies_a_feed_address_and_subscribes_to_a_resource(page):
    """The copy buttons come from static/copy.js (no inline script), in the page's words."""
    page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    sign_in(page, "lea.martin@example.org", then="/account/")
    field = page.locator("input[data-copy]").first
    copy = page.locator("input[data-copy] + button").first
    assert copy.locator("span").first.inner_text() == field.get_attribute("data-copy")
    copy.click()
    playwright_api.expect(copy.locator("span").first).to_have_text(
        field.get_attribute("data-copied"))
    assert page.evaluate("navigator.clipboard.readText()") == field.input_value()
    assert "/feeds/" in field.input_value()
    assert page.locator("a[href^='webcal://']").count() >= 2
    assert serious_accessibility_violations(page) == []
    room = db.session.query(Resource).filter_by(name="Salle de réunion Chartreuse").one()
    page.goto(f"/rooms/{room.slug}")
    assert page.locator("#subscribe-heading").count() == 1
    assert page.locator("#subscribe-heading ~ p a[href^='webcal://']").count() == 1
    assert serious_accessibility_violations(page) == []
    assert page.csp_violations == []  # copy.js is a file, not an inline script
