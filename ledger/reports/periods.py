"""Reporting periods: a calendar year, quarter or month, and which batches fall in one.

A batch belongs to the period that contains the last day of its production (``period_end``),
the same day that fixes its production year for grid factors (``footprint_model``) and for
the allocation rule on certificate vintages (``domain/allocation.py``). A batch spanning two
months is therefore reported once, in the month it ended; nothing is split pro rata, so every
tonne and kWh is counted in exactly one period.
"""

from __future__ import annotations

from dataclasses import dataclass

from ledger.errors import InputError

KINDS = ("year", "quarter", "month")


def month_index(yyyymm: str) -> int:
    return int(yyyymm[:4]) * 12 + int(yyyymm[5:7]) - 1


def month_text(index: int) -> str:
    return f"{index // 12:04d}-{index % 12 + 1:02d}"


def months_between(start: str, end: str) -> tuple[str, ...]:
    """Every ``YYYY-MM`` from the month of ``start`` to the month of ``end`` (dates or months)."""
    return tuple(month_text(i) for i in range(month_index(start[:7]), month_index(end[:7]) + 1))


@dataclass(frozen=True)
class Period:
    """A reporting period. ``kind`` is ``year``, ``quarter`` or ``month``; ``number`` the
    quarter (1-4) or month (1-12), ``None`` for a year."""

    kind: str
    year: int
    number: int | None = None

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise InputError(f"a period is one of {', '.join(KINDS)}, got {self.kind!r}", field="period")
        if not 1900 <= self.year <= 9999:
            raise InputError(f"a year has four digits, got {self.year}", field="year")
        limit = {"year": None, "quarter": 4, "month": 12}[self.kind]
        if limit is None and self.number is not None:
            raise InputError("a year period takes no quarter or month number", field="period")
        if limit is not None and (self.number is None or not 1 <= self.number <= limit):
            raise InputError(f"a {self.kind} number is 1-{limit}, got {self.number}", field=self.kind)

    @classmethod
    def of_year(cls, year: int, month: int | None = None) -> Period:
        return cls("year", year) if month is None else cls("month", year, month)

    @property
    def first_month(self) -> str:
        if self.kind == "year":
            return f"{self.year:04d}-01"
        if self.kind == "quarter":
            assert self.number is not None
            return f"{self.year:04d}-{3 * self.number - 2:02d}"
        return f"{self.year:04d}-{self.number:02d}"

    @property
    def last_month(self) -> str:
        span = {"year": 12, "quarter": 3, "month": 1}[self.kind]
        return month_text(month_index(self.first_month) + span - 1)

    @property
    def label(self) -> str:
        """``2025``, ``2025-Q1`` or ``2025-03``: the period's stable key in exports."""
        if self.kind == "year":
            return f"{self.year:04d}"
        if self.kind == "quarter":
            return f"{self.year:04d}-Q{self.number}"
        return self.first_month

    @property
    def first_day(self) -> str:
        return f"{self.first_month}-01"

    @property
    def after_last_day(self) -> str:
        """The first day after the period: batches with ``first_day <= period_end < this``."""
        return f"{month_text(month_index(self.last_month) + 1)}-01"

    def months(self) -> tuple[str, ...]:
        return months_between(self.first_month, self.last_month)

    def subperiods(self, kind: str) -> tuple[Period, ...]:
        """The quarters or months of a year (the period itself for its own kind)."""
        if kind == self.kind:
            return (self,)
        if self.kind != "year" or kind not in ("quarter", "month"):
            raise InputError(f"a {self.kind} does not split into {kind}s", field="period")
        return tuple(Period(kind, self.year, n) for n in range(1, (4 if kind == "quarter" else 12) + 1))

    def to_json(self) -> dict[str, object]:
        return {"kind": self.kind, "year": self.year, "number": self.number, "label": self.label,
                "first_month": self.first_month, "last_month": self.last_month}
