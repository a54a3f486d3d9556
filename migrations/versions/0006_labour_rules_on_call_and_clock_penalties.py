"""labour rules, on-call shifts and a penalty per promise clock

Labour rules (overtime allowance, whether a visit may be planned into overtime, day and week
caps, overtime and call-out costs) become policy data per region or engineer group
(``labour_rules``; ``engineers.labour_rule_id``); a shift may be on call; every promise clock
of a policy severity gets its penalty, and a policy the shares for lateness and at-risk
clocks. Existing rows get the documented defaults (``dispatch.labour``; a NULL penalty is
the default of its rank in ``optimizer.penalties``).

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-02 03:10:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

MONEY = sa.Numeric(12, 2)
CLOCKS = ("respond", "depart", "arrive", "fix", "swap", "ship")


def upgrade() -> None:
    op.create_table(
        "labour_rules",
        sa.Column("code", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("region_id", sa.Integer(), nullable=True),
        sa.Column("overtime_max_min", sa.Integer(), nullable=False),
        sa.Column("start_into_overtime", sa.Boolean(), nullable=False),
        sa.Column("overtime_day_max_min", sa.Integer(), nullable=False),
        sa.Column("overtime_week_max_min", sa.Integer(), nullable=False),
        sa.Column("overtime_cost_per_hour", MONEY, nullable=False),
        sa.Column("callout_cost", MONEY, nullable=False),
        sa.Column("callout_max_rank", sa.SmallInteger(), nullable=False),
        sa.Column("callout_lead_min", sa.Integer(), nullable=False),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.CheckConstraint(
            "overtime_max_min >= 0 AND overtime_day_max_min >= 0 AND overtime_week_max_min >= 0"
            " AND callout_lead_min >= 0 AND callout_max_rank >= 0",
            name=op.f("ck_labour_rules_minutes_nonnegative"),
        ),
        sa.CheckConstraint(
            "overtime_cost_per_hour >= 0 AND callout_cost >= 0",
            name=op.f("ck_labour_rules_costs_nonnegative"),
        ),
        sa.ForeignKeyConstraint(
            ["region_id"], ["regions.id"], name=op.f("fk_labour_rules_region_id_regions")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_labour_rules")),
        sa.UniqueConstraint("code", name=op.f("uq_labour_rules_code")),
        sa.UniqueConstraint("region_id", name=op.f("uq_labour_rules_region_id")),
    )
    with op.batch_alter_table("engineers", schema=None) as batch_op:
        batch_op.add_column(sa.Column("labour_rule_id", sa.Integer(), nullable=True))
        batch_op.create_index(
            batch_op.f("ix_engineers_labour_rule_id"), ["labour_rule_id"], unique=False
        )
        batch_op.create_foreign_key(
            batch_op.f("fk_engineers_labour_rule_id_labour_rules"),
            "labour_rules",
            ["labour_rule_id"],
            ["id"],
        )
    with op.batch_alter_table("shifts", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("on_call", sa.Boolean(), nullable=False, server_default=sa.false())
        )
    with op.batch_alter_table("promise_policies", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "late_penalty_pct_per_hour", sa.SmallInteger(), nullable=False, server_default="25"
            )
        )
        batch_op.add_column(
            sa.Column("at_risk_penalty_pct", sa.SmallInteger(), nullable=False, server_default="10")
        )
        batch_op.create_check_constraint(
            op.f("ck_promise_policies_penalty_shares_nonnegative"),
            "late_penalty_pct_per_hour >= 0 AND at_risk_penalty_pct >= 0",
        )
    with op.batch_alter_table("policy_severities", schema=None) as batch_op:
        for clock in CLOCKS:  # NULL: the documented default of the severity's rank
            batch_op.add_column(sa.Column(f"{clock}_penalty", MONEY, nullable=True))
        batch_op.create_check_constraint(
            op.f("ck_policy_severities_penalties_nonnegative"),
            " AND ".join(f"({c}_penalty IS NULL OR {c}_penalty >= 0)" for c in CLOCKS),
        )


def downgrade() -> None:
    with op.batch_alter_table("policy_severities", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_policy_severities_penalties_nonnegative"), type_="check")
        for clock in reversed(CLOCKS):
            batch_op.drop_column(f"{clock}_penalty")
    with op.batch_alter_table("promise_policies", schema=None) as batch_op:
        batch_op.drop_constraint(
            op.f("ck_promise_policies_penalty_shares_nonnegative"), type_="check"
        )
        batch_op.drop_column("at_risk_penalty_pct")
        batch_op.drop_column("late_penalty_pct_per_hour")
    with op.batch_alter_table("shifts", schema=None) as batch_op:
        batch_op.drop_column("on_call")
    with op.batch_alter_table("engineers", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("fk_engineers_labour_rule_id_labour_rules"), type_="foreignkey"
        )
        batch_op.drop_index(batch_op.f("ix_engineers_labour_rule_id"))
        batch_op.drop_column("labour_rule_id")
    op.drop_table("labour_rules")
