"""Reading an entry body's fields with errors that name the field and what is allowed.

Appliers read bodies only through these functions, so every refusal reads the same way
whether it comes from the CLI import, the API or the audit's replay.
"""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal
from typing import Any

from ledger.errors import InputError
from ledger.numbers import D

_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:/-]*$")
_MONTH = re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$")
_COUNTRY = re.compile(r"^[A-Z]{2}$")
_HEX64 = re.compile(r"^[0-9a-f]{64}$")


def text(body: dict[str, Any], name: str, *, max_len: int = 200, optional: bool = False,
         prefix: str = "") -> str:
    value = body.get(name)
    if value is None or value == "":
        if optional:
            return ""
        raise InputError("is required", field=prefix + name)
    if not isinstance(value, str):
        raise InputError(f"must be a string, got {type(value).__name__}", field=prefix + name)
    if len(value) > max_len:
        raise InputError(f"at most {max_len} characters, got {len(value)}", field=prefix + name)
    return value


def ident(body: dict[str, Any], name: str, *, prefix: str = "", max_len: int = 64) -> str:
    """An id: letters, digits and . _ : / -, starting with a letter or digit; 64 characters
    (parties, facilities, batches, shipments) or what the caller's column holds."""
    value = text(body, name, max_len=max_len, prefix=prefix)
    if not _ID.match(value):
        raise InputError(f"an id is 1-{max_len} characters of letters, digits and . _ : / - "
                         f"(starting with a letter or digit); got {value!r}", field=prefix + name)
    return value


def choice(body: dict[str, Any], name: str, allowed: tuple[str, ...], *, prefix: str = "") -> str:
    value = text(body, name, prefix=prefix)
    if value not in allowed:
        raise InputError(f"must be one of {', '.join(allowed)}; got {value!r}", field=prefix + name)
    return value


def boolean(body: dict[str, Any], name: str, *, prefix: str = "") -> bool:
    value = body.get(name)
    if not isinstance(value, bool):
        raise InputError("must be true or false", field=prefix + name)
    return value


def milli(body: dict[str, Any], name: str, *, prefix: str = "", allow_zero: bool = False) -> int:
    """A decimal string with at most three decimals, as an integer of thousandths
    (MWh -> kWh, tonnes -> kg)."""
    raw = body.get(name)
    if raw is None:
        raise InputError("is required", field=prefix + name)
    if not isinstance(raw, str):
        raise InputError(f"must be a decimal string such as \"1250.000\", got {raw!r}",
                         field=prefix + name)
    value = D(raw, field=prefix + name)
    scaled = value * 1000
    if scaled != scaled.to_integral_value():
        raise InputError(f"at most three decimals (1 kWh / 1 kg), got {raw}", field=prefix + name)
    if value < 0 or (value == 0 and not allow_zero):
        raise InputError(f"must be {'>= 0' if allow_zero else '> 0'}, got {raw}",
                         field=prefix + name)
    return int(scaled)


def from_milli(value: int) -> str:
    """The decimal string of an integer of thousandths: 1250000 -> "1250.000"."""
    sign = "-" if value < 0 else ""
    whole, frac = divmod(abs(value), 1000)
    return f"{sign}{whole}.{frac:03d}"


def milli_to_decimal(value: int) -> Decimal:
    return Decimal(value) / 1000


def month(body: dict[str, Any], name: str, *, prefix: str = "") -> str:
    value = text(body, name, max_len=7, prefix=prefix)
    if not _MONTH.match(value):
        raise InputError(f"a month is YYYY-MM, got {value!r}", field=prefix + name)
    return value


def day(body: dict[str, Any], name: str, *, prefix: str = "") -> date:
    value = text(body, name, max_len=10, prefix=prefix)
    try:
        return date.fromisoformat(value)
    except ValueError as exc:
        raise InputError(f"a date is YYYY-MM-DD, got {value!r}", field=prefix + name) from exc


def country(body: dict[str, Any], name: str, *, prefix: str = "") -> str:
    value = text(body, name, max_len=40, prefix=prefix)
    if not _COUNTRY.match(value):
        raise InputError(f"an ISO 3166-1 alpha-2 code such as CN or DE, got {value!r}",
                         field=prefix + name)
    return value


def sha256_hex(body: dict[str, Any], name: str, *, prefix: str = "", optional: bool = False) -> str:
    value = text(body, name, max_len=64, optional=optional, prefix=prefix)
    if value and not _HEX64.match(value):
        raise InputError("a SHA-256 is 64 lower-case hex digits", field=prefix + name)
    return value


def items(body: dict[str, Any], name: str, *, prefix: str = "", optional: bool = True,
          ) -> list[dict[str, Any]]:
    value = body.get(name, [] if optional else None)
    if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
        raise InputError("must be a list of objects", field=prefix + name)
    if not value and not optional:
        raise InputError("needs at least one item", field=prefix + name)
    return value


def add_months(yyyymm: str, months: int) -> str:
    y, m = int(yyyymm[:4]), int(yyyymm[5:7])
    total = y * 12 + (m - 1) + months
    return f"{total // 12:04d}-{total % 12 + 1:02d}"
