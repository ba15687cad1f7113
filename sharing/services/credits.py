"""Credit accounts: grants and withdrawals, floors, balances and monthly statements.

The engine moves credits when bookings are confirmed, moved or cancelled
(`sharing.engine.credits`); here the coordinator adds and takes them, and members read
their organisation's account.
"""

import csv
import io
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Annotated, Any
from zoneinfo import ZoneInfo

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import func, select

from sharing.core.contracts import checked, nullable, refuse, with_null
from sharing.core.database import write_transaction
from sharing.core.extensions import db
from sharing.core.validation import InvalidInput
from sharing.engine.contracts import NotAllowed
from sharing.engine.credits import balance_cents, floor_cents, lock_organisations
from sharing.engine.times import at_wall_minutes
from sharing.models import CreditEntry, CreditSettings, Organisation, User
from sharing.services.permissions import can_manage_credits, can_see_credit_account

# One grant moves at most a million credits, a floor goes at most that far below zero.
LARGEST_CREDITS = Decimal(1_000_000)
MEMO_LENGTH = 300


def parse_credits(value: Any, field: str, allow_zero: bool = False) -> int:
    """Credits as typed or sent (12, 12.5, "-3.25", "12,5" as in French) to hundredths;
    InvalidInput if not."""
    error = InvalidInput({field: [_("Enter a number of credits with at most two decimals, "
                                    "between -1,000,000 and 1,000,000.")]})
    if isinstance(value, bool) or not isinstance(value, int | float | str | Decimal):
        raise error
    try:
        credits = Decimal(str(value).strip().replace(",", ".", 1))
    except InvalidOperation:
        raise error from None
    if not credits.is_finite() or abs(credits) > LARGEST_CREDITS \
            or credits != credits.quantize(Decimal("0.01")) or (credits == 0 and not allow_zero):
        raise error
    return int(credits * 100)


def credits_number(negative_allowed: bool) -> Callable[[Any], Decimal]:
    """A contract check: a number (not text) of credits, at most two decimals, not zero;
    more than zero unless `negative_allowed`."""
    message = _("Enter a number of credits, not zero, with at most two decimals.") \
        if negative_allowed else \
        _("Enter a number of credits, more than 0, with at most two decimals.")

    def check(value: Any) -> Decimal:
        if isinstance(value, bool) or not isinstance(value, int | float | Decimal):
            raise refuse(message)
        try:
            cents = parse_credits(value, "credits")
        except InvalidInput:
            raise refuse(message) from None
        if cents < 0 and not negative_allowed:
            raise refuse(message)
        return Decimal(cents) / 100

    return check


CREDITS_SCHEMA = {"type": "number", "minimum": -int(LARGEST_CREDITS),
                  "maximum": int(LARGEST_CREDITS), "description": "at most two decimals"}
Price = Annotated[Decimal | None, *checked(nullable(credits_number(False)), with_null({
    **CREDITS_SCHEMA, "minimum": 0,
    "description": "credits per unit booked, at most two decimals (null: free)"}))]
GrantAmount = Annotated[Decimal, *checked(credits_number(True), {
    **CREDITS_SCHEMA, "description": "credits, at most two decimals; negative: a withdrawal"})]


def validate_memo(memo: Any) -> str:
    if not isinstance(memo, str) or not memo.strip() or len(memo.strip()) > MEMO_LENGTH:
        raise InvalidInput(memo=_("Say what the credits are for, in at most %(n)s characters.",
                                  n=MEMO_LENGTH))
    return memo.strip()


def parse_grant(amount: Any, memo: Any) -> tuple[int, str]:
    """The amount in hundredths and the memo; every field's error at once."""
    errors: dict[str, list[str]] = {}
    parsed = []
    for parse, value in ((lambda v: parse_credits(v, "amount"), amount), (validate_memo, memo)):
        try:
            parsed.append(parse(value))
        except InvalidInput as error:
            errors.update(error.fields)
    if errors:
        raise InvalidInput(errors)
    return parsed[0], parsed[1]


def grant(user: User, organisation: Organisation, amount: Any, memo: Any) -> CreditEntry:
    """Add credits (or withdraw them, with a negative amount) with a memo: the coordinator."""
    if not can_manage_credits(user):
        raise NotAllowed
    amount_cents, memo = parse_grant(amount, memo)
    with write_transaction():
        lock_organisations([organisation.id])
        entry = CreditEntry(organisation_id=organisation.id, reason="grant", author_id=user.id,
                            amount_cents=amount_cents, memo=memo)
        db.session.add(entry)
    return entry


def parse_floor(value: Any, field: str) -> int:
    cents = parse_credits(value, field, allow_zero=True)
    if cents > 0:
        raise InvalidInput({field: [_("A floor is zero or below.")]})
    return cents


def set_floor(user: User, organisation: Organisation, value: Any) -> None:
    """The organisation's own floor; None (or "") gives it the pole's floor again."""
    if not can_manage_credits(user):
        raise NotAllowed
    cents = None if value is None or value == "" else parse_floor(value, "floor")
    with write_transaction():
        organisation.credit_floor_cents = cents


def set_pole_floor(user: User, value: Any) -> None:
    if not can_manage_credits(user):
        raise NotAllowed
    cents = parse_floor(value, "floor")
    with write_transaction():
        settings = db.session.get(CreditSettings, 1) or CreditSettings(id=1)
        settings.default_floor_cents = cents
        db.session.add(settings)


ENTRIES_PER_PAGE = 50


@dataclass
class Account:
    balance_cents: int
    floor_cents: int
    entries: list[CreditEntry]  # one page, newest first
    page: int
    total: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // ENTRIES_PER_PAGE))


def account(user: User, organisation: Organisation, page: int = 1) -> Account:
    """The balance, the floor and one page of entries."""
    if not can_see_credit_account(user, organisation):
        raise NotAllowed
    of_org = CreditEntry.organisation_id == organisation.id
    entries = db.session.scalars(select(CreditEntry).where(of_org)
                                 .order_by(CreditEntry.at.desc(), CreditEntry.id.desc())
                                 .limit(ENTRIES_PER_PAGE).offset((page - 1) * ENTRIES_PER_PAGE))
    total = db.session.scalar(select(func.count()).select_from(CreditEntry).where(of_org))
    return Account(balance_cents(organisation.id), floor_cents(organisation), list(entries),
                   page, total)


@dataclass
class Statement:
    organisation: Organisation
    month: date
    opening_cents: int
    entries: list[CreditEntry]

    @property
    def closing_cents(self) -> int:
        return self.opening_cents + sum(e.amount_cents for e in self.entries)


def month_bounds(month: date) -> tuple[datetime, datetime]:
    """The month's first and last instants in the pole's timezone, as aware datetimes."""
    tz = ZoneInfo(current_app.config["DEFAULT_TIMEZONE"])
    following = date(month.year + month.month // 12, month.month % 12 + 1, 1)
    return at_wall_minutes(month, 0, tz), at_wall_minutes(following, 0, tz)


def statement(user: User, organisation: Organisation, month: date) -> Statement:
    """Opening balance, each entry of the month, closing balance."""
    if not can_see_credit_account(user, organisation):
        raise NotAllowed
    start, end = month_bounds(month.replace(day=1))
    of_org = CreditEntry.organisation_id == organisation.id
    opening = db.session.scalar(select(func.coalesce(func.sum(CreditEntry.amount_cents), 0))
                                .where(of_org, CreditEntry.at < start))
    entries = db.session.scalars(select(CreditEntry).where(
        of_org, CreditEntry.at >= start, CreditEntry.at < end)
        .order_by(CreditEntry.at, CreditEntry.id))
    return Statement(organisation, month.replace(day=1), opening, list(entries))


def entry_label(entry: CreditEntry) -> str:
    """What an entry is for: its memo, or what happened to its booking."""
    labels = {"charge": _("Booking #%(id)s"), "refund": _("Refund of booking #%(id)s"),
              "move": _("Change to booking #%(id)s")}
    return entry.memo if entry.reason == "grant" else labels[entry.reason] % {
        "id": entry.booking_id}


def statement_csv(statement: Statement) -> str:
    tz = ZoneInfo(current_app.config["DEFAULT_TIMEZONE"])
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["date", "entry", "booking_id", "memo", "amount", "balance"])
    balance = statement.opening_cents
    writer.writerow([statement.month.isoformat(), "opening", "", "", "", cents(balance)])
    for entry in statement.entries:
        balance += entry.amount_cents
        writer.writerow([entry.at.astimezone(tz).isoformat(timespec="minutes"), entry.reason,
                         entry.booking_id or "", entry.memo, cents(entry.amount_cents),
                         cents(balance)])
    writer.writerow(["", "closing", "", "", "", cents(statement.closing_cents)])
    return out.getvalue()


def cents(amount_cents: int) -> str:
    """Machine-readable credits for CSV: a dot, two decimals, whatever the locale."""
    return f"{Decimal(amount_cents) / 100:.2f}"

