"""Is the database there, and is its schema the one this code expects?"""

from functools import cache

from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from flask import current_app
from sqlalchemy.exc import SQLAlchemyError

from sharing.core.extensions import db


def database_problem() -> str | None:
    """None when ready; otherwise what is wrong, in a few words for the operator."""
    try:
        with db.engine.connect() as connection:
            current = set(MigrationContext.configure(connection).get_current_heads())
    except SQLAlchemyError:
        return "database unreachable"
    if current != migration_heads():
        return "migrations not at head (run flask db upgrade)"
    return None


def migration_heads() -> set[str]:
    return heads_in(current_app.extensions["migrate"].directory)


@cache  # the scripts do not change while the process runs
def heads_in(directory: str) -> set[str]:
    return set(ScriptDirectory(directory).get_heads())
