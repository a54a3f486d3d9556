"""What no dispatch could have kept: per ticket and clock, judged at the ticket's arrival.

For each promise clock (respond, depart, arrival, fix) a ticket is unkeepable when, even
with every qualified engineer free at his home base at the moment it arrives:

- ``geography``: none could reach the site by the deadline leaving at once (shifts ignored;
  for the fix clock, plus the duration dispatch plans the job with, learnt from the log by
  `dispatch.durations` via `RunContext.planning_s`, so "out of reach" and the plan agree).
  Nobody qualified at all counts here;
- ``shift``: none could do it departing within his working time (his current or next window),
  nor an on-call engineer woken at once for it (the severities his rules allow, on call at
  the ticket's arrival, departing after his call-out lead, as `optimizer.recommend` wakes);
- ``labour``: some could, but only by running the visit past his shift end by more than his
  labour rules allow (`dispatch.labour`: the per-visit allowance, no overtime used yet;
  none when a visit may not start into overtime), the rules the optimizer plans with.

The swap clock (a part in stock within reach: fitted within 2 h of the report) is judged the
same way on the whole trip: a qualified engineer drives from home to a depot holding every
part, picks it, drives on to the site (the van's own engineer: from where he stands) and
does the planned service, all by the deadline (`swap_unkeepable`). The swap promise's
eligibility test ("a depot within 2 h of the site by road") ignores the pickup detour and
the service; this bound does not.

Otherwise the clock was keepable, and a miss is lost to decisions. The travel is the run's
own model at the arrival's hour (rush hours included); parts are ignored (a part that must
be shipped can only make a clock harder), so "keepable" is optimistic and the bounds are
lower bounds of what is out of reach.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import timedelta

import numpy as np
import numpy.typing as npt

from dispatch.labour import overtime_allowance_s
from optimizer import Location, TravelTimes, coordinates, travel_at
from scenarios.demand import DemandTicket
from scenarios.model import SimEngineer, SimSite, SimWorld
from scenarios.policies import Deadlines

GEOGRAPHY, SHIFT, LABOUR = "geography", "shift", "labour"
REASONS = (GEOGRAPHY, SHIFT, LABOUR)
CLOCKS = ("respond", "depart", "arrival", "fix", "swap")
_NEVER = 1 << 62  # a padded window that never opens

IntArray = npt.NDArray[np.int64]


@dataclass(frozen=True)
class Staff:
    """The engineers as arrays: home coordinates, skill levels by line, working windows."""

    homes: npt.NDArray[np.float64]
    levels: dict[str, IntArray]
    starts: IntArray  # (engineers, windows), padded with _NEVER
    ends: IntArray
    allowance_s: IntArray  # how long a visit may run past the shift end
    # on-call windows (padded with _NEVER), call-out lead and the least severe rank woken
    on_call_starts: IntArray | None = None
    on_call_ends: IntArray | None = None
    callout_lead_s: IntArray | None = None
    callout_max_rank: IntArray | None = None
    rows: dict[int, int] = field(default_factory=dict)  # engineer id -> his row

    @classmethod
    def of(
        cls,
        world: SimWorld,
        windows: dict[int, tuple[tuple[int, int], ...]],
        on_call: dict[int, tuple[tuple[int, int], ...]] | None = None,
    ) -> Staff:
        """From the world's engineers and their absolute working (and on-call) windows
        (`LiveState`)."""
        engineers = world.engineers
        starts, ends = _padded(engineers, windows)
        lines = {line for e in engineers for line in e.skills}
        levels = {
            line: np.array([e.skills.get(line, 0) for e in engineers], dtype=np.int64)
            for line in lines
        }
        homes = coordinates([e.home for e in engineers]) if engineers else np.empty((0, 2))
        allowance = np.array(
            [overtime_allowance_s(e.labour) if e.labour.start_into_overtime else 0
             for e in engineers],
            dtype=np.int64,
        )  # fmt: skip
        rows = {e.id: i for i, e in enumerate(engineers)}
        if not on_call or not any(on_call.values()):
            return cls(homes, levels, starts, ends, allowance, rows=rows)
        call_starts, call_ends = _padded(engineers, on_call)
        lead = np.array([e.labour.callout_lead_min * 60 for e in engineers], dtype=np.int64)
        rank = np.array([e.labour.callout_max_rank for e in engineers], dtype=np.int64)
        return cls(homes, levels, starts, ends, allowance, call_starts, call_ends, lead, rank, rows)


def _padded(
    engineers: Sequence[SimEngineer], windows: dict[int, tuple[tuple[int, int], ...]]
) -> tuple[IntArray, IntArray]:
    """(engineers, windows) arrays of window starts and ends, padded with _NEVER."""
    width = max((len(windows.get(e.id, ())) for e in engineers), default=0) or 1
    starts = np.full((len(engineers), width), _NEVER, dtype=np.int64)
    ends = np.full((len(engineers), width), _NEVER, dtype=np.int64)
    for i, e in enumerate(engineers):
        for k, (a, b) in enumerate(windows.get(e.id, ())):
            starts[i, k], ends[i, k] = a, b
    return starts, ends


def _woken(staff: Staff, rows: IntArray, at_s: int, rank: int) -> tuple[IntArray, IntArray]:
    """Per qualified row: when a call-out now would depart and the end of the on-call window
    it falls in (-1, -1: he cannot be woken for this ticket now)."""
    none = np.full(rows.size, -1, dtype=np.int64)
    starts, ends = staff.on_call_starts, staff.on_call_ends
    lead, top = staff.callout_lead_s, staff.callout_max_rank
    if starts is None or ends is None or lead is None or top is None:
        return none, none
    s, e = starts[rows], ends[rows]
    inside = (s <= at_s) & (at_s < e)
    can = inside.any(axis=1) & (rank <= top[rows])
    end = np.where(inside, e, -1).max(axis=1)
    return np.where(can, at_s + lead[rows], -1), np.where(can, end, -1)


def unkeepable(
    staff: Staff,
    world: SimWorld,
    travel: TravelTimes,
    t: DemandTicket,
    site: SimSite,
    d: Deadlines,
    *,
    service_s: int,
) -> dict[str, str]:
    """Clock -> why no dispatch could keep it ("" = keepable); only the ticket's clocks.

    ``service_s``: the duration dispatch plans the ticket with (`RunContext.planning_s`)."""
    deadlines = {"respond": d.respond_by, "depart": d.depart_by, "arrival": d.arrive_by,
                 "fix": d.fix_by}  # fmt: skip
    clocks = {c: at for c, at in deadlines.items() if at is not None}
    level = staff.levels.get(t.line)
    rows = np.flatnonzero(level >= t.level) if level is not None else np.empty(0, np.int64)
    if rows.size == 0:
        return dict.fromkeys(clocks, GEOGRAPHY)
    now = world.epoch + timedelta(seconds=t.at_s)
    drive, _ = travel_at(travel, now).many_to_one(staff.homes[rows], coordinates([site.location]))
    drive = drive.astype(np.int64)
    service = service_s
    # his current or next working window, and the one after it
    first = (staff.ends[rows] <= t.at_s).sum(axis=1)
    woken = _woken(staff, rows, t.at_s, t.rank)
    out = {}
    for clock, deadline in clocks.items():
        if clock == "respond":  # a plan can go back at once whenever anyone is qualified
            out[clock] = ""
            continue
        # from his departure to the clock's event: none, the drive, the drive and the service
        if clock == "depart":
            after = np.zeros_like(drive)
        else:
            after = drive + (service if clock == "fix" else 0)
        out[clock] = _reason(
            staff, rows, first, t.at_s, drive, service, after, deadline, clock, woken
        )
    return out


def swap_unkeepable(
    staff: Staff,
    world: SimWorld,
    travel: TravelTimes,
    t: DemandTicket,
    site: SimSite,
    holders: Sequence[tuple[int | None, Location, int]],
    *,
    deadline: int,
    service_s: int,
) -> str:
    """Why no dispatch could fit the part within the swap promise ("" = keepable).

    ``holders``: where every part is in stock now, (None, an open depot, its pick time) or
    (a van's engineer id, where he stands, 0); ``service_s`` the duration dispatch plans
    with. An engineer's trip is the shortest home -> depot -> site, or for a van's own
    engineer the drive from where he stands; a pickup takes that depot's pick time (its
    data, as the dispatch and the simulator take it); then the clocks' test of the fix
    (`_reason`).
    """
    level = staff.levels.get(t.line)
    rows = np.flatnonzero(level >= t.level) if level is not None else np.empty(0, np.int64)
    if rows.size == 0 or not holders:
        return GEOGRAPHY
    travel = travel_at(travel, world.epoch + timedelta(seconds=t.at_s))
    here = coordinates([site.location])
    trip = np.full(rows.size, _NEVER, dtype=np.int64)
    depots = [(at, pick) for eid, at, pick in holders if eid is None]
    if depots:
        xy = coordinates([at for at, _ in depots])
        picks = np.array([pick for _, pick in depots], dtype=np.int64)
        to_depot, _ = travel.matrix(staff.homes[rows], xy)
        to_site, _ = travel.many_to_one(xy, here)
        legs = to_depot.astype(np.int64) + (picks + to_site.astype(np.int64))[None, :]
        trip = legs.min(axis=1)
    position = {int(r): i for i, r in enumerate(rows)}
    for eid, at, _ in holders:
        if eid is not None and (i := position.get(staff.rows.get(eid, -1))) is not None:
            drive, _ = travel.many_to_one(coordinates([at]), here)
            trip[i] = min(int(trip[i]), int(drive[0]))
    first = (staff.ends[rows] <= t.at_s).sum(axis=1)
    woken = _woken(staff, rows, t.at_s, t.rank)
    after = trip + service_s
    return _reason(staff, rows, first, t.at_s, trip, service_s, after, deadline, "swap", woken)


def _reason(
    staff: Staff,
    rows: IntArray,
    first: IntArray,
    at_s: int,
    drive: IntArray,
    service: int,
    after: IntArray,
    deadline: int,
    clock: str,
    woken: tuple[IntArray, IntArray],
) -> str:
    """Why one clock is out of reach: geography, then shift, then labour ("" = keepable)."""
    if clock != "depart" and int((at_s + after).min()) > deadline:
        return GEOGRAPHY
    in_time = np.zeros(rows.size, dtype=bool)
    lawful = np.zeros(rows.size, dtype=bool)
    width = staff.starts.shape[1]
    for step in (0, 1):
        k = np.minimum(first + step, width - 1)
        start = staff.starts[rows, k]
        end = staff.ends[rows, k]
        depart = np.maximum(at_s, start)
        opens = (start < _NEVER) & (depart < end)
        ok = opens & (depart + after <= deadline)
        in_time |= ok
        lawful |= ok & (depart + drive + service <= end + staff.allowance_s[rows])
    departs, ends = woken  # a call-out: on call now, departing after his lead
    ok = (departs >= 0) & (departs + after <= deadline)
    in_time |= ok
    lawful |= ok & (departs + drive + service <= ends + staff.allowance_s[rows])
    if not in_time.any():
        return SHIFT
    return "" if lawful.any() else LABOUR


__all__ = [
    "CLOCKS",
    "GEOGRAPHY",
    "LABOUR",
    "REASONS",
    "SHIFT",
    "Staff",
    "swap_unkeepable",
    "unkeepable",
]
