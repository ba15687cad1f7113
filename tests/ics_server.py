"""A real HTTP server on loopback serving ICS files, for the external calendar tests.

Each path answers as its `Answer` says: a body, validators honoured with 304, a status,
a delay before the headers, a body trickled byte by byte, or no Content-Length at all.
Every request's headers are recorded, and a test may act while the client waits.
"""

import ssl
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

# Slow answers wait at most this long, so that no thread outlives the test by much.
LONGEST_STALL_SECONDS = 5


def calendar_file(*event_lines: str) -> bytes:
    """An ICS file holding one event made of these lines (DTSTART, RRULE…)."""
    lines = ["BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//test//EN", "BEGIN:VEVENT",
             "UID:event@owner", *event_lines, "END:VEVENT", "END:VCALENDAR", ""]
    return "\r\n".join(lines).encode()


@dataclass
class Answer:
    body: bytes = b""
    status: int = 200
    etag: str | None = None
    last_modified: str | None = None
    stall_seconds: float = 0  # before the headers
    trickle_seconds: float = 0  # between the bytes of the body
    declare_length: bool = True
    location: str | None = None
    # called before answering; what it returns is kept in `Served.seen`
    while_asked: Callable[[], object] | None = None


@dataclass
class Served:
    port: int = 0
    scheme: str = "http"
    answers: dict[str, Answer] = field(default_factory=dict)
    requests: list[tuple[str, dict[str, str]]] = field(default_factory=list)
    seen: list[object] = field(default_factory=list)
    stop: threading.Event = field(default_factory=threading.Event)

    def url(self, path: str) -> str:
        return f"{self.scheme}://127.0.0.1:{self.port}{path}"

    def headers_of_last(self, path: str) -> dict[str, str]:
        return [headers for asked, headers in self.requests if asked == path][-1]


class Handler(BaseHTTPRequestHandler):
    server: "IcsServer"

    def do_GET(self) -> None:  # noqa: N802 (the name http.server calls)
        served = self.server.served
        served.requests.append((self.path, dict(self.headers)))
        answer = served.answers.get(self.path, Answer(status=404))
        if answer.while_asked:
            served.seen.append(answer.while_asked())
        served.stop.wait(min(answer.stall_seconds, LONGEST_STALL_SECONDS))
        if self.is_not_modified(answer):
            self.send_response(304)
            self.end_headers()
            return
        self.send_head(answer)
        self.send_body(answer)

    def is_not_modified(self, answer: Answer) -> bool:
        etag, since = self.headers.get("If-None-Match"), self.headers.get("If-Modified-Since")
        return bool((answer.etag and etag == answer.etag)
                    or (answer.last_modified and since == answer.last_modified))

    def send_head(self, answer: Answer) -> None:
        self.send_response(answer.status)
        self.send_header("Content-Type", "text/calendar; charset=utf-8")
        sent = {"ETag": answer.etag, "Last-Modified": answer.last_modified,
                "Location": answer.location,
                "Content-Length": str(len(answer.body)) if answer.declare_length else None}
        for name, value in sent.items():
            if value is not None:
                self.send_header(name, value)
        self.end_headers()

    def send_body(self, answer: Answer) -> None:
        chunks = [bytes([byte]) for byte in answer.body] if answer.trickle_seconds \
            else [answer.body]
        for chunk in chunks:
            if answer.trickle_seconds and self.server.served.stop.wait(answer.trickle_seconds):
                return
            try:
                self.wfile.write(chunk)
                self.wfile.flush()
            except OSError:
                return  # the client gave up, as it should (a stalled or too large answer)

    def log_message(self, *_args) -> None:
        pass


class IcsServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, tls: ssl.SSLContext | None = None):
        super().__init__(("127.0.0.1", 0), Handler)
        if tls is not None:
            self.socket = tls.wrap_socket(self.socket, server_side=True)
        self.served = Served(port=self.server_address[1],
                             scheme="https" if tls is not None else "http")


def start(tls: ssl.SSLContext | None = None) -> tuple[IcsServer, threading.Thread]:
    server = IcsServer(tls)
    # the server looks every 10 ms whether to stop: each test's teardown waits for it
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.01},
                              daemon=True)
    thread.start()
    return server, thread


def stop(server: IcsServer, thread: threading.Thread) -> None:
    server.served.stop.set()
    server.shutdown()
    server.server_close()
    thread.join(LONGEST_STALL_SECONDS)
