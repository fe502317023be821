"""The footprint engine (DESIGN §5), by worked examples whose arithmetic is written out here.

Most tests price batches with a small hand-made library of TEST VALUES: invented round numbers
chosen so that every figure can be checked by hand (they are not the sample library's values
and must never be used for anything else). The last tests use the real ``sample_data`` library
and scenario.
"""

from __future__ import annotations

import csv
import dataclasses
import gc
import itertools
import weakref
from collections.abc import Callable
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ledger.errors import InputError, RuleViolation
from ledger.factors import Factor, FactorLibrary
from ledger.footprint import MAX_TIERS, batch_footprint, shipment_footprint
from ledger.footprint_model import (
    BY_GAS_KEYS,
    BatchFacts,
    BatchFootprint,
    FuelUse,
    GreenAllocation,
    MaterialInput,
    ProcessEmission,
    SupplierFootprint,
)
from ledger.numbers import div

T = "TEST VALUE (invented round number, not a real factor)"


def _f(factor_id: str, family: str, region: str, year: int | None, value: str, unit: str) -> Factor:
    return Factor(factor_id, family, factor_id, region, year, Decimal(value), unit, T, "[U]")


TEST_FACTORS = (
    # life-cycle power footprint, kg CO2e/kWh
    _f("lca_power_cn_2023", "lca_power", "CN", 2023, "0.6", "kg CO2e/kWh"),
    _f("lca_power_cn_2024", "lca_power", "CN", 2024, "0.5", "kg CO2e/kWh"),
    _f("lca_power_hydro_cn_2024", "lca_power", "CN", 2024, "0.01", "kg CO2e/kWh"),
    _f("lca_power_wind_cn_2024", "lca_power", "CN", 2024, "0.03", "kg CO2e/kWh"),
    _f("lca_power_solar_cn_2024", "lca_power", "CN", 2024, "0.05", "kg CO2e/kWh"),
    _f("lca_power_biomass_cn_2024", "lca_power", "CN", 2024, "0.04", "kg CO2e/kWh"),
    # CO2 grid factors, t CO2/MWh
    _f("grid_avg_cn_yn_2023", "ghg_co2_grid", "CN-YN", 2023, "0.1", "t CO2/MWh"),
    _f("grid_avg_cn_south_2023", "ghg_co2_grid", "CN-SOUTH", 2023, "0.4", "t CO2/MWh"),
    _f("grid_avg_cn_2023", "ghg_co2_grid", "CN", 2023, "0.5", "t CO2/MWh"),
    _f("grid_excl_market_nonfossil_cn_2023", "ghg_co2_grid", "CN", 2023, "0.6", "t CO2/MWh"),
    # combustion
    _f("combustion_coal_co2", "combustion", "GLOBAL", 2006, "2500", "kg CO2/t"),
    _f("combustion_coal_ch4", "combustion", "GLOBAL", 2006, "0.25", "kg CH4/t"),
    _f("combustion_coal_n2o", "combustion", "GLOBAL", 2006, "0.04", "kg N2O/t"),
    _f("combustion_natural_gas_co2", "combustion", "CN", 2006, "2", "kg CO2/m3"),
    _f("combustion_natural_gas_ch4", "combustion", "CN", 2006, "0.00004", "kg CH4/m3"),
    _f("combustion_natural_gas_n2o", "combustion", "CN", 2006, "0.000004", "kg N2O/m3"),
    _f("combustion_diesel_co2", "combustion", "GLOBAL", 2006, "3000", "kg CO2/t"),
    _f("combustion_diesel_ch4", "combustion", "GLOBAL", 2006, "0.1", "kg CH4/t"),
    _f("combustion_diesel_n2o", "combustion", "GLOBAL", 2006, "0.02", "kg N2O/t"),
    # GWP100
    _f("gwp_co2_ar5", "gwp", "GLOBAL", 2013, "1", "kg CO2e/kg"),
    _f("gwp_co2_ar6", "gwp", "GLOBAL", 2021, "1", "kg CO2e/kg"),
    _f("gwp_ch4_ar5", "gwp", "GLOBAL", 2013, "28", "kg CO2e/kg"),
    _f("gwp_ch4_ar6", "gwp", "GLOBAL", 2021, "30", "kg CO2e/kg"),
    _f("gwp_n2o_ar5", "gwp", "GLOBAL", 2013, "260", "kg CO2e/kg"),
    _f("gwp_n2o_ar6", "gwp", "GLOBAL", 2021, "270", "kg CO2e/kg"),
    _f("gwp_cf4_ar5", "gwp", "GLOBAL", 2013, "6500", "kg CO2e/kg"),
    _f("gwp_cf4_ar6", "gwp", "GLOBAL", 2021, "7000", "kg CO2e/kg"),
    _f("gwp_c2f6_ar5", "gwp", "GLOBAL", 2013, "11000", "kg CO2e/kg"),
    _f("gwp_c2f6_ar6", "gwp", "GLOBAL", 2021, "12000", "kg CO2e/kg"),
    # purchased materials, kg CO2e/t
    _f("material_bauxite", "material", "GLOBAL", None, "10", "kg CO2e/t"),
    _f("material_calcined_petroleum_coke", "material", "GLOBAL", 2022, "500", "kg CO2e/t"),
    _f("material_alumina", "material", "GLOBAL", 2021, "1300", "kg CO2e/t"),
)
LIB = FactorLibrary(TEST_FACTORS)


def facts(batch_id: str, tonnes: str, mwh: str, *, month: int = 1, **kw: Any) -> BatchFacts:
    return BatchFacts(batch_id=batch_id, product=f"product of {batch_id}", tonnes=Decimal(tonnes),
                      period_start=date(2025, month, 1), period_end=date(2025, month, 28),
                      electricity_mwh=Decimal(mwh), grid_region="CN-SOUTH", province="CN-YN", country="CN",
                      **kw)


def hydro(mwh: str, *, attested: bool = True, voucher: str | None = None) -> GreenAllocation:
    return GreenAllocation(Decimal(mwh), "hydro", "2025-03", "CN-GEC", attested,
                           Decimal(voucher if voucher is not None else mwh))


# Alumina, January 2025: 2,000 t from 6,000 t bauxite, 400 t coal, 600 MWh, no green power.
ALUMINA = facts("AO-T", "2000", "600",
                fuels=(FuelUse("coal", Decimal(400), "t"),),
                inputs=(MaterialInput("factor", "material_bauxite", Decimal(6000)),))

# Aluminium, March 2025: 1,000 t, 13,200 MWh of which 6,600 MWh hydro GECs, 1,930 t of the alumina
# batch, 400 t calcined coke, natural gas and diesel, anode CO2, CF4 and C2F6.
ALUMINIUM = facts("AL-T", "1000", "13200", month=3,
                  fuels=(FuelUse("natural_gas", Decimal(35000), "m3"), FuelUse("diesel", Decimal(2), "t")),
                  process_emissions=(ProcessEmission("CO2", Decimal(1500000)),
                                     ProcessEmission("CF4", Decimal(20)),
                                     ProcessEmission("C2F6", Decimal(2))),
                  inputs=(MaterialInput("batch", "AO-T", Decimal(1930)),
                          MaterialInput("factor", "material_calcined_petroleum_coke", Decimal(400))),
                  green=(hydro("6600"),))

# Extrusion billet, April 2025: 500 t from 505 t of the aluminium batch, 25,000 m3 gas, 100 MWh.
BILLET = facts("BL-T", "500", "100", month=4,
               fuels=(FuelUse("natural_gas", Decimal(25000), "m3"),),
               inputs=(MaterialInput("batch", "AL-T", Decimal(505)),))


def resolver(all_facts: dict[str, BatchFacts], library: FactorLibrary = LIB, **kw: Any
             ) -> Callable[[str], BatchFootprint]:
    """Upstream callable that computes (and memoizes) upstream batches with the engine itself."""
    memo: dict[str, BatchFootprint] = {}

    def upstream(batch_id: str) -> BatchFootprint:
        if batch_id not in memo:
            memo[batch_id] = batch_footprint(all_facts[batch_id], library=library, upstream=upstream, **kw)
        return memo[batch_id]
    return upstream


CHAIN = {b.batch_id: b for b in (ALUMINA, ALUMINIUM, BILLET)}


def footprint(batch: BatchFacts, **kw: Any) -> BatchFootprint:
    return batch_footprint(batch, library=LIB, upstream=resolver(CHAIN, **kw), **kw)


# -- worked examples -----------------------------------------------------------------------


def test_alumina_batch_by_hand() -> None:
    fp = footprint(ALUMINA)
    # upstream: bauxite 6,000 t × 10 kg/t = 60,000
    # direct: coal CO2 400 × 2,500 = 1,000,000; CH4 400 × 0.25 = 100 kg × 30 = 3,000;
    #         N2O 400 × 0.04 = 16 kg × 270 = 4,320 → 1,007,320
    # electricity: 600 MWh × 1,000 × 0.5 (national lca 2024; no provincial, no residual) = 300,000
    assert (fp.market.upstream, fp.market.direct, fp.market.electricity) == (60000, 1007320, 300000)
    assert fp.market == fp.location
    assert fp.market.total == Decimal("1367320")
    assert fp.market_per_tonne.total == Decimal("683.66")
    assert fp.primary_kg_co2e == Decimal("1007320")  # metered direct only; grid and bauxite are secondary
    assert fp.tiers == 1


def test_single_aluminium_batch_half_covered_by_hydro_gecs() -> None:
    fp = footprint(ALUMINIUM)
    # upstream: alumina 1,930 t × 683.66 = 1,319,463.8; coke 400 t × 500 = 200,000 → 1,519,463.8
    assert fp.market.upstream == fp.location.upstream == Decimal("1519463.8")
    # direct: natural gas CO2 35,000 × 2 = 70,000; CH4 35,000 × 0.00004 = 1.4 kg × 30 = 42;
    #         N2O 35,000 × 0.000004 = 0.14 kg × 270 = 37.8; diesel CO2 2 × 3,000 = 6,000;
    #         CH4 0.2 kg × 30 = 6; N2O 0.04 kg × 270 = 10.8; anode CO2 1,500,000;
    #         CF4 20 × 7,000 = 140,000; C2F6 2 × 12,000 = 24,000 → 1,740,096.6
    assert fp.market.direct == fp.location.direct == Decimal("1740096.6")
    # electricity, market: uncovered 6,600 MWh × 1,000 × 0.5 = 3,300,000 + hydro 6,600 × 1,000 × 0.01
    #   = 66,000 → 3,366,000; location: 13,200 × 1,000 × 0.5 = 6,600,000
    assert fp.market.electricity == Decimal("3366000")
    assert fp.location.electricity == Decimal("6600000")
    # totals 6,625,560.4 and 9,859,560.4 kg for 1,000 t
    assert fp.market.total == Decimal("6625560.4")
    assert fp.market_per_tonne.total == Decimal("6625.5604")
    assert fp.location_per_tonne.total == Decimal("9859.5604")
    assert fp.market_per_tonne.electricity == Decimal("3366")
    # green: 6,600 of 13,200 MWh = 50 %, attested and voucher-covered
    assert (fp.green_mwh, fp.green_mwh_attested, fp.green_mwh_voucher_covered) == (6600, 6600, 6600)
    assert fp.green_share == 50
    # primary: direct 1,740,096.6 + hydro 66,000 + alumina's primary 1,007,320 × 1,930/2,000
    #   = 972,063.8 → 2,778,160.4 of 6,625,560.4
    assert fp.primary_kg_co2e == Decimal("2778160.4")
    assert fp.primary_data_share == div(Decimal("277816040"), Decimal("6625560.4"))
    assert fp.tiers == 2 and fp.family == "lca_power" and fp.gwp_set == "AR6"


def test_by_gas_splits_the_market_total() -> None:
    fp = footprint(ALUMINIUM)
    # CO2: gas 70,000 + diesel 6,000 + anode 1,500,000 + alumina's coal CO2 1,000,000 × 0.965
    # CH4: 42 + 6 + alumina 3,000 × 0.965; N2O: 37.8 + 10.8 + alumina 4,320 × 0.965
    # aggregate (no split by gas): alumina (bauxite 60,000 + power 300,000) × 0.965 = 347,400
    #   + coke 200,000 + electricity 3,366,000
    assert fp.by_gas_kg_co2e == {"CO2": Decimal("2541000"), "CH4": Decimal("2943"),
                                 "N2O": Decimal("4217.4"), "CF4": Decimal("140000"),
                                 "C2F6": Decimal("24000"), "aggregate": Decimal("3913400")}
    assert sum(fp.by_gas_kg_co2e.values()) == fp.market.total


def test_three_tier_chain_bauxite_alumina_aluminium_billet() -> None:
    fp = footprint(BILLET)
    # upstream: 505 t × 6,625.5604 = 3,345,908.002 (market); 505 × 9,859.5604 = 4,979,078.002 (location)
    # direct: gas CO2 25,000 × 2 = 50,000; CH4 1 kg × 30 = 30; N2O 0.1 kg × 270 = 27 → 50,057
    # electricity: 100 MWh × 1,000 × 0.5 = 50,000 (no green: market = location)
    assert fp.market.upstream == Decimal("3345908.002")
    assert fp.location.upstream == Decimal("4979078.002")
    assert fp.market.direct == Decimal("50057") and fp.market.electricity == Decimal("50000")
    # per tonne: 3,445,965.002 / 500 and 5,079,135.002 / 500
    assert fp.market_per_tonne.total == Decimal("6891.930004")
    assert fp.location_per_tonne.total == Decimal("10158.270004")
    assert fp.tiers == 3
    used = {u.factor_id for u in fp.factors}
    assert {"material_bauxite", "combustion_coal_co2", "gwp_cf4_ar6", "lca_power_hydro_cn_2024"} <= used
    assert any(n.startswith("[AL-T] [AO-T] ") for n in fp.notes)  # disclosures carried up the chain


def test_grid_co2_family_prices_green_at_zero_and_the_residual_at_the_national_excl_factor() -> None:
    fp = footprint(ALUMINIUM, family="ghg_co2_grid")
    # alumina in the same family: location 600 MWh × 0.1 (Yunnan) = 60,000 → 1,127,320 → 563.66/t;
    #   market 600 × 0.6 (national excl. market-traded non-fossil) = 360,000 → 1,427,320 → 713.66/t
    # aluminium, market: upstream 1,930 × 713.66 + 200,000 = 1,577,363.8; direct 1,740,096.6;
    #   electricity 6,600 uncovered × 0.6 × 1,000 = 3,960,000 + 6,600 green × 0 → 7,277,460.4
    assert fp.market.electricity == Decimal("3960000")
    assert fp.market_per_tonne.total == Decimal("7277.4604")
    # location: 1,930 × 563.66 + 200,000 = 1,287,863.8; 1,740,096.6; 13,200 × 0.1 × 1,000 = 1,320,000
    assert fp.location.electricity == Decimal("1320000")
    assert fp.location_per_tonne.total == Decimal("4347.9604")
    assert fp.family == "ghg_co2_grid"
    ids = {u.factor_id: u.used_for for u in fp.factors}
    assert ids["grid_excl_market_nonfossil_cn_2023"] == "electricity market-based residual"
    assert ids["grid_avg_cn_yn_2023"] == "electricity location-based"  # never the residual
    assert not any(i.startswith("lca_power") for i in ids)  # families never mixed
    assert fp.by_gas_kg_co2e["CO2"] > fp.by_gas_kg_co2e["aggregate"]  # grid CO2 is CO2
    assert any("no provincial residual mix" in n and "6600.000 uncovered MWh" in n for n in fp.notes)
    assert any("6600.000 green MWh counted at 0 kg CO2" in n for n in fp.notes)

    lca = footprint(ALUMINIUM)
    assert lca.market_per_tonne.total == Decimal("6625.5604")
    assert any("no residual power carbon-footprint factor is published" in n for n in lca.notes)
    assert any("no lca_power factor is published for CN-YN; CN average" in n for n in lca.notes)
    assert "lca_power_cn_2024: factor year 2024 used for 2025 production (latest published not after it)" \
        in lca.notes


def test_ar5_instead_of_ar6_changes_direct_by_the_gwp_difference_times_kg() -> None:
    pfc = facts("PFC", "100", "0", process_emissions=(
        ProcessEmission("CO2", Decimal(1000000)), ProcessEmission("CF4", Decimal(20)),
        ProcessEmission("C2F6", Decimal(2))))
    ar6 = batch_footprint(pfc, library=LIB, upstream=resolver({}))
    ar5 = batch_footprint(pfc, library=LIB, upstream=resolver({}), gwp_set="AR5")
    # CF4 20 kg × (7,000 − 6,500) + C2F6 2 kg × (12,000 − 11,000) = 10,000 + 2,000
    assert ar6.market.direct - ar5.market.direct == Decimal("12000")
    assert ar6.market.direct == Decimal("1164000") and ar5.gwp_set == "AR5"
    # the whole aluminium batch: also CH4 (1.4 + 0.2) kg × (30 − 28) = 3.2 and N2O (0.14 + 0.04) × 10 = 1.8
    full6, full5 = footprint(ALUMINIUM), footprint(ALUMINIUM, gwp_set="AR5")
    assert full6.market.direct - full5.market.direct == Decimal("12005")


def test_supplier_pcf_input() -> None:
    batch = facts("SUP", "10", "0", inputs=(MaterialInput("pact", "urn:pact:anode-1", Decimal(10)),))
    supplier = SupplierFootprint("urn:pact:anode-1", Decimal("2.5"), "Supplier X PACT v3 footprint",
                                 Decimal(40))
    fp = batch_footprint(batch, library=LIB, upstream=resolver({}), suppliers=lambda ref: supplier)
    # 10 t × 1,000 kg/t × 2.5 kg/kg = 25,000; 40 % of it primary
    assert fp.market.upstream == fp.location.upstream == Decimal("25000")
    assert fp.primary_kg_co2e == Decimal("10000") and fp.primary_data_share == 40
    assert fp.factors[0].factor_id == "pact:urn:pact:anode-1"


def test_shipment_of_two_batches_is_the_tonne_weighted_mean() -> None:
    al_t = footprint(ALUMINIUM)
    # AL-U: 500 t, 6,500 MWh all hydro (not attested, no voucher), anode CO2 750,000, 965 t bought
    #   alumina × 1,300 = 1,254,500; 25 t scrap.
    # market 1,254,500 + 750,000 + 6,500 × 1,000 × 0.01 = 65,000 → 2,069,500 → 4,139/t
    # location 1,254,500 + 750,000 + 6,500 × 1,000 × 0.5 = 3,250,000 → 5,254,500 → 10,509/t
    al_u = batch_footprint(
        facts("AL-U", "500", "6500", month=3, process_emissions=(ProcessEmission("CO2", Decimal(750000)),),
              inputs=(MaterialInput("factor", "material_alumina", Decimal(965)),),
              green=(hydro("6500", attested=False, voucher="0"),), recycled_tonnes=Decimal(25)),
        library=LIB, upstream=resolver({}))
    assert al_u.market_per_tonne.total == 4139 and al_u.location_per_tonne.total == 10509
    ship = shipment_footprint([(al_t, Decimal(300)), (al_u, Decimal(100))])
    # market: (300 × 6,625.5604 + 100 × 4,139) / 400 = (1,987,668.12 + 413,900) / 400 = 6,003.9203
    assert ship.tonnes == 400
    assert ship.market.total == Decimal("2401568.12")
    assert ship.market_per_tonne.total == Decimal("6003.9203")
    # location: (300 × 9,859.5604 + 100 × 10,509) / 400 = 4,008,768.12 / 400 = 10,021.9203
    assert ship.location_per_tonne.total == Decimal("10021.9203")
    # MWh pro rata: metered 13,200 × 0.3 + 6,500 × 0.2 = 5,260; green 1,980 + 1,300 = 3,280;
    #   attested 1,980 (AL-T only); voucher-covered 1,980
    assert (ship.electricity_mwh, ship.green_mwh) == (5260, 3280)
    assert (ship.green_mwh_attested, ship.green_mwh_voucher_covered) == (1980, 1980)
    # primary by emissions: 2,778,160.4 × 0.3 + (750,000 + 65,000) × 0.2 = 996,448.12 of 2,401,568.12
    assert ship.primary_kg_co2e == Decimal("996448.12")
    # recycled by tonnes: 25 t × 0.2 = 5 t of 400 t = 1.25 %
    assert ship.recycled_share == Decimal("1.25")
    assert len({u.factor_id for u in ship.factors}) == len(ship.factors)  # merged, no duplicates
    assert ship.to_json()["market_per_tonne"]["total_kg_co2e_per_t"] == "6003.920"


def test_to_json_quantizes_for_presentation_only() -> None:
    doc = footprint(BILLET).to_json()
    assert doc["market_per_tonne"]["total_kg_co2e_per_t"] == "6891.930"
    assert doc["location_kg_co2e"]["total_kg_co2e"] == "5079135.002"
    assert doc["green_share_percent"] == "0.00" and doc["tiers"] == 3
    factors = {f["factor_id"]: f for f in doc["factors"]}
    assert doc["family"] == "lca_power" and factors["combustion_natural_gas_co2"]["value"] == "2"
    assert factors["material_bauxite"]["year"] is None  # edition year not confirmed: left empty


# -- refusals ------------------------------------------------------------------------------


def test_green_above_metered_is_refused_naming_field_and_limit() -> None:
    over = facts("X", "1000", "13200", green=(hydro("13000"), hydro("201")))
    with pytest.raises(RuleViolation) as err:
        footprint(over)
    assert (err.value.rule, err.value.field) == ("footprint.green_mwh", "green")
    assert (err.value.limit, err.value.got) == (Decimal(13200), Decimal(13201))


def test_mixed_families_in_one_shipment_are_refused() -> None:
    with pytest.raises(RuleViolation) as err:
        shipment_footprint([(footprint(ALUMINA), Decimal(10)),
                            (footprint(ALUMINA, family="ghg_co2_grid"), Decimal(10))])
    assert err.value.rule == "footprint.family_mix"


def test_an_upstream_batch_in_another_family_is_refused() -> None:
    other = footprint(ALUMINA, family="ghg_co2_grid")
    with pytest.raises(RuleViolation) as err:
        batch_footprint(ALUMINIUM, library=LIB, upstream=lambda _: other)
    assert (err.value.rule, err.value.field) == ("footprint.family_mix", "inputs[0].ref")


def test_a_fuel_in_the_wrong_unit_is_refused() -> None:
    wrong = facts("X", "10", "0",
                  fuels=(FuelUse("coal", Decimal(1), "t"), FuelUse("natural_gas", Decimal(5), "t")))
    with pytest.raises(InputError) as err:
        footprint(wrong)
    assert err.value.field == "fuels[1].unit"


def test_a_refused_fuel_names_its_own_index_every_time() -> None:
    # the library remembers a fuel's factors, but never a refusal: each batch's error names
    # the position of the fuel in that batch
    for index in (0, 1, 0):
        fuels = [FuelUse("coal", Decimal(1), "t")]
        fuels.insert(index, FuelUse("natural_gas", Decimal(5), "t"))
        with pytest.raises(InputError) as err:
            footprint(facts("X", "10", "0", fuels=tuple(fuels)))
        assert err.value.field == f"fuels[{index}].unit"


def test_remembered_factors_belong_to_their_library() -> None:
    # two libraries with the same factor ids but another coal CO2 value: each footprint uses
    # and discloses its own library's value, however often the same batch is priced
    other = FactorLibrary(tuple(
        _f(f.factor_id, f.family, f.region, f.year, "3000", f.unit) if f.factor_id == "combustion_coal_co2"
        else f for f in TEST_FACTORS))
    for _ in range(2):
        ours = batch_footprint(ALUMINA, library=LIB, upstream=resolver(CHAIN))
        theirs = batch_footprint(ALUMINA, library=other, upstream=resolver(CHAIN, library=other))
        def coal(fp: BatchFootprint) -> Decimal:
            return next(u.value for u in fp.factors if u.factor_id == "combustion_coal_co2")
        assert coal(ours) == LIB.get("combustion_coal_co2").value != Decimal(3000)
        assert coal(theirs) == Decimal(3000)
        # 400 t coal x (3000 - the test library's value) kg CO2 more
        extra = 400 * (Decimal(3000) - LIB.get("combustion_coal_co2").value)
        assert theirs.market.direct - ours.market.direct == extra


def test_remembered_merges_do_not_keep_a_library_alive() -> None:
    # callers load a library per declaration: what the engine remembers must not pin them all
    library = FactorLibrary(TEST_FACTORS)
    batch_footprint(BILLET, library=library, upstream=resolver(CHAIN, library=library))
    gone = weakref.ref(library)
    del library
    gc.collect()
    assert gone() is None


def test_a_factor_met_in_several_roles_lists_each_role_once() -> None:
    # the national grid factor prices both the location basis and the uncovered MWh
    fp = footprint(facts("X", "10", "100"))
    grid = [u for u in fp.factors if u.factor_id.startswith("lca_power_cn_")]
    assert len(grid) == 1
    assert grid[0].used_for == "electricity location-based; electricity market-based residual"
    # fully green: the same factor is used for the location basis only
    green = footprint(facts("Y", "10", "100", green=(hydro("100"),)))
    grid = [u for u in green.factors if u.factor_id.startswith("lca_power_cn_")]
    assert [u.used_for for u in grid] == ["electricity location-based"]


def test_an_unknown_factor_id_is_refused() -> None:
    with pytest.raises(InputError) as err:
        footprint(facts("X", "10", "0",
                        inputs=(MaterialInput("factor", "material_unobtainium", Decimal(1)),)))
    assert err.value.field == "inputs[0].ref"
    with pytest.raises(InputError) as err:
        footprint(facts("X", "10", "0", process_emissions=(ProcessEmission("SF6", Decimal(1)),)))
    assert err.value.field == "process_emissions[0].gas"


def test_recycled_above_tonnes_is_refused() -> None:
    with pytest.raises(RuleViolation) as err:
        footprint(facts("X", "10", "0", recycled_tonnes=Decimal("10.5")))
    assert (err.value.rule, err.value.field, err.value.limit) == ("footprint.recycled", "recycled_tonnes", 10)


@pytest.mark.parametrize(("change", "rule"), [
    ({"tonnes": Decimal(0)}, "footprint.tonnes"),
    ({"family": "ecoinvent"}, "footprint.family"),
    ({"gwp_set": "AR4"}, "footprint.gwp_set"),
])
def test_method_and_quantity_refusals(change: dict[str, Any], rule: str) -> None:
    batch = facts("X", str(change.pop("tonnes", 10)), "0")
    with pytest.raises(RuleViolation) as err:
        batch_footprint(batch, library=LIB, upstream=resolver({}), **change)
    assert err.value.rule == rule


def test_a_float_never_enters() -> None:
    with pytest.raises(InputError):
        FuelUse("coal", 1.5, "t")  # type: ignore[arg-type]


def test_a_pact_input_needs_a_supplier_source() -> None:
    with pytest.raises(InputError) as err:
        footprint(facts("X", "10", "0", inputs=(MaterialInput("pact", "urn:x", Decimal(1)),)))
    assert err.value.field == "inputs[0].ref"


def test_shipping_more_than_the_batch_is_refused() -> None:
    fp = footprint(ALUMINA)
    with pytest.raises(RuleViolation) as err:
        shipment_footprint([(fp, Decimal(1500)), (fp, Decimal(501))])
    assert (err.value.rule, err.value.field) == ("shipment.mass_balance", "lines[1].tonnes")


def test_an_upstream_cycle_is_refused() -> None:
    a = facts("A", "10", "0", inputs=(MaterialInput("batch", "B", Decimal(1)),))
    b = facts("B", "10", "0", inputs=(MaterialInput("batch", "A", Decimal(1)),))
    with pytest.raises(RuleViolation) as err:
        batch_footprint(a, library=LIB, upstream=resolver({"A": a, "B": b}))
    assert err.value.rule == "footprint.cycle" and err.value.got == "A -> B -> A"


def test_more_than_max_tiers_is_refused() -> None:
    chain = {"B0": facts("B0", "10", "0")}
    for i in range(1, MAX_TIERS + 2):
        chain[f"B{i}"] = facts(f"B{i}", "10", "0", inputs=(MaterialInput("batch", f"B{i - 1}", Decimal(1)),))
    ok = batch_footprint(chain[f"B{MAX_TIERS - 1}"], library=LIB, upstream=resolver(chain))
    assert ok.tiers == MAX_TIERS
    with pytest.raises(RuleViolation) as err:
        batch_footprint(chain[f"B{MAX_TIERS}"], library=LIB, upstream=resolver(chain))
    assert err.value.rule == "footprint.depth"


def test_missing_residual_falls_back_to_the_national_average_never_the_province() -> None:
    lib = FactorLibrary(tuple(f for f in TEST_FACTORS if not f.factor_id.startswith("grid_excl")))
    fp = batch_footprint(facts("X", "10", "100"), library=lib, upstream=resolver({}), family="ghg_co2_grid")
    assert fp.market.electricity == Decimal("50000")  # 100 MWh × 0.5 national average, not 0.1 Yunnan
    assert any("used as a fallback" in n for n in fp.notes)


def test_location_falls_back_from_province_to_grid_region() -> None:
    gd = BatchFacts("GD", "x", Decimal(10), date(2025, 1, 1), date(2025, 1, 31), Decimal(100), "CN-SOUTH",
                    "CN-GD", "CN")
    fp = batch_footprint(gd, library=LIB, upstream=resolver({}), family="ghg_co2_grid")
    assert fp.location.electricity == Decimal("40000")  # 100 MWh × 0.4 southern grid
    assert any("no ghg_co2_grid factor is published for CN-GD; CN-SOUTH" in n for n in fp.notes)


# -- properties ----------------------------------------------------------------------------

amounts = st.decimals(min_value=0, max_value=100000, places=3, allow_nan=False, allow_infinity=False)
TECHS = ("hydro", "wind", "solar", "biomass")


@st.composite
def random_batches(draw: st.DrawFn) -> tuple[BatchFacts, list[tuple[str, int]]]:
    """A batch without green power and a list of (technology, share of MWh) to add later."""
    mwh = draw(amounts)
    fuels = tuple(FuelUse(k, draw(amounts), u) for k, u in
                  draw(st.lists(st.sampled_from([("coal", "t"), ("natural_gas", "m3"), ("diesel", "t")]),
                                max_size=3)))
    gases = tuple(ProcessEmission(g, draw(amounts)) for g in
                  draw(st.lists(st.sampled_from(["CO2", "CH4", "N2O", "CF4", "C2F6"]), max_size=3)))
    inputs = tuple(MaterialInput("factor", m, draw(amounts)) for m in
                   draw(st.lists(st.sampled_from(["material_bauxite", "material_alumina"]), max_size=2)))
    batch = facts("R", str(draw(st.integers(1, 100000))), str(mwh), fuels=fuels, process_emissions=gases,
                  inputs=inputs)
    shares = draw(st.lists(st.tuples(st.sampled_from(TECHS), st.integers(0, 25)), max_size=4))
    return batch, shares


def with_green(batch: BatchFacts, shares: list[tuple[str, int]], upto: int) -> BatchFacts:
    """Allocate the first ``upto`` shares (percent of metered MWh; four at most, so ≤ 100 %)."""
    green = tuple(GreenAllocation(batch.electricity_mwh * pct / 100, tech, "2025-01", "CN-GEC")
                  for tech, pct in shares[:upto] if batch.electricity_mwh * pct > 0)
    return dataclasses.replace(batch, green=green)


def walk(node: Any) -> None:
    assert not isinstance(node, float)
    if isinstance(node, dict):
        for k, v in node.items():
            assert isinstance(k, str)
            walk(v)
    elif isinstance(node, list):
        for v in node:
            walk(v)
    else:
        assert node is None or isinstance(node, str | int)


@settings(max_examples=150, deadline=None)
@given(random_batches())
def test_without_green_market_equals_location_when_both_use_the_national_average(
        drawn: tuple[BatchFacts, list[tuple[str, int]]]) -> None:
    fp = batch_footprint(drawn[0], library=LIB, upstream=resolver({}))
    assert fp.market == fp.location
    assert sum(fp.by_gas_kg_co2e.values()) == fp.market.total


@settings(max_examples=150, deadline=None)
@given(random_batches(), st.sampled_from(["lca_power", "ghg_co2_grid"]))
def test_more_green_never_increases_the_market_figure(
        drawn: tuple[BatchFacts, list[tuple[str, int]]], family: str) -> None:
    batch, shares = drawn
    figures = [batch_footprint(with_green(batch, shares, n), library=LIB, upstream=resolver({}),
                               family=family) for n in range(len(shares) + 1)]
    for less, more in itertools.pairwise(figures):
        assert more.market.total <= less.market.total
        assert more.location == less.location
    if family == "lca_power":  # technology factors (≤ 0.05) are below the national average (0.5)
        assert all(f.market.total <= f.location.total for f in figures)
    for f in figures:
        walk(f.to_json())
        assert all(isinstance(v, Decimal) for v in f.by_gas_kg_co2e.values())
        assert set(f.by_gas_kg_co2e) == set(BY_GAS_KEYS)


# -- the real library and scenario ---------------------------------------------------------

SCENARIO = Path(__file__).resolve().parents[2] / "sample_data" / "scenario"


def read(name: str) -> list[dict[str, str]]:
    with (SCENARIO / name).open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def scenario_batches() -> dict[str, BatchFacts]:
    """Parse ``batches.csv`` with its cell mini-syntax (sample_data/README.md); green MWh from
    ``allocations.csv`` with the certificate's technology; a hydro allocation counts as
    voucher-covered when the facility holds a voucher for that month (all the smelter's
    vouchers are hydro), nothing is attested."""
    facilities = {r["facility_id"]: r for r in read("facilities.csv")}
    certs = {r["first"]: r for r in read("certificates.csv")}
    vouchers = {(r["facility"], r["period_start"]) for r in read("vouchers.csv")}
    green: dict[str, list[GreenAllocation]] = {}
    lots = {r["lot"]: r for r in read("batches.csv")}
    for a in read("allocations.csv"):
        cert = certs[a["certificate_first"]]
        month = lots[a["batch"]]["period_start"][:7]
        covered = cert["technology"] == "hydro" and (lots[a["batch"]]["facility"], month) in vouchers
        green.setdefault(a["batch"], []).append(GreenAllocation(
            Decimal(a["mwh"]), cert["technology"], cert["generation_month"], cert["registry"], False,
            Decimal(a["mwh"]) if covered else Decimal(0)))
    out = {}
    for lot, r in lots.items():
        fac = facilities[r["facility"]]
        fuels = tuple(FuelUse(k, Decimal(q.split(" ")[0]), q.split(" ")[1])
                      for k, q in (item.split(":") for item in r["fuels"].split(";") if item))
        gases = tuple(ProcessEmission(g, Decimal(kg))
                      for g, kg in (item.split(":") for item in r["process_emissions"].split(";") if item))
        inputs = []
        for item in filter(None, r["inputs"].split(";")):
            kind, ref, amount = item.split(":")
            qty, _, unit = amount.partition(" ")
            inputs.append(MaterialInput(kind, ref, Decimal(qty), unit or "t"))  # type: ignore[arg-type]
        out[lot] = BatchFacts(lot, r["product"], Decimal(r["tonnes"]), date.fromisoformat(r["period_start"]),
                              date.fromisoformat(r["period_end"]), Decimal(r["electricity_mwh"]),
                              fac["grid_region"], fac["province"], fac["country"], fuels, gases,
                              tuple(inputs), tuple(green.get(lot, ())), Decimal(r["recycled_tonnes"]))
    return out


@pytest.fixture(scope="module")
def real() -> FactorLibrary:
    return FactorLibrary.load()


def test_every_scenario_batch_prices_with_factors_that_exist_in_the_csv(real: FactorLibrary) -> None:
    with (SCENARIO.parent / "factors.csv").open(encoding="utf-8", newline="") as handle:
        rows = {r["factor_id"]: r for r in csv.DictReader(handle)}
    batches = scenario_batches()
    for family in ("lca_power", "ghg_co2_grid"):
        for gwp in ("AR6", "AR5"):
            up = resolver(batches, real, family=family, gwp_set=gwp)
            for lot in batches:
                fp = up(lot)
                for use in fp.factors:
                    row = rows[use.factor_id]
                    assert (Decimal(row["value"]), row["unit"], row["source"]) == (use.value, use.unit,
                                                                                   use.source)
                walk(fp.to_json())
                assert fp.market.total > 0


def test_a_yunnan_hydro_smelter_batch_is_plausible(real: FactorLibrary) -> None:
    batches = scenario_batches()
    lca = resolver(batches, real)("AL-2025-01")
    grid = resolver(batches, real, family="ghg_co2_grid")("AL-2025-01")
    m, loc = lca.market_per_tonne.total, lca.location_per_tonne.total
    print(f"\nAL-2025-01 lca_power AR6: market {m:.3f} kg CO2e/t, location {loc:.3f} kg CO2e/t, "
          f"green {lca.green_share:.2f} %, primary {lca.primary_data_share:.2f} %")
    print(f"AL-2025-01 ghg_co2_grid AR6: market {grid.market_per_tonne.total:.3f}, "
          f"location {grid.location_per_tonne.total:.3f} kg CO2e/t")
    assert 2000 < m < 9000
    assert loc > m
    assert lca.family == "lca_power" and lca.tiers == 2
    # direct from the CSV values: anode CO2 19,089,600 + CF4 236.2 × 7,380 + C2F6 23.6 × 12,400
    #   + natural gas 430,500 m3 × (2.1840291 + 0.000038931 × 29.8 + 0.0000038931 × 273)
    #   + diesel 18 t × (3,186.3 + 0.129 × 29.8 + 0.0258 × 273)
    direct = (Decimal(19089600) + Decimal("236.2") * 7380 + Decimal("23.6") * 12400
              + 430500 * (Decimal("2.1840291") + Decimal("0.000038931") * Decimal("29.8")
                          + Decimal("0.0000038931") * 273)
              + 18 * (Decimal("3186.3") + Decimal("0.129") * Decimal("29.8") + Decimal("0.0258") * 273))
    assert lca.market.direct == direct
    # electricity market: (163,344 − 114,341 hydro − 13,067 wind) × 1,000 × 0.5777
    #   + 114,341 × 1,000 × 0.0141 + 13,067 × 1,000 × 0.0324
    assert lca.market.electricity == (35936 * 1000 * Decimal("0.5777") + 114341 * 1000 * Decimal("0.0141")
                                      + 13067 * 1000 * Decimal("0.0324"))
    assert grid.market.electricity == 35936 * 1000 * Decimal("0.6096")
    assert grid.location.electricity == 163344 * 1000 * Decimal("0.1333")
