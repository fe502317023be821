"""Attach the payload to the PDF and sign it (PAdES), in one incremental revision.

DESIGN §6: the PDF carries the machine-readable payload and a PAdES signature by the issuer,
so any PDF reader's signature panel and poppler's ``pdfsig`` can check it. reportlab has no
attachment API, so pyHanko does both, in the *same* revision that is then signed (a second,
unsigned revision would be exactly what the verifier refuses):

1. ``declaration.json`` — the RFC 8785 (JCS) bytes of the payload — and ``declaration.jws`` —
   its detached JWS (RFC 7515 App. F) — are embedded files (ISO 32000-2 §7.11.4) in the
   document's ``/EmbeddedFiles`` name tree, each an associated file of the document
   (``/AF``, ``/AFRelationship /Data``: the data the page renders, as PDF/A-3 and ZUGFeRD do);
2. a PAdES baseline B-B signature (ETSI EN 319 142-1; ``/SubFilter /ETSI.CAdES.detached``,
   SHA-256, ECDSA P-256) by the issuer's certificate with its chain in the CMS, in an
   invisible signature field. It covers the whole file as written.

Keys are ``cryptography`` objects (:class:`certificates.issuer.IssuerIdentity`), translated to
the asn1crypto structures pyHanko's :class:`SimpleSigner` uses; the key must be P-256
because ``pdfsig`` rejects Ed25519 (measured here).
"""

from __future__ import annotations

import io
from datetime import UTC, datetime
from typing import Any

from cryptography.hazmat.primitives import serialization
from pyhanko.keys.internal import (
    translate_pyca_cryptography_cert_to_asn1,
    translate_pyca_cryptography_key_to_asn1,
)
from pyhanko.pdf_utils import embed, generic
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.sign import fields, signers
from pyhanko.sign.general import SigningError
from pyhanko_certvalidator.registry import SimpleCertificateStore

from certificates.issuer import IssuerIdentity
from certificates.jws import payload_bytes

PAYLOAD_NAME = "declaration.json"
JWS_NAME = "declaration.jws"
SIGNATURE_FIELD = "GreenledgerIssuerSignature"
_MIME = {PAYLOAD_NAME: "application/json", JWS_NAME: "application/jose"}
_DESCRIPTION = {
    PAYLOAD_NAME: "PACT v3 ProductFootprint of this declaration (RFC 8785 JSON)",
    JWS_NAME: "Detached JWS (ES256, RFC 7515 Appendix F) over declaration.json",
}


def _attach(writer: IncrementalPdfFileWriter, name: str, data: bytes, when: datetime) -> None:
    params = embed.EmbeddedFileParams(creation_date=when, modification_date=when)
    stream = embed.EmbeddedFileObject.from_file_data(
        writer, data=data, compress=True, params=params, mime_type=_MIME[name]
    )
    spec = embed.FileSpec(
        file_spec_string=name,
        file_name=name,
        embedded_data=stream,
        description=_DESCRIPTION[name],
        af_relationship=generic.pdf_name("/Data"),
    )
    embed.embed_file(writer, spec)


def make_signer(identity: IssuerIdentity) -> signers.SimpleSigner:
    """pyHanko's in-memory signer for ``identity`` (the chain travels in the CMS)."""
    store = SimpleCertificateStore.from_certs(  # type: ignore[no-untyped-call]
        [translate_pyca_cryptography_cert_to_asn1(c) for c in identity.chain]
    )
    return signers.SimpleSigner(
        signing_cert=translate_pyca_cryptography_cert_to_asn1(identity.cert),
        signing_key=translate_pyca_cryptography_key_to_asn1(identity.key),
        cert_registry=store,
    )


def _reserve(identity: IssuerIdentity) -> int:
    """Hex digits to reserve for the CMS (pyHanko's unit): twice its size in bytes, which is
    the certificates, the issuer's name twice (signer identifier and ESS signing-certificate
    attribute) and ~370 bytes (measured, with 20-byte serial numbers) of algorithms,
    attributes and ECDSA signature, plus a margin. Sized here so pyHanko need not sign a
    dummy to estimate, and so verifiers parse few padding zeros (pyHanko reads the hex
    string a digit at a time)."""
    der = serialization.Encoding.DER
    certs = sum(len(c.public_bytes(der)) for c in (identity.cert, *identity.chain))
    issuer_name = len(identity.cert.issuer.public_bytes())
    size = 2 * (certs + 2 * issuer_name + 512)
    return -(-size // 64) * 64


def sign_pdf(
    pdf_bytes: bytes,
    payload: dict[str, Any],
    jws: str,
    identity: IssuerIdentity,
    *,
    reason: str,
    location: str,
    signing_time: datetime | None = None,
) -> bytes:
    """Embed ``payload`` and its detached ``jws`` into ``pdf_bytes`` and PAdES-sign the
    result with ``identity``, all in one incremental revision; returns the signed PDF."""
    when = signing_time or datetime.now(UTC)
    meta = signers.PdfSignatureMetadata(
        field_name=SIGNATURE_FIELD,
        subfilter=fields.SigSeedSubFilter.PADES,
        md_algorithm="sha256",
        reason=reason,
        location=location,
        name=identity.subject_name,
    )
    signer = make_signer(identity)
    data = payload_bytes(payload)

    def attempt(bytes_reserved: int | None) -> bytes:
        writer = IncrementalPdfFileWriter(io.BytesIO(pdf_bytes), strict=True)
        _attach(writer, PAYLOAD_NAME, data, when)
        _attach(writer, JWS_NAME, jws.encode("ascii"), when)
        out = signers.PdfSigner(meta, signer=signer).sign_pdf(
            writer, bytes_reserved=bytes_reserved)
        signed: bytes = out.getvalue()
        return signed

    try:
        return attempt(_reserve(identity))
    except SigningError:  # an unusual chain outgrew the estimate: let pyHanko measure
        return attempt(None)
