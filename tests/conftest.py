"""Fixtures shared by every test: real SQLite files and the real PostgreSQL server.

``db_url`` is parametrized over both back-ends. PostgreSQL tests run when
``GREENLEDGER_TEST_POSTGRES_URL`` is set (``.ci/run`` sets it); under
``GREENLEDGER_REQUIRE_POSTGRES=1`` a missing URL fails instead of skipping, so CI can never
silently skip them. Each PostgreSQL test gets a schema of its own.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator

import pytest
from sqlalchemy import create_engine, text

from ledger.store.engine import make_engine
from ledger.store.migrate import upgrade

PG_URL = os.environ.get("GREENLEDGER_TEST_POSTGRES_URL")


def _postgres_or_skip() -> str:
    if PG_URL:
        return PG_URL
    if os.environ.get("GREENLEDGER_REQUIRE_POSTGRES") == "1":
        pytest.fail("GREENLEDGER_TEST_POSTGRES_URL is not set but PostgreSQL is required")
    pytest.skip("GREENLEDGER_TEST_POSTGRES_URL not set")


@pytest.fixture
def pg_url() -> Iterator[str]:
    """A URL whose connections see a fresh, empty schema of their own."""
    base = _postgres_or_skip()
    schema = f"gl_{uuid.uuid4().hex[:12]}"
    admin = create_engine(base.replace("postgresql://", "postgresql+psycopg://"))
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    sep = "&" if "?" in base else "?"
    yield f"{base}{sep}options=-csearch_path%3D{schema}"
    with admin.begin() as conn:
        conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
    admin.dispose()


@pytest.fixture
def sqlite_url(tmp_path) -> str:
    return f"sqlite:///{tmp_path / 'ledger.db'}"


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def db_url(request) -> str:
    if request.param == "sqlite":
        return request.getfixturevalue("sqlite_url")
    return request.getfixturevalue("pg_url")


@pytest.fixture
def engine(db_url):
    eng = make_engine(db_url)
    upgrade(eng)
    yield eng
    eng.dispose()
