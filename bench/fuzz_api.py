"""Fuzz the JSON API by hand: schemathesis, every check, against the demo pole served on
a loopback port, with a throwaway database of its own.

    .venv/bin/python bench/fuzz_api.py --examples 400 [--database-url URL] [--email E]

Prints schemathesis's summary (operations, test cases, failures), then the requests the
server answered by status, and exits with schemathesis's status. Without --database-url,
a SQLite file in a temporary folder; with one, it must name an empty database (its
tables are created; nothing is dropped).
"""

import argparse
import shutil
import subprocess
import sys
import tempfile
import threading
from collections import Counter
from pathlib import Path

from werkzeug.serving import WSGIRequestHandler, make_server

from sharing import create_app
from sharing.core.extensions import db
from sharing.services import demo
from sharing.services.accounts import find_user_by_email
from sharing.services.api_tokens import create_api_token

CONFIG = Path(__file__).parent.parent / "schemathesis.toml"


def arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--examples", type=int, default=400)
    parser.add_argument("--database-url")
    parser.add_argument("--email", default="marc.perrin@example.org",
                        help="whose token (default: a manager of the demo pole)")
    parser.add_argument("--seed", type=int, default=1)
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
        try:
            return subprocess.run(
                [st, "--config-file", str(CONFIG), "run",
                 f"http://127.0.0.1:{server.server_port}/api/v1/openapi.json",
                 "--header", f"Authorization: Bearer {token}", "--checks", "all",
                 "--max-examples", str(options.examples), "--seed", str(options.seed),
                 "--report-dir", folder]).returncode
        finally:
            server.shutdown()
            print(f"requests answered: {sum(statuses.values())}; by status:",
                  dict(sorted(statuses.items())))


if __name__ == "__main__":
    sys.exit(main())
