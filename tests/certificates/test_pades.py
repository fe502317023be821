"""PAdES signature and attachments, checked with poppler's pdfsig/pdfdetach and pyHanko."""

from __future__ import annotations

import io
import subprocess
from pathlib import Path

import rfc8785
from pyhanko.keys.internal import translate_pyca_cryptography_cert_to_asn1
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.validation import validate_pdf_signature
from pyhanko.sign.validation.status import SignatureCoverageLevel
from pyhanko_certvalidator import ValidationContext

from certificates import pades
from certificates.pades import JWS_NAME, PAYLOAD_NAME, SIGNATURE_FIELD
from tests.certificates.conftest import World


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(args, capture_output=True, text=True, timeout=30)


def test_pdfsig_says_valid_and_total_document_signed(signed_pdf: Path):
    out = _run("pdfsig", str(signed_pdf))
    assert out.returncode == 0, out.stderr
    assert "Signature is Valid" in out.stdout
    assert "Total document signed" in out.stdout
    assert "ETSI.CAdES.detached" in out.stdout
    assert SIGNATURE_FIELD in out.stdout


def test_pyhanko_finds_it_intact_trusted_and_covering_the_entire_file(world: World):
    reader = PdfFileReader(io.BytesIO(world.a.pdf))
    (sig,) = reader.embedded_signatures
    context = ValidationContext(
        trust_roots=[translate_pyca_cryptography_cert_to_asn1(world.identity.chain[0])])
    status = validate_pdf_signature(sig, context)
    assert status.intact and status.valid and status.trusted and status.bottom_line
    assert status.coverage == SignatureCoverageLevel.ENTIRE_FILE
    assert status.pkcs7_signature_mechanism == "sha256_ecdsa"
    assert sig.signer_cert.dump() == translate_pyca_cryptography_cert_to_asn1(
        world.identity.cert).dump()


def test_attachments_are_added_in_the_one_revision_that_is_signed(world: World):
    reader = PdfFileReader(io.BytesIO(world.a.pdf))
    assert reader.xrefs.total_revisions == 2
    (sig,) = reader.embedded_signatures
    assert sig.signed_revision == 1
    before = reader.get_historical_resolver(0).root
    assert "/Names" not in before
    names = reader.get_historical_resolver(1).root["/Names"]["/EmbeddedFiles"]["/Names"]
    specs = {str(names[i]): names[i + 1].get_object() for i in range(0, len(names), 2)}
    assert set(specs) == {PAYLOAD_NAME, JWS_NAME}
    for spec in specs.values():
        assert spec["/AFRelationship"] == "/Data"
    assert specs[PAYLOAD_NAME]["/EF"]["/F"]["/Subtype"] == "/application/json"
    assert specs[PAYLOAD_NAME]["/EF"]["/F"].data == rfc8785.dumps(world.a.payload)
    assert specs[JWS_NAME]["/EF"]["/F"].data == world.a.jws.encode("ascii")
    assert len(reader.root["/AF"]) == 2


def test_pdfdetach_extracts_the_jcs_payload_and_the_jws(signed_pdf: Path, world: World,
                                                        tmp_path: Path):
    listing = _run("pdfdetach", "-list", str(signed_pdf)).stdout
    assert PAYLOAD_NAME in listing and JWS_NAME in listing
    _run("pdfdetach", "-saveall", "-o", str(tmp_path), str(signed_pdf))
    assert (tmp_path / PAYLOAD_NAME).read_bytes() == rfc8785.dumps(world.a.payload)
    assert (tmp_path / JWS_NAME).read_text() == world.a.jws


def test_a_too_small_reservation_falls_back_to_pyhankos_estimate(world: World, monkeypatch):
    monkeypatch.setattr(pades, "_reserve", lambda identity: 512)
    pdf = pades.sign_pdf(world.a.unsigned_pdf, world.a.payload, world.a.jws, world.identity,
                         reason="test", location="test")
    assert world.verify(pdf).valid
