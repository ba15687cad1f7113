"""Subscribed calendar feeds: per person, per organisation, per resource, and a
resource's public busy-only feed.

Calendar apps cannot sign in, so a feed URL carries its owner's secret token. The token
is HMAC(SECRET_KEY, nonce) where only the nonce and the token's sha256 are stored: a copy
of the database alone opens no feed, yet the URL can be shown again. A feed shows what
its owner may see on the pages, no more (`can_see_booking_details`).

A conditional request is answered from one aggregate query over the window: the
fingerprint it gives (with who reads, in which language) maps to the ETag and
Last-Modified of the body last built for it, so an unchanged feed is not built again.
"""

import base64
import hashlib
import hmac
import secrets
import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app
from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy import and_, delete, func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import load_only, selectinload

from sharing.core.database import utcnow, write_transaction
from sharing.core.extensions import db
from sharing.core.urls import external_url
from sharing.models import Booking, FeedKey, Organisation, Resource, User
from sharing.services.api_tokens import hash_secret
from sharing.services.ical import feed_calendar
from sharing.services.permissions import (
    can_see_booking_details,
    can_see_resource,
    can_subscribe_organisation,
)

VALIDATOR_CACHE_SIZE = 4096


# --- the secret token --------------------------------------------------------------------

def token_of(nonce: str) -> str:
    key = current_app.config["SECRET_KEY"].encode()
    digest = hmac.new(key, b"feed:" + nonce.encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")


def new_key_values() -> dict[str, str]:
    nonce = secrets.token_urlsafe(32)
    return {"nonce": nonce, "token_hash": hash_secret(token_of(nonce))}


def feed_key(user: User) -> FeedKey:
    """The user's feed key, made the first time a feed URL is asked for."""
    key = db.session.get(FeedKey, user.id)
    if key is not None:
        return key
    try:
        with write_transaction():
            db.session.add(FeedKey(user_id=user.id, **new_key_values()))
    except IntegrityError:  # made meanwhile by another request: use that one
        pass
    return db.session.get(FeedKey, user.id)


def regenerate_feed_key(user: User) -> None:
    """A new token: every URL built from the old one stops working at once."""
    key = feed_key(user)
    with write_transaction():
        for name, value in new_key_values().items():
            setattr(key, name, value)


def forget_feed_key(user: User) -> None:
    """Every feed URL of the person stops for good (the caller commits)."""
    db.session.execute(delete(FeedKey).where(FeedKey.user_id == user.id))


def feed_token(user: User) -> str:
    return token_of(feed_key(user).nonce)


def user_for_feed_token(raw: str) -> User | None:
    """The active owner of a live token; None for a revoked or unknown one."""
    key = db.session.scalar(select(FeedKey).where(FeedKey.token_hash == hash_secret(raw)))
    return key.user if key is not None and key.user.active else None


# --- where feeds are ------------------------------------------------------------------

def personal_feed_url(user: User) -> str:
    return external_url("feeds.personal", token=feed_token(user))


def organisation_feed_url(user: User, organisation_id: int) -> str:
    return external_url("feeds.organisation", token=feed_token(user),
                        organisation_id=organisation_id)


def resource_feed_url(user: User, resource: Resource) -> str:
    return external_url("feeds.resource", token=feed_token(user), resource_id=resource.id)


def public_feed_url(resource: Resource) -> str:
    return external_url("feeds.public_resource", resource_id=resource.id)


def webcal(url: str) -> str:
    """The same feed as a link that opens the calendar app to subscribe."""
    return "webcal://" + url.split("://", 1)[1]


def subscribed_organisations(user: User) -> list[Organisation]:
    return sorted((m.organisation for m in user.memberships), key=lambda o: o.name)


def feed_urls(user: User) -> dict:
    """The person's feeds, as the API gives them."""
    return {"personal": personal_feed_url(user),
            "organisations": {str(org.id): organisation_feed_url(user, org.id)
                              for org in subscribed_organisations(user)}}


# --- what a feed holds -------------------------------------------------------------------

@dataclass(frozen=True)
class Feed:
    """One feed as one reader sees it: which bookings, and whose details it shows."""

    key: tuple  # which feed, for whom
    context: tuple  # what, besides its bookings, shapes the body
    scope: object  # SQL filter on Booking
    locale: str
    title: Callable[[], str]
    about: Callable[[], str]
    shows_details: Callable[[Booking], bool]


def no_details(_booking: Booking) -> bool:
    return False


def details_for(user: User) -> Callable[[Booking], bool]:
    return lambda booking: can_see_booking_details(user, booking)


def reader_context(user: User) -> tuple:
    """What about the reader changes what their feeds show: language, rights, name."""
    return (user.locale, user.display_name, user.is_admin,
            tuple(sorted((m.organisation_id, m.role) for m in user.memberships)))


def personal_feed(user: User) -> Feed:
    own_time = select(Resource.id).where(Resource.person_id == user.id)
    return Feed(("personal", user.id), reader_context(user),
                or_(Booking.user_id == user.id, Booking.resource_id.in_(own_time)),
                user.locale, lambda: _("My bookings"),
                lambda: _("Bookings made by %(person)s, and bookings of their time.",
                          person=user.display_name),
                details_for(user))


def organisation_feed(user: User, organisation_id: int) -> Feed | None:
    organisation = db.session.get(Organisation, organisation_id)
    if organisation is None or not can_subscribe_organisation(user, organisation):
        return None
    return Feed(("organisation", organisation.id, user.id),
                (organisation.name, *reader_context(user)),
                Booking.organisation_id == organisation.id, user.locale,
                lambda: _("Bookings of %(organisation)s", organisation=organisation.name),
                lambda: _("Everything %(organisation)s has booked.",
                          organisation=organisation.name),
                details_for(user))


def resource_about(resource: Resource) -> str:
    return _("Bookings of %(resource)s (%(site)s).", resource=resource.name,
             site=resource.site.name)


def resource_context(resource: Resource) -> tuple:
    return (resource.name, resource.site.name, resource.site.address)


def resource_feed(user: User, resource_id: int) -> Feed | None:
    resource = db.session.get(Resource, resource_id)
    if resource is None or not can_see_resource(user, resource):
        return None
    return Feed(("resource", resource.id, user.id),
                (*resource_context(resource), *reader_context(user)),
                Booking.resource_id == resource.id, user.locale, lambda: resource.name,
                lambda: resource_about(resource), details_for(user))


def public_resource_feed(resource_id: int) -> Feed | None:
    """Busy times only, for anyone: published by the resource's owner."""
    resource = db.session.get(Resource, resource_id)
    if resource is None or not (resource.active and resource.public_busy_feed):
        return None
    locale = current_app.config["LANGUAGES"][0]
    return Feed(("public", resource.id), (*resource_context(resource), locale),
                Booking.resource_id == resource.id, locale, lambda: resource.name,
                lambda: resource_about(resource), no_details)


# --- the window, the validators, the body --------------------------------------------------

@dataclass(frozen=True)
class Window:
    now: datetime
    start: datetime
    end: datetime
    past: timedelta
    future: timedelta


def current_window(now: datetime | None = None) -> Window:
    """Bookings starting from FEED_PAST_DAYS back to FEED_FUTURE_DAYS ahead."""
    now = (now or utcnow()).replace(microsecond=0)
    past = timedelta(days=current_app.config["FEED_PAST_DAYS"])
    future = timedelta(days=current_app.config["FEED_FUTURE_DAYS"])
    return Window(now, now - past, now + future, past, future)


def in_window(window: Window):
    return and_(Booking.starts_at >= window.start, Booking.starts_at < window.end)


@dataclass(frozen=True)
class Validators:
    etag: str
    last_modified: datetime


def fingerprint(feed: Feed, window: Window) -> tuple:
    """One aggregate query: what the window holds, and when it last changed. The latest
    moment a booking left the window (its start fell FEED_PAST_DAYS behind) or entered it
    counts as a change, so Last-Modified moves when the window does."""
    left = (select(func.max(Booking.starts_at))
            .where(feed.scope, Booking.starts_at < window.start).scalar_subquery())
    row = db.session.execute(
        select(func.count(), func.max(Booking.updated_at), func.max(Booking.starts_at),
               func.sum(Booking.sequence), left)
        .where(feed.scope, in_window(window))).one()
    return (*row, feed.context)


def changed_at(state: tuple, window: Window) -> datetime:
    _count, updated, last_start, _sequences, last_left, _context = state
    moments = [updated, last_start and last_start - window.future,
               last_left and last_left + window.past]
    latest = max((m for m in moments if m is not None), default=window.start)
    return min(latest, window.now).replace(microsecond=0)


class ValidatorCache:
    """Per feed and reader: the fingerprint last seen and the validators of its body."""

    def __init__(self, size: int):
        self.size = size
        self.entries: OrderedDict[tuple, tuple[tuple, Validators]] = OrderedDict()
        self.lock = threading.Lock()  # threaded servers share it

    def get(self, key: tuple, state: tuple) -> Validators | None:
        entry = self.entries.get(key)
        return entry[1] if entry is not None and entry[0] == state else None

    def remember(self, key: tuple, state: tuple, validators: Validators) -> Validators:
        """Last-Modified never moves backwards: a changed body is newer than the last."""
        with self.lock:
            previous = self.entries.get(key)
            if previous and previous[1].etag != validators.etag \
                    and validators.last_modified <= previous[1].last_modified:
                validators = Validators(validators.etag, max(
                    previous[1].last_modified, utcnow().replace(microsecond=0)))
            self.entries[key] = (state, validators)
            self.entries.move_to_end(key)
            while len(self.entries) > self.size:
                self.entries.popitem(last=False)
        return validators


def validator_cache() -> ValidatorCache:
    """One per application (and process): fingerprints are ids, meaningful in one database."""
    return current_app.extensions.setdefault("feed_validators",
                                             ValidatorCache(VALIDATOR_CACHE_SIZE))


def known_validators(feed: Feed, window: Window) -> tuple[tuple, Validators | None]:
    """The feed's state, and its validators if a body was already built for that state."""
    state = fingerprint(feed, window)
    return state, validator_cache().get(cache_key(feed), state)


def cache_key(feed: Feed) -> tuple:
    return (current_app.config["BASE_URL"], *feed.key)


# What an event shows of a booking, and what decides whether it shows the details.
EVENT_COLUMNS = (Booking.uid, Booking.sequence, Booking.updated_at, Booking.starts_at,
                 Booking.ends_at, Booking.status, Booking.title, Booking.note,
                 Booking.decision_reason, Booking.resource_id, Booking.organisation_id,
                 Booking.user_id)


def feed_bookings(feed: Feed, window: Window) -> list[Booking]:
    return list(db.session.scalars(
        select(Booking).where(feed.scope, in_window(window))
        .options(load_only(*EVENT_COLUMNS))
        # One small query per related table, not their columns repeated on every row.
        .options(selectinload(Booking.resource).selectinload(Resource.site),
                 selectinload(Booking.user), selectinload(Booking.organisation))
        .order_by(Booking.starts_at, Booking.id)))


def feed_body(feed: Feed, window: Window) -> bytes:
    with force_locale(feed.locale):
        return feed_calendar(feed.title(), feed.about(), feed_bookings(feed, window),
                             feed.shows_details)


def build_feed(feed: Feed, window: Window, state: tuple) -> tuple[bytes, Validators]:
    body = feed_body(feed, window)
    etag = hashlib.sha256(body).hexdigest()
    validators = validator_cache().remember(cache_key(feed), state,
                                     Validators(etag, changed_at(state, window)))
    return body, validators
