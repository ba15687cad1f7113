"""What the trial found, in real Chromium: catalogue cards fit their column and the page at
desktop and phone widths, a 200-character word in a title wraps instead of widening the
page, and the coordinator's administration pages pass axe-core with a clean CSP."""

from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit

import pytest
from sqlalchemy import select

from browser.browser_helpers import DESKTOP, PHONE, serious_accessibility_violations, sign_in
from sharing.core.extensions import db
from sharing.models import Organisation, Resource, User

# Every card's box and content against its list's, and the page against the window.
OVERFLOWS = """() => {
  const page = document.documentElement;
  const found = [];
  if (page.scrollWidth > window.innerWidth) found.push(`page ${page.scrollWidth}px`);
  for (const card of document.querySelectorAll('.cards > li')) {
    const list = card.parentElement.getBoundingClientRect();
    const box = card.getBoundingClientRect();
    const name = card.querySelector('h2') ? card.querySelector('h2').innerText : '?';
    if (box.right > list.right + 0.5) found.push(`${name}: past its column`);
    if (card.scrollWidth > card.clientWidth) found.push(`${name}: content wider than the card`);
  }
  return found;
}"""


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["1280px", "390px"])
def test_catalogue_cards_fit_their_column_and_the_page(page, viewport):
    page.set_viewport_size(viewport)
    sign_in(page, "lea.martin@example.org", then=None)
    for catalogue in ("/rooms", "/expertise", "/equipment", "/staff"):
        page.goto(catalogue)
        assert page.locator(".cards > li").count() >= 2, catalogue
        assert page.evaluate(OVERFLOWS) == [], catalogue
    assert page.csp_violations == []


def test_a_long_unbroken_title_wraps_on_a_phone(page, create_booking):
    lea = db.session.scalar(select(User).where(User.email == "lea.martin@example.org"))
    pastry = db.session.scalar(select(Organisation).where(
        Organisation.slug == "douceurs-solidaires"))
    room = db.session.scalar(select(Resource).where(Resource.slug == "salle-chartreuse"))
    start = (datetime.now(UTC) + timedelta(days=2)).replace(hour=5, minute=0, second=0,
                                                             microsecond=0)
    booking = create_booking(room, pastry, lea, start, title=("Ateliernavigateur" * 12)[:200])
    assert len(booking.title) == 200 and " " not in booking.title
    sign_in(page, "lea.martin@example.org", then=None)
    for path in (f"/bookings/{booking.id}", "/bookings/", "/"):
        page.goto(path)
        assert page.get_by_text(booking.title[:40], exact=False).count() >= 1, path
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= PHONE["width"], (path, width)
    assert page.csp_violations == []


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["1280px", "390px"])
def test_administration_pages_are_accessible(page, viewport):
    page.set_viewport_size(viewport)
    sign_in(page, "claire.dumas@example.org", then=None)
    for path in ("/admin/", "/admin/people/", "/admin/people/?q=martin", "/admin/resources/",
                 "/admin/organisations/"):
        page.goto(path)
        assert urlsplit(page.url).path == urlsplit(path).path, "not signed in?"
        assert page.locator("h1").count() == 1, path
        assert serious_accessibility_violations(page) == [], path
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= viewport["width"], (path, width)
    assert page.csp_violations == []


def is_active(email: str) -> bool:
    db.session.rollback()  # end the test's read transaction: see what the server wrote
    return db.session.scalar(select(User.active).where(User.email == email))


def test_the_coordinator_deactivates_and_reactivates_someone(page):
    page.set_viewport_size(DESKTOP)
    sign_in(page, "claire.dumas@example.org", then="/admin/people/")
    page.locator("#people-search").fill("karim")
    with page.expect_navigation():
        page.locator("form[role=search] button").click()
    with page.expect_navigation():
        page.locator("form[action*='/deactivate'] button").click()
    assert not is_active("karim.haddad@example.org")
    with page.expect_navigation():
        page.locator("form[action*='/reactivate'] button").click()
    assert is_active("karim.haddad@example.org")
    assert page.csp_violations == []
