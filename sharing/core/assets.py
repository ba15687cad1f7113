"""Static files under addresses that carry a digest of their content (`?v=…`), which
browsers keep for a year without asking again.

Without it every page asked the server again for its style sheet, its icon and its
scripts (a conditional request each, answered 304): two or three round trips per page on
a member's phone, the style sheet's holding up the page. A file that changes gets a new
address; one asked for with a digest that is not its own (a page cached before a release)
is sent with no lasting cache."""

import hashlib
import os
from functools import lru_cache
from pathlib import Path
from stat import S_ISREG

from flask import Flask, Response, current_app, request
from werkzeug.security import safe_join

YEAR = 365 * 24 * 3600


def init_app(app: Flask) -> None:
    app.url_defaults(add_digest)
    app.after_request(cache_if_digest_matches)


def add_digest(endpoint: str, values: dict) -> None:
    if endpoint == "static" and "v" not in values:
        digest = static_digest(current_app.static_folder, values.get("filename", ""))
        if digest:
            values["v"] = digest


def cache_if_digest_matches(response: Response) -> Response:
    if request.endpoint == "static" and response.status_code in (200, 304):
        filename = (request.view_args or {}).get("filename", "")
        digest = static_digest(current_app.static_folder, filename)
        if digest and request.args.get("v") == digest:
            response.cache_control.no_cache = None
            response.cache_control.public = True
            response.cache_control.max_age = YEAR
            response.cache_control.immutable = True
    return response


def static_digest(folder: str | None, filename: str) -> str | None:
    """The digest of the file's content, or None for no file there. Read again only when
    the file's time or size changes (a file edited while the server runs in debug)."""
    path = safe_join(folder, filename) if folder else None
    if path is None:
        return None
    try:
        found = os.stat(path)
    except (OSError, ValueError):  # ValueError: a NUL character in the name
        return None
    return _digest(path, found.st_mtime_ns, found.st_size) if S_ISREG(found.st_mode) else None


@lru_cache(maxsize=256)
def _digest(path: str, _mtime_ns: int, _size: int) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()[:16]
