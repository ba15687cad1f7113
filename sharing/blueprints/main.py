"""The home page and what every page needs: the navigation."""

from flask import Blueprint, current_app, render_template, request
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required

from sharing.core.validation import InvalidInput
from sharing.forms import FORM_ERROR, show_errors
from sharing.forms.free import FreeSearchForm
from sharing.models import Resource
from sharing.services.catalogue import find_free_on
from sharing.services.organisations import get_sites
from sharing.services.permissions import is_admin

bp = Blueprint("main", __name__)

# Shown to signed-in people, in this order, when the blueprint is registered.
NAV = [
    ("rooms.index", _l("Premises")),
    ("equipment.index", _l("Equipment")),
    ("staff.index", _l("Staff time")),
    ("expertise.index", _l("Expertise")),
    ("bookings.index", _l("My bookings")),
    ("orgs.index", _l("Organisations")),
    ("reports.index", _l("Impact")),
]
ADMIN_NAV = [("admin.index", _l("Administration"))]


def nav_items() -> list[tuple[str, str]]:
    if not current_user.is_authenticated:
        return []
    wanted = NAV + (ADMIN_NAV if is_admin(current_user) else [])
    endpoints = current_app.view_functions
    return [(endpoint, label) for endpoint, label in wanted if endpoint in endpoints]


@bp.app_context_processor
def inject_navigation() -> dict:
    return {"nav_items": nav_items, "url_endpoints": current_app.view_functions}


@bp.get("/")
def index():
    free_form = FreeSearchForm.blank(get_sites()) if current_user.is_authenticated else None
    return render_template("index.html", free_form=free_form)


@bp.get("/free")
@login_required
def free():
    """"What is free?": the resources booking would accept for the day, times and units
    asked, each a link to its prefilled booking form."""
    form = FreeSearchForm(formdata=request.args)
    form.offer_choices(get_sites())
    results = free_resources(form) if form.is_asked() and form.validate() else None
    return render_template("free.html", form=form, results=results), \
        FORM_ERROR if form.errors else 200


def free_resources(form: FreeSearchForm) -> list[Resource] | None:
    """What is free, or None (and why, on the form) when the engine refuses the window."""
    try:
        return find_free_on(current_user, **form.search())
    except InvalidInput as error:
        show_errors(form, error)
        return None
