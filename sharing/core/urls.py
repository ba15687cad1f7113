"""Links that leave the application (mail, feeds, invitations) are built from the configured
`BASE_URL`, never from the request's Host header, which a client can forge."""

from collections.abc import Callable
from urllib.parse import urlsplit

from flask import current_app


def external_url(endpoint: str, **values) -> str:
    """The absolute URL of `endpoint` under `BASE_URL`, inside a request or out of one
    (the mail worker, the command line)."""
    return external_url_builder(endpoint)(**values)


def external_url_builder(endpoint: str) -> Callable[..., str]:
    """`external_url` for many links to one endpoint (a feed's events): bound once."""
    base = urlsplit(current_app.config["BASE_URL"])
    adapter = current_app.url_map.bind(base.netloc, script_name=base.path or "/",
                                       url_scheme=base.scheme)
    return lambda **values: adapter.build(endpoint, values, force_external=True)
