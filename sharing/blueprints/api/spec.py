"""The OpenAPI 3.1 description of the JSON API v1, served at /api/v1/openapi.json.

A test checks that every route of the `api` blueprint is described here with its
methods, and that every path described here is a route.
"""

from typing import Any

from sharing.engine.policy import WEEKDAYS
from sharing.models import BOOKING_STATUSES, DELIVERY_MODES, RESOURCE_KINDS, VISIBILITIES


def ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def json_content(schema: dict[str, Any]) -> dict[str, Any]:
    return {"application/json": {"schema": schema}}


def body(schema: dict[str, Any]) -> dict[str, Any]:
    return {"required": True, "content": json_content(schema)}


def answer(description: str, schema: dict[str, Any]) -> dict[str, Any]:
    return {"description": description, "content": json_content(schema)}


def listing(key: str, item: str) -> dict[str, Any]:
    return {"type": "object", "required": [key],
            "properties": {key: {"type": "array", "items": ref(item)}}}


def errors(*codes: int) -> dict[str, Any]:
    """The error answers an operation may give, besides 401 (every operation)."""
    return {str(code): {"$ref": f"#/components/responses/{ERROR_NAMES[code]}"}
            for code in (*codes, 401)}


def operation(summary: str, responses: dict[str, Any], *, request: dict | None = None,
              parameters: list | None = None, tag: str) -> dict[str, Any]:
    described = {"summary": summary, "tags": [tag], "responses": responses}
    if request:
        described["requestBody"] = body(request)
    if parameters:
        described["parameters"] = parameters
    return described


def in_path(name: str) -> dict[str, Any]:
    return {"name": name, "in": "path", "required": True, "schema": {"type": "integer"}}


def in_query(name: str, schema: dict[str, Any], description: str = "") -> dict[str, Any]:
    parameter = {"name": name, "in": "query", "required": False, "schema": schema}
    if description:
        parameter["description"] = description
    return parameter


def nullable(type_name: str, **more: Any) -> dict[str, Any]:
    return {"type": [type_name, "null"], **more}


TIME = {"type": "string", "format": "date-time",
        "description": "ISO 8601 with an offset or Z; answers are in UTC with Z."}
ID = {"type": "integer", "minimum": 1}
HOURS = {"type": "number", "minimum": 0}

ERROR_NAMES = {400: "BadRequest", 401: "Unauthorized", 403: "Forbidden", 404: "NotFound",
               409: "Conflict", 422: "Invalid"}

RESOURCE_FIELDS: dict[str, Any] = {
    "name": {"type": "string", "maxLength": 200},
    "slug": {"type": "string", "pattern": "^[a-z0-9]+(?:-[a-z0-9]+)*$", "maxLength": 80},
    "description": {"type": "string"},
    "site_id": ID,
    "quantity": {"type": "integer", "minimum": 1},
    "tags": {"type": "array", "items": {"type": "string", "maxLength": 40}},
    "visibility": {"enum": list(VISIBILITIES)},
    "visible_to": {"type": "array", "items": ID,
                   "description": "Organisations that see a `listed` resource; shown to "
                                  "the owner's managers only."},
    "requires_approval": {"type": "boolean"},
    "public_busy_feed": {"type": "boolean",
                         "description": "its busy times (no titles, no names) in a feed that "
                                        "needs no token"},
    "opening_hours": ref("OpeningHours"),
    "min_duration_minutes": {"type": "integer", "minimum": 0},
    "max_duration_minutes": nullable("integer", minimum=1),
    "slot_minutes": {"type": "integer", "minimum": 1},
    "buffer_minutes": {"type": "integer", "minimum": 0},
    "min_notice_minutes": {"type": "integer", "minimum": 0},
    "max_advance_days": nullable("integer", minimum=1),
    "capacity": nullable("integer", minimum=1, description="room"),
    "surface_m2": nullable("integer", minimum=1, description="room"),
    "accessible": {"type": "boolean", "description": "room"},
    "pickup_place": {"type": "string", "description": "equipment"},
    "licence_required": {"type": "string", "description": "equipment"},
    "person_id": nullable("integer", description="staff, expertise: the person (a user)"),
    "weekly_hours": nullable("integer", minimum=1, description="staff, expertise"),
    "topic": {"type": "string", "description": "expertise"},
    "delivery_mode": nullable("string", enum=[*DELIVERY_MODES, None],
                              description="expertise"),
    "session_minutes": nullable("integer", minimum=1, description="expertise"),
}

SCHEMAS: dict[str, Any] = {
    "Error": {"type": "object", "required": ["error"], "properties": {
        "error": {"type": "string"}, "message": {"type": "string"}}},
    "Invalid": {"type": "object", "required": ["error", "fields"], "properties": {
        "error": {"const": "invalid"},
        "fields": {"type": "object", "description": "Field name or path (quotas[1].resource_id)"
                                                    " → messages.",
                   "additionalProperties": {"type": "array", "items": {"type": "string"}}}}},
    "Conflict": {"type": "object", "required": ["error", "conflicts", "alternatives"],
                 "properties": {
                     "error": {"const": "conflict"},
                     "conflicts": {"type": "array", "items": ref("ConflictReason")},
                     "alternatives": {"type": "array", "items": ref("Alternative")}}},
    "ConflictReason": {"type": "object", "required": ["code", "message"], "properties": {
        "code": {"enum": ["invalid_interval", "nonexistent_local_time", "too_short",
                          "too_long", "misaligned", "too_soon", "too_far",
                          "outside_opening_hours", "closed", "capacity", "quota",
                          "not_allowed", "external_busy"]},
        "message": {"type": "string"}, "start": TIME, "end": TIME,
        "resource_id": {**ID, "description": "with several resources: the one concerned"}}},
    "Alternative": {"type": "object", "required": ["resource_id", "start", "end"],
                    "properties": {"resource_id": ID, "start": TIME, "end": TIME}},
    "Me": {"type": "object", "required": ["id", "email", "name", "organisations", "feeds"],
           "properties": {
               "id": ID, "email": {"type": "string"}, "name": {"type": "string"},
               "is_admin": {"type": "boolean"},
               "feeds": {"type": "object", "required": ["personal", "organisations"],
                         "description": "iCalendar feeds at the user's secret addresses",
                         "properties": {
                             "personal": {"type": "string", "format": "uri"},
                             "organisations": {"type": "object",
                                               "description": "organisation id → feed",
                                               "additionalProperties": {
                                                   "type": "string", "format": "uri"}}}},
               "organisations": {"type": "array", "items": {
                   "type": "object", "required": ["id", "slug", "name", "role"],
                   "properties": {"id": ID, "slug": {"type": "string"},
                                  "name": {"type": "string"},
                                  "role": {"enum": ["member", "manager"]}}}}}},
    "OpeningHours": {
        "type": "object", "description": "Local-time ranges per weekday; none at all means "
                                         "bookable at any time.",
        "additionalProperties": False,
        "properties": {day: {"type": "array", "items": {
            "type": "array", "prefixItems": [{"type": "string", "pattern": r"^\d\d:\d\d$"}] * 2,
            "minItems": 2, "maxItems": 2}} for day in WEEKDAYS}},
    "Resource": {"type": "object",
                 "required": ["id", "kind", "name", "slug", "site_id", "owner_organisation_id",
                              "quantity", "tags", "timezone", "active", "visibility",
                              "requires_approval", "opening_hours", "min_duration_minutes",
                              "max_duration_minutes", "slot_minutes", "buffer_minutes",
                              "min_notice_minutes", "max_advance_days", "public_busy_feed",
                              "feed_url"],
                 "properties": {"id": ID, "kind": {"enum": list(RESOURCE_KINDS)},
                                "owner_organisation_id": ID, "active": {"type": "boolean"},
                                "timezone": {"type": "string", "description": "the site's"},
                                "feed_url": {"type": "string", "format": "uri",
                                             "description": "the resource's iCalendar feed, "
                                                            "at the requesting user's secret "
                                                            "address"},
                                **RESOURCE_FIELDS}},
    "ResourceCreate": {"type": "object", "required": ["kind", "owner_organisation_id", "name",
                                                      "site_id"],
                       "properties": {"kind": {"enum": list(RESOURCE_KINDS)},
                                      "owner_organisation_id": ID, **RESOURCE_FIELDS},
                       "additionalProperties": False,
                       "description": "staff and expertise also require person_id; "
                                      "kind-specific fields of another kind are refused."},
    "ResourceUpdate": {"type": "object", "properties": RESOURCE_FIELDS,
                       "additionalProperties": False},
    "Closure": {"type": "object", "required": ["id", "resource_id", "start", "end", "reason"],
                "properties": {"id": ID, "resource_id": ID, "start": TIME, "end": TIME,
                               "reason": {"type": "string"}}},
    "ClosureCreate": {"type": "object", "required": ["start", "end"],
                      "additionalProperties": False,
                      "properties": {"start": TIME, "end": TIME,
                                     "reason": {"type": "string", "maxLength": 200}}},
    "Quota": {"type": "object", "required": ["id", "organisation_id", "resource_id",
                                             "resource_kind", "max_hours_per_week",
                                             "max_hours_per_month"],
              "properties": {"id": ID, "organisation_id": ID,
                             "resource_id": nullable("integer"),
                             "resource_kind": nullable("string",
                                                       enum=[*RESOURCE_KINDS, None]),
                             "max_hours_per_week": nullable("number"),
                             "max_hours_per_month": nullable("number")}},
    "QuotaInput": {"type": "object", "additionalProperties": False,
                   "description": "Exactly one of resource_id and resource_kind; at least "
                                  "one limit.",
                   "properties": {"resource_id": ID, "resource_kind": {
                       "enum": list(RESOURCE_KINDS)},
                       "max_hours_per_week": {**HOURS, "maximum": 168},
                       "max_hours_per_month": {**HOURS, "maximum": 744}}},
    "QuotaList": {"type": "object", "required": ["quotas"], "additionalProperties": False,
                  "properties": {"quotas": {"type": "array", "items": ref("QuotaInput")}}},
    "Booking": {"type": "object",
                "description": "title, note and user_id are null for another organisation's "
                               "booking (unless the viewer manages the resource).",
                "required": ["id", "uid", "resource_id", "organisation_id", "user_id", "start",
                             "end", "quantity", "title", "note", "status", "series_id",
                             "sequence"],
                "properties": {"id": ID, "uid": {"type": "string"}, "resource_id": ID,
                               "organisation_id": ID, "user_id": nullable("integer"),
                               "start": TIME, "end": TIME,
                               "quantity": {"type": "integer", "minimum": 1},
                               "title": nullable("string"), "note": nullable("string"),
                               "status": {"enum": list(BOOKING_STATUSES)},
                               "series_id": nullable("integer"),
                               "sequence": {"type": "integer"}}},
    "BookingCreate": {"type": "object",
                      "required": ["resource_id", "organisation_id", "start", "end", "title"],
                      "properties": {
                          "resource_id": ID, "organisation_id": ID, "start": TIME, "end": TIME,
                          "title": {"type": "string"}, "note": {"type": "string"},
                          "quantity": {"type": "integer", "minimum": 1},
                          "recurrence": {"type": "string",
                                         "examples": ["FREQ=WEEKLY;BYDAY=TU;COUNT=10"]},
                          "skip_conflicts": {"type": "boolean"},
                          "extra_resource_ids": {"type": "array", "items": ID}}},
    "BookingsCreated": {"type": "object", "required": ["bookings", "skipped"], "properties": {
        "bookings": {"type": "array", "items": ref("Booking")},
        "skipped": {"type": "array", "items": {
            "type": "object", "required": ["start", "end", "conflicts"],
            "properties": {"start": TIME, "end": TIME, "conflicts": {
                "type": "array", "items": ref("ConflictReason")}}}}}},
    "Cancel": {"type": "object", "properties": {
        "reason": {"type": "string"}, "scope": {"enum": ["one", "following"]}}},
    "Reject": {"type": "object", "required": ["reason"],
               "properties": {"reason": {"type": "string"}}},
    "Availability": {"type": "object", "required": ["busy", "free"], "properties": {
        "busy": {"type": "array", "items": {
            "type": "object", "required": ["start", "end", "units"],
            "properties": {"start": TIME, "end": TIME, "units": {"type": "integer"}}}},
        "free": {"type": "array", "items": {
            "type": "object", "required": ["start", "end"],
            "properties": {"start": TIME, "end": TIME}}}}},
}

RESPONSES = {
    "BadRequest": answer("Malformed JSON, or a body that is not a JSON object.", ref("Error")),
    "Unauthorized": {**answer("No token, or an unknown or revoked one.", ref("Error")),
                     "headers": {"WWW-Authenticate": {"schema": {"const": "Bearer"}}}},
    "Forbidden": answer("Not allowed for this user.", ref("Error")),
    "NotFound": answer("No such object, or one the user may not see.", ref("Error")),
    "Conflict": answer("Not bookable: every reason that applies, and alternatives.",
                       ref("Conflict")),
    "Invalid": answer("Invalid fields: missing, wrong type, unknown id, naive time.",
                      ref("Invalid")),
    "InvalidState": answer("The booking's status does not allow this (e.g. already "
                           "cancelled, or no longer pending).", ref("Error")),
}
INVALID_STATE = {"409": {"$ref": "#/components/responses/InvalidState"}}

RESOURCE_FILTERS = [
    in_query("kind", {"enum": list(RESOURCE_KINDS)}),
    in_query("site", ID, "site id"),
    in_query("tag", {"type": "string"}),
    in_query("text", {"type": "string"}, "in the name, description or topic"),
    in_query("min_capacity", {"type": "integer", "minimum": 0}),
    in_query("min_quantity", {"type": "integer", "minimum": 0},
             "also the units that must be free with free_start/free_end"),
    in_query("free_start", TIME, "with free_end: only resources free over that interval"),
    in_query("free_end", TIME),
]
WINDOW = [in_query("start", TIME), in_query("end", TIME)]
BOOKING_FILTERS = [
    in_query("resource_id", ID), in_query("organisation_id", ID), *WINDOW,
    in_query("status", {"enum": list(BOOKING_STATUSES)}),
]
RESOURCE_ID = [in_path("resource_id")]
BOOKING_ID = [in_path("booking_id")]
ONE_BOOKING = answer("The booking.", ref("Booking"))

PATHS: dict[str, Any] = {
    "/me": {"get": operation("Who the token belongs to and their organisations", {
        "200": answer("The user.", ref("Me")), **errors()}, tag="account")},
    "/resources": {
        "get": operation("Resources the user may see, filtered", {
            "200": answer("Matching resources, by name.", listing("resources", "Resource")),
            **errors(422)}, parameters=RESOURCE_FILTERS, tag="resources"),
        "post": operation("Publish a resource for an organisation the user manages", {
            "201": answer("The new resource.", ref("Resource")), **errors(400, 403, 422)},
            request=ref("ResourceCreate"), tag="resources"),
    },
    "/resources/{resource_id}": {
        "get": operation("One resource", {
            "200": answer("The resource.", ref("Resource")), **errors(404)},
            parameters=RESOURCE_ID, tag="resources"),
        "patch": operation("Change a resource's fields (its owner's managers)", {
            "200": answer("The resource as changed.", ref("Resource")),
            **errors(400, 403, 404, 422)},
            request=ref("ResourceUpdate"), parameters=RESOURCE_ID, tag="resources"),
    },
    "/resources/{resource_id}/closures": {
        "get": operation("The resource's closures, overlapping the window if given", {
            "200": answer("Closures, in order.", listing("closures", "Closure")),
            **errors(404, 422)}, parameters=RESOURCE_ID + WINDOW, tag="resources"),
        "post": operation("Close the resource for a period (its owner's managers)", {
            "201": answer("The closure.", ref("Closure")), **errors(400, 403, 404, 422)},
            request=ref("ClosureCreate"), parameters=RESOURCE_ID, tag="resources"),
    },
    "/resources/{resource_id}/closures/{closure_id}": {
        "delete": operation("Lift a closure (its owner's managers)", {
            "204": {"description": "Lifted."}, **errors(403, 404)},
            parameters=[*RESOURCE_ID, in_path("closure_id")], tag="resources"),
    },
    "/resources/{resource_id}/availability": {
        "get": operation("Busy and free intervals of a resource", {
            "200": answer("busy: units held (all of them while the owner's own calendar "
                          "says busy); free: at least one unit bookable, inside opening "
                          "hours, not closed.", ref("Availability")),
            **errors(404, 422)},
            parameters=[*RESOURCE_ID, {**in_query("start", TIME), "required": True},
                        {**in_query("end", TIME), "required": True}], tag="bookings"),
    },
    "/bookings": {
        "post": operation("Book one or more resources, once or recurring", {
            "201": answer("The bookings made and the occurrences skipped.",
                          ref("BookingsCreated")),
            **errors(400, 403, 409, 422)}, request=ref("BookingCreate"), tag="bookings"),
        "get": operation("Bookings the user may see, filtered (by default the next 31 days)", {
            "200": answer("Bookings, by start.", listing("bookings", "Booking")),
            **errors(422)}, parameters=BOOKING_FILTERS, tag="bookings"),
    },
    "/bookings/{booking_id}": {
        "get": operation("One booking", {"200": ONE_BOOKING, **errors(404)},
                         parameters=BOOKING_ID, tag="bookings"),
    },
    "/bookings/{booking_id}/cancel": {
        "post": operation("Cancel a booking, or it and the following occurrences", {
            "200": answer("The bookings cancelled.", listing("bookings", "Booking")),
            **errors(400, 403, 404, 422), **INVALID_STATE},
            request=ref("Cancel"), parameters=BOOKING_ID, tag="bookings"),
    },
    "/bookings/{booking_id}/approve": {
        "post": operation("Approve a pending booking (the resource's owner managers)", {
            "200": ONE_BOOKING, **errors(403, 404), **INVALID_STATE},
            parameters=BOOKING_ID, tag="bookings"),
    },
    "/bookings/{booking_id}/reject": {
        "post": operation("Reject a pending booking, saying why (owner managers)", {
            "200": ONE_BOOKING, **errors(400, 403, 404, 422), **INVALID_STATE},
            request=ref("Reject"), parameters=BOOKING_ID, tag="bookings"),
    },
    "/organisations/{organisation_id}/quotas": {
        "get": operation("The organisation's quotas the user may see", {
            "200": answer("Quotas.", listing("quotas", "Quota")), **errors(403, 404)},
            parameters=[in_path("organisation_id")], tag="quotas"),
        "put": operation("Replace the organisation's quotas the user may set", {
            "200": answer("The quotas now in force that the user may see.",
                          listing("quotas", "Quota")),
            **errors(400, 403, 404, 422)},
            request=ref("QuotaList"), parameters=[in_path("organisation_id")], tag="quotas"),
    },
    "/openapi.json": {"get": {"summary": "This document", "tags": ["meta"], "security": [],
                              "responses": {"200": {"description": "OpenAPI 3.1."}}}},
}

SPEC: dict[str, Any] = {
    "openapi": "3.1.0",
    "info": {"title": "sharing", "version": "1",
             "description": "Book and share premises, equipment, staff time and expertise "
                            "between the member organisations of a pole.",
             "license": {"name": "AGPL-3.0-or-later", "identifier": "AGPL-3.0-or-later"}},
    "servers": [{"url": "/api/v1"}],
    "security": [{"bearer": []}],
    "paths": PATHS,
    "components": {
        "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
        "schemas": SCHEMAS,
        "responses": RESPONSES,
    },
}
