"""What the footprint engine reads and what it returns (DESIGN §4–5): frozen dataclasses of ``Decimal``.

Inputs describe one production batch as recorded (metered electricity, fuels, process gases,
material inputs, green certificates allocated to it); results keep every figure's breakdown, the
factors used and the disclosures a declaration must print. The engine itself is
``ledger/footprint.py``.

Units are in the field names (``mwh``, ``tonnes``, ``kg``, ``kg_co2e``). Quantities are parsed
strictly on construction (``numbers.D``: a ``str``, ``int`` or ``Decimal``; a binary float is
refused) so a float can never slip into a sum.

Rounding: results keep full precision (34 significant digits, ``numbers.CONTEXT``); only
:meth:`BatchFootprint.to_json` / :meth:`ShipmentFootprint.to_json` and presentation quantize,
half-even, with ``numbers.q`` (kg CO2e to 0.001, MWh to 0.001, percent to 0.01). A figure
computed from quantized parts would drift from the same figure computed in one go.

Definitions the results use (the engine fills them the same way for batches and shipments):

- ``by_gas_kg_co2e`` (market basis, kg CO2e): ``CO2``, ``CH4``, ``N2O``, ``CF4``, ``C2F6`` hold
  what is known per gas — direct emissions (fuels and process gases, times their GWP), the
  electricity of the ``ghg_co2_grid`` family (a CO2-only factor), and the same split carried in
  from upstream batches of this ledger; ``aggregate`` holds CO2e from factors that publish no
  split by gas (material factors, supplier PCFs, ``lca_power`` electricity). The six values sum
  to the market-based total (to working precision).
- ``primary_kg_co2e``: the part of the market-based total computed from data specific to this
  supply chain — metered direct emissions (fuels and process gases), electricity priced with
  the batch's own certificates (green MWh × technology factor), and the primary part of each
  input (an upstream batch's own ``primary_kg_co2e`` pro rata; a supplier PCF times its
  declared primary data share). Electricity priced with a grid or residual factor and inputs
  priced with library factors are secondary. ``primary_data_share`` = that / total, in percent.
- ``recycled_share`` = ``recycled_tonnes / tonnes`` in percent: the batch's own recorded
  recycled input (scrap) per tonne of output; recycled content of upstream batches is not
  carried through (an input such as alumina changes mass and identity on the way).
- ``green_share`` = green MWh allocated / metered MWh, in percent.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, localcontext
from typing import Any, Literal

from ledger.errors import InputError
from ledger.numbers import CONTEXT, KG_CO2E, MWH, PERCENT, TONNES, D, div, s

GAS_KEYS = ("CO2", "CH4", "N2O", "CF4", "C2F6")
AGGREGATE = "aggregate"
BY_GAS_KEYS = (*GAS_KEYS, AGGREGATE)
MATERIAL_KINDS = ("batch", "factor", "pact")
HUNDRED = Decimal(100)
ZERO = Decimal(0)


def _coerce(obj: object, *names: str) -> None:
    """Parse the named fields of a frozen dataclass as decimals (refusing floats)."""
    for name in names:
        value = getattr(obj, name)
        if type(value) is not Decimal or not value.is_finite():  # the common case costs nothing
            object.__setattr__(obj, name, D(value, field=name))


# -- inputs --------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class FuelUse:
    """Fuel burned on site: ``fuel`` is the library key (``coal``, ``natural_gas``...), ``unit``
    the denominator of its combustion factors (``t`` or ``m3``)."""

    fuel: str
    amount: Decimal
    unit: str

    def __post_init__(self) -> None:
        if type(self.amount) is not Decimal or not self.amount.is_finite():  # else: nothing to parse
            _coerce(self, "amount")


@dataclass(frozen=True, slots=True)
class ProcessEmission:
    """A process gas emitted (anode CO2, CF4, C2F6...), in kg of that gas."""

    gas: str
    kg: Decimal

    def __post_init__(self) -> None:
        if type(self.kg) is not Decimal or not self.kg.is_finite():  # else: nothing to parse
            _coerce(self, "kg")


@dataclass(frozen=True, slots=True)
class MaterialInput:
    """A material input. ``batch``: ``ref`` an upstream batch of the ledger, priced by its own
    footprint; ``factor``: ``ref`` a ``material`` factor id (kg CO2e/t); ``pact``: ``ref`` a
    supplier footprint id whose value the caller supplies. ``amount`` in tonnes."""

    kind: Literal["batch", "factor", "pact"]
    ref: str
    amount: Decimal
    unit: str = "t"

    def __post_init__(self) -> None:
        if self.kind not in MATERIAL_KINDS:
            raise InputError(f"input kind must be one of {', '.join(MATERIAL_KINDS)}, got {self.kind!r}",
                             field="kind")
        if type(self.amount) is not Decimal or not self.amount.is_finite():  # else: nothing to parse
            _coerce(self, "amount")


@dataclass(frozen=True, slots=True)
class GreenAllocation:
    """Green MWh (certificates) retired to the batch. ``voucher_covered_mwh`` is the part backed
    by a traceability voucher; ``attested`` whether a certifier checked the evidence."""

    mwh: Decimal
    technology: str
    vintage: str  # YYYY-MM, month of generation
    registry: str  # CN-GEC, I-REC...
    attested: bool = False
    voucher_covered_mwh: Decimal = ZERO

    def __post_init__(self) -> None:
        _coerce(self, "mwh", "voucher_covered_mwh")


@dataclass(frozen=True, slots=True)
class BatchFacts:
    """One production batch as recorded (DESIGN §4). The production year used to choose grid
    factors is ``period_end.year``."""

    batch_id: str
    product: str
    tonnes: Decimal
    period_start: date
    period_end: date
    electricity_mwh: Decimal
    grid_region: str  # e.g. CN-SOUTH
    province: str  # ISO 3166-2, e.g. CN-YN
    country: str  # ISO 3166-1 alpha-2, e.g. CN
    fuels: tuple[FuelUse, ...] = ()
    process_emissions: tuple[ProcessEmission, ...] = ()
    inputs: tuple[MaterialInput, ...] = ()
    green: tuple[GreenAllocation, ...] = ()
    recycled_tonnes: Decimal = ZERO

    def __post_init__(self) -> None:
        _coerce(self, "tonnes", "electricity_mwh", "recycled_tonnes")
        for name in ("fuels", "process_emissions", "inputs", "green"):
            value = getattr(self, name)
            if type(value) is not tuple:
                object.__setattr__(self, name, tuple(value))

    @property
    def production_year(self) -> int:
        return self.period_end.year


@dataclass(frozen=True)
class SupplierFootprint:
    """A supplier's product footprint (pulled over PACT): kg CO2e per kg of product and the
    share of primary data it declares, in percent."""

    ref: str
    kg_co2e_per_kg: Decimal
    source: str
    primary_data_share: Decimal

    def __post_init__(self) -> None:
        _coerce(self, "kg_co2e_per_kg", "primary_data_share")


# -- results -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Basis:
    """kg CO2e of one accounting basis (market- or location-based), split by stage."""

    upstream: Decimal
    direct: Decimal
    electricity: Decimal
    #: upstream + direct + electricity (computed on construction: every basis is summed)
    total: Decimal = field(init=False)

    def __post_init__(self) -> None:
        add = CONTEXT.add
        object.__setattr__(self, "total", add(add(self.upstream, self.direct), self.electricity))

    def scaled(self, numerator: Decimal, denominator: Decimal) -> Basis:
        """``self × numerator / denominator`` per stage (full precision)."""
        mul, d = CONTEXT.multiply, CONTEXT.divide
        return Basis(d(mul(self.upstream, numerator), denominator),
                     d(mul(self.direct, numerator), denominator),
                     d(mul(self.electricity, numerator), denominator))

    def to_json(self, suffix: str = "kg_co2e") -> dict[str, str]:
        return {f"upstream_{suffix}": s(self.upstream, KG_CO2E),
                f"direct_{suffix}": s(self.direct, KG_CO2E),
                f"electricity_{suffix}": s(self.electricity, KG_CO2E),
                f"total_{suffix}": s(self.total, KG_CO2E)}


@dataclass(frozen=True, slots=True)
class FactorUse:
    """A factor as used in a figure, with its provenance. ``used_for`` lists the roles
    (``"; "``-separated), e.g. ``electricity location-based; electricity market-based residual``."""

    factor_id: str
    name: str
    value: Decimal
    unit: str
    source: str
    year: int | None
    used_for: str
    status: str = ""

    def to_json(self) -> dict[str, Any]:
        return {"factor_id": self.factor_id, "name": self.name, "value": format(self.value, "f"),
                "unit": self.unit, "source": self.source, "status": self.status, "year": self.year,
                "used_for": self.used_for}


class _Figures:
    """Derived figures shared by batch and shipment results (all full precision)."""

    tonnes: Decimal
    market: Basis
    location: Basis
    electricity_mwh: Decimal
    green_mwh: Decimal
    green_mwh_attested: Decimal
    green_mwh_voucher_covered: Decimal
    primary_kg_co2e: Decimal
    recycled_tonnes: Decimal
    by_gas_kg_co2e: dict[str, Decimal]

    @property
    def market_per_tonne(self) -> Basis:
        return self.market.scaled(Decimal(1), self.tonnes)

    @property
    def location_per_tonne(self) -> Basis:
        return self.location.scaled(Decimal(1), self.tonnes)

    @property
    def green_share(self) -> Decimal:
        """Percent of metered electricity covered by allocated green MWh."""
        if self.electricity_mwh == 0:
            return ZERO
        with localcontext(CONTEXT):
            return div(self.green_mwh * HUNDRED, self.electricity_mwh)

    @property
    def primary_data_share(self) -> Decimal:
        """Percent of the market-based total computed from primary data (0 for a zero total)."""
        total = self.market.total
        if total == 0:
            return ZERO
        with localcontext(CONTEXT):
            return div(self.primary_kg_co2e * HUNDRED, total)

    @property
    def recycled_share(self) -> Decimal:
        """Percent: recycled input tonnes per tonne of output."""
        with localcontext(CONTEXT):
            return div(self.recycled_tonnes * HUNDRED, self.tonnes)

    def _figures_json(self) -> dict[str, Any]:
        by_gas = self.by_gas_kg_co2e
        return {
            "tonnes": s(self.tonnes, TONNES),
            "market_kg_co2e": self.market.to_json(),
            "location_kg_co2e": self.location.to_json(),
            "market_per_tonne": self.market_per_tonne.to_json("kg_co2e_per_t"),
            "location_per_tonne": self.location_per_tonne.to_json("kg_co2e_per_t"),
            "by_gas_kg_co2e": {gas: s(by_gas.get(gas, ZERO), KG_CO2E) for gas in BY_GAS_KEYS},
            "electricity_mwh": s(self.electricity_mwh, MWH),
            "green_mwh": s(self.green_mwh, MWH),
            "green_mwh_attested": s(self.green_mwh_attested, MWH),
            "green_mwh_voucher_covered": s(self.green_mwh_voucher_covered, MWH),
            "green_share_percent": s(self.green_share, PERCENT),
            "primary_kg_co2e": s(self.primary_kg_co2e, KG_CO2E),
            "primary_data_share_percent": s(self.primary_data_share, PERCENT),
            "recycled_tonnes": s(self.recycled_tonnes, TONNES),
            "recycled_share_percent": s(self.recycled_share, PERCENT),
        }


@dataclass(frozen=True)
class BatchFootprint(_Figures):
    """A batch's cradle-to-gate footprint. ``market`` (the headline) and ``location`` are TOTAL
    kg CO2e for the batch's ``tonnes``; per tonne via :attr:`market_per_tonne`. ``family`` is the
    electricity factor family used throughout (never mixed), ``tiers`` the length of the longest
    chain of ledger batches behind it (1 = no upstream batch)."""

    batch_id: str
    product: str
    tonnes: Decimal
    period_start: date
    period_end: date
    family: str
    gwp_set: str
    market: Basis
    location: Basis
    by_gas_kg_co2e: dict[str, Decimal]
    electricity_mwh: Decimal
    green_mwh: Decimal
    green_mwh_attested: Decimal
    green_mwh_voucher_covered: Decimal
    primary_kg_co2e: Decimal
    recycled_tonnes: Decimal
    factors: tuple[FactorUse, ...]
    notes: tuple[str, ...]
    tiers: int = 1

    def to_json(self) -> dict[str, Any]:
        """JSON-ready: quantities as decimal strings, quantized half-even for presentation."""
        return {"batch_id": self.batch_id, "product": self.product,
                "period_start": self.period_start.isoformat(), "period_end": self.period_end.isoformat(),
                "family": self.family, "gwp_set": self.gwp_set, "tiers": self.tiers,
                **self._figures_json(),
                "factors": [f.to_json() for f in self.factors], "notes": list(self.notes)}


@dataclass(frozen=True, slots=True)
class ShipmentLine:
    batch_id: str
    tonnes: Decimal


@dataclass(frozen=True)
class ShipmentFootprint(_Figures):
    """A shipment's footprint: the tonne-weighted mean of its lines' batches. ``market`` and
    ``location`` are totals for the shipped ``tonnes``; MWh, primary kg and recycled tonnes are
    each batch's figure pro rata to the share of the batch shipped."""

    lines: tuple[ShipmentLine, ...]
    tonnes: Decimal
    period_start: date
    period_end: date
    family: str
    gwp_set: str
    market: Basis
    location: Basis
    by_gas_kg_co2e: dict[str, Decimal]
    electricity_mwh: Decimal
    green_mwh: Decimal
    green_mwh_attested: Decimal
    green_mwh_voucher_covered: Decimal
    primary_kg_co2e: Decimal
    recycled_tonnes: Decimal
    factors: tuple[FactorUse, ...]
    notes: tuple[str, ...] = field(default_factory=tuple)

    def to_json(self) -> dict[str, Any]:
        return {"lines": [{"batch_id": ln.batch_id, "tonnes": s(ln.tonnes, TONNES)} for ln in self.lines],
                "period_start": self.period_start.isoformat(), "period_end": self.period_end.isoformat(),
                "family": self.family, "gwp_set": self.gwp_set,
                **self._figures_json(),
                "factors": [f.to_json() for f in self.factors], "notes": list(self.notes)}
