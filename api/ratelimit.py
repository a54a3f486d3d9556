"""Rate limits per API key and per client address, answered with 429 problem+json.

Built on `limits` (the library under slowapi) rather than slowapi itself: slowapi keys a
request by one function and needs a decorator and a `request` argument on every route,
while here every request is checked against two keys (the key it sends and the address it
comes from) before anything else runs, the database included. The key is hashed before it
is used as a counter name, so no storage (memory or shared) ever holds it in clear.
Probes are not limited: an orchestrator must always learn whether the service lives.
"""

from __future__ import annotations

import hashlib
import math
import time
from collections.abc import Sequence

import anyio.to_thread
from limits import RateLimitItem, parse_many
from limits.storage import MemoryStorage, storage_from_string
from limits.strategies import SlidingWindowCounterRateLimiter
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import Scope

from api.errors import Problem, problem_response
from api.settings import Settings

UNLIMITED_PATHS = frozenset({"/healthz", "/readyz"})
TOO_MANY = Problem(429, "urn:spares:problem:rate-limited", "Too many requests")


def _items(limit: str | None) -> Sequence[RateLimitItem]:
    return parse_many(limit) if limit else ()


class RateLimits:
    """Counts each request against its key's and its address's limits (api.operations asks
    `refusal` before anything else runs)."""

    def __init__(self, settings: Settings) -> None:
        self.per_key = _items(settings.rate_limit_per_key)
        self.per_address = _items(settings.rate_limit_per_address)
        storage = storage_from_string(settings.rate_limit_storage)
        # A remote storage is a network round trip: never on the event loop.
        self.inline = isinstance(storage, MemoryStorage)
        self.limiter = SlidingWindowCounterRateLimiter(storage)

    async def refusal(self, scope: Scope, api_key: bytes | None) -> Response | None:
        """Count the request; the 429 to answer when it exceeds a limit, else None.
        `api_key` is the request's `X-API-Key` (None without one or when empty)."""
        if scope["path"] in UNLIMITED_PATHS:
            return None
        checks: list[tuple[RateLimitItem, str, str]] = []
        if api_key is not None:
            digest = hashlib.sha256(api_key).hexdigest()
            checks += [(item, "key", digest) for item in self.per_key]
        address = (scope.get("client") or ("unknown",))[0]
        checks += [(item, "address", address) for item in self.per_address]
        if self.inline:
            refused = self._hit(checks)
        else:
            refused = await anyio.to_thread.run_sync(self._hit, checks)
        if refused is None:
            return None
        item, what, retry_after = refused
        detail = (
            f"more than {item.amount} requests per {item.multiples} {item.GRANULARITY.name}"
            f" from this {'API key' if what == 'key' else 'address'}; retry in {retry_after} s"
        )
        return problem_response(
            TOO_MANY,
            Request(scope),
            detail,
            headers={"Retry-After": str(retry_after)},
            limit=str(item),
            limited_by=what,
        )

    def _hit(
        self, checks: list[tuple[RateLimitItem, str, str]]
    ) -> tuple[RateLimitItem, str, int] | None:
        """Count the request against each limit; the first one it exceeds, with its wait."""
        for item, what, ident in checks:
            if not self.limiter.hit(item, what, ident):
                stats = self.limiter.get_window_stats(item, what, ident)
                return item, what, max(1, math.ceil(stats.reset_time - time.time()))
        return None
