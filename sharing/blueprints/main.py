"""The home page and what every page needs: the navigation."""

from flask import Blueprint, current_app, render_template
from flask_babel import lazy_gettext as _l
from flask_login import current_user

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
    return render_template("index.html")
