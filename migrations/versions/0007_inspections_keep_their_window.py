"""inspection tickets keep their window, not a fault's respond and depart clocks

Preventive inspections were opened with the respond and depart deadlines of their policy's
lowest severity (a 2-hour respond clock), so every one went on the at-risk worklist two
hours after it was opened and buried the real faults. `dispatch.inspections` no longer sets
them; this clears them on the inspection tickets already stored (ticket types of fault
class ``inspection``). Their arrival window and fix deadline stay. Data only: no schema
change, and the downgrade cannot tell which deadlines were there, so it leaves them.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-02 03:55:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.execute(
        "UPDATE tickets SET respond_by = NULL, depart_by = NULL WHERE ticket_type_id IN"
        " (SELECT id FROM ticket_types WHERE fault_class = 'inspection')"
    )


def downgrade() -> None:
    """Nothing to undo: the cleared deadlines were never promises."""
