"""What browser tests share besides fixtures (those are in this folder's conftest.py)."""

from functools import cache
from pathlib import Path

import pytest

from sharing.services.demo import PASSWORD as DEMO_PASSWORD

AXE = Path(__file__).resolve().parents[2] / "node_modules" / "axe-core" / "axe.min.js"
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 800}
playwright_api = pytest.importorskip("playwright.sync_api", reason="pip install playwright")
# Only the violations are read: axe then skips building its lists of passes, incomplete
# and inapplicable checks (the same rules run, the same violations are found).
AXE_RUN = "axe.run({resultTypes: ['violations']})"


def serious_accessibility_violations(page) -> list[str]:
    if not AXE.exists():
        return []  # reported once by test_axe_is_installed
    inject_axe(page)
    result = page.evaluate(AXE_RUN)
    return [f"{v['id']}: {v['help']}" for v in result["violations"]
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


def sign_in(page, email: str) -> None:
    page.goto("/login")
    page.get_by_label("E-mail", exact=False).first.fill(email)
    page.get_by_label("Mot de passe", exact=False).first.fill(DEMO_PASSWORD)
    page.locator("form button[type=submit]").first.click()
    page.wait_for_load_state()
