"""A resource's closures: listed to whoever sees it, set and lifted by its owners."""

from flask import abort, jsonify

from sharing.blueprints.api import (
    api_user,
    bp,
    find_row,
    json_body,
    keep,
    managed_resource,
    parse_datetime,
    query_arg,
    read_fields,
    visible_resource_or_404,
)
from sharing.blueprints.api.serialize import closure_json
from sharing.core.extensions import db
from sharing.models import Closure
from sharing.services.closures import add_closure, find_closures, remove_closure


@bp.get("/resources/<int:resource_id>/closures")
def list_closures(resource_id: int):
    resource = visible_resource_or_404(resource_id)
    closures = find_closures(resource, query_arg("start", parse_datetime),
                             query_arg("end", parse_datetime))
    return jsonify(closures=[closure_json(closure) for closure in closures])


@bp.post("/resources/<int:resource_id>/closures")
def create_closure(resource_id: int):
    resource = managed_resource(resource_id)
    fields = read_fields(json_body(), {"start": parse_datetime, "end": parse_datetime},
                         {"reason": keep})
    closure = add_closure(resource, fields["start"], fields["end"], fields.get("reason", ""),
                          created_by=api_user())
    db.session.commit()
    return jsonify(closure_json(closure)), 201


@bp.delete("/resources/<int:resource_id>/closures/<int:closure_id>")
def delete_closure(resource_id: int, closure_id: int):
    resource = managed_resource(resource_id)
    closure = find_row(Closure, closure_id)
    if closure is None or closure.resource_id != resource.id:
        abort(404)
    remove_closure(closure)
    db.session.commit()
    return "", 204
