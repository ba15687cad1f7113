"""A consistent copy of a live SQLite database, taken with SQLite's online backup API
while servers keep writing. PostgreSQL has its own tools (pg_dump; see the README)."""

import os
import sqlite3
from contextlib import closing
from pathlib import Path

from flask_babel import gettext as _

from sharing.core.extensions import db
from sharing.core.validation import InvalidInput


def backup_sqlite(target: Path) -> Path:
    """Copy the database to `target` (a new file) as it stood at one moment; raises
    InvalidInput for PostgreSQL or an existing target."""
    url = db.engine.url
    if url.get_backend_name() != "sqlite":
        raise InvalidInput(path=_("The database is PostgreSQL: back it up with pg_dump "
                                  "(see the README), not with this command."))
    if target.exists():
        raise InvalidInput(path=_("%(path)s already exists: choose a new file.",
                                  path=str(target)))
    draft = target.with_name(f".{target.name}.partial")
    with closing(sqlite3.connect(url.database)) as source, \
            closing(sqlite3.connect(draft)) as copy:
        source.backup(copy)  # all pages in one step: one read transaction, one moment
    os.replace(draft, target)
    return target
