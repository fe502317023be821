"""declaration documents (signed PDF, payload, JWS)

Revision ID: 0003_documents
Revises: 0002_domain
"""

import sqlalchemy as sa
from alembic import op

revision = "0003_documents"
down_revision = "0002_domain"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "declaration_document",
        sa.Column("declaration_id", sa.String(length=36), nullable=False),
        sa.Column("pdf", sa.LargeBinary(), nullable=False),
        sa.Column("payload", sa.Text(), nullable=False),
        sa.Column("jws", sa.Text(), nullable=False),
        sa.Column("created_at", sa.String(length=32), nullable=False),
        sa.PrimaryKeyConstraint("declaration_id"),
    )


def downgrade() -> None:
    op.drop_table("declaration_document")
