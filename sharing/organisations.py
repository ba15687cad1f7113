"""Sites, member organisations and memberships: the pole's directory."""

import re
from zoneinfo import available_timezones

from flask_babel import gettext as _
from sqlalchemy import select

from sharing.extensions import db
from sharing.models import ROLES, Membership, Organisation, Site, User
from sharing.validation import InvalidInput

SLUG = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")


def find_organisation_by_slug(slug: str) -> Organisation | None:
    return db.session.scalar(select(Organisation).where(Organisation.slug == slug))


def find_site_by_name(name: str) -> Site | None:
    return db.session.scalar(select(Site).where(Site.name == name))


def is_valid_timezone(name: str) -> bool:
    return name in available_timezones()


def create_site(name: str, timezone: str = "Europe/Paris", address: str = "") -> Site:
    """Add a site to the session (the caller commits)."""
    name = name.strip()
    if not name:
        raise InvalidInput(name=_("A name is required."))
    if find_site_by_name(name):
        raise InvalidInput(name=_("A site with this name already exists."))
    if not is_valid_timezone(timezone):
        raise InvalidInput(timezone=_("Unknown timezone %(tz)s.", tz=timezone))
    site = Site(name=name, timezone=timezone, address=address.strip())
    db.session.add(site)
    return site


def create_organisation(slug: str, name: str, legal_form: str = "") -> Organisation:
    """Add an organisation to the session (the caller commits)."""
    if not SLUG.match(slug) or len(slug) > 64:
        raise InvalidInput(slug=_("Use lower-case letters, digits and hyphens only."))
    if find_organisation_by_slug(slug):
        raise InvalidInput(slug=_("An organisation with this identifier already exists."))
    if not name.strip():
        raise InvalidInput(name=_("A name is required."))
    organisation = Organisation(slug=slug, name=name.strip(), legal_form=legal_form.strip())
    db.session.add(organisation)
    return organisation


def add_member(user: User, organisation: Organisation, role: str = "member") -> Membership:
    """Make the user a member (or change their role if already one)."""
    if role not in ROLES:
        raise InvalidInput(role=_("Choose member or manager."))
    for membership in user.memberships:
        if membership.organisation_id == organisation.id:
            membership.role = role
            return membership
    membership = Membership(user=user, organisation=organisation, role=role)
    db.session.add(membership)
    return membership
