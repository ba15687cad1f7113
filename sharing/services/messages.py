"""The engine's codes worded in the reader's language: why a booking is refused (a
`Conflict`), what is wrong with an input (a `Problem`), why a change is not possible (an
`InvalidTransition`). The API, the pages, the command line (and later the mails and the
feeds) all word them here, when they show them.
"""

from collections.abc import Callable, Mapping
from typing import Any, Protocol

from flask_babel import format_decimal
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from sharing.core.validation import InvalidInput, Message

TEXTS = {
    # conflicts: the API's `code`, and the variants some of them word differently
    "invalid_interval": _l("The end must come after the start."),
    "nonexistent_local_time": _l("%(time)s does not exist on that day: the clocks go forward."),
    "too_short": _l("Book at least %(duration)s."),
    "too_long": _l("Book at most %(duration)s."),
    "misaligned": _l("Start and end must fall on a grid of %(duration)s."),
    "too_soon": _l("Book at least %(duration)s ahead."),
    "passed": _l("This time has passed."),
    "too_far": _l("Book at most %(n)s days ahead."),
    "outside_opening_hours": _l("This is outside the opening hours."),
    "closed": _l("Closed."),
    "units": _l("Only %(n)s unit(s) can be booked."),
    "own_booking": _l("Already booked by your organisation: %(title)s"),
    "busy": _l("Busy."),
    # one sentence per period and per status: a word spliced into a sentence does not
    # agree with it in French
    "quota_week": _l("This would bring your organisation to %(total)s h this week; "
                     "its share is %(limit)s h."),
    "quota_month": _l("This would bring your organisation to %(total)s h this month; "
                      "its share is %(limit)s h."),
    "not_allowed": _l("You cannot book this resource for this organisation."),
    "external_busy": _l("Busy in the resource's own calendar."),
    # problems with an input
    "date_out_of_range": _l("Give a date from 2000-01-01 to 2099-12-31."),
    "window_too_long": _l("Ask for at most %(n)s days at a time."),
    "whole_units": _l("Enter a whole number of units, at least 1."),
    "too_many_characters": _l("Use at most %(n)s characters."),
    "offset_required": _l("Give a date and time with its offset or Z."),
    "unknown_organisation": _l("Unknown organisation."),
    "repeated_resource": _l("Each resource may appear once."),
    "unknown_resource": _l("Unknown resource."),
    "not_similar": _l("Choose a resource of the same kind and site as the one booked."),
    "reason_required": _l("Say why the request is rejected."),
    "unknown_scope": _l("Choose one or following."),
    "opening_ranges": _l("%(day)s: give ranges as HH:MM-HH:MM, each ending after it starts, "
                         "without overlap."),
    "opening_weekdays": _l("Use the weekdays %(days)s as keys."),
    "whole_number_between": _l("Enter a whole number between %(low)s and %(high)s."),
    "longest_below_shortest": _l("The longest booking cannot be shorter than the shortest."),
    "rule_missing": _l("Give a rule such as FREQ=WEEKLY;BYDAY=TU;COUNT=10."),
    "rule_syntax": _l("Write the rule as NAME=VALUE pairs separated by semicolons."),
    "rule_parts": _l("Only FREQ, INTERVAL, BYDAY, COUNT and UNTIL are supported."),
    "rule_number": _l("%(name)s must be a whole number from %(low)s to %(high)s."),
    "rule_until": _l("UNTIL must be a date such as 20270630 or 20270630T170000Z."),
    "rule_byday": _l("BYDAY takes days such as MO,TU (or 1MO, -1FR when monthly)."),
    "rule_frequency": _l("FREQ must be DAILY, WEEKLY or MONTHLY."),
    "rule_count_or_until": _l("Give either COUNT or UNTIL."),
    "rule_too_long": _l("A series may span at most two years and %(n)s occurrences."),
    "rule_empty": _l("This rule gives no occurrence."),
    # transitions refused
    "already_decided": _l("This booking is already decided."),
    "already_confirmed": _l("This booking is already confirmed."),
    "already_cancelled": _l("This booking is already cancelled."),
    "already_rejected": _l("This booking is already rejected."),
    "not_pending": _l("Only a pending request can be decided."),
    "expired": _l("This request expired: its start passed before anyone decided it."),
    "over": _l("This booking is over: it can no longer be changed."),
    "changed_meanwhile": _l("This booking changed meanwhile: look at it again and retry."),
    "credit": _l("This costs %(price)s credits; your organisation's balance is %(balance)s "
                 "and may not go below %(floor)s."),
}


class Coded(Protocol):
    code: str
    params: Mapping[str, Any]


def worded(code: str, params: Mapping[str, Any]) -> str:
    text = str(TEXTS[code])
    return text % params if params else text


def format_duration(minutes: int) -> str:
    """A duration as people write it: 480 → "8 h", 90 → "1 h 30", 45 → "45 min"."""
    hours, rest = divmod(minutes, 60)
    if not hours:
        return _("%(minutes)d min", minutes=rest)
    if not rest:
        return _("%(hours)d h", hours=hours)
    return _("%(hours)d h %(minutes)02d", hours=hours, minutes=rest)


def in_duration(code: str) -> Callable[[Mapping[str, Any]], str]:
    """The wording of a conflict whose `n` is a number of minutes."""
    return lambda params: worded(code, {**params, "duration": format_duration(params["n"])})


def closed(params: Mapping[str, Any]) -> str:
    """The reason its owner gave, as they wrote it."""
    return params.get("reason") or worded("closed", {})


def too_soon(params: Mapping[str, Any]) -> str:
    return in_duration("too_soon")(params) if params["n"] else worded("passed", params)


def capacity(params: Mapping[str, Any]) -> str:
    """Too many units, or one booking in the way: named only for its own organisation
    (the engine gives the title only then)."""
    if "n" in params:
        return worded("units", params)
    return worded("own_booking" if "title" in params else "busy", params)


def quota(params: Mapping[str, Any]) -> str:
    return worded(f"quota_{params['period']}", params)


def already_decided(params: Mapping[str, Any]) -> str:
    code = f"already_{params['status']}"
    return worded(code if code in TEXTS else "already_decided", {})


def format_credits(cents: int) -> str:
    """An amount of credits (stored in hundredths) as the reader writes numbers."""
    return format_decimal(cents / 100, format="#,##0.##")


def credit(params: Mapping[str, Any]) -> str:
    return worded("credit", {name: format_credits(params[name])
                             for name in ("price", "balance", "floor")})


VARIANTS: dict[str, Callable[[Mapping[str, Any]], str]] = {
    "closed": closed, "too_soon": too_soon, "capacity": capacity, "quota": quota,
    "credit": credit, "already_decided": already_decided,
    **{code: in_duration(code) for code in ("too_short", "too_long", "misaligned")}}


def describe(reason: Coded) -> str:
    """A conflict, a problem or a refused transition, in the reader's language."""
    variant = VARIANTS.get(reason.code)
    return variant(reason.params) if variant else worded(reason.code, reason.params)


def describe_message(message: Message) -> str:
    return message if isinstance(message, str) else describe(message)


def describe_fields(error: InvalidInput) -> dict[str, list[str]]:
    """Each field's messages, worded."""
    return {name: [describe_message(m) for m in messages]
            for name, messages in error.fields.items()}
