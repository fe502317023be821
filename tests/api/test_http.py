"""Over real HTTP (werkzeug on 127.0.0.1, an ephemeral port, ``requests``): authentication
challenges, the failed-attempt limiter, body limits, the buyer's online verification against
this service, and ``greenledger serve`` over TLS."""

from __future__ import annotations

import datetime as dt
import ipaddress
import os
import subprocess
import sys
from pathlib import Path

import pytest
import requests
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from api.auth import LIMITER, FailureLimiter
from certificates.verify_online import (
    OnlineCheck,
    OnlineFailure,
    check_consistency,
    check_status,
)
from ledger import keys
from ledger.checkpoint import open_checkpoint
from ledger.log import Log
from ledger.store.engine import make_engine
from tests.api.conftest import World, app_for


def test_missing_and_bad_keys_get_a_bearer_challenge(world: World, app, serve):
    base = serve(app)
    missing = requests.get(f"{base}/api/v1/batches", timeout=10)
    assert missing.status_code == 401
    assert missing.headers["WWW-Authenticate"] == 'Bearer realm="greenledger"'
    assert missing.headers["Content-Type"] == "application/problem+json"
    for header in ("Bearer gl_000000000000_" + "0" * 64, "Basic dXNlcjpwYXNz", "Bearer",
                   f"Bearer {world.keys['revoked']}"):
        bad = requests.get(f"{base}/api/v1/batches", headers={"Authorization": header},
                           timeout=10)
        assert bad.status_code == 401
        assert 'error="invalid_token"' in bad.headers["WWW-Authenticate"]
    good = requests.get(f"{base}/api/v1/batches", headers=world.headers("producer"), timeout=10)
    assert good.status_code == 200 and good.headers["Cache-Control"] == "no-store"


def test_failed_attempts_are_limited_per_address(world: World, serve):
    app = app_for(world.settings)
    app.extensions[LIMITER] = FailureLimiter(burst=3, per_minute=6)
    base = serve(app)
    bad = {"Authorization": "Bearer gl_000000000000_" + "1" * 64}
    statuses = [requests.get(f"{base}/api/v1/parties", headers=bad, timeout=10).status_code
                for _ in range(4)]
    assert statuses == [401, 401, 401, 429]
    limited = requests.get(f"{base}/api/v1/parties", headers=world.headers("operator"),
                           timeout=10)
    assert limited.status_code == 429  # refused before the key is even looked at
    assert 1 <= int(limited.headers["Retry-After"]) <= 10
    assert limited.json()["type"].endswith("rate-limited")
    assert requests.get(f"{base}/api/v1/log/checkpoint", timeout=10).status_code == 200


def test_a_body_over_the_limit_is_413_over_http(world: World, serve):
    app = app_for(world.settings)
    app.config["MAX_CONTENT_LENGTH"] = 4096
    base = serve(app)
    response = requests.post(f"{base}/api/v1/facilities", data=b"{" + b" " * 8192 + b"}",
                             headers={**world.headers("producer"),
                                      "Content-Type": "application/json"}, timeout=10)
    assert response.status_code == 413
    assert response.headers["Content-Type"] == "application/problem+json"


def test_a_buyers_online_verification_against_this_service(world: World, fresh, serve):
    base = serve(fresh)
    with requests.Session() as session:
        online = OnlineCheck(base, session, timeout=10)
        assert "valid" in check_status(online, world.declaration)
        engine = make_engine(fresh.extensions["greenledger"].settings.database_url)
        earliest = Log(engine).checkpoints()[0]
        engine.dispose()
        declared = open_checkpoint(earliest.note, keys.load_verifier(world.settings.key_dir,
                                                                     "operator"))
        created = session.post(f"{base}/api/v1/facilities", headers=world.headers("producer"),
                               json={"facility": "f-http", "name": "x", "province": "CN-YN",
                                     "grid_region": "CN-SOUTH", "country": "CN",
                                     "process": "x"}, timeout=10)
        assert created.status_code == 201
        assert session.post(f"{base}/api/v1/log/checkpoint", headers=world.headers("operator"),
                            timeout=10).status_code == 200
        detail = check_consistency(online, declared, keys.load_verifier(world.settings.key_dir,
                                                                        "operator"))
        assert f"size {declared.size}" in detail
        revoked = session.post(f"{base}/api/v1/declarations/{world.declaration}/revoke",
                               headers=world.headers("producer"),
                               json={"reason": "batch AL-2025-03 re-measured"}, timeout=30)
        assert revoked.status_code == 200, revoked.text
        with pytest.raises(OnlineFailure, match="re-measured"):
            check_status(online, world.declaration)
        status = session.get(f"{base}/api/v1/declarations/{world.declaration}/status",
                             timeout=10).json()
        assert status["status"] == "revoked" and status["revoked_at"].endswith("Z")
        with pytest.raises(OnlineFailure, match="does not know"):
            check_status(online, "00000000-0000-4000-8000-000000000000")


def _self_signed(folder: Path) -> tuple[Path, Path]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = dt.datetime.now(dt.UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(minutes=1))
            .not_valid_after(now + dt.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName(
                [x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
                critical=False)
            .sign(key, hashes.SHA256()))
    cert_path, key_path = folder / "cert.pem", folder / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                           serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return cert_path, key_path


def test_greenledger_serve_prints_its_url_and_serves_tls(world: World, tmp_path):
    cert, key = _self_signed(tmp_path)
    settings = world.copy(tmp_path / "home")
    env = {**os.environ, "GREENLEDGER_HOME": str(settings.home),
           "GREENLEDGER_DATABASE_URL": settings.database_url,
           "GREENLEDGER_KEY_DIR": str(world.settings.key_dir),
           "GREENLEDGER_KEY_PASSPHRASE": "unused"}
    command = [sys.executable, "-c", "from api.cli import main; main()", "serve", "--port", "0",
               "--tls-cert", str(cert), "--tls-key", str(key)]
    process = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               text=True, cwd=Path(__file__).resolve().parents[2])
    try:
        line = process.stdout.readline()
        assert "serving on https://127.0.0.1:" in line, process.stderr.read()
        base = line.split("serving on ")[1].split()[0]
        answer = requests.get(f"{base}/api/v1/log/checkpoint", verify=str(cert), timeout=10)
        assert answer.status_code == 200 and answer.text.startswith("greenledger.test/log\n")
        assert answer.headers["Strict-Transport-Security"].startswith("max-age=")
    finally:
        process.terminate()
        process.wait(timeout=10)
        process.stdout.close()
        process.stderr.close()
