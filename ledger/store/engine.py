"""The SQLAlchemy engine for ``GREENLEDGER_DATABASE_URL`` (DESIGN §3.4).

SQLite (the embedded default) runs in WAL mode with ``synchronous=FULL``: a committed append
survives a process kill and a power cut. pysqlite's own transaction handling is switched off
so that greenledger emits ``BEGIN`` itself: appends open with ``BEGIN IMMEDIATE`` (the write
lock first, DESIGN §3.2), readers with a plain deferred ``BEGIN``. That is SQLAlchemy's
documented recipe for SQLite on Python < 3.12, and it also makes SAVEPOINTs work.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from ledger.errors import ConfigError

SQLITE_BUSY_TIMEOUT_MS = 60_000
_SCHEMES = {"sqlite": "sqlite", "sqlite+pysqlite": "sqlite",
            "postgresql": "postgresql+psycopg", "postgresql+psycopg": "postgresql+psycopg"}


def normalize_url(url: str) -> str:
    try:
        parsed = make_url(url)
    except ArgumentError as exc:
        raise ConfigError(f"not a database URL: {url!r}", field="GREENLEDGER_DATABASE_URL") \
            from exc
    driver = _SCHEMES.get(parsed.drivername)
    if driver is None:
        raise ConfigError(
            f"unsupported database URL scheme {parsed.drivername!r}; allowed: sqlite:///PATH, "
            "postgresql+psycopg://USER@HOST/DB",
            field="GREENLEDGER_DATABASE_URL",
        )
    return parsed.set(drivername=driver).render_as_string(hide_password=False)


def is_sqlite(engine: Engine) -> bool:
    return engine.dialect.name == "sqlite"


def make_engine(url: str, **kwargs: Any) -> Engine:
    url = normalize_url(url)
    parsed = make_url(url)
    if parsed.drivername == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, **kwargs)
        _configure_sqlite(engine)
        return engine
    kwargs.setdefault("pool_pre_ping", True)
    return create_engine(url, **kwargs)


def _configure_sqlite(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        dbapi_conn.isolation_level = None  # we emit BEGIN ourselves
        cur = dbapi_conn.cursor()
        cur.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA synchronous=FULL")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute("PRAGMA cache_size=-131072")  # 128 MiB: bulk imports touch many index pages
        cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        mode = conn.get_execution_options().get("sqlite_begin", "DEFERRED")
        conn.exec_driver_sql(f"BEGIN {mode}")
