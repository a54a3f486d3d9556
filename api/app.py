"""The FastAPI application factory; nothing is built at import.

Run it with `uvicorn --factory api.app:create_app` or `spares serve`.
"""

from __future__ import annotations

import asyncio
import gc
import logging
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import datetime, timedelta
from importlib.metadata import PackageNotFoundError, version

from fastapi import Depends, FastAPI
from sqlalchemy import Engine
from sqlalchemy.engine import make_url

from api.area import AreaCache, clear_on_region_changes
from api.deps import check_route_access
from api.errors import install_error_handlers
from api.keycache import KeyCache, invalidate_on_user_changes
from api.localtime import SharedZoneCache, use_display_zone
from api.logs import configure_logging
from api.operations import install_operations
from api.routes import (
    admin_catalogue,
    admin_customers,
    admin_engineers,
    advice_runs,
    assets,
    audit,
    board,
    catalogue,
    contracts,
    depots,
    dispatch,
    docs,
    engineers,
    health,
    jobs,
    labour,
    me,
    movements,
    plans,
    policies,
    regions,
    reservations,
    scenario_runs,
    sites,
    stock,
    stock_recommend,
    ticket_types,
    tickets,
    users,
    warranty,
    whoami,
    world,
)
from api.routing import skip_by_prefix
from api.settings import Settings
from api.travel import make_travel as make_travel  # where the CLI found it before
from api.web import pages
from db import make_engine, make_sessionmaker
from db.transactions import WRITE_OPTIONS
from dispatch.replanning import PublishedData
from dispatch.snapshot_cache import PlanCache, SnapshotCache
from optimizer import TravelTimes, warm_up

API_PREFIX = "/v1"
_V1_ROUTERS = (
    regions.router,
    depots.router,
    catalogue.router,
    assets.router,
    engineers.router,
    sites.router,
    contracts.router,
    tickets.writes,
    tickets.router,
    ticket_types.router,
    me.router,
    policies.router,
    labour.router,
    labour.penalties,
    admin_engineers.router,
    admin_customers.router,
    admin_catalogue.router,
    users.router,
    world.router,
    stock.router,
    stock_recommend.router,
    reservations.router,
    movements.router,
    dispatch.router,
    plans.router,
    jobs.router,
    audit.router,
    warranty.router,
    dispatch.writes,
    scenario_runs.router,
    advice_runs.router,
    whoami.router,
    board.router,
)


def _version() -> str:
    # Not spares.__version__: the CLI package sits above the API and must not be imported.
    try:
        return version("spares")
    except PackageNotFoundError:
        return "0.0.0+unknown"


def freeze_long_lived() -> None:
    """Keep what is alive now (a fresh snapshot: the whole world) out of the cyclic GC.

    A large world's snapshot is over 100,000 long-lived objects; every full collection
    walked them again, and the requests that allocation happened to trigger one on paid
    100-400 ms (the cached recommendation's p95 on the large world; BENCHMARKS.md).
    Unfrozen and collected first, so the snapshot it replaces is freed, cycles included;
    the one full collection here rides on a snapshot load that takes seconds.
    """
    gc.unfreeze()
    gc.collect()
    gc.freeze()


def make_app_engine(settings: Settings) -> Engine:
    """The served app's engine. On PostgreSQL its pool holds `database_pool_size`
    connections: with SQLAlchemy's default (5, overflow 10) the 16 write slots kept
    opening and closing connections, a backend started per request (issue 18)."""
    url = settings.database_url
    if make_url(url).get_backend_name() != "postgresql":
        return make_engine(url, busy_timeout_ms=settings.sqlite_busy_timeout_ms)
    return make_engine(url, pool_size=settings.database_pool_size,
                       max_overflow=settings.database_max_overflow)  # fmt: skip


def create_app(
    settings: Settings | None = None,
    *,
    engine: Engine | None = None,
    clock: Callable[[], datetime] | None = None,
    travel: TravelTimes | None = None,
) -> FastAPI:
    """Build the app; the lifespan makes the engine unless one is injected (tests do).

    `clock` returns the current aware time; tests inject a fixed one (default: UTC now).
    `travel` replaces the provider the settings choose (tests inject a fake).
    """
    settings = settings if settings is not None else Settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        owned = engine is None
        if owned:  # a served app logs as configured; tests keep pytest's handlers
            configure_logging(settings.log_level, settings.log_format)
        logging.getLogger("api").setLevel(settings.log_level.upper())
        app.state.engine = make_app_engine(settings) if engine is None else engine
        app.state.sessionmaker = make_sessionmaker(app.state.engine)
        app.state.write_engine = app.state.engine.execution_options(**WRITE_OPTIONS)
        invalidate_on_user_changes(app.state.sessionmaker, app.state.key_cache)
        clear_on_region_changes(app.state.sessionmaker, app.state.service_area)
        app.state.travel = travel if travel is not None else make_travel(settings)
        if owned:  # a served app: the first timed plan must not pay for the solver's server
            await asyncio.to_thread(warm_up)
            gc.collect()
            gc.freeze()  # what startup built lives on: full collections stop rescanning it
            app.state.snapshots.on_load = freeze_long_lived  # and so does each snapshot
        try:
            yield
        finally:
            if owned:  # an injected engine belongs to whoever injected it
                app.state.engine.dispose()

    # The default docs routes are replaced by api.routes.docs, which declares itself public.
    app = FastAPI(
        title="Spares",
        version=_version(),
        summary="Spare-parts logistics and field-service dispatch that keeps its promises.",
        lifespan=lifespan,
        openapi_url=None,
        docs_url=None,
        redoc_url=None,
    )
    app.state.settings = settings
    app.state.clock = clock
    app.state.key_cache = KeyCache(settings.api_key_cache_ttl_s)  # API key -> user, briefly
    app.state.service_area = AreaCache()  # where coordinates may lie (api.area)
    # recommendations reuse an unchanged world
    app.state.snapshots = SnapshotCache(timedelta(seconds=settings.snapshot_ttl_s))
    app.state.published = PlanCache[PublishedData]()  # urgent insertions reuse a published plan
    install_error_handlers(app)
    # Request ids, logs, metrics, rate and body limits, the key's user and the retry of a
    # transient race: one ASGI layer (api.operations).
    install_operations(app, settings)
    app.include_router(health.router)
    app.include_router(docs.router)
    app.include_router(pages.router)
    app.state.shared_zone = SharedZoneCache()  # the zone answers show times in
    # Each router straight onto the app (no /v1 router around them): FastAPI matches an
    # included router lazily on every request, and one level less is a fifth less routing.
    for router in _V1_ROUTERS:
        app.include_router(router, prefix=API_PREFIX, dependencies=[Depends(use_display_zone)])
    check_route_access(app)
    skip_by_prefix(app)
    return app
