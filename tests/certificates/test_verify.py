"""Offline verification: a valid declaration passes every check; each tampering fails the
right one, and nothing ever raises or says valid."""

from __future__ import annotations

import copy
import io
import json
import os
import re
from collections.abc import Callable

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter

from certificates.jws import sign_detached
from certificates.pades import PAYLOAD_NAME, sign_pdf
from certificates.verify import Report
from tests.certificates.conftest import World
from tests.certificates.sample import operator_signer

CHECKS = ["pdf-readable", "signature-intact", "signer-trusted", "attachment-present",
          "payload-signature", "printed-figures", "ledger-entry", "inclusion-proof"]
MARKET = b"5,458.109"


def _failed(report: Report) -> list[str]:
    assert report.exit_code == 1 and not report.valid, report.to_json()
    return report.failed


def _incremental(pdf: bytes, edit: Callable[[IncrementalPdfFileWriter], None]) -> bytes:
    writer = IncrementalPdfFileWriter(io.BytesIO(pdf))
    edit(writer)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def _resign(world: World, payload: dict, jws: str, *, identity=None, unsigned=None) -> bytes:
    return sign_pdf(unsigned or world.a.unsigned_pdf, payload, jws, identity or world.identity,
                    reason="test", location="test")


def test_a_declaration_passes_every_check_offline(world: World):
    report = world.verify(world.a.pdf)
    assert [c.name for c in report.checks] == CHECKS
    assert report.valid and report.exit_code == 0, report.to_json()
    assert all(c.ok is True and c.detail for c in report.checks)
    assert report.declaration_id == world.a.content.declaration_id
    assert "云南文山铝业" in (report.signer or "")
    as_json = json.loads(report.to_json())
    assert as_json["valid"] is True and as_json["exit_code"] == 0
    assert [c["name"] for c in as_json["checks"]] == CHECKS
    assert world.verify(world.b.pdf).valid


def test_without_trust_roots_the_verdict_is_could_not_check(world: World):
    report = world.verify(world.a.pdf, trust_roots=[])
    assert report.check("signer-trusted").ok is None
    assert report.exit_code == 2 and not report.valid


def test_without_operator_keys_the_verdict_is_could_not_check(world: World):
    report = world.verify(world.a.pdf, operator_keys=[])
    assert report.check("inclusion-proof").ok is None and report.exit_code == 2


def test_the_issuer_certificate_itself_may_be_the_trust_anchor(world: World):
    # `greenledger keys show` prints the issuer certificate; pinning it must work
    assert world.verify(world.a.pdf, trust_roots=[world.identity.cert]).valid


def test_another_trust_root_is_not_trusted(world: World):
    report = world.verify(world.a.pdf, trust_roots=[world.stranger.chain[0]])
    assert _failed(report) == ["signer-trusted"]


def test_a_checkpoint_signed_by_an_unknown_operator_fails_the_inclusion_proof(world: World):
    other = operator_signer(bytes(range(1, 33)))
    assert _failed(world.verify(world.a.pdf, operator_keys=[other.verifier])) == [
        "inclusion-proof"]


# --- tampering -----------------------------------------------------------------------------


def test_a_printed_number_changed_by_an_incremental_update(world: World):
    def edit(writer: IncrementalPdfFileWriter) -> None:
        page = writer.root["/Pages"]["/Kids"][0].get_object()
        data = page["/Contents"].data
        assert MARKET in data
        page["/Contents"] = writer.add_object(
            generic.StreamObject(stream_data=data.replace(MARKET, b"4,458.109")))
        writer.update_container(page)

    failed = _failed(world.verify(_incremental(world.a.pdf, edit)))
    assert failed == ["signature-intact", "printed-figures"]


def test_an_annotation_added_after_signing(world: World):
    def edit(writer: IncrementalPdfFileWriter) -> None:
        page = writer.root["/Pages"]["/Kids"][0].get_object()
        annot = generic.DictionaryObject({
            generic.pdf_name("/Type"): generic.pdf_name("/Annot"),
            generic.pdf_name("/Subtype"): generic.pdf_name("/FreeText"),
            generic.pdf_name("/Rect"): generic.ArrayObject(map(generic.NumberObject,
                                                                (40, 600, 300, 640))),
            generic.pdf_name("/Contents"): generic.pdf_string("4,458.109 kg CO2e/t"),
            generic.pdf_name("/DA"): generic.pdf_string("/Helv 12 Tf 0 g"),
        })
        writer.register_annotation(page.container_ref, writer.add_object(annot))

    assert _failed(world.verify(_incremental(world.a.pdf, edit))) == ["signature-intact"]


def test_the_attachment_replaced_by_an_incremental_update(world: World):
    forged = copy.deepcopy(world.a.payload)
    forged["extensions"][0]["data"]["greenMwh"] = "16900.000"

    def edit(writer: IncrementalPdfFileWriter) -> None:
        names = writer.root["/Names"]["/EmbeddedFiles"]["/Names"]
        index = [str(n) for n in names].index(PAYLOAD_NAME)
        spec = names[index + 1].get_object()
        spec["/EF"]["/F"] = writer.add_object(
            generic.StreamObject(stream_data=json.dumps(forged).encode()))
        writer.update_container(spec)

    assert _failed(world.verify(_incremental(world.a.pdf, edit))) == ["signature-intact"]


def test_resigned_by_another_ca_is_not_trusted(world: World):
    jws = sign_detached(world.a.payload, world.stranger)
    pdf = _resign(world, world.a.payload, jws, identity=world.stranger)
    assert _failed(world.verify(pdf)) == ["signer-trusted"]


def test_resigned_pdf_keeping_the_issuers_jws_names_two_signers(world: World):
    pdf = _resign(world, world.a.payload, world.a.jws, identity=world.stranger)
    assert _failed(world.verify(pdf)) == ["signer-trusted", "payload-signature"]


def test_another_shipments_payload_swapped_in(world: World):
    # even signed by the issuer, B's figures are not the ones printed on A's page
    pdf = _resign(world, world.b.payload, world.b.jws)
    assert _failed(world.verify(pdf)) == ["printed-figures"]
    # B's payload under A's JWS: the payload signature fails too
    pdf = _resign(world, world.b.payload, world.a.jws)
    assert _failed(world.verify(pdf)) == ["payload-signature", "printed-figures"]


def test_another_shipments_attachments_swapped_in_by_an_incremental_update(world: World):
    def edit(writer: IncrementalPdfFileWriter) -> None:
        names = writer.root["/Names"]["/EmbeddedFiles"]["/Names"]
        for i in range(0, len(names), 2):
            spec = names[i + 1].get_object()
            data = (json.dumps(world.b.payload).encode() if str(names[i]) == PAYLOAD_NAME
                    else world.b.jws.encode())
            spec["/EF"]["/F"] = writer.add_object(generic.StreamObject(stream_data=data))
            writer.update_container(spec)

    assert _failed(world.verify(_incremental(world.a.pdf, edit))) == ["signature-intact"]


def test_a_payload_whose_ledger_entry_is_anothers(world: World):
    payload = copy.deepcopy(world.a.payload)
    payload["extensions"][0]["data"]["ledger"] = world.b.payload["extensions"][0]["data"][
        "ledger"]
    pdf = _resign(world, payload, sign_detached(payload, world.identity))
    assert _failed(world.verify(pdf)) == ["ledger-entry"]


def test_a_payload_with_a_broken_inclusion_proof(world: World):
    payload = copy.deepcopy(world.a.payload)
    proof = payload["extensions"][0]["data"]["ledger"]["inclusionProof"]
    proof[0] = "00" * 32
    pdf = _resign(world, payload, sign_detached(payload, world.identity))
    failed = _failed(world.verify(pdf))
    assert failed == ["inclusion-proof"]


def test_a_byte_flipped_inside_the_signed_range(world: World):
    pdf = bytearray(world.a.pdf)
    at = pdf.index(b"(greenledger)") + 3
    pdf[at] ^= 0x20
    assert _failed(world.verify(bytes(pdf)))[0] == "signature-intact"
    # and one in the middle of the first page's compressed content stream
    pdf = bytearray(world.a.pdf)
    at = pdf.index(b"stream", pdf.index(b"/Filter")) + 200
    pdf[at] ^= 0x01
    assert _failed(world.verify(bytes(pdf)))[0] in ("pdf-readable", "signature-intact")


def test_truncated_to_the_unsigned_revision(world: World):
    first_eof = world.a.pdf.index(b"%%EOF") + len(b"%%EOF\n")
    report = world.verify(world.a.pdf[:first_eof])
    assert _failed(report) == ["signature-intact"]
    assert "found 0" in report.check("signature-intact").detail


@pytest.mark.parametrize("cut", [1, 100, 5000, 0.5])
def test_truncated(world: World, cut):
    size = len(world.a.pdf)
    end = int(size * cut) if isinstance(cut, float) else size - cut
    report = world.verify(world.a.pdf[:end])
    # losing only the final newline leaves a readable PDF whose signature is short of the end
    assert _failed(report)[0] == ("signature-intact" if cut == 1 else "pdf-readable")


@pytest.mark.parametrize("data", [
    b"", os.urandom(4096), b"%PDF-1.7\n" + os.urandom(4096), b"%PDF-1.7\n%%EOF\n",
    b"%PDF-1.4\n1 0 obj\n<< /Type /Catalog >>\nendobj\ntrailer\n<< /Root 1 0 R >>\n%%EOF",
])
def test_not_a_declaration_at_all(world: World, data: bytes):
    failed = _failed(world.verify(data))
    assert failed[0] in ("pdf-readable", "signature-intact")


def test_non_bytes_and_oversized_input_are_refused(world: World):
    assert _failed(world.verify("a string")) == ["pdf-readable"]  # type: ignore[arg-type]
    huge = b"%PDF-1.7\n" + b"0" * (20 * 1024 * 1024)
    report = world.verify(huge)
    assert _failed(report) == ["pdf-readable"] and "20 MB" in report.checks[0].detail


def _signed_ranges(pdf: bytes) -> list[tuple[int, int]]:
    a, b, c, d = map(int, re.search(rb"/ByteRange\s*\[\s*(\d+) (\d+) (\d+) (\d+)", pdf).groups())
    return [(a, a + b), (c, c + d)]


@settings(max_examples=25, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(where=st.floats(0, 1, exclude_max=True), mask=st.integers(1, 255),
       truncate=st.booleans())
def test_no_change_to_the_signed_bytes_is_ever_valid(world: World, where: float, mask: int,
                                                     truncate: bool):
    pdf = bytearray(world.a.pdf)
    (a0, a1), (c0, c1) = _signed_ranges(world.a.pdf)
    positions = (a1 - a0) + (c1 - c0)
    offset = int(where * positions)
    at = a0 + offset if offset < a1 - a0 else c0 + offset - (a1 - a0)
    if truncate:
        pdf = pdf[:at]
    else:
        pdf[at] ^= mask
    report = world.verify(bytes(pdf))
    assert report.exit_code == 1 and not report.valid
