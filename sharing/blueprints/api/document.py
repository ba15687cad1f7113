"""The OpenAPI 3.1 document, built from the routes of the `api` blueprint and the
`@operation` declared on each: nothing in it is written by hand but the words.

Pydantic writes JSON Schema 2020-12, which OpenAPI 3.1 uses as it is.
"""

import re
from typing import Any

from pydantic import BaseModel, TypeAdapter
from pydantic.json_schema import GenerateJsonSchema
from werkzeug.routing import Map, Rule

from sharing.blueprints.api.contracts import Error, Invalid, Refusal
from sharing.blueprints.api.operations import ALWAYS, OPERATIONS, Operation
from sharing.core.contracts import ID_SCHEMA

REF = "#/components/schemas/{model}"
PREFIX = "/api/v1"
IGNORED_METHODS = {"HEAD", "OPTIONS"}
ERRORS: dict[int, tuple[str, str, Any]] = {
    # status: (component name, description, body schema)
    400: ("BadRequest", "Malformed JSON, a body that is not a JSON object, or a NUL "
                        "character in the query string.", Error),
    401: ("Unauthorized", "No token, or an unknown or revoked one.", Error),
    403: ("Forbidden", "Not allowed for this user.", Error),
    404: ("NotFound", "No such object, or one the user may not see.", Error),
    409: ("Conflict", "Not bookable: every reason that applies, and alternatives; or the "
                      "booking's status does not allow this (error: invalid_state).",
          Refusal | Error),
    422: ("Invalid", "Invalid fields: missing, unknown, of the wrong type or out of range, "
                     "an unknown id, a time without offset, an end before its start.",
          Invalid),
}


class Schemas(GenerateJsonSchema):
    """No generated titles, and no `default: null` on fields that are only optional."""

    def field_title_should_be_set(self, schema: Any) -> bool:
        return False

    def default_schema(self, schema: Any) -> dict[str, Any]:
        if schema.get("default", ...) is None:
            return self.generate_inner(schema["schema"])
        return super().default_schema(schema)


class Document:
    """The components gathered while the operations are described."""

    def __init__(self) -> None:
        self.schemas: dict[str, Any] = {}

    def ref(self, declared: Any, name: str | None = None) -> dict[str, str]:
        """`declared` (a model, or an annotated type named `name`) among the components."""
        name = name or declared.__name__
        if name not in self.schemas:
            adapter = declared if isinstance(declared, type) and issubclass(
                declared, BaseModel) else TypeAdapter(declared)
            generate = getattr(adapter, "model_json_schema", None) or adapter.json_schema
            schema = generate(ref_template=REF, schema_generator=Schemas)
            self.schemas.update(schema.pop("$defs", {}))
            self.schemas[name] = schema
        return {"$ref": REF.format(model=name)}

    def parameters(self, rule: Rule, described: Operation) -> list[dict[str, Any]]:
        found = [{"name": name, "in": "path", "required": True, "schema": ID_SCHEMA}
                 for name in rule.arguments]
        if described.query is not None:
            found += query_parameters(described.query)
        return found

    def responses(self, described: Operation, rule: Rule) -> dict[str, Any]:
        answers = {str(status): answer_object(self.ref(model) if model else None)
                   for status, model in described.answers.items()}
        for status in answers if described.links else ():
            if status.startswith("2"):
                answers[status]["links"] = links(described.links)
        errors = {*ALWAYS, *described.errors}
        errors |= {401} if not described.public else set()
        errors |= {404} if rule.arguments else set()
        errors |= {422} if described.body is not None or described.query else set()
        return {**answers, **{str(code): {"$ref": f"#/components/responses/{ERRORS[code][0]}"}
                              for code in sorted(errors)}}

    def operation(self, rule: Rule, described: Operation) -> dict[str, Any]:
        found: dict[str, Any] = {"summary": described.summary, "tags": [described.tag],
                                 "operationId": rule.endpoint.removeprefix("api."),
                                 "responses": self.responses(described, rule)}
        if parameters := self.parameters(rule, described):
            found["parameters"] = parameters
        if described.body is not None:
            name = getattr(described.body, "__name__", "NewResource")
            found["requestBody"] = {"required": not described.optional_body, "content": {
                "application/json": {"schema": self.ref(described.body, name)}}}
        if described.public:
            found["security"] = []
        return found

    def error_responses(self) -> dict[str, Any]:
        return {name: answer_object(
            self.ref(schema, getattr(schema, "__name__", f"{name}Answer")), description)
                for name, description, schema in ERRORS.values()}


def answer_object(schema: dict[str, Any] | None, description: str = "") -> dict[str, Any]:
    answer: dict[str, Any] = {"description": description or ("Done." if schema is None
                                                               else "The answer.")}
    if schema is not None:
        answer["content"] = {"application/json": {"schema": schema}}
    return answer


def links(leads_to: dict[str, dict[str, str]]) -> dict[str, Any]:
    """OpenAPI links: the ids an answer gives, for the operations that take them."""
    return {view: {"operationId": view, "parameters": {
        name: f"$response.body#{pointer}" for name, pointer in parameters.items()}}
        for view, parameters in leads_to.items()}


def query_parameters(query: type[BaseModel]) -> list[dict[str, Any]]:
    """Each field a parameter; an empty value, like none, is no filter."""
    schema = query.model_json_schema(schema_generator=Schemas)
    required = set(schema.get("required", []))
    found = []
    for name, declared in schema["properties"].items():
        parameter = {"name": name, "in": "query", "required": name in required,
                     "schema": declared if name in required else empty_allowed(declared)}
        if "description" in declared:
            parameter["description"] = declared["description"]
        found.append(parameter)
    return found


def empty_allowed(schema: dict[str, Any]) -> dict[str, Any]:
    kinds = [kind for kind in schema.get("anyOf", [schema]) if kind.get("type") != "null"]
    return {"anyOf": [*kinds, {"type": "string", "maxLength": 0}]}


def openapi_path(rule: Rule) -> str:
    """/api/v1/resources/<int:resource_id> → /resources/{resource_id}"""
    return re.sub(r"<(?:[^:>]*:)?([^>]*)>", r"{\1}", rule.rule.removeprefix(PREFIX))


def openapi_document(url_map: Map) -> dict[str, Any]:
    document = Document()
    paths: dict[str, dict[str, Any]] = {}
    for rule in url_map.iter_rules():
        if rule.endpoint.startswith("api."):
            described = OPERATIONS[rule.endpoint]
            for method in sorted(rule.methods - IGNORED_METHODS):
                paths.setdefault(openapi_path(rule), {})[method.lower()] = \
                    document.operation(rule, described)
    return {
        "openapi": "3.1.0",
        "info": {"title": "sharing", "version": "1",
                 "description": "Book and share premises, equipment, staff time and "
                                "expertise between the member organisations of a pole.",
                 "license": {"name": "AGPL-3.0-or-later",
                             "identifier": "AGPL-3.0-or-later"}},
        "servers": [{"url": PREFIX}],
        "security": [{"bearer": []}],
        "paths": paths,
        "components": {"securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
                       "responses": document.error_responses(),
                       "schemas": document.schemas},
    }
