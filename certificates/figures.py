"""The figures a declaration prints, read from its signed payload — one definition for the
PDF renderer and for the verifier.

DESIGN §6 asks the verifier to check that "the payload's numbers equal the printed ones". That
check is only as good as the agreement between what the renderer prints and what the
verifier looks for, so both call :func:`printed_figures`: the renderer prints each returned
line verbatim (one line per figure, in a single full-width cell so that text extraction keeps
label and value together), and the verifier extracts the PDF's text and looks for each line,
ignoring whitespace only (``pdftotext`` and pypdf differ in how they space and break lines).

The figures come from the PACT payload built by :mod:`certificates.pact` (emissions in
kg CO2e per kg with 6 decimals in the greenledger extension; tonnes and MWh with 3), never
from floats: each is parsed with :func:`ledger.numbers.D`, scaled exactly (per kg × 1000 =
per tonne) and rounded half-even once, to a fixed number of decimals, with thousands
separators. Labels are bilingual like the rest of the page.
"""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any

from ledger.errors import InputError
from ledger.numbers import D, q

_THOUSAND = Decimal(1000)

#: machine label -> (printed label, decimals, unit)
FIGURES: dict[str, tuple[str, int, str]] = {
    "market_per_tonne": (
        "碳足迹（基于市场，每吨）Carbon footprint, market-based, per tonne", 3, "kg CO2e/t"),
    "location_per_tonne": (
        "碳足迹（基于位置，每吨）Carbon footprint, location-based, per tonne", 3, "kg CO2e/t"),
    "market_total": (
        "本批发运合计（基于市场）Shipment total, market-based", 3, "t CO2e"),
    "location_total": (
        "本批发运合计（基于位置）Shipment total, location-based", 3, "t CO2e"),
    "tonnes": ("发运量 Tonnes shipped", 3, "t"),
    "green_mwh": ("绿色电力 Green electricity", 3, "MWh"),
}

_WHITESPACE = re.compile(r"\s+")


def format_decimal(value: Decimal, places: int) -> str:
    """``value`` rounded half-even to ``places`` decimals, with thousands separators
    (``Decimal("5640.42125"), 3`` -> ``"5,640.421"``); never ``-0``."""
    rounded = q(value, Decimal(1).scaleb(-places))
    if rounded.is_zero():
        rounded = abs(rounded)
    return format(rounded, ",f")


def greenledger_data(payload: Any) -> dict[str, Any]:
    """The ``data`` of the payload's single greenledger extension (the one carrying the
    market- and location-based figures)."""
    if not isinstance(payload, dict):
        raise InputError("the payload is not a JSON object", field="payload")
    extensions = payload.get("extensions")
    if not isinstance(extensions, list):
        raise InputError("the payload has no extensions array", field="extensions")
    found: list[dict[str, Any]] = [
        ext["data"]
        for ext in extensions
        if isinstance(ext, dict) and isinstance(ext.get("data"), dict)
        and "marketBased" in ext["data"]
    ]
    if len(found) != 1:
        raise InputError(
            f"expected one greenledger extension, found {len(found)}", field="extensions"
        )
    return found[0]


def ledger_part(payload: Any) -> dict[str, Any] | None:
    """The ledger binding of the payload (``extensions[*].data.ledger``), if any."""
    ledger = greenledger_data(payload).get("ledger")
    if ledger is None:
        return None
    if not isinstance(ledger, dict):
        raise InputError("the ledger part is not a JSON object", field="ledger")
    return ledger


def _member(obj: Any, *path: str) -> Any:
    for name in path:
        if not isinstance(obj, dict) or name not in obj:
            raise InputError("missing in the payload", field=".".join(path))
        obj = obj[name]
    return obj


def figure_values(payload: Any) -> dict[str, Decimal]:
    """The exact values behind :data:`FIGURES`, in their printed units."""
    data = greenledger_data(payload)
    market_kg = D(_member(data, "marketBased", "total"), field="marketBased.total")
    location_kg = D(_member(data, "locationBased", "total"), field="locationBased.total")
    tonnes = D(_member(data, "shipment", "tonnes"), field="shipment.tonnes")
    green = D(_member(data, "greenMwh"), field="greenMwh")
    return {
        "market_per_tonne": market_kg * _THOUSAND,
        "location_per_tonne": location_kg * _THOUSAND,
        "market_total": market_kg * tonnes,  # kg/kg x t = t CO2e
        "location_total": location_kg * tonnes,
        "tonnes": tonnes,
        "green_mwh": green,
    }


def printed_figures(payload: Any) -> dict[str, str]:
    """Machine label -> the exact line the PDF prints for it, e.g.
    ``"发运量 Tonnes shipped: 1,250.000 t"``. Raises :class:`InputError` on a malformed
    payload."""
    values = figure_values(payload)
    return {
        name: f"{label}: {format_decimal(values[name], places)} {unit}"
        for name, (label, places, unit) in FIGURES.items()
    }


def squeeze(text: str) -> str:
    """Text without any whitespace: how printed lines and extracted text are compared."""
    return _WHITESPACE.sub("", text)


def missing_figures(payload: Any, extracted_text: str) -> list[str]:
    """Labels of the printed figures not found in ``extracted_text`` (whitespace ignored)."""
    haystack = squeeze(extracted_text)
    return [name for name, line in printed_figures(payload).items()
            if squeeze(line) not in haystack]
