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
