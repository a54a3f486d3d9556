"""policy: ETA tolerance and inspection window

Two numbers that were constants become promise policy data: how far a re-plan may move an
announced ETA, and how wide a preventive inspection's window is. Existing policies get the
former constants (30 min, 7 days) as server defaults.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-22 20:43:34.562850
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("promise_policies", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("eta_tolerance_min", sa.Integer(), nullable=False, server_default="30")
        )
        batch_op.add_column(
            sa.Column(
                "inspection_window_days", sa.SmallInteger(), nullable=False, server_default="7"
            )
        )
        batch_op.create_check_constraint(
            op.f("ck_promise_policies_eta_tolerance_nonnegative"), "eta_tolerance_min >= 0"
        )
        batch_op.create_check_constraint(
            op.f("ck_promise_policies_inspection_window_positive"), "inspection_window_days > 0"
        )


def downgrade() -> None:
    with op.batch_alter_table("promise_policies", schema=None) as batch_op:
        batch_op.drop_constraint(
            op.f("ck_promise_policies_inspection_window_positive"), type_="check"
        )
        batch_op.drop_constraint(
            op.f("ck_promise_policies_eta_tolerance_nonnegative"), type_="check"
        )
        batch_op.drop_column("inspection_window_days")
        batch_op.drop_column("eta_tolerance_min")
