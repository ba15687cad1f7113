"""Free time at a glance: a resource's week grid (on its page), the booking form's day
timeline (`/bookings/timeline`), and what they share with the planning: the week or day
asked for in the address, the week's navigation, labels and links made once per page.

The timelines themselves come from `sharing.services.timegrid`.
"""

import re
from datetime import date, timedelta
from zoneinfo import ZoneInfo

from babel.dates import format_date
from flask import abort, current_app, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user, login_required
from markupsafe import Markup, escape

from sharing.blueprints.lookups import bookable_resource_or_404
from sharing.core.database import utcnow
from sharing.core.validation import is_in_date_range
from sharing.models import Resource
from sharing.services.timegrid import Span, axis_for, clock, load_timelines, week_of

WEEK = re.compile(r"^(\d{4})-W(\d{2})$")
DAY_HEADING = "EEEE d MMMM"


# --- the week or day in the address -------------------------------------------------------

def today() -> date:
    return utcnow().astimezone(ZoneInfo(current_app.config["DEFAULT_TIMEZONE"])).date()


def requested_day() -> date:
    """The Monday of ?week=2027-W10, or ?date=2027-03-10, or today; a malformed one, or
    one outside the accepted dates, is no page."""
    week, day = request.args.get("week"), request.args.get("date")
    try:
        if week:
            match = WEEK.match(week) or abort(404)
            chosen = date.fromisocalendar(int(match.group(1)), int(match.group(2)), 1)
        else:
            chosen = date.fromisoformat(day) if day else today()
    except ValueError:
        abort(404)
    return chosen if is_in_date_range(chosen) else abort(404)


def iso_week(day: date) -> str:
    year, number, _weekday = day.isocalendar()
    return f"{year}-W{number:02d}"


def week_title(monday: date) -> str:
    """"Week 2 of 2027": the ISO week's number and year (the year of its Thursday)."""
    year, number, _weekday = monday.isocalendar()
    return _("Week %(number)d of %(year)d", number=number, year=year)


def week_links(endpoint: str, monday: date, **args) -> dict[str, str]:
    """Previous week, next week and this week, keeping the page's other arguments."""
    return {
        "previous": url_for(endpoint, week=iso_week(monday - timedelta(days=7)), **args),
        "next": url_for(endpoint, week=iso_week(monday + timedelta(days=7)), **args),
        "current": url_for(endpoint, **args),
    }


def day_headings(days: list[date]) -> dict[date, str]:
    """"lundi 11 janvier": each day's label, formatted once per page."""
    return {day: format_date(day, DAY_HEADING, locale=get_locale()) for day in days}


def span_labels() -> dict[str, Markup]:
    """The words a drawn span shows, translated and escaped once per page."""
    return {"booked": escape(_("Booked")), "pending": escape(_("pending")),
            "closure": escape(_("Closed")), "external": escape(_("Busy")),
            "free": escape(_("free")), "past": escape(_("Past day"))}


def span_html(span: Span, labels: dict[str, Markup], booking_prefix: str) -> Markup:
    # span_text escapes the title and organisation it writes; the rest is ours
    return Markup(span_text(span, labels, booking_prefix))  # nosec B704


def span_text(span: Span, labels: dict[str, Markup], booking_prefix: str) -> str:
    """What a drawn span says, as HTML, on every face that draws one: "09:00–10:30 Booked",
    or the booking's title, linked, and its organisation for whoever may see them."""
    if span.kind != "booking":
        said = labels[span.kind]
    elif span.is_own:
        said = own_booking_html(span, labels, booking_prefix)
    else:
        said = labels["booked"]
    if span.pending:
        said = f"{said} <em>({labels['pending']})</em>"
    return f"{span.period} {said}"


def own_booking_html(span: Span, labels: dict[str, Markup], booking_prefix: str) -> str:
    link = (f'<a href="{escape(booking_prefix)}{span.booking_id}">'
            f'{escape(span.title or labels["booked"])}</a>')
    return f"{link} · {escape(span.organisation)}" if span.organisation else link


# --- links to book, made from one prefix per page -----------------------------------------

def drawing(resource: Resource) -> dict:
    """What a drawn timeline of the resource needs besides the timelines: words, links."""
    return {"labels": span_labels(), "free_link": free_link,
            "booking_prefix": url_for("bookings.index"),
            "prefix": f"{url_for('bookings.new')}?resource={resource.slug}"}


def free_link(prefix: str, day: date, start: int, end: int) -> str:
    """The booking form prefilled with a free span of that day (24:00 is the next day's
    midnight, which the form takes as an end date)."""
    link = f"{prefix}&date={day.isoformat()}&start_time={clock(start)}"
    if end >= 24 * 60:
        return f"{link}&end_time=00:00&end_date={(day + timedelta(days=1)).isoformat()}"
    return f"{link}&end_time={clock(end)}"


# --- the resource page's week grid, the booking form's timeline ----------------------------

def week_grid(resource: Resource) -> dict:
    """What the resource page needs to draw the week asked for (this one by default)."""
    days = week_of(requested_day())
    timelines = load_timelines(current_user, [resource], days, utcnow())
    shown = [timelines[resource.id, day] for day in days]
    return {"grid": {
        "days": shown, "axis": axis_for(shown), "headings": day_headings(days),
        "title": week_title(days[0]), "today": today(),
        "links": week_links(request.endpoint, days[0], slug=resource.slug),
        "may_book": resource.active, **drawing(resource)}}


def day_timeline(resource: Resource, day: date) -> dict:
    """The booking form's timeline of one day."""
    timeline = load_timelines(current_user, [resource], [day], utcnow())[resource.id, day]
    return {"timeline": timeline, "axis": axis_for([timeline]),
            "heading": day_headings([day])[day], **drawing(resource)}


def form_day(value: str | None) -> date:
    """The day the booking form shows: the one typed, else today; bad text is no page."""
    try:
        day = date.fromisoformat(value) if value else today()
    except ValueError:
        abort(400)
    return day if is_in_date_range(day) else abort(400)


@login_required
def timeline():
    """The day's timeline as an HTML fragment, fetched by static/timeline.js when the
    booking form's date changes."""
    resource = bookable_resource_or_404(request.args.get("resource"))
    return render_template("timegrid/_timeline.html", resource=resource,
                           **day_timeline(resource, form_day(request.args.get("date"))))
