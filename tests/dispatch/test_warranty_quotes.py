"""Warranty over stored facts, quotes that follow the contract, and what a fix records."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

import optimizer as opt
from dispatch.assign import confirm_assignment
from dispatch.errors import InvalidTicketError, NotFoundError
from dispatch.field import PartUse, record_parts_used
from dispatch.models import TicketStatus
from dispatch.quotes import QuotePart, quote_repair, quotes_of_ticket
from dispatch.tickets import transition
from dispatch.warranty_service import swap_dead_on_arrival, warranty_of_asset
from inventory.models import InstalledPart, LedgerEntry, LedgerKind, QuoteKind
from inventory.warranty import Cause, CoverageRule
from tests.builders import make_part
from tests.dispatch_world import DispatchWorld, make_dispatch_world
from tests.ticket_builders import T0

# The builders' asset: accepted 2023-05-02 -> covered 2023-05-03 .. 2026-05-02 (3 years).
LAST_DAY = date(2026, 5, 2)


@pytest.fixture
def dw(session: Session) -> DispatchWorld:
    world = make_dispatch_world(session)
    world.part.key_part = True
    session.add(
        InstalledPart(
            asset_id=world.base.asset.id,
            part_id=world.part.id,
            serial="OLD-1",
            installed_on=date(2023, 5, 1),
        )
    )
    session.flush()
    return world


class TestWarrantyCheck:
    def test_last_day_and_day_after(self, session: Session, dw: DispatchWorld) -> None:
        inside = warranty_of_asset(session, asset_id=dw.base.asset.id, on=LAST_DAY, now=T0)
        after = warranty_of_asset(
            session, asset_id=dw.base.asset.id, on=LAST_DAY + timedelta(days=1), now=T0
        )
        assert inside.coverage.covered
        assert not after.coverage.covered
        assert inside.coverage.rule is CoverageRule.ASSET_WARRANTY
        [part] = inside.parts
        assert part.part.id == dw.part.id
        assert part.coverage.covered

    def test_today_is_judged_in_the_contract_time_zone(
        self, session: Session, dw: DispatchWorld
    ) -> None:
        # 2026-05-02 17:00 UTC is already 2026-05-03 01:00 in Guangdong: expired there
        late = datetime(2026, 5, 2, 17, 0, tzinfo=UTC)
        w = warranty_of_asset(session, asset_id=dw.base.asset.id, on=None, now=late)
        assert w.on == date(2026, 5, 3)
        assert not w.coverage.covered

    def test_unknown_asset(self, session: Session, dw: DispatchWorld) -> None:
        with pytest.raises(NotFoundError):
            warranty_of_asset(session, asset_id=10**9, on=None, now=T0)


class TestQuotes:
    def test_inside_warranty_is_free(self, session: Session, dw: DispatchWorld) -> None:
        q = quote_repair(
            session,
            user=dw.base.dispatcher,
            now=T0,
            asset_id=dw.base.asset.id,
            parts=[QuotePart(dw.part.id)],
            on=date(2025, 1, 1),
        )
        assert (q.total, q.warranty_job) == (Decimal("0"), True)

    def test_after_warranty_parts_at_cost_only(self, session: Session, dw: DispatchWorld) -> None:
        q = quote_repair(session, user=dw.base.dispatcher, now=T0, ticket_id=dw.ticket.id)
        assert q.on_date == date(2026, 11, 2)
        assert q.total == dw.part.cost_price
        rules = {line["kind"]: line["rule"] for line in q.lines}
        assert rules["parts"] == "post_warranty_parts_at_cost"
        assert rules["labour"] == "post_warranty_no_labour_or_service_fee"
        assert quotes_of_ticket(session, dw.ticket.id) == [q]

    def test_customer_damage_at_cost_inside_warranty(
        self, session: Session, dw: DispatchWorld
    ) -> None:
        q = quote_repair(
            session,
            user=dw.base.dispatcher,
            now=T0,
            asset_id=dw.base.asset.id,
            parts=[QuotePart(dw.part.id, 2)],
            cause=Cause.CUSTOMER_DAMAGE,
            on=date(2025, 1, 1),
        )
        assert q.total == 2 * dw.part.cost_price
        assert not q.warranty_job

    def test_substitute_priced_as_the_replaced_part(
        self, session: Session, dw: DispatchWorld
    ) -> None:
        better = make_part(
            session, dw.base.line, cost_price=Decimal("900"), list_price=Decimal("1200")
        )
        from inventory.models import PartSubstitute

        session.add(PartSubstitute(part_id=dw.part.id, substitute_id=better.id))
        session.flush()
        q = quote_repair(
            session,
            user=dw.base.dispatcher,
            now=T0,
            asset_id=dw.base.asset.id,
            parts=[QuotePart(better.id, 1, replaces_part_id=dw.part.id)],
        )
        assert q.total == dw.part.cost_price
        with pytest.raises(InvalidTicketError, match="not a substitute"):
            quote_repair(
                session,
                user=None,
                now=T0,
                asset_id=dw.base.asset.id,
                parts=[QuotePart(dw.part.id, 1, replaces_part_id=better.id)],
            )

    def test_needs_an_asset(self, session: Session, dw: DispatchWorld) -> None:
        with pytest.raises(InvalidTicketError, match="name an asset"):
            quote_repair(session, user=None, now=T0, parts=[])


def test_fix_prices_the_work_and_swaps_the_key_part(session: Session, dw: DispatchWorld) -> None:
    dw.base.engineer.user_id = None
    session.flush()
    dw.haizhu.user_id = dw.base.engineer_user.id
    session.flush()
    confirm_assignment(
        session,
        ticket_id=dw.ticket.id,
        engineer_id=dw.haizhu.id,
        user=dw.base.dispatcher,
        now=T0,
        travel=opt.GeodesicTravelTimes(),
    )
    for step in (TicketStatus.EN_ROUTE, TicketStatus.ON_SITE):
        transition(session, ticket_id=dw.ticket.id, target=step, user=dw.base.dispatcher, now=T0)
    record_parts_used(
        session,
        user=dw.base.engineer_user,
        ticket_id=dw.ticket.id,
        uses=[PartUse(dw.part.id, 1, serial="NEW-1")],
        now=T0,
    )
    transition(
        session,
        ticket_id=dw.ticket.id,
        target=TicketStatus.FIXED,
        user=dw.base.engineer_user,
        now=T0,
    )
    [final] = [q for q in quotes_of_ticket(session, dw.ticket.id) if q.kind is QuoteKind.FINAL]
    assert final.total == dw.part.cost_price  # the asset is out of warranty on 2026-11-02
    installed = list(
        session.scalars(
            select(InstalledPart)
            .where(InstalledPart.asset_id == dw.base.asset.id)
            .order_by(InstalledPart.id)
        )
    )
    old, new = installed
    assert old.removed_on == date(2026, 11, 2)
    assert (new.serial, new.warranty_starts_on) == ("NEW-1", date(2026, 11, 2))
    returned = session.scalars(
        select(LedgerEntry).where(LedgerEntry.kind == LedgerKind.RETURN)
    ).one()
    assert (returned.depot_id, returned.d_returns) == (dw.depot.id, 1)
    w = warranty_of_asset(session, asset_id=dw.base.asset.id, on=date(2027, 1, 1), now=T0)
    assert not w.coverage.covered
    assert [p.coverage.rule for p in w.parts] == [CoverageRule.RESTARTED_PART_WARRANTY]
    assert w.parts[0].coverage.covered


def test_dead_on_arrival_keeps_coverage(session: Session, dw: DispatchWorld) -> None:
    fitted = session.scalars(select(InstalledPart)).one()
    fitted.warranty_starts_on = date(2026, 10, 1)
    session.flush()
    new = swap_dead_on_arrival(
        session,
        asset_id=dw.base.asset.id,
        installed_part_id=fitted.id,
        replacement_part_id=dw.part.id,
        serial="DOA-2",
        user=dw.base.dispatcher,
        now=T0,
    )
    assert new.warranty_starts_on == date(2026, 10, 1)
    other = make_part(session, dw.base.line)
    with pytest.raises(InvalidTicketError, match="neither"):
        swap_dead_on_arrival(
            session,
            asset_id=dw.base.asset.id,
            installed_part_id=new.id,
            replacement_part_id=other.id,
            serial=None,
            user=dw.base.dispatcher,
            now=T0,
        )
