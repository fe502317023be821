"""Backups of the embedded SQLite ledger, and the check that a backup is an honest prefix.

SQLite: the online backup API (``sqlite3.Connection.backup``) copies a consistent snapshot
while appends go on. PostgreSQL: ``pg_dump`` (see the README); restoring either gives a
database that audits on its own, and :func:`check_prefix` proves with a consistency proof
from the live log that the restored log is a prefix of it, not a fork.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

from sqlalchemy import Engine
from sqlalchemy.engine import make_url

from ledger import verify
from ledger.errors import InputError
from ledger.log import Log


def backup_sqlite(engine: Engine, target: Path) -> int:
    """Copy the SQLite ledger of ``engine`` to ``target`` (a new file); returns its log size."""
    url = make_url(engine.url)
    if url.get_backend_name() != "sqlite" or not url.database:
        raise InputError("online backup is for the SQLite ledger; for PostgreSQL use pg_dump "
                         "(see the README)", field="GREENLEDGER_DATABASE_URL")
    if target.exists():
        raise InputError(f"{target} exists; a backup never overwrites a file", field="target")
    target.parent.mkdir(parents=True, exist_ok=True)
    source = sqlite3.connect(url.database)
    try:
        dest = sqlite3.connect(str(target))
        try:
            source.backup(dest)
            size = dest.execute("SELECT size FROM log_head WHERE id = 1").fetchone()[0]
        finally:
            dest.close()
    finally:
        source.close()
    return int(size)


def check_prefix(restored: Log, live: Log) -> tuple[int, int]:
    """Prove that the restored log is a prefix of the live one: the live log's consistency
    proof from the restored size verifies between the restored root and the live root.
    Returns (restored size, live size); raises ProofError if it is not a prefix."""
    first, second = restored.size(), live.size()
    if first == 0:
        return 0, second
    proof = live.consistency_proof(first, second)
    verify.verify_consistency(first, second, restored.root(first), live.root(second), proof)
    return first, second
