"""user scopes: the depots and regions a user may write at

Warehouse staff are scoped to their depots and dispatchers to their regions (issue 18): a
user with rows of a kind may write only there; a user with none is not restricted by it.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-02 03:30:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "user_depots",
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("depot_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["depot_id"],
            ["depots.id"],
            name=op.f("fk_user_depots_depot_id_depots"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_user_depots_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("user_id", "depot_id", name=op.f("pk_user_depots")),
    )
    op.create_index(op.f("ix_user_depots_depot_id"), "user_depots", ["depot_id"], unique=False)
    op.create_table(
        "user_regions",
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("region_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["region_id"],
            ["regions.id"],
            name=op.f("fk_user_regions_region_id_regions"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_user_regions_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("user_id", "region_id", name=op.f("pk_user_regions")),
    )
    op.create_index(op.f("ix_user_regions_region_id"), "user_regions", ["region_id"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_user_regions_region_id"), table_name="user_regions")
    op.drop_table("user_regions")
    op.drop_index(op.f("ix_user_depots_depot_id"), table_name="user_depots")
    op.drop_table("user_depots")
