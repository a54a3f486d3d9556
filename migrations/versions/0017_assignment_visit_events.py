"""assignments: the visit's own departure and arrival

A ticket's ``departed_at``/``arrived_at`` record its first departure and arrival: the
promise clocks read them (the customer's promise was kept, or not, by the first engineer).
A visit handed back to dispatch and assigned again (`dispatch.pinning.withdraw_assignment`)
is driven by another engineer, whose expected arrival and time on site must come from his
own events: the assignment now records them (set when the ticket goes en route / on site).
Active assignments of tickets under way are filled from the ticket's stamps: the
departure for tickets en route or on site, the arrival for tickets on site (an en-route
ticket's arrival, if any, was an earlier visit's).

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-03 19:50:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import db

revision: str = "0017"
down_revision: str | None = "0016"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# the ticket's stamp, for the active assignment of a ticket in one of the statuses
_BACKFILL = (
    "UPDATE assignments SET {field} ="
    " (SELECT t.{field} FROM tickets t WHERE t.id = assignments.ticket_id)"
    " WHERE status = 'active'"
    " AND ticket_id IN (SELECT t.id FROM tickets t WHERE t.status IN ({statuses}))"
)


def upgrade() -> None:
    with op.batch_alter_table("assignments", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("departed_at", db.types.UTCDateTime(timezone=True), nullable=True)
        )
        batch_op.add_column(
            sa.Column("arrived_at", db.types.UTCDateTime(timezone=True), nullable=True)
        )
    op.execute(_BACKFILL.format(field="departed_at", statuses="'en_route', 'on_site'"))
    op.execute(_BACKFILL.format(field="arrived_at", statuses="'on_site'"))


def downgrade() -> None:
    with op.batch_alter_table("assignments", schema=None) as batch_op:
        batch_op.drop_column("arrived_at")
        batch_op.drop_column("departed_at")
