"""The audit trail over HTTP: admins' changes carry the admin; admins read the trail."""

from __future__ import annotations

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from db import Role
from db.audit import AuditEntry
from tests.api.conftest import TestClient
from tests.builders import key_for, make_user

ADMIN = {"X-API-Key": key_for(Role.ADMIN)}


def entries(session: Session, entity: str) -> list[AuditEntry]:
    stmt = select(AuditEntry).where(AuditEntry.entity == entity).order_by(AuditEntry.id)
    return list(session.scalars(stmt))


def test_admin_api_changes_carry_the_admin(client: TestClient, api_engine: Engine) -> None:
    with Session(api_engine) as s, s.begin():
        admin = make_user(s, Role.ADMIN)
        admin_id = admin.id
    response = client.post(
        "/v1/users",
        json={"name": "Zhou Min", "role": "dispatcher"},
        headers=ADMIN,
    )
    assert response.status_code == 201, response.text
    with Session(api_engine) as s:
        [entry] = [e for e in entries(s, "users") if e.changes["name"][1] == "Zhou Min"]
    assert entry.user_id == admin_id
    assert entry.action == "insert"


def test_admins_read_the_trail(client: TestClient, api_engine: Engine) -> None:
    with Session(api_engine) as s, s.begin():
        make_user(s, Role.ADMIN)
        make_user(s, Role.DISPATCHER)
    client.post("/v1/users", json={"name": "Li Lei", "role": "planner"}, headers=ADMIN)
    page = client.get("/v1/audit?entity=users&limit=10", headers=ADMIN).json()
    inserted = [e for e in page["items"] if e["action"] == "insert"]
    # the builders' users are in the trail too (no actor); the API's change names the admin
    assert inserted[-1]["changes"]["name"][1] == "Li Lei"
    assert inserted[-1]["user_id"] is not None
    assert inserted[-1]["user_name"]  # issue 17: who by name
    assert inserted[0]["user_id"] is None
    assert inserted[0]["user_name"] is None
    forbidden = client.get("/v1/audit", headers={"X-API-Key": key_for(Role.DISPATCHER)})
    assert forbidden.status_code == 403
