"""WTForms forms, one module per area, and what they all share: posted forms refuse NUL
characters, a service's InvalidInput is shown beside the fields, and nothing is written."""

from collections.abc import Callable
from datetime import datetime
from typing import TypeVar

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms.validators import ValidationError

from sharing.core.extensions import db
from sharing.core.validation import MAX_ROW_ID, OUT_OF_RANGE, InvalidInput, is_in_date_range
from sharing.services.messages import describe, describe_message

T = TypeVar("T")

# The status of a page showing a posted form again with its errors.
FORM_ERROR = 422
# In URLs: ids fit the database's INTEGER columns; a larger one is a 404, not a DB error.
ROW_ID = f"int(max={MAX_ROW_ID})"


def form_status(form: FlaskForm) -> int:
    return FORM_ERROR if form.is_submitted() else 200


def show_errors(form: FlaskForm, error: InvalidInput) -> None:
    """Put a service's messages beside the form's fields (or above it, for the others)."""
    for name, messages in error.fields.items():
        worded = [describe_message(message) for message in messages]
        field = form._fields.get(name)
        if field is None:
            form.form_errors.extend(worded)
        else:
            field.errors = [*field.errors, *worded]


def save_form(form: FlaskForm, change: Callable[[], T]) -> tuple[bool, T | None]:
    """Validate the form, run the change and commit; on bad input show why, write nothing."""
    if not form.validate_on_submit():
        return False, None
    try:
        result = change()
        db.session.commit()
    except InvalidInput as error:
        db.session.rollback()
        show_errors(form, error)
        return False, None
    return True, result


def at_most(length: int, **render_kw) -> dict:
    """`render_kw` for a text the service bounds to `length` characters: the browser stops
    there too (WTForms renders `maxlength` only for a `Length` validator)."""
    return {"maxlength": length, **render_kw}


def in_date_range(_form, field) -> None:
    """A typed day within the dates the application accepts (the services then check
    the instant itself, in UTC, with the same message)."""
    day = field.data.date() if isinstance(field.data, datetime) else field.data
    if day is not None and not is_in_date_range(day):
        raise ValidationError(describe(OUT_OF_RANGE))


class Form(FlaskForm):
    """Refuses NUL characters in every field: PostgreSQL cannot store them in text."""

    def validate(self, extra_validators=None) -> bool:
        valid = super().validate(extra_validators)
        for field in self:
            if any(isinstance(raw, str) and "\x00" in raw for raw in field.raw_data or ()):
                field.errors = [*field.errors, _l("Remove the invisible (NUL) characters.")]
                valid = False
        return valid


    def choice_labels(self, name: str) -> dict:
        """The labels of a select's choices by value; empty when the form lacks it."""
        return {choice.value: choice.label for choice in self[name].choices} \
            if name in self else {}


class ActionForm(Form):
    """A button that changes something: carries only the CSRF token."""
