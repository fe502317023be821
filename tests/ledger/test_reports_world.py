"""Shared by the report tests (no tests here): small worlds appended through the real log and
appliers, the sample scenario, and a small JSON Schema validator for the schemas published in
``sample_data/schemas/``.

The validator implements the subset of JSON Schema 2020-12 those schemas use (``$ref`` to local
``$defs``, ``type``, ``const``, ``enum``, ``pattern``, ``minimum``, ``minLength``, ``minItems``,
``required``, ``properties``, ``patternProperties``, ``additionalProperties``, ``items``,
``anyOf``) and refuses a schema keyword it does not know, so a schema can never pass by using
something it silently ignores. Where ``jsonschema_rs`` is installed (it comes with the dev
dependency schemathesis), the tests validate with it too.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from ledger.domain import domain_log
from ledger.domain.rules import Rules
from ledger.importing import load_scenario
from ledger.log import Log

ROOT = Path(__file__).resolve().parents[2]
SCENARIO = ROOT / "sample_data" / "scenario"
SCHEMAS = ROOT / "sample_data" / "schemas"
OUR_SCHEMAS = ("green_share_report.schema.json", "efficiency_report.schema.json",
               "recycled_report.schema.json", "provincial_export.schema.json",
               "provincial_export_row.schema.json")

# -- small worlds ---------------------------------------------------------------------------

#: fictitious 17-character GEC project parts (one per plant)
HYDRO = "31200808265308017"
WIND = "11201906285329043"
SOLAR = "21202304125326014"
OLD_SOLAR = "21202104125326099"


def gec(block: str, month: str, n: int) -> str:
    """A 32-character GEC code: project part + YYYYMM + 9-digit sequence."""
    return f"{block}{month.replace('-', '')}{n:09d}"


def certificate(block: str, month: str, a: int, b: int, *, technology: str, owner: str = "p-a",
                plant: str | None = None, tradable: bool | None = None) -> dict[str, Any]:
    return {"registry": "CN-GEC", "first": gec(block, month, a), "last": gec(block, month, b),
            "mwh": f"{b - a + 1}.000", "technology": technology,
            "plant": plant or f"{technology} plant {block}",
            "plant_province": "CN-YN", "country": "CN", "generation_month": month,
            "tradable": technology != "hydro" if tradable is None else tradable, "owner": owner,
            "evidence": {"ref": f"KMPX-{block}-{month}", "sha256": "ab" * 32}}


def cert_id(block: str, month: str, a: int) -> str:
    return f"CN-GEC:{gec(block, month, a)}"


def batch(bid: str, facility: str = "f-a", *, month: str = "2025-03", tonnes: str = "100.000",
          mwh: str = "1300.000", metal: str = "Al", recycled: str = "0", origin: str = "",
          cn_code: str = "76011000", grade: str = "Al99.70") -> dict[str, Any]:
    last_day = {"02": "28", "04": "30", "06": "30", "09": "30", "11": "30"}.get(month[5:], "31")
    return {"batch": bid, "lot": bid, "facility": facility, "product": f"{metal} product",
            "metal": metal, "grade": grade, "cn_code": cn_code, "tonnes": tonnes,
            "period_start": f"{month}-01", "period_end": f"{month}-{last_day}", "electricity_mwh": mwh,
            "fuels": [{"fuel": "diesel", "amount": "2", "unit": "t"}],
            "process_emissions": [{"gas": "CO2", "kg": "150000"}], "inputs": [],
            "recycled": {"tonnes": recycled, "origin": origin}}


def allocation(aid: str, block: str, month: str, first: int, a: int, b: int, batch_id: str,
               beneficiary: str = "p-a") -> dict[str, Any]:
    return {"allocation": aid, "certificate": cert_id(block, month, first), "first": gec(block, month, a),
            "last": gec(block, month, b), "mwh": f"{b - a + 1}.000", "batch": batch_id,
            "beneficiary": beneficiary}


def facility(fid: str, owner: str, process: str = "aluminium electrolysis") -> dict[str, Any]:
    return {"facility": fid, "owner": owner, "name": f"示例 {fid}", "province": "CN-YN",
            "grid_region": "CN-SOUTH", "country": "CN", "process": process}


def parties(log: Log, *extra: str) -> None:
    items = [("party.registered", "p-op", {"party": "p-op", "name": "Operator", "roles": ["operator"]}),
             ("party.registered", "p-op", {"party": "p-cert", "name": "Verifier", "roles": ["certifier"]}),
             ("party.registered", "p-op", {"party": "p-buyer", "name": "Buyer", "roles": ["buyer"]})]
    for party in ("p-a", *extra):
        items.append(("party.registered", "p-op", {"party": party, "name": f"示例 {party}",
                                                   "roles": ["producer"]}))
    log.append_many(items)


def new_log(engine: Any, rules: Rules | None = None, *extra_parties: str) -> Log:
    log = domain_log(engine, rules)
    parties(log, *extra_parties)
    return log


def scenario(engine: Any) -> Log:
    log = domain_log(engine)
    load_scenario(log, SCENARIO)
    return log


# -- JSON Schema (the subset our schemas use) ---------------------------------------------------

_KNOWN = {"$schema", "$id", "$defs", "$ref", "title", "description", "type", "const", "enum", "pattern",
          "minimum", "minLength", "minItems", "required", "properties", "patternProperties",
          "additionalProperties", "items", "anyOf", "x-columns"}
_TYPES = {"object": dict, "array": list, "string": str, "boolean": bool, "null": type(None)}


def _is_type(value: Any, name: str) -> bool:
    if name == "integer":
        return isinstance(value, int) and not isinstance(value, bool)
    if name == "number":
        return isinstance(value, int | float) and not isinstance(value, bool)
    return isinstance(value, _TYPES[name]) and not (name != "boolean" and isinstance(value, bool))


def schema_errors(instance: Any, schema: dict[str, Any], root: dict[str, Any] | None = None,
                  path: str = "$") -> list[str]:
    root = root if root is not None else schema
    unknown = set(schema) - _KNOWN
    if unknown:
        raise AssertionError(f"schema keyword(s) {sorted(unknown)} at {path} not understood here")
    if "$ref" in schema:
        ref = schema["$ref"]
        assert ref.startswith("#/$defs/"), ref
        return schema_errors(instance, root["$defs"][ref.split("/")[-1]], root, path)
    errors: list[str] = []
    if "type" in schema:
        names = schema["type"] if isinstance(schema["type"], list) else [schema["type"]]
        if not any(_is_type(instance, n) for n in names):
            return [f"{path}: {instance!r} is not of type {names}"]
    if "const" in schema and instance != schema["const"]:
        errors.append(f"{path}: {instance!r} != {schema['const']!r}")
    if "enum" in schema and instance not in schema["enum"]:
        errors.append(f"{path}: {instance!r} not in {schema['enum']}")
    if isinstance(instance, str):
        if "pattern" in schema and not re.search(schema["pattern"], instance):
            errors.append(f"{path}: {instance!r} does not match {schema['pattern']}")
        if len(instance) < schema.get("minLength", 0):
            errors.append(f"{path}: shorter than {schema['minLength']}")
    if _is_type(instance, "integer") and "minimum" in schema and instance < schema["minimum"]:
        errors.append(f"{path}: {instance} < {schema['minimum']}")
    if isinstance(instance, list):
        if len(instance) < schema.get("minItems", 0):
            errors.append(f"{path}: fewer than {schema['minItems']} items")
        if "items" in schema:
            for i, item in enumerate(instance):
                errors += schema_errors(item, schema["items"], root, f"{path}[{i}]")
    if isinstance(instance, dict):
        for name in schema.get("required", ()):
            if name not in instance:
                errors.append(f"{path}: {name!r} is required")
        props = schema.get("properties", {})
        patterns = schema.get("patternProperties", {})
        for key, value in instance.items():
            matched = False
            if key in props:
                matched = True
                errors += schema_errors(value, props[key], root, f"{path}.{key}")
            for pattern, sub in patterns.items():
                if re.search(pattern, key):
                    matched = True
                    errors += schema_errors(value, sub, root, f"{path}.{key}")
            if not matched:
                extra = schema.get("additionalProperties", True)
                if extra is False:
                    errors.append(f"{path}: unexpected property {key!r}")
                elif isinstance(extra, dict):
                    errors += schema_errors(value, extra, root, f"{path}.{key}")
    if "anyOf" in schema:
        branches = [schema_errors(instance, sub, root, path) for sub in schema["anyOf"]]
        if all(branches):
            errors.append(f"{path}: matches no branch of anyOf: {[b[0] for b in branches]}")
    return errors


def load_schema(name: str) -> dict[str, Any]:
    return json.loads((SCHEMAS / name).read_text(encoding="utf-8"))


def assert_valid(instance: Any, name: str) -> None:
    """Validate against a published schema with the small validator (and jsonschema_rs if present)."""
    schema = load_schema(name)
    errors = schema_errors(instance, schema)
    assert not errors, f"{name}: {errors[:5]}"
    try:
        import jsonschema_rs
    except ImportError:  # pragma: no cover - optional
        return
    found = [str(e) for e in jsonschema_rs.validator_for(schema).iter_errors(instance)]
    assert not found, f"{name} (jsonschema_rs): {found[:5]}"
