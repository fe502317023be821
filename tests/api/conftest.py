"""The API test world: the sample scenario (193 entries) in a SQLite file, built once per
test process (it is never written to), with two declarations issued (p-smelter's for
p-buyer-gd, p-copper's for p-buyer-cable), a signed checkpoint and an API key per holder.

Tests that only read share the module's app; a test that writes takes ``fresh``, an app on a
copy of the file. ``serve`` runs an app on a real werkzeug server (127.0.0.1, ephemeral port)
for the tests that are about HTTP itself.
"""

from __future__ import annotations

import shutil
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from flask import Flask
from sqlmodel import Session
from werkzeug.serving import make_server

from api.app import create_app
from api.auth import LIMITER, FailureLimiter
from api.v1.declarations import DEMO_ISSUERS
from ledger import access, keys
from ledger.config import Settings
from ledger.domain import domain_log
from ledger.importing import load_scenario
from ledger.log import sign_checkpoint
from ledger.store.engine import make_engine
from ledger.store.migrate import upgrade

SCENARIO = Path(__file__).resolve().parents[2] / "sample_data" / "scenario"
PASSPHRASE = "api-tests"
ORIGIN = "greenledger.test/log"

#: who holds which key: name -> (party, role)
HOLDERS = {
    "operator": ("p-operator", "operator"),
    "certifier": ("p-certifier", "certifier"),
    "producer": ("p-smelter", "producer"),
    "buyer": ("p-buyer-gd", "buyer"),
    "copper": ("p-copper", "producer"),
    "cable": ("p-buyer-cable", "buyer"),
    "smelter-buyer": ("p-smelter", "buyer"),
    "revoked": ("p-smelter", "producer"),
}


@dataclass
class World:
    folder: Path
    db: Path
    settings: Settings
    keys: dict[str, str]
    key_ids: dict[str, str]
    #: the declaration issued by p-smelter for p-buyer-gd
    declaration: str
    copper_declaration: str
    checkpoint_size: int
    extra: dict[str, object] = field(default_factory=dict)

    def headers(self, who: str | None) -> dict[str, str]:
        return {} if who is None else {"Authorization": f"Bearer {self.keys[who]}"}

    def copy(self, target: Path) -> Settings:
        target.mkdir(parents=True, exist_ok=True)
        db = target / "ledger.db"
        shutil.copyfile(self.db, db)
        return self.settings.with_(home=target, database_url=f"sqlite:///{db}")


def settings_for(folder: Path, db: Path) -> Settings:
    return Settings(home=folder, database_url=f"sqlite:///{db}", key_dir=folder / "keys",
                    origin=ORIGIN, public_base_url="http://127.0.0.1:8000",
                    key_passphrase=PASSPHRASE)


def build_world(folder: Path) -> World:
    from certificates.issuing import issue_declaration

    db = folder / "world.db"
    settings = settings_for(folder, db)
    engine = make_engine(settings.database_url)
    upgrade(engine)
    log = domain_log(engine)
    load_scenario(log, SCENARIO)
    keys.generate(settings.key_dir, "operator", ORIGIN, PASSPHRASE)
    smelter = issue_declaration(engine, settings, "SH-AL-GD-2025-01", actor="p-smelter",
                                create_demo_issuer=True)
    copper = issue_declaration(engine, settings, "SH-CU-2025-01", actor="p-copper",
                               create_demo_issuer=True)
    checkpoint = sign_checkpoint(log, keys.load(settings.key_dir, "operator", PASSPHRASE))
    made, ids = {}, {}
    with Session(engine) as session:
        for name, (party, role) in HOLDERS.items():
            new = access.create_api_key(session, party, role)
            made[name], ids[name] = new.api_key, new.key_id
        access.revoke_api_key(session, ids["revoked"])
        session.commit()
    engine.dispose()
    return World(folder, db, settings, made, ids, smelter.declaration_id,
                 copper.declaration_id, checkpoint.size)


def app_for(settings: Settings) -> Flask:
    app = create_app(settings, testing=True)
    app.config[DEMO_ISSUERS] = True
    # the matrix sends many bad keys from one address; the limiter has its own test
    app.extensions[LIMITER] = FailureLimiter(100_000, 100_000)
    return app


@pytest.fixture(scope="session")
def world(tmp_path_factory) -> World:
    return build_world(tmp_path_factory.mktemp("world"))


@pytest.fixture(scope="module")
def app(world: World) -> Flask:
    return app_for(world.settings)


@pytest.fixture(scope="module")
def client(app: Flask):
    return app.test_client()


@pytest.fixture
def fresh(world: World, tmp_path) -> Flask:
    """An app on a copy of the world, for a test that writes."""
    return app_for(world.copy(tmp_path / "copy"))


@pytest.fixture
def serve():
    """Run apps on real werkzeug servers; yields a function app -> base URL."""
    servers = []

    def start(app: Flask) -> str:
        server = make_server("127.0.0.1", 0, app, threaded=True)
        thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05},
                                  daemon=True)
        thread.start()
        servers.append((server, thread))
        return f"http://127.0.0.1:{server.server_port}"

    yield start
    for server, thread in servers:
        server.shutdown()
        thread.join(timeout=5)


def iter_json_strings(value: object) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for k, v in value.items():
            yield str(k)
            yield from iter_json_strings(v)
    elif isinstance(value, list):
        for v in value:
            yield from iter_json_strings(v)
