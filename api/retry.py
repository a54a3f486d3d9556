"""An idempotent request that lost a transient race runs once more before it answers 409/503.

A write can lose to another for reasons that say nothing about the request itself: an
optimistic version check lost (`StaleDataError`, `StaleTicketError`), PostgreSQL's
serialization failure or deadlock (40001, 40P01), or a SQLite lock still taken after its
busy timeout. The error handlers (api.errors) answer those with 409 or 503 and mark the
request `transient`. A request that may safely run twice, because it says so, is then run
once more, as a whole (dependencies, handler, commit) on a fresh session, and the second
answer is the one sent:

- it carries an `Idempotency-Key` (a replay of a finished twin is answered from the key);
- or its method is idempotent (PUT, DELETE);
- or it names the version it expects (`If-Match`).

Nothing of the first attempt was kept: the session rolled back before the error was
answered. `run_retrying` is the innermost step of the operational ASGI layer (api.operations):
it records the request body as the app reads it and hands the same messages to the second
attempt.
"""

from __future__ import annotations

import logging

from starlette.types import ASGIApp, Message, Receive, Scope, Send

logger = logging.getLogger(__name__)

TRANSIENT = "spares_transient"  # set on the scope by the handler that answered a lost race
RETRIED_HEADER = b"spares-retried"
_IDEMPOTENT_METHODS = frozenset({"PUT", "DELETE"})
MARKERS = (b"idempotency-key", b"if-match")  # headers that say a request may run twice


def mark_transient(scope: Scope) -> None:
    """Note that this request's answer comes from a transient race (api.errors calls it)."""
    scope[TRANSIENT] = True


async def run_retrying(
    app: ASGIApp, scope: Scope, receive: Receive, send: Send, *, marked: bool
) -> None:
    """Run `app` for an HTTP request; run it once more when the request may safely run twice
    and its first answer came from a transient race. `marked`: the request sent an
    `Idempotency-Key` or `If-Match` header (api.operations saw its headers already)."""
    method = scope["method"]
    if method in ("GET", "HEAD", "OPTIONS") or not (marked or method in _IDEMPOTENT_METHODS):
        await app(scope, receive, send)
        return
    recorded: list[Message] = []

    async def recording() -> Message:
        message = await receive()
        if message["type"] == "http.request":
            recorded.append(message)
        return message

    held: list[Message] = []

    async def holding(message: Message) -> None:
        # Hold back an answer the retry will replace; pass any other straight on.
        if held or (message["type"] == "http.response.start" and scope.get(TRANSIENT)):
            held.append(message)
            return
        await send(message)

    await app(scope, recording, holding)
    if not held:
        return
    scope.pop(TRANSIENT, None)
    logger.info("retrying %s %s once after a transient conflict", scope["method"],
                scope["path"])  # fmt: skip
    replay = list(recorded)

    async def replaying() -> Message:
        return replay.pop(0) if replay else await receive()

    async def marked_retried(message: Message) -> None:
        if message["type"] == "http.response.start":
            headers = [*message.get("headers", []), (RETRIED_HEADER, b"1")]
            message = {**message, "headers": headers}
        await send(message)

    await app(scope, replaying, marked_retried)
