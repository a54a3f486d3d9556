"""Loading the demo world into SQLite and PostgreSQL through the rolled-back `session`."""

from __future__ import annotations

from decimal import Decimal

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

import dispatch.models  # noqa: F401 (registers the tables)
import inventory.models  # noqa: F401
from db.base import Base
from dispatch.errors import WorldNotEmptyError
from dispatch.models import Ticket
from dispatch.world import World, WorldSize, generate_world, load_world, world_is_empty
from inventory.models import Part, Region

SEED = 7


@pytest.fixture(scope="module")
def world() -> World:
    return generate_world(SEED, WorldSize.SMALL)


class TestLoadWorld:
    def test_loads_every_row(self, session: Session, world: World) -> None:
        assert world_is_empty(session)
        load_world(session, world)
        for name, rows in world.tables.items():
            table = Base.metadata.tables[name]
            count = session.execute(select(func.count()).select_from(table)).scalar_one()
            assert count == len(rows), name
        assert not world_is_empty(session)

    def test_values_round_trip(self, session: Session, world: World) -> None:
        load_world(session, world)
        part = world.rows("parts")[0]
        stored = session.get(Part, part["id"])
        assert stored is not None
        assert stored.cost_price == part["cost_price"]
        assert isinstance(stored.cost_price, Decimal)
        ticket = world.rows("tickets")[0]
        loaded = session.get(Ticket, ticket["id"])
        assert loaded is not None
        assert (loaded.reported_at, loaded.fix_by) == (ticket["reported_at"], ticket["fix_by"])
        assert loaded.version == 1

    def test_loading_twice_is_refused(self, session: Session, world: World) -> None:
        load_world(session, world)
        with pytest.raises(WorldNotEmptyError) as caught:
            load_world(session, world)
        assert "regions" in caught.value.tables

    def test_ids_continue_after_the_world(self, session: Session, world: World) -> None:
        # On PostgreSQL this needs the sequence reset: explicit ids do not advance a sequence.
        load_world(session, world)
        region = Region(code="hongkong-test", name="Test", lat=22.3, lon=114.2)
        session.add(region)
        session.flush()
        assert region.id == world.counts["regions"] + 1
        part = Part(
            sku="TEST-1",
            name="Test part",
            product_line_id=1,
            cost_price=Decimal("1.00"),
            list_price=Decimal("2.00"),
        )
        session.add(part)
        session.flush()
        assert part.id == world.counts["parts"] + 1
