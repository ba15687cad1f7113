"""The form adding a closure: local date-times on the resource's site, and a reason.

Its fields bear the closures service's names (`start`, `end`, `reason`), so the service's
messages land beside them."""

from datetime import datetime

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from wtforms import DateTimeLocalField, StringField
from wtforms.validators import InputRequired

from sharing.core.validation import InvalidInput
from sharing.engine.times import is_nonexistent, localize, to_utc, zone
from sharing.forms import Form, at_most, in_date_range
from sharing.models import Resource
from sharing.services.closures import REASON_MAX_LENGTH

# What browsers post for <input type="datetime-local">, seconds optional.
FORMATS = ["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M"]


class ClosureForm(Form):
    start = DateTimeLocalField(_l("Closed from"), format=FORMATS,
                               validators=[InputRequired(), in_date_range])
    end = DateTimeLocalField(_l("Until"), format=FORMATS,
                             validators=[InputRequired(), in_date_range],
                             description=_l("Bookable again from that moment."))
    reason = StringField(_l("Reason"), description=_l("Shown on the resource's page."),
                         render_kw=at_most(REASON_MAX_LENGTH))

    def interval(self, resource: Resource) -> tuple[datetime, datetime]:
        """The closure in UTC, its wall-clock times read on the resource's site; a time the
        clocks skip (spring forward) is refused, as it is for bookings."""
        tz = zone(resource.timezone)
        moments = {name: localize(getattr(self, name).data, tz) for name in ("start", "end")}
        skipped = {name: [_("%(time)s does not exist on that day: the clocks go forward.",
                              time=moment.strftime("%H:%M"))]
                   for name, moment in moments.items() if is_nonexistent(moment, tz)}
        if skipped:
            raise InvalidInput(skipped)
        return to_utc(moments["start"]), to_utc(moments["end"])
