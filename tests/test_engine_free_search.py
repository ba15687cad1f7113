"""Property-based: the free search (one holders query, the rules worked out once per site)
answers exactly what the per-resource reference does: `engine.check` on each resource,
keeping the resource's own reasons (the free search is about any booker, so permission,
quotas and credits are left out of both).

Random policies (opening hours, buffers, notice, advance limit, grid, durations, units),
random bookings, closures and external busy periods, quotas that the booker exceeds, and
random slots, some across midnight, off the grid or on the nights clocks change, on two
sites in different time zones.
"""

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from engine_helpers import NOW
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from sqlalchemy import delete

from sharing.core.extensions import db
from sharing.engine import BookingRequest, check, find_free_resources
from sharing.models import Booking, Closure, ExternalBusy, ExternalCalendar, Quota
from sharing.services.notifications import silenced

BOOKER_REASONS = ("not_allowed", "quota", "credit")
FIRST_DAY = datetime(2027, 3, 25)  # a Thursday: Paris changes its clocks on Sunday 28 March
DAYS = 7
RESOURCES = 6
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
TIMETABLES = [
    {},
    {d: [["08:00", "12:00"], ["13:30", "18:00"]] for d in WEEKDAYS[:5]},
    {d: [["08:00", "20:00"]] for d in WEEKDAYS[:6]},
    {d: [["00:00", "06:00"], ["20:00", "24:00"]] for d in WEEKDAYS},  # nights
    {"sun": [["01:00", "04:00"]], "sat": [["10:00", "12:00"], ["12:00", "16:00"]]},
    {"sun": [["00:00", "02:30"]]},  # ends at a time the clocks skip on 28 March
]
LENIENT = {"opening_hours": {}, "buffer_minutes": 0, "min_notice_minutes": 0,
           "max_advance_days": None, "quantity": 1, "slot_minutes": 15,
           "min_duration_minutes": 0, "max_duration_minutes": None}


def edge_case(first_policy: dict, bookings=(), slot=(4, 40, 4, 0, 1)) -> dict:
    """An example every run tries: the first resource's rule decides."""
    return {"policies": [{**LENIENT, **first_policy}] + [LENIENT] * (RESOURCES - 1),
            "bookings": list(bookings), "closures": [], "external": [], "slot": slot,
            "now": None}

# each rule mostly lenient, so that the others have their say
policies = st.fixed_dictionaries({
    "opening_hours": st.sampled_from([{}, {}, *TIMETABLES]),
    "buffer_minutes": st.sampled_from([0, 15, 30]),
    "min_notice_minutes": st.sampled_from([0, 0, 0, 60, 3 * 24 * 60]),
    "max_advance_days": st.sampled_from([None, None, None, 10, 400]),
    "quantity": st.integers(1, 3),
    "slot_minutes": st.sampled_from([15, 15, 15, 30, 60]),
    "min_duration_minutes": st.sampled_from([0, 0, 30]),
    "max_duration_minutes": st.sampled_from([None, None, None, 60, 240]),
})
# near the slot, so that edges meet: resource, quarters from the slot's start, quarters
periods = st.tuples(st.integers(0, RESOURCES - 1), st.integers(-12, 12), st.integers(1, 12))
bookings = st.tuples(periods, st.integers(1, 3),
                     st.sampled_from(["confirmed", "confirmed", "pending", "cancelled"]))
# day (often the night the clocks change), quarter (often at night), quarters, minutes off
# the grid, units
slots = st.tuples(st.sampled_from([3, 3, 3, 0, 1, 2, 4, 5, 6]),
                  st.one_of(st.integers(0, 20), st.integers(0, 95)),
                  st.one_of(st.integers(1, 8), st.integers(1, 40)),
                  st.sampled_from([0] * 9 + [5]), st.sampled_from([1, 1, 2, 3]))
nows = st.one_of(st.just(None), st.integers(0, 6 * 24))  # None: NOW; else hours before


@pytest.fixture
def estate(scene, create_site, create_resource):
    """Resources of the owner on two sites, in Paris and in Montréal."""
    montreal = create_site(name="Montréal", timezone="America/Toronto")
    sites = [scene.room.site, montreal]
    resources = [create_resource(kind="equipment", owner=scene.owner, site=sites[n % 2])
                 for n in range(RESOURCES)]
    calendars = [ExternalCalendar(resource_id=r.id, url=f"https://example.org/{r.id}.ics")
                 for r in resources]
    db.session.add_all(calendars)
    db.session.commit()
    return scene, resources, calendars


def moment(resource, day: int, quarter: int, extra_minutes: int = 0) -> datetime:
    wall = FIRST_DAY + timedelta(days=day, minutes=15 * quarter + extra_minutes)
    return wall.replace(tzinfo=ZoneInfo(resource.timezone))


def span(resources, period, slot_start: datetime) -> tuple:
    index, offset, quarters = period
    start = slot_start.astimezone(UTC) + timedelta(minutes=15 * offset)
    return resources[index], start, start + timedelta(minutes=15 * quarters)


def reset(resources, calendars, scene, drawn, slot_start: datetime) -> None:
    """The example's policies and rows, the last example's rows gone."""
    for table in (Booking, Closure, ExternalBusy, Quota):
        db.session.execute(delete(table))
    for resource, policy in zip(resources, drawn["policies"], strict=True):
        for name, value in policy.items():
            setattr(resource, name, value)
    for period, units, status in drawn["bookings"]:
        resource, start, end = span(resources, period, slot_start)
        db.session.add(Booking(
            resource_id=resource.id, organisation_id=scene.owner.id, user_id=scene.manager.id,
            starts_at=start, ends_at=end, status=status, quantity=units,
            blocks_until=end + timedelta(minutes=resource.buffer_minutes)))
    for period in drawn["closures"]:
        resource, start, end = span(resources, period, slot_start)
        db.session.add(Closure(resource_id=resource.id, starts_at=start, ends_at=end))
    for period in drawn["external"]:
        resource, start, end = span(resources, period, slot_start)
        db.session.add(ExternalBusy(calendar_id=calendars[period[0]].id,
                                    resource_id=resource.id, starts_at=start, ends_at=end))
    db.session.add(Quota(organisation_id=scene.owner.id, resource_kind="equipment",
                         max_hours_per_week=0.5, max_hours_per_month=1))
    with silenced():
        db.session.commit()


def reference_free(scene, resources, start, end, quantity, now) -> set[int]:
    """`engine.check` on each resource, its own reasons only."""
    free = set()
    for resource in resources:
        request = BookingRequest(resource_id=resource.id, organisation_id=scene.owner.id,
                                 start=start, end=end, quantity=quantity)
        conflicts = check(scene.manager, request, now=now)
        if not [c for c in conflicts if c.code not in BOOKER_REASONS]:
            free.add(resource.id)
    return free


@settings(max_examples=60, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture,
                                 HealthCheck.too_slow, HealthCheck.data_too_large])
@given(drawn=st.fixed_dictionaries({
    "policies": st.lists(policies, min_size=RESOURCES, max_size=RESOURCES),
    "bookings": st.lists(bookings, max_size=6),
    "closures": st.lists(periods, max_size=1),
    "external": st.lists(periods, max_size=1),
    "slot": slots, "now": nows}))
# a booking starting when the slot ends, inside the changeover buffer
@example(drawn=edge_case({"buffer_minutes": 30}, [((0, 4, 2), 1, "confirmed")]))
# open until 02:30 on the night that time is skipped: until 03:30 summer time
@example(drawn=edge_case({"opening_hours": TIMETABLES[-1]}, slot=(3, 4, 6, 0, 1)))
# two units, one taken
@example(drawn=edge_case({"quantity": 2}, [((0, 0, 4), 1, "confirmed")]))
# just after the clocks skip an hour, a booking begun 2 h 45 min before in Montréal: the
# look back, counted on the slot's wall clock, lost that hour
@example(drawn={**edge_case({}, slot=(3, 12, 1, 0, 1)),
                "bookings": [((0, 0, 1), 1, "confirmed"), ((1, -11, 12), 1, "confirmed")]})
def test_free_search_answers_as_checking_each_resource(estate, drawn):
    scene, resources, calendars = estate
    day, quarter, quarters, off_grid, quantity = drawn["slot"]
    start = moment(resources[0], day, quarter, off_grid)
    end = start.astimezone(UTC) + timedelta(minutes=15 * quarters)  # not wall-clock sums
    reset(resources, calendars, scene, drawn, start)
    now = NOW if drawn["now"] is None else start - timedelta(hours=drawn["now"])
    found = {r.id for r in find_free_resources(resources, start, end, quantity, now=now)}
    assert found == reference_free(scene, resources, start, end, quantity, now)


def test_free_search_keeps_the_order_it_was_given(estate):
    scene, resources, _calendars = estate
    start = moment(resources[0], 5, 40)
    shuffled = resources[::-1]
    found = find_free_resources(shuffled, start, start + timedelta(hours=1), now=NOW)
    assert found == shuffled  # nothing held, no rule in the way
