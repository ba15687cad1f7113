"""/api/v1/openapi.json is generated from the declared operations: a valid OpenAPI 3.1
document that describes every route of the API, and only routes of the API."""

import re

from openapi_spec_validator import validate

from sharing.blueprints.api.document import openapi_document
from sharing.blueprints.api.operations import OPERATIONS

PREFIX = "/api/v1"
IGNORED_METHODS = {"HEAD", "OPTIONS"}


def shape(path: str) -> str:
    """/resources/<int:resource_id> and /resources/{id} → /resources/{}"""
    return re.sub(r"<[^>]*>|\{[^}]*\}", "{}", path)


def routes(app) -> dict[str, set[str]]:
    found: dict[str, set[str]] = {}
    for rule in app.url_map.iter_rules():
        if rule.endpoint.startswith("api."):
            path = shape(rule.rule.removeprefix(PREFIX))
            found.setdefault(path, set()).update(rule.methods - IGNORED_METHODS)
    return found


def described(document) -> dict[str, set[str]]:
    return {shape(path): {method.upper() for method in item}
            for path, item in document["paths"].items()}


def test_document_is_served_without_a_token(client, app):
    response = client.get(f"{PREFIX}/openapi.json")
    assert response.status_code == 200
    assert response.json["openapi"].startswith("3.1")
    assert response.json == openapi_document(app.url_map)


def test_document_is_a_valid_openapi_document(app):
    validate(openapi_document(app.url_map))


def test_every_route_is_declared_and_described_with_its_methods(app):
    document = described(openapi_document(app.url_map))
    assert routes(app) == document
    api_endpoints = {rule.endpoint for rule in app.url_map.iter_rules()
                     if rule.endpoint.startswith("api.")}
    assert api_endpoints <= set(OPERATIONS)


def test_every_operation_declares_its_path_parameters_and_errors(app):
    for path, item in openapi_document(app.url_map)["paths"].items():
        names = set(re.findall(r"\{([^}]*)\}", path))
        for method, operation in item.items():
            declared = {p["name"] for p in operation.get("parameters", []) if p["in"] == "path"}
            assert declared == names, (method, path)
            assert "400" in operation["responses"], (method, path)
            if operation.get("security") != []:
                assert "401" in operation["responses"], (method, path)
            if names:
                assert "404" in operation["responses"], (method, path)


def test_request_bodies_refuse_unknown_fields_and_state_their_limits(app):
    schemas = openapi_document(app.url_map)["components"]["schemas"]
    for name in ("NewBooking", "Cancel", "Reject", "NewClosure", "QuotaList", "QuotaItem",
                 "ResourceChanges", "NewRoom", "NewStaff"):
        assert schemas[name]["additionalProperties"] is False, name
    booking = schemas["NewBooking"]
    assert set(booking["required"]) == {"resource_id", "organisation_id", "start", "end"}
    assert booking["properties"]["title"]["maxLength"] == 200
    assert booking["properties"]["note"]["maxLength"] == 5000
    assert booking["properties"]["quantity"]["maximum"] == 100_000
    assert booking["properties"]["extra_resource_ids"]["maxItems"] == 20
    assert schemas["Reject"]["properties"]["reason"]["minLength"] == 1
    assert schemas["Reject"]["properties"]["reason"]["maxLength"] == 500
    assert "person_id" in schemas["NewStaff"]["required"]
    assert schemas["ResourceChanges"]["properties"]["licence_required"]["maxLength"] == 60


def test_conflict_codes_are_the_engines(app):
    from sharing.engine.rules import CODES

    schemas = openapi_document(app.url_map)["components"]["schemas"]
    assert schemas["ConflictReason"]["properties"]["code"]["enum"] == list(CODES)


def test_links_lead_to_operations_and_their_parameters(app):
    document = openapi_document(app.url_map)
    operations = {operation["operationId"]: (path, operation)
                  for path, item in document["paths"].items() for operation in item.values()}
    found = 0
    for _path, operation in operations.values():
        for answer in operation["responses"].values():
            for link in answer.get("links", {}).values():
                path, _target = operations[link["operationId"]]
                assert set(link["parameters"]) <= set(re.findall(r"\{([^}]*)\}", path))
                found += 1
    assert found
