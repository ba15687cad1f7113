"""Database plumbing: SQLite pragmas and write locks, time-zone aware UTC timestamps."""

import json
from collections import namedtuple
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from functools import lru_cache

from flask import Flask, current_app, has_request_context, request
from sqlalchemy import (
    ARRAY,
    DateTime,
    Integer,
    any_,
    event,
    func,
    literal,
    literal_column,
    or_,
    select,
)
from sqlalchemy.engine import Engine, Result
from sqlalchemy.exc import InterfaceError, OperationalError
from sqlalchemy.types import TypeDecorator

from sharing.core.extensions import db

SQLITE_BUSY_TIMEOUT_MS = 30_000
# What a lost or refused connection raises (a restart, a failover, a cut, a full pool).
DATABASE_UNREACHABLE = (OperationalError, InterfaceError)
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def utcnow() -> datetime:
    return datetime.now(UTC)


def named_rows(result: Result) -> Iterator[tuple]:
    """The result's rows, one by one, as named tuples: SQLAlchemy finds a Row's field by
    its name in Python, ten times slower than a tuple's, and a page of thousands of rows
    reads them ten times each."""
    return map(row_type(tuple(result.keys()))._make, result)


@lru_cache(maxsize=64)
def row_type(names: tuple[str, ...]) -> type[tuple]:
    return namedtuple("NamedRow", names)


class UTCDateTime(TypeDecorator):
    """A timestamp stored in UTC and always read back time-zone aware.

    SQLite has no time zones: values are stored as naive UTC text, which sorts and
    compares correctly because every row uses the same zone and format.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given where an aware one is required")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def result_processor(self, dialect, coltype):
        # SQLite's text read in one step: parsing it, then `replace(tzinfo=...)`, costs ten
        # times as much, which thousands of bookings on one page repeat.
        if dialect.name == "sqlite":
            return read_sqlite_utc
        return super().result_processor(dialect, coltype)

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


def read_sqlite_utc(value: str | None) -> datetime | None:
    return None if value is None else datetime.fromisoformat(f"{value}+00:00")


def init_app(app: Flask) -> None:
    if not event.contains(db.session, "after_flush", remember_flush):
        watch_flushes()
    with app.app_context():
        engine = db.engine
        if engine.dialect.name == "sqlite":
            configure_sqlite(engine)


def configure_sqlite(engine: Engine) -> None:
    """WAL, foreign keys, a busy timeout, and transactions that begin when we say so.

    pysqlite defers BEGIN until the first write, so a read-then-insert check would not be
    atomic between processes. We take over BEGIN: deferred for reading, IMMEDIATE (the
    write lock, taken up front) for writing (see `sqlite_begin_mode`).
    """

    @event.listens_for(engine, "connect")
    def on_connect(dbapi_connection, _record):
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()
        dbapi_connection.create_function("unicode_lower", 1, unicode_lower, deterministic=True)

    @event.listens_for(engine, "begin")
    def on_begin(connection):
        connection.exec_driver_sql(f"BEGIN {sqlite_begin_mode(connection)}")


def sqlite_begin_mode(connection) -> str:
    """IMMEDIATE for transactions that will write: asked for, or serving a POST, PUT…

    A deferred transaction that reads and then writes must upgrade its lock, and SQLite
    refuses that upgrade at once ("database is locked") when another connection wrote in
    between. Taking the write lock up front makes it wait its turn (busy timeout) instead.
    """
    asked = connection.get_execution_options().get("sqlite_begin")
    if asked:
        return asked
    if has_request_context() and request.method not in SAFE_METHODS \
            and not is_reads_only(request.endpoint):
        return "IMMEDIATE"
    return "DEFERRED"


def reads_only(view: Callable) -> Callable:
    """Mark a view whose POST writes nothing (signing in): it must not hold the write lock
    while it works, e.g. while it checks a password hash."""
    view.sharing_reads_only = True
    return view


def is_reads_only(endpoint: str | None) -> bool:
    view = current_app.view_functions.get(endpoint or "")
    return bool(getattr(view, "sharing_reads_only", False))


class UnsavedChanges(RuntimeError):
    """A transaction was asked for while the session held changes not yet written."""


def refuse_unsaved_changes() -> None:
    """A half-made change must never ride along with the transaction about to begin:
    its caller commits or drops it first. That includes changes already flushed (a
    query flushes pending objects) but not committed."""
    session = db.session
    if has_changes(session) or session.info.get(FLUSHED):
        raise UnsavedChanges("the session holds changes not yet committed: commit or "
                             "roll them back before this transaction")


def has_changes(session) -> bool:
    """Objects to insert or delete, or with an attribute really changed."""
    return bool(session.new or session.deleted) or any(
        session.is_modified(obj) for obj in session.dirty)


FLUSHED = "sharing_flushed_uncommitted"


def remember_flush(session, _context) -> None:
    if has_changes(session):  # still the state before the flush
        session.info[FLUSHED] = True


def forget_flush(session, transaction) -> None:
    if transaction.parent is None:  # the outermost transaction ended: written or undone
        session.info.pop(FLUSHED, None)


def watch_flushes() -> None:
    event.listen(db.session, "after_flush", remember_flush)
    event.listen(db.session, "after_transaction_end", forget_flush)


@contextmanager
def write_transaction() -> Iterator[None]:
    """Run the block in one transaction that holds the write lock on SQLite.

    On PostgreSQL the caller takes row locks (`SELECT … FOR UPDATE`) inside the block.
    Commits on success, rolls back on any exception. A session with unsaved changes is
    refused (`UnsavedChanges`); its read-only transaction, if any, is closed first, so
    the lock is taken before anything is read.
    """
    begin_fresh("IMMEDIATE")
    try:
        yield
        db.session.commit()
    except BaseException:
        db.session.rollback()
        raise


@contextmanager
def read_transaction() -> Iterator[None]:
    """Run the block in a transaction that reads only and locks nothing, even while
    serving a POST (SQLite would otherwise take its write lock again): what is computed
    after a write transaction, such as alternatives, never holds others back."""
    begin_fresh("DEFERRED")
    try:
        yield
    finally:
        db.session.rollback()


def begin_fresh(sqlite_mode: str) -> None:
    """A new transaction (`BEGIN <sqlite_mode>` on SQLite) once the session's read-only
    one, if any, is closed; a session with unsaved changes is refused."""
    refuse_unsaved_changes()
    db.session.commit()
    db.session.connection(execution_options={"sqlite_begin": sqlite_mode})


def unicode_lower(text: str | None) -> str | None:
    return None if text is None else text.lower()


def case_blind(column):
    """SQL: the column in lower case for searching, "É" included (SQLite's own lower()
    only knows A to Z)."""
    return func.unicode_lower(column) if db.engine.dialect.name == "sqlite" else func.lower(column)


def any_contains(text: str, *columns):
    """SQL: one of the columns contains the text, whatever the case (wildcards taken as
    plain characters)."""
    return or_(*(case_blind(column).contains(text.lower(), autoescape=True)
                 for column in columns))


def among(column, ids: list[int]):
    """SQL: `column IN ids` with the ids sent as one value (a PostgreSQL array, a JSON
    list on SQLite), not one bound parameter each: a thousand ids then cost nothing to
    bind, and the statement is the same whatever their number. The index on the column is
    still probed id by id."""
    if is_postgresql():
        return column == any_(literal(list(ids), ARRAY(Integer)))
    return column.in_(select(literal_column("value"))
                      .select_from(func.json_each(literal(json.dumps(list(ids))))))


def is_postgresql() -> bool:
    return db.engine.dialect.name == "postgresql"
