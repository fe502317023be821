"""EU CBAM export: the data an aluminium installation sends its EU importer, from the ledger.

DESIGN §7 (EU CBAM paragraph), FACTS §5. :func:`cbam_communication` builds, for a shipment of
covered aluminium goods (CN 7601, 7603–7614, 7616) to an EU-27 member state, a JSON-ready
document shaped like the summary "Communication with reporting declarants" of the EU
communication template for installations: installation and operator, and per CN code the
specific embedded emissions direct and indirect with how each was determined, the electricity
consumed with its factor, source and contract basis, the PFCs at AR5, the qualifying parameters,
the reporting period; beside it what the same tonnes would carry at the EU default values with
the year's mark-up, and a reconciliation with the product footprint engine. Every rule applied
is printed with its source (:mod:`certificates.cbam_rules`), and what the ledger does not hold
for a complete template is listed, never guessed.

Quantities travel as decimal strings (``ledger.numbers``): t CO2e per tonne and MWh per tonne to
6 decimals (= kg to 3), totals to 0.001 t, percent to 0.01. The XLSX writer is
:mod:`certificates.cbam_xlsx`; the JSON Schema is ``sample_data/schemas/cbam-communication-v1.json``.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from decimal import Decimal, localcontext
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlmodel import Session, col

from certificates.cbam_model import CbamBatches, Line
from certificates.cbam_report import batch_json, defaults_json, missing_json, reconciliation_json
from certificates.cbam_rules import (
    CBAM_GWP_SET,
    DEFINITIVE_FROM,
    EU27,
    PFC_GASES,
    RULES,
    SCHEMA_ID,
    SCOPE_TEXT,
    DefaultValue,
    goods_category,
    heading,
    is_covered,
    load_defaults,
    rule,
)
from certificates.cbam_xlsx import write_xlsx
from ledger.domain.tables import Batch, Party, Shipment, ShipmentLine
from ledger.errors import InputError, NotFound, RuleViolation
from ledger.factors import FactorLibrary
from ledger.numbers import CONTEXT, MWH, PERCENT, TONNES, div, s

__all__ = ["cbam_communication", "write_json", "write_xlsx"]

PER_T = Decimal("0.000001")  # t CO2e/t and MWh/t: kg or kWh per tonne to 0.001
T_CO2E = Decimal("0.001")
KG_PER_T = Decimal(1000)
ZERO = Decimal(0)
ALUMINIUM = ("al", "aluminium", "aluminum")


def cbam_communication(session: Session, shipment_id: str, *, library: FactorLibrary,
                       year: int | None = None,
                       defaults: tuple[DefaultValue, ...] | None = None) -> dict[str, Any]:
    """The CBAM communication of ``shipment_id`` as a JSON-ready dict (decimals as strings).

    ``year`` chooses the default values' mark-up (default: the shipment date's year, clamped to
    the table's years). Refuses, naming the field: a shipment line whose CN code is not a covered
    aluminium good (``cn_code``), a batch that is not aluminium (``metal``), a destination outside
    the EU-27 (``destination_country``), lines from more than one installation (``lines``).
    """
    shipment = session.get(Shipment, shipment_id)
    if shipment is None:
        raise NotFound(f"no shipment {shipment_id!r}", field="shipment")
    if year is not None and not 2000 <= year <= 2100:
        raise InputError(f"year must be a four-digit year, got {year}", field="year")
    rows = list(session.scalars(select(ShipmentLine).where(col(ShipmentLine.shipment_id) == shipment_id)
                                .order_by(ShipmentLine.batch_id)))
    if not rows:
        raise InputError(f"shipment {shipment_id} has no lines", field="lines")
    batches = [session.get(Batch, r.batch_id) for r in rows]
    _check_scope(shipment, [b for b in batches if b is not None])
    calc = CbamBatches(session, library)
    lines = [Line(calc.batch(r.batch_id), Decimal(r.kg) / KG_PER_T) for r in rows]
    facilities = sorted({ln.fig.facility.facility_id for ln in lines})
    if len(facilities) > 1:
        raise RuleViolation("cbam.installation", "a communication covers one installation; split the "
                            "shipment by facility", field="lines", limit="one facility", got=facilities)
    facility = lines[0].fig.facility
    operator = session.get(Party, facility.owner)
    buyer = session.get(Party, shipment.buyer)
    requested = year if year is not None else int(shipment.date[:4])
    defaults = load_defaults() if defaults is None else defaults

    by_cn: dict[str, list[Line]] = {}
    for ln in lines:
        by_cn.setdefault(ln.fig.batch.cn_code, []).append(ln)
    goods = [_goods(cn, group) for cn, group in sorted(by_cn.items())]
    applied = max((d.year_applied(requested) for d in defaults), default=requested)
    period_start = min(ln.fig.batch.period_start for ln in lines)
    period_end = max(ln.fig.batch.period_end for ln in lines)
    notes = _notes(lines, requested, applied)
    if requested < DEFINITIVE_FROM:
        notes.insert(2, f"shipment dated {shipment.date}: the figures are given for release for free "
                        f"circulation in {DEFINITIVE_FROM} or later (definitive period); goods released "
                        "before 2026 fell under the transitional reporting of Implementing Regulation (EU) "
                        "2023/1773")
    return {
        "$schema": SCHEMA_ID,
        "schema_version": "cbam-communication-v1",
        "document": "Communication with reporting declarants (EU CBAM communication template for "
                    "installations, summary), from the greenledger ledger",
        "shipment": {
            "shipment_id": shipment.shipment_id, "date": shipment.date, "entry_seq": shipment.seq,
            "seller": shipment.seller, "buyer": shipment.buyer,
            "buyer_name": buyer.name if buyer else None,
            "destination_country": shipment.destination_country,
            "tonnes": s(sum((ln.tonnes for ln in lines), ZERO), TONNES),
            "lines": [{"batch_id": ln.fig.batch.batch_id, "cn_code": ln.fig.batch.cn_code,
                       "tonnes": s(ln.tonnes, TONNES)} for ln in lines],
        },
        "installation": {
            "facility_id": facility.facility_id, "name": facility.name, "process": facility.process,
            "province": facility.province, "grid_region": facility.grid_region,
            "country": facility.country, "address": None,
            "address_note": "the ledger holds the province only: no street address, city, post code, "
                            "UN/LOCODE or coordinates",
        },
        "operator": {
            "party_id": facility.owner, "name": operator.name if operator else None,
            "identifier": {"scheme": "USCC (unified social credit code, GB 32100)",
                           "value": (operator.uscc or None) if operator else None},
        },
        "reporting_period": {"start": period_start, "end": period_end,
                             "basis": "production period of the shipped batches (not the "
                                      "installation's calendar year)"},
        "obligation": {
            "definitive_period": applied >= DEFINITIVE_FROM, "year": applied,
            "counted_emissions": "direct",
            "statement": rule("obligation.direct_only").statement,
            "source": rule("obligation.direct_only").source,
        },
        "gwp_set": CBAM_GWP_SET,
        "goods": goods,
        "batches": [batch_json(ln.fig, ln.tonnes) for ln in lines],
        "defaults_comparison": [defaults_json(g, defaults, facility.country, requested) for g in goods],
        "reconciliation": reconciliation_json(session, library, shipment_id, lines),
        "rules": [r.to_json() for r in RULES],
        "missing": missing_json(lines),
        "notes": notes,
    }


def write_json(doc: dict[str, Any], path: Path) -> None:
    path.write_text(json.dumps(doc, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")


# -- checks --------------------------------------------------------------------------------


def _check_scope(shipment: Shipment, batches: Iterable[Batch]) -> None:
    batches = list(batches)
    for b in batches:
        if not is_covered(b.cn_code):
            raise RuleViolation("cbam.scope", f"batch {b.batch_id} ({b.product}) has CN code {b.cn_code}, "
                                "not an aluminium good covered by CBAM", field="cn_code",
                                limit=f"CN {SCOPE_TEXT}", got=b.cn_code)
    for b in batches:
        if b.metal.strip().lower() not in ALUMINIUM:
            raise RuleViolation("cbam.aluminium", f"batch {b.batch_id} is {b.metal}, not aluminium; the "
                                "CBAM export covers aluminium goods only", field="metal", limit="Al",
                                got=b.metal)
    dest = shipment.destination_country.strip().upper()
    if dest not in EU27:
        raise RuleViolation("cbam.destination", f"shipment {shipment.shipment_id} goes to {dest}, not to "
                            "an EU member state; CBAM covers imports into the Union only",
                            field="destination_country", limit="an EU-27 member state", got=dest)


# -- per CN code ---------------------------------------------------------------------------


def _sum(values: Iterable[Decimal]) -> Decimal:
    with localcontext(CONTEXT):
        return sum(values, ZERO)


def _goods(cn_code: str, group: list[Line]) -> dict[str, Any]:
    t = _sum(ln.tonnes for ln in group)
    direct = _sum(ln.fig.see_direct_kg_per_t * ln.tonnes for ln in group)
    indirect = _sum(ln.fig.see_indirect_kg_per_t * ln.tonnes for ln in group)
    attributed = _sum(ln.part(ln.fig.attributed_direct_kg) for ln in group)
    precursors = _sum(ln.part(ln.fig.precursors_direct_kg) for ln in group)
    mwh = _sum(ln.part(ln.fig.electricity_mwh) for ln in group)
    own_indirect = _sum(ln.part(ln.fig.attributed_indirect_kg) for ln in group)
    scrap = _sum(ln.part(ln.fig.recycled_tonnes) for ln in group)
    green = _sum(ln.part(ln.fig.green_mwh) for ln in group)
    vouchers = [ln.fig.voucher_covered_mwh for ln in group]
    vouchered = None if None in vouchers else _sum(
        ln.part(ln.fig.voucher_covered_mwh or ZERO) for ln in group)
    factors = {ln.fig.grid.factor.factor_id: ln.fig.grid for ln in group}
    provincial = [ln.fig.province_grid for ln in group]
    provincial_kg = None if None in provincial else _sum(
        ln.part(ln.fig.electricity_mwh * KG_PER_T * ln.fig.province_grid.factor.value)
        for ln in group if ln.fig.province_grid is not None)
    pfc_total = _sum(ln.part(ln.fig.pfc_kg_co2e(g)) for ln in group for g in PFC_GASES)

    def per_t(kg: Decimal) -> str:
        return s(div(kg, t * KG_PER_T), PER_T)

    return {
        "cn_code": cn_code, "cn_heading": heading(cn_code),
        "aggregated_goods_category": goods_category(cn_code),
        "product": "; ".join(sorted({ln.fig.batch.product for ln in group})),
        "production_route": "; ".join(sorted({ln.fig.production_route for ln in group})),
        "tonnes": s(t, TONNES),
        "specific_direct_t_co2e_per_t": per_t(direct),
        "specific_indirect_t_co2e_per_t": per_t(indirect),
        "specific_total_t_co2e_per_t": per_t(direct + indirect),
        "attributed_direct_t_co2e_per_t": per_t(attributed),
        "precursors_direct_t_co2e_per_t": per_t(precursors),
        "embedded_direct_t_co2e": s(direct / KG_PER_T, T_CO2E),
        "embedded_indirect_t_co2e": s(indirect / KG_PER_T, T_CO2E),
        "counted_in_cbam_obligation": "direct",
        "direct_determination": {
            "method": "actual",
            "basis": "monitored data of the installation recorded in the ledger: fuels × combustion CO2 "
                     "factors, recorded process CO2, CF4 and C2F6 (GWP AR5), plus relevant precursors' "
                     "embedded direct emissions",
            "rule_ids": ["scope.goods", "direct.boundary", "precursors.unwrought", "precursors.products",
                         "gwp.ar5"],
        },
        "indirect_determination": {
            "method": "actual",
            "basis": "metered electricity consumption × default country grid emission factor",
            "rule_ids": ["indirect.factor", "indirect.certificates"],
        },
        "electricity": {
            "mwh": s(mwh, MWH), "mwh_per_t": s(div(mwh, t), PER_T),
            "emission_factor_t_co2_per_mwh": s(div(own_indirect, mwh * KG_PER_T) if mwh else ZERO, PER_T),
            "factors": [{"factor_id": c.factor.factor_id, "value": format(c.factor.value, "f"),
                         "unit": c.factor.unit, "year": c.factor.year, "source": c.factor.source,
                         "status": c.factor.status, "vintage_note": c.note}
                        for _, c in sorted(factors.items())],
            "factor_source_type": "default: average grid factor of the country of production (official "
                                  "national data, not the Commission's published value)",
            "contract_basis": "grid, national average (no direct technical link or qualifying PPA recorded)",
            "provincial_average_information": None if provincial_kg is None else {
                "factor_ids": sorted({c.factor.factor_id for c in provincial if c is not None}),
                "indirect_t_co2e_per_t": per_t(provincial_kg),
                "statement": "the same MWh at the provincial average grid factor, for information: not the "
                             "country factor CBAM uses by default",
            },
            "green_certificates_information": {
                "green_mwh": s(green, MWH),
                "voucher_covered_mwh": None if vouchered is None else s(vouchered, MWH),
                "green_share_percent": s(div(green * 100, mwh) if mwh else ZERO, PERCENT),
                "statement": rule("indirect.certificates").statement,
            },
        },
        "pfc": {
            "gwp_set": CBAM_GWP_SET, "source": rule("gwp.ar5").source,
            "gases": [_pfc(gas, group, t) for gas in PFC_GASES],
            "total_t_co2e": s(pfc_total / KG_PER_T, T_CO2E), "total_t_co2e_per_t": per_t(pfc_total),
        },
        "qualifying_parameters": _qualifying(group, scrap, t),
        "reporting_period": {"start": min(ln.fig.batch.period_start for ln in group),
                             "end": max(ln.fig.batch.period_end for ln in group)},
        "batch_ids": [ln.fig.batch.batch_id for ln in group],
    }


def _pfc(gas: str, group: list[Line], t: Decimal) -> dict[str, Any]:
    kg = _sum(ln.part(ln.fig.pfc_kg(gas)) for ln in group)
    co2e = _sum(ln.part(ln.fig.pfc_kg_co2e(gas)) for ln in group)
    gwps = {g.gwp.factor_id: g.gwp for ln in group for g in ln.fig.gases if g.gas == gas}
    gwp = next(iter(gwps.values()), None)
    return {"gas": gas, "kg": s(kg, TONNES), "gwp": format(gwp.value, "f") if gwp else None,
            "gwp_factor_id": gwp.factor_id if gwp else None,
            "t_co2e": s(co2e / KG_PER_T, T_CO2E), "t_co2e_per_t": s(div(co2e, t * KG_PER_T), PER_T)}


def _qualifying(group: list[Line], scrap: Decimal, t: Decimal) -> dict[str, Any]:
    origins = sorted({ln.fig.batch.recycled_origin for ln in group if ln.fig.recycled_tonnes > 0})
    grades = sorted({ln.fig.batch.grade for ln in group})
    bounds = [ln.fig.other_elements_max_percent for ln in group]
    if all(b is not None for b in bounds) and max(b for b in bounds if b is not None) <= 1:
        top = max(b for b in bounds if b is not None)
        elements = (f"not required: grade(s) {', '.join(grades)} allow at most {top} % of elements other "
                    "than aluminium (threshold 1 %); bound from the grade designation, not an assay")
    else:
        elements = (f"not held: grade(s) {', '.join(grades)} do not bound other elements to 1 %; the "
                    "total content of elements other than aluminium needs an assay")
    return {
        "scrap_t_per_t": s(div(scrap, t), PER_T), "scrap_tonnes": s(scrap, TONNES),
        "pre_consumer_scrap_percent": None,
        "pre_consumer_scrap_note": "not applicable: no scrap used" if scrap == 0 else
        "not held: the ledger records the scrap's origin as text only (" + "; ".join(origins) + ")",
        "other_elements_percent": None, "other_elements_note": elements,
        "source": rule("qualifying.aluminium").source,
    }


def _notes(lines: list[Line], requested: int, applied: int) -> list[str]:
    notes = [rule("obligation.direct_only").statement, rule("indirect.certificates").statement]
    if applied != requested:
        notes.append(f"default values: year {requested} is outside the mark-up table; the {applied} "
                     "mark-up is applied")
    for ln in lines:
        note = ln.fig.grid.note
        if note and note not in notes:
            notes.append(note)
    return notes
