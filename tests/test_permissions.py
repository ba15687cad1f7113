"""Every rule of `sharing.services.permissions`, allowed and refused, with real rows.

The cast: the pole's coordinator (admin), a manager and a member of the owning
organisation, a member of another organisation (outsider), a member of a third
organisation to which a `listed` resource is shown, and an inactive account.
"""

from datetime import timedelta

import pytest
from flask_login import AnonymousUserMixin
from sqlalchemy import select

from sharing.core.extensions import db
from sharing.models import Quota, Resource
from sharing.services import permissions as p


@pytest.fixture
def cast(create_organisation, create_user, create_resource):
    owner = create_organisation(slug="owner")
    other = create_organisation(slug="other")
    listed = create_organisation(slug="listed")
    frozen = create_organisation(slug="frozen", active=False)
    people = {
        "admin": create_user(is_admin=True),
        "inactive_admin": create_user(is_admin=True, active=False),
        "manager": create_user(organisation=owner, role="manager"),
        "member": create_user(organisation=owner),
        "outsider": create_user(organisation=other, role="manager"),
        "listed": create_user(organisation=listed),
        "inactive": create_user(organisation=owner, role="manager", active=False),
        "frozen_manager": create_user(organisation=frozen, role="manager"),
        "nobody": create_user(),
    }
    shared = create_resource(owner=owner, name="Shared room")
    private = create_resource(owner=owner, name="Listed room", visibility="listed")
    private.visible_to_ids = [listed.id]
    hidden = create_resource(owner=owner, name="Retired van", active=False)
    db.session.commit()
    return {"orgs": {"owner": owner, "other": other, "listed": listed, "frozen": frozen},
            "people": people, "shared": shared, "private": private, "hidden": hidden}


ANONYMOUS = AnonymousUserMixin()


def who(cast, predicate) -> set[str]:
    """The names of the people for whom `predicate(user)` holds."""
    return {name for name, user in cast["people"].items() if predicate(user)}


def test_admin(cast):
    assert who(cast, p.is_admin) == {"admin"}
    assert who(cast, p.can_manage_sites) == {"admin"}
    assert who(cast, p.can_manage_organisations) == {"admin"}
    assert not p.is_admin(None) and not p.is_admin(ANONYMOUS)


def test_roles(cast):
    owner = cast["orgs"]["owner"]
    assert who(cast, lambda u: p.role_in(u, owner) == "manager") == {"manager"}
    assert who(cast, lambda u: p.is_member(u, owner)) == {"manager", "member"}
    assert who(cast, lambda u: p.is_member(u, owner.id)) == {"manager", "member"}
    assert who(cast, lambda u: p.is_manager(u, owner)) == {"manager"}
    assert p.role_in(ANONYMOUS, owner) is None and p.role_in(None, owner.id) is None


def test_can_manage_an_organisation_and_its_resources(cast):
    owner, shared = cast["orgs"]["owner"], cast["shared"]
    assert who(cast, lambda u: p.can_manage(u, owner)) == {"admin", "manager"}
    assert who(cast, lambda u: p.can_manage(u, owner.id)) == {"admin", "manager"}
    assert who(cast, lambda u: p.can_manage_resource(u, shared)) == {"admin", "manager"}
    assert not p.can_manage(ANONYMOUS, owner)


def test_creating_resources_needs_an_active_organisation(cast):
    owner, frozen = cast["orgs"]["owner"], cast["orgs"]["frozen"]
    assert who(cast, lambda u: p.can_create_resource_for(u, owner)) == {"admin", "manager"}
    assert who(cast, lambda u: p.can_create_resource_for(u, frozen)) == set()


def test_managed_and_bookable_organisations(cast):
    people, orgs = cast["people"], cast["orgs"]
    assert {o.slug for o in p.managed_organisations(people["admin"])} == {
        "owner", "other", "listed"}
    assert p.managed_organisations(people["manager"]) == [orgs["owner"]]
    assert p.managed_organisations(people["member"]) == []
    assert p.managed_organisations(people["frozen_manager"]) == []
    assert p.managed_organisations(people["inactive"]) == []
    assert p.managed_organisations(ANONYMOUS) == []
    assert p.bookable_organisations(people["member"]) == [orgs["owner"]]
    assert p.bookable_organisations(people["frozen_manager"]) == []
    assert p.bookable_organisations(people["inactive"]) == []
    assert p.bookable_organisations(people["admin"]) == []
    assert p.bookable_organisations(None) == []


def test_visibility_to_an_organisation(cast):
    orgs, shared, private = cast["orgs"], cast["shared"], cast["private"]
    assert p.is_visible_to_organisation(shared, orgs["other"].id)
    assert p.is_visible_to_organisation(private, orgs["owner"].id)
    assert p.is_visible_to_organisation(private, orgs["listed"].id)
    assert not p.is_visible_to_organisation(private, orgs["other"].id)


def test_can_see_resource(cast):
    everyone_active = {"admin", "manager", "member", "outsider", "listed", "frozen_manager"}
    assert who(cast, lambda u: p.can_see_resource(u, cast["shared"])) == everyone_active
    assert who(cast, lambda u: p.can_see_resource(u, cast["private"])) == {
        "admin", "manager", "member", "listed"}
    assert who(cast, lambda u: p.can_see_resource(u, cast["hidden"])) == {"admin", "manager"}
    assert not p.can_see_resource(ANONYMOUS, cast["shared"])


def test_visible_resources_clause_matches_can_see_resource(cast):
    for name, user in cast["people"].items():
        seen = set(db.session.scalars(
            select(Resource.name).where(p.visible_resources_clause(user))))
        expected = {r.name for r in (cast["shared"], cast["private"], cast["hidden"])
                    if p.can_see_resource(user, r)}
        assert seen == expected, name


def test_can_book(cast):
    orgs, people, shared, private = cast["orgs"], cast["people"], cast["shared"], cast["private"]
    assert p.can_book(people["member"], shared, orgs["owner"])
    assert p.can_book(people["member"], shared, orgs["owner"].id)
    assert p.can_book(people["outsider"], shared, orgs["other"])
    assert p.can_book(people["listed"], private, orgs["listed"])
    # not a member of the organisation booked for
    assert not p.can_book(people["member"], shared, orgs["other"])
    assert not p.can_book(people["admin"], shared, orgs["owner"])
    # not visible to that organisation
    assert not p.can_book(people["outsider"], private, orgs["other"])
    # inactive resource, organisation or account; unknown organisation
    assert not p.can_book(people["member"], cast["hidden"], orgs["owner"])
    assert not p.can_book(people["frozen_manager"], shared, orgs["frozen"])
    assert not p.can_book(people["inactive"], shared, orgs["owner"])
    assert not p.can_book(ANONYMOUS, shared, orgs["owner"])
    assert not p.can_book(people["member"], shared, 999_999)


@pytest.fixture
def bookings(cast, create_booking, now):
    orgs, people = cast["orgs"], cast["people"]
    start = now + timedelta(days=1)
    return {
        "outsiders": create_booking(cast["shared"], orgs["other"], people["outsider"], start),
        "members": create_booking(cast["shared"], orgs["owner"], people["member"],
                                  start + timedelta(hours=2)),
        "pending": create_booking(cast["shared"], orgs["other"], people["outsider"],
                                  start + timedelta(hours=4), status="pending"),
    }


def test_booking_details(cast, bookings):
    # The owners of the resource and the booking organisation see details; nobody else.
    assert who(cast, lambda u: p.can_see_booking_details(u, bookings["outsiders"])) == {
        "admin", "manager", "outsider"}
    assert who(cast, lambda u: p.can_see_booking_details(u, bookings["members"])) == {
        "admin", "manager", "member"}


def test_cancel_booking(cast, bookings):
    assert who(cast, lambda u: p.can_cancel_booking(u, bookings["members"])) == {
        "admin", "manager", "member"}
    assert who(cast, lambda u: p.can_cancel_booking(u, bookings["outsiders"])) == {
        "admin", "manager", "outsider"}
    assert not p.can_cancel_booking(None, bookings["members"])


def test_decide_booking(cast, bookings):
    # Whether the booking is still pending is the engine's business, not a permission.
    assert who(cast, lambda u: p.can_decide_booking(u, bookings["pending"])) == {
        "admin", "manager"}


def test_members_of_an_organisation(cast):
    owner, frozen = cast["orgs"]["owner"], cast["orgs"]["frozen"]
    assert who(cast, lambda u: p.can_see_members(u, owner)) == {"admin", "manager", "member"}
    assert who(cast, lambda u: p.can_manage_members(u, owner)) == {"admin", "manager"}
    assert who(cast, lambda u: p.can_see_members(u, frozen)) == {"admin", "frozen_manager"}
    assert who(cast, lambda u: p.can_manage_members(u, frozen)) == {"admin"}
    assert not p.can_see_members(ANONYMOUS, owner)


@pytest.fixture
def quotas(cast):
    """Quotas for the outsider's organisation: on the owner's room, and on a whole kind."""
    other = cast["orgs"]["other"]
    on_room = Quota(organisation=other, resource=cast["shared"], max_hours_per_week=4)
    on_kind = Quota(organisation=other, resource_kind="room", max_hours_per_month=10)
    db.session.add_all([on_room, on_kind])
    db.session.commit()
    return on_room, on_kind


def test_quotas(cast, quotas):
    on_room, on_kind = quotas
    other, listed = cast["orgs"]["other"], cast["orgs"]["listed"]
    managers = {"admin", "manager", "outsider", "frozen_manager"}
    assert who(cast, p.can_set_quotas) == managers
    # On one resource: its owners; on a whole kind: the coordinator only.
    assert who(cast, lambda u: p.can_set_quota(u, on_room)) == {"admin", "manager"}
    assert who(cast, lambda u: p.can_set_quota(u, on_kind)) == {"admin"}
    # Seen by the organisation it limits, and by whoever may set it.
    assert who(cast, lambda u: p.can_see_quota(u, on_room)) == {"admin", "manager",
                                                                "outsider"}
    assert who(cast, lambda u: p.can_see_quota(u, on_kind)) == {"admin", "outsider"}
    assert who(cast, lambda u: p.can_see_quotas_of(u, other)) == managers
    assert who(cast, lambda u: p.can_see_quotas_of(u, listed)) == managers | {"listed"}
    assert not p.can_set_quotas(ANONYMOUS) and not p.can_see_quotas_of(None, other)
