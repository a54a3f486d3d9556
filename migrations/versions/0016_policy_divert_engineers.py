"""promise policies: how many engineers driving to a visit are asked to take a ticket first

A new ticket whose best option breaks its arrival promise and for which no room is made
asks the nearest engineers driving to a visit whether they take it first, their visit kept
by them after it or by a colleague (`optimizer.divert`, issue 16). How many was a scenario
key with a default in code (3); it is now policy data like `make_room_engineers` (0015),
read by production and the simulator alike. Every stored policy gets the documented
default, 3; 0 means never.

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-03 19:15:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0016"
down_revision: str | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("promise_policies", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("divert_engineers", sa.Integer(), nullable=False, server_default="3")
        )
        batch_op.create_check_constraint(
            op.f("ck_promise_policies_divert_engineers_nonnegative"),
            "divert_engineers >= 0",
        )


def downgrade() -> None:
    with op.batch_alter_table("promise_policies", schema=None) as batch_op:
        batch_op.drop_constraint(
            op.f("ck_promise_policies_divert_engineers_nonnegative"), type_="check"
        )
        batch_op.drop_column("divert_engineers")
