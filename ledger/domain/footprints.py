"""From the projections to the footprint engine: the recorded facts of a batch, its green
allocations with their voucher coverage, and the footprints of batches and shipments.

Voucher coverage (DESIGN §4): green MWh claimed through certificates count as "covered" when
a traceability voucher of the batch's facility backs them. A voucher that lists certificate
codes covers exactly the allocated codes inside its range; a voucher without codes covers
the facility's remaining green MWh of its months, shared among the batches of those months
in proportion to their green MWh. What no voucher covers is "certificate only".
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import date
from decimal import Decimal
from typing import Any, NamedTuple

from sqlalchemy import Row, bindparam, select
from sqlmodel import Session

from ledger.domain.fields import milli_to_decimal
from ledger.domain.serials import parse_serial
from ledger.domain.suppliers import supplier_lookup
from ledger.domain.tables import (
    Allocation,
    Batch,
    BatchInput,
    Certificate,
    Facility,
    Shipment,
    ShipmentLine,
    Voucher,
)
from ledger.errors import NotFound
from ledger.factors import FactorLibrary
from ledger.footprint import batch_footprint, shipment_footprint
from ledger.footprint_model import (
    BatchFacts,
    BatchFootprint,
    FuelUse,
    GreenAllocation,
    MaterialInput,
    ProcessEmission,
    ShipmentFootprint,
    SupplierFootprint,
)
from ledger.numbers import D


def _months(start: str, end: str) -> set[str]:
    y, m = int(start[:4]), int(start[5:7])
    out = set()
    while f"{y:04d}-{m:02d}" <= end[:7]:
        out.add(f"{y:04d}-{m:02d}")
        y, m = (y + 1, 1) if m == 12 else (y, m + 1)
    return out


def _overlap_codes(alloc: Row[Any], cert: Row[Any], voucher: Row[Any]) -> int:
    assert voucher.certificate_first and voucher.certificate_last
    try:
        block, a, _ = parse_serial(cert.registry_name, voucher.certificate_first, field="v")
        block2, b, _ = parse_serial(cert.registry_name, voucher.certificate_last, field="v")
    except Exception:  # a voucher naming codes of another registry covers nothing here
        return 0
    if block != cert.block or block2 != cert.block:
        return 0
    return max(0, min(b, alloc.last_no) - max(a, alloc.first_no) + 1)


class BatchRow(NamedTuple):
    """What a footprint reads of a batch row (a named tuple: attribute reads of SQLAlchemy
    rows cost ~10x more, and a shipment reads ten of each of hundreds of batches)."""

    batch_id: str
    facility: str
    product: str
    kg: int
    period_start: str
    period_end: str
    electricity_kwh: int
    allocated_kwh: int
    recycled_kg: int
    details: str


#: the columns a footprint reads, per table (plain rows: no ORM instances to build)
_BATCH = tuple(getattr(Batch, name) for name in BatchRow._fields)
_FACILITY = (Facility.facility_id, Facility.grid_region, Facility.province, Facility.country)
_VOUCHER = (Voucher.facility, Voucher.period_start, Voucher.period_end, Voucher.kwh,
            Voucher.certificate_first, Voucher.certificate_last)
_ALLOCATION = (Allocation.allocation_id, Allocation.batch_id, Allocation.certificate_id,
               Allocation.kwh, Allocation.first_no, Allocation.last_no)
#: read with the allocation, whose certificate_id it shares
_CERTIFICATE = (Certificate.registry_name.label("registry_name"),
                Certificate.block, Certificate.technology, Certificate.generation_month,
                Certificate.attested_by)


def _statements() -> dict[str, Any]:
    """The reads of :class:`Snapshot` and :meth:`Footprints.shipment`, built once: building a
    statement costs about as much as running it on SQLite."""
    ids = bindparam("ids", expanding=True)
    # the upstream closure in one recursive query (UNION: each batch once, ends on a cycle),
    # reused as a subquery by the reads that follow it
    closure = select(Batch.batch_id.label("id")).where(Batch.batch_id.in_(ids)).cte(
        "closure", recursive=True)
    closure = closure.union(select(BatchInput.upstream).join(closure, BatchInput.batch_id == closure.c.id))
    in_closure = select(closure.c.id)
    return {
        "batches": select(*_BATCH).where(Batch.batch_id.in_(in_closure)),
        # each allocation with the certificate it draws on (a join, not an IN over thousands)
        "allocations": select(*_ALLOCATION, *_CERTIFICATE).join(
            Certificate, Certificate.certificate_id == Allocation.certificate_id)
        .where(Allocation.batch_id.in_(in_closure)).order_by(Allocation.seq),
        "facilities": select(*_FACILITY).where(Facility.facility_id.in_(ids)),
        "vouchers": select(*_VOUCHER).where(Voucher.facility.in_(ids)).order_by(Voucher.seq),
        "peers": select(*_BATCH).where(Batch.facility == bindparam("facility")),
        "lines": select(ShipmentLine.batch_id, ShipmentLine.kg).where(
            ShipmentLine.shipment_id == bindparam("shipment")).order_by(ShipmentLine.batch_id),
        "shipment": select(Shipment.shipment_id).where(Shipment.shipment_id == bindparam("shipment")),
    }


_SQL = _statements()


class Snapshot:
    """The projection rows the footprints of a set of batches need, loaded with a few queries
    for the whole upstream closure instead of several queries per batch. Rows are read-only
    named tuples with the tables' attribute names."""

    def __init__(self, session: Session, batch_ids: set[str]) -> None:
        self.session = session
        self.batches: dict[str, BatchRow] = {}
        self.facilities: dict[str, Row[Any]] = {}
        self.allocations: dict[str, list[Row[Any]]] = {}
        self.certificates: dict[str, Row[Any]] = {}
        self.vouchers: dict[str, list[Row[Any]]] = {}
        self.peers: dict[str, list[BatchRow]] = {}
        self.load(batch_ids)

    def load(self, batch_ids: set[str]) -> None:
        todo = [b for b in batch_ids if b not in self.batches]
        if not todo:
            return
        execute = self.session.connection().execute  # Core: plain rows, no ORM loading
        new = [BatchRow._make(b) for b in execute(_SQL["batches"], {"ids": todo}).all()
               if b.batch_id not in self.batches]
        if not new:
            return
        self.batches.update((b.batch_id, b) for b in new)
        fresh: dict[str, list[Row[Any]]] = {b.batch_id: [] for b in new}
        self.allocations.update(fresh)
        for a in execute(_SQL["allocations"], {"ids": todo}).all():
            if a.batch_id in fresh:
                fresh[a.batch_id].append(a)
                self.certificates.setdefault(a.certificate_id, a)
        new_facilities = list({b.facility for b in new} - self.facilities.keys())
        if new_facilities:
            for fac in execute(_SQL["facilities"], {"ids": new_facilities}).all():
                self.facilities[fac.facility_id] = fac
            for v in execute(_SQL["vouchers"], {"ids": new_facilities}).all():
                self.vouchers.setdefault(v.facility, []).append(v)

    def peers_of(self, facility: str) -> list[BatchRow]:
        if facility not in self.peers:
            self.peers[facility] = [BatchRow._make(b) for b in self.session.connection().execute(
                _SQL["peers"], {"facility": facility}).all()]
        return self.peers[facility]


def green_allocations(snap: Snapshot, batch: BatchRow) -> tuple[GreenAllocation, ...]:
    allocs = snap.allocations.get(batch.batch_id, [])
    if not allocs:
        return ()
    certs = snap.certificates
    months = _months(batch.period_start, batch.period_end)
    vouchers = [v for v in snap.vouchers.get(batch.facility, [])
                if _months(v.period_start, v.period_end) & months]
    covered: dict[str, Decimal] = {}
    for a in allocs:
        codes = sum(_overlap_codes(a, certs[a.certificate_id], v) for v in vouchers
                    if v.certificate_first and v.certificate_last)
        covered[a.allocation_id] = Decimal(min(codes * 1000, a.kwh)) / 1000
    loose = [v for v in vouchers if not (v.certificate_first and v.certificate_last)]
    if loose:
        # vouchers without codes: share them among the facility's batches of those months
        pool_kwh = sum(v.kwh for v in loose)
        loose_months = set().union(*(_months(v.period_start, v.period_end) for v in loose))
        peers = [b for b in snap.peers_of(batch.facility)
                 if _months(b.period_start, b.period_end) & loose_months]
        peer_green = sum(b.allocated_kwh for b in peers) or 1
        share = min(Decimal(1), Decimal(pool_kwh) / Decimal(peer_green))
        for a in allocs:
            remaining = Decimal(a.kwh) / 1000 - covered[a.allocation_id]
            covered[a.allocation_id] += remaining * share
    return tuple(
        GreenAllocation(mwh=milli_to_decimal(a.kwh), technology=certs[a.certificate_id].technology,
                        vintage=certs[a.certificate_id].generation_month,
                        registry=certs[a.certificate_id].registry_name,
                        attested=certs[a.certificate_id].attested_by is not None,
                        voucher_covered_mwh=covered[a.allocation_id])
        for a in allocs)


def batch_facts(snap: Snapshot, batch_id: str) -> BatchFacts:
    if batch_id not in snap.batches:
        snap.load({batch_id})
    batch = snap.batches.get(batch_id)
    if batch is None:
        raise NotFound(f"no batch {batch_id!r}", field="batch")
    facility = snap.facilities[batch.facility]
    details = json.loads(batch.details)
    return BatchFacts(
        batch_id=batch.batch_id, product=batch.product, tonnes=milli_to_decimal(batch.kg),
        period_start=date.fromisoformat(batch.period_start),
        period_end=date.fromisoformat(batch.period_end),
        electricity_mwh=milli_to_decimal(batch.electricity_kwh),
        grid_region=facility.grid_region, province=facility.province, country=facility.country,
        # decimal strings parsed strictly (numbers.D: no floats, no exponents)
        fuels=tuple([FuelUse(f["fuel"], D(f["amount"], field="fuels.amount"), f["unit"])
                     for f in details["fuels"]]),
        process_emissions=tuple([ProcessEmission(p["gas"], D(p["kg"], field="process_emissions.kg"))
                                 for p in details["process_emissions"]]),
        inputs=tuple([MaterialInput(i["kind"], i["ref"], D(i.get("tonnes") or i["amount"],
                                                           field="inputs.amount"),
                                    i.get("unit", "t")) for i in details["inputs"]]),
        green=green_allocations(snap, batch),
        recycled_tonnes=milli_to_decimal(batch.recycled_kg))


class Footprints:
    """Footprints computed from one session's view of the projections, memoized per batch so
    a shipment drawing on many batches with shared upstream tiers computes each batch once;
    the rows behind them are loaded once per tier of the supply chain (:class:`Snapshot`)."""

    def __init__(self, session: Session, library: FactorLibrary, *, family: str = "lca_power",
                 gwp_set: str = "AR6",
                 suppliers: Callable[[str], SupplierFootprint] | None = None) -> None:
        self.session, self.library = session, library
        self.family, self.gwp_set = family, gwp_set
        # pact inputs: the caller's source, else the supplier footprints pulled into the ledger
        self.suppliers = suppliers if suppliers is not None else supplier_lookup(session)
        self._cache: dict[str, BatchFootprint] = {}
        self._snap: Snapshot | None = None

    def _snapshot(self, batch_ids: set[str]) -> Snapshot:
        if self._snap is None:
            self._snap = Snapshot(self.session, batch_ids)
        else:
            self._snap.load(batch_ids)
        return self._snap

    def batch(self, batch_id: str) -> BatchFootprint:
        found = self._cache.get(batch_id)
        if found is None:
            snap = self._snap
            if snap is None or batch_id not in snap.batches:
                snap = self._snapshot({batch_id})
            found = self._cache[batch_id] = batch_footprint(
                batch_facts(snap, batch_id), library=self.library, upstream=self.batch,
                suppliers=self.suppliers, family=self.family, gwp_set=self.gwp_set)
        return found

    def shipment(self, shipment_id: str) -> ShipmentFootprint:
        execute = self.session.connection().execute
        lines = execute(_SQL["lines"], {"shipment": shipment_id}).all()
        if not lines and execute(_SQL["shipment"], {"shipment": shipment_id}).first() is None:
            raise NotFound(f"no shipment {shipment_id!r}", field="shipment")
        self._snapshot({ln.batch_id for ln in lines})
        return shipment_footprint([(self.batch(ln.batch_id), milli_to_decimal(ln.kg))
                                   for ln in lines])
