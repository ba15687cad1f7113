"""Owners' own calendars (a van's Nextcloud calendar, an expert's agenda) read as busy time.

A resource's managers attach ICS URLs. A sync fetches each one (see `core.fetch`: deadline,
size limit, conditional GET, public addresses only), expands its recurrences over the
booking window with `recurring-ical-events`, and replaces the calendar's busy periods,
which the engine then treats as `external_busy`. A failed sync keeps the previous periods
and records why; nothing of an event is stored but its times.

No database transaction is open while a calendar is fetched: a slow server never holds a
lock that bookings wait for.
"""

import math
import multiprocessing
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from itertools import islice, takewhile
from zoneinfo import ZoneInfo

import icalendar
import recurring_ical_events
from flask import current_app
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import delete, or_, select, update

from sharing.core.database import utcnow, write_transaction
from sharing.core.extensions import db
from sharing.core.fetch import FetchError, Limits, Validators, fetch, is_fetchable_url
from sharing.core.validation import InvalidInput
from sharing.engine.times import at_wall_minutes, localize, to_utc, zone
from sharing.models import BUSY_PIECE_MINUTES, ExternalBusy, ExternalCalendar, Resource

URL_MAX_LENGTH = 2000
# The window starts a day back, so that an event already running still counts.
LOOKBACK = timedelta(days=1)
# A file unchanged (304) for this long is read in full again all the same: the window has
# moved, and occurrences of its recurrences have come into it.
REEXPAND_AFTER = timedelta(days=1)

ERROR_MESSAGES = {
    "scheme": _l("Only http:// and https:// addresses can be read."),
    "private_address": _l("This address is on a private network: it cannot be read."),
    "unreachable": _l("The server could not be reached."),
    "timeout": _l("The server did not answer in time."),
    "too_large": _l("The calendar is too large."),
    "redirects": _l("Too many redirections."),
    "http_status": _l("The server answered with the HTTP status %(detail)s."),
    "not_calendar": _l("The answer is not a valid iCalendar file."),
    "too_many_events": _l("The calendar has too many events in the booking window."),
    "too_complex": _l("The calendar takes too long to read (an event repeating too often?)."),
    "postponed": _l("Not read for lack of time: it will be read with the others later."),
}


def error_message(stored: str) -> str:
    """The owner's explanation of a stored failure (`code` or `code:detail`), in their
    language whenever they read it."""
    code, _sep, detail = stored.partition(":")
    message = ERROR_MESSAGES.get(code)
    return str(message) % {"detail": detail} if message else stored


def stored_error(error: FetchError) -> str:
    return f"{error.code}:{error.detail}"[:500] if error.detail else error.code


def find_calendars(resource: Resource) -> list[ExternalCalendar]:
    return list(db.session.scalars(select(ExternalCalendar).where(
        ExternalCalendar.resource_id == resource.id).order_by(ExternalCalendar.id)))


def check_url(url: object) -> str:
    if not isinstance(url, str) or not url.strip():
        raise InvalidInput(url=_("Enter the calendar's address."))
    url = url.strip()
    if len(url) > URL_MAX_LENGTH:
        raise InvalidInput(url=_("Use at most %(count)s characters.", count=URL_MAX_LENGTH))
    if not is_fetchable_url(url):
        raise InvalidInput(url=_("Enter a valid address starting with http:// or https://."))
    return url


def add_calendar(resource: Resource, url: object) -> ExternalCalendar:
    """Attach a calendar (the caller commits); it is read at the next sync. Who attached it
    is not kept: the calendar is the resource's, not a person's."""
    url = check_url(url)
    if url in (calendar.url for calendar in find_calendars(resource)):
        raise InvalidInput(url=_("This calendar is already attached."))
    calendar = ExternalCalendar(resource_id=resource.id, url=url)
    db.session.add(calendar)
    return calendar


def remove_calendar(calendar: ExternalCalendar) -> None:
    """Detach a calendar and forget its busy periods (the caller commits)."""
    db.session.execute(delete(ExternalBusy).where(ExternalBusy.calendar_id == calendar.id))
    db.session.delete(calendar)


@dataclass(frozen=True)
class SyncJob:
    """What a sync needs, read before the fetch so that no transaction stays open."""

    calendar_id: int
    url: str
    validators: Validators
    timezone: str
    start: datetime
    end: datetime
    max_events: int


def sync_job(calendar: ExternalCalendar, now: datetime) -> SyncJob:
    resource = calendar.resource
    config = current_app.config
    days = resource.max_advance_days or config["CALENDAR_SYNC_DAYS"]
    return SyncJob(calendar.id, calendar.url, conditions(calendar, now), resource.timezone,
                   now - LOOKBACK, now + timedelta(days=days + 1), config["CALENDAR_MAX_EVENTS"])


def conditions(calendar: ExternalCalendar, now: datetime) -> Validators:
    """The validators to send, unless the file must be read in full again."""
    if calendar.expanded_at is None or now - calendar.expanded_at >= REEXPAND_AFTER:
        return Validators()
    return Validators(calendar.etag, calendar.last_modified)


def fetch_limits(seconds_left: float) -> Limits:
    config = current_app.config
    return Limits(min(config["CALENDAR_FETCH_TIMEOUT"], seconds_left),
                  config["CALENDAR_FETCH_MAX_BYTES"], config["CALENDAR_FETCH_ALLOW_PRIVATE"])


def sync_calendars(calendars: Iterable[ExternalCalendar], now: datetime | None = None,
                   seconds: float = math.inf) -> dict[int, str]:
    """Fetch and store each calendar, all within `seconds` (a request must answer before
    the server gives up on it); the failures: calendar id → stored error, or `postponed`
    for those left for the worker when the time ran out."""
    now = now or utcnow()
    jobs = [sync_job(calendar, now) for calendar in calendars]
    db.session.commit()  # nothing stays locked while the servers answer
    deadline = time.monotonic() + seconds
    failures = {}
    for job in jobs:
        seconds_left = deadline - time.monotonic()
        error = run_sync(job, now, seconds_left) if seconds_left > 0 else "postponed"
        if error:
            failures[job.calendar_id] = error
    return failures


def run_sync(job: SyncJob, now: datetime, seconds_left: float) -> str:
    try:
        fetched = fetch(job.url, job.validators, fetch_limits(seconds_left))
        periods = None if fetched.body is None else expand_apart(
            fetched.body, job, min(current_app.config["CALENDAR_EXPAND_TIMEOUT"], seconds_left))
    except FetchError as error:
        record_failure(job.calendar_id, stored_error(error), now)
        return stored_error(error)
    record_success(job.calendar_id, periods, fetched.validators, now)
    return ""


def record_failure(calendar_id: int, error: str, now: datetime) -> None:
    """The previous busy periods stay: a server down for an hour frees nothing."""
    with write_transaction():
        calendar = db.session.get(ExternalCalendar, calendar_id)
        if calendar is not None:
            calendar.last_attempt_at, calendar.last_error = now, error


def record_success(calendar_id: int, periods: list[tuple[datetime, datetime]] | None,
                   validators: Validators, now: datetime) -> None:
    """Replace the calendar's periods (unless not modified) and remember the validators."""
    with write_transaction():
        calendar = db.session.get(ExternalCalendar, calendar_id)
        if calendar is None:
            return  # removed while it was being fetched
        calendar.last_attempt_at = calendar.last_synced_at = now
        calendar.last_error = ""
        if periods is not None:
            calendar.etag, calendar.last_modified = validators.etag, validators.last_modified
            calendar.expanded_at = now
            replace_periods(calendar, periods)


def replace_periods(calendar: ExternalCalendar, periods: list[tuple[datetime, datetime]]
                    ) -> None:
    db.session.execute(delete(ExternalBusy).where(ExternalBusy.calendar_id == calendar.id))
    db.session.add_all(ExternalBusy(calendar_id=calendar.id, resource_id=calendar.resource_id,
                                    starts_at=start, ends_at=end)
                       for period in periods for start, end in pieces(*period))


def pieces(start: datetime, end: datetime) -> Iterator[tuple[datetime, datetime]]:
    """A long period cut into pieces of at most `BUSY_PIECE_MINUTES` (see ExternalBusy)."""
    longest = timedelta(minutes=BUSY_PIECE_MINUTES)
    while start < end:
        yield start, min(start + longest, end)
        start += longest


def expand_apart(body: bytes, job: SyncJob, seconds: float) -> list[tuple[datetime, datetime]]:
    """`busy_periods` in a child process, killed after `seconds`: three lines of RRULE (every
    second since 2000) cost hours of CPU inside one library call, which nothing else stops."""
    context = multiprocessing.get_context("forkserver")
    # children fork from a server that has already imported this module: they start at once
    context.set_forkserver_preload(["__main__", __name__])
    receiving, sending = context.Pipe(duplex=False)
    child = context.Process(target=expand_into, args=(body, job, sending), daemon=True)
    child.start()
    sending.close()
    try:
        if not receiving.poll(seconds):
            raise FetchError("too_complex")
        outcome = receiving.recv()
    except EOFError:  # the child died without a word (out of memory…)
        raise FetchError("not_calendar") from None
    finally:
        child.kill()
        child.join()
        receiving.close()
    if isinstance(outcome, str):
        raise FetchError(outcome)
    return outcome


def expand_into(body: bytes, job: SyncJob, sending) -> None:
    """The child's work: the periods, or the code of why there are none."""
    try:
        sending.send(busy_periods(body, job))
    except FetchError as error:
        sending.send(error.code)


def busy_periods(body: bytes, job: SyncJob) -> list[tuple[datetime, datetime]]:
    """The busy periods of an ICS file over the job's window, in UTC."""
    tz = zone(job.timezone)
    try:
        events = recurring_ical_events.of(icalendar.Calendar.from_ical(body)).after(job.start)
        starting = takewhile(lambda event: aware(event.decoded("DTSTART"), tz) < job.end, events)
        periods = [period for event in islice(starting, job.max_events + 1)
                   if (period := busy_period(event, tz))]
    except FetchError:
        raise
    except Exception:  # the file is the server's: any way icalendar fails means "invalid"
        raise FetchError("not_calendar") from None
    if len(periods) > job.max_events:
        raise FetchError("too_many_events")
    return periods


def busy_period(event, tz: ZoneInfo) -> tuple[datetime, datetime] | None:
    """An event's interval in UTC, or None when it does not make the resource busy:
    free time (`TRANSP:TRANSPARENT`), cancelled, or of no length."""
    if str(event.get("TRANSP", "")).upper() == "TRANSPARENT" \
            or str(event.get("STATUS", "")).upper() == "CANCELLED":
        return None
    start = aware(event.decoded("DTSTART"), tz)
    end = aware(event.decoded("DTEND", None) or event.decoded("DTSTART"), tz)
    return (to_utc(start), to_utc(end)) if end > start else None


def aware(moment: date | datetime, tz: ZoneInfo) -> datetime:
    """An event time on the resource's clock: a day (all-day event) starts at its local
    midnight; a floating time is read on the resource's site."""
    if not isinstance(moment, datetime):
        return at_wall_minutes(moment, 0, tz)
    return moment if moment.tzinfo else localize(moment, tz)


def is_due(now: datetime):
    """SQL: not tried for `CALENDAR_SYNC_MINUTES`."""
    every = timedelta(minutes=current_app.config["CALENDAR_SYNC_MINUTES"])
    return or_(ExternalCalendar.last_attempt_at.is_(None),
               ExternalCalendar.last_attempt_at <= now - every)


def claim_due_calendars(now: datetime) -> list[ExternalCalendar]:
    """The due calendars of active resources, each marked as tried by a conditional update:
    of several workers running at once, one only reads a given calendar."""
    with write_transaction():
        due = db.session.scalars(
            select(ExternalCalendar.id).join(Resource).where(Resource.active, is_due(now))
            .order_by(ExternalCalendar.last_attempt_at.is_not(None),
                      ExternalCalendar.last_attempt_at)).all()
        claimed = [calendar_id for calendar_id in due if db.session.execute(
            update(ExternalCalendar).where(ExternalCalendar.id == calendar_id, is_due(now))
            .values(last_attempt_at=now)).rowcount == 1]
    return [db.session.get(ExternalCalendar, calendar_id) for calendar_id in claimed]


def sync_due_calendars(now: datetime | None = None) -> tuple[int, dict[int, str]]:
    """Sync every calendar not tried for `CALENDAR_SYNC_MINUTES`: how many were tried, and
    the failures."""
    now = now or utcnow()
    due = claim_due_calendars(now)
    return len(due), sync_calendars(due, now)


def sync_calendars_job(now: datetime | None = None) -> int:
    """The worker's job: how many calendars were due (each one's outcome is on its row)."""
    return sync_due_calendars(now)[0]
