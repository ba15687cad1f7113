"""The four catalogues: premises, equipment, staff time and expertise.

One set of views serves four blueprints (`rooms`, `equipment`, `staff`, `expertise`); the
blueprint handling a request says which kind of resource its pages are about.
"""

from collections.abc import Callable

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required

from sharing.blueprints.closures import closures_section
from sharing.blueprints.external_calendars import external_calendars_section
from sharing.blueprints.lookups import managed_resource_or_403, visible_resource_or_404
from sharing.blueprints.timegrid import week_grid
from sharing.core.extensions import db
from sharing.forms import ActionForm, form_status, save_form
from sharing.forms.catalogue import FILTER_FORMS, RESOURCE_FORMS, ResourceForm
from sharing.forms.free import FreeSearchForm
from sharing.models import Resource
from sharing.services.catalogue import (
    DELIVERY_MODE_LABELS,
    FIELD_LABELS,
    KIND_BY_BLUEPRINT,
    KINDS,
    Kind,
    create_resource,
    deactivate_resource,
    find_active_organisations,
    find_members,
    find_resource_by_slug,
    find_resources,
    opening_hours_table,
    reactivate_resource,
    update_resource,
)
from sharing.services.feeds import public_feed_url, resource_feed_url
from sharing.services.messages import format_duration
from sharing.services.organisations import get_sites
from sharing.services.permissions import (
    can_create_resource_for,
    can_manage_resource,
    managed_organisations,
)


def current_kind() -> Kind:
    return KIND_BY_BLUEPRINT[request.blueprint]


def resource_here(slug: str) -> Resource | None:
    """The resource under this catalogue's prefix: another kind's is not found here."""
    resource = find_resource_by_slug(slug)
    return resource if resource is not None and resource.kind == current_kind().name else None


# Where a form's label names a unit the page's value already says ("1 h 30").
FACT_LABELS = {"session_minutes": _l("Session length")}


def facts(resource: Resource) -> list[tuple[str, str]]:
    """The kind's own facts as label and readable value, leaving out those not given."""
    readable = {
        bool: lambda value: _("Yes") if value else _("No"),
        "person_id": lambda _value: resource.person.display_name,
        "delivery_mode": lambda value: str(DELIVERY_MODE_LABELS[value]),
        "session_minutes": format_duration,
    }
    shown = []
    for name in KINDS[resource.kind].fields:
        value = getattr(resource, name)
        if value is None or value == "":
            continue
        show = readable.get(name) or readable.get(type(value), str)
        shown.append((str(FACT_LABELS.get(name) or FIELD_LABELS[name]), show(value)))
    return shown


@login_required
def index():
    kind = current_kind()
    may_manage = bool(managed_organisations(current_user))
    sites = get_sites()
    filters = FILTER_FORMS[kind.name](formdata=request.args)
    filters.offer_choices(sites, may_see_inactive=may_manage)
    resources = find_resources(current_user, kind=kind.name, **filters.criteria())
    return render_template("catalogue/list.html", kind=kind, filters=filters,
                           resources=resources, facts=facts, may_create=may_manage,
                           free_form=FreeSearchForm.blank(sites, kind.name))


@login_required
def detail(slug: str):
    resource = visible_resource_or_404(resource_here(slug))
    return render_template(
        "catalogue/detail.html", kind=current_kind(), resource=resource,
        facts=facts(resource), opening_hours=opening_hours_table(resource),
        may_manage=can_manage_resource(current_user, resource), action_form=ActionForm(),
        feed_url=resource_feed_url(current_user, resource),
        public_feed_url=resource.public_busy_feed and public_feed_url(resource),
        **closures_section(resource), **external_calendars_section(resource),
        **week_grid(resource))


def form_page(form: ResourceForm, change: Callable[[], Resource], title: str, saved: str):
    """Save and show the resource, or show the form again with what to correct."""
    done, resource = save_form(form, change)
    if done:
        flash(saved, "success")
        return redirect(url_for(".detail", slug=resource.slug))
    return render_template("catalogue/form.html", kind=current_kind(), form=form,
                           title=title), form_status(form)


@login_required
def new():
    kind = current_kind()
    owners = managed_organisations(current_user)
    if not owners:
        abort(403)
    form = RESOURCE_FORMS[kind.name]()
    form.offer_choices(owners, get_sites(), find_active_organisations(), find_members(owners))

    def create() -> Resource:
        owner = next(o for o in owners if o.id == form.owner.data)
        if not can_create_resource_for(current_user, owner):
            abort(403)
        return create_resource(owner, kind.name, form.to_data())

    return form_page(form, create, str(kind.new_label), _("Published in the catalogue."))


@login_required
def edit(slug: str):
    resource = managed_resource_or_403(resource_here(slug))
    form_class = RESOURCE_FORMS[resource.kind]
    form = form_class(data=form_class.values_of(resource))
    del form.owner  # a resource stays with the organisation that published it
    form.offer_choices([], get_sites(), find_active_organisations(),
                       find_members([resource.owner]))
    return form_page(form, lambda: update_resource(resource, form.to_data()),
                     _("Edit “%(name)s”", name=resource.name), _("Changes saved."))


def change_activity(slug: str, change) -> Resource:
    resource = managed_resource_or_403(resource_here(slug))
    if not ActionForm().validate_on_submit():
        abort(400)
    change(resource)
    db.session.commit()
    return resource


@login_required
def deactivate(slug: str):
    resource = change_activity(slug, deactivate_resource)
    flash(_("“%(name)s” is withdrawn from the catalogue.", name=resource.name), "success")
    return redirect(url_for(".detail", slug=slug))


@login_required
def reactivate(slug: str):
    resource = change_activity(slug, reactivate_resource)
    flash(_("“%(name)s” is back in the catalogue.", name=resource.name), "success")
    return redirect(url_for(".detail", slug=slug))


def make_blueprint(kind: Kind) -> Blueprint:
    bp = Blueprint(kind.blueprint, __name__, url_prefix=f"/{kind.blueprint}")
    bp.add_url_rule("", view_func=index)
    bp.add_url_rule("/new", view_func=new, methods=["GET", "POST"])
    bp.add_url_rule("/<slug>", view_func=detail)
    bp.add_url_rule("/<slug>/edit", view_func=edit, methods=["GET", "POST"])
    bp.add_url_rule("/<slug>/deactivate", view_func=deactivate, methods=["POST"])
    bp.add_url_rule("/<slug>/reactivate", view_func=reactivate, methods=["POST"])
    # The resource's rules, on its page and beside the booking form, give durations.
    bp.add_app_template_filter(format_duration, "duration")
    return bp


blueprints = [make_blueprint(kind) for kind in KINDS.values()]
