"""Resources through the API: keyset pages, what a write answers (201, Location, seq, leaf
hash), the certificate lifecycle, declarations (issue, PDF, supersede, revoke, status)."""

from __future__ import annotations

import shutil
import sys

from click.testing import CliRunner
from sqlmodel import Session

from api.cli import main
from ledger import access
from ledger.store.engine import make_engine
from tests.api.conftest import PASSPHRASE, World, app_for

CERT = "CN-GEC:21202304125326014202412000000001"  # p-smelter's, tradable, unused


def test_collections_are_paged_by_keyset(client, world: World):
    everything = client.get("/api/v1/batches?limit=500", headers=world.headers("producer"))
    ids = [b["id"] for b in everything.get_json()["items"]]
    assert ids == sorted(ids) and len(ids) == 12 and "Link" not in everything.headers
    seen, url = [], "/api/v1/batches?limit=5"
    while url:
        response = client.get(url, headers=world.headers("producer"))
        page = response.get_json()
        seen += [b["id"] for b in page["items"]]
        url = page["next"]
        if url:
            assert response.headers["Link"] == f'<{url}>; rel="next"'
    assert seen == ids


def test_a_write_answers_the_record_with_its_entry(fresh, world: World):
    client = fresh.test_client()
    body = {"batch": "AL-API-1", "lot": "AL-API-1", "facility": "f-smelter",
            "product": "primary aluminium ingot", "metal": "Al", "grade": "Al99.70",
            "cn_code": "76011000", "tonnes": "100.5", "period_start": "2025-12-01",
            "period_end": "2025-12-31", "electricity_mwh": "1300",
            "fuels": [{"fuel": "diesel", "amount": "2", "unit": "t"}],
            "process_emissions": [{"gas": "CF4", "kg": "2.5"}],
            "inputs": [{"kind": "batch", "ref": "AO-2025-12", "tonnes": "50"}]}
    created = client.post("/api/v1/batches", json=body, headers=world.headers("producer"))
    assert created.status_code == 201, created.get_data(as_text=True)
    record = created.get_json()
    assert created.headers["Location"] == "/api/v1/batches/AL-API-1"
    assert (record["tonnes"], record["electricity_mwh"], record["owner"]) == (
        "100.500", "1300.000", "p-smelter")
    assert record["inputs"] == [{"kind": "batch", "ref": "AO-2025-12", "tonnes": "50"}]
    entry = client.get(f"/api/v1/log/entries?start={record['seq']}&end={record['seq'] + 1}",
                       headers=world.headers("producer")).get_json()["entries"][0]
    assert entry["leaf_hash"] == record["leaf_hash"] and entry["kind"] == "batch.registered"
    fetched = client.get(created.headers["Location"], headers=world.headers("producer"))
    assert fetched.get_json() == {k: v for k, v in record.items() if k != "leaf_hash"}


def test_the_certificate_lifecycle(fresh, world: World):
    client = fresh.test_client()
    sha = client.get(f"/api/v1/certificates/{CERT}",
                     headers=world.headers("producer")).get_json()["evidence"]["sha256"]
    attested = client.post(f"/api/v1/certificates/{CERT}/attest", json={"evidence_sha256": sha},
                           headers=world.headers("certifier"))
    assert attested.status_code == 200 and attested.get_json()["attested_by"] == "p-certifier"
    wrong = client.post(f"/api/v1/certificates/{CERT}/attest",
                        json={"evidence_sha256": "0" * 64}, headers=world.headers("certifier"))
    assert wrong.status_code == 422 and wrong.get_json()["rule"] == "certificate.evidence"
    moved = client.post(f"/api/v1/certificates/{CERT}/transfer", json={"to": "p-copper"},
                        headers=world.headers("producer"))
    assert moved.status_code == 200 and moved.get_json()["owner"] == "p-copper"
    assert client.get(f"/api/v1/certificates/{CERT}",
                      headers=world.headers("producer")).status_code == 404
    again = client.post(f"/api/v1/certificates/{CERT}/transfer", json={"to": "p-zinc"},
                        headers=world.headers("copper"))
    assert again.status_code == 422 and again.get_json()["rule"] == "certificate.traded-once"
    cancelled = client.post(f"/api/v1/certificates/{CERT}/cancel", json={"reason": "unused"},
                            headers=world.headers("copper"))
    assert cancelled.get_json()["status"] == "cancelled"
    assert cancelled.get_json()["available_mwh"] == "0.000"


def test_declarations_issue_supersede_revoke(fresh, world: World):
    client = fresh.test_client()
    issued = client.post("/api/v1/declarations", json={"shipment": "SH-AL-GD-2025-02"},
                         headers=world.headers("producer"))
    assert issued.status_code == 201, issued.get_data(as_text=True)
    first = issued.get_json()
    assert first["checkpoint_size"] == first["seq"] + 1
    pdf = client.get(first["links"]["pdf"], headers=world.headers("buyer"))
    assert pdf.status_code == 200 and pdf.data.startswith(b"%PDF")
    assert pdf.mimetype == "application/pdf"
    correction = client.post("/api/v1/declarations", headers=world.headers("producer"), json={
        "shipment": "SH-AL-GD-2025-02", "supersedes": first["id"]})
    assert correction.status_code == 201
    old = client.get(first["links"]["status"]).get_json()
    assert (old["status"], old["superseded_by"]) == ("superseded", correction.get_json()["id"])
    revoked = client.post(f"/api/v1/declarations/{correction.get_json()['id']}/revoke",
                          json={"reason": "wrong tonnes"}, headers=world.headers("producer"))
    assert revoked.status_code == 200 and revoked.get_json()["status"] == "revoked"
    status = client.get(correction.get_json()["links"]["status"]).get_json()
    assert (status["status"], status["reason"]) == ("revoked", "wrong tonnes")
    twice = client.post(f"/api/v1/declarations/{correction.get_json()['id']}/revoke",
                        json={"reason": "again"}, headers=world.headers("producer"))
    assert twice.status_code == 422


def test_without_the_issuing_module_declarations_are_501(fresh, world: World, monkeypatch):
    monkeypatch.setitem(sys.modules, "certificates.issuing", None)
    response = fresh.test_client().post("/api/v1/declarations",
                                        json={"shipment": "SH-AL-GD-2025-02"},
                                        headers=world.headers("producer"))
    assert response.status_code == 501
    assert response.mimetype == "application/problem+json"
    status = fresh.test_client().get(f"/api/v1/declarations/{world.declaration}/status")
    assert status.status_code == 200  # the status reads the projection only


def test_a_producer_without_an_issuer_certificate_is_told_so(fresh, world: World):
    fresh.config["GREENLEDGER_DEMO_ISSUERS"] = False
    engine = make_engine(fresh.extensions["greenledger"].settings.database_url)
    with Session(engine) as session:  # p-zinc has no issuer certificate in the world
        zinc = access.create_api_key(session, "p-zinc", "producer").api_key
        session.commit()
    engine.dispose()
    response = fresh.test_client().post("/api/v1/declarations",
                                        json={"shipment": "SH-ZN-2025-01"},
                                        headers={"Authorization": f"Bearer {zinc}"})
    assert response.status_code == 409, response.get_data(as_text=True)
    assert response.get_json()["type"].endswith("no-issuer-certificate")


def test_the_audit_trusts_a_rotated_operator_key(world: World, tmp_path, monkeypatch):
    settings = world.copy(tmp_path / "home")
    key_dir = tmp_path / "keys"
    shutil.copytree(world.settings.key_dir, key_dir)
    settings = settings.with_(key_dir=key_dir)
    for name, value in (("GREENLEDGER_HOME", str(settings.home)),
                        ("GREENLEDGER_DATABASE_URL", settings.database_url),
                        ("GREENLEDGER_KEY_DIR", str(key_dir)),
                        ("GREENLEDGER_KEY_PASSPHRASE", PASSPHRASE)):
        monkeypatch.setenv(name, value)
    result = CliRunner().invoke(main, ["keys", "rotate", "--reason", "scheduled"])
    assert result.exit_code == 0, result.output
    client = app_for(settings).test_client()
    assert client.post("/api/v1/log/checkpoint",
                       headers=world.headers("operator")).status_code == 200
    report = client.get("/api/v1/audit", headers=world.headers("certifier")).get_json()
    assert report["clean"], report["findings"]
