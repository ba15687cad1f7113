"""Real Chromium (Debian's package, driven by Playwright) against a real server on
loopback, with the demo data: the fixtures and checks every browser test shares.

Needs Debian's Chromium (`apt-get install chromium-headless-shell`, or `chromium`), the
`playwright` Python package and, for the accessibility checks, `npm install` (axe-core);
skipped with the reason otherwise.
Every test in this folder is skipped, with the reason, when Chromium is missing. The
`page` is phone-sized; `page.set_viewport_size(DESKTOP)` for a desktop. Shared
checks (axe-core, signing in) are in browser_helpers.py.
"""
import shutil
from pathlib import Path

import pytest

from browser.browser_helpers import PHONE, playwright_api

# Chromium's headless shell where installed: the same Blink and V8 as the browser (it is
# what Playwright's own headless runs use), without the browser's interface, which cost
# about a third of Chromium's CPU in these tests and a twelfth of the SQLite run's time.
CHROMIUM = (shutil.which("chromium-headless-shell") or shutil.which("chromium")
            or "/usr/bin/chromium")
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync"]
NO_CHROMIUM = (None if Path(CHROMIUM).exists()
               else "no Chromium: apt-get install chromium-headless-shell")


def pytest_collection_modifyitems(items):
    for item in items:
        if NO_CHROMIUM and "browser" in item.path.parts:
            item.add_marker(pytest.mark.skip(reason=NO_CHROMIUM))


@pytest.fixture
def app_config():
    return {"SERVER_NAME": None}


@pytest.fixture(scope="session")
def module_scenes() -> dict[str, dict]:
    """The demo's rows, for every browser test of the process (`load_once`): the first
    test loads it (the demo hashes a password per user), the others get a copy of its rows.
    tests/test_demo.py loads its own demo, on other dates, through the root fixture."""
    return {}


@pytest.fixture
def server(live_server, demo):
    """The demo on a loopback server. The demo is loaded by the process's first browser
    test; the others get its rows copied into their own database (`module_scenes`)."""
    return live_server


@pytest.fixture(scope="package")
def chromium():
    """One browser for this folder's tests as long as they run one after another: pytest
    ends it before a test of another folder runs. Not per session: between its calls
    Playwright's sync API marks an asyncio loop as running, which other tests in the same
    process must not find."""
    with playwright_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield browser
        browser.close()


@pytest.fixture(scope="package")
def browsing(chromium, loopback):
    """The browser's one page, in its one context on the process's loopback address, for
    every test (`page`): a new page per test cost Chromium about 0.3 s of CPU, and its
    renderer compiled axe-core's source again."""
    context = chromium.new_context(viewport=PHONE, locale="fr-FR", base_url=loopback.address)
    yield context.new_page()
    context.close()


@pytest.fixture
def page(server, browsing):
    """The browser's page for this test, put back after it as the next test expects:
    phone-sized, on screen media, with neither cookie nor permission."""
    browsing.server = server  # where browser_helpers.sign_in's cookie goes
    browsing.csp_violations = []

    def note_csp(message):
        if "Content Security Policy" in message.text:
            browsing.csp_violations.append(message.text)

    browsing.on("console", note_csp)
    yield browsing
    browsing.remove_listener("console", note_csp)
    browsing.set_viewport_size(PHONE)
    browsing.emulate_media(media="null")
    browsing.context.clear_cookies()
    browsing.context.clear_permissions()
