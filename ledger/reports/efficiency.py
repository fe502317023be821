"""Energy-efficiency levels per batch and facility against the benchmark (标杆水平) and baseline
(基准水平) levels of ``sample_data/efficiency_benchmarks.csv`` (issue #11.2; Yunnan plan 一(三):
60 % of electrolytic aluminium and 30 % of copper, lead and zinc capacity at or above benchmark).

Mapping of a batch's ``metal`` to a benchmark row (:data:`BENCHMARK_OF_METAL`):

- ``Al`` → *electrolytic aluminium*, "AC power consumption of aluminium liquid (铝液交流电耗)",
  kWh/t. Compared per tonne of **primary** metal (batch tonnes − recycled tonnes): scrap is
  remelted, not electrolysed. The ledger meters one electricity figure per batch, not the
  electrolysis AC power alone, so the intensity here is the batch's *metered* kWh per primary
  tonne: an upper bound of 铝液交流电耗 (auxiliaries and casting are in it). A batch at or
  below the benchmark on this figure is at or below it on the narrower one; a batch above it
  might not be. Other rows of the product (the MIIT new-capacity requirement, the 2015 national
  average) are shown as references.
- ``Al2O3`` → *alumina (Bayer)*, ``Cu`` → *copper smelting*, ``Zn`` → *zinc smelting*: their levels
  are comprehensive energy consumption in **kgce/t**. Computing that needs every energy input
  (electricity, fuels, steam) converted to standard coal with sourced coefficients (GB/T 2589)
  within the standard's boundary. ``sample_data`` holds no such coefficients and greenledger
  invents none, so these facilities get their metered kWh per tonne, the benchmark for reference,
  ``comparable: false`` and a sentence saying what is missing; no level and no share.
- ``Pb`` and any other metal: no benchmark row in ``sample_data``; reported as missing.

Levels: ``benchmark_or_better`` (intensity ≤ benchmark, i.e. "at or above the benchmark level"
in the plan's words), ``between`` (≤ baseline), ``below_baseline`` (> baseline: capacity that
must upgrade or exit). The share is primary tonnes at ``benchmark_or_better`` / primary tonnes;
the plan counts *capacity*, this is an output-weighted proxy.
"""

from __future__ import annotations

import csv
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlmodel import Session, col

from ledger.domain.tables import Batch, Facility
from ledger.errors import InputError, NotFound
from ledger.numbers import D, div, s
from ledger.reports.labels import labels_for
from ledger.reports.periods import Period
from ledger.reports.quantities import mwh, pct_text, percent, tonnes
from ledger.reports.targets import Target, applicable, load_targets

DEFAULT_PATH = Path(__file__).resolve().parents[2] / "sample_data" / "efficiency_benchmarks.csv"
COLUMNS = ("product", "indicator", "benchmark_value", "baseline_value", "unit", "source", "status",
           "notes")
INTENSITY = Decimal("0.001")  # kWh/t, presentation
LEVELS = ("benchmark_or_better", "between", "below_baseline")
COMPARABLE_UNITS = ("kWh/t Al",)

#: batch metal -> (benchmark product, the indicator the level is judged on, prefix match)
BENCHMARK_OF_METAL: dict[str, tuple[str, str]] = {
    "Al": ("electrolytic aluminium", "AC power consumption of aluminium liquid"),
    "Al2O3": ("alumina (Bayer)", "Comprehensive energy consumption"),
    "Cu": ("copper smelting", "Comprehensive energy consumption"),
    "Zn": ("zinc smelting", "Comprehensive energy consumption"),
}
#: metals whose intensity is compared per tonne of primary (electrolysed) metal
PRIMARY_BASIS = ("Al",)

MISSING_KGCE = ("the benchmark is comprehensive energy consumption in {unit}: it needs every energy "
                "input (electricity, fuels, steam) converted to standard coal with sourced "
                "coefficients (GB/T 2589) within the standard's boundary; sample_data holds no such "
                "coefficients and greenledger invents none, so only metered kWh per tonne is "
                "reported, with no level and no share")
MISSING_ROW = "no benchmark row for metal {metal!r} in sample_data/efficiency_benchmarks.csv"


@dataclass(frozen=True)
class Benchmark:
    product: str
    indicator: str
    benchmark_value: Decimal | None
    baseline_value: Decimal | None
    unit: str
    source: str
    status: str
    notes: str

    def to_json(self) -> dict[str, Any]:
        def text(value: Decimal | None) -> str | None:
            return None if value is None else format(value, "f")

        return {"product": self.product, "indicator": self.indicator,
                "benchmark_value": text(self.benchmark_value), "baseline_value": text(self.baseline_value),
                "unit": self.unit, "source": self.source, "status": self.status, "notes": self.notes}


def load_benchmarks(path: str | Path | None = None) -> tuple[Benchmark, ...]:
    path = Path(path) if path is not None else DEFAULT_PATH
    try:
        text = path.read_text(encoding="utf-8-sig")
    except OSError as exc:
        raise InputError(f"cannot read {path}: {exc.strerror}", field="benchmarks") from exc
    reader = csv.DictReader(text.splitlines())
    if tuple(reader.fieldnames or ()) != COLUMNS:
        raise InputError(f"efficiency_benchmarks.csv header must be {','.join(COLUMNS)}", field="header")
    out = []
    for row in reader:
        g = {k: (row.get(k) or "").strip() for k in COLUMNS}
        if not g["source"] or g["status"] not in ("[C]", "[U]"):
            raise InputError(f"efficiency_benchmarks.csv line {reader.line_num}: source and status "
                             "are required", field="source")
        out.append(Benchmark(
            g["product"], g["indicator"],
            D(g["benchmark_value"], field="benchmark_value") if g["benchmark_value"] else None,
            D(g["baseline_value"], field="baseline_value") if g["baseline_value"] else None,
            g["unit"], g["source"], g["status"], g["notes"]))
    return tuple(out)


def benchmark_for(metal: str, benchmarks: Sequence[Benchmark],
                  ) -> tuple[Benchmark | None, tuple[Benchmark, ...]]:
    """The row a metal is judged on, and the other rows of its product (references)."""
    if metal not in BENCHMARK_OF_METAL:
        return None, ()
    product, indicator = BENCHMARK_OF_METAL[metal]
    rows = [b for b in benchmarks if b.product == product]
    main = next((b for b in rows if b.indicator.startswith(indicator)), None)
    return main, tuple(b for b in rows if b is not main)


def level_of(intensity: Decimal, bench: Benchmark) -> str:
    if bench.benchmark_value is not None and intensity <= bench.benchmark_value:
        return "benchmark_or_better"
    if bench.baseline_value is not None and intensity <= bench.baseline_value:
        return "between"
    return "below_baseline"


def _intensity(kwh: int, kg: int) -> Decimal | None:
    """kWh per tonne; None without tonnes."""
    return div(Decimal(kwh) * 1000, Decimal(kg)) if kg else None


@dataclass(frozen=True)
class BatchEfficiency:
    batch_id: str
    month: str
    kg: int
    recycled_kg: int
    electricity_kwh: int
    level: str | None
    compared_kwh_per_t: Decimal | None
    primary_basis: bool

    @property
    def basis_kg(self) -> int:
        """The tonnes the intensity is compared per (kg): primary metal for aluminium."""
        return self.kg - self.recycled_kg if self.primary_basis else self.kg

    def to_json(self) -> dict[str, Any]:
        per_t = _intensity(self.electricity_kwh, self.kg)
        return {"batch_id": self.batch_id, "month": self.month, "tonnes": tonnes(self.kg),
                "recycled_tonnes": tonnes(self.recycled_kg), "electricity_mwh": mwh(self.electricity_kwh),
                "electricity_kwh_per_t": None if per_t is None else s(per_t, INTENSITY),
                "compared_kwh_per_t": None if self.compared_kwh_per_t is None
                else s(self.compared_kwh_per_t, INTENSITY),
                "level": self.level}


@dataclass
class LevelTally:
    """Tonnes (compared basis) by level; the share at benchmark or better."""

    kg: dict[str, int] = field(default_factory=lambda: dict.fromkeys(LEVELS, 0))

    def add(self, level: str, kg: int) -> None:
        self.kg[level] += kg

    @property
    def share(self) -> Decimal | None:
        return percent(self.kg["benchmark_or_better"], sum(self.kg.values()))

    def to_json(self) -> dict[str, Any]:
        return {"tonnes_by_level": {lv: tonnes(self.kg[lv]) for lv in LEVELS},
                "share_benchmark_or_better_percent": pct_text(self.share)}


@dataclass
class FacilityEfficiency:
    facility_id: str
    name: str
    metal: str
    benchmark: Benchmark | None
    references: tuple[Benchmark, ...]
    missing: str | None
    batches: list[BatchEfficiency]
    targets: tuple[Target, ...]

    @property
    def comparable(self) -> bool:
        return self.missing is None

    @property
    def tally(self) -> LevelTally | None:
        if not self.comparable:
            return None
        tally = LevelTally()
        for b in self.batches:
            if b.level is not None:
                tally.add(b.level, b.basis_kg)
        return tally

    def to_json(self) -> dict[str, Any]:
        kg = sum(b.kg for b in self.batches)
        recycled = sum(b.recycled_kg for b in self.batches)
        kwh = sum(b.electricity_kwh for b in self.batches)
        compared_kg = sum(b.basis_kg for b in self.batches if b.level is not None)
        compared_kwh = sum(b.electricity_kwh for b in self.batches if b.level is not None)
        compared = _intensity(compared_kwh, compared_kg) if self.comparable else None
        per_t = _intensity(kwh, kg)
        tally = self.tally
        share = tally.share if tally is not None else None
        return {
            "facility_id": self.facility_id, "name": self.name, "metal": self.metal,
            "comparable": self.comparable, "missing": self.missing,
            "benchmark": None if self.benchmark is None else self.benchmark.to_json(),
            "references": [r.to_json() for r in self.references],
            "basis": "primary tonnes (output - recycled)" if self.metal in PRIMARY_BASIS else "output tonnes",
            "tonnes": tonnes(kg), "recycled_tonnes": tonnes(recycled), "electricity_mwh": mwh(kwh),
            "electricity_kwh_per_t": None if per_t is None else s(per_t, INTENSITY),
            "compared_kwh_per_t": None if compared is None else s(compared, INTENSITY),
            "level": level_of(compared, self.benchmark) if compared is not None and self.benchmark else None,
            "tonnes_by_level": None if tally is None else tally.to_json()["tonnes_by_level"],
            "share_benchmark_or_better_percent": pct_text(share),
            "targets": [t.evaluate(share) for t in self.targets],
            "batches": [b.to_json() for b in self.batches],
        }


@dataclass
class EfficiencyReport:
    period: Period
    facilities: list[FacilityEfficiency]
    targets: Sequence[Target]

    def by_metal(self) -> list[dict[str, Any]]:
        tallies: dict[str, LevelTally] = defaultdict(LevelTally)
        seen: dict[str, bool] = {}
        for f in self.facilities:
            seen[f.metal] = seen.get(f.metal, True) and f.comparable
            if f.tally is not None:
                for lv, kg in f.tally.kg.items():
                    tallies[f.metal].add(lv, kg)
        out = []
        for metal in sorted(seen):
            tally = tallies[metal] if seen[metal] else None
            share = tally.share if tally is not None else None
            out.append({"metal": metal, "comparable": seen[metal],
                        "tonnes_by_level": None if tally is None else tally.to_json()["tonnes_by_level"],
                        "share_benchmark_or_better_percent": pct_text(share),
                        "targets": [t.evaluate(share) for t in applicable(
                            self.targets, "efficiency_benchmark_share", (metal,), self.period.year)]})
        return out

    def to_json(self) -> dict[str, Any]:
        return {"report": "efficiency", "period": self.period.to_json(),
                "facilities": [f.to_json() for f in self.facilities], "by_metal": self.by_metal(),
                "notes": [
                    "Aluminium is compared per tonne of primary metal (output - recycled) with the "
                    "batch's metered kWh: an upper bound of the AC power of electrolysis.",
                    "Shares are of output tonnes; the plan's targets count capacity.",
                    "Alumina, copper and zinc benchmarks are in kgce/t and are not computed "
                    "(no sourced coal-equivalent coefficients in sample_data).",
                ],
                "labels": labels_for("efficiency")}


def efficiency(session: Session, *, period: Period, facility: str | None = None,
               benchmarks: Sequence[Benchmark] | None = None,
               targets: Sequence[Target] | None = None) -> EfficiencyReport:
    """Efficiency levels of every facility (and metal) with batches ending in ``period``."""
    if facility is not None and session.get(Facility, facility) is None:
        raise NotFound(f"no facility {facility!r}", field="facility")
    benchmarks = load_benchmarks() if benchmarks is None else benchmarks
    targets = load_targets() if targets is None else targets
    b = Batch.__table__.c  # type: ignore[attr-defined]
    query = select(b.facility, b.metal, b.batch_id, b.period_end, b.kg, b.recycled_kg, b.electricity_kwh) \
        .where(b.period_end >= period.first_day, b.period_end < period.after_last_day)
    if facility is not None:
        query = query.where(b.facility == facility)
    groups: dict[tuple[str, str], list[Any]] = defaultdict(list)
    for row in session.execute(query.order_by(b.facility, b.period_end, b.batch_id)):
        groups[(row.facility, row.metal)].append(row)
    names = {f.facility_id: f.name for f in session.scalars(
        select(Facility).where(col(Facility.facility_id).in_({k[0] for k in groups})))}
    out = []
    for (fac, metal), rows in sorted(groups.items()):
        main, refs = benchmark_for(metal, benchmarks)
        missing = None
        if main is None:
            missing = MISSING_ROW.format(metal=metal)
        elif main.unit not in COMPARABLE_UNITS:
            missing = MISSING_KGCE.format(unit=main.unit)
        batches = []
        for r in rows:
            basis = r.kg - r.recycled_kg if metal in PRIMARY_BASIS else r.kg
            compared = _intensity(r.electricity_kwh, basis) if missing is None else None
            level = level_of(compared, main) if compared is not None and main is not None else None
            batches.append(BatchEfficiency(r.batch_id, r.period_end[:7], r.kg, r.recycled_kg,
                                           r.electricity_kwh, level, compared, metal in PRIMARY_BASIS))
        goals = applicable(targets, "efficiency_benchmark_share", (metal,), period.year)
        out.append(FacilityEfficiency(fac, names[fac], metal, main, refs, missing, batches, goals))
    return EfficiencyReport(period, out, targets)

