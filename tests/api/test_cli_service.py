"""``greenledger keys api create|list|revoke`` and ``keys certifier add`` (DESIGN §9): the
created key works against the app, a revoked one gets 401, secrets are never listed."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner
from sqlmodel import Session

from api.cli import main
from ledger import access, keys
from ledger.store.engine import make_engine
from tests.api.conftest import PASSPHRASE, World, app_for


@pytest.fixture
def home(world: World, tmp_path, monkeypatch):
    settings = world.copy(tmp_path / "home")
    monkeypatch.setenv("GREENLEDGER_HOME", str(settings.home))
    monkeypatch.setenv("GREENLEDGER_DATABASE_URL", settings.database_url)
    monkeypatch.setenv("GREENLEDGER_KEY_DIR", str(world.settings.key_dir))
    monkeypatch.setenv("GREENLEDGER_KEY_PASSPHRASE", PASSPHRASE)
    return settings


def cli(*args: str, code: int = 0) -> str:
    result = CliRunner().invoke(main, list(args))
    assert result.exit_code == code, result.output
    return result.output


def test_create_prints_one_json_object_and_the_key_works(home):
    out = cli("keys", "api", "create", "--party", "p-zinc", "--role", "producer")
    created = json.loads(out)
    assert set(created) == {"api_key", "client_id", "client_secret"}
    assert created["api_key"].startswith("gl_") and out.count("\n") == 1
    client = app_for(home).test_client()
    headers = {"Authorization": f"Bearer {created['api_key']}"}
    batches = client.get("/api/v1/batches?limit=500", headers=headers).get_json()["items"]
    assert batches and {b["owner"] for b in batches} == {"p-zinc"}

    key_id = created["api_key"][3:15]
    listed = json.loads(cli("keys", "api", "list", "--json"))
    mine = [k for k in listed if k["key_id"] == key_id]
    assert mine and mine[0]["party"] == "p-zinc" and mine[0]["last_used_at"]
    text = cli("keys", "api", "list") + json.dumps(listed)
    for secret in created.values():
        if secret != created["client_id"]:
            assert secret not in text
    assert "revoked" in cli("keys", "api", "revoke", key_id)
    assert client.get("/api/v1/batches", headers=headers).status_code == 401


@pytest.mark.parametrize("args, message", [
    (("--party", "p-zinc", "--role", "buyer"), "is not a buyer"),
    (("--party", "p-nobody", "--role", "buyer"), "no party"),
])
def test_create_refuses_a_role_the_party_does_not_have(home, args, message):
    assert message in cli("keys", "api", "create", *args, code=2)


def test_revoking_an_unknown_key_is_exit_2(home):
    assert "no API key" in cli("keys", "api", "revoke", "000000000000", code=2)


def test_certifier_add(home, tmp_path):
    signer = keys.generate(tmp_path / "c", "certifier", "certifier.test/cli", PASSPHRASE)
    vkey = signer.verifier.vkey()
    assert "registered for p-certifier" in cli("keys", "certifier", "add", "--party",
                                               "p-certifier", "--vkey", vkey)
    assert "already registered" in cli("keys", "certifier", "add", "--party", "p-certifier",
                                       "--vkey", vkey, code=2)
    other = keys.generate(tmp_path / "d", "certifier", "certifier.test/file", PASSPHRASE)
    vkey_file = tmp_path / "d" / "certifier-certifier.test_file.vkey"
    assert vkey_file.exists()
    cli("keys", "certifier", "add", "--party", "p-certifier", "--vkey", str(vkey_file))
    operator_vkey = keys.load_verifier(home.key_dir, "operator").vkey()
    assert "cosignature/v1" in cli("keys", "certifier", "add", "--party", "p-certifier",
                                   "--vkey", operator_vkey, code=2)
    assert "is not a certifier" in cli("keys", "certifier", "add", "--party", "p-smelter",
                                       "--vkey", other.verifier.vkey(), code=2)
    engine = make_engine(home.database_url)
    with Session(engine) as s:
        names = {c.name for c in access.cosigners(s, "p-certifier")}
    engine.dispose()
    assert names == {"certifier.test/cli", "certifier.test/file"}
