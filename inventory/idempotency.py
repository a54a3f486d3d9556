"""Idempotency keys for stock-changing requests: each key's work happens exactly once.

The key is stored in the same transaction as the change it guards, so the two are
committed together or not at all (a process killed mid-request leaves neither, and
the replayed request simply runs). Keys are scoped per user (one API key each) and
kept `KEEP` (24 h) at least. The rules, after the IETF Idempotency-Key draft:

- same key, same request (method + path + body) done before: replay its response;
- same key, another request: `IdempotencyKeyReused` (422);
- same key while its twin is still running: `IdempotencyKeyInFlight` (409).

"Still running" is detected on PostgreSQL with a transaction-scoped advisory lock
taken without waiting: it is held exactly as long as the twin's transaction and is
released by the server if that process dies. On SQLite every write transaction
begins with `BEGIN IMMEDIATE`, so a twin waits for the database lock (busy timeout)
and then finds the finished key and replays: it never sees one in flight.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, func, insert, select, text, update
from sqlalchemy.orm import Session

from inventory.models import IdempotencyKey, IdempotencyStatus
from inventory.stock_errors import (
    IdempotencyKeyInFlight,
    IdempotencyKeyMissing,
    IdempotencyKeyReused,
    InvalidMovement,
)

KEEP = timedelta(hours=24)
MAX_KEY_LENGTH = 255


def fingerprint(method: str, path: str, body: bytes) -> str:
    """A hash of the request: JSON bodies are canonicalised, so key order does not matter."""
    try:
        canonical = json.dumps(json.loads(body), sort_keys=True, separators=(",", ":")).encode()
    except ValueError:
        canonical = body
    digest = hashlib.sha256(f"{method.upper()} {path}\n".encode())
    digest.update(canonical)
    return digest.hexdigest()


@dataclass(frozen=True, slots=True)
class Claim:
    """This request owns the key; `complete` stores its response in the same transaction."""

    id: int
    key: str


@dataclass(frozen=True, slots=True)
class StoredResponse:
    """The first response given for this key, to replay as it was."""

    status: int
    body: Any


def _lock_key(session: Session, user_id: int, key: str) -> None:
    """Own the key for this transaction, or report that a twin holds it (PostgreSQL only)."""
    if session.get_bind().dialect.name != "postgresql":
        return
    got = session.execute(
        text("SELECT pg_try_advisory_xact_lock(:user_id, hashtext(:key))"),
        {"user_id": user_id, "key": key},
    ).scalar_one()
    if not got:
        raise IdempotencyKeyInFlight(key)


def claim(
    *, session: Session, user_id: int, key: str | None, fingerprint: str, now: datetime
) -> Claim | StoredResponse:
    """Claim `key` for this request, or return the stored response of its finished twin."""
    if not key:
        raise IdempotencyKeyMissing()
    if len(key) > MAX_KEY_LENGTH:
        raise InvalidMovement("Idempotency-Key", f"at most {MAX_KEY_LENGTH} characters")
    _lock_key(session, user_id, key)
    k = IdempotencyKey
    found = session.execute(
        select(k.id, k.fingerprint, k.status, k.response_status, k.response_body, k.expires_at)
        .where(k.user_id == user_id, k.key == key)
    ).one_or_none()  # fmt: skip
    if found is not None and found.expires_at > now:
        if found.fingerprint != fingerprint:
            raise IdempotencyKeyReused(key)
        if found.status != IdempotencyStatus.DONE:
            raise IdempotencyKeyInFlight(key)
        return StoredResponse(found.response_status, found.response_body)
    if found is not None:  # expired: the key may be used afresh
        session.execute(delete(k).where(k.id == found.id))
    new_id = session.execute(
        insert(k)
        .values(user_id=user_id, key=key, fingerprint=fingerprint,
                status=IdempotencyStatus.IN_FLIGHT, created_at=now, expires_at=now + KEEP)
        .returning(k.id)
    ).scalar_one()  # fmt: skip
    return Claim(int(new_id), key)


def complete(*, session: Session, claim: Claim, status: int, body: Any) -> None:
    """Store the response given for the claimed key (before the transaction commits)."""
    session.execute(
        update(IdempotencyKey)
        .where(IdempotencyKey.id == claim.id)
        .values(status=IdempotencyStatus.DONE, response_status=status, response_body=body)
        .execution_options(synchronize_session=False)
    )


def purge_expired(*, session: Session, now: datetime) -> int:
    """Forget keys past their keeping time; returns how many."""
    k = IdempotencyKey
    count = session.execute(select(func.count()).where(k.expires_at <= now)).scalar_one()
    session.execute(delete(k).where(k.expires_at <= now))
    return int(count)
