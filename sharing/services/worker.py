"""The worker: side effects that must not run inside a request, run by
`flask --app sharing worker` (a loop) or `flask --app sharing worker --once` (cron).

Each job finds in the database what is due and does it, so several workers may run at
once, a worker may stop at any time, and `--once` from cron behaves as the loop does.
A job that fails is logged and tried again at the next round; the others still run.
"""

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from flask import current_app

from sharing.core.extensions import db
from sharing.engine import expire_past_requests
from sharing.services.external_calendars import sync_calendars_job
from sharing.services.notifications import send_digests
from sharing.services.outbox import send_due_mail

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Job:
    name: str
    run: Callable[[datetime | None], int]  # does what is due (now, or then); returns how much


# Expiry first: no digest offers a request whose start passed. Digests next: the mail job
# then sends them in the same round. Calendars last: a slow calendar server must not hold
# the mail back.
JOBS = [
    Job("expiry", expire_past_requests),
    Job("digests", send_digests),
    Job("mail", send_due_mail),
    Job("calendars", sync_calendars_job),
]


def run_once(now: datetime | None = None) -> dict[str, int | None]:
    """One round of every job, each at its own start time unless `now` is given; a job's
    count, or None when it failed."""
    return {job.name: run_job(job, now) for job in JOBS}


def run_job(job: Job, now: datetime | None) -> int | None:
    try:
        return job.run(now)
    except Exception:  # one job's failure must not stop the worker or the other jobs
        db.session.rollback()
        log.exception("Worker job %s failed", job.name)
        return None


def run_forever() -> None:
    """Run a round, sleep WORKER_INTERVAL_SECONDS, again, until stopped."""
    while True:
        run_once()
        db.session.remove()  # a fresh session each round: nothing stale, nothing piling up
        time.sleep(current_app.config["WORKER_INTERVAL_SECONDS"])
