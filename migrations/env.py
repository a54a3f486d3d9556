"""Alembic environment: migrates the connection handed in by `db.migrate`, or the URL."""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection, create_engine

import db.audit  # noqa: F401  (imports every model onto Base.metadata)
import db.jobs  # noqa: F401
import dispatch.models  # noqa: F401
import inventory.models  # noqa: F401
from db.base import Base

config = context.config
target_metadata = Base.metadata


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",  # SQLite alters by copy
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    engine = create_engine(config.get_main_option("sqlalchemy.url") or "")
    with engine.begin() as conn:
        _run(conn)
    engine.dispose()


if context.is_offline_mode():
    raise SystemExit("offline (SQL script) migrations are not supported; run `spares db upgrade`")
run_migrations_online()
