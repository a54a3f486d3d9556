"""The audit trail: every ORM change of master data records who, when, and what changed."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from db import Role
from db.audit import ACTOR, NOW, AuditEntry
from tests.builders import make_region, make_user

AT = datetime(2026, 11, 2, 8, 0, tzinfo=UTC)


@pytest.fixture
def audited(session: Session) -> Iterator[Session]:
    user = make_user(session, Role.ADMIN)
    session.info[ACTOR], session.info[NOW] = user.id, AT
    yield session
    session.info.pop(ACTOR, None)
    session.info.pop(NOW, None)


def entries(session: Session, entity: str) -> list[AuditEntry]:
    stmt = select(AuditEntry).where(AuditEntry.entity == entity).order_by(AuditEntry.id)
    return list(session.scalars(stmt))


def test_insert_update_delete_are_recorded(audited: Session) -> None:
    region = make_region(audited, code="GZ", name="Guangzhou")
    region.name = "Guangzhou City"
    audited.flush()
    audited.delete(region)
    audited.flush()
    insert, update, delete = entries(audited, "regions")
    assert (insert.action, update.action, delete.action) == ("insert", "update", "delete")
    assert insert.entity_key == str(region.id)
    assert insert.changes["code"] == [None, "GZ"]
    assert update.changes == {"name": ["Guangzhou", "Guangzhou City"]}
    assert update.user_id == audited.info[ACTOR]
    assert update.at == AT


def test_touch_without_change_is_not_recorded(audited: Session) -> None:
    region = make_region(audited, name="Foshan")
    region.name = "Foshan"
    audited.flush()
    assert [e.action for e in entries(audited, "regions")] == ["insert"]


def test_credentials_never_enter_the_trail(audited: Session) -> None:
    make_user(audited, Role.PLANNER)
    user_entries = entries(audited, "users")
    assert user_entries
    assert all(e.changes.get("api_key_hash") == ["***", "***"] for e in user_entries)
