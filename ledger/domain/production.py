"""Production batches and shipments, and their mass balance (DESIGN §4).

Rules enforced in the append transaction and re-checked by the replay:
- a batch belongs to a facility of its producer; lot numbers are unique per facility;
- an upstream batch consumed as input must exist and must have been shipped to the
  consuming party, and a party never consumes more of it than it received (mass balance of
  inputs). An input can only name a batch that is already in the log, so chains of batches
  cannot form cycles;
- recycled input never exceeds the batch's own tonnes;
- tonnes shipped from a batch never exceed the tonnes it produced; only its producer ships it.
"""

from __future__ import annotations

from typing import Any

import rfc8785
from sqlalchemy import func, select
from sqlmodel import Session

from ledger.domain import fields as f
from ledger.domain.parties import party, require_actor
from ledger.domain.rules import Rules
from ledger.domain.tables import Batch, BatchInput, Facility, Shipment, ShipmentLine
from ledger.encoding import Entry
from ledger.errors import Conflict, InputError, NotFound, RuleViolation

GASES = ("CO2", "CH4", "N2O", "CF4", "C2F6", "SF6")
INPUT_KINDS = ("batch", "factor", "pact")


def get_batch(session: Session, batch_id: str, *, field: str = "batch") -> Batch:
    row = session.get(Batch, batch_id)
    if row is None:
        raise NotFound(f"no batch {batch_id!r}", field=field)
    return row


def received_kg(session: Session, upstream: str, buyer: str) -> int:
    return int(session.scalar(
        select(func.coalesce(func.sum(ShipmentLine.kg), 0))
        .where(ShipmentLine.batch_id == upstream, ShipmentLine.buyer == buyer)) or 0)


def consumed_kg(session: Session, upstream: str, consumer: str) -> int:
    return int(session.scalar(
        select(func.coalesce(func.sum(BatchInput.kg), 0))
        .where(BatchInput.upstream == upstream, BatchInput.consumer == consumer)) or 0)


def _check_fuels(body: dict[str, Any], rules: Rules) -> None:
    for i, fuel in enumerate(f.items(body, "fuels")):
        p = f"fuels[{i}]."
        key = f.text(fuel, "fuel", max_len=40, prefix=p)
        if rules.fuel_keys is not None and key not in rules.fuel_keys:
            raise InputError(f"no combustion factor for fuel {key!r}; known: "
                             f"{', '.join(sorted(rules.fuel_keys))}", field=p + "fuel")
        f.milli(fuel, "amount", prefix=p)
        f.text(fuel, "unit", max_len=10, prefix=p)
    for i, gas in enumerate(f.items(body, "process_emissions")):
        p = f"process_emissions[{i}]."
        f.choice(gas, "gas", GASES, prefix=p)
        f.milli(gas, "kg", prefix=p, allow_zero=True)


def apply_batch_registered(rules: Rules, session: Session, entry: Entry) -> None:
    b = entry.body
    bid = f.ident(b, "batch")
    facility = session.get(Facility, f.ident(b, "facility"))
    if facility is None:
        raise NotFound(f"no facility {b['facility']!r}", field="facility")
    require_actor(session, entry, facility.owner, field="facility")
    if session.get(Batch, bid) is not None:
        raise Conflict(f"batch {bid} is already registered", field="batch")
    lot = f.text(b, "lot", max_len=64)
    if session.scalar(select(Batch.batch_id).where(Batch.facility == facility.facility_id,
                                                   Batch.lot == lot)):
        raise Conflict(f"lot {lot} already exists at {facility.facility_id}", field="lot")
    kg = f.milli(b, "tonnes")
    start, end = f.day(b, "period_start"), f.day(b, "period_end")
    if end < start:
        raise InputError(f"period_end {end} is before period_start {start}", field="period_end")
    cn_code = f.text(b, "cn_code", max_len=10)
    if not cn_code.isdigit() or len(cn_code) not in (4, 6, 8, 10):
        raise InputError(f"a CN/HS code is 4, 6, 8 or 10 digits, got {cn_code!r}", field="cn_code")
    _check_fuels(b, rules)
    recycled = b.get("recycled") or {"tonnes": "0", "origin": ""}
    if not isinstance(recycled, dict):
        raise InputError("recycled must be {tonnes, origin}", field="recycled")
    recycled_kg = f.milli(recycled, "tonnes", prefix="recycled.", allow_zero=True)
    if recycled_kg > kg:
        raise RuleViolation("batch.recycled", "recycled input exceeds the batch's tonnes",
                            field="recycled.tonnes", limit=b["tonnes"], got=recycled["tonnes"])
    consumed: dict[str, int] = {}
    for i, item in enumerate(f.items(b, "inputs")):
        p = f"inputs[{i}]."
        kind = f.choice(item, "kind", INPUT_KINDS, prefix=p)
        ref = f.text(item, "ref", max_len=120, prefix=p)
        if kind == "batch":
            upstream = get_batch(session, ref, field=p + "ref")
            amount = f.milli(item, "tonnes", prefix=p)
            consumed[upstream.batch_id] = consumed.get(upstream.batch_id, 0) + amount
            got = received_kg(session, upstream.batch_id, facility.owner)
            used = consumed_kg(session, upstream.batch_id, facility.owner)
            if used + consumed[upstream.batch_id] > got:
                raise RuleViolation(
                    "batch.input-received", f"{facility.owner} received "
                    f"{f.from_milli(got)} t of {ref} and has used {f.from_milli(used)} t",
                    field=p + "tonnes", limit=f.from_milli(got - used), got=item["tonnes"])
        elif kind == "factor":
            if rules.material_factor_ids is not None and ref not in rules.material_factor_ids:
                raise InputError(f"unknown material factor {ref!r}", field=p + "ref")
            f.milli(item, "amount", prefix=p)
            f.text(item, "unit", max_len=10, prefix=p)
        else:
            f.milli(item, "tonnes", prefix=p)
    for upstream_id, amount in consumed.items():
        session.add(BatchInput(batch_id=bid, upstream=upstream_id, consumer=facility.owner,
                               kg=amount, seq=entry.seq))
    details = {k: b.get(k, []) for k in ("fuels", "process_emissions", "inputs")}
    session.add(Batch(
        batch_id=bid, lot=lot, facility=facility.facility_id, owner=facility.owner,
        product=f.text(b, "product"), metal=f.text(b, "metal", max_len=32),
        grade=f.text(b, "grade", max_len=32, optional=True), cn_code=cn_code, kg=kg,
        shipped_kg=0, period_start=start.isoformat(), period_end=end.isoformat(),
        electricity_kwh=f.milli(b, "electricity_mwh", allow_zero=True), allocated_kwh=0,
        recycled_kg=recycled_kg,
        recycled_origin=f.text(recycled, "origin", optional=True, prefix="recycled."),
        details=rfc8785.dumps(details).decode("utf-8"), seq=entry.seq))


def apply_shipment_recorded(session: Session, entry: Entry) -> None:
    b = entry.body
    sid = f.ident(b, "shipment")
    seller, buyer = f.ident(b, "seller"), f.ident(b, "buyer")
    require_actor(session, entry, seller, field="seller")
    party(session, buyer, field="buyer")
    if session.get(Shipment, sid) is not None:
        raise Conflict(f"shipment {sid} is already recorded", field="shipment")
    total = 0
    seen: set[str] = set()
    for i, line in enumerate(f.items(b, "lines", optional=False)):
        p = f"lines[{i}]."
        batch = get_batch(session, f.text(line, "batch", max_len=80, prefix=p), field=p + "batch")
        if batch.batch_id in seen:
            raise InputError(f"batch {batch.batch_id} appears twice", field=p + "batch")
        seen.add(batch.batch_id)
        if batch.owner != seller:
            raise RuleViolation("shipment.seller", f"{batch.batch_id} belongs to {batch.owner}",
                                field=p + "batch", limit=seller, got=batch.owner)
        kg = f.milli(line, "tonnes", prefix=p)
        if batch.shipped_kg + kg > batch.kg:
            raise RuleViolation(
                "shipment.mass-balance", f"{batch.batch_id} produced {f.from_milli(batch.kg)} t "
                f"and has shipped {f.from_milli(batch.shipped_kg)} t", field=p + "tonnes",
                limit=f.from_milli(batch.kg - batch.shipped_kg), got=line["tonnes"])
        batch.shipped_kg += kg
        batch.seq = entry.seq
        session.add(batch)
        session.add(ShipmentLine(shipment_id=sid, batch_id=batch.batch_id, buyer=buyer, kg=kg,
                                 seq=entry.seq))
        total += kg
    session.add(Shipment(shipment_id=sid, seller=seller, buyer=buyer,
                         date=f.day(b, "date").isoformat(),
                         destination_country=f.country(b, "destination_country"), kg=total,
                         seq=entry.seq))
