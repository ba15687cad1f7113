"""My bookings across organisations by date and in pages; approvals by start time, whether
each still fits, approved in bulk; cancelling as a confirmed step and who cancelled or
refused; a series that clashes, booked without its clashing dates."""

import html
import re
from datetime import timedelta

import pytest
from booking_page_helpers import english  # noqa: F401  (autouse fixture)
from engine_helpers import at
from sqlalchemy import func, select
from test_bookings_pages import book_series, bookings, form
from test_bookings_planning import statements_for

from sharing.core.extensions import db
from sharing.models import Booking, Closure, Membership


def row_texts(page: str, css_class: str) -> list[str]:
    start = page.index(f'class="{css_class}"')
    tag = page[page.rindex("<", 0, start) + 1:start].strip()  # ul or table
    section = page[start:page.index(f"</{tag}>", start)]
    return [html.unescape(re.sub(r"<[^>]+>|\s+", " ", row)).strip()
            for row in re.findall(r"<(?:li|tr)[^>]*>(.*?)</(?:li|tr)>", section, re.S)]


def add_bookings(resource, organisation, user, first, count, **fields) -> None:
    """`count` hourly bookings from `first`, written in one transaction."""
    db.session.add_all([Booking(
        resource=resource, organisation=organisation, user=user,
        starts_at=first + timedelta(hours=n), ends_at=first + timedelta(hours=n, minutes=30),
        blocks_until=first + timedelta(hours=n, minutes=30), quantity=1,
        status=fields.get("status", "confirmed"), title=fields.get("title", f"N°{n:03d}"))
        for n in range(count)])
    db.session.commit()


# --- home and my bookings ---------------------------------------------------------------------

@pytest.fixture
def two_organisations(scene, create_organisation, create_booking):
    """The member also belongs to "Atelier Vélo" (first by name): bookings of both."""
    velo = create_organisation(name="Atelier Vélo")
    scene.member.memberships.append(Membership(organisation=velo, role="member"))
    db.session.commit()
    for day, organisation, title in (("2027-01-14", velo, "Vélo jeudi"),
                                     ("2027-01-12", scene.booker, "Pâtisserie mardi"),
                                     ("2027-01-13", velo, "Vélo mercredi"),
                                     ("2027-01-15", scene.booker, "Pâtisserie vendredi")):
        create_booking(scene.room, organisation, scene.member, at(f"{day} 10:00"), title=title)
    return velo


def test_home_lists_the_bookings_of_all_my_organisations_by_date_labelled(
        scene, login, two_organisations):
    rows = row_texts(login(scene.member).get("/").text, "coming")
    assert [re.search(r"(Pâtisserie|Vélo) \w+", row).group(0) for row in rows] == [
        "Pâtisserie mardi", "Vélo mercredi", "Vélo jeudi", "Pâtisserie vendredi"]
    assert "Patisserie" in rows[0] and "Atelier Vélo" in rows[1]


def test_my_bookings_is_one_date_ordered_list_with_the_organisation(scene, login,
                                                                    two_organisations):
    page = login(scene.member).get("/bookings/").text
    titles = re.findall(r"<td>((?:Pâtisserie|Vélo) \w+)</td>", page)
    assert titles == ["Pâtisserie mardi", "Vélo mercredi", "Vélo jeudi", "Pâtisserie vendredi"]
    assert re.findall(r'<td class="organisation">([^<]+)</td>', page) == [
        "Patisserie", "Atelier Vélo", "Atelier Vélo", "Patisserie"]


def test_home_pages_beyond_its_first_ten(scene, login):
    add_bookings(scene.room, scene.booker, scene.member, at("2027-01-12 08:00"), 12)
    client = login(scene.member)
    first = client.get("/").text
    assert len(row_texts(first, "coming")) == 10 and 'rel="next"' in first
    second = client.get("/?page=2").text
    assert [re.search(r"N°\d+", row).group(0) for row in row_texts(second, "coming")] == [
        "N°010", "N°011"]
    assert 'rel="prev"' in second and 'rel="next"' not in second


def test_my_bookings_page_beyond_200_rows(scene, login):
    add_bookings(scene.room, scene.booker, scene.member, at("2027-01-12 08:00"), 205)
    client = login(scene.member)
    first = client.get("/bookings/").text
    assert first.count("N°") == 200 and "N°199" in first and "N°200" not in first
    assert 'href="/bookings/?page=2"' in first
    second = client.get("/bookings/?page=2").text
    assert re.findall(r"N°\d+", second) == [f"N°{n}" for n in range(200, 205)]
    assert client.get("/bookings/?page=3").status_code == 200
    for bad in ("0", "-1", "deux", "²", "99999999999"):
        assert client.get(f"/bookings/?page={bad}").status_code == 404


# --- approvals ----------------------------------------------------------------------------------

@pytest.fixture
def requests(scene, create_booking):
    """Three requests, made in another order than they start."""
    scene.room.requires_approval = True
    db.session.commit()
    made = {}
    for day in ("2027-01-14", "2027-01-12", "2027-01-13"):
        made[day] = create_booking(scene.room, scene.booker, scene.member, at(f"{day} 10:00"),
                                   status="pending", title=f"Demande {day}")
    return made


def close_on(resource, day: str) -> None:
    db.session.add(Closure(resource=resource, starts_at=at(f"{day} 00:00"),
                           ends_at=at(f"{day} 23:59"), reason="Dégât des eaux"))
    db.session.commit()


def test_approvals_are_sorted_by_start_and_say_whether_each_still_fits(scene, login,
                                                                        requests):
    close_on(scene.room, "2027-01-13")
    page = login(scene.manager).get("/bookings/approvals").text
    rows = row_texts(page, "stack approvals")[1:]  # after the heading row
    assert [re.search(r"Demande (\S+)", row).group(1) for row in rows] == [
        "2027-01-12", "2027-01-13", "2027-01-14"]
    fits = re.findall(r'class="fit-(yes|no)"', page)
    assert fits == ["yes", "no", "yes"]
    assert "Dégât des eaux" in rows[1]


def test_a_request_does_not_stand_in_its_own_way_but_another_booking_does(
        scene, login, requests, create_booking):
    # the room holds one at a time: a confirmed booking written over a request (as an
    # owner's import might) leaves that request without room
    create_booking(scene.room, scene.owner, scene.manager, at("2027-01-14 10:30"))
    page = login(scene.manager).get("/bookings/approvals").text
    assert re.findall(r'class="fit-(yes|no)"', page) == ["yes", "yes", "no"]


def test_bulk_approval_approves_the_selected_that_fit_and_says_why_not_the_others(
        scene, login, requests):
    close_on(scene.room, "2027-01-13")
    client = login(scene.manager)
    ids = [requests[day].id for day in ("2027-01-13", "2027-01-14")]
    response = client.post("/bookings/approvals", data={"bookings": ids},
                           follow_redirects=True)
    assert response.status_code == 200
    assert "1 request approved:" in response.text
    assert "Not approved:" in response.text and "Dégât des eaux" in response.text
    status = {b.title: (b.status, b.decided_by_id) for b in bookings()}
    assert status == {"Demande 2027-01-12": ("pending", None),
                      "Demande 2027-01-13": ("pending", None),
                      "Demande 2027-01-14": ("confirmed", scene.manager.id)}
    # approved meanwhile: said, not approved twice
    again = client.post("/bookings/approvals", data={"bookings": [ids[1]]},
                        follow_redirects=True)
    assert "Only a pending request can be decided." in again.text


def test_bulk_approval_by_someone_not_allowed_writes_nothing(
        scene, login, requests, create_user, create_organisation, create_resource,
        create_booking):
    elsewhere = create_organisation()
    other_manager = create_user(organisation=elsewhere, role="manager")
    theirs = create_resource(owner=elsewhere, site=scene.room.site, requires_approval=True)
    their_request = create_booking(theirs, scene.booker, scene.member, at("2027-01-12 10:00"),
                                   status="pending")
    ids = [r.id for r in requests.values()]
    assert login(scene.member).post("/bookings/approvals",
                                    data={"bookings": ids}).status_code == 403
    # a manager of another organisation, mixing one of theirs with others'
    assert login(other_manager).post("/bookings/approvals", data={
        "bookings": [their_request.id, *ids]}).status_code == 403
    assert login(scene.manager).post("/bookings/approvals", data={
        "bookings": [999999999]}).status_code == 404
    db.session.expire_all()
    assert {b.status for b in bookings()} == {"pending"}


def test_bulk_approval_without_a_selection_or_with_garbage_is_a_form_message(
        scene, login, requests):
    client = login(scene.manager)
    response = client.post("/bookings/approvals", data={})
    assert response.status_code == 422 and "Tick the requests to approve." in response.text
    assert client.post("/bookings/approvals",
                       data={"bookings": ["un", "2"]}).status_code == 422
    too_many = client.post("/bookings/approvals", data={
        "bookings": [b.id for b in bookings()] + list(range(10**6, 10**6 + 200))})
    assert too_many.status_code == 422 and "Tick at most 200 requests at once." in too_many.text
    assert {b.status for b in bookings()} == {"pending"}


def test_approvals_page_beyond_200(scene, login):
    scene.room.requires_approval = True
    db.session.commit()
    add_bookings(scene.room, scene.booker, scene.member, at("2027-01-12 08:00"), 203,
                 status="pending")
    client = login(scene.manager)
    assert client.get("/bookings/approvals").text.count('name="bookings"') == 200
    second = client.get("/bookings/approvals?page=2").text
    assert re.findall(r"N°\d+", second) == ["N°200", "N°201", "N°202"]


# --- cancelling, and who did it ----------------------------------------------------------------

def test_cancelling_is_a_step_that_says_what_it_does(scene, login):
    (booking,) = book_series(scene, count=1)
    page = login(scene.member).get(f"/bookings/{booking.id}").text
    step = page[page.index('<details class="confirm"'):page.index("</details>")]
    assert "<summary>Cancel…</summary>" in step
    assert "the time is free for others" in step and "Cancel the booking" in step
    assert login(scene.member).post(f"/bookings/{booking.id}/cancel").status_code == 302
    page = login(scene.member).get(f"/bookings/{booking.id}").text
    assert "Cancelled by Camille Martin" in page
    assert "Cancelled by Camille Martin" in login(scene.member).get("/bookings/?past=1").text \
        or "Cancelled by Camille Martin" in login(scene.member).get("/bookings/").text


def test_a_request_is_withdrawn_by_its_organisation_and_refused_by_the_owner(
        scene, login, requests):
    request = requests["2027-01-12"]
    scene.manager.display_name = "Dominique Gérante"
    db.session.commit()
    mine = login(scene.member).get(f"/bookings/{request.id}").text
    assert "Withdraw the request" in mine and "Cancel the booking" not in mine
    owners = login(scene.manager).get(f"/bookings/{request.id}").text
    assert "Refuse the request" in owners
    assert "Withdraw the request" not in owners and "Cancel the booking" not in owners
    login(scene.manager).post(f"/bookings/{request.id}/reject", data={"reason": "Travaux"})
    assert "Refused by Dominique Gérante" in login(scene.member).get(
        f"/bookings/{request.id}").text
    assert "Refused by Dominique Gérante" in login(scene.member).get("/bookings/").text


def test_who_cancelled_another_organisations_booking_is_not_told(scene, login,
                                                                 create_booking):
    theirs = create_booking(scene.room, scene.owner, scene.manager, at("2027-01-12 14:00"))
    login(scene.manager).post(f"/bookings/{theirs.id}/cancel")
    scene.manager.display_name = "Dominique Gérante"
    db.session.commit()
    page = login(scene.member).get(f"/bookings/{theirs.id}").text
    assert "Dominique" not in page and "Cancelled by" not in page


# --- a series that clashes -------------------------------------------------------------------

def skip_form(page: str) -> dict:
    section = page[page.index('class="skip-conflicts"'):]
    section = section[:section.index("</form>")]
    fields: dict = {}
    for name, value in re.findall(r'name="([^"]+)" value="([^"]*)"', section):
        fields.setdefault(name, []).append(html.unescape(value))
    return fields


def test_a_clashing_series_names_its_dates_and_books_the_free_ones_in_one_click(
        scene, login, create_booking):
    create_booking(scene.room, scene.owner, scene.manager, at("2027-01-19 10:30"),
                   title="Conseil")
    client = login(scene.member)
    response = client.post(f"/bookings/new?resource={scene.room.slug}",
                           data=form(repeat="WEEKLY", occurrences="3"))
    assert response.status_code == 409
    clashing = row_texts(response.text, "clashing")
    assert len(clashing) == 1 and "19 Jan 2027 10:00–11:00" in clashing[0]
    assert "Conseil" not in response.text  # another organisation's booking: busy only
    assert "2 of the 3 dates are free." in response.text
    assert "Book the 2 free occurrences" in response.text
    assert db.session.scalar(select(func.count()).select_from(Booking)) == 1
    fields = skip_form(response.text)
    assert fields["skip_conflicts"] == ["y"] and fields["occurrences"] == ["3"]
    response = client.post(f"/bookings/new?resource={scene.room.slug}", data=fields)
    assert response.status_code == 302
    mine = [b for b in bookings() if b.organisation_id == scene.booker.id]
    assert [b.starts_at for b in mine] == [at("2027-01-12 10:00"), at("2027-01-26 10:00")]


def test_a_series_with_no_free_date_offers_no_skip(scene, login, create_booking):
    for day in ("2027-01-12", "2027-01-19"):
        create_booking(scene.room, scene.owner, scene.manager, at(f"{day} 10:00"))
    response = login(scene.member).post(f"/bookings/new?resource={scene.room.slug}",
                                        data=form(repeat="WEEKLY", occurrences="2"))
    assert response.status_code == 409 and "skip-conflicts" not in response.text
    assert len(row_texts(response.text, "clashing")) == 2


def test_still_fits_costs_the_same_statements_for_few_or_many_requests(
        scene, login, create_resource, create_booking):
    client = login(scene.manager)

    def grow(count: int) -> int:
        for number in range(count):
            resource = create_resource(owner=scene.owner, site=scene.room.site,
                                       requires_approval=True)
            start = at("2027-01-11 08:00") + timedelta(days=number)
            create_booking(resource, scene.booker, scene.member, start, status="pending")
            create_booking(resource, scene.owner, scene.manager, start)  # in its way
            close_on(resource, f"2027-01-{11 + number:02d}")
        db.session.expire_all()
        return statements_for(client, "/bookings/approvals")

    few = grow(2)
    assert grow(15) == few
    assert client.get("/bookings/approvals").text.count('class="fit-no"') == 17
