"""The certifier's page: who may see it and act on it, the audit and the checkpoints it
shows, attesting a certificate's evidence and posting a cosigned checkpoint."""

from __future__ import annotations

import time

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlmodel import Session, select

from ledger import checkpoint as notes
from ledger import keys
from ledger.checkpoint import ALG_COSIGNATURE_V1, Signer
from ledger.domain import domain_log
from ledger.domain.tables import Certificate
from ledger.log import sign_checkpoint
from ledger.store.engine import make_engine
from ledger.store.tables import StoredCheckpoint
from tests.api.conftest import PASSPHRASE
from tests.web.conftest import COSIGNER, csrf_token, sign_in

CERTIFICATE = "CN-GEC:31200808265308017202501000000001"


def test_the_audit_page_needs_a_certifier_or_operator_key(client, signed_in):
    assert client.get("/audit").status_code == 302
    for holder in ("producer", "buyer", "copper"):
        answer = signed_in(holder).get("/audit")
        assert answer.status_code == 302 and "needs=certifier,operator" in answer.headers["Location"]
    for holder in ("certifier", "operator"):
        assert signed_in(holder).get("/audit").status_code == 200, holder


def test_it_shows_a_clean_chain_and_checked_cosignatures(signed_in, web_world):
    html = signed_in("certifier").get("/audit").get_data(as_text=True)
    assert 'data-clean="yes"' in html and "账本审计通过" in html
    assert 'class="sig sig-cosigner"' in html and COSIGNER in html
    assert 'class="sig sig-operator"' in html and "✘" not in html
    assert "greenledger checkpoint cosign --name certifier.example/audit-1" in html
    assert CERTIFICATE in html  # awaiting attestation, with its evidence reference
    assert 'id="attest-button"' in html and 'id="cosign-button"' in html


def test_operators_read_it_but_only_certifiers_act(signed_in):
    html = signed_in("operator").get("/audit").get_data(as_text=True)
    assert 'id="attest-button"' not in html and 'id="cosign-button"' not in html
    c = signed_in("operator")
    token = csrf_token(c.get("/audit").get_data(as_text=True))
    answer = c.post("/audit/attest", data={"csrf_token": token, "certificate": CERTIFICATE,
                                           "evidence_sha256": "0" * 64})
    assert answer.status_code == 302 and answer.headers["Location"].startswith("/login")


def _evidence(engine, certificate: str) -> str:
    with Session(engine) as session:
        return session.get(Certificate, certificate).evidence_sha256


def test_a_certifier_attests_a_certificate_through_the_log(fresh, web_world):
    c = sign_in(fresh.test_client(), web_world.keys["certifier"])
    engine = make_engine(fresh.extensions["greenledger"].settings.database_url)
    digest = _evidence(engine, CERTIFICATE)
    token = csrf_token(c.get("/audit").get_data(as_text=True))
    wrong = c.post("/audit/attest", data={"csrf_token": token, "certificate": CERTIFICATE,
                                          "evidence_sha256": "ab" * 32}, follow_redirects=True)
    assert "certificate.evidence" in wrong.get_data(as_text=True)
    forged = c.post("/audit/attest", data={"certificate": CERTIFICATE, "evidence_sha256": digest},
                    follow_redirects=True)
    assert "页面已过期" in forged.get_data(as_text=True)
    with Session(engine) as session:
        assert session.get(Certificate, CERTIFICATE).attested_by is None
    done = c.post("/audit/attest", data={"csrf_token": token, "certificate": CERTIFICATE,
                                         "evidence_sha256": digest.upper()}, follow_redirects=True)
    html = done.get_data(as_text=True)
    assert f"已核证 {CERTIFICATE}" in html and 'data-clean="yes"' in html
    with Session(engine) as session:
        assert session.get(Certificate, CERTIFICATE).attested_by == "p-certifier"
    engine.dispose()


def _new_checkpoint(engine, web_world) -> StoredCheckpoint:
    """Grow the log by one entry and sign the new tree head (not cosigned yet)."""
    log = domain_log(engine)
    log.append("certificate.attested", "p-certifier",
               {"certificate": CERTIFICATE, "evidence_sha256": _evidence(engine, CERTIFICATE)})
    return sign_checkpoint(log, keys.load(web_world.settings.key_dir, "operator", PASSPHRASE))


def test_a_pasted_cosigned_note_goes_through_the_cosignature_endpoint(fresh, web_world):
    c = sign_in(fresh.test_client(), web_world.keys["certifier"])
    engine = make_engine(fresh.extensions["greenledger"].settings.database_url)
    latest = _new_checkpoint(engine, web_world)
    token = csrf_token(c.get("/audit").get_data(as_text=True))
    stranger = Signer("stranger.example/w", Ed25519PrivateKey.generate(), alg=ALG_COSIGNATURE_V1)
    refused = c.post("/audit/cosign", data={"csrf_token": token,
                                            "note": notes.cosign(latest.note, stranger, 1)},
                     follow_redirects=True)
    assert "联署被拒绝：no valid cosignature by a key registered for p-certifier" in \
        refused.get_data(as_text=True)
    stamp = int(time.time())
    note = notes.cosign(latest.note, web_world.cosigner, stamp)
    pasted = note.replace("\n", "\r\n").rstrip()  # as a browser sends a textarea
    done = c.post("/audit/cosign", data={"csrf_token": token, "note": pasted},
                  follow_redirects=True)
    assert f"已接受 {COSIGNER} 对大小为 {latest.size} 的检查点的联署" in done.get_data(as_text=True)
    with Session(engine) as session:
        stored = session.get(StoredCheckpoint, latest.size).note
    assert notes.verify_cosignature(stored, web_world.cosigner.verifier) == stamp
    engine.dispose()


def test_a_row_edited_behind_the_logs_back_is_a_finding_on_the_page(fresh, web_world):
    engine = make_engine(fresh.extensions["greenledger"].settings.database_url)
    with engine.begin() as conn:
        conn.exec_driver_sql("UPDATE certificate SET kwh = kwh + 1000 WHERE certificate_id = ?",
                             (CERTIFICATE,))
    engine.dispose()
    c = sign_in(fresh.test_client(), web_world.keys["certifier"])
    html = c.get("/audit?lang=en").get_data(as_text=True)
    assert 'data-clean="no"' in html and "The audit found" in html
    rows = [row for row in html.split('<tr class="finding">')[1:] if CERTIFICATE in row]
    assert rows and "<code>certificate</code>" in rows[0]
    # and the service, which audits before it accepts a cosignature, now refuses one
    engine = make_engine(fresh.extensions["greenledger"].settings.database_url)
    with Session(engine) as session:
        latest = session.scalars(select(StoredCheckpoint).order_by(
            StoredCheckpoint.size.desc())).first()
    engine.dispose()
    note = notes.cosign(latest.note, web_world.cosigner, int(time.time()))
    refused = c.post("/audit/cosign", data={"csrf_token": csrf_token(html), "note": note},
                     follow_redirects=True)
    assert "Cosignature refused: the service&#39;s own audit found" in \
        refused.get_data(as_text=True)
