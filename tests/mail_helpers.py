"""A real SMTP server (aiosmtpd) on a free loopback port, keeping what it receives.

Use the fixtures with `from mail_helpers import inbox, smtp_port  # noqa: F401`, and give
the application `MAIL_SERVER="127.0.0.1", MAIL_PORT=smtp_port`.
"""

import re
import socket
from email import message_from_bytes, policy
from urllib.parse import urlsplit

import pytest
from aiosmtpd.controller import Controller

LINK = re.compile(r"https?://\S+")


class Inbox:
    """An aiosmtpd handler keeping every message it receives."""

    def __init__(self):
        self.messages = []

    async def handle_DATA(self, server, session, envelope):
        self.messages.append(message_from_bytes(envelope.content, policy=policy.default))
        return "250 OK"

    def link(self, message) -> str:
        """The path of the one link in the body, ready for the test client."""
        (url,) = LINK.findall(message.get_content())
        return urlsplit(url).path


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def smtp_port():
    return free_port()


@pytest.fixture
def inbox(smtp_port):
    handler = Inbox()
    controller = Controller(handler, hostname="127.0.0.1", port=smtp_port)
    controller.start()
    yield handler
    controller.stop()
