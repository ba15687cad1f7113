"""The booking pages: book a resource, my bookings, one booking, requests to approve and
a week's planning. The booking engine decides; these views parse, ask and show.

Times are typed and shown in the resource's site timezone (24-hour clock), stored in UTC.
"""

from datetime import date, datetime
from zoneinfo import ZoneInfo

from babel.dates import format_date, format_datetime
from flask import (
    Blueprint,
    Response,
    abort,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import get_locale, ngettext
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required

from sharing.blueprints.lookups import (
    bookable_resource_or_404,
    requested_page,
    visible_booking_or_404,
)
from sharing.blueprints.planning import planning
from sharing.blueprints.timegrid import day_timeline, span_html, timeline, today
from sharing.core.database import utcnow
from sharing.core.i18n import local_time
from sharing.core.validation import InvalidInput, is_in_date_range
from sharing.engine import (
    Approvals,
    BookingRefused,
    BookingResult,
    InvalidTransition,
    NotAllowed,
    approve_fitting,
    book,
    cancel,
    decide,
    expire_past_requests,
    find_misfits,
)
from sharing.forms import FORM_ERROR, form_status, show_errors
from sharing.forms.bookings import (
    ApproveForm,
    BookingForm,
    BulkApproveForm,
    CancelForm,
    RejectForm,
)
from sharing.models import Booking, Resource
from sharing.services.bookings import (
    Page,
    count_pending_for_manager,
    find_bookings_by_id,
    find_organisation_bookings,
    find_pending_for_manager,
)
from sharing.services.catalogue import (
    KINDS,
    find_resources,
    get_resource,
    opening_hours_table,
)
from sharing.services.ical import single_event_calendar
from sharing.services.messages import describe, format_credits
from sharing.services.permissions import (
    bookable_organisations,
    can_cancel_booking,
    can_decide_booking,
    can_review_requests,
    can_see_booking_details,
    is_member,
)

bp = Blueprint("bookings", __name__, url_prefix="/bookings")

DATE = "EEE d MMM y"
STATUS_LABELS = {"pending": _l("Awaiting approval"), "confirmed": _l("Confirmed"),
                 "rejected": _l("Rejected"), "cancelled": _l("Cancelled"),
                 "expired": _l("Expired")}
HOME_PAGE_SIZE = 10


# --- showing times in the site's timezone -------------------------------------------------

@bp.app_template_filter("site_time")
def site_time(moment: datetime, timezone: str, pattern: str = f"{DATE} HH:mm") -> str:
    """A moment on the site's wall clock, in the reader's language, 24-hour."""
    return format_datetime(local_time(moment, timezone), pattern, locale=get_locale())


@bp.app_template_filter("site_period")
def site_period(start: datetime, end: datetime | None, timezone: str) -> str:
    """"Tue 2 Mar 2027 10:00–11:30", the end's date only when it is another day."""
    if end is None:
        return site_time(start, timezone)
    same_day = local_time(start, timezone).date() == local_time(end, timezone).date()
    end_pattern = "HH:mm" if same_day else f"{DATE} HH:mm"
    return f"{site_time(start, timezone)}–{site_time(end, timezone, end_pattern)}"


# A refusal's reasons, worded in the reader's language where the page shows them.
bp.add_app_template_global(describe)
# What a booking, a closure or busy time says on the drawn grids.
bp.add_app_template_global(span_html)


@bp.app_template_filter("date_label")
def date_label(day: date) -> str:
    """« mardi 1 décembre »: the day as people say it (DESIGN)."""
    return format_date(day, "EEEE d MMMM", locale=get_locale())


@bp.app_template_global()
def resource_url(resource: Resource) -> str:
    """The resource's page in its catalogue."""
    return url_for(f"{KINDS[resource.kind].blueprint}.detail", slug=resource.slug)


@bp.app_template_global()
def booking_status(booking: Booking) -> str:
    """"Cancelled by Camille Martin", "Refused by …": who, only for whoever may know."""
    who = booking.decided_by and can_see_booking_details(current_user, booking) \
        and booking.decided_by.display_name
    if who and booking.status == "cancelled":
        return _("Cancelled by %(name)s", name=who)
    if who and booking.status == "rejected":
        return _("Refused by %(name)s", name=who)
    return str(STATUS_LABELS[booking.status])


@bp.app_template_global()
def my_upcoming_bookings() -> Page:
    """For the home page: the next bookings of all the signed-in person's organisations,
    by time, a page at a time."""
    return find_organisation_bookings(current_user, utcnow(), page=requested_page(),
                                      size=HOME_PAGE_SIZE)


@bp.app_template_global()
def requests_awaiting_me() -> int:
    """For the home page: how many requests the signed-in manager may decide."""
    return count_pending_for_manager(current_user) if can_review_requests(current_user) else 0


# --- book ----------------------------------------------------------------------------------

def companions(resource: Resource) -> list[Resource]:
    """What may be booked together with the resource: the others of its site."""
    return [r for r in find_resources(current_user, site_id=resource.site_id)
            if r.id != resource.id]


@bp.route("/new", methods=["GET", "POST"])
@login_required
def new():
    resource = bookable_resource_or_404(request.args.get("resource"))
    organisations = bookable_organisations(current_user)
    if not organisations:
        abort(403)
    # A link (from the planning) may set the day: read it as the form would.
    form = BookingForm() if request.method == "POST" else BookingForm(formdata=request.args)
    form.offer_choices(resource, organisations, companions(resource))
    if not form.validate_on_submit():
        return booking_page(resource, form), form_status(form)
    try:
        result = book(current_user, form.to_request(resource))
    except InvalidInput as error:
        form.show_engine_errors(error)
        return booking_page(resource, form), FORM_ERROR
    except BookingRefused as refused:
        return booking_page(resource, form, refused), 409
    flash(booked_message(result, resource), "success")
    return redirect(url_for(".detail", booking_id=result.bookings[0].id))


def booking_page(resource: Resource, form: BookingForm, refused: BookingRefused | None = None):
    return render_template(
        "bookings/new.html", resource=resource, form=form, refused=refused,
        alternatives=alternative_choices(form, refused) if refused else [],
        skip=skip_offer(form, resource, refused) if refused else None,
        opening_hours=opening_hours_table(resource), price=price_label(resource),
        **day_timeline(resource, shown_day(form)))


def shown_day(form: BookingForm) -> date:
    """The day the form's timeline shows: the one chosen if it is a valid one."""
    day = form.date.data
    return day if isinstance(day, date) and is_in_date_range(day) else today()


def skip_offer(form: BookingForm, resource: Resource, refused: BookingRefused) -> dict | None:
    """For a refused series: how many of its dates are free, and the same form to post
    again with "skip the conflicting ones" ticked. None when there is nothing to offer."""
    if not form.repeat.data or form.skip_conflicts.data:
        return None
    free = refused.occurrences - len(refused.clashing)
    if free < 1:
        return None
    fields = [(name, value) for name, value in request.form.items(multi=True)
              if name not in ("csrf_token", "skip_conflicts")]
    return {"free": free, "dates": refused.occurrences,
            "fields": [*fields, ("skip_conflicts", "y")]}


def price_label(resource: Resource) -> str | None:
    """What booking costs in credits, said before booking; None when it is free."""
    if resource.price_cents is None:
        return None
    amount = format_credits(resource.price_cents)
    price = _("%(amount)s credits per hour booked", amount=amount) \
        if resource.price_unit == "hour" else _("%(amount)s credits per booking", amount=amount)
    return _("Price: %(price)s (per unit), free for %(owner)s. Cancelled at least "
             "%(minutes)s minutes before the start, it is refunded.", price=price,
             owner=resource.owner.name, minutes=resource.free_cancellation_minutes)


def alternative_choices(form: BookingForm, refused: BookingRefused) -> list[dict]:
    """Each alternative as a one-click form: what was typed, at the other time or place."""
    choices = []
    for alternative in refused.alternatives:
        resource = get_resource(alternative.resource_id)
        tz = ZoneInfo(resource.timezone)
        start, end = alternative.start.astimezone(tz), alternative.end.astimezone(tz)
        fields = {name: form[name].data for name in ("organisation", "quantity", "title", "note")
                  if name in form}
        fields.update(date=start.date().isoformat(), start_time=f"{start:%H:%M}",
                      end_time=f"{end:%H:%M}",
                      end_date=end.date().isoformat() if end.date() != start.date() else "")
        choices.append({"resource": resource, "start": alternative.start,
                        "end": alternative.end, "fields": fields})
    return choices


def booked_message(result: BookingResult, resource: Resource) -> str:
    # Whole sentences per outcome: a status spliced into one reads wrong in French.
    dates = len({b.starts_at for b in result.bookings})
    if any(b.status == "pending" for b in result.bookings):
        message = ngettext("Request sent: %(owner)s will approve or refuse it.",
                           "%(num)d requests sent: %(owner)s will approve or refuse them.",
                           dates, owner=resource.owner.name)
    else:
        message = ngettext("Booking confirmed.", "%(num)d bookings confirmed.", dates)
    if result.skipped:
        skipped = ", ".join(site_time(s.start, resource.timezone) for s in result.skipped)
        message += " " + _("Skipped because of conflicts: %(dates)s.", dates=skipped)
    return message


# --- my bookings, one booking ----------------------------------------------------------------

@bp.get("/")
@login_required
def index():
    past = request.args.get("past") == "1"
    page = find_organisation_bookings(current_user, utcnow(), past=past, page=requested_page())
    return render_template("bookings/index.html", page=page, past=past,
                           may_cancel=may_cancel, may_review=can_review_requests(current_user),
                           cancel_form=CancelForm(formdata=None, back="index"))


def may_cancel(booking: Booking) -> bool:
    return booking.holds_capacity and can_cancel_booking(current_user, booking)


@bp.get("/<int:booking_id>")
@login_required
def detail(booking_id: int):
    return detail_page(visible_booking_or_404(booking_id))


@bp.get("/<int:booking_id>.ics")
@login_required
def calendar_file(booking_id: int):
    """"Add to my calendar": the booking as one event, as its viewer may see it."""
    booking = visible_booking_or_404(booking_id)
    return Response(single_event_calendar(booking, current_user),
                    mimetype="text/calendar", headers={
                        "Content-Type": "text/calendar; charset=utf-8",
                        "Content-Disposition": f'attachment; filename="booking-{booking.id}.ics"'})


def detail_page(booking: Booking, **forms):
    forms = {"cancel_form": CancelForm(formdata=None), "approve_form": ApproveForm(formdata=None),
             "reject_form": RejectForm(formdata=None), **forms}
    may_decide = booking.status == "pending" and can_decide_booking(current_user, booking)
    # The owner refuses a request; only its own organisation withdraws it.
    withdraws = not may_decide or is_member(current_user, booking.organisation_id)
    return render_template(
        "bookings/detail.html", booking=booking,
        details=can_see_booking_details(current_user, booking),
        may_cancel=may_cancel(booking) and withdraws, may_decide=may_decide,
        ours=is_member(current_user, booking.organisation_id), **forms)


def back_to(form, booking: Booking) -> str:
    """Only the pages a booking's buttons are on: never an address from outside."""
    pages = {"index": url_for(".index"), "approvals": url_for(".approvals")}
    return pages.get(form.back.data, url_for(".detail", booking_id=booking.id))


def change_booking(booking_id: int, form_name: str, form, change, done: str):
    """Run an engine change on a booking the user sees; say what happened or why not."""
    booking = visible_booking_or_404(booking_id)
    if not form.validate_on_submit():
        return detail_page(booking, **{form_name: form}), form_status(form)
    try:
        change()
    except NotAllowed:
        abort(403)
    except LookupError:
        abort(404)
    except InvalidInput as error:
        show_errors(form, error)
        return detail_page(booking, **{form_name: form}), FORM_ERROR
    except InvalidTransition as error:
        flash(describe(error), "error")
        return redirect(back_to(form, booking))
    except BookingRefused as refused:  # an approval the booker's credits cannot pay
        for conflict in refused.conflicts:
            flash(describe(conflict), "error")
        return redirect(back_to(form, booking))
    flash(done, "success")
    return redirect(back_to(form, booking))


@bp.post("/<int:booking_id>/cancel")
@login_required
def cancel_booking(booking_id: int):
    form = CancelForm()
    return change_booking(booking_id, "cancel_form", form, lambda: cancel(
        current_user, booking_id, form.cancel_reason.data or "", form.scope.data), _("Cancelled."))


@bp.post("/<int:booking_id>/approve")
@login_required
def approve(booking_id: int):
    form = ApproveForm()
    return change_booking(booking_id, "approve_form", form, lambda: decide(
        current_user, booking_id, approve=True), _("Approved: the booking is confirmed."))


@bp.post("/<int:booking_id>/reject")
@login_required
def reject(booking_id: int):
    form = RejectForm()
    return change_booking(booking_id, "reject_form", form, lambda: decide(
        current_user, booking_id, approve=False, reason=form.reason.data or ""),
        _("Rejected."))


@bp.get("/approvals")
@login_required
def approvals():
    if not can_review_requests(current_user):
        abort(403)
    return approvals_page(BulkApproveForm(formdata=None))


def approvals_page(bulk_form: BulkApproveForm):
    expire_past_requests()  # a request whose start passed is no longer to decide
    page = find_pending_for_manager(current_user, page=requested_page())
    return render_template("bookings/approvals.html", page=page,
                           misfits=find_misfits(page.rows), bulk_form=bulk_form,
                           approve_form=ApproveForm(back="approvals"))


@bp.post("/approvals")
@login_required
def approve_selected():
    """Approve the ticked requests at once: each that still fits, through the engine;
    say which were approved and why the others were not."""
    if not can_review_requests(current_user):
        abort(403)
    form = BulkApproveForm()
    if not form.validate_on_submit():
        return approvals_page(form), form_status(form)
    requests = find_bookings_by_id(form.bookings.data)
    if len(requests) != len(set(form.bookings.data)):
        abort(404)
    try:
        outcome = approve_fitting(current_user, requests)
    except NotAllowed:
        abort(403)
    say_what_was_approved(outcome)
    return redirect(url_for(".approvals"))


def say_what_was_approved(outcome: Approvals) -> None:
    if outcome.approved:
        flash(ngettext("%(num)d request approved: %(list)s.",
                       "%(num)d requests approved: %(list)s.", len(outcome.approved),
                       list=request_list(outcome.approved)), "success")
    for booking, reasons in outcome.refused:
        flash(_("Not approved: %(request)s. %(reasons)s", request=request_name(booking),
                reasons=" ".join(describe(reason) for reason in reasons)), "error")


def request_list(bookings: list[Booking]) -> str:
    return "; ".join(request_name(booking) for booking in bookings)


def request_name(booking: Booking) -> str:
    """"Salle des Tilleuls, Tue 12 Jan 2027 10:00–11:00"."""
    when = site_period(booking.starts_at, booking.ends_at, booking.resource.timezone)
    return f"{booking.resource.name}, {when}"


# --- free time at a glance: the planning, the booking form's day timeline -----------------

bp.add_url_rule("/planning", view_func=planning)
bp.add_url_rule("/timeline", view_func=timeline)
