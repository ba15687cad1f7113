"""What the database plumbing reads back: aware UTC timestamps (SQLite keeps naive UTC
text, read in one step), and rows as named tuples for pages that read thousands."""

from datetime import UTC, datetime, timedelta, timezone

from sqlalchemy import func, select

from sharing.core.database import named_rows
from sharing.core.extensions import db
from sharing.models import Booking


def test_timestamps_come_back_aware_in_utc_to_the_microsecond(scene, create_booking):
    winter_paris = timezone(timedelta(hours=1))
    start = datetime(2027, 1, 12, 10, 15, 30, 123456, tzinfo=winter_paris)
    booking = create_booking(scene.room, scene.booker, scene.member, start, minutes=90)
    db.session.expire_all()
    read = db.session.get(Booking, booking.id)
    assert read.starts_at == start and read.starts_at.tzinfo == UTC
    assert read.starts_at.hour == 9 and read.ends_at - read.starts_at == timedelta(minutes=90)
    latest = db.session.scalar(select(func.max(Booking.ends_at)))
    assert latest == start + timedelta(minutes=90) and latest.utcoffset() == timedelta(0)
    assert db.session.scalar(select(Booking.created_at)).tzinfo is not None


def test_named_rows_read_like_rows(scene, create_booking):
    start = datetime(2027, 1, 12, 9, tzinfo=UTC)
    create_booking(scene.room, scene.booker, scene.member, start, title="Atelier")
    (row,) = named_rows(db.session.execute(
        select(Booking.id, Booking.title, Booking.starts_at.label("start"))))
    assert row.title == "Atelier" and row.start == start and row[1] == "Atelier"
    assert row._fields == ("id", "title", "start")
