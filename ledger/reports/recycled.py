"""Recycled content per facility and period, with its mass balance (issue #11.3; Yunnan plan
一(三) and 二(五)10: more recycled copper, aluminium, lead and zinc).

- **Recycled in**: the recycled input (scrap) recorded on the facility's batches that ended in
  the period (``recycled_kg``, with its ``recycled_origin``); the share is recycled tonnes /
  output tonnes, the footprint's ``recycled_share`` (``footprint_model``).
- **Claimed in shipments**: each shipment line of those batches claims the batch's recycled share
  pro rata, ``recycled_kg × shipped_kg / batch_kg`` — exactly the recycled tonnes a shipment's
  footprint carries (``shipment_footprint``). Shipments are those of the period's batches,
  whatever their date, so that claims are held against the recycled input they came from.
- **Mass balance**: claimed ≤ recycled in, per batch and in total. It holds by construction while
  no batch ships more than it produced (the ``shipment.mass-balance`` rule); the report checks it
  anyway and names any batch that breaks it (only a projection edited behind the log's back can,
  and the audit names that too).
Recycled input of upstream batches is not carried through (alumina changes identity on the
way), as in the footprint. Sums in SQL; exact ``Decimal`` for the pro-rata claims.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from sqlalchemy import func, select
from sqlmodel import Session, col

from ledger.domain.tables import Batch, Facility, Shipment, ShipmentLine
from ledger.errors import NotFound
from ledger.numbers import div
from ledger.reports.labels import labels_for
from ledger.reports.periods import Period
from ledger.reports.quantities import pct_text, percent, tonnes
from ledger.reports.targets import Target, applicable, load_targets

TB = Batch.__table__  # type: ignore[attr-defined]
TL = ShipmentLine.__table__  # type: ignore[attr-defined]
TS = Shipment.__table__  # type: ignore[attr-defined]
B, L, S = TB.c, TL.c, TS.c


@dataclass(frozen=True)
class ShipmentClaim:
    shipment_id: str
    buyer: str
    date: str
    destination_country: str
    kg: int
    recycled_kg: Decimal

    def to_json(self) -> dict[str, Any]:
        return {"shipment_id": self.shipment_id, "buyer": self.buyer, "date": self.date,
                "destination_country": self.destination_country, "tonnes": tonnes(self.kg),
                "recycled_tonnes": tonnes(self.recycled_kg),
                "recycled_share_percent": pct_text(percent(self.recycled_kg, self.kg))}


@dataclass
class RecycledFigures:
    batches: int = 0
    kg: int = 0
    recycled_kg: int = 0
    shipped_kg: int = 0
    claimed_kg: Decimal = Decimal(0)
    violations: list[str] = field(default_factory=list)

    def add(self, other: RecycledFigures) -> None:
        self.batches += other.batches
        self.kg += other.kg
        self.recycled_kg += other.recycled_kg
        self.shipped_kg += other.shipped_kg
        self.claimed_kg += other.claimed_kg
        self.violations += other.violations

    @property
    def share(self) -> Decimal | None:
        return percent(self.recycled_kg, self.kg)

    @property
    def mass_balance_holds(self) -> bool:
        return not self.violations and self.claimed_kg <= self.recycled_kg

    def to_json(self) -> dict[str, Any]:
        return {"batches": self.batches, "tonnes": tonnes(self.kg),
                "recycled_tonnes": tonnes(self.recycled_kg),
                "recycled_share_percent": pct_text(self.share),
                "shipped_tonnes": tonnes(self.shipped_kg),
                "claimed_recycled_tonnes": tonnes(self.claimed_kg),
                "unclaimed_recycled_tonnes": tonnes(self.recycled_kg - self.claimed_kg),
                "mass_balance_holds": self.mass_balance_holds,
                "mass_balance_violations": list(self.violations)}


@dataclass
class FacilityRecycled:
    facility_id: str
    name: str
    metals: tuple[str, ...]
    figures: RecycledFigures
    by_origin: dict[str, int]
    shipments: list[ShipmentClaim]
    targets: tuple[Target, ...]

    def to_json(self) -> dict[str, Any]:
        return {"facility_id": self.facility_id, "name": self.name, "metals": list(self.metals),
                **self.figures.to_json(),
                "by_origin": {k: tonnes(v) for k, v in sorted(self.by_origin.items())},
                "shipments": [c.to_json() for c in self.shipments],
                "targets": [t.evaluate(self.figures.share) for t in self.targets]}


@dataclass
class RecycledReport:
    period: Period
    facilities: list[FacilityRecycled]
    totals: RecycledFigures
    total_targets: tuple[Target, ...]

    def to_json(self) -> dict[str, Any]:
        return {"report": "recycled", "period": self.period.to_json(),
                "facilities": [f.to_json() for f in self.facilities],
                "totals": {**self.totals.to_json(),
                           "targets": [t.evaluate(self.totals.share) for t in self.total_targets]},
                "notes": [
                    "Recycled in: recycled input recorded on the batches that ended in the period.",
                    "Claimed: each shipment line of those batches carries the batch's recycled "
                    "share pro rata (recycled x shipped / produced), as the shipment footprint does.",
                    "Mass balance: claimed <= recycled in, per batch and in total.",
                ],
                "labels": labels_for("recycled")}


def recycled(session: Session, *, period: Period, facility: str | None = None,
             targets: Sequence[Target] | None = None) -> RecycledReport:
    """Recycled input, its share and the shipments' claims on it, per facility."""
    if facility is not None and session.get(Facility, facility) is None:
        raise NotFound(f"no facility {facility!r}", field="facility")
    targets = load_targets() if targets is None else targets
    where = [B.period_end >= period.first_day, B.period_end < period.after_last_day]
    if facility is not None:
        where.append(B.facility == facility)

    figures: dict[str, RecycledFigures] = defaultdict(RecycledFigures)
    origins: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    metals: dict[str, set[str]] = defaultdict(set)
    if facility is not None:
        figures[facility] = RecycledFigures()
    for fac, metal, origin, n, kg, rec in session.execute(
            select(B.facility, B.metal, B.recycled_origin, func.count(), func.sum(B.kg),
                   func.sum(B.recycled_kg)).where(*where).group_by(B.facility, B.metal, B.recycled_origin)):
        fig = figures[fac]
        fig.batches += int(n)
        fig.kg += int(kg or 0)
        fig.recycled_kg += int(rec or 0)
        metals[fac].add(metal)
        if int(rec or 0):
            origins[fac][origin or "(origin not recorded)"] += int(rec)

    claims: dict[str, dict[str, ShipmentClaim]] = defaultdict(dict)
    shipped_per_batch: dict[str, tuple[str, int, int, int]] = {}
    lines = select(B.facility, B.batch_id, B.kg, B.recycled_kg, L.shipment_id, L.kg, S.buyer, S.date,
                   S.destination_country) \
        .select_from(TB).join(TL, L.batch_id == B.batch_id) \
        .join(TS, S.shipment_id == L.shipment_id) \
        .where(*where).order_by(S.date, L.shipment_id, B.batch_id)
    for fac, batch_id, batch_kg, batch_rec, sid, line_kg, buyer, day, country in session.execute(lines):
        claim = div(Decimal(batch_rec) * line_kg, Decimal(batch_kg))
        fig = figures[fac]
        fig.shipped_kg += line_kg
        fig.claimed_kg += claim
        prev = claims[fac].get(sid)
        claims[fac][sid] = ShipmentClaim(sid, buyer, day, country, (prev.kg if prev else 0) + line_kg,
                                         (prev.recycled_kg if prev else Decimal(0)) + claim)
        _, produced, rec, shipped = shipped_per_batch.get(batch_id, (fac, batch_kg, batch_rec, 0))
        shipped_per_batch[batch_id] = (fac, produced, rec, shipped + line_kg)
    for batch_id, (fac, produced, _rec, shipped) in sorted(shipped_per_batch.items()):
        if shipped > produced:
            figures[fac].violations.append(
                f"{batch_id}: shipped {tonnes(shipped)} t of {tonnes(produced)} t produced")

    names = {f.facility_id: f.name for f in session.scalars(
        select(Facility).where(col(Facility.facility_id).in_(list(figures))))}
    totals = RecycledFigures()
    out = []
    for fac in sorted(figures):
        totals.add(figures[fac])
        out.append(FacilityRecycled(
            fac, names[fac], tuple(sorted(metals[fac])), figures[fac], dict(origins[fac]),
            sorted(claims[fac].values(), key=lambda c: (c.date, c.shipment_id)),
            applicable(targets, "recycled_share", metals[fac], period.year)))
    return RecycledReport(period, out, totals,
                          tuple(t for t in applicable(targets, "recycled_share", ("*",), period.year)
                                if "*" in t.metals))
