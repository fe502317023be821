"""The factor library: loading refuses what has no source or no plain decimal; lookups follow the
naming rules of ``sample_data/README.md`` and choose the latest year not after production."""

from __future__ import annotations

import csv
from decimal import Decimal
from pathlib import Path

import pytest

from ledger.errors import InputError, NotFound
from ledger.factors import COLUMNS, DEFAULT_PATH, Factor, FactorLibrary

HEADER = ",".join(COLUMNS)
GOOD = 'gwp_cf4_ar6,gwp,GWP100 CF4,GLOBAL,2021,7380,kg CO2e/kg,"IPCC AR6 WG1 (2021)",[C],'


@pytest.fixture(scope="module")
def real() -> FactorLibrary:
    return FactorLibrary.load()


def write(tmp_path: Path, *rows: str) -> Path:
    path = tmp_path / "factors.csv"
    path.write_text("\n".join((HEADER, *rows)) + "\n", encoding="utf-8")
    return path


# -- loading -------------------------------------------------------------------------------


def test_the_sample_library_loads_every_row_with_a_decimal_value_and_a_source(real: FactorLibrary) -> None:
    with DEFAULT_PATH.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert len(real) == len(rows) == 65
    for row in rows:
        f = real.get(row["factor_id"])
        assert isinstance(f.value, Decimal) and f.value == Decimal(row["value"])
        assert f.source == row["source"] and f.source
        assert f.unit == row["unit"] and f.status == row["status"]
        assert f.year == (int(row["year"]) if row["year"] else None)


def test_default_path_is_the_repository_sample_data() -> None:
    expected = Path(__file__).resolve().parents[2] / "sample_data" / "factors.csv"
    assert expected == DEFAULT_PATH


def test_a_row_without_source_is_refused_with_its_line_and_field(tmp_path: Path) -> None:
    path = write(tmp_path, GOOD, "gwp_c2f6_ar6,gwp,GWP100 C2F6,GLOBAL,2021,12400,kg CO2e/kg,,[C],")
    with pytest.raises(InputError) as err:
        FactorLibrary.load(path)
    assert err.value.field == "source"
    assert "line 3" in err.value.message


@pytest.mark.parametrize("value", ["1,5", "1e3", "abc", "", "NaN", " "])
def test_a_non_decimal_value_is_refused(tmp_path: Path, value: str) -> None:
    path = write(tmp_path, f'gwp_cf4_ar6,gwp,GWP100 CF4,GLOBAL,2021,"{value}",kg CO2e/kg,IPCC AR6,[C],')
    with pytest.raises(InputError) as err:
        FactorLibrary.load(path)
    assert err.value.field == "value"
    assert "line 2" in err.value.message


def test_a_duplicate_id_is_refused_naming_both_lines(tmp_path: Path) -> None:
    path = write(tmp_path, GOOD, GOOD.replace("7380", "7390"))
    with pytest.raises(InputError) as err:
        FactorLibrary.load(path)
    assert err.value.field == "factor_id"
    assert "line 3" in err.value.message and "line 2" in err.value.message


@pytest.mark.parametrize(("row", "field"), [
    ("gwp_cf4_ar6,gas,GWP100 CF4,GLOBAL,2021,7380,kg CO2e/kg,IPCC,[C],", "family"),
    ("gwp_cf4_ar6,gwp,GWP100 CF4,GLOBAL,2021,7380,t CO2e/kg,IPCC,[C],", "unit"),
    ("combustion_coal_co2,combustion,coal,GLOBAL,2006,2440.68,kg CO2/kg,IPCC,[U],", "unit"),
    ("gwp_cf4_ar6,gwp,GWP100 CF4,GLOBAL,21,7380,kg CO2e/kg,IPCC,[C],", "year"),
    ("gwp_cf4_ar6,gwp,GWP100 CF4,GLOBAL,2021,7380,kg CO2e/kg,IPCC,C,", "status"),
    ("gwp_cf4_ar6,gwp,GWP100 CF4,GLOBAL,2021,-1,kg CO2e/kg,IPCC,[C],", "value"),
    ("GWP-CF4,gwp,GWP100 CF4,GLOBAL,2021,7380,kg CO2e/kg,IPCC,[C],", "factor_id"),
    ("gwp_cf4_ar6,gwp,GWP100 CF4,GLOBAL,2021,7380,kg CO2e/kg,IPCC,[C]", "row"),
])
def test_malformed_rows_are_refused_naming_the_field(tmp_path: Path, row: str, field: str) -> None:
    with pytest.raises(InputError) as err:
        FactorLibrary.load(write(tmp_path, row))
    assert err.value.field == field


def test_a_wrong_header_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "factors.csv"
    path.write_text("id,family\n", encoding="utf-8")
    with pytest.raises(InputError) as err:
        FactorLibrary.load(path)
    assert err.value.field == "header"


def test_a_missing_file_is_an_input_error(tmp_path: Path) -> None:
    with pytest.raises(InputError):
        FactorLibrary.load(tmp_path / "absent.csv")


def test_a_library_built_from_factors_refuses_duplicates() -> None:
    f = Factor("gwp_co2_ar6", "gwp", "CO2", "GLOBAL", 2021, Decimal(1), "kg CO2e/kg", "TEST", "[C]")
    with pytest.raises(InputError):
        FactorLibrary((f, f))


def test_an_unknown_id_is_not_found(real: FactorLibrary) -> None:
    with pytest.raises(NotFound) as err:
        real.get("grid_avg_cn_xz_2023")
    assert isinstance(err.value, LookupError)
    assert "grid_avg_cn_xz_2023" not in real


# -- lookups -------------------------------------------------------------------------------


def test_grid_takes_the_latest_year_not_after_production(real: FactorLibrary) -> None:
    yn = real.grid("ghg_co2_grid", "CN-YN", 2025)
    assert (yn.factor.factor_id, yn.factor.value, yn.fallback) == ("grid_avg_cn_yn_2023", Decimal("0.1333"),
                                                                   False)
    assert yn.note == ("grid_avg_cn_yn_2023: factor year 2023 used for 2025 production "
                       "(latest published not after it)")
    assert real.grid("ghg_co2_grid", "CN-YN", 2022).factor.value == Decimal("0.1073")
    assert real.grid("ghg_co2_grid", "CN-YN", 2022).note is None
    assert real.grid("lca_power", "CN", 2025).factor.factor_id == "lca_power_cn_2024"
    assert real.grid("lca_power", "CN", 2023).factor.value == Decimal("0.6205")
    residual = real.grid("ghg_co2_grid", "CN", 2025, basis="excl_market_nonfossil")
    assert (residual.factor.factor_id, residual.factor.value) == ("grid_excl_market_nonfossil_cn_2023",
                                                                  Decimal("0.6096"))
    assert real.grid("ghg_co2_grid", "CN", 2025).factor.factor_id == "grid_avg_cn_2023"
    assert real.grid("ghg_co2_grid", "CN", 2025, basis="fossil").factor.value == Decimal("0.8273")
    assert real.grid("ghg_co2_grid", "CN-SOUTH", 2025).factor.factor_id == "grid_avg_cn_south_2023"


def test_grid_before_the_first_published_year_falls_back_to_the_latest_and_says_so(
        real: FactorLibrary) -> None:
    choice = real.grid("ghg_co2_grid", "CN-YN", 2019)
    assert choice.fallback and choice.factor.factor_id == "grid_avg_cn_yn_2023"
    assert choice.note is not None and "no factor published for 2019 or earlier" in choice.note


def test_grid_refuses_unknown_family_basis_or_region(real: FactorLibrary) -> None:
    with pytest.raises(InputError):
        real.grid("material", "CN", 2025)
    with pytest.raises(InputError):
        real.grid("lca_power", "CN", 2025, basis="excl_market_nonfossil")
    with pytest.raises(NotFound):
        real.grid("lca_power", "CN-YN", 2025)  # no provincial power footprint factor is published


def test_technology_factors(real: FactorLibrary) -> None:
    assert real.lca_technology("hydro", 2025).factor.value == Decimal("0.0141")
    assert real.lca_technology("wind", 2025).factor.factor_id == "lca_power_wind_cn_2024"
    assert real.lca_technology("wind", 2023).factor.value == Decimal("0.0336")
    assert real.lca_technology("PV", 2025).factor.factor_id == "lca_power_solar_cn_2024"
    assert real.lca_technology("solar", 2023).factor.value == Decimal("0.0545")
    assert real.lca_technology("biomass", 2025).factor.value == Decimal("0.0404")
    hydro_2023 = real.lca_technology("hydro", 2023)  # hydro exists only for 2024
    assert hydro_2023.fallback and hydro_2023.factor.year == 2024
    with pytest.raises(InputError) as err:
        real.lca_technology("coal", 2025)  # a certificate is never coal
    assert err.value.field == "technology"


def test_gwp(real: FactorLibrary) -> None:
    assert real.gwp("CF4", "AR5").value == 6630 and real.gwp("CF4", "AR6").value == 7380
    assert real.gwp("C2F6", "AR5").value == 11100 and real.gwp("C2F6", "AR6").value == 12400
    assert real.gwp("CH4", "AR6").value == Decimal("29.8") and real.gwp("CO2", "AR6").value == 1
    with pytest.raises(InputError):
        real.gwp("SF6", "AR6")
    with pytest.raises(InputError):
        real.gwp("CF4", "AR4")


@pytest.mark.parametrize("fuel", ["coal", "natural_gas", "diesel", "fuel_oil", "petroleum_coke", "lpg"])
def test_every_fuel_key_has_co2_ch4_and_n2o(real: FactorLibrary, fuel: str) -> None:
    unit = "m3" if fuel == "natural_gas" else "t"
    for gas in ("CO2", "CH4", "N2O"):
        f = real.combustion(fuel, gas, amount_unit=unit)
        assert f.unit == f"kg {gas}/{unit}" and f.per_unit == unit


def test_combustion_refuses_an_amount_in_another_unit(real: FactorLibrary) -> None:
    with pytest.raises(InputError) as err:
        real.combustion("natural_gas", "CO2", amount_unit="t", field="fuels[1]")
    assert err.value.field == "fuels[1].unit"
    assert "m3" in err.value.message
    with pytest.raises(InputError) as err:
        real.combustion("coal", "CO2", amount_unit="m3")
    assert err.value.field == "unit"


def test_combustion_refuses_an_unknown_fuel(real: FactorLibrary) -> None:
    with pytest.raises(InputError) as err:
        real.combustion("peat", "CO2", field="fuels[0]")
    assert err.value.field == "fuels[0].fuel"


def test_material_checks_family(real: FactorLibrary) -> None:
    assert real.material("material_bauxite").unit == "kg CO2e/t"
    with pytest.raises(InputError):
        real.material("gwp_cf4_ar6")
    with pytest.raises(NotFound):
        real.material("material_unobtainium")
