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
answered. Pure ASGI, innermost of the middlewares: it records the request body as the app
reads it and hands the same messages to the second attempt.
"""

from __future__ import annotations

import logging

from starlette.types import ASGIApp, Message, Receive, Scope, Send

logger = logging.getLogger(__name__)

TRANSIENT = "spares_transient"  # set on the scope by the handler that answered a lost race
RETRIED_HEADER = b"spares-retried"
_IDEMPOTENT_METHODS = frozenset({"PUT", "DELETE"})
_MARKERS = (b"idempotency-key", b"if-match")


def mark_transient(scope: Scope) -> None:
    """Note that this request's answer comes from a transient race (api.errors calls it)."""
    scope[TRANSIENT] = True


def may_run_twice(scope: Scope) -> bool:
    """True for a request that says it is idempotent (key, method or expected version)."""
    if scope["method"] in _IDEMPOTENT_METHODS:
        return True
    return any(name in _MARKERS for name, _ in scope.get("headers", ()))


class RetryOnce:
    """ASGI middleware: run an idempotent request again once when it lost a transient race."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] in ("GET", "HEAD", "OPTIONS"):
            await self.app(scope, receive, send)
            return
        if not may_run_twice(scope):
            await self.app(scope, receive, send)
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

        await self.app(scope, recording, holding)
        if not held:
            return
        scope.pop(TRANSIENT, None)
        logger.info("retrying %s %s once after a transient conflict", scope["method"],
                    scope["path"])  # fmt: skip
        replay = list(recorded)

        async def replaying() -> Message:
            return replay.pop(0) if replay else await receive()

        async def marked(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = [*message.get("headers", []), (RETRIED_HEADER, b"1")]
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, replaying, marked)
