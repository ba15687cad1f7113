"""A database that is briefly unreachable (restarted, failed over, a cut connection)
answers 503 with `Retry-After`, never a 500, and never breaks the request's teardown.

The pool's pre-ping (PostgreSQL) then gives the next request a fresh connection. The page
says so in both languages without asking the database anything: the reader's language
and the signed-in user both live there.
"""

import logging

from flask import Flask, Response, jsonify, request

from sharing.core.database import DATABASE_UNREACHABLE
from sharing.core.extensions import db

log = logging.getLogger(__name__)
RETRY_AFTER_SECONDS = 5
PAGE = """<!doctype html>
<html lang="fr"><head><meta charset="utf-8"><title>503</title></head><body>
<h1>Service momentanément indisponible</h1><p>Réessayez dans quelques secondes.</p>
<h1 lang="en">Service temporarily unavailable</h1><p lang="en">Try again in a few seconds.</p>
</body></html>
"""


def database_unavailable(error: Exception) -> Response:
    log.warning("Database unreachable, answering 503: %s", error.__class__.__name__)
    discard_session()
    if request.path.startswith("/api/"):
        response = jsonify(error="unavailable",
                           message="The database is unreachable; try again in a few seconds.")
    else:
        response = Response(PAGE, mimetype="text/html")
    response.status_code = 503
    response.headers["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return response


def discard_session(_error: BaseException | None = None) -> None:
    """End the session; a dead connection is dropped from the pool, not raised."""
    try:
        db.session.remove()
    except DATABASE_UNREACHABLE:
        log.warning("Database unreachable while ending a session")


def init_app(app: Flask) -> None:
    for error in DATABASE_UNREACHABLE:
        app.register_error_handler(error, database_unavailable)
    # Flask-SQLAlchemy's own teardown lets a failed ROLLBACK escape as a bare 500.
    app.teardown_appcontext_funcs[:] = [
        f for f in app.teardown_appcontext_funcs if f != db._teardown_session]
    app.teardown_appcontext(discard_session)
