"""Quotas: an organisation's fair share, in hours per week and/or per month, of one
resource or of every resource of a kind. The booking engine counts them per organisation.

Quotas are given as a list of plain objects (the JSON API's shape):
`{"resource_id": 3, "max_hours_per_week": 10}` or
`{"resource_kind": "equipment", "max_hours_per_month": 20}`.
"""

from collections.abc import Callable
from typing import Annotated, Any

from flask_babel import gettext as _
from pydantic import ValidationInfo, model_validator
from sqlalchemy import select

from sharing.core.contracts import (
    ID_SCHEMA,
    Contract,
    checked,
    choice,
    nullable,
    number_check,
    number_schema,
    refuse,
    validate,
    with_null,
)
from sharing.core.extensions import db
from sharing.core.validation import InvalidInput, is_row_id
from sharing.models import RESOURCE_KINDS, Organisation, Quota, Resource, User
from sharing.services.permissions import can_see_resource

LIMITS = {"max_hours_per_week": 7 * 24, "max_hours_per_month": 31 * 24}


def find_quotas(organisation: Organisation) -> list[Quota]:
    return list(db.session.scalars(
        select(Quota).where(Quota.organisation_id == organisation.id).order_by(Quota.id)))


def visible_resource(value: Any, info: ValidationInfo) -> Resource:
    resource = db.session.get(Resource, value) if is_row_id(value) else None
    if resource is None or not can_see_resource(info.context["viewer"], resource):
        raise refuse(_("Unknown resource."))
    return resource


def hours(largest: int) -> Any:
    return Annotated[float | None, *checked(nullable(number_check(0, largest)),
                                            with_null(number_schema(0, largest)))]


class QuotaItem(Contract):
    """One quota: exactly one of resource_id and resource_kind; at least one limit.
    A resource the viewer may not see is reported as unknown."""

    resource_id: Annotated[Resource | None, *checked(nullable(visible_resource),
                                                     with_null(ID_SCHEMA))] = None
    resource_kind: choice(RESOURCE_KINDS, optional=True) = None
    max_hours_per_week: hours(LIMITS["max_hours_per_week"]) = None
    max_hours_per_month: hours(LIMITS["max_hours_per_month"]) = None

    @model_validator(mode="after")
    def one_scope_and_a_limit(self) -> "QuotaItem":
        if (self.resource_id is None) == (self.resource_kind is None):
            raise refuse(_("Give either resource_id or resource_kind."))
        if self.max_hours_per_week is None and self.max_hours_per_month is None:
            raise refuse(_("Give max_hours_per_week, max_hours_per_month or both."))
        return self


class QuotaList(Contract):
    quotas: list[QuotaItem]


def parse_quotas(quotas: QuotaList) -> list[Quota]:
    """Unsaved quotas from a checked list; a scope given twice is refused."""
    made = [new_quota(item) for item in quotas.quotas]
    if errors := repeated_scopes(made):
        raise InvalidInput(errors)
    return made


def parse_quota(item: Any, path: str, viewer: User) -> Quota:
    """One quota read from a form's item; errors are named below `path`."""
    try:
        return new_quota(validate(QuotaItem, item, viewer=viewer))
    except InvalidInput as error:
        raise InvalidInput({f"{path}.{name}".removesuffix(".body"): messages
                            for name, messages in error.fields.items()}) from None


def new_quota(item: QuotaItem) -> Quota:
    resource = item.resource_id
    return Quota(resource=resource, resource_id=resource and resource.id,
                 resource_kind=item.resource_kind, max_hours_per_week=item.max_hours_per_week,
                 max_hours_per_month=item.max_hours_per_month)


def repeated_scopes(quotas: list[Quota]) -> dict[str, list[str]]:
    seen = set()
    errors = {}
    for index, quota in enumerate(quotas):
        scope = (quota.resource_id, quota.resource_kind)
        if scope in seen:
            errors[f"quotas[{index}]"] = [_("This resource or kind already has a quota above.")]
        seen.add(scope)
    return errors


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
