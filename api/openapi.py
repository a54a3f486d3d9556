"""The OpenAPI document declares, per operation, every error it can answer, as problem+json.

FastAPI documents the success response and a 422 as `application/json`; every error
this API sends is `application/problem+json` (api.errors). Which errors an operation
can answer follows from what it declares, the same rules the code applies:

- every operation may be rate limited (429) or find the database busy or away (503);
- a guarded one refuses a missing key (401) or role (403), and answers 404 (a row named
  by the path or a filter), 409 (a domain conflict) and 422 (an invalid parameter);
- one with a body refuses it when too large (413), of another media type (415) or invalid (422);
- one taking an `Idempotency-Key` refuses a request without it (400);
- one taking an `If-Match` refuses it when the row has another version (412).
"""

from __future__ import annotations

from http import HTTPStatus
from typing import Any

from fastapi import FastAPI

from api.auth import API_KEY_HEADER
from api.deps import route_table
from api.errors import PROBLEM_JSON
from api.etag import IF_MATCH_HEADER
from api.idempotency import HEADER as IDEMPOTENCY_HEADER

_DONE = "x-problems-documented"
_RETRY_AFTER = {"Retry-After": {"description": "seconds to wait", "schema": {"type": "integer"}}}
_HEADERS: dict[int, dict[str, Any]] = {
    401: {"WWW-Authenticate": {"description": f"ApiKey: send {API_KEY_HEADER}",
                               "schema": {"type": "string"}}},
    429: _RETRY_AFTER,
    503: _RETRY_AFTER,
}  # fmt: skip
_WHY = {
    400: "a required header is missing (Idempotency-Key)",
    401: f"no {API_KEY_HEADER}, or one no active user holds",
    403: "the key's role may not use this route, or the write is outside the user's scope",
    404: "a row this request names does not exist",
    409: "the change conflicts with the stored state (a duplicate, a refused step, a race)",
    412: f"{IF_MATCH_HEADER} names another version than the row has (`current_version`)",
    413: "the body is larger than this route takes",
    415: "the body's Content-Type is not one this route takes (JSON; the import: a zip)",
    422: "a parameter or the body is invalid; `errors` names each field",
    429: "too many requests from this key or address",
    503: "the database is busy or unreachable; retry after Retry-After",
}

SECURITY_SCHEME = "APIKeyHeader"
_API_KEY_SCHEME = {
    "type": "apiKey",
    "in": "header",
    "name": API_KEY_HEADER,
    "description": "The API key of a named user; the user's role decides which routes answer.",
}

PROBLEM_SCHEMA: dict[str, Any] = {
    "title": "Problem",
    "description": "RFC 9457 problem details; extension members carry the specifics.",
    "type": "object",
    "required": ["type", "title", "status", "detail", "instance"],
    "properties": {
        "type": {"type": "string", "description": "urn:spares:problem:<slug> or about:blank"},
        "title": {"type": "string"},
        "status": {"type": "integer"},
        "detail": {"type": "string"},
        "instance": {"type": "string", "description": "the request path"},
        "request_id": {"type": "string"},
        "errors": {
            "type": "array",
            "description": "422: each invalid field",
            "items": {
                "type": "object",
                "properties": {
                    "location": {"type": "array", "items": {"type": ["string", "integer"]}},
                    "message": {"type": "string"},
                    "type": {"type": "string"},
                },
            },
        },
    },
    "additionalProperties": True,
}


def _statuses(operation: dict[str, Any], guarded: bool) -> set[int]:
    found = {429, 503}
    if guarded:
        found |= {401, 403, 404, 409, 422}
    if operation.get("parameters"):
        found.add(422)
    if "requestBody" in operation:
        found |= {413, 415, 422}
    names = {p.get("name") for p in operation.get("parameters", [])}
    if IDEMPOTENCY_HEADER in names:
        found.add(400)
    if IF_MATCH_HEADER in names:
        found.add(412)
    return found


def problem_document(app: FastAPI) -> dict[str, Any]:
    """The app's OpenAPI document with every operation's errors declared (built once)."""
    schema: dict[str, Any] = app.openapi()
    if schema.get(_DONE):
        return schema
    components = schema.setdefault("components", {})
    components.setdefault("schemas", {})["Problem"] = PROBLEM_SCHEMA
    components.setdefault("securitySchemes", {})[SECURITY_SCHEME] = _API_KEY_SCHEME
    access = {
        (r.path, m.lower()): r.declarations[0]
        for r in route_table(app)
        for m in r.methods
        if r.declarations
    }
    ref = {"$ref": "#/components/schemas/Problem"}
    for path, operations in schema.get("paths", {}).items():
        for method, operation in operations.items():
            guarded = access.get((path, method), "public") != "public"
            if guarded:  # the key is read by api.auth, not by a dependency FastAPI could see
                operation["security"] = [{SECURITY_SCHEME: []}]
            responses = operation.setdefault("responses", {})
            for status in sorted(_statuses(operation, guarded)):
                described: dict[str, Any] = {
                    "description": f"{HTTPStatus(status).phrase}: {_WHY[status]}",
                    "content": {PROBLEM_JSON: {"schema": ref}},
                }
                if status in _HEADERS:
                    described["headers"] = _HEADERS[status]
                responses[str(status)] = described
    schema[_DONE] = True
    return schema
