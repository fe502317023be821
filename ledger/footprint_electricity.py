"""Electricity in a batch footprint: location-based and market-based, one factor family (DESIGN §5).

Location-based: metered MWh × the average factor of the facility's grid, most local first —
province, then grid region, then country — disclosing any step down. The ``lca_power`` family
publishes no provincial or regional factor, so it always lands on the national average (and
says so).

Market-based: ``(metered − green MWh) × residual-like factor + Σ green MWh × technology factor``.

- ``ghg_co2_grid`` (Scope 2 style, CO2 only): the residual is the national factor **excluding
  market-traded non-fossil power** (MEE/NBS basis (b)); it is never the provincial average,
  because Yunnan's average is low thanks to hydro whose attributes others claim through GECs,
  and pricing uncovered MWh with it would count that hydro twice (FACTS §1). Only if the basis
  (b) factor is missing does the national average step in, disclosed. Green MWh carry 0 kg CO2.
- ``lca_power`` (ISO 14067 / GB/T 24067 product footprints): no residual-like factor is
  published and none is invented, so uncovered MWh use the national average, disclosed as a
  fallback; green MWh use ``lca_power_<technology>``, which count as primary data (the batch's
  own certificates).

Factors are of the latest year not after the production year; the vintage is disclosed.
Pure: returns an :class:`ElectricityPrice`, touches nothing else.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import NamedTuple

from ledger.errors import InputError, NotFound
from ledger.factors import Factor, FactorChoice, FactorLibrary
from ledger.footprint_model import AGGREGATE, ZERO, BatchFacts
from ledger.numbers import CONTEXT, MWH, s

KWH_PER_MWH = Decimal(1000)


class ElectricityPrice(NamedTuple):
    """kg CO2e of a batch's electricity on both bases, with the factors and disclosures used.
    ``gas`` is the by-gas key the market figure belongs to (``CO2`` for the CO2-only grid family,
    ``aggregate`` for life-cycle factors); ``primary_kg_co2e`` the part priced with the batch's
    own certificates. (A named tuple: one is made for every batch priced.)"""

    location_kg_co2e: Decimal
    market_kg_co2e: Decimal
    primary_kg_co2e: Decimal
    gas: str
    uses: tuple[tuple[Factor, str], ...]
    notes: tuple[str, ...]


def _grid_choice(library: FactorLibrary, family: str, regions: Sequence[str], year: int,
                 *, basis: str = "average") -> tuple[FactorChoice, str]:
    """The first region of ``regions`` (most local first) with a factor, and which one it was."""
    for region in regions:
        found = library.find_grid(family, region, year, basis=basis)
        if found is not None:
            return found, region
    raise InputError(f"no {family} {basis} factor for any of {', '.join(regions)}", field="grid_region")


@dataclass(frozen=True)
class _Location:
    """The location-based factor of a facility's grid for a year, and its disclosures (what does
    not depend on the batch's MWh; remembered with the library)."""

    choice: FactorChoice
    notes: tuple[str, ...]
    #: when the factor is not the province's: the disclosure, up to the MWh it was used for
    step_down: str | None
    #: the use to record
    use: tuple[Factor, str]


@dataclass(frozen=True)
class _Residual:
    """The factor for uncovered MWh on the market basis, with the words around the MWh."""

    choice: FactorChoice
    before: str
    after: str
    #: the use to record
    use: tuple[Factor, str]


def _location(library: FactorLibrary, family: str, facts: BatchFacts, year: int) -> _Location:
    loc, region = _grid_choice(library, family, (facts.province, facts.grid_region, facts.country), year)
    step_down = None
    if region != facts.province:
        step_down = (f"location-based: no {family} factor is published for {facts.province}; {region} "
                     f"average {loc.factor.factor_id} used for ")
    return _Location(loc, (loc.note,) if loc.note else (), step_down,
                     (loc.factor, "electricity location-based"))


def _residual(library: FactorLibrary, family: str, country: str, year: int) -> _Residual:
    if family == "ghg_co2_grid":
        found = library.find_grid(family, country, year, basis="excl_market_nonfossil")
        if found is not None:
            res = found
            before = ("market-based: no provincial residual mix exists in China; national factor "
                      f"excluding market-traded non-fossil power {res.factor.factor_id} used for ")
            after = " uncovered MWh (never the provincial average)"
        else:
            res, _ = _grid_choice(library, family, (country,), year)
            before = (f"market-based: no residual-like factor for {country}; national grid average "
                      f"{res.factor.factor_id} used as a fallback for ")
            after = " uncovered MWh"
    else:
        res, _ = _grid_choice(library, family, (country,), year)
        before = ("market-based: no residual power carbon-footprint factor is published; national "
                  f"average {res.factor.factor_id} used as a fallback for ")
        after = " uncovered MWh"
    return _Residual(res, before, after, (res.factor, "electricity market-based residual"))


def price_electricity(facts: BatchFacts, library: FactorLibrary, family: str) -> ElectricityPrice:
    """Price ``facts.electricity_mwh`` and its green allocations in ``family`` (arithmetic in
    ``numbers.CONTEXT`` whatever the caller's context)."""
    add, sub, mul = CONTEXT.add, CONTEXT.subtract, CONTEXT.multiply
    year = facts.production_year
    mwh = facts.electricity_mwh
    green = ZERO
    for g in facts.green:
        green = add(green, g.mwh)
    uncovered = sub(mwh, green)
    market = primary = ZERO

    plan = library.derived(("electricity location", family, facts.province, facts.grid_region,
                            facts.country, year), _location, library, family, facts, year)
    loc = plan.choice
    location = mul(mul(mwh, KWH_PER_MWH), loc.factor.value)
    uses: list[tuple[Factor, str]] = [plan.use]
    notes = list(plan.notes)
    mwh_text = s(mwh, MWH)
    if plan.step_down is not None:
        notes.append(f"{plan.step_down}{mwh_text} MWh")

    if uncovered > 0:
        residual = library.derived(("electricity residual", family, facts.country, year),
                                   _residual, library, family, facts.country, year)
        res = residual.choice
        notes.append(f"{residual.before}{mwh_text if uncovered == mwh else s(uncovered, MWH)}"
                     f"{residual.after}")
        market = add(market, mul(mul(uncovered, KWH_PER_MWH), res.factor.value))
        uses.append(residual.use)
        if res.note and res.note not in notes:  # disclosed once, if the location factor did not
            notes.append(res.note)

    if family == "ghg_co2_grid":
        if green > 0:
            notes.append(f"market-based: {s(green, MWH)} green MWh counted at 0 kg CO2 (energy attribute "
                         "certificates, GHG Protocol Scope 2 market-based method)")
        return ElectricityPrice(location, market, ZERO, "CO2", tuple(uses), tuple(notes))

    for i, g in enumerate(facts.green):
        try:
            tech = library.lca_technology(g.technology, year, country=facts.country)
        except (NotFound, InputError) as exc:
            raise InputError(exc.message, field=f"green[{i}].technology") from None
        kg = mul(mul(g.mwh, KWH_PER_MWH), tech.factor.value)
        market = add(market, kg)
        primary = add(primary, kg)
        uses.append((tech.factor, "electricity market-based green"))
        if tech.note and tech.note not in notes:
            notes.append(tech.note)
    return ElectricityPrice(location, market, primary, AGGREGATE, tuple(uses), tuple(notes))
