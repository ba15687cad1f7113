"""JSON API v1: bearer-token authentication, JSON bodies and times, errors.

The route modules imported at the bottom register their views on `bp`. Handlers stay
thin: read the input with the helpers below, ask `sharing.services.permissions`, call a service,
answer with `serialize`. A service's `InvalidInput` becomes a 422 naming the fields, and
nothing the request added to the session is written.
"""

import json
import math
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, TypeVar

from flask import Blueprint, Response, abort, g, jsonify, request
from flask_babel import gettext as _
from werkzeug.datastructures import WWWAuthenticate
from werkzeug.exceptions import Unauthorized

from sharing.core.extensions import csrf, db
from sharing.core.limits import token_failure_limit
from sharing.core.validation import InvalidInput, check_date_range, is_row_id
from sharing.models import Resource, User
from sharing.services.api_tokens import find_user_by_api_token
from sharing.services.messages import describe_fields
from sharing.services.permissions import can_manage_resource, can_see_resource

T = TypeVar("T")

bp = Blueprint("api", __name__, url_prefix="/api/v1")
csrf.exempt(bp)  # bearer tokens, never cookies: nothing for a cross-site form to ride on
token_failure_limit(401)(bp)  # guessing tokens: every 401 counts

PUBLIC_ENDPOINTS = {"api.openapi"}
DATETIME_MAX_LENGTH = 40


@bp.before_request
def authenticate() -> None:
    """Make the token's owner the request's user, or answer 401."""
    if request.endpoint in PUBLIC_ENDPOINTS:
        return
    scheme, _space, raw = request.headers.get("Authorization", "").partition(" ")
    user = find_user_by_api_token(raw.strip()) if scheme.lower() == "bearer" else None
    if user is None:
        raise Unauthorized(_("Send a valid API token: Authorization: Bearer <token>."),
                           www_authenticate=WWWAuthenticate("bearer"))
    db.session.commit()  # the token's last use, kept even if the request then fails
    g.api_user = user
    g._login_user = user  # Flask-Login's current_user for this request only, no cookie


@bp.before_request
def refuse_nul_in_query() -> None:
    if has_nul(list(request.args.items(multi=True))):
        abort(400, _("The query string must not contain NUL characters."))


def api_user() -> User:
    return g.api_user


@bp.errorhandler(InvalidInput)
def invalid_input(error: InvalidInput) -> tuple[Response, int]:
    db.session.rollback()
    return jsonify(error="invalid", fields=describe_fields(error)), 422


def invalid(field: str, message: str) -> InvalidInput:
    return InvalidInput({field: [message]})


def reject_constant(name: str) -> None:
    raise ValueError(f"{name} is not JSON")


def finite_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise ValueError("number out of range")
    return value


def has_nul(value: Any) -> bool:
    """NUL characters: PostgreSQL cannot store them in text, and no field needs them."""
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(has_nul(key) or has_nul(item) for key, item in value.items())
    return isinstance(value, list | tuple) and any(map(has_nul, value))


def json_body() -> dict[str, Any]:
    """The request's JSON object; 400 for anything else (bad syntax, NaN, a list, null…)."""
    try:
        data = json.loads(request.get_data() or b"null", parse_constant=reject_constant,
                          parse_float=finite_float)
        if has_nul(data):
            raise ValueError("NUL character")
    except (ValueError, RecursionError):
        abort(400, _("The body must be valid JSON, without NUL characters."))
    if not isinstance(data, dict):
        abort(400, _("The body must be a JSON object."))
    return data


Parser = Callable[[Any, str], Any]


def keep(value: Any, _field: str) -> Any:
    """For a field the service checks itself."""
    return value


def read_fields(data: dict[str, Any], required: dict[str, Parser],
                optional: dict[str, Parser] | None = None) -> dict[str, Any]:
    """Each field read by its parser `(value, field name)`; every error in one 422.

    Fields neither required nor optional are refused, so a misspelt one is not ignored.
    """
    parsers = {**required, **(optional or {})}
    errors = {name: [_("Unknown field.")] for name in data if name not in parsers}
    errors.update({name: [_("This field is required.")] for name in required
                   if data.get(name) is None})
    values = {}
    for name, parse in parsers.items():
        if name in data and name not in errors:
            try:
                values[name] = parse(data[name], name)
            except InvalidInput as error:
                errors.update(error.fields)
    if errors:
        raise InvalidInput(errors)
    return values


def parse_datetime(value: Any, field: str) -> datetime:
    """An ISO 8601 time with an offset or Z, as UTC; a naive, malformed or out-of-range
    one is refused."""
    example = "2026-03-02T10:00:00+01:00"
    if not isinstance(value, str) or len(value) > DATETIME_MAX_LENGTH:
        raise invalid(field, _("Give a date and time such as %(example)s.", example=example))
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise invalid(field, _("Give a date and time such as %(example)s.",
                               example=example)) from None
    if moment.tzinfo is None:
        raise invalid(field, _("Give the offset from UTC, such as +01:00, or Z for UTC."))
    check_date_range(**{field: moment})
    return moment.astimezone(UTC)


def parse_id(value: Any, field: str) -> int:
    """A row id given in a body; it may still name no row."""
    if not is_row_id(value):
        raise invalid(field, _("Give the id of an existing object (a positive whole number)."))
    return value


def parse_query_id(value: str, field: str) -> int:
    """A row id given in a query string."""
    digits = value.isascii() and value.isdigit() and len(value) < 12
    return parse_id(int(value) if digits else None, field)


def query_arg(name: str, parse: Callable[[Any, str], T]) -> T | None:
    """A query-string argument read with `parse(value, name)`; None when absent or empty."""
    value = request.args.get(name, "")
    return parse(value, name) if value else None


def find_row(model: type[T], ident: int) -> T | None:
    """The row with this id; None also for ids no integer column can hold."""
    return db.session.get(model, ident) if is_row_id(ident) else None


def get_or_404(model: type[T], ident: int) -> T:
    return find_row(model, ident) or abort(404)


def visible_resource_or_404(resource_id: int) -> Resource:
    """A resource the user may not see does not exist for them."""
    resource = find_row(Resource, resource_id)
    if resource is None or not can_see_resource(api_user(), resource):
        abort(404)
    return resource


def managed_resource(resource_id: int) -> Resource:
    """A resource the user manages: 404 if they cannot see it, 403 if they only see it."""
    resource = visible_resource_or_404(resource_id)
    if not can_manage_resource(api_user(), resource):
        abort(403)
    return resource


# The route modules register their views on `bp`: import them once it exists.
from sharing.blueprints.api import (  # noqa: E402, F401
    bookings,
    closures,
    me,
    openapi,
    quotas,
    resources,
)
