"""What browser tests share besides fixtures (those are in this folder's conftest.py)."""

from functools import cache
from pathlib import Path

import pytest
from flask import current_app, session
from flask_login import login_user
from sqlalchemy import select
from sqlalchemy.orm import Session

from sharing.core.extensions import db
from sharing.models import User

AXE = Path(__file__).resolve().parents[2] / "node_modules" / "axe-core" / "axe.min.js"
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 800}
playwright_api = pytest.importorskip("playwright.sync_api", reason="pip install playwright")
# Only what is read below: axe skips its lists of passes, incomplete and inapplicable
# checks and the CSS selector of each node (the same rules run on the same nodes: on every
# page checked, the same violations, impacts and node counts as the full `axe.run()`),
# and the page sends back each violation's id, impact and help, not every node's HTML.
AXE_RUN = ("axe.run({resultTypes: ['violations'], selectors: false}).then(result =>"
           " result.violations.map(v => ({id: v.id, impact: v.impact, help: v.help})))")


def serious_accessibility_violations(page) -> list[str]:
    if not AXE.exists():
        return []  # reported once by test_axe_is_installed
    inject_axe(page)
    return [f"{v['id']}: {v['help']}" for v in page.evaluate(AXE_RUN)
            if v["impact"] in ("serious", "critical")]


@cache
def axe_source() -> str:
    return AXE.read_text()


def inject_axe(page) -> None:
    """axe-core into the page's document, evaluated through the DevTools protocol: the
    pages' CSP refuses inline scripts. Sent as the expression of Runtime.evaluate: through
    `page.evaluate`, the 650 KB went as an argument to Playwright's helper script in the
    page, which evals it (about 50 ms a page more on the 2-core machine)."""
    if not hasattr(page, "devtools"):
        page.devtools = page.context.new_cdp_session(page)
    answer = page.devtools.send("Runtime.evaluate", {"expression": axe_source()})
    assert "exceptionDetails" not in answer, answer["exceptionDetails"]


def sign_in(page, email: str, then: str | None = "/") -> None:
    """`email` signed in (a demo account), the browser on the page `then` (by default the
    home page, as after the login form; None: where it was, for a test that goes on to
    several pages). The session cookie is the one the form's `login_user` would have given
    this browser (its address and user agent, for Flask-Login's session protection), made
    by the application without the password check (scrypt) and the form's two pages.
    test_browser_booking.py signs in through the form itself."""
    app = current_app._get_current_object()
    with Session(db.engine) as reading:
        user = reading.scalars(select(User).where(User.email == email)).one()
    browser = page.context.browser
    if not hasattr(browser, "user_agent"):  # the same for each of its contexts
        browser.user_agent = page.evaluate("navigator.userAgent")
    with app.app_context(), app.test_request_context(
            environ_base={"REMOTE_ADDR": "127.0.0.1"}, headers={"User-Agent": browser.user_agent}):
        assert login_user(user)
        cookie = app.session_interface.get_signing_serializer(app).dumps(dict(session))
    page.context.add_cookies([{
        "name": app.config["SESSION_COOKIE_NAME"], "value": cookie, "url": page.server,
        "httpOnly": True, "sameSite": "Lax"}])
    if then:
        page.goto(then)
