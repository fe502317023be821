"""Backup and restore: a backup (SQLite online backup, or pg_dump) restores to a ledger that
audits clean and is provably a prefix of the live log."""

from __future__ import annotations

import subprocess
import uuid

import pytest
from sqlalchemy import create_engine, text

from ledger import audit
from ledger.domain import domain_log
from ledger.domain.replay import replay_check
from ledger.errors import InputError, ProofError
from ledger.store.backup import backup_sqlite, check_prefix
from ledger.store.engine import make_engine
from tests.conftest import PG_URL
from tests.ledger.domain.world import allocation, build, shipment


def test_sqlite_online_backup_restores_clean_and_is_a_prefix(sqlite_url, tmp_path):
    engine = make_engine(sqlite_url)
    from ledger.store.migrate import upgrade

    upgrade(engine)
    live = build(engine)
    size = backup_sqlite(engine, tmp_path / "backup.db")
    live.append("allocation.recorded", "p-a", allocation())  # the live log goes on
    live.append("shipment.recorded", "p-a", shipment())
    restored = domain_log(make_engine(f"sqlite:///{tmp_path / 'backup.db'}"))
    assert restored.size() == size == 9
    assert audit.audit(restored.engine, operator_keys=[], extra_checks=[replay_check()],
                       workers=1).clean
    assert check_prefix(restored, live) == (9, 11)
    with pytest.raises(InputError):
        backup_sqlite(engine, tmp_path / "backup.db")  # never overwrites


def test_a_forked_backup_is_not_a_prefix(sqlite_url, tmp_path):
    from ledger.store.migrate import upgrade

    engine = make_engine(sqlite_url)
    upgrade(engine)
    live = build(engine)
    backup_sqlite(engine, tmp_path / "b.db")
    restored = domain_log(make_engine(f"sqlite:///{tmp_path / 'b.db'}"))
    restored.append("shipment.recorded", "p-a", shipment("S-FORK"))  # history diverges
    live.append("shipment.recorded", "p-a", shipment("S-LIVE"))
    live.append("shipment.recorded", "p-a", shipment("S-LIVE2", "1.000"))
    with pytest.raises(ProofError):
        check_prefix(restored, live)


@pytest.mark.postgres
def test_pg_dump_restores_clean_and_is_a_prefix(pg_url, tmp_path):
    from ledger.store.migrate import upgrade

    engine = make_engine(pg_url)
    upgrade(engine)
    live = build(engine)
    schema = pg_url.split("search_path%3D")[1]
    dump = tmp_path / "ledger.dump"
    base = PG_URL.replace("postgresql+psycopg://", "postgresql://")
    subprocess.run(["pg_dump", "--format=custom", f"--schema={schema}", f"--file={dump}", base],
                   check=True)
    live.append("shipment.recorded", "p-a", shipment())
    database = f"gl_restore_{uuid.uuid4().hex[:8]}"
    admin = create_engine(PG_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{database}"'))
    try:
        target = base.rsplit("/", 1)[0] + f"/{database}"
        subprocess.run(["pg_restore", "--no-owner", f"--dbname={target}", str(dump)], check=True)
        restored = domain_log(make_engine(
            f"postgresql+psycopg://{target.split('://', 1)[1]}?options=-csearch_path%3D{schema}"))
        assert restored.size() == 9
        assert audit.audit(restored.engine, operator_keys=[], extra_checks=[replay_check()],
                           workers=1).clean
        assert check_prefix(restored, live) == (9, 10)
        restored.engine.dispose()
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE "{database}" WITH (FORCE)'))
        admin.dispose()
