"""Quotas: an organisation's fair share, in hours per week and/or per month, of one
resource or of every resource of a kind. The booking engine counts them per organisation.

Quotas are given as a list of plain objects (the JSON API's shape):
`{"resource_id": 3, "max_hours_per_week": 10}` or
`{"resource_kind": "equipment", "max_hours_per_month": 20}`.
"""

from collections.abc import Callable
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import select

from sharing.core.extensions import db
from sharing.core.validation import InvalidInput, is_row_id
from sharing.models import RESOURCE_KINDS, Organisation, Quota, Resource, User
from sharing.services.permissions import can_see_resource

LIMITS = {"max_hours_per_week": 7 * 24, "max_hours_per_month": 31 * 24}
SCOPES = ("resource_id", "resource_kind")
FIELDS = (*SCOPES, *LIMITS)


def find_quotas(organisation: Organisation) -> list[Quota]:
    return list(db.session.scalars(
        select(Quota).where(Quota.organisation_id == organisation.id).order_by(Quota.id)))


def parse_quotas(items: Any, viewer: User) -> list[Quota]:
    """Unsaved quotas read from a list; errors are named by path (`quotas[1].resource_id`).

    A resource the viewer may not see is reported as unknown.
    """
    if not isinstance(items, list):
        raise InvalidInput(quotas=_("Give a list of quotas."))
    errors: dict[str, list[str]] = {}
    quotas = []
    for index, item in enumerate(items):
        try:
            quotas.append(parse_quota(item, f"quotas[{index}]", viewer))
        except InvalidInput as error:
            errors.update(error.fields)
    if not errors:
        errors = repeated_scopes(quotas)
    if errors:
        raise InvalidInput(errors)
    return quotas


def parse_quota(item: Any, path: str, viewer: User) -> Quota:
    if not isinstance(item, dict):
        raise InvalidInput({path: [_("Give an object.")]})
    errors = {f"{path}.{name}": [_("Unknown field.")] for name in item if name not in FIELDS}
    given = {name: item[name] for name in FIELDS if item.get(name) is not None}
    checks = [(name, CHECKS[name]) for name in FIELDS if name in given]
    if len([name for name in SCOPES if name in given]) != 1:
        errors[path] = [_("Give either resource_id or resource_kind.")]
    elif not any(name in given for name in LIMITS):
        errors[path] = [_("Give max_hours_per_week, max_hours_per_month or both.")]
    values = {}
    for name, check in checks:
        try:
            values[name] = check(given[name], viewer)
        except ValueError as error:
            errors[f"{path}.{name}"] = [str(error)]
    if errors:
        raise InvalidInput(errors)
    resource = values.pop("resource_id", None)
    return Quota(resource=resource, resource_id=resource and resource.id, **values)


def repeated_scopes(quotas: list[Quota]) -> dict[str, list[str]]:
    seen = set()
    errors = {}
    for index, quota in enumerate(quotas):
        scope = (quota.resource_id, quota.resource_kind)
        if scope in seen:
            errors[f"quotas[{index}]"] = [_("This resource or kind already has a quota above.")]
        seen.add(scope)
    return errors


def check_resource(value: Any, viewer: User) -> Resource:
    resource = db.session.get(Resource, value) if is_row_id(value) else None
    if resource is None or not can_see_resource(viewer, resource):
        raise ValueError(_("Unknown resource."))
    return resource


def check_kind(value: Any, _viewer: User) -> str:
    if not isinstance(value, str) or value not in RESOURCE_KINDS:
        raise ValueError(_("Choose one of %(kinds)s.", kinds=", ".join(RESOURCE_KINDS)))
    return value


def hours(largest: int) -> Callable[[Any, User], float]:
    def check(value: Any, _viewer: User) -> float:
        if isinstance(value, bool) or not isinstance(value, int | float) or not (
                0 <= value <= largest):
            raise ValueError(_("Enter a number of hours between 0 and %(n)s.", n=largest))
        return float(value)

    return check


CHECKS = {"resource_id": check_resource, "resource_kind": check_kind,
          **{name: hours(largest) for name, largest in LIMITS.items()}}


def replace_quotas(organisation: Organisation, quotas: list[Quota],
                   replaceable: Callable[[Quota], bool]) -> list[Quota]:
    """Put `quotas` in place of the organisation's quotas that `replaceable` selects
    (those the acting user may set); the others stay. The caller commits."""
    for old in find_quotas(organisation):
        if replaceable(old):
            db.session.delete(old)
    for quota in quotas:
        quota.organisation_id = organisation.id
        db.session.add(quota)
    return quotas
