"""HTTP glue for stock-changing routes: the Idempotency-Key header, replays and retries.

The rules live in `inventory.idempotency`; here they meet HTTP. A stock-changing
route uses a `stock_router` (its routes are `StockWriteRoute`s) and declares
`IDEMPOTENT` after its role guard:

- `IDEMPOTENT` (one dependency) claims the key in the request's write transaction
  (begun as a writer, `BEGIN IMMEDIATE` on SQLite, by `api.deps.get_session`);
  a finished twin is replayed, a missing key is a 400, a reused one a 422, a running
  twin a 409.
- `StockWriteRoute` stores the response with the key before the request's session
  commits, and reruns the whole request (dependencies, handler, commit) when
  PostgreSQL reports a serialization failure or deadlock: nothing was written then.

Like every write, a stock write holds one of the app's write slots (`api.deps.write_slot`),
here across all its attempts.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Coroutine, Sequence
from contextlib import AsyncExitStack
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, Request, Response, params
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute

from api.deps import CurrentUser, NowDep, SessionDep, write_slot
from db.transactions import DEFAULT_RETRIES, is_retryable
from inventory import idempotency

HEADER = "Idempotency-Key"
REPLAYED_HEADER = "Idempotent-Replayed"
_STATE = "spares_idempotency_claim"


class _Replay(Exception):  # noqa: N818 (control flow, not an error)
    """Raised by the dependency to answer with a stored response instead of running again."""

    def __init__(self, stored: idempotency.StoredResponse) -> None:
        super().__init__("replay")
        self.stored = stored


async def claim_idempotency_key(
    request: Request,
    session: SessionDep,
    user: CurrentUser,
    now: NowDep,
    key: Annotated[
        str | None,
        Header(alias=HEADER, description="a unique key per change; resending it replays"),
    ] = None,
) -> None:
    """Claim the request's key in its write transaction, or replay its finished twin."""
    body = await request.body()
    printed = idempotency.fingerprint(request.method, request.url.path, body)
    user_id = user.id

    def _claim() -> idempotency.Claim | idempotency.StoredResponse:
        # The request's session began as a writer (api.deps.get_session): claim in it.
        return idempotency.claim(
            session=session, user_id=user_id, key=key, fingerprint=printed, now=now
        )

    found = await run_in_threadpool(_claim)
    if isinstance(found, idempotency.StoredResponse):
        raise _Replay(found)
    request.scope[_STATE] = (session, found)


IDEMPOTENT = Depends(claim_idempotency_key)


def _store(request: Request, response: Response) -> None:
    claimed = request.scope.pop(_STATE, None)
    if claimed is None or not 200 <= response.status_code < 300:
        return
    session, claim = claimed
    body = json.loads(bytes(response.body)) if response.body else None
    idempotency.complete(session=session, claim=claim, status=response.status_code, body=body)


def _replayed(stored: idempotency.StoredResponse) -> Response:
    return JSONResponse(stored.body, stored.status, headers={REPLAYED_HEADER: "true"})


class StockWriteRoute(APIRoute):
    """Runs a stock-changing request as one transaction: store the key, commit, retry."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def run(request: Request) -> Response:
            async with write_slot(request):
                return await attempts(request)

        async def attempts(request: Request) -> Response:
            for attempt in range(DEFAULT_RETRIES + 1):
                try:
                    # Function-scoped dependencies (the session) close with this stack,
                    # so the commit happens here, after the key's response is stored.
                    async with AsyncExitStack() as stack:
                        request.scope["fastapi_function_astack"] = stack
                        try:
                            response = await handler(request)
                        except _Replay as replay:
                            return _replayed(replay.stored)
                        await run_in_threadpool(_store, request, response)
                    return response
                except Exception as exc:
                    if not is_retryable(exc) or attempt == DEFAULT_RETRIES:
                        raise
            raise AssertionError("unreachable")  # pragma: no cover

        return run


def stock_router(
    prefix: str, tags: list[str], dependencies: Sequence[params.Depends] = ()
) -> APIRouter:
    """A router whose routes run as `StockWriteRoute`s (reads on it are unaffected)."""
    return APIRouter(
        prefix=prefix, tags=list(tags), route_class=StockWriteRoute, dependencies=dependencies
    )
