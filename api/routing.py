"""Route matching that skips, by path, the routers a request cannot be for.

FastAPI (0.137 on) keeps each included router as one entry of the app's routes and, per
request, asks the entries in order whether they match: each walks its routes' versions
and regexes. A request for `/v1/reservations` asked twenty routers before its own (about a
tenth of the server's time, BENCHMARKS.md "The HTTP path"). Every route of an entry starts
with its text before the first parameter, and a route without parameters matches its
own path only, so a path that is none of those cannot match any of them: the entry answers
"no" at once, before its own matching. Matching itself is unchanged. (A common prefix per
entry was not enough: the health, docs and web-page routers share only "/", and six v1
routers only "/v1/", so a reservation still went through eight of FastAPI's matchings.)
"""

from __future__ import annotations

from collections.abc import Callable

from fastapi import FastAPI
from fastapi.routing import iter_route_contexts
from starlette.routing import Match
from starlette.types import Scope

_Matches = Callable[[Scope], tuple[Match, Scope]]


def _route_path(scope: Scope) -> str:
    """The path the routes match (as Starlette's: without the app's root path)."""
    path: str = scope["path"]
    root: str = scope.get("root_path", "")
    return path[len(root) :] if root and path.startswith(root) else path


def _guarded(matches: _Matches, exact: frozenset[str], prefixes: tuple[str, ...]) -> _Matches:
    def prefixed(scope: Scope) -> tuple[Match, Scope]:
        path = _route_path(scope)
        if path not in exact and not path.startswith(prefixes):
            return Match.NONE, {}
        return matches(scope)

    return prefixed


def skip_by_prefix(app: FastAPI) -> None:
    """Give every entry of the app's routes a quick refusal of paths none of its routes
    can match: a route without parameters matches its own path only, one with parameters
    only paths that begin with its text before the first parameter."""
    for entry in app.router.routes:
        paths = [str(c.path) for c in iter_route_contexts([entry])]
        if not paths:
            continue
        exact = frozenset(p for p in paths if "{" not in p)
        # A parameter's braces begin no literal text: cut each path before its first "{".
        prefixes = tuple(sorted({p.split("{", 1)[0] for p in paths if "{" in p}))
        if "/" in prefixes or "" in prefixes:
            continue  # a parameter right after the root: any path may match
        entry.matches = _guarded(entry.matches, exact, prefixes)  # type: ignore[method-assign,assignment]
