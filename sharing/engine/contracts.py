"""The engine's inputs, outputs and refusals, shared by every module that books."""

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sharing.engine.rules import Conflict
from sharing.models import Booking


@dataclass
class BookingRequest:
    resource_id: int
    organisation_id: int
    start: datetime
    end: datetime
    quantity: int = 1
    title: str = ""
    note: str = ""
    recurrence: str | None = None
    skip_conflicts: bool = False
    extra_resource_ids: list[int] = field(default_factory=list)


@dataclass(frozen=True)
class Alternative:
    resource_id: int
    start: datetime
    end: datetime


@dataclass(frozen=True)
class Skipped:
    start: datetime
    end: datetime
    conflicts: list[Conflict]


@dataclass
class BookingResult:
    bookings: list[Booking]
    skipped: list[Skipped] = field(default_factory=list)


class BookingRefused(Exception):
    """The request conflicts: every reason, and where else or when it could be booked."""

    def __init__(self, conflicts: list[Conflict], alternatives: list[Alternative] | None = None,
                 clashing: list[Skipped] | None = None, occurrences: int = 1):
        super().__init__(", ".join(sorted({c.code for c in conflicts})))
        self.conflicts = conflicts
        self.alternatives = alternatives or []
        # a series: its dates that clash, each with its reasons, out of how many
        self.clashing = clashing or []
        self.occurrences = occurrences


class NotAllowed(Exception):
    """The user may not make this change (the caller answers 403)."""


class InvalidTransition(Exception):
    """The booking is not in a state that allows this change (e.g. already cancelled):
    a code and the values its wording needs, like a `Conflict`."""

    def __init__(self, code: str, **params: Any):
        super().__init__(code)
        self.code, self.params = code, params


@dataclass(frozen=True)
class BookingChanges:
    """What a move changes; None keeps the booking's own value."""

    start: datetime | None = None
    end: datetime | None = None
    quantity: int | None = None
    title: str | None = None
    note: str | None = None
    resource_id: int | None = None
