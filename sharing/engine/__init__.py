"""The booking engine: availability, conflicts, capacity, recurrence, alternatives, quotas.

No Flask request object inside: the web pages, the JSON API and the command line call it
alike. Its public face is this module.
"""

from sharing.engine.approvals import Approvals, approve_fitting, find_misfits
from sharing.engine.availability import Availability, find_free_resources, get_availability
from sharing.engine.booking import book, cancel, check, decide
from sharing.engine.contracts import (
    Alternative,
    BookingChanges,
    BookingRefused,
    BookingRequest,
    BookingResult,
    InvalidTransition,
    NotAllowed,
    Skipped,
)
from sharing.engine.moving import expire_past_requests, move
from sharing.engine.rules import CODES, Conflict

__all__ = [
    "CODES", "Alternative", "Approvals", "Availability", "BookingChanges", "BookingRefused",
    "BookingRequest", "BookingResult", "Conflict", "InvalidTransition", "NotAllowed", "Skipped",
    "approve_fitting", "book", "cancel", "check", "decide", "expire_past_requests",
    "find_free_resources", "find_misfits", "get_availability", "move",
]
