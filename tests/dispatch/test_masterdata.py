"""Master-data services of dispatch: engineers, calendars, sites, contracts, policies."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal

import pytest
from sqlalchemy.orm import Session

from db.identity import Role
from dispatch import masterdata
from dispatch.errors import (
    DuplicateError,
    InUseError,
    NotFoundError,
    NoVanError,
    ValidationFailed,
)
from dispatch.masterdata import SeverityLevel, SkillLevel
from inventory.catalogue import StockTarget
from inventory.errors import ValidationFailed as StockRuleBroken
from inventory.models import Depot, DepotKind
from tests.builders import (
    make_contract,
    make_depot,
    make_engineer,
    make_part,
    make_policy,
    make_product_line,
    make_region,
    make_site,
    make_user,
)
from tests.ticket_builders import make_ticket_world, open_ticket

T = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)


def fields_of(exc: pytest.ExceptionInfo[ValidationFailed]) -> dict[str, str]:
    return {e.field: e.reason for e in exc.value.errors}


def levels(*codes: str) -> list[SeverityLevel]:
    return [SeverityLevel(code=c, label=c, rank=i) for i, c in enumerate(codes, start=1)]


class TestEngineers:
    def test_create_with_skills_user_and_a_new_van(self, session: Session) -> None:
        region, line = make_region(session), make_product_line(session)
        user = make_user(session, Role.ENGINEER)
        engineer = masterdata.create_engineer(
            session=session, code="E-NEW", name="New", region_id=region.id, home_lat=23.0,
            home_lon=113.0, user_id=user.id, create_van=True, van_capacity=10,
            skills=[SkillLevel(line.id, 2)],
        )  # fmt: skip
        assert [(s.product_line_id, s.level) for s in engineer.skills] == [(line.id, 2)]
        van = session.get(Depot, engineer.van_depot_id)
        assert van is not None
        assert (van.kind, van.code) == (DepotKind.VAN, "VAN-E-NEW")

    def test_every_broken_rule_is_listed(self, session: Session) -> None:
        dispatcher = make_user(session, Role.DISPATCHER)
        regional = make_depot(session, None)
        with pytest.raises(ValidationFailed) as exc:
            masterdata.create_engineer(
                session=session, code="E", name="E", region_id=999_999, home_lat=91,
                home_lon=0, user_id=dispatcher.id, van_depot_id=regional.id,
                cost_per_hour=Decimal("-1"),
                skills=[SkillLevel(999_999, 1), SkillLevel(999_999, 4)],
            )  # fmt: skip
        assert set(fields_of(exc)) == {
            "region_id", "home_lat", "user_id", "van_depot_id", "cost_per_hour",
            "skills.0.product_line_id", "skills.1.product_line_id", "skills.1.level",
        }  # fmt: skip

    def test_duplicate_code(self, session: Session) -> None:
        region = make_region(session)
        make_engineer(session, region, code="E-DUP")
        with pytest.raises(DuplicateError):
            masterdata.create_engineer(
                session=session, code="E-DUP", name="x", region_id=region.id, home_lat=0,
                home_lon=0,
            )  # fmt: skip

    def test_replace_skills_is_a_diff(self, session: Session) -> None:
        region = make_region(session)
        a, b, c = (make_product_line(session) for _ in range(3))
        engineer = make_engineer(session, region, skills={a: 1, b: 2})
        changed = masterdata.replace_skills(
            session=session,
            engineer_id=engineer.id,
            skills=[SkillLevel(b.id, 3), SkillLevel(c.id, 1)],
        )
        assert sorted((s.product_line_id, s.level) for s in changed.skills) == [
            (b.id, 3),
            (c.id, 1),
        ]

    def test_a_bad_skill_leaves_the_old_ones(self, session: Session) -> None:
        region, line = make_region(session), make_product_line(session)
        engineer = make_engineer(session, region, skills={line: 2})
        with pytest.raises(ValidationFailed):
            masterdata.replace_skills(
                session=session, engineer_id=engineer.id, skills=[SkillLevel(999_999, 1)]
            )
        fresh = masterdata.replace_skills(session=session, engineer_id=engineer.id, skills=[
            SkillLevel(line.id, 2)])  # fmt: skip
        assert [(s.product_line_id, s.level) for s in fresh.skills] == [(line.id, 2)]

    def test_a_dedicated_engineer_stays_active(self, session: Session) -> None:
        region = make_region(session)
        engineer = make_engineer(session, region)
        make_site(session, region, make_contract(session, make_policy(session)), code="S-DED",
                  dedicated_engineer_id=engineer.id)  # fmt: skip
        with pytest.raises(InUseError, match="S-DED"):
            masterdata.update_engineer(
                session=session, engineer_id=engineer.id, changes={"active": False}
            )

    def test_update_and_van_rules(self, session: Session) -> None:
        region = make_region(session)
        engineer = make_engineer(session, region)
        changed = masterdata.update_engineer(
            session=session, engineer_id=engineer.id,
            changes={"name": "Renamed", "create_van": True, "home_lat": 22.5},
        )  # fmt: skip
        assert (changed.name, changed.home_lat) == ("Renamed", 22.5)
        assert changed.van_depot_id is not None
        with pytest.raises(ValidationFailed) as exc:
            masterdata.update_engineer(
                session=session, engineer_id=engineer.id, changes={"create_van": True}
            )
        assert "create_van" in fields_of(exc)

    def test_van_stock_within_capacity(self, session: Session) -> None:
        region, line = make_region(session), make_product_line(session)
        part = make_part(session, line)
        van = make_depot(session, region, kind=DepotKind.VAN, lat=None, lon=None)
        engineer = make_engineer(session, region, van_depot_id=van.id, van_capacity=3)
        stock = masterdata.set_van_stock(
            session=session, engineer_id=engineer.id, levels=[StockTarget(part.id, 3)]
        )
        assert [(s.depot_id, s.on_hand) for s in stock] == [(van.id, 3)]
        with pytest.raises(StockRuleBroken):
            masterdata.set_van_stock(
                session=session, engineer_id=engineer.id, levels=[StockTarget(part.id, 4)]
            )
        with pytest.raises(ValidationFailed) as exc:
            masterdata.update_engineer(
                session=session, engineer_id=engineer.id, changes={"van_capacity": 2}
            )
        assert "carries 3" in fields_of(exc)["van_capacity"]

    def test_van_stock_needs_a_van(self, session: Session) -> None:
        engineer = make_engineer(session, make_region(session))
        with pytest.raises(NoVanError):
            masterdata.set_van_stock(session=session, engineer_id=engineer.id, levels=[])

    def test_missing_engineer(self, session: Session) -> None:
        with pytest.raises(NotFoundError):
            masterdata.replace_skills(session=session, engineer_id=999_999, skills=[])


class TestShiftsAndAbsences:
    def test_shifts_never_overlap_across_midnight_and_week_end(self, session: Session) -> None:
        engineer = make_engineer(session, make_region(session))
        night = masterdata.add_shift(
            session=session, engineer_id=engineer.id, weekday=6, starts_at=time(22),
            ends_at=time(6),
        )  # fmt: skip
        with pytest.raises(ValidationFailed) as exc:
            masterdata.add_shift(
                session=session, engineer_id=engineer.id, weekday=0, starts_at=time(5),
                ends_at=time(9),
            )  # fmt: skip
        assert f"shift {night.id}" in fields_of(exc)["starts_at"]
        masterdata.add_shift(
            session=session, engineer_id=engineer.id, weekday=0, starts_at=time(6),
            ends_at=time(14),
        )  # fmt: skip
        masterdata.remove_shift(session=session, engineer_id=engineer.id, shift_id=night.id)
        with pytest.raises(NotFoundError):
            masterdata.remove_shift(session=session, engineer_id=engineer.id, shift_id=night.id)

    def test_a_shift_of_another_engineer_is_not_found(self, session: Session) -> None:
        region = make_region(session)
        a, b = make_engineer(session, region), make_engineer(session, region)
        shift = masterdata.add_shift(
            session=session, engineer_id=a.id, weekday=1, starts_at=time(8), ends_at=time(16)
        )
        with pytest.raises(NotFoundError):
            masterdata.remove_shift(session=session, engineer_id=b.id, shift_id=shift.id)

    def test_absences_with_a_reason_and_ending_early(self, session: Session) -> None:
        engineer = make_engineer(session, make_region(session))
        sick = masterdata.add_absence(
            session=session, engineer_id=engineer.id, starts_at=T, ends_at=T + timedelta(days=5),
            reason="sick leave",
        )  # fmt: skip
        with pytest.raises(ValidationFailed) as exc:
            masterdata.add_absence(
                session=session, engineer_id=engineer.id, starts_at=T + timedelta(days=1),
                ends_at=T + timedelta(days=2), reason="training",
            )  # fmt: skip
        assert f"absence {sick.id}" in fields_of(exc)["starts_at"]
        ended = masterdata.update_absence(
            session=session, engineer_id=engineer.id, absence_id=sick.id,
            changes={"ends_at": T + timedelta(days=1)},
        )  # fmt: skip
        assert ended.ends_at == T + timedelta(days=1)
        with pytest.raises(ValidationFailed) as exc:
            masterdata.update_absence(
                session=session, engineer_id=engineer.id, absence_id=sick.id,
                changes={"ends_at": T - timedelta(hours=1), "reason": " "},
            )  # fmt: skip
        assert set(fields_of(exc)) == {"reason"}


class TestSitesAndContracts:
    def test_site_references(self, session: Session) -> None:
        region = make_region(session)
        contract = make_contract(session, make_policy(session))
        inactive = make_engineer(session, region, active=False)
        with pytest.raises(ValidationFailed) as exc:
            masterdata.create_site(
                session=session, code="S", name="S", region_id=999_999, contract_id=999_999,
                lat=0, lon=200, dedicated_engineer_id=inactive.id,
            )  # fmt: skip
        assert set(fields_of(exc)) == {"region_id", "contract_id", "lon", "dedicated_engineer_id"}
        site = masterdata.create_site(
            session=session, code="S", name="S", region_id=region.id, contract_id=contract.id,
            lat=23, lon=113,
        )  # fmt: skip
        with pytest.raises(DuplicateError):
            masterdata.update_site(session=session, site_id=make_site(session, region, contract).id,
                                   changes={"code": "S"})  # fmt: skip
        moved = masterdata.update_site(session=session, site_id=site.id, changes={"lat": 22.0})
        assert moved.lat == 22.0

    def test_contract_period_and_policy(self, session: Session) -> None:
        policy = make_policy(session)
        with pytest.raises(ValidationFailed) as exc:
            masterdata.create_contract(
                session=session, code="C", customer_name="C", policy_id=999_999,
                starts_on=date(2025, 1, 1), ends_on=date(2025, 1, 1),
            )  # fmt: skip
        assert set(fields_of(exc)) == {"policy_id", "ends_on"}
        contract = masterdata.create_contract(
            session=session, code="C", customer_name="C", policy_id=policy.id,
            starts_on=date(2025, 1, 1),
        )  # fmt: skip
        with pytest.raises(ValidationFailed):
            masterdata.update_contract(
                session=session, contract_id=contract.id, changes={"ends_on": date(2024, 12, 31)}
            )

    def test_a_new_policy_must_know_the_tickets_severities(self, session: Session) -> None:
        world = make_ticket_world(session)
        open_ticket(session, world, severity="serious")
        other = make_policy(session, severities=2)  # codes S1, S2
        with pytest.raises(InUseError, match="serious"):
            masterdata.update_contract(
                session=session, contract_id=world.contract.id, changes={"policy_id": other.id}
            )
        foreign = make_contract(session, other)
        with pytest.raises(InUseError):
            masterdata.update_site(
                session=session, site_id=world.site.id, changes={"contract_id": foreign.id}
            )


class TestPolicies:
    def test_create_with_defaults(self, session: Session) -> None:
        policy = masterdata.create_policy(
            session=session, code="P", name="P", severities=levels("urgent", "general"),
            warranty_years=2,
        )  # fmt: skip
        assert [(s.code, s.rank) for s in policy.severities] == [("urgent", 1), ("general", 2)]
        assert (policy.warranty_years, policy.swap_within_min) == (2, 120)

    def test_severity_rules(self, session: Session) -> None:
        bad = [
            SeverityLevel(code="a", label="a", rank=1, fix_min=-1),
            SeverityLevel(code="a", label="b", rank=1),
            SeverityLevel(code="c", label="c", rank=5),
        ]
        with pytest.raises(ValidationFailed) as exc:
            masterdata.create_policy(
                session=session, code="P", name="P", severities=bad, timezone="Mars/Olympus",
                currency="yuan", swap_within_min=0,
            )  # fmt: skip
        assert set(fields_of(exc)) == {
            "severities.0.fix_min", "severities.1.code", "severities.1.rank",
            "severities.2.rank", "timezone", "currency", "swap_within_min",
        }  # fmt: skip

    def test_replace_severities_reusing_codes_and_ranks(self, session: Session) -> None:
        policy = make_policy(session, severities=3)  # S1, S2, S3
        new = [SeverityLevel(code="S2", label="x", rank=1), SeverityLevel("S1", "y", 2)]
        changed = masterdata.update_policy(
            session=session, policy_id=policy.id, changes={"severities": new, "name": "New"}
        )
        assert [(s.code, s.rank) for s in changed.severities] == [("S2", 1), ("S1", 2)]
        assert changed.name == "New"

    def test_codes_in_use_stay(self, session: Session) -> None:
        world = make_ticket_world(session)
        open_ticket(session, world, severity="urgent")
        with pytest.raises(InUseError, match="urgent"):
            masterdata.update_policy(
                session=session, policy_id=world.policy.id,
                changes={"severities": levels("serious", "general")},
            )  # fmt: skip

    def test_duplicate_code_and_missing_policy(self, session: Session) -> None:
        make_policy(session, code="TAKEN")
        with pytest.raises(DuplicateError):
            masterdata.create_policy(
                session=session, code="TAKEN", name="x", severities=levels("a")
            )
        with pytest.raises(NotFoundError):
            masterdata.update_policy(session=session, policy_id=999_999, changes={"name": "x"})
