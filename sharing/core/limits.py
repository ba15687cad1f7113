"""Rate limits (Flask-Limiter) on what an attacker can repeat: signing in, account links,
and guessing tokens.

Counts are kept in memory by default, which holds for one process only; every
multi-server (or multi-worker) installation sets `RATELIMIT_STORAGE_URI` to a shared
store such as `redis://127.0.0.1:6379`. The limits themselves are settings
(`RATELIMIT_SIGN_IN`, `RATELIMIT_ACCOUNT_LINKS`, `RATELIMIT_TOKEN_FAILURES`).
"""

from flask import Flask, current_app
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address

limiter = Limiter(key_func=get_remote_address)


def init_app(app: Flask) -> None:
    # The limiter is shared by every application in the process and keeps the last
    # "enabled" it saw: say it each time.
    app.config.setdefault("RATELIMIT_ENABLED", True)
    limiter.init_app(app)


def configured(key: str):
    return lambda: current_app.config[key]


# Sign-in attempts (POST only: showing the form costs nothing).
sign_in_limit = limiter.limit(configured("RATELIMIT_SIGN_IN"), methods=["POST"])
# Links sent by mail: asking for one (mail flooding) and following one (guessing).
account_link_limit = limiter.limit(configured("RATELIMIT_ACCOUNT_LINKS"))


def token_failure_limit(*failure_statuses: int):
    """A limit on guessing secret tokens (API tokens, feed URLs): only responses with these
    statuses count; once the limit is reached the address gets 429, even with a good token.

    Apply it to a view or a whole blueprint: `@token_failure_limit(404)` above a feed
    view, `token_failure_limit(401)(bp)` for the API.
    """
    return limiter.limit(configured("RATELIMIT_TOKEN_FAILURES"),
                         deduct_when=lambda response: response.status_code in failure_statuses)
