"""The one error that services raise for bad input: field name → messages.

Forms show the messages beside the fields, the API answers 422 with them, the command
line prints them. Raised before anything is written, so bad input changes nothing.
"""

from datetime import UTC, date, datetime

from flask_babel import lazy_gettext as _l


class InvalidInput(Exception):
    def __init__(self, fields: dict[str, list[str]] | None = None, **messages: str):
        self.fields = dict(fields or {})
        for name, message in messages.items():
            self.fields.setdefault(name, []).append(message)
        super().__init__("; ".join(f"{k}: {' '.join(v)}" for k, v in self.fields.items()))

    def __str__(self) -> str:
        return self.args[0]


# Row ids are 32-bit integers on PostgreSQL, and SQLite cannot even bind a Python int
# beyond 64 bits: look up only ids that can exist, the others name no row.
MAX_ROW_ID = 2**31 - 1


def is_row_id(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and 0 < value <= MAX_ROW_ID


# Every date the application accepts lies in this range: no input, and so no stored row,
# can overflow a computation (a buffer, a week, a time zone) or make a page fail.
EARLIEST_DATE = datetime(2000, 1, 1, tzinfo=UTC)
LATEST_DATE = datetime(2100, 1, 1, tzinfo=UTC)


DATE_RANGE_MESSAGE = _l("Give a date from 2000-01-01 to 2099-12-31.")


def is_in_date_range(moment: datetime | date) -> bool:
    """An aware moment within the range; a day (typed in a form) within its dates."""
    if isinstance(moment, datetime):
        return EARLIEST_DATE <= moment < LATEST_DATE
    return EARLIEST_DATE.date() <= moment < LATEST_DATE.date()


def date_range_errors(**moments: datetime) -> dict[str, list[str]]:
    """The fields whose moment lies outside the range, each with the one message."""
    return {name: [str(DATE_RANGE_MESSAGE)] for name, moment in moments.items()
            if not is_in_date_range(moment)}


def check_date_range(**moments: datetime) -> None:
    """Refuse moments outside the range before anything computes with them."""
    errors = date_range_errors(**moments)
    if errors:
        raise InvalidInput(errors)
