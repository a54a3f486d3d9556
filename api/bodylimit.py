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
from starlette.responses import Response
from starlette.types import Message, Receive, Scope

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


class BodyLimits:
    """JSON bodies of at most `max_body_bytes` (the import: a zip, its own limit); api.operations
    asks `refusal` before the route runs and reads the body through `counted`."""

    def __init__(self, settings: Settings) -> None:
        self.default = settings.max_body_bytes
        self.world = settings.world_import_max_bytes

    def limit(self, scope: Scope) -> int:
        return self.world if scope["path"] == WORLD_IMPORT else self.default

    def refusal(
        self, scope: Scope, length: bytes | None, chunked: bool, content_type: bytes | None
    ) -> Response | None:
        """The 415 or 413 for a body refused by its headers (`Content-Length`, whether
        `Transfer-Encoding` is sent, `Content-Type`), else None."""
        world = scope["path"] == WORLD_IMPORT
        limit = self.world if world else self.default
        declared = (length or b"").decode("latin-1")
        has_body = (declared.isdigit() and int(declared) > 0) or chunked
        media = (content_type or b"").decode("latin-1").split(";")[0].strip().lower()
        taken = ZIP_TYPES if world else JSON_TYPES
        reads = scope["method"] in ("GET", "HEAD", "OPTIONS")
        if has_body and media and not reads and not _accepted(media, taken):
            detail = f"a body of type {media!r} is not taken here; send {taken[0]}"
            return problem_response(UNSUPPORTED, Request(scope), detail, accepted=list(taken))
        if declared.isdigit() and int(declared) > limit:
            detail = f"the body is {declared} bytes; this route takes at most {limit}"
            return problem_response(TOO_LARGE, Request(scope), detail, limit=limit)
        return None

    def counted(self, scope: Scope, receive: Receive) -> Receive:
        """`receive`, refusing (413) a body that passes the limit as it arrives (chunked)."""
        limit = self.limit(scope)
        received = 0

        async def counting() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:  # answered by the app's handler, as problem+json
                    raise HTTPException(413, f"the body passed {limit} bytes; this route's limit")
            return message

        return counting
