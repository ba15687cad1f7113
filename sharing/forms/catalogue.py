"""Forms for the four catalogues: one resource form and one filter form per kind.

The forms only collect what was typed and hand it to the catalogue services, which hold
the rules; their `InvalidInput` messages come back beside the fields of the same name.
"""

from typing import Any

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DecimalField,
    IntegerField,
    SelectChoice,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.validators import NumberRange, Optional
from wtforms.widgets import CheckboxInput, ListWidget

from sharing.core.validation import LARGEST_COUNT, InvalidInput
from sharing.engine.policy import WEEKDAYS, format_ranges_line, parse_ranges_line
from sharing.forms import at_most
from sharing.models import Organisation, Resource, Site, User
from sharing.services.catalogue import (
    DELIVERY_MODE_LABELS,
    FIELD_LABELS,
    KINDS,
    TAG_MAX_LENGTH,
    TEXT_MAX_LENGTHS,
    WEEKDAY_LABELS,
)

VISIBILITY_CHOICES = [SelectChoice("all", _l("Every member organisation")),
                      SelectChoice("listed", _l("Only the organisations ticked below"))]
DELIVERY_CHOICES = [SelectChoice(value, label) for value, label in DELIVERY_MODE_LABELS.items()]
PRICE_UNIT_CHOICES = [SelectChoice("hour", _l("hour booked")),
                      SelectChoice("booking", _l("booking"))]
COUNT = NumberRange(min=0, max=LARGEST_COUNT)


def number(name: str, **options: Any) -> IntegerField:
    """A whole number that may be left empty; its range is the service's business."""
    return IntegerField(FIELD_LABELS[name], validators=[Optional()], **options)


def text(name: str, field: type = StringField, **options: Any) -> StringField:
    """A resource's text, as long as the catalogue service accepts."""
    return field(FIELD_LABELS[name], render_kw=at_most(TEXT_MAX_LENGTHS[name]), **options)


def any_site_choices(sites: list[Site]) -> list[SelectChoice]:
    """A search's sites: all of them, or one."""
    return [SelectChoice("", _l("All sites")), *(SelectChoice(s.id, s.name) for s in sites)]


def optional_id(value: Any) -> int | None:
    return None if value in ("", None) else int(value)


class CheckboxesField(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class ResourceForm(FlaskForm):
    """What every kind of resource has; each kind's subclass adds its own facts."""

    kind = ""
    owner = SelectField(_l("Owner organisation"), coerce=int)
    name = text("name")
    slug = text("slug", description=_l("Left empty, it is made from the name."))
    description = text("description", TextAreaField)
    site_id = SelectField(FIELD_LABELS["site_id"], coerce=int)
    quantity = number("quantity", default=1)
    tags = StringField(FIELD_LABELS["tags"],
                       description=_l("Separated by commas, e.g. meeting, kitchen."))
    visibility = SelectField(FIELD_LABELS["visibility"], choices=VISIBILITY_CHOICES)
    visible_to = CheckboxesField(FIELD_LABELS["visible_to"], coerce=int,
                                 render_kw={"class": "checkboxes"})
    requires_approval = BooleanField(FIELD_LABELS["requires_approval"])
    public_busy_feed = BooleanField(
        FIELD_LABELS["public_busy_feed"],
        description=_l("Anyone with its address sees when it is booked: no titles, no names."))
    min_duration_minutes = number("min_duration_minutes", default=0)
    max_duration_minutes = number("max_duration_minutes",
                                  description=_l("Left empty: no limit."))
    slot_minutes = number("slot_minutes", default=15,
                          description=_l("Bookings start and end on this grid."))
    buffer_minutes = number("buffer_minutes", default=0)
    min_notice_minutes = number("min_notice_minutes", default=0)
    max_advance_days = number("max_advance_days", description=_l("Left empty: no limit."))
    price = DecimalField(FIELD_LABELS["price"], places=2, validators=[Optional()],
                         description=_l("Per unit booked. Left empty: free. Your own "
                                        "organisation's bookings are always free."))
    price_unit = SelectField(FIELD_LABELS["price_unit"], choices=PRICE_UNIT_CHOICES)
    free_cancellation_minutes = number(
        "free_cancellation_minutes", default=0,
        description=_l("A booking cancelled earlier is refunded; 1440 is one day."))
    hours_mon = StringField(WEEKDAY_LABELS["mon"])
    hours_tue = StringField(WEEKDAY_LABELS["tue"])
    hours_wed = StringField(WEEKDAY_LABELS["wed"])
    hours_thu = StringField(WEEKDAY_LABELS["thu"])
    hours_fri = StringField(WEEKDAY_LABELS["fri"])
    hours_sat = StringField(WEEKDAY_LABELS["sat"])
    hours_sun = StringField(WEEKDAY_LABELS["sun"])

    ABOUT = ("owner", "name", "slug", "description", "site_id", "quantity", "tags")
    AUDIENCE = ("visibility", "visible_to", "public_busy_feed")
    RULES = ("requires_approval", "min_duration_minutes", "max_duration_minutes",
             "slot_minutes", "buffer_minutes", "min_notice_minutes", "max_advance_days")
    CREDITS = ("price", "price_unit", "free_cancellation_minutes")
    HOURS = tuple(f"hours_{day}" for day in WEEKDAYS)
    DATA_FIELDS = ("name", "description", "site_id", "quantity", "visibility", "visible_to",
                   "public_busy_feed", *RULES, *CREDITS)

    def offer_choices(self, owners: list[Organisation], sites: list[Site],
                      organisations: list[Organisation], people: list[User]) -> None:
        if "owner" in self:
            self.owner.choices = [SelectChoice(o.id, o.name) for o in owners]
        self.site_id.choices = [SelectChoice(s.id, s.name) for s in sites]
        self.visible_to.choices = [SelectChoice(o.id, o.name) for o in organisations]

    def sections(self) -> list[tuple[Any, Any, list]]:
        """The fields in the groups and order the page shows them: legend, help, fields."""
        groups = [
            (_l("About"), None, self.ABOUT),
            (_l("Details"), None, KINDS[self.kind].fields),
            (_l("Who can see and book it"), None, self.AUDIENCE),
            (_l("Booking rules"), None, self.RULES),
            (_l("Price in credits"), None, self.CREDITS),
            (FIELD_LABELS["opening_hours"], _l(
                "One line per day, e.g. 08:00-12:00, 13:30-18:00. An empty line: closed. "
                "All lines empty: bookable at any time."), self.HOURS),
        ]
        return [(legend, hint, [self[name] for name in names if name in self])
                for legend, hint, names in groups]

    def to_data(self) -> dict[str, Any]:
        """The typed values under the names the services (and the JSON API) use."""
        fields = (*self.DATA_FIELDS, *KINDS[self.kind].fields)
        data = {name: self[name].data for name in fields}
        data["tags"] = self.tags.data.split(",") if self.tags.data else []
        data["opening_hours"] = self.opening_hours()
        if self.slug.data and self.slug.data.strip():
            data["slug"] = self.slug.data.strip()
        return data

    def opening_hours(self) -> dict[str, list[list[str]]]:
        hours, errors = {}, {}
        for day in WEEKDAYS:
            try:
                hours[day] = parse_ranges_line(day, self[f"hours_{day}"].data or "")
            except InvalidInput as error:
                errors[f"hours_{day}"] = error.fields["opening_hours"]
        if errors:
            raise InvalidInput(errors)
        return hours

    @classmethod
    def values_of(cls, resource: Resource) -> dict[str, Any]:
        """The form's starting values when editing `resource`."""
        names = (*cls.DATA_FIELDS, "slug", *KINDS[resource.kind].fields)
        values = {name: getattr(resource, name) for name in names if name != "visible_to"}
        values["visible_to"] = list(resource.visible_to_ids)
        values["tags"] = ", ".join(resource.tags)
        for day in WEEKDAYS:
            values[f"hours_{day}"] = format_ranges_line((resource.opening_hours or {}).get(day, []))
        return values


class PersonChoice:
    """Staff time and expertise are someone's time: a member of the owning organisation."""

    person_id = SelectField(FIELD_LABELS["person_id"], coerce=optional_id)
    weekly_hours = number("weekly_hours")

    def offer_choices(self, owners, sites, organisations, people) -> None:
        super().offer_choices(owners, sites, organisations, people)
        self.person_id.choices = [SelectChoice(p.id, f"{p.display_name} ({p.email})")
                                  for p in people]


class RoomForm(ResourceForm):
    kind = "room"
    capacity = number("capacity")
    surface_m2 = number("surface_m2")
    accessible = BooleanField(FIELD_LABELS["accessible"])


class EquipmentForm(ResourceForm):
    kind = "equipment"
    pickup_place = text("pickup_place")
    licence_required = text("licence_required",
                            description=_l("E.g. B for a van; empty if none."))


class StaffForm(PersonChoice, ResourceForm):
    kind = "staff"


class ExpertiseForm(PersonChoice, ResourceForm):
    kind = "expertise"
    topic = text("topic")
    delivery_mode = SelectField(FIELD_LABELS["delivery_mode"], choices=DELIVERY_CHOICES)
    session_minutes = number("session_minutes")


RESOURCE_FORMS = {form.kind: form for form in (RoomForm, EquipmentForm, StaffForm,
                                                ExpertiseForm)}


class CatalogueFilters(FlaskForm):
    """The list's filters, read from the query string; a bad value is shown and ignored."""

    class Meta:
        csrf = False

    site = SelectField(_l("Site"), coerce=optional_id)
    tag = StringField(_l("Tag"), render_kw=at_most(TAG_MAX_LENGTH))
    q = StringField(_l("Search"))
    inactive = BooleanField(_l("Include withdrawn resources"))

    CRITERIA = {"site": "site_id", "tag": "tag", "q": "text", "inactive": "include_inactive"}

    def offer_choices(self, sites: list[Site], may_see_inactive: bool) -> None:
        self.site.choices = any_site_choices(sites)
        if not may_see_inactive:
            del self.inactive

    def criteria(self) -> dict[str, Any]:
        """The `find_resources` arguments of the filters that hold a valid value."""
        self.validate()
        return {argument: self[name].data for name, argument in self.CRITERIA.items()
                if name in self and not self[name].errors and self[name].data not in ("", None)}


class RoomFilters(CatalogueFilters):
    min_capacity = IntegerField(_l("At least (people)"), validators=[Optional(), COUNT])
    CRITERIA = {**CatalogueFilters.CRITERIA, "min_capacity": "min_capacity"}


class EquipmentFilters(CatalogueFilters):
    min_quantity = IntegerField(_l("At least (units)"), validators=[Optional(), COUNT])
    CRITERIA = {**CatalogueFilters.CRITERIA, "min_quantity": "min_quantity"}


class ExpertiseFilters(CatalogueFilters):
    topic = text("topic")
    delivery_mode = SelectField(FIELD_LABELS["delivery_mode"],
                                choices=[SelectChoice("", _l("Any")), *DELIVERY_CHOICES],
                                default="")
    CRITERIA = {**CatalogueFilters.CRITERIA, "topic": "topic", "delivery_mode": "delivery_mode"}


FILTER_FORMS = {"room": RoomFilters, "equipment": EquipmentFilters,
                "staff": CatalogueFilters, "expertise": ExpertiseFilters}
