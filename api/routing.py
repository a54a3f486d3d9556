"""Route matching that skips, by path prefix, the routers a request cannot be for.

FastAPI (0.137 on) keeps each included router as one entry of the app's routes and, per
request, asks the entries in order whether they match: each walks its routes' versions
and regexes. A request for `/v1/reservations` asked twenty routers before its own (about a
tenth of the server's time, BENCHMARKS.md "The HTTP path"). Every route of an entry starts
with the entry's common path prefix, so a path without it cannot match any of them: the
entry answers "no" at once, before its own matching. Matching itself is unchanged.
"""

from __future__ import annotations

import os
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


def _guarded(matches: _Matches, prefix: str) -> _Matches:
    def prefixed(scope: Scope) -> tuple[Match, Scope]:
        if not _route_path(scope).startswith(prefix):
            return Match.NONE, {}
        return matches(scope)

    return prefixed


def skip_by_prefix(app: FastAPI) -> None:
    """Give every entry of the app's routes whose paths share a prefix a quick refusal."""
    for entry in app.router.routes:
        paths = [str(c.path) for c in iter_route_contexts([entry])]
        prefix = os.path.commonprefix(paths) if paths else ""
        # A parameter's braces begin no literal text: cut the prefix before any "{".
        prefix = prefix.split("{", 1)[0]
        if prefix and prefix != "/":
            entry.matches = _guarded(entry.matches, prefix)  # type: ignore[method-assign,assignment]
