"""What running the API in production adds around the routes: ids, logs, metrics, limits.

One pure ASGI layer, `Operations`, does it all for every HTTP request, in this order: the
request id is set before anything can answer (api.logs), latency is observed for every
answer, 429s and 413s included (api.metrics), a rate-limited request is refused before
anything else runs, the database included (api.ratelimit), a body the route cannot take is
refused before it is read (api.bodylimit), the key's user is put in the scope (api.auth),
and an idempotent request that lost a transient race runs once more (api.retry). It was
six middlewares: each a coroutine layer, most a `send` wrapper, each scanning the headers
again; one layer reads the headers once and wraps `send` once (BENCHMARKS.md, issue 18,
round 8).
"""

from __future__ import annotations

import time

from fastapi import FastAPI
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api import logs
from api.auth import API_KEY_RAW, authenticate
from api.bodylimit import BodyLimits
from api.metrics import Latency, install_metrics
from api.ratelimit import RateLimits
from api.retry import MARKERS, run_retrying
from api.settings import Settings

_LENGTH = b"content-length"
_TYPE = b"content-type"
_CHUNKED = b"transfer-encoding"


class Operations:
    """ASGI middleware: request id, access log, latency, rate limits, body limits, the key's
    user and the retry of a transient race, for each HTTP request."""

    def __init__(self, app: ASGIApp, *, settings: Settings, latency: Latency) -> None:
        self.app = app
        self.latency = latency
        limited = settings.rate_limit_per_key or settings.rate_limit_per_address
        self.limits = RateLimits(settings) if limited else None
        self.bodies = BodyLimits(settings)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        # The headers, read once: the first request id and key; the body's headers as a
        # dict of them would give (the last of each).
        request_id = api_key = length = content_type = None
        chunked = marked = False
        for name, value in scope["headers"]:
            if name == API_KEY_RAW:
                if api_key is None:
                    api_key = value
            elif name == logs.REQUEST_ID_RAW:
                if request_id is None:
                    request_id = value
            elif name == _LENGTH:
                length = value
            elif name == _TYPE:
                content_type = value
            elif name == _CHUNKED:
                chunked = True
            elif name in MARKERS:
                marked = True
        info, token = logs.begin(scope, logs.incoming_id(request_id))
        raw_id = info.request_id.encode()
        status = 500  # what the client gets if the app raises before answering
        started = time.perf_counter()

        async def sending(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                headers = list(message.get("headers", ()))
                if not any(name.lower() == logs.REQUEST_ID_RAW for name, _ in headers):
                    headers.append((logs.REQUEST_ID_RAW, raw_id))
                message = {**message, "headers": headers}
            await send(message)

        try:
            try:
                refused = None
                if self.limits is not None:
                    refused = await self.limits.refusal(scope, api_key or None)
                if refused is None:
                    refused = self.bodies.refusal(scope, length, chunked, content_type)
                if refused is not None:
                    await refused(scope, receive, sending)
                    return
                authenticate(scope, api_key)
                counted = self.bodies.counted(scope, receive)
                await run_retrying(self.app, scope, counted, sending, marked=marked)
            finally:
                self.latency.observe(scope, status, started)
        finally:
            logs.end(scope, info, token, status, started)


def install_operations(app: FastAPI, settings: Settings) -> None:
    """Add the operational layer (outermost of the app's own middleware) and `/metrics`."""
    latency = install_metrics(app, settings)
    app.add_middleware(Operations, settings=settings, latency=latency)
