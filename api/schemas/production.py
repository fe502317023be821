"""Production batches, allocations of certificates to batches, and shipments (DESIGN §4).

Request bodies mirror the entry bodies of ``batch.registered``, ``allocation.recorded`` and
``shipment.recorded``.
"""

from __future__ import annotations

import json
from typing import Literal

from pydantic import Field

from api.schemas.common import (
    Country,
    Day,
    OptionalText200,
    PartyId,
    Public,
    Quantity,
    RecordId,
    RequestBody,
    Text10,
    Text32,
    Text40,
    Text64,
    Text80,
    Text120,
    Text200,
    page,
    receipt,
)
from ledger.domain.fields import from_milli
from ledger.domain.production import GASES
from ledger.domain.tables import Allocation, Batch, Shipment, ShipmentLine


class Fuel(RequestBody):
    fuel: Text40
    amount: Quantity
    unit: Text10


class ProcessEmission(RequestBody):
    gas: Literal[GASES]  # type: ignore[valid-type]
    kg: Quantity


class MaterialInput(RequestBody):
    kind: Literal["batch", "factor", "pact"] = Field(
        description="an upstream batch of this ledger (tonnes), a library material factor "
                    "(amount, unit) or a supplier's PACT footprint (tonnes)")
    ref: Text120
    tonnes: Quantity | None = None
    amount: Quantity | None = None
    unit: Text10 | None = None


class Recycled(RequestBody):
    tonnes: Quantity
    origin: OptionalText200 = ""


class BatchCreate(RequestBody):
    batch: RecordId
    lot: Text64
    facility: PartyId
    product: Text200
    metal: Text32
    grade: Text32 | None = None
    cn_code: str = Field(pattern=r"^[0-9]{4}([0-9]{2}){0,3}$",
                         description="CN/HS code: 4, 6, 8 or 10 digits")
    tonnes: Quantity
    period_start: Day
    period_end: Day
    electricity_mwh: Quantity
    fuels: list[Fuel] = Field(default_factory=list, max_length=100)
    process_emissions: list[ProcessEmission] = Field(default_factory=list, max_length=20)
    inputs: list[MaterialInput] = Field(default_factory=list, max_length=500)
    recycled: Recycled | None = None


class RecycledPublic(Public):
    tonnes: str
    origin: str


class BatchPublic(Public):
    id: str
    lot: str
    facility: str
    owner: str
    product: str
    metal: str
    grade: str
    cn_code: str
    tonnes: str
    shipped_tonnes: str
    period_start: str
    period_end: str
    electricity_mwh: str
    allocated_mwh: str
    recycled: RecycledPublic
    fuels: list[dict[str, str]]
    process_emissions: list[dict[str, str]]
    inputs: list[dict[str, str]]
    seq: int

    @classmethod
    def of(cls, row: Batch) -> BatchPublic:
        details = json.loads(row.details)
        return cls(id=row.batch_id, lot=row.lot, facility=row.facility, owner=row.owner,
                   product=row.product, metal=row.metal, grade=row.grade, cn_code=row.cn_code,
                   tonnes=from_milli(row.kg), shipped_tonnes=from_milli(row.shipped_kg),
                   period_start=row.period_start, period_end=row.period_end,
                   electricity_mwh=from_milli(row.electricity_kwh),
                   allocated_mwh=from_milli(row.allocated_kwh),
                   recycled=RecycledPublic(tonnes=from_milli(row.recycled_kg),
                                           origin=row.recycled_origin),
                   fuels=_strings(details.get("fuels")),
                   process_emissions=_strings(details.get("process_emissions")),
                   inputs=_strings(details.get("inputs")), seq=row.seq)


def _strings(items: object) -> list[dict[str, str]]:
    if not isinstance(items, list):
        return []
    return [{str(k): str(v) for k, v in item.items()} for item in items if isinstance(item, dict)]


class AllocationCreate(RequestBody):
    allocation: RecordId
    certificate: Text80 = Field(description="the certificate id, <registry>:<first code>")
    first: Text64
    last: Text64
    mwh: Quantity
    batch: RecordId
    beneficiary: PartyId | None = Field(None, description="default: the caller's party")


class AllocationPublic(Public):
    id: str
    certificate: str
    first: str
    last: str
    mwh: str
    batch: str
    beneficiary: str
    seq: int

    @classmethod
    def of(cls, row: Allocation) -> AllocationPublic:
        return cls(id=row.allocation_id, certificate=row.certificate_id, first=row.first,
                   last=row.last, mwh=from_milli(row.kwh), batch=row.batch_id,
                   beneficiary=row.beneficiary, seq=row.seq)


class ShipmentLineIn(RequestBody):
    batch: RecordId
    tonnes: Quantity


class ShipmentCreate(RequestBody):
    shipment: RecordId
    seller: PartyId | None = Field(None, description="default: the caller's party")
    buyer: PartyId
    date: Day
    destination_country: Country
    lines: list[ShipmentLineIn] = Field(min_length=1, max_length=1000)


class ShipmentLinePublic(Public):
    batch: str
    tonnes: str


class ShipmentPublic(Public):
    id: str
    seller: str
    buyer: str
    date: str
    destination_country: str
    tonnes: str
    lines: list[ShipmentLinePublic]
    seq: int

    @classmethod
    def of(cls, row: Shipment, lines: list[ShipmentLine]) -> ShipmentPublic:
        return cls(id=row.shipment_id, seller=row.seller, buyer=row.buyer, date=row.date,
                   destination_country=row.destination_country, tonnes=from_milli(row.kg),
                   lines=[ShipmentLinePublic(batch=ln.batch_id, tonnes=from_milli(ln.kg))
                          for ln in lines], seq=row.seq)


BatchWritten, BatchPage = receipt(BatchPublic), page(BatchPublic)
AllocationWritten, AllocationPage = receipt(AllocationPublic), page(AllocationPublic)
ShipmentWritten, ShipmentPage = receipt(ShipmentPublic), page(ShipmentPublic)
