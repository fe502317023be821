"""The PACT test world: the API tests' scenario ledger plus a third declaration (p-smelter's
second shipment to p-buyer-gd), PACT client credentials for each holder, a self-signed
certificate for 127.0.0.1, and real werkzeug servers over HTTPS (and one over plain HTTP).

Declarations: ``smelter`` and ``smelter2`` (issuer p-smelter, buyer p-buyer-gd), ``copper``
(issuer p-copper, buyer p-buyer-cable). An operator token sees all three.
"""

from __future__ import annotations

import shutil
import ssl
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import requests
from flask import Flask
from sqlmodel import Session
from werkzeug.serving import make_server

from api.pact import EXTENSION
from api.pact.tls import make_self_signed
from certificates.issuing import issue_declaration
from ledger import access
from ledger.config import Settings
from ledger.store.engine import make_engine
from tests.api.conftest import HOLDERS, World, app_for, build_world


@dataclass
class Cred:
    client_id: str
    client_secret: str
    party: str
    role: str
    key_id: str


@dataclass
class PactWorld:
    world: World
    creds: dict[str, Cred]
    declarations: dict[str, str]

    @property
    def settings(self) -> Settings:
        return self.world.settings

    def copy(self, target: Path) -> Settings:
        """A private copy (database and key directory) for a test that writes."""
        settings = self.world.copy(target)
        shutil.copytree(self.world.settings.key_dir, target / "keys")
        return settings.with_(key_dir=target / "keys")


def add_credentials(settings: Settings, holders: dict[str, tuple[str, str]]) -> dict[str, Cred]:
    engine = make_engine(settings.database_url)
    out = {}
    with Session(engine) as session:
        for name, (party, role) in holders.items():
            made = access.create_api_key(session, party, role)
            out[name] = Cred(made.client_id, made.client_secret, party, role, made.key_id)
        session.commit()
    engine.dispose()
    return out


def build_pact_world(folder: Path) -> PactWorld:
    world = build_world(folder)
    engine = make_engine(world.settings.database_url)
    second = issue_declaration(engine, world.settings, "SH-AL-GD-2025-02", actor="p-smelter",
                               create_demo_issuer=True)
    engine.dispose()
    creds = add_credentials(world.settings, HOLDERS)
    engine = make_engine(world.settings.database_url)
    with Session(engine) as session:
        access.revoke_api_key(session, creds["revoked"].key_id)
        session.commit()
    engine.dispose()
    return PactWorld(world, creds, {"smelter": world.declaration, "smelter2": second.declaration_id,
                                    "copper": world.copper_declaration})


@pytest.fixture(scope="session")
def pact_world(tmp_path_factory) -> PactWorld:
    return build_pact_world(tmp_path_factory.mktemp("pact-world"))


@pytest.fixture(scope="session")
def tls(tmp_path_factory) -> tuple[Path, Path]:
    return make_self_signed(tmp_path_factory.mktemp("tls"), ["127.0.0.1", "localhost"])


@pytest.fixture(scope="session")
def cert(tls) -> str:
    return str(tls[0])


class Servers:
    def __init__(self, tls: tuple[Path, Path]) -> None:
        self.tls = tls
        self.running: list[tuple[Any, threading.Thread]] = []

    def start(self, app: Any, *, https: bool = True) -> str:
        context = None
        if https:
            context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            context.load_cert_chain(*self.tls)
        server = make_server("127.0.0.1", 0, app, threaded=True, ssl_context=context)
        thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05},
                                  daemon=True)
        thread.start()
        self.running.append((server, thread))
        return f"{'https' if https else 'http'}://127.0.0.1:{server.server_port}"

    def stop(self) -> None:
        for server, thread in self.running:
            server.shutdown()
            thread.join(timeout=5)
            server.server_close()
        self.running.clear()


@pytest.fixture(scope="module")
def module_servers(tls) -> Iterator[Servers]:
    servers = Servers(tls)
    yield servers
    servers.stop()


@pytest.fixture
def servers(tls) -> Iterator[Servers]:
    servers = Servers(tls)
    yield servers
    servers.stop()


def pact_app(settings: Settings, **config: Any) -> Flask:
    app = app_for(settings)
    app.config.update(config)
    app.extensions[EXTENSION].sleep = lambda s: time.sleep(min(s, 0.05))
    return app


def get_token(base: str, cred: Cred, cert: str) -> str:
    r = requests.post(f"{base}/auth/token", auth=(cred.client_id, cred.client_secret),
                      data={"grant_type": "client_credentials"}, verify=cert, timeout=10)
    assert r.status_code == 200, r.text
    return r.json()["access_token"]


def wait_for(check: Callable[[], Any], timeout: float = 15.0) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError("timed out waiting")
        time.sleep(0.05)
