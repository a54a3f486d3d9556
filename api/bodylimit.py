"""Oversized request bodies are refused before they are read: 413 problem+json.

A declared `Content-Length` over the limit is answered at once; a chunked body is
counted as it arrives and refused when it passes the limit. JSON bodies are small
(`SPARES_MAX_BODY_BYTES`); the world import takes a zip up to its own limit.
"""

from __future__ import annotations

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.errors import Problem, problem_response
from api.settings import Settings

WORLD_IMPORT = "/v1/world/import"
TOO_LARGE = Problem(413, "urn:spares:problem:too-large", "Content too large")


class BodyLimit:
    """ASGI middleware: at most `max_body_bytes` per request body (the import: its own)."""

    def __init__(self, app: ASGIApp, settings: Settings) -> None:
        self.app = app
        self.default = settings.max_body_bytes
        self.world = settings.world_import_max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.world if scope["path"] == WORLD_IMPORT else self.default
        declared = dict(scope["headers"]).get(b"content-length", b"").decode("latin-1")
        if declared.isdigit() and int(declared) > limit:
            detail = f"the body is {declared} bytes; this route takes at most {limit}"
            response = problem_response(TOO_LARGE, Request(scope), detail, limit=limit)
            await response(scope, receive, send)
            return
        received = 0

        async def counted() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:  # answered by the app's handler, as problem+json
                    raise HTTPException(413, f"the body passed {limit} bytes; this route's limit")
            return message

        await self.app(scope, counted, send)
