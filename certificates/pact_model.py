"""Validator for PACT Technical Specifications v3.0 ``ProductFootprint`` documents.

What: :func:`validate_product_footprint` returns every violation it finds as a readable
``"<path>: <problem>"`` line (empty list = valid); :func:`assert_valid` raises
:class:`ledger.errors.InputError` with all of them. Why: a declaration payload is signed and
handed to buyers' PCF tools, so it must satisfy the schema they validate against; and the
same checker serves ``greenledger verify`` and footprints pulled from suppliers. Pure standard
library: ``jsonschema`` is not a dependency, and the spec's own Decimal sub-type patterns are
partly broken as regexes (``PositiveNonZeroDecimal``/``NegativeOrZeroDecimal`` have unanchored
alternations), so the checks are written out as code that reads like the spec.

Sources (read from the public repositories, not guessed):

* wbcsd/data-exchange-protocol @ cf4ebedb18d42f3453bcc868e01159321297c09a
  - ``spec/v3/openapi.yaml`` (info.version 3.0.3), ``components.schemas``: ProductFootprint
    (required list, properties), CarbonFootprint (required list, geography ``oneOf``, property
    descriptions with their MUST rules), DataModelExtension, ProductOrSectorSpecificRule,
    EmissionFactorSource, DataQualityIndicators, Verification, and the simple types Urn,
    Decimal, PositiveNonZeroDecimal, PositiveOrZeroDecimal, NegativeOrZeroDecimal.
  - ``spec/v3/index.md`` §"Validation" (the OpenAPI schema is what software MUST meet; the
    methodology reporting rules SHALL/SHOULD/BIO are for user interfaces, so they are not
    errors here), §"Basic Types" (non-integer numbers MUST be decimal strings), §"Qualifiers"
    (Required = present and not null), §"Undefined Properties" (null = undefined),
    §"Product Footprint Lifecycle" (a change gives a new id), §"Validity Period",
    §"Product Identifier URN's" / §"Product Classification URNs" (RFC 8141 URNs),
    Appendix A changelog 3.0.0 (``statusComment``, ``version``, ``updated`` are obsolete).
  - ``spec/v3/data-model.md`` §ProductFootprint ``extensions``: a non-empty array.
* wbcsd/data-model-extensions @ 4dfea2a2a037f70141310182afd25bcf5e51d546, ``spec/index.bs``
  §5 "JSON Representation of a Data Model Extension" (#instantiation): ``specVersion``
  (SemVer), ``dataSchema``, ``data`` required, ``documentation`` recommended, URLs MUST be https.
* RFC 8141 §2 (URN syntax), RFC 3339 §5.6 (date-time; JSON Schema ``format: date-time``),
  RFC 4122 §3 (UUID string form; JSON Schema ``format: uuid``).

The OpenAPI schema does not set ``additionalProperties: false``, so unknown properties are
legal PACT. ``strict=True`` (the default, for greenledger's own payloads) reports them anyway,
as well as ``crossSectoralStandards`` values outside the spec's list (a SHOULD): both catch typos.
Beyond the schema, JSON numbers with a fraction anywhere (extension data included) and integers
outside +-(2**53 - 1) are reported: they have no single canonical JCS form (DESIGN §3.1).
Also beyond the schema but implied by it: referencePeriodEnd after referencePeriodStart, no
footprint listing its own id in precedingPfIds, productMassPerDeclaredUnit not negative. Where
the prose and the schema disagree the schema wins (index.md §OpenAPI Schema): "1.2345e+6" is
shown under §Basic Types but does not match the Decimal pattern, so it is refused.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any
from urllib.parse import urlsplit

from ledger.errors import InputError

MAX_SAFE_INT = 2**53 - 1

DECIMAL_RE = re.compile(r"^[+-]?\d+(\.\d+)?$", re.ASCII)  # components.schemas.Decimal
SPEC_VERSION_RE = re.compile(r"^\d+\.\d+\.\d+(-\d{8})?$", re.ASCII)  # ProductFootprint.specVersion
SEMVER_RE = re.compile(r"^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(-[0-9A-Za-z.-]+)?$", re.A)
UUID_RE = re.compile(r"^[0-9a-fA-F]{8}-([0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}$")
_PCHAR = r"(?:[A-Za-z0-9\-._~!$&'()*+,;=:@]|%[0-9A-Fa-f]{2})"
_COMPONENT = rf"{_PCHAR}(?:{_PCHAR}|[/?])*"
# RFC 8141 §2: "urn" ":" NID ":" NSS [ "?+" r-component ] [ "?=" q-component ] [ "#" f-component ]
URN_RE = re.compile(
    rf"^[uU][rR][nN]:[A-Za-z0-9][A-Za-z0-9-]{{0,30}}[A-Za-z0-9]:{_PCHAR}(?:{_PCHAR}|/)*"
    rf"(?:\?\+{_COMPONENT})?(?:\?={_COMPONENT})?(?:#(?:{_PCHAR}|[/?])*)?$"
)
DATETIME_RE = re.compile(
    r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$", re.IGNORECASE | re.ASCII
)

STATUS = ("Active", "Deprecated")
DECLARED_UNITS = (
    "liter", "kilogram", "cubic meter", "kilowatt hour", "megajoule", "ton kilometer",
    "square meter", "piece", "hour", "megabit second",
)
REGIONS = (
    "Africa", "Americas", "Asia", "Europe", "Oceania", "Australia and New Zealand",
    "Central Asia", "Eastern Asia", "Eastern Europe", "Latin America and the Caribbean",
    "Melanesia", "Micronesia", "Northern Africa", "Northern America", "Northern Europe",
    "Polynesia", "South-eastern Asia", "Southern Asia", "Southern Europe", "Sub-Saharan Africa",
    "Western Asia", "Western Europe",
)
CROSS_SECTORAL_STANDARDS = (
    "ISO14067", "ISO14083", "ISO14040-44", "GHGP-Product", "PEF",
    "PACT-1.0", "PACT-2.0", "PACT-3.0", "PAS2050",
)
RULE_OPERATORS = ("PEF", "EPD International", "Other")
CCU_APPROACHES = ("Cut-off", "Credit")
VERIFICATION_COVERAGE = ("PCF calculation model", "PCF program", "product level")


@dataclass
class _Ctx:
    strict: bool
    errors: list[str] = field(default_factory=list)

    def err(self, path: str, message: str) -> None:
        self.errors.append(f"{path}: {message}")


Check = Callable[[Any, str, _Ctx], None]
Props = dict[str, tuple[bool, Check]]  # name -> (required, check)


def _got(value: Any) -> str:
    """How a wrong value is named in a message."""
    if isinstance(value, str):
        return repr(value)
    kind = {bool: "boolean", float: "JSON number", int: "integer"}.get(type(value))
    return f"the {kind} {json.dumps(value)}" if kind else f"a {type(value).__name__}"


def _string(
    *, nonempty: bool = False, enum: tuple[str, ...] = (), pattern: str = "", what: str = ""
) -> Check:
    regex = re.compile(pattern, re.ASCII) if pattern else None

    def check(v: Any, path: str, ctx: _Ctx) -> None:
        if not isinstance(v, str):
            ctx.err(path, f"must be a string, got {_got(v)}")
        elif nonempty and not v:
            ctx.err(path, "must be a non-empty string")
        elif enum and v not in enum:
            ctx.err(path, f"must be one of {', '.join(enum)}; got {v!r}")
        elif regex is not None and not regex.match(v):
            ctx.err(path, f"must be {what or 'match ' + pattern}; got {v!r}")

    return check


_uuid = _string(pattern=UUID_RE.pattern, what="a UUID (RFC 4122 form 8-4-4-4-12 hex digits)")
_urn = _string(pattern=URN_RE.pattern, what="a URN (RFC 8141: urn:<NID>:<NSS>)")
_text = _string()
_nonempty = _string(nonempty=True)


def parse_datetime(v: Any) -> datetime | None:
    """The aware datetime of an RFC 3339 date-time string, or None if it is not one."""
    if not isinstance(v, str) or not DATETIME_RE.match(v):
        return None
    try:
        return datetime.fromisoformat(v.upper().replace("Z", "+00:00"))
    except ValueError:
        return None


def _datetime(v: Any, path: str, ctx: _Ctx) -> None:
    if parse_datetime(v) is None:
        example = "'2025-01-01T00:00:00Z'"
        ctx.err(path, f"must be an RFC 3339 date-time like {example}; got {_got(v)}")


_SIGN_TEXT = {">=0": ">= 0", ">0": "> 0", "<=0": "<= 0"}


def _decimal(
    *, sign: str = "", lo: Decimal | None = None, hi: Decimal | None = None, unit: str = ""
) -> Check:
    """A decimal string; ``sign`` is '>=0', '>0' or '<=0' (the spec's Decimal sub-types)."""

    def check(v: Any, path: str, ctx: _Ctx) -> None:
        if not isinstance(v, str) or not DECIMAL_RE.match(v):
            ctx.err(path, f"must be a decimal string matching {DECIMAL_RE.pattern} "
                          f"(PACT v3 Decimal), got {_got(v)}")
            return
        d = Decimal(v)
        negative = d < 0 or v.startswith("-")
        if (sign == ">=0" and negative) or (sign == ">0" and d <= 0) or (sign == "<=0" and d > 0):
            ctx.err(path, f"must be a decimal {_SIGN_TEXT[sign]}, got {v!r}")
        elif (lo is not None and d < lo) or (hi is not None and d > hi):
            ctx.err(path, f"must be between {lo} and {hi}{unit}, got {v!r}")

    return check


_dec, _pos0 = _decimal(), _decimal(sign=">=0")
_pos, _neg0 = _decimal(sign=">0"), _decimal(sign="<=0")
_percent = _decimal(lo=Decimal(0), hi=Decimal(100), unit=" (a percentage)")
_dqr = _decimal(lo=Decimal(1), hi=Decimal(5), unit=" inclusive (a data quality rating)")


def _bool(v: Any, path: str, ctx: _Ctx) -> None:
    if not isinstance(v, bool):
        ctx.err(path, f"must be true or false, got {_got(v)}")


def _url(*, https: bool) -> Check:
    def check(v: Any, path: str, ctx: _Ctx) -> None:
        parts = urlsplit(v) if isinstance(v, str) else None
        ok = parts is not None and bool(parts.scheme)
        if ok and https:
            ok = parts is not None and parts.scheme == "https" and bool(parts.netloc)
        if not ok:
            need = "an https URL (Data Model Extensions §5)" if https else "an absolute URI"
            ctx.err(path, f"must be {need}, got {_got(v)}")

    return check


def _array(item: Check, *, min_items: int = 1, unique: bool = True) -> Check:
    def check(v: Any, path: str, ctx: _Ctx) -> None:
        if not isinstance(v, list):
            ctx.err(path, f"must be an array, got {_got(v)}")
            return
        if len(v) < min_items:
            ctx.err(path, f"must have at least {min_items} item(s), got an empty array")
        for i, x in enumerate(v):
            if unique and x in v[:i]:
                ctx.err(f"{path}[{i}]", f"repeats an earlier item ({_got(x)}); must be unique")
            item(x, f"{path}[{i}]", ctx)

    return check


def _object(props: Props, type_name: str) -> Check:
    def check(v: Any, path: str, ctx: _Ctx) -> None:
        if not isinstance(v, dict):
            ctx.err(path, f"must be a {type_name} object, got {_got(v)}")
            return
        prefix = f"{path}." if path else ""
        for name, (required, prop_check) in props.items():
            if v.get(name) is not None:  # §"Undefined Properties": null is undefined
                prop_check(v[name], prefix + name, ctx)
            elif required:
                ctx.err(prefix + name, f"required property of {type_name} is missing or null")
        for name in v:
            if name not in props:
                if ctx.strict:
                    ctx.err(prefix + name, f"not a property of {type_name} in PACT v3.0 "
                                           "(unknown properties are refused in strict mode)")
                _walk(v[name], prefix + name, ctx)

    return check


def _walk(v: Any, path: str, ctx: _Ctx) -> None:
    """Values no schema describes: only JSON types, no fractional numbers, safe integers."""
    if isinstance(v, dict):
        for k, x in v.items():
            if not isinstance(k, str):
                ctx.err(path, f"object key {k!r} is not a string")
            _walk(x, f"{path}.{k}", ctx)
    elif isinstance(v, list):
        for i, x in enumerate(v):
            _walk(x, f"{path}[{i}]", ctx)
    elif isinstance(v, float):
        ctx.err(path, f"JSON number with a fraction ({v!r}); "
                      "non-integer numbers must be decimal strings")
    elif isinstance(v, int) and not isinstance(v, bool) and abs(v) > MAX_SAFE_INT:
        ctx.err(path, f"integer {v} is outside +-(2**53 - 1) and has no exact JSON form")
    elif v is not None and not isinstance(v, str | bool | int):
        ctx.err(path, f"{type(v).__name__} is not a JSON value")


def _data(v: Any, path: str, ctx: _Ctx) -> None:
    if not isinstance(v, dict):
        ctx.err(path, f"must be a JSON object, got {_got(v)}")
    else:
        _walk(v, path, ctx)


def _cross_sectoral(v: Any, path: str, ctx: _Ctx) -> None:
    _nonempty(v, path, ctx)
    if ctx.strict and isinstance(v, str) and v and v not in CROSS_SECTORAL_STANDARDS:
        ctx.err(path, f"should be one of {', '.join(CROSS_SECTORAL_STANDARDS)}; "
                      f"got {v!r} (strict mode)")


RULE: Props = {
    "operator": (True, _string(enum=RULE_OPERATORS)),
    "ruleNames": (True, _array(_nonempty)),
    "otherOperatorName": (False, _nonempty),
}
SOURCE: Props = {"name": (True, _nonempty), "version": (True, _nonempty)}
DQI: Props = {k: (True, _dqr) for k in ("technologicalDQR", "geographicalDQR", "temporalDQR")}
VERIFICATION: Props = {
    "coverage": (False, _string(enum=VERIFICATION_COVERAGE)),
    "providerName": (False, _nonempty),
    "completedAt": (False, _datetime),
    "standardName": (False, _text),
    "comments": (False, _text),
}
_POS0 = (  # optional PositiveOrZeroDecimal properties of CarbonFootprint
    "biogenicCarbonContent", "recycledCarbonContent", "landUseChangeGhgEmissions",
    "landCarbonLeakage", "landManagementFossilGhgEmissions", "landManagementBiogenicCO2Emissions",
    "biogenicNonCO2Emissions", "landAreaOccupation", "aircraftGhgEmissions",
    "packagingGhgEmissions", "packagingBiogenicCarbonContent", "outboundLogisticsGhgEmissions",
    "ccuCarbonContent",
)
_NEG0 = (  # optional NegativeOrZeroDecimal properties of CarbonFootprint
    "landManagementBiogenicCO2Removals", "biogenicCO2Uptake", "ccsTechnologicalCO2Capture",
    "technologicalCO2Removals",
)
PCF: Props = {
    "declaredUnitOfMeasurement": (True, _string(enum=DECLARED_UNITS)),
    "declaredUnitAmount": (True, _pos),
    "productMassPerDeclaredUnit": (True, _pos0),  # a Decimal; a mass is never negative
    "referencePeriodStart": (True, _datetime),
    "referencePeriodEnd": (True, _datetime),
    "geographyRegionOrSubregion": (False, _string(enum=REGIONS)),
    "geographyCountry": (False, _string(pattern=r"^[A-Z]{2}$", what="an ISO 3166-1 alpha-2 code")),
    "geographyCountrySubdivision": (
        False, _string(pattern=r"^[A-Z]{2}-[A-Z0-9]{1,3}$", what="an ISO 3166-2 code like 'CN-YN'")
    ),
    "boundaryProcessesDescription": (False, _text),
    "pcfExcludingBiogenicUptake": (True, _dec),
    "pcfIncludingBiogenicUptake": (True, _dec),
    "fossilCarbonContent": (True, _pos0),
    "fossilGhgEmissions": (True, _pos0),
    **{name: (False, _pos0) for name in _POS0},
    **{name: (False, _neg0) for name in _NEG0},
    "packagingEmissionsIncluded": (False, _bool),
    "ccsTechnologicalCO2CaptureIncluded": (False, _bool),
    "technologicalCO2CaptureOrigin": (False, _text),
    "ccuCalculationApproach": (False, _string(enum=CCU_APPROACHES)),
    "ccuCreditCertification": (False, _url(https=False)),
    "ipccCharacterizationFactors": (True, _array(_string(pattern=r"^AR\d+$", what="like 'AR6'"))),
    "crossSectoralStandards": (True, _array(_cross_sectoral)),
    "productOrSectorSpecificRules": (
        False, _array(_object(RULE, "ProductOrSectorSpecificRule"))
    ),
    "exemptedEmissionsPercent": (True, _percent),
    "exemptedEmissionsDescription": (False, _text),
    "allocationRulesDescription": (False, _text),
    "secondaryEmissionFactorSources": (False, _array(_object(SOURCE, "EmissionFactorSource"))),
    "primaryDataShare": (False, _percent),
    "dqi": (False, _object(DQI, "DataQualityIndicators")),
    "verification": (False, _object(VERIFICATION, "Verification")),
}
EXTENSION: Props = {
    "specVersion": (True, _string(pattern=SEMVER_RE.pattern, what="a SemVer like '2.0.0'")),
    "dataSchema": (True, _url(https=True)),
    "documentation": (False, _url(https=True)),
    "data": (True, _data),
}
PRODUCT_FOOTPRINT: Props = {
    "id": (True, _uuid),
    "specVersion": (
        True, _string(pattern=SPEC_VERSION_RE.pattern, what="'major.minor.patch' like '3.0.0'")
    ),
    "precedingPfIds": (False, _array(_uuid)),
    "created": (True, _datetime),
    "status": (True, _string(enum=STATUS)),
    "validityPeriodStart": (False, _datetime),
    "validityPeriodEnd": (False, _datetime),
    "companyName": (True, _nonempty),
    "companyIds": (True, _array(_urn)),
    "productDescription": (True, _text),
    "productIds": (True, _array(_urn)),
    "productClassifications": (False, _array(_urn)),
    "productNameCompany": (True, _nonempty),
    "comment": (False, _text),
    "pcf": (True, _object(PCF, "CarbonFootprint")),
    "extensions": (False, _array(_object(EXTENSION, "DataModelExtension"), unique=False)),
}
_GEOGRAPHY = ("geographyRegionOrSubregion", "geographyCountry", "geographyCountrySubdivision")


def _num(obj: dict[str, Any], name: str) -> Decimal | None:
    v = obj.get(name)
    return Decimal(v) if isinstance(v, str) and DECIMAL_RE.match(v) else None


def _ulp(*texts: str) -> Decimal:
    """One unit in the last place of the least precise of some decimal strings."""
    return max(Decimal(1).scaleb(int(Decimal(t).as_tuple().exponent)) for t in texts)


def _biogenic_rules(pcf: dict[str, Any], ctx: _Ctx) -> None:
    """openapi x-comment formulas: Including = Excluding + biogenicCO2Uptake (uptake <= 0)."""
    excl, incl = _num(pcf, "pcfExcludingBiogenicUptake"), _num(pcf, "pcfIncludingBiogenicUptake")
    uptake = _num(pcf, "biogenicCO2Uptake")
    if excl is None or incl is None:
        return
    if incl > excl:
        ctx.err("pcf.pcfIncludingBiogenicUptake", f"must not exceed pcfExcludingBiogenicUptake "
                f"({excl}): they differ by biogenicCO2Uptake <= 0")
    elif uptake is not None and uptake <= 0:
        names = ("pcfExcludingBiogenicUptake", "pcfIncludingBiogenicUptake", "biogenicCO2Uptake")
        tol = _ulp(*(pcf[n] for n in names))  # the spec's own example 1 is rounded
        if abs(incl - (excl + uptake)) > tol:
            ctx.err("pcf.pcfIncludingBiogenicUptake", "must equal pcfExcludingBiogenicUptake + "
                    f"biogenicCO2Uptake = {excl + uptake} (to within {tol}), got {incl}")


def _pcf_rules(pcf: dict[str, Any], ctx: _Ctx) -> None:
    """MUST rules of CarbonFootprint that span properties (stated in their descriptions)."""
    geo = [g for g in _GEOGRAPHY if pcf.get(g) is not None]
    if len(geo) > 1:
        ctx.err("pcf", "at most one geography property may be defined (CarbonFootprint scope "
                       f"rules); found {', '.join(geo)}")
    packaging = pcf.get("packagingGhgEmissions")
    if pcf.get("packagingEmissionsIncluded") is False and packaging is not None:
        ctx.err("pcf.packagingGhgEmissions",
                "must be undefined when packagingEmissionsIncluded is false")
    if pcf.get("ccsTechnologicalCO2CaptureIncluded") is False:
        for name in ("ccsTechnologicalCO2Capture", "technologicalCO2Removals",
                     "technologicalCO2CaptureOrigin"):
            if pcf.get(name) is not None:
                ctx.err(f"pcf.{name}",
                        "must be undefined when ccsTechnologicalCO2CaptureIncluded is false")
    rules = pcf.get("productOrSectorSpecificRules")
    for i, rule in enumerate(rules if isinstance(rules, list) else []):
        if isinstance(rule, dict) and rule.get("operator") == "Other" \
                and not rule.get("otherOperatorName"):
            ctx.err(f"pcf.productOrSectorSpecificRules[{i}].otherOperatorName",
                    "must be populated when operator is 'Other'")
    _biogenic_rules(pcf, ctx)


def _period_rules(doc: dict[str, Any], pcf: dict[str, Any], ctx: _Ctx) -> None:
    """Reference period order and index.md §Validity Period."""
    start = parse_datetime(pcf.get("referencePeriodStart"))
    end = parse_datetime(pcf.get("referencePeriodEnd"))
    if start and end and start >= end:
        ctx.err("pcf.referencePeriodEnd",
                "must be after referencePeriodStart (start inclusive, end exclusive)")
    v_start = parse_datetime(doc.get("validityPeriodStart"))
    v_end = parse_datetime(doc.get("validityPeriodEnd"))
    if end and v_start and v_start < end:
        ctx.err("validityPeriodStart", "must be >= pcf.referencePeriodEnd (§Validity Period)")
    if end and v_end:
        try:
            limit = end.replace(year=end.year + 3)
        except ValueError:  # 29 February
            limit = end.replace(year=end.year + 3, day=28)
        if v_end > limit:
            ctx.err("validityPeriodEnd",
                    "must be <= pcf.referencePeriodEnd + 3 years (§Validity Period)")
    if v_start and v_end and v_end <= v_start:
        ctx.err("validityPeriodEnd", "must be after validityPeriodStart")


def validate_product_footprint(doc: Any, *, strict: bool = True) -> list[str]:
    """Every violation of PACT v3.0 found in ``doc`` (a parsed JSON object), or ``[]``."""
    if not isinstance(doc, dict):
        return [f"ProductFootprint: must be a JSON object, got {_got(doc)}"]
    ctx = _Ctx(strict=strict)
    _object(PRODUCT_FOOTPRINT, "ProductFootprint")(doc, "", ctx)
    version = doc.get("specVersion")
    if isinstance(version, str) and SPEC_VERSION_RE.match(version) and version[:2] != "3.":
        ctx.err("specVersion", f"this validator implements PACT v3.0; got {version!r}")
    preceding = doc.get("precedingPfIds")
    if isinstance(preceding, list) and doc.get("id") in preceding:
        ctx.err("precedingPfIds",
                "must not contain the footprint's own id (a change gives a new id, §Lifecycle)")
    pcf = doc.get("pcf")
    if isinstance(pcf, dict):
        _pcf_rules(pcf, ctx)
        _period_rules(doc, pcf, ctx)
    return ctx.errors


def assert_valid(doc: Any, *, strict: bool = True) -> None:
    """Raise :class:`InputError` listing every violation, if there is any."""
    errors = validate_product_footprint(doc, strict=strict)
    if errors:
        raise InputError(
            f"not a valid PACT v3.0 ProductFootprint ({len(errors)} error(s)): "
            + "; ".join(errors)
        )
