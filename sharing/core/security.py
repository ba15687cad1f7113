"""The perimeter: security headers on every response, the client's real address behind
reverse proxies, and how passwords are hashed."""

from functools import cache

from flask import Flask, Response, current_app
from werkzeug.middleware.proxy_fix import ProxyFix
from werkzeug.security import generate_password_hash

# No inline script or style anywhere: templates load static/ files only.
CONTENT_SECURITY_POLICY = ("default-src 'self'; frame-ancestors 'none'; base-uri 'self'; "
                           "form-action 'self'; object-src 'none'")
HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "DENY",
}
HSTS = "max-age=31536000; includeSubDomains"


def add_security_headers(response: Response) -> Response:
    """A header the response already carries wins (feeds set `Referrer-Policy:
    no-referrer` themselves)."""
    for name, value in HEADERS.items():
        response.headers.setdefault(name, value)
    if current_app.config["BASE_URL"].startswith("https://"):
        response.headers.setdefault("Strict-Transport-Security", HSTS)
    return response


def hash_password(password: str) -> str:
    return generate_password_hash(password, current_app.config["PASSWORD_HASH_METHOD"])


def shared_password_hash(password: str) -> str:
    """One hash of a password that many accounts share or none has (the demo's, the decoy
    checked for unknown addresses), made once per method: each hash costs the method's
    work."""
    return _hash_once(password, current_app.config["PASSWORD_HASH_METHOD"])


@cache
def _hash_once(password: str, method: str) -> str:
    return generate_password_hash(password, method)


def require_known_password_hash_method(app: Flask) -> None:
    """A method Werkzeug refuses would fail every sign-in: refuse to start instead. Tried
    once per method and process (its hash is kept), by Werkzeug itself."""
    method = app.config["PASSWORD_HASH_METHOD"]
    try:
        _hash_once("", method)
    except (AttributeError, TypeError, ValueError) as refused:
        raise RuntimeError(f"PASSWORD_HASH_METHOD {method!r}: {refused} (Werkzeug's methods: "
                           "scrypt[:n:r:p] or pbkdf2[:digest[:iterations]])") from refused


def init_app(app: Flask) -> None:
    require_known_password_hash_method(app)
    app.after_request(add_security_headers)
    proxies = app.config["PROXY_COUNT"]
    if proxies:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=proxies, x_proto=proxies)
