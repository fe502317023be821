"""What a request needs from the running service: settings, the database engine, the log.

One :class:`Service` per Flask app, made by :func:`api.app.create_app` and kept in
``app.extensions``; views reach it through :func:`service`.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask import current_app
from sqlalchemy import Engine

from ledger.config import Settings
from ledger.log import Log

EXTENSION = "greenledger"


@dataclass(frozen=True)
class Service:
    settings: Settings
    engine: Engine
    log: Log


def service() -> Service:
    return current_app.extensions[EXTENSION]  # type: ignore[no-any-return]
