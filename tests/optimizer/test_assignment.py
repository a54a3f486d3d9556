"""One small test per dispatch rule (grid fake: one step = 1 min; site at (3, 3))."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from optimizer import (
    ExclusionReason,
    PartsSource,
    Promise,
    Recommendation,
    RecommendParams,
    SuggestionKind,
    recommend,
)
from tests.optimizer.builders import (
    HOUR,
    grid,
    grid_travel,
    make_depot,
    make_engineer,
    make_supplier,
    make_ticket,
    make_world,
)

TRAVEL = grid_travel()


def _recommend(world, ticket, now: int = 0, **params) -> Recommendation:
    return recommend(world, ticket, now=now, travel=TRAVEL, params=RecommendParams(**params))


def _ids(rec: Recommendation) -> list[int]:
    return [o.engineer_id for o in rec.options]


def _reason(rec: Recommendation, engineer_id: int) -> ExclusionReason:
    return next(e.reason for e in rec.excluded if e.engineer_id == engineer_id)


class TestSkills:
    def test_unqualified_engineer_is_never_chosen(self) -> None:
        # engineer 1 is next door but has server level 1 < 2; engineer 2 is 6 min away
        world = make_world(
            [make_engineer(1, (3, 2), skills={"server": 1}), make_engineer(2, (0, 0))]
        )
        rec = _recommend(world, make_ticket())
        assert _ids(rec) == [2]
        assert _reason(rec, 1) is ExclusionReason.SKILL

    def test_higher_level_qualifies(self) -> None:
        world = make_world([make_engineer(1, (3, 2), skills={"server": 3, "storage": 1})])
        assert _ids(_recommend(world, make_ticket())) == [1]


class TestShifts:
    def test_off_shift_engineer_is_excluded_with_the_overtime_he_would_need(self) -> None:
        # shift ends at 0:30; drive 6 min + service 60 min needs 36 min past its end
        world = make_world([make_engineer(1, shifts=((-HOUR, 1_800),))])
        rec = _recommend(world, make_ticket())
        assert rec.options == ()
        (exclusion,) = rec.excluded
        assert exclusion.reason is ExclusionReason.SHIFT
        assert exclusion.overtime_needed_s == 36 * 60

    def test_allowed_overtime_makes_him_a_candidate(self) -> None:
        world = make_world([make_engineer(1, shifts=((-HOUR, 1_800),), overtime_s=36 * 60)])
        assert _ids(_recommend(world, make_ticket())) == [1]

    def test_an_engineer_whose_shift_starts_later_departs_at_its_start(self) -> None:
        world = make_world([make_engineer(1, shifts=((HOUR, 9 * HOUR),))])
        (option,) = _recommend(world, make_ticket()).options
        assert (option.departs_at, option.arrives_at) == (HOUR, HOUR + 6 * 60)


class TestBusy:
    def test_busy_engineer_departs_where_and_when_his_job_ends(self) -> None:
        # job ends at 0:30 at (3, 1): 2 steps from the site
        world = make_world([make_engineer(1, busy_until=1_800, busy_location=grid(3, 1))])
        (option,) = _recommend(world, make_ticket()).options
        assert (option.departs_at, option.arrives_at, option.travel_s) == (1_800, 1_920, 120)

    def test_busy_past_the_shift_is_explained_with_the_time_he_is_free(self) -> None:
        world = make_world(
            [make_engineer(1, busy_until=7 * HOUR + 1_800, busy_location=grid(3, 3))]
        )
        rec = _recommend(world, make_ticket())
        assert _reason(rec, 1) is ExclusionReason.BUSY
        assert rec.excluded[0].free_at == 7 * HOUR + 1_800


class TestParts:
    def test_van_stock_avoids_a_detour(self) -> None:
        world = make_world([make_engineer(1, van_stock={10: 1})], [make_depot(stock={10: 5})])
        (option,) = _recommend(world, make_ticket(parts=[(10, 1)])).options
        assert option.parts.source is PartsSource.VAN
        assert option.arrives_at == 6 * 60  # straight: 6 steps

    def test_pickup_detour_and_pick_time_are_in_the_eta(self) -> None:
        # (0,0) -> depot (5,5): 10 min; pick 10 min; depot -> site (3,3): 4 min
        world = make_world([make_engineer(1)], [make_depot(stock={10: 5})])
        (option,) = _recommend(world, make_ticket(parts=[(10, 1)])).options
        assert option.parts.source is PartsSource.PICKUP
        assert option.parts.pickup_at == 600
        assert (option.arrives_at, option.travel_s) == (600 + 600 + 240, 840)

    def test_shipment_when_no_pickup_keeps_the_promise(self) -> None:
        # the depot opens at 3:00 (too late to arrive by 2:00); the supplier ships at 1:00,
        # the part arrives at 3:00, the fix ends at 4:00 = fix_by
        depot = make_depot(stock={10: 5}, opening=((3 * HOUR, 10 * HOUR),))
        supplier = make_supplier(parts={10: 1})
        world = make_world([make_engineer(1)], [depot], [supplier])
        (option,) = _recommend(world, make_ticket(parts=[(10, 1)])).options
        assert option.parts.source is PartsSource.SHIPMENT
        assert option.parts.supplier_id == 1
        assert (option.parts.ships_at, option.parts.part_arrives_at) == (HOUR, 3 * HOUR)
        assert option.fixes_at == 4 * HOUR
        assert option.keeps_all
        assert {c.promise for c in option.promises} == {Promise.ARRIVAL, Promise.FIX, Promise.SHIP}

    def test_substitute_is_used_when_the_exact_part_is_short(self) -> None:
        world = make_world([make_engineer(1)], [make_depot(stock={10: 1, 11: 3})])
        ticket = make_ticket(parts=[(10, 2)], substitutes={10: (11,)})
        (option,) = _recommend(world, ticket).options
        (use,) = option.parts.uses
        assert (use.part_id, use.qty, use.substitute) == (11, 2, True)

    def test_no_source_at_all_excludes_for_parts(self) -> None:
        world = make_world([make_engineer(1)], [make_depot(stock={99: 1})])
        rec = _recommend(world, make_ticket(parts=[(10, 1)]))
        assert rec.options == ()
        assert _reason(rec, 1) is ExclusionReason.PARTS


class TestRanking:
    def test_dedicated_engineer_first_among_promise_keepers(self) -> None:
        world = make_world([make_engineer(1, (3, 2)), make_engineer(2, (0, 0))])
        rec = _recommend(world, make_ticket(dedicated_engineer=2))
        assert _ids(rec) == [2, 1]
        assert "dedicated" in rec.options[0].reason

    def test_dedicated_site_counts_too(self) -> None:
        world = make_world(
            [make_engineer(1, (3, 2)), make_engineer(2, dedicated_sites=frozenset({100}))]
        )
        assert _ids(_recommend(world, make_ticket())) == [2, 1]

    def test_keepers_by_earliest_arrival(self) -> None:
        world = make_world([make_engineer(1, (0, 0)), make_engineer(2, (3, 1))])
        rec = _recommend(world, make_ticket())
        assert _ids(rec) == [2, 1]
        assert [o.rank for o in rec.options] == [1, 2]

    def test_promise_breakers_after_keepers_by_least_lateness(self) -> None:
        # arrive_by 0:05: engineer 2 (2 min) keeps it; 3 is 1 min late, 1 is 1 min late too
        # but in a tie on lateness the earlier arrival wins; 4 is 15 min late
        world = make_world(
            [make_engineer(1, (0, 0)), make_engineer(2, (3, 1)), make_engineer(4, (11, 11))]
        )
        ticket = make_ticket(arrive_by=5 * 60, fix_by=None)
        rec = _recommend(world, ticket)
        assert _ids(rec) == [2, 1, 4]
        assert [o.lateness_s for o in rec.options] == [0, 60, 11 * 60]
        assert "breaks arrival by 1 min" in rec.options[1].reason

    def test_max_options_bounds_the_list(self) -> None:
        world = make_world([make_engineer(i, (i, 0)) for i in range(1, 9)])
        assert _ids(_recommend(world, make_ticket(), max_options=3)) == [3, 2, 4]


class TestExplanations:
    def test_explanations_are_built_on_first_access_only(self) -> None:
        world = make_world([make_engineer(1, skills={"network": 1}), make_engineer(2)])
        rec = _recommend(world, make_ticket())
        assert "excluded" not in rec.__dict__
        assert [e.engineer_id for e in rec.excluded] == [1]
        assert "excluded" in rec.__dict__

    def test_suggest_extending_a_shift(self) -> None:
        world = make_world([make_engineer(1, shifts=((-HOUR, 1_800),))])
        (suggestion,) = _recommend(world, make_ticket()).suggestions
        assert suggestion.kind is SuggestionKind.EXTEND_SHIFT
        assert (suggestion.engineer_id, suggestion.minutes) == (1, 36)

    def test_suggest_when_the_dedicated_engineer_is_free(self) -> None:
        # the dedicated engineer works from 5:00 (13:00 in Shenzhen, 05:00 UTC on the axis)
        world = make_world([make_engineer(7, shifts=((5 * HOUR, 9 * HOUR),))])
        rec = _recommend(world, make_ticket(dedicated_engineer=7, arrive_by=HOUR))
        kinds = {s.kind: s for s in rec.suggestions}
        assert kinds[SuggestionKind.DEDICATED_FREE].at == 5 * HOUR
        assert "06:00 UTC" in kinds[SuggestionKind.DEDICATED_FREE].text  # EPOCH is 01:00 UTC

    def test_an_unqualified_dedicated_engineer_is_not_said_to_be_free(self) -> None:
        # engineer 7 is the site's dedicated engineer but holds no server skill: he was
        # excluded for it, so no text may offer him ("free at ..."); it says why he cannot
        world = make_world([
            make_engineer(7, skills={"network": 3}, shifts=((5 * HOUR, 9 * HOUR),)),
            make_engineer(1, shifts=((5 * HOUR, 9 * HOUR),)),
        ])  # fmt: skip
        rec = _recommend(world, make_ticket(dedicated_engineer=7, arrive_by=HOUR))
        assert _reason(rec, 7) is ExclusionReason.SKILL
        texts = [s.text for s in rec.suggestions if s.engineer_id == 7]
        assert not any("free" in t for t in texts), texts
        kinds = {s.kind: s for s in rec.suggestions}
        assert SuggestionKind.DEDICATED_FREE not in kinds
        unqualified = kinds[SuggestionKind.DEDICATED_UNQUALIFIED]
        assert unqualified.engineer_id == 7
        assert "needs server level 2, has 0" in unqualified.text

    def test_a_dedicated_engineer_out_of_reach_is_not_said_to_be_free(self) -> None:
        # 7 is qualified but beyond the drive limit: "free at" would offer someone who
        # cannot be sent; the text says he is too far
        world = make_world([make_engineer(7, at=(11, 11)), make_engineer(1, at=(3, 2))])
        ticket = make_ticket(dedicated_engineer=7, arrive_by=30)  # nobody keeps it
        rec = _recommend(world, ticket, max_travel_s=10 * 60)
        assert _reason(rec, 7) is ExclusionReason.TOO_FAR
        texts = [s.text for s in rec.suggestions if s.engineer_id == 7]
        assert texts == ["the dedicated engineer 7 cannot take this ticket: 16 min drive, over"
                         " the 10 min limit"]  # fmt: skip

    def test_texts_state_times_in_the_readers_zone(self) -> None:
        # free at 5 h on the axis: 06:00 UTC (EPOCH 01:00 UTC), 14:00 in Shanghai (+08:00)
        world = make_world([make_engineer(7, shifts=((5 * HOUR, 9 * HOUR),))])
        zone = ZoneInfo("Asia/Shanghai")
        rec = _recommend(world, make_ticket(dedicated_engineer=7, arrive_by=HOUR), zone=zone)
        text = {s.kind: s.text for s in rec.suggestions}[SuggestionKind.DEDICATED_FREE]
        assert text.endswith("is free at 14:00 Asia/Shanghai"), text

    def test_suggest_pulling_the_part_by_courier(self) -> None:
        # a pickup arrives at 0:19 (> 0:05), a shipment fixes at 2:04 (> 1:30); a courier
        # brings the part by 0:14 (pick 10 min + 4 min), so the fix could end by 1:14
        world = make_world([make_engineer(1, (3, 2))], [make_depot(stock={10: 1})])
        ticket = make_ticket(parts=[(10, 1)], arrive_by=5 * 60, fix_by=90 * 60)
        kinds = {s.kind: s for s in _recommend(world, ticket).suggestions}
        assert kinds[SuggestionKind.PULL_PART].depot_id == 1

    def test_no_suggestions_when_the_promise_is_kept(self) -> None:
        world = make_world([make_engineer(1)])
        assert _recommend(world, make_ticket()).suggestions == ()

    def test_earliest_arrival_is_always_among_the_options(self) -> None:
        # the dedicated engineer is far, max_options=1: the fastest comes as an extra option
        world = make_world([make_engineer(1, (3, 2)), make_engineer(2, (0, 0))])
        rec = _recommend(world, make_ticket(dedicated_engineer=2), max_options=1)
        assert _ids(rec) == [2, 1]
        assert "earliest arrival" in rec.options[1].reason


class TestLoaner:
    def test_loaner_when_the_repair_overruns_the_fix_promise(self) -> None:
        # arrival 0:06 + 1 h service > fix_by 1:00: lend a unit from the nearest depot
        depots = [make_depot(1, (11, 11), stock={500: 1}), make_depot(2, (3, 4), stock={500: 1})]
        world = make_world([make_engineer(1)], depots)
        rec = _recommend(world, make_ticket(fix_by=HOUR, loaner_units=(500,)))
        assert rec.loaner is not None
        assert (rec.loaner.depot_id, rec.loaner.part_id) == (2, 500)
        assert rec.loaner.arrives_at == 600 + 60  # pick 10 min + 1 step

    def test_no_loaner_when_the_fix_is_on_time(self) -> None:
        world = make_world([make_engineer(1)], [make_depot(stock={500: 1})])
        assert _recommend(world, make_ticket(loaner_units=(500,))).loaner is None


class TestDepartPromise:
    """The depart clock (urgent +15 min): a busy engineer who sets off late breaks it."""

    # site (2, 2); engineer 1 is busy at the site itself until 0:16 (departs 1 min past the
    # 0:15 depart deadline, arrives at 0:16); engineer 2 is idle at (11, 11): 18 steps, so he
    # departs now and arrives at 0:18. Both keep the 2 h arrival and 4 h fix promises.
    WORLD = make_world(
        [
            make_engineer(1, (2, 2), busy_until=16 * 60, busy_location=grid(2, 2)),
            make_engineer(2, (11, 11)),
        ]
    )

    def test_idle_engineer_departing_now_beats_a_nearer_busy_one_who_departs_late(self) -> None:
        rec = _recommend(self.WORLD, make_ticket(at=(2, 2), depart_by=15 * 60))
        assert _ids(rec) == [2, 1]
        idle, busy = rec.options
        assert idle.keeps_all
        assert (idle.departs_at, idle.arrives_at) == (0, 18 * 60)
        assert not busy.keeps_all
        assert (busy.departs_at, busy.arrives_at) == (16 * 60, 16 * 60)
        kept = {c.promise: c.kept for c in busy.promises}
        assert kept == {Promise.DEPART: False, Promise.ARRIVAL: True, Promise.FIX: True}
        assert busy.lateness_s == 60
        assert "breaks depart by 1 min" in busy.reason

    def test_without_a_depart_clock_the_earlier_arrival_wins(self) -> None:
        # a general ticket: no depart promise, so the busy engineer's earlier arrival ranks first
        rec = _recommend(self.WORLD, make_ticket(at=(2, 2)))
        assert _ids(rec) == [1, 2]
        assert all(o.keeps_all for o in rec.options)
        assert all(Promise.DEPART not in {c.promise for c in o.promises} for o in rec.options)

    def test_whoever_departs_in_time_ranks_first_even_when_later_on_site(self) -> None:
        # arrive_by 0:10 too: the busy engineer is 1 min late to depart and 6 min late to
        # arrive; the idle one 8 min late to arrive only. The depart clock comes first (issue
        # 16: an urgent ticket's first option departs at once whenever anyone can); before,
        # the summed minutes (7 against 8) put the busy one first.
        ticket = make_ticket(at=(2, 2), depart_by=15 * 60, arrive_by=10 * 60)
        rec = _recommend(self.WORLD, ticket)
        assert _ids(rec) == [2, 1]
        assert [o.lateness_s for o in rec.options] == [8 * 60, 7 * 60]
        assert "breaks arrival by 8 min" in rec.options[0].reason
        assert "keeps depart" in rec.options[0].reason

    def test_an_idle_engineer_beats_one_whose_job_ends_just_before_the_depart_clock(
        self,
    ) -> None:
        # the dedicated engineer 1 finishes a job at the site at 0:10, 5 min before the 0:15
        # depart deadline: in time as planned, but an overrun of that job makes him leave
        # late, so the depart clock, like arrival and fix, wants the slack (30 min by
        # default) after a job: at risk. Engineer 2, idle 5 min away, departs at once.
        world = make_world(
            [
                make_engineer(1, (2, 2), busy_until=10 * 60, busy_location=grid(2, 2)),
                make_engineer(2, (7, 2)),
            ]
        )
        ticket = make_ticket(at=(2, 2), depart_by=15 * 60, dedicated_engineer=1)
        rec = _recommend(world, ticket)
        assert _ids(rec) == [2, 1]
        idle, busy = rec.options
        assert idle.cost == 0
        depart = next(c for c in busy.promises if c.promise is Promise.DEPART)
        assert depart.kept
        assert depart.short_of_slack
        assert busy.cost == depart.cost > 0
        assert "depart has 5 min to spare" in busy.reason

    def test_pickup_departure_is_checked_too(self) -> None:
        # the part is only at a depot (whose courier leaves too late for the ship promise):
        # engineer 1 still departs at 0:16, via the depot
        depot = make_depot(at=(2, 3), stock={10: 1}, ship_lead_s=9 * HOUR)
        world = make_world(list(self.WORLD.engineers), [depot])
        ticket = make_ticket(at=(2, 2), depart_by=15 * 60, parts=[(10, 1)])
        rec = _recommend(world, ticket)
        assert _ids(rec) == [2, 1]
        busy = rec.options[1]
        assert busy.parts.source is PartsSource.PICKUP
        check = next(c for c in busy.promises if c.promise is Promise.DEPART)
        assert (check.at, check.kept) == (16 * 60, False)

    def test_no_shift_extension_is_suggested_when_he_would_still_depart_late(self) -> None:
        # busy at the site until 0:30, shift ends at 0:40: 50 min overtime would fit the
        # visit, but he would depart 15 min past the depart deadline
        engineer = make_engineer(
            1, (3, 3), shifts=((-HOUR, 40 * 60),), busy_until=30 * 60, busy_location=grid(3, 3)
        )
        world = make_world([engineer])
        late = _recommend(world, make_ticket(depart_by=15 * 60)).suggestions
        assert SuggestionKind.EXTEND_SHIFT not in {s.kind for s in late}
        (on_time,) = _recommend(world, make_ticket(depart_by=HOUR)).suggestions
        assert (on_time.kind, on_time.minutes) == (SuggestionKind.EXTEND_SHIFT, 50)
