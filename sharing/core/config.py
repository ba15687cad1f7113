"""Configuration: defaults, then `instance/config.py`, then `SHARING_*` environment variables.

The `config` mapping given to `create_app` (tests) has the last word.
"""

import os
import secrets
from pathlib import Path

from flask import Flask

DEFAULTS = {
    "SQLALCHEMY_TRACK_MODIFICATIONS": False,
    # No form or API body of ours comes near this; larger requests are refused with 413.
    "MAX_CONTENT_LENGTH": 1024 * 1024,
    "BABEL_DEFAULT_LOCALE": "fr",
    "BABEL_DEFAULT_TIMEZONE": "Europe/Paris",
    "LANGUAGES": ["fr", "en"],
    "DEFAULT_TIMEZONE": "Europe/Paris",
    # Where users reach the application: every link sent out is built from it.
    "BASE_URL": "http://localhost:5000",
    # The pole's name, at the top of the impact summary given to funders.
    "POLE_NAME": "Pôle territorial de coopération économique",
    "MAIL_SERVER": None,
    "MAIL_PORT": 25,
    "MAIL_USE_TLS": False,
    "MAIL_USERNAME": None,
    "MAIL_PASSWORD": None,
    "MAIL_DEFAULT_SENDER": "sharing@localhost",
    "INVITATION_DAYS": 7,
    "PASSWORD_RESET_HOURS": 24,
    "SESSION_COOKIE_HTTPONLY": True,
    "SESSION_COOKIE_SAMESITE": "Lax",
    "REMEMBER_COOKIE_HTTPONLY": True,
    "REMEMBER_COOKIE_SAMESITE": "Lax",
}

# Short names accepted in instance/config.py and the environment.
ALIASES = {"DATABASE_URL": "SQLALCHEMY_DATABASE_URI"}


def load_config(app: Flask, overrides: dict | None) -> None:
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
    if not app.debug and not app.testing:
        app.config.setdefault("SESSION_COOKIE_SECURE", True)
        app.config.setdefault("REMEMBER_COOKIE_SECURE", True)


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
