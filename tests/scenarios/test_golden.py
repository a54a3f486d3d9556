"""A golden run: the simulation's records, pinned, so a refactor proves it changed nothing.

The digests were taken before the run loop was untied from its import circle (issue 16);
a change that moves any ticket's engineer, times, km, source or price changes a digest.
A deliberate behaviour change updates the digests in the same commit, saying why.

Changed by issue 16: engineers work under their labour rules (the documented default: a
visit may run 120 min past the shift's end) instead of a constant 30 min; the naive
dispatch itself reads no labour rule, so its plain run is unchanged. Then the ranking and
the planner's route cost price each clock by its penalty (broken or at risk) plus travel
and overtime, and a recommendation that keeps the depart clock ranks first. Then the naive
baseline obeys the labour rules too (a real dispatcher must); `naive_unlimited`, the naive
dispatch of before, kept the old digests. Then (plans that survive
overruns) jobs are planned with a duration learnt from the run's log of finished jobs, and
an engineer whose next visit waits on his job sets off when it really ends (every
policy plans with that duration, so every digest moved).

Changed by issue 17: the demo world was restaffed (40 engineers in the small world, skills
that fill the rota's gaps, a two-deep night rota) and restocked (METRIC base stock at the
regional depots): the same stream meets other engineers and other shelves. Before it, in
the order below: daef6d14bfa2aec8 (21), 6ab49b5d58f76fcd (20), c28e93dc6cb29ffa (15),
1b119913345e8b32 (21), cf5e7fbfb6927e79 (20).

Then a visit committed for later left the time before it free (`optimizer.free_gap`,
issue 16): no gap is filled in this short run, and no digest moved.

Then the naive baseline judged the labour rules with the planning duration, as the
optimizer's screen and the bounds do, instead of the type's standard: the naive digests
moved (before: 51cbf2a97f279b1e, c8979e8ef5b913af), the others not.

Then the demo world got a small on-call roster (each region's first engineer, weekday
nights 20:00-08:00): the runs that may wake him moved, the optimised one (recommend) and the
two with the batch re-plan (`optimizer.plan` wakes on-call engineers by the same rule); the
plain naive runs read no roster and did not (before: 609157d7b367ca27 (22),
d582e16225cc8dda (18), 7c125f77d01a9cba (18)).

Then an engineer whose shift ends with no work in progress drives home and starts the next
shift there (`optimizer.standing_at`, production's rule, issue 16) instead of at his last
job's site: every digest moved (before, in the order below: b9bfdb30f27b7d3d,
095a2244d2071575, d017a7b6c21741b7, 264a4f21b1978f63, c2bd04365e246c82).

Then the batch re-plan (`optimizer.plan`) filled an engineer's gap before a committed visit
with a route back at that visit's site by its planned arrival, as the recommendation does:
the two runs with the re-plan moved (before: 822f6163c7cd940b (20), 19939c9d5989c8e4 (20)),
the others not.

Then parts not swappable from stock in reach are shipped when the ticket comes in
(`optimizer.ship_at_intake`, production's intake rule, for every policy) instead of when a
visit is planned: the naive runs moved (their dispatch fetched such parts from the nearest
depot however far, or had the supplier ship them); the optimised run did not (in this short
run every ticket with parts is dispatched at intake, where it shipped the same parts from
the same source). Before, naive and naive_unlimited with and without the re-plan:
0612c95312d190fb, 12737bde3997cefc, efab69446b93a12b, 909845651590b69f (19).

Then the simulated engineers drive by the home rule too (`optimizer.sets_off_from`): one
idle past his shift's end sets off from home the next day, where the view planned him, not
from his last job's site; and `recommend` plans a departure in a later shift from home.
Every digest moved (before, in the order below: d9d58abd38460df6, 22313cb483a118f7,
f0afe5b97eb61bd7, ac62db4fa0b57be7, 1316194ff452e5d8).

Then an engineer on site past his job's planned end was seen busy until the log's end for
it (`optimizer.overrun_ends`, production's snapshot reads the same) instead of free at
once, by every policy's view (the naive one's "idle" too): every digest moved (before, in
the order below: 0a182db067743f9e, 8cfc604e9a06c3a6, d9bf09de13b3a46a, 15dd98c6c642154f,
1f20eb1c03857feb (20)).

Then a committed visit behind a job on site past its planned end was read pushed behind it
(`optimizer.retimed`: it departs when that job is expected to end, and the engineer's
``busy_until`` with it), and the optimised run's retry tick asks the pushed visits whether
another engineer keeps the clock their pushed times break: only the naive run with the
batch re-plan moved (its re-plan reads the pushed commitments; before: a631270bafbfe2b3),
the others not (no pushed visit broke a clock in this short run).
"""

from __future__ import annotations

import hashlib

import pytest

from scenarios.demand import ticket_stream
from scenarios.model import SimWorld
from scenarios.simulate import RunParams, simulate
from scenarios.spec import ArrivalShape, Demand

DAY = 86_400
FLAT = ArrivalShape(hours=(1.0,) * 24, weekdays=(1.0,) * 7)  # the stream of before


def _digest(world: SimWorld, policy: str, replan_every_s: int | None) -> tuple[int, str, int]:
    stream = ticket_stream(
        world, Demand(tickets_per_day=80, profile=FLAT), horizon_s=2 * DAY, seed=3, replication=0
    )
    result = simulate(
        world, stream, RunParams("base", policy, 0, 2 * DAY, replan_every_s=replan_every_s)
    )
    rows = [
        (j.ticket_id, j.engineer_id, j.assigned_at, j.departed_at, j.arrived_at, j.fixed_at,
         j.overtime_s, j.travel_m, j.source, str(j.charged), str(j.loaner_cost))
        for j in result.jobs
    ]  # fmt: skip
    return len(rows), hashlib.sha256(repr(rows).encode()).hexdigest()[:16], result.returns.produced


@pytest.mark.parametrize(
    ("policy", "replan_every_s", "expected"),
    [
        ("optimised", None, (148, "0b1282d1fa35e1d3", 22)),
        ("naive", None, (148, "db913da2f1b32b9c", 22)),
        ("naive", 1_800, (148, "ead170db69a500e4", 20)),
        ("naive_unlimited", None, (148, "8b04cee2bcbdeaab", 22)),
        ("naive_unlimited", 1_800, (148, "749cc4e56ac1ea6f", 19)),
    ],
)
def test_the_golden_run_is_unchanged(
    small: SimWorld, policy: str, replan_every_s: int | None, expected: tuple[int, str, int]
) -> None:
    assert _digest(small, policy, replan_every_s) == expected
