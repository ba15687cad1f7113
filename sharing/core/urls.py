"""Links that leave the application (mail, feeds, invitations) are built from the configured
`BASE_URL`, never from the request's Host header, which a client can forge."""

from urllib.parse import urlsplit

from flask import current_app


def external_url(endpoint: str, **values) -> str:
    """The absolute URL of `endpoint` under `BASE_URL`, inside a request or out of one
    (the mail worker, the command line)."""
    base = urlsplit(current_app.config["BASE_URL"])
    adapter = current_app.url_map.bind(base.netloc, script_name=base.path or "/",
                                       url_scheme=base.scheme)
    return adapter.build(endpoint, values, force_external=True)
