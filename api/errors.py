"""Every error the API returns, as RFC 9457 `application/problem+json`, mapped in one place.

Domain packages raise structured exceptions without HTTP knowledge; `PROBLEMS`
is the one table that gives each a status code and a problem type. Framework
errors (unknown route, wrong method, invalid request) and unexpected exceptions
get the same body shape, so a client parses exactly one error format.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy import exc as sa_exc
from sqlalchemy.orm.exc import StaleDataError
from starlette.exceptions import HTTPException as StarletteHTTPException

import db.errors
import db.jobs
import dispatch.disruptions
import dispatch.errors
import dispatch.world.bundle.errors as bundle_errors
import inventory.errors
import inventory.stock_errors as stock_errors
from api.logs import REQUEST_ID_HEADER, request_id_of
from api.retry import mark_transient
from db.transactions import is_retryable

logger = logging.getLogger(__name__)

PROBLEM_JSON = "application/problem+json"


class ApiError(Exception):
    """An error that exists only at the HTTP edge (authentication, readiness)."""


class AuthenticationRequired(ApiError):
    """No API key, or a key that no active user holds."""


class PermissionDenied(ApiError):
    """The user's role is not admitted to the route."""

    def __init__(self, role: str, admitted: list[str]) -> None:
        super().__init__(f"role {role!r} may not use this route; admitted: {', '.join(admitted)}")
        self.role = role
        self.admitted = admitted


class NotReady(ApiError):
    """The service cannot serve yet (database unreachable or not migrated)."""

    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(detail)
        self.reason = reason


@dataclass(frozen=True, slots=True)
class Problem:
    """How one exception class is told to the client."""

    status: int
    type: str
    title: str
    headers: tuple[tuple[str, str], ...] = ()


def _problem_type(slug: str) -> str:
    return f"urn:spares:problem:{slug}"


# Domain rules broken by submitted data look like request-validation errors (same type).
_FIELD_RULES = Problem(422, _problem_type("validation-error"), "Invalid request")
_DUPLICATE = Problem(409, _problem_type("duplicate"), "Already exists")

# The one table: exception class -> status and problem type. Starlette picks the
# most specific class of a raised exception, so subclasses may refine their base.

PROBLEMS: dict[type[Exception], Problem] = {
    inventory.errors.NotFoundError: Problem(404, _problem_type("not-found"), "Not found"),
    inventory.errors.ValidationFailed: _FIELD_RULES,
    inventory.errors.DuplicateError: _DUPLICATE,
    dispatch.errors.ValidationFailed: _FIELD_RULES,
    dispatch.errors.DuplicateError: _DUPLICATE,
    db.errors.UserNotFoundError: Problem(404, _problem_type("not-found"), "Not found"),
    db.errors.DuplicateUserError: _DUPLICATE,
    db.errors.ScopeTargetNotFound: Problem(404, _problem_type("not-found"), "Not found"),
    db.errors.OutOfScope: Problem(403, _problem_type("out-of-scope"), "Outside the user's scope"),
    db.errors.IdentityError: Problem(409, _problem_type("identity-conflict"), "User conflict"),
    stock_errors.InsufficientStock: Problem(
        409, _problem_type("insufficient-stock"), "Not enough stock"
    ),
    stock_errors.ReservationExpired: Problem(
        409, _problem_type("reservation-expired"), "Reservation expired"
    ),
    stock_errors.ReservationNotActive: Problem(
        409, _problem_type("reservation-not-active"), "Reservation not active"
    ),
    stock_errors.InvalidMovement: Problem(
        422, _problem_type("invalid-movement"), "Invalid stock movement"
    ),
    stock_errors.IdempotencyKeyMissing: Problem(
        400, _problem_type("idempotency-key-missing"), "Idempotency-Key required"
    ),
    stock_errors.IdempotencyKeyReused: Problem(
        422, _problem_type("idempotency-key-reused"), "Idempotency-Key reused"
    ),
    stock_errors.IdempotencyKeyInFlight: Problem(
        409, _problem_type("idempotency-key-in-flight"), "Request still in flight"
    ),
    inventory.errors.InventoryError: Problem(
        409, _problem_type("inventory-conflict"), "Inventory conflict"
    ),
    dispatch.errors.NotFoundError: Problem(404, _problem_type("not-found"), "Not found"),
    bundle_errors.BundleInvalid: Problem(
        422, _problem_type("invalid-world-bundle"), "Invalid world bundle"
    ),
    bundle_errors.BundleConflict: Problem(
        409, _problem_type("world-bundle-conflict"), "World bundle conflict"
    ),
    bundle_errors.BundleTooLarge: Problem(413, _problem_type("too-large"), "Content too large"),
    dispatch.errors.InvalidTicketError: Problem(
        422, _problem_type("invalid-ticket"), "Invalid ticket data"
    ),
    dispatch.errors.IllegalTransitionError: Problem(
        409, _problem_type("illegal-transition"), "Transition not allowed"
    ),
    dispatch.errors.PublishConflict: Problem(
        409, _problem_type("publish-conflict"), "Plan not published"
    ),
    dispatch.errors.AssignmentConflict: Problem(
        409, _problem_type("assignment-conflict"), "Assignment not possible"
    ),
    dispatch.errors.VersionMismatch: Problem(
        412, _problem_type("version-mismatch"), "Ticket version mismatch"
    ),
    dispatch.errors.StaleTicketError: Problem(
        409, _problem_type("stale-ticket"), "Ticket changed meanwhile"
    ),
    dispatch.disruptions.DisruptionConflict: Problem(
        409, _problem_type("disruption-conflict"), "Disruption not applicable"
    ),
    dispatch.errors.InvalidPlanRequest: Problem(
        422, _problem_type("invalid-plan-request"), "Invalid plan request"
    ),
    db.jobs.JobNotFoundError: Problem(404, _problem_type("not-found"), "Not found"),
    db.jobs.JobError: Problem(409, _problem_type("job-conflict"), "Job conflict"),
    dispatch.errors.DispatchError: Problem(
        409, _problem_type("dispatch-conflict"), "Dispatch conflict"
    ),
    AuthenticationRequired: Problem(
        401,
        _problem_type("authentication-required"),
        "Authentication required",
        (("WWW-Authenticate", "ApiKey"),),
    ),
    PermissionDenied: Problem(403, _problem_type("permission-denied"), "Permission denied"),
    NotReady: Problem(503, _problem_type("not-ready"), "Service not ready"),
}

VALIDATION = Problem(422, _problem_type("validation-error"), "Invalid request")
BUSY = Problem(503, _problem_type("busy"), "Database busy")
STALE = Problem(409, _problem_type("stale-row"), "Changed meanwhile")
CONSTRAINT = Problem(409, _problem_type("constraint-conflict"), "Conflicts with stored data")
INTERNAL = Problem(500, "about:blank", HTTPStatus.INTERNAL_SERVER_ERROR.phrase)
UNAVAILABLE = Problem(503, _problem_type("database-unavailable"), "Database unavailable")


def problem_response(
    problem: Problem,
    request: Request,
    detail: str,
    *,
    headers: Mapping[str, str] | None = None,
    **extensions: Any,
) -> JSONResponse:
    """A problem+json response; extension members never shadow the standard ones."""
    body: dict[str, Any] = {
        "type": problem.type,
        "title": problem.title,
        "status": problem.status,
        "detail": detail,
        "instance": request.url.path,
    }
    request_id = request_id_of(request.scope)
    if request_id is not None:  # the id the logs carry, so a report can be traced
        body["request_id"] = request_id
    body |= {k: v for k, v in jsonable_encoder(extensions).items() if k not in body}
    all_headers = dict(problem.headers) | dict(headers or {})
    if request_id is not None:
        all_headers[REQUEST_ID_HEADER] = request_id
    return JSONResponse(body, problem.status, headers=all_headers, media_type=PROBLEM_JSON)


def _extensions(exc: Exception) -> dict[str, Any]:
    """The structured data a domain exception carries (its public attributes), when JSON-safe."""
    public = {k: v for k, v in vars(exc).items() if not k.startswith("_")}
    try:
        return dict(jsonable_encoder(public))
    except (TypeError, ValueError):
        return {}


def _rule_errors(exc: inventory.errors.ValidationFailed | dispatch.errors.ValidationFailed) -> Any:
    """Domain field errors in the shape of request-validation errors (a body location)."""
    return [
        {
            "location": ["body", *(int(p) if p.isdigit() else p for p in e.field.split("."))],
            "message": e.reason,
            "type": e.type,
        }
        for e in exc.errors
    ]


async def _domain_error(request: Request, exc: Exception) -> JSONResponse:
    problem = next(PROBLEMS[cls] for cls in type(exc).__mro__ if cls in PROBLEMS)
    if isinstance(exc, dispatch.errors.StaleTicketError):  # a lost version race (api.retry)
        mark_transient(request.scope)
    extensions = _extensions(exc)
    if isinstance(exc, inventory.errors.ValidationFailed | dispatch.errors.ValidationFailed):
        extensions["errors"] = _rule_errors(exc)
    return problem_response(problem, request, str(exc), **extensions)


_HTTP_DETAILS = {
    404: "no route matches this path; see /docs for the routes of this API",
    405: "this route does not accept this method; the Allow header lists those it does",
}


async def _http_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)  # registered for this class only
    try:
        phrase = HTTPStatus(exc.status_code).phrase
    except ValueError:  # a code outside the standard list
        phrase = "Error"
    problem = Problem(exc.status_code, "about:blank", phrase)
    detail = str(exc.detail)
    detail = _HTTP_DETAILS.get(exc.status_code, phrase) if detail == phrase else detail
    return problem_response(problem, request, detail, headers=exc.headers)


def _field_errors(errors: Any) -> list[dict[str, Any]]:
    """Each failed field as its location (e.g. ["query", "limit"]), message and error type."""
    return [
        {
            "location": [part if isinstance(part, int) else str(part) for part in err["loc"]],
            "message": err["msg"],
            "type": err["type"],
        }
        for err in errors
    ]


async def _refused_access(request: Request) -> JSONResponse | None:
    """401/403 for a request whose body was refused before its key or role was checked."""
    check: Callable[[Request], Awaitable[None]] | None = getattr(
        request.app.state, "access_check", None
    )
    if check is None:
        return None
    try:
        await check(request)
    except (AuthenticationRequired, PermissionDenied) as denied:
        return await _domain_error(request, denied)
    return None


async def _validation_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)  # registered for this class only
    refused = await _refused_access(request)
    if refused is not None:  # who may not use the route learns nothing of its body
        return refused
    errors = _field_errors(exc.errors())
    fields = ", ".join(".".join(map(str, e["location"])) for e in errors)
    detail = f"{len(errors)} invalid field(s): {fields}; see `errors` for each one"
    return problem_response(VALIDATION, request, detail, errors=errors)


_BUSY_MESSAGES = ("database is locked", "database table is locked", "database is busy")


def is_busy(exc: BaseException) -> bool:
    """True when the database was too busy, not broken: SQLite's lock stayed taken through
    its busy timeout, or no pooled connection came free in time."""
    if isinstance(exc, sa_exc.TimeoutError):  # the pool's, not a statement's
        return True
    if isinstance(exc, sa_exc.OperationalError):
        return any(m in str(exc.orig).lower() for m in _BUSY_MESSAGES)
    return False


async def _database_error(request: Request, exc: Exception) -> JSONResponse:
    if isinstance(exc, StaleDataError) or is_retryable(exc):
        # A version check lost, or PostgreSQL's serialization failure or deadlock: a race
        # the locks did not order; an idempotent request runs once more (api.retry).
        mark_transient(request.scope)
        detail = "the row was changed by another request meanwhile; read it again and retry"
        return problem_response(STALE, request, detail)
    if isinstance(exc, sa_exc.IntegrityError):  # a rule the checks could not see: a race
        clash = db.errors.unique_clash(exc)
        if clash is not None:
            detail = f"{clash.field} {clash.value!r} exists already (taken meanwhile)"
            return problem_response(_DUPLICATE, request, detail, field=clash.field,
                                    value=clash.value)  # fmt: skip
        detail = "the change conflicts with data changed meanwhile; read it again and retry"
        return problem_response(CONSTRAINT, request, detail)
    if isinstance(exc, sa_exc.DataError):  # a value beyond a column: the checks missed a bound
        detail = "a value lies outside what the database can store; see the route's limits"
        return problem_response(VALIDATION, request, detail, errors=[])
    if is_busy(exc):
        mark_transient(request.scope)
        retry_after = str(request.app.state.settings.busy_retry_after_s)
        detail = "the database stayed busy with other writes; retry after the Retry-After delay"
        return problem_response(BUSY, request, detail, headers={"Retry-After": retry_after})
    return await _unexpected_error(request, exc)


# PostgreSQL's connection exceptions (class 08) and a server shutting down or starting up.
_UNAVAILABLE_STATES = ("08", "57P01", "57P02", "57P03")


def is_unavailable(exc: BaseException) -> bool:
    """True when the database could not be reached or dropped the connection.

    A disconnect SQLAlchemy noticed, an interface error, a failure while connecting (no
    statement ran: refused, not accepting connections, a SQLite file that cannot be
    opened), or a connection or shutdown SQLSTATE. Other database errors stay 500s: they
    are bugs or broken storage, not an outage to wait out. The pool recycles its
    connections after a disconnect (and pings before use on PostgreSQL), so the next
    request after the database returns works without a restart.
    """
    if getattr(exc, "connection_invalidated", False) or isinstance(exc, sa_exc.InterfaceError):
        return True
    if not isinstance(exc, sa_exc.OperationalError):
        return False
    if exc.statement is None:
        return True
    state = str(getattr(exc.orig, "sqlstate", None) or "")
    if state and state.startswith(_UNAVAILABLE_STATES):
        return True
    return "unable to open database file" in str(exc.orig).lower()


async def _unexpected_error(request: Request, exc: Exception) -> JSONResponse:
    if is_unavailable(exc):
        logger.warning("database unavailable on %s %s: %s", request.method, request.url.path,
                       type(exc.__cause__ or exc).__name__)  # fmt: skip
        retry_after = str(request.app.state.settings.unavailable_retry_after_s)
        detail = "the database does not answer; retry after the Retry-After delay"
        return problem_response(UNAVAILABLE, request, detail, headers={"Retry-After": retry_after})
    # The client gets a generic body; the traceback goes to the log only.
    logger.error("unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
    detail = "an unexpected error occurred; it has been logged"
    return problem_response(INTERNAL, request, detail)


def install_error_handlers(app: FastAPI) -> None:
    """Register the problem+json handlers for the table, the framework and the rest."""
    for exc_class in PROBLEMS:
        app.add_exception_handler(exc_class, _domain_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    for db_error in (
        StaleDataError,
        sa_exc.IntegrityError,
        sa_exc.DataError,
        sa_exc.OperationalError,
        sa_exc.TimeoutError,
    ):
        app.add_exception_handler(db_error, _database_error)
    # Database errors are answered here, not re-raised by the server-error middleware.
    app.add_exception_handler(sa_exc.DBAPIError, _unexpected_error)
    app.add_exception_handler(Exception, _unexpected_error)
