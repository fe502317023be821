"""CBAM figures of one production batch: what the EU methodology counts, from the ledger's
monitored data (rules and sources in :mod:`certificates.cbam_rules`).

A batch's *attributed* direct emissions are the CO2 of its recorded fuels plus its recorded
process emissions of CBAM gases (CO2, CF4, C2F6), the PFCs converted at AR5. CH4 and N2O of
combustion are not CBAM gases for aluminium: they are kept apart (``non_cbam_kg_co2e``) so that
``attributed + non_cbam`` reproduces the footprint engine's ``direct`` at AR5 to the last digit.
Attributed indirect emissions are the metered MWh times the country's average grid factor
(never the batch's green certificates).

Specific embedded emissions follow Implementing Regulation (EU) 2025/2547 Annex III point B:
``SEE = (attributed + Σ M_i × SEE_i) / tonnes`` for direct and indirect separately, where the
precursors *i* are the batch's ``batch:`` inputs whose CN code is a covered aluminium good
(unwrought aluminium or aluminium products), computed recursively. Every other input (alumina,
anode materials, fluoride, purchased materials, supplier footprints) is listed as excluded,
with the reason. Quantities are ``Decimal`` at full precision (``numbers.CONTEXT``); nothing is
rounded here.

The batch's recorded data are read from its projection row (``details`` holds the entry's fuels,
process emissions and inputs); the green certificates, shown for information only, come from
the allocation and certificate rows and, for voucher coverage, from the footprint engine.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from decimal import Decimal, localcontext

from sqlalchemy import select
from sqlmodel import Session, col

from certificates.cbam_rules import CBAM_GASES, CBAM_GWP_SET, EU27, heading, is_covered
from ledger.domain.fields import milli_to_decimal
from ledger.domain.footprints import Footprints
from ledger.domain.tables import Allocation, Batch, Certificate, Facility
from ledger.errors import GreenledgerError, NotFound, RuleViolation
from ledger.factors import Factor, FactorChoice, FactorLibrary
from ledger.footprint_model import FuelUse, MaterialInput, ProcessEmission
from ledger.numbers import CONTEXT, D, div

KWH_PER_MWH = Decimal(1000)
ZERO = Decimal(0)
_GRADE_RE = re.compile(r"Al\s?(99(?:\.[0-9]+)?)")
MAX_TIERS = 20


@dataclass(frozen=True)
class FuelCo2:
    fuel: str
    amount: Decimal
    unit: str
    co2_kg: Decimal
    factor: Factor
    non_cbam_kg_co2e: Decimal  # CH4 and N2O of this fuel at AR5 (not CBAM gases)


@dataclass(frozen=True)
class GasEmission:
    gas: str
    kg: Decimal
    gwp: Factor
    kg_co2e: Decimal
    counted: bool  # a CBAM gas of aluminium


@dataclass(frozen=True)
class Precursor:
    batch_id: str
    cn_code: str
    facility: str
    country: str
    tonnes: Decimal
    see_direct_kg_per_t: Decimal
    see_indirect_kg_per_t: Decimal
    zero_rated: bool  # originates in the Union


@dataclass(frozen=True)
class ExcludedInput:
    kind: str
    ref: str
    amount: Decimal
    unit: str
    reason: str


@dataclass(frozen=True)
class GreenInfo:
    """Green certificates allocated to a batch, per registry and technology (information only)."""

    registry: str
    technology: str
    mwh: Decimal


@dataclass(frozen=True)
class BatchCbam:
    """One batch's CBAM figures (kg, MWh, tonnes at full precision)."""

    batch: Batch
    facility: Facility
    tonnes: Decimal
    electricity_mwh: Decimal
    recycled_tonnes: Decimal
    fuels: tuple[FuelCo2, ...]
    gases: tuple[GasEmission, ...]
    grid: FactorChoice
    province_grid: FactorChoice | None  # the provincial average, for information only
    precursors: tuple[Precursor, ...]
    excluded: tuple[ExcludedInput, ...]
    green: tuple[GreenInfo, ...]
    green_mwh: Decimal
    voucher_covered_mwh: Decimal | None  # None: the footprint engine could not price the batch

    @property
    def attributed_direct_kg(self) -> Decimal:
        with localcontext(CONTEXT):
            return (sum((f.co2_kg for f in self.fuels), ZERO)
                    + sum((g.kg_co2e for g in self.gases if g.counted), ZERO))

    @property
    def non_cbam_kg_co2e(self) -> Decimal:
        with localcontext(CONTEXT):
            return (sum((f.non_cbam_kg_co2e for f in self.fuels), ZERO)
                    + sum((g.kg_co2e for g in self.gases if not g.counted), ZERO))

    @property
    def attributed_indirect_kg(self) -> Decimal:
        with localcontext(CONTEXT):
            return self.electricity_mwh * KWH_PER_MWH * self.grid.factor.value

    def pfc_kg_co2e(self, gas: str) -> Decimal:
        return sum((g.kg_co2e for g in self.gases if g.gas == gas), ZERO)

    def pfc_kg(self, gas: str) -> Decimal:
        return sum((g.kg for g in self.gases if g.gas == gas), ZERO)

    @property
    def precursors_direct_kg(self) -> Decimal:
        with localcontext(CONTEXT):
            return sum((p.tonnes * p.see_direct_kg_per_t for p in self.precursors if not p.zero_rated), ZERO)

    @property
    def precursors_indirect_kg(self) -> Decimal:
        with localcontext(CONTEXT):
            return sum((p.tonnes * p.see_indirect_kg_per_t for p in self.precursors if not p.zero_rated),
                       ZERO)

    @property
    def see_direct_kg_per_t(self) -> Decimal:
        return div(self.attributed_direct_kg + self.precursors_direct_kg, self.tonnes)

    @property
    def see_indirect_kg_per_t(self) -> Decimal:
        return div(self.attributed_indirect_kg + self.precursors_indirect_kg, self.tonnes)

    @property
    def production_route(self) -> str:
        process = self.facility.process.lower()
        if heading(self.batch.cn_code) != "7601":
            return f"aluminium products ({self.facility.process})"
        if self.recycled_tonnes * 2 > self.tonnes:
            return "secondary melting (recycling)"
        if "electroly" in process:
            return "primary (electrolytic) smelting"
        return f"not determined from the facility's process ({self.facility.process})"

    @property
    def other_elements_max_percent(self) -> Decimal | None:
        """Upper bound of elements other than aluminium from a grade such as ``Al99.70``
        (GB/T 1196: minimum Al content), or ``None`` if the grade names no purity."""
        m = _GRADE_RE.search(self.batch.grade)
        return Decimal(100) - Decimal(m.group(1)) if m else None


class CbamBatches:
    """Computes and memoizes :class:`BatchCbam` for the batches of one session."""

    def __init__(self, session: Session, library: FactorLibrary) -> None:
        self.session, self.library = session, library
        self._cache: dict[str, BatchCbam] = {}
        self._stack: list[str] = []
        self._footprints = Footprints(session, library, family="ghg_co2_grid", gwp_set=CBAM_GWP_SET)

    def batch(self, batch_id: str) -> BatchCbam:
        if batch_id not in self._cache:
            if batch_id in self._stack or len(self._stack) >= MAX_TIERS:
                raise RuleViolation("cbam.precursor_cycle", "precursor chain is cyclic or too deep",
                                    field="inputs", limit=f"acyclic, at most {MAX_TIERS} tiers",
                                    got=" -> ".join((*self._stack, batch_id)))
            self._stack.append(batch_id)
            try:
                self._cache[batch_id] = self._compute(batch_id)
            finally:
                self._stack.pop()
        return self._cache[batch_id]

    def _compute(self, batch_id: str) -> BatchCbam:
        row = self.session.get(Batch, batch_id)
        if row is None:
            raise NotFound(f"no batch {batch_id!r}", field="batch")
        facility = self.session.get(Facility, row.facility)
        if facility is None:
            raise NotFound(f"no facility {row.facility!r} for batch {batch_id}", field="facility")
        details = json.loads(row.details)
        lib = self.library
        with localcontext(CONTEXT):
            gwp = {g: lib.gwp(g, CBAM_GWP_SET) for g in ("CO2", "CH4", "N2O", "CF4", "C2F6")}
            fuels = []
            for i, raw in enumerate(details["fuels"]):
                f = FuelUse(raw["fuel"], D(raw["amount"], field=f"fuels[{i}].amount"), raw["unit"])
                co2 = lib.combustion(f.fuel, "CO2", amount_unit=f.unit, field=f"fuels[{i}]")
                other = sum((f.amount * gwp[g].value
                             * lib.combustion(f.fuel, g, amount_unit=f.unit, field=f"fuels[{i}]").value
                             for g in ("CH4", "N2O")), ZERO)
                fuels.append(FuelCo2(f.fuel, f.amount, f.unit, f.amount * co2.value, co2, other))
            gases = []
            for i, raw in enumerate(details["process_emissions"]):
                p = ProcessEmission(raw["gas"], D(raw["kg"], field=f"process_emissions[{i}].kg"))
                if p.gas not in gwp:
                    raise NotFound(f"no GWP for process gas {p.gas!r}", field=f"process_emissions[{i}].gas")
                gases.append(GasEmission(p.gas, p.kg, gwp[p.gas], p.kg * gwp[p.gas].value,
                                         p.gas in CBAM_GASES))
        year = int(row.period_end[:4])
        grid = lib.grid("ghg_co2_grid", facility.country, year, basis="average")
        try:
            province_grid: FactorChoice | None = lib.grid("ghg_co2_grid", facility.province, year)
        except NotFound:
            province_grid = None
        inputs = [MaterialInput(i["kind"], i["ref"], D(i.get("tonnes") or i["amount"]), i.get("unit", "t"))
                  for i in details["inputs"]]
        precursors, excluded = self._inputs(inputs)
        green = self._green(batch_id)
        try:
            vouchered: Decimal | None = self._footprints.batch(batch_id).green_mwh_voucher_covered
        except GreenledgerError:
            vouchered = None
        return BatchCbam(row, facility, milli_to_decimal(row.kg), milli_to_decimal(row.electricity_kwh),
                         milli_to_decimal(row.recycled_kg), tuple(fuels), tuple(gases), grid, province_grid,
                         precursors, excluded, green, milli_to_decimal(row.allocated_kwh), vouchered)

    def _green(self, batch_id: str) -> tuple[GreenInfo, ...]:
        """Allocated certificates per registry and technology (information only)."""
        kwh: dict[tuple[str, str], int] = {}
        for a in self.session.scalars(select(Allocation).where(col(Allocation.batch_id) == batch_id)):
            cert = self.session.get(Certificate, a.certificate_id)
            key = (cert.registry_name, cert.technology) if cert else ("unknown", "unknown")
            kwh[key] = kwh.get(key, 0) + a.kwh
        return tuple(GreenInfo(reg, tech, milli_to_decimal(v)) for (reg, tech), v in sorted(kwh.items()))

    def _inputs(self, inputs: list[MaterialInput]) -> tuple[tuple[Precursor, ...], tuple[ExcludedInput, ...]]:
        precursors: list[Precursor] = []
        excluded: list[ExcludedInput] = []
        for inp in inputs:
            if inp.kind == "batch":
                up = self.session.get(Batch, inp.ref)
                if up is None:
                    raise NotFound(f"no upstream batch {inp.ref!r}", field="inputs")
                if is_covered(up.cn_code):
                    fig = self.batch(inp.ref)
                    precursors.append(Precursor(
                        inp.ref, up.cn_code, fig.facility.facility_id, fig.facility.country, inp.amount,
                        fig.see_direct_kg_per_t, fig.see_indirect_kg_per_t,
                        zero_rated=fig.facility.country in EU27))
                else:
                    excluded.append(ExcludedInput(
                        "batch", inp.ref, inp.amount, "t",
                        f"{up.product} (CN {up.cn_code}) is not a CBAM good (Annex I to Regulation (EU) "
                        "2023/956): not a relevant precursor, its emissions are outside the CBAM figure"))
            elif inp.kind == "factor" and inp.ref == "material_aluminium_scrap":
                excluded.append(ExcludedInput("factor", inp.ref, inp.amount, inp.unit,
                                              "scrap: zero embedded emissions (IR 2025/2547 Annex II F)"))
            elif inp.kind == "factor":
                excluded.append(ExcludedInput("factor", inp.ref, inp.amount, inp.unit,
                                              "purchased material priced by a library factor, not a CBAM "
                                              "good of this ledger: not a relevant precursor"))
            else:
                excluded.append(ExcludedInput(inp.kind, inp.ref, inp.amount, inp.unit,
                                              "supplier footprint (PACT): CN code unknown to the ledger; if "
                                              "it is unwrought aluminium or an aluminium product, its "
                                              "embedded emissions must be added as a precursor (not done)"))
        return tuple(precursors), tuple(excluded)


@dataclass(frozen=True)
class Line:
    """A shipment line with its batch's CBAM figures; ``share`` = shipped / produced."""

    fig: BatchCbam
    tonnes: Decimal

    @property
    def share(self) -> Decimal:
        return div(self.tonnes, self.fig.tonnes)

    def part(self, value: Decimal) -> Decimal:
        """``value`` (a whole-batch quantity) pro rata to the tonnes shipped."""
        return div(value * self.tonnes, self.fig.tonnes)
