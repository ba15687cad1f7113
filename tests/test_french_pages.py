"""No English left on a French page: the main pages, fetched in French by the demo's
people (a member, a manager, the coordinator), show none of a list of English words in
their visible text (text, labels for screen readers, button values, placeholders)."""

import re
from html.parser import HTMLParser

import pytest
from sqlalchemy import select

from sharing.core.extensions import db
from sharing.models import Booking, User

# Words no French page has (French shares "Page", "Organisation", "Action", "Description"…).
ENGLISH = ("the", "and", "with", "your", "Your", "from", "until", "Book", "Booking",
           "Bookings", "booked", "Save", "Edit", "Search", "Cancel", "Previous", "Next",
           "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday",
           "week", "Week", "today", "Today", "Log", "Approve", "Reject", "People",
           "Resources", "Free", "Withdraw", "Deactivate", "Units", "hours", "Hours",
           "Sign", "Settings", "Owner", "Price", "Status", "Name", "Back", "Home", "Show",
           "Pending", "Confirmed", "Cancelled", "Rejected", "Closed", "Busy", "Repeat", "Note")
ENGLISH_WORD = re.compile(r"\b(" + "|".join(ENGLISH) + r")\b")
READ_ATTRIBUTES = ("aria-label", "placeholder", "title", "alt", "value")


class VisibleText(HTMLParser):
    """The words a reader meets: text outside scripts and styles, and the attributes
    screen readers say."""

    def __init__(self):
        super().__init__()
        self.parts, self.hidden = [], 0

    def handle_starttag(self, tag, attrs):
        if tag in ("script", "style"):
            self.hidden += 1
        for name, value in attrs:
            if name in READ_ATTRIBUTES and value and not (tag == "input" and name == "value"
                                                          and dict(attrs).get("type")
                                                          in ("hidden", "text", "url")):
                self.parts.append(value)

    def handle_endtag(self, tag):
        if tag in ("script", "style"):
            self.hidden -= 1

    def handle_data(self, data):
        if not self.hidden:
            self.parts.append(data)


def english_words(html: str) -> set[str]:
    reader = VisibleText()
    reader.feed(html)
    return set(ENGLISH_WORD.findall(" ".join(reader.parts)))


def person(email: str) -> User:
    return db.session.scalar(select(User).where(User.email == email))


def own_booking_of(user: User) -> Booking:
    return db.session.scalar(select(Booking).where(Booking.user_id == user.id)
                             .order_by(Booking.id))


MEMBER_PAGES = ["/", "/rooms", "/rooms/salle-chartreuse", "/equipment",
                "/equipment/camion-frigorifique", "/staff", "/expertise",
                "/expertise/diagnostic-energie", "/bookings/",
                "/bookings/new?resource=salle-chartreuse", "/bookings/planning", "/account/",
                "/organisations/", "/organisations/douceurs-solidaires/",
                "/credits/douceurs-solidaires/", "/reports/"]
MANAGER_PAGES = ["/bookings/approvals", "/organisations/ressourcerie-voironnais/",
                 "/organisations/quotas", "/rooms/new"]
COORDINATOR_PAGES = ["/admin/", "/admin/people/", "/admin/resources/",
                     "/admin/organisations/", "/admin/sites/", "/admin/sites/new",
                     "/no-such-page"]


@pytest.mark.parametrize("email, pages", [
    ("lea.martin@example.org", MEMBER_PAGES),
    ("marc.perrin@example.org", MANAGER_PAGES),
    ("claire.dumas@example.org", COORDINATOR_PAGES),
], ids=["member", "manager", "coordinator"])
def test_no_english_on_french_pages(client, login, demo, email, pages):
    user = person(email)
    assert user.locale == "fr"
    login(user)
    booking = own_booking_of(user)
    if booking is not None:
        pages = [*pages, f"/bookings/{booking.id}"]
    found = {}
    for path in pages:
        response = client.get(path)
        # 404: the error page; 422: the reports page asks for a period
        assert response.status_code in (200, 404, 422), path
        assert '<html lang="fr">' in response.text, path
        if words := english_words(response.text):
            found[path] = sorted(words)
    assert found == {}


def test_the_check_finds_english(client, login, demo):
    """The same reading of an English page finds its words: the check can fail."""
    user = person("lea.martin@example.org")
    user.locale = "en"
    db.session.commit()
    login(user)
    assert {"Book", "the"} <= english_words(client.get("/rooms/salle-chartreuse").text)
