"""Long lists shown a page at a time (my bookings, approvals, the administration lists):
no list stops at a fixed count."""

from dataclasses import dataclass

from sharing.core.extensions import db

# Rows a page shows, unless a list says otherwise.
PAGE_SIZE = 200


@dataclass(frozen=True)
class Page:
    """One page of a long list: its rows, its number (from 1) and whether more follow."""

    rows: list
    number: int
    has_next: bool


def page_of(query, number: int, size: int = PAGE_SIZE) -> Page:
    """Rows of page `number`: one more than shown is read to know whether another follows."""
    rows = list(db.session.scalars(query.limit(size + 1).offset((number - 1) * size)))
    return Page(rows[:size], number, len(rows) > size)
