"""Outgoing e-mail: composed now, written to the outbox in the current transaction, and
sent later by the worker (`sharing.services.outbox`).

A message queued in a transaction that rolls back is never written, so never sent; a
committed one waits in the outbox whatever happens to the process, and no request ever
waits on the SMTP server. Without `MAIL_SERVER` the worker writes messages to the log
instead of sending them (development, demo).
"""

import logging
import smtplib
from collections.abc import Iterable
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formatdate, make_msgid

from flask import current_app

from sharing.core.extensions import db
from sharing.models import Booking, OutboxMessage, User

log = logging.getLogger(__name__)
SMTP_TIMEOUT_SECONDS = 30


@dataclass(frozen=True)
class Attachment:
    filename: str
    content: bytes
    maintype: str = "text"
    subtype: str = "calendar"
    params: tuple[tuple[str, str], ...] = ()


def compose(to: str, subject: str, body: str, attachments: Iterable[Attachment] = ()
            ) -> EmailMessage:
    """A plain-text message, all in ASCII once encoded: it is stored as text."""
    sender = current_app.config["MAIL_DEFAULT_SENDER"]
    message = EmailMessage()
    message["From"] = sender
    message["To"] = to
    message["Subject"] = subject
    message["Date"] = formatdate(localtime=False)
    message["Message-ID"] = make_msgid(domain=sender.rpartition("@")[2] or None)
    message.set_content(body, cte="quoted-printable")
    for attachment in attachments:
        message.add_attachment(attachment.content, maintype=attachment.maintype,
                               subtype=attachment.subtype, filename=attachment.filename,
                               params=dict(attachment.params))
    return message


def send_mail(to: str, subject: str, body: str, *, kind: str, user: User | None = None,
              booking: Booking | None = None, attachments: Iterable[Attachment] = (),
              status: str = "waiting") -> OutboxMessage:
    """Queue a message in the outbox; it leaves once the current transaction commits."""
    message = compose(to, subject, body, attachments)
    row = OutboxMessage(kind=kind, recipient=to, user=user, booking=booking,
                        subject=subject[:300], content=message.as_string(), status=status)
    db.session.add(row)
    return row


class SmtpSession:
    """One SMTP connection for a batch of messages, opened at the first message and
    opened again after an error. Sending raises OSError or SMTPException on failure."""

    def __init__(self, config):
        self.config = config
        self.smtp: smtplib.SMTP | None = None

    def __enter__(self) -> "SmtpSession":
        return self

    def __exit__(self, *_exc) -> None:
        self.close()

    def send(self, recipient: str, content: str) -> None:
        if not self.config.get("MAIL_SERVER"):
            log.info("Mail (no MAIL_SERVER configured):\n%s", content)
            return
        try:
            self.connected().sendmail(self.config["MAIL_DEFAULT_SENDER"], [recipient], content)
        except (OSError, smtplib.SMTPException):
            self.close()
            raise

    def connected(self) -> smtplib.SMTP:
        if self.smtp is None:
            config = self.config
            smtp = smtplib.SMTP(config["MAIL_SERVER"], config["MAIL_PORT"],
                                timeout=SMTP_TIMEOUT_SECONDS)
            if config.get("MAIL_USE_TLS"):
                smtp.starttls()
            if config.get("MAIL_USERNAME"):
                smtp.login(config["MAIL_USERNAME"], config["MAIL_PASSWORD"])
            self.smtp = smtp
        return self.smtp

    def close(self) -> None:
        if self.smtp is not None:
            try:
                self.smtp.quit()
            except (OSError, smtplib.SMTPException):
                self.smtp.close()
            self.smtp = None
