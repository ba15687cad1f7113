"""Long lists shown a page at a time: the administration lists stop at no fixed count."""

from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from sqlalchemy import Select, func, select

from sharing.core.extensions import db

T = TypeVar("T")
PAGE_SIZE = 200
# Beyond this a page number is surely made up; capping it keeps the OFFSET bounded.
LAST_PAGE = 100_000


@dataclass
class Page(Generic[T]):
    rows: list[T]
    number: int
    total: int
    size: int = PAGE_SIZE

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.size))

    @property
    def has_previous(self) -> bool:
        return self.number > 1

    @property
    def has_next(self) -> bool:
        return self.number < self.pages


def requested_page(value: Any) -> int:
    """The page a query string asks for; anything that is not a page number is the first."""
    number = value if isinstance(value, int) else 1
    return min(max(number, 1), LAST_PAGE)


def get_page(query: Select, number: int, size: int = PAGE_SIZE) -> Page:
    """One page of an ordered query, and how many rows the whole query has."""
    total = db.session.scalar(select(func.count()).select_from(query.order_by(None).subquery()))
    rows = db.session.scalars(query.limit(size).offset((number - 1) * size))
    return Page(list(rows), number, total or 0, size)
