"""Moving or editing a booking from its page: a prefilled form, the engine's `move`, and
on a conflict its reasons and the free alternatives, as the booking form shows them."""

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from sharing.blueprints.bookings import alternative_choices
from sharing.blueprints.lookups import signed_in_only, visible_booking_or_404
from sharing.core.database import utcnow
from sharing.core.validation import InvalidInput
from sharing.engine import BookingRefused, InvalidTransition, NotAllowed, move
from sharing.engine.alternatives import find_similar_resources
from sharing.engine.moving import check_movable, why_not_movable
from sharing.forms import FORM_ERROR, form_status
from sharing.forms.bookings import MoveForm
from sharing.models import Booking
from sharing.services.catalogue import opening_hours_table
from sharing.services.messages import describe

bp = signed_in_only(Blueprint("moves", __name__, url_prefix="/bookings"))


@bp.app_template_global()
def may_move(booking: Booking) -> bool:
    """Whether the booking's page offers to change it."""
    return why_not_movable(current_user, booking, utcnow()) is None


@bp.route("/<int:booking_id>/edit", methods=["GET", "POST"])
def edit(booking_id: int):
    booking = visible_booking_or_404(booking_id)
    try:
        check_movable(current_user, booking, utcnow())
        return edit_or_show(booking)
    except NotAllowed:
        abort(403)
    except InvalidTransition as error:  # cancelled, or over, meanwhile
        flash(describe(error), "error")
        return redirect(url_for("bookings.detail", booking_id=booking.id))


def edit_or_show(booking: Booking):
    form = MoveForm() if request.method == "POST" else MoveForm.prefilled(booking)
    form.offer_resources(booking, find_similar_resources(booking.resource, 1,
                                                         booking.organisation_id))
    if not form.validate_on_submit():
        return edit_page(booking, form), form_status(form)
    try:
        move(current_user, booking.id, form.to_changes(booking))
    except InvalidInput as error:
        form.show_engine_errors(error)
        return edit_page(booking, form), FORM_ERROR
    except BookingRefused as refused:
        return edit_page(booking, form, refused), 409
    flash(_("Booking changed."), "success")
    return redirect(url_for("bookings.detail", booking_id=booking.id))


def edit_page(booking: Booking, form: MoveForm, refused: BookingRefused | None = None):
    return render_template("bookings/edit.html", booking=booking, resource=booking.resource,
                           form=form, refused=refused,
                           alternatives=move_alternatives(form, refused) if refused else [],
                           opening_hours=opening_hours_table(booking.resource))


def move_alternatives(form: MoveForm, refused: BookingRefused) -> list[dict]:
    """The booking form's one-click offers, each naming its resource for this form."""
    choices = alternative_choices(form, refused)
    for choice in choices:
        choice["fields"]["resource"] = choice["resource"].id
    return choices
