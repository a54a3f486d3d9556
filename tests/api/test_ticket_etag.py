"""Ticket writes guarded by `If-Match` on the ticket's version (ETag), on SQLite and PostgreSQL.

A client that read version N and sends `If-Match: "N"` changes the ticket only while it is
still at N; otherwise 412 problem+json names the version it has now, and nothing changed.
"""

from __future__ import annotations

from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from db import Role
from dispatch.models import ServiceLogEntry, Ticket
from tests.api import test_tickets_api as tickets_api
from tests.api.conftest import TestClient, auth
from tests.api.test_tickets_api import Ids, create

# The ticket tests' world and fixed clock, shared as fixtures of this module.
clock, ids, client = tickets_api.clock, tickets_api.ids, tickets_api.client

PROBLEM_JSON = "application/problem+json"


def _read(client: TestClient, ticket_id: int) -> tuple[str, dict]:  # type: ignore[type-arg]
    got = client.get(f"/v1/tickets/{ticket_id}", headers=auth(Role.DISPATCHER))
    assert got.status_code == 200, got.text
    return got.headers["ETag"], got.json()


def _patch(client: TestClient, ticket_id: int, severity: str, if_match: str | None):  # type: ignore[no-untyped-def]
    headers = auth(Role.DISPATCHER) | ({"If-Match": if_match} if if_match is not None else {})
    return client.patch(f"/v1/tickets/{ticket_id}", json={"severity": severity}, headers=headers)


def _log_count(engine: Engine, ticket_id: int) -> int:
    with Session(engine) as s:
        stmt = select(func.count()).select_from(ServiceLogEntry)
        found = s.scalar(stmt.where(ServiceLogEntry.ticket_id == ticket_id))
        return int(found or 0)


def test_a_read_tags_the_ticket_with_its_version(client: TestClient, ids: Ids) -> None:
    ticket = create(client, ids)
    tag, body = _read(client, ticket["id"])
    assert tag == f'"{body["version"]}"'
    assert body["version"] == ticket["version"]


def test_a_change_for_the_version_read_is_made_and_tagged_anew(
    client: TestClient, ids: Ids
) -> None:
    ticket = create(client, ids)
    tag, _ = _read(client, ticket["id"])
    changed = _patch(client, ticket["id"], "general", tag)
    assert changed.status_code == 200, changed.text
    assert changed.json()["severity"] == "general"
    assert changed.headers["ETag"] == f'"{changed.json()["version"]}"' != tag


def test_a_change_for_an_older_version_is_412_naming_the_current_one(
    client: TestClient, ids: Ids, api_engine: Engine
) -> None:
    ticket = create(client, ids)
    old, _ = _read(client, ticket["id"])
    assert _patch(client, ticket["id"], "general", old).status_code == 200  # someone else
    logged = _log_count(api_engine, ticket["id"])
    refused = _patch(client, ticket["id"], "serious", old)
    assert refused.status_code == 412
    assert refused.headers["content-type"] == PROBLEM_JSON
    problem = refused.json()
    assert problem["type"] == "urn:spares:problem:version-mismatch"
    _, now = _read(client, ticket["id"])
    assert problem["current_version"] == now["version"] > int(old.strip('"'))
    assert now["severity"] == "general"  # nothing changed by the refused write
    assert _log_count(api_engine, ticket["id"]) == logged


def test_a_transition_for_an_older_version_is_412_and_moves_nothing(
    client: TestClient, ids: Ids, api_engine: Engine
) -> None:
    ticket = create(client, ids)
    old, _ = _read(client, ticket["id"])
    assert _patch(client, ticket["id"], "general", None).status_code == 200
    url = f"/v1/tickets/{ticket['id']}/transitions"
    headers = auth(Role.DISPATCHER) | {"If-Match": old}
    refused = client.post(url, json={"to": "responded"}, headers=headers)
    assert refused.status_code == 412, refused.text
    _, now = _read(client, ticket["id"])
    assert now["status"] == "new"
    tag, _ = _read(client, ticket["id"])
    moved = client.post(
        url, json={"to": "responded"}, headers=auth(Role.DISPATCHER) | {"If-Match": tag}
    )
    assert moved.status_code == 200, moved.text
    assert moved.json()["status"] == "responded"
    assert moved.headers["ETag"] == f'"{moved.json()["version"]}"'


def test_any_version_a_list_and_weak_or_malformed_tags(client: TestClient, ids: Ids) -> None:
    ticket = create(client, ids)
    tag, body = _read(client, ticket["id"])
    assert _patch(client, ticket["id"], "general", "*").status_code == 200
    tag, body = _read(client, ticket["id"])
    assert _patch(client, ticket["id"], "serious", f'"999", {tag}').status_code == 200
    tag, _ = _read(client, ticket["id"])
    assert _patch(client, ticket["id"], "general", f"W/{tag}").status_code == 412  # strong only
    malformed = _patch(client, ticket["id"], "general", "7")
    assert malformed.status_code == 422
    assert malformed.json()["errors"][0]["location"] == ["header", "If-Match"]


def test_the_openapi_documents_etag_if_match_and_412(client: TestClient) -> None:
    paths = client.get("/openapi.json").json()["paths"]
    for path, method in (("/v1/tickets/{ticket_id}", "patch"),
                         ("/v1/tickets/{ticket_id}/transitions", "post")):  # fmt: skip
        operation = paths[path][method]
        assert "If-Match" in {p["name"] for p in operation["parameters"]}
        assert PROBLEM_JSON in operation["responses"]["412"]["content"]
        assert "ETag" in operation["responses"]["200"]["headers"]
    assert "ETag" in paths["/v1/tickets/{ticket_id}"]["get"]["responses"]["200"]["headers"]


def test_version_in_the_body_is_the_stored_one(
    client: TestClient, ids: Ids, api_engine: Engine
) -> None:
    ticket = create(client, ids)
    assert _patch(client, ticket["id"], "general", None).status_code == 200
    with Session(api_engine) as s:
        stored = s.get(Ticket, ticket["id"])
        assert stored is not None
        assert _read(client, ticket["id"])[1]["version"] == stored.version
