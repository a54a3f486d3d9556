"""The schema comes only from migrations, and migrations agree with the models."""

from __future__ import annotations

from pathlib import Path

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Engine, inspect

import db
import dispatch.models  # noqa: F401  (registers the models on Base.metadata)
import inventory.models  # noqa: F401


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
