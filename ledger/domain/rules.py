"""The configurable parts of the domain rules, in one frozen object."""

from __future__ import annotations

from dataclasses import dataclass

ROLES = ("producer", "buyer", "certifier", "operator")
TECHNOLOGIES = ("hydro", "wind", "solar", "biomass", "geothermal", "ocean")
#: GEC validity: two years from the month of generation (国能发新能规〔2024〕67号, FACTS §2)
GEC_VALID_MONTHS = 24


@dataclass(frozen=True)
class Rules:
    #: a certificate's vintage must fall within this many calendar years before the batch's
    #: production year (0 = the same calendar year, the default of DESIGN §4)
    vintage_window_years: int = 0
    #: material factor ids that batch inputs may name (None: not checked here)
    material_factor_ids: frozenset[str] | None = None
    #: fuels with a combustion factor (None: not checked here)
    fuel_keys: frozenset[str] | None = None
