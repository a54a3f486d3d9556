"""The OpenAPI document declares every error an operation answers, as problem+json."""

from __future__ import annotations

from typing import Any

from tests.api.conftest import TestClient

PROBLEM = "application/problem+json"


def _operations(document: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [(path, method, op) for path, ops in document["paths"].items()
            for method, op in ops.items()]  # fmt: skip


def test_every_error_response_is_problem_json(client: TestClient) -> None:
    document = client.get("/openapi.json").json()
    assert document["components"]["schemas"]["Problem"]["required"][:3] == [
        "type", "title", "status"]  # fmt: skip
    for path, method, op in _operations(document):
        for status, response in op["responses"].items():
            if int(status) >= 400:
                assert list(response["content"]) == [PROBLEM], (path, method, status)
        assert {"429", "503"} <= op["responses"].keys(), (path, method)


def test_guarded_writes_declare_their_refusals(client: TestClient) -> None:
    ops = dict(((p, m), op) for p, m, op in _operations(client.get("/openapi.json").json()))
    ticket = ops[("/v1/tickets/{ticket_id}/transitions", "post")]["responses"]
    assert {"401", "403", "404", "409", "413", "422"} <= ticket.keys()
    assert "WWW-Authenticate" in ticket["401"]["headers"]
    assert "Retry-After" in ticket["503"]["headers"]
    assert "400" in ops[("/v1/reservations", "post")]["responses"]  # Idempotency-Key
    health = ops[("/healthz", "get")]["responses"]
    assert "401" not in health  # public
