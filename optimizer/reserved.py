"""Committed work as reserved time: busy back to back, free in the gap before a later visit.

One rule for production (`dispatch.snapshot`) and the simulator (`scenarios.live`), issue 16:
an engineer committed to a visit that leaves hours from now is not busy until then. His work
that runs back to back from now (the job in progress and every committed visit departing by
the time the previous one ends) keeps him busy, and where it ends is where his next drive
starts; the time between its end and the next committed departure is a `Gap` that a
recommendation may fill when the job and the drive back still let that visit arrive as
planned. ``busy_until`` keeps its meaning: when all his committed work ends, so a job that
does not fit the gap is planned after it.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

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
    """

    departs: int
    arrives: int
    ends: int
    site: Location


@dataclass(frozen=True, slots=True)
class Committed:
    """An engineer's committed time: busy until (all of it ends), where, and the gap."""

    busy_until: int | None
    busy_location: Location | None
    gap: Gap | None


def free_gap(now: int, work: Iterable[Reserved]) -> Committed:
    """Split committed work into back-to-back work from ``now`` and the first free gap.

    Visits are taken in departure order; one departing by the time the chain so far ends
    joins it (no time to fill between them). The first one departing later opens a gap from
    the chain's end to it; only that first gap is offered (a job placed there is committed
    in turn, and the next gap is read from the new work). Work that ended by ``now`` is not
    part of the chain.
    """
    jobs = sorted(work, key=lambda j: (j.departs, j.ends))
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
