"""The catalogue of shared resources: find, publish, edit, deactivate.

Rooms, equipment, staff time and expertise are one `Resource`; what differs between the
kinds (their extra fields and filters) is described once in `KINDS` and used by these
services, the forms, the pages and the JSON API alike.
"""

import re
import unicodedata
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, time
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from pydantic import ValidationInfo, create_model
from sqlalchemy import Select, exists, or_, select
from sqlalchemy.orm import joinedload, selectinload

from sharing.core.contracts import (
    ID_SCHEMA,
    NO_NUL,
    Contract,
    Flag,
    RowId,
    checked,
    choice,
    refuse,
    row_id,
    text,
    validate,
    whole_number,
    with_null,
)
from sharing.core.database import any_contains, named_rows
from sharing.core.extensions import db
from sharing.core.validation import LARGEST_COUNT, InvalidInput, is_row_id
from sharing.engine.availability import find_free_resources
from sharing.engine.policy import (
    CLOCK,
    NUMERIC_RULES,
    WEEKDAYS,
    has_opening_hours,
    validate_opening_hours,
    validate_policy,
)
from sharing.engine.times import localize, zone
from sharing.models import (
    DELIVERY_MODES,
    PRICE_UNITS,
    VISIBILITIES,
    Membership,
    Organisation,
    Resource,
    ResourceTag,
    Site,
    User,
)
from sharing.services.credits import Price
from sharing.services.paging import Page, page_of
from sharing.services.permissions import visible_resources_clause

SLUG = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
SLUG_MAX_LENGTH = 80
# Path segments the catalogue pages use after the kind's prefix.
RESERVED_SLUGS = frozenset({"new"})
TAG_MAX_LENGTH = 40
# The most characters each text of a resource may have (forms give them as `maxlength`).
TEXT_MAX_LENGTHS = {"name": 200, "slug": SLUG_MAX_LENGTH, "description": 5000,
                    "pickup_place": 200, "licence_required": 60, "topic": 200}

DELIVERY_MODE_LABELS = {
    "on_site": _l("On site"),
    "remote": _l("Remote"),
    "both": _l("On site or remote"),
}


@dataclass(frozen=True)
class Kind:
    """What makes one kind of resource different from the others."""

    name: str  # the value of `Resource.kind`
    blueprint: str  # also the URL prefix
    title: Any  # the catalogue's heading
    new_label: Any  # the heading of the creation page
    fields: tuple[str, ...]  # kind-specific fields, in the order forms and pages show them
    filters: tuple[str, ...]  # filters beyond site, tag and text
    required: tuple[str, ...] = ()  # kind-specific fields that must be given on creation


KINDS: dict[str, Kind] = {
    kind.name: kind for kind in (
        Kind("room", "rooms", _l("Premises"), _l("New premises"),
             ("capacity", "surface_m2", "accessible"), ("min_capacity",)),
        Kind("equipment", "equipment", _l("Equipment"), _l("New equipment"),
             ("pickup_place", "licence_required"), ("min_quantity",)),
        Kind("staff", "staff", _l("Staff time"), _l("New shared staff time"),
             ("person_id", "weekly_hours"), (), required=("person_id",)),
        Kind("expertise", "expertise", _l("Expertise"), _l("New expertise offer"),
             ("person_id", "topic", "delivery_mode", "session_minutes", "weekly_hours"),
             ("topic", "delivery_mode"), required=("person_id",)),
    )
}
KIND_BY_BLUEPRINT = {kind.blueprint: kind for kind in KINDS.values()}

FIELD_LABELS = {
    "name": _l("Name"),
    "slug": _l("Web address"),
    "description": _l("Description"),
    "site_id": _l("Site"),
    "quantity": _l("Units bookable at once"),
    "tags": _l("Tags"),
    "visibility": _l("Visible to"),
    "visible_to": _l("Organisations allowed"),
    "requires_approval": _l("Bookings need approval"),
    "public_busy_feed": _l("Publish its busy times in a public calendar feed"),
    "opening_hours": _l("Opening hours"),
    "min_duration_minutes": _l("Shortest booking (minutes)"),
    "max_duration_minutes": _l("Longest booking (minutes)"),
    "slot_minutes": _l("Time grid (minutes)"),
    "buffer_minutes": _l("Changeover after each booking (minutes)"),
    "min_notice_minutes": _l("Notice needed (minutes)"),
    "max_advance_days": _l("Bookable up to (days ahead)"),
    "capacity": _l("Capacity (people)"),
    "surface_m2": _l("Surface (m²)"),
    "accessible": _l("Accessible to people with reduced mobility"),
    "pickup_place": _l("Pickup place"),
    "licence_required": _l("Licence required"),
    "person_id": _l("Person"),
    "weekly_hours": _l("Hours shared per week"),
    "topic": _l("Topic"),
    "delivery_mode": _l("Delivery"),
    "session_minutes": _l("Session length (minutes)"),
    "price": _l("Price in credits"),
    "price_unit": _l("Price per"),
    "free_cancellation_minutes": _l("Free cancellation until (minutes before the start)"),
}
WEEKDAY_LABELS = dict(zip(WEEKDAYS, (
    _l("Monday"), _l("Tuesday"), _l("Wednesday"), _l("Thursday"), _l("Friday"),
    _l("Saturday"), _l("Sunday")), strict=True))
# The booking rules, checked together since min and max are compared.
RULE_FIELDS = (*NUMERIC_RULES, "opening_hours")
KIND_FIELDS = {field for kind in KINDS.values() for field in kind.fields}
# Data keys whose model attribute has another name.
ATTRIBUTES = {"visible_to": "visible_to_ids"}


# --- finding --------------------------------------------------------------------------

def get_resource(resource_id: int) -> Resource | None:
    return db.session.get(Resource, resource_id) if is_row_id(resource_id) else None


def find_resource_by_slug(slug: str) -> Resource | None:
    if not is_slug(slug):
        return None  # not even worth asking the database (which may refuse the text)
    return db.session.scalar(select(Resource).where(Resource.slug == slug))


def is_slug(value: Any) -> bool:
    return isinstance(value, str) and len(value) <= SLUG_MAX_LENGTH and bool(SLUG.match(value))


SHOWN_ON_A_CARD = (joinedload(Resource.owner), joinedload(Resource.site),
                   joinedload(Resource.person), selectinload(Resource.tag_links))


def find_resources(user: User | None, **filters: Any) -> list[Resource]:
    """The resources this user may see that match every filter given (`resources_query`),
    by name, with what a catalogue card shows: the same few queries for any number."""
    return list(db.session.scalars(resources_query(user, **filters).options(*SHOWN_ON_A_CARD)))


def find_resource_rows(user: User | None, columns: tuple, **filters: Any) -> list[tuple]:
    """As `find_resources`, but named tuples of these columns (of the resource and of its
    site): a read-only page of a thousand resources builds no entity."""
    return list(named_rows(db.session.execute(
        resources_query(user, **filters).with_only_columns(*columns).join(Resource.site))))


def resources_query(user: User | None, kind: str | None = None, site_id: int | None = None,
                    tag: str | None = None, text: str | None = None,
                    min_capacity: int | None = None, min_quantity: int | None = None,
                    include_inactive: bool = False, topic: str | None = None,
                    delivery_mode: str | None = None) -> Select:
    """The resources this user may see that match every filter given, by name."""
    query = (select(Resource).where(visible_resources_clause(user))
             .order_by(Resource.name, Resource.id))
    tag, text, topic = (searchable(words or "") for words in (tag, text, topic))
    # Built only for the filters given: SQL cannot compare with None.
    filters = [
        (kind, lambda: Resource.kind == kind),
        (site_id, lambda: Resource.site_id == site_id),
        (tag, lambda: has_tag(normalise_tag(tag))),
        (text, lambda: mentions(text)),
        (min_capacity, lambda: Resource.capacity >= min_capacity),
        (min_quantity, lambda: Resource.quantity >= min_quantity),
        (topic, lambda: any_contains(topic, Resource.topic)),
        (delivery_mode, lambda: Resource.delivery_mode.in_(modes_serving(delivery_mode))),
    ]
    query = query.where(*(condition() for value, condition in filters
                          if value is not None and value != ""))
    return query if include_inactive else query.where(Resource.active)


def find_free(user: User | None, start: datetime, end: datetime, quantity: int = 1,
              **filters: Any) -> list[Resource]:
    """The resources `find_resources` gives whose own rules accept booking [start, end)
    with `quantity` units now: the engine's free search, for the API and the pages."""
    return find_free_resources(find_resources(user, **filters), start, end, quantity=quantity)


def find_free_on(user: User | None, day: date, start: time, end: time, quantity: int = 1,
                 **filters: Any) -> list[Resource]:
    """The same, the times read on each resource's site clock (as the booking form does),
    by name."""
    by_zone: dict[str, list[Resource]] = defaultdict(list)
    for resource in find_resources(user, **filters):
        by_zone[resource.timezone].append(resource)
    free = [resource for timezone, resources in by_zone.items()
            for resource in find_free_resources(
                resources, *wall_interval(day, start, end, zone(timezone)), quantity=quantity)]
    return sorted(free, key=lambda resource: (resource.name, resource.id))


def wall_interval(day: date, start: time, end: time, tz: ZoneInfo) -> tuple[datetime, datetime]:
    return localize(datetime.combine(day, start), tz), localize(datetime.combine(day, end), tz)


def searchable(text: str) -> str:
    """What is worth searching for: PostgreSQL refuses NUL characters in text."""
    return text.replace("\x00", "").strip()


def has_tag(tag: str):
    return exists().where(ResourceTag.resource_id == Resource.id, ResourceTag.tag == tag)


def mentions(text: str):
    return any_contains(text, Resource.name, Resource.description, Resource.topic)


def modes_serving(delivery_mode: str) -> tuple[str, ...]:
    """An offer given "on site or remote" serves whoever asks for either."""
    return (delivery_mode,) if delivery_mode == "both" else (delivery_mode, "both")


def find_active_organisations() -> list[Organisation]:
    return list(db.session.scalars(
        select(Organisation).where(Organisation.active).order_by(Organisation.name)))


def find_members(organisations: list[Organisation]) -> list[User]:
    """The active people of these organisations: whose time a resource may share."""
    return list(db.session.scalars(
        select(User).join(Membership)
        .where(Membership.organisation_id.in_([o.id for o in organisations]), User.active)
        .distinct().order_by(User.display_name, User.id)))


# --- publishing -----------------------------------------------------------------------

def create_resource(owner: Organisation, kind: str, data: dict) -> Resource:
    """Validate `data` (JSON API field names) and add a new resource to the session."""
    if not isinstance(kind, str) or kind not in KINDS:
        raise InvalidInput(kind=_("Choose one of %(kinds)s.", kinds=", ".join(KINDS)))
    # The owner is linked only once the data is valid: a half-built resource must not
    # reach the session through the organisation's collection.
    resource = Resource(kind=kind, owner_organisation_id=owner.id, quantity=1, visibility="all",
                        opening_hours={}, min_duration_minutes=0, slot_minutes=15,
                        buffer_minutes=0, min_notice_minutes=0, requires_approval=False,
                        delivery_mode="on_site" if kind == "expertise" else None)
    cleaned = clean(resource, {**data, "kind": kind, "owner_organisation_id": owner.id},
                    NEW_RESOURCE[kind])
    del cleaned["kind"], cleaned["owner_organisation_id"]
    cleaned.setdefault("slug", unique_slug(cleaned["name"], kind))
    apply(resource, cleaned)
    resource.owner = owner
    db.session.add(resource)
    return resource


def update_resource(resource: Resource, data: dict) -> Resource:
    """Validate `data` (only the fields to change) and apply it; the caller commits."""
    apply(resource, clean(resource, data, ResourceChanges))
    return resource


def deactivate_resource(resource: Resource) -> Resource:
    """Withdraw from the catalogue; never deleted, since bookings point at it."""
    resource.active = False
    return resource


def reactivate_resource(resource: Resource) -> Resource:
    resource.active = True
    return resource


def apply(resource: Resource, cleaned: dict) -> None:
    for name, value in cleaned.items():
        setattr(resource, ATTRIBUTES.get(name, name), value)


def clean(resource: Resource, data: dict, contract: type[Contract]) -> dict:
    """Every field checked by `contract`, every error collected, before anything changes."""
    if not isinstance(data, dict):
        raise InvalidInput(data=_("Send an object of fields."))
    errors = {name: [_("This field does not apply to this kind of resource.")]
              for name in data if name in KIND_FIELDS and name not in KINDS[resource.kind].fields}
    cleaned = {}
    try:
        given = validate(contract, without(data, errors), resource=resource)
        cleaned = {name: getattr(given, name) for name in given.model_fields_set}
    except InvalidInput as error:
        errors.update(error.fields)
    # The rules are compared even when another field is wrong: every error at once.
    rules = {name: data[name] for name in RULE_FIELDS if name in data and name not in errors}
    try:
        cleaned.update(clean_policy(resource, {**rules, **cleaned}))
    except InvalidInput as error:
        for name, messages in error.fields.items():
            errors.setdefault(name, []).extend(messages)
    if errors:
        raise InvalidInput(errors)
    return cleaned


def without(data: dict, names: dict) -> dict:
    return {name: value for name, value in data.items() if name not in names}


def clean_policy(resource: Resource, cleaned: dict) -> dict:
    """Min and max compared, opening hours normalised: the engine's rules, on the result."""
    given = {name: cleaned[name] for name in RULE_FIELDS if name in cleaned}
    if not given:
        return {}
    current = {name: getattr(resource, name) for name in RULE_FIELDS}
    checked = validate_policy({**current, **given})
    return {name: checked[name] for name in given}


# --- the resource contract: each field's check, for the forms and the JSON API --------------

def resource_of(info: ValidationInfo) -> Resource:
    return info.context["resource"]


def known_site(value: Any) -> int:
    if db.session.get(Site, row_id(value)) is None:
        raise refuse(_("Unknown site."))
    return value


def owner_member(value: Any, info: ValidationInfo) -> int:
    resource = resource_of(info)
    person = db.session.get(User, row_id(value))
    if person is None or not person.active or not any(
            m.organisation_id == resource.owner_organisation_id for m in person.memberships):
        raise refuse(_("Choose an active member of the owning organisation."))
    return value


def known_organisations(value: Any) -> list[int]:
    if not isinstance(value, list):
        raise refuse(_("Give a list of organisation identifiers."))
    ids = list(dict.fromkeys(row_id(item) for item in value))
    known = set(db.session.scalars(select(Organisation.id).where(Organisation.id.in_(ids))))
    if unknown := [str(i) for i in ids if i not in known]:
        raise refuse(_("Unknown organisations: %(ids)s.", ids=", ".join(unknown)))
    return ids


def normalise_tag(tag: str) -> str:
    return " ".join(tag.split()).lower()


def tag_list(value: Any) -> list[str]:
    if not isinstance(value, list) or not all(
            isinstance(tag, str) and "\x00" not in tag for tag in value):
        raise refuse(_("Give a list of words."))
    if any(len(tag) > TAG_MAX_LENGTH for tag in value):
        raise refuse(_("A tag has at most %(count)s characters.", count=TAG_MAX_LENGTH))
    return list(dict.fromkeys(t for t in map(normalise_tag, value) if t))


def free_slug(value: Any, info: ValidationInfo) -> str:
    if not is_slug(value):
        raise refuse(_("Use lower-case letters, digits and hyphens only."))
    taken = find_resource_by_slug(value)
    if value in RESERVED_SLUGS or (taken is not None and taken is not resource_of(info)):
        raise refuse(_("This web address is already taken."))
    return value


def opening_hours(value: Any) -> dict[str, list[list[str]]]:
    try:
        return validate_opening_hours(value)
    except InvalidInput as error:
        raise refuse(error.fields["opening_hours"][0]) from None


def rule(name: str) -> Any:
    low, high, optional = NUMERIC_RULES[name]
    return whole_number(low, high, optional=optional)


Count = whole_number(1, LARGEST_COUNT, optional=True)
CLOCK_SCHEMA = {"type": "string", "pattern": CLOCK.pattern}
OPENING_HOURS_SCHEMA = {
    "type": "object", "additionalProperties": False,
    "description": "Local-time ranges per weekday; none at all means bookable at any time.",
    "properties": {day: {"type": "array", "items": {
        "type": "array", "prefixItems": [CLOCK_SCHEMA, CLOCK_SCHEMA], "items": False,
        "minItems": 2}} for day in WEEKDAYS}}

# Every field a resource's owner may give, and its check. A kind's fields are listed in
# `KINDS`; the contracts below are built from this one table.
RESOURCE_FIELD_TYPES: dict[str, Any] = {
    "name": text(TEXT_MAX_LENGTHS["name"], required=True),
    "slug": Annotated[str, *checked(free_slug, {"type": "string", "maxLength": SLUG_MAX_LENGTH,
                                                "pattern": SLUG.pattern})],
    "description": text(TEXT_MAX_LENGTHS["description"], optional=True),
    "site_id": Annotated[int, *checked(known_site, ID_SCHEMA)],
    "quantity": whole_number(1, LARGEST_COUNT),
    "tags": Annotated[list[str], *checked(tag_list, {"type": "array", "items": {
        "type": "string", "maxLength": TAG_MAX_LENGTH, "pattern": NO_NUL}})],
    "visibility": choice(VISIBILITIES),
    "visible_to": Annotated[list[int], *checked(known_organisations, {
        "type": "array", "items": ID_SCHEMA,
        "description": "Organisations that see a `listed` resource."})],
    "requires_approval": Flag,
    "public_busy_feed": Flag,
    "opening_hours": Annotated[dict, *checked(opening_hours, with_null(OPENING_HOURS_SCHEMA))],
    **{name: rule(name) for name in NUMERIC_RULES},
    "capacity": Count,
    "surface_m2": Count,
    "accessible": Flag,
    "pickup_place": text(TEXT_MAX_LENGTHS["pickup_place"], optional=True),
    "licence_required": text(TEXT_MAX_LENGTHS["licence_required"], optional=True),
    "person_id": Annotated[int, *checked(owner_member, {
        **ID_SCHEMA, "description": "the person (a user) whose time is shared"})],
    "weekly_hours": whole_number(1, 7 * 24, optional=True),
    "topic": text(TEXT_MAX_LENGTHS["topic"], optional=True),
    "delivery_mode": choice(DELIVERY_MODES),
    "session_minutes": whole_number(1, 24 * 60, optional=True),
    "price": Price,
    "price_unit": choice(PRICE_UNITS),
    "free_cancellation_minutes": whole_number(0, 366 * 24 * 60),
}
COMMON_FIELDS = tuple(name for name in RESOURCE_FIELD_TYPES if name not in KIND_FIELDS)
REQUIRED_FIELDS = ("name", "site_id")


def changes_contract(name: str, fields: tuple[str, ...]) -> type[Contract]:
    """Any of `fields`, none required: what editing may send."""
    return create_model(name, __base__=Contract, **{
        field: (RESOURCE_FIELD_TYPES[field], None) for field in fields})


def creation_contract(kind: Kind) -> type[Contract]:
    """What publishing a resource of `kind` sends, its required fields marked so."""
    required = (*REQUIRED_FIELDS, *kind.required)
    return create_model(
        f"New{kind.name.capitalize()}", __base__=Contract,
        kind=(Literal[kind.name], ...), owner_organisation_id=(RowId, ...),
        **{field: (RESOURCE_FIELD_TYPES[field], ... if field in required else None)
           for field in (*COMMON_FIELDS, *kind.fields)})


ResourceChanges = changes_contract("ResourceChanges", tuple(RESOURCE_FIELD_TYPES))
NEW_RESOURCE = {name: creation_contract(kind) for name, kind in KINDS.items()}


def slugify(name: str) -> str:
    """"Salle des Tilleuls" → "salle-des-tilleuls": accents dropped, words hyphenated."""
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    words = re.findall(r"[a-z0-9]+", ascii_name.lower())
    return "-".join(words)[:SLUG_MAX_LENGTH - 6].strip("-")


def unique_slug(name: str, kind: str) -> str:
    base = slugify(name) or kind
    taken = set(db.session.scalars(select(Resource.slug).where(
        or_(Resource.slug == base, Resource.slug.startswith(base + "-", autoescape=True)))))
    taken |= RESERVED_SLUGS
    candidate, number = base, 1
    while candidate in taken:
        number += 1
        candidate = f"{base}-{number}"
    return candidate


def opening_hours_table(resource: Resource) -> list[tuple[str, list[list[str]]]]:
    """Monday first; an empty list is a closed day. Empty table: bookable at any time."""
    if not has_opening_hours(resource.opening_hours):
        return []
    return [(str(WEEKDAY_LABELS[day]), resource.opening_hours.get(day, [])) for day in WEEKDAYS]


def get_resources_overview(page: int) -> Page:
    """Every resource of every site, withdrawn ones included, for the coordinator."""
    return page_of(select(Resource)
                    .options(joinedload(Resource.site), joinedload(Resource.owner))
                    .order_by(Resource.name, Resource.id), page)
