"""Issue 17: "promises kept" counts tickets (every clock that applies kept), not clocks."""

from __future__ import annotations

from scenarios.kpis import run_kpis, ticket_kept
from scenarios.records import JobRecord, RunResult

H = 3_600


def _job(ticket_id: int, **times: int | None) -> JobRecord:
    return JobRecord(ticket_id=ticket_id, region="r", severity="urgent", reported_at=0,
                     arrive_by=times.pop("arrive_by", None), fix_by=times.pop("fix_by", None),
                     needs_parts=False, engineer_id=1, **times)  # type: ignore[arg-type]  # fmt: skip


def _run(jobs: list[JobRecord]) -> RunResult:
    return RunResult("base", "optimised", 0, 24 * H, jobs, {}, {}, [])


def test_a_ticket_with_one_broken_clock_is_not_kept() -> None:
    late = _job(1, arrive_by=2 * H, arrived_at=3 * H, fix_by=8 * H, fixed_at=4 * H)
    assert late.fix_kept() is True
    assert late.arrival_kept() is False
    assert ticket_kept(late) is False


def test_tickets_not_clocks() -> None:
    kept = _job(1, arrive_by=2 * H, arrived_at=1 * H, fix_by=8 * H, fixed_at=4 * H)
    half = _job(2, arrive_by=2 * H, arrived_at=3 * H, fix_by=8 * H, fixed_at=4 * H)
    none = _job(3)  # no clock applies to it: not counted either way
    kpis = run_kpis(_run([kept, half, none]))
    assert ticket_kept(none) is None
    assert kpis[("promises_kept", "all")] == 0.5  # 1 of the 2 tickets with a promise
    assert kpis[("promise_attainment", "all")] == 0.75  # 3 of 4 clocks, pooled
    assert kpis[("arrival_attainment", "all")] == 0.5
    assert kpis[("fix_attainment", "all")] == 1.0
    assert kpis[("promises_kept", "severity=urgent")] == 0.5
