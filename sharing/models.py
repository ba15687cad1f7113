"""The data model: sites, organisations, people, the shared resources and their bookings.

Timestamps are stored in UTC (`UTCDateTime`) and shown in the site's timezone.
Nothing that has been booked is ever deleted: resources are deactivated, bookings
cancelled or rejected, so that feeds, reports and audits stay true.
"""

import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from functools import cache
from math import ceil
from typing import Any
from zoneinfo import ZoneInfo

from flask_login import UserMixin
from sqlalchemy import (
    DDL,
    JSON,
    BigInteger,
    Boolean,
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    event,
    func,
    inspect,
    select,
    text,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.associationproxy import AssociationProxy, association_proxy
from sqlalchemy.orm import Mapped, Session, mapped_column, object_session, relationship
from sqlalchemy.orm.attributes import set_committed_value
from werkzeug.security import check_password_hash

from sharing.core.database import UTCDateTime, utcnow
from sharing.core.extensions import db
from sharing.core.security import hash_password

RESOURCE_KINDS = ("room", "equipment", "staff", "expertise")
ROLES = ("member", "manager")
LOCALES = ("fr", "en")
VISIBILITIES = ("all", "listed")
DELIVERY_MODES = ("on_site", "remote", "both")
# expired: a request still pending when its start passed; it holds nothing, costs nothing
BOOKING_STATUSES = ("pending", "confirmed", "rejected", "cancelled", "expired")
HOLDING_STATUSES = ("pending", "confirmed")
TOKEN_PURPOSES = ("invite", "reset")
# The longest piece an external busy period is stored in (see ExternalBusy).
BUSY_PIECE_MINUTES = 24 * 60
PRICE_UNITS = ("hour", "booking")
# why a ledger entry was written: a booking's charge, its refund, the difference after it
# moved, or the coordinator's grant (a withdrawal is a negative grant)
CREDIT_REASONS = ("charge", "refund", "move", "grant")
# What a message is about; people may turn off the booking kinds (NOTIFICATION_KINDS).
NOTIFICATION_KINDS = ("request", "decision", "confirmation", "cancellation", "staff")
MAIL_KINDS = ("invitation", "password_reset", "lockout", "digest", *NOTIFICATION_KINDS)
# waiting → sending (claimed by a worker) → sent, or back to waiting to retry, or failed;
# held: a pending request kept for its recipient's daily digest, then digested.
OUTBOX_STATUSES = ("waiting", "sending", "sent", "failed", "held", "digested")
NOTIFICATION_SETTINGS = ("off", "digest")


def one_of(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


class Site(db.Model):
    """A third place or territory where resources are; its timezone rules their hours."""

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120), unique=True)
    address: Mapped[str] = mapped_column(String(300), default="")
    timezone: Mapped[str] = mapped_column(String(64), default="Europe/Paris")

    resources: Mapped[list["Resource"]] = relationship(back_populates="site")

    def __repr__(self) -> str:
        return f"<Site {self.name}>"


class Organisation(db.Model):
    """A member structure of the pole: an association, a cooperative, a business…"""

    __table_args__ = (
        CheckConstraint("credit_floor_cents IS NULL OR credit_floor_cents <= 0",
                        name="credit_floor_nonpositive"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    legal_form: Mapped[str] = mapped_column(String(60), default="")
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # the lowest balance its bookings may bring it to; None: the pole's floor
    credit_floor_cents: Mapped[int | None] = mapped_column(Integer)

    memberships: Mapped[list["Membership"]] = relationship(
        back_populates="organisation", cascade="all, delete-orphan"
    )
    resources: Mapped[list["Resource"]] = relationship(back_populates="owner")

    def __repr__(self) -> str:
        return f"<Organisation {self.slug}>"


class User(UserMixin, db.Model):
    __table_args__ = (
        CheckConstraint(one_of("locale", LOCALES), name="locale"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254))
    display_name: Mapped[str] = mapped_column(String(120))
    password_hash: Mapped[str | None] = mapped_column(String(256))
    locale: Mapped[str] = mapped_column(String(5), default="fr")
    timezone: Mapped[str] = mapped_column(String(64), default="Europe/Paris")
    is_admin: Mapped[bool] = mapped_column(Boolean, default=False)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # Part of the id kept in session and remember cookies: bumping it signs out every
    # copy of them (sign out everywhere, new password, deactivation).
    session_version: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    # Wrong passwords since the last success; from a threshold on, the account is locked
    # until `locked_until`, for twice as long each time.
    failed_logins: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime)

    memberships: Mapped[list["Membership"]] = relationship(
        back_populates="user", cascade="all, delete-orphan"
    )

    def get_id(self) -> str:
        return f"{self.id}.{self.session_version}"

    @property
    def is_active(self) -> bool:  # Flask-Login refuses inactive accounts
        return self.active

    def set_password(self, password: str) -> None:
        self.password_hash = hash_password(password)

    def check_password(self, password: str) -> bool:
        return bool(self.password_hash) and check_password_hash(self.password_hash, password)

    def __repr__(self) -> str:
        return f"<User {self.email}>"


# Addresses are stored lower-cased; this index makes uniqueness case-blind in any case.
Index("uq_user_email_lower", func.lower(User.email), unique=True)


class Membership(db.Model):
    """A user belongs to an organisation as a `member` or a `manager`."""

    __table_args__ = (
        UniqueConstraint("user_id", "organisation_id", name="uq_membership_user_org"),
        CheckConstraint(one_of("role", ROLES), name="role"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id"), index=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"), index=True)
    role: Mapped[str] = mapped_column(String(16), default="member")

    user: Mapped[User] = relationship(back_populates="memberships")
    organisation: Mapped[Organisation] = relationship(back_populates="memberships")


class ResourceTag(db.Model):
    resource_id: Mapped[int] = mapped_column(ForeignKey("resource.id"), primary_key=True)
    tag: Mapped[str] = mapped_column(String(40), primary_key=True, index=True)


class ResourceVisibility(db.Model):
    """An organisation allowed to see and book a resource whose visibility is `listed`."""

    resource_id: Mapped[int] = mapped_column(ForeignKey("resource.id"), primary_key=True)
    organisation_id: Mapped[int] = mapped_column(
        ForeignKey("organisation.id"), primary_key=True, index=True
    )


class Resource(db.Model):
    """Anything shared: premises, equipment, staff time or expertise; one booking engine."""

    __table_args__ = (
        CheckConstraint(one_of("kind", RESOURCE_KINDS), name="kind"),
        CheckConstraint(one_of("visibility", VISIBILITIES), name="visibility"),
        CheckConstraint("quantity > 0", name="quantity_positive"),
        CheckConstraint("capacity IS NULL OR capacity > 0", name="capacity_positive"),
        CheckConstraint("surface_m2 IS NULL OR surface_m2 > 0", name="surface_positive"),
        CheckConstraint("weekly_hours IS NULL OR weekly_hours > 0", name="weekly_hours_positive"),
        CheckConstraint(
            "session_minutes IS NULL OR session_minutes > 0", name="session_minutes_positive"
        ),
        CheckConstraint(
            "delivery_mode IS NULL OR " + one_of("delivery_mode", DELIVERY_MODES),
            name="delivery_mode",
        ),
        CheckConstraint("min_duration_minutes >= 0", name="min_duration_nonnegative"),
        CheckConstraint(
            "max_duration_minutes IS NULL OR max_duration_minutes >= min_duration_minutes",
            name="max_duration_above_min",
        ),
        CheckConstraint("slot_minutes > 0", name="slot_positive"),
        CheckConstraint("buffer_minutes >= 0", name="buffer_nonnegative"),
        CheckConstraint("min_notice_minutes >= 0", name="notice_nonnegative"),
        CheckConstraint(
            "max_advance_days IS NULL OR max_advance_days > 0", name="advance_positive"
        ),
        CheckConstraint("price_cents IS NULL OR price_cents > 0", name="price_positive"),
        CheckConstraint(one_of("price_unit", PRICE_UNITS), name="price_unit"),
        CheckConstraint("free_cancellation_minutes >= 0", name="free_cancellation_nonnegative"),
        Index("ix_resource_kind_site_active", "kind", "site_id", "active"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))
    name: Mapped[str] = mapped_column(String(200))
    slug: Mapped[str] = mapped_column(String(80), unique=True)
    description: Mapped[str] = mapped_column(Text, default="")
    owner_organisation_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"), index=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("site.id"), index=True)
    quantity: Mapped[int] = mapped_column(Integer, default=1)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    visibility: Mapped[str] = mapped_column(String(16), default="all")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    # room
    capacity: Mapped[int | None] = mapped_column(Integer)
    surface_m2: Mapped[int | None] = mapped_column(Integer)
    accessible: Mapped[bool] = mapped_column(Boolean, default=False)
    # equipment
    pickup_place: Mapped[str] = mapped_column(String(200), default="")
    licence_required: Mapped[str] = mapped_column(String(60), default="")
    # staff and expertise: the person whose time is shared
    person_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"), index=True)
    weekly_hours: Mapped[int | None] = mapped_column(Integer)
    # expertise
    topic: Mapped[str] = mapped_column(String(200), default="")
    delivery_mode: Mapped[str | None] = mapped_column(String(16))
    session_minutes: Mapped[int | None] = mapped_column(Integer)

    # booking policy (times in the site's timezone)
    opening_hours: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    min_duration_minutes: Mapped[int] = mapped_column(Integer, default=0)
    max_duration_minutes: Mapped[int | None] = mapped_column(Integer)
    slot_minutes: Mapped[int] = mapped_column(Integer, default=15)
    buffer_minutes: Mapped[int] = mapped_column(Integer, default=0)
    min_notice_minutes: Mapped[int] = mapped_column(Integer, default=0)
    max_advance_days: Mapped[int | None] = mapped_column(Integer)
    requires_approval: Mapped[bool] = mapped_column(Boolean, default=False)
    # The owner publishes the resource's busy times (no titles, no names) at a URL that
    # needs no token, for anyone to subscribe to.
    public_busy_feed: Mapped[bool] = mapped_column(Boolean, default=False,
                                                   server_default="0")
    # The longest occupancy (booking plus buffer) ever stored for this resource. Overlap
    # queries look back this far from a window's start, so they read an index range
    # instead of every earlier booking. Kept up to date on every insert (see below).
    longest_booking_minutes: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    # mutual credits, in hundredths of a credit per unit booked; None: free
    price_cents: Mapped[int | None] = mapped_column(Integer)
    price_unit: Mapped[str] = mapped_column(String(16), default="hour", server_default="hour")
    # a cancellation at least this long before the start is refunded
    free_cancellation_minutes: Mapped[int] = mapped_column(Integer, default=0,
                                                           server_default="0")

    owner: Mapped[Organisation] = relationship(back_populates="resources")
    site: Mapped[Site] = relationship(back_populates="resources")
    person: Mapped[User | None] = relationship()
    tag_links: Mapped[list[ResourceTag]] = relationship(
        cascade="all, delete-orphan", order_by=ResourceTag.tag
    )
    tags: AssociationProxy[list[str]] = association_proxy(
        "tag_links", "tag", creator=lambda tag: ResourceTag(tag=tag)
    )
    visibility_links: Mapped[list[ResourceVisibility]] = relationship(
        cascade="all, delete-orphan"
    )
    visible_to_ids: AssociationProxy[list[int]] = association_proxy(
        "visibility_links",
        "organisation_id",
        creator=lambda org_id: ResourceVisibility(organisation_id=org_id),
    )
    closures: Mapped[list["Closure"]] = relationship(
        back_populates="resource", order_by="Closure.starts_at"
    )

    @property
    def timezone(self) -> str:
        return self.site.timezone

    @property
    def price(self) -> Decimal | None:
        """The price in credits (two decimals), as forms and the API give and show it."""
        return None if self.price_cents is None else Decimal(self.price_cents) / 100

    @price.setter
    def price(self, credits: Decimal | None) -> None:
        self.price_cents = None if credits is None else int(credits * 100)

    def __repr__(self) -> str:
        return f"<Resource {self.kind} {self.slug}>"


class Closure(db.Model):
    """A one-off period when a resource cannot be booked: holidays, maintenance…"""

    __table_args__ = (
        CheckConstraint("ends_at > starts_at", name="closure_interval"),
        Index("ix_closure_resource_starts", "resource_id", "starts_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    resource_id: Mapped[int] = mapped_column(ForeignKey("resource.id"))
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime)
    reason: Mapped[str] = mapped_column(String(200), default="")
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))

    resource: Mapped[Resource] = relationship(back_populates="closures")


class ExternalCalendar(db.Model):
    """An owner's own calendar (Nextcloud, Google…) fetched as busy time for a resource.

    The URL is often a secret: only the resource's managers see it.
    """

    __table_args__ = (
        UniqueConstraint("resource_id", "url", name="uq_external_calendar_resource_url"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    resource_id: Mapped[int] = mapped_column(ForeignKey("resource.id"), index=True)
    url: Mapped[str] = mapped_column(String(2000))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # the validators of the last good answer, sent back for a conditional GET
    etag: Mapped[str | None] = mapped_column(String(300))
    last_modified: Mapped[str | None] = mapped_column(String(100))
    last_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_synced_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # when the file was last read in full: the window moves on while the file answers 304
    expanded_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_error: Mapped[str] = mapped_column(String(500), default="")

    resource: Mapped[Resource] = relationship()
    blocks: Mapped[list["ExternalBusy"]] = relationship(
        back_populates="calendar", cascade="all, delete-orphan", passive_deletes=True
    )


class ExternalBusy(db.Model):
    """A busy period read from an external calendar; nothing of the event is kept but its
    times. Long events are stored in pieces of at most a day (`BUSY_PIECE_MINUTES`), so that
    overlap queries read a bounded index range."""

    __table_args__ = (
        CheckConstraint("ends_at > starts_at", name="external_busy_interval"),
        Index("ix_external_busy_resource_starts", "resource_id", "starts_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    calendar_id: Mapped[int] = mapped_column(
        ForeignKey("external_calendar.id", ondelete="CASCADE"), index=True
    )
    resource_id: Mapped[int] = mapped_column(ForeignKey("resource.id"))
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime)

    calendar: Mapped[ExternalCalendar] = relationship(back_populates="blocks")


class Quota(db.Model):
    """A fair share for one organisation: hours per week and/or month, for one resource
    or for every resource of a kind."""

    __table_args__ = (
        CheckConstraint(
            "(resource_id IS NULL) <> (resource_kind IS NULL)", name="quota_one_scope"
        ),
        CheckConstraint(
            "resource_kind IS NULL OR " + one_of("resource_kind", RESOURCE_KINDS),
            name="quota_kind",
        ),
        CheckConstraint(
            "max_hours_per_week IS NOT NULL OR max_hours_per_month IS NOT NULL",
            name="quota_has_limit",
        ),
        CheckConstraint(
            "max_hours_per_week IS NULL OR max_hours_per_week >= 0", name="quota_week_nonneg"
        ),
        CheckConstraint(
            "max_hours_per_month IS NULL OR max_hours_per_month >= 0", name="quota_month_nonneg"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"), index=True)
    resource_id: Mapped[int | None] = mapped_column(ForeignKey("resource.id"), index=True)
    resource_kind: Mapped[str | None] = mapped_column(String(16))
    max_hours_per_week: Mapped[float | None] = mapped_column(db.Float)
    max_hours_per_month: Mapped[float | None] = mapped_column(db.Float)

    organisation: Mapped[Organisation] = relationship()
    resource: Mapped[Resource | None] = relationship()


class BookingSeries(db.Model):
    """The recurrence that created a set of bookings; each occurrence is its own row."""

    id: Mapped[int] = mapped_column(primary_key=True)
    rrule: Mapped[str] = mapped_column(String(200))
    created_by_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


def new_uid() -> str:
    return f"{uuid.uuid4()}@sharing"


class Booking(db.Model):
    """One resource, held by one organisation, for one interval. Never deleted."""

    __table_args__ = (
        CheckConstraint(one_of("status", BOOKING_STATUSES), name="status"),
        CheckConstraint("ends_at > starts_at", name="booking_interval"),
        CheckConstraint("blocks_until >= ends_at", name="booking_buffer"),
        CheckConstraint("quantity > 0", name="booking_quantity_positive"),
        # The engine's overlap queries: one resource, a window of start times; covering
        # for the free search, which reads a thousand resources' ranges.
        Index("ix_booking_resource_starts", "resource_id", "starts_at", "blocks_until",
              "status", "quantity"),
        # covering: the quota sums read this index only
        Index("ix_booking_organisation_starts", "organisation_id", "starts_at", "ends_at",
              "status", "resource_id"),
        Index("ix_booking_starts", "starts_at"),
        # requests to expire (and to approve), read on every approvals page and listing
        Index("ix_booking_status_starts", "status", "starts_at"),
        # covering and partial: a report's cancellations read a twentieth of the bookings
        Index("ix_booking_cancelled_starts", "starts_at", "resource_id", "organisation_id",
              "decided_at", sqlite_where=text("status = 'cancelled'"),
              postgresql_where=text("status = 'cancelled'")),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    uid: Mapped[str] = mapped_column(String(80), unique=True, default=new_uid)
    resource_id: Mapped[int] = mapped_column(ForeignKey("resource.id"))
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"))
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id"), index=True)
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # ends_at plus the resource's changeover buffer at the time of booking
    blocks_until: Mapped[datetime] = mapped_column(UTCDateTime)
    quantity: Mapped[int] = mapped_column(Integer, default=1)
    title: Mapped[str] = mapped_column(String(200), default="")
    note: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[str] = mapped_column(String(16), default="confirmed")
    series_id: Mapped[int | None] = mapped_column(ForeignKey("booking_series.id"), index=True)
    # bookings made together (room + projector + facilitator) share a group
    group_uid: Mapped[str | None] = mapped_column(String(40), index=True)
    sequence: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    decision_reason: Mapped[str] = mapped_column(String(500), default="")

    resource: Mapped[Resource] = relationship()
    organisation: Mapped[Organisation] = relationship()
    user: Mapped[User] = relationship(foreign_keys=[user_id])
    decided_by: Mapped[User | None] = relationship(foreign_keys=[decided_by_id])
    series: Mapped[BookingSeries | None] = relationship()

    @property
    def holds_capacity(self) -> bool:
        return self.status in HOLDING_STATUSES


@event.listens_for(Booking, "before_insert")
def _widen_longest_booking(_mapper, connection, booking: Booking) -> None:
    """Widen the resource's bound, and the copy the session holds. The bound only ever
    grows, so a copy already at least this long proves the row is too: no UPDATE."""
    minutes = ceil((booking.blocks_until - booking.starts_at).total_seconds() / 60)
    resource = loaded_resource(booking)
    if resource is not None and resource.longest_booking_minutes >= minutes:
        return
    connection.execute(
        update(Resource)
        .where(Resource.id == booking.resource_id, Resource.longest_booking_minutes < minutes)
        .values(longest_booking_minutes=minutes)
    )
    if resource is not None:  # the engine's later reads in this transaction use it
        set_committed_value(resource, "longest_booking_minutes", minutes)


def loaded_resource(booking: Booking) -> Resource | None:
    """The booking's resource as the session holds it, when its bound is loaded."""
    session = object_session(booking)
    resource = session.identity_map.get(
        Session.identity_key(Resource, booking.resource_id)) if session else None
    return resource if resource is not None \
        and "longest_booking_minutes" in resource.__dict__ else None


@event.listens_for(Booking, "before_update")
def _widen_after_a_move(mapper, connection, booking: Booking) -> None:
    """A moved booking may be longer than any before it on its (new) resource."""
    state = inspect(booking)
    if any(state.attrs[name].history.has_changes()
           for name in ("starts_at", "blocks_until", "resource", "resource_id")):
        _widen_longest_booking(mapper, connection, booking)


class BookedMonth(db.Model):
    """Bookings summed per resource, booking organisation and month on the clock of the
    resource's site: a report of whole months reads these few rows, not every booking.
    Kept by the listeners below, in the flush that writes the booking. A confirmed booking
    over several months counts its part of the time in each, and counts in `bookings` in
    the month it starts; a cancelled one counts there too, and whether it was cancelled
    after its resource's free-cancellation deadline (counted again when the deadline
    changes, as reports judge by the deadline of the day). A count brought back to zero
    stays as a row of zeros. `shared`: the organisation is not the resource's owner
    (counted again when the owner changes), so that a report reads no resource.
    """

    month: Mapped[date] = mapped_column(Date, primary_key=True)  # its first day
    resource_id: Mapped[int] = mapped_column(ForeignKey("resource.id"), primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"),
                                                 primary_key=True)
    seconds: Mapped[int] = mapped_column(BigInteger, default=0)
    unit_seconds: Mapped[int] = mapped_column(BigInteger, default=0)  # times the units
    bookings: Mapped[int] = mapped_column(Integer, default=0)
    cancelled: Mapped[int] = mapped_column(Integer, default=0)
    cancelled_late: Mapped[int] = mapped_column(Integer, default=0)
    shared: Mapped[bool] = mapped_column(Boolean, default=False)


COUNTS = ("seconds", "unit_seconds", "bookings", "cancelled", "cancelled_late")
COUNTED_STATUSES = ("confirmed", "cancelled")
# What a booking counts with (its resource's relationship included).
COUNTED_FIELDS = ("status", "starts_at", "ends_at", "quantity", "resource", "resource_id",
                  "organisation_id", "decided_at")
# What it counts with of its resource, besides its site's clock.
RESOURCE_COUNTED = ("free_cancellation_minutes", "owner_organisation_id")
COUNTED_COLUMNS = (Booking.status, Booking.starts_at, Booking.ends_at, Booking.quantity,
                   Booking.resource_id, Booking.organisation_id, Booking.decided_at)


def month_start(day: date, tz: ZoneInfo) -> datetime:
    """The UTC instant at which `day`'s month begins on the clock (as reports cut it)."""
    return datetime.combine(day.replace(day=1), time()).replace(tzinfo=tz, fold=0) \
        .astimezone(UTC)


def following_month(day: date) -> date:
    return (day.replace(day=1) + timedelta(days=31)).replace(day=1)


def month_parts(starts_at: datetime, ends_at: datetime, tz: ZoneInfo
                ) -> list[tuple[date, int]]:
    """(month, seconds inside it) for each month of the clock a booking runs in."""
    # in UTC: Python subtracts two times of one zone on the wall clock, DST ignored
    starts_at, ends_at = starts_at.astimezone(UTC), ends_at.astimezone(UTC)
    month = starts_at.astimezone(tz).date().replace(day=1)
    # where the clock changes at midnight, the local date and the cut may disagree
    if starts_at < month_start(month, tz):
        month = (month - timedelta(days=1)).replace(day=1)
    elif starts_at >= month_start(following_month(month), tz):
        month = following_month(month)
    parts = []
    while True:
        following = following_month(month)
        boundary = month_start(following, tz)
        parts.append((month, int((min(ends_at, boundary) - starts_at).total_seconds())))
        if ends_at <= boundary:
            return parts
        month, starts_at = following, boundary


@dataclass(frozen=True)
class CountedResource:
    """What counting a booking needs of its resource."""

    timezone: ZoneInfo
    free_cancellation_minutes: int
    owner_organisation_id: int


def free_cancellation_deadline(starts_at: datetime, free_minutes: int) -> datetime:
    """Subtracted from the UTC instant: on a zone's time, Python subtracts on the wall
    clock, an hour off across a night the clocks change."""
    return starts_at.astimezone(UTC) - timedelta(minutes=free_minutes)


def booked_month_rows(fields: dict, sign: int, resource: CountedResource) -> list[dict]:
    """The counts one confirmed or cancelled booking adds (sign 1) or takes away (-1)."""
    key = {"resource_id": fields["resource_id"], "organisation_id": fields["organisation_id"],
           "shared": fields["organisation_id"] != resource.owner_organisation_id}
    zero = dict.fromkeys(COUNTS, 0)
    try:
        parts = month_parts(fields["starts_at"], fields["ends_at"], resource.timezone)
    except OverflowError:  # a row from before the bounds, at the calendar's very edge:
        return []  # no report can ask for its months (reports end in 2100)
    if fields["status"] == "cancelled":
        deadline = free_cancellation_deadline(fields["starts_at"],
                                              resource.free_cancellation_minutes)
        late = fields["decided_at"] is not None and fields["decided_at"] > deadline
        return [{**key, **zero, "month": parts[0][0], "cancelled": sign,
                 "cancelled_late": sign if late else 0}]
    return [{**key, **zero, "month": month, "seconds": sign * seconds,
             "unit_seconds": sign * seconds * fields["quantity"],
             "bookings": sign if index == 0 else 0}
            for index, (month, seconds) in enumerate(parts)]


def summed_by_month(rows: list[dict]) -> list[dict]:
    """One row per (month, resource, organisation), its counts added up, in key order."""
    totals: dict[tuple, dict] = {}
    for row in rows:
        total = totals.setdefault((row["month"], row["resource_id"], row["organisation_id"]),
                                  row)
        if total is not row:
            for name in COUNTS:
                total[name] += row[name]
    return [totals[key] for key in sorted(totals)]


def add_to_booked_months(connection, rows: list[dict]) -> None:
    """Add the rows' counts to those stored, one (month, resource, organisation) row at a
    time and in key order, so that two transactions meet on the same row in the same
    order."""
    rows = [row for row in summed_by_month(rows) if any(row[name] for name in COUNTS)]
    if rows:
        connection.execute(booked_month_upsert(connection.dialect.name), rows)


@cache
def booked_month_upsert(dialect_name: str):
    """INSERT … ON CONFLICT DO UPDATE adding the counts, built once per dialect: building
    it (its `excluded` alias above all) cost more than running it."""
    statement = (postgresql if dialect_name == "postgresql" else sqlite).insert(BookedMonth)
    table = BookedMonth.__table__
    return statement.on_conflict_do_update(
        index_elements=[table.c.month, table.c.resource_id, table.c.organisation_id],
        set_={name: table.c[name] + statement.excluded[name] for name in COUNTS})


def counted_resource(connection, resource_id: int, booking: Booking) -> CountedResource:
    """The booking's resource as the session holds it (the engine has loaded it, and its
    site, to check the booking), else read."""
    session = object_session(booking)
    resource = session.identity_map.get(Session.identity_key(Resource, resource_id)) \
        if session else None
    site = resource.__dict__.get("site") if resource is not None else None
    if site is not None and "timezone" in site.__dict__ and all(
            name in resource.__dict__ for name in RESOURCE_COUNTED):
        return CountedResource(ZoneInfo(site.timezone), *[
            getattr(resource, name) for name in RESOURCE_COUNTED])
    timezone, *facts = connection.execute(
        select(Site.timezone, *[getattr(Resource, name) for name in RESOURCE_COUNTED])
        .join(Resource, Resource.site_id == Site.id).where(Resource.id == resource_id)).one()
    return CountedResource(ZoneInfo(timezone), *facts)


def counted_rows(connection, booking: Booking, fields: dict, sign: int) -> list[dict]:
    if fields["status"] not in COUNTED_STATUSES:  # no resource to read
        return []
    return booked_month_rows(fields, sign, counted_resource(connection, fields["resource_id"],
                                                            booking))


def counted_fields(booking: Booking) -> dict:
    return {column.key: getattr(booking, column.key) for column in COUNTED_COLUMNS}


def stored_counted_fields(connection, booking_id: int) -> dict:
    return connection.execute(select(*COUNTED_COLUMNS).where(Booking.id == booking_id)) \
        .one()._asdict()


def is_recounted(booking: Booking) -> bool:
    state = inspect(booking)
    return any(state.attrs[name].history.has_changes() for name in COUNTED_FIELDS)


@event.listens_for(Booking, "after_insert")
def _count_new_booking(_mapper, connection, booking: Booking) -> None:
    add_to_booked_months(connection, counted_rows(connection, booking, counted_fields(booking),
                                                  1))


@event.listens_for(Booking, "before_update")
def _note_counted_before(_mapper, connection, booking: Booking) -> None:
    """The counts as stored, read before the UPDATE: the attributes' history may not hold
    the previous resource when the relationship was set without being loaded."""
    if is_recounted(booking):
        inspect(booking).info["counted_before"] = stored_counted_fields(connection,
                                                                        booking.id)


@event.listens_for(Booking, "after_update")
def _recount_booking(_mapper, connection, booking: Booking) -> None:
    before = inspect(booking).info.pop("counted_before", None)
    if before is None:
        return
    add_to_booked_months(connection, counted_rows(connection, booking, before, -1)
                         + counted_rows(connection, booking, counted_fields(booking), 1))


@event.listens_for(Booking, "before_delete")
def _uncount_booking(_mapper, connection, booking: Booking) -> None:
    add_to_booked_months(connection, counted_rows(
        connection, booking, stored_counted_fields(connection, booking.id), -1))


def recount_booked_months(connection, resource_ids: list[int] | None = None) -> None:
    """Count again from the bookings, for these resources (None: all): after their site's
    clock changed, or bookings were written without the ORM (a migration, a bulk load)."""
    table = BookedMonth.__table__
    chosen = [] if resource_ids is None else [table.c.resource_id.in_(resource_ids)]
    connection.execute(table.delete().where(*chosen))
    bookings = select(*COUNTED_COLUMNS, Site.timezone,
                      *[getattr(Resource, name) for name in RESOURCE_COUNTED]) \
        .join(Resource, Resource.id == Booking.resource_id) \
        .join(Site, Site.id == Resource.site_id) \
        .where(Booking.status.in_(COUNTED_STATUSES),
               *([] if resource_ids is None else [Booking.resource_id.in_(resource_ids)]))
    rows = summed_by_month([
        counted for row in connection.execute(bookings).mappings()
        for counted in booked_month_rows(dict(row), 1, CountedResource(
            ZoneInfo(row["timezone"]), *[row[name] for name in RESOURCE_COUNTED]))])
    for start in range(0, len(rows), 5000):
        connection.execute(table.insert(), rows[start:start + 5000])


@event.listens_for(Resource, "after_update")
def _recount_a_changed_resource(_mapper, connection, resource: Resource) -> None:
    """A resource moved to another site may run on another clock; a new free-cancellation
    deadline judges its cancellations again; a new owner shares it with others."""
    state = inspect(resource)
    if any(state.attrs[name].history.has_changes() for name in (
            "site_id", "site", "free_cancellation_minutes", "owner_organisation_id",
            "owner")):
        recount_booked_months(connection, [resource.id])


@event.listens_for(Site, "after_update")
def _recount_on_a_new_clock(_mapper, connection, site: Site) -> None:
    if inspect(site).attrs.timezone.history.has_changes():
        recount_booked_months(connection, list(connection.scalars(
            select(Resource.id).where(Resource.site_id == site.id))))


class ApiToken(db.Model):
    """A personal bearer token for the JSON API; only its hash is stored."""

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id"), index=True)
    name: Mapped[str] = mapped_column(String(100), default="")
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    user: Mapped[User] = relationship()


class FeedKey(db.Model):
    """A user's feed secret. The URL token is HMAC(SECRET_KEY, nonce): the database holds
    the nonce and the token's hash, never the token, yet the account page and the API can
    show the URL again. A new nonce revokes every URL built from the old one."""

    user_id: Mapped[int] = mapped_column(ForeignKey("user.id"), primary_key=True)
    nonce: Mapped[str] = mapped_column(String(64))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    user: Mapped[User] = relationship()


class AccountToken(db.Model):
    """A single-use, expiring link sent by e-mail: an invitation or a password reset."""

    __table_args__ = (
        CheckConstraint(one_of("purpose", TOKEN_PURPOSES), name="purpose"),
        CheckConstraint("role IS NULL OR " + one_of("role", ROLES), name="token_role"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    purpose: Mapped[str] = mapped_column(String(16))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    email: Mapped[str] = mapped_column(String(254))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    organisation_id: Mapped[int | None] = mapped_column(ForeignKey("organisation.id"))
    role: Mapped[str | None] = mapped_column(String(16))
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Set when a manager takes an invitation back: its link then says so.
    withdrawn_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    organisation: Mapped[Organisation | None] = relationship()
    user: Mapped[User | None] = relationship(foreign_keys=[user_id])


class CreditSettings(db.Model):
    """The pole's credit rules: one row (id 1), absent until the coordinator sets them."""

    __table_args__ = (
        CheckConstraint("id = 1", name="credit_settings_single_row"),
        CheckConstraint("default_floor_cents <= 0", name="default_floor_nonpositive"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    default_floor_cents: Mapped[int] = mapped_column(Integer, default=0)


class CreditEntry(db.Model):
    """One line of an organisation's credit account, in hundredths of a credit.

    Append-only: the database refuses to update or delete a row (triggers below); a
    correction is a new entry. A balance is the sum of an organisation's entries.
    """

    __table_args__ = (
        CheckConstraint(one_of("reason", CREDIT_REASONS), name="credit_reason"),
        CheckConstraint("amount_cents <> 0", name="credit_amount_nonzero"),
        # a booking's entries name it; the others carry a memo and their author
        CheckConstraint(
            "(reason = 'grant' AND booking_id IS NULL AND memo <> '' AND author_id IS NOT NULL)"
            " OR (reason <> 'grant' AND booking_id IS NOT NULL)", name="credit_entry_named"),
        # covering: balances and statements read this index only
        Index("ix_credit_entry_organisation_at", "organisation_id", "at", "amount_cents"),
        # the credits that circulated over a report's period
        Index("ix_credit_entry_at", "at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"))
    amount_cents: Mapped[int] = mapped_column(Integer)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    reason: Mapped[str] = mapped_column(String(16))
    booking_id: Mapped[int | None] = mapped_column(ForeignKey("booking.id"), index=True)
    # the booking's organisation, which pays (and never changes): a report sums what each
    # organisation paid without reading the bookings
    booking_organisation_id: Mapped[int | None] = mapped_column(ForeignKey("organisation.id"))
    memo: Mapped[str] = mapped_column(String(300), default="")
    author_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))

    organisation: Mapped[Organisation] = relationship(foreign_keys=[organisation_id])
    booking: Mapped[Booking | None] = relationship()
    author: Mapped[User | None] = relationship()


@event.listens_for(CreditEntry, "before_insert")
def copy_booking_organisation(_mapper, connection, entry: CreditEntry) -> None:
    """A booking's entries name its organisation, whoever writes them."""
    if entry.booking_id is not None and entry.booking_organisation_id is None:
        entry.booking_organisation_id = connection.scalar(
            select(Booking.organisation_id).where(Booking.id == entry.booking_id))


APPEND_ONLY_SQLITE = [
    f"CREATE TRIGGER credit_entry_no_{verb.lower()} BEFORE {verb} ON credit_entry "
    f"BEGIN SELECT RAISE(ABORT, 'credit entries are append-only'); END"
    for verb in ("UPDATE", "DELETE")]
APPEND_ONLY_POSTGRESQL = [
    "CREATE OR REPLACE FUNCTION credit_entry_append_only() RETURNS trigger LANGUAGE plpgsql AS "
    "$$ BEGIN RAISE EXCEPTION 'credit entries are append-only'; END $$",
    "CREATE TRIGGER credit_entry_append_only BEFORE UPDATE OR DELETE ON credit_entry "
    "FOR EACH ROW EXECUTE FUNCTION credit_entry_append_only()",
]

for _statement in APPEND_ONLY_SQLITE:
    event.listen(CreditEntry.__table__, "after_create", DDL(_statement).execute_if(
        dialect="sqlite"))
for _statement in APPEND_ONLY_POSTGRESQL:
    event.listen(CreditEntry.__table__, "after_create", DDL(_statement).execute_if(
        dialect="postgresql"))


class OutboxMessage(db.Model):
    """A message to send, written in the same transaction as the change it is about.

    The worker sends it (see `sharing.services.outbox`): a rolled-back change sends
    nothing, a committed one waits here until it has been sent or has failed for good.
    """

    __table_args__ = (
        CheckConstraint(one_of("kind", MAIL_KINDS), name="outbox_kind"),
        CheckConstraint(one_of("status", OUTBOX_STATUSES), name="outbox_status"),
        CheckConstraint("attempts >= 0", name="outbox_attempts_nonnegative"),
        # The worker's queue: what is due, oldest first.
        Index("ix_outbox_message_status_due", "status", "due_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(20))
    recipient: Mapped[str] = mapped_column(String(254))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"), index=True)
    booking_id: Mapped[int | None] = mapped_column(ForeignKey("booking.id"), index=True)
    subject: Mapped[str] = mapped_column(String(300))
    # The whole RFC 5322 message, rendered in the recipient's language when queued;
    # emptied once sent.
    content: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16), default="waiting")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    # When a waiting message may next be tried; when a worker's claim on it lapses.
    due_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    claimed_by: Mapped[str | None] = mapped_column(String(40))
    last_error: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    user: Mapped[User | None] = relationship()
    booking: Mapped[Booking | None] = relationship()


class NotificationPreference(db.Model):
    """A kind of booking message someone turned off, or (pending requests) gets as a daily
    digest. Without a row, the message is sent as it happens."""

    __table_args__ = (
        CheckConstraint(one_of("kind", NOTIFICATION_KINDS), name="preference_kind"),
        CheckConstraint(one_of("setting", NOTIFICATION_SETTINGS), name="preference_setting"),
        CheckConstraint("setting <> 'digest' OR kind = 'request'", name="digest_for_requests"),
    )

    user_id: Mapped[int] = mapped_column(ForeignKey("user.id"), primary_key=True)
    kind: Mapped[str] = mapped_column(String(20), primary_key=True)
    setting: Mapped[str] = mapped_column(String(16))
