"""What every command needs: settings, the database, the log, the keys' passphrase."""

from __future__ import annotations

import sys
from dataclasses import dataclass
from functools import cached_property

import click
from sqlalchemy import Engine

from ledger import keys
from ledger.checkpoint import Signer, Verifier
from ledger.config import Settings, load_settings
from ledger.domain import domain_log
from ledger.domain.rules import Rules
from ledger.errors import KeyFileError
from ledger.log import Log
from ledger.store.engine import make_engine
from ledger.store.migrate import upgrade


@dataclass
class Context:
    settings: Settings

    @cached_property
    def engine(self) -> Engine:
        """The database, its schema brought up to date (Alembic; idempotent) so that a ledger
        made by an older version works with this one."""
        engine = make_engine(self.settings.database_url)
        upgrade(engine)
        return engine

    @cached_property
    def log(self) -> Log:
        return domain_log(self.engine, Rules())

    def migrate(self) -> None:
        upgrade(self.engine)

    def passphrase(self, *, confirm: bool = False) -> str:
        if self.settings.key_passphrase:
            return self.settings.key_passphrase
        if not sys.stdin.isatty():
            raise KeyFileError("set GREENLEDGER_KEY_PASSPHRASE (no terminal to ask on)",
                               field="passphrase")
        return str(click.prompt("Key passphrase", hide_input=True,
                                confirmation_prompt=confirm, err=True))

    def operator_signer(self) -> Signer:
        return keys.load(self.settings.key_dir, "operator", self.passphrase())

    def operator_verifier(self) -> Verifier:
        return keys.load_verifier(self.settings.key_dir, "operator")

    def operator_verifiers(self) -> list[Verifier]:
        """The current operator key and every retired one (to check older checkpoints)."""
        from ledger.domain.full_audit import pinned_operator_keys

        return pinned_operator_keys(self.settings.key_dir)

    def witnessed_checkpoints(self) -> list[str]:
        """Checkpoints this home's certifiers cosigned (GREENLEDGER_HOME/witness/): the log
        must still match them."""
        folder = self.settings.home / "witness"
        return [p.read_text(encoding="utf-8") for p in sorted(folder.glob("*.checkpoint"))]


def current() -> Context:
    return Context(load_settings())
