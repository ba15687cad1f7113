"""Input declared once: the same pydantic model checks what arrives (from a form, the JSON
API or the command line) and describes it in the OpenAPI document.

The field types below carry their own check and JSON Schema. Each check is strict (no
boolean taken for a number, no number for a text, no NUL character, no time without its
offset, no date outside `EARLIEST_DATE`..`LATEST_DATE`) and raises a message in the
reader's language. Pydantic adds the structure: unknown fields refused, required ones
named, nested paths (`quotas[1].resource_id`). A check that needs the database reads it
from the validation context (`validate(..., viewer=user)`).
"""

import inspect
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Annotated, Any, TypeVar

from flask_babel import gettext as _
from pydantic import (
    BaseModel,
    ConfigDict,
    PlainValidator,
    ValidationError,
    ValidationInfo,
    WithJsonSchema,
)
from pydantic_core import PydanticCustomError

from sharing.core.validation import (
    EARLIEST_DATE,
    LATEST_DATE,
    MAX_ROW_ID,
    InvalidInput,
    is_in_date_range,
    is_whole_number,
)

M = TypeVar("M", bound=BaseModel)
DATETIME_MAX_LENGTH = 40
TIME_EXAMPLE = "2026-03-02T10:00:00+01:00"


class Contract(BaseModel):
    """A request's fields: every one declared, no other accepted."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False, frozen=True)


def refuse(message: str) -> PydanticCustomError:
    # The message is already translated; braces would be read as placeholders.
    return PydanticCustomError("invalid", message.replace("{", "(").replace("}", ")"))


def checked(check: Callable[[Any], Any], schema: dict[str, Any]) -> Any:
    """A field type: `check(value)` returns the clean value or raises `refuse(...)`."""
    return (PlainValidator(check), WithJsonSchema(schema))


def nullable(check: Callable[..., Any]) -> Callable[[Any, ValidationInfo], Any]:
    """`check`, letting null through; `check` may read the context, as `(value, info)`."""
    takes_info = len(inspect.signature(check).parameters) == 2

    def check_or_null(value: Any, info: ValidationInfo) -> Any:
        if value is None:
            return None
        return check(value, info) if takes_info else check(value)

    return check_or_null


def with_null(schema: dict[str, Any]) -> dict[str, Any]:
    kind = schema.get("type")
    if kind is None:
        return {"anyOf": [schema, {"type": "null"}]}
    return {**schema, "type": [kind, "null"]}


def whole_number(low: int, high: int, *, optional: bool = False) -> Any:
    def check(value: Any) -> int:
        if not is_whole_number(value, low, high):
            raise refuse(_("Enter a whole number between %(low)s and %(high)s.",
                           low=low, high=high))
        return value

    schema = {"type": "integer", "minimum": low, "maximum": high}
    if optional:
        return Annotated[int | None, *checked(nullable(check), with_null(schema))]
    return Annotated[int, *checked(check, schema)]


def row_id(value: Any) -> int:
    if not is_whole_number(value, 1, MAX_ROW_ID):
        raise refuse(_("Give the id of an existing object (a positive whole number)."))
    return value


ID_SCHEMA = {"type": "integer", "minimum": 1, "maximum": MAX_ROW_ID}
RowId = Annotated[int, *checked(row_id, ID_SCHEMA)]


def number_check(low: float, high: float) -> Callable[[Any], float]:
    def check(value: Any) -> float:
        if isinstance(value, bool) or not isinstance(value, int | float) \
                or not low <= value <= high:
            raise refuse(_("Enter a number between %(low)s and %(high)s.", low=low, high=high))
        return float(value)

    return check


def number_schema(low: float, high: float) -> dict[str, Any]:
    return {"type": "number", "minimum": low, "maximum": high}


NO_NUL = r"^[^\u0000]*$"


def text(max_length: int, *, required: bool = False, optional: bool = False) -> Any:
    """A text without NUL characters (PostgreSQL cannot store them), of at most
    `max_length` characters, stripped; `required`: not blank; `optional`: null means ""."""
    def check(value: Any) -> str:
        if value is None and optional:
            return ""
        if not isinstance(value, str) or "\x00" in value:
            raise refuse(_("Enter some text."))
        if required and not value.strip():
            raise refuse(_("This field is required."))
        if len(value) > max_length:
            raise refuse(_("Use at most %(count)s characters.", count=max_length))
        return value.strip()

    schema: dict[str, Any] = {"type": "string", "maxLength": max_length, "pattern": NO_NUL}
    if required:
        schema["minLength"] = 1
    return Annotated[str, *checked(check, with_null(schema) if optional else schema)]


def flag(value: Any) -> bool:
    if not isinstance(value, bool):
        raise refuse(_("Give true or false."))
    return value


Flag = Annotated[bool, *checked(flag, {"type": "boolean"})]


def choice(values: tuple[str, ...], *, optional: bool = False) -> Any:
    def check(value: Any) -> str:
        if not isinstance(value, str) or value not in values:
            raise refuse(_("Choose one of %(values)s.", values=", ".join(values)))
        return value

    schema = {"type": "string", "enum": list(values)}
    if optional:
        return Annotated[str | None, *checked(nullable(check), with_null(schema))]
    return Annotated[str, *checked(check, schema)]


def parse_time(value: Any) -> datetime:
    """An ISO 8601 time with an offset or Z, in the accepted range, as UTC."""
    if not isinstance(value, str) or len(value) > DATETIME_MAX_LENGTH:
        raise refuse(_("Give a date and time such as %(example)s.", example=TIME_EXAMPLE))
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise refuse(_("Give a date and time such as %(example)s.",
                       example=TIME_EXAMPLE)) from None
    if moment.tzinfo is None:
        raise refuse(_("Give the offset from UTC, such as +01:00, or Z for UTC."))
    try:
        moment = moment.astimezone(UTC)
    except OverflowError:
        moment = None
    if moment is None or not is_in_date_range(moment):
        raise refuse(_("Give a date between %(earliest)s and %(latest)s.",
                       earliest=EARLIEST_DATE.date().isoformat(),
                       latest=LATEST_DATE.date().isoformat()))
    return moment


TIME_SCHEMA = {"type": "string", "format": "date-time",
               "description": f"ISO 8601 with an offset or Z, from {EARLIEST_DATE:%Y-%m-%d} "
                              f"to {LATEST_DATE:%Y-%m-%d}; answers are in UTC with Z."}
Time = Annotated[datetime, *checked(parse_time, TIME_SCHEMA)]


# --- reading a model, errors as InvalidInput ---------------------------------------------

def validate(model: type[M], data: Any, **context_values: Any) -> M:
    """`data` read as `model`; every error in one `InvalidInput` named by path."""
    try:
        return model.model_validate(data, context=context_values)
    except ValidationError as error:
        raise invalid_input(error) from None


def invalid_input(error: ValidationError) -> InvalidInput:
    fields: dict[str, list[str]] = {}
    for problem in error.errors(include_url=False):
        fields.setdefault(path(problem["loc"]), []).append(message(problem))
    return InvalidInput(fields)


def path(location: tuple[str | int, ...]) -> str:
    """('quotas', 1, 'resource_id') → quotas[1].resource_id; () → the whole body."""
    text_path = ""
    for part in location:
        text_path += f"[{part}]" if isinstance(part, int) else f".{part}"
    return text_path.lstrip(".") or "body"


def message(problem: Mapping[str, Any]) -> str:
    """Pydantic's own errors are about structure: said in the reader's language."""
    kind = problem["type"]
    if kind == "invalid":
        return problem["msg"]
    messages = {
        "missing": _("This field is required."),
        "extra_forbidden": _("Unknown field."),
        "model_type": _("Give an object."),
        "model_attributes_type": _("Give an object."),
        "dict_type": _("Give an object."),
        "list_type": _("Give a list."),
        "too_long": _("Give at most %(count)s items.",
                      count=problem.get("ctx", {}).get("max_length", 0)),
    }
    return messages.get(kind, _("This value is not valid."))
