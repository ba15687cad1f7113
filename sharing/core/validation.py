"""The one error that services raise for bad input: field name → messages.

Forms show the messages beside the fields, the API answers 422 with them, the command
line prints them. Raised before anything is written, so bad input changes nothing.
"""

from datetime import UTC, datetime


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


def is_in_date_range(moment: datetime) -> bool:
    return EARLIEST_DATE <= moment < LATEST_DATE
