"""What browser tests share besides fixtures (those are in this folder's conftest.py)."""

from pathlib import Path

import pytest

from sharing.services.demo import PASSWORD as DEMO_PASSWORD

AXE = Path(__file__).resolve().parents[2] / "node_modules" / "axe-core" / "axe.min.js"
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 800}
playwright_api = pytest.importorskip("playwright.sync_api", reason="pip install playwright")


def serious_accessibility_violations(page) -> list[str]:
    if not AXE.exists():
        return []  # reported once by test_axe_is_installed
    # Evaluated through the DevTools protocol: the pages' CSP refuses inline scripts.
    page.evaluate(AXE.read_text())
    result = page.evaluate("axe.run()")
    return [f"{v['id']}: {v['help']}" for v in result["violations"]
            if v["impact"] in ("serious", "critical")]


def sign_in(page, email: str) -> None:
    page.goto("/login")
    page.get_by_label("E-mail", exact=False).first.fill(email)
    page.get_by_label("Mot de passe", exact=False).first.fill(DEMO_PASSWORD)
    page.locator("form button[type=submit]").first.click()
    page.wait_for_load_state()
