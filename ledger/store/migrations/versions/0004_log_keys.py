"""operator key history (key.activated / key.revoked)

Revision ID: 0004_log_keys
Revises: 0003_documents
"""

import sqlalchemy as sa
from alembic import op

revision = "0004_log_keys"
down_revision = "0003_documents"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "log_key",
        sa.Column("vkey", sa.Text(), nullable=False),
        sa.Column("activated_seq", sa.BigInteger(), nullable=False),
        sa.Column("revoked_seq", sa.BigInteger(), nullable=True),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("vkey"),
    )


def downgrade() -> None:
    op.drop_table("log_key")
