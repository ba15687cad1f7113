"""The catalogue of shared resources: find, publish, edit, deactivate.

Rooms, equipment, staff time and expertise are one `Resource`; what differs between the
kinds (their extra fields and filters) is described once in `KINDS` and used by these
services, the forms, the pages and the JSON API alike.
"""

import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import exists, or_, select
from sqlalchemy.orm import joinedload, selectinload

from sharing.core.database import case_blind
from sharing.core.extensions import db
from sharing.core.validation import InvalidInput
from sharing.engine.policy import NUMERIC_RULES, WEEKDAYS, has_opening_hours, validate_policy
from sharing.models import (
    DELIVERY_MODES,
    VISIBILITIES,
    Membership,
    Organisation,
    Resource,
    ResourceTag,
    Site,
    User,
)
from sharing.services.permissions import visible_resources_clause

SLUG = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
SLUG_MAX_LENGTH = 80
# Path segments the catalogue pages use after the kind's prefix.
RESERVED_SLUGS = frozenset({"new"})
TAG_MAX_LENGTH = 40
LARGEST_COUNT = 100_000
LARGEST_ID = 2**31 - 1  # PostgreSQL's integer

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
}
WEEKDAY_LABELS = dict(zip(WEEKDAYS, (
    _l("Monday"), _l("Tuesday"), _l("Wednesday"), _l("Thursday"), _l("Friday"),
    _l("Saturday"), _l("Sunday")), strict=True))
POLICY_FIELDS = (*NUMERIC_RULES, "opening_hours")
KIND_FIELDS = {field for kind in KINDS.values() for field in kind.fields}
# Data keys whose model attribute has another name.
ATTRIBUTES = {"visible_to": "visible_to_ids"}


# --- finding --------------------------------------------------------------------------

def get_resource(resource_id: int) -> Resource | None:
    return db.session.get(Resource, resource_id)


def find_resource_by_slug(slug: str) -> Resource | None:
    if not is_slug(slug):
        return None  # not even worth asking the database (which may refuse the text)
    return db.session.scalar(select(Resource).where(Resource.slug == slug))


def is_slug(value: Any) -> bool:
    return isinstance(value, str) and len(value) <= SLUG_MAX_LENGTH and bool(SLUG.match(value))


def find_resources(user: User | None, kind: str | None = None, site_id: int | None = None,
                   tag: str | None = None, text: str | None = None,
                   min_capacity: int | None = None, min_quantity: int | None = None,
                   include_inactive: bool = False, topic: str | None = None,
                   delivery_mode: str | None = None) -> list[Resource]:
    """The resources this user may see that match every filter given, by name.

    What a catalogue card shows is loaded with them, so a page costs the same few
    queries whatever the number of resources.
    """
    query = (select(Resource).where(visible_resources_clause(user))
             .options(joinedload(Resource.owner), joinedload(Resource.site),
                      joinedload(Resource.person), selectinload(Resource.tag_links))
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
        (topic, lambda: case_blind(Resource.topic).contains(topic.lower(), autoescape=True)),
        (delivery_mode, lambda: Resource.delivery_mode.in_(modes_serving(delivery_mode))),
    ]
    query = query.where(*(condition() for value, condition in filters
                          if value is not None and value != ""))
    if not include_inactive:
        query = query.where(Resource.active)
    return list(db.session.scalars(query))


def searchable(text: str) -> str:
    """What is worth searching for: PostgreSQL refuses NUL characters in text."""
    return text.replace("\x00", "").strip()


def has_tag(tag: str):
    return exists().where(ResourceTag.resource_id == Resource.id, ResourceTag.tag == tag)


def mentions(text: str):
    return or_(*(case_blind(column).contains(text.lower(), autoescape=True)
                 for column in (Resource.name, Resource.description, Resource.topic)))


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
    if kind not in KINDS:
        raise InvalidInput(kind=_("Choose one of %(kinds)s.", kinds=", ".join(KINDS)))
    # The owner is linked only once the data is valid: a half-built resource must not
    # reach the session through the organisation's collection.
    resource = Resource(kind=kind, owner_organisation_id=owner.id, quantity=1, visibility="all",
                        opening_hours={}, min_duration_minutes=0, slot_minutes=15,
                        buffer_minutes=0, min_notice_minutes=0, requires_approval=False,
                        delivery_mode="on_site" if kind == "expertise" else None)
    missing = [name for name in ("name", "site_id", *KINDS[kind].required)
               if data.get(name) is None]
    cleaned = clean(resource, data, missing)
    cleaned.setdefault("slug", unique_slug(cleaned["name"], kind))
    apply(resource, cleaned)
    resource.owner = owner
    db.session.add(resource)
    return resource


def update_resource(resource: Resource, data: dict) -> Resource:
    """Validate `data` (only the fields to change) and apply it; the caller commits."""
    apply(resource, clean(resource, data, []))
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


def clean(resource: Resource, data: dict, missing: list[str]) -> dict:
    """Every field checked, every error collected, before anything changes."""
    if not isinstance(data, dict):
        raise InvalidInput(data=_("Send an object of fields."))
    errors: dict[str, list[str]] = {
        name: [_("This field is required.")] for name in missing}
    cleaned = {}
    for name, value in data.items():
        if name in errors:
            continue
        try:
            cleaned[name] = clean_field(resource, name, value)
        except ValueError as error:
            errors.setdefault(name, []).append(str(error))
    try:
        cleaned.update(clean_policy(resource, cleaned))
    except InvalidInput as error:
        for name, messages in error.fields.items():
            errors.setdefault(name, []).extend(messages)
    if errors:
        raise InvalidInput(errors)
    return cleaned


def clean_field(resource: Resource, name: str, value: Any) -> Any:
    if name in POLICY_FIELDS:
        return value  # checked together, since min and max are compared
    if name not in CLEANERS:
        raise ValueError(_("Unknown field."))
    if name in KIND_FIELDS and name not in KINDS[resource.kind].fields:
        raise ValueError(_("This field does not apply to this kind of resource."))
    return CLEANERS[name](value, resource)


def clean_policy(resource: Resource, cleaned: dict) -> dict:
    given = {name: cleaned[name] for name in POLICY_FIELDS if name in cleaned}
    if not given:
        return {}
    current = {name: getattr(resource, name) for name in POLICY_FIELDS}
    checked = validate_policy({**current, **given})
    return {name: checked[name] for name in given}


# --- one cleaner per field: raise ValueError with the message to show -------------------

Cleaner = Callable[[Any, Resource], Any]


def whole_number(low: int, high: int, optional: bool = True) -> Cleaner:
    def check(value: Any, _resource: Resource) -> int | None:
        if value is None and optional:
            return None
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            raise ValueError(_("Enter a whole number between %(low)s and %(high)s.",
                               low=low, high=high))
        return value

    return check


def text(max_length: int, required: bool = False) -> Cleaner:
    def check(value: Any, _resource: Resource) -> str:
        if value is None and not required:
            return ""
        if not isinstance(value, str) or "\x00" in value:
            raise ValueError(_("Enter some text."))
        value = value.strip()
        if required and not value:
            raise ValueError(_("This field is required."))
        if len(value) > max_length:
            raise ValueError(_("Use at most %(count)s characters.", count=max_length))
        return value

    return check


def boolean(value: Any, _resource: Resource) -> bool:
    if not isinstance(value, bool):
        raise ValueError(_("Answer true or false."))
    return value


def choice(values: tuple[str, ...], optional: bool = False) -> Cleaner:
    def check(value: Any, _resource: Resource) -> str | None:
        if value is None and optional:
            return None
        if value not in values:
            raise ValueError(_("Choose one of %(values)s.", values=", ".join(values)))
        return value

    return check


def identifier(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 < value <= LARGEST_ID:
        raise ValueError(_("Give an identifier (a whole number)."))
    return value


def site_id(value: Any, _resource: Resource) -> int:
    if db.session.get(Site, identifier(value)) is None:
        raise ValueError(_("Unknown site."))
    return value


def person_id(value: Any, resource: Resource) -> int | None:
    if value is None and resource.kind not in ("staff", "expertise"):
        return None
    person = db.session.get(User, identifier(value))
    if person is None or not person.active or not any(
            m.organisation_id == resource.owner_organisation_id for m in person.memberships):
        raise ValueError(_("Choose an active member of the owning organisation."))
    return value


def visible_to(value: Any, _resource: Resource) -> list[int]:
    if not isinstance(value, list):
        raise ValueError(_("Give a list of organisation identifiers."))
    ids = list(dict.fromkeys(identifier(item) for item in value))
    known = set(db.session.scalars(select(Organisation.id).where(Organisation.id.in_(ids))))
    if unknown := [str(i) for i in ids if i not in known]:
        raise ValueError(_("Unknown organisations: %(ids)s.", ids=", ".join(unknown)))
    return ids


def normalise_tag(tag: str) -> str:
    return " ".join(tag.split()).lower()


def tags(value: Any, _resource: Resource) -> list[str]:
    if not isinstance(value, list) or not all(
            isinstance(tag, str) and "\x00" not in tag for tag in value):
        raise ValueError(_("Give a list of words."))
    cleaned = list(dict.fromkeys(t for t in map(normalise_tag, value) if t))
    if any(len(tag) > TAG_MAX_LENGTH for tag in cleaned):
        raise ValueError(_("A tag has at most %(count)s characters.", count=TAG_MAX_LENGTH))
    return cleaned


def slug(value: Any, resource: Resource) -> str:
    if not is_slug(value):
        raise ValueError(_("Use lower-case letters, digits and hyphens only."))
    taken = find_resource_by_slug(value)
    if value in RESERVED_SLUGS or (taken is not None and taken is not resource):
        raise ValueError(_("This web address is already taken."))
    return value


CLEANERS: dict[str, Cleaner] = {
    "name": text(200, required=True),
    "slug": slug,
    "description": text(5000),
    "site_id": site_id,
    "quantity": whole_number(1, LARGEST_COUNT, optional=False),
    "tags": tags,
    "visibility": choice(VISIBILITIES),
    "visible_to": visible_to,
    "requires_approval": boolean,
    "public_busy_feed": boolean,
    "capacity": whole_number(1, LARGEST_COUNT),
    "surface_m2": whole_number(1, LARGEST_COUNT),
    "accessible": boolean,
    "pickup_place": text(200),
    "licence_required": text(60),
    "person_id": person_id,
    "weekly_hours": whole_number(1, 7 * 24),
    "topic": text(200),
    "delivery_mode": choice(DELIVERY_MODES),
    "session_minutes": whole_number(1, 24 * 60),
}


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
