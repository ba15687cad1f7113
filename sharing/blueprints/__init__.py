"""One blueprint per area; this list is the application's table of contents."""

from sharing.blueprints.main import bp as main

BLUEPRINTS = [main]
