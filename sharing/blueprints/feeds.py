"""Calendar feeds at secret URLs, for calendar apps that cannot sign in.

The token sits in the path (`/feeds/<token>/me.ics`): every client accepts such a URL,
where a query string or a password in the URL is dropped by some. Our own request log
lines (Werkzeug's, gunicorn's access log) have the token masked; a proxy in front must
be told not to log `/feeds/` paths (see the README).
"""

import logging
import re

from flask import Blueprint, Response, request
from werkzeug.http import is_resource_modified

from sharing.forms import ROW_ID
from sharing.services.feeds import (
    Feed,
    build_feed,
    current_window,
    known_validators,
    organisation_feed,
    personal_feed,
    public_resource_feed,
    resource_feed,
    user_for_feed_token,
    webcal,
)

bp = Blueprint("feeds", __name__, url_prefix="/feeds")
bp.add_app_template_filter(webcal, "webcal")

TOKEN = "string(length=43)"  # nosec B105 (a URL converter, not a secret)
TOKEN_IN_PATH = re.compile(r"/feeds/(?!public/)[A-Za-z0-9_-]{43}")
# Request lines (Werkzeug, gunicorn, our own `sharing.requests`) and Flask's "Exception on
# <path>" (the app's logger). A logger's filters do not see its children's records.
REQUEST_LOGGERS = ("werkzeug", "gunicorn.access", "sharing", "sharing.requests")


class MaskFeedTokens(logging.Filter):
    """Request log lines show `/feeds/…/me.ics`, never the secret."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if "/feeds/" in message:
            record.msg, record.args = TOKEN_IN_PATH.sub("/feeds/…", message), ()
        return True


@bp.record_once
def mask_tokens_in_request_logs(_state) -> None:
    for name in REQUEST_LOGGERS:
        logging.getLogger(name).addFilter(MaskFeedTokens())


@bp.after_app_request
def no_referrer(response: Response) -> Response:
    """A page opened from an event's URL must not learn the feed's address; also on the
    404 of an address that matches no feed route."""
    if request.path.startswith(bp.url_prefix + "/"):
        response.headers["Referrer-Policy"] = "no-referrer"
        response.headers["X-Robots-Tag"] = "noindex"
    return response


def not_found() -> Response:
    """The same answer for an unknown token, a revoked one and a feed not allowed: no hint."""
    return Response("Not Found\n", 404, mimetype="text/plain")


def calendar_response(feed: Feed | None) -> Response:
    if feed is None:
        return not_found()
    window = current_window()
    state, validators = known_validators(feed, window)
    if validators is not None and not modified_since(validators):
        return with_validators(Response(status=304), validators)
    body, validators = build_feed(feed, window, state)
    if not modified_since(validators):
        return with_validators(Response(status=304), validators)
    response = Response(body, mimetype="text/calendar")
    response.headers["Content-Type"] = "text/calendar; charset=utf-8"
    return with_validators(response, validators)


def modified_since(validators) -> bool:
    return is_resource_modified(request.environ, etag=validators.etag,
                                last_modified=validators.last_modified)


def with_validators(response: Response, validators) -> Response:
    response.set_etag(validators.etag)
    response.last_modified = validators.last_modified
    response.headers["Cache-Control"] = "private"
    return response


@bp.get(f"/<{TOKEN}:token>/me.ics")
def personal(token: str):
    user = user_for_feed_token(token)
    return calendar_response(user and personal_feed(user))


@bp.get(f"/<{TOKEN}:token>/organisations/<{ROW_ID}:organisation_id>.ics")
def organisation(token: str, organisation_id: int):
    user = user_for_feed_token(token)
    return calendar_response(user and organisation_feed(user, organisation_id))


@bp.get(f"/<{TOKEN}:token>/resources/<{ROW_ID}:resource_id>.ics")
def resource(token: str, resource_id: int):
    user = user_for_feed_token(token)
    return calendar_response(user and resource_feed(user, resource_id))


@bp.get(f"/public/resources/<{ROW_ID}:resource_id>.ics")
def public_resource(resource_id: int):
    return calendar_response(public_resource_feed(resource_id))
