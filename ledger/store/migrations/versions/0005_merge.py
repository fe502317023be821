"""merge the access tables (API keys, cosigners, idempotency) with the document and key-history
branch, so the schema has one head again

Revision ID: 0005_merge
Revises: 0003_access, 0004_log_keys
"""

revision = "0005_merge"
down_revision = ("0003_access", "0004_log_keys")
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
