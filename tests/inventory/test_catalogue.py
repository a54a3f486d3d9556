"""Master-data services of inventory: depots, parts and a depot's stock, on both databases."""

from __future__ import annotations

from datetime import time
from decimal import Decimal

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from inventory import catalogue
from inventory.catalogue import StockTarget
from inventory.errors import DuplicateError, NotFoundError, ValidationFailed
from inventory.models import DepotKind, StockLevel
from tests.builders import (
    make_depot,
    make_part,
    make_product_line,
    make_product_model,
    make_region,
)


def fields_of(exc: pytest.ExceptionInfo[ValidationFailed]) -> dict[str, str]:
    return {e.field: e.reason for e in exc.value.errors}


class TestDepots:
    def test_create_a_regional_depot(self, session: Session) -> None:
        region = make_region(session)
        depot = catalogue.create_depot(
            session=session, code="D-NEW", name="New", kind=DepotKind.REGIONAL,
            region_id=region.id, lat=23.0, lon=113.0, opens_at=time(8), closes_at=time(20),
        )  # fmt: skip
        assert depot.id is not None
        assert (depot.opens_at, depot.closes_at) == (time(8), time(20))

    def test_a_van_needs_no_location(self, session: Session) -> None:
        depot = catalogue.create_depot(session=session, code="V", name="V", kind=DepotKind.VAN)
        assert depot.lat is None

    def test_every_broken_rule_is_listed(self, session: Session) -> None:
        with pytest.raises(ValidationFailed) as exc:
            catalogue.create_depot(
                session=session, code="D", name="D", kind=DepotKind.CENTRAL, region_id=999_999,
                opens_at=time(8),
            )  # fmt: skip
        assert set(fields_of(exc)) == {"region_id", "lat", "lon", "closes_at"}

    def test_duplicate_code(self, session: Session) -> None:
        make_depot(session, None, code="DUP")
        with pytest.raises(DuplicateError, match="code 'DUP'"):
            catalogue.create_depot(session=session, code="DUP", name="x", kind=DepotKind.VAN)

    def test_update_checks_the_merged_depot(self, session: Session) -> None:
        depot = make_depot(session, None, opens_at=time(8), closes_at=time(18))
        with pytest.raises(ValidationFailed) as exc:
            catalogue.update_depot(session=session, depot_id=depot.id, changes={"opens_at": None})
        assert "opens_at" in fields_of(exc)
        changed = catalogue.update_depot(
            session=session, depot_id=depot.id, changes={"opens_at": None, "closes_at": None}
        )
        assert changed.opens_at is None
        assert changed.closes_at is None

    def test_a_depot_never_becomes_a_van(self, session: Session) -> None:
        depot = make_depot(session, None)
        with pytest.raises(ValidationFailed) as exc:
            catalogue.update_depot(
                session=session, depot_id=depot.id, changes={"kind": DepotKind.VAN}
            )
        assert "kind" in fields_of(exc)

    def test_update_of_a_missing_depot(self, session: Session) -> None:
        with pytest.raises(NotFoundError):
            catalogue.update_depot(session=session, depot_id=999_999, changes={"name": "x"})


class TestParts:
    def test_create_with_fits_and_substitutes(self, session: Session) -> None:
        line = make_product_line(session)
        model = make_product_model(session, line)
        old = make_part(session, line)
        part = catalogue.create_part(
            session=session, sku="NEW-1", name="New", product_line_id=line.id,
            cost_price=Decimal("10.50"), list_price=Decimal("12"), fits=[model.id],
            substitutes=[old.id],
        )  # fmt: skip
        assert [m.id for m in part.fits] == [model.id]
        assert [p.id for p in part.substitutes] == [old.id]

    def test_money_and_references(self, session: Session) -> None:
        line = make_product_line(session)
        other = make_product_line(session)
        foreign = make_product_model(session, other)
        with pytest.raises(ValidationFailed) as exc:
            catalogue.create_part(
                session=session, sku="X", name="X", product_line_id=line.id,
                cost_price=Decimal("10.001"), list_price=Decimal("5"), currency="cny",
                supplier_id=999_999, fits=[foreign.id, 999_999],
            )  # fmt: skip
        assert set(fields_of(exc)) == {
            "cost_price", "currency", "supplier_id", "fits.0", "fits.1",
        }  # fmt: skip

    def test_list_price_not_below_cost(self, session: Session) -> None:
        line = make_product_line(session)
        with pytest.raises(ValidationFailed) as exc:
            catalogue.create_part(
                session=session, sku="X", name="X", product_line_id=line.id,
                cost_price=Decimal("10"), list_price=Decimal("9.99"),
            )  # fmt: skip
        assert fields_of(exc) == {"list_price": "must not be below cost_price"}

    def test_a_part_never_substitutes_itself(self, session: Session) -> None:
        line = make_product_line(session)
        part = make_part(session, line)
        with pytest.raises(ValidationFailed) as exc:
            catalogue.update_part(
                session=session, part_id=part.id, changes={"substitutes": [part.id]}
            )
        assert fields_of(exc) == {"substitutes.0": "a part cannot substitute itself"}

    def test_substitutes_of_another_line_are_refused(self, session: Session) -> None:
        part = make_part(session, make_product_line(session))
        foreign = make_part(session, make_product_line(session))
        with pytest.raises(ValidationFailed) as exc:
            catalogue.update_part(
                session=session, part_id=part.id, changes={"substitutes": [foreign.id]}
            )
        assert "another product line" in fields_of(exc)["substitutes.0"]

    def test_update_replaces_lists_and_checks_merged_prices(self, session: Session) -> None:
        line = make_product_line(session)
        m1, m2 = make_product_model(session, line), make_product_model(session, line)
        part = make_part(session, line, fits=(m1,))
        with pytest.raises(ValidationFailed):
            catalogue.update_part(
                session=session, part_id=part.id, changes={"list_price": Decimal("1")}
            )
        changed = catalogue.update_part(
            session=session, part_id=part.id, changes={"fits": [m2.id], "name": "Renamed"}
        )
        assert [m.id for m in changed.fits] == [m2.id]
        assert changed.name == "Renamed"

    def test_moving_a_part_to_another_line_checks_who_lists_it(self, session: Session) -> None:
        line, other = make_product_line(session), make_product_line(session)
        part = make_part(session, line)
        make_part(session, line, sku="USES-IT", substitutes=(part,))
        with pytest.raises(ValidationFailed) as exc:
            catalogue.update_part(
                session=session, part_id=part.id, changes={"product_line_id": other.id}
            )
        assert "USES-IT" in fields_of(exc)["product_line_id"]

    def test_duplicate_sku(self, session: Session) -> None:
        line = make_product_line(session)
        make_part(session, line, sku="TAKEN")
        part = make_part(session, line)
        with pytest.raises(DuplicateError):
            catalogue.update_part(session=session, part_id=part.id, changes={"sku": "TAKEN"})


class TestDepotStock:
    def test_set_replace_and_remove(self, session: Session) -> None:
        line = make_product_line(session)
        a, b = make_part(session, line), make_part(session, line)
        van = make_depot(session, None, kind=DepotKind.VAN, lat=None, lon=None)
        levels = catalogue.set_depot_stock(
            session=session, depot_id=van.id, levels=[StockTarget(a.id, 2), StockTarget(b.id, 1)]
        )
        assert [(s.part_id, s.on_hand) for s in levels] == [(a.id, 2), (b.id, 1)]
        levels = catalogue.set_depot_stock(
            session=session, depot_id=van.id, levels=[StockTarget(b.id, 3, reorder_point=1)]
        )
        assert [(s.part_id, s.on_hand, s.reorder_point) for s in levels] == [(b.id, 3, 1)]

    def test_reserved_stock_cannot_vanish(self, session: Session) -> None:
        line = make_product_line(session)
        a = make_part(session, line)
        depot = make_depot(session, None)
        session.add(StockLevel(depot_id=depot.id, part_id=a.id, on_hand=3, reserved=2))
        session.flush()
        with pytest.raises(ValidationFailed) as exc:
            catalogue.set_depot_stock(session=session, depot_id=depot.id, levels=[])
        assert "levels" in fields_of(exc)
        with pytest.raises(ValidationFailed) as exc:
            catalogue.set_depot_stock(
                session=session, depot_id=depot.id, levels=[StockTarget(a.id, 1)]
            )
        assert "2 are reserved" in fields_of(exc)["levels.0.on_hand"]

    def test_capacity_duplicates_and_unknown_parts(self, session: Session) -> None:
        line = make_product_line(session)
        a = make_part(session, line)
        depot = make_depot(session, None)
        with pytest.raises(ValidationFailed) as exc:
            catalogue.set_depot_stock(
                session=session, depot_id=depot.id, capacity=5,
                levels=[StockTarget(a.id, 4), StockTarget(a.id, 2), StockTarget(999_999, 0)],
            )  # fmt: skip
        assert set(fields_of(exc)) == {"levels", "levels.1.part_id", "levels.2.part_id"}
        rows = session.scalars(select(StockLevel).where(StockLevel.depot_id == depot.id))
        assert list(rows) == []
