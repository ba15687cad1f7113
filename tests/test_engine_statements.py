"""How many SQL statements one booking sends, pinned so that it cannot grow back (issue 10).

Counted with a `before_cursor_execute` listener, as bench/engine.py counts them, for the
whole `engine.book` call (the confirmation e-mail queued on commit included), in a fresh
session holding only the user, as a request has after its login. PostgreSQL takes its row
locks in the statements that read the organisation and the resources anyway, and sends no
BEGIN.
"""

from contextlib import contextmanager
from datetime import timedelta

import pytest
from engine_helpers import NOW, at
from sqlalchemy import event, text

from sharing.core.database import SQLITE_BUSY_TIMEOUT_MS, is_postgresql
from sharing.core.extensions import db
from sharing.engine import BookingRefused, book
from sharing.engine import booking as booking_module
from sharing.models import Quota, User

# (SQLite, PostgreSQL): SQLite's BEGIN is a statement, PostgreSQL's is implicit
ONE_BOOKING = (10, 9)  # the insert, then its month in the reports' counts
WITH_QUOTAS = (11, 10)  # the organisation's quotas; its hours of a week and a month
REFUSED = (14, 12)  # the checks under the lock, then the alternatives after it
ALTERNATIVES = (7, 7)  # from the read-only transaction that looks for them


@contextmanager
def statements_sent():
    sent: list[str] = []

    def record(_conn, _cursor, statement, *_args):
        sent.append(" ".join(statement.split()))

    event.listen(db.engine, "before_cursor_execute", record)
    try:
        yield sent
    finally:
        event.remove(db.engine, "before_cursor_execute", record)


def expected(pair: tuple[int, int]) -> int:
    return pair[1] if is_postgresql() else pair[0]


def fresh_user(user_id: int) -> User:
    """A new session holding only the user."""
    db.session.remove()
    return db.session.get(User, user_id)


@pytest.fixture
def booked_before(scene, create_booking):
    """The room already held an hour's booking: its bound needs no widening (the usual
    case; the first booking of a resource widens it with one UPDATE more)."""
    create_booking(scene.room, scene.owner, scene.manager, at("2027-02-01 10:00"), 60)
    return scene


def statements_of_booking(scene, start: str, end: str) -> list[str]:
    request = scene.request(start, end)
    user = fresh_user(scene.member.id)
    with statements_sent() as sent:
        book(user, request, now=NOW)
    return sent


def test_one_booking_sends_a_pinned_number_of_statements(booked_before):
    sent = statements_of_booking(booked_before, "2027-03-02 10:00", "2027-03-02 11:00")
    assert len(sent) == expected(ONE_BOOKING), "\n".join(sent)
    assert not any(s.startswith("UPDATE resource") for s in sent)


def test_first_booking_of_a_resource_widens_its_bound_once(scene):
    sent = statements_of_booking(scene, "2027-03-02 10:00", "2027-03-02 11:00")
    assert len(sent) == expected(ONE_BOOKING) + 1, "\n".join(sent)


def test_a_booking_with_quotas_sends_a_pinned_number_of_statements(booked_before):
    db.session.add(Quota(organisation_id=booked_before.booker.id, resource_kind="room",
                         max_hours_per_week=10, max_hours_per_month=30))
    db.session.commit()
    sent = statements_of_booking(booked_before, "2027-03-02 10:00", "2027-03-02 11:00")
    assert len(sent) == expected(WITH_QUOTAS), "\n".join(sent)
    # the week's and the month's hours, in one statement
    assert [s.count("sum(") for s in sent if "sum(" in s] == [2]


def assert_nothing_locked(resource_id: int, organisation_id: int) -> None:
    """Another connection takes, without waiting, what the booking locked."""
    with db.engine.connect() as other:
        if is_postgresql():
            other.execute(text("SELECT id FROM organisation WHERE id = :id "
                               "FOR NO KEY UPDATE NOWAIT"), {"id": organisation_id})
            other.execute(text("SELECT id FROM resource WHERE id = :id FOR UPDATE NOWAIT"),
                          {"id": resource_id})
            other.rollback()
            return
        other.exec_driver_sql("PRAGMA busy_timeout=0")
        other.commit()
        try:
            other.execution_options(sqlite_begin="IMMEDIATE").begin()  # the write lock
            other.rollback()
        finally:
            other.exec_driver_sql(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
            other.commit()


def test_refusal_computes_alternatives_after_the_locks_in_bounded_statements(
        booked_before, monkeypatch):
    scene = booked_before
    room_id, booker_id = scene.room.id, scene.booker.id
    request = scene.request("2027-02-01 10:00", "2027-02-01 11:00")
    seen = {}

    def probed(*args):
        seen["alternatives from statement"] = len(sent)
        assert_nothing_locked(room_id, booker_id)
        del sent[seen["alternatives from statement"]:]  # the probe's own statements
        return find_alternatives(*args)

    find_alternatives = booking_module.find_alternatives
    monkeypatch.setattr(booking_module, "find_alternatives", probed)
    user = fresh_user(scene.member.id)
    with statements_sent() as sent, pytest.raises(BookingRefused) as refused:
        book(user, request, now=NOW)
    assert refused.value.alternatives  # the room is free an hour later
    assert refused.value.alternatives[0].start - request.start in (
        timedelta(minutes=-60), timedelta(minutes=60), timedelta(minutes=75))
    assert len(sent) == expected(REFUSED), "\n".join(sent)
    assert len(sent) - seen["alternatives from statement"] == expected(ALTERNATIVES), \
        "\n".join(sent)
