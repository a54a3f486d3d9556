"""A scenario whose base is a snapshot of the live database, on SQLite and on PostgreSQL.

The small demo world is loaded into a fresh, migrated database (committed: the CLI opens
its own connection and exports it to a scratch bundle). The snapshot must give the same
simulation as the demo generator it came from, and its ticket history must drive demand
when asked (`demand.from_history`), or fall back to `tickets_per_day` when too short.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import pytest
from typer.testing import CliRunner

import db
from dispatch.world import REFERENCE_DATE, World, generate_world, load_world
from dispatch.world.bundle import export_world, read_bundle
from scenarios.base import build_sim_world
from scenarios.demand import HISTORY_MIN_TICKETS, history_rates, ticket_stream
from scenarios.run import run_scenario
from scenarios.spec import Scenario
from spares.cli import app
from tests.conftest import BACKENDS, fresh_postgresql_database

HISTORY_REGION_SITES = {3: 30, 5: 12}  # region id -> tickets in the history (over 14 days)


def _with_history(world: World) -> World:
    """The demo world plus 42 past tickets in two regions over 14 days."""
    tables = {name: list(rows) for name, rows in world.tables.items()}
    template = tables["tickets"][0]
    first = template["reported_at"] - timedelta(days=14)
    sites = {rid: [s for s in tables["sites"] if s["region_id"] == rid] for rid in (3, 5)}
    extra, next_id = [], max(t["id"] for t in tables["tickets"]) + 1
    for rid, count in HISTORY_REGION_SITES.items():
        for k in range(count):
            site = sites[rid][k % len(sites[rid])]
            asset = next(a for a in tables["assets"] if a["site_id"] == site["id"])
            at = first + timedelta(days=14 * k / (count - 1))
            extra.append(
                {
                    **template,
                    "id": next_id,
                    "code": f"H-{next_id}",
                    "site_id": site["id"],
                    "asset_id": asset["id"],
                    "reported_at": at,
                    "created_at": at,
                    "respond_by": None,
                    "depart_by": None,
                    "arrive_by": None,
                    "fix_by": None,
                }  # fmt: skip
            )
            next_id += 1
    tables["tickets"] += extra
    return replace(world, tables=tables)


@contextmanager
def _fresh_database(backend: str, folder: Path) -> Iterator[str]:
    if backend == "sqlite":
        yield f"sqlite:///{folder / 'live.db'}"
        return
    with fresh_postgresql_database("spares_scn") as url:
        yield url


def _loaded(url: str, world: World) -> None:
    engine = db.make_engine(url)
    try:
        db.upgrade(engine)
        with db.make_sessionmaker(engine)() as session:
            load_world(session, world)
            session.commit()
    finally:
        engine.dispose()


@pytest.fixture(scope="module")
def demo() -> World:
    return generate_world(7, "small")


@pytest.fixture(scope="module", params=BACKENDS)
def live_url(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory, demo: World
) -> Iterator[str]:
    """A database holding the small demo world and a 42-ticket history."""
    with _fresh_database(request.param, tmp_path_factory.mktemp(request.param)) as url:
        _loaded(url, _with_history(demo))
        yield url


@pytest.fixture(scope="module")
def bare_url(tmp_path_factory: pytest.TempPathFactory, demo: World) -> str:
    """The small demo world alone (8 tickets: no usable history), on SQLite."""
    url = f"sqlite:///{tmp_path_factory.mktemp('bare') / 'bare.db'}"
    _loaded(url, demo)
    return url


def _snapshot(url: str, folder: Path) -> Path:
    """What `spares scenario run` does with a database base: export it to a bundle."""
    engine = db.make_engine(url)
    try:
        with db.make_sessionmaker(engine)() as session:
            export_world(session, folder)
    finally:
        engine.dispose()
    return folder


def _scenario(url: str, **demand: object) -> Scenario:
    return Scenario.model_validate(
        {
            "name": "live",
            "horizon_days": 1,
            "replications": 2,
            "policies": ["optimised"],
            "base": {"kind": "database", "database_url": url},
            "demand": {"tickets_per_day": 40, **demand},
        }  # fmt: skip
    )


def test_the_cli_runs_a_short_scenario_from_the_database(live_url: str, tmp_path: Path) -> None:
    path = tmp_path / "live.json"
    path.write_text(_scenario(live_url).model_dump_json(), encoding="utf-8")
    out = tmp_path / "report"
    result = CliRunner().invoke(
        app, ["scenario", "run", str(path), "--workers", "1", "--out", str(out)]
    )
    assert result.exit_code == 0, result.output
    body = json.loads((out / "kpis.json").read_text(encoding="utf-8"))
    assert body["partial"] is False
    assert all(n > 0 for n in body["tickets_per_replication"].values())
    assert any(k["kpi"] == "arrival_attainment" for k in body["kpis"])


def test_the_snapshot_simulates_like_the_demo_world_it_came_from(
    live_url: str, tmp_path: Path
) -> None:
    from_db = run_scenario(_scenario(live_url), exported=_snapshot(live_url, tmp_path / "w"))
    demo = _scenario(live_url).model_copy(
        update={"base": Scenario.model_validate({"name": "x"}).base}
    )
    assert demo.base.kind == "demo"
    from_demo = run_scenario(demo)
    assert from_db.tickets == from_demo.tickets
    assert from_db.estimates == from_demo.estimates


def test_demand_from_the_ticket_history(live_url: str, tmp_path: Path) -> None:
    folder = _snapshot(live_url, tmp_path / "w")
    rows = read_bundle(folder)
    rates = history_rates(rows.tables)
    # 50 tickets over 14 days and a few hours (the demo's own 8 are the latest)
    times = [t["reported_at"] for t in rows.tables["tickets"]]
    days = (max(times) - min(times)).total_seconds() / 86_400
    region_of = {s["id"]: s["region_id"] for s in rows.tables["sites"]}
    for rid, count in HISTORY_REGION_SITES.items():
        demo_own = sum(1 for t in rows.tables["tickets"][:8] if region_of[t["site_id"]] == rid)
        assert rates[rid] == pytest.approx((count + demo_own) / days)
    scenario = _scenario(live_url, from_history=True)
    run = run_scenario(scenario, exported=folder)
    regions = {j.region for r in run.results for j in r.jobs}
    history_regions = {
        code for rid, code in build_sim_world(rows, REFERENCE_DATE).regions.items() if rid in rates
    }
    assert regions <= history_regions  # no tickets where the history had none
    sim = build_sim_world(rows, REFERENCE_DATE)
    without = ticket_stream(
        sim, scenario.demand.model_copy(update={"from_history": False}), horizon_s=86_400,
        seed=scenario.seed, replication=0,
    )  # fmt: skip
    assert {t.region_id for t in without} - set(rates)  # the site split would spread them


def test_too_short_a_history_falls_back_to_tickets_per_day(bare_url: str, tmp_path: Path) -> None:
    folder = _snapshot(bare_url, tmp_path / "w")
    assert len(read_bundle(folder).tables["tickets"]) < HISTORY_MIN_TICKETS
    assert history_rates(read_bundle(folder).tables) == {}
    with_history = run_scenario(_scenario(bare_url, from_history=True), exported=folder)
    without = run_scenario(_scenario(bare_url), exported=folder)
    assert with_history.estimates == without.estimates
    path = tmp_path / "bare.json"
    path.write_text(_scenario(bare_url, from_history=True).model_dump_json(), encoding="utf-8")
    result = CliRunner().invoke(
        app, ["scenario", "run", str(path), "--workers", "1", "--out", str(tmp_path / "o")]
    )
    assert result.exit_code == 0, result.output
    assert "from_history" in result.output
    assert "tickets_per_day" in result.output
