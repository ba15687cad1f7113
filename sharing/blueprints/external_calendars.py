"""A resource's external calendars on its page, for its managers only (their addresses
are often secret): attached, detached, and synced now. The external calendars service
does the work; the engine refuses bookings during their busy periods."""

from flask import Blueprint, abort, current_app, flash, redirect, render_template
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user

from sharing.blueprints.bookings import resource_url
from sharing.blueprints.lookups import managed_resource_or_403, signed_in_only
from sharing.core.extensions import db
from sharing.forms import FORM_ERROR, ROW_ID, ActionForm, save_form
from sharing.forms.external_calendars import ExternalCalendarForm
from sharing.models import ExternalCalendar, Resource
from sharing.services.catalogue import get_resource
from sharing.services.external_calendars import (
    add_calendar,
    error_message,
    find_calendars,
    remove_calendar,
    sync_calendars,
)
from sharing.services.permissions import can_manage_resource

# Only managers ever see these pages; the others are signed in to be told no.
bp = signed_in_only(Blueprint("external_calendars", __name__, url_prefix="/resources"))


def external_calendars_section(resource: Resource, form: ExternalCalendarForm | None = None
                               ) -> dict:
    """What the external calendars section of a resource's page shows: nothing unless the
    user manages the resource."""
    if not can_manage_resource(current_user, resource):
        return {"external_calendars": None}
    return {"external_calendars": find_calendars(resource),
            "external_calendar_form": form or ExternalCalendarForm(formdata=None),
            "calendar_error": error_message}


def render_page(resource: Resource, form: ExternalCalendarForm | None = None,
                status: int = 200):
    return render_template("external_calendars/index.html", resource=resource,
                           action_form=ActionForm(),
                           **external_calendars_section(resource, form)), status


def calendar_of(resource: Resource, calendar_id: int) -> ExternalCalendar:
    calendar = db.session.get(ExternalCalendar, calendar_id)
    if calendar is None or calendar.resource_id != resource.id:
        abort(404)
    return calendar


def require_action_form() -> None:
    if not ActionForm().validate_on_submit():
        abort(400)


@bp.get(f"/<{ROW_ID}:resource_id>/calendars")
def index(resource_id: int):
    return render_page(managed_resource_or_403(get_resource(resource_id)))


@bp.post(f"/<{ROW_ID}:resource_id>/calendars")
def add(resource_id: int):
    resource = managed_resource_or_403(get_resource(resource_id))
    form = ExternalCalendarForm()
    done, _calendar = save_form(form, lambda: add_calendar(resource, form.url.data))
    if not done:
        return render_page(resource, form, FORM_ERROR)
    flash(_("Calendar attached: synchronise it now to read its busy times."), "success")
    return redirect(resource_url(resource))


@bp.post(f"/<{ROW_ID}:resource_id>/calendars/<{ROW_ID}:calendar_id>/remove")
def remove(resource_id: int, calendar_id: int):
    resource = managed_resource_or_403(get_resource(resource_id))
    calendar = calendar_of(resource, calendar_id)
    require_action_form()
    remove_calendar(calendar)
    db.session.commit()
    flash(_("Calendar detached: its busy times no longer block the resource."), "success")
    return redirect(resource_url(resource))


@bp.post(f"/<{ROW_ID}:resource_id>/calendars/sync")
def sync(resource_id: int):
    resource = managed_resource_or_403(get_resource(resource_id))
    require_action_form()
    failures = sync_calendars(find_calendars(resource),
                              seconds=current_app.config["CALENDAR_SYNC_NOW_SECONDS"])
    if failures:
        flash(ngettext("%(num)d calendar could not be read: its previous busy times are kept.",
                       "%(num)d calendars could not be read: their previous busy times are "
                       "kept.", len(failures)), "error")
    else:
        flash(_("Calendars synchronised."), "success")
    return redirect(resource_url(resource))
