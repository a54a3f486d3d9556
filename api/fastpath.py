"""A route's dependencies solved by a plan built once, not by FastAPI's solver per request.

FastAPI's `solve_dependencies` works out again on every request what never changes for a
route: each dependency's cache key, whether it is a generator, which of its parameters come
from the path, query or headers, and, for every node, four parameter lookups. Over HTTP
that was a fifth of a stock write's time on the event loop (BENCHMARKS.md, "The HTTP
path", rounds 4 and 5). `compile_handler` does that work once per route and returns a
handler that walks the same dependencies in the same order with the same caching, runs the
endpoint, and answers as FastAPI's own handler would: the same body parsing and its errors,
the same validation errors gathered from every node, the same response (status, headers
the dependencies set, JSON written by the route's response field).

It covers what the app's stock writes use: async functions and async generators as
dependencies, `Request` and `Response` parameters, path, query and header parameters, a
JSON body. A route with anything else (sync or cookie dependencies, security scopes,
uncached dependencies, forms, streams, a response class of its own) gets None and keeps
FastAPI's handler; so does a request while the app has dependency overrides or FastAPI's
telemetry is on.
"""

from __future__ import annotations

import email.message
import functools
import json
import sys
from collections.abc import Awaitable, Callable, Coroutine
from contextlib import AsyncExitStack
from dataclasses import dataclass
from typing import Any

import annotated_types
from fastapi import params
from fastapi.exceptions import RequestValidationError, ResponseValidationError
from fastapi.utils import is_body_allowed_for_status_code
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response

# FastAPI's private helpers the plan reuses (its own validation, body limits, cleanup).
# Another release may move them: then every route keeps FastAPI's handler, as it did
# before the plan (slower, same answers); tests/api/test_planned_writes.py notices.
try:
    from fastapi._body_limit import get_body_limit_error
    from fastapi._compat import ModelField, Undefined
    from fastapi._compat.shared import field_annotation_is_sequence
    from fastapi.dependencies.models import (
        Dependant,
        _get_cache_key,
        _is_async_gen_callable,
        _is_coroutine_callable,
        _is_gen_callable,
    )
    from fastapi.dependencies.utils import (
        _get_param_aliases,
        _get_param_model,
        _is_json_field,
        _solve_generator,
        _validate_value_with_model_field,
        request_body_to_args,
        request_params_to_args,
    )
    from fastapi.exceptions import EndpointContext
    from fastapi.routing import _effective_route_context_var, _extract_endpoint_context
    from fastapi.telemetry._api import get_telemetry_data
    from fastapi.types import DependencyCacheKey
    from starlette.middleware.body_limit import MAX_BODY_SIZE_SCOPE_KEY
except ImportError:  # pragma: no cover - depends on the installed FastAPI
    AVAILABLE = False
else:
    AVAILABLE = True

Handler = Callable[[Request], Coroutine[Any, Any, Response]]
Enter = Callable[[Request, AsyncExitStack], Awaitable[Any]]
_DIRECT: dict[Callable[..., Any], Enter] = {}


def enter_directly(dependency: Callable[..., Any], enter: Enter) -> None:
    """Let a plan enter `dependency`, an async generator whose one parameter is the
    request, by `enter(request, stack)`: it opens what the generator would, registers its
    cleanup on the dependency's exit stack and returns the value, or None to have the
    generator run as FastAPI runs it (api.deps.enter_session)."""
    _DIRECT[dependency] = enter


PREPARED = "spares.prepared_ok"  # scope key: the planned handler takes a `Prepared` answer


class Prepared:
    """An endpoint's answer already validated and written as JSON by its own worker-thread
    call (api.idempotency): the handler sends these bytes as they are."""

    __slots__ = ("json", "value")

    def __init__(self, value: Any, json_bytes: bytes) -> None:
        self.value = value
        self.json = json_bytes


@dataclass(frozen=True, slots=True)
class _Node:
    """One reference to a dependency, as `solve_dependencies` meets it."""

    dependant: Dependant
    call: Callable[..., Awaitable[Any]]
    name: str | None
    key: DependencyCacheKey
    generator: bool
    subs: tuple[_Node, ...]
    params: tuple[tuple[str, _Reader], ...]  # ("path" | "query" | "header", its reader)
    request_name: str | None
    response_name: str | None
    direct: Enter | None = None  # `enter_directly`: the generator entered without wrappers


def _plain(d: Dependant) -> bool:
    """True when the plan covers this dependant's own parameters."""
    return not (
        d.cookie_params
        or d.websocket_param_name
        or d.http_connection_param_name
        or d.background_tasks_param_name
        or d.security_scopes_param_name
        or d.own_oauth_scopes
        or d.parent_oauth_scopes
        or d.concurrency is not None
        or not d.use_cache
    )


def _node(d: Dependant) -> _Node | None:
    call = d.call
    if call is None or not _plain(d) or d.body_params:
        return None
    generator = _is_async_gen_callable(call)
    if not generator and (_is_gen_callable(call) or not _is_coroutine_callable(call)):
        return None
    subs = [_node(s) for s in d.dependencies]
    if any(s is None for s in subs):
        return None
    params = _params(d)
    direct = _DIRECT.get(call) if generator and not subs and not params else None
    return _Node(
        dependant=d,
        call=call,
        name=d.name,
        key=_get_cache_key(dependant=d),
        generator=generator,
        subs=tuple(s for s in subs if s is not None),
        params=params,
        request_name=d.request_param_name,
        response_name=d.response_param_name,
        direct=direct if d.response_param_name is None else None,
    )


_Reader = Callable[[Any], tuple[dict[str, Any], list[Any]]]


def _params(d: Dependant) -> tuple[tuple[str, _Reader], ...]:
    """Per source of a node's parameters, how to read them (`request_params_to_args`)."""
    found = (("path", d.path_params), ("query", d.query_params), ("header", d.header_params))
    return tuple((where, _reader(fields)) for where, fields in found if fields)


def _reader(fields: list[ModelField]) -> _Reader:
    """`request_params_to_args` for these fields, with what it works out per request about
    each field (its key, whether it is a list, a model or JSON) worked out once. Fields
    with several aliases, models, JSON or lists are read by FastAPI's own function."""
    simple = []
    for field in fields:
        aliases = _get_param_aliases(field)
        if (
            len(aliases) != 1
            or _get_param_model(field) is not None
            or _is_json_field(field)
            or field_annotation_is_sequence(field.field_info.annotation)
        ):
            return functools.partial(request_params_to_args, fields)
        alias = aliases[0][1]
        where = field.field_info.in_.value  # type: ignore[attr-defined]
        simple.append((field, alias, (where, alias), _plain_text(field)))

    def read(source: Any) -> tuple[dict[str, Any], list[Any]]:
        values: dict[str, Any] = {}
        errors: list[Any] = []
        for field, alias, loc, text in simple:
            value = source.get(alias, None)
            if text is not None:  # an optional text: absent, or short enough, is as given
                if value is None:
                    values[field.name] = None
                    continue
                if type(value) is str and len(value) <= text:
                    values[field.name] = value
                    continue
            value, bad = _validate_value_with_model_field(
                field=field, value=Undefined if value is None else value, values=values, loc=loc
            )
            if bad:
                errors.extend(bad)
            else:
                values[field.name] = value
        return values, errors

    return read


def _plain_text(field: ModelField) -> int | None:
    """For an optional `str` parameter defaulting to None, with at most a `max_length`:
    that length (sys.maxsize without one), else None. Such a value needs no validation:
    absent it is None (FastAPI: a deep copy of the default, unvalidated), and a `str` no
    longer than the bound is what pydantic gives back, the same object."""
    info = field.field_info
    if info.annotation != (str | None) or info.is_required() or field.default is not None:
        return None
    if info.validate_default:
        return None
    bound = sys.maxsize
    for item in info.metadata:
        if type(item) is not annotated_types.MaxLen:
            return None
        bound = min(bound, item.max_length)
    return bound


def _sources(request: Request, where: str) -> Any:
    if where == "path":
        return request.path_params
    if where == "query":
        return request.query_params
    return request.headers


class _Solving:
    """One request's walk: the cache of solved dependencies and the sub-response."""

    __slots__ = ("cache", "request", "response")

    def __init__(self, request: Request) -> None:
        self.request = request
        self.cache: dict[DependencyCacheKey, Any] = {}
        response = Response()
        del response.headers["content-length"]
        response.status_code = None  # type: ignore[assignment]
        self.response = response

    async def flat(
        self, order: tuple[_Node, ...], top: _Node
    ) -> tuple[dict[str, Any], list[Any]] | None:
        """`values(top)` walked in the order worked out once (`_order`), or None when a
        parameter is invalid: then nothing was called, and `values` gathers the errors
        as FastAPI does. Reading the path, query and headers first changes nothing: they
        are read-only, and every dependency is still called in FastAPI's order."""
        request = self.request
        read: list[dict[str, Any]] = []
        for node in order:
            found: dict[str, Any] = {}
            for where, reader in node.params:
                got, bad = reader(_sources(request, where))
                if bad:
                    return None
                found.update(got)
            read.append(found)
        cache = self.cache
        for node, found in zip(order, read, strict=True):
            values = {sub.name: cache[sub.key] for sub in node.subs if sub.name is not None}
            values.update(found)
            if node.request_name:
                values[node.request_name] = request
            if node.response_name:
                values[node.response_name] = self.response
            if node is top:
                return values, []
            cache[node.key] = await self._solve(node, values)
        raise AssertionError("the order ends with its top node")  # pragma: no cover

    async def _solve(self, sub: _Node, sub_values: dict[str, Any]) -> Any:
        """Call one dependency with its arguments, or enter its generator, as FastAPI."""
        if not sub.generator:
            return await sub.call(**sub_values)
        stack = self.request.scope["fastapi_function_astack"]
        if sub.dependant.scope != "function":
            stack = self.request.scope["fastapi_inner_astack"]
        solved = None
        if sub.direct is not None:
            solved = await sub.direct(self.request, stack)
        if solved is None:
            solved = await _solve_generator(
                request=self.request, dependant=sub.dependant, stack=stack, sub_values=sub_values
            )
        return solved

    async def values(self, node: _Node) -> tuple[dict[str, Any], list[Any]]:
        """The arguments of `node`'s call, or the errors that keep it from being called
        (as `solve_dependencies`: every sub-dependency is tried, errors are gathered)."""
        values: dict[str, Any] = {}
        errors: list[Any] = []
        cache = self.cache
        for sub in node.subs:
            if sub.key in cache:  # solved before: its own sub-dependencies were too
                solved = cache[sub.key]
            else:
                sub_values, sub_errors = await self.values(sub)
                if sub_errors:
                    errors.extend(sub_errors)
                    continue
                solved = cache[sub.key] = await self._solve(sub, sub_values)
            if sub.name is not None:
                values[sub.name] = solved
        for where, read in node.params:
            found, bad = read(_sources(self.request, where))
            values.update(found)
            errors += bad
        if node.request_name:
            values[node.request_name] = self.request
        if node.response_name:
            values[node.response_name] = self.response
        return values, errors


def _order(top: _Node) -> tuple[_Node, ...]:
    """The nodes as `_Solving.values(top)` first meets them when nothing fails: each
    dependency after its own, once per cache key, and `top` last."""
    order: list[_Node] = []
    seen: set[DependencyCacheKey] = set()

    def visit(node: _Node) -> None:
        for sub in node.subs:
            if sub.key not in seen:
                visit(sub)
                seen.add(sub.key)
                order.append(sub)

    visit(top)
    return (*order, top)


def planned(route: Any, fallback: Handler) -> Handler:
    """`route`'s planned handler, else `fallback` (FastAPI's own, from `get_route_handler`).

    Called where `APIRoute.get_route_handler` is: for an included router FastAPI builds the
    handler of each inclusion with that inclusion's route (its prefix's dependencies) in a
    context variable, and the plan is made from that route, as FastAPI's handler is.
    """
    if not AVAILABLE:
        return fallback
    effective = _effective_route_context_var.get()
    if effective is not None and effective.original_route is route:
        route = effective
    return compile_handler(route, fallback) or fallback


def compile_handler(route: Any, fallback: Handler) -> Handler | None:
    """The route's handler with its dependencies planned once; None when the plan does not
    cover the route. `route` is the `APIRoute` or FastAPI's effective context of an
    included one (what FastAPI's own `get_request_handler` is given); `fallback` is
    FastAPI's handler, used for a request the plan must not answer (overrides, telemetry).
    """
    dependant: Dependant = route.dependant
    body_field: ModelField | None = route.body_field
    response_field: ModelField | None = route.response_field
    if _simple_response(route) is False or not _plain(dependant):
        return None
    if body_field is not None and isinstance(body_field.field_info, params.Form):
        return None
    if route.is_json_stream or route.stream_item_field is not None:
        return None
    call = dependant.call
    if call is None or not _is_coroutine_callable(call) or _is_async_gen_callable(call):
        return None
    subs = [_node(s) for s in dependant.dependencies]
    if any(s is None for s in subs):
        return None
    top = _Node(
        dependant=dependant,
        call=call,
        name=None,
        key=(call, (), ""),
        generator=False,
        subs=tuple(s for s in subs if s is not None),
        params=_params(dependant),
        request_name=dependant.request_param_name,
        response_name=dependant.response_param_name,
    )
    order = _order(top)
    body_params = dependant.body_params
    embed = route._embed_body_fields
    strict = route.strict_content_type
    strict = getattr(strict, "value", strict)
    overrides = route.dependency_overrides_provider
    status_code: int | None = route.status_code
    dump = dict(
        include=route.response_model_include,
        exclude=route.response_model_exclude,
        by_alias=route.response_model_by_alias,
        exclude_unset=route.response_model_exclude_unset,
        exclude_defaults=route.response_model_exclude_defaults,
        exclude_none=route.response_model_exclude_none,
    )

    def context(request: Request) -> EndpointContext:
        found = _extract_endpoint_context(call)
        if dependant.path:
            mount_path = request.scope.get("root_path", "").rstrip("/")
            found["path"] = f"{request.method} {mount_path}{dependant.path}"
        return found

    async def handle(request: Request) -> Response:
        if get_telemetry_data() is not None or (
            overrides is not None and getattr(overrides, "dependency_overrides", None)
        ):
            return await fallback(request)
        request.scope[PREPARED] = True
        body = await _read_body(request, body_field, strict, context) if body_field else Undefined
        solving = _Solving(request)
        solved = await solving.flat(order, top)
        values, errors = solved if solved is not None else await solving.values(top)
        if body_params:
            found, bad = await request_body_to_args(
                body_fields=body_params,
                received_body=body,
                embed_body_fields=embed,
            )
            values.update(found)
            errors.extend(bad)
        if errors:
            raise RequestValidationError(
                errors, body=None if body is Undefined else body, endpoint_ctx=context(request)
            )
        raw = await call(**values)
        if isinstance(raw, Response):
            return raw
        sub = solving.response
        code = status_code or sub.status_code
        if sub.status_code:
            code = sub.status_code
        if isinstance(raw, Prepared):
            content = raw.json
        elif response_field is not None:
            checked, bad = response_field.validate(raw, {}, loc=("response",))
            if bad:
                raise ResponseValidationError(errors=bad, body=raw, endpoint_ctx=context(request))
            content = response_field.serialize_json(checked, **dump)
        else:  # pragma: no cover (no response model: FastAPI's handler, see _simple_response)
            raise AssertionError("planned routes declare a response model")
        kwargs: dict[str, Any] = {} if code is None else {"status_code": code}
        response = Response(content=content, media_type="application/json", **kwargs)
        if not is_body_allowed_for_status_code(response.status_code):
            response.body = b""
        response.headers.raw.extend(sub.headers.raw)
        return response

    return handle


def _simple_response(route: Any) -> bool:
    """True when FastAPI would write the answer through the response field's `dump_json`
    (a response model and the default response class), the one case the plan writes."""
    from fastapi.datastructures import DefaultPlaceholder

    return route.response_field is not None and isinstance(route.response_class, DefaultPlaceholder)


@functools.lru_cache(maxsize=64)
def _is_json(content_type: str) -> bool:
    """FastAPI's test of a body's content type, parsed once per distinct header value
    (clients send one or two): `application/json` or `application/...+json`."""
    message = email.message.Message()
    message["content-type"] = content_type
    if message.get_content_maintype() == "application":
        subtype = message.get_content_subtype()
        return subtype == "json" or subtype.endswith("+json")
    return False


async def _read_body(
    request: Request,
    field: ModelField,
    strict: bool,
    context: Callable[[Request], EndpointContext],
) -> Any:
    """The request's body as FastAPI's handler reads it: JSON for a JSON content type (or,
    when not strict, none), else the bytes; the same 422 for invalid JSON and 400 else."""
    try:
        body_bytes = await request.body()
        if not body_bytes:
            return Undefined
        content_type = request.headers.get("content-type")
        if not content_type:
            return await request.json() if not strict else body_bytes
        if _is_json(content_type):
            return await request.json()
        return body_bytes
    except json.JSONDecodeError as e:
        raise RequestValidationError(
            [
                {
                    "type": "json_invalid",
                    "loc": ("body", e.pos),
                    "msg": "JSON decode error",
                    "input": {},
                    "ctx": {"error": e.msg},
                }
            ],
            body=e.doc,
            endpoint_ctx=context(request),
        ) from e
    except HTTPException:
        raise
    except Exception as e:
        if MAX_BODY_SIZE_SCOPE_KEY in request.scope and (error := get_body_limit_error(e)):
            raise error from e
        raise HTTPException(status_code=400, detail="There was an error parsing the body") from e
