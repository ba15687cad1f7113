"""Fuzz the JSON API by hand: schemathesis, every check, against the demo pole served on
a loopback port, with a throwaway database of its own.

    .venv/bin/python bench/fuzz_api.py --examples 400 [--database-url URL] [--email E]
                                       [--phases P,...] [--random-ids]

Prints schemathesis's summary (operations, test cases, failures), then the requests the
server answered by status, and exits with schemathesis's status. Ids in paths, queries
and bodies are drawn four times in five from the rows the token can act on
(schemathesis's dictionaries, written beside schemathesis.toml's settings): ids drawn at
random name no row, and their requests stop at 404 or 422 before the booking rules.
Without --database-url, a SQLite file in a temporary folder; with one, it must name an
empty database (its tables are created; nothing is dropped).
"""

import argparse
import shutil
import subprocess
import sys
import tempfile
import threading
from collections import Counter
from pathlib import Path

from sqlalchemy import select
from werkzeug.serving import WSGIRequestHandler, make_server

from sharing import create_app
from sharing.core.extensions import db
from sharing.models import Booking, Membership, Organisation, Resource, Site, User
from sharing.services import demo
from sharing.services.accounts import find_user_by_email
from sharing.services.api_tokens import create_api_token
from sharing.services.bookings import visible_bookings_clause

CONFIG = Path(__file__).parent.parent / "schemathesis.toml"
# Which parameters draw from each dictionary of row ids (80% of the time: the other draws
# still try ids that name no row).
ID_PARAMETERS = {
    "bookings": ["path.booking_id"],
    "resources": ["path.resource_id", "query.resource_id", "body.resource_id",
                  "body.extra_resource_ids[*]"],
    "organisations": ["path.organisation_id", "query.organisation_id", "body.organisation_id"],
    "sites": ["body.site_id"],
    "people": ["body.person_id"],
}


def arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--examples", type=int, default=400)
    parser.add_argument("--database-url")
    parser.add_argument("--email", default="marc.perrin@example.org",
                        help="whose token (default: a manager of the demo pole)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--phases", default="examples,coverage,fuzzing,stateful",
                        help="schemathesis's phases (default: all)")
    parser.add_argument("--random-ids", action="store_true",
                        help="ids drawn at random only, as in the suite's run")
    return parser.parse_args()


def demo_app(folder: Path, database_url: str | None):
    app = create_app({"SECRET_KEY": "fuzzing", "BASE_URL": "http://127.0.0.1",
                      "SQLALCHEMY_DATABASE_URI": database_url
                      or f"sqlite:///{folder / 'fuzz.sqlite3'}"})
    with app.app_context():
        db.create_all()
        demo.load()
        db.session.commit()
    return app


class QuietHandler(WSGIRequestHandler):
    def log_request(self, *args, **kwargs) -> None:
        pass  # thousands of lines; the statuses are counted instead


def count_statuses(app) -> Counter:
    statuses: Counter = Counter()

    @app.after_request
    def count(response):
        statuses[response.status_code] += 1
        return response

    return statuses


def row_ids(user: User) -> dict[str, list[int]]:
    """The rows the token's holder can act on: the bookings they see, every resource and
    site, their own organisations and their members."""
    own = [membership.organisation_id for membership in user.memberships]
    ids = {
        "bookings": select(Booking.id).where(visible_bookings_clause(user)),
        "resources": select(Resource.id),
        "organisations": select(Organisation.id).where(Organisation.id.in_(own)),
        "sites": select(Site.id),
        "people": select(Membership.user_id).where(Membership.organisation_id.in_(own)),
    }
    return {name: sorted(set(db.session.scalars(query))) for name, query in ids.items()}


def config_with_row_ids(app, email: str, folder: Path) -> Path:
    """schemathesis.toml's settings, and a dictionary of ids per kind of row."""
    lines, dictionaries = [CONFIG.read_text(), "[parameters]"], []
    with app.app_context():
        for name, ids in row_ids(find_user_by_email(email)).items():
            if not ids:  # schemathesis refuses an empty dictionary
                continue
            dictionaries += [f"[dictionaries.{name}]", f"values = {ids}"]
            lines += [f'"{parameter}" = {{ dictionary = "{name}", probability = 0.8 }}'
                      for parameter in ID_PARAMETERS[name]]
    config = folder / "schemathesis.toml"
    config.write_text("\n".join(lines + dictionaries) + "\n")
    return config


def token_of(app, email: str) -> str:
    with app.app_context():
        _token, raw = create_api_token(find_user_by_email(email), "fuzzing")
        db.session.commit()
    return raw


def main() -> int:
    options = arguments()
    with tempfile.TemporaryDirectory() as folder:
        app = demo_app(Path(folder), options.database_url)
        token = token_of(app, options.email)
        statuses = count_statuses(app)
        server = make_server("127.0.0.1", 0, app, threaded=True,
                             request_handler=QuietHandler)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        st = shutil.which("st", path=str(Path(sys.executable).parent)) or "st"
        config = (CONFIG if options.random_ids
                  else config_with_row_ids(app, options.email, Path(folder)))
        try:
            return subprocess.run(
                [st, "--config-file", str(config), "run",
                 f"http://127.0.0.1:{server.server_port}/api/v1/openapi.json",
                 "--header", f"Authorization: Bearer {token}", "--checks", "all",
                 "--max-examples", str(options.examples), "--seed", str(options.seed),
                 "--phases", options.phases,
                 "--report-dir", folder], cwd=folder).returncode
        finally:
            server.shutdown()
            print(f"requests answered: {sum(statuses.values())}; by status:",
                  dict(sorted(statuses.items())))


if __name__ == "__main__":
    sys.exit(main())
