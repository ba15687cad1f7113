"""A real SMTP server (aiosmtpd) on a free loopback port, and an inbox that reads what the
worker sends: `inbox.messages` first runs one real round of the worker (`run_once`).

A pytest plugin (see conftest.py): every module has the `smtp_port` and `inbox` fixtures;
give the application `MAIL_SERVER="127.0.0.1", MAIL_PORT=smtp_port`.
"""

import re
import socket
from email import message_from_bytes, policy
from email.message import EmailMessage
from urllib.parse import urlsplit

import pytest
from aiosmtpd.controller import Controller

from sharing.services.worker import run_once

LINK = re.compile(r"https?://\S+")


class Receiver:
    """An aiosmtpd handler keeping every message it receives, in order."""

    def __init__(self):
        self.received: list[EmailMessage] = []

    async def handle_DATA(self, server, session, envelope):
        self.received.append(message_from_bytes(envelope.content, policy=policy.default))
        return "250 OK"


class Inbox:
    """What a receiver got, read the way a test reads mail. (Not the handler itself:
    aiosmtpd looks at every attribute of its handler, `messages` included.)"""

    def __init__(self, receiver: Receiver):
        self.receiver = receiver

    @property
    def received(self) -> list[EmailMessage]:
        return self.receiver.received

    @property
    def messages(self) -> list[EmailMessage]:
        """What has arrived once the worker has sent what waits in the outbox."""
        run_once()
        return self.received

    def clear(self) -> None:
        """Send what waits, then forget it: the test reads only what comes next."""
        run_once()
        self.received.clear()

    def link(self, message) -> str:
        """The path of the one link in the body, ready for the test client."""
        (url,) = LINK.findall(body(message))
        return urlsplit(url).path


def body(message: EmailMessage) -> str:
    return message.get_body(("plain",)).get_content()


def calendars(message: EmailMessage) -> list[bytes]:
    return [part.get_content().encode() if isinstance(part.get_content(), str)
            else part.get_content()
            for part in message.iter_attachments() if part.get_content_type() == "text/calendar"]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def serve(handler, port: int) -> Controller:
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    return controller


@pytest.fixture
def smtp_port():
    return free_port()


@pytest.fixture
def inbox(smtp_port):
    receiver = Receiver()
    controller = serve(receiver, smtp_port)
    yield Inbox(receiver)
    controller.stop()
