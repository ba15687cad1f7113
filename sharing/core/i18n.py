"""Language and timezone: French by default, English available; times shown per site."""

from datetime import datetime
from zoneinfo import ZoneInfo

from flask import Flask, current_app, has_request_context, request
from flask_babel import Babel, format_datetime, get_locale
from flask_login import current_user


def select_locale() -> str:
    languages = current_app.config["LANGUAGES"]
    if not has_request_context():  # the command line, the engine called outside a request
        return languages[0]
    if current_user and current_user.is_authenticated and current_user.locale in languages:
        return current_user.locale
    return request.accept_languages.best_match(languages) or languages[0]


def select_timezone() -> str:
    if has_request_context() and current_user and current_user.is_authenticated:
        return current_user.timezone
    return current_app.config["DEFAULT_TIMEZONE"]


def local_time(value: datetime, timezone: str) -> datetime:
    """The moment on that zone's clock. A row stored before dates were bounded may lie
    too near the calendar's end to shift: it is shown in UTC rather than break the page."""
    try:
        return value.astimezone(ZoneInfo(timezone))
    except OverflowError:
        return value


def init_app(app: Flask, babel: Babel) -> None:
    babel.init_app(app, locale_selector=select_locale, timezone_selector=select_timezone)
    app.jinja_env.globals["get_locale"] = get_locale
    app.jinja_env.filters["datetime"] = format_datetime
    app.jinja_env.filters["local_time"] = local_time
