"""The form setting one quota of an organisation: a scope (one resource, or every
resource of a kind) and hours per week and/or month. The quotas service checks the
values; this form only reads them into the service's shape."""

import re
from typing import Any

from flask_babel import lazy_gettext as _l
from wtforms import FloatField, SelectChoice, SelectField
from wtforms.validators import Optional, ValidationError

from sharing.core.validation import InvalidInput
from sharing.forms import Form
from sharing.models import Resource
from sharing.services.catalogue import KINDS

# A scope as the select posts it: "resource:12" or "kind:room".
SCOPE = re.compile(r"^(resource:[0-9]{1,10}|kind:[a-z]{1,16})$")
# The service's error paths (given `PATH`) → this form's fields.
PATH = "quota"
FIELDS = {PATH: "scope", f"{PATH}.resource_id": "scope", f"{PATH}.resource_kind": "scope",
          f"{PATH}.max_hours_per_week": "max_hours_per_week",
          f"{PATH}.max_hours_per_month": "max_hours_per_month"}


class HoursField(FloatField):
    """A number of hours, also with the decimal comma French users type ("1,5")."""

    def process_formdata(self, valuelist: list[Any]) -> None:
        super().process_formdata([value.replace(",", ".") if isinstance(value, str) else value
                                  for value in valuelist])


class QuotaForm(Form):
    # Not limited to the choices offered: the service says which resources exist and
    # the permissions who may set what (403), as for the JSON API.
    scope = SelectField(_l("For"), validate_choice=False)
    max_hours_per_week = HoursField(_l("Hours per week at most"), validators=[Optional()])
    max_hours_per_month = HoursField(_l("Hours per month at most"), validators=[Optional()],
                                     description=_l("Leave empty for no limit."))

    def offer_choices(self, resources: list[Resource], kinds: bool) -> None:
        """The scopes the user may set: every kind for the coordinator, some resources."""
        self.scope.choices = [SelectChoice(f"kind:{name}",
                                           str(_l("All resources: %(kind)s", kind=kind.title)))
                              for name, kind in KINDS.items() if kinds]
        self.scope.choices += [SelectChoice(f"resource:{r.id}", f"{r.name} · {r.site.name}")
                               for r in resources]

    def validate_scope(self, field: SelectField) -> None:
        if not isinstance(field.data, str) or not SCOPE.match(field.data):
            raise ValidationError(_l("Not a valid choice."))

    def validate(self, extra_validators=None) -> bool:
        # Not a field's own validator: `Optional` ends the checks of an empty field.
        valid = super().validate(extra_validators)
        limits = (self.max_hours_per_week, self.max_hours_per_month)
        if all(f.data is None and not f.errors for f in limits):
            self.max_hours_per_month.errors.append(_l("Give hours per week, per month or both."))
            return False
        return valid

    def to_item(self) -> dict[str, Any]:
        """The quota in the service's shape, e.g. {"resource_id": 12, "max_hours_per_week": 4}."""
        kind, _colon, value = self.scope.data.partition(":")
        scope = {"resource_id": int(value)} if kind == "resource" else {"resource_kind": value}
        return {**scope, "max_hours_per_week": self.max_hours_per_week.data,
                "max_hours_per_month": self.max_hours_per_month.data}

    @staticmethod
    def beside_fields(error: InvalidInput) -> InvalidInput:
        """The service's error, its paths turned into this form's fields."""
        return InvalidInput({FIELDS.get(name, name): messages
                             for name, messages in error.fields.items()})
