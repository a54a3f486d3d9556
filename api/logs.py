"""Request ids and structured logs: one JSON object per line, tied to the request that caused it.

The operational layer (api.operations, before anything else) takes the caller's
`X-Request-ID` when it is a sane token, or makes one (`incoming_id`); `begin` puts the id
(and later the user's name, set by the authentication dependency) on the scope's state and
in a context variable; the layer echoes the id in the response header, and `end` writes one
access line per request. Every log record made while the
request runs carries both, so a problem+json's `request_id` finds its lines. The API key is
never logged: only the name of the user holding it.
"""

from __future__ import annotations

import json
import logging
import re
import sys
import time
import uuid
from contextvars import ContextVar, Token
from datetime import UTC, datetime
from typing import Any

from starlette.types import Scope

REQUEST_ID_HEADER = "X-Request-ID"
REQUEST_ID_RAW = REQUEST_ID_HEADER.lower().encode()  # as ASGI headers name it
# A caller's id is kept when it is a short token: nothing that could forge a log line.
_SANE_ID = re.compile(r"[A-Za-z0-9._:@/+=-]{1,128}")

access_log = logging.getLogger("api.access")


class _RequestInfo:
    """What the logs say about the current request; mutable so a dependency can add the user."""

    __slots__ = ("request_id", "user")

    def __init__(self, request_id: str) -> None:
        self.request_id = request_id
        self.user: str | None = None


_current: ContextVar[_RequestInfo | None] = ContextVar("spares_request", default=None)


def request_id_of(scope: Scope) -> str | None:
    """The request id api.operations gave this request (None outside it)."""
    info = scope.get("state", {}).get("spares_request")
    return info.request_id if isinstance(info, _RequestInfo) else None


def set_user(scope: Scope, name: str) -> None:
    """Record who the request's key belongs to, for its log lines (never the key)."""
    info = scope.get("state", {}).get("spares_request")
    if isinstance(info, _RequestInfo):
        info.user = name


def route_template(scope: Scope) -> str | None:
    """The matched route's path template (e.g. /v1/tickets/{ticket_id}); None if none matched.

    FastAPI (0.137 on) resolves included routers lazily: `scope["route"]` is then the inner
    route, whose path lacks the prefixes; the effective route context has the whole path.
    """
    context = scope.get("fastapi", {}).get("effective_route_context")
    path = getattr(context, "path", None)
    if isinstance(path, str):
        return path
    route = scope.get("route")
    found = getattr(route, "path_format", None)
    return found if isinstance(found, str) else None


def incoming_id(given: bytes | None) -> str:
    """The caller's `X-Request-ID` when it is a sane token, else a new id."""
    if given is not None:
        text = given.decode("latin-1")
        if _SANE_ID.fullmatch(text):
            return text
    return uuid.uuid4().hex


def begin(scope: Scope, request_id: str) -> tuple[_RequestInfo, Token[_RequestInfo | None]]:
    """Tie the request to its id: on the scope's state and in the context variable every log
    record made while it runs reads (api.operations calls this first thing)."""
    info = _RequestInfo(request_id)
    scope.setdefault("state", {})["spares_request"] = info
    return info, _current.set(info)


def end(
    scope: Scope, info: _RequestInfo, token: Token[_RequestInfo | None], status: int,
    started: float,
) -> None:  # fmt: skip
    """Write the request's one access line (its fields built only when it is written)."""
    try:
        if access_log.isEnabledFor(logging.INFO):
            _log_access(scope, info, status, started)
    finally:
        _current.reset(token)


def _log_access(scope: Scope, info: _RequestInfo, status: int, started: float) -> None:
    access_log.info(
        "%s %s %s",
        scope["method"],
        scope["path"],
        status,
        extra={
            "method": scope["method"],
            "path": scope["path"],
            "route": route_template(scope),
            "status": status,
            "duration_ms": round((time.perf_counter() - started) * 1000, 2),
            "client": (scope.get("client") or ("?",))[0],
            "request_id": info.request_id,
            "user": info.user,
        },
    )


# LogRecord attributes that are not `extra` fields of a call.
_STANDARD = frozenset(vars(logging.makeLogRecord({}))) | {"message", "asctime", "taskName"}


class JsonFormatter(logging.Formatter):
    """One JSON object per record: time (UTC), level, logger, message, request id, user, extras."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        info = _current.get()
        if info is not None:
            entry["request_id"] = info.request_id
            if info.user is not None:
                entry["user"] = info.user
        entry |= {k: v for k, v in vars(record).items() if k not in _STANDARD and k not in entry}
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, default=str, ensure_ascii=False)


_TEXT = "%(asctime)s %(levelname)s %(name)s %(message)s"


def configure_logging(level: str, fmt: str) -> None:
    """Send the service's logs (ours and uvicorn's) to stderr, as JSON lines or plain text.

    Idempotent: the handler it installed before is replaced, nothing else is touched.
    """
    handler = logging.StreamHandler(sys.stderr)
    handler.set_name("spares")
    handler.setFormatter(JsonFormatter() if fmt == "json" else logging.Formatter(_TEXT))
    root = logging.getLogger()
    root.handlers = [h for h in root.handlers if h.get_name() != "spares"] + [handler]
    for name in ("uvicorn", "uvicorn.error"):  # through the root handler, not their own
        logging.getLogger(name).handlers = []
        logging.getLogger(name).propagate = True
    logging.getLogger().setLevel(level.upper())
    logging.getLogger("api").setLevel(level.upper())
