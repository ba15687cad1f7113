"""A resource's closures: listed to whoever sees it, set and lifted by its owners."""

from flask import abort
from flask_login import current_user

from sharing.blueprints.api import bp
from sharing.blueprints.api.contracts import Closure as ClosureAnswer
from sharing.blueprints.api.contracts import Closures, NewClosure, Window
from sharing.blueprints.api.operations import operation
from sharing.blueprints.api.serialize import closure_json
from sharing.blueprints.lookups import (
    find_row,
    managed_resource_or_403,
    visible_resource_or_404,
)
from sharing.core.extensions import db
from sharing.models import Closure, Resource
from sharing.services.closures import add_closure, find_closures, remove_closure


@bp.get("/resources/<int:resource_id>/closures")
@operation("The resource's closures, overlapping the window if given", tag="resources",
           query=Window, answers={200: Closures})
def list_closures(resource_id: int, query: Window):
    resource = visible_resource_or_404(find_row(Resource, resource_id))
    closures = find_closures(resource, query.start, query.end)
    return {"closures": [closure_json(closure) for closure in closures]}


@bp.post("/resources/<int:resource_id>/closures")
@operation("Close the resource for a period (its owner's managers)", tag="resources",
           body=NewClosure, answers={201: ClosureAnswer}, errors=(403,))
def create_closure(resource_id: int, body: NewClosure):
    resource = managed_resource_or_403(find_row(Resource, resource_id))
    closure = add_closure(resource, body.start, body.end, body.reason,
                          created_by=current_user)
    db.session.commit()
    return closure_json(closure), 201


@bp.delete("/resources/<int:resource_id>/closures/<int:closure_id>")
@operation("Lift a closure (its owner's managers)", tag="resources", answers={204: None},
           errors=(403,))
def delete_closure(resource_id: int, closure_id: int):
    resource = managed_resource_or_403(find_row(Resource, resource_id))
    closure = find_row(Closure, closure_id)
    if closure is None or closure.resource_id != resource.id:
        abort(404)
    remove_closure(closure)
    db.session.commit()
    return None, 204
