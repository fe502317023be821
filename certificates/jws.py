"""Detached JWS (ES256) over the RFC 8785 bytes of a declaration payload.

The payload travels on its own (as a PDF attachment, over the PACT API), so its signature is
a JWS with *detached content* (RFC 7515 Appendix F): the compact serialization with an empty
payload part, ``<protected header>..<signature>``. The signing input is the usual
``BASE64URL(header) "." BASE64URL(payload bytes)``, where the payload bytes are the JSON
Canonicalization Scheme form (RFC 8785) of the payload, so any implementation that
canonicalizes the JSON it received can check the signature.

The protected header is ``{"alg": "ES256", "cty": "json", "x5c": [leaf, chain...]}``: the
issuer's certificate chain travels in ``x5c`` (RFC 7515 §4.1.6, base64 DER, leaf first), and
the verifier of a declaration requires that leaf to be the certificate that signed the PDF
(DESIGN §6), so payload and PDF name the same issuer. ES256 signatures are the raw
``r || s`` pair (RFC 7518 §3.4), not DER; joserfc does the encoding. This module checks the
signature against the leaf's key only: whether that certificate is *trusted* is decided by the
PDF signature validation, against the same certificate.
"""

from __future__ import annotations

import base64
import binascii
import json
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from joserfc import jws
from joserfc.errors import JoseError
from joserfc.jwk import ECKey

from certificates.issuer import IssuerIdentity
from ledger.encoding import canonical_bytes
from ledger.errors import SignatureError

ALGORITHM = "ES256"
_MAX_JWS_CHARS = 64 * 1024
_MAX_CHAIN = 8


def _registry() -> jws.JWSRegistry:
    """ES256 only; joserfc's default 512-byte header limit is too small for an x5c chain."""
    registry = jws.JWSRegistry(algorithms=[ALGORITHM])
    registry.max_header_length = _MAX_JWS_CHARS
    registry.max_payload_length = 16 * 1024 * 1024
    return registry


def payload_bytes(payload: dict[str, Any]) -> bytes:
    """The RFC 8785 canonical bytes that are signed (and attached to the PDF)."""
    # RFC 8785 via the ledger's encoder: byte-identical to rfc8785.dumps for JSON without
    # floats (property-tested in tests/ledger/test_encoding.py), several times faster, and
    # a payload with a binary float (PACT decimals are strings) is refused outright
    return canonical_bytes(payload)


def _der_b64(cert: x509.Certificate) -> str:
    return base64.b64encode(cert.public_bytes(serialization.Encoding.DER)).decode("ascii")


def sign_detached(payload: dict[str, Any], identity: IssuerIdentity) -> str:
    """The compact detached JWS ``header..signature`` of ``payload`` by ``identity``."""
    header = {
        "alg": ALGORITHM,
        "cty": "json",
        "x5c": [_der_b64(identity.cert), *(_der_b64(c) for c in identity.chain)],
    }
    key = ECKey.import_key(identity.key)
    token = jws.serialize_compact(header, payload_bytes(payload), key, registry=_registry())
    return jws.detach_content(token)


def _b64url_json(segment: str) -> dict[str, Any]:
    padded = segment + "=" * (-len(segment) % 4)
    value = json.loads(base64.urlsafe_b64decode(padded.encode("ascii")))
    if not isinstance(value, dict):
        raise ValueError("protected header is not a JSON object")
    return value


def signer_certificates(token: str) -> list[x509.Certificate]:
    """The ``x5c`` certificates of a detached JWS, leaf first, *without* checking anything."""
    if not isinstance(token, str) or len(token) > _MAX_JWS_CHARS:
        raise SignatureError("the JWS must be a compact serialization of at most 64 KiB")
    parts = token.strip().split(".")
    if len(parts) != 3:
        raise SignatureError("a compact JWS has three parts separated by '.'")
    if parts[1]:
        raise SignatureError("the JWS is not detached: its payload part is not empty")
    try:
        header = _b64url_json(parts[0])
    except (ValueError, UnicodeError, binascii.Error):
        raise SignatureError("the JWS protected header is not base64url JSON") from None
    if header.get("alg") != ALGORITHM:
        raise SignatureError(f"the JWS algorithm must be {ALGORITHM}, got {header.get('alg')!r}")
    if "crit" in header or "b64" in header:
        raise SignatureError("the JWS header must not use crit/b64 (RFC 7797 is not accepted)")
    x5c = header.get("x5c")
    if not isinstance(x5c, list) or not x5c or len(x5c) > _MAX_CHAIN:
        raise SignatureError("the JWS header needs an x5c certificate chain (1 to 8)")
    certs = []
    for item in x5c:
        try:
            certs.append(x509.load_der_x509_certificate(base64.b64decode(item, validate=True)))
        except (TypeError, ValueError, binascii.Error):
            raise SignatureError("an x5c entry is not a base64 DER certificate") from None
    return certs


def verify_detached(payload: dict[str, Any], token: str) -> x509.Certificate:
    """Check the detached JWS ``token`` over ``payload`` and return the signer's certificate
    (the ``x5c`` leaf). Raises :class:`SignatureError` for anything but a valid signature."""
    leaf = signer_certificates(token)[0]
    public = leaf.public_key()
    if not isinstance(public, ec.EllipticCurvePublicKey) or not isinstance(
        public.curve, ec.SECP256R1
    ):
        raise SignatureError("the x5c leaf certificate is not an ECDSA P-256 key")
    try:
        data = payload_bytes(payload)
    except Exception as exc:  # rfc8785 refuses floats out of range, non-str keys...
        raise SignatureError(f"the payload cannot be canonicalized: {exc}") from None
    try:
        jws.deserialize_compact(
            token.strip(), ECKey.import_key(public), registry=_registry(), payload=data
        )
    except JoseError:
        raise SignatureError("the JWS signature does not verify over the payload") from None
    except (ValueError, TypeError) as exc:
        raise SignatureError(f"the JWS is malformed: {exc}") from None
    return leaf
