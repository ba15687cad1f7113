"""Outgoing e-mail: queued during the transaction, sent only once it has committed.

Mail never makes a request fail or wait on a rolled-back change: a message queued in a
transaction that rolls back is dropped, and a sending error is logged, not raised.
Without `MAIL_SERVER` the message is written to the log instead (development, demo).
"""

import logging
import smtplib
from email.message import EmailMessage

from flask import Flask, current_app
from sqlalchemy import event
from sqlalchemy.orm import Session

from sharing.core.extensions import db

log = logging.getLogger(__name__)
OUTBOX = "sharing_outbox"


def send_mail(to: str | list[str], subject: str, body: str) -> None:
    """Queue a plain-text message; it leaves when the current transaction commits."""
    message = EmailMessage()
    message["From"] = current_app.config["MAIL_DEFAULT_SENDER"]
    message["To"] = ", ".join([to] if isinstance(to, str) else to)
    message["Subject"] = subject
    message.set_content(body)
    db.session.info.setdefault(OUTBOX, []).append((current_app._get_current_object(), message))


@event.listens_for(Session, "after_commit")
def _deliver_outbox(session: Session) -> None:
    for app, message in session.info.pop(OUTBOX, []):
        deliver(app, message)


@event.listens_for(Session, "after_soft_rollback")
def _drop_outbox(session: Session, previous_transaction) -> None:
    if not previous_transaction.nested:
        session.info.pop(OUTBOX, None)


def deliver(app: Flask, message: EmailMessage) -> None:
    config = app.config
    if not config.get("MAIL_SERVER"):
        log.info("Mail (no MAIL_SERVER configured):\n%s", message)
        return
    try:
        with smtplib.SMTP(config["MAIL_SERVER"], config["MAIL_PORT"], timeout=10) as smtp:
            if config.get("MAIL_USE_TLS"):
                smtp.starttls()
            if config.get("MAIL_USERNAME"):
                smtp.login(config["MAIL_USERNAME"], config["MAIL_PASSWORD"])
            smtp.send_message(message)
    except (OSError, smtplib.SMTPException):
        log.exception("Could not send mail %r to %s", message["Subject"], message["To"])
