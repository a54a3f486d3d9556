"""What running the API in production adds around the routes: ids, logs, metrics, limits.

One call from `api.app.create_app`, so the factory only says that it happens. Starlette runs
the middleware added last first: the request id is set before anything can answer, latency
is observed for every answer (429s included), and a rate-limited request is refused before
it reaches authentication or the database.
"""

from __future__ import annotations

from fastapi import FastAPI

from api.logs import RequestContext
from api.metrics import install_metrics
from api.ratelimit import RateLimit
from api.settings import Settings


def install_operations(app: FastAPI, settings: Settings) -> None:
    """Add the operational middleware (innermost first) and the `/metrics` route."""
    if settings.rate_limit_per_key or settings.rate_limit_per_address:
        app.add_middleware(RateLimit, settings=settings)
    install_metrics(app, settings)
    app.add_middleware(RequestContext)
