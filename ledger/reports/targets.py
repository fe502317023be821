"""The plan's targets, with their sources: ``sample_data/targets.csv``.

Columns ``target_id,indicator,metals,applies_from,applies_to,op,value,unit,instrument,compare,
source,status,notes``:

- ``indicator``: ``green_share``, ``efficiency_benchmark_share`` or ``recycled_share`` (percent);
- ``metals``: ``*`` (the whole non-ferrous industry) or ``|``-separated batch metals (``Al``,
  ``Cu|Pb|Zn``); a facility is in scope when a batch of the period has one of them;
- ``applies_from`` / ``applies_to``: the years a report is compared with it (``applies_to``
  empty: open-ended);
- ``op``: ``>=`` (at least ``value``) or ``increase`` (a direction without a figure: ``value``
  empty, no gap computed);
- ``instrument`` (green share only): ``CN-GEC`` when only China GECs count (the aluminium
  consumption-share rule counts in GECs), ``any`` when any allocated certificate does;
- ``compare``: ``gap`` to compute the gap, ``reference`` to show the figure beside the report
  without a gap (a national supply share is not a facility's input share);
- ``source`` and ``status`` (``[C]`` / ``[U]``, FACTS.md) as everywhere in ``sample_data``.

No number without a source: loading refuses a row without one, with its line and field.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

from ledger.errors import InputError
from ledger.numbers import PERCENT, D, s

DEFAULT_PATH = Path(__file__).resolve().parents[2] / "sample_data" / "targets.csv"
COLUMNS = ("target_id", "indicator", "metals", "applies_from", "applies_to", "op", "value", "unit",
           "instrument", "compare", "source", "status", "notes")
INDICATORS = ("green_share", "efficiency_benchmark_share", "recycled_share")
OPS = (">=", "increase")
INSTRUMENTS = ("", "CN-GEC", "any")
COMPARES = ("gap", "reference")
STATUSES = ("[C]", "[U]")


@dataclass(frozen=True)
class Target:
    target_id: str
    indicator: str
    metals: tuple[str, ...]  # ("*",) = every facility
    applies_from: int
    applies_to: int | None
    op: str
    value: Decimal | None  # percent; None for ``increase``
    unit: str
    instrument: str
    compare: str
    source: str
    status: str
    notes: str = ""

    def applies(self, indicator: str, metals: Iterable[str], year: int) -> bool:
        if indicator != self.indicator or year < self.applies_from:
            return False
        if self.applies_to is not None and year > self.applies_to:
            return False
        return "*" in self.metals or bool(set(self.metals) & set(metals))

    def evaluate(self, achieved_percent: Decimal | None) -> dict[str, Any]:
        """The target beside an achieved share: ``gap_percentage_points`` = target − achieved
        (negative: exceeded), ``met``; both ``None`` for a reference, a direction without a
        figure, or nothing achieved to compare (no consumption or no computable share)."""
        gap: Decimal | None = None
        met: bool | None = None
        if self.compare == "gap" and self.value is not None and achieved_percent is not None:
            gap = self.value - achieved_percent
            met = achieved_percent >= self.value
        return {
            "target_id": self.target_id, "op": self.op,
            "value_percent": None if self.value is None else s(self.value, PERCENT),
            "instrument": self.instrument or None, "compare": self.compare,
            "achieved_percent": None if achieved_percent is None else s(achieved_percent, PERCENT),
            "gap_percentage_points": None if gap is None else s(gap, PERCENT), "met": met,
            "status": self.status, "source": self.source, "notes": self.notes,
        }


def _parse(line: int, row: dict[str, str]) -> Target:
    def bad(column: str, message: str) -> InputError:
        return InputError(f"targets.csv line {line}: {message}", field=column)

    g = {k: (row.get(k) or "").strip() for k in COLUMNS}
    for column in ("target_id", "indicator", "metals", "applies_from", "op", "unit", "compare",
                   "source", "status"):
        if not g[column]:
            raise bad(column, "is required (no number without a source)")
    if g["indicator"] not in INDICATORS:
        raise bad("indicator", f"one of {', '.join(INDICATORS)}, got {g['indicator']!r}")
    if g["op"] not in OPS:
        raise bad("op", f"one of {', '.join(OPS)}, got {g['op']!r}")
    if g["instrument"] not in INSTRUMENTS or (g["indicator"] == "green_share") != bool(g["instrument"]):
        raise bad("instrument", "CN-GEC or any for a green_share target, empty otherwise")
    if g["compare"] not in COMPARES:
        raise bad("compare", f"one of {', '.join(COMPARES)}, got {g['compare']!r}")
    if g["status"] not in STATUSES:
        raise bad("status", f"[C] or [U], got {g['status']!r}")
    if g["unit"] != "percent":
        raise bad("unit", f"targets are shares in percent, got {g['unit']!r}")
    value = D(g["value"], field="value") if g["value"] else None
    if (value is None) != (g["op"] == "increase"):
        raise bad("value", "a >= target needs a value; an increase target has none")
    try:
        first = int(g["applies_from"])
        last = int(g["applies_to"]) if g["applies_to"] else None
    except ValueError as exc:
        raise bad("applies_from", "years are four digits") from exc
    return Target(g["target_id"], g["indicator"], tuple(g["metals"].split("|")), first, last, g["op"],
                  value, g["unit"], g["instrument"], g["compare"], g["source"], g["status"],
                  g["notes"])


def load_targets(path: str | Path | None = None) -> tuple[Target, ...]:
    """Read and check ``targets.csv`` (default: the repository's ``sample_data``)."""
    path = Path(path) if path is not None else DEFAULT_PATH
    try:
        text = path.read_text(encoding="utf-8-sig")
    except OSError as exc:
        raise InputError(f"cannot read {path}: {exc.strerror}", field="targets") from exc
    reader = csv.DictReader(text.splitlines())
    if tuple(reader.fieldnames or ()) != COLUMNS:
        raise InputError(f"targets.csv header must be {','.join(COLUMNS)}", field="header")
    targets = [_parse(reader.line_num, row) for row in reader]
    ids = [t.target_id for t in targets]
    if len(set(ids)) != len(ids):
        raise InputError("duplicate target_id in targets.csv", field="target_id")
    return tuple(targets)


def applicable(targets: Sequence[Target], indicator: str, metals: Iterable[str],
               year: int) -> tuple[Target, ...]:
    metals = tuple(metals)
    return tuple(t for t in targets if t.applies(indicator, metals, year))
