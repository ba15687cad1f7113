"""The shared catalogue: find, publish and edit rooms, equipment, staff time, expertise."""

from datetime import datetime

from flask import abort
from flask_babel import gettext as _
from flask_login import current_user

from sharing.blueprints.api import bp
from sharing.blueprints.api.contracts import (
    NewResource,
    ResourceChanges,
    ResourceFilters,
    Resources,
)
from sharing.blueprints.api.contracts import Resource as ResourceAnswer
from sharing.blueprints.api.operations import invalid, operation
from sharing.blueprints.api.serialize import resource_json
from sharing.blueprints.lookups import find_row, managed_resource_or_403, visible_resource_or_404
from sharing.core.extensions import db
from sharing.core.validation import InvalidInput
from sharing.models import Organisation, Resource
from sharing.services.catalogue import (
    create_resource,
    find_free,
    find_resources,
    update_resource,
)
from sharing.services.permissions import can_create_resource_for

# Set on creation only: they decide who may write the rest.
CREATION_FIELDS = ("kind", "owner_organisation_id")


def free_interval(query: ResourceFilters) -> tuple[datetime, datetime] | None:
    """The `free_start`/`free_end` window asked for: both or neither."""
    if (query.free_start is None) != (query.free_end is None):
        field = "free_start" if query.free_start is None else "free_end"
        raise invalid(field, _("Give both free_start and free_end."))
    return (query.free_start, query.free_end) if query.free_start else None


def only_free(interval: tuple[datetime, datetime], quantity: int, **filters) -> list[Resource]:
    try:
        return find_free(current_user, *interval, quantity=quantity, **filters)
    except InvalidInput as error:  # the engine names the window's ends start and end
        raise InvalidInput({f"free_{name}": messages
                            for name, messages in error.fields.items()}) from None


def owner_of(data: dict) -> Organisation:
    owner = find_row(Organisation, data.get("owner_organisation_id"))
    if owner is None:
        raise invalid("owner_organisation_id", _("Unknown organisation."))
    return owner


@bp.get("/resources")
@operation("Resources the user may see, filtered", tag="resources", query=ResourceFilters,
           answers={200: Resources})
def list_resources(query: ResourceFilters):
    interval = free_interval(query)
    filters = {"kind": query.kind, "site_id": query.site, "tag": query.tag, "text": query.text,
               "min_capacity": query.min_capacity, "min_quantity": query.min_quantity}
    resources = only_free(interval, query.min_quantity or 1, **filters) if interval \
        else find_resources(current_user, **filters)
    return {"resources": [resource_json(r, current_user) for r in resources]}


@bp.post("/resources")
@operation("Publish a resource for an organisation the user manages", tag="resources",
           body=NewResource, service_reads_body=True, answers={201: ResourceAnswer},
           errors=(403,), links={view: {"resource_id": "/id"} for view in (
               "show_resource", "edit_resource", "list_closures", "create_closure",
               "resource_availability")})
def publish_resource(body: dict):
    owner = owner_of(body)
    if not can_create_resource_for(current_user, owner):
        abort(403)
    fields = {name: value for name, value in body.items() if name not in CREATION_FIELDS}
    resource = create_resource(owner, body.get("kind"), fields)
    db.session.commit()
    return resource_json(resource, current_user), 201


@bp.get("/resources/<int:resource_id>")
@operation("One resource", tag="resources", answers={200: ResourceAnswer})
def show_resource(resource_id: int):
    resource = visible_resource_or_404(find_row(Resource, resource_id))
    return resource_json(resource, current_user)


@bp.patch("/resources/<int:resource_id>")
@operation("Change a resource's fields (its owner's managers)", tag="resources",
           body=ResourceChanges, service_reads_body=True, answers={200: ResourceAnswer},
           errors=(403,))
def edit_resource(resource_id: int, body: dict):
    resource = managed_resource_or_403(find_row(Resource, resource_id))
    if fixed := [name for name in CREATION_FIELDS if name in body]:
        raise InvalidInput({name: [_("This cannot be changed.")] for name in fixed})
    update_resource(resource, body)
    db.session.commit()
    return resource_json(resource, current_user)
