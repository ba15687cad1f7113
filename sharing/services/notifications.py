"""Booking messages: every change to a booking, whatever made it, becomes outbox rows in
the change's own transaction.

A session listener notes the bookings created, or whose status changed, as they are
flushed; just before the transaction commits they become messages to the people
concerned, each in their language, each with an iTIP invitation or cancellation. The
engine stays free of mail, and a rolled-back change sends nothing.
"""

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from flask import current_app, has_app_context, render_template
from flask_babel import force_locale, ngettext
from flask_babel import gettext as _
from sqlalchemy import event, inspect, select
from sqlalchemy.orm import Session

from sharing.core.database import utcnow, write_transaction
from sharing.core.extensions import db
from sharing.core.mail import Attachment, send_mail
from sharing.core.urls import external_url
from sharing.core.validation import InvalidInput
from sharing.models import (
    HOLDING_STATUSES,
    NOTIFICATION_KINDS,
    Booking,
    Membership,
    NotificationPreference,
    OutboxMessage,
    User,
)
from sharing.services.ical import itip_calendar
from sharing.services.permissions import can_see_booking_details

CHANGES = "sharing_booking_changes"
SILENT = "sharing_booking_mail_silenced"
SETTINGS = ("on", "digest", "off")


# --- what changed: noted while flushing, turned into messages before the commit ----------

@dataclass(frozen=True)
class Change:
    booking: Booking
    before: str | None  # the status before the change; None for a new booking
    moved: bool = False  # its time, units or resource changed


# What makes a change a move (the relationship, not its key: set before the flush syncs it).
MOVED_ATTRIBUTES = ("starts_at", "ends_at", "quantity", "resource")


@event.listens_for(Session, "before_flush")
def _note_booking_changes(session: Session, _context, _instances) -> None:
    changes = session.info.setdefault(CHANGES, [])
    changes += [Change(obj, None) for obj in session.new if isinstance(obj, Booking)]
    changes += [change for obj in session.dirty
                if isinstance(obj, Booking) and (change := change_of(obj))]


def change_of(booking: Booking) -> Change | None:
    before = status_before(booking)
    moved = any(inspect(booking).attrs[name].history.has_changes() for name in MOVED_ATTRIBUTES)
    return Change(booking, before or booking.status, moved) if before or moved else None


def status_before(booking: Booking) -> str | None:
    history = inspect(booking).attrs.status.history
    if history.added and history.deleted and history.added[0] != history.deleted[0]:
        return history.deleted[0]
    return None


@event.listens_for(Session, "before_commit")
def _queue_booking_mail(session: Session) -> None:
    session.flush()  # the last changes are noted as they flush
    changes = session.info.pop(CHANGES, [])
    if changes and has_app_context() and not session.info.get(SILENT):
        queue_messages(changes)


@event.listens_for(Session, "after_soft_rollback")
def _forget_changes(session: Session, previous_transaction) -> None:
    if not previous_transaction.nested:
        session.info.pop(CHANGES, None)


@contextmanager
def silenced() -> Iterator[None]:
    """Changes committed in the block send nothing (loading the demo pole)."""
    db.session.info[SILENT] = True
    try:
        yield
    finally:
        db.session.info.pop(SILENT, None)


# --- who hears about what ------------------------------------------------------------------

@dataclass(frozen=True)
class Template:
    """A kind of message: its preference kind, its iTIP method, its words."""

    kind: str
    method: str
    subject: Callable[[str, int], str]
    intro: Callable[[int], str]


# Subjects get the resource's name and how many bookings; intros how many bookings.
TEMPLATES = {
    "request": Template(
        "request", "REQUEST",
        subject=lambda name, n: ngettext(
            "Booking request to approve: %(resource)s",
            "%(num)d booking requests to approve: %(resource)s", n, resource=name),
        intro=lambda n: ngettext(
            "A booking request awaits your decision, as a manager of the resource. "
            "Approve or reject it on the approvals page:",
            "These booking requests await your decision, as a manager of the resource. "
            "Approve or reject them on the approvals page:", n)),
    "approved": Template(
        "decision", "REQUEST",
        subject=lambda name, n: ngettext(
            "Booking approved: %(resource)s",
            "%(num)d bookings approved: %(resource)s", n, resource=name),
        intro=lambda n: ngettext(
            "Your booking request was approved.",
            "Your booking requests were approved.", n)),
    "rejected": Template(
        "decision", "CANCEL",
        subject=lambda name, n: ngettext(
            "Booking request rejected: %(resource)s",
            "%(num)d booking requests rejected: %(resource)s", n, resource=name),
        intro=lambda n: ngettext(
            "Your booking request was rejected.",
            "Your booking requests were rejected.", n)),
    "confirmation": Template(
        "confirmation", "REQUEST",
        subject=lambda name, n: ngettext(
            "Booking confirmed: %(resource)s",
            "%(num)d bookings confirmed: %(resource)s", n, resource=name),
        intro=lambda n: ngettext(
            "Your booking is confirmed.",
            "Your bookings are confirmed.", n)),
    "cancellation": Template(
        "cancellation", "CANCEL",
        subject=lambda name, n: ngettext(
            "Booking cancelled: %(resource)s",
            "%(num)d bookings cancelled: %(resource)s", n, resource=name),
        intro=lambda n: ngettext(
            "This booking was cancelled.",
            "These bookings were cancelled.", n)),
    "moved": Template(
        "confirmation", "REQUEST",
        subject=lambda name, n: ngettext(
            "Booking changed: %(resource)s",
            "%(num)d bookings changed: %(resource)s", n, resource=name),
        intro=lambda n: ngettext(
            "Your booking was changed. Here it is as it stands now:",
            "Your bookings were changed. Here they are as they stand now:", n)),
    "staff_booked": Template(
        "staff", "REQUEST",
        subject=lambda name, n: ngettext(
            "Your time is booked: %(resource)s",
            "Your time is booked %(num)d times: %(resource)s", n, resource=name),
        intro=lambda n: ngettext(
            "Your time, shared as the resource below, has been booked.",
            "Your time, shared as the resource below, has been booked at these times.", n)),
    "staff_cancelled": Template(
        "staff", "CANCEL",
        subject=lambda name, n: ngettext(
            "Booking of your time cancelled: %(resource)s",
            "%(num)d bookings of your time cancelled: %(resource)s", n, resource=name),
        intro=lambda n: ngettext(
            "A booking of your time, shared as the resource below, was cancelled.",
            "These bookings of your time, shared as the resource below, were cancelled.",
            n)),
    "digest": Template(
        "request", "REQUEST",
        subject=lambda _name, n: ngettext(
            "%(num)d booking request awaits your decision",
            "%(num)d booking requests await your decision", n),
        intro=lambda n: ngettext(
            "This booking request awaits your decision, as a manager of its resource. "
            "Approve or reject it on the approvals page:",
            "These booking requests await your decision, as a manager of their resource. "
            "Approve or reject them on the approvals page:", n)),
}


@dataclass(frozen=True)
class Notice:
    template: str
    recipient: User
    booking: Booking


def notices_for(change: Change) -> list[Notice]:
    booking, before = change.booking, change.before
    if before is None:
        return new_booking_notices(booking)
    if change.moved:
        return moved_notices(booking)
    if before == "pending" and booking.status in ("confirmed", "rejected"):
        return decision_notices(booking)
    if before in HOLDING_STATUSES and booking.status == "cancelled":
        return cancellation_notices(booking, before)
    return []


def new_booking_notices(booking: Booking) -> list[Notice]:
    if booking.status == "pending":
        return notices("request", owner_managers(booking), booking, actor=booking.user_id)
    if booking.status == "confirmed":  # the booker too: the message confirms it
        return [*notices("confirmation", [booking.user], booking),
                *staff_notices(booking, "staff_booked")]
    return []


def moved_notices(booking: Booking) -> list[Notice]:
    """The booker hears of the new time (the invitation updates their calendar); a moved
    request goes to the owner's managers to decide anew, a confirmed one to the staff."""
    others = notices("request", owner_managers(booking), booking, actor=booking.user_id) \
        if booking.status == "pending" else staff_notices(booking, "staff_booked")
    return [*notices("moved", [booking.user], booking), *others]


def decision_notices(booking: Booking) -> list[Notice]:
    if booking.status == "rejected":
        return notices("rejected", [booking.user], booking, actor=booking.decided_by_id)
    return [*notices("approved", [booking.user], booking, actor=booking.decided_by_id),
            *staff_notices(booking, "staff_booked")]


def cancellation_notices(booking: Booking, before: str) -> list[Notice]:
    """To the other side: the booker if someone else cancelled, the owner's managers if
    the one who cancelled is not one of them. Never to the one who cancelled."""
    actor = booking.decided_by_id
    managers = owner_managers(booking)
    recipients = [booking.user] if actor != booking.user_id else []
    if actor not in {manager.id for manager in managers}:
        recipients += managers
    staff = staff_notices(booking, "staff_cancelled") if before == "confirmed" else []
    return [*notices("cancellation", recipients, booking, actor=actor), *staff]


def staff_notices(booking: Booking, template: str) -> list[Notice]:
    person = booking.resource.person
    if person is None or person.id == booking.user_id:
        return []
    return notices(template, [person], booking,
                   actor=booking.decided_by_id or booking.user_id)


def notices(template: str, recipients: list[User], booking: Booking,
            actor: int | None = None) -> list[Notice]:
    """Nobody is told what they did themselves; inactive accounts are told nothing."""
    return [Notice(template, user, booking) for user in recipients
            if user.active and user.id != actor]


def owner_managers(booking: Booking) -> list[User]:
    return list(db.session.scalars(
        select(User).join(Membership).where(
            Membership.organisation_id == booking.resource.owner_organisation_id,
            Membership.role == "manager", User.active).order_by(User.id)))


# --- writing the messages --------------------------------------------------------------

def queue_messages(changes: list[Change]) -> None:
    """One message per recipient and template, however many bookings (a series)."""
    groups: dict[tuple[int, str], list[Notice]] = {}
    for notice in (n for change in changes for n in notices_for(change)):
        groups.setdefault((notice.recipient.id, notice.template), []).append(notice)
    for group in groups.values():
        queue_group(group[0].template, group[0].recipient, [n.booking for n in group])


def queue_group(template: str, recipient: User, bookings: list[Booking]) -> None:
    setting = setting_for(recipient, TEMPLATES[template].kind)
    if setting == "off":
        return
    if setting == "digest":
        for booking in bookings:  # one row each: the digest job gathers them
            queue_message(template, recipient, [booking], status="held")
        return
    queue_message(template, recipient, bookings)


def queue_message(template: str, recipient: User, bookings: list[Booking],
                  status: str = "waiting") -> OutboxMessage:
    words = TEMPLATES[template]
    with force_locale(recipient.locale):
        subject = words.subject(bookings[0].resource.name, len(bookings))
        body = render_template("mail/booking.txt", intro=words.intro(len(bookings)),
                               recipient=recipient,
                               items=[item(booking, recipient) for booking in bookings],
                               approvals=external_url("bookings.approvals")
                               if words.kind == "request" else None)
    attachments = [calendar_attachment(booking, words.method, recipient) for booking in bookings]
    return send_mail(recipient.email, subject, body, kind=words.kind, user=recipient,
                     booking=bookings[0], attachments=attachments, status=status)


def item(booking: Booking, recipient: User) -> dict:
    """What the recipient may read of a booking: its time and place, and the rest only if
    they may see its details (the engine's privacy rule)."""
    return {"booking": booking, "details": can_see_booking_details(recipient, booking),
            "link": external_url("bookings.detail", booking_id=booking.id)}


def calendar_attachment(booking: Booking, method: str, recipient: User) -> Attachment:
    return Attachment(f"{method.lower()}.ics", itip_calendar(booking, method, recipient),
                      params=(("method", method), ("charset", "utf-8")))


# --- preferences -------------------------------------------------------------------------

def setting_for(user: User, kind: str) -> str:
    preference = db.session.get(NotificationPreference, (user.id, kind))
    return preference.setting if preference else "on"


def settings_of(user: User) -> dict[str, str]:
    return {kind: setting_for(user, kind) for kind in NOTIFICATION_KINDS}


def save_settings(user: User, settings: dict[str, str]) -> None:
    """Keep a row only for what is not sent as it happens (the caller commits)."""
    for kind, setting in settings.items():
        if kind not in NOTIFICATION_KINDS or setting not in SETTINGS \
                or (setting == "digest" and kind != "request"):
            raise InvalidInput(**{kind: _("Choose one of the options offered.")})
    for kind, setting in settings.items():
        preference = db.session.get(NotificationPreference, (user.id, kind))
        if setting == "on" and preference is not None:
            db.session.delete(preference)
        elif setting != "on":
            preference = preference or NotificationPreference(user_id=user.id, kind=kind)
            preference.setting = setting
            db.session.add(preference)


# --- the daily digest of pending requests (a worker job) ------------------------------------

def digest_cutoff(now: datetime, timezone: str) -> datetime:
    """The last digest time (MAIL_DIGEST_HOUR on the manager's clock) at or before now."""
    local = now.astimezone(ZoneInfo(timezone))
    moment = local.replace(hour=current_app.config["MAIL_DIGEST_HOUR"], minute=0, second=0,
                           microsecond=0)
    return moment if moment <= local else moment - timedelta(days=1)


def send_digests(now: datetime | None = None) -> int:
    """Gather each manager's held requests from before their last digest time into one
    message; returns how many digests were queued. Several workers may run it at once:
    each held row is taken by one of them."""
    now, queued = now or utcnow(), 0
    for user in users_with_held_requests():
        with write_transaction():
            pending = [b for b in take_held(user, digest_cutoff(now, user.timezone))
                       if b.status == "pending"]
            if pending:
                queue_message("digest", user, pending)
                queued += 1
    return queued


def users_with_held_requests() -> list[User]:
    return list(db.session.scalars(select(User).where(User.id.in_(
        select(OutboxMessage.user_id).where(OutboxMessage.status == "held")))))


def take_held(user: User, cutoff: datetime) -> list[Booking]:
    held = list(db.session.scalars(
        select(OutboxMessage).where(OutboxMessage.user_id == user.id,
                                    OutboxMessage.status == "held",
                                    OutboxMessage.created_at <= cutoff)
        .order_by(OutboxMessage.id).with_for_update(skip_locked=True)))
    for row in held:
        row.status = "digested"
    return [row.booking for row in held if row.booking is not None]
