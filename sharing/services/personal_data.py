"""Personal data (GDPR): everything held about one person, and forgetting a person who
left while keeping what their organisation booked (the times, the organisation).

`PERSONAL_REFERENCES` lists every column that points at a user; a test checks that it
covers every foreign key to `user`, so that a new table cannot be left out of exports.
"""

from datetime import datetime
from typing import Any

from flask import current_app
from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy import delete, func, select, update

from sharing.core.database import any_contains, utcnow
from sharing.core.extensions import db
from sharing.core.validation import InvalidInput
from sharing.models import (
    AccountToken,
    ApiToken,
    Booking,
    BookingSeries,
    Closure,
    CreditEntry,
    FeedKey,
    Membership,
    NotificationPreference,
    OutboxMessage,
    Resource,
    User,
)
from sharing.services.accounts import set_user_active
from sharing.services.api_tokens import revoke_all_api_tokens
from sharing.services.catalogue import searchable
from sharing.services.feeds import forget_feed_key
from sharing.services.paging import Page, page_of

# Section of the export → the column naming the person.
PERSONAL_REFERENCES = {
    "memberships": Membership.user_id,
    "bookings_made": Booking.user_id,
    "bookings_decided": Booking.decided_by_id,
    "closures_created": Closure.created_by_id,
    "series_created": BookingSeries.created_by_id,
    "resources_where_they_are_the_person": Resource.person_id,
    "api_tokens": ApiToken.user_id,
    "feed_key": FeedKey.user_id,
    "account_links": AccountToken.user_id,
    "invitations_sent": AccountToken.created_by_id,
    "credit_grants_recorded": CreditEntry.author_id,
    "mail_to_them": OutboxMessage.user_id,
    "mail_preferences": NotificationPreference.user_id,
}
# Never exported, even to the coordinator: they would let a reader sign in.
SECRET_COLUMNS = frozenset({"password_hash", "token_hash", "nonce"})


def find_people(search: str, page: int) -> Page:
    """One page of people whose name or e-mail address contains `search`, by name."""
    query = select(User).order_by(User.display_name, User.id)
    if search := searchable(search):
        query = query.where(any_contains(search, User.display_name, User.email))
    return page_of(query, page)


def jsonable(value: Any) -> Any:
    return value.isoformat() if isinstance(value, datetime) else value


def row_as_dict(row) -> dict[str, Any]:
    columns = row.__mapper__.column_attrs
    return {column.key: jsonable(getattr(row, column.key)) for column in columns
            if column.key not in SECRET_COLUMNS}


def rows_naming(column, user: User) -> list[dict[str, Any]]:
    model = column.class_
    rows = db.session.scalars(select(model).where(column == user.id).order_by(*model
                              .__mapper__.primary_key))
    return [row_as_dict(row) for row in rows]


def export_person(user: User) -> dict[str, Any]:
    """Everything held about the person, as JSON-ready data."""
    invitations = db.session.scalars(select(AccountToken).where(
        AccountToken.email == user.email, AccountToken.user_id.is_(None)))
    return {
        "exported_at": utcnow().isoformat(),
        "person": row_as_dict(user),
        **{section: rows_naming(column, user)
           for section, column in PERSONAL_REFERENCES.items()},
        "invitations_received": [row_as_dict(token) for token in invitations],
    }


def anonymise_person(user: User, by: User | None = None) -> None:
    """Forget the person (the caller commits): name, address, password, sessions, tokens
    and memberships go; their bookings keep their organisation, resource and times, and
    lose the notes they wrote. `by` is the coordinator (None on the command line)."""
    if by is not None and user.id == by.id:
        raise InvalidInput(person=_("You cannot anonymise yourself."))
    forget_what_they_wrote(user)
    forget_the_person(user)


def forget_what_they_wrote(user: User) -> None:
    db.session.execute(update(Booking).where(Booking.user_id == user.id).values(note="")
                       .execution_options(synchronize_session=False))
    db.session.execute(update(Booking).where(Booking.decided_by_id == user.id)
                       .values(decision_reason="")
                       .execution_options(synchronize_session=False))


def forget_the_person(user: User) -> None:
    address = f"anonymised-{user.id}@invalid"
    db.session.execute(update(AccountToken).where(AccountToken.email == user.email)
                       .values(email=address, used_at=func.coalesce(AccountToken.used_at, utcnow()))
                       .execution_options(synchronize_session=False))
    forget_their_mail(user, address)
    revoke_all_api_tokens(user)
    forget_feed_key(user)
    set_user_active(user, False)
    user.memberships.clear()
    with force_locale(current_app.config["BABEL_DEFAULT_LOCALE"]):
        user.display_name = _("Former member %(id)d", id=user.id)
    user.email, user.password_hash, user.is_admin = address, None, False
    user.failed_logins, user.locked_until = 0, None


def forget_their_mail(user: User, address: str) -> None:
    """Messages to them lose address and content; those not yet sent never will be."""
    db.session.execute(update(OutboxMessage).where(
        OutboxMessage.user_id == user.id,
        OutboxMessage.status.in_(("waiting", "sending", "held")))
        .values(status="failed", last_error="anonymised")
        .execution_options(synchronize_session=False))
    db.session.execute(update(OutboxMessage).where(OutboxMessage.user_id == user.id)
                       .values(recipient=address, subject="", content="")
                       .execution_options(synchronize_session=False))
    db.session.execute(delete(NotificationPreference)
                       .where(NotificationPreference.user_id == user.id))


def is_anonymised(user: User) -> bool:
    return user.email.endswith("@invalid")
