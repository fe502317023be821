"""API access: API keys, certifiers' cosigner keys, idempotency records (ledger/access.py)

Revision ID: 0003_access
Revises: 0002_domain
"""

import sqlalchemy as sa
from alembic import op

revision = "0003_access"
down_revision = "0002_domain"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "api_key",
        sa.Column("key_id", sa.String(length=12), nullable=False),
        sa.Column("party", sa.String(length=64), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("secret_hash", sa.String(length=200), nullable=False),
        sa.Column("client_id", sa.String(length=40), nullable=False),
        sa.Column("client_secret_hash", sa.String(length=200), nullable=False),
        sa.Column("created_at", sa.String(length=32), nullable=False),
        sa.Column("revoked_at", sa.String(length=32), nullable=True),
        sa.Column("last_used_at", sa.String(length=32), nullable=True),
        sa.PrimaryKeyConstraint("key_id"),
        sa.UniqueConstraint("client_id"),
    )
    with op.batch_alter_table("api_key", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_api_key_party"), ["party"], unique=False)

    op.create_table(
        "cosigner",
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("party", sa.String(length=64), nullable=False),
        sa.Column("vkey", sa.String(length=400), nullable=False),
        sa.Column("added_at", sa.String(length=32), nullable=False),
        sa.PrimaryKeyConstraint("name"),
    )
    with op.batch_alter_table("cosigner", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_cosigner_party"), ["party"], unique=False)

    op.create_table(
        "idempotency",
        sa.Column("party", sa.String(length=64), nullable=False),
        sa.Column("key", sa.String(length=200), nullable=False),
        sa.Column("method", sa.String(length=8), nullable=False),
        sa.Column("path", sa.String(length=500), nullable=False),
        sa.Column("request_hash", sa.String(length=64), nullable=False),
        sa.Column("status", sa.Integer(), nullable=False),
        sa.Column("response_body", sa.Text(), nullable=False),
        sa.Column("content_type", sa.String(length=100), nullable=False),
        sa.Column("location", sa.String(length=500), nullable=True),
        sa.Column("created_at", sa.String(length=32), nullable=False),
        sa.PrimaryKeyConstraint("party", "key"),
    )


def downgrade() -> None:
    op.drop_table("idempotency")
    with op.batch_alter_table("cosigner", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_cosigner_party"))
    op.drop_table("cosigner")
    with op.batch_alter_table("api_key", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_api_key_party"))
    op.drop_table("api_key")
