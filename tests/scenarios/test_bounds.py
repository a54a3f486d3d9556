"""Bounds: per ticket and clock, what no dispatch could keep, and what decisions lost."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from inventory.warranty import Cause
from optimizer import Location, MatrixTravelTimes
from scenarios.bounds import GEOGRAPHY, LABOUR, SHIFT, Staff, swap_unkeepable, unkeepable
from scenarios.demand import DemandTicket
from scenarios.kpis import run_kpis
from scenarios.model import SimSite, SimWorld
from scenarios.policies import Deadlines
from scenarios.records import JobRecord, RunResult

H, M = 3_600, 60
HOME, SITE = Location(22.5, 113.9), Location(22.6, 114.0)
T0 = 10 * H  # the ticket arrives at 10:00 on day 0


def _staff(window: tuple[int, int], *, level: int = 2, allowance: int = 30 * M) -> Staff:
    return Staff(
        homes=np.array([[HOME.lat, HOME.lon]]), levels={"server": np.array([level])},
        starts=np.array([[window[0]]]), ends=np.array([[window[1]]]),
        allowance_s=np.array([allowance]),
    )  # fmt: skip


def _travel(drive_s: int) -> MatrixTravelTimes:
    points = np.array([[HOME.lat, HOME.lon], [SITE.lat, SITE.lon]])
    return MatrixTravelTimes(points, np.array([[0, drive_s], [drive_s, 0]]))


def _ticket(service_s: int = H) -> DemandTicket:
    return DemandTicket(
        1, T0, 1, 1, 1, "server", 2, service_s, service_s, 1, (), Cause.NORMAL_FAULT
    )


def _judge(
    small: SimWorld, staff: Staff, drive_s: int, d: Deadlines, service_s: int = H
) -> dict[str, str]:
    site = SimSite(1, 1, SITE, 1, None)
    return unkeepable(
        staff, small, _travel(drive_s), _ticket(service_s), site, d, service_s=service_s
    )


def _deadlines(*, depart: int = 15 * M, arrive: int = 2 * H, fix: int = 8 * H) -> Deadlines:
    return Deadlines(T0 + arrive, T0 + fix, 8 * H, 2 * H, T0 + 5 * M, T0 + depart)


DAY_SHIFT = (8 * H, 18 * H)


def test_an_engineer_on_shift_within_reach_keeps_every_clock(small: SimWorld) -> None:
    assert _judge(small, _staff(DAY_SHIFT), 30 * M, _deadlines()) == dict.fromkeys(
        ("respond", "depart", "arrival", "fix"), ""
    )


def test_too_far_to_arrive_in_time_is_geography(small: SimWorld) -> None:
    # a 3 h drive cannot arrive within 2 h, even leaving at once; departing is still possible
    found = _judge(small, _staff(DAY_SHIFT), 3 * H, _deadlines())
    assert found["arrival"] == GEOGRAPHY
    assert found["depart"] == ""
    assert found["fix"] == ""  # 10:00 + 3 h + 1 h = 14:00 <= 18:00


def test_nobody_on_shift_in_time_is_shift(small: SimWorld) -> None:
    # his shift starts at 13:00: departing 13:00 + 30 min > 12:00 arrive-by
    found = _judge(small, _staff((13 * H, 20 * H)), 30 * M, _deadlines())
    assert found["arrival"] == SHIFT
    assert found["depart"] == SHIFT
    assert found["fix"] == ""  # 13:00 + 30 min + 1 h <= 18:00


def test_in_time_only_past_the_overtime_rule_is_labour(small: SimWorld) -> None:
    # shift ends 10:40: arrives 10:30, a 2 h visit ends 12:30 > 10:40 + 30 min
    staff = _staff((8 * H, T0 + 40 * M))
    found = _judge(small, staff, 30 * M, _deadlines(), service_s=2 * H)
    assert found["arrival"] == LABOUR
    looser = replace(staff, allowance_s=np.array([2 * H]))  # 12:30 <= 10:40 + 2 h
    assert _judge(small, looser, 30 * M, _deadlines(), service_s=2 * H)["arrival"] == ""


def test_nobody_qualified_is_out_of_reach_on_every_clock(small: SimWorld) -> None:
    found = _judge(small, _staff(DAY_SHIFT, level=1), 30 * M, _deadlines())
    assert set(found.values()) == {GEOGRAPHY}


def test_the_report_splits_misses_into_bounds_and_decisions() -> None:
    def job(tid: int, arrived: int, why: str) -> JobRecord:
        record = JobRecord(tid, "r", "urgent", 0, 100, None, needs_parts=False, arrived_at=arrived)
        record.bounds = {"arrival": why}
        return record

    # 4 arrival clocks: one out of reach (missed), one keepable missed, two kept
    jobs = [job(1, 200, GEOGRAPHY), job(2, 200, ""), job(3, 50, ""), job(4, 60, "")]
    kpis = run_kpis(RunResult("base", "naive", 0, 1_000, jobs, {}, {}, []))
    assert kpis[("bound_geography", "clock=arrival")] == pytest.approx(0.25)
    assert kpis[("bound_labour", "clock=arrival")] == 0
    assert kpis[("lost_decisions", "clock=arrival")] == pytest.approx(0.25)
    assert kpis[("arrival_attainment", "all")] == pytest.approx(0.5)


class TestCallOuts:
    """An on-call engineer woken at once makes a night ticket keepable (urgent only)."""

    NIGHT = (20 * H, 32 * H)  # he works days; on call 20:00-08:00

    def _staff(self, rank: int = 1) -> Staff:
        return replace(
            _staff(DAY_SHIFT), on_call_starts=np.array([[self.NIGHT[0]]]),
            on_call_ends=np.array([[self.NIGHT[1]]]), callout_lead_s=np.array([30 * M]),
            callout_max_rank=np.array([rank]),
        )  # fmt: skip

    def _night(self, small: SimWorld, staff: Staff, ticket_rank: int) -> dict[str, str]:
        at = 22 * H
        t = replace(_ticket(), at_s=at, rank=ticket_rank)
        d = Deadlines(at + 2 * H, at + 8 * H, 8 * H, 2 * H, at + 5 * M, at + 45 * M)
        site = SimSite(1, 1, SITE, 1, None)
        return unkeepable(staff, small, _travel(30 * M), t, site, d, service_s=H)

    def test_without_a_roster_the_night_is_out_of_shift(self, small: SimWorld) -> None:
        assert self._night(small, _staff(DAY_SHIFT), 1)["arrival"] == SHIFT

    def test_the_on_call_engineer_keeps_it_keepable(self, small: SimWorld) -> None:
        judged = self._night(small, self._staff(), 1)
        assert (judged["depart"], judged["arrival"], judged["fix"]) == ("", "", "")

    def test_a_ticket_his_rules_do_not_wake_him_for_stays_out_of_shift(
        self, small: SimWorld
    ) -> None:
        assert self._night(small, self._staff(rank=1), 2)["arrival"] == SHIFT


DEPOT, VAN = Location(22.55, 113.95), Location(22.59, 113.99)


def _swap(
    small: SimWorld, staff: Staff, *, to_depot: int, to_site: int, service_s: int,
    holders: list[tuple[int | None, Location, int]] | None = None,
) -> str:  # fmt: skip
    """Home -> depot ``to_depot`` s, depot -> site ``to_site`` s; van -> site 10 min."""
    points = np.array([[p.lat, p.lon] for p in (HOME, SITE, DEPOT, VAN)])
    seconds = np.array([
        [0, 3 * H, to_depot, 3 * H],
        [3 * H, 0, to_site, 10 * M],
        [to_depot, to_site, 0, 3 * H],
        [3 * H, 10 * M, 3 * H, 0],
    ])  # fmt: skip
    site = SimSite(1, 1, SITE, 1, None)
    return swap_unkeepable(
        staff, small, MatrixTravelTimes(points, seconds), _ticket(service_s), site,
        [(None, DEPOT, 10 * M)] if holders is None else holders, deadline=T0 + 2 * H,
        service_s=service_s,
    )  # fmt: skip


def test_a_depot_within_reach_of_the_site_can_still_be_out_of_reach_for_a_swap(
    small: SimWorld,
) -> None:
    # the depot is 40 min from the site (the swap promise applies), but 10:00 + 30 min to
    # the depot + 10 min picking + 40 min on + a 1 h swap = 12:20 > 12:00: no dispatch can
    staff = _staff(DAY_SHIFT)
    assert _swap(small, staff, to_depot=30 * M, to_site=40 * M, service_s=H) == GEOGRAPHY
    # with a 35 min swap it ends 11:55: keepable, so a miss is a decision
    assert _swap(small, staff, to_depot=30 * M, to_site=40 * M, service_s=35 * M) == ""


def test_a_depots_own_pick_time_counts_in_the_swap_bound(small: SimWorld) -> None:
    # the same trip as above with 35 min on site: 10 min picking ends 11:55 (keepable);
    # a depot whose counter takes 20 min (its data) ends 12:05, past the 12:00 promise
    staff, trip = _staff(DAY_SHIFT), {"to_depot": 30 * M, "to_site": 40 * M, "service_s": 35 * M}
    assert _swap(small, staff, **trip, holders=[(None, DEPOT, 10 * M)]) == ""
    assert _swap(small, staff, **trip, holders=[(None, DEPOT, 20 * M)]) == GEOGRAPHY


def test_a_swap_only_an_engineer_off_shift_could_do_is_shift(small: SimWorld) -> None:
    staff = _staff((11 * H, 20 * H))  # 11:00 + 30 + 10 + 40 + 35 min > 12:00
    assert _swap(small, staff, to_depot=30 * M, to_site=40 * M, service_s=35 * M) == SHIFT


def test_a_swap_past_the_overtime_rule_is_labour(small: SimWorld) -> None:
    staff = _staff((8 * H, T0 + 30 * M), allowance=30 * M)  # ends 11:55 > 10:30 + 30 min
    assert _swap(small, staff, to_depot=30 * M, to_site=40 * M, service_s=35 * M) == LABOUR


def test_the_vans_own_engineer_drives_from_where_he_stands(small: SimWorld) -> None:
    # no depot holds it; the van 10 min from the site: 10:10 + 1 h = 11:10 <= 12:00
    staff = replace(_staff(DAY_SHIFT), rows={7: 0})
    found = _swap(small, staff, to_depot=30 * M, to_site=3 * H, service_s=H, holders=[(7, VAN, 0)])
    assert found == ""
    assert _swap(small, staff, to_depot=30 * M, to_site=3 * H, service_s=H) == GEOGRAPHY


def test_swap_misses_split_into_bounds_and_decisions() -> None:
    def job(tid: int, fixed: int, why: str) -> JobRecord:
        record = JobRecord(tid, "r", "urgent", 0, None, None, needs_parts=True, fixed_at=fixed)
        record.swap_due, record.bounds = True, {"swap": why}
        return record

    jobs = [job(1, 3 * H, GEOGRAPHY), job(2, 3 * H, ""), job(3, H, ""), job(4, H, "")]
    kpis = run_kpis(RunResult("base", "naive", 0, 10 * H, jobs, {}, {}, []))
    assert kpis[("bound_geography", "clock=swap")] == pytest.approx(0.25)
    assert kpis[("lost_decisions", "clock=swap")] == pytest.approx(0.25)
    assert kpis[("swap_2h_attainment", "all")] == pytest.approx(0.5)
