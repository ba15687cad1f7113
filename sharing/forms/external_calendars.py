"""The form attaching an owner's external calendar to a resource: its ICS address.

The field bears the service's name (`url`), so the service's messages land beside it."""

from flask_babel import lazy_gettext as _l
from wtforms import StringField
from wtforms.validators import InputRequired

from sharing.forms import Form, at_most
from sharing.services.external_calendars import URL_MAX_LENGTH


class ExternalCalendarForm(Form):
    url = StringField(_l("Calendar address (ICS)"), validators=[InputRequired()],
                      description=_l("The secret iCal address of your Nextcloud, Google or "
                                     "Outlook calendar, starting with https://. Its events make "
                                     "the resource busy; only their times are kept."),
                      render_kw=at_most(URL_MAX_LENGTH))
