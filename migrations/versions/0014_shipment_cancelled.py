"""shipments: a cancelled status

A shipment of a ticket cancelled (or resolved remotely) before it left stayed pending for
ever, its hold released under it. It is now cancelled (`inventory.shipments.cancel_shipment`).
The status is a VARCHAR with a named CHECK constraint (`db.types.enum_column`) on both
databases: the constraint is recreated with the new value.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-02 18:30:00.000000
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_NAME = "ck_shipments_shipment_status"
_BEFORE = ("pending", "in_transit", "received")
_AFTER = (*_BEFORE, "cancelled")


def _check(values: tuple[str, ...]) -> str:
    return "status IN (" + ", ".join(f"'{v}'" for v in values) + ")"


def upgrade() -> None:
    with op.batch_alter_table("shipments", schema=None) as batch_op:
        batch_op.drop_constraint(op.f(_NAME), type_="check")
        batch_op.create_check_constraint(op.f(_NAME), _check(_AFTER))


def downgrade() -> None:
    op.execute("UPDATE shipments SET status = 'pending' WHERE status = 'cancelled'")
    with op.batch_alter_table("shipments", schema=None) as batch_op:
        batch_op.drop_constraint(op.f(_NAME), type_="check")
        batch_op.create_check_constraint(op.f(_NAME), _check(_BEFORE))
