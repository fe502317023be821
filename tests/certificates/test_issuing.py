"""Issuing declarations from a real ledger: the payload carries a proof valid from the moment
of issue, the PDF verifies, issuing is atomic, corrections supersede, revocations count."""

from __future__ import annotations

import hashlib
import io
import shutil
from pathlib import Path

import pytest
import rfc8785
from click.testing import CliRunner
from cryptography import x509
from pypdf import PdfReader
from sqlalchemy import text
from sqlmodel import Session

import certificates.issuing as issuing
from api.cli import main
from certificates.pact import payload_core
from certificates.pact_model import validate_product_footprint
from certificates.verify import verify_declaration
from ledger import audit, keys
from ledger.config import load_settings
from ledger.domain import domain_log
from ledger.domain.replay import replay_check
from ledger.domain.tables import Declaration
from ledger.importing import load_scenario
from ledger.store.engine import make_engine
from ledger.store.migrate import upgrade

SCENARIO = Path(__file__).resolve().parents[2] / "sample_data" / "scenario"
EU = "SH-AL-EU-2025-01"


@pytest.fixture(scope="module")
def template(tmp_path_factory):
    home = tmp_path_factory.mktemp("tpl")
    settings = load_settings({"GREENLEDGER_HOME": str(home), "GREENLEDGER_KEY_PASSPHRASE": "pw"})
    engine = make_engine(settings.database_url)
    upgrade(engine)
    load_scenario(domain_log(engine), SCENARIO)
    keys.generate(settings.key_dir, "operator", settings.origin, "pw")
    engine.dispose()
    return home


@pytest.fixture
def world(template, tmp_path):
    home = tmp_path / "home"
    shutil.copytree(template, home)
    settings = load_settings({"GREENLEDGER_HOME": str(home), "GREENLEDGER_KEY_PASSPHRASE": "pw"})
    engine = make_engine(settings.database_url)
    yield engine, settings
    engine.dispose()


def trust(settings, party="p-smelter"):
    return x509.load_pem_x509_certificates(
        (issuing.issuer_dir(settings, party) / "ca-cert.pem").read_bytes())


def test_issue_then_verify_offline(world):
    engine, settings = world
    size = domain_log(engine).size()
    d = issuing.issue_declaration(engine, settings, EU, actor="p-smelter", create_demo_issuer=True)
    assert d.seq == size and d.checkpoint_size == size + 1  # the proof is valid at once
    report = verify_declaration(d.pdf, trust_roots=trust(settings),
                                operator_keys=[keys.load_verifier(settings.key_dir, "operator")])
    assert report.valid, report.to_json()
    assert validate_product_footprint(d.payload) == []
    assert len(PdfReader(io.BytesIO(d.pdf)).pages) <= 2  # DESIGN 6: one or two pages
    entry = domain_log(engine).entry(d.seq)
    assert hashlib.sha256(rfc8785.dumps(payload_core(d.payload))).hexdigest() in entry.entry
    data = d.payload["extensions"][0]["data"]
    assert data["greenMwh"] == "51557.077" and data["shipment"]["tonnes"] == "5000.000"
    assert issuing.declaration_pdf(engine, d.declaration_id) == d.pdf
    assert audit.audit(engine, operator_keys=[keys.load_verifier(settings.key_dir, "operator")],
                       extra_checks=[replay_check()], workers=1).clean


def test_issuing_is_atomic_when_signing_fails(world, monkeypatch):
    engine, settings = world
    issuing.issue_declaration(engine, settings, "SH-AO-2025-01", actor="p-refinery",
                              create_demo_issuer=True)
    log = domain_log(engine)
    size, checkpoints = log.size(), len(log.checkpoints())

    def broken(*a, **k):
        raise RuntimeError("power cut while signing")

    monkeypatch.setattr(issuing, "sign_pdf", broken)
    with pytest.raises(RuntimeError):
        issuing.issue_declaration(engine, settings, EU, actor="p-smelter", create_demo_issuer=True)
    assert log.size() == size and len(log.checkpoints()) == checkpoints
    with engine.connect() as conn:
        assert conn.execute(text("SELECT COUNT(*) FROM declaration")).scalar() == 1
        assert conn.execute(text("SELECT COUNT(*) FROM declaration_document")).scalar() == 1


def test_a_correction_supersedes_and_a_revocation_counts(world):
    engine, settings = world
    first = issuing.issue_declaration(engine, settings, EU, actor="p-smelter", create_demo_issuer=True)
    second = issuing.issue_declaration(engine, settings, EU, actor="p-smelter",
                                       supersedes=first.declaration_id)
    assert second.payload["precedingPfIds"] == [first.declaration_id]
    issuing.revoke_declaration(engine, settings, second.declaration_id, actor="p-smelter",
                               reason="wrong tonnes")
    with Session(engine) as s:
        assert s.get(Declaration, first.declaration_id).status == "superseded"
        row = s.get(Declaration, second.declaration_id)
        assert (row.status, row.reason) == ("revoked", "wrong tonnes")


def test_a_shipment_has_one_valid_declaration_unless_corrected(world):
    from ledger.errors import RuleViolation

    engine, settings = world
    first = issuing.issue_declaration(engine, settings, EU, actor="p-smelter", create_demo_issuer=True)
    size = domain_log(engine).size()
    with pytest.raises(RuleViolation) as err:
        issuing.issue_declaration(engine, settings, EU, actor="p-smelter")
    assert (err.value.rule, err.value.field, err.value.limit) == (
        "declaration.one-per-shipment", "supersedes", first.declaration_id)
    assert domain_log(engine).size() == size  # nothing of the refused one was written


def test_only_the_seller_issues(world):
    engine, settings = world
    from ledger.errors import PermissionDenied

    with pytest.raises(PermissionDenied):
        issuing.issue_declaration(engine, settings, EU, actor="p-eu-importer", create_demo_issuer=True)


def test_every_sample_shipment_gets_a_valid_pact_payload(world):
    engine, settings = world
    with engine.connect() as conn:
        shipments = conn.execute(text("SELECT shipment_id, seller FROM shipment")).all()
    assert len(shipments) == 17
    for sid, seller in shipments:
        d = issuing.issue_declaration(engine, settings, sid, actor=seller, create_demo_issuer=True)
        assert validate_product_footprint(d.payload) == [], sid


def test_cli_declare_and_verify_exit_codes(world, monkeypatch, tmp_path):
    _engine, settings = world
    monkeypatch.setenv("GREENLEDGER_HOME", str(settings.home))
    monkeypatch.setenv("GREENLEDGER_KEY_PASSPHRASE", "pw")
    monkeypatch.delenv("GREENLEDGER_DATABASE_URL", raising=False)
    run = CliRunner()
    r = run.invoke(main, ["keys", "issuer", "create", "--party", "p-smelter"])
    assert r.exit_code == 0 and "BEGIN CERTIFICATE" in r.output
    r = run.invoke(main, ["declare", EU, "--out", str(tmp_path)])
    assert r.exit_code == 0, r.output
    pdf = next(tmp_path.glob("declaration-*.pdf"))
    r = run.invoke(main, ["verify", str(pdf)])
    assert r.exit_code == 0 and "valid" in r.output and "pass  inclusion-proof" in r.output
    r = run.invoke(main, ["verify", str(pdf), "--json"])
    assert r.exit_code == 0 and '"valid": true' in r.output
    data = bytearray(pdf.read_bytes())
    data[len(data) // 2] ^= 0x01
    (tmp_path / "tampered.pdf").write_bytes(bytes(data))
    r = run.invoke(main, ["verify", str(tmp_path / "tampered.pdf")])
    assert r.exit_code == 1 and "INVALID" in r.output
    (tmp_path / "empty.pdf").write_bytes(b"")
    assert run.invoke(main, ["verify", str(tmp_path / "empty.pdf")]).exit_code == 1
    assert run.invoke(main, ["verify", str(tmp_path / "missing.pdf")]).exit_code == 2
    r = run.invoke(main, ["verify", str(pdf), "--trust", str(tmp_path / "nope.pem")])
    assert r.exit_code == 2
    r = run.invoke(main, ["footprint", "shipment", EU, "--json"])
    assert r.exit_code == 0 and '"market_per_tonne"' in r.output
    r = run.invoke(main, ["footprint", "batch", "NOPE"])
    assert r.exit_code == 2 and "no batch 'NOPE'" in r.output


def test_declarations_signed_before_an_issuer_rotation_still_verify(world, monkeypatch, tmp_path):
    engine, settings = world
    before = issuing.issue_declaration(engine, settings, EU, actor="p-smelter", create_demo_issuer=True)
    old_signer = issuing.issuer_identity(settings, _party(engine, "p-smelter")).cert
    issuing.retire_issuer(settings, "p-smelter")
    after = issuing.issue_declaration(engine, settings, EU, actor="p-smelter", create_demo_issuer=True,
                                      supersedes=before.declaration_id)
    new_signer = issuing.issuer_identity(settings, _party(engine, "p-smelter")).cert
    assert new_signer != old_signer
    assert not list((issuing.issuer_dir(settings, "p-smelter") / "retired").glob("*/issuer-key.pem"))
    operator = [keys.load_verifier(settings.key_dir, "operator")]
    roots = issuing.trusted_issuer_roots(settings)
    for d in (before, after):
        assert verify_declaration(d.pdf, trust_roots=roots, operator_keys=operator).valid
    # the retired CA alone no longer vouches for new declarations
    current_only = x509.load_pem_x509_certificates(
        (issuing.issuer_dir(settings, "p-smelter") / "ca-cert.pem").read_bytes())
    assert not verify_declaration(before.pdf, trust_roots=current_only, operator_keys=operator).valid
    monkeypatch.setenv("GREENLEDGER_HOME", str(settings.home))
    monkeypatch.setenv("GREENLEDGER_KEY_PASSPHRASE", "pw")
    monkeypatch.delenv("GREENLEDGER_DATABASE_URL", raising=False)
    pdf = tmp_path / "before.pdf"
    pdf.write_bytes(before.pdf)
    result = CliRunner().invoke(main, ["verify", str(pdf)])
    assert result.exit_code == 0, result.output


def _party(engine, pid):
    from ledger.domain.tables import Party

    with Session(engine) as s:
        return s.get(Party, pid)


def test_the_web_verifier_trusts_retired_issuer_cas_too(world):
    """The web pages used to glob only current CAs, so a declaration signed before an issuer
    rotation failed there while the CLI accepted it; both now share issuer_root_files."""
    from api.web.trust import issuer_roots

    engine, settings = world
    issuing.issue_declaration(engine, settings, EU, actor="p-smelter", create_demo_issuer=True)
    old_ca = (issuing.issuer_dir(settings, "p-smelter") / "ca-cert.pem").read_bytes()
    issuing.retire_issuer(settings, "p-smelter")
    assert x509.load_pem_x509_certificate(old_ca) in issuer_roots(settings)
