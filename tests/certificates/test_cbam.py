"""The EU CBAM export from a real scenario ledger: the XLSX opens and holds the footprint engine's
numbers, the JSON validates against the published schema, refusals name the field and exit 2,
and the defaults comparison, the PFCs at AR5, the indirect figure and the precursor rule are
recomputed here by hand from the recorded data.

Besides the 2025 sample scenario, the ledger holds an extrusion plant (fictitious, added here)
that makes aluminium profiles (CN 7604) from the smelter's December ingot and ships them to
Germany: the case where unwrought aluminium is a relevant precursor.
"""

from __future__ import annotations

import json
import re
from decimal import ROUND_HALF_EVEN, Decimal
from pathlib import Path

import openpyxl
import pytest
from click.testing import CliRunner
from sqlalchemy import update
from sqlmodel import Session

from api.cli import main
from certificates.cbam import cbam_communication
from certificates.cbam_rules import SCHEMA_ID, SCHEMA_PATH, is_covered
from ledger.config import load_settings
from ledger.domain import domain_log
from ledger.domain.tables import Batch
from ledger.errors import RuleViolation
from ledger.factors import FactorLibrary
from ledger.importing import import_file, load_scenario
from ledger.store.engine import make_engine
from ledger.store.migrate import upgrade

SCENARIO = Path(__file__).resolve().parents[2] / "sample_data" / "scenario"
EU = "SH-AL-EU-2025-01"
EXTRUSIONS = "SH-EX-EU-2026-01"
PER_T = Decimal("0.000001")
KG = Decimal("0.001")
REQUIRED_SHEETS = ("Summary_Communication", "A_InstData", "C_Emissions&Energy", "D_Processes",
                   "Defaults_Comparison")

SHIPMENTS_HEADER = "shipment_id,seller,buyer,date,destination_country,lines\n"
#: appended in this order after the scenario (a batch needs its upstream shipped to its owner)
EXTRA = (
    ("parties", "party_id,name,roles,uscc\n"
                "p-extruder,佛山示例挤压型材有限公司 Foshan Example Extrusion Co.,buyer|producer,\n"),
    ("facilities", "facility_id,owner,name,province,grid_region,country,process\n"
                   "f-extruder,p-extruder,佛山示例铝型材挤压厂 Foshan Example Extrusion Plant,CN-GD,CN-SOUTH,"
                   "CN,aluminium extrusion (billet casting + extrusion)\n"),
    ("shipments", SHIPMENTS_HEADER + "SH-AL-EX-2025-01,p-smelter,p-extruder,2025-12-28,CN,AL-2025-12:4000\n"),
    ("batches", "lot,facility,product,metal,grade,cn_code,tonnes,period_start,period_end,electricity_mwh,"
                "fuels,process_emissions,inputs,recycled_tonnes,recycled_origin\n"
                "EX-2026-01,f-extruder,aluminium alloy profiles 铝合金型材,Al,6063 (GB/T 3190-2020),76042100,"
                "3900,2026-01-01,2026-01-31,1560,natural_gas:390000 m3,,batch:AL-2025-12:4000,0,\n"),
    ("shipments", SHIPMENTS_HEADER
     + f"{EXTRUSIONS},p-extruder,p-eu-importer,2026-02-10,DE,EX-2026-01:3000\n"),
)


def q(value: Decimal, exp: Decimal = PER_T) -> Decimal:
    return value.quantize(exp, rounding=ROUND_HALF_EVEN)


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    home = tmp_path_factory.mktemp("cbam")
    settings = load_settings({"GREENLEDGER_HOME": str(home)})
    engine = make_engine(settings.database_url)
    upgrade(engine)
    log = domain_log(engine)
    load_scenario(log, SCENARIO)
    for i, (kind, text) in enumerate(EXTRA):
        path = home / f"extra-{i}-{kind}.csv"
        path.write_text(text, encoding="utf-8")
        import_file(log, kind, path)
    engine.dispose()
    return home


@pytest.fixture
def session(home: Path):
    engine = make_engine(load_settings({"GREENLEDGER_HOME": str(home)}).database_url)
    with Session(engine) as s:
        yield s
        s.rollback()
    engine.dispose()


@pytest.fixture
def cli(home: Path, monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    monkeypatch.setenv("GREENLEDGER_HOME", str(home))
    monkeypatch.delenv("GREENLEDGER_DATABASE_URL", raising=False)
    return CliRunner()


@pytest.fixture(scope="module")
def library() -> FactorLibrary:
    return FactorLibrary.load()


def footprint(cli: CliRunner, *extra: str) -> dict:
    r = cli.invoke(main, ["footprint", "shipment", EU, "--json", "--family", "ghg_co2_grid", *extra])
    assert r.exit_code == 0, r.output
    return json.loads(r.stdout)


def cell_decimal(value: object) -> Decimal:
    assert isinstance(value, int | float), value
    return Decimal(str(value))


def sheet_rows(ws) -> list[dict[str, object]]:
    """The table under the header row, up to the first empty row (notes may follow it)."""
    rows = ws.iter_rows(values_only=True)
    header = next(rows)
    out = []
    for r in rows:
        if all(v is None for v in r):
            break
        out.append(dict(zip(header, r, strict=True)))
    return out


def recorded_direct_kg(session: Session, library: FactorLibrary, batch_id: str) -> tuple[Decimal, Decimal]:
    """By hand from the batch's recorded data: (CBAM direct kg CO2e, CH4+N2O kg CO2e), AR5."""
    batch = session.get(Batch, batch_id)
    details = json.loads(batch.details)
    gwp = {"CO2": Decimal(1), "CF4": Decimal(6630), "C2F6": Decimal(11100)}
    direct = sum((Decimal(p["kg"]) * gwp[p["gas"]] for p in details["process_emissions"]), Decimal(0))
    other = Decimal(0)
    for f in details["fuels"]:
        amount = Decimal(f["amount"])
        direct += amount * library.combustion(f["fuel"], "CO2").value
        other += amount * (library.combustion(f["fuel"], "CH4").value * 28
                           + library.combustion(f["fuel"], "N2O").value * 265)
    return direct, other


# -- the workbook holds the footprint engine's numbers ---------------------------------------


def test_xlsx_opens_and_holds_the_footprint_numbers(cli, session, library, tmp_path):
    out = tmp_path / "cbam.xlsx"
    r = cli.invoke(main, ["cbam", "export", EU, "--out", str(out)])
    assert r.exit_code == 0, r.output
    assert "CN 76011000" in r.stdout
    wb = openpyxl.load_workbook(out)
    for name in REQUIRED_SHEETS:
        assert name in wb.sheetnames
        assert wb[name].freeze_panes == "A2"
    summary = sheet_rows(wb["Summary_Communication"])
    assert len(summary) == 1 and summary[0]["CN code"] == "76011000"
    direct = q(cell_decimal(summary[0]["Specific direct embedded emissions (t CO2e/t)"]))
    recon = {row["Item"]: row for row in sheet_rows(wb["Reconciliation"])}

    def recon_kg(item: str) -> Decimal:
        return q(cell_decimal(recon[item]["kg CO2e per t"]), KG)

    # `greenledger footprint shipment ... --json --family ghg_co2_grid` (AR6, its default)
    ar6 = footprint(cli)
    fp_direct_ar6 = Decimal(ar6["market_per_tonne"]["direct_kg_co2e_per_t"])
    assert recon_kg("footprint_direct_kg_co2e_per_t_ar6") == fp_direct_ar6
    # the same at AR5, the GWP set CBAM uses
    ar5 = footprint(cli, "--gwp", "AR5")
    fp_direct_ar5 = Decimal(ar5["market_per_tonne"]["direct_kg_co2e_per_t"])
    assert recon_kg("footprint_direct_kg_co2e_per_t_ar5") == fp_direct_ar5
    # CBAM direct per tonne = footprint direct (AR5) − CH4 and N2O of combustion, by hand
    non_cbam = sum((recorded_direct_kg(session, library, b)[1] * Decimal(2500) / Decimal(tonnes)
                    for b, tonnes in (("AL-2025-10", 12950), ("AL-2025-11", 12500))), Decimal(0)) / 5000
    assert abs(fp_direct_ar5 - non_cbam - direct * 1000) <= Decimal("0.001")
    assert recon_kg("cbam_specific_direct_kg_co2e_per_t") == direct * 1000
    assert recon["consistent"]["Text"] == "yes"
    # and the workbook's summary equals the JSON document's strings
    doc = cbam_communication(session, EU, library=library)
    assert direct == Decimal(doc["goods"][0]["specific_direct_t_co2e_per_t"])
    indirect = q(cell_decimal(summary[0]["Specific indirect embedded emissions (t CO2e/t)"]))
    assert indirect == Decimal(doc["goods"][0]["specific_indirect_t_co2e_per_t"])
    assert summary[0]["Counted in CBAM obligation"] == "direct"


def test_direct_is_recomputed_by_hand_from_the_recorded_batches(session, library):
    doc = cbam_communication(session, EU, library=library)
    per_t = sum((recorded_direct_kg(session, library, b)[0] * Decimal(2500) / Decimal(tonnes)
                 for b, tonnes in (("AL-2025-10", 12950), ("AL-2025-11", 12500))), Decimal(0)) / 5000 / 1000
    assert Decimal(doc["goods"][0]["specific_direct_t_co2e_per_t"]) == q(per_t)


# -- the JSON document and its schema --------------------------------------------------------

SUPPORTED = {"$schema", "$id", "title", "description", "type", "properties", "required",
             "additionalProperties", "items", "minItems", "$ref", "$defs", "oneOf", "const", "enum",
             "pattern"}


def _is(value: object, t: str) -> bool:
    return {"object": isinstance(value, dict), "array": isinstance(value, list),
            "string": isinstance(value, str), "boolean": isinstance(value, bool), "null": value is None,
            "integer": isinstance(value, int) and not isinstance(value, bool)}[t]


def check(value: object, schema: dict, root: dict, path: str = "$") -> list[str]:
    """A small JSON Schema checker for the keywords the published schema uses."""
    if "$ref" in schema:
        target = root
        for part in schema["$ref"].removeprefix("#/").split("/"):
            target = target[part]
        return check(value, target, root, path)
    errors: list[str] = []
    if "oneOf" in schema:
        matches = sum(not check(value, s, root, path) for s in schema["oneOf"])
        if matches != 1:
            errors.append(f"{path}: matches {matches} of oneOf")
    if "type" in schema:
        types = [schema["type"]] if isinstance(schema["type"], str) else schema["type"]
        if not any(_is(value, t) for t in types):
            return [f"{path}: {type(value).__name__} is not {types}"]
    if "const" in schema and value != schema["const"]:
        errors.append(f"{path}: {value!r} != {schema['const']!r}")
    if "enum" in schema and value not in schema["enum"]:
        errors.append(f"{path}: {value!r} not in {schema['enum']}")
    if "pattern" in schema and isinstance(value, str) and not re.search(schema["pattern"], value):
        errors.append(f"{path}: {value!r} does not match {schema['pattern']}")
    if isinstance(value, dict):
        errors += [f"{path}: missing {k}" for k in schema.get("required", []) if k not in value]
        props = schema.get("properties", {})
        for k, v in value.items():
            if k in props:
                errors += check(v, props[k], root, f"{path}.{k}")
            elif schema.get("additionalProperties") is False:
                errors.append(f"{path}: unexpected {k}")
    if isinstance(value, list):
        if len(value) < schema.get("minItems", 0):
            errors.append(f"{path}: fewer than {schema['minItems']} items")
        for i, v in enumerate(value):
            errors += check(v, schema.get("items", {}), root, f"{path}[{i}]")
    return errors


def validate(doc: dict, schema: dict) -> list[str]:
    try:
        import jsonschema
    except ImportError:
        return check(doc, schema, schema)
    return [e.message for e in jsonschema.Draft202012Validator(schema).iter_errors(doc)]


def _keywords(schema: object) -> set[str]:
    if isinstance(schema, list):
        return set().union(*(_keywords(s) for s in schema)) if schema else set()
    if not isinstance(schema, dict):
        return set()
    out = set(schema)
    for k, v in schema.items():
        if k in ("properties", "$defs"):
            out |= set().union(*(_keywords(s) for s in v.values())) if v else set()
        elif k in ("items", "oneOf"):
            out |= _keywords(v)
    return out


@pytest.mark.parametrize("shipment", [EU, EXTRUSIONS])
def test_json_validates_against_the_published_schema(cli, tmp_path, shipment):
    out = tmp_path / "cbam.json"
    r = cli.invoke(main, ["cbam", "export", shipment, "--out", str(out)])
    assert r.exit_code == 0, r.output
    doc = json.loads(out.read_text(encoding="utf-8"))
    schema = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert doc["$schema"] == schema["$id"] == SCHEMA_ID
    assert _keywords(schema) <= SUPPORTED  # the fallback checker understands every keyword used
    assert validate(doc, schema) == []
    assert check(doc, schema, schema) == []


def test_the_schema_checker_rejects_floats_and_missing_parts(session, library):
    schema = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
    doc = cbam_communication(session, EU, library=library)
    doc["goods"][0]["specific_direct_t_co2e_per_t"] = 1.766654
    del doc["installation"]
    errors = check(doc, schema, schema)
    assert any("specific_direct_t_co2e_per_t" in e for e in errors)
    assert any("missing installation" in e for e in errors)


# -- refusals ---------------------------------------------------------------------------------


def test_a_shipment_to_china_is_refused_with_exit_2(cli, session, library, tmp_path):
    out = tmp_path / "x.xlsx"
    r = cli.invoke(main, ["cbam", "export", "SH-AL-GD-2025-01", "--out", str(out)])
    assert r.exit_code == 2
    assert "destination_country" in r.stderr and "cbam.destination" in r.stderr and "CN" in r.stderr
    assert not out.exists()
    with pytest.raises(RuleViolation) as exc:
        cbam_communication(session, "SH-AL-GD-2025-01", library=library)
    assert exc.value.field == "destination_country" and exc.value.got == "CN"


def test_copper_is_out_of_scope_with_exit_2(cli, session, library, tmp_path):
    out = tmp_path / "x.json"
    r = cli.invoke(main, ["cbam", "export", "SH-CU-2025-01", "--out", str(out)])
    assert r.exit_code == 2
    assert "cn_code" in r.stderr and "74031100" in r.stderr
    assert not out.exists()
    with pytest.raises(RuleViolation) as exc:
        cbam_communication(session, "SH-CU-2025-01", library=library)
    assert exc.value.field == "cn_code" and exc.value.rule == "cbam.scope"


@pytest.mark.parametrize(("cn_code", "covered"), [
    ("76011000", True), ("76012000", True), ("76020000", False), ("76031000", True),
    ("76042100", True), ("76149000", True), ("76151000", False), ("76169990", True),
    ("74031100", False), ("28182000", False),
])
def test_cbam_aluminium_scope(cn_code, covered):
    assert is_covered(cn_code) is covered


def test_batches_that_are_not_aluminium_are_refused(session, library):
    session.execute(update(Batch).where(Batch.batch_id == "AL-2025-10").values(metal="Zn"))
    with pytest.raises(RuleViolation) as exc:
        cbam_communication(session, EU, library=library)
    assert exc.value.field == "metal" and exc.value.got == "Zn"


def test_unknown_shipment_and_bad_output_name_exit_2(cli, tmp_path):
    assert cli.invoke(main, ["cbam", "export", "NO-SUCH", "--out", str(tmp_path / "a.json")]).exit_code == 2
    r = cli.invoke(main, ["cbam", "export", EU, "--out", str(tmp_path / "a.csv")])
    assert r.exit_code == 2 and "out" in r.stderr


# -- defaults comparison, written out -----------------------------------------------------------


@pytest.mark.parametrize(("year", "applied", "markup"), [
    (None, 2026, "0.10"),  # shipment date 2025-12-05: before the table, clamped to 2026
    (2026, 2026, "0.10"), (2027, 2027, "0.20"), (2028, 2028, "0.30"), (2031, 2028, "0.30"),
])
def test_defaults_comparison_arithmetic(session, library, year, applied, markup):
    doc = cbam_communication(session, EU, library=library, year=year)
    d = doc["defaults_comparison"][0]
    assert d["default_direct_t_co2e_per_t"] == "3.0" and d["status"] == "[U]"
    assert d["markup_year_applied"] == applied and d["markup_fraction"] == markup
    default_per_t = Decimal("3.0") * (1 + Decimal(markup))            # e.g. 3.0 × 1.10 = 3.30
    default_total = default_per_t * Decimal("5000")                   # 3.30 × 5 000 t = 16 500 t
    actual_per_t = Decimal(doc["goods"][0]["specific_direct_t_co2e_per_t"])
    actual_total = Decimal(doc["goods"][0]["embedded_direct_t_co2e"])
    assert abs(actual_total - actual_per_t * 5000) <= Decimal("0.003")
    assert Decimal(d["default_direct_with_markup_t_co2e_per_t"]) == default_per_t
    assert Decimal(d["default_direct_total_t_co2e"]) == default_total
    assert Decimal(d["difference_t_co2e_per_t"]) == actual_per_t - default_per_t
    assert Decimal(d["difference_t_co2e"]) == actual_total - default_total
    assert Decimal(d["difference_percent"]) == q((actual_total - default_total) / default_total * 100,
                                                 Decimal("0.01"))
    assert doc["obligation"]["definitive_period"] is True


def test_defaults_sheet_matches_the_document(cli, session, library, tmp_path):
    out = tmp_path / "cbam.xlsx"
    assert cli.invoke(main, ["cbam", "export", EU, "--out", str(out), "--year", "2027"]).exit_code == 0
    row = sheet_rows(openpyxl.load_workbook(out)["Defaults_Comparison"])[0]
    d = cbam_communication(session, EU, library=library, year=2027)["defaults_comparison"][0]
    assert q(cell_decimal(row["Default with mark-up (t CO2e/t)"])) == Decimal("3.6")
    assert q(cell_decimal(row["Difference (t CO2e)"]), KG) == Decimal(d["difference_t_co2e"])
    percent = q(cell_decimal(row["Difference (% of default)"]), Decimal("0.01"))
    assert percent == Decimal(d["difference_percent"])


# -- PFCs, indirect emissions, precursors ---------------------------------------------------------


def test_pfcs_are_converted_at_ar5(session, library):
    pfc = {g["gas"]: g for g in cbam_communication(session, EU, library=library)["goods"][0]["pfc"]["gases"]}
    cf4_kg = Decimal("235.7") * 2500 / 12950 + Decimal("232.5") * 2500 / 12500  # shipped share of each batch
    c2f6_kg = Decimal("23.6") * 2500 / 12950 + Decimal("23.3") * 2500 / 12500
    assert pfc["CF4"]["gwp"] == "6630" and pfc["C2F6"]["gwp"] == "11100"
    assert Decimal(pfc["CF4"]["t_co2e"]) == q(cf4_kg * 6630 / 1000, KG)
    assert Decimal(pfc["C2F6"]["t_co2e"]) == q(c2f6_kg * 11100 / 1000, KG)


def test_indirect_uses_the_country_grid_factor_and_certificates_do_not_lower_it(cli, session, library):
    g = cbam_communication(session, EU, library=library)["goods"][0]
    mwh = Decimal("171070") * 2500 / 12950 + Decimal("165375") * 2500 / 12500
    assert g["electricity"]["factors"][0]["factor_id"] == "grid_avg_cn_2023"
    assert Decimal(g["electricity"]["mwh"]) == q(mwh, KG)
    assert Decimal(g["specific_indirect_t_co2e_per_t"]) == q(mwh * Decimal("0.5306") / 5000)
    info = g["electricity"]["green_certificates_information"]
    assert info["green_mwh"] == footprint(cli)["green_mwh"] == "51557.077"  # information only
    assert g["counted_in_cbam_obligation"] == "direct"


def test_alumina_is_not_a_precursor_of_unwrought_aluminium(session, library):
    doc = cbam_communication(session, EU, library=library)
    for b in doc["batches"]:
        assert b["precursors"] == []
        alumina = [e for e in b["excluded_inputs"] if e["ref"].startswith("AO-")]
        assert alumina and "not a CBAM good" in alumina[0]["reason"]
    assert doc["goods"][0]["precursors_direct_t_co2e_per_t"] == "0.000000"


def test_profiles_carry_their_unwrought_aluminium_precursor(session, library):
    doc = cbam_communication(session, EXTRUSIONS, library=library)
    g = doc["goods"][0]
    assert g["aggregated_goods_category"] == "Aluminium products" and g["cn_code"] == "76042100"
    assert doc["installation"]["facility_id"] == "f-extruder"
    # by hand: the precursor AL-2025-12's specific emissions, then the profiles'
    al12_direct = recorded_direct_kg(session, library, "AL-2025-12")[0] / 13390           # kg/t
    own_direct = Decimal(390000) * library.combustion("natural_gas", "CO2").value          # kg
    see_direct = (own_direct + 4000 * al12_direct) / 3900 / 1000
    assert Decimal(g["specific_direct_t_co2e_per_t"]) == q(see_direct)
    assert Decimal(g["precursors_direct_t_co2e_per_t"]) == q(4000 * al12_direct / 3900 / 1000)
    [p] = doc["batches"][0]["precursors"]
    assert p["batch_id"] == "AL-2025-12" and p["tonnes"] == "4000.000" and p["zero_rated"] is False
    al12 = session.get(Batch, "AL-2025-12")
    al12_indirect = Decimal(al12.electricity_kwh) * Decimal("0.5306") / 13390               # kg/t
    see_indirect = (Decimal(1560) * 1000 * Decimal("0.5306") + 4000 * al12_indirect) / 3900 / 1000
    assert Decimal(g["specific_indirect_t_co2e_per_t"]) == q(see_indirect)
    d = doc["defaults_comparison"][0]
    assert d["cn_heading"] == "7604" and d["markup_year_applied"] == 2026
    assert Decimal(d["default_direct_with_markup_t_co2e_per_t"]) == Decimal("4.8808") * Decimal("1.10")
    assert "not held" in g["qualifying_parameters"]["other_elements_note"]  # alloy 6063: no purity bound
    assert g["electricity"]["provincial_average_information"] is None  # no Guangdong factor in the library
