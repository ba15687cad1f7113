"""An organisation's quotas page: who sees which quota, who sets and removes what (as
`sharing.services.permissions` says), the hours already used, and the engine refusing beyond."""

from datetime import UTC, datetime, timedelta

import pytest
from booking_page_helpers import english  # noqa: F401  (autouse fixture)
from engine_helpers import PARIS
from sqlalchemy import select

from sharing.core.extensions import db
from sharing.engine import BookingRefused, BookingRequest, book
from sharing.engine.quotas import months_touched, weeks_touched
from sharing.models import Quota

# A Tuesday in January 2030: far enough ahead to book, inside one week and one month.
TUESDAY = datetime(2030, 1, 15, 9, 0, tzinfo=UTC)


@pytest.fixture
def people(scene, create_user, create_organisation, create_resource):
    """The scene (the owner's manager shares a room; the booker's member books), a
    manager elsewhere who shares a van, a member of a third organisation, an admin."""
    elsewhere_org = create_organisation(slug="garage")
    elsewhere = create_user(email="elsewhere@example.org", organisation=elsewhere_org,
                            role="manager")
    van = create_resource(kind="equipment", owner=elsewhere_org, name="Camion frigorifique")
    outsider = create_user(email="outsider@example.org", organisation=create_organisation())
    admin = create_user(email="admin@example.org", is_admin=True)
    return scene, elsewhere, van, outsider, admin


def quotas() -> list[Quota]:
    return list(db.session.scalars(select(Quota).order_by(Quota.id)))


def page(scene) -> str:
    return f"/organisations/{scene.booker.slug}/quotas"


def post_quota(client, scene, scope, week="", month=""):
    return client.post(page(scene), data={"scope": scope, "max_hours_per_week": week,
                                          "max_hours_per_month": month})


def refusal_codes(scene, user, start, hours) -> list[str]:
    request = BookingRequest(resource_id=scene.room.id, organisation_id=scene.booker.id,
                             start=start, end=start + timedelta(hours=hours))
    with pytest.raises(BookingRefused) as refused:
        book(user, request)
    return [conflict.code for conflict in refused.value.conflicts]


def test_coordinator_sets_a_kind_quota_and_the_engine_holds_it(client, login, people):
    scene, _elsewhere, _van, _outsider, admin = people
    login(admin)
    answer = post_quota(client, scene, "kind:room", week="2")
    assert answer.status_code == 302
    [quota] = quotas()
    assert (quota.organisation_id, quota.resource_kind, quota.resource_id) == (
        scene.booker.id, "room", None)
    assert (quota.max_hours_per_week, quota.max_hours_per_month) == (2, None)
    assert "quota" in refusal_codes(scene, scene.member, TUESDAY, 3)


def test_owner_manager_sets_a_quota_on_their_resource(client, login, people):
    scene, *_others = people
    login(scene.manager)
    assert post_quota(client, scene, f"resource:{scene.room.id}", month="1,5").status_code == 302
    [quota] = quotas()
    assert quota.resource_id == scene.room.id and quota.max_hours_per_month == 1.5
    book(scene.member, BookingRequest(resource_id=scene.room.id,
                                      organisation_id=scene.booker.id,
                                      start=TUESDAY, end=TUESDAY + timedelta(hours=1)))
    assert "quota" in refusal_codes(scene, scene.member, TUESDAY + timedelta(days=1), 1)


def test_setting_the_same_scope_again_changes_it(client, login, people):
    scene, *_others = people
    login(scene.manager)
    post_quota(client, scene, f"resource:{scene.room.id}", week="4")
    post_quota(client, scene, f"resource:{scene.room.id}", week="6", month="20")
    [quota] = quotas()
    assert (quota.max_hours_per_week, quota.max_hours_per_month) == (6, 20)


@pytest.mark.parametrize(("scope", "week", "month", "field", "message"), [
    ("kind:room", "", "", "max_hours_per_month", "per week, per month or both"),
    ("kind:room", "-1", "", "max_hours_per_week", "between 0 and 168"),
    ("kind:room", "", "1000", "max_hours_per_month", "between 0 and 744"),
    ("kind:room", "beaucoup", "", "max_hours_per_week", "Not a valid float"),
    ("kind:room", "nan", "", "max_hours_per_week", "between 0 and 168"),
    ("kind:boat", "2", "", "scope", "Choose one of"),
    ("resource:999999", "2", "", "scope", "Unknown resource"),
    ("everything", "2", "", "scope", "Not a valid choice"),
    ("kind:room", "2\x00", "", "max_hours_per_week", "NUL"),
])
def test_bad_input_is_shown_beside_the_field_and_writes_nothing(
        client, login, people, scope, week, month, field, message):
    scene, _elsewhere, _van, _outsider, admin = people
    login(admin)
    answer = post_quota(client, scene, scope, week, month)
    assert answer.status_code == 422
    assert f'id="{field}-error"' in answer.text and message in answer.text
    assert quotas() == []


def test_a_hidden_resource_is_unknown(client, login, people, create_resource):
    scene, elsewhere, _van, _outsider, _admin = people
    hidden = create_resource(owner=scene.owner, visibility="listed")
    login(elsewhere)
    answer = post_quota(client, scene, f"resource:{hidden.id}", week="2")
    assert answer.status_code == 422 and "Unknown resource" in answer.text
    assert quotas() == []


def test_members_and_managers_elsewhere_may_not_set(client, login, people):
    scene, elsewhere, _van, outsider, _admin = people
    login(scene.member)  # sees their organisation's quotas, sets none
    assert client.get(page(scene)).status_code == 200
    assert post_quota(client, scene, "kind:room", week="2").status_code == 403
    login(elsewhere)  # may set quotas on the van only
    assert post_quota(client, scene, f"resource:{scene.room.id}", week="2").status_code == 403
    assert post_quota(client, scene, "kind:room", week="2").status_code == 403
    login(outsider)  # a plain member of a third organisation
    assert client.get(page(scene)).status_code == 403
    assert post_quota(client, scene, "kind:room", week="2").status_code == 403
    assert quotas() == []


def test_the_form_offers_only_what_the_viewer_may_set(client, login, people):
    scene, elsewhere, van, _outsider, admin = people
    login(elsewhere)
    text = client.get(page(scene)).text
    assert f'value="resource:{van.id}"' in text
    assert f'value="resource:{scene.room.id}"' not in text and "kind:room" not in text
    login(scene.member)
    assert "Save the quota" not in client.get(page(scene)).text
    login(admin)
    text = client.get(page(scene)).text
    assert "kind:room" in text and f'value="resource:{scene.room.id}"' in text


def test_quotas_are_shown_only_to_whoever_may_see_them(client, login, people):
    scene, elsewhere, van, _outsider, admin = people
    login(admin)
    post_quota(client, scene, "kind:staff", week="7")
    post_quota(client, scene, f"resource:{scene.room.id}", week="3")
    post_quota(client, scene, f"resource:{van.id}", month="11")
    login(scene.manager)  # the room's owner: only the room's quota
    text = client.get(page(scene)).text
    assert "Salle des Tilleuls" in text
    assert "All resources: Staff time" not in text and "Camion" not in text and "11 h" not in text
    login(elsewhere)  # the van's owner: only the van's quota
    text = client.get(page(scene)).text
    assert "Camion frigorifique" in text and "11 h" in text
    assert "Salle des Tilleuls" not in text and "All resources: Staff time" not in text
    login(scene.member)  # the organisation's members: all of them
    text = client.get(page(scene)).text
    assert "Salle des Tilleuls" in text and "Camion" in text and "All resources: Staff time" in text


def test_hours_used_this_week_and_month(client, login, people, create_booking, now):
    scene, *_others, admin = people
    # Inside the current week and month on the site's clock, whatever today is.
    start = max(weeks_touched(now, now, PARIS)[0][0], months_touched(now, now, PARIS)[0][0])
    create_booking(scene.room, scene.booker, scene.member, start + timedelta(hours=1),
                   minutes=90)
    create_booking(scene.room, scene.booker, scene.member, start + timedelta(hours=4),
                   status="cancelled")
    login(admin)
    post_quota(client, scene, f"resource:{scene.room.id}", week="10", month="40")
    text = client.get(page(scene)).text
    assert "(1.5 h used this week)" in text and "(1.5 h used this month)" in text


def test_removing(client, login, people):
    scene, elsewhere, van, _outsider, admin = people
    login(admin)
    post_quota(client, scene, "kind:room", week="2")
    post_quota(client, scene, f"resource:{scene.room.id}", week="3")
    kind_quota, room_quota = quotas()
    login(scene.member)
    assert client.post(f"{page(scene)}/{room_quota.id}/remove").status_code == 403
    login(elsewhere)  # may not even know these quotas exist
    assert client.post(f"{page(scene)}/{room_quota.id}/remove").status_code == 404
    login(scene.manager)
    assert client.post(f"{page(scene)}/{kind_quota.id}/remove").status_code == 404
    assert client.post(f"{page(scene)}/{room_quota.id}/remove").status_code == 302
    assert quotas() == [kind_quota]
    login(admin)
    assert client.post(f"{page(scene)}/{kind_quota.id}/remove").status_code == 302
    assert quotas() == []


def test_unknown_organisations_and_quotas_are_404(client, login, people):
    scene, _elsewhere, _van, _outsider, admin = people
    login(admin)
    post_quota(client, scene, "kind:room", week="2")
    [quota] = quotas()
    assert client.get("/organisations/nowhere/quotas").status_code == 404
    assert client.post("/organisations/nowhere/quotas", data={}).status_code == 404
    assert client.post(f"{page(scene)}/999999/remove").status_code == 404
    assert client.post(f"{page(scene)}/99999999999/remove").status_code == 404
    # a quota exists only under its own organisation
    other = f"/organisations/{scene.owner.slug}/quotas/{quota.id}/remove"
    assert client.post(other).status_code == 404
    assert quotas() == [quota]


def test_the_organisation_page_links_to_its_quotas(client, login, people):
    scene, *_others = people
    login(scene.member)
    assert page(scene) in client.get(f"/organisations/{scene.booker.slug}/").text


def test_resource_owners_find_the_organisations_from_the_resource_page(client, login, people):
    scene, _elsewhere, _van, outsider, _admin = people
    login(scene.manager)
    assert "/organisations/quotas" in client.get(f"/rooms/{scene.room.slug}").text
    text = client.get("/organisations/quotas").text
    assert page(scene) in text and f"/organisations/{scene.owner.slug}/quotas" in text
    login(outsider)  # a plain member: only their own organisation
    assert "/organisations/quotas" not in client.get(f"/rooms/{scene.room.slug}").text
    text = client.get("/organisations/quotas").text
    assert page(scene) not in text and "/quotas\"" in text
