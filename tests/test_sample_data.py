"""Consistency of the shipped sample data: the factor library and the fictitious Yunnan scenario.

`sample_data/` is what `greenledger demo` loads and what newcomers read first, so it must obey
the same rules the ledger enforces (DESIGN.md §4) and the project rule "no number without a
source" (every factor row names its source and carries the [C]/[U] mark of FACTS.md). These
tests read the CSV files with the standard library only, so a broken file is caught before any
ledger code is involved. Cell mini-syntax and column formats are documented in
`sample_data/README.md`.
"""

from __future__ import annotations

import csv
import itertools
import re
from collections import defaultdict
from decimal import Decimal, InvalidOperation
from pathlib import Path

import pytest

SAMPLE = Path(__file__).resolve().parent.parent / "sample_data"
SCENARIO = SAMPLE / "scenario"

HEADERS = {
    SAMPLE / "factors.csv": "factor_id,family,name,region,year,value,unit,source,status,notes",
    SAMPLE / "efficiency_benchmarks.csv": (
        "product,indicator,benchmark_value,baseline_value,unit,source,status,notes"
    ),
    SAMPLE / "cbam_defaults.csv": (
        "cn_code,description,country,direct_t_co2e_per_t,indirect_t_co2e_per_t,"
        "markup_2026,markup_2027,markup_2028,source,status"
    ),
    SCENARIO / "parties.csv": "party_id,name,roles,uscc",
    SCENARIO / "facilities.csv": "facility_id,owner,name,province,grid_region,country,process",
    SCENARIO / "certificates.csv": (
        "registry,first,last,mwh,technology,plant,plant_province,country,generation_month,"
        "tradable,owner,evidence_ref,evidence_sha256"
    ),
    SCENARIO / "vouchers.csv": (
        "issuer,number,facility,period_start,period_end,mwh,technology,certificate_first,"
        "certificate_last,evidence_sha256"
    ),
    SCENARIO / "batches.csv": (
        "lot,facility,product,metal,grade,cn_code,tonnes,period_start,period_end,electricity_mwh,"
        "fuels,process_emissions,inputs,recycled_tonnes,recycled_origin"
    ),
    SCENARIO / "allocations.csv": "certificate_first,first,last,mwh,batch,beneficiary",
    SCENARIO / "shipments.csv": "shipment_id,seller,buyer,date,destination_country,lines",
}

FAMILIES = {"ghg_co2_grid", "lca_power", "combustion", "gwp", "material"}
REGIONS = {"CN", "CN-YN", "CN-SOUTH", "GLOBAL"}
STATUSES = {"[C]", "[U]"}
USCC_CHARS = set("0123456789ABCDEFGHJKLMNPQRTUWXY")
GEC_PROJECT_CHARS = 17
HEX64 = re.compile(r"[0-9a-f]{64}")
MONTH = re.compile(r"\d{4}-(0[1-9]|1[0-2])")


def read(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def decimal(text: str) -> Decimal:
    """A plain decimal string: no exponent, no sign games, finite."""
    assert text == text.strip() and text, f"empty or padded number {text!r}"
    assert "e" not in text.lower(), f"exponent in {text!r}"
    try:
        value = Decimal(text)
    except InvalidOperation:
        pytest.fail(f"not a decimal: {text!r}")
    assert value.is_finite()
    return value


def cell_items(cell: str) -> list[str]:
    return [item for item in cell.split(";") if item]


def parse_quantity(text: str) -> tuple[Decimal, str]:
    amount, unit = text.split(" ", 1)
    return decimal(amount), unit


def parse_fuels(cell: str) -> list[tuple[str, Decimal, str]]:
    fuels = []
    for item in cell_items(cell):
        key, quantity = item.split(":", 1)
        amount, unit = parse_quantity(quantity)
        fuels.append((key, amount, unit))
    return fuels


def parse_inputs(cell: str) -> list[tuple[str, str, Decimal, str]]:
    """(kind, reference, amount, unit); a batch input is in tonnes without a unit suffix."""
    inputs = []
    for item in cell_items(cell):
        kind, reference, quantity = item.split(":", 2)
        if kind == "batch":
            inputs.append((kind, reference, decimal(quantity), "t"))
        elif kind == "factor":
            amount, unit = parse_quantity(quantity)
            inputs.append((kind, reference, amount, unit))
        else:
            pytest.fail(f"unknown input kind in {item!r}")
    return inputs


def serial(registry: str, code: str) -> tuple[str, int, int]:
    """(prefix, number, width): the part that identifies the run and the counting part."""
    if registry == "CN-GEC":
        assert len(code) == 32, f"GEC code of {len(code)} characters: {code}"
        number = code[GEC_PROJECT_CHARS:]
        assert number.isdigit(), code
        return code[:GEC_PROJECT_CHARS], int(number), len(number)
    prefix, number = code.rsplit("-", 1)
    assert number.isdigit() and len(number) == 12, code
    return prefix + "-", int(number), len(number)


def span(registry: str, first: str, last: str) -> tuple[str, int, int]:
    first_prefix, low, _ = serial(registry, first)
    last_prefix, high, _ = serial(registry, last)
    assert first_prefix == last_prefix, f"{first}..{last} do not share their prefix"
    assert low <= high, f"{first}..{last} runs backwards"
    return first_prefix, low, high


def assert_disjoint(runs: dict[tuple[str, str], list[tuple[int, int]]], what: str) -> None:
    """Inclusive (low, high) ranges under each (registry, prefix) key never share a serial."""
    for key, ranges in runs.items():
        for (_, high), (low, _) in itertools.pairwise(sorted(ranges)):
            assert low > high, f"{what} under {key}"


@pytest.fixture(scope="module")
def factors() -> dict[str, dict[str, str]]:
    return {row["factor_id"]: row for row in read(SAMPLE / "factors.csv")}


@pytest.fixture(scope="module")
def certificates() -> dict[str, dict[str, str]]:
    return {row["first"]: row for row in read(SCENARIO / "certificates.csv")}


@pytest.fixture(scope="module")
def batches() -> dict[str, dict[str, str]]:
    return {row["lot"]: row for row in read(SCENARIO / "batches.csv")}


@pytest.fixture(scope="module")
def owners() -> dict[str, str]:
    return {row["facility_id"]: row["owner"] for row in read(SCENARIO / "facilities.csv")}


@pytest.mark.parametrize("path", sorted(HEADERS), ids=lambda p: p.name)
def test_every_file_has_its_documented_header(path: Path) -> None:
    with path.open(encoding="utf-8", newline="") as handle:
        header = next(csv.reader(handle))
    assert ",".join(header) == HEADERS[path]


def test_every_factor_has_a_source_a_status_and_a_decimal_value() -> None:
    for row in read(SAMPLE / "factors.csv"):
        fid = row["factor_id"]
        assert row["source"].strip(), f"{fid} has no source"
        assert row["status"] in STATUSES, f"{fid} status {row['status']!r}"
        assert row["family"] in FAMILIES, f"{fid} family {row['family']!r}"
        assert row["region"] in REGIONS, f"{fid} region {row['region']!r}"
        assert row["unit"].strip(), f"{fid} has no unit"
        assert decimal(row["value"]) >= 0, fid
        assert re.fullmatch(r"[a-z0-9_]+", fid), f"{fid} is not snake_case"


def test_factor_ids_are_unique() -> None:
    ids = [row["factor_id"] for row in read(SAMPLE / "factors.csv")]
    assert len(ids) == len(set(ids)), sorted({i for i in ids if ids.count(i) > 1})


def test_residual_rule_is_stated_on_the_residual_like_factor(factors: dict) -> None:
    notes = factors["grid_excl_market_nonfossil_cn_2023"]["notes"].lower()
    assert "residual" in notes and "never" in notes
    assert not any(
        f["family"] == "lca_power" and "residual" in f["factor_id"] for f in factors.values()
    ), "no residual-like lca_power factor is published; none may be invented"


def test_benchmark_and_cbam_rows_have_sources_and_decimal_values() -> None:
    for row in read(SAMPLE / "efficiency_benchmarks.csv"):
        assert row["source"].strip() and row["status"] in STATUSES, row
        values = [row["benchmark_value"], row["baseline_value"]]
        assert any(values), row
        for value in filter(None, values):
            decimal(value)
    for row in read(SAMPLE / "cbam_defaults.csv"):
        assert row["source"].strip() and row["status"] in STATUSES, row
        decimal(row["direct_t_co2e_per_t"])
        for column in ("indirect_t_co2e_per_t", "markup_2026", "markup_2027", "markup_2028"):
            if row[column]:
                decimal(row[column])


def test_parties_and_facilities_are_well_formed(owners: dict) -> None:
    parties = {row["party_id"]: row for row in read(SCENARIO / "parties.csv")}
    for row in parties.values():
        assert set(row["roles"].split("|")) <= {"producer", "buyer", "certifier", "operator"}
        uscc = row["uscc"]
        assert uscc == "" or (len(uscc) == 18 and set(uscc) <= USCC_CHARS), uscc
    for facility in read(SCENARIO / "facilities.csv"):
        assert facility["owner"] in parties
        assert facility["grid_region"] == "CN-SOUTH" and facility["province"] == "CN-YN"


def test_certificate_codes_and_mwh_agree(certificates: dict) -> None:
    for row in certificates.values():
        _, low, high = span(row["registry"], row["first"], row["last"])
        assert int(row["mwh"]) == high - low + 1, row["first"]
        assert MONTH.fullmatch(row["generation_month"]), row["generation_month"]
        assert HEX64.fullmatch(row["evidence_sha256"]) and row["evidence_ref"], row["first"]
        if row["registry"] == "CN-GEC":
            assert row["tradable"] == ("false" if row["technology"] == "hydro" else "true")
        else:
            assert row["registry"] == "I-REC"
            assert row["generation_month"] <= "2024-12", "no Chinese I-REC after 2024"


def test_no_serial_exists_in_two_certificates(certificates: dict) -> None:
    runs = defaultdict(list)
    for row in certificates.values():
        prefix, low, high = span(row["registry"], row["first"], row["last"])
        runs[(row["registry"], prefix)].append((low, high))
    assert_disjoint(runs, "overlapping certificate ranges")


def test_no_plant_month_is_claimed_through_two_registries(certificates: dict) -> None:
    registries = defaultdict(set)
    for row in certificates.values():
        registries[(row["plant"], row["generation_month"])].add(row["registry"])
    assert all(len(r) == 1 for r in registries.values())


def test_allocations_lie_inside_their_certificate(certificates: dict) -> None:
    for row in read(SCENARIO / "allocations.csv"):
        certificate = certificates[row["certificate_first"]]
        registry = certificate["registry"]
        prefix, low, high = span(registry, row["first"], row["last"])
        cert_prefix, cert_low, cert_high = span(registry, certificate["first"], certificate["last"])
        assert prefix == cert_prefix and cert_low <= low and high <= cert_high, row
        assert int(row["mwh"]) == high - low + 1, row


def test_no_serial_is_allocated_twice(certificates: dict) -> None:
    retired = defaultdict(list)
    for row in read(SCENARIO / "allocations.csv"):
        registry = certificates[row["certificate_first"]]["registry"]
        prefix, low, high = span(registry, row["first"], row["last"])
        retired[(registry, prefix)].append((low, high))
    assert_disjoint(retired, "a serial allocated twice")


def test_allocated_mwh_never_exceeds_batch_electricity(batches: dict) -> None:
    allocated = defaultdict(Decimal)
    for row in read(SCENARIO / "allocations.csv"):
        allocated[row["batch"]] += decimal(row["mwh"])
    for lot, mwh in allocated.items():
        assert mwh <= decimal(batches[lot]["electricity_mwh"]), lot


def test_certificate_vintage_is_in_the_batch_production_year(
    certificates: dict, batches: dict, owners: dict
) -> None:
    for row in read(SCENARIO / "allocations.csv"):
        batch = batches[row["batch"]]
        vintage = certificates[row["certificate_first"]]["generation_month"][:4]
        assert vintage == batch["period_start"][:4] == batch["period_end"][:4], row
        assert row["beneficiary"] == owners[batch["facility"]], row


def test_vouchers_are_unique_and_match_their_certificates(certificates: dict) -> None:
    numbers = set()
    for row in read(SCENARIO / "vouchers.csv"):
        key = (row["issuer"], row["number"])
        assert key not in numbers, key
        numbers.add(key)
        assert MONTH.fullmatch(row["period_start"]) and MONTH.fullmatch(row["period_end"])
        assert HEX64.fullmatch(row["evidence_sha256"])
        decimal(row["mwh"])
        if row["certificate_first"]:
            _, low, high = span("CN-GEC", row["certificate_first"], row["certificate_last"])
            assert int(row["mwh"]) == high - low + 1, row["number"]
            assert row["certificate_first"] in certificates


def test_shipments_never_exceed_batch_tonnes(batches: dict) -> None:
    shipped = defaultdict(Decimal)
    for row in read(SCENARIO / "shipments.csv"):
        for line in cell_items(row["lines"]):
            lot, tonnes = line.split(":")
            shipped[lot] += decimal(tonnes)
    for lot, tonnes in shipped.items():
        assert tonnes <= decimal(batches[lot]["tonnes"]), lot


def test_upstream_batches_are_consumed_only_after_being_shipped_to_the_consumer(
    batches: dict, owners: dict
) -> None:
    received = defaultdict(Decimal)
    for row in read(SCENARIO / "shipments.csv"):
        for line in cell_items(row["lines"]):
            lot, tonnes = line.split(":")
            received[(row["buyer"], lot)] += decimal(tonnes)
    consumed = defaultdict(Decimal)
    for batch in batches.values():
        for kind, reference, tonnes, _ in parse_inputs(batch["inputs"]):
            if kind == "batch":
                assert reference in batches, reference
                consumed[(owners[batch["facility"]], reference)] += tonnes
    assert consumed, "no batch input references an upstream batch"
    for key, tonnes in consumed.items():
        assert tonnes <= received[key], f"{key}: consumes {tonnes} t, received {received[key]} t"


def test_every_referenced_factor_exists_with_a_matching_unit(batches: dict, factors: dict) -> None:
    for batch in batches.values():
        for kind, reference, _, unit in parse_inputs(batch["inputs"]):
            if kind == "factor":
                assert reference in factors, f"{batch['lot']}: unknown factor {reference}"
                assert factors[reference]["unit"].endswith("/" + unit), (batch["lot"], reference)


def test_every_fuel_key_has_combustion_factors_with_a_matching_unit(
    batches: dict, factors: dict
) -> None:
    for batch in batches.values():
        for key, amount, unit in parse_fuels(batch["fuels"]):
            assert amount >= 0
            for gas in ("co2", "ch4", "n2o"):
                factor = factors.get(f"combustion_{key}_{gas}")
                assert factor is not None, f"{batch['lot']}: no combustion_{key}_{gas}"
                assert factor["family"] == "combustion"
                assert factor["unit"].endswith("/" + unit), (batch["lot"], key, unit)


def test_process_gases_have_gwps_in_both_reports(batches: dict, factors: dict) -> None:
    for batch in batches.values():
        for item in cell_items(batch["process_emissions"]):
            gas, kg = item.split(":")
            assert decimal(kg) >= 0
            for report in ("ar5", "ar6"):
                assert f"gwp_{gas.lower()}_{report}" in factors, (batch["lot"], gas)


def test_batch_periods_and_quantities_are_well_formed(batches: dict, owners: dict) -> None:
    for batch in batches.values():
        assert batch["facility"] in owners
        assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", batch["period_start"])
        assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", batch["period_end"])
        assert batch["period_start"] <= batch["period_end"]
        assert decimal(batch["tonnes"]) > 0 and decimal(batch["electricity_mwh"]) > 0
        assert decimal(batch["recycled_tonnes"]) <= decimal(batch["tonnes"])
