"""Request dependencies as `Annotated` aliases, and the one way a route declares its roles.

Every route lists `requires(Role...)` or `public()` in its `dependencies`;
`check_route_access` refuses to build an app where a route declares neither (or both).
Routes are walked with FastAPI's `iter_route_contexts`: since FastAPI 0.137
`app.routes` holds included routers lazily instead of copies of their routes.
"""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Iterator
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Annotated, Literal

import anyio
import anyio.lowlevel
from fastapi import Depends, FastAPI, Query, Request, params
from fastapi.concurrency import run_in_threadpool
from fastapi.exceptions import RequestValidationError
from fastapi.routing import iter_route_contexts
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from api.area import SERVICE_AREA, AreaCache, Box
from api.auth import API_KEY_HEADER, key_hash_of, resolve_user, when_user_known
from api.errors import AuthenticationRequired, PermissionDenied
from api.fastpath import enter_directly
from api.keycache import KeyCache
from api.logs import set_user
from api.schemas.common import MAX_ID
from api.settings import Settings
from db import audit
from db.identity import UNSCOPED, Role, Scope, User, get_scope
from dispatch.replanning import PublishedData
from dispatch.snapshot_cache import PlanCache, SnapshotCache
from optimizer import TravelTimes

DEFAULT_PAGE_SIZE = 50

# Who reads master data: the office roles; engineers also read what they need in the field.
MASTER_DATA_READERS = (Role.DISPATCHER, Role.WAREHOUSE, Role.PLANNER, Role.ADMIN)
FIELD_READERS = (*MASTER_DATA_READERS, Role.ENGINEER)


async def get_settings(request: Request) -> Settings:
    """The settings the app was created with."""
    settings: Settings = request.app.state.settings
    return settings


async def get_engine(request: Request) -> Engine:
    """The engine the lifespan built (or the one injected by tests)."""
    engine: Engine = request.app.state.engine
    return engine


_NOW = "spares.now"


def request_now(request: Request) -> datetime:
    """The request's time, read once from the app's clock and kept in its scope: the
    handler, the session's audit trail and the key's claim all see the same instant."""
    found: datetime | None = request.scope.get(_NOW)
    if found is None:
        clock: Callable[[], datetime] | None = getattr(request.app.state, "clock", None)
        found = request.scope[_NOW] = clock() if clock is not None else datetime.now(UTC)
    return found


async def get_now(request: Request) -> datetime:
    """The current time from the app's clock (tests inject a fixed one), aware UTC."""
    return request_now(request)


NowDep = Annotated[datetime, Depends(get_now)]


SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
_HOLDS_SLOT = "spares_write_slot"


async def _reads_only() -> None:
    """Marker: a POST that computes an answer and stores nothing (a recommendation)."""


async def _writes_late() -> None:
    """Marker: the route reads (solves) first and takes the write lock itself when it writes."""


def reads_only() -> params.Depends:
    """Declare a non-GET route that never writes: no write lock, no write slot."""
    return params.Depends(_reads_only)


def writes_late() -> params.Depends:
    """Declare a route that solves before it writes (`restart_as_writer` when it does)."""
    return params.Depends(_writes_late)


def _marked(request: Request, marker: Callable[[], Awaitable[None]]) -> bool:
    route = request.scope.get("route")
    return any(d.dependency is marker for d in getattr(route, "dependencies", None) or ())


def is_write(request: Request) -> bool:
    """True for a request that may write: any method but GET/HEAD/OPTIONS, unless marked."""
    return request.method not in SAFE_METHODS and not _marked(request, _reads_only)


@asynccontextmanager
async def write_slot(request: Request) -> AsyncIterator[None]:
    """Hold one of the app's `write_slots` (re-entrant within a request).

    A write request holds the database's write lock (SQLite) or row locks (PostgreSQL)
    across several thread-pool calls: dependencies, handler, commit. Were every worker
    thread taken by requests waiting for that lock, its holder could never get a thread
    to finish and commit. So fewer writes run at once than the pool has threads, and
    the others wait here, on the event loop, holding neither a thread nor a connection.
    """
    if request.scope.get(_HOLDS_SLOT):
        yield
        return
    slots: anyio.Semaphore | None = getattr(request.app.state, "write_slots", None)
    if slots is None:
        settings: Settings = request.app.state.settings
        slots = request.app.state.write_slots = anyio.Semaphore(settings.write_slots)
    async with slots:
        request.scope[_HOLDS_SLOT] = True
        try:
            yield
        finally:
            request.scope.pop(_HOLDS_SLOT, None)


async def get_session(request: Request) -> AsyncIterator[Session]:
    """One session per request: commit when the handler succeeded, roll back when it raised.

    Services only flush; this is the one place an API transaction ends. A write request
    begins as a writer (`BEGIN IMMEDIATE` on SQLite) before it reads anything it will
    change: a SQLite reader that later writes fails at once when another writer committed
    meanwhile. PostgreSQL services lock the rows they change (`SELECT ... FOR UPDATE`).
    Routes marked `writes_late()` solve first and take the write lock themselves.
    An async generator: making a session touches no database, so only the statements
    (commit or rollback, then close) go to the thread pool, one hop each. A write holds
    a write slot (`write_slot`) from before its session to after its commit. No
    dependencies of its own: FastAPI solves a dependency's sub-dependencies again at
    every reference, and most routes refer to the session four times.
    """
    write = is_write(request)
    if write and not request.scope.get(_HOLDS_SLOT):  # a stock write holds it already
        async with write_slot(request), _transaction(request, write) as session:
            yield session
    else:
        async with _transaction(request, write) as session:
            yield session


async def enter_session(request: Request, stack: AsyncExitStack) -> Session | None:
    """`get_session` for a planned stock write (api.fastpath), whose route holds the write
    slot: the same session, committed or rolled back and closed the same way at `stack`'s
    exit, without an async generator wrapped in three context managers and a cancel scope
    per request (a tenth of a served reservation's time on the event loop, BENCHMARKS.md
    round 6). Its statements' ending is shielded from cancellation, as FastAPI shields a
    generator's exit. None when the request holds no write slot: then `get_session` runs.
    """
    write = is_write(request)
    if write and not request.scope.get(_HOLDS_SLOT):
        return None
    session = _open(request, write)

    async def close(exc_type: type[BaseException] | None, *_: object) -> bool:
        how = _commit_and_close if exc_type is None else _rollback_and_close
        with anyio.CancelScope(shield=True):
            try:
                await _end(session, how)  # as `_transaction` ends
            finally:
                if session.is_active and session.in_transaction():
                    await run_in_threadpool(_rollback_and_close, session)
        await anyio.lowlevel.checkpoint_if_cancelled()
        return False

    stack.push_async_exit(close)
    return session


enter_directly(get_session, enter_session)


def _open(request: Request, write: bool) -> Session:
    factory: sessionmaker[Session] = request.app.state.sessionmaker
    if write and not _marked(request, _writes_late):
        # Bound to the engine with the write option: its first statement begins the
        # transaction as a writer, in whichever thread runs it; no hop of its own.
        session = factory(bind=request.app.state.write_engine)
    else:
        session = factory()
    # The audit trail records who changed what and when (db.audit): the request's time,
    # and its user once authenticated (api.auth; a key resolved later is set then).
    session.info[audit.NOW] = request_now(request)
    when_user_known(request.scope, lambda user: session.info.__setitem__(audit.ACTOR, user.id))
    return session


@asynccontextmanager
async def _transaction(request: Request, write: bool) -> AsyncIterator[Session]:
    session = _open(request, write)
    try:
        try:
            yield session
        except BaseException:
            await _end(session, _rollback_and_close)
            raise
        await _end(session, _commit_and_close)
    finally:
        if session.is_active and session.in_transaction():  # cancelled mid-way
            await run_in_threadpool(_rollback_and_close, session)


async def _end(session: Session, how: Callable[[Session], None]) -> None:
    """Commit or roll back in a worker thread; a session with nothing begun closes in place
    (a stock write commits with its stored response, api.idempotency)."""
    if session.in_transaction():
        await run_in_threadpool(how, session)
    else:
        session.close()


def _commit_and_close(session: Session) -> None:
    try:
        session.commit()
    finally:
        session.close()


def _rollback_and_close(session: Session) -> None:
    try:
        session.rollback()
    finally:
        session.close()


async def get_travel(request: Request) -> TravelTimes:
    """The travel-time provider the lifespan chose (or the one injected by tests)."""
    travel: TravelTimes = request.app.state.travel
    return travel


async def get_snapshots(request: Request) -> SnapshotCache:
    """The app's snapshot cache (dispatch.snapshot_cache): one world snapshot, reused."""
    cache: SnapshotCache = request.app.state.snapshots
    return cache


async def get_published(request: Request) -> PlanCache[PublishedData]:
    """The app's published-plan cache: what urgent insertions into one plan share."""
    cache: PlanCache[PublishedData] = request.app.state.published
    return cache


SettingsDep = Annotated[Settings, Depends(get_settings)]
SnapshotsDep = Annotated[SnapshotCache, Depends(get_snapshots)]
PublishedDep = Annotated[PlanCache[PublishedData], Depends(get_published)]
TravelDep = Annotated[TravelTimes, Depends(get_travel)]
EngineDep = Annotated[Engine, Depends(get_engine)]
# scope="function": the commit runs before the response is sent, so a failed commit
# is reported as an error instead of a success the database never kept.
SessionDep = Annotated[Session, Depends(get_session, scope="function")]


async def current_user(request: Request) -> User:
    """The active user holding the request's API key; 401 without one.

    Resolved once per request (api.auth): `authenticate` put a key the app's `KeyCache`
    knows in the scope, with no query; an unknown key is looked up here. The user is a
    shared copy: read its id, name and role, never attach it. The request's session
    records the user for the audit trail (`get_session`), and the log lines his name
    (never the key). The OpenAPI document declares the key on every guarded route
    (api.openapi), not through a dependency here.
    """
    user = await _authenticated(request)
    set_user(request.scope, user.name)
    return user


async def _authenticated(request: Request) -> User:
    user = await resolve_user(request.scope)
    if user is None:
        if key_hash_of(request.scope) is None:
            raise AuthenticationRequired(f"send an API key in the {API_KEY_HEADER} header")
        raise AuthenticationRequired("the API key is unknown or its user is inactive")
    return user


CurrentUser = Annotated[User, Depends(current_user)]


_JSON_NUL = (b"\\u0000", b"\x00")


def _nul_locations(value: object, at: tuple[str | int, ...]) -> Iterator[tuple[str | int, ...]]:
    if isinstance(value, str):
        if "\x00" in value:
            yield at
    elif isinstance(value, dict):
        for key, item in value.items():
            if "\x00" in key:
                yield (*at, key)
            yield from _nul_locations(item, (*at, key))
    elif isinstance(value, list):
        for i, item in enumerate(value):
            yield from _nul_locations(item, (*at, i))


async def refuse_bad_input(request: Request) -> None:
    """The bounds every route shares, checked in this one place: a 422 naming each field.

    No NUL character in a path, query or JSON body value: text columns cannot hold NUL on
    PostgreSQL (the driver refuses it), SQLite would store it and cut it short elsewhere.
    Coordinates must lie in the service area (api.area): this sets the area the body's
    `Lat`/`Lon` fields are validated against, with the body's other fields.
    Runs after the key's check, so a stranger learns nothing.
    """
    found: list[tuple[str | int, ...]] = [
        ("path", k) for k, v in request.path_params.items() if "\x00" in str(v)
    ]
    found += [("query", k) for k, v in request.query_params.multi_items() if "\x00" in k + v]
    area = None
    if "json" in request.headers.get("content-type", ""):
        body = await request.body()
        if any(marker in body for marker in _JSON_NUL):
            try:
                parsed = json.loads(body)
            except ValueError:
                parsed = None  # not JSON: the body's own validation says so
            found += _nul_locations(parsed, ("body",))
        if _MAY_LOCATE.search(body) is not None:
            area = await _service_area(request)
    SERVICE_AREA.set(area)
    if found:
        raise RequestValidationError(
            [
                {
                    "type": "string_nul",
                    "loc": loc,
                    "msg": "must not contain a NUL character",
                    "input": None,
                }
                for loc in found
            ]  # fmt: skip
        )


_MAY_LOCATE = re.compile(rb'(lat|lon)"\s*:')


async def _service_area(request: Request) -> Box | None:
    settings: Settings = request.app.state.settings
    margin = settings.service_area_margin_deg
    if margin is None:
        return None
    cache: AreaCache = request.app.state.service_area
    box = await cache.get(request.app.state.sessionmaker)
    return None if box is None else box.widened(margin)


async def check_access(request: Request) -> None:
    """The route's key and role check, on its own: `AuthenticationRequired` or
    `PermissionDenied` when the request may not use the route, else nothing.

    FastAPI parses a JSON body before any dependency runs; a request refused for its
    body is checked here first (api.errors), so a caller without a valid key or role
    learns nothing about the body the route expects.
    """
    route = request.scope.get("route")
    guards = [
        d.dependency
        for d in getattr(route, "dependencies", None) or ()
        if isinstance(d.dependency, RoleGuard)
    ]
    if not guards:
        return  # public, or no route matched
    user = await _authenticated(request)  # as `current_user`: a known key, no query
    guards[0].admit(user)


async def user_scope(request: Request, user: CurrentUser, session: SessionDep) -> Scope:
    """Where the user may write: admins anywhere; others where an admin scoped them
    (remembered with the key, api.keycache: most requests need no query)."""
    if user.role is Role.ADMIN:
        return UNSCOPED
    cache: KeyCache = request.app.state.key_cache
    found = cache.get_scope(user.id)
    if found is None:
        generation = cache.generation
        found = await run_in_threadpool(get_scope, session, user.id)
        cache.put_scope(user.id, found, generation)
    return found


ScopeDep = Annotated[Scope, Depends(user_scope)]


class RoleGuard:
    """A route dependency that admits users of the listed roles only."""

    def __init__(self, roles: Iterable[Role]) -> None:
        self.roles = frozenset(roles)
        if not self.roles:
            raise ValueError("a guarded route admits at least one role; use public() for none")

    async def __call__(self, request: Request, user: CurrentUser) -> User:
        """Admit the user, then check the bounds every route shares (`refuse_bad_input`):
        one dependency, not two, and a caller of another role learns nothing of them."""
        self.admit(user)
        await refuse_bad_input(request)
        return user

    def admit(self, user: User) -> None:
        """Raise `PermissionDenied` unless the user's role is one of the route's."""
        if user.role not in self.roles:
            raise PermissionDenied(user.role.value, [r.value for r in Role if r in self.roles])


def requires(*roles: Role) -> params.Depends:
    """Declare the roles a route admits: `dependencies=[requires(Role.ADMIN, ...)]`."""
    return params.Depends(RoleGuard(roles))


async def _public_route() -> None:
    """Marker: the route is deliberately open to everyone (health, readiness, docs)."""


def public() -> params.Depends:
    """Declare a route open without an API key: `dependencies=[public()]`."""
    return params.Depends(_public_route)


Access = frozenset[Role] | Literal["public"]


@dataclass(frozen=True, slots=True)
class RouteAccess:
    """One route (included routers flattened) and the access it declares."""

    path: str
    methods: frozenset[str]
    declarations: tuple[Access, ...]


def route_table(app: FastAPI) -> list[RouteAccess]:
    """Every route of the app with its declarations; exactly one per route is the rule."""
    table = []
    for context in iter_route_contexts(app.routes):
        found: list[Access] = []
        for dep in getattr(context, "dependencies", None) or []:
            if isinstance(dep.dependency, RoleGuard):
                found.append(dep.dependency.roles)
            elif dep.dependency is _public_route:
                found.append("public")
        methods = frozenset(context.methods or ())
        table.append(RouteAccess(str(context.path), methods, tuple(found)))
    return table


def check_route_access(app: FastAPI) -> None:
    """Refuse an app with a route that declares no roles, or more than one declaration."""
    bad = [f"{r.path}: {len(r.declarations)}" for r in route_table(app) if len(r.declarations) != 1]
    if bad:
        raise RuntimeError("declare requires(...) or public() once per route: " + "; ".join(bad))
    app.state.access_check = check_access  # what api.errors runs before answering 422


@dataclass(frozen=True, slots=True)
class PageParams:
    """Where a list starts (`after`, the last id seen) and how many rows it returns."""

    after: int | None
    limit: int


async def page_params(
    settings: SettingsDep,
    limit: Annotated[
        int | None, Query(ge=1, description=f"rows per page (default {DEFAULT_PAGE_SIZE})")
    ] = None,
    after: Annotated[
        int | None, Query(ge=0, le=MAX_ID, description="the `next_after` of the previous page")
    ] = None,
) -> PageParams:
    """Validate paging; a limit above `page_size_max` is a 422 like any invalid parameter."""
    cap = settings.page_size_max
    if limit is not None and limit > cap:
        raise RequestValidationError(
            [
                {
                    "type": "less_than_equal",
                    "loc": ("query", "limit"),
                    "msg": f"Input should be less than or equal to {cap}",
                    "input": limit,
                    "ctx": {"le": cap},
                }
            ]
        )
    return PageParams(after=after, limit=min(DEFAULT_PAGE_SIZE, cap) if limit is None else limit)


PageDep = Annotated[PageParams, Depends(page_params)]
