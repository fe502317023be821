"""Every domain rule, broken once: the refusal names the rule, the field and the limit, and
nothing is written."""

from __future__ import annotations

import pytest

from ledger.domain.tables import Batch, Certificate
from ledger.errors import Conflict, GreenledgerError, InputError, PermissionDenied, RuleViolation
from tests.ledger.domain.world import allocation, batch, build, certificate, gec, shipment


@pytest.fixture
def log(engine):
    return build(engine)


def refused(log, kind, actor, body, error=RuleViolation):
    size = log.size()
    with pytest.raises(error) as err:
        log.append(kind, actor, body)
    assert log.size() == size  # nothing written
    return err.value


def test_the_world_is_valid(log):
    log.append("allocation.recorded", "p-a", allocation())
    log.append("shipment.recorded", "p-a", shipment())
    assert log.size() == 11


# --- certificates ------------------------------------------------------------------------

@pytest.mark.parametrize("first, last", [(1, 1), (500, 1500), (1000, 2000), (0, 5000)])
def test_a_serial_exists_once_whoever_registers_it(log, first, last):
    body = certificate(first, last, owner="p-b") if first else certificate(1, 5000, owner="p-b")
    err = refused(log, "certificate.registered", "p-b", body)
    assert (err.rule, err.field) == ("certificate.unique-serial", "first")
    assert "CN-GEC:" + gec(1) in str(err.got)


def test_an_adjacent_range_is_not_an_overlap(log):
    log.append("certificate.registered", "p-b", certificate(1001, 2000, owner="p-b"))


def test_mwh_must_equal_the_number_of_codes(log):
    err = refused(log, "certificate.registered", "p-a", certificate(2001, 2100, mwh="101.000"))
    assert (err.rule, err.field, err.limit, err.got) == ("certificate.mwh", "mwh", "100.000",
                                                          "101.000")


def test_one_plant_month_through_one_registry(log):
    body = certificate(owner="p-a", registry="I-REC", first="IREC-CN-0001-000000000001",
                       last="IREC-CN-0001-000000000010", mwh="10.000")
    err = refused(log, "certificate.registered", "p-a", body)
    assert (err.rule, err.field, err.limit, err.got) == ("certificate.one-registry", "registry",
                                                          "CN-GEC", "I-REC")


@pytest.mark.parametrize("field, value, message", [
    ("first", "123", "32 characters"),
    ("registry", "XYZ", "must be one of CN-GEC, I-REC"),
    ("technology", "nuclear", "must be one of"),
    ("generation_month", "2025-13", "YYYY-MM"),
    ("mwh", "1000.0001", "three decimals"),
    ("mwh", 1000.0, "decimal string"),
    ("country", "China", "alpha-2"),
])
def test_malformed_certificate_fields(log, field, value, message):
    err = refused(log, "certificate.registered", "p-a",
                  certificate(5001, 6000, **{field: value}), InputError)
    assert err.field.endswith(field) and message in err.message  # floats: "entry.body.mwh"


def test_only_the_owner_or_the_operator_registers_for_an_owner(log):
    refused(log, "certificate.registered", "p-b", certificate(5001, 6000), PermissionDenied)
    log.append("certificate.registered", "p-op", certificate(5001, 6000))


def test_non_tradable_certificates_are_never_transferred(log):
    err = refused(log, "certificate.transferred", "p-a",
                  {"certificate": f"CN-GEC:{gec(1)}", "to": "p-b"})
    assert (err.rule, err.limit) == ("certificate.not-tradable", "tradable")


def test_a_tradable_certificate_is_transferred_once(log):
    log.append("certificate.registered", "p-a", certificate(5001, 5010, tradable=True,
                                                             technology="wind", plant="Wind"))
    cid = f"CN-GEC:{gec(5001)}"
    log.append("certificate.transferred", "p-a", {"certificate": cid, "to": "p-b"})
    err = refused(log, "certificate.transferred", "p-b", {"certificate": cid, "to": "p-a"})
    assert (err.rule, err.limit, err.got) == ("certificate.traded-once", 1, 2)


def test_only_a_certifier_attests_and_only_the_registered_evidence(log):
    cid = f"CN-GEC:{gec(1)}"
    err = refused(log, "certificate.attested", "p-a",
                  {"certificate": cid, "evidence_sha256": "ab" * 32})
    assert (err.rule, err.field) == ("party.role", "actor")
    err = refused(log, "certificate.attested", "p-cert",
                  {"certificate": cid, "evidence_sha256": "cd" * 32})
    assert (err.rule, err.field, err.limit) == ("certificate.evidence", "evidence_sha256", "ab" * 32)
    log.append("certificate.attested", "p-cert", {"certificate": cid, "evidence_sha256": "ab" * 32})


# --- allocations -------------------------------------------------------------------------

def test_no_mwh_is_allocated_twice(log):
    log.append("allocation.recorded", "p-a", allocation("A1", 1, 500))
    err = refused(log, "allocation.recorded", "p-a", allocation("A2", 400, 600))
    assert (err.rule, err.field) == ("allocation.double-count", "first")
    log.append("allocation.recorded", "p-a", allocation("A3", 501, 600))


def test_allocated_mwh_never_exceed_the_batch_metered_electricity(log):
    log.append("certificate.registered", "p-a", certificate(1001, 3000, plant="P2"))
    log.append("allocation.recorded", "p-a", allocation("A1", 1, 1000))
    body = allocation("A2", 1001, 1301, certificate=f"CN-GEC:{gec(1001)}")
    err = refused(log, "allocation.recorded", "p-a", body)
    assert (err.rule, err.field, err.limit, err.got) == ("allocation.metered", "mwh", "300.000",
                                                          "301.000")


def test_allocation_stays_inside_its_certificate(log):
    err = refused(log, "allocation.recorded", "p-a", allocation("A1", 900, 1100))
    assert (err.rule, err.field) == ("allocation.within-certificate", "first")
    assert err.limit == f"{gec(1)}..{gec(1000)}"


def test_vintage_must_fall_in_the_production_year(log):
    log.append("certificate.registered", "p-a", certificate(
        1, 100, first=f"{'1' * 17}202412{1:09d}", last=f"{'1' * 17}202412{100:09d}",
        generation_month="2024-12", plant="Old"))
    body = allocation(certificate=f"CN-GEC:{'1' * 17}202412{1:09d}",
                      first=f"{'1' * 17}202412{1:09d}", last=f"{'1' * 17}202412{10:09d}", mwh="10.000")
    err = refused(log, "allocation.recorded", "p-a", body)
    assert (err.rule, err.field, err.limit, err.got) == ("allocation.vintage", "certificate", "2025",
                                                          "2024-12")


def test_a_certificate_generated_after_the_batch_is_refused(log):
    log.append("certificate.registered", "p-a", certificate(
        1, 100, first=f"{'2' * 17}202506{1:09d}", last=f"{'2' * 17}202506{100:09d}",
        generation_month="2025-06", plant="Later"))
    body = allocation(certificate=f"CN-GEC:{'2' * 17}202506{1:09d}",
                      first=f"{'2' * 17}202506{1:09d}", last=f"{'2' * 17}202506{10:09d}", mwh="10.000")
    err = refused(log, "allocation.recorded", "p-a", body)
    assert (err.rule, err.limit, err.got) == ("allocation.vintage", "2025-03", "2025-06")


def test_only_the_owner_allocates_and_for_its_own_batches(log):
    refused(log, "allocation.recorded", "p-b", allocation(), PermissionDenied)
    log.append("batch.registered", "p-b", batch("EX-1", facility="f-b", lot="EX-1"))
    err = refused(log, "allocation.recorded", "p-a", allocation(batch="EX-1"))
    assert (err.rule, err.field, err.limit) == ("allocation.owner", "batch", "p-a")


def test_cancelled_certificates_leave_the_inventory(log):
    cid = f"CN-GEC:{gec(1)}"
    log.append("allocation.recorded", "p-a", allocation("A1", 1, 100))
    log.append("certificate.cancelled", "p-a", {"certificate": cid, "reason": "expired"})
    err = refused(log, "allocation.recorded", "p-a", allocation("A2", 101, 200))
    assert (err.rule, err.limit, err.got) == ("allocation.cancelled", "active", "cancelled")
    with log.writer() as w:
        cert = w.session.get(Certificate, cid)
        assert (cert.allocated_kwh, cert.cancelled_kwh) == (100_000, 900_000)


def test_expired_certificates_cannot_be_allocated(log):
    cid = f"CN-GEC:{gec(1)}"
    with log.writer() as w, pytest.raises(RuleViolation) as err:
        w.append("allocation.recorded", "p-a", allocation(certificate=cid),
                 at="2027-03-01T00:00:00.000000Z")
    assert (err.value.rule, err.value.limit, err.value.got) == ("allocation.expired", "2027-02",
                                                                "2027-03")


# --- batches and shipments ---------------------------------------------------------------

def test_tonnes_shipped_never_exceed_the_batch(log):
    log.append("shipment.recorded", "p-a", shipment("S1", "60.000"))
    err = refused(log, "shipment.recorded", "p-a", shipment("S2", "40.001"))
    assert (err.rule, err.field, err.limit, err.got) == ("shipment.mass-balance",
                                                          "lines[0].tonnes", "40.000", "40.001")
    log.append("shipment.recorded", "p-a", shipment("S3", "40.000"))


def test_only_the_producer_ships_its_batch(log):
    log.append("batch.registered", "p-b", batch("EX-1", facility="f-b", lot="EX-1"))
    err = refused(log, "shipment.recorded", "p-a",
                  shipment(lines=[{"batch": "EX-1", "tonnes": "1.000"}]))
    assert (err.rule, err.field, err.limit, err.got) == ("shipment.seller", "lines[0].batch",
                                                          "p-a", "p-b")


def test_an_upstream_batch_must_have_been_shipped_to_the_consumer(log):
    upstream = [{"kind": "batch", "ref": "AL-1", "tonnes": "30.000"}]
    err = refused(log, "batch.registered", "p-b",
                  batch("EX-1", facility="f-b", lot="EX-1", inputs=upstream))
    assert (err.rule, err.field, err.limit) == ("batch.input-received", "inputs[0].tonnes", "0.000")
    log.append("shipment.recorded", "p-a", shipment("S1", "50.000", buyer="p-b"))
    log.append("batch.registered", "p-b", batch("EX-1", facility="f-b", lot="EX-1", inputs=upstream))
    more = [{"kind": "batch", "ref": "AL-1", "tonnes": "20.001"}]
    err = refused(log, "batch.registered", "p-b", batch("EX-2", facility="f-b", lot="EX-2",
                                                        inputs=more))
    assert (err.limit, err.got) == ("20.000", "20.001")


def test_an_unknown_upstream_batch_is_refused(log):
    err = refused(log, "batch.registered", "p-a",
                  batch("AL-2", lot="AL-2", inputs=[{"kind": "batch", "ref": "NOPE", "tonnes": "1"}]),
                  GreenledgerError)
    assert err.field == "inputs[0].ref"


def test_recycled_input_never_exceeds_the_batch(log):
    err = refused(log, "batch.registered", "p-a",
                  batch("AL-2", lot="AL-2", recycled={"tonnes": "100.001", "origin": "scrap"}))
    assert (err.rule, err.field, err.limit) == ("batch.recycled", "recycled.tonnes", "100.000")


@pytest.mark.parametrize("over, field", [
    ({"tonnes": "0"}, "tonnes"),
    ({"cn_code": "76A1"}, "cn_code"),
    ({"period_end": "2025-02-01"}, "period_end"),
    ({"period_start": "2025/03/01"}, "period_start"),
    ({"process_emissions": [{"gas": "XYZ", "kg": "1"}]}, "process_emissions[0].gas"),
    ({"fuels": [{"fuel": "coal", "amount": "-1", "unit": "t"}]}, "fuels[0].amount"),
    ({"inputs": [{"kind": "magic", "ref": "x"}]}, "inputs[0].kind"),
])
def test_malformed_batch_fields(log, over, field):
    err = refused(log, "batch.registered", "p-a", batch("AL-2", lot="AL-2", **over), InputError)
    assert err.field == field


def test_duplicate_ids_are_conflicts(log):
    refused(log, "batch.registered", "p-a", batch(), Conflict)
    refused(log, "certificate.registered", "p-a", certificate(), RuleViolation)


def test_declarations_bind_to_the_shipment_and_can_be_revoked_once(log):
    log.append("shipment.recorded", "p-a", shipment())
    did = "0b0e3c3e-8f6f-4d9e-9a59-0c2b5d7e8f90"
    body = {"declaration": did, "shipment": "S1", "buyer": "p-b", "payload_sha256": "00" * 32}
    err = refused(log, "declaration.issued", "p-a", body)
    assert (err.rule, err.limit) == ("declaration.buyer", "p-buyer")
    log.append("declaration.issued", "p-a", {**body, "buyer": "p-buyer"})
    refused(log, "declaration.revoked", "p-buyer", {"declaration": did, "reason": "x"},
            PermissionDenied)
    log.append("declaration.revoked", "p-a", {"declaration": did, "reason": "wrong figures"})
    err = refused(log, "declaration.revoked", "p-a", {"declaration": did, "reason": "again"})
    assert err.rule == "declaration.revoked"


def test_batch_projection_tracks_allocated_and_shipped(log):
    log.append("allocation.recorded", "p-a", allocation("A1", 1, 500))
    log.append("shipment.recorded", "p-a", shipment("S1", "40.000"))
    with log.writer() as w:
        row = w.session.get(Batch, "AL-1")
        assert (row.allocated_kwh, row.shipped_kg) == (500_000, 40_000)


def test_one_transaction_sees_its_own_allocations(log):
    """The allocation applier writes with Core statements; an applier later in the same
    transaction, whose session already holds the certificate as an ORM instance, must see the
    allocated MWh, not a stale copy: cancelling then leaves only the unallocated codes."""
    cid = f"CN-GEC:{gec(1)}"
    with log.writer() as w:
        held = w.session.get(Certificate, cid)  # in the identity map before the allocations
        w.append("allocation.recorded", "p-a", allocation("A1", 1, 700))
        w.append("allocation.recorded", "p-a", allocation("A2", 701, 1000))
        with pytest.raises(RuleViolation) as err:
            w.append("allocation.recorded", "p-a", allocation("A3", 1, 1))
        assert err.value.rule == "allocation.double-count"
        w.append("certificate.cancelled", "p-a", {"certificate": cid, "reason": "expired"})
        assert (held.allocated_kwh, held.cancelled_kwh) == (1_000_000, 0)
    with log.writer() as w:
        cert = w.session.get(Certificate, cid)
        assert (cert.allocated_kwh, cert.cancelled_kwh, cert.status) == (1_000_000, 0, "cancelled")
