"""The ticket lifecycle as data: which status may follow which, and who may take the step.

new -> responded -> assigned -> en route -> on site -> fixed -> closed -> callback done,
plus resolved remotely (then closed) and cancelled (with a reason) from any status before
the engineer is on site. "Assigned" is reachable only through dispatch's assignment service,
so the plain transition API refuses it. Dispatch may also hand an assigned ticket back
(to responded: nobody is on it) at any point before the fix, e.g. when its engineer drops
out on the way or on site; the ticket is then assigned again.
"""

from __future__ import annotations

from dispatch.models import TicketStatus as S

TRANSITIONS: dict[S, frozenset[S]] = {
    S.NEW: frozenset({S.RESPONDED, S.RESOLVED_REMOTELY, S.CANCELLED}),
    S.RESPONDED: frozenset({S.ASSIGNED, S.RESOLVED_REMOTELY, S.CANCELLED}),
    # An assignment may be withdrawn (back to responded) by dispatch, e.g. on re-planning.
    S.ASSIGNED: frozenset({S.EN_ROUTE, S.RESPONDED, S.CANCELLED}),
    S.EN_ROUTE: frozenset({S.ON_SITE, S.RESPONDED, S.CANCELLED}),
    S.ON_SITE: frozenset({S.FIXED, S.RESPONDED}),
    S.FIXED: frozenset({S.CLOSED}),
    S.RESOLVED_REMOTELY: frozenset({S.CLOSED}),
    S.CLOSED: frozenset({S.CALLBACK_DONE}),
    S.CALLBACK_DONE: frozenset(),
    S.CANCELLED: frozenset(),
}

# Steps only the assignment service takes (it changes schedules and reservations with them).
DISPATCH_ONLY: frozenset[tuple[S, S]] = frozenset(
    {
        (S.RESPONDED, S.ASSIGNED),
        (S.ASSIGNED, S.RESPONDED),
        (S.EN_ROUTE, S.RESPONDED),
        (S.ON_SITE, S.RESPONDED),
    }
)

# What an engineer may report on his own ticket.
ENGINEER_STEPS: frozenset[S] = frozenset({S.EN_ROUTE, S.ON_SITE, S.FIXED})

# Statuses in which a ticket still waits for service (its promise clocks matter).
OPEN_STATUSES: frozenset[S] = frozenset({S.NEW, S.RESPONDED, S.ASSIGNED, S.EN_ROUTE, S.ON_SITE})


def allowed_next(status: S, *, via_dispatch: bool = False) -> frozenset[S]:
    """The statuses a ticket in `status` may move to, for a caller that is (not) dispatch."""
    targets = TRANSITIONS[status]
    if via_dispatch:
        return targets
    return frozenset(t for t in targets if (status, t) not in DISPATCH_ONLY)


def can_transition(current: S, target: S, *, via_dispatch: bool = False) -> bool:
    """True when `current -> target` is a legal step for this caller."""
    return target in allowed_next(current, via_dispatch=via_dispatch)
