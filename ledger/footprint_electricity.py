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
from decimal import Decimal, localcontext

from ledger.errors import InputError, NotFound
from ledger.factors import Factor, FactorChoice, FactorLibrary
from ledger.footprint_model import AGGREGATE, ZERO, BatchFacts
from ledger.numbers import CONTEXT, MWH, s

KWH_PER_MWH = Decimal(1000)


@dataclass(frozen=True)
class ElectricityPrice:
    """kg CO2e of a batch's electricity on both bases, with the factors and disclosures used.
    ``gas`` is the by-gas key the market figure belongs to (``CO2`` for the CO2-only grid family,
    ``aggregate`` for life-cycle factors); ``primary_kg_co2e`` the part priced with the batch's
    own certificates."""

    location_kg_co2e: Decimal
    market_kg_co2e: Decimal
    primary_kg_co2e: Decimal
    gas: str
    uses: tuple[tuple[Factor, str], ...]
    notes: tuple[str, ...]


def price_electricity(facts: BatchFacts, library: FactorLibrary, family: str) -> ElectricityPrice:
    """Price ``facts.electricity_mwh`` and its green allocations in ``family``."""
    with localcontext(CONTEXT):
        return _price(facts, library, family)


def _grid_choice(library: FactorLibrary, family: str, regions: Sequence[str], year: int,
                 *, basis: str = "average") -> tuple[FactorChoice, str]:
    """The first region of ``regions`` (most local first) with a factor, and which one it was."""
    for region in regions:
        found = library.find_grid(family, region, year, basis=basis)
        if found is not None:
            return found, region
    raise InputError(f"no {family} {basis} factor for any of {', '.join(regions)}", field="grid_region")


def _price(facts: BatchFacts, library: FactorLibrary, family: str) -> ElectricityPrice:
    year = facts.production_year
    mwh = facts.electricity_mwh
    green = sum((g.mwh for g in facts.green), ZERO)
    uncovered = mwh - green
    uses: list[tuple[Factor, str]] = []
    notes: list[str] = []
    market = primary = ZERO

    def disclose(choice: FactorChoice) -> None:
        if choice.note and choice.note not in notes:
            notes.append(choice.note)

    loc, region = _grid_choice(library, family, (facts.province, facts.grid_region, facts.country), year)
    location = mwh * KWH_PER_MWH * loc.factor.value
    uses.append((loc.factor, "electricity location-based"))
    disclose(loc)
    if region != facts.province:
        notes.append(f"location-based: no {family} factor is published for {facts.province}; {region} "
                     f"average {loc.factor.factor_id} used for {s(mwh, MWH)} MWh")

    if uncovered > 0:
        if family == "ghg_co2_grid":
            found = library.find_grid(family, facts.country, year, basis="excl_market_nonfossil")
            if found is not None:
                res = found
                notes.append(f"market-based: no provincial residual mix exists in China; national factor "
                             f"excluding market-traded non-fossil power {res.factor.factor_id} used for "
                             f"{s(uncovered, MWH)} uncovered MWh (never the provincial average)")
            else:
                res, _ = _grid_choice(library, family, (facts.country,), year)
                notes.append(f"market-based: no residual-like factor for {facts.country}; national grid "
                             f"average {res.factor.factor_id} used as a fallback for {s(uncovered, MWH)} "
                             "uncovered MWh")
        else:
            res, _ = _grid_choice(library, family, (facts.country,), year)
            notes.append(f"market-based: no residual power carbon-footprint factor is published; "
                         f"national average {res.factor.factor_id} used as a fallback for "
                         f"{s(uncovered, MWH)} uncovered MWh")
        market += uncovered * KWH_PER_MWH * res.factor.value
        uses.append((res.factor, "electricity market-based residual"))
        disclose(res)

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
        kg = g.mwh * KWH_PER_MWH * tech.factor.value
        market += kg
        primary += kg
        uses.append((tech.factor, "electricity market-based green"))
        disclose(tech)
    return ElectricityPrice(location, market, primary, AGGREGATE, tuple(uses), tuple(notes))
