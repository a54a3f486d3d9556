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
from typing import Any, cast

from sqlalchemy import (
    Boolean,
    Connection,
    Integer,
    String,
    Table,
    bindparam,
    column,
    delete,
    func,
    insert,
    select,
    text,
)
from sqlalchemy.orm import Session

from db.direct import Direct
from inventory.models import IdempotencyKey, IdempotencyStatus
from inventory.stock_errors import (
    IdempotencyKeyInFlight,
    IdempotencyKeyMissing,
    IdempotencyKeyReused,
    InvalidMovement,
)

KEEP = timedelta(hours=24)
_KEYS = cast(Table, IdempotencyKey.__table__)
# Built once: every stock-changing request runs one of them. The columns are given as
# column objects, in the statement's order: SQLAlchemy then matches the result by position
# and keeps that match with the compiled statement (given by keyword, it matched the
# cursor's column names again at every execution).
_LOCK_AND_LOOKUP = text(
    "SELECT pg_try_advisory_xact_lock(:user_id, hashtext(:key)) AS got, k.id, k.fingerprint,"
    " k.status, k.response_status, k.response_body, k.expires_at"
    " FROM (SELECT 1) AS one LEFT JOIN idempotency_keys AS k"
    " ON k.user_id = :user_id AND k.key = :key"
).columns(
    column("got", Boolean()), column("id", Integer()), column("fingerprint", String()),
    column("status", _KEYS.c.status.type), column("response_status", Integer()),
    column("response_body", _KEYS.c.response_body.type),
    column("expires_at", _KEYS.c.expires_at.type),
)  # fmt: skip
_LOOKUP = select(
    _KEYS.c.id, _KEYS.c.fingerprint, _KEYS.c.status, _KEYS.c.response_status,
    _KEYS.c.response_body, _KEYS.c.expires_at,
).where(_KEYS.c.user_id == bindparam("user_id"), _KEYS.c.key == bindparam("key"))  # fmt: skip
_STORED = ("user_id", "key", "fingerprint", "status", "response_status", "response_body",
           "created_at", "expires_at")  # fmt: skip
# The two statements every stock write runs, through the driver on PostgreSQL (db.direct).
_LOCK_AND_LOOKUP_DIRECT = Direct(_LOCK_AND_LOOKUP)
_STORE = Direct(insert(_KEYS), column_keys=_STORED)
MAX_KEY_LENGTH = 255


_UNPARSED: Any = object()


def fingerprint(method: str, path: str, body: bytes, parsed: Any = _UNPARSED) -> str:
    """A hash of the request: JSON bodies are canonicalised, so key order does not matter.

    `parsed`, when given, is `json.loads(body)` already done by the caller (the API parsed
    the body to validate it): the same hash without parsing it twice.
    """
    try:
        value = json.loads(body) if parsed is _UNPARSED else parsed
        canonical = json.dumps(value, sort_keys=True, separators=(",", ":")).encode()
    except ValueError:
        canonical = body
    digest = hashlib.sha256(f"{method.upper()} {path}\n".encode())
    digest.update(canonical)
    return digest.hexdigest()


@dataclass(frozen=True, slots=True)
class Claim:
    """This request owns the key; `complete` stores it with the response, in its transaction."""

    user_id: int
    key: str
    fingerprint: str
    now: datetime
    stale_id: int | None = None  # an expired row of the same key, replaced on completion


@dataclass(frozen=True, slots=True)
class StoredResponse:
    """The first response given for this key, to replay as it was."""

    status: int
    body: Any


def _locked_lookup(connection: Connection, params: dict[str, Any]) -> tuple[bool, Any]:
    """Try the key's advisory lock and read the key, in one round trip (PostgreSQL).

    The statement's snapshot is taken before the lock: a twin that commits in between
    is not seen, runs again here, and its key's INSERT then fails on the unique key.
    `db.transactions.is_retryable` treats that as "run again", and the rerun replays.
    """
    (row,) = _LOCK_AND_LOOKUP_DIRECT.rows(connection, params)
    found = None if row.id is None else row
    return bool(row.got), found


def claim(
    *, session: Session, user_id: int, key: str | None, fingerprint: str, now: datetime
) -> Claim | StoredResponse:
    """Claim `key` for this request, or return the stored response of its finished twin.

    Nothing is written yet: the key is stored by `complete`, with the response, so the
    stored key and the change it guards commit together (one row, no in-flight state
    for anyone to see; the advisory lock or SQLite's write lock guards the window).
    """
    if not key:
        raise IdempotencyKeyMissing()
    if len(key) > MAX_KEY_LENGTH:
        raise InvalidMovement("Idempotency-Key", f"at most {MAX_KEY_LENGTH} characters")
    params = {"user_id": user_id, "key": key}
    connection = session.connection()
    if connection.dialect.name == "postgresql":
        got, found = _locked_lookup(connection, params)
        if not got:
            raise IdempotencyKeyInFlight(key)
    else:  # SQLite: BEGIN IMMEDIATE already made this the only writer
        found = connection.execute(_LOOKUP, params).one_or_none()
    if found is None:
        return Claim(user_id, key, fingerprint, now)
    if found.expires_at <= now:  # kept long enough: the key may be used afresh
        return Claim(user_id, key, fingerprint, now, stale_id=found.id)
    if found.fingerprint != fingerprint:
        raise IdempotencyKeyReused(key)
    if found.status != IdempotencyStatus.DONE:  # pragma: no cover - never committed so
        raise IdempotencyKeyInFlight(key)
    return StoredResponse(found.response_status, found.response_body)


def complete(*, session: Session, claim: Claim, status: int, body: Any) -> None:
    """Store the claimed key with its response (before the transaction commits)."""
    if claim.stale_id is not None:
        session.execute(delete(IdempotencyKey).where(IdempotencyKey.id == claim.stale_id))
    _STORE.rows(
        session.connection(),
        dict(user_id=claim.user_id, key=claim.key, fingerprint=claim.fingerprint,
             status=IdempotencyStatus.DONE, response_status=status, response_body=body,
             created_at=claim.now, expires_at=claim.now + KEEP),
    )  # fmt: skip


def purge_expired(*, session: Session, now: datetime) -> int:
    """Forget keys past their keeping time; returns how many."""
    k = IdempotencyKey
    count = session.execute(select(func.count()).where(k.expires_at <= now)).scalar_one()
    session.execute(delete(k).where(k.expires_at <= now))
    return int(count)
