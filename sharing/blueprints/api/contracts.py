"""What the JSON API reads and answers, declared once: the operations validate with these
models and the OpenAPI document is generated from them.

Requests are `Contract`s (strict, unknown fields refused). Answers are `Answer`s: what
`serialize.py` builds passes through them, so a key sent but not declared here fails.
A resource's input is the catalogue's own contract (`services.catalogue`), shared with
the forms.
"""

from functools import reduce
from operator import or_
from typing import Annotated, Any, Literal

from flask_babel import gettext as _
from pydantic import BaseModel, ConfigDict, Field, RootModel

from sharing.core.contracts import (
    NO_NUL,
    Contract,
    Flag,
    RowId,
    Time,
    checked,
    choice,
    refuse,
    text,
    whole_number,
)
from sharing.core.validation import LARGEST_COUNT, MAX_ROW_ID, is_whole_number
from sharing.engine.booking import NOTE_LENGTH, REASON_LENGTH, TITLE_LENGTH
from sharing.engine.policy import WEEKDAYS
from sharing.engine.rules import CODES
from sharing.models import (
    BOOKING_STATUSES,
    CREDIT_REASONS,
    DELIVERY_MODES,
    PRICE_UNITS,
    RESOURCE_KINDS,
    VISIBILITIES,
)
from sharing.services.catalogue import NEW_RESOURCE, ResourceChanges
from sharing.services.credits import MEMO_LENGTH, GrantAmount
from sharing.services.quotas import QuotaList

EXTRA_RESOURCES = 20


# --- query strings: every value is text; an empty one is no filter -------------------------

def in_query(annotation: Any) -> Any:
    """A query parameter: absent or empty means not given."""
    return Annotated[annotation | None, Field(default=None)]


def digits(low: int, high: int) -> Any:
    def check(value: Any) -> int:
        number = int(value) if isinstance(value, str) and value.isascii() \
            and value.isdigit() and len(value) < 12 else None
        if not is_whole_number(number, low, high):
            raise refuse(_("Enter a whole number between %(low)s and %(high)s.",
                           low=low, high=high))
        return number

    return Annotated[int, *checked(check, {"type": "integer", "minimum": low,
                                           "maximum": high})]


def any_text(value: Any) -> str:
    return value


SEARCH = Annotated[str, *checked(any_text, {"type": "string", "pattern": NO_NUL})]
QueryId = digits(1, MAX_ROW_ID)


class Query(Contract):
    """A query string: parameters not declared are ignored, as links may carry others."""

    model_config = ConfigDict(extra="ignore")


class ResourceFilters(Query):
    kind: in_query(choice(RESOURCE_KINDS))
    site: in_query(QueryId) = Field(None, description="site id")
    tag: in_query(SEARCH)
    text: in_query(SEARCH) = Field(None, description="in the name, description or topic")
    min_capacity: in_query(digits(0, LARGEST_COUNT))
    min_quantity: in_query(digits(0, LARGEST_COUNT)) = Field(
        None, description="also the units that must be free with free_start/free_end")
    free_start: in_query(Time) = Field(
        None, description="with free_end: only resources free over that interval")
    free_end: in_query(Time)


class Window(Query):
    start: in_query(Time)
    end: in_query(Time)


class BookingFilters(Window):
    resource_id: in_query(QueryId)
    organisation_id: in_query(QueryId) = Field(
        None, description="only bookings whose details the user may see: another "
                          "organisation's busy time is never attributed")
    status: in_query(choice(BOOKING_STATUSES))


class RequiredWindow(Query):
    start: Time
    end: Time


# --- request bodies -------------------------------------------------------------------------

class NewBooking(Contract):
    resource_id: RowId
    organisation_id: RowId
    start: Time
    end: Time
    title: text(TITLE_LENGTH) = ""
    note: text(NOTE_LENGTH) = ""
    quantity: whole_number(1, LARGEST_COUNT) = 1
    recurrence: text(200, optional=True) = Field(
        None, examples=["FREQ=WEEKLY;BYDAY=TU;COUNT=10"])
    skip_conflicts: Flag = False
    extra_resource_ids: Annotated[list[RowId], Field(max_length=EXTRA_RESOURCES)] = []


class BookingMove(Contract):
    """Only the fields given change; an empty body changes nothing."""

    start: Time = None
    end: Time = None
    quantity: whole_number(1, LARGEST_COUNT) = None
    title: text(TITLE_LENGTH) = None
    note: text(NOTE_LENGTH) = None
    resource_id: RowId = Field(
        None, description="a similar resource: same kind and site, big enough, its tags")


class Cancel(Contract):
    reason: text(REASON_LENGTH) = ""
    scope: choice(("one", "following")) = "one"


class Reject(Contract):
    reason: text(REASON_LENGTH, required=True)


class NewClosure(Contract):
    start: Time
    end: Time
    reason: text(200) = ""


class AccountPage(Query):
    page: in_query(digits(1, 100_000)) = Field(None, description="50 entries a page, from 1")


class NewGrant(Contract):
    amount: GrantAmount
    memo: text(MEMO_LENGTH, required=True)


# One body per kind, told apart by `kind`.
NewResource = Annotated[reduce(or_, NEW_RESOURCE.values()), Field(discriminator="kind")]
__all__ = ["QuotaList", "ResourceChanges"]  # the services' contracts, read by the API too


# --- answers ---------------------------------------------------------------------------------

class Answer(BaseModel):
    """A JSON object the API sends: every key declared, each of its declared type."""

    model_config = ConfigDict(extra="forbid", strict=True)


UtcTime = Annotated[str, Field(json_schema_extra={"format": "date-time"},
                               description="UTC, with Z")]
Id = Annotated[int, Field(ge=1, le=MAX_ROW_ID)]


class Error(Answer):
    error: str
    message: str | None = None


class Invalid(Answer):
    error: Literal["invalid"]
    fields: dict[str, list[str]] = Field(
        description="Field name or path (quotas[1].resource_id) → messages.")


class ConflictReason(Answer):
    code: Literal[CODES]
    message: str
    start: UtcTime | None = None
    end: UtcTime | None = None
    resource_id: Id | None = Field(None, description="with several resources: the one "
                                                     "concerned")


class Alternative(Answer):
    resource_id: Id
    start: UtcTime
    end: UtcTime


class Refusal(Answer):
    error: Literal["conflict"]
    conflicts: list[ConflictReason]
    alternatives: list[Alternative]


class Membership(Answer):
    id: Id
    slug: str
    name: str
    role: Literal["member", "manager"]


class Feeds(Answer):
    personal: str = Field(description="iCalendar feed of the person's bookings (secret URL)")
    organisations: dict[str, str] = Field(
        description="by organisation id: the feed of everything that organisation booked")


class Me(Answer):
    id: Id
    email: str
    name: str
    is_admin: bool
    organisations: list[Membership]
    feeds: Feeds


OpeningHours = dict[Literal[WEEKDAYS], list[list[str]]]


class Resource(Answer):
    id: Id
    kind: Literal[RESOURCE_KINDS]
    name: str
    slug: str
    description: str
    site_id: Id
    owner_organisation_id: Id
    quantity: int
    tags: list[str]
    timezone: str = Field(description="the site's")
    active: bool
    visibility: Literal[VISIBILITIES]
    opening_hours: OpeningHours
    requires_approval: bool
    public_busy_feed: bool = Field(description="its busy times are published without a token")
    feed_url: str = Field(description="the resource's iCalendar feed for this viewer")
    min_duration_minutes: int
    max_duration_minutes: int | None
    slot_minutes: int
    buffer_minutes: int
    min_notice_minutes: int
    max_advance_days: int | None
    price: float | None = Field(description="credits per unit booked; null: free; "
                                            "the owner organisation's bookings are free")
    price_unit: Literal[PRICE_UNITS]
    free_cancellation_minutes: int = Field(
        description="a booking cancelled at least this long before its start is refunded")
    visible_to: list[int] | None = Field(None, description="to the owner's managers only")
    capacity: int | None = Field(None, description="room")
    surface_m2: int | None = Field(None, description="room")
    accessible: bool | None = Field(None, description="room")
    pickup_place: str | None = Field(None, description="equipment")
    licence_required: str | None = Field(None, description="equipment")
    person_id: int | None = Field(None, description="staff, expertise")
    weekly_hours: int | None = Field(None, description="staff, expertise")
    topic: str | None = Field(None, description="expertise")
    delivery_mode: Literal[DELIVERY_MODES] | None = Field(None, description="expertise")
    session_minutes: int | None = Field(None, description="expertise")


class Resources(Answer):
    resources: list[Resource]


class Closure(Answer):
    id: Id
    resource_id: Id
    start: UtcTime
    end: UtcTime
    reason: str


class Closures(Answer):
    closures: list[Closure]


class Quota(Answer):
    id: Id
    organisation_id: Id
    resource_id: Id | None
    resource_kind: Literal[RESOURCE_KINDS] | None
    max_hours_per_week: float | None
    max_hours_per_month: float | None


class Quotas(Answer):
    quotas: list[Quota]


class ReportPeriod(Answer):
    start: str = Field(description="first day, on the sites' clocks")
    end: str = Field(description="last day, included")


class DefaultOpening(Answer):
    hours: str
    resources: int = Field(description="resources without opening hours, counted as open "
                                       "these hours")


class ImpactTotals(Answer):
    hours: float = Field(description="confirmed bookings, the part inside the period")
    cross_org_hours: float = Field(description="booked by another organisation than the owner")
    cross_org_share: float | None
    occupancy: float | None = Field(description="unit-hours booked over unit-hours open")
    organisations_served: int
    credits_circulated: float
    cancellations: int
    late_cancellations: int = Field(description="after the free-cancellation deadline")


class ResourceImpact(Answer):
    id: Id
    name: str
    kind: Literal[RESOURCE_KINDS]
    owner_organisation_id: Id
    hours: float
    cross_org_hours: float
    organisations: int = Field(description="distinct organisations that booked it")
    open_hours: float
    occupancy: float | None


class OrganisationImpact(Answer):
    id: Id
    name: str
    hours: float
    cross_org_hours: float
    staff_hours: float = Field(description="staff time and expertise booked")
    sessions: int
    staff_share: float | None = Field(description="of all staff and expertise hours")
    staff_cost: float | None = Field(description="staff hours times hourly_cost, if given")
    credits_paid: float
    cancellations: int
    late_cancellations: int


class MonthImpact(Answer):
    month: str
    hours: float
    cross_org_hours: float


class ImpactReport(Answer):
    period: ReportPeriod
    organisation_id: Id | None = Field(description="the organisation whose part this is")
    default_opening_hours: DefaultOpening
    no_shows_counted: bool = Field(description="false: bookings have no check-in, so no-shows "
                                               "are not counted")
    totals: ImpactTotals
    by_resource: list[ResourceImpact]
    by_organisation: list[OrganisationImpact]
    by_month: list[MonthImpact]


class CreditEntry(Answer):
    id: Id
    at: UtcTime
    amount: float = Field(description="credits; negative: a debit")
    reason: Literal[CREDIT_REASONS]
    booking_id: Id | None
    memo: str


class Account(Answer):
    balance: float
    floor: float = Field(description="the lowest balance its bookings may reach")
    entries: list[CreditEntry] = Field(description="newest first")
    page: int
    pages: int
    total: int = Field(description="entries in all pages")


class Booking(Answer):
    """A booking the user may see in full: their organisation's, or on a resource they
    manage."""

    id: Id
    uid: str
    resource_id: Id
    organisation_id: Id
    user_id: Id | None
    start: UtcTime
    end: UtcTime
    quantity: int
    title: str
    note: str
    status: Literal[BOOKING_STATUSES]
    series_id: Id | None
    sequence: int


class BusyTime(Answer):
    """Another organisation's booking: busy time, and nothing more."""

    busy: Literal[True]
    resource_id: Id
    start: UtcTime
    end: UtcTime
    quantity: int


class SeenBooking(RootModel[Booking | BusyTime]):
    """A booking as this user may see it."""


class Bookings(Answer):
    bookings: list[SeenBooking]


class Cancelled(Answer):
    bookings: list[Booking]


class Skipped(Answer):
    start: UtcTime
    end: UtcTime
    conflicts: list[ConflictReason]


class BookingsMade(Answer):
    bookings: list[Booking]
    skipped: list[Skipped]


class Busy(Answer):
    start: UtcTime
    end: UtcTime
    units: int


class Free(Answer):
    start: UtcTime
    end: UtcTime


class Availability(Answer):
    busy: list[Busy]
    free: list[Free]


class Document(Answer):
    """This document (OpenAPI 3.1)."""

    model_config = ConfigDict(extra="allow")
    openapi: str

