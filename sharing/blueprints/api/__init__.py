"""JSON API v1: bearer-token authentication, JSON bodies and times, errors.

The route modules imported at the bottom register their views on `bp`, each declared
with `operations.operation`, which reads the request with its contracts and checks the
answer. Handlers stay thin: find with `sharing.blueprints.lookups`, ask
`sharing.services.permissions`, call a service, answer with `serialize`. A service's
`InvalidInput` becomes a 422 naming the fields, and nothing the request added to the
session is written.
"""

from flask import Blueprint, Response, abort, g, jsonify, request
from flask_babel import gettext as _
from werkzeug.datastructures import WWWAuthenticate
from werkzeug.exceptions import Unauthorized

from sharing.blueprints.api.operations import OPERATIONS, has_nul
from sharing.core.extensions import csrf, db
from sharing.core.limits import token_failure_limit
from sharing.core.validation import InvalidInput
from sharing.services.api_tokens import find_user_by_api_token
from sharing.services.messages import describe_fields

bp = Blueprint("api", __name__, url_prefix="/api/v1")
csrf.exempt(bp)  # bearer tokens, never cookies: nothing for a cross-site form to ride on
token_failure_limit(401)(bp)  # guessing tokens: every 401 counts


def is_public(endpoint: str | None) -> bool:
    described = OPERATIONS.get(endpoint or "")
    return described is not None and described.public


@bp.before_request
def authenticate() -> None:
    """Make the token's owner the request's user (`current_user`), or answer 401."""
    if is_public(request.endpoint):
        return
    scheme, _space, raw = request.headers.get("Authorization", "").partition(" ")
    user = find_user_by_api_token(raw.strip()) if scheme.lower() == "bearer" else None
    if user is None:
        raise Unauthorized(_("Send a valid API token: Authorization: Bearer <token>."),
                           www_authenticate=WWWAuthenticate("bearer"))
    g._login_user = user  # Flask-Login's current_user for this request only, no cookie


@bp.before_request
def refuse_nul_in_query() -> None:
    if has_nul(list(request.args.items(multi=True))):
        abort(400, _("The query string must not contain NUL characters."))


@bp.errorhandler(InvalidInput)
def invalid_input(error: InvalidInput) -> tuple[Response, int]:
    db.session.rollback()
    return jsonify(error="invalid", fields=describe_fields(error)), 422


# The route modules register their views on `bp`: import them once it exists.
from sharing.blueprints.api import (  # noqa: E402, F401
    bookings,
    closures,
    credits,
    me,
    openapi,
    quotas,
    reports,
    resources,
)
