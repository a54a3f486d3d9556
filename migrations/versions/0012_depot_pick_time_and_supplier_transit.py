"""depots and suppliers: the pick time at a depot counter and a supplier's courier transit

Issue 16, policy is data: both were constants in code (10 min, `RecommendParams.pick_s`;
24 h, `dispatch.snapshot.SUPPLIER_TRANSIT`). Existing rows take those documented defaults
(`inventory.depot_times`), so nothing that was planned before plans differently.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-02 14:10:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("depots", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("pick_min", sa.Integer(), nullable=False, server_default="10")
        )
        batch_op.create_check_constraint(op.f("ck_depots_pick_nonnegative"), "pick_min >= 0")
    with op.batch_alter_table("suppliers", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("transit_hours", sa.Integer(), nullable=False, server_default="24")
        )
        batch_op.create_check_constraint(
            op.f("ck_suppliers_transit_nonnegative"), "transit_hours >= 0"
        )


def downgrade() -> None:
    with op.batch_alter_table("suppliers", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_suppliers_transit_nonnegative"), type_="check")
        batch_op.drop_column("transit_hours")
    with op.batch_alter_table("depots", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_depots_pick_nonnegative"), type_="check")
        batch_op.drop_column("pick_min")
