"""The outbox's sending side: claim due messages, send them, record what happened.

Several workers may run at once. A worker claims a batch in one short transaction
(`FOR UPDATE SKIP LOCKED` on PostgreSQL; on SQLite the write lock and a conditional
UPDATE), which marks the rows `sending` under its claim until `due_at`, a lease. Each
message's outcome is committed as soon as it is known, so a worker killed mid-batch
loses nothing: its unsent claims lapse and another worker takes them. (A worker killed
between the SMTP server's "250 OK" and that commit sends that one message again.)
"""

import smtplib
import uuid
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import func, select, update

from sharing.core.database import utcnow, write_transaction
from sharing.core.extensions import db
from sharing.core.mail import SmtpSession
from sharing.models import OutboxMessage

# Far longer than a batch can take (MAIL_BATCH_SIZE sends, each under the SMTP timeout),
# so that a live worker's claim never lapses under it.
CLAIM_LEASE = timedelta(minutes=30)
ERROR_LENGTH = 2000


def claimable(now: datetime):
    """Waiting messages that are due, and claims whose lease has lapsed."""
    return OutboxMessage.status.in_(("waiting", "sending")) & (OutboxMessage.due_at <= now)


def claim_batch(now: datetime) -> tuple[str, list[OutboxMessage]]:
    claim, limit = uuid.uuid4().hex, current_app.config["MAIL_BATCH_SIZE"]
    with write_transaction():
        ids = list(db.session.scalars(
            select(OutboxMessage.id).where(claimable(now))
            .order_by(OutboxMessage.due_at, OutboxMessage.id).limit(limit)
            .with_for_update(skip_locked=True)))
        db.session.execute(
            update(OutboxMessage).where(OutboxMessage.id.in_(ids), claimable(now))
            .values(status="sending", claimed_by=claim, due_at=now + CLAIM_LEASE)
            .execution_options(synchronize_session=False))
    return claim, list(db.session.scalars(
        select(OutboxMessage).where(OutboxMessage.claimed_by == claim,
                                    OutboxMessage.status == "sending")
        .order_by(OutboxMessage.id)))


def retry_delay(attempts: int) -> timedelta:
    """1, 4, 16, 64… times MAIL_RETRY_SECONDS after the first, second, third… failure."""
    return timedelta(seconds=current_app.config["MAIL_RETRY_SECONDS"] * 4 ** (attempts - 1))


def record_outcome(message_id: int, claim: str, **values) -> None:
    """Only while the claim is still ours: a lapsed claim belongs to another worker."""
    with write_transaction():
        db.session.execute(
            update(OutboxMessage).where(OutboxMessage.id == message_id,
                                        OutboxMessage.claimed_by == claim,
                                        OutboxMessage.status == "sending")
            .values(claimed_by=None, **values).execution_options(synchronize_session=False))


def record_sent(message: OutboxMessage, claim: str, now: datetime) -> None:
    """The content goes once sent: it holds reset and invitation links, notes, titles."""
    record_outcome(message.id, claim, status="sent", sent_at=now, last_error="", content="",
                   attempts=message.attempts + 1)


def record_failure(message: OutboxMessage, claim: str, now: datetime, error: Exception) -> None:
    attempts = message.attempts + 1
    last = attempts >= current_app.config["MAIL_MAX_ATTEMPTS"]
    record_outcome(message.id, claim, status="failed" if last else "waiting",
                   attempts=attempts, last_error=describe(error)[:ERROR_LENGTH],
                   due_at=now if last else now + retry_delay(attempts))


def describe(error: Exception) -> str:
    if isinstance(error, smtplib.SMTPResponseException):
        return f"{error.smtp_code} {error.smtp_error.decode(errors='replace')}"
    return f"{type(error).__name__}: {error}"


def send_due_mail(now: datetime | None = None) -> int:
    """Send what is due, batch after batch until nothing is; returns how many left."""
    now, sent = now or utcnow(), 0
    with SmtpSession(current_app.config) as smtp:
        while True:
            claim, batch = claim_batch(now)
            if not batch:
                return sent
            sent += sum(send_one(smtp, message, claim, now) for message in batch)


def send_one(smtp: SmtpSession, message: OutboxMessage, claim: str, now: datetime) -> bool:
    recipient, content = message.recipient, message.content
    try:
        smtp.send(recipient, content)
    except (OSError, smtplib.SMTPException) as error:
        record_failure(message, claim, now, error)
        return False
    record_sent(message, claim, now)
    return True


def status_counts() -> dict[str, int]:
    rows = db.session.execute(select(OutboxMessage.status, func.count())
                              .group_by(OutboxMessage.status))
    return {status: count for status, count in rows}


def unsent_messages(limit: int = 100) -> list[OutboxMessage]:
    """What waits (or is being sent) and what failed, oldest first."""
    return list(db.session.scalars(
        select(OutboxMessage)
        .where(OutboxMessage.status.in_(("waiting", "sending", "failed", "held")))
        .order_by(OutboxMessage.created_at, OutboxMessage.id).limit(limit)))
