"""Builders for tickets: the default policy of domain.md, ticket types and a ready world."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.orm import Session

from db import Role, User
from dispatch.models import (
    Channel,
    Contract,
    Engineer,
    PolicySeverity,
    PromisePolicy,
    Site,
    TicketType,
)
from dispatch.tickets import TicketIntake, create_ticket
from inventory.models import Asset, Part, ProductLine, Region
from tests.builders import (
    _add,
    _n,
    make_asset,
    make_contract,
    make_engineer,
    make_part,
    make_product_line,
    make_product_model,
    make_region,
    make_site,
    make_user,
)

T0 = datetime(2026, 11, 2, 8, 0, tzinfo=UTC)

# domain.md, "precise defaults": (code, rank, respond, depart, arrive, fix) in minutes
DEFAULT_LEVELS = (
    ("urgent", 1, 10, 15, 120, 240),
    ("serious", 2, 15, 60, 120, 240),
    ("general", 3, 120, None, 120, 480),
)


def make_default_policy(session: Session, **kw: Any) -> PromisePolicy:
    n = _n()
    policy = _add(session, PromisePolicy(**({"code": f"STD{n}", "name": "Default"} | kw)))
    for code, rank, respond, depart, arrive, fix in DEFAULT_LEVELS:
        level = PolicySeverity(
            policy_id=policy.id,
            code=code,
            label=code,
            rank=rank,
            respond_min=respond,
            depart_min=depart,
            arrive_min=arrive,
            fix_min=fix,
        )
        _add(session, level)
    return policy


def make_ticket_type(session: Session, line: ProductLine, **kw: Any) -> TicketType:
    n = _n()
    fields = {
        "code": f"TT{n}",
        "name": f"Type {n}",
        "product_line_id": line.id,
        "fault_class": f"fault-{n}",
        "service_min": 60,
    }
    return _add(session, TicketType(**(fields | kw)))


@dataclass
class TicketWorld:
    region: Region
    line: ProductLine
    policy: PromisePolicy
    contract: Contract
    site: Site
    asset: Asset
    part: Part
    ticket_type: TicketType
    engineer: Engineer
    dispatcher: User
    engineer_user: User

    def intake(self, **kw: Any) -> TicketIntake:
        fields: dict[str, Any] = {
            "site_id": self.site.id,
            "ticket_type_id": self.ticket_type.id,
            "severity": "urgent",
            "channel": Channel.PHONE,
            "asset_id": self.asset.id,
            "reported_at": T0,
        }
        return TicketIntake(**(fields | kw))


def make_ticket_world(session: Session) -> TicketWorld:
    region = make_region(session)
    line = make_product_line(session)
    model = make_product_model(session, line)
    policy = make_default_policy(session)
    contract = make_contract(session, policy)
    site = make_site(session, region, contract)
    engineer_user = make_user(session, Role.ENGINEER)
    engineer = make_engineer(session, region, skills={line: 2}, user_id=engineer_user.id)
    return TicketWorld(
        region=region,
        line=line,
        policy=policy,
        contract=contract,
        site=site,
        asset=make_asset(session, site, model),
        part=make_part(session, line, fits=(model,)),
        ticket_type=make_ticket_type(session, line),
        engineer=engineer,
        dispatcher=make_user(session, Role.DISPATCHER),
        engineer_user=engineer_user,
    )


def open_ticket(session: Session, world: TicketWorld, **kw: Any) -> Any:
    return create_ticket(session, world.intake(**kw), user=world.dispatcher, now=T0)
