"""suppliers' PACT footprints: the supplier_footprint projection (supplier_footprint.recorded)
and the payloads kept beside it

Revision ID: 0006_suppliers
Revises: 0005_merge
"""

import sqlalchemy as sa
from alembic import op

revision = "0006_suppliers"
down_revision = "0005_merge"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "supplier_footprint",
        sa.Column("supplier", sa.String(length=64), nullable=False),
        sa.Column("footprint_id", sa.String(length=36), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("product_ids", sa.Text(), nullable=False),
        sa.Column("pcf_kg_co2e", sa.String(length=50), nullable=False),
        sa.Column("declared_unit", sa.String(length=20), nullable=False),
        sa.Column("declared_unit_amount", sa.String(length=50), nullable=False),
        sa.Column("product_mass_kg", sa.String(length=50), nullable=False),
        sa.Column("primary_data_share", sa.String(length=20), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("payload_sha256", sa.String(length=64), nullable=False),
        sa.Column("source", sa.String(length=500), nullable=False),
        sa.Column("actor", sa.String(length=64), nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("supplier", "footprint_id", "version"),
    )
    op.create_index("ix_supplier_footprint_id", "supplier_footprint", ["footprint_id"])
    op.create_table(
        "supplier_footprint_document",
        sa.Column("payload_sha256", sa.String(length=64), nullable=False),
        sa.Column("payload", sa.Text(), nullable=False),
        sa.Column("stored_at", sa.String(length=32), nullable=False),
        sa.PrimaryKeyConstraint("payload_sha256"),
    )


def downgrade() -> None:
    op.drop_table("supplier_footprint_document")
    op.drop_index("ix_supplier_footprint_id", table_name="supplier_footprint")
    op.drop_table("supplier_footprint")
