"""Forms for booking, cancelling and deciding: they collect local wall-clock times and
hand the booking engine one request; the engine holds every rule about time.

The engine's `InvalidInput` names request fields (`start`, `organisation_id`…); `FIELDS`
says beside which form field each message goes.
"""

from datetime import date, datetime, time
from zoneinfo import ZoneInfo

from flask_babel import lazy_gettext as _l
from wtforms import (
    BooleanField,
    DateField,
    HiddenField,
    IntegerField,
    RadioField,
    SelectChoice,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
    TimeField,
)
from wtforms.validators import InputRequired, Length, NumberRange, Optional, ValidationError

from sharing.core.validation import InvalidInput
from sharing.engine import BookingChanges, BookingRequest
from sharing.engine.booking import NOTE_LENGTH, REASON_LENGTH, TITLE_LENGTH
from sharing.engine.recurrence import MAX_OCCURRENCES
from sharing.engine.times import localize
from sharing.forms import Form, at_most, in_date_range, show_errors
from sharing.forms.catalogue import CheckboxesField
from sharing.models import Booking, Organisation, Resource
from sharing.services.paging import PAGE_SIZE

REPEAT_CHOICES = [SelectChoice("", _l("Does not repeat")),
                  SelectChoice("DAILY", _l("Every day")), SelectChoice("WEEKLY", _l("Every week")),
                  SelectChoice("MONTHLY", _l("Every month"))]
# Request field (engine, JSON API) → form field.
FIELDS = {"organisation_id": "organisation", "start": "start_time", "end": "end_time",
          "extra_resource_ids": "extra_resources", "recurrence": "repeat",
          "resource_id": "form"}


class BookingForm(Form):
    organisation = SelectField(_l("On behalf of"), coerce=int)
    date = DateField(_l("Date"), validators=[InputRequired(), in_date_range])
    start_time = TimeField(_l("Start time"), validators=[InputRequired()])
    end_time = TimeField(_l("End time"), validators=[InputRequired()])
    end_date = DateField(_l("End date"), validators=[Optional(), in_date_range],
                         description=_l("Only when it ends on a later day."))
    quantity = IntegerField(_l("Units"), default=1, validators=[InputRequired()])
    title = StringField(_l("Title"), description=_l("Shown to your organisation and the owner."),
                        render_kw=at_most(TITLE_LENGTH))
    note = TextAreaField(_l("Note for the owner"), render_kw=at_most(NOTE_LENGTH))
    repeat = SelectField(_l("Repeat"), choices=REPEAT_CHOICES, default="")
    occurrences = IntegerField(_l("Number of times"), validators=[
        Optional(), NumberRange(min=1, max=MAX_OCCURRENCES)])
    until = DateField(_l("Or until (date included)"), validators=[Optional(), in_date_range])
    skip_conflicts = BooleanField(_l("Book the free dates and skip the conflicting ones"))
    extra_resources = CheckboxesField(_l("Also book"), coerce=int,
                                      render_kw={"class": "checkboxes"})

    WHEN = ("date", "start_time", "end_time", "end_date")
    WHAT = ("organisation", "quantity", "title", "note")
    FIELDS = FIELDS
    REPEAT = ("repeat", "occurrences", "until", "skip_conflicts")

    def offer_choices(self, resource: Resource, organisations: list[Organisation],
                      others: list[Resource]) -> None:
        """Only what the user may choose: their organisations, the units there are, the
        other resources of the site. Anything else posted is "not a valid choice"."""
        self.organisation.choices = [SelectChoice(o.id, o.name) for o in organisations]
        if len(organisations) == 1 and self.organisation.data is None:
            self.organisation.data = organisations[0].id
        step = {"step": resource.slot_minutes * 60}
        self.start_time.render_kw = self.end_time.render_kw = step
        if resource.quantity == 1:
            del self.quantity
        else:
            self.quantity.render_kw = {"min": 1, "max": resource.quantity}
        self.extra_resources.choices = [SelectChoice(r.id, r.name) for r in others]
        if not others:
            del self.extra_resources

    def validate_end_time(self, field) -> None:
        # Wall-clock order only; the engine checks the instants (and the DST gap) again.
        start, end = self.wall_times()
        if start and end and end <= start:
            raise ValidationError(_l("The end must come after the start."))

    def validate_repeat(self, field) -> None:
        if field.data and (self.occurrences.data is None) == (self.until.data is None):
            raise ValidationError(_l("Give either a number of times or an end date."))

    def wall_times(self) -> tuple[datetime | None, datetime | None]:
        day, start, end = self.date.data, self.start_time.data, self.end_time.data
        if not (isinstance(day, date) and isinstance(start, time) and isinstance(end, time)):
            return None, None
        return (datetime.combine(day, start),
                datetime.combine(self.end_date.data or day, end))

    def recurrence(self) -> str | None:
        """The repetition as an RRULE, e.g. FREQ=WEEKLY;COUNT=10."""
        if not self.repeat.data:
            return None
        if self.occurrences.data is not None:
            return f"FREQ={self.repeat.data};COUNT={self.occurrences.data}"
        return f"FREQ={self.repeat.data};UNTIL={self.until.data:%Y%m%d}"

    def to_request(self, resource: Resource) -> BookingRequest:
        """The engine's request, the wall times read in the resource's site timezone."""
        tz = ZoneInfo(resource.timezone)
        start, end = self.wall_times()
        return BookingRequest(
            resource_id=resource.id, organisation_id=self.organisation.data,
            start=localize(start, tz), end=localize(end, tz),
            quantity=self.quantity.data if "quantity" in self else 1,
            title=self.title.data or "", note=self.note.data or "",
            recurrence=self.recurrence(), skip_conflicts=self.skip_conflicts.data,
            extra_resource_ids=list(self.extra_resources.data or [])
            if "extra_resources" in self else [])

    def show_engine_errors(self, error: InvalidInput) -> None:
        show_errors(self, InvalidInput({self.FIELDS.get(name, name): messages
                                        for name, messages in error.fields.items()}))

    def sections(self) -> list[tuple[object, list]]:
        groups = [(_l("When"), self.WHEN), (_l("What"), self.WHAT),
                  (_l("Repetition"), self.REPEAT), (_l("Together with"), ("extra_resources",))]
        return [(legend, [self[name] for name in names if name in self])
                for legend, names in groups if any(name in self for name in names)]


class MoveForm(BookingForm):
    """A booking's time, units, texts and resource (among similar ones), prefilled; the
    organisation and any repetition stay as they are."""

    organisation = repeat = occurrences = until = skip_conflicts = extra_resources = None
    resource = SelectField(_l("Resource"), coerce=int)

    WHAT = ("resource", "quantity", "title", "note")
    FIELDS = {**FIELDS, "resource_id": "resource"}

    @classmethod
    def prefilled(cls, booking: Booking) -> "MoveForm":
        tz = ZoneInfo(booking.resource.timezone)
        start, end = booking.starts_at.astimezone(tz), booking.ends_at.astimezone(tz)
        return cls(formdata=None, data={
            "date": start.date(), "start_time": start.time(), "end_time": end.time(),
            "end_date": end.date() if end.date() != start.date() else None,
            "quantity": booking.quantity, "title": booking.title, "note": booking.note,
            "resource": booking.resource_id})

    def offer_resources(self, booking: Booking, similar: list[Resource]) -> None:
        """The booked resource or a similar one; units only where there are several."""
        resources = [booking.resource, *similar]
        self.resource.choices = [SelectChoice(r.id, r.name) for r in resources]
        step = {"step": booking.resource.slot_minutes * 60}
        self.start_time.render_kw = self.end_time.render_kw = step
        most = max(r.quantity for r in resources)
        if most == 1:
            del self.quantity
        else:
            self.quantity.render_kw = {"min": 1, "max": most}
        if not similar:
            del self.resource

    def to_changes(self, booking: Booking) -> BookingChanges:
        """The wall times read in the site's timezone (similar resources share the site)."""
        tz = ZoneInfo(booking.resource.timezone)
        start, end = self.wall_times()
        return BookingChanges(
            start=localize(start, tz), end=localize(end, tz),
            quantity=self.quantity.data if "quantity" in self else None,
            title=self.title.data or "", note=self.note.data or "",
            resource_id=self.resource.data if "resource" in self else None)


class BackForm(Form):
    """A button on a booking; `back` names the page to return to: "detail", "index" or
    "approvals" (anything else: the booking's page, never an address from outside)."""

    back = HiddenField(default="detail")


ApproveForm = BackForm


class CancelForm(BackForm):
    scope = RadioField(_l("Cancel"), default="one", choices=[
        SelectChoice("one", _l("This booking only")),
        SelectChoice("following", _l("This one and the following"))])
    # not "reason": the reject form beside it on a booking's page has that field id
    cancel_reason = StringField(_l("Reason (optional)"), render_kw=at_most(REASON_LENGTH))


class BulkApproveForm(Form):
    """The requests ticked on the approvals page; which of them the user may decide is
    the engine's business (any other id is refused as a whole, nothing approved)."""

    bookings = SelectMultipleField(_l("Requests"), coerce=int, validate_choice=False,
                                   validators=[InputRequired(_l("Tick the requests to approve.")),
                                               # no more than one page shows: the work stays bounded
                                               Length(max=PAGE_SIZE, message=_l(
                                                   "Tick at most %(max)d requests at once."))])


class RejectForm(BackForm):
    reason = StringField(_l("Reason for refusing"),
                         description=_l("Required: the requester reads it."),
                         render_kw=at_most(REASON_LENGTH))
