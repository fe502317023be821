"""Presentation of report quantities: integer kWh / kg of the projections to decimal strings, and
shares in percent (``None`` where the whole is zero: no consumption is not 0 % green).

Sums stay exact integers (kWh, kg) until presented; shares use ``numbers.div`` (34 digits,
half-even) and are quantized only here, as the footprint's ``to_json`` does.
"""

from __future__ import annotations

from decimal import Decimal

from ledger.numbers import MWH, PERCENT, TONNES, div, s

HUNDRED = Decimal(100)


def mwh(kwh: int | Decimal) -> str:
    """``1250000`` kWh -> ``"1250.000"`` MWh."""
    return s(Decimal(kwh) / 1000, MWH)


def tonnes(kg: int | Decimal) -> str:
    """``1520000`` kg -> ``"1520.000"`` t."""
    return s(Decimal(kg) / 1000, TONNES)


def percent(part: int | Decimal, whole: int | Decimal) -> Decimal | None:
    if not whole:
        return None
    return div(Decimal(part) * HUNDRED, Decimal(whole))


def pct_text(value: Decimal | None) -> str | None:
    return None if value is None else s(value, PERCENT)
