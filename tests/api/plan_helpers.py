"""Draft and publish a plan of given tickets over HTTP: the start of every re-plan test."""

from __future__ import annotations

from db import Role
from tests.api.conftest import TestClient
from tests.builders import key_for

DISPATCHER = {"X-API-Key": key_for(Role.DISPATCHER)}


def draft_plan(client: TestClient, ticket_id: int) -> int:
    """A draft plan of one ticket (no search: deterministic); its id."""
    made = client.post(
        "/v1/dispatch/plans", json={"ticket_ids": [ticket_id], "time_limit_s": 0},
        headers=DISPATCHER,
    )  # fmt: skip
    assert made.status_code == 201, made.text
    return int(made.json()["id"])


def published_plan(client: TestClient, ticket_id: int) -> int:
    """A published plan of one ticket; its id."""
    plan_id = draft_plan(client, ticket_id)
    headers = DISPATCHER | {"Idempotency-Key": f"publish-{plan_id}"}
    done = client.post(f"/v1/dispatch/plans/{plan_id}/publish", headers=headers)
    assert done.status_code == 200, done.text
    return plan_id
