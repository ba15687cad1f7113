"""Impact reports against figures computed by hand: March 2027 in Paris, with a booking
straddling each edge of the period and one across the night the clocks go forward."""

import csv
import io
import json
from datetime import UTC, date, datetime

import pytest
from api_helpers import Api
from engine_helpers import at

from sharing.core.extensions import db
from sharing.core.validation import InvalidInput
from sharing.engine import NotAllowed
from sharing.engine.times import at_wall_minutes, open_intervals, zone
from sharing.models import Closure, CreditEntry
from sharing.services.reports import impact_report, read_query, weekly_seconds

MARCH = {"start": "2027-03-01", "end": "2027-03-31"}


@pytest.fixture
def pole(scene, create_resource, create_booking, create_user, create_organisation):
    """The room has no opening hours (08:00-20:00 on weekdays is assumed); the expert
    works 09:00-17:00 on weekdays. March 2027 has 23 weekdays: 276 and 184 open hours."""
    scene.room.free_cancellation_minutes = 60
    expert = create_resource(kind="expertise", owner=scene.owner, site=scene.room.site,
                             name="Diagnostic énergie", person_id=scene.manager.id,
                             opening_hours={d: [["09:00", "17:00"]]
                                            for d in ("mon", "tue", "wed", "thu", "fri")})
    booker, owner, room = scene.booker, scene.owner, scene.room
    made = [
        (room, booker, "2027-02-28 22:00", 240, "confirmed"),  # 2 h in March
        # 01:00-04:00 on the wall clock (aware arithmetic is wall time): 2 real hours
        (room, booker, "2027-03-28 01:00", 180, "confirmed"),
        (room, owner, "2027-03-10 10:00", 180, "confirmed"),  # own: 3 h, not shared
        (expert, booker, "2027-03-31 23:00", 120, "confirmed"),  # 1 h in March
        (expert, owner, "2027-03-15 09:00", 120, "confirmed"),  # 2 h
        (room, booker, "2027-03-20 10:00", 60, "cancelled"),  # late (decided 09:30)
        (room, booker, "2027-03-21 10:00", 60, "cancelled"),  # in time
        (room, booker, "2027-03-22 10:00", 60, "rejected"),
        (room, booker, "2027-04-05 10:00", 60, "confirmed"),  # after the period
    ]
    bookings = [create_booking(resource, org, scene.member, at(start), minutes, status=status)
                for resource, org, start, minutes, status in made]
    bookings[5].decided_at = at("2027-03-20 09:30")
    bookings[6].decided_at = at("2027-03-18 09:30")
    db.session.add_all([
        CreditEntry(organisation_id=booker.id, amount_cents=-200, reason="charge",
                    booking_id=bookings[1].id, at=datetime(2027, 3, 20, tzinfo=UTC)),
        CreditEntry(organisation_id=owner.id, amount_cents=200, reason="charge",
                    booking_id=bookings[1].id, at=datetime(2027, 3, 20, tzinfo=UTC))])
    db.session.commit()
    admin = create_user(email="admin@example.org", is_admin=True)
    outsider = create_user(email="out@example.org", organisation=create_organisation())
    return scene, expert, admin, outsider


def test_the_coordinator_sees_the_whole_pole(pole):
    scene, expert, admin, _ = pole
    report = impact_report(admin, read_query({**MARCH, "hourly_cost": "30"}))
    assert report["period"] == {"start": "2027-03-01", "end": "2027-03-31"}
    assert report["totals"] == {
        "hours": 10, "cross_org_hours": 5, "cross_org_share": 0.5,
        "occupancy": round(10 / 460, 4), "organisations_served": 2,
        "credits_circulated": 2.0, "cancellations": 2, "late_cancellations": 1}
    assert report["default_opening_hours"]["resources"] == 1
    room, diagnostic = sorted(report["by_resource"], key=lambda r: r["kind"])[::-1]
    assert (room["hours"], room["cross_org_hours"], room["organisations"],
            room["open_hours"], room["occupancy"]) == (7, 4, 2, 276, round(7 / 276, 4))
    assert (diagnostic["hours"], diagnostic["open_hours"], diagnostic["organisations"]) == \
        (3, 184, 2)
    by_org = {line["name"]: line for line in report["by_organisation"]}
    booker, owner = by_org[scene.booker.name], by_org[scene.owner.name]
    assert (booker["hours"], booker["cross_org_hours"], booker["staff_hours"],
            booker["sessions"], booker["staff_cost"], booker["staff_share"]) == \
        (5, 5, 1, 1, 30, 0.3333)
    assert (owner["hours"], owner["staff_hours"], owner["staff_cost"]) == (5, 2, 60)
    assert (booker["cancellations"], booker["late_cancellations"], booker["credits_paid"]) \
        == (2, 1, 2.0)
    assert report["by_month"] == [{"month": "2027-03", "hours": 10, "cross_org_hours": 5}]


def test_closures_take_their_hours_off_the_open_time(pole):
    """The room (08:00-20:00 on weekdays) is closed from before the period to Monday 1st
    included (12 h), and from Wednesday 3rd at noon to Thursday 4th included (8 + 12 h),
    an hour of which is closed twice; the expert's closure is in April."""
    scene, expert, admin, _ = pole
    db.session.add_all([
        Closure(resource_id=scene.room.id, starts_at=at("2027-02-25 00:00"),
                ends_at=at("2027-03-02 00:00")),
        Closure(resource_id=scene.room.id, starts_at=at("2027-03-03 12:00"),
                ends_at=at("2027-03-05 00:00")),
        Closure(resource_id=scene.room.id, starts_at=at("2027-03-04 10:00"),
                ends_at=at("2027-03-04 11:00")),
        Closure(resource_id=expert.id, starts_at=at("2027-04-01 00:00"),
                ends_at=at("2027-04-02 00:00"))])
    db.session.commit()
    report = impact_report(admin, read_query(MARCH))
    open_hours = {line["id"]: line["open_hours"] for line in report["by_resource"]}
    assert open_hours == {scene.room.id: 276 - 32, expert.id: 184}
    assert report["totals"]["occupancy"] == round(10 / (460 - 32), 4)


def test_months_split_a_booking_at_local_midnight(pole):
    _, _, admin, _ = pole
    report = impact_report(admin, read_query({"start": "2027-02-01", "end": "2027-04-30"}))
    assert [(m["month"], m["hours"]) for m in report["by_month"]] == [
        ("2027-02", 2), ("2027-03", 10), ("2027-04", 2)]


def test_filters_narrow_the_report(pole):
    _, expert, admin, _ = pole
    report = impact_report(admin, read_query({**MARCH, "kind": "expertise"}))
    assert report["totals"]["hours"] == 3 and len(report["by_resource"]) == 1
    report = impact_report(admin, read_query({**MARCH, "resource": str(expert.id)}))
    assert report["totals"]["hours"] == 3


def test_credits_follow_the_filters(pole):
    """What the booking organisation paid for the room's booking: not what its owner got."""
    scene, _, admin, _ = pole

    def credits(**filters) -> float:
        report = impact_report(admin, read_query({**MARCH, **filters}))
        return report["totals"]["credits_circulated"]

    assert (credits(kind="room"), credits(kind="expertise")) == (2.0, 0)
    assert (credits(organisation=str(scene.booker.id)),
            credits(organisation=str(scene.owner.id))) == (2.0, 0)


def test_a_member_sees_only_its_organisation(pole):
    scene, _, _, _ = pole
    report = impact_report(scene.member, read_query(MARCH))
    assert report["organisation_id"] == scene.booker.id
    assert report["totals"]["hours"] == 5 and report["totals"]["organisations_served"] == 1
    assert [line["name"] for line in report["by_organisation"]] == [scene.booker.name]
    assert all(line["organisations"] == 1 for line in report["by_resource"])


def test_nobody_reads_another_organisations_report(pole):
    scene, _, _, outsider = pole
    with pytest.raises(NotAllowed):
        impact_report(outsider, read_query({**MARCH, "organisation": str(scene.booker.id)}))


@pytest.mark.parametrize(("args", "field"), [
    ({"start": "2027-03-01"}, "end"), ({"start": "2027-3-1", "end": "2027-03-31"}, "start"),
    ({"start": "2027-03-31", "end": "2027-03-01"}, "end"),
    ({"start": "2020-01-01", "end": "2027-01-01"}, "end"),
    ({**MARCH, "kind": "castle"}, "kind"), ({**MARCH, "site": "-1"}, "site"),
    ({**MARCH, "hourly_cost": "nan"}, "hourly_cost"),
    ({"start": "1999-12-31", "end": "2000-01-02"}, "start"),
])
def test_bad_filters_name_their_field(args, field, app):
    with pytest.raises(InvalidInput) as error:
        read_query(args)
    assert field in error.value.fields


def test_the_api_answers_the_report_shape(client, pole):
    scene, _, admin, outsider = pole
    response = Api(client, admin).get("/reports/impact?start=2027-03-01&end=2027-03-31")
    assert response.status_code == 200
    assert set(response.json) >= {"period", "totals", "by_resource", "by_organisation",
                                  "by_month"}
    assert set(response.json["totals"]) >= {
        "hours", "cross_org_hours", "cross_org_share", "occupancy", "organisations_served",
        "credits_circulated", "cancellations"}
    assert Api(client, outsider).get(
        f"/reports/impact?start=2027-03-01&end=2027-03-31&organisation={scene.booker.id}"
    ).status_code == 403
    assert Api(client, admin).get("/reports/impact?start=2027-03-01").status_code == 422


def test_the_page_shows_charts_with_their_tables(client, login, pole):
    scene, _, admin, _ = pole
    admin.locale = "en"  # the page is read in English
    db.session.commit()
    login(admin)
    page = client.get("/reports/?start=2027-03-01&end=2027-03-31").text
    assert page.count("<svg") == 3 and page.count("<table") == 3
    assert "Diagnostic énergie" in page and "08:00-20:00" in page
    summary = client.get("/reports/summary?start=2027-03-01&end=2027-03-31").text
    assert "Pôle territorial" in summary and "2027-03-31" in summary and "<svg" in summary


def test_the_csv_has_one_block_per_part(client, login, pole):
    scene, _, admin, _ = pole
    login(admin)
    response = client.get("/reports/impact.csv?start=2027-03-01&end=2027-03-31")
    assert response.mimetype == "text/csv"
    rows = list(csv.reader(io.StringIO(response.text)))
    assert rows[1] == ["period", "2027-03-01", "2027-03-31"]
    headers = [row for row in rows if row[0] == "section"]
    assert [h[1] for h in headers[1:]] == ["hours", "id", "id", "month"]
    totals = rows[rows.index(headers[1]) + 1]
    assert dict(zip(headers[1], totals, strict=True))["cross_org_hours"] == "5.0"
    assert ["by_month", "2027-03", "10.0", "5.0"] in rows


def test_pages_refuse_what_the_viewer_may_not_see_and_bad_periods(client, login, pole):
    scene, _, _, outsider = pole
    login(outsider)
    assert client.get(f"/reports/?organisation={scene.booker.id}").status_code == 403
    login(scene.member)
    response = client.get("/reports/?start=2027-03-31&end=2027-03-01")
    assert response.status_code == 422 and 'id="end-error"' in response.text
    assert client.get("/reports/impact.csv?start=x&end=2027-03-01").status_code == 422


def test_a_booking_over_several_months_counts_in_each(scene, create_booking, create_user):
    """Started before the period, running through March (and its clock change) into
    April: each month and the period count only their part of it."""
    start, end = at("2027-02-20 10:00"), at("2027-04-05 10:00")
    wall_minutes = int((end - start).total_seconds() // 60)  # aware arithmetic is wall time
    create_booking(scene.room, scene.booker, scene.member, start, wall_minutes, quantity=2)
    admin = create_user(email="admin@example.org", is_admin=True)
    report = impact_report(admin, read_query({"start": "2027-02-01", "end": "2027-04-30"}))
    assert [(m["month"], m["hours"], m["cross_org_hours"]) for m in report["by_month"]] == [
        ("2027-02", 206, 206), ("2027-03", 743, 743), ("2027-04", 106, 106)]
    march = impact_report(admin, read_query(MARCH))
    assert (march["totals"]["hours"], march["totals"]["organisations_served"]) == (743, 1)
    room = next(r for r in march["by_resource"] if r["id"] == scene.room.id)
    assert (room["hours"], room["organisations"]) == (743, 1)


def test_the_report_says_no_shows_are_not_counted(client, login, pole):
    _, _, admin, _ = pole
    response = Api(client, admin).get("/reports/impact?start=2027-03-01&end=2027-03-31")
    assert response.json["no_shows_counted"] is False
    admin.locale = "en"
    db.session.commit()
    login(admin)
    page = client.get("/reports/?start=2027-03-01&end=2027-03-31").text
    assert "No-shows are not counted: bookings have no check-in." in page


SUNDAYS_ROUND_THE_CLOCK = json.dumps({"sun": [["00:00", "24:00"]]})
EARLY_SUNDAYS = json.dumps({"sun": [["01:00", "04:00"]], "mon": [["08:00", "12:00"]]})


@pytest.mark.parametrize(("hours", "first", "last", "expected_hours"), [
    # Sundays of March 2027: the 28th lasts 23 hours in Paris
    (SUNDAYS_ROUND_THE_CLOCK, date(2027, 3, 1), date(2027, 3, 31), 24 * 3 + 23),
    # Sundays of October 2027: the 31st lasts 25 hours
    (SUNDAYS_ROUND_THE_CLOCK, date(2027, 10, 1), date(2027, 10, 31), 24 * 4 + 25),
    # 01:00-04:00 on the wall clock: 2 real hours on 28 March, 4 on 31 October
    (EARLY_SUNDAYS, date(2027, 3, 28), date(2027, 3, 29), 2 + 4),
    (EARLY_SUNDAYS, date(2027, 10, 31), date(2027, 10, 31), 4),
])
def test_open_hours_follow_the_clock_changes(hours, first, last, expected_hours):
    """Counted day by day on the wall clock, except on the nights the clocks change:
    checked by hand, and against the open intervals laid out on the timeline."""
    tz = zone("Europe/Paris")
    laid_out = sum((b - a).total_seconds() for a, b in open_intervals(
        hours, tz, at_wall_minutes(first, 0, tz), at_wall_minutes(last, 24 * 60, tz)))
    assert weekly_seconds(hours, "Europe/Paris", first, last) == laid_out \
        == expected_hours * 3600


def test_a_new_deadline_judges_the_cancellations_again(pole):
    """Four days' notice: the cancellation three days before is now late too."""
    scene, _expert, admin, _ = pole
    scene.room.free_cancellation_minutes = 4 * 24 * 60
    db.session.commit()
    totals = impact_report(admin, read_query(MARCH))["totals"]
    assert (totals["cancellations"], totals["late_cancellations"]) == (2, 2)
