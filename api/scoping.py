"""Users' write scopes enforced in one place: warehouse staff at their depots, dispatchers in
their regions (`db.identity.Scope`, set with `PATCH /v1/users/{id}/scope` or `spares user
scope`). Writes elsewhere are 403 problem+json (`out-of-scope`); reads are not limited.

`SCOPED` is a router dependency: it reads what a write refers to from the path
(`ticket_id`, `assignment_id`, `plan_id`, `reservation_id`, `shipment_id`, `asset_id`) and
from the JSON body's reference fields, and `dispatch.scoping` resolves those to depots and
regions. A dead-on-arrival swap changes an asset: it lies in its site's region, and staff
scoped to depots may swap only in the regions of their depots.
An unscoped user (admins always) costs no query.
"""

from __future__ import annotations

from typing import Any

from fastapi import Depends, Request
from fastapi.concurrency import run_in_threadpool
from sqlalchemy.orm import Session

from api.deps import CurrentUser, SessionDep, user_scope
from api.schemas.common import MAX_ID
from db.errors import OutOfScope
from db.identity import Scope
from dispatch.scoping import (
    WriteTargets,
    asset_regions,
    depot_regions,
    touched_depots,
    touched_regions,
)

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})

# Where each reference goes: path parameters, then body fields (a body's shipment_id is a
# receipt, arriving; a path's is a shipment leaving).
_PATH = {
    "reservation_id": "reservations",
    "shipment_id": "shipments_out",
    "ticket_id": "tickets",
    "assignment_id": "assignments",
    "plan_id": "plans",
    "asset_id": "assets",
}
_BODY = {
    "depot_id": "depots",
    "from_depot_id": "depots",
    "order_id": "orders",
    "shipment_id": "shipments_in",
    "site_id": "sites",
    "ticket_id": "tickets",
    "ticket_ids": "tickets",
    "region_id": "regions",
}


async def _write_targets(request: Request) -> WriteTargets:
    """What a write request refers to; nothing for reads. A body FastAPI will refuse is skipped."""
    targets = WriteTargets()
    if request.method in SAFE_METHODS:
        return targets
    for name, kind in _PATH.items():
        _add(targets, kind, request.path_params.get(name))
    if request.headers.get("content-type", "").startswith("application/json"):
        try:
            body: Any = await request.json()
        except ValueError:
            body = None
        if isinstance(body, dict):
            for name, kind in _BODY.items():
                _add(targets, kind, body.get(name))
    return targets


def _add(targets: WriteTargets, kind: str, value: object) -> None:
    values = value if isinstance(value, list) else [value]
    ids: set[int] = getattr(targets, kind)
    for v in values:
        digits = isinstance(v, int | str) and not isinstance(v, bool) and str(v).isdigit()
        if digits and 1 <= int(str(v)) <= MAX_ID:  # beyond the column's range no row exists
            ids.add(int(str(v)))


async def check_scope(request: Request, user: CurrentUser, session: SessionDep) -> None:
    """403 `OutOfScope` when a scoped user's write touches a depot or region outside it.

    An unscoped user (most) costs nothing; a scoped one's targets are resolved in a worker.
    Reads are not limited. The user's scope and the write's targets are plain calls, not
    dependencies: FastAPI would solve them on every request, reads included.
    """
    if request.method in SAFE_METHODS:
        return
    scope = await user_scope(request, user, session)
    if scope.depot_ids is not None or scope.region_ids is not None:
        targets = await _write_targets(request)
        await run_in_threadpool(_check, scope, session, targets)


def _check(scope: Scope, session: Session, targets: WriteTargets) -> None:
    if scope.depot_ids is not None:
        for depot_id in sorted(touched_depots(session, targets)):
            scope.require_depot(depot_id)
        if targets.assets:  # a unit swapped at a site: staff of a depot in its region
            allowed = frozenset(depot_regions(session, scope.depot_ids))
            elsewhere = sorted(asset_regions(session, targets) - allowed)
            if elsewhere:
                raise OutOfScope("region", elsewhere[0], allowed)
    if scope.region_ids is not None:
        for region_id in sorted(touched_regions(session, targets)):
            scope.require_region(region_id)


SCOPED = Depends(check_scope)
