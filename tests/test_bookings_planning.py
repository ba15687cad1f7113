"""The week planning and "my bookings": what each cell shows, to whom, and a number of
SQL statements that does not grow with the resources or the bookings."""

from datetime import timedelta

import pytest
from booking_page_helpers import english  # noqa: F401  (autouse fixture)
from engine_helpers import at
from test_catalogue import counted_statements

from sharing.core.extensions import db

WEEK = "2027-W02"  # Monday 11 to Sunday 17 January 2027


def planning(client, **args):
    return client.get("/bookings/planning", query_string={"week": WEEK, **args})


def test_a_week_monday_first_with_own_titles_and_others_busy(scene, login, create_booking):
    create_booking(scene.room, scene.booker, scene.member, at("2027-01-12 10:00"),
                   title="Atelier pâtisserie")
    create_booking(scene.room, scene.owner, scene.manager, at("2027-01-13 14:00"),
                   title="Conseil très secret", status="pending")
    create_booking(scene.room, scene.booker, scene.member, at("2027-01-14 09:00"),
                   title="Annulé", status="cancelled")
    page = planning(login(scene.member)).text
    header = page[page.index("<thead>"):page.index("</thead>")]
    assert header.index("Mon 11 Jan") < header.index("Sun 17 Jan")
    assert "10:00–11:00" in page and "Atelier pâtisserie" in page
    assert "14:00–15:00" in page and "Booked" in page and "(pending)" in page
    assert "Conseil très secret" not in page and "Ressourcerie" not in page
    assert "Annulé" not in page  # cancelled bookings hold nothing
    assert f"/bookings/new?resource={scene.room.slug}&amp;date=2027-01-13" in page
    assert planning(login(scene.manager)).text.count("Conseil très secret") == 1


def test_a_booking_over_midnight_shows_on_both_days(scene, login, create_booking):
    create_booking(scene.room, scene.booker, scene.member, at("2027-01-12 22:00"),
                   minutes=240, title="Nuit")
    page = planning(login(scene.member)).text
    assert "22:00–24:00" in page and "00:00–02:00" in page


def test_weeks_are_chosen_by_week_or_by_date_with_links_either_side(scene, login):
    client = login(scene.member)
    page = planning(client, kind="room").text
    assert "/bookings/planning?week=2027-W01&amp;kind=room" in page
    assert "/bookings/planning?week=2027-W03&amp;kind=room" in page
    by_date = client.get("/bookings/planning?date=2027-01-14").text
    assert 'value="2027-01-11"' in by_date  # the Monday of that week
    assert client.get("/bookings/planning").status_code == 200


def test_the_week_of_the_clock_change_has_seven_days(scene, login, create_booking):
    create_booking(scene.room, scene.booker, scene.member, at("2027-03-28 10:00"),
                   title="Dimanche")
    page = planning(login(scene.member), week="2027-W12").text
    assert page.count(">+</a>") == 7 and "10:00–11:00" in page


@pytest.mark.parametrize("query", [
    {"week": "2027-W54"}, {"week": "next"}, {"week": "2027-W1"}, {"date": "2027-02-30"},
    {"date": "tomorrow"}, {"kind": "castle"}, {"site": "424242"}, {"site": "x"},
    {"site": "99999999999999999999999"}, {"date": "\x00"},
])
def test_garbage_in_the_address_is_not_found(scene, login, query):
    assert login(scene.member).get("/bookings/planning", query_string=query
                                   ).status_code == 404


def test_filters_by_kind_and_site(scene, login, create_resource, create_site):
    van = create_resource(kind="equipment", owner=scene.owner, site=scene.room.site,
                          name="Camion frigorifique")
    elsewhere = create_resource(kind="room", owner=scene.owner, site=create_site(),
                                name="Salle de Saint-Marcellin")
    client = login(scene.member)
    rooms = planning(client, kind="room").text
    assert scene.room.name in rooms and elsewhere.name in rooms and van.name not in rooms
    here = planning(client, site=str(scene.room.site_id)).text
    assert scene.room.name in here and van.name in here and elsewhere.name not in here


# --- a bounded number of statements ------------------------------------------------------------

def statements_for(client, path: str) -> int:
    client.get(path)  # the first request may load what the session keeps
    with counted_statements() as statements:
        assert client.get(path).status_code == 200
    return len(statements)


def test_the_planning_costs_the_same_statements_for_3_or_30_resources_and_5_or_100_bookings(
        scene, login, create_resource, create_booking):
    client = login(scene.member)

    def grow(resources: int, bookings: int) -> int:
        made = [create_resource(owner=scene.owner, site=scene.room.site, tags=("réunion",))
                for _ in range(resources)]
        for number in range(bookings):
            organisation, user = ((scene.booker, scene.member) if number % 2
                                  else (scene.owner, scene.manager))
            create_booking(made[number % len(made)], organisation, user,
                           at("2027-01-11 08:00") + timedelta(hours=number % 60),
                           status="pending" if number % 3 == 0 else "confirmed")
        db.session.expire_all()
        return statements_for(client, f"/bookings/planning?week={WEEK}")

    small = grow(3, 5)
    assert grow(27, 95) == small


def test_my_bookings_cost_the_same_statements_for_few_or_many(scene, login, create_resource,
                                                               create_booking):
    client = login(scene.member)

    def grow(count: int) -> int:
        for number in range(count):
            resource = create_resource(owner=scene.owner, site=scene.room.site)
            create_booking(resource, scene.booker, scene.member,
                           at("2027-01-11 08:00") + timedelta(hours=number))
        db.session.expire_all()
        return statements_for(client, "/bookings/")

    few = grow(3)
    assert grow(50) == few
    page = client.get("/bookings/").text
    assert page.count("Cancel the booking") == 53


def test_the_approvals_page_costs_the_same_statements_for_few_or_many(
        scene, login, create_resource, create_booking):
    client = login(scene.manager)

    def grow(count: int) -> int:
        for number in range(count):
            resource = create_resource(owner=scene.owner, site=scene.room.site,
                                       requires_approval=True)
            create_booking(resource, scene.booker, scene.member,
                           at("2027-01-11 08:00") + timedelta(hours=number), status="pending")
        db.session.expire_all()
        return statements_for(client, "/bookings/approvals")

    few = grow(2)
    assert grow(30) == few


# --- the rows, written in Python: escaped, and the same in both views --------------------------

@pytest.mark.parametrize("view", ["week", "day"])
def test_names_titles_and_organisations_are_escaped_in_both_views(
        scene, login, create_resource, create_site, create_organisation, create_user,
        create_booking, view):
    cooks = create_organisation(slug="cooks", name="Pain & <i>Cie</i>")
    cook = create_user(email="cook@example.org", organisation=cooks)
    odd = create_resource(owner=scene.owner, site=create_site(name="Site <b>B</b>"),
                          name="Salle <script>alert(1)</script>")
    create_booking(odd, cooks, cook, at("2027-01-12 10:00"), title="<img src=x> & co")
    page = login(cook).get("/bookings/planning",
                           query_string={"view": view, "date": "2027-01-12"}).text
    assert "<script>alert" not in page and "<img" not in page and "<i>" not in page
    assert ">Salle &lt;script&gt;alert(1)&lt;/script&gt;</a>" in page
    assert "&lt;img src=x&gt; &amp; co</a> · Pain &amp; &lt;i&gt;Cie&lt;/i&gt;" in page
    # two sites among the rows: each row says its site
    assert '<span class="muted">Site &lt;b&gt;B&lt;/b&gt;</span>' in page
    assert '<span class="muted">Voiron</span>' in page


def test_one_site_is_not_repeated_on_every_row(scene, login):
    page = planning(login(scene.member)).text
    assert scene.room.name in page and '<span class="muted">Voiron</span>' not in page
