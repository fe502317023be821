"""Hostile input: the declaration verifier fed mutated PDFs never crashes, never hangs and
never says valid (issue 6). CI runs a bounded number of examples; a long run is

    GREENLEDGER_FUZZ_EXAMPLES=20000 .venv/bin/python -m pytest tests/certificates/test_verify_fuzz.py -q

which prints the number of inputs tried and the slowest verification."""

from __future__ import annotations

import os
import time

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

EXAMPLES = int(os.environ.get("GREENLEDGER_FUZZ_EXAMPLES", "150"))
MAX_SECONDS = 5.0  # a verification slower than this counts as a hang
_slowest: list[float] = [0.0]
_tried: list[int] = [0]


@st.composite
def mutation(draw, size: int):
    kind = draw(st.sampled_from(["flip", "truncate", "insert", "delete", "duplicate", "splice",
                                 "overwrite-token", "append-update"]))
    at = draw(st.integers(0, size - 1))
    return kind, at, draw(st.integers(1, 4096)), draw(st.binary(min_size=1, max_size=64)), \
        draw(st.sampled_from([b"/ByteRange", b"/Contents", b"endobj", b"xref", b"trailer",
                              b"/EmbeddedFiles", b"stream", b"%%EOF", b"/Length 0", b"<<", b">>"]))


def mutate(pdf: bytes, other: bytes, m) -> bytes:
    kind, at, length, blob, token = m
    if kind == "flip":
        b = bytearray(pdf)
        b[at] ^= 1 << (length % 8)
        return bytes(b)
    if kind == "truncate":
        return pdf[:at]
    if kind == "insert":
        return pdf[:at] + blob + pdf[at:]
    if kind == "delete":
        return pdf[:at] + pdf[at + length:]
    if kind == "duplicate":
        return pdf[:at] + pdf[at:at + length] + pdf[at:]
    if kind == "splice":
        return pdf[:at] + other[at:]
    if kind == "overwrite-token":
        i = pdf.find(token, at % max(1, len(pdf) - len(token)))
        if i < 0:
            i = pdf.find(token)
        return pdf if i < 0 else pdf[:i] + blob[:len(token)].ljust(len(token), b" ") + pdf[i + len(token):]
    # an incremental update appended after the signature, with arbitrary content
    return pdf + b"\n" + blob + b"\n%%EOF\n"


def test_the_verifier_never_crashes_hangs_or_accepts_a_mutated_declaration(world):
    pdf, other = world.a.pdf, world.b.pdf
    assert world.verify(pdf).valid  # the unmutated file is valid: the test can fail

    @settings(max_examples=EXAMPLES, deadline=None, database=None,
              suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
    @given(mutation(len(pdf)))
    def check(m):
        data = mutate(pdf, other, m)
        start = time.perf_counter()
        report = world.verify(data)  # must not raise
        took = time.perf_counter() - start
        _slowest[0] = max(_slowest[0], took)
        _tried[0] += 1
        assert took < MAX_SECONDS, f"{m[0]} took {took:.1f} s"
        if data not in (pdf, other):  # a splice at 0 is simply the other, genuine file
            assert not report.valid, f"mutation {m[0]} at {m[1]} was accepted"
            assert report.exit_code in (1, 2)

    check()
    print(f"\nfuzz: {_tried[0]} mutated declarations tried, none accepted, none crashed; "
          f"slowest verification {_slowest[0] * 1000:.0f} ms")


@settings(max_examples=max(50, EXAMPLES // 3), deadline=None, database=None)
@given(st.binary(max_size=4096) | st.builds(lambda b: b"%PDF-1.7\n" + b, st.binary(max_size=4096)))
def test_random_bytes_are_never_valid(world, data):
    report = world.verify(data)
    assert not report.valid and report.check("pdf-readable").ok is False


def _contents_gap(pdf: bytes) -> tuple[int, int]:
    import re

    m = list(re.finditer(rb"/ByteRange\s*\[\s*(\d+)\s+(\d+)\s+(\d+)\s+(\d+)\s*\]", pdf))[-1]
    return int(m.group(2)), int(m.group(3))


def test_a_changed_byte_in_the_signature_padding_is_refused(world):
    """Found by the long fuzz run: /Contents is outside the signed byte ranges, and a
    non-zero digit in its padding changed nothing a parser reads."""
    _, end = _contents_gap(world.a.pdf)
    data = bytearray(world.a.pdf)
    data[end - 10] ^= 0x01  # '0' -> '1' in the zero padding
    report = world.verify(bytes(data))
    assert report.failed[:1] == ["signature-intact"] and "zero padding" in report.check(
        "signature-intact").detail


def test_a_hex_digit_of_the_signature_in_the_other_case_is_refused(world):
    """Also found by fuzzing: 'A' and 'a' decode to the same signature byte."""
    start, _ = _contents_gap(world.a.pdf)
    data = bytearray(world.a.pdf)
    i = next(i for i in range(start + 1, start + 200) if data[i:i + 1].isalpha())
    data[i] ^= 0x20
    assert not world.verify(bytes(data)).valid


def test_an_altered_copy_of_the_ca_certificate_in_the_signature_is_refused(world):
    """Found by the fuzz run: the CMS certificate set is outside what the signature covers,
    and the CA's copy in it is not what validation uses (the trust root is), so a flipped digit
    inside that copy changed nothing that was checked. Every carried certificate must be on the
    validated chain byte for byte, or carry a signature that verifies."""
    from cryptography.hazmat.primitives.serialization import Encoding

    ca_hex = world.identity.chain[-1].public_bytes(Encoding.DER).hex().encode()
    start, end = _contents_gap(world.a.pdf)
    gap = world.a.pdf[start:end]
    at = gap.lower().find(ca_hex)
    assert at > 0, "the signature carries the CA certificate"
    data = bytearray(world.a.pdf)
    i = start + at + len(ca_hex) - 8  # inside the CA's own signature value
    data[i] = ord("1") if data[i] != ord("1") else ord("2")
    report = world.verify(bytes(data))
    assert not report.valid and report.failed == ["signer-trusted"]
    assert "does not verify" in report.check("signer-trusted").detail
    # pinned to the issuer's own certificate, the carried CA is off the path: still checked
    report = world.verify(bytes(data), trust_roots=[world.identity.cert])
    assert report.failed == ["signer-trusted"]
    assert world.verify(world.a.pdf, trust_roots=[world.identity.cert]).valid
