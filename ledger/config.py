"""Configuration, read once from ``GREENLEDGER_*`` environment variables (DESIGN §8).

Nothing else in the code base reads ``os.environ``. Every setting has a default that works
for the embedded demo: a SQLite file under ``GREENLEDGER_HOME``.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, replace
from pathlib import Path


@dataclass(frozen=True)
class Settings:
    home: Path
    database_url: str
    key_dir: Path
    origin: str
    public_base_url: str
    #: passphrase protecting the private keys; None = ask on a terminal, refuse otherwise
    key_passphrase: str | None

    def with_(self, **changes: object) -> Settings:
        return replace(self, **changes)  # type: ignore[arg-type]


def load_settings(env: dict[str, str] | None = None) -> Settings:
    env = dict(os.environ if env is None else env)
    home = Path(env.get("GREENLEDGER_HOME") or Path.cwd() / ".greenledger").expanduser()
    db = env.get("GREENLEDGER_DATABASE_URL") or f"sqlite:///{home / 'ledger.db'}"
    key_dir = Path(env.get("GREENLEDGER_KEY_DIR") or home / "keys").expanduser()
    origin = env.get("GREENLEDGER_LOG_ORIGIN") or "greenledger.local/log"
    base = env.get("GREENLEDGER_PUBLIC_BASE_URL") or "http://127.0.0.1:8000"
    return Settings(
        home=home,
        database_url=db,
        key_dir=key_dir,
        origin=origin,
        public_base_url=base.rstrip("/"),
        key_passphrase=env.get("GREENLEDGER_KEY_PASSPHRASE"),
    )
