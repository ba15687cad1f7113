"""The form adding a closure: local dates and times on the resource's site, a reason."""

from datetime import datetime, time

from flask_babel import lazy_gettext as _l
from wtforms import DateField, StringField, TimeField
from wtforms.validators import InputRequired

from sharing.engine.times import localize, to_utc, zone
from sharing.forms import Form
from sharing.models import Resource
from sharing.validation import InvalidInput

# The closures service names `start` and `end`; their messages go beside the times.
FIELDS = {"start": "start_time", "end": "end_time"}


class ClosureForm(Form):
    start_date = DateField(_l("From (date)"), validators=[InputRequired()])
    start_time = TimeField(_l("From (time)"), default=time(0, 0), validators=[InputRequired()])
    end_date = DateField(_l("Until (date)"), validators=[InputRequired()])
    end_time = TimeField(_l("Until (time)"), default=time(0, 0), validators=[InputRequired()],
                         description=_l("Not included: 00:00 reopens at midnight."))
    reason = StringField(_l("Reason"), description=_l("Shown on the resource's page."))

    def interval(self, resource: Resource) -> tuple[datetime, datetime]:
        """The closure in UTC, its wall-clock times read on the resource's site."""
        tz = zone(resource.timezone)
        return tuple(to_utc(localize(datetime.combine(day, moment), tz)) for day, moment in (
            (self.start_date.data, self.start_time.data),
            (self.end_date.data, self.end_time.data)))

    @staticmethod
    def beside_fields(error: InvalidInput) -> InvalidInput:
        """The service's error with its field names turned into this form's."""
        return InvalidInput({FIELDS.get(name, name): messages
                             for name, messages in error.fields.items()})
