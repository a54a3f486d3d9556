"""run_in_transaction: a write transaction that reruns on serialization failures and deadlocks."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from db import make_sessionmaker
from db.transactions import is_retryable, run_in_transaction


class _Orig(Exception):
    def __init__(self, sqlstate: str) -> None:
        super().__init__(sqlstate)
        self.sqlstate = sqlstate


def _error(sqlstate: str) -> OperationalError:
    return OperationalError("stmt", {}, _Orig(sqlstate))


class TestRunInTransaction:
    def test_reruns_a_serialization_failure(self, engine: Engine) -> None:
        calls: list[int] = []

        def work(session: Session) -> int:
            calls.append(1)
            if len(calls) < 3:
                raise _error("40001")
            return int(session.execute(text("SELECT 7")).scalar_one())

        assert run_in_transaction(make_sessionmaker(engine), work) == 7
        assert len(calls) == 3

    def test_gives_up_after_the_bound(self, engine: Engine) -> None:
        def work(session: Session) -> Any:
            raise _error("40P01")

        with pytest.raises(OperationalError):
            run_in_transaction(make_sessionmaker(engine), work, retries=2)

    def test_other_errors_are_not_retried(self) -> None:
        assert not is_retryable(_error("23503"))
        assert not is_retryable(ValueError("x"))
        assert is_retryable(_error("40P01"))
