"""The CBAM communication as an XLSX workbook, sheets named after the EU communication template
for installations (Summary_Communication, A_InstData, C_Emissions&Energy, D_Processes,
E_PurchPrec) plus Defaults_Comparison, Reconciliation, Rules and Missing_Data.

It writes the JSON-ready document of :func:`certificates.cbam.cbam_communication` as it is:
every decimal string becomes a number cell (``Decimal``) with a number format, so the workbook
holds the same figures as the JSON. openpyxl accepts ``Decimal`` and serialises it through
``float`` (an Excel number is an IEEE-754 double): that conversion happens only at this
presentation boundary, on values already quantized by the document, and the JSON keeps the exact
strings. Headers are frozen and columns sized to their content.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from ledger.numbers import D

PER_T = "0.000000"
TOTAL = "#,##0.000"
PCT = "0.00"
FACTOR = "0.0000"
INT = "0"
TEXT = "@"
MAX_WIDTH = 60
HEADER_FILL = PatternFill("solid", fgColor="DDEBF7")


@dataclass(frozen=True)
class Col:
    """A column: header, how to read the value from a row, number format (``None``: text)."""

    header: str
    get: Callable[[dict[str, Any]], Any]
    fmt: str | None = None


def _num(value: Any) -> Decimal | None:
    return None if value is None else D(str(value))


def _cell_value(value: Any, fmt: str | None) -> Any:
    if value is None:
        return None
    if isinstance(value, bool):
        return "yes" if value else "no"
    if fmt is not None and fmt != TEXT:
        return _num(value)
    return value if isinstance(value, int | str | Decimal) else str(value)


def _table(ws: Worksheet, cols: Sequence[Col], rows: Iterable[dict[str, Any]]) -> int:
    """Write a header row and ``rows``; freeze the header; return the next free row."""
    for j, c in enumerate(cols, start=1):
        cell = ws.cell(row=1, column=j, value=c.header)
        cell.font = Font(bold=True)
        cell.fill = HEADER_FILL
        cell.alignment = Alignment(wrap_text=True, vertical="top")
    r = 1
    for r, row in enumerate(rows, start=2):
        for j, c in enumerate(cols, start=1):
            cell = ws.cell(row=r, column=j, value=_cell_value(c.get(row), c.fmt))
            if c.fmt and c.fmt != TEXT:
                cell.number_format = c.fmt
            elif isinstance(cell.value, Decimal):  # a quantity in a key/value table
                cell.number_format = TOTAL
            cell.alignment = Alignment(vertical="top", wrap_text=c.fmt is None)
    ws.freeze_panes = "A2"
    _widths(ws, cols)
    return r + 1


def _widths(ws: Worksheet, cols: Sequence[Col]) -> None:
    for j, c in enumerate(cols, start=1):
        letter = get_column_letter(j)
        longest = max((len(str(cell.value)) for cell in ws[letter] if cell.value is not None), default=8)
        header = max(len(w) for w in c.header.split())
        ws.column_dimensions[letter].width = min(MAX_WIDTH, max(10, header + 2, longest + 2))


def _k(*path: str) -> Callable[[dict[str, Any]], Any]:
    def get(row: dict[str, Any]) -> Any:
        value: Any = row
        for key in path:
            value = None if value is None else value.get(key)
        return value
    return get


def _factor_source(g: dict[str, Any]) -> str:
    return "; ".join(f"{f['factor_id']} = {f['value']} {f['unit']} ({f['source']}, {f['year']}) {f['status']}"
                     for f in g["electricity"]["factors"])


SUMMARY = (
    Col("CN code", _k("cn_code"), TEXT), Col("Product", _k("product")),
    Col("Aggregated goods category", _k("aggregated_goods_category")),
    Col("Production route", _k("production_route")), Col("Tonnes", _k("tonnes"), TOTAL),
    Col("Specific direct embedded emissions (t CO2e/t)", _k("specific_direct_t_co2e_per_t"), PER_T),
    Col("Specific indirect embedded emissions (t CO2e/t)", _k("specific_indirect_t_co2e_per_t"), PER_T),
    Col("Determination method direct", lambda g: f"{g['direct_determination']['method']}: "
        f"{g['direct_determination']['basis']}"),
    Col("Determination method indirect", lambda g: f"{g['indirect_determination']['method']}: "
        f"{g['indirect_determination']['basis']}"),
    Col("Electricity consumed (MWh/t)", _k("electricity", "mwh_per_t"), PER_T),
    Col("Electricity consumed (MWh)", _k("electricity", "mwh"), TOTAL),
    Col("Emission factor electricity (t CO2/MWh)", _k("electricity", "emission_factor_t_co2_per_mwh"),
        FACTOR),
    Col("Source of emission factor", _factor_source),
    Col("Electricity contract basis", _k("electricity", "contract_basis")),
    Col("Green certificates, information only (MWh)",
        _k("electricity", "green_certificates_information", "green_mwh"), TOTAL),
    Col("PFC CF4 + C2F6 (t CO2e/t, AR5)", _k("pfc", "total_t_co2e_per_t"), PER_T),
    Col("Scrap (t per t product)", _k("qualifying_parameters", "scrap_t_per_t"), PER_T),
    Col("Pre-consumer scrap (%)", _k("qualifying_parameters", "pre_consumer_scrap_percent"), PCT),
    Col("Elements other than Al (%)", _k("qualifying_parameters", "other_elements_percent"), PCT),
    Col("Qualifying parameters", lambda g: f"{g['qualifying_parameters']['pre_consumer_scrap_note']}; "
        f"{g['qualifying_parameters']['other_elements_note']}"),
    Col("Period start", _k("reporting_period", "start"), TEXT),
    Col("Period end", _k("reporting_period", "end"), TEXT),
    Col("Counted in CBAM obligation", _k("counted_in_cbam_obligation")),
)

D_PROCESSES = (
    Col("Batch", _k("batch_id"), TEXT), Col("CN code", _k("cn_code"), TEXT), Col("Product", _k("product")),
    Col("Production route", _k("production_route")), Col("Facility", _k("facility"), TEXT),
    Col("Period start", _k("period_start"), TEXT), Col("Period end", _k("period_end"), TEXT),
    Col("Tonnes produced", _k("tonnes_produced"), TOTAL), Col("Tonnes shipped", _k("tonnes_shipped"), TOTAL),
    Col("Attributed direct (t CO2e)", _k("attributed_direct_t_co2e"), TOTAL),
    Col("Attributed direct (t CO2e/t)", _k("attributed_direct_t_co2e_per_t"), PER_T),
    Col("Specific direct (t CO2e/t)", _k("specific_direct_t_co2e_per_t"), PER_T),
    Col("Specific indirect (t CO2e/t)", _k("specific_indirect_t_co2e_per_t"), PER_T),
    Col("Electricity (MWh/t)", _k("electricity_mwh_per_t"), PER_T),
    Col("Scrap (t)", _k("recycled_tonnes"), TOTAL), Col("Scrap origin", _k("recycled_origin")),
    Col("Grade", _k("grade")),
    Col("Relevant precursors", lambda b: "; ".join(f"{p['batch_id']} ({p['cn_code']}) {p['tonnes']} t"
                                                   for p in b["precursors"]) or "none"),
    Col("Inputs that are not relevant precursors", lambda b: "; ".join(
        f"{e['ref']} {e['amount']} {e['unit']}: {e['reason']}" for e in b["excluded_inputs"])),
    Col("Ledger entry seq", _k("entry_seq"), INT),
)

E_PURCHPREC = (
    Col("Consuming batch", _k("consumer"), TEXT), Col("Precursor batch", _k("batch_id"), TEXT),
    Col("CN code", _k("cn_code"), TEXT), Col("Facility", _k("facility"), TEXT),
    Col("Country", _k("country"), TEXT), Col("Tonnes used", _k("tonnes"), TOTAL),
    Col("SEE direct (t CO2e/t)", _k("see_direct_t_co2e_per_t"), PER_T),
    Col("SEE indirect (t CO2e/t)", _k("see_indirect_t_co2e_per_t"), PER_T),
    Col("Zero-rated (EU origin)", _k("zero_rated")),
)

DEFAULTS = (
    Col("CN code", _k("cn_code"), TEXT), Col("Description", _k("description")), Col("Country", _k("country")),
    Col("Tonnes", _k("tonnes"), TOTAL),
    Col("Default direct (t CO2e/t)", _k("default_direct_t_co2e_per_t"), PER_T),
    Col("Mark-up year", _k("markup_year_applied"), INT), Col("Mark-up", _k("markup_fraction"), "0%"),
    Col("Default with mark-up (t CO2e/t)", _k("default_direct_with_markup_t_co2e_per_t"), PER_T),
    Col("Default total (t CO2e)", _k("default_direct_total_t_co2e"), TOTAL),
    Col("Actual direct (t CO2e/t)", _k("actual_direct_t_co2e_per_t"), PER_T),
    Col("Actual total (t CO2e)", _k("actual_direct_total_t_co2e"), TOTAL),
    Col("Difference (t CO2e/t)", _k("difference_t_co2e_per_t"), PER_T),
    Col("Difference (t CO2e)", _k("difference_t_co2e"), TOTAL),
    Col("Difference (% of default)", _k("difference_percent"), PCT),
    Col("Source", _k("source")), Col("Status", _k("status")), Col("Note", _k("note")),
)

KEY_VALUE = (Col("Field", _k("field")), Col("Value", _k("value")), Col("Note", _k("note")))


def _emissions_rows(batches: list[dict[str, Any]]) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    for b in batches:
        base = {"batch": b["batch_id"], "cn": b["cn_code"], "produced": b["tonnes_produced"],
                "shipped": b["tonnes_shipped"]}
        for f in b["fuels"]:
            rows.append({**base, "stream": "fuel (CO2)", "item": f["fuel"], "amount": f["amount"],
                         "unit": f["unit"], "factor": f["co2_factor"], "factor_unit": f["co2_factor_unit"],
                         "source": f"{f['co2_factor_id']}: {f['co2_factor_source']}", "t": f["co2_t"],
                         "counted": "direct"})
            rows.append({**base, "stream": "fuel (CH4, N2O)", "item": f["fuel"], "amount": f["amount"],
                         "unit": f["unit"], "source": "not CBAM gases for aluminium (AR5)",
                         "t": f["ch4_n2o_t_co2e_not_counted"], "counted": "no"})
        for g in b["process_emissions"]:
            rows.append({**base, "stream": "process emission", "item": g["gas"], "amount": g["kg"],
                         "unit": "kg", "factor": g["gwp"], "factor_unit": "t CO2e/t (GWP)",
                         "source": g["gwp_factor_id"], "t": g["t_co2e"],
                         "counted": "direct" if g["counted"] else "no"})
        rows.append({**base, "stream": "electricity", "item": "metered consumption",
                     "amount": b["electricity_mwh"], "unit": "MWh", "factor": b["grid_factor_t_co2_per_mwh"],
                     "factor_unit": "t CO2/MWh",
                     "source": b["grid_factor_id"], "t": b["attributed_indirect_t_co2e"],
                     "counted": "indirect: reported, not counted for aluminium"})
        for c in b["green_certificates_information"]:
            rows.append({**base, "stream": "green certificates (information)",
                         "item": f"{c['registry']} {c['technology']}", "amount": c["mwh"], "unit": "MWh",
                         "counted": "no: not accepted to lower CBAM emissions"})
        if b["green_certificates_information"]:
            rows.append({**base, "stream": "green-power vouchers (information)", "item": "voucher-covered",
                         "amount": b["voucher_covered_mwh"], "unit": "MWh",
                         "counted": "no: not accepted to lower CBAM emissions"})
    return rows


EMISSIONS = (
    Col("Batch", _k("batch"), TEXT), Col("CN code", _k("cn"), TEXT),
    Col("Tonnes produced", _k("produced"), TOTAL), Col("Tonnes shipped", _k("shipped"), TOTAL),
    Col("Stream", _k("stream")), Col("Item", _k("item")), Col("Amount", _k("amount"), TOTAL),
    Col("Unit", _k("unit")), Col("Factor", _k("factor"), FACTOR), Col("Factor unit", _k("factor_unit")),
    Col("Factor / source", _k("source")), Col("Emissions (t CO2e), whole batch", _k("t"), TOTAL),
    Col("Counted in CBAM", _k("counted")),
)


def _inst_rows(doc: dict[str, Any]) -> list[dict[str, Any]]:
    sh, inst, op, per = doc["shipment"], doc["installation"], doc["operator"], doc["reporting_period"]
    ob = doc["obligation"]
    return [
        {"field": "Shipment", "value": sh["shipment_id"], "note": f"ledger entry seq {sh['entry_seq']}"},
        {"field": "Shipment date", "value": sh["date"]},
        {"field": "Destination country", "value": sh["destination_country"]},
        {"field": "Importer (buyer)", "value": sh["buyer_name"], "note": sh["buyer"]},
        {"field": "Tonnes shipped (t)", "value": _num(sh["tonnes"])},
        {"field": "Installation name", "value": inst["name"], "note": inst["facility_id"]},
        {"field": "Production process", "value": inst["process"]},
        {"field": "Province", "value": inst["province"]},
        {"field": "Grid region", "value": inst["grid_region"]},
        {"field": "Country", "value": inst["country"]},
        {"field": "Address", "value": inst["address"] or "not held", "note": inst["address_note"]},
        {"field": "Operator", "value": op["name"], "note": op["party_id"]},
        {"field": "Operator identifier", "value": op["identifier"]["value"] or "not held",
         "note": op["identifier"]["scheme"]},
        {"field": "Reporting period", "value": f"{per['start']} to {per['end']}", "note": per["basis"]},
        {"field": "CBAM obligation", "value": f"{ob['counted_emissions']} emissions only ({ob['year']})",
         "note": f"{ob['statement']} Source: {ob['source']}"},
        {"field": "GWP set", "value": doc["gwp_set"]},
        {"field": "JSON Schema", "value": doc["$schema"]},
    ]


def _recon_rows(rec: dict[str, Any]) -> list[dict[str, Any]]:
    keys = ("footprint_direct_kg_co2e_per_t_ar6", "footprint_direct_kg_co2e_per_t_ar5",
            "non_cbam_gases_kg_co2e_per_t_ar5", "cbam_attributed_direct_kg_co2e_per_t",
            "precursors_direct_kg_co2e_per_t", "cbam_specific_direct_kg_co2e_per_t")
    rows: list[dict[str, Any]] = [{"item": k, "value": rec[k]} for k in keys]
    rows.append({"item": "consistent", "text": rec["consistent"]})
    rows.append({"item": "footprint_command", "text": rec["footprint_command"]})
    rows.append({"item": "explanation", "text": rec["explanation"]})
    return rows


RECON = (Col("Item", _k("item")), Col("kg CO2e per t", _k("value"), TOTAL), Col("Text", _k("text")))
RULES = (Col("Rule", _k("rule_id")), Col("Statement", _k("statement")), Col("Source", _k("source")),
         Col("Status", _k("status")))
MISSING = (Col("Template sheet", _k("template_sheet")), Col("Item", _k("item")), Col("Reason", _k("reason")))


def write_xlsx(doc: dict[str, Any], path: Path) -> None:
    """Write ``doc`` (from ``cbam_communication``) to ``path`` as an XLSX workbook."""
    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = "Summary_Communication"
    nxt = _table(ws, SUMMARY, doc["goods"])
    for i, note in enumerate(doc["notes"], start=nxt + 1):
        ws.cell(row=i, column=1, value=note).font = Font(italic=True)
    _table(wb.create_sheet("A_InstData"), KEY_VALUE, _inst_rows(doc))
    _table(wb.create_sheet("C_Emissions&Energy"), EMISSIONS, _emissions_rows(doc["batches"]))
    _table(wb.create_sheet("D_Processes"), D_PROCESSES, doc["batches"])
    precursors = [{**p, "consumer": b["batch_id"]} for b in doc["batches"] for p in b["precursors"]]
    ws = wb.create_sheet("E_PurchPrec")
    nxt = _table(ws, E_PURCHPREC, precursors)
    if not precursors:
        ws.cell(row=nxt, column=1, value="none: no input of these batches is a covered aluminium good "
                                         "(inputs that are not relevant precursors: see D_Processes)")
    _table(wb.create_sheet("Defaults_Comparison"), DEFAULTS, doc["defaults_comparison"])
    _table(wb.create_sheet("Reconciliation"), RECON, _recon_rows(doc["reconciliation"]))
    _table(wb.create_sheet("Rules"), RULES, doc["rules"])
    _table(wb.create_sheet("Missing_Data"), MISSING, doc["missing"])
    wb.save(path)
