"""Detached JWS (RFC 7515 App. F), ES256 over the RFC 8785 bytes of the payload."""

from __future__ import annotations

import base64
import json

import pytest
import rfc8785
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature

from certificates.jws import sign_detached, signer_certificates, verify_detached
from ledger.errors import SignatureError
from tests.certificates.conftest import World


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64url(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def test_compact_detached_form_with_x5c_chain(world: World):
    token = world.a.jws
    header_part, payload_part, signature_part = token.split(".")
    assert payload_part == ""
    header = json.loads(_unb64url(header_part))
    assert header["alg"] == "ES256"
    der = [base64.b64decode(c) for c in header["x5c"]]
    assert der[0] == world.identity.cert.public_bytes(serialization.Encoding.DER)
    assert der[1] == world.identity.chain[0].public_bytes(serialization.Encoding.DER)
    assert len(_unb64url(signature_part)) == 64  # raw r || s (RFC 7518 §3.4), not DER


def test_signature_is_es256_over_the_jcs_bytes_checked_without_joserfc(world: World):
    header_part, _, signature_part = world.a.jws.split(".")
    raw = _unb64url(signature_part)
    der = encode_dss_signature(int.from_bytes(raw[:32], "big"), int.from_bytes(raw[32:], "big"))
    signing_input = f"{header_part}.{_b64url(rfc8785.dumps(world.a.payload))}".encode()
    world.identity.cert.public_key().verify(der, signing_input, ec.ECDSA(hashes.SHA256()))


def test_verify_returns_the_signer_certificate_whatever_the_key_order(world: World):
    reordered = dict(reversed(list(world.a.payload.items())))
    assert verify_detached(reordered, world.a.jws) == world.identity.cert


def test_a_changed_payload_fails(world: World):
    changed = json.loads(json.dumps(world.a.payload))
    changed["extensions"][0]["data"]["greenMwh"] = "15300.000"
    with pytest.raises(SignatureError, match="does not verify"):
        verify_detached(changed, world.a.jws)


def test_another_declarations_payload_fails(world: World):
    with pytest.raises(SignatureError):
        verify_detached(world.b.payload, world.a.jws)


def test_a_signature_by_another_key_with_the_issuers_x5c_fails(world: World):
    forged = sign_detached(world.a.payload, world.stranger)
    header = json.loads(_unb64url(forged.split(".")[0]))
    header["x5c"] = json.loads(_unb64url(world.a.jws.split(".")[0]))["x5c"]
    token = f"{_b64url(json.dumps(header).encode())}..{forged.split('.')[2]}"
    with pytest.raises(SignatureError):
        verify_detached(world.a.payload, token)


@pytest.mark.parametrize("mutate", [
    lambda t: "",
    lambda t: "a.b",
    lambda t: t.replace("..", ".e30."),  # attached payload
    lambda t: t[:-4] + ("AAAA" if not t.endswith("AAAA") else "BBBB"),
    lambda t: _b64url(b'{"alg":"none","x5c":[]}') + ".." + t.split(".")[2],
    lambda t: _b64url(b'{"alg":"HS256","x5c":["AA"]}') + ".." + t.split(".")[2],
    lambda t: _b64url(b'{"alg":"ES256"}') + ".." + t.split(".")[2],
    lambda t: _b64url(b'{"alg":"ES256","x5c":["not base64!"]}') + ".." + t.split(".")[2],
    lambda t: _b64url(b'{"alg":"ES256","b64":false,"crit":["b64"],"x5c":[]}') + ".." + "x",
    lambda t: _b64url(b"[1,2]") + "..x",
    lambda t: "%%%.." + t.split(".")[2],
    lambda t: t + "A" * 70000,
])
def test_malformed_tokens_are_signature_errors(world: World, mutate):
    with pytest.raises(SignatureError):
        verify_detached(world.a.payload, mutate(world.a.jws))


def test_signer_certificates_reads_x5c_leaf_first(world: World):
    certs = signer_certificates(world.a.jws)
    assert certs == [world.identity.cert, *world.identity.chain]
