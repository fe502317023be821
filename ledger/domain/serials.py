"""Certificate serials: how a registry's codes form consecutive ranges.

- ``CN-GEC``: a 32-character code; characters 1–17 identify the project (建档立卡编码),
  18–32 the electricity (FACTS §2). The inner widths of the electricity part are not
  confirmed, so greenledger does not split it further: a range is a run of consecutive codes
  that share the 17-character project part, and the 15-character electricity part counts as
  a decimal number (``[U]``: documented assumption). 1 GEC = 1 MWh.
- ``I-REC``: codes ``<prefix>-<number>``; a range shares the prefix and counts the number.

A parsed serial is ``(block, number)``; two ranges overlap only within the same registry and
block. Counting is exact integer arithmetic.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from ledger.errors import InputError

REGISTRIES = ("CN-GEC", "I-REC")
_GEC = re.compile(r"^[0-9A-Z]{17}[0-9]{15}$")
_IREC = re.compile(r"^(?P<block>[A-Za-z0-9][A-Za-z0-9-]{0,38})-(?P<n>[0-9]{1,15})$")


@dataclass(frozen=True)
class SerialRange:
    registry: str
    block: str
    first_no: int
    last_no: int
    width: int  # digits of the number part (leading zeros kept when formatting)

    @property
    def count(self) -> int:
        return self.last_no - self.first_no + 1

    def code(self, number: int) -> str:
        digits = str(number).zfill(self.width)
        return self.block + digits if self.registry == "CN-GEC" else f"{self.block}-{digits}"


def parse_serial(registry: str, code: str, *, field: str) -> tuple[str, int, int]:
    """Return ``(block, number, width)`` of one code."""
    if registry == "CN-GEC":
        if not isinstance(code, str) or not _GEC.match(code):
            raise InputError(
                f"a CN-GEC code is 32 characters: 17 of project (0-9, A-Z) and 15 digits of "
                f"electricity; got {code!r}", field=field)
        return code[:17], int(code[17:]), 15
    if registry == "I-REC":
        m = _IREC.match(code) if isinstance(code, str) else None
        if not m:
            raise InputError(f"an I-REC code is <prefix>-<number> (prefix at most 39 characters); "
                             f"got {code!r}", field=field)
        return m.group("block"), int(m.group("n")), len(m.group("n"))
    raise InputError(f"unknown registry {registry!r}; allowed: {', '.join(REGISTRIES)}",
                     field="registry")


def parse_range(registry: str, first: str, last: str, *, prefix: str = "") -> SerialRange:
    block, a, width = parse_serial(registry, first, field=f"{prefix}first")
    block2, b, width2 = parse_serial(registry, last, field=f"{prefix}last")
    if block2 != block:
        raise InputError(f"first and last must share the block {block!r} (got {block2!r})",
                         field=f"{prefix}last")
    if width2 != width:
        raise InputError(f"first and last must number with the same digits ({width} in "
                         f"{first!r}, {width2} in {last!r})", field=f"{prefix}last")
    if b < a:
        raise InputError(f"last {last} comes before first {first}", field=f"{prefix}last")
    return SerialRange(registry, block, a, b, width)
