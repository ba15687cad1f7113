"""A resource's closures on its pages: listed to whoever sees the resource, added and
lifted by its managers. The closures service does the work; the engine refuses bookings
inside a closure."""

from flask import Blueprint, abort, flash, redirect, render_template
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user

from sharing.blueprints.bookings import resource_url
from sharing.blueprints.lookups import (
    managed_resource_or_403,
    signed_in_only,
    visible_resource_or_404,
)
from sharing.core.database import utcnow
from sharing.core.extensions import db
from sharing.forms import FORM_ERROR, ROW_ID, ActionForm, save_form
from sharing.forms.closures import ClosureForm
from sharing.models import Closure, Resource
from sharing.services.bookings import count_bookings_during
from sharing.services.catalogue import get_resource
from sharing.services.closures import add_closure, find_closures, remove_closure
from sharing.services.permissions import can_manage_resource

# Like the catalogue, closures are shown to signed-in people only.
bp = signed_in_only(Blueprint("closures", __name__, url_prefix="/resources"))


def closures_section(resource: Resource, form: ClosureForm | None = None) -> dict:
    """What the closures section of a resource's page shows: the closures not over yet
    and, for its managers, the form adding one."""
    may_manage = can_manage_resource(current_user, resource)
    return {"closures": find_closures(resource, start=utcnow()),
            "closure_form": (form or ClosureForm(formdata=None)) if may_manage else None,
            "may_manage_closures": may_manage}


def render_page(resource: Resource, form: ClosureForm | None = None, status: int = 200):
    return render_template("closures/index.html", resource=resource, action_form=ActionForm(),
                           **closures_section(resource, form)), status


@bp.get(f"/<{ROW_ID}:resource_id>/closures")
def index(resource_id: int):
    return render_page(visible_resource_or_404(get_resource(resource_id)))


@bp.post(f"/<{ROW_ID}:resource_id>/closures")
def add(resource_id: int):
    resource = managed_resource_or_403(get_resource(resource_id))
    form = ClosureForm()

    def create() -> Closure:
        start, end = form.interval(resource)
        return add_closure(resource, start, end, form.reason.data or "", current_user)

    done, closure = save_form(form, create)
    if not done:
        return render_page(resource, form, FORM_ERROR)
    flash(_("Closure added."), "success")
    flash_bookings_inside(closure)
    return redirect(resource_url(resource))


def flash_bookings_inside(closure: Closure) -> None:
    """Existing bookings stay (their organisations planned on them): the owner contacts
    them, so say how many there are."""
    count = count_bookings_during(closure.resource, closure.starts_at, closure.ends_at)
    if count:
        flash(ngettext(
            "%(num)d existing booking falls inside the closure: it is kept, contact its "
            "organisation.",
            "%(num)d existing bookings fall inside the closure: they are kept, contact their "
            "organisations.", count), "info")


@bp.post(f"/<{ROW_ID}:resource_id>/closures/<{ROW_ID}:closure_id>/remove")
def remove(resource_id: int, closure_id: int):
    resource = managed_resource_or_403(get_resource(resource_id))
    closure = db.session.get(Closure, closure_id)
    if closure is None or closure.resource_id != resource.id:
        abort(404)
    if not ActionForm().validate_on_submit():
        abort(400)
    remove_closure(closure)
    db.session.commit()
    flash(_("Closure removed: the resource can be booked in that period again."), "success")
    return redirect(resource_url(resource))
