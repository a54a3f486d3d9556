"""HTTP glue for stock-changing routes: the Idempotency-Key header, replays and retries.

The rules live in `inventory.idempotency`; here they meet HTTP. A stock-changing
route uses a `stock_router` (its routes are `StockWriteRoute`s) and declares
`IDEMPOTENT` after its role guard:

- `IDEMPOTENT` (one dependency) claims the key in the request's write transaction
  (begun as a writer, `BEGIN IMMEDIATE` on SQLite, by `api.deps.get_session`);
  a finished twin is replayed, a missing key is a 400, a reused one a 422, a running
  twin a 409.
- `StockWriteRoute` stores the response with the key and commits, and reruns the whole
  request (dependencies, handler, commit) when PostgreSQL reports a serialization
  failure or deadlock: nothing was written then. A plain-function handler claims the
  key, runs, stores its answer and commits in one worker-thread call (`_claiming`).
- `IdempotencyKeyIfSent` is for a route that changes stock only for some bodies (ticket
  intake with parts): a key sent is claimed as above; the handler calls `require_key`
  when its body needs one.

Like every write, a stock write holds one of the app's write slots (`api.deps.write_slot`),
here across all its attempts.
"""

from __future__ import annotations

import asyncio
import contextvars
import functools
import inspect
import json
import re
from collections.abc import Callable, Coroutine, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import AsyncExitStack
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any

import anyio
import anyio.to_thread
from fastapi import APIRouter, Depends, Header, Request, Response, params
from fastapi.concurrency import run_in_threadpool
from fastapi.exceptions import ResponseValidationError
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute
from sqlalchemy.orm import Session
from starlette.types import Scope

from api.deps import CurrentUser, NowDep, SessionDep, write_slot
from api.fastpath import PREPARED, Prepared, planned
from db.transactions import DEFAULT_RETRIES, is_retryable
from inventory import idempotency
from inventory.stock_errors import IdempotencyKeyMissing

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
    """Claim the request's key in its write transaction, or replay its finished twin.

    On a `StockWriteRoute` whose handler is a plain function the claim is left on the
    session and made by the handler's own worker-thread call (`_claiming`), first thing:
    one thread hop fewer per stock write.
    """
    body = await request.body()
    # The body as Starlette's `request.json()` parsed it for validation, when it did.
    parsed = getattr(request, "_json", _NOT_PARSED)
    if parsed is _NOT_PARSED:
        printed = idempotency.fingerprint(request.method, _url_path(request), body)
    else:
        printed = idempotency.fingerprint(request.method, _url_path(request), body, parsed)
    pending = _Pending(request.scope, user.id, key, printed, now)
    if request.scope.get(_DEFERRED):
        session.info[_PENDING] = pending
        return
    await run_in_threadpool(_claim, session, pending)


_NOT_PARSED = object()
IDEMPOTENT = Depends(claim_idempotency_key)

# A path Starlette's `URL` would give back unchanged: it starts with one "/" and has no
# character that URL escapes (?, #, \\) or that urlsplit drops or strips (controls, space).
_PLAIN_PATH = re.compile(r"/(?!/)[^\x00-\x20\x7f?#\\]*")


def _url_path(request: Request) -> str:
    """`request.url.path` (what the fingerprint has always hashed) without building the
    URL object for the usual plain path: that was a tenth of the claim's time."""
    path: str = request.scope["path"]
    if _PLAIN_PATH.fullmatch(path):
        return path
    return request.url.path


async def claim_idempotency_key_if_sent(
    request: Request,
    session: SessionDep,
    user: CurrentUser,
    now: NowDep,
    key: Annotated[
        str | None,
        Header(
            alias=HEADER,
            description="a unique key per change; resending it replays. Required when the"
            " body lists `parts` (the intake may then hold stock); honoured whenever sent",
        ),
    ] = None,
) -> str | None:
    """`IDEMPOTENT` for a route that changes stock only for some bodies: the key, if sent.

    Sent, it is claimed (a finished twin replayed, a reused key 422, a running twin 409);
    not sent, the handler decides whether its body needed one (`require_key`).
    """
    if key is None:
        return None
    await claim_idempotency_key(request, session, user, now, key)
    return key


IdempotencyKeyIfSent = Annotated[str | None, Depends(claim_idempotency_key_if_sent)]


def require_key(key: str | None) -> None:
    """Refuse (400) a request that changes stock without an Idempotency-Key."""
    if key is None:
        raise IdempotencyKeyMissing()


_PENDING = "spares_idempotency_pending"
_DEFERRED = "spares_claim_in_handler"


@dataclass(frozen=True, slots=True)
class _Pending:
    scope: Scope
    user_id: int
    key: str | None
    fingerprint: str
    now: datetime


def _claim(session: Session, pending: _Pending) -> idempotency.Claim:
    # The request's session begins as a writer (api.deps.get_session): claim in it.
    found = idempotency.claim(session=session, user_id=pending.user_id, key=pending.key,
                              fingerprint=pending.fingerprint, now=pending.now)  # fmt: skip
    if isinstance(found, idempotency.StoredResponse):
        raise _Replay(found)
    pending.scope[_STATE] = (session, found)
    return found


def _claiming(route: StockWriteRoute, endpoint: Callable[..., Any]) -> Callable[..., Any]:
    """The handler as one worker-thread call: claim the request's pending key, run the
    handler, validate and serialise its answer, store it with the key and commit.

    FastAPI would otherwise make three calls (the handler, the answer's validation, and
    `_store_and_commit`); each hop to the thread pool and back costs more than the
    reservation's own statements. An async wrapper, so FastAPI validates in the event
    loop what is already validated here (model instances pass through). The answer's
    JSON is written here once more to store it: pydantic-core, a small body.
    """

    def work(kwargs: dict[str, Any]) -> Any:
        session = kwargs.get("session")
        if not isinstance(session, Session) or _PENDING not in session.info:
            return endpoint(**kwargs)
        pending: _Pending = session.info.pop(_PENDING)
        claim = _claim(session, pending)
        value = endpoint(**kwargs)
        field = route.response_field
        if field is None or isinstance(value, Response):
            return value  # stored with its key by `_store_and_commit`
        checked, errors = field.validate(value, {}, loc=("response",))
        if errors:
            raise ResponseValidationError(errors=errors, body=value)
        written = bytes(field.serialize_json(
            checked, include=route.response_model_include,
            exclude=route.response_model_exclude, by_alias=route.response_model_by_alias,
            exclude_unset=route.response_model_exclude_unset,
            exclude_defaults=route.response_model_exclude_defaults,
            exclude_none=route.response_model_exclude_none))  # fmt: skip
        idempotency.complete(session=session, claim=claim, status=route.status_code or 200,
                             body=json.loads(written))  # fmt: skip
        session.commit()
        pending.scope.pop(_STATE, None)  # stored and committed: nothing left to store
        # The planned handler (api.fastpath) sends these bytes; FastAPI's validates again.
        return Prepared(checked, written) if pending.scope.get(PREPARED) else checked

    @functools.wraps(endpoint)
    async def run(**kwargs: Any) -> Any:
        return await _to_worker(work, kwargs)

    return run


_POOLS: dict[int, ThreadPoolExecutor] = {}


def _pool(tokens: int) -> ThreadPoolExecutor:
    """The threads of `_to_worker`: one per token of anyio's default limiter (40 unless the
    app changes it), so a call holding a token always finds a thread free. Threads start
    as they are first needed."""
    pool = _POOLS.get(tokens)
    if pool is None:
        pool = _POOLS[tokens] = ThreadPoolExecutor(tokens, thread_name_prefix="spares-stock-write")
    return pool


async def _to_worker(work: Callable[[dict[str, Any]], Any], kwargs: dict[str, Any]) -> Any:
    """`run_in_threadpool(work, kwargs)` for a stock write's one call, in fewer steps.

    anyio's hop passes through the event loop twice more (a checkpoint, then its capacity
    limiter's) before the call even starts, each time resuming the request's whole chain
    of awaits. The call runs to its end, as anyio's does: shielded from the request's
    cancel scopes (the session must not be rolled back while the thread still uses it),
    the context copied into the thread, a token of anyio's limiter held (so no more threads
    run at once than before; with none free, anyio's hop waits for one). A call holding a
    token always finds one of the limiter's threads free: it never queues behind another.
    """
    try:
        loop = asyncio.get_running_loop()
    except RuntimeError:  # another event loop (trio): anyio's hop
        return await run_in_threadpool(work, kwargs)
    limiter = anyio.to_thread.current_default_thread_limiter()
    tokens = limiter.total_tokens
    if not isinstance(tokens, int):  # unbounded (math.inf): anyio's hop
        return await run_in_threadpool(work, kwargs)
    try:  # a token of anyio's limiter: no more threads at once than before
        limiter.acquire_nowait()
    except anyio.WouldBlock:
        return await run_in_threadpool(work, kwargs)
    try:
        future = loop.run_in_executor(_pool(tokens), contextvars.copy_context().run, work, kwargs)
        with anyio.CancelScope(shield=True):
            return await future
    finally:
        limiter.release()


def _store_and_commit(request: Request, response: Response) -> None:
    """Store a success with its key and commit, in one worker-thread call."""
    claimed = request.scope.pop(_STATE, None)
    if claimed is None:
        return  # the session ends in api.deps.get_session
    session, claim = claimed
    if 200 <= response.status_code < 300:
        body = json.loads(bytes(response.body)) if response.body else None
        idempotency.complete(session=session, claim=claim, status=response.status_code, body=body)
    session.commit()


def _replayed(stored: idempotency.StoredResponse) -> Response:
    return JSONResponse(stored.body, stored.status, headers={REPLAYED_HEADER: "true"})


class StockWriteRoute(APIRoute):
    """Runs a stock-changing request as one transaction: store the key, commit, retry.

    A plain-function handler is one worker-thread call: the key's claim, the handler,
    its answer stored with the key, and the commit (`_claiming`); the session began as a
    writer without one. Its dependencies are solved by a plan made once (api.fastpath),
    which also sends the JSON that call wrote instead of validating and writing it again.
    """

    def __init__(self, path: str, endpoint: Callable[..., Any], **kwargs: Any) -> None:
        plain = not inspect.iscoroutinefunction(inspect.unwrap(endpoint))
        self.claims_in_handler = plain
        super().__init__(path, _claiming(self, endpoint) if plain else endpoint, **kwargs)

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = planned(self, super().get_route_handler())

        async def run(request: Request) -> Response:
            if self.claims_in_handler:
                request.scope[_DEFERRED] = True
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
                        if _STATE in request.scope:  # not yet stored by the handler's call
                            await run_in_threadpool(_store_and_commit, request, response)
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
