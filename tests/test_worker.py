"""The worker against a real SMTP server on loopback: retries with backoff, then failure;
a worker killed mid-batch loses nothing; two workers at once send nothing twice. The
workers are real `flask --app sharing worker --once` processes where it matters."""

import asyncio
import os
import subprocess
import sys
import threading
import time
from datetime import timedelta

import pytest
from mail_helpers import Receiver, free_port, serve
from sqlalchemy import select

from sharing.core.database import utcnow
from sharing.core.extensions import db
from sharing.core.mail import send_mail
from sharing.models import OutboxMessage
from sharing.services.outbox import CLAIM_LEASE
from sharing.services.worker import run_once

WAIT_SECONDS = 120


@pytest.fixture
def app_config(smtp_port):
    return {"MAIL_SERVER": "127.0.0.1", "MAIL_PORT": smtp_port}


def queue(count: int) -> list[str]:
    subjects = [f"Message {n:03d}" for n in range(count)]
    for subject in subjects:
        send_mail(f"{subject.replace(' ', '.').lower()}@example.org", subject, "Bonjour.",
                  kind="invitation")
    db.session.commit()
    return subjects


def statuses() -> list[str]:
    db.session.rollback()  # read what the workers committed since
    return list(db.session.scalars(select(OutboxMessage.status).order_by(OutboxMessage.id)))


def subjects_of(receiver: Receiver) -> list[str]:
    return sorted(message["Subject"] for message in receiver.received)


def worker_process(app, once: bool = True, **config) -> subprocess.Popen:
    """`flask --app sharing worker --once` (or looping) on the test's database and SMTP
    server."""
    settings = {"DATABASE_URL": app.config["SQLALCHEMY_DATABASE_URI"],
                "SECRET_KEY": "test-secret", "BASE_URL": "http://sharing.test",
                "MAIL_SERVER": "127.0.0.1", "MAIL_PORT": app.config["MAIL_PORT"],
                # checked by one hash at start-up: the tests' cheap method, not scrypt
                "PASSWORD_HASH_METHOD": app.config["PASSWORD_HASH_METHOD"], **config}
    env = {**os.environ, "SHARING_INSTANCE_PATH": app.instance_path,
           **{f"SHARING_{key}": str(value) for key, value in settings.items()}}
    return subprocess.Popen([sys.executable, "-m", "flask", "--app", "sharing", "worker",
                             *(["--once"] if once else [])], env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE)


class Refusing(Receiver):
    """Answers "try again later" to the first messages, then accepts."""

    def __init__(self, refusals: int):
        super().__init__()
        self.refusals = refusals

    async def handle_DATA(self, server, session, envelope):
        if self.refusals:
            self.refusals -= 1
            return "451 4.3.0 Try again later"
        return await super().handle_DATA(server, session, envelope)


class Stalling(Receiver):
    """Accepts messages until `stall_at` have arrived, then hangs on the next one (not
    keeping it) until released: the moment to kill the worker."""

    def __init__(self, stall_at: int):
        super().__init__()
        self.stall_at = stall_at
        self.stalled, self.released = threading.Event(), threading.Event()

    async def handle_DATA(self, server, session, envelope):
        if len(self.received) == self.stall_at and not self.released.is_set():
            self.stalled.set()
            while not self.released.is_set():
                await asyncio.sleep(0.05)
            return "451 4.3.0 Interrupted"
        return await super().handle_DATA(server, session, envelope)


class Slow(Receiver):
    """Takes a little time over each message, so that two workers overlap."""

    async def handle_DATA(self, server, session, envelope):
        await asyncio.sleep(0.02)
        return await super().handle_DATA(server, session, envelope)


@pytest.fixture
def smtp_server(smtp_port):
    """Start a given handler on the application's SMTP port; stopped after the test."""
    controllers = []

    def start(handler):
        controllers.append(serve(handler, smtp_port))
        return handler

    yield start
    for controller in controllers:
        controller.stop()


def test_a_refusing_server_gets_the_message_again_later(app, smtp_server):
    receiver = smtp_server(Refusing(refusals=1))
    queue(1)
    now = utcnow()
    assert run_once(now)["mail"] == 0
    message = db.session.scalar(select(OutboxMessage))
    assert (message.status, message.attempts) == ("waiting", 1)
    assert message.last_error.startswith("451 4.3.0 Try again later")
    assert message.due_at == now + timedelta(seconds=app.config["MAIL_RETRY_SECONDS"])
    assert run_once(now + timedelta(seconds=30))["mail"] == 0  # not due yet
    assert run_once(now + timedelta(minutes=2))["mail"] == 1
    assert subjects_of(receiver) == ["Message 000"]
    db.session.refresh(message)
    assert (message.status, message.attempts, message.last_error) == ("sent", 2, "")


def test_after_the_last_try_a_message_fails_with_the_error(app, runner):
    app.config.update(MAIL_PORT=free_port(), MAIL_MAX_ATTEMPTS=2)  # nobody listens there
    queue(1)
    now = utcnow()
    run_once(now)
    run_once(now + timedelta(minutes=5))
    message = db.session.scalar(select(OutboxMessage))
    assert (message.status, message.attempts) == ("failed", 2)
    assert "ConnectionRefusedError" in message.last_error
    run_once(now + timedelta(days=1))
    db.session.refresh(message)
    assert message.attempts == 2  # failed for good: no more tries
    result = runner.invoke(args=["mail", "status"])
    assert result.exit_code == 0
    assert "failed: 1" in result.output
    assert f"#{message.id} failed invitation to message.000@example.org" in result.output
    assert "ConnectionRefusedError" in result.output and "2 tries, last try" in result.output
    assert runner.invoke(args=["mail", "status", "--limit", "-1"]).exit_code == 2


def test_without_a_worker_nothing_waits_on_the_server_and_nothing_is_lost(app, runner):
    app.config["MAIL_PORT"] = free_port()  # no SMTP server at all
    subjects = queue(3)
    assert statuses() == ["waiting"] * 3
    result = runner.invoke(args=["mail", "status"])
    assert "waiting: 3" in result.output and "0 tries, next try" in result.output
    assert all(subject.replace(" ", ".").lower() in result.output for subject in subjects)


def test_a_running_worker_sends_what_is_queued_while_it_runs(app, inbox):
    worker = worker_process(app, once=False, WORKER_INTERVAL_SECONDS=0.1)
    try:
        queue(1)  # after the worker started: it finds the message in a later round
        for _round in range(WAIT_SECONDS * 10):
            if inbox.received or worker.poll() is not None:
                break
            time.sleep(0.1)
    finally:
        worker.terminate()
        _out, err = worker.communicate(timeout=WAIT_SECONDS)
    assert subjects_of(inbox) == ["Message 000"], err.decode()


def test_a_worker_killed_mid_batch_loses_nothing(app, smtp_server):
    receiver = smtp_server(Stalling(stall_at=2))
    subjects = queue(6)
    worker = worker_process(app)
    try:
        assert receiver.stalled.wait(WAIT_SECONDS), worker.stderr.read1().decode()
    finally:
        worker.kill()
        worker.wait(WAIT_SECONDS)
        receiver.released.set()
    assert statuses() == ["sent"] * 2 + ["sending"] * 4  # the rest still claimed
    assert run_once()["mail"] == 0  # the dead worker's claims hold until they lapse
    assert run_once(utcnow() + CLAIM_LEASE + timedelta(seconds=1))["mail"] == 4
    assert subjects_of(receiver) == subjects
    assert statuses() == ["sent"] * 6


def test_two_workers_at_once_send_nothing_twice(app, smtp_server):
    receiver = smtp_server(Slow())
    subjects = queue(40)
    workers = [worker_process(app, MAIL_BATCH_SIZE=4) for _ in range(2)]
    for worker in workers:
        _out, err = worker.communicate(timeout=WAIT_SECONDS)
        assert worker.returncode == 0, err.decode()
    assert subjects_of(receiver) == subjects
    assert statuses() == ["sent"] * 40
