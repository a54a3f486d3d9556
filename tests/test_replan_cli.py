"""`spares dispatch replan` and `spares dispatch diff` on a throwaway SQLite file."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session
from typer.testing import CliRunner

import db
import optimizer as opt
import spares.cli as cli
from dispatch.models import (
    Absence,
    Assignment,
    AssignmentStatus,
    Engineer,
    InspectionFrequency,
    Plan,
    PlanStage,
    Ticket,
)
from dispatch.planning import PlanRequest, plan_region
from dispatch.publish import publish_plan
from tests.dispatch_world import make_dispatch_world
from tests.ticket_builders import T0, make_ticket_type, make_ticket_world, open_ticket

runner = CliRunner()
AS_OF = ("--as-of", T0.isoformat(), "--failure-limit", "50")


def invoke(url: str, *args: str) -> Any:
    return runner.invoke(cli.app, ["--database-url", url, *args], catch_exceptions=False)


def _published_world(tmp_path: Path) -> tuple[str, str, str, int]:
    """A region whose one ticket is published; a new urgent ticket waits. (url, region, ...)"""
    url = f"sqlite:///{tmp_path}/cli.db"
    engine = db.make_engine(url)
    db.upgrade(engine)
    with Session(engine, expire_on_commit=False) as s, s.begin():
        dw = make_dispatch_world(s)
        request = PlanRequest(region_id=dw.base.region.id, time_limit_s=0)
        plan = plan_region(s, request=request, now=T0, travel=opt.GeodesicTravelTimes())
        publish_plan(s, plan_id=plan.id, user=dw.base.dispatcher, now=T0)
        new = open_ticket(s, dw.base, parts=[])
    engine.dispose()
    return url, dw.base.region.code, dw.base.dispatcher.name, new.id


def _plans(url: str) -> list[tuple[int, PlanStage]]:
    engine = db.make_engine(url)
    with Session(engine) as s:
        found = [(p.id, p.stage) for p in s.scalars(select(Plan).order_by(Plan.id))]
    engine.dispose()
    return found


def test_replan_stores_a_draft_and_prints_the_diff(tmp_path: Path) -> None:
    url, region, _, new = _published_world(tmp_path)
    result = invoke(url, "dispatch", "replan", "--region", region, *AS_OF)
    assert result.exit_code == 0, result.output
    assert "plan 2 stored as a draft (feasible: True)" in result.output
    assert "against published plan 1" in result.output
    assert f"({new})" in result.output  # the new ticket's row
    # The published ticket keeps its engineer (its ETA may move within the tolerance: rush
    # hours price the drive at the re-plan's hour); the new one is served.
    assert "0 move engineer, 1 newly served, 0 newly dropped" in result.output
    assert _plans(url) == [(1, PlanStage.PUBLISHED), (2, PlanStage.DRAFT)]
    again = invoke(url, "dispatch", "diff", "2")
    assert again.exit_code == 0, again.output
    assert "Plan 2 against published plan 1" in again.output
    assert "1 newly served" in again.output


def test_replan_may_allow_larger_eta_moves(tmp_path: Path) -> None:
    url, region, _, _ = _published_world(tmp_path)
    result = invoke(url, "dispatch", "replan", "--region", region, "--allow-eta-moves", *AS_OF)
    assert result.exit_code == 0, result.output
    engine = db.make_engine(url)
    with Session(engine) as s:
        draft = s.get(Plan, 2)
        assert draft is not None
        assert draft.params["replan"]["allow_eta_moves"] is True
    engine.dispose()


def test_replan_can_publish(tmp_path: Path) -> None:
    url, region, dispatcher, _ = _published_world(tmp_path)
    result = invoke(
        url, "dispatch", "replan", "--region", region, "--publish", "--user", dispatcher, *AS_OF
    )
    assert result.exit_code == 0, result.output
    assert "plan 2 published" in result.output
    assert _plans(url) == [(1, PlanStage.SUPERSEDED), (2, PlanStage.PUBLISHED)]
    same = invoke(url, "dispatch", "diff", "1")  # the old plan against the new one
    assert same.exit_code == 0, same.output


def test_refusals(tmp_path: Path) -> None:
    url, region, _, _ = _published_world(tmp_path)
    assert invoke(url, "dispatch", "diff", "99").exit_code == 1
    unknown = invoke(url, "dispatch", "replan", "--region", "NOWHERE", *AS_OF)
    assert unknown.exit_code == 2  # a usage error: the region typed names none
    assert "no region has the id, code or name 'NOWHERE'" in unknown.output
    no_user = invoke(url, "dispatch", "replan", "--region", region, "--publish", *AS_OF)
    assert no_user.exit_code == 2


def test_inspections_open_once(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/cli.db"
    engine = db.make_engine(url)
    db.upgrade(engine)
    with Session(engine, expire_on_commit=False) as s, s.begin():
        w = make_ticket_world(s)
        w.policy.inspection_frequency = InspectionFrequency.MONTHLY
        make_ticket_type(s, w.line, fault_class="inspection")
    engine.dispose()
    args = ("dispatch", "inspections", "--month", "2026-11", "--user", w.dispatcher.name)
    first = invoke(url, *args, "--as-of", T0.isoformat())
    assert first.exit_code == 0, first.output
    assert "1 inspection ticket(s) opened, 0 existed already" in first.output
    again = invoke(url, *args, "--as-of", T0.isoformat())
    assert "0 inspection ticket(s) opened, 1 existed already" in again.output
    assert invoke(url, *args[:3], "11/2026", "--user", "x").exit_code == 2
    assert invoke(url, *args[:4], "--user", "nobody").exit_code == 2
    ahead = invoke(
        url, *args[:3], "2027-06", "--user", w.dispatcher.name, "--as-of", T0.isoformat()
    )
    assert ahead.exit_code == 1


def _assigned_engineer(url: str) -> tuple[int, int]:
    """(engineer id, ticket id) of the published plan's one active assignment."""
    engine = db.make_engine(url)
    with Session(engine) as s:
        a = s.scalars(select(Assignment).where(Assignment.status == AssignmentStatus.ACTIVE)).one()
        found = (a.engineer_id, a.ticket_id)
    engine.dispose()
    return found


def test_disrupt_records_an_absence_and_prints_the_draft(tmp_path: Path) -> None:
    url, _, dispatcher, _ = _published_world(tmp_path)
    gone, ticket = _assigned_engineer(url)
    engine = db.make_engine(url)
    with Session(engine) as s:
        code = s.get(Ticket, ticket).code  # type: ignore[union-attr]
        engineer_code = s.get(Engineer, gone).code  # type: ignore[union-attr]
        engineer_name = s.get(Engineer, gone).name  # type: ignore[union-attr]
    engine.dispose()
    result = invoke(
        url, "dispatch", "disrupt", "1", "--absent", engineer_code.lower(), "--reason", "sick",
        "--user", dispatcher, *AS_OF,
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    # issue 17: the cause names the engineer (name and code), not his id
    absent = f"engineer {engineer_name} ({engineer_code}) is absent"
    assert f"{absent}: plan 2 stored as a draft against published plan 1" in (
        " ".join(result.output.split())
    )
    assert "absence 1 is in the engineer's calendar" in result.output
    # issue 17: the engineer by his code, the tickets by theirs
    assert f"visits released by the disruption: {code} ({ticket})" in result.output
    assert "Plan 2 against published plan 1" in result.output
    assert _plans(url) == [(1, PlanStage.PUBLISHED), (2, PlanStage.DRAFT)]
    engine = db.make_engine(url)
    with Session(engine) as s:
        (absence,) = s.scalars(select(Absence)).all()
        assert (absence.engineer_id, absence.reason) == (gone, "sick")
    engine.dispose()


def test_disrupt_refusals(tmp_path: Path) -> None:
    url, _, dispatcher, new = _published_world(tmp_path)
    base = ("dispatch", "disrupt", "1", "--user", dispatcher, *AS_OF)
    assert invoke(url, *base).exit_code == 2  # no disruption given
    assert invoke(url, *base, "--absent", "1", "--overrun", "1").exit_code == 2  # two
    assert invoke(url, *base, "--overrun", "1").exit_code == 2  # no --extra-min
    assert invoke(url, *base, "--depot", "1").exit_code == 2  # no --part
    stray = invoke(url, *base, "--overrun", str(new), "--extra-min", "10")
    assert stray.exit_code == 1
    assert f"ticket {new} is not in plan 1" in stray.output
    assert _plans(url) == [(1, PlanStage.PUBLISHED)]


def test_the_parts_sources_name_the_depot_and_the_part(tmp_path: Path) -> None:
    """Issue 17: the diff's parts sources read 'depot:3 part 111 x1'."""
    url = f"sqlite:///{tmp_path}/cli.db"
    engine = db.make_engine(url)
    db.upgrade(engine)
    with Session(engine, expire_on_commit=False) as s, s.begin():
        dw = make_dispatch_world(s)  # its ticket needs a part; nothing is published
    engine.dispose()
    result = invoke(url, "dispatch", "replan", "--region", dw.base.region.code, *AS_OF)
    assert result.exit_code == 0, result.output
    assert "Parts sources that change" in result.output
    assert "depot:" not in result.output
    assert f"part {dw.part.id} " not in result.output
    assert dw.part.sku in result.output
    assert dw.depot.code in result.output or "van of" in result.output
