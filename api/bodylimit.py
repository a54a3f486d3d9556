"""Bodies the API cannot take are refused before they are read: 413 and 415 problem+json.

A declared `Content-Length` over the limit is answered at once; a chunked body is
counted as it arrives and refused when it passes the limit. JSON bodies are small
(`SPARES_MAX_BODY_BYTES`); the world import takes a zip up to its own limit. A body
declared as anything but JSON (the import: a zip) is a 415 naming the types taken; a body
without a Content-Type is read as JSON, as FastAPI does.
"""

from __future__ import annotations

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.errors import Problem, problem_response
from api.settings import Settings

WORLD_IMPORT = "/v1/world/import"
TOO_LARGE = Problem(413, "urn:spares:problem:too-large", "Content too large")
UNSUPPORTED = Problem(415, "urn:spares:problem:unsupported-media-type", "Unsupported media type")
JSON_TYPES = ("application/json",)
ZIP_TYPES = ("application/zip", "application/x-zip-compressed", "application/octet-stream")


def _accepted(media_type: str, taken: tuple[str, ...]) -> bool:
    """True for a type the route takes; JSON routes also take any `+json` type."""
    return media_type in taken or (taken is JSON_TYPES and media_type.endswith("+json"))


class BodyLimit:
    """ASGI middleware: JSON bodies of at most `max_body_bytes` (the import: a zip, its own)."""

    def __init__(self, app: ASGIApp, settings: Settings) -> None:
        self.app = app
        self.default = settings.max_body_bytes
        self.world = settings.world_import_max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        world = scope["path"] == WORLD_IMPORT
        limit = self.world if world else self.default
        headers = dict(scope["headers"])
        declared = headers.get(b"content-length", b"").decode("latin-1")
        has_body = (declared.isdigit() and int(declared) > 0) or b"transfer-encoding" in headers
        media = headers.get(b"content-type", b"").decode("latin-1").split(";")[0].strip().lower()
        taken = ZIP_TYPES if world else JSON_TYPES
        reads = scope["method"] in ("GET", "HEAD", "OPTIONS")
        if has_body and media and not reads and not _accepted(media, taken):
            detail = f"a body of type {media!r} is not taken here; send {taken[0]}"
            response = problem_response(UNSUPPORTED, Request(scope), detail, accepted=list(taken))
            await response(scope, receive, send)
            return
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
