"""Committed work as reserved time: busy back to back, free in the gap before a later visit.

One rule for production (`dispatch.snapshot`) and the simulator (`scenarios.live`), issue 16:
an engineer committed to a visit that leaves hours from now is not busy until then. His work
that runs back to back from now (the job in progress and every committed visit departing by
the time the previous one ends) keeps him busy, and where it ends is where his next drive
starts; the time between its end and the next committed departure is a `Gap` that a
recommendation may fill when the job and the drive back still let that visit arrive as
planned. ``busy_until`` keeps its meaning: when all his committed work ends, so a job that
does not fit the gap is planned after it.

Committed visits are read re-timed (`retimed`): when the work before one now ends later
than planned (the job on site overruns, `optimizer.overrun_ends`), the visit cannot depart
before it ends, and its arrival and end move by as much; so does ``busy_until``, and a
pushed arrival that breaks its promise is what the re-dispatch rules then see
(`dispatch.redispatch`, the simulator's `JobRunner`).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace

from optimizer.model import Gap, Location


@dataclass(frozen=True, slots=True)
class Reserved:
    """One committed visit of an engineer (time-axis offsets).

    Parameters
    ----------
    departs
        Its planned departure (``now`` or earlier for work in progress).
    arrives
        Its planned arrival at the site: the time its promises were planned on.
    ends
        When the work ends (at the site).
    site
        Where it ends.
    under_way
        Departed already (en route or on site): never re-timed, and first in his chain.
    """

    departs: int
    arrives: int
    ends: int
    site: Location
    under_way: bool = False


@dataclass(frozen=True, slots=True)
class Committed:
    """An engineer's committed time: busy until (all of it ends), where, and the gap."""

    busy_until: int | None
    busy_location: Location | None
    gap: Gap | None


def _order(job: Reserved) -> tuple[bool, int, int]:
    return (not job.under_way, job.departs, job.ends)


def retimed(work: Sequence[Reserved]) -> list[Reserved]:
    """The committed visits re-timed behind the work before them, in ``work``'s order.

    Taken in departure order (work under way first): a visit not departed cannot depart
    before every earlier one ends; pushed, its drive (planned arrival - departure) and its
    time on site keep their length, so its arrival and end move by as much. Never earlier
    than planned; a plan whose visits each depart after the work before them ends comes
    back as it was. E.g. a job on site planned to end 10:00 now seen ending 10:40, the next
    visit planned to depart 10:10 and arrive 10:30: it departs 10:40 and arrives 11:00.
    """
    out = list(work)
    ready: int | None = None
    for i in sorted(range(len(out)), key=lambda k: _order(out[k])):
        job = out[i]
        if not job.under_way and ready is not None and job.departs < ready:
            late = ready - job.departs
            job = out[i] = replace(
                job, departs=ready, arrives=job.arrives + late, ends=job.ends + late
            )
        ready = job.ends if ready is None else max(ready, job.ends)
    return out


def free_gap(now: int, work: Iterable[Reserved]) -> Committed:
    """Split committed work into back-to-back work from ``now`` and the first free gap.

    Visits are taken in departure order; one departing by the time the chain so far ends
    joins it (no time to fill between them). The first one departing later opens a gap from
    the chain's end to it; only that first gap is offered (a job placed there is committed
    in turn, and the next gap is read from the new work). Work that ended by ``now`` is not
    part of the chain. The visits are read `retimed` (behind an overrun they leave later).
    """
    jobs = sorted(retimed(list(work)), key=_order)
    if not jobs:
        return Committed(None, None, None)
    last = max(jobs, key=lambda j: j.ends)
    ready, origin = now, None
    gap = None
    for job in jobs:
        if job.ends <= now:
            continue
        if job.departs <= ready:
            if job.ends >= ready:
                ready, origin = job.ends, job.site
            continue
        gap = Gap(ready, origin, job.site, job.arrives)
        break
    return Committed(last.ends, last.site, gap)
