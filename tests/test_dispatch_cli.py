"""`spares dispatch plan|recommend` and `spares worker --once` on a throwaway SQLite file."""

from __future__ import annotations

import io
import json
from datetime import timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from rich.console import Console
from sqlalchemy import select
from sqlalchemy.orm import Session
from typer.testing import CliRunner

import db
import spares.cli as cli
from db.jobs import Job, JobStatus
from dispatch.models import Plan, Site
from dispatch.planning import PlanRequest, enqueue_plan, prepare_plan
from tests.dispatch_world import DispatchWorld, add_crowd, make_dispatch_world
from tests.ticket_builders import T0

runner = CliRunner()


def invoke(url: str, *args: str) -> Any:
    return runner.invoke(cli.app, ["--database-url", url, *args], catch_exceptions=False)


def _world(tmp_path: Path) -> tuple[str, DispatchWorld]:
    url = f"sqlite:///{tmp_path}/cli.db"
    engine = db.make_engine(url)
    db.upgrade(engine)
    with Session(engine, expire_on_commit=False) as s, s.begin():
        dw = make_dispatch_world(s)
    engine.dispose()
    return url, dw


def test_plan_a_region_prints_a_summary_and_writes_geojson(tmp_path: Path) -> None:
    url, dw = _world(tmp_path)
    out = tmp_path / "plan.geojson"
    args = ("--failure-limit", "200", "--as-of", T0.isoformat(), "--geojson", str(out))
    result = invoke(url, "dispatch", "plan", "--region", dw.base.region.code, *args)
    assert result.exit_code == 0, result.output
    assert "Plan 1: 1 routes" in result.output
    assert "Promises kept" in result.output
    assert "served 1, dropped 0" in result.output
    assert "validator: no violations" in result.output
    fc = json.loads(out.read_text())
    assert fc["type"] == "FeatureCollection"
    assert any(f["properties"].get("ticket_id") == dw.ticket.id for f in fc["features"])


def test_plan_refusals_are_usage_errors(tmp_path: Path) -> None:
    url, dw = _world(tmp_path)
    unknown = invoke(url, "dispatch", "plan", "--region", "NOWHERE")
    assert unknown.exit_code == 2  # a region the person typed that names none
    assert "no region has the id, code or name 'NOWHERE'" in unknown.output
    assert invoke(url, "dispatch", "plan").exit_code == 2  # neither --region nor --ticket


def test_recommend_prints_options_and_who_is_left_out(tmp_path: Path) -> None:
    url, dw = _world(tmp_path)
    result = invoke(url, "dispatch", "recommend", str(dw.ticket.id), "--as-of", T0.isoformat())
    assert result.exit_code == 0, result.output
    # issue 17: the title names the ticket by code, its site and customer, the local time
    heading = " ".join(result.output.split())
    site, customer = dw.base.site.name, dw.base.contract.customer_name
    assert f"Ticket {dw.ticket.code} at {site}, {customer}," in heading
    assert f"{T0.astimezone(ZoneInfo('Asia/Shanghai')):%Y-%m-%d %H:%M} Asia/Shanghai" in heading
    assert f"Ticket {dw.ticket.id}:" not in heading
    assert f"({dw.haizhu.id})" in result.output
    assert "Left out" in result.output
    assert "skill" in result.output
    assert invoke(url, "dispatch", "recommend", "987654").exit_code == 2  # no such ticket
    by_code = invoke(
        url, "dispatch", "recommend", dw.ticket.code.lower(), "--as-of", T0.isoformat()
    )
    assert by_code.exit_code == 0, by_code.output  # issue 17: a ticket code works as well
    assert f"Ticket {dw.ticket.code} at" in by_code.output
    assert invoke(url, "dispatch", "recommend", "NO-SUCH-CODE").exit_code == 2


def test_recommend_counts_the_unreached_and_prices_one_asked_for(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/cli.db"
    engine = db.make_engine(url)
    db.upgrade(engine)
    with Session(engine, expire_on_commit=False) as s, s.begin():
        dw = make_dispatch_world(s)
        crowd = add_crowd(s, dw)
    engine.dispose()
    args = ("dispatch", "recommend", str(dw.ticket.id), "--as-of", T0.isoformat(), "--limit", "1")
    plain = invoke(url, *args)
    assert plain.exit_code == 0, plain.output
    text = " ".join(plain.output.split())
    assert "engineers the search stopped before (not priced" in text
    assert "--engineer prices one" in text
    far = invoke(url, *args, "--engineer", str(crowd[-1]))
    assert far.exit_code == 0, far.output
    text = " ".join(far.output.split())
    assert f"({crowd[-1]}): arrives" in text
    assert "why: asked for, not among the options shown" in text
    unqualified = invoke(url, *args, "--engineer", str(dw.yuexiu.id))
    assert f"({dw.yuexiu.id}): skill (needs" in " ".join(unqualified.output.split())
    assert invoke(url, *args, "--engineer", "NO-SUCH-ENGINEER").exit_code == 2


def test_recommend_fits_80_columns_and_details_come_with_verbose(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Issue 17: the options table wrapped its 'why' over dozens of lines of a terminal."""
    url, dw = _world(tmp_path)
    args = ("dispatch", "recommend", str(dw.ticket.id), "--as-of", T0.isoformat())
    for verbose in ((), ("--verbose",)):
        out = Console(width=80, record=True, file=io.StringIO())
        monkeypatch.setattr("spares.dispatch_cli.console", out)
        assert invoke(url, *args, *verbose).exit_code == 0
        text = out.export_text()
        assert max(len(line) for line in text.splitlines()) <= 80, text
        assert ("why:" in text) == bool(verbose)
        assert "times in Asia/Shanghai" in text


def test_worker_once_runs_a_queued_plan_job(tmp_path: Path) -> None:
    url, dw = _world(tmp_path)
    engine = db.make_engine(url)
    request = PlanRequest(ticket_ids=(dw.ticket.id,), as_of=T0, time_limit_s=None,
                          failure_limit=200)  # fmt: skip
    with Session(engine) as s, s.begin():
        job_id = enqueue_plan(s, prepare_plan(s, request), user_id=None, now=T0).id
    result = invoke(url, "worker", "--once")
    assert result.exit_code == 0, result.output
    with Session(engine) as s:
        job = s.get(Job, job_id)
        assert job is not None
        assert job.status is JobStatus.DONE, job.error
        assert job.result is not None
        plan = s.scalars(select(Plan).where(Plan.job_id == job_id)).one()
        assert job.result["plan_id"] == plan.id
        assert plan.ticket_ids == [dw.ticket.id]
    engine.dispose()
    assert "no job waiting" in invoke(url, "worker", "--once").output


def test_recommend_suggestions_name_the_engineer(
    tmp_path: Path,
) -> None:
    """Issue 17: "the dedicated engineer 4 cannot take this ticket" gave a bare id."""
    url, dw = _world(tmp_path)
    engine = db.make_engine(url)
    with Session(engine) as s, s.begin():  # his site's dedicated engineer lacks the skill
        site = s.get(Site, dw.base.site.id)
        assert site is not None
        site.dedicated_engineer_id = dw.yuexiu.id
    engine.dispose()
    late = (T0 + timedelta(days=2)).isoformat()  # every clock broken: suggestions come
    result = invoke(url, "dispatch", "recommend", dw.ticket.code, "--as-of", late)
    assert result.exit_code == 0, result.output
    text = " ".join(result.output.split())
    assert f"the dedicated engineer {dw.yuexiu.name} ({dw.yuexiu.id}) cannot take" in text
    assert f"engineer {dw.yuexiu.id} " not in text
