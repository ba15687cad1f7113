"""Configuration: defaults, then `instance/config.py`, then `SHARING_*` environment variables.

The `config` mapping given to `create_app` (tests) has the last word.
"""

import os
import secrets
from pathlib import Path
from urllib.parse import urlsplit

import click
from flask import Flask

DEFAULTS = {
    "SQLALCHEMY_TRACK_MODIFICATIONS": False,
    # No form or API body of ours comes near this; larger requests are refused with 413.
    "MAX_CONTENT_LENGTH": 1024 * 1024,
    "BABEL_DEFAULT_LOCALE": "fr",
    "BABEL_DEFAULT_TIMEZONE": "Europe/Paris",
    "LANGUAGES": ["fr", "en"],
    "DEFAULT_TIMEZONE": "Europe/Paris",
    # The pole's name, at the top of the impact summary given to funders.
    "POLE_NAME": "Pôle territorial de coopération économique",
    "MAIL_SERVER": None,
    "MAIL_PORT": 25,
    "MAIL_USE_TLS": False,
    "MAIL_USERNAME": None,
    # bandit takes these three for passwords: an empty setting, a duration, a rate.
    "MAIL_PASSWORD": None,  # nosec B105
    "MAIL_DEFAULT_SENDER": "sharing@localhost",
    # A failed send is tried again after 1, 4, 16… times this, up to MAIL_MAX_ATTEMPTS.
    "MAIL_RETRY_SECONDS": 60,
    "MAIL_MAX_ATTEMPTS": 6,
    # How many messages a worker claims at a time (others may claim the next ones).
    "MAIL_BATCH_SIZE": 20,
    # Local hour (in each manager's timezone) of the daily digest of pending requests.
    "MAIL_DIGEST_HOUR": 8,
    # Seconds the worker sleeps between two rounds of its jobs.
    "WORKER_INTERVAL_SECONDS": 15,
    "INVITATION_DAYS": 7,
    "PASSWORD_RESET_HOURS": 24,  # nosec B105
    # Calendar feeds hold the bookings starting from this many days back to this many ahead.
    "FEED_PAST_DAYS": 30,
    "FEED_FUTURE_DAYS": 365,
    # Owners' external calendars (services.external_calendars): each fetch has this many
    # seconds and bytes; private and loopback addresses are refused unless allowed.
    "CALENDAR_FETCH_TIMEOUT": 10,
    "CALENDAR_FETCH_MAX_BYTES": 5 * 1024 * 1024,
    "CALENDAR_FETCH_ALLOW_PRIVATE": False,
    # The worker syncs each calendar this often; read this many days ahead when the
    # resource sets no booking horizon of its own.
    "CALENDAR_SYNC_MINUTES": 30,
    "CALENDAR_SYNC_DAYS": 365,
    # A calendar with more events than this in that window is refused (an event repeating
    # every minute would otherwise fill the table).
    "CALENDAR_MAX_EVENTS": 10_000,
    # seconds of work reading one calendar's events may take, apart from the fetch
    "CALENDAR_EXPAND_TIMEOUT": 20,
    # what the "Synchronise now" button may spend in its request, all calendars together:
    # under the server's own timeout (gunicorn.conf.py: 30 s); the rest is left to the worker
    "CALENDAR_SYNC_NOW_SECONDS": 20,
    "SESSION_COOKIE_HTTPONLY": True,
    "SESSION_COOKIE_SAMESITE": "Lax",
    "REMEMBER_COOKIE_HTTPONLY": True,
    "REMEMBER_COOKIE_SAMESITE": "Lax",
    # Rate limits (Flask-Limiter syntax), per client address. Several servers must share
    # their counts: set RATELIMIT_STORAGE_URI (e.g. redis://127.0.0.1:6379).
    "RATELIMIT_STORAGE_URI": "memory://",
    "RATELIMIT_SIGN_IN": "10 per minute; 100 per hour",
    "RATELIMIT_ACCOUNT_LINKS": "10 per minute; 50 per hour",
    "RATELIMIT_TOKEN_FAILURES": "20 per minute; 200 per hour",  # nosec B105
    # Werkzeug's method for new password hashes ("scrypt" or "pbkdf2", with optional
    # parameters, e.g. "pbkdf2:sha256:600000"). A stored hash names its own method, so a
    # change applies to each account as its password is next set.
    "PASSWORD_HASH_METHOD": "scrypt",  # nosec B105 (a method's name)
    # Wrong passwords in a row before an account is locked; the lock then doubles.
    "LOCKOUT_THRESHOLD": 5,
    "LOCKOUT_FIRST_MINUTES": 1,
    "LOCKOUT_MAX_MINUTES": 24 * 60,
    # How many reverse proxies stand in front (X-Forwarded-For/-Proto are read from them).
    "PROXY_COUNT": 0,
    "LOG_FORMAT": "text",
}

# Where users reach the application: every link sent out is built from it. Outside debug
# and testing, it must be configured (see `require_base_url`).
DEFAULT_BASE_URL = "http://localhost:5000"
# PostgreSQL connections may be cut (restart, failover, idle timeouts): test each one
# before use, and renew it before servers or firewalls drop it silently.
POSTGRESQL_ENGINE_OPTIONS = {"pool_pre_ping": True, "pool_recycle": 1800}

SECURE_COOKIE_KEYS = ("SESSION_COOKIE_SECURE", "REMEMBER_COOKIE_SECURE")
# Short names accepted in instance/config.py and the environment.
ALIASES = {"DATABASE_URL": "SQLALCHEMY_DATABASE_URI"}


def load_config(app: Flask, overrides: dict | None) -> None:
    # Flask's defaults hold SESSION_COOKIE_SECURE = False: drop it, so that only a value
    # configured below counts and production cookies are Secure otherwise.
    for key in SECURE_COOKIE_KEYS:
        app.config.pop(key, None)
    app.config.update(DEFAULTS)
    app.config.from_pyfile("config.py", silent=True)
    app.config.from_prefixed_env("SHARING")
    if overrides:
        app.config.update(overrides)
    for short, full in ALIASES.items():
        if short in app.config:
            app.config[full] = app.config.pop(short)
    app.config.setdefault("SQLALCHEMY_DATABASE_URI", default_database_url(app))
    if not app.config.get("SECRET_KEY"):
        app.config["SECRET_KEY"] = instance_secret_key(app)
    configure_base_url(app)
    for key in SECURE_COOKIE_KEYS:
        app.config.setdefault(key, is_production(app))
    if app.config["SQLALCHEMY_DATABASE_URI"].startswith("postgresql"):
        app.config.setdefault("SQLALCHEMY_ENGINE_OPTIONS", POSTGRESQL_ENGINE_OPTIONS)


def is_production(app: Flask) -> bool:
    return not app.debug and not app.testing


def configure_base_url(app: Flask) -> None:
    """BASE_URL, and the Host headers accepted (TRUSTED_HOSTS): BASE_URL's host by default
    outside debug and testing, so that a forged Host is refused with 400."""
    app.config["BASE_URL_IS_SET"] = "BASE_URL" in app.config
    app.config.setdefault("BASE_URL", DEFAULT_BASE_URL)
    if is_production(app) and not app.config.get("TRUSTED_HOSTS"):
        app.config["TRUSTED_HOSTS"] = [urlsplit(app.config["BASE_URL"]).hostname]


def require_base_url(app: Flask) -> None:
    """Refuse to serve production traffic with the default BASE_URL: links mailed out
    would point at localhost.

    The `flask` commands that serve nothing (`db upgrade`, `demo`, `user create`…) still
    start, so that an installation can be prepared before BASE_URL is known; `flask run`
    and WSGI servers (gunicorn) are refused outside debug and testing.
    """
    if is_production(app) and serves_requests() and not app.config["BASE_URL_IS_SET"]:
        raise RuntimeError("Set BASE_URL (e.g. SHARING_BASE_URL=https://pole.example.org): "
                           "every link sent out is built from it.")


def serves_requests() -> bool:
    """False while the `flask` command line loads the application for a command other
    than `run`."""
    command = click.get_current_context(silent=True)
    return command is None or command.info_name == "run"


def default_database_url(app: Flask) -> str:
    return "sqlite:///" + str(Path(app.instance_path) / "sharing.sqlite3")


def instance_secret_key(app: Flask) -> str:
    """Read the installation's secret key, generating it on first start."""
    path = Path(app.instance_path) / "secret_key"
    if not path.exists():
        # Written aside then linked, so that workers starting together agree on one key.
        draft = path.with_name(f".secret_key.{os.getpid()}")
        fd = os.open(draft, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(secrets.token_hex(32))
        try:
            os.link(draft, path)
        except FileExistsError:
            pass
        finally:
            draft.unlink()
    return path.read_text().strip()
