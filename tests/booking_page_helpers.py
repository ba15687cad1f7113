"""Shared by the booking page tests: English pages (the French catalogue translates the
messages they look for)."""

import pytest
from sqlalchemy import event

from sharing.models import User


@pytest.fixture(autouse=True)
def english(app):
    """Every user of a booking page test reads English (the factory's default is French)."""

    @event.listens_for(User, "init")
    def speak_english(_user, _args, kwargs):
        kwargs["locale"] = "en"

    yield
    event.remove(User, "init", speak_english)
