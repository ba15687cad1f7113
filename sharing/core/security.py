"""The perimeter: security headers on every response, and the client's real address
behind reverse proxies."""

from flask import Flask, Response, current_app
from werkzeug.middleware.proxy_fix import ProxyFix

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


def init_app(app: Flask) -> None:
    app.after_request(add_security_headers)
    proxies = app.config["PROXY_COUNT"]
    if proxies:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=proxies, x_proto=proxies)
