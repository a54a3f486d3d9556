"""re-dispatch: the worker's tick and overrun policy, stored move proposals

Issue 16: the worker asks the re-dispatch rule again every `redispatch_every_min` (default
15, the simulator's `retry_every_min`) and at once for an engineer's next visits when his
job on site runs `redispatch_after_min` (default 15, the simulator's) past its planned end.
Its answers are stored (`move_proposals`) so the board reads them instead of computing a
recommendation per visit on every poll; `redispatch_ticks` is when each policy's next tick
is due (claimed by one worker with a conditional update).

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-02 14:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import db

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("promise_policies", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("redispatch_every_min", sa.Integer(), nullable=False, server_default="15")
        )
        batch_op.add_column(
            sa.Column("redispatch_after_min", sa.Integer(), nullable=False, server_default="15")
        )
        batch_op.create_check_constraint(
            op.f("ck_promise_policies_redispatch_policy_range"),
            "redispatch_every_min >= 1 AND redispatch_after_min >= 0",
        )
    op.create_table(
        "redispatch_ticks",
        sa.Column("policy_id", sa.Integer(), nullable=False),
        sa.Column("next_at", db.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["policy_id"],
            ["promise_policies.id"],
            name=op.f("fk_redispatch_ticks_policy_id_promise_policies"),
        ),  # fmt: skip
        sa.PrimaryKeyConstraint("policy_id", name=op.f("pk_redispatch_ticks")),
    )
    op.create_table(
        "move_proposals",
        sa.Column("assignment_id", sa.Integer(), nullable=False),
        sa.Column("ticket_id", sa.Integer(), nullable=False),
        sa.Column("region_id", sa.Integer(), nullable=False),
        sa.Column("from_engineer_id", sa.Integer(), nullable=False),
        sa.Column("to_engineer_id", sa.Integer(), nullable=True),
        sa.Column("rule", sa.String(length=16), nullable=False),
        sa.Column("departs_at", db.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("arrives_at", db.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("keep_cost", sa.BigInteger(), nullable=False),
        sa.Column("move_cost", sa.BigInteger(), nullable=False),
        sa.Column("late_min", sa.Integer(), nullable=False),
        sa.Column("reviewed_at", db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("world_version", sa.String(length=200), nullable=False),
        sa.ForeignKeyConstraint(
            ["assignment_id"],
            ["assignments.id"],
            name=op.f("fk_move_proposals_assignment_id_assignments"),
        ),  # fmt: skip
        sa.ForeignKeyConstraint(
            ["from_engineer_id"],
            ["engineers.id"],
            name=op.f("fk_move_proposals_from_engineer_id_engineers"),
        ),  # fmt: skip
        sa.ForeignKeyConstraint(
            ["region_id"], ["regions.id"], name=op.f("fk_move_proposals_region_id_regions")
        ),
        sa.ForeignKeyConstraint(
            ["ticket_id"], ["tickets.id"], name=op.f("fk_move_proposals_ticket_id_tickets")
        ),
        sa.ForeignKeyConstraint(
            ["to_engineer_id"],
            ["engineers.id"],
            name=op.f("fk_move_proposals_to_engineer_id_engineers"),
        ),  # fmt: skip
        sa.PrimaryKeyConstraint("assignment_id", name=op.f("pk_move_proposals")),
    )
    with op.batch_alter_table("move_proposals", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_move_proposals_region_id"), ["region_id"])
        batch_op.create_index(batch_op.f("ix_move_proposals_ticket_id"), ["ticket_id"])


def downgrade() -> None:
    with op.batch_alter_table("move_proposals", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_move_proposals_ticket_id"))
        batch_op.drop_index(batch_op.f("ix_move_proposals_region_id"))
    op.drop_table("move_proposals")
    op.drop_table("redispatch_ticks")
    with op.batch_alter_table("promise_policies", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_promise_policies_redispatch_policy_range"), type_="check")
        batch_op.drop_column("redispatch_after_min")
        batch_op.drop_column("redispatch_every_min")
