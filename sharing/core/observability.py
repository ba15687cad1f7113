"""Request ids and logs: one JSON object per line when `LOG_FORMAT` is `json`."""

import json
import logging
import re
import sys
import time
import uuid

from flask import Flask, Response, g, has_request_context, request

log = logging.getLogger("sharing.requests")
# A proxy's id is kept when it looks like one, so that its logs and ours can be joined.
INCOMING_ID = re.compile(r"[A-Za-z0-9._-]{1,64}")


def request_id() -> str | None:
    return g.get("request_id") if has_request_context() else None


def start_request() -> None:
    incoming = request.headers.get("X-Request-Id", "")
    g.request_id = incoming if INCOMING_ID.fullmatch(incoming) else uuid.uuid4().hex
    g.request_started = time.perf_counter()


def finish_request(response: Response) -> Response:
    if "request_id" not in g:  # an earlier before_request answered (a rate limit)
        start_request()
    response.headers["X-Request-Id"] = g.request_id
    milliseconds = round((time.perf_counter() - g.request_started) * 1000, 1)
    log.info("%s %s %s", request.method, request.path, response.status_code,
             extra={"status": response.status_code, "duration_ms": milliseconds})
    return response


class JsonFormatter(logging.Formatter):
    """One line per record: time, level, logger, message, request id, and any extras."""

    EXTRAS = ("status", "duration_ms")

    def format(self, record: logging.LogRecord) -> str:
        entry = {"time": self.formatTime(record, "%Y-%m-%dT%H:%M:%S%z"),
                 "level": record.levelname, "logger": record.name,
                 "message": record.getMessage(), "request_id": request_id()}
        entry.update({key: getattr(record, key) for key in self.EXTRAS if hasattr(record, key)})
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False)


def use_json_logs(app: Flask) -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter())
    for logger in (logging.getLogger("sharing"), app.logger):
        logger.handlers = [handler]
        logger.setLevel(logging.INFO)
        logger.propagate = False


def init_app(app: Flask) -> None:
    app.before_request(start_request)
    app.after_request(finish_request)
    if app.config["LOG_FORMAT"] == "json":
        use_json_logs(app)
