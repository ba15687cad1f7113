"""The shared catalogue: find, publish and edit rooms, equipment, staff time, expertise."""

from datetime import datetime
from typing import Any

from flask import abort, jsonify, request
from flask_babel import gettext as _

from sharing.blueprints.api import (
    api_user,
    bp,
    find_row,
    invalid,
    json_body,
    managed_resource,
    parse_datetime,
    parse_id,
    parse_query_id,
    query_arg,
    visible_resource_or_404,
)
from sharing.blueprints.api.serialize import resource_json
from sharing.core.extensions import db
from sharing.core.validation import InvalidInput
from sharing.engine import find_free_resources
from sharing.models import Organisation, Resource
from sharing.services.catalogue import KINDS, create_resource, find_resources, update_resource
from sharing.services.permissions import can_create_resource_for

# Set on creation only: they decide who may write the rest.
CREATION_FIELDS = ("kind", "owner_organisation_id")


def parse_kind(value: Any, field: str) -> str:
    if not isinstance(value, str) or value not in KINDS:
        raise invalid(field, _("Choose one of %(kinds)s.", kinds=", ".join(KINDS)))
    return value


def parse_count(value: Any, field: str) -> int:
    if not (isinstance(value, str) and value.isascii() and value.isdigit() and len(value) < 9):
        raise invalid(field, _("Give a whole number."))
    return int(value)


def free_interval() -> tuple[datetime, datetime] | None:
    """The `free_start`/`free_end` window asked for: both or neither."""
    start = query_arg("free_start", parse_datetime)
    end = query_arg("free_end", parse_datetime)
    if (start is None) != (end is None):
        field = "free_start" if start is None else "free_end"
        raise invalid(field, _("Give both free_start and free_end."))
    return (start, end) if start else None


def only_free(resources: list[Resource], interval: tuple[datetime, datetime],
              quantity: int) -> list[Resource]:
    try:
        return find_free_resources(resources, *interval, quantity=quantity)
    except InvalidInput as error:  # the engine names the window's ends start and end
        raise InvalidInput({f"free_{name}": messages
                            for name, messages in error.fields.items()}) from None


@bp.get("/resources")
def list_resources():
    filters = {
        "kind": query_arg("kind", parse_kind),
        "site_id": query_arg("site", parse_query_id),
        "tag": request.args.get("tag"),
        "text": request.args.get("text"),
        "min_capacity": query_arg("min_capacity", parse_count),
        "min_quantity": query_arg("min_quantity", parse_count),
    }
    interval = free_interval()
    resources = find_resources(api_user(), **filters)
    if interval:
        resources = only_free(resources, interval, filters["min_quantity"] or 1)
    return jsonify(resources=[resource_json(r, api_user()) for r in resources])


@bp.post("/resources")
def publish_resource():
    data = json_body()
    owner_id = parse_id(data.get("owner_organisation_id"), "owner_organisation_id")
    owner = find_row(Organisation, owner_id)
    if owner is None:
        raise invalid("owner_organisation_id", _("Unknown organisation."))
    if not can_create_resource_for(api_user(), owner):
        abort(403)
    fields = {name: value for name, value in data.items() if name not in CREATION_FIELDS}
    resource = create_resource(owner, parse_kind(data.get("kind"), "kind"), fields)
    db.session.commit()
    return jsonify(resource_json(resource, api_user())), 201


@bp.get("/resources/<int:resource_id>")
def show_resource(resource_id: int):
    return jsonify(resource_json(visible_resource_or_404(resource_id), api_user()))


@bp.patch("/resources/<int:resource_id>")
def edit_resource(resource_id: int):
    resource = managed_resource(resource_id)
    data = json_body()
    if fixed := [name for name in CREATION_FIELDS if name in data]:
        raise InvalidInput({name: [_("This cannot be changed.")] for name in fixed})
    update_resource(resource, data)
    db.session.commit()
    return jsonify(resource_json(resource, api_user()))
