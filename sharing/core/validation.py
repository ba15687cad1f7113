"""The one error that services raise for bad input: field name → messages.

Forms show the messages beside the fields, the API answers 422 with them, the command
line prints them. Raised before anything is written, so bad input changes nothing.

A message is either text already in the reader's language (the services word their
own), or a `Problem`: a code and its values, which the faces word when they show it
(`sharing.services.messages.describe`). The engine speaks only in problems.
"""

from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any


@dataclass(frozen=True)
class Problem:
    """Why a value is refused, as a stable code and the values its wording needs."""

    code: str
    params: dict[str, Any] = field(default_factory=dict)

    def __str__(self) -> str:  # for logs and tracebacks; people read `describe`
        return self.code


Message = str | Problem


class InvalidInput(Exception):
    def __init__(self, fields: dict[str, list[Message]] | None = None, **messages: Message):
        self.fields = dict(fields or {})
        for name, message in messages.items():
            self.fields.setdefault(name, []).append(message)
        super().__init__("; ".join(f"{k}: {' '.join(map(str, v))}"
                                   for k, v in self.fields.items()))

    def __str__(self) -> str:
        return self.args[0]


# Row ids are 32-bit integers on PostgreSQL, and SQLite cannot even bind a Python int
# beyond 64 bits: look up only ids that can exist, the others name no row.
MAX_ROW_ID = 2**31 - 1
# The most units, people or square metres any count may say.
LARGEST_COUNT = 100_000


def is_whole_number(value: object, low: int, high: int) -> bool:
    """An int in [low, high]; never a bool, which Python counts as one."""
    return isinstance(value, int) and not isinstance(value, bool) and low <= value <= high


def is_row_id(value: object) -> bool:
    return is_whole_number(value, 1, MAX_ROW_ID)


# Every date the application accepts lies in this range: no input, and so no stored row,
# can overflow a computation (a buffer, a week, a time zone) or make a page fail.
EARLIEST_DATE = datetime(2000, 1, 1, tzinfo=UTC)
LATEST_DATE = datetime(2100, 1, 1, tzinfo=UTC)
OUT_OF_RANGE = Problem("date_out_of_range")


def is_in_date_range(moment: datetime | date) -> bool:
    """An aware moment within the range; a day (typed in a form) within its dates."""
    if isinstance(moment, datetime):
        return EARLIEST_DATE <= moment < LATEST_DATE
    return EARLIEST_DATE.date() <= moment < LATEST_DATE.date()


def date_range_errors(**moments: datetime) -> dict[str, list[Message]]:
    """The fields whose moment lies outside the range, each with the one problem."""
    return {name: [OUT_OF_RANGE] for name, moment in moments.items()
            if not is_in_date_range(moment)}


def check_date_range(**moments: datetime) -> None:
    """Refuse moments outside the range before anything computes with them."""
    errors = date_range_errors(**moments)
    if errors:
        raise InvalidInput(errors)
