"""promise policies: how many of the newest finished jobs the planning durations learn from

Policy is data (issue 16): `dispatch.durations` read at most the newest 2,000 finished jobs,
a constant in code; it is now `plan_log_jobs` per policy (default 2,000).

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-02 08:30:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("promise_policies", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("plan_log_jobs", sa.Integer(), nullable=False, server_default="2000")
        )
        batch_op.create_check_constraint(
            op.f("ck_promise_policies_plan_log_jobs_positive"), "plan_log_jobs >= 1"
        )


def downgrade() -> None:
    with op.batch_alter_table("promise_policies", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_promise_policies_plan_log_jobs_positive"), type_="check")
        batch_op.drop_column("plan_log_jobs")
