"""The Alembic migrations create exactly the schema the models describe (both back-ends)."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlmodel import SQLModel

import ledger.domain.log_keys
import ledger.domain.suppliers
import ledger.domain.tables
import ledger.store.documents
import ledger.store.tables  # noqa: F401
from ledger.store.migrate import upgrade


def test_migrations_match_the_models(engine):
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), SQLModel.metadata)
    assert diff == []


def test_upgrade_is_idempotent(engine):
    upgrade(engine)
    upgrade(engine)
