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
from email.charset import QP, Charset
from email.encoders import encode_base64
from email.header import Header
from email.message import Message
from email.mime.base import MIMEBase
from email.mime.multipart import MIMEMultipart
from email.mime.text import MIMEText
from email.utils import formataddr, formatdate, make_msgid, parseaddr

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
            ) -> Message:
    """A plain-text message, all in ASCII once encoded: it is stored as text.

    Built with the `compat32` classes: the default policy parses every header as it is
    set and folds it again when written, which cost several times the rest of a booking.
    """
    sender_name, sender = parseaddr(current_app.config["MAIL_DEFAULT_SENDER"])
    text = MIMEText(body, "plain", UTF8_QUOTED_PRINTABLE)
    parts = [attachment_part(attachment) for attachment in attachments]
    message = MIMEMultipart(_subparts=[text, *parts]) if parts else text
    message["From"] = formataddr((sender_name, sender), charset="utf-8")
    message["To"] = to
    message["Subject"] = Header(subject, "us-ascii" if subject.isascii() else "utf-8")
    message["Date"] = formatdate(localtime=False)
    message["Message-ID"] = make_msgid(domain=sender.rpartition("@")[2] or None)
    return message


UTF8_QUOTED_PRINTABLE = Charset("utf-8")
UTF8_QUOTED_PRINTABLE.body_encoding = QP


def attachment_part(attachment: Attachment) -> MIMEBase:
    part = MIMEBase(attachment.maintype, attachment.subtype, **dict(attachment.params))
    part.set_payload(attachment.content)
    encode_base64(part)
    part.add_header("Content-Disposition", "attachment", filename=attachment.filename)
    return part


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
