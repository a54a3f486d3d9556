"""Authentication once per request, before routing and before the body is read.

`authenticate`, a step of the operational ASGI layer (api.operations), hashes the request's
`X-API-Key` and puts the user the app's `KeyCache` (api.keycache) remembers for it in the
request's scope, with no query and no dependency. A key the cache does not know is looked up
by `resolve_user` (the `current_user` dependency, or the 422 path's access check) in a
worker thread, with a session of its own, and remembered. Routes read the user through
`api.deps.CurrentUser`, whose dependency only reads the scope on a hit: FastAPI solving the
session and the clock for every request's authentication was a large part of the HTTP path's
time (BENCHMARKS.md, "The HTTP path"). Refusing (401, 403) stays with the route's role
guard, which knows the route.
"""

from __future__ import annotations

from collections.abc import Callable

import anyio
from sqlalchemy.orm import Session, sessionmaker
from starlette.types import Scope

from api.keycache import KeyCache
from db.identity import User, find_active_user_by_hash, hash_api_key

API_KEY_HEADER = "X-API-Key"
API_KEY_RAW = API_KEY_HEADER.lower().encode()  # as ASGI headers name it
USER = "spares.user"  # scope key: the key's user (a shared copy), once known
KEY_HASH = "spares.key_hash"  # scope key: the hash of the request's key, None without one
ON_USER = "spares.on_user"  # scope key: callbacks run when the user becomes known


def authenticate(scope: Scope, api_key: bytes | None) -> None:
    """Note the hash of the request's key (`api_key`, its first `X-API-Key` header) in its
    scope, and the key's user when the app's key cache knows it; api.operations calls this
    for every HTTP request, before routing and before the body is read."""
    key_hash = hash_api_key(api_key.decode("latin-1")) if api_key else None
    scope[KEY_HASH] = key_hash
    if key_hash is not None:
        cache: KeyCache = scope["app"].state.key_cache
        user = cache.get(key_hash)
        if user is not None:
            scope[USER] = user


def known_user(scope: Scope) -> User | None:
    """The request's user when already known (cache hit or resolved), else None."""
    user: User | None = scope.get(USER)
    return user


def key_hash_of(scope: Scope) -> str | None:
    """The hash of the request's key (None without one), hashed here when no layer did."""
    if KEY_HASH not in scope:
        headers = scope.get("headers", ())
        key = next((v.decode("latin-1") for n, v in headers if n == API_KEY_RAW), None)
        scope[KEY_HASH] = hash_api_key(key) if key else None
    found: str | None = scope[KEY_HASH]
    return found


def when_user_known(scope: Scope, callback: Callable[[User], None]) -> None:
    """Run `callback` with the request's user now if known, else once it is resolved."""
    user = known_user(scope)
    if user is not None:
        callback(user)
    else:
        scope.setdefault(ON_USER, []).append(callback)


def _lookup(factory: sessionmaker[Session], key_hash: str) -> User | None:
    with factory() as session:
        return find_active_user_by_hash(session=session, key_hash=key_hash)


async def resolve_user(scope: Scope) -> User | None:
    """The active user holding the request's key; None without a key or for an unknown one.

    A cache miss queries in a worker thread with a session of its own (the request's
    session may not exist yet) and remembers the answer unless the cache was emptied
    meanwhile (a revoked key is never put back by a request that raced the revocation).
    """
    user = known_user(scope)
    if user is not None:
        return user
    key_hash = key_hash_of(scope)
    if key_hash is None:
        return None
    state = scope["app"].state
    cache: KeyCache = state.key_cache
    user = cache.get(key_hash)
    if user is None:
        generation = cache.generation
        found = await anyio.to_thread.run_sync(_lookup, state.sessionmaker, key_hash)
        if found is None:
            return None
        user = cache.put(key_hash, found, generation)
    scope[USER] = user
    for callback in scope.pop(ON_USER, ()):
        callback(user)
    return user
