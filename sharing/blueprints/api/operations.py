"""Each API view is declared with `@operation(...)`: its summary, the contracts of its
body and query, and its answers. The same declaration reads and checks the request,
checks the answer, and becomes the view's entry in the generated OpenAPI document.

Adding an endpoint: a view with `@bp.<method>(path)` and `@operation(...)`. Adding a field
to an answer: the `Answer` model in `contracts.py` and the key in `serialize.py`; a key
that is sent but not declared fails the tests.
"""

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import wraps
from typing import Any

from flask import Response, abort, jsonify, request
from flask_babel import gettext as _
from flask_login import current_user
from pydantic import BaseModel

from sharing.core.contracts import validate
from sharing.core.validation import InvalidInput

# Errors every operation may give: a NUL character in its query string is refused.
ALWAYS = (400,)


@dataclass(frozen=True)
class Operation:
    summary: str
    tag: str
    answers: dict[int, type[BaseModel] | None]  # status → what is sent (None: nothing)
    body: Any = None  # the contract of the JSON body
    query: type[BaseModel] | None = None
    errors: tuple[int, ...] = ()  # besides 400, 401, and 404 and 422 where they apply
    public: bool = False  # no token needed
    optional_body: bool = False  # an empty body reads as {}
    service_reads_body: bool = False  # the view passes the object to a service that
    # checks it with `body` itself (it needs the row being changed)
    # What the answer leads to: {view name: {its path parameter: where in the answer}}.
    links: dict[str, dict[str, str]] = field(default_factory=dict)


OPERATIONS: dict[str, Operation] = {}  # endpoint → its declaration


def operation(summary: str, *, tag: str, answers: dict[int, Any], **more: Any) -> Callable:
    """Declare a view (see the module's docstring); it receives `body=` and `query=`."""
    described = Operation(summary, tag, answers, **more)

    def register(view: Callable) -> Callable:
        OPERATIONS[f"api.{view.__name__}"] = described

        @wraps(view)
        def run(**path: Any) -> Response | tuple[Any, int]:
            return answer(described, view(**path, **inputs(described)))

        return run

    return register


def inputs(described: Operation) -> dict[str, Any]:
    read: dict[str, Any] = {}
    if described.body is not None:
        data = {} if described.optional_body and not request.get_data() else json_body()
        read["body"] = data if described.service_reads_body else validate(
            described.body, data, viewer=current_user)
    if described.query is not None:
        given = {name: value for name, value in request.args.items() if value != ""}
        read["query"] = validate(described.query, given, viewer=current_user)
    return read


def answer(described: Operation, result: Any) -> Response | tuple[Any, int]:
    """The view's data as JSON, once its answer model has checked it."""
    data, status = result if isinstance(result, tuple) else (result, 200)
    model = described.answers[status]
    if model is None:
        return "", status
    model.model_validate(data)
    return jsonify(data), status


def reject_constant(name: str) -> None:
    raise ValueError(f"{name} is not JSON")


def finite_float(text: str) -> float:
    value = float(text)
    if value in (float("inf"), float("-inf")):
        raise ValueError("number out of range")
    return value


def has_nul(value: Any) -> bool:
    """NUL characters: PostgreSQL cannot store them in text, and no field needs them."""
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(has_nul(key) or has_nul(item) for key, item in value.items())
    return isinstance(value, list | tuple) and any(map(has_nul, value))


def json_body() -> dict[str, Any]:
    """The request's JSON object; 400 for anything else (bad syntax, NaN, a list, null…)."""
    try:
        data = json.loads(request.get_data() or b"null", parse_constant=reject_constant,
                          parse_float=finite_float)
        if has_nul(data):
            raise ValueError("NUL character")
    except (ValueError, RecursionError):
        abort(400, _("The body must be valid JSON, without NUL characters."))
    if not isinstance(data, dict):
        abort(400, _("The body must be a JSON object."))
    return data


def invalid(field_name: str, message: str) -> InvalidInput:
    return InvalidInput({field_name: [message]})
