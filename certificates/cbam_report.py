"""Parts of the CBAM communication beside the per-CN summary: the batches' monitored data, the
comparison with the EU default values, the reconciliation with the footprint engine, and what
the ledger does not hold for a complete communication template.

The default-value comparison is computed from the *presented* figures (decimal strings), so that
anyone can redo it by hand from the document: ``default × (1 + mark-up)`` per tonne, times the
tonnes, and the difference with the actual total in t CO2e and in percent of the default.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal, localcontext
from typing import Any

from sqlmodel import Session

from certificates.cbam_model import BatchCbam, Line
from certificates.cbam_rules import DefaultValue, default_for
from ledger.domain.footprints import Footprints
from ledger.errors import GreenledgerError
from ledger.factors import FactorLibrary
from ledger.numbers import CONTEXT, KG_CO2E, MWH, PERCENT, TONNES, D, div, s

PER_T = Decimal("0.000001")
T_CO2E = Decimal("0.001")
KG_PER_T = Decimal(1000)
ZERO = Decimal(0)


def _t(kg: Decimal) -> str:
    return s(kg / KG_PER_T, T_CO2E)


def _per_t(kg: Decimal, tonnes: Decimal) -> str:
    return s(div(kg, tonnes * KG_PER_T), PER_T)


def batch_json(fig: BatchCbam, shipped: Decimal) -> dict[str, Any]:
    """One batch's recorded data and CBAM figures (C_Emissions&Energy, D_Processes)."""
    b, t = fig.batch, fig.tonnes
    return {
        "batch_id": b.batch_id, "lot": b.lot, "entry_seq": b.seq, "facility": b.facility,
        "cn_code": b.cn_code, "product": b.product, "metal": b.metal, "grade": b.grade,
        "period_start": b.period_start, "period_end": b.period_end,
        "tonnes_produced": s(t, TONNES), "tonnes_shipped": s(shipped, TONNES),
        "production_route": fig.production_route,
        "fuels": [{"fuel": f.fuel, "amount": format(f.amount, "f"), "unit": f.unit,
                   "co2_factor_id": f.factor.factor_id, "co2_factor": format(f.factor.value, "f"),
                   "co2_factor_unit": f.factor.unit, "co2_factor_source": f.factor.source,
                   "co2_t": _t(f.co2_kg), "ch4_n2o_t_co2e_not_counted": _t(f.non_cbam_kg_co2e)}
                  for f in fig.fuels],
        "process_emissions": [{"gas": g.gas, "kg": format(g.kg, "f"), "gwp": format(g.gwp.value, "f"),
                               "gwp_factor_id": g.gwp.factor_id, "t_co2e": _t(g.kg_co2e),
                               "counted": g.counted} for g in fig.gases],
        "attributed_direct_t_co2e": _t(fig.attributed_direct_kg),
        "attributed_direct_t_co2e_per_t": _per_t(fig.attributed_direct_kg, t),
        "non_cbam_gases_t_co2e": _t(fig.non_cbam_kg_co2e),
        "electricity_mwh": s(fig.electricity_mwh, MWH),
        "electricity_mwh_per_t": s(div(fig.electricity_mwh, t), PER_T),
        "grid_factor_id": fig.grid.factor.factor_id,
        "grid_factor_t_co2_per_mwh": format(fig.grid.factor.value, "f"),
        "attributed_indirect_t_co2e": _t(fig.attributed_indirect_kg),
        "green_mwh": s(fig.green_mwh, MWH),
        "voucher_covered_mwh": None if fig.voucher_covered_mwh is None else s(fig.voucher_covered_mwh, MWH),
        "green_certificates_information": [{"registry": g.registry, "technology": g.technology,
                                            "mwh": s(g.mwh, MWH)} for g in fig.green],
        "precursors": [{"batch_id": p.batch_id, "cn_code": p.cn_code, "facility": p.facility,
                        "country": p.country, "tonnes": s(p.tonnes, TONNES),
                        "see_direct_t_co2e_per_t": s(p.see_direct_kg_per_t / KG_PER_T, PER_T),
                        "see_indirect_t_co2e_per_t": s(p.see_indirect_kg_per_t / KG_PER_T, PER_T),
                        "zero_rated": p.zero_rated} for p in fig.precursors],
        "excluded_inputs": [{"kind": e.kind, "ref": e.ref, "amount": format(e.amount, "f"), "unit": e.unit,
                             "reason": e.reason} for e in fig.excluded],
        "specific_direct_t_co2e_per_t": s(fig.see_direct_kg_per_t / KG_PER_T, PER_T),
        "specific_indirect_t_co2e_per_t": s(fig.see_indirect_kg_per_t / KG_PER_T, PER_T),
        "recycled_tonnes": s(fig.recycled_tonnes, TONNES), "recycled_origin": b.recycled_origin,
    }


def defaults_json(goods: dict[str, Any], defaults: Sequence[DefaultValue], country: str,
                  requested: int) -> dict[str, Any]:
    """The same tonnes at the EU default value with the year's mark-up, and the difference."""
    tonnes = D(goods["tonnes"])
    actual = D(goods["specific_direct_t_co2e_per_t"])
    actual_total = D(goods["embedded_direct_t_co2e"])
    out: dict[str, Any] = {
        "cn_code": goods["cn_code"], "cn_heading": goods["cn_heading"], "country": country,
        "tonnes": goods["tonnes"], "actual_direct_t_co2e_per_t": goods["specific_direct_t_co2e_per_t"],
        "actual_direct_total_t_co2e": goods["embedded_direct_t_co2e"], "markup_year_requested": requested,
    }
    d = default_for(tuple(defaults), goods["cn_code"], country)
    if d is None:
        return {**out, "description": None, "default_direct_t_co2e_per_t": None, "markup_year_applied": None,
                "markup_fraction": None, "default_direct_with_markup_t_co2e_per_t": None,
                "default_direct_total_t_co2e": None, "default_indirect_t_co2e_per_t": None,
                "difference_t_co2e_per_t": None, "difference_t_co2e": None, "difference_percent": None,
                "source": None, "status": None,
                "note": f"no default value for CN heading {goods['cn_heading']} and country {country} in "
                        "sample_data/cbam_defaults.csv"}
    year = d.year_applied(requested)
    markup = d.markups[year]
    with localcontext(CONTEXT):
        per_t = d.direct_t_co2e_per_t * (1 + markup)
        total = per_t * tonnes
        diff_total = actual_total - total
        percent = div(diff_total * 100, total) if total else ZERO
    note = (f"default {d.direct_t_co2e_per_t} t CO2e/t × (1 + {markup}) for {year} = {per_t} t CO2e/t"
            + (f" (year {requested} clamped to the table's {min(d.markups)}–{max(d.markups)})"
               if year != requested else ""))
    return {**out, "description": d.description,
            "default_direct_t_co2e_per_t": format(d.direct_t_co2e_per_t, "f"), "markup_year_applied": year,
            "markup_fraction": format(markup, "f"),
            "default_direct_with_markup_t_co2e_per_t": s(per_t, PER_T),
            "default_direct_total_t_co2e": s(total, T_CO2E),
            "default_indirect_t_co2e_per_t": (format(d.indirect_t_co2e_per_t, "f")
                                              if d.indirect_t_co2e_per_t is not None else None),
            "difference_t_co2e_per_t": s(actual - per_t, PER_T), "difference_t_co2e": s(diff_total, T_CO2E),
            "difference_percent": s(percent, PERCENT), "source": d.source, "status": d.status,
            "note": note + "; no indirect default is taken: aluminium counts direct emissions only"}


def reconciliation_json(session: Session, library: FactorLibrary, shipment_id: str,
                        lines: Sequence[Line]) -> dict[str, Any]:
    """The CBAM direct figure against the footprint engine's ``direct`` for the same shipment
    (family ``ghg_co2_grid``; AR6 as ``greenledger footprint`` prints by default, and AR5)."""
    with localcontext(CONTEXT):
        t = sum((ln.tonnes for ln in lines), ZERO)
        attributed = sum((ln.part(ln.fig.attributed_direct_kg) for ln in lines), ZERO)
        non_cbam = sum((ln.part(ln.fig.non_cbam_kg_co2e) for ln in lines), ZERO)
        precursors = sum((ln.part(ln.fig.precursors_direct_kg) for ln in lines), ZERO)
    out: dict[str, Any] = {
        "footprint_family": "ghg_co2_grid",
        "footprint_command": f"greenledger footprint shipment {shipment_id} --json --family ghg_co2_grid",
        "non_cbam_gases_kg_co2e_per_t_ar5": s(div(non_cbam, t), KG_CO2E),
        "cbam_attributed_direct_kg_co2e_per_t": s(div(attributed, t), KG_CO2E),
        "precursors_direct_kg_co2e_per_t": s(div(precursors, t), KG_CO2E),
        "cbam_specific_direct_kg_co2e_per_t": s(div(attributed + precursors, t), KG_CO2E),
        "explanation": "footprint direct at AR5 = CBAM attributed direct + CH4 and N2O of combustion (not "
                       "CBAM gases for aluminium); the footprint's upstream stage (alumina, anode materials, "
                       "fluoride) is no CBAM precursor of unwrought aluminium; the AR6 figure differs in the "
                       "GWPs of CF4, C2F6, CH4 and N2O",
    }
    try:
        ar6 = Footprints(session, library, family="ghg_co2_grid", gwp_set="AR6").shipment(shipment_id)
        ar5 = Footprints(session, library, family="ghg_co2_grid", gwp_set="AR5").shipment(shipment_id)
    except GreenledgerError as exc:
        return {**out, "footprint_direct_kg_co2e_per_t_ar6": None, "footprint_direct_kg_co2e_per_t_ar5": None,
                "consistent": None, "explanation": f"footprint not available: {exc}"}
    return {**out,
            "footprint_direct_kg_co2e_per_t_ar6": s(ar6.market_per_tonne.direct, KG_CO2E),
            "footprint_direct_kg_co2e_per_t_ar5": s(ar5.market_per_tonne.direct, KG_CO2E),
            "consistent": abs(ar5.market.direct - attributed - non_cbam) < Decimal("0.000001")}


def missing_json(lines: Sequence[Line]) -> list[dict[str, str]]:
    """What a complete communication template asks for and the ledger does not hold."""
    items = [
        ("A_InstData", "installation street address, city, post code, UN/LOCODE and coordinates",
         "facilities hold the province (ISO 3166-2) only"),
        ("A_InstData", "operator contact person, e-mail and telephone; authorised representative",
         "parties hold name, roles and USCC only"),
        ("A_InstData", "operator/installation identifier in the EU CBAM registry",
         "not modelled; the USCC is given as the operator's identifier"),
        ("A_InstData", "importer's EORI number", "the buyer party has no identifier in the ledger"),
        ("A_InstData", "verification of the embedded emissions by an accredited verifier",
         "the ledger's certifier attestations are not a CBAM verification opinion"),
        ("B_EmInst", "source streams with tiers, net calorific values, carbon contents or measured "
         "emission factors; installation-level emission balance",
         "fuels are priced with IPCC 2006 default factors of the library; no installation-level totals"),
        ("B_EmInst", "PFC monitoring method (slope or overvoltage), anode-effect minutes, SEF/OVC and "
         "collection efficiency", "batches record CF4 and C2F6 in kg only"),
        ("C_Emissions&Energy", "heat and waste gases imported/exported; electricity generated on site "
         "or exported", "not modelled"),
        ("C_Emissions&Energy", "the Commission's published grid emission factor for China; evidence of a "
         "direct technical link or a qualifying PPA",
         "not in the factor library; green-power trades are recorded as certificates and vouchers only"),
        ("D_Processes", "reporting period of the installation (calendar year) and attribution of "
         "installation emissions to production processes",
         "the ledger works per production batch; the period is the shipped batches' production months"),
        ("Summary", "carbon price due or paid in the country of origin (Art. 9 of Regulation (EU) 2023/956)",
         "not modelled"),
        ("Summary", "total content of elements other than aluminium",
         "batches record the grade designation, not an assay"),
    ]
    if any(ln.fig.recycled_tonnes > 0 for ln in lines):
        items.append(("Summary", "share of pre-consumer scrap", "batches record the scrap's origin as text"))
    if any(e.kind == "pact" for ln in lines for e in ln.fig.excluded):
        items.append(("E_PurchPrec", "CN code and CBAM embedded emissions of supplier-footprint inputs",
                      "a PACT footprint carries no CBAM communication"))
    return [{"template_sheet": sheet, "item": item, "reason": reason} for sheet, item, reason in items]

