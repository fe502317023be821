"""The emission-factor library: every number the footprint engine multiplies by, with its source.

DESIGN §5: "no number without a source". The library is ``sample_data/factors.csv`` (columns
``factor_id,family,name,region,year,value,unit,source,status,notes``; format and naming rules in
``sample_data/README.md``). Loading refuses a row without a source, a value that is not a plain
decimal, an unknown family, a unit that does not fit the family and a duplicate id, each with
the line and the field at fault, so that a broken library stops the engine before it prices
anything.

Lookups follow the README's naming rules (``grid_avg_cn_yn_<year>``, ``lca_power_<tech>_cn_<year>``,
``combustion_<fuel>_<gas>``, ``gwp_<gas>_<set>``, ``material_<name>``) and never compute or
invent a figure. Year-dependent lookups (:meth:`FactorLibrary.grid`,
:meth:`FactorLibrary.lca_technology`) return a :class:`FactorChoice` that says which year was
used and whether it had to fall back, because the engine must disclose the vintage of every
grid factor (a 2025 batch is priced with the 2023 CO2 grid factor, the latest published).

Pure: standard library and ``Decimal`` only; no database, no HTTP.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from functools import cached_property
from pathlib import Path
from types import MappingProxyType
from typing import Any, TypeVar

from ledger.errors import InputError, NotFound
from ledger.footprint_model import FactorUse
from ledger.numbers import D

T = TypeVar("T")

DEFAULT_PATH = Path(__file__).resolve().parents[1] / "sample_data" / "factors.csv"

COLUMNS = ("factor_id", "family", "name", "region", "year", "value", "unit", "source", "status", "notes")

#: family -> the unit every factor of that family must carry (combustion is checked by pattern)
FAMILY_UNITS: Mapping[str, str | None] = MappingProxyType({
    "ghg_co2_grid": "t CO2/MWh",
    "lca_power": "kg CO2e/kWh",
    "combustion": None,
    "gwp": "kg CO2e/kg",
    "material": "kg CO2e/t",
})
ELECTRICITY_FAMILIES = ("ghg_co2_grid", "lca_power")
GASES = ("CO2", "CH4", "N2O", "CF4", "C2F6")
GWP_SETS = ("AR5", "AR6")
#: green-certificate technologies and the key of their power footprint factor ("pv" = solar)
TECHNOLOGY_KEYS: Mapping[str, str] = MappingProxyType({
    "hydro": "hydro", "wind": "wind", "solar": "solar", "pv": "solar", "biomass": "biomass",
})
#: grid bases of the MEE/NBS announcements -> factor id prefix, per family
GRID_BASES: Mapping[str, Mapping[str, str]] = MappingProxyType({
    "ghg_co2_grid": MappingProxyType({
        "average": "grid_avg",
        "excl_market_nonfossil": "grid_excl_market_nonfossil",
        "fossil": "grid_fossil",
    }),
    "lca_power": MappingProxyType({"average": "lca_power"}),
})

_ID_RE = re.compile(r"^[a-z][a-z0-9_]*$")
_YEAR_RE = re.compile(r"^[0-9]{4}$")
_COMBUSTION_UNIT_RE = re.compile(r"^kg (CO2|CH4|N2O)/(t|m3)$")
_STATUSES = ("[C]", "[U]")


@dataclass(frozen=True)
class Factor:
    """One row of the library. ``year`` is the data year (grid: generation year; GWP: report
    year); ``None`` where the edition year of the cited document is not confirmed (the CSV
    leaves it empty rather than guess)."""

    factor_id: str
    family: str
    name: str
    region: str
    year: int | None
    value: Decimal
    unit: str
    source: str
    status: str
    notes: str = ""

    @property
    def per_unit(self) -> str:
        """The denominator of the unit: what an activity amount must be measured in."""
        return self.unit.rsplit("/", 1)[-1].strip()


@dataclass(frozen=True)
class FactorChoice:
    """A year-dependent factor as chosen for a production year, with the reason to disclose."""

    factor: Factor
    requested_year: int
    fallback: bool  # True: no factor of a year <= requested_year existed, a later one was used

    @cached_property
    def note(self) -> str | None:
        """A disclosure sentence when the factor's year is not the production year."""
        f = self.factor
        if self.fallback:
            return (f"{f.factor_id}: no factor published for {self.requested_year} or earlier; "
                    f"the latest available ({f.year}) was used")
        if f.year != self.requested_year:
            return (f"{f.factor_id}: factor year {f.year} used for {self.requested_year} production "
                    f"(latest published not after it)")
        return None


def _slug(region: str) -> str:
    """``CN-YN`` -> ``cn_yn``: the region part of a factor id."""
    return region.strip().lower().replace("-", "_")


@dataclass(frozen=True)
class FactorLibrary:
    """An immutable, indexed set of factors. Build one from the CSV with :meth:`load`, or from
    :class:`Factor` objects directly (tests do, with invented values)."""

    factors: tuple[Factor, ...]
    _by_id: Mapping[str, Factor] = field(init=False, repr=False, compare=False)
    #: answers of :meth:`grid` and :meth:`lca_technology`, which scan the series by pattern
    #: lookups already made: FactorChoice, Factor, FactorUse or a LookupError, by kind and key
    _memo: dict[tuple[object, ...], Any] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        by_id: dict[str, Factor] = {}
        for f in self.factors:
            if f.factor_id in by_id:
                raise InputError(f"duplicate factor id {f.factor_id!r}", field="factor_id")
            by_id[f.factor_id] = f
        object.__setattr__(self, "factors", tuple(self.factors))
        object.__setattr__(self, "_by_id", MappingProxyType(by_id))
        object.__setattr__(self, "_memo", {})

    # -- loading ---------------------------------------------------------------------------

    @classmethod
    def load(cls, path: str | Path | None = None) -> FactorLibrary:
        """Read and check ``factors.csv`` (default: the repository's ``sample_data``)."""
        path = Path(path) if path is not None else DEFAULT_PATH
        try:
            with path.open(encoding="utf-8", newline="") as handle:
                rows = list(csv.reader(handle))
        except OSError as exc:
            raise InputError(f"cannot read the factor library {path}: {exc}", field="path") from exc
        if not rows or tuple(rows[0]) != COLUMNS:
            raise InputError(f"{path.name} line 1: header must be {','.join(COLUMNS)}", field="header")
        factors: list[Factor] = []
        seen: dict[str, int] = {}
        for line, row in enumerate(rows[1:], start=2):
            if not row:
                continue
            f = _parse_row(path.name, line, row)
            if f.factor_id in seen:
                raise InputError(f"{path.name} line {line}: duplicate factor id {f.factor_id!r} "
                                 f"(first on line {seen[f.factor_id]})", field="factor_id")
            seen[f.factor_id] = line
            factors.append(f)
        return cls(tuple(factors))

    # -- lookups ---------------------------------------------------------------------------

    def __contains__(self, factor_id: object) -> bool:
        return factor_id in self._by_id

    def __iter__(self) -> Iterator[Factor]:
        return iter(self.factors)

    def __len__(self) -> int:
        return len(self.factors)

    def get(self, factor_id: str) -> Factor:
        try:
            return self._by_id[factor_id]
        except KeyError:
            raise NotFound(f"no factor {factor_id!r} in the library", field="factor_id") from None

    def grid(self, family: str, region: str, year: int, *, basis: str = "average") -> FactorChoice:
        """The electricity factor of ``family`` for ``region`` and ``basis`` (``average``;
        ``ghg_co2_grid`` also ``excl_market_nonfossil``, ``fossil``) of the latest year not after
        ``year``; if only later years exist, the latest available, flagged as a fallback."""
        found = self.find_grid(family, region, year, basis=basis)
        if found is None:
            raise NotFound(f"no {family} {basis} factor for region {region} in the library",
                           field="factor_id")
        return found

    def find_grid(self, family: str, region: str, year: int, *,
                  basis: str = "average") -> FactorChoice | None:
        """As :meth:`grid`, but ``None`` for a region without such factors (callers fall back
        from province to grid region to country for every batch: no exception for that)."""
        key = ("grid", family, region, str(year), basis)
        try:
            return self._memo[key]  # type: ignore[no-any-return]
        except KeyError:
            pass
        try:
            found: FactorChoice | None = self._grid(family, region, year, basis)
        except NotFound:
            found = None
        self._memo[key] = found
        return found

    def _grid(self, family: str, region: str, year: int, basis: str) -> FactorChoice:
        bases = GRID_BASES.get(family)
        if bases is None:
            raise InputError(f"unknown electricity factor family {family!r}; one of "
                             f"{', '.join(ELECTRICITY_FAMILIES)}", field="family")
        prefix = bases.get(basis)
        if prefix is None:
            raise InputError(f"family {family} has no basis {basis!r}; one of {', '.join(bases)}",
                             field="basis")
        pattern = re.compile(rf"^{re.escape(prefix)}_{re.escape(_slug(region))}_([0-9]{{4}})$")
        series = [f for f in self.factors
                  if f.family == family and f.region == region and pattern.match(f.factor_id)]
        return _latest(series, year, what=f"{family} {basis} factor for region {region}")

    def lca_technology(self, technology: str, year: int, *, country: str = "CN") -> FactorChoice:
        """Power carbon-footprint factor of a certificate's technology (hydro, wind, solar = PV,
        biomass), latest year not after ``year``, else the latest available (flagged)."""
        memo = ("lca", technology, str(year), country)
        if memo not in self._memo:
            self._memo[memo] = self._lca_technology(technology, year, country)
        return self._memo[memo]

    def _lca_technology(self, technology: str, year: int, country: str) -> FactorChoice:
        key = TECHNOLOGY_KEYS.get(technology.strip().lower())
        if key is None:
            raise InputError(f"no power carbon-footprint factor for technology {technology!r}; one "
                             f"of {', '.join(sorted(TECHNOLOGY_KEYS))}", field="technology")
        pattern = re.compile(rf"^lca_power_{key}_{re.escape(_slug(country))}_([0-9]{{4}})$")
        series = [f for f in self.factors if f.family == "lca_power" and pattern.match(f.factor_id)]
        return _latest(series, year, what=f"lca_power factor for technology {key} in {country}")

    def gwp(self, gas: str, gwp_set: str) -> Factor:
        """GWP100 of ``gas`` (CO2, CH4, N2O, CF4, C2F6) in IPCC ``AR5`` or ``AR6``."""
        found = self._memo.get(("gwp", gas, gwp_set))
        if found is None:
            found = self._memo[("gwp", gas, gwp_set)] = self._gwp(gas, gwp_set)
        return found  # type: ignore[no-any-return]

    def _gwp(self, gas: str, gwp_set: str) -> Factor:
        if gas not in GASES:
            raise InputError(f"no GWP for gas {gas!r}; one of {', '.join(GASES)}", field="gas")
        if gwp_set not in GWP_SETS:
            raise InputError(f"unknown GWP set {gwp_set!r}; one of {', '.join(GWP_SETS)}",
                             field="gwp_set")
        f = self.get(f"gwp_{gas.lower()}_{gwp_set.lower()}")
        _expect(f, "gwp", "kg CO2e/kg")
        return f

    def combustion(self, fuel: str, gas: str, *, amount_unit: str | None = None,
                   field: str | None = None) -> Factor:
        """Stationary-combustion factor of ``fuel`` for ``gas`` (``kg <gas>/<unit>``). With
        ``amount_unit``, refuse an amount measured in another unit than the factor's denominator
        (``t`` for ``kg CO2/t``, ``m3`` for ``kg CO2/m3``): the engine never converts units.
        ``field`` prefixes the error's field (``fuels[2]`` -> ``fuels[2].unit``)."""
        found = self._memo.get(("combustion", fuel, gas, amount_unit or ""))
        if found is not None:  # only lookups that succeeded are remembered: errors name the field
            return found  # type: ignore[no-any-return]
        f = self._combustion(fuel, gas, amount_unit=amount_unit, field=field)
        self._memo[("combustion", fuel, gas, amount_unit or "")] = f
        return f

    def _combustion(self, fuel: str, gas: str, *, amount_unit: str | None, field: str | None) -> Factor:
        fuel_field = f"{field}.fuel" if field else "fuel"
        unit_field = f"{field}.unit" if field else "unit"
        if gas not in ("CO2", "CH4", "N2O"):
            raise InputError(f"no combustion factor for gas {gas!r}", field="gas")
        try:
            f = self.get(f"combustion_{fuel}_{gas.lower()}")
        except NotFound:
            raise InputError(f"no combustion factor for fuel {fuel!r} and {gas} "
                             f"(expected combustion_{fuel}_{gas.lower()})", field=fuel_field) from None
        m = _COMBUSTION_UNIT_RE.match(f.unit)
        if f.family != "combustion" or m is None or m.group(1) != gas:
            raise InputError(f"factor {f.factor_id} has unit {f.unit!r}, expected 'kg {gas}/<t|m3>'",
                             field=fuel_field)
        if amount_unit is not None and amount_unit != f.per_unit:
            raise InputError(f"fuel {fuel} amount is in {amount_unit!r} but {f.factor_id} is per "
                             f"{f.per_unit!r} ({f.unit}); give the amount in {f.per_unit}", field=unit_field)
        return f

    def use(self, f: Factor, used_for: str) -> FactorUse:
        """``f`` as used in a figure for ``used_for`` (roles ``"; "``-separated); the same
        object each time, so footprints over hundreds of batches do not rebuild it."""
        key = ("use", f.factor_id, used_for)
        found = self._memo.get(key)
        if found is None or found.value is not f.value:
            found = self._memo[key] = FactorUse(
                f.factor_id, f.name, f.value, f.unit, f.source, f.year, used_for, f.status)
        return found  # type: ignore[no-any-return]

    def derived(self, key: tuple[object, ...], compute: Callable[..., T], *args: object) -> T:
        """``compute(*args)``, remembered with this library under ``key``: for callers' answers
        that depend on the library and ``key`` alone (e.g. the grid factors of a region and year
        with their disclosures); ``args`` only serve the computation (e.g. the field an error
        names). A ``compute`` that raises is not remembered, so its error names the field every
        time."""
        memo_key = ("derived", *key)
        try:
            return self._memo[memo_key]  # type: ignore[no-any-return]
        except KeyError:
            value = self._memo[memo_key] = compute(*args)
            return value

    def material(self, factor_id: str) -> Factor:
        """A purchased material's cradle-to-gate factor (``kg CO2e/t``)."""
        f = self.get(factor_id)
        _expect(f, "material", "kg CO2e/t")
        return f


def _expect(f: Factor, family: str, unit: str) -> None:
    if f.family != family or f.unit != unit:
        raise InputError(f"factor {f.factor_id} is {f.family} in {f.unit!r}, expected {family} in "
                         f"{unit!r}", field="factor_id")


def _latest(series: Iterable[Factor], year: int, *, what: str) -> FactorChoice:
    dated = [(f.year, f) for f in series if f.year is not None]
    if not dated:
        raise NotFound(f"no {what} in the library", field="factor_id")
    earlier = [(y, f) for y, f in dated if y <= year]
    if earlier:
        return FactorChoice(max(earlier, key=lambda yf: yf[0])[1], year, fallback=False)
    return FactorChoice(max(dated, key=lambda yf: yf[0])[1], year, fallback=True)


def _parse_row(name: str, line: int, row: list[str]) -> Factor:
    def bad(column: str, message: str) -> InputError:
        return InputError(f"{name} line {line}: {message}", field=column)

    if len(row) != len(COLUMNS):
        raise bad("row", f"expected {len(COLUMNS)} cells, got {len(row)}")
    cells = dict(zip(COLUMNS, (c.strip() for c in row), strict=True))
    factor_id, family, unit = cells["factor_id"], cells["family"], cells["unit"]
    if not _ID_RE.match(factor_id):
        raise bad("factor_id", f"factor id must be snake_case, got {factor_id!r}")
    if family not in FAMILY_UNITS:
        raise bad("family", f"unknown family {family!r}; one of {', '.join(FAMILY_UNITS)}")
    if not cells["source"]:
        raise bad("source", f"factor {factor_id} has no source (no number without a source)")
    if cells["status"] not in _STATUSES:
        raise bad("status", f"status must be [C] or [U], got {cells['status']!r}")
    expected_unit = FAMILY_UNITS[family]
    if expected_unit is not None and unit != expected_unit:
        raise bad("unit", f"{family} factors are in {expected_unit!r}, got {unit!r}")
    if expected_unit is None and not _COMBUSTION_UNIT_RE.match(unit):
        raise bad("unit", f"combustion factors are in 'kg <CO2|CH4|N2O>/<t|m3>', got {unit!r}")
    try:
        value = D(cells["value"], field="value")
    except InputError as exc:
        raise bad("value", exc.message) from None
    if value < 0:
        raise bad("value", f"factor {factor_id} is negative: {value}")
    year_text = cells["year"]
    if year_text and not _YEAR_RE.match(year_text):
        raise bad("year", f"year must be 4 digits or empty, got {year_text!r}")
    return Factor(factor_id=factor_id, family=family, name=cells["name"], region=cells["region"],
                  year=int(year_text) if year_text else None, value=value, unit=unit,
                  source=cells["source"], status=cells["status"], notes=cells["notes"])
