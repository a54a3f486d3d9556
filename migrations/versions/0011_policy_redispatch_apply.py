"""promise policies: whether a better engineer's move is applied at once or only proposed

Production re-dispatches like the simulator (issue 16): by default a move is proposed to the
dispatcher (`GET /v1/dispatch/moves`); a policy may have it applied at once.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-02 08:20:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("promise_policies", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("redispatch_apply", sa.Boolean(), nullable=False, server_default=sa.false())
        )


def downgrade() -> None:
    with op.batch_alter_table("promise_policies", schema=None) as batch_op:
        batch_op.drop_column("redispatch_apply")
