"""Shared by the booking page tests: English pages (the French catalogue translates the
messages they look for) and a count of the SQL statements a request costs."""

from contextlib import contextmanager

import pytest
from sqlalchemy import event

from sharing.extensions import db
from sharing.models import User


@pytest.fixture(autouse=True)
def english(app):
    """Every user of a booking page test reads English (the factory's default is French)."""

    @event.listens_for(User, "init")
    def speak_english(_user, _args, kwargs):
        kwargs["locale"] = "en"

    yield
    event.remove(User, "init", speak_english)


@contextmanager
def counted_statements():
    statements = []

    def count(_conn, _cursor, statement, *_args):
        statements.append(statement)

    event.listen(db.engine, "before_cursor_execute", count)
    try:
        yield statements
    finally:
        event.remove(db.engine, "before_cursor_execute", count)
