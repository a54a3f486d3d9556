"""The idempotency store: claim, complete, replay, refuse a reused key, forget after 24 h."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from db.identity import Role
from inventory import idempotency as idem
from inventory.models import IdempotencyKey
from inventory.stock_errors import IdempotencyKeyMissing, IdempotencyKeyReused, InvalidMovement
from tests.builders import make_user
from tests.inventory.stock_builders import T0

PRINT = idem.fingerprint("POST", "/v1/receipts", b'{"a": 1, "b": 2}')


def _claim(session: Session, user_id: int, key: str | None = "k", printed: str = PRINT,
           now=T0):  # type: ignore[no-untyped-def]  # fmt: skip
    return idem.claim(session=session, user_id=user_id, key=key, fingerprint=printed, now=now)


class TestClaim:
    def test_first_claim_then_replay(self, session: Session) -> None:
        user = make_user(session, Role.WAREHOUSE, key="spk_idem_1").id
        first = _claim(session, user)
        assert isinstance(first, idem.Claim)
        idem.complete(session=session, claim=first, status=201, body={"id": 5})
        again = _claim(session, user)
        assert again == idem.StoredResponse(201, {"id": 5})

    def test_another_body_is_refused(self, session: Session) -> None:
        user = make_user(session, Role.WAREHOUSE, key="spk_idem_2").id
        idem.complete(session=session, claim=_claim(session, user), status=201, body=None)  # type: ignore[arg-type]
        other = idem.fingerprint("POST", "/v1/receipts", b'{"a": 2}')
        with pytest.raises(IdempotencyKeyReused):
            _claim(session, user, printed=other)

    def test_json_key_order_does_not_matter(self) -> None:
        same = idem.fingerprint("POST", "/x", b'{"a":1,"b":2}')
        assert idem.fingerprint("POST", "/x", b'{"b": 2, "a": 1}') == same
        assert idem.fingerprint("POST", "/x", b"{}") != idem.fingerprint("POST", "/y", b"{}")

    def test_a_body_parsed_by_the_caller_prints_as_its_bytes(self) -> None:
        for body in (b'{"b": [1, {"z": null, "a": "\\u00e9"}], "a": 1.5}', b"[]", b'"x"', b"{}"):
            parsed = json.loads(body)
            assert idem.fingerprint("POST", "/x", body, parsed) == idem.fingerprint(
                "POST", "/x", body
            )

    def test_missing_or_too_long_key(self, session: Session) -> None:
        user = make_user(session, Role.WAREHOUSE, key="spk_idem_3").id
        with pytest.raises(IdempotencyKeyMissing):
            _claim(session, user, key=None)
        with pytest.raises(InvalidMovement):
            _claim(session, user, key="x" * 256)

    def test_kept_24_hours_then_forgotten(self, session: Session) -> None:
        user = make_user(session, Role.WAREHOUSE, key="spk_idem_4").id
        idem.complete(session=session, claim=_claim(session, user), status=201, body={"id": 1})  # type: ignore[arg-type]
        almost = T0 + idem.KEEP - timedelta(seconds=1)
        assert isinstance(_claim(session, user, now=almost), idem.StoredResponse)
        later = T0 + idem.KEEP
        fresh = _claim(session, user, now=later)
        assert isinstance(fresh, idem.Claim)
        assert fresh.stale_id is not None
        assert idem.purge_expired(session=session, now=later) == 1
        count = select(func.count()).select_from(IdempotencyKey)
        assert session.execute(count).scalar_one() == 0
