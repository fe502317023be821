"""PACT v3.0 payload builder and validator (certificates/pact.py, certificates/pact_model.py)."""

from __future__ import annotations

import copy
import dataclasses
import json
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from certificates.content import (
    Breakdown,
    CertificateUsed,
    DeclarationContent,
    Factor,
    LedgerBinding,
    Party,
    Product,
    VoucherUsed,
)
from certificates.pact import (
    PACT_V3_SPEC_VERSION,
    build_product_footprint,
    ledger_section,
    payload_core,
)
from certificates.pact_model import assert_valid, validate_product_footprint
from ledger.errors import InputError

SCHEMA_URL = "https://ledger.example.cn/schemas/greenledger-declaration/1.0.0/schema.json"
DECL_ID = "3f1c2d4e-5a6b-4c7d-8e9f-0a1b2c3d4e5f"


def make_content(**changes: Any) -> DeclarationContent:
    content = DeclarationContent(
        declaration_id=DECL_ID,
        created=datetime(2026, 5, 12, 3, 4, 5, tzinfo=UTC),
        issuer=Party(
            "p-yunlv",
            "云南某铝业有限公司 / Yunnan Example Aluminium Co., Ltd.",
            "91530000MA6K7XYW1B",
        ),
        buyer=Party("p-buyer", "Example Buyer GmbH"),
        product=Product(
            name="Primary aluminium ingot 99.70 / 原铝锭 Al99.70",
            description="Unalloyed primary aluminium ingot, 99.70 % Al, prebake electrolysis",
            metal="aluminium",
            grade="Al99.70",
            cn_code="76011000",
            product_id="al-ingot-9970",
        ),
        shipment_id="SH-2026-0042",
        shipment_date=date(2026, 5, 10),
        destination_country="DE",
        tonnes=Decimal("250.000"),
        period_start=date(2026, 1, 1),
        period_end=date(2026, 3, 31),
        geography_country="CN",
        geography_subdivision="CN-YN",
        facility_names=("Wenshan smelter potline 2",),
        market=Breakdown(Decimal("2150.4"), Decimal("1720.25"), Decimal("629.35")),  # 4500
        location=Breakdown(Decimal("2150.4"), Decimal("1720.25"), Decimal("1229.35")),  # 5100
        fossil_kg_per_tonne=Decimal("4380.125"),
        factor_family="lca-power-footprint",
        gwp_set="AR6",
        electricity_mwh=Decimal("3350.125"),
        green_mwh=Decimal("2000.000"),
        green_mwh_attested=Decimal("1500.000"),
        green_mwh_voucher_covered=Decimal("1800.000"),
        primary_data_share=Decimal("62.5"),
        recycled_share=Decimal("0"),
        certificates=(
            CertificateUsed(
                "CN-GEC",
                "A" * 17 + "000000000000001",
                "A" * 17 + "000000000002000",
                Decimal("2000"),
                "hydro",
                "Example Hydropower Station",
                "2026-02",
                True,
                False,
            ),
        ),
        vouchers=(
            VoucherUsed(
                "Kunming Electric Power Exchange Center",
                "KM-2026-001",
                Decimal("1800"),
                "2026-01..2026-03",
            ),
        ),
        factors=(
            Factor(
                "Grid CN national excl. market-traded non-fossil (2023)",
                Decimal("0.5366"),
                "kg CO2e/kWh",
                "MEE 2023 electricity CO2 emission factors",
                2023,
            ),
            Factor(
                "Hydropower life-cycle",
                Decimal("0.0105"),
                "kg CO2e/kWh",
                "MEE 2023 electricity CO2 emission factors",
                2023,
            ),
        ),
        by_gas_kg_per_tonne={
            "CO2": Decimal("4200.5"),
            "CF4": Decimal("250.25"),
            "C2F6": Decimal("49.25"),
        },
        boundary="Cradle-to-gate: alumina, anodes, electrolysis, casting; excludes capital goods.",
        verify_url=f"https://ledger.example.cn/verify/{DECL_ID}",
    )
    return dataclasses.replace(content, **changes)


LEDGER = ledger_section(
    LedgerBinding(
        seq=41,
        entry='{"v":1}',
        leaf_hash="ab" * 32,
        tree_size=42,
        inclusion_proof=("cd" * 32, "ef" * 32),
        checkpoint="ledger.example.cn\n42\nAAAA\n",
    )
)


def build(content: DeclarationContent | None = None, ledger: dict | None = LEDGER) -> dict:
    return build_product_footprint(
        content or make_content(), extension_schema_url=SCHEMA_URL, ledger=ledger
    )


def walk(value: Any, path: str = "$"):
    yield path, value
    if isinstance(value, dict):
        for k, v in value.items():
            yield from walk(v, f"{path}.{k}")
    elif isinstance(value, list):
        for i, v in enumerate(value):
            yield from walk(v, f"{path}[{i}]")


# --- the built payload ------------------------------------------------------------------------


def test_payload_validates_and_is_plain_json() -> None:
    doc = build()
    assert validate_product_footprint(doc) == []
    bad = [
        p
        for p, v in walk(doc)
        if not isinstance(v, str | int | bool | list | dict | type(None)) or isinstance(v, float)
    ]
    assert bad == []
    assert json.loads(json.dumps(doc)) == doc


def test_headline_figures_are_per_kg_strings() -> None:
    c, pcf = make_content(), build()["pcf"]
    assert pcf["pcfExcludingBiogenicUptake"] == "4.500000"
    assert Decimal(pcf["pcfExcludingBiogenicUptake"]) == c.market.total / 1000
    assert pcf["pcfIncludingBiogenicUptake"] == pcf["pcfExcludingBiogenicUptake"]
    assert pcf["fossilGhgEmissions"] == "4.380125"
    assert (pcf["declaredUnitOfMeasurement"], pcf["declaredUnitAmount"]) == ("kilogram", "1")
    assert pcf["primaryDataShare"] == "62.50"
    assert pcf["ipccCharacterizationFactors"] == ["AR6"]
    assert pcf["crossSectoralStandards"] == ["ISO14067"]
    assert pcf["geographyCountrySubdivision"] == "CN-YN" and "geographyCountry" not in pcf
    assert pcf["referencePeriodStart"] == "2026-01-01T00:00:00Z"
    assert pcf["referencePeriodEnd"] == "2026-04-01T00:00:00Z"


def test_header_ids_and_extension() -> None:
    doc = build()
    assert doc["id"] == DECL_ID and doc["specVersion"] == PACT_V3_SPEC_VERSION == "3.0.3"
    assert doc["created"] == "2026-05-12T03:04:05Z" and doc["status"] == "Active"
    assert doc["companyIds"] == [
        "urn:pact:gsxt.gov.cn:uscc:91530000MA6K7XYW1B",
        "urn:pact:ledger.example.cn:party-id:p-yunlv",
    ]
    assert doc["productIds"] == ["urn:pact:ledger.example.cn:product-id:al-ingot-9970"]
    assert doc["productClassifications"] == [
        "urn:pact:ec.europa.eu:cn-code:76011000",
        "urn:pact:wcoomd.org:hs-code:760110",
    ]
    [ext] = doc["extensions"]
    assert (ext["specVersion"], ext["dataSchema"]) == ("2.0.0", SCHEMA_URL)
    data = ext["data"]
    assert data["marketBased"] == {
        "total": "4.500000",
        "upstream": "2.150400",
        "direct": "1.720250",
        "electricity": "0.629350",
    }
    assert data["locationBased"]["total"] == "5.100000"
    assert data["byGas"] == {"CO2": "4.200500", "CF4": "0.250250", "C2F6": "0.049250"}
    assert (data["greenMwh"], data["electricityMwh"], data["greenShare"]) == (
        "2000.000",
        "3350.125",
        "59.70",
    )
    assert data["shipment"] == {
        "id": "SH-2026-0042",
        "date": "2026-05-10",
        "tonnes": "250.000",
        "destinationCountry": "DE",
    }
    assert (
        data["certificates"][0]["mwh"] == "2000.000" and data["certificates"][0]["attested"] is True
    )
    assert data["factors"][0] == {
        "name": "Grid CN national excl. market-traded non-fossil (2023)",
        "value": "0.5366",
        "unit": "kg CO2e/kWh",
        "source": "MEE 2023 electricity CO2 emission factors",
        "year": 2023,
    }
    assert doc["pcf"]["secondaryEmissionFactorSources"] == [
        {"name": "MEE 2023 electricity CO2 emission factors", "version": "2023"}
    ]
    assert data["ledger"] == LEDGER


def test_payload_core_removes_only_the_ledger() -> None:
    doc = build()
    before = copy.deepcopy(doc)
    core = payload_core(doc)
    assert doc == before  # the argument is untouched
    assert "ledger" not in core["extensions"][0]["data"]
    core["extensions"][0]["data"]["ledger"] = LEDGER
    assert core == doc
    assert payload_core(doc) == build(ledger=None)  # the core does not depend on the ledger


def test_country_only_geography_and_preceding_ids() -> None:
    prev = "0d6c9a2b-1e3f-4a5b-9c8d-7e6f5a4b3c2d"
    doc = build(make_content(geography_subdivision=None, preceding_ids=(prev,)))
    assert (
        doc["pcf"]["geographyCountry"] == "CN" and "geographyCountrySubdivision" not in doc["pcf"]
    )
    assert doc["precedingPfIds"] == [prev]


def test_created_is_converted_to_utc() -> None:
    beijing = timezone(timedelta(hours=8))
    doc = build(make_content(created=datetime(2026, 5, 12, 11, 4, 5, tzinfo=beijing)))
    assert doc["created"] == "2026-05-12T03:04:05Z"


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"created": datetime(2026, 5, 12)}, "created"),  # naive
        ({"declaration_id": "not-a-uuid"}, "declaration_id"),
        ({"declaration_id": DECL_ID.upper()}, "declaration_id"),
        ({"green_mwh": Decimal("4000")}, "green_mwh"),
        ({"green_mwh_attested": Decimal("2500")}, "green_mwh_attested"),
        ({"primary_data_share": Decimal("101")}, "primary_data_share"),
        ({"geography_subdivision": "VN-01"}, "geography_subdivision"),
        ({"status": "Published"}, "status"),
        ({"gwp_set": "SAR"}, "gwp_set"),
    ],
)
def test_builder_refuses_inconsistent_content(changes: dict, field: str) -> None:
    with pytest.raises(InputError) as info:
        build(make_content(**changes))
    assert info.value.field == field


def test_builder_refuses_http_schema_url() -> None:
    with pytest.raises(InputError, match="https"):
        build_product_footprint(
            make_content(), extension_schema_url="http://x.example/s.json", ledger=None
        )


@settings(max_examples=60, deadline=None)
@given(
    st.decimals(min_value=0, max_value=100000, places=3),
    st.decimals(min_value=0, max_value=100000, places=3),
)
def test_any_breakdown_gives_valid_rounded_figures(upstream: Decimal, direct: Decimal) -> None:
    market = Breakdown(upstream, direct, Decimal("0"))
    doc = build(make_content(market=market, fossil_kg_per_tonne=direct))
    assert validate_product_footprint(doc) == []
    expected = (market.total / 1000).quantize(Decimal("0.000001"))
    assert Decimal(doc["pcf"]["pcfExcludingBiogenicUptake"]) == expected


# --- the validator on broken payloads ---------------------------------------------------------


def _without(path: str) -> dict:
    doc = build()
    *parents, last = path.split(".")
    obj = doc
    for p in parents:
        obj = obj[p]
    del obj[last]
    return doc


REQUIRED = [
    "id",
    "specVersion",
    "created",
    "status",
    "companyName",
    "companyIds",
    "productDescription",
    "productIds",
    "productNameCompany",
    "pcf",
    "pcf.declaredUnitOfMeasurement",
    "pcf.declaredUnitAmount",
    "pcf.productMassPerDeclaredUnit",
    "pcf.referencePeriodStart",
    "pcf.referencePeriodEnd",
    "pcf.pcfExcludingBiogenicUptake",
    "pcf.pcfIncludingBiogenicUptake",
    "pcf.fossilGhgEmissions",
    "pcf.fossilCarbonContent",
    "pcf.ipccCharacterizationFactors",
    "pcf.crossSectoralStandards",
    "pcf.exemptedEmissionsPercent",
]


@pytest.mark.parametrize("path", REQUIRED)
def test_missing_required_property(path: str) -> None:
    errors = validate_product_footprint(_without(path))
    assert len(errors) == 1 and errors[0].startswith(f"{path}: required property of "), errors


def test_null_required_property_is_missing() -> None:
    doc = build()
    doc["companyName"] = None
    assert validate_product_footprint(doc) == [
        "companyName: required property of ProductFootprint is missing or null"
    ]


def _set(path: str, value: Any) -> dict:
    doc = build()
    obj = doc
    keys = [
        int(k) if k.isdigit() else k for k in path.replace("[", ".").replace("]", "").split(".")
    ]
    for k in keys[:-1]:
        obj = obj[k]
    obj[keys[-1]] = value
    return doc


BROKEN = [
    ("pcf.pcfExcludingBiogenicUptake", 4.5, "must be a decimal string"),
    ("pcf.fossilGhgEmissions", "1e3", "must be a decimal string"),
    ("pcf.fossilGhgEmissions", "-0.1", "must be a decimal >= 0"),
    ("pcf.fossilGhgEmissions", "\u0663", "must be a decimal string"),  # ARABIC-INDIC THREE
    ("pcf.fossilGhgEmissions", "-0", "must be a decimal >= 0"),
    ("pcf.declaredUnitAmount", "0", "must be a decimal > 0"),
    ("pcf.biogenicCO2Uptake", "0.5", "must be a decimal <= 0"),
    ("id", "3f1c2d4e-5a6b-4c7d-8e9f-0a1b2c3d4e5", "must be a UUID"),
    ("precedingPfIds", ["{3f1c2d4e-5a6b-4c7d-8e9f-0a1b2c3d4e50}"], "must be a UUID"),
    ("companyIds[0]", "company:123", "must be a URN"),
    ("companyIds[1]", "urn:x:abc", "must be a URN"),  # NID needs 2..32 characters
    ("productIds[0]", "urn:pact:ledger.example.cn:product-id:al ingot", "must be a URN"),
    ("productClassifications[0]", "urn:pact:", "must be a URN"),
    ("companyIds", [], "must have at least 1 item"),
    ("status", "Published", "must be one of Active, Deprecated"),
    ("pcf.declaredUnitOfMeasurement", "kg", "must be one of liter, kilogram"),
    ("pcf.ipccCharacterizationFactors", ["AR6", "IPCC2021"], "like 'AR6'"),
    ("pcf.crossSectoralStandards", ["ISO 14067"], "should be one of ISO14067"),
    ("pcf.ccuCalculationApproach", "Avoided", "must be one of Cut-off, Credit"),
    ("pcf.primaryDataShare", "101", "must be between 0 and 100"),
    ("pcf.exemptedEmissionsPercent", "100.01", "must be between 0 and 100"),
    (
        "pcf.dqi",
        {"technologicalDQR": "0.5", "geographicalDQR": "2", "temporalDQR": "3"},
        "must be between 1 and 5",
    ),
    ("created", "2026-13-01T00:00:00Z", "must be an RFC 3339 date-time"),
    ("created", "2026-05-12 03:04:05", "must be an RFC 3339 date-time"),
    ("pcf.referencePeriodStart", "2026-01-01", "must be an RFC 3339 date-time"),
    ("specVersion", "3.0", "must be 'major.minor.patch'"),
    ("specVersion", "2.3.0", "implements PACT v3.0"),
    ("pcf.geographyCountry", "CN", "at most one geography property"),
    ("pcf.geographyCountrySubdivision", "Yunnan", "ISO 3166-2"),
    ("pcf.packagingGhgEmissions", "0.01", "must be undefined when packagingEmissionsIncluded"),
    ("pcf.pcfIncludingBiogenicUptake", "4.6", "must not exceed pcfExcludingBiogenicUptake"),
    ("pcf.referencePeriodEnd", "2025-12-31T00:00:00Z", "must be after referencePeriodStart"),
    ("validityPeriodStart", "2026-03-01T00:00:00Z", "must be >= pcf.referencePeriodEnd"),
    ("validityPeriodEnd", "2029-04-02T00:00:00Z", "referencePeriodEnd + 3 years"),
    ("pcf.packagingEmissionsIncluded", "false", "must be true or false"),
    (
        "pcf.productOrSectorSpecificRules",
        [{"operator": "Other", "ruleNames": ["X"]}],
        "must be populated when operator is 'Other'",
    ),
    ("statusComment", "superseded", "not a property of ProductFootprint"),
    ("extensions[0].dataSchema", "http://ledger.example.cn/s.json", "must be an https URL"),
    ("extensions[0].specVersion", "2.0", "must be a SemVer like '2.0.0'"),
    ("extensions[0].data", "x", "must be a JSON object"),
    ("extensions[0].data.greenMwh", 2000.0, "JSON number with a fraction"),
    ("extensions[0].data.ledger.seq", 2**60, "outside +-(2**53 - 1)"),
    ("extensions[0].data.shipment.tonnes", Decimal("250"), "Decimal is not a JSON value"),
]


# where the error is reported when it is not the path that was broken
ERROR_PATH = {
    "precedingPfIds": "precedingPfIds[0]",
    "pcf.ipccCharacterizationFactors": "pcf.ipccCharacterizationFactors[1]",
    "pcf.crossSectoralStandards": "pcf.crossSectoralStandards[0]",
    "pcf.dqi": "pcf.dqi.technologicalDQR",
    "pcf.geographyCountry": "pcf",
    "pcf.productOrSectorSpecificRules": "pcf.productOrSectorSpecificRules[0].otherOperatorName",
}


@pytest.mark.parametrize(("path", "value", "message"), BROKEN)
def test_broken_payload_names_the_property(path: str, value: Any, message: str) -> None:
    errors = validate_product_footprint(_set(path, value))
    assert len(errors) == 1, errors
    assert errors[0].startswith(ERROR_PATH.get(path, path) + ": "), errors
    assert message in errors[0], errors
    with pytest.raises(InputError, match=r"not a valid PACT v3\.0 ProductFootprint"):
        assert_valid(_set(path, value))


def test_biogenic_uptake_must_add_up() -> None:
    doc = _set("pcf.biogenicCO2Uptake", "-1.5")
    assert validate_product_footprint(doc) == [
        "pcf.pcfIncludingBiogenicUptake: must equal pcfExcludingBiogenicUptake + biogenicCO2Uptake"
        " = 3.000000 (to within 0.1), got 4.500000"
    ]
    doc["pcf"]["pcfIncludingBiogenicUptake"] = "3.04"  # rounding of the coarsest value allowed
    assert validate_product_footprint(doc) == []


def test_non_strict_accepts_unknown_properties_but_not_floats_in_them() -> None:
    doc = _set("x-vendor", {"ok": "1"})
    assert validate_product_footprint(doc, strict=False) == []
    assert validate_product_footprint(doc) == [
        "x-vendor: not a property of ProductFootprint in PACT v3.0 (unknown properties are "
        "refused in strict mode)"
    ]
    doc["x-vendor"] = {"bad": 1.5}
    assert validate_product_footprint(doc, strict=False) == [
        "x-vendor.bad: JSON number with a fraction (1.5); non-integer numbers must be decimal "
        "strings"
    ]


def test_other_spec_shapes_are_accepted() -> None:
    """A footprint unlike ours (region geography, biogenic terms, verification, rules) is valid."""
    doc = build(ledger=None)
    del doc["pcf"]["geographyCountrySubdivision"]
    doc["pcf"].update(
        {
            "geographyRegionOrSubregion": "Eastern Asia",
            "declaredUnitOfMeasurement": "piece",
            "declaredUnitAmount": "2",
            "productMassPerDeclaredUnit": "25.5",
            "pcfExcludingBiogenicUptake": "+1.20",
            "pcfIncludingBiogenicUptake": "-0.4",
            "biogenicCO2Uptake": "-1.6",
            "biogenicCarbonContent": "0.44",
            "landUseChangeGhgEmissions": "0",
            "packagingEmissionsIncluded": True,
            "packagingGhgEmissions": "0.05",
            "ipccCharacterizationFactors": ["AR5", "AR6"],
            "crossSectoralStandards": ["GHGP-Product", "PACT-3.0"],
            "productOrSectorSpecificRules": [
                {
                    "operator": "Other",
                    "ruleNames": ["Rulebook v3"],
                    "otherOperatorName": "An initiative",
                }
            ],
            "dqi": {"technologicalDQR": "1", "geographicalDQR": "2.2", "temporalDQR": "5"},
            "verification": {
                "coverage": "product level",
                "providerName": "Auditor X",
                "completedAt": "2026-04-08T14:47:32.511+08:00",
            },
        }
    )
    doc.update(
        {
            "validityPeriodStart": "2026-04-01T00:00:00Z",
            "validityPeriodEnd": "2029-04-01T00:00:00Z",
            "productIds": [
                "urn:gtin:4712345060507",
                "URN:ISBN:978-951-0-18435-6",
                "urn:pact:sample.com:product-id:44055-9c05bc35-68f8?+r=1#frag",
            ],
        }
    )
    assert validate_product_footprint(doc) == []
