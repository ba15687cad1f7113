""""What is free?": a search read from the query string (it writes nothing, so no CSRF
token), answered by the engine's free search, each result a link to a prefilled booking
form with the same day, times and units."""

from typing import Any

from flask_babel import lazy_gettext as _l
from wtforms import DateField, IntegerField, SelectChoice, SelectField, StringField, TimeField
from wtforms.validators import InputRequired, NumberRange, Optional, ValidationError

from sharing.core.validation import LARGEST_COUNT
from sharing.forms import Form, at_most, in_date_range
from sharing.forms.catalogue import any_site_choices, optional_id
from sharing.models import Resource, Site
from sharing.services.catalogue import KINDS, TAG_MAX_LENGTH

AT_LEAST_ONE = NumberRange(min=1, max=LARGEST_COUNT)


class FreeSearchForm(Form):
    """Its fields are named free-… so that it may sit beside a catalogue's filters."""

    class Meta:
        csrf = False

    site = SelectField(_l("Site"), coerce=optional_id)
    kind = SelectField(_l("Kind"), default="")
    date = DateField(_l("Date"), validators=[InputRequired(), in_date_range])
    start_time = TimeField(_l("From"), validators=[InputRequired()])
    end_time = TimeField(_l("To"), validators=[InputRequired()])
    people = IntegerField(_l("At least (people)"), validators=[Optional(), AT_LEAST_ONE],
                          description=_l("Premises with room for that many people."))
    units = IntegerField(_l("Units needed"), validators=[Optional(), AT_LEAST_ONE])
    tag = StringField(_l("Tag"), render_kw=at_most(TAG_MAX_LENGTH))

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, prefix="free", **kwargs)

    @classmethod
    def blank(cls, sites: list[Site], kind: str = "") -> "FreeSearchForm":
        """An empty search for a page to show, its kind preset on a catalogue's page."""
        form = cls(formdata=None, data={"kind": kind})
        form.offer_choices(sites)
        return form

    def offer_choices(self, sites: list[Site]) -> None:
        self.site.choices = any_site_choices(sites)
        self.kind.choices = [SelectChoice("", _l("Every kind")),
                             *(SelectChoice(kind.name, kind.title) for kind in KINDS.values())]

    def validate_end_time(self, field) -> None:
        start = self.start_time.data
        if start is not None and field.data is not None and field.data <= start:
            raise ValidationError(_l("The end must come after the start."))

    def is_asked(self) -> bool:
        """Whether a search was sent (an empty form on a page is not one)."""
        return bool(self.date.raw_data)

    def search(self) -> dict[str, Any]:
        """The `find_free_on` arguments."""
        filters = {"site_id": self.site.data, "kind": self.kind.data or None,
                   "tag": self.tag.data or None, "min_capacity": self.people.data,
                   "min_quantity": self.units.data}
        return {"day": self.date.data, "start": self.start_time.data, "end": self.end_time.data,
                "quantity": self.units.data or 1, **filters}

    def booking_link(self, resource: Resource) -> dict[str, Any]:
        """The booking form's query string: this resource, the day, times and units."""
        return {"resource": resource.slug, "date": self.date.data.isoformat(),
                "start_time": f"{self.start_time.data:%H:%M}",
                "end_time": f"{self.end_time.data:%H:%M}", "quantity": self.units.data or 1}
