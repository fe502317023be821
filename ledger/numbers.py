"""The one home of quantities.

Quantities are ``decimal.Decimal`` end to end and travel as decimal strings (``"1250.000"``)
with the unit in the field name (DESIGN §3.1). This module parses them strictly (no floats, no
exponents, no NaN) and fixes how each kind of quantity is quantized.

Rounding: results are rounded half-even only when they are presented or stored as a decimal
string; intermediate sums keep full precision (the context below has 34 digits).
"""

from __future__ import annotations

import re
from decimal import ROUND_HALF_EVEN, Context, Decimal, InvalidOperation

from ledger.errors import InputError

#: 34 significant digits (IEEE 754 decimal128): far beyond any meter's precision.
CONTEXT = Context(prec=34, rounding=ROUND_HALF_EVEN)

_DECIMAL_RE = re.compile(r"^-?(0|[1-9][0-9]*)(\.[0-9]+)?$")

# Quantization exponents for values written into entries and outputs.
MWH = Decimal("0.001")  # kWh resolution
TONNES = Decimal("0.001")  # kg resolution
KG_CO2E = Decimal("0.001")
FACTOR = Decimal("0.000001")
PERCENT = Decimal("0.01")


def D(value: str | int | Decimal, *, field: str = "value") -> Decimal:
    """Parse a decimal quantity. Accepts ``Decimal``, ``int`` or a plain decimal string.

    Floats are refused on purpose: ``0.1`` as a binary float is not 0.1.
    """
    if type(value) is str and _DECIMAL_RE.match(value):  # the common case, first
        return Decimal(value)
    if isinstance(value, bool):
        raise InputError("expected a decimal number, got a boolean", field=field)
    if isinstance(value, Decimal):
        if not value.is_finite():
            raise InputError("expected a finite decimal number", field=field)
        return value
    if isinstance(value, int):
        return Decimal(value)
    if isinstance(value, str):
        text = value.strip()
        if not _DECIMAL_RE.match(text):
            raise InputError(
                f"expected a decimal string like '1250.000', got {value!r}", field=field
            )
        try:
            return Decimal(text)
        except InvalidOperation as exc:  # pragma: no cover - the regex already guards
            raise InputError(f"not a decimal number: {value!r}", field=field) from exc
    raise InputError(
        f"expected a decimal string, got {type(value).__name__}", field=field
    )


def positive(value: str | int | Decimal, *, field: str, allow_zero: bool = False) -> Decimal:
    """Parse a quantity that must be > 0 (or >= 0 with ``allow_zero``)."""
    d = D(value, field=field)
    if d < 0 or (d == 0 and not allow_zero):
        allowed = ">= 0" if allow_zero else "> 0"
        raise InputError(f"must be {allowed}, got {d}", field=field)
    return d


def q(value: Decimal, exp: Decimal) -> Decimal:
    """Round half-even to the exponent ``exp`` (e.g. ``MWH``)."""
    return value.quantize(exp, rounding=ROUND_HALF_EVEN, context=CONTEXT)


def s(value: Decimal, exp: Decimal) -> str:
    """The decimal string of ``value`` rounded to ``exp``: what entries and payloads carry."""
    return format(q(value, exp), "f")


def div(a: Decimal, b: Decimal) -> Decimal:
    """Division in the module's context (34 digits, half-even), whatever the caller's context."""
    return CONTEXT.divide(a, b)
