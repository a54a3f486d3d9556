"""Database plumbing shared by `inventory` and `dispatch`.

One obvious home for: the declarative `Base` (with a naming convention so that
Alembic names constraints the same way on SQLite and PostgreSQL), engine and
session factories (nothing is built at import time), column types that keep
timestamps in UTC, the migration runner, and the identity model (`User`,
`Role`) that every recorded change points to.
"""

from db.base import Base, IdMixin
from db.engine import make_engine, make_sessionmaker
from db.identity import Role, User, create_user, find_active_user, hash_api_key, new_api_key
from db.jobs import Job, JobStatus
from db.migrate import current_revision, head_revision, is_up_to_date, upgrade
from db.types import UTCDateTime, enum_column

__all__ = [
    "Base",
    "IdMixin",
    "Job",
    "JobStatus",
    "Role",
    "UTCDateTime",
    "enum_column",
    "User",
    "create_user",
    "current_revision",
    "find_active_user",
    "hash_api_key",
    "head_revision",
    "is_up_to_date",
    "make_engine",
    "make_sessionmaker",
    "new_api_key",
    "upgrade",
]
