"""Fetching a URL that a user gave us, from our server: http(s) only, public addresses
only (unless allowed), one deadline for the whole exchange, a size limit, a conditional
GET, and a few redirects, each checked like the first URL.

The address checked is the address connected to: the name is resolved once and the
connection pinned to it, so a second DNS answer cannot point us at the inside network.
"""

import http.client
import ipaddress
import socket
import time
from dataclasses import dataclass
from urllib.parse import quote, urljoin, urlsplit

SCHEMES = ("http", "https")
REDIRECTS = (301, 302, 303, 307, 308)
MAX_REDIRECTS = 3
CHUNK_BYTES = 64 * 1024
USER_AGENT = "sharing-calendar-sync/1"


class FetchError(Exception):
    """Why a fetch failed, as a code (`timeout`, `too_large`, `http_status`…) and a detail."""

    def __init__(self, code: str, detail: str = ""):
        super().__init__(f"{code}: {detail}" if detail else code)
        self.code, self.detail = code, detail


@dataclass(frozen=True)
class Limits:
    timeout_seconds: float
    max_bytes: int
    allow_private: bool = False


@dataclass(frozen=True)
class Validators:
    """What the last good answer said about its version, sent back as a conditional GET."""

    etag: str | None = None
    last_modified: str | None = None

    def headers(self) -> dict[str, str]:
        sent = {"If-None-Match": self.etag, "If-Modified-Since": self.last_modified}
        return {name: value for name, value in sent.items() if value}


@dataclass(frozen=True)
class Fetched:
    body: bytes | None  # None: not modified (304) since the validators sent
    validators: Validators


def is_fetchable_url(url: str) -> bool:
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 (raises ValueError when out of range)
    except ValueError:
        return False
    return parts.scheme in SCHEMES and bool(parts.hostname)


def request_target(parts) -> str:
    """The path and query as sent: spaces and accents %-encoded, escapes kept."""
    target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    return quote(target, safe="/?&=%:@!$'()*+,;")


def fetch(url: str, validators: Validators, limits: Limits) -> Fetched:
    deadline = time.monotonic() + limits.timeout_seconds
    for _hop in range(MAX_REDIRECTS + 1):
        fetched, location = fetch_once(url, validators, limits, deadline)
        if location is None:
            return fetched
        url = urljoin(url, location)
    raise FetchError("redirects")


def fetch_once(url: str, validators: Validators, limits: Limits, deadline: float
               ) -> tuple[Fetched | None, str | None]:
    """One request: the answer, or where it redirects to."""
    if not is_fetchable_url(url):
        raise FetchError("scheme")
    parts = urlsplit(url)
    connection = pinned_connection(parts, limits, remaining(deadline))
    try:
        connection.connect()
        # kept: a closing answer takes the socket from the connection
        sock = connection.sock
        connection.request("GET", request_target(parts),
                           headers={"User-Agent": USER_AGENT, **validators.headers()})
        response = connection.getresponse()
        return read_answer(response, sock, limits, deadline)
    except TimeoutError:
        raise FetchError("timeout") from None
    except (OSError, ValueError, http.client.HTTPException) as error:
        raise FetchError("unreachable", str(error)[:200]) from None
    finally:
        connection.close()


def read_answer(response: http.client.HTTPResponse, sock: socket.socket, limits: Limits,
                deadline: float) -> tuple[Fetched | None, str | None]:
    if response.status in REDIRECTS and response.getheader("Location"):
        return None, response.getheader("Location")
    if response.status == 304:
        return Fetched(None, Validators()), None
    if response.status != 200:
        raise FetchError("http_status", str(response.status))
    body = read_body(response, sock, limits.max_bytes, deadline)
    return Fetched(body, Validators(response.getheader("ETag"),
                                    response.getheader("Last-Modified"))), None


def read_body(response: http.client.HTTPResponse, sock: socket.socket, max_bytes: int,
              deadline: float) -> bytes:
    """At most `max_bytes`, before the deadline: a slow trickle is cut off like a silence."""
    declared = response.getheader("Content-Length", "")
    if declared.isdigit() and int(declared) > max_bytes:
        raise FetchError("too_large")
    chunks, size = [], 0
    while True:
        sock.settimeout(remaining(deadline))
        chunk = response.read1(CHUNK_BYTES)
        if not chunk:
            return b"".join(chunks)
        size += len(chunk)
        if size > max_bytes:
            raise FetchError("too_large")
        chunks.append(chunk)


def remaining(deadline: float) -> float:
    left = deadline - time.monotonic()
    if left <= 0:
        raise FetchError("timeout")
    return left


def pinned_connection(parts, limits: Limits, timeout: float) -> http.client.HTTPConnection:
    port = parts.port or (443 if parts.scheme == "https" else 80)
    address = checked_address(parts.hostname, port, limits.allow_private)
    kind = PinnedHTTPSConnection if parts.scheme == "https" else PinnedHTTPConnection
    connection = kind(parts.hostname, port, timeout=timeout)
    connection.pinned_address = address
    return connection


def checked_address(host: str, port: int, allow_private: bool) -> str:
    """The address to connect to; every address the name has must be public, unless
    private ones are allowed (tests, or a pole whose calendars live on its own network)."""
    try:
        found = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError) as error:
        raise FetchError("unreachable", str(error)[:200]) from None
    addresses = [info[4][0] for info in found]
    if not allow_private and not all(is_public(address) for address in addresses):
        raise FetchError("private_address")
    return addresses[0]


def is_public(address: str) -> bool:
    ip = ipaddress.ip_address(address.split("%")[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped:
        ip = ip.ipv4_mapped
    return ip.is_global and not ip.is_multicast


class PinnedHTTPConnection(http.client.HTTPConnection):
    pinned_address: str

    def connect(self) -> None:
        self.sock = socket.create_connection((self.pinned_address, self.port), self.timeout)


class PinnedHTTPSConnection(http.client.HTTPSConnection):
    """TLS to the pinned address, the certificate still checked against the host name."""

    pinned_address: str

    def connect(self) -> None:
        sock = socket.create_connection((self.pinned_address, self.port), self.timeout)
        self.sock = self._context.wrap_socket(sock, server_hostname=self.host)
