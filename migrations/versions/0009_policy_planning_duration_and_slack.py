"""promise policies: planning-duration quantile, its minimum history, slack before promises

Plans that survive overruns (issue 16): jobs are planned with a duration learnt from the
log (`dispatch.durations`) and a visit after another job keeps slack before its clocks.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-02 07:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("promise_policies", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("plan_duration_pct", sa.SmallInteger(), nullable=False, server_default="50")
        )
        batch_op.add_column(
            sa.Column("plan_min_jobs", sa.Integer(), nullable=False, server_default="20")
        )
        batch_op.add_column(
            sa.Column("slack_min", sa.Integer(), nullable=False, server_default="30")
        )
        batch_op.create_check_constraint(
            op.f("ck_promise_policies_planning_policy_range"),
            "plan_duration_pct BETWEEN 50 AND 99 AND plan_min_jobs >= 1 AND slack_min >= 0",
        )


def downgrade() -> None:
    with op.batch_alter_table("promise_policies", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_promise_policies_planning_policy_range"), type_="check")
        batch_op.drop_column("slack_min")
        batch_op.drop_column("plan_min_jobs")
        batch_op.drop_column("plan_duration_pct")
