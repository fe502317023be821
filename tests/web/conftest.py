"""The web test world: the API tests' world (the sample scenario, p-smelter's and p-copper's
declarations, an API key per holder) plus what the pages show:

- p-smelter's declaration of ``SH-AL-EU-2025-01`` (the sample PDF the browser uploads) and a
  copy of it with one byte flipped in the middle (``tampered.pdf``);
- a declaration of ``SH-AL-GD-2025-02``, revoked with a reason;
- a certifier's cosigning key (``certifier.example/audit-1``) registered for p-certifier, and
  its cosignature on the latest checkpoint, which covers every declaration.

Built once per test process; tests that write take ``fresh`` (an app on a copy). ``signed_in``
gives a test client signed in through the real ``/login`` form.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlmodel import Session

from ledger import access, keys
from ledger import checkpoint as notes
from ledger.domain import domain_log
from ledger.log import sign_checkpoint, store_cosigned
from ledger.store.engine import make_engine
from tests.api.conftest import PASSPHRASE, World, app_for, build_world

COSIGNER = "certifier.example/audit-1"
CSRF = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"')


@dataclass
class WebWorld:
    api: World
    eu_declaration: str
    revoked_declaration: str
    sample_pdf: Path
    tampered_pdf: Path
    cosigner: notes.Signer

    @property
    def settings(self):  # type: ignore[no-untyped-def]
        return self.api.settings

    @property
    def keys(self) -> dict[str, str]:
        return self.api.keys


def build_web_world(folder: Path) -> WebWorld:
    from certificates.issuing import issue_declaration, revoke_declaration

    api = build_world(folder)
    settings = api.settings
    engine = make_engine(settings.database_url)
    log = domain_log(engine)
    eu = issue_declaration(engine, settings, "SH-AL-EU-2025-01", actor="p-smelter",
                           create_demo_issuer=True)
    gd2 = issue_declaration(engine, settings, "SH-AL-GD-2025-02", actor="p-smelter",
                            create_demo_issuer=True)
    revoke_declaration(engine, settings, gd2.declaration_id, actor="p-smelter",
                       reason="tonnage corrected 吨数更正")
    cosigner = keys.generate(settings.key_dir, "certifier", COSIGNER, PASSPHRASE)
    with Session(engine) as session:
        access.add_cosigner(session, "p-certifier", cosigner.verifier.vkey())
        session.commit()
    row = sign_checkpoint(log, keys.load(settings.key_dir, "operator", PASSPHRASE))
    store_cosigned(log, row.size, notes.cosign(row.note, cosigner, int(time.time())))
    engine.dispose()
    sample = folder / "sample.pdf"
    sample.write_bytes(eu.pdf)
    tampered = bytearray(eu.pdf)
    tampered[len(tampered) // 2] ^= 0x01
    (folder / "tampered.pdf").write_bytes(bytes(tampered))
    return WebWorld(api, eu.declaration_id, gd2.declaration_id, sample, folder / "tampered.pdf",
                    cosigner)


@pytest.fixture(scope="session")
def web_world(tmp_path_factory: pytest.TempPathFactory) -> WebWorld:
    return build_web_world(tmp_path_factory.mktemp("web"))


@pytest.fixture(scope="module")
def app(web_world: WebWorld) -> Flask:
    return app_for(web_world.settings)


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def fresh(web_world: WebWorld, tmp_path: Path) -> Flask:
    """An app on a copy of the world, for a test that writes."""
    return app_for(web_world.api.copy(tmp_path / "copy"))


def csrf_token(html: str) -> str:
    found = CSRF.search(html)
    assert found, "no CSRF token on the page"
    return found.group(1)


def sign_in(client: FlaskClient, api_key: str) -> FlaskClient:
    page = client.get("/login").get_data(as_text=True)
    answer = client.post("/login", data={"csrf_token": csrf_token(page), "api_key": api_key})
    assert answer.status_code == 302, answer.get_data(as_text=True)
    return client


@pytest.fixture
def signed_in(app: Flask, web_world: WebWorld) -> Callable[[str], FlaskClient]:
    """``signed_in("producer")``: a client of the module's app signed in with that key."""

    def make(holder: str) -> FlaskClient:
        return sign_in(app.test_client(), web_world.keys[holder])

    return make
