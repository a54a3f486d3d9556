"""Timestamps stay aware UTC on both databases; keys are stored only as hashes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy import select
from sqlalchemy.exc import StatementError
from sqlalchemy.orm import Session

import db
from db import Role, User


class TestUTCDateTime:
    def test_round_trip_returns_aware_utc(self, session: Session) -> None:
        shanghai = timezone(timedelta(hours=8))
        user, _ = db.create_user(session, name="Wang Fang", role=Role.DISPATCHER)
        user.created_at = datetime(2026, 11, 2, 9, 30, tzinfo=shanghai)
        session.flush()
        session.expire_all()
        stored = session.scalars(select(User.created_at).where(User.id == user.id)).one()
        assert stored.tzinfo is not None
        assert stored == datetime(2026, 11, 2, 1, 30, tzinfo=UTC)

    def test_naive_datetime_is_refused(self, session: Session) -> None:
        user, _ = db.create_user(session, name="Li Na", role=Role.ADMIN)
        user.created_at = datetime(2026, 11, 2, 9, 30)  # noqa: DTZ001  (the point of the test)
        with pytest.raises(StatementError, match="naive datetime"):
            session.flush()


class TestApiKeys:
    def test_created_user_stores_only_the_hash(self, session: Session) -> None:
        user, key = db.create_user(session, name="Chen Jie", role=Role.WAREHOUSE)
        assert key.startswith("spk_")
        assert key not in user.api_key_hash
        assert user.api_key_hash == db.hash_api_key(key)

    def test_keys_are_unique_and_long(self) -> None:
        keys = {db.new_api_key() for _ in range(100)}
        assert len(keys) == 100
        assert min(len(k) for k in keys) >= 40

    def test_role_rejects_unknown_values(self) -> None:
        with pytest.raises(ValueError, match="'janitor' is not a valid Role"):
            Role("janitor")
