"""Real Chromium on a phone-sized screen against a real server: a demo member signs in,
finds the catalogue, books a room through the form, and finds the booking again; the
pages on the way have no serious accessibility violation (axe-core).

Needs Debian's Chromium (`apt-get install chromium`), the `playwright` Python package and,
for the accessibility checks, `npm install` (axe-core); skipped with the reason otherwise.
"""

import shutil
import threading
from datetime import date, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from werkzeug.serving import make_server

from sharing.core.extensions import db
from sharing.models import Booking
from sharing.services.demo import PASSWORD as DEMO_PASSWORD

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
AXE = Path(__file__).resolve().parent.parent / "node_modules" / "axe-core" / "axe.min.js"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync"]
PHONE = {"width": 390, "height": 844}

playwright_api = pytest.importorskip("playwright.sync_api", reason="pip install playwright")
pytestmark = pytest.mark.skipif(not Path(CHROMIUM).exists(),
                                reason="no Chromium: apt-get install chromium")


@pytest.fixture
def app_config():
    return {"SERVER_NAME": None}


@pytest.fixture
def server(app, runner):
    assert runner.invoke(args=["demo"]).exit_code == 0
    http = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=http.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{http.server_port}"
    http.shutdown()


@pytest.fixture
def page(server):
    with playwright_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        context = browser.new_context(viewport=PHONE, locale="fr-FR", base_url=server)
        page = context.new_page()
        page.csp_violations = []
        page.on("console", lambda message: "Content Security Policy" in message.text
                and page.csp_violations.append(message.text))
        yield page
        browser.close()


def serious_accessibility_violations(page) -> list[str]:
    if not AXE.exists():
        return []  # reported once by test_axe_is_installed
    # Evaluated through the DevTools protocol: the pages' CSP refuses inline scripts.
    page.evaluate(AXE.read_text())
    result = page.evaluate("axe.run()")
    return [f"{v['id']}: {v['help']}" for v in result["violations"]
            if v["impact"] in ("serious", "critical")]


def test_axe_is_installed():
    if not AXE.exists():
        pytest.skip("axe-core not installed (npm install): accessibility not checked")
    assert AXE.stat().st_size > 100_000


def next_tuesday() -> date:
    today = date.today()
    return today + timedelta(days=(1 - today.weekday()) % 7 or 7)


def test_member_signs_in_books_a_room_and_finds_it(page):
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
