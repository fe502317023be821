"""The issuer's identity: demo CA + P-256 document-signing certificate, key files."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from certificates.issuer import (
    CA_FILE,
    CERT_FILE,
    DOCUMENT_SIGNING,
    KEY_FILE,
    create_demo_ca_and_issuer,
    load_external,
    load_issuer,
)
from ledger.errors import KeyFileError
from tests.certificates.conftest import PASSPHRASE, World


def test_demo_issuer_files_are_written_with_a_private_key_only_its_owner_reads(world: World):
    folder = world.issuer_dir
    assert {p.name for p in folder.iterdir()} >= {KEY_FILE, CERT_FILE, CA_FILE}
    assert stat.S_IMODE((folder / KEY_FILE).stat().st_mode) == 0o600
    pem = (folder / KEY_FILE).read_bytes()
    assert pem.startswith(b"-----BEGIN ENCRYPTED PRIVATE KEY-----")


def test_issuer_certificate_is_p256_for_document_signing_under_the_demo_ca(world: World):
    cert, (ca,) = world.identity.cert, world.identity.chain
    assert isinstance(cert.public_key(), ec.EllipticCurvePublicKey)
    assert isinstance(cert.public_key().curve, ec.SECP256R1)
    ku = cert.extensions.get_extension_for_class(x509.KeyUsage).value
    assert ku.digital_signature and ku.content_commitment and not ku.key_cert_sign
    eku = cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    assert DOCUMENT_SIGNING in eku and ExtendedKeyUsageOID.EMAIL_PROTECTION in eku
    assert cert.extensions.get_extension_for_class(x509.BasicConstraints).value.ca is False
    assert cert.subject.get_attributes_for_oid(NameOID.COUNTRY_NAME)[0].value == "CN"
    assert cert.subject.get_attributes_for_oid(NameOID.ORGANIZATION_NAME)
    days = (cert.not_valid_after_utc - cert.not_valid_before_utc).days
    assert 729 <= days <= 731
    cert.verify_directly_issued_by(ca)
    ca.verify_directly_issued_by(ca)
    ca_bc = ca.extensions.get_extension_for_class(x509.BasicConstraints)
    assert ca_bc.critical and ca_bc.value.ca
    assert ca.extensions.get_extension_for_class(x509.KeyUsage).value.key_cert_sign


def test_load_issuer_round_trips(world: World):
    loaded = load_issuer(world.issuer_dir, PASSPHRASE)
    assert loaded.cert == world.identity.cert
    assert loaded.chain == world.identity.chain
    assert loaded.key.public_key() == world.identity.key.public_key()


def test_wrong_passphrase_is_a_one_line_key_file_error(world: World):
    with pytest.raises(KeyFileError) as err:
        load_issuer(world.issuer_dir, "wrong")
    message = str(err.value)
    assert "wrong passphrase" in message and "\n" not in message


def test_missing_directory_is_a_key_file_error(tmp_path: Path):
    with pytest.raises(KeyFileError, match="cannot read"):
        load_issuer(tmp_path / "nowhere", "x")


def test_key_material_never_appears_in_repr(world: World):
    text = repr(world.identity) + str(world.identity)
    raw = world.identity.key.private_numbers().private_value
    assert "PRIVATE" not in text and str(raw) not in text and hex(raw)[2:] not in text
    assert "云南文山铝业" in text


def test_load_external_finds_the_leaf_in_any_order(world: World, tmp_path: Path):
    pem = serialization.Encoding.PEM
    chain = tmp_path / "chain.pem"
    chain.write_bytes(world.identity.chain[0].public_bytes(pem)
                      + world.identity.cert.public_bytes(pem))
    loaded = load_external(world.issuer_dir / KEY_FILE, chain, PASSPHRASE)
    assert loaded.cert == world.identity.cert and loaded.chain == world.identity.chain


def test_load_external_refuses_a_chain_without_the_keys_certificate(world: World,
                                                                     tmp_path: Path):
    chain = tmp_path / "chain.pem"
    chain.write_bytes(world.stranger.cert.public_bytes(serialization.Encoding.PEM))
    with pytest.raises(KeyFileError, match="no certificate"):
        load_external(world.issuer_dir / KEY_FILE, chain, PASSPHRASE)


def test_load_external_refuses_a_key_that_is_not_p256(world: World, tmp_path: Path):
    key_path = tmp_path / "ed.pem"
    key_path.write_bytes(ed25519.Ed25519PrivateKey.generate().private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption()))
    with pytest.raises(KeyFileError, match="P-256"):
        load_external(key_path, world.issuer_dir / CERT_FILE, None)


def test_unencrypted_key_and_garbage_are_key_file_errors(world: World, tmp_path: Path):
    plain = tmp_path / "plain.pem"
    plain.write_bytes(world.identity.key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption()))
    with pytest.raises(KeyFileError, match="not encrypted"):
        load_external(plain, world.issuer_dir / CERT_FILE, "pw")
    with pytest.raises(KeyFileError, match="passphrase is needed"):
        load_external(world.issuer_dir / KEY_FILE, world.issuer_dir / CERT_FILE, None)
    garbage = tmp_path / "garbage.pem"
    garbage.write_bytes(b"not a key")
    with pytest.raises(KeyFileError):
        load_external(garbage, world.issuer_dir / CERT_FILE, "pw")
    with pytest.raises(KeyFileError, match="no readable PEM certificate"):
        load_external(world.issuer_dir / KEY_FILE, garbage, PASSPHRASE)


def test_an_empty_passphrase_is_refused(tmp_path: Path):
    with pytest.raises(KeyFileError):
        create_demo_ca_and_issuer(tmp_path, issuer_name="x", organisation="y", passphrase="")
