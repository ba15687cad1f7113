"""One blueprint per area; this list is the application's table of contents."""

from sharing.blueprints.account import bp as account
from sharing.blueprints.admin import bp as admin
from sharing.blueprints.api import bp as api
from sharing.blueprints.auth import bp as auth
from sharing.blueprints.bookings import bp as bookings
from sharing.blueprints.catalogue import blueprints as catalogues
from sharing.blueprints.closures import bp as closures
from sharing.blueprints.credits import bp as credits
from sharing.blueprints.external_calendars import bp as external_calendars
from sharing.blueprints.feeds import bp as feeds
from sharing.blueprints.health import bp as health
from sharing.blueprints.main import bp as main
from sharing.blueprints.moves import bp as moves
from sharing.blueprints.orgs import bp as orgs
from sharing.blueprints.quotas import bp as quotas
from sharing.blueprints.reports import bp as reports

BLUEPRINTS = [
    main,
    auth,
    account,
    orgs,
    quotas,
    credits,
    reports,
    admin,
    *catalogues,
    closures,
    external_calendars,
    bookings,
    moves,
    feeds,
    api,
    health,
]
