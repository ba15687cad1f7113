"""Take the README's screenshots of the real demo, in real Chromium.

    .venv/bin/python tools/screenshots.py [--out docs/screenshots]

Loads the demo pole into a throwaway SQLite database, serves it on a loopback port, signs in
as a demo member in Debian's Chromium (driven by Playwright) and saves three pages as PNG:
the home page with "What is free?", a room's week grid and the week's planning. Anyone can
rerun it after a change to the pages; the README shows the files it writes.
"""

import argparse
import shutil
import sys
import tempfile
import threading
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from playwright.sync_api import sync_playwright  # noqa: E402
from werkzeug.serving import WSGIRequestHandler, make_server  # noqa: E402

from sharing import create_app  # noqa: E402
from sharing.core.extensions import db  # noqa: E402
from sharing.services import demo  # noqa: E402

MEMBER = "sofia.benali@example.org"  # a member of two organisations: the richest home page
SHOTS = (
    ("home.png", "/", {"width": 1280, "height": 900}),
    ("week-grid.png", "/rooms/salle-chartreuse", {"width": 1280, "height": 1100}),
    ("planning.png", "/bookings/planning", {"width": 1280, "height": 900}),
)


class QuietHandler(WSGIRequestHandler):
    def log_request(self, *args, **kwargs) -> None:
        pass


def demo_app(folder: Path):
    app = create_app({"SECRET_KEY": "screenshots", "BASE_URL": "http://127.0.0.1",
                      "SESSION_COOKIE_SECURE": False, "REMEMBER_COOKIE_SECURE": False,
                      "SQLALCHEMY_DATABASE_URI": f"sqlite:///{folder / 'demo.sqlite3'}"},
                     instance_path=folder)
    with app.app_context():
        db.create_all()
        demo.load()
        db.session.commit()
    return app


def sign_in(page) -> None:
    page.goto("/login")
    page.get_by_label("E-mail", exact=False).first.fill(MEMBER)
    page.get_by_label("Mot de passe", exact=False).first.fill(demo.PASSWORD)
    page.locator("form button[type=submit]").first.click()
    page.wait_for_load_state()


def take(base_url: str, out: Path) -> None:
    chromium = (shutil.which("chromium-headless-shell") or shutil.which("chromium")
                or "/usr/bin/chromium")
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium, args=["--no-sandbox"])
        context = browser.new_context(locale="fr-FR", base_url=base_url,
                                      timezone_id="Europe/Paris")
        page = context.new_page()
        sign_in(page)
        for name, path, viewport in SHOTS:
            page.set_viewport_size(viewport)
            page.goto(path)
            page.wait_for_load_state("networkidle")
            page.screenshot(path=str(out / name), full_page=False)
            print(out / name)
        browser.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "screenshots")
    out = parser.parse_args().out
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as folder:
        server = make_server("127.0.0.1", 0, demo_app(Path(folder)), threaded=True,
                             request_handler=QuietHandler)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        try:
            take(f"http://127.0.0.1:{server.server_port}", out)
        finally:
            server.shutdown()


if __name__ == "__main__":
    main()
