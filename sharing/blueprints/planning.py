"""The planning: every resource the user sees, over a week (a cell per day) or over one day
(a row per resource on a time axis). Served on the bookings blueprint (`/bookings/planning`).

It must stay quick for a thousand resources: a bounded number of queries (the resources,
as plain rows, then `load_timelines`'s), and rows written by `planning_rows.RowWriter`,
every label, link prefix and date format made once per page rather than once per cell.
"""

from datetime import date, timedelta

from babel.dates import format_date
from flask import abort, render_template, request, url_for
from flask_babel import get_locale
from flask_login import current_user, login_required
from sqlalchemy import Text, cast

from sharing.blueprints.planning_rows import RowWriter
from sharing.blueprints.timegrid import (
    day_headings,
    requested_day,
    span_labels,
    today,
    week_links,
    week_title,
)
from sharing.core.database import utcnow
from sharing.core.validation import is_row_id
from sharing.models import Resource, Site
from sharing.services.catalogue import KINDS, find_resource_rows
from sharing.services.organisations import get_sites
from sharing.services.timegrid import Axis, axis_for, load_timelines, week_of

VIEWS = ("week", "day")
# What a row and its timelines read of a resource and its site: plain columns, as a
# thousand entities would cost more to build than the page to write; the opening hours as
# their JSON text, parsed once per distinct timetable (`policy.weekly_hours`).
ROW_COLUMNS = (Resource.id, Resource.name, Resource.slug, Resource.kind, Resource.active,
               Resource.site_id, cast(Resource.opening_hours, Text).label("opening_hours"),
               Resource.quantity, Resource.slot_minutes, Site.name.label("site"),
               Site.timezone)
COLUMN_DATE = "EEE d MMM"


def requested_filters(sites) -> dict:
    kind, site = request.args.get("kind") or None, request.args.get("site") or None
    if kind is not None and kind not in KINDS:
        abort(404)
    site_id = int(site) if site and site.isdigit() and is_row_id(int(site)) else None
    if site is not None and site_id not in {s.id for s in sites}:
        abort(404)
    return {"kind": kind, "site_id": site_id}


def requested_view() -> str:
    view = request.args.get("view") or "week"
    return view if view in VIEWS else abort(404)


def row_writer(resources: list[tuple], days: list[date], axis: Axis | None) -> RowWriter:
    return RowWriter(
        days=days, axis=axis, labels=span_labels(),
        pages={name: url_for(f"{kind.blueprint}.detail", slug="-").removesuffix("-")
               for name, kind in KINDS.items()},
        book=f"{url_for('bookings.new')}?resource=",
        booking_prefix=url_for("bookings.index"),
        several_sites=len({r.site_id for r in resources}) > 1)  # else the heading says


def page_labels(days: list[date]) -> dict:
    """The days' names, in the headers and captions."""
    return {
        "columns": {day: format_date(day, COLUMN_DATE, locale=get_locale()) for day in days},
        "headings": day_headings(days),
    }


def day_links(day: date, **args) -> dict[str, str]:
    return {
        "previous": url_for(".planning", date=(day - timedelta(days=1)).isoformat(), **args),
        "next": url_for(".planning", date=(day + timedelta(days=1)).isoformat(), **args),
        "current": url_for(".planning", **args),
    }


@login_required
def planning():
    sites = get_sites()
    filters = requested_filters(sites)
    view, chosen = requested_view(), requested_day()
    days = week_of(chosen) if view == "week" else [chosen]
    resources = find_resource_rows(current_user, ROW_COLUMNS, **filters)
    timelines = load_timelines(current_user, resources, days, utcnow())
    axis = axis_for(list(timelines.values())) if view == "day" else None
    args = {"kind": filters["kind"] or "", "site": filters["site_id"] or ""}
    links = week_links(".planning", days[0], **args) if view == "week" \
        else day_links(chosen, view="day", **args)
    return render_template(
        "bookings/planning.html", view=view,
        rows=row_writer(resources, days, axis).rows(resources, timelines),
        days=days, sites=sites, kinds=KINDS, filters=filters, links=links,
        title=week_title(days[0] - timedelta(days=days[0].weekday())),
        this_period=today() in days, axis=axis,
        other_view=url_for(".planning", view="week" if view == "day" else "day",
                           date=chosen.isoformat(), **args),
        **page_labels(days))
