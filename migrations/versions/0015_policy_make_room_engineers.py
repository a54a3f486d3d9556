"""promise policies: how many engineers are asked to make room for a ticket's arrival

A new ticket whose best option breaks its arrival promise asks the nearest engineers with a
visit not departed whether a colleague keeps that visit so they can take the ticket first
(`optimizer.make_room`, issue 16). How many was a constant in code (3) and a scenario key;
it is now policy data like the other promise-policy numbers, read by production and the
simulator alike. Every stored policy gets the documented default, 3; 0 means never.

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-03 18:30:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0015"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("promise_policies", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("make_room_engineers", sa.Integer(), nullable=False, server_default="3")
        )
        batch_op.create_check_constraint(
            op.f("ck_promise_policies_make_room_engineers_nonnegative"),
            "make_room_engineers >= 0",
        )


def downgrade() -> None:
    with op.batch_alter_table("promise_policies", schema=None) as batch_op:
        batch_op.drop_constraint(
            op.f("ck_promise_policies_make_room_engineers_nonnegative"), type_="check"
        )
        batch_op.drop_column("make_room_engineers")
