"""db.direct: a Core statement through the driver answers as SQLAlchemy's execution does."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, cast

import pytest
from sqlalchemy import Connection, Table, event, insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from db.direct import Direct
from db.identity import Role, User, hash_api_key
from db.transactions import is_retryable
from inventory.models import IdempotencyKey, IdempotencyStatus

KEYS = cast(Table, IdempotencyKey.__table__)
COLUMNS = ("user_id", "key", "fingerprint", "status", "response_status", "response_body",
           "created_at", "expires_at")  # fmt: skip
STORE = Direct(insert(KEYS), column_keys=COLUMNS)
READ = Direct(select(KEYS).where(KEYS.c.key.startswith("direct-")).order_by(KEYS.c.key))


def _user(session: Session) -> int:
    user = User(name="direct", role=Role.WAREHOUSE, api_key_hash=hash_api_key("spk_direct"),
                active=True)  # fmt: skip
    session.add(user)
    session.flush()
    return user.id


def _key(user_id: int, key: str, body: Any) -> dict[str, Any]:
    at = datetime(2026, 12, 3, 15, 0, tzinfo=UTC)
    return dict(user_id=user_id, key=key, fingerprint="f" * 64, status=IdempotencyStatus.DONE,
                response_status=201, response_body=body, created_at=at, expires_at=at)  # fmt: skip


def test_rows_are_those_sqlalchemy_reads(session: Session) -> None:
    user_id = _user(session)
    connection = session.connection()
    STORE.rows(connection, _key(user_id, "direct-a", [{"id": 1, "part": "x"}]))
    STORE.rows(connection, _key(user_id, "direct-b", None))
    direct = READ.rows(connection, {})
    through_sqlalchemy = connection.execute(READ.statement).all()
    assert [tuple(r) for r in direct] == [tuple(r) for r in through_sqlalchemy]
    assert [r._mapping for r in direct] == [dict(r._mapping) for r in through_sqlalchemy]
    first = direct[0]
    assert first.status is IdempotencyStatus.DONE
    assert first.response_body == [{"id": 1, "part": "x"}]
    assert first.expires_at == datetime(2026, 12, 3, 15, 0, tzinfo=UTC)


def test_a_driver_error_is_sqlalchemys_and_a_twins_key_is_retryable(session: Session) -> None:
    user_id = _user(session)
    connection = session.connection()
    STORE.rows(connection, _key(user_id, "direct-twin", None))
    with pytest.raises(IntegrityError) as raised, session.begin_nested():
        STORE.rows(session.connection(), _key(user_id, "direct-twin", None))
    if connection.dialect.name == "postgresql":  # SQLite names no constraint
        assert is_retryable(raised.value)


def test_cursor_listeners_see_every_statement(session: Session) -> None:
    user_id = _user(session)
    connection = session.connection()
    seen: list[str] = []

    def note(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        seen.append(statement.split()[0])

    event.listen(connection, "before_cursor_execute", note)
    try:
        STORE.rows(connection, _key(user_id, "direct-seen", None))
        READ.rows(connection, {})
    finally:
        event.remove(connection, "before_cursor_execute", note)
    assert seen == ["INSERT", "SELECT"]


def test_a_missing_private_attribute_falls_back_to_sqlalchemys_execution(
    session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A SQLAlchemy release without a private attribute the driver path uses still runs the
    statement, through `Connection.execute`."""
    user_id = _user(session)
    connection = session.connection()
    monkeypatch.delattr(Connection, "_handle_dbapi_exception")
    executed: list[Any] = []
    execute = Connection.execute

    def counted(self: Connection, statement: Any, *args: Any, **kwargs: Any) -> Any:
        executed.append(statement)
        return execute(self, statement, *args, **kwargs)

    monkeypatch.setattr(Connection, "execute", counted)
    store = Direct(insert(KEYS), column_keys=COLUMNS)  # no plan cached yet
    read = Direct(READ.statement)
    store.rows(connection, _key(user_id, "direct-old", None))
    rows = read.rows(connection, {})
    assert [r.key for r in rows] == ["direct-old"]
    assert executed == [store.statement, read.statement]
