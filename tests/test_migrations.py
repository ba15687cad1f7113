"""The schema comes from the migrations: they build an empty database into exactly what the
models declare, on SQLite and on PostgreSQL, and take it back down to nothing."""

import logging
import warnings
from datetime import UTC, date, datetime, timedelta

import flask_migrate
import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from conftest import make_app
from engine_helpers import booking_row
from sqlalchemy import insert, inspect, select, text, update
from sqlalchemy.exc import DatabaseError, IntegrityError

from sharing.core.extensions import db
from sharing.models import (
    BookedMonth,
    Booking,
    CreditEntry,
    Organisation,
    Resource,
    Site,
    User,
)


@pytest.fixture(autouse=True)
def keep_logging_as_it_was():
    """Alembic's env.py calls `logging.config.fileConfig`, which disables every logger that
    already exists and resets the root logger; later tests must still see what the
    application logs."""
    root = logging.getLogger()
    level, handlers = root.level, list(root.handlers)
    disabled = {logger: logger.disabled for logger in all_loggers()}
    yield
    root.setLevel(level)
    root.handlers[:] = handlers
    for logger in all_loggers():
        logger.disabled = disabled.get(logger, False)


def all_loggers() -> list[logging.Logger]:
    return [logger for logger in logging.root.manager.loggerDict.values()
            if isinstance(logger, logging.Logger)]


# SQLite cannot reflect expression indexes; `assert_emails_unique_whatever_the_case` checks it.
@pytest.fixture(autouse=True)
def expression_index_not_compared_on_sqlite():
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", "autogenerate skipping metadata-specified expression")
        warnings.filterwarnings("ignore", "Skipped unsupported reflection of expression-based")
        yield


def schema_differences() -> list:
    with db.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        return compare_metadata(context, db.metadata)


def table_names() -> set[str]:
    return set(inspect(db.engine).get_table_names()) - {"alembic_version"}


def assert_emails_unique_whatever_the_case() -> None:
    insert = text("INSERT INTO \"user\" (email, display_name, locale, timezone, is_admin, active,"
                  " created_at) VALUES (:email, 'X', 'fr', 'UTC', false, true, '2026-01-01')")
    with db.engine.connect() as connection:
        connection.execute(insert, {"email": "camille@example.org"})
        with pytest.raises(IntegrityError):
            connection.execute(insert, {"email": "Camille@Example.org"})
        connection.rollback()


def assert_migrations_build_the_models(database_url: str, instance_path) -> None:
    app = make_app(database_url, instance_path)
    with app.app_context():
        assert table_names() == set()
        flask_migrate.upgrade()
        assert table_names() == set(db.metadata.tables)
        assert schema_differences() == []
        assert_emails_unique_whatever_the_case()

        flask_migrate.downgrade(revision="base")
        assert table_names() == set()
        db.engine.dispose()


def test_upgrade_an_empty_sqlite_file(tmp_path):
    assert_migrations_build_the_models(f"sqlite:///{tmp_path / 'empty.sqlite3'}",
                                       tmp_path / "instance")


@pytest.mark.postgresql
def test_upgrade_an_empty_postgresql_database(postgres, tmp_path):
    assert_migrations_build_the_models(postgres.create(), tmp_path / "instance")


def assert_credit_entries_get_the_booking_organisation(database_url: str, instance_path) -> None:
    """Entries written before the column name their booking's organisation after it, and
    the ledger refuses updates again, and after a downgrade too."""
    app = make_app(database_url, instance_path)
    with app.app_context():
        flask_migrate.upgrade(revision="4b8e1f6c2a90")
        payer, owner = Organisation(slug="payer", name="Payer"), Organisation(slug="o", name="O")
        user = User(email="m@example.org", display_name="M")
        resource = Resource(kind="room", name="Salle", slug="salle", owner=owner,
                            site=Site(name="Site"))
        start = datetime(2027, 3, 1, 9, tzinfo=UTC)
        db.session.add_all([payer, user, resource])
        db.session.flush()
        # the models' events write columns and tables that do not exist yet
        booking_id = db.session.scalar(
            insert(Booking.__table__).returning(Booking.id),
            booking_row("before", resource.id, payer.id, user.id, start,
                        start + timedelta(hours=1)))
        db.session.execute(insert(CreditEntry.__table__), [
            {"organisation_id": org.id, "amount_cents": cents, "reason": "charge",
             "booking_id": booking_id, "memo": "", "at": start}
            for org, cents in ((payer, -300), (owner, 300))])
        db.session.commit()
        flask_migrate.upgrade()
        named = db.session.execute(select(CreditEntry.organisation_id,
                                          CreditEntry.booking_organisation_id)).all()
        assert sorted(named) == sorted([(payer.id, payer.id), (owner.id, payer.id)])
        # and the booking made before its month was counted is counted by the migration
        assert db.session.execute(select(BookedMonth.month, BookedMonth.resource_id,
                                         BookedMonth.organisation_id, BookedMonth.seconds,
                                         BookedMonth.bookings)).all() == \
            [(date(2027, 3, 1), resource.id, payer.id, 3600, 1)]
        assert_ledger_refuses_updates()
        flask_migrate.downgrade(revision="4b8e1f6c2a90")
        assert_ledger_refuses_updates()
        db.engine.dispose()


def assert_ledger_refuses_updates() -> None:
    with pytest.raises(DatabaseError):
        db.session.execute(update(CreditEntry.__table__).values(amount_cents=1))
    db.session.rollback()


def test_credit_entries_get_the_booking_organisation_on_sqlite(tmp_path):
    assert_credit_entries_get_the_booking_organisation(
        f"sqlite:///{tmp_path / 'ledger.sqlite3'}", tmp_path / "instance")


@pytest.mark.postgresql
def test_credit_entries_get_the_booking_organisation_on_postgresql(postgres, tmp_path):
    assert_credit_entries_get_the_booking_organisation(postgres.create(),
                                                       tmp_path / "instance")
