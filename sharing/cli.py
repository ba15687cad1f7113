"""Command-line administration: `flask --app sharing …`.

Each command parses its arguments, calls a service and commits. The created object's id
(or the token) is the last line it prints, so that scripts can capture it; bad input
exits non-zero with the reason on stderr, having written nothing. Outside a request the
messages are in the first of the configured `LANGUAGES`.
"""

import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import click
from flask.cli import AppGroup, with_appcontext
from flask_babel import gettext as _
from sqlalchemy import func, select

from sharing.core.extensions import db
from sharing.core.validation import InvalidInput
from sharing.models import (
    OUTBOX_STATUSES,
    ROLES,
    BookedMonth,
    Organisation,
    OutboxMessage,
    User,
    recount_booked_months,
)
from sharing.services import (
    accounts,
    api_tokens,
    backup,
    demo,
    external_calendars,
    notifications,
    organisations,
    outbox,
    personal_data,
)
from sharing.services.messages import describe_fields
from sharing.services.worker import run_forever, run_once


@contextmanager
def saving() -> Iterator[None]:
    """Commit what the block adds, or write nothing and exit with the reason."""
    try:
        yield
        db.session.commit()
    except BaseException as error:
        db.session.rollback()
        if isinstance(error, InvalidInput):
            raise click.ClickException("; ".join(
                f"{name}: {' '.join(messages)}"
                for name, messages in describe_fields(error).items())) from None
        raise


def report(message: str, result: object) -> None:
    """Say what was done, then the result alone on the last line, for scripts to capture."""
    click.echo(message)
    click.echo(result)


def organisation_with_slug(slug: str) -> Organisation:
    organisation = organisations.find_organisation_by_slug(slug)
    if organisation is None:
        raise click.ClickException(_("No organisation with the identifier %(slug)s.", slug=slug))
    return organisation


def user_with_email(email: str) -> User:
    user = accounts.find_user_by_email(email)
    if user is None:
        raise click.ClickException(_("No user with the e-mail address %(email)s.", email=email))
    return user


site_commands = AppGroup("site", help="Sites: the third places where resources are.")


@site_commands.command("create")
@click.argument("name")
@click.option("--timezone", default="Europe/Paris", show_default=True)
@click.option("--address", default="")
def create_site(name: str, timezone: str, address: str) -> None:
    """Add a site; prints its id."""
    with saving():
        site = organisations.create_site(name, timezone, address)
    report(f"Created site {site.name} ({site.timezone}).", site.id)


org_commands = AppGroup("org", help="Member organisations of the pole.")


@org_commands.command("create")
@click.argument("slug")
@click.option("--name", required=True, help="Display name.")
@click.option("--legal-form", default="", help="Association, SCOP, SCIC…")
def create_organisation(slug: str, name: str, legal_form: str) -> None:
    """Add a member organisation identified by SLUG; prints its id."""
    with saving():
        organisation = organisations.create_organisation(slug, name, legal_form)
    report(f"Created organisation {organisation.slug} ({organisation.name}).", organisation.id)


user_commands = AppGroup("user", help="People who sign in.")


@user_commands.command("create")
@click.argument("email")
@click.option("--name", required=True, help="Display name.")
@click.option("--password", prompt=True, hide_input=True, confirmation_prompt=True,
              help="Asked for when omitted, so that it stays out of the shell history.")
@click.option("--org", "org_slug", help="Make the user a member of this organisation.")
@click.option("--role", type=click.Choice(ROLES), help="Role in --org (default: member).")
@click.option("--admin", is_flag=True, help="Platform admin: the pole's coordinator.")
def create_user(email: str, name: str, password: str, org_slug: str | None, role: str | None,
                admin: bool) -> None:
    """Add a user with the address EMAIL; prints their id."""
    if role and not org_slug:
        raise click.UsageError(_("--role needs --org."))
    with saving():
        organisation = organisation_with_slug(org_slug) if org_slug else None
        accounts.check_new_password(password)
        user = accounts.create_user(email, name, password, is_admin=admin)
        if organisation:
            organisations.add_member(user, organisation, role or "member")
    report(f"Created user {user.email}.", user.id)


token_commands = AppGroup("token", help="Bearer tokens for the JSON API.")


@token_commands.command("create")
@click.argument("email")
@click.option("--name", default="Command line", show_default=True,
              help="What the token is for, as its owner will see it.")
def create_token(email: str, name: str) -> None:
    """Make an API token for the user with the address EMAIL; prints the token once."""
    with saving():
        _token, raw = api_tokens.create_api_token(user_with_email(email), name)
    report(f"API token for {email}; it is shown only this once:", raw)


calendar_commands = AppGroup("calendars", help="Owners' external calendars, read as busy time.")


@calendar_commands.command("sync")
def sync_calendars() -> None:
    """Read the external calendars not tried for CALENDAR_SYNC_MINUTES (for cron); prints
    how many were read, and each failure on stderr."""
    tried, failures = external_calendars.sync_due_calendars()
    for calendar_id, error in failures.items():
        click.echo(f"calendar {calendar_id}: {external_calendars.error_message(error)}", err=True)
    click.echo(f"Read {tried - len(failures)} of {tried} calendars due.")


person_commands = AppGroup("person", help="Personal data (GDPR): export, anonymise.")


@person_commands.command("export")
@click.argument("email")
def export_person(email: str) -> None:
    """Print, as JSON, everything held about the user with the address EMAIL."""
    data = personal_data.export_person(user_with_email(email))
    click.echo(json.dumps(data, ensure_ascii=False, indent=2))


@person_commands.command("anonymise")
@click.argument("email")
@click.confirmation_option(prompt="Erase this person's name, address, sign-in and notes "
                                  "for good?")
def anonymise_person(email: str) -> None:
    """Anonymise the user with the address EMAIL, who left; prints their id."""
    with saving():
        user = user_with_email(email)
        personal_data.anonymise_person(user)
    report(f"Anonymised {email}.", user.id)


@click.command("demo")
@with_appcontext
def load_demo() -> None:
    """Load the demo pole; running it again adds only what is missing."""
    with notifications.silenced(), saving():
        report = demo.load()
    click.echo(report)


@click.command("backup")
@click.argument("path", type=click.Path(dir_okay=False, path_type=Path))
@with_appcontext
def take_backup(path: Path) -> None:
    """Copy the live SQLite database to PATH, consistent while servers write; prints PATH."""
    with saving():
        written = backup.backup_sqlite(path)
    report(f"Backed up {db.engine.url.database}.", written)


@click.command("worker")
@click.option("--once", is_flag=True, help="Run each job once and exit (for cron).")
@with_appcontext
def worker(once: bool) -> None:
    """Send the mail waiting in the outbox and run the periodic jobs, outside requests.

    Several workers may run at once. Stop it with Ctrl-C or SIGTERM at any time: what it
    had not sent waits for the next worker."""
    if once:
        for name, count in run_once().items():
            click.echo(f"{name}: {'failed (see the log)' if count is None else count}")
        return
    try:
        run_forever()
    except KeyboardInterrupt:  # Ctrl-C: stopping is normal, nothing is lost
        click.echo("Worker stopped.")


mail_commands = AppGroup("mail", help="The outbox of e-mail messages.")


@mail_commands.command("status")
@click.option("--limit", default=100, show_default=True, type=click.IntRange(1, 10_000),
              help="At most this many listed.")
def mail_status(limit: int) -> None:
    """Count the messages by state, and list those that wait and those that failed."""
    counts = outbox.status_counts()
    click.echo(", ".join(f"{status}: {counts.get(status, 0)}" for status in OUTBOX_STATUSES))
    for message in outbox.unsent_messages(limit):
        click.echo(f"#{message.id} {message.status} {message.kind} to {message.recipient}, "
                   f"{message.attempts} tries, {when(message)}"
                   + (f": {message.last_error}" if message.last_error else ""))


def when(message: OutboxMessage) -> str:
    """The moment that matters for a message not sent, in UTC."""
    label, moment = {"failed": ("last try", message.due_at),
                     "held": ("held for the digest since", message.created_at)
                     }.get(message.status, ("next try", message.due_at))
    return f"{label} {moment:%Y-%m-%d %H:%M} UTC"


report_commands = AppGroup("reports", help="Impact reports.")


@report_commands.command("recount")
def recount_months() -> None:
    """Count every booking's months again, for the reports: after bookings were written
    straight into the database (a bulk import), which the application did not see."""
    with saving():
        recount_booked_months(db.session.connection())
    report("Counted the bookings' months again.", db.session.scalar(
        select(func.count()).select_from(BookedMonth)))


COMMANDS = [site_commands, org_commands, user_commands, token_commands, person_commands,
            calendar_commands, load_demo, take_backup, worker, mail_commands, report_commands]
