"""The domain's entry kinds and the appliers that enforce their rules (DESIGN §4).

``appliers(rules)`` maps each kind to the function that checks a new entry against the
projections and writes its projection rows; :class:`ledger.log.Log` runs it inside the
append transaction and the audit's replay runs the very same functions.
"""

from __future__ import annotations

from functools import partial

from ledger.domain import allocation, certificates, declarations, log_keys, parties, production, suppliers
from ledger.domain.rules import Rules
from ledger.log import Applier

KINDS = (
    "party.registered", "facility.registered",
    "certificate.registered", "certificate.transferred", "certificate.cancelled",
    "certificate.attested", "voucher.registered",
    "batch.registered", "shipment.recorded", "allocation.recorded",
    "declaration.issued", "declaration.revoked",
    "key.activated", "key.revoked",
    "supplier_footprint.recorded",
)


def appliers(rules: Rules | None = None) -> dict[str, Applier]:
    rules = rules or Rules()
    table: dict[str, Applier] = {
        "party.registered": parties.apply_party_registered,
        "facility.registered": parties.apply_facility_registered,
        "certificate.registered": certificates.apply_certificate_registered,
        "certificate.transferred": certificates.apply_certificate_transferred,
        "certificate.cancelled": certificates.apply_certificate_cancelled,
        "certificate.attested": certificates.apply_certificate_attested,
        "voucher.registered": certificates.apply_voucher_registered,
        "batch.registered": partial(production.apply_batch_registered, rules),
        "shipment.recorded": production.apply_shipment_recorded,
        "allocation.recorded": partial(allocation.apply_allocation_recorded, rules),
        "declaration.issued": declarations.apply_declaration_issued,
        "declaration.revoked": declarations.apply_declaration_revoked,
        "key.activated": log_keys.apply_key_activated,
        "key.revoked": log_keys.apply_key_revoked,
        "supplier_footprint.recorded": suppliers.apply_supplier_footprint_recorded,
    }
    assert set(table) == set(KINDS)
    return table


def domain_log(engine, rules: Rules | None = None):  # type: ignore[no-untyped-def]
    """The log with every domain applier registered."""
    from ledger.log import Log

    return Log(engine, appliers(rules))
