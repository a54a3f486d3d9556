"""The schema comes only from migrations, and migrations agree with the models."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Engine, inspect
from sqlalchemy.exc import IntegrityError

import db
import dispatch.models  # noqa: F401  (registers the models on Base.metadata)
import inventory.models  # noqa: F401
from tests.conftest import BACKENDS, fresh_postgresql_database


def test_database_is_at_head(engine: Engine) -> None:
    assert db.current_revision(engine) == db.head_revision()
    assert db.is_up_to_date(engine)


def test_models_and_migrations_agree(engine: Engine) -> None:
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        diff = compare_metadata(context, db.Base.metadata)
    assert diff == [], f"models differ from migrations; write a migration: {diff}"


def test_every_model_table_exists(engine: Engine) -> None:
    tables = set(inspect(engine).get_table_names())
    assert set(db.Base.metadata.tables) <= tables


def test_downgrade_to_base_and_back(tmp_path: Path) -> None:
    engine = db.make_engine(f"sqlite:///{tmp_path}/roundtrip.db")
    db.upgrade(engine)
    from alembic import command

    cfg = db.migrate.alembic_config(engine.url.render_as_string(hide_password=False))
    with engine.begin() as connection:
        cfg.attributes["connection"] = connection
        command.downgrade(cfg, "base")
    assert db.current_revision(engine) is None
    assert set(inspect(engine).get_table_names()) <= {"alembic_version"}
    db.upgrade(engine)
    assert db.is_up_to_date(engine)
    engine.dispose()


def test_fresh_database_reports_not_migrated(tmp_path: Path) -> None:
    engine = db.make_engine(f"sqlite:///{tmp_path}/empty.db")
    assert db.current_revision(engine) is None
    assert not db.is_up_to_date(engine)
    engine.dispose()


def test_a_database_with_data_migrates_down_and_up(tmp_path: Path) -> None:
    # SQLite alters a table by copying it: with foreign keys on, dropping the old copy of a
    # referenced table (engineers, policies) failed on a database holding the demo world.
    from dispatch.world import generate_world, load_world

    engine = db.make_engine(f"sqlite:///{tmp_path}/demo.db")
    db.upgrade(engine)
    with db.make_sessionmaker(engine).begin() as session:
        load_world(session, generate_world(7, "small"))
    tables = ("engineers", "shifts", "tickets", "promise_policies", "stock_levels")

    def counts() -> dict[str, int]:
        with engine.connect() as connection:
            return {
                t: connection.exec_driver_sql(f"SELECT count(*) FROM {t}").scalar_one()
                for t in tables
            }

    before = counts()
    db.migrate.downgrade(engine, "0005")
    assert db.current_revision(engine) == "0005"
    db.upgrade(engine)
    assert db.is_up_to_date(engine)
    assert counts() == before
    with engine.connect() as connection:
        assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar_one() == 1
    engine.dispose()


@pytest.fixture(params=BACKENDS)
def empty_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A new, empty database of each backend (PostgreSQL when its URL is set)."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path}/migrate.db"
        return
    with fresh_postgresql_database("spares_migrate") as url:
        yield url


def test_0012_gives_stored_depots_and_suppliers_the_documented_times(empty_url: str) -> None:
    """Down to 0011 the columns go; back up, every stored row has the defaults (10 min, 24 h)."""
    from dispatch.world import generate_world, load_world

    engine = db.make_engine(empty_url)
    db.upgrade(engine)
    with db.make_sessionmaker(engine).begin() as session:
        load_world(session, generate_world(7, "small"))
    with engine.begin() as connection:
        connection.exec_driver_sql("UPDATE depots SET pick_min = 25")
        connection.exec_driver_sql("UPDATE suppliers SET transit_hours = 48")
        depots = connection.exec_driver_sql("SELECT count(*) FROM depots").scalar_one()
    db.migrate.downgrade(engine, "0011")
    assert "pick_min" not in {c["name"] for c in inspect(engine).get_columns("depots")}
    assert "transit_hours" not in {c["name"] for c in inspect(engine).get_columns("suppliers")}
    db.upgrade(engine)
    with engine.connect() as connection:
        picks = connection.exec_driver_sql("SELECT pick_min, count(*) FROM depots GROUP BY 1")
        assert picks.all() == [(10, depots)]
        transits = connection.exec_driver_sql("SELECT DISTINCT transit_hours FROM suppliers")
        assert transits.scalars().all() == [24]
        with pytest.raises(IntegrityError):  # the CHECK holds on both backends
            connection.exec_driver_sql("UPDATE depots SET pick_min = -1")
    engine.dispose()


@pytest.mark.parametrize(
    ("revision", "column", "before"),
    [("0015", "make_room_engineers", "0014"), ("0016", "divert_engineers", "0015")],
)
def test_a_policy_count_column_gives_stored_policies_the_documented_default(
    empty_url: str, revision: str, column: str, before: str
) -> None:
    """Down to the revision before it the column goes (and only it); back up, every stored
    policy asks 3 (the documented default), and a negative number is refused on both
    backends."""
    from dispatch.world import generate_world, load_world

    engine = db.make_engine(empty_url)
    db.upgrade(engine)
    with db.make_sessionmaker(engine).begin() as session:
        load_world(session, generate_world(7, "small"))
    with engine.begin() as connection:
        connection.exec_driver_sql(f"UPDATE promise_policies SET {column} = 7")
        policies = connection.exec_driver_sql("SELECT count(*) FROM promise_policies").scalar_one()
    db.migrate.downgrade(engine, before)
    columns = {c["name"] for c in inspect(engine).get_columns("promise_policies")}
    assert column not in columns
    assert revision != "0016" or "make_room_engineers" in columns
    db.upgrade(engine)
    with engine.connect() as connection:
        asked = connection.exec_driver_sql(
            f"SELECT {column}, count(*) FROM promise_policies GROUP BY 1"
        )
        assert asked.all() == [(3, policies)]
        with pytest.raises(IntegrityError):
            connection.exec_driver_sql(f"UPDATE promise_policies SET {column} = -1")
    engine.dispose()


def test_0017_gives_visits_under_way_their_tickets_stamps(empty_url: str) -> None:
    """Down to 0016 the visits' own events go; back up, the active assignment of a ticket
    en route gets the ticket's departure (not an earlier visit's arrival), one on site both,
    one not set off and a withdrawn one none."""
    from datetime import timedelta

    from sqlalchemy import select

    import optimizer as opt
    from dispatch.assign import confirm_assignment
    from dispatch.models import Assignment, AssignmentStatus, Ticket, TicketStatus
    from dispatch.pinning import withdraw_assignment
    from dispatch.tickets import transition
    from tests.dispatch_world import make_dispatch_world
    from tests.ticket_builders import T0, open_ticket

    engine = db.make_engine(empty_url)
    db.upgrade(engine)
    travel = opt.GeodesicTravelTimes()
    steps: dict[str, tuple[TicketStatus | None, ...]] = {  # each step an hour after the last
        "assigned": (),
        "en_route": (TicketStatus.EN_ROUTE,),
        "on_site": (TicketStatus.EN_ROUTE, TicketStatus.ON_SITE),
        # on site, handed back (None) and assigned to Panyu, who sets off
        "again": (TicketStatus.EN_ROUTE, TicketStatus.ON_SITE, None, TicketStatus.EN_ROUTE),
    }
    ids: dict[str, int] = {}
    with db.make_sessionmaker(engine).begin() as session:
        dw = make_dispatch_world(session, with_part=False)
        who = dw.base.dispatcher
        for name, path in steps.items():
            ticket = open_ticket(session, dw.base, severity="general")
            ids[name] = ticket.id
            confirm_assignment(session, ticket_id=ticket.id, engineer_id=dw.haizhu.id,
                               user=who, now=T0, travel=travel)  # fmt: skip
            for hour, step in enumerate(path, start=1):
                at = T0 + timedelta(hours=hour)
                if step is not None:
                    transition(session, ticket_id=ticket.id, target=step, user=who, now=at)
                    continue
                active = select(Assignment.id).where(
                    Assignment.ticket_id == ticket.id,
                    Assignment.status == AssignmentStatus.ACTIVE,
                )
                withdraw_assignment(session, assignment_id=session.scalars(active).one(),
                                    user=who, now=at, reason="van broke down")  # fmt: skip
                confirm_assignment(session, ticket_id=ticket.id, engineer_id=dw.panyu.id,
                                   user=who, now=at, travel=travel)  # fmt: skip
    db.migrate.downgrade(engine, "0016")
    columns = {c["name"] for c in inspect(engine).get_columns("assignments")}
    assert not {"departed_at", "arrived_at"} & columns
    db.upgrade(engine)
    with db.make_sessionmaker(engine).begin() as session:
        tickets = {t.id: t for t in session.scalars(select(Ticket))}
        seen = {
            (a.ticket_id, a.status): (a.departed_at, a.arrived_at)
            for a in session.scalars(select(Assignment))
        }
    first = {name: tickets[tid] for name, tid in ids.items()}
    active, withdrawn = AssignmentStatus.ACTIVE, AssignmentStatus.WITHDRAWN
    assert seen[(ids["assigned"], active)] == (None, None)
    assert seen[(ids["en_route"], active)] == (first["en_route"].departed_at, None)
    on_site = first["on_site"]
    assert seen[(ids["on_site"], active)] == (on_site.departed_at, on_site.arrived_at)
    assert on_site.arrived_at is not None
    # before 0017 only the ticket's first departure is known; its arrival was another visit's
    again = first["again"]
    assert again.arrived_at is not None
    assert seen[(ids["again"], active)] == (again.departed_at, None)
    assert seen[(ids["again"], withdrawn)] == (None, None)
    engine.dispose()
