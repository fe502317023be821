"""``/dashboard``: a producer's own certificates, batches, footprints and declarations.

Only rows the signed-in producer may read are selected, with the same condition the JSON API
uses (:func:`ledger.domain.visibility.readable`): its certificates, its batches, the
declarations it issued. A batch's footprint includes its upstream batches' (alumina from a
refinery, say) as a figure only; the upstream rows themselves are never shown.

- Inventory, by plant and technology: MWh registered, allocated to batches, cancelled, and
  left. A certificate past its last valid month (GEC: two years from generation) no longer
  counts as left: what is unused of it is shown apart, as expired.
- Batches (the latest :data:`MAX_BATCHES`): tonnes, electricity, green MWh and the footprint
  per tonne, market-based (the headline) beside location-based (DESIGN §5), drawn as bars.
- Green-electricity share of each of its facilities, month by month, in the year of its
  latest batch, against the plan's targets (:func:`ledger.reports.green_share`, whose
  ``to_json()`` is charted as is): all registries and CN-GEC only, and the gap to each target.
- Declarations issued, with their status and the PDF.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal

from flask import render_template
from flask.typing import ResponseReturnValue
from sqlalchemy import func, select
from sqlmodel import Session, col

from api.auth import public
from api.service import service
from api.web.blueprint import bp
from api.web.charts import BarChart, grouped_bars
from api.web.signin import require_roles, signed_in
from ledger.access import ApiPrincipal
from ledger.domain.fields import milli_to_decimal
from ledger.domain.footprints import Footprints
from ledger.domain.tables import Batch, Certificate, Declaration, Facility, Party
from ledger.domain.visibility import readable
from ledger.errors import GreenledgerError
from ledger.factors import FactorLibrary
from ledger.reports import Period, efficiency, green_share, recycled

MAX_BATCHES = 24
log = logging.getLogger("greenledger.web")


@dataclass(frozen=True)
class InventoryRow:
    plant: str
    technology: str
    certificates: int
    total_mwh: Decimal
    allocated_mwh: Decimal
    cancelled_mwh: Decimal
    left_mwh: Decimal
    expired_mwh: Decimal


def _month(today: date) -> str:
    return f"{today.year:04d}-{today.month:02d}"


def inventory(certificates: Iterable[Certificate], today: date) -> list[InventoryRow]:
    """MWh per (plant, technology); unused MWh of expired certificates apart from ``left``."""
    month = _month(today)
    sums: dict[tuple[str, str], list[int]] = {}
    for c in certificates:
        unused = c.kwh - c.allocated_kwh - c.cancelled_kwh
        expired = unused if c.expires_month < month else 0
        row = sums.setdefault((c.plant, c.technology), [0, 0, 0, 0, 0, 0])
        for i, kwh in enumerate((1, c.kwh, c.allocated_kwh, c.cancelled_kwh, unused - expired,
                                 expired)):
            row[i] += kwh
    return [InventoryRow(plant, tech, n, *(milli_to_decimal(v) for v in kwh))
            for (plant, tech), (n, *kwh) in sorted(sums.items())]


def total(rows: list[InventoryRow]) -> InventoryRow:
    def add(name: str) -> Decimal:
        return sum((getattr(r, name) for r in rows), Decimal(0))

    return InventoryRow("", "", sum(r.certificates for r in rows), add("total_mwh"),
                        add("allocated_mwh"), add("cancelled_mwh"), add("left_mwh"),
                        add("expired_mwh"))


@dataclass(frozen=True)
class BatchRow:
    batch_id: str
    product: str
    period: str
    tonnes: Decimal
    electricity_mwh: Decimal
    green_mwh: Decimal
    market_per_tonne: Decimal | None  # kg CO2e/t; None when it cannot be computed
    location_per_tonne: Decimal | None
    problem: str | None = None


def batch_rows(session: Session, batches: list[Batch]) -> list[BatchRow]:
    footprints = Footprints(session, FactorLibrary.load())
    rows = []
    for b in batches:
        base = (b.batch_id, b.product, f"{b.period_start} – {b.period_end}",
                milli_to_decimal(b.kg), milli_to_decimal(b.electricity_kwh),
                milli_to_decimal(b.allocated_kwh))
        try:
            fp = footprints.batch(b.batch_id)
        except GreenledgerError as exc:
            log.info("no footprint for %s: %s", b.batch_id, exc)
            rows.append(BatchRow(*base, None, None, exc.message))
            continue
        rows.append(BatchRow(*base, fp.market_per_tonne.total, fp.location_per_tonne.total))
    return rows


def footprint_chart(rows: list[BatchRow]) -> BarChart | None:
    groups = [(r.batch_id, [r.market_per_tonne, r.location_per_tonne]) for r in rows
              if r.market_per_tonne is not None]
    return grouped_bars(groups) if groups else None


@dataclass(frozen=True)
class GreenShare:
    facility_id: str
    name: str
    year: int
    figures: dict[str, object]  # the report's JSON of the facility, as is
    chart: BarChart


def _percent(text: object) -> Decimal | None:
    return Decimal(str(text)) if text is not None else None


def green_shares(session: Session, who: ApiPrincipal, year: int) -> list[GreenShare]:
    """The green-share report of each of the producer's facilities that has batches in
    ``year``; months charted as green share (every registry) beside GEC share."""
    out = []
    facilities = session.scalars(select(Facility).where(
        readable(Facility, party=who.party, role=who.role)).order_by(col(Facility.facility_id)))
    for facility in facilities:
        report = green_share(session, period=Period.of_year(year), facility=facility.facility_id)
        data = report.to_json()["facilities"][0]
        if not data["batches"]:
            continue
        groups = [(m["month"][5:], [_percent(m["green_share_percent"]),
                                    _percent(m["gec_share_percent"])]) for m in data["months"]]
        out.append(GreenShare(facility.facility_id, facility.name, year, data,
                              grouped_bars(groups, width=560, height=240, label_space=32)))
    return out


@dataclass(frozen=True)
class ReportChart:
    """One facility's report (its JSON, as the API and the CLI give it) and its chart."""

    facility_id: str
    name: str
    year: int
    figures: dict[str, object]
    chart: BarChart | None


def _facilities(session: Session, who: ApiPrincipal) -> list[Facility]:
    return list(session.scalars(select(Facility).where(
        readable(Facility, party=who.party, role=who.role)).order_by(col(Facility.facility_id))))


def efficiencies(session: Session, who: ApiPrincipal, year: int) -> list[ReportChart]:
    """Electricity per tonne of each batch beside the benchmark level of its product
    (:func:`ledger.reports.efficiency`); products benchmarked in kgce/t show kWh/t alone."""
    out = []
    for facility in _facilities(session, who):
        data = efficiency(session, period=Period.of_year(year),
                          facility=facility.facility_id).to_json()["facilities"]
        if not data or not data[0]["batches"]:
            continue
        fig = data[0]
        bench = fig["benchmark"]["benchmark_value"] if fig.get("benchmark") and fig["comparable"] else None
        groups = [(b["month"][5:], [_percent(b["compared_kwh_per_t"] or b["electricity_kwh_per_t"]),
                                    _percent(bench)]) for b in fig["batches"]]
        out.append(ReportChart(facility.facility_id, facility.name, year, fig,
                               grouped_bars(groups, width=560, height=240, label_space=32)))
    return out


def recycled_contents(session: Session, who: ApiPrincipal, year: int) -> list[ReportChart]:
    """Recycled input by origin, and what shipments claimed of it
    (:func:`ledger.reports.recycled`)."""
    out = []
    for facility in _facilities(session, who):
        data = recycled(session, period=Period.of_year(year),
                        facility=facility.facility_id).to_json()["facilities"]
        if not data or not data[0]["batches"]:
            continue
        fig = data[0]
        groups = [(origin.split(",")[0][:28], [_percent(tonnes)])
                  for origin, tonnes in fig["by_origin"].items()]
        groups.append(("claimed / 已声明", [_percent(fig["claimed_recycled_tonnes"])]))
        chart = grouped_bars(groups, width=560, height=240, label_space=64) if fig["by_origin"] else None
        out.append(ReportChart(facility.facility_id, facility.name, year, fig, chart))
    return out


def dashboard_data(session: Session, who: ApiPrincipal, today: date) -> dict[str, object]:
    mine = {m: readable(m, party=who.party, role=who.role)
            for m in (Certificate, Batch, Declaration)}
    certificates = list(session.scalars(select(Certificate).where(mine[Certificate])))
    batch_count = session.scalar(select(func.count()).select_from(Batch).where(mine[Batch])) or 0
    latest = list(session.scalars(select(Batch).where(mine[Batch]).order_by(
        col(Batch.period_end).desc(), col(Batch.batch_id).desc()).limit(MAX_BATCHES)))
    latest.reverse()
    rows = batch_rows(session, latest)
    declarations = list(session.scalars(select(Declaration).where(mine[Declaration]).order_by(
        col(Declaration.issued_seq).desc())))
    party = session.get(Party, who.party)
    inventory_rows = inventory(certificates, today)
    year = int(latest[-1].period_end[:4]) if latest else today.year
    return {"party": party, "inventory": inventory_rows, "inventory_total": total(inventory_rows),
            "month": _month(today), "batches": rows, "batch_count": batch_count,
            "chart": footprint_chart(rows), "declarations": declarations,
            "green_shares": green_shares(session, who, year),
            "efficiencies": efficiencies(session, who, year),
            "recycled": recycled_contents(session, who, year)}


@bp.get("/dashboard")
@public
@require_roles("producer")
def dashboard() -> ResponseReturnValue:
    who = signed_in()
    assert who is not None
    with Session(service().engine) as session:
        data = dashboard_data(session, who, datetime.now(UTC).date())
    return render_template("web/dashboard.html", **data)
