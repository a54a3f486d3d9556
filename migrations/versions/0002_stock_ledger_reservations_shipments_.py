"""stock ledger, reservations, shipments, supplier orders, idempotency keys

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-22 18:26:16.135254
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import db

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "idempotency_keys",
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=255), nullable=False),
        sa.Column("fingerprint", sa.String(length=64), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "in_flight",
                "done",
                name="idempotency_status",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("response_status", sa.Integer(), nullable=True),
        sa.Column("response_body", sa.JSON(), nullable=True),
        sa.Column("created_at", db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("expires_at", db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_idempotency_keys_user_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_idempotency_keys")),
        sa.UniqueConstraint("user_id", "key", name=op.f("uq_idempotency_keys_user_id_key")),
    )
    with op.batch_alter_table("idempotency_keys", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_idempotency_keys_expires_at"), ["expires_at"], unique=False
        )

    op.create_table(
        "supplier_orders",
        sa.Column("supplier_id", sa.Integer(), nullable=False),
        sa.Column("depot_id", sa.Integer(), nullable=False),
        sa.Column("part_id", sa.Integer(), nullable=False),
        sa.Column("quantity", sa.Integer(), nullable=False),
        sa.Column("ordered_at", db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("expected_at", db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("received_at", db.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.CheckConstraint("quantity > 0", name=op.f("ck_supplier_orders_quantity_positive")),
        sa.ForeignKeyConstraint(
            ["created_by_id"], ["users.id"], name=op.f("fk_supplier_orders_created_by_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["depot_id"], ["depots.id"], name=op.f("fk_supplier_orders_depot_id_depots")
        ),
        sa.ForeignKeyConstraint(
            ["part_id"], ["parts.id"], name=op.f("fk_supplier_orders_part_id_parts")
        ),
        sa.ForeignKeyConstraint(
            ["supplier_id"], ["suppliers.id"], name=op.f("fk_supplier_orders_supplier_id_suppliers")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_supplier_orders")),
    )
    with op.batch_alter_table("supplier_orders", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_supplier_orders_supplier_id"), ["supplier_id"], unique=False
        )

    op.create_table(
        "reservations",
        sa.Column("depot_id", sa.Integer(), nullable=False),
        sa.Column("part_id", sa.Integer(), nullable=False),
        sa.Column("requested_part_id", sa.Integer(), nullable=True),
        sa.Column("quantity", sa.Integer(), nullable=False),
        sa.Column("ticket_id", sa.Integer(), nullable=True),
        sa.Column(
            "status",
            sa.Enum(
                "reserved",
                "released",
                "picked",
                "expired",
                "used",
                name="reservation_status",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("expires_at", db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("created_at", db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("closed_at", db.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.CheckConstraint("quantity > 0", name=op.f("ck_reservations_quantity_positive")),
        sa.ForeignKeyConstraint(
            ["created_by_id"], ["users.id"], name=op.f("fk_reservations_created_by_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["depot_id"], ["depots.id"], name=op.f("fk_reservations_depot_id_depots")
        ),
        sa.ForeignKeyConstraint(
            ["part_id"], ["parts.id"], name=op.f("fk_reservations_part_id_parts")
        ),
        sa.ForeignKeyConstraint(
            ["requested_part_id"],
            ["parts.id"],
            name=op.f("fk_reservations_requested_part_id_parts"),
        ),
        sa.ForeignKeyConstraint(
            ["ticket_id"], ["tickets.id"], name=op.f("fk_reservations_ticket_id_tickets")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_reservations")),
    )
    with op.batch_alter_table("reservations", schema=None) as batch_op:
        batch_op.create_index(
            "ix_reservations_live_holds",
            ["depot_id", "part_id", "status", "expires_at"],
            unique=False,
        )
        batch_op.create_index(batch_op.f("ix_reservations_ticket_id"), ["ticket_id"], unique=False)

    op.create_table(
        "shipments",
        sa.Column("from_depot_id", sa.Integer(), nullable=False),
        sa.Column("to_depot_id", sa.Integer(), nullable=True),
        sa.Column("to_site_id", sa.Integer(), nullable=True),
        sa.Column("part_id", sa.Integer(), nullable=False),
        sa.Column("quantity", sa.Integer(), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "pending",
                "in_transit",
                "received",
                name="shipment_status",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("reservation_id", sa.Integer(), nullable=True),
        sa.Column("ticket_id", sa.Integer(), nullable=True),
        sa.Column("requested_at", db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("ship_by", db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("shipped_at", db.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("transit_min", sa.Integer(), nullable=False),
        sa.Column("expected_at", db.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("received_at", db.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.CheckConstraint(
            "(to_depot_id IS NULL) <> (to_site_id IS NULL)",
            name=op.f("ck_shipments_one_destination"),
        ),
        sa.CheckConstraint("quantity > 0", name=op.f("ck_shipments_quantity_positive")),
        sa.CheckConstraint("transit_min >= 0", name=op.f("ck_shipments_transit_nonnegative")),
        sa.ForeignKeyConstraint(
            ["created_by_id"], ["users.id"], name=op.f("fk_shipments_created_by_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["from_depot_id"], ["depots.id"], name=op.f("fk_shipments_from_depot_id_depots")
        ),
        sa.ForeignKeyConstraint(["part_id"], ["parts.id"], name=op.f("fk_shipments_part_id_parts")),
        sa.ForeignKeyConstraint(
            ["reservation_id"],
            ["reservations.id"],
            name=op.f("fk_shipments_reservation_id_reservations"),
        ),
        sa.ForeignKeyConstraint(
            ["ticket_id"], ["tickets.id"], name=op.f("fk_shipments_ticket_id_tickets")
        ),
        sa.ForeignKeyConstraint(
            ["to_depot_id"], ["depots.id"], name=op.f("fk_shipments_to_depot_id_depots")
        ),
        sa.ForeignKeyConstraint(
            ["to_site_id"], ["sites.id"], name=op.f("fk_shipments_to_site_id_sites")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_shipments")),
    )
    with op.batch_alter_table("shipments", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_shipments_from_depot_id"), ["from_depot_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_shipments_ship_by"), ["ship_by"], unique=False)

    op.create_table(
        "ledger_entries",
        sa.Column(
            "kind",
            sa.Enum(
                "opening",
                "receipt",
                "order",
                "reservation",
                "release",
                "expiry",
                "pick",
                "shipment",
                "transfer_out",
                "transfer_in",
                "return",
                "adjustment",
                "scrap",
                "use",
                name="ledger_kind",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("depot_id", sa.Integer(), nullable=False),
        sa.Column("part_id", sa.Integer(), nullable=False),
        sa.Column("d_on_hand", sa.Integer(), nullable=False),
        sa.Column("d_reserved", sa.Integer(), nullable=False),
        sa.Column("d_in_transit", sa.Integer(), nullable=False),
        sa.Column("d_on_order", sa.Integer(), nullable=False),
        sa.Column("d_returns", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("at", db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("reason", sa.String(length=500), nullable=False),
        sa.Column("reservation_id", sa.Integer(), nullable=True),
        sa.Column("shipment_id", sa.Integer(), nullable=True),
        sa.Column("order_id", sa.Integer(), nullable=True),
        sa.Column("ticket_id", sa.Integer(), nullable=True),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["depot_id"], ["depots.id"], name=op.f("fk_ledger_entries_depot_id_depots")
        ),
        sa.ForeignKeyConstraint(
            ["order_id"],
            ["supplier_orders.id"],
            name=op.f("fk_ledger_entries_order_id_supplier_orders"),
        ),
        sa.ForeignKeyConstraint(
            ["part_id"], ["parts.id"], name=op.f("fk_ledger_entries_part_id_parts")
        ),
        sa.ForeignKeyConstraint(
            ["reservation_id"],
            ["reservations.id"],
            name=op.f("fk_ledger_entries_reservation_id_reservations"),
        ),
        sa.ForeignKeyConstraint(
            ["shipment_id"], ["shipments.id"], name=op.f("fk_ledger_entries_shipment_id_shipments")
        ),
        sa.ForeignKeyConstraint(
            ["ticket_id"], ["tickets.id"], name=op.f("fk_ledger_entries_ticket_id_tickets")
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_ledger_entries_user_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ledger_entries")),
    )
    with op.batch_alter_table("ledger_entries", schema=None) as batch_op:
        batch_op.create_index(
            "ix_ledger_entries_stock_row", ["depot_id", "part_id", "id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_ledger_entries_order_id"), ["order_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_ledger_entries_part_id"), ["part_id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_ledger_entries_reservation_id"), ["reservation_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_ledger_entries_shipment_id"), ["shipment_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_ledger_entries_ticket_id"), ["ticket_id"], unique=False
        )

    with op.batch_alter_table("stock_levels", schema=None) as batch_op:
        batch_op.add_column(sa.Column("returns", sa.Integer(), server_default="0", nullable=False))
        # Not autogenerated (a CHECK added to an existing table): written by hand.
        batch_op.create_check_constraint("returns_nonnegative", "returns >= 0")


def downgrade() -> None:
    with op.batch_alter_table("stock_levels", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_stock_levels_returns_nonnegative"), type_="check")
        batch_op.drop_column("returns")

    with op.batch_alter_table("ledger_entries", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_ledger_entries_ticket_id"))
        batch_op.drop_index(batch_op.f("ix_ledger_entries_shipment_id"))
        batch_op.drop_index(batch_op.f("ix_ledger_entries_reservation_id"))
        batch_op.drop_index(batch_op.f("ix_ledger_entries_part_id"))
        batch_op.drop_index(batch_op.f("ix_ledger_entries_order_id"))
        batch_op.drop_index("ix_ledger_entries_stock_row")

    op.drop_table("ledger_entries")
    with op.batch_alter_table("shipments", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_shipments_ship_by"))
        batch_op.drop_index(batch_op.f("ix_shipments_from_depot_id"))

    op.drop_table("shipments")
    with op.batch_alter_table("reservations", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_reservations_ticket_id"))
        batch_op.drop_index("ix_reservations_live_holds")

    op.drop_table("reservations")
    with op.batch_alter_table("supplier_orders", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_supplier_orders_supplier_id"))

    op.drop_table("supplier_orders")
    with op.batch_alter_table("idempotency_keys", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_idempotency_keys_expires_at"))

    op.drop_table("idempotency_keys")
