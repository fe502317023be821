"""The PACT v3.0 ``ProductFootprint`` of a shipment, built from a :class:`DeclarationContent`.

What: :func:`build_product_footprint` turns the content of a declaration into the JSON payload
that is signed (detached JWS over its JCS bytes) and embedded in the PDF (DESIGN §6);
:func:`payload_core` is the part the ``declaration.issued`` ledger entry hashes (everything but
the ledger binding, which only exists after the entry is written). Why PACT: buyers' PCF tools
pull it over the PACT API and read it without knowing greenledger.

Spec: PACT Technical Specifications 3.0.3 (wbcsd/data-exchange-protocol ``spec/v3/openapi.yaml``
and ``spec/v3/index.md``; exact sources in :mod:`certificates.pact_model`, which validates every
payload built here before it is returned). Mapping decisions:

* Declared unit 1 kilogram of product (``declaredUnitAmount`` "1", ``productMassPerDeclaredUnit``
  "1"; bulk goods in kg MUST use amount 1, openapi CarbonFootprint.declaredUnitAmount). Content
  is per tonne, so every emission is divided by 1000 and written with 6 decimals (1 mg CO2e).
* ``pcfIncludingBiogenicUptake`` = ``pcfExcludingBiogenicUptake``: a metal holds no biomass, so
  ``biogenicCO2Uptake`` (BIO rule: "0 if not applicable") is 0. ``fossilCarbonContent``,
  ``biogenicCarbonContent`` and ``recycledCarbonContent`` are 0: the product is metal, the anode
  carbon leaves as CO2 and is counted in ``fossilGhgEmissions``. Land-use-change and biogenic
  non-CO2 emissions upstream are not calculated by greenledger, so they stay undefined (BIO:
  "blank if unknown") and the comment says so.
* Geography: ``geographyCountrySubdivision`` when the content has one, else ``geographyCountry``;
  never both (CarbonFootprint scope rules, openapi ``oneOf``).
* URNs (index.md §Product Identifier URN's / §Product Classification URNs): no registered
  namespace exists for these ids, so the recommended ``urn:pact:$domain-of-issuer$:$type$:$id$``
  form is used, the issuer's domain being the greenledger host (from ``verify_url``) for ledger
  keys, ``gsxt.gov.cn`` for the unified social credit code, ``ec.europa.eu`` for the 8-digit CN
  code and ``wcoomd.org`` for its 6-digit HS prefix. PACT prescribes no company-id form in v3;
  ADR-0034 expects the product form to serve companies too, so it is used for them.
* ``extensions``: one Data Model Extension (specVersion "2.0.0", wbcsd/data-model-extensions
  §5) whose ``data`` is the greenledger object described at :func:`_extension_data`.
"""

from __future__ import annotations

import copy
import re
import uuid
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Any
from urllib.parse import quote, urlsplit

from certificates.content import Breakdown, DeclarationContent, LedgerBinding
from certificates.pact_model import STATUS, assert_valid
from ledger.errors import InputError
from ledger.numbers import FACTOR, MWH, PERCENT, TONNES, div, q

#: The PACT Technical Specifications release this payload follows (openapi info.version).
PACT_V3_SPEC_VERSION = "3.0.3"
#: Version of the Data Model Extensions specification (the only one: "MUST be 2.0.0").
EXTENSION_SPEC_VERSION = "2.0.0"
PER_KG = FACTOR  # 0.000001 kg CO2e per kg = 1 mg
_THOUSAND = Decimal(1000)
_USCC_RE = re.compile(r"^[0-9A-HJ-NPQRTUWXY]{18}$")  # GB 32100-2015 character set
_NSS_SAFE = "-._~!$&'()*+,;=:@"  # RFC 8141 pchar without pct-encoding


def _str(d: Decimal, exp: Decimal | None = None) -> str:
    """Decimal string (rounded half-even to ``exp`` if given); never '-0'."""
    d = q(d, exp) if exp is not None else d
    return format(abs(d) if d.is_zero() else d, "f")


def _per_kg(kg_per_tonne: Decimal) -> str:
    return _str(div(kg_per_tonne, _THOUSAND), PER_KG)


def _utc(dt: datetime, field: str) -> str:
    if dt.tzinfo is None or dt.utcoffset() is None:
        raise InputError("must be a timezone-aware datetime (UTC)", field=field)
    return dt.astimezone(UTC).isoformat().replace("+00:00", "Z")


def _day_start(d: date) -> str:
    return _utc(datetime.combine(d, time(0), tzinfo=UTC), "date")


def _nss(text: str) -> str:
    return quote(text, safe=_NSS_SAFE)


def _canonical_uuid(value: str, field: str) -> str:
    try:
        canonical = str(uuid.UUID(value))
    except (ValueError, AttributeError, TypeError) as exc:
        raise InputError(f"must be a UUID, got {value!r}", field=field) from exc
    if canonical != value:
        raise InputError(f"must be a UUID in canonical lower-case form ({canonical})", field=field)
    return value


def _https_url(value: str, field: str) -> str:
    parts = urlsplit(value)
    if parts.scheme != "https" or not parts.hostname:
        raise InputError(f"must be an https URL, got {value!r}", field=field)
    return value


def _check(content: DeclarationContent) -> None:
    """Refuse content that would produce a false or non-conforming declaration."""
    c = content
    if c.status not in STATUS:
        raise InputError(f"must be one of {', '.join(STATUS)}, got {c.status!r}", field="status")
    if c.tonnes <= 0:
        raise InputError(f"must be > 0, got {c.tonnes}", field="tonnes")
    if c.period_end < c.period_start:
        raise InputError("must not be before period_start", field="period_end")
    if not re.fullmatch(r"AR\d+", c.gwp_set):
        raise InputError(f"must look like 'AR6', got {c.gwp_set!r}", field="gwp_set")
    for name in ("primary_data_share", "recycled_share"):
        if not 0 <= getattr(c, name) <= 100:
            raise InputError(f"must be a percentage 0..100, got {getattr(c, name)}", field=name)
    if not 0 <= c.green_mwh <= c.electricity_mwh:
        raise InputError(
            f"must be within 0..electricity_mwh ({c.electricity_mwh})", field="green_mwh"
        )
    for name in ("green_mwh_attested", "green_mwh_voucher_covered"):
        if not 0 <= getattr(c, name) <= c.green_mwh:
            raise InputError(f"must be within 0..green_mwh ({c.green_mwh})", field=name)
    if c.fossil_kg_per_tonne < 0:
        raise InputError("must be >= 0", field="fossil_kg_per_tonne")
    if not re.fullmatch(r"\d{8}", c.product.cn_code):
        raise InputError(
            f"must be an 8-digit CN code, got {c.product.cn_code!r}", field="product.cn_code"
        )
    if c.issuer.uscc is not None and not _USCC_RE.match(c.issuer.uscc):
        raise InputError(f"not an 18-character USCC: {c.issuer.uscc!r}", field="issuer.uscc")
    sub = c.geography_subdivision
    if sub is not None and not (
        re.fullmatch(r"[A-Z]{2}-[A-Z0-9]{1,3}", sub) and sub.startswith(c.geography_country + "-")
    ):
        raise InputError(
            f"must be an ISO 3166-2 code of {c.geography_country}, got {sub!r}",
            field="geography_subdivision",
        )


def ledger_section(binding: LedgerBinding) -> dict[str, Any]:
    """The ``ledger`` member of the extension data for a :class:`LedgerBinding`."""
    return {
        "seq": binding.seq,
        "entry": binding.entry,
        "leafHash": binding.leaf_hash,
        "treeSize": binding.tree_size,
        "inclusionProof": list(binding.inclusion_proof),
        "checkpoint": binding.checkpoint,
    }


def _basis(b: Breakdown) -> dict[str, str]:
    return {
        "total": _per_kg(b.total),
        "upstream": _per_kg(b.upstream),
        "direct": _per_kg(b.direct),
        "electricity": _per_kg(b.electricity),
    }


def _extension_data(c: DeclarationContent, ledger: dict[str, Any] | None) -> dict[str, Any]:
    """The greenledger extension ``data`` (what its dataSchema must describe).

    Every quantity is a decimal string (JSON numbers only for ``factors[].year`` and the
    ledger's ``seq``/``treeSize``). Emissions (``marketBased``/``locationBased`` ``total``,
    ``upstream``, ``direct``, ``electricity``; ``byGas`` per gas) are kg CO2e per kg of
    product, 6 decimals; energy (``electricityMwh``, ``greenMwh``, ``greenMwhAttested``,
    ``greenMwhVoucherCovered``, ``certificates[].mwh``, ``vouchers[].mwh``) MWh, 3 decimals;
    ``greenShare`` (green / metered electricity) and ``recycledShare`` percent, 2 decimals;
    ``shipment.tonnes`` t, 3 decimals; ``factors[].value`` exactly as sourced, in its ``unit``.
    ``ledger`` (optional, absent from :func:`payload_core`): ``seq``, ``entry`` (canonical
    entry text), ``leafHash`` (hex), ``treeSize``, ``inclusionProof`` (hex, RFC 9162 order),
    ``checkpoint`` (signed note).
    """
    share = div(c.green_mwh * 100, c.electricity_mwh) if c.electricity_mwh else Decimal(0)
    data: dict[str, Any] = {
        "shipment": {
            "id": c.shipment_id,
            "date": c.shipment_date.isoformat(),
            "tonnes": _str(c.tonnes, TONNES),
            "destinationCountry": c.destination_country,
        },
        "facilities": list(c.facility_names),
        "factorFamily": c.factor_family,
        "marketBased": _basis(c.market),
        "locationBased": _basis(c.location),
        "byGas": {gas: _per_kg(v) for gas, v in c.by_gas_kg_per_tonne.items()},
        "electricityMwh": _str(c.electricity_mwh, MWH),
        "greenMwh": _str(c.green_mwh, MWH),
        "greenMwhAttested": _str(c.green_mwh_attested, MWH),
        "greenMwhVoucherCovered": _str(c.green_mwh_voucher_covered, MWH),
        "greenShare": _str(share, PERCENT),
        "recycledShare": _str(c.recycled_share, PERCENT),
        "certificates": [
            {
                "registry": x.registry,
                "first": x.first,
                "last": x.last,
                "mwh": _str(x.mwh, MWH),
                "technology": x.technology,
                "plant": x.plant,
                "vintage": x.vintage,
                "attested": x.attested,
                "tradable": x.tradable,
            }
            for x in c.certificates
        ],
        "vouchers": [
            {"issuer": v.issuer, "number": v.number, "mwh": _str(v.mwh, MWH), "period": v.period}
            for v in c.vouchers
        ],
        "factors": [
            {
                "name": f.name,
                "value": _str(f.value),
                "unit": f.unit,
                "source": f.source,
                "year": f.year,
            }
            for f in c.factors
        ],
        "verifyUrl": c.verify_url,
    }
    if ledger is not None:
        data["ledger"] = copy.deepcopy(ledger)
    return data


def _comment(c: DeclarationContent) -> str:
    lines = [
        "Market-based electricity accounting (headline figure); location-based total "
        f"{_per_kg(c.location.total)} kg CO2e/kg, see the greenledger extension.",
        f"Power emission factor family: {c.factor_family}. GWP: IPCC {c.gwp_set}. "
        "Quantified following ISO 14067 (GB/T 24067-2024).",
        "Metal product: fossil, biogenic and recycled carbon content 0, no biogenic CO2 uptake.",
        "Land-use change and biogenic non-CO2 emissions upstream are not calculated (undefined).",
    ]
    if c.facility_names:
        lines.append("Facilities: " + "; ".join(c.facility_names) + ".")
    return "\n".join([*lines, *c.notes])


def build_product_footprint(
    content: DeclarationContent,
    *,
    extension_schema_url: str,
    ledger: dict[str, Any] | None,
    extension_documentation_url: str | None = None,
    id_domain: str | None = None,
) -> dict[str, Any]:
    """The PACT v3.0 ProductFootprint of ``content``, a JSON-ready dict (decimals as strings).

    ``ledger`` (e.g. :func:`ledger_section`) is added to the extension data when given.
    ``id_domain`` is the issuer domain of greenledger's URNs (default: host of ``verify_url``).
    Raises :class:`InputError` if the content is inconsistent or the result is not valid PACT.
    """
    c = content
    _check(c)
    domain = id_domain or urlsplit(c.verify_url).hostname
    if not domain:
        raise InputError(f"has no host to derive URNs from: {c.verify_url!r}", field="verify_url")
    company_ids = [f"urn:pact:{_nss(domain)}:party-id:{_nss(c.issuer.party_id)}"]
    if c.issuer.uscc:
        company_ids.insert(0, f"urn:pact:gsxt.gov.cn:uscc:{c.issuer.uscc}")
    geography = (
        {"geographyCountrySubdivision": c.geography_subdivision}
        if c.geography_subdivision
        else {"geographyCountry": c.geography_country}
    )
    sources: list[dict[str, str]] = []
    for f in c.factors:
        source = {"name": f.source, "version": str(f.year) if f.year else "undated"}
        if source not in sources:
            sources.append(source)
    market_per_kg = _per_kg(c.market.total)
    pcf: dict[str, Any] = {
        "declaredUnitOfMeasurement": "kilogram",
        "declaredUnitAmount": "1",
        "productMassPerDeclaredUnit": "1",
        "referencePeriodStart": _day_start(c.period_start),
        "referencePeriodEnd": _day_start(c.period_end + timedelta(days=1)),  # end is exclusive
        **geography,
        "boundaryProcessesDescription": c.boundary,
        "pcfExcludingBiogenicUptake": market_per_kg,
        "pcfIncludingBiogenicUptake": market_per_kg,
        "fossilGhgEmissions": _per_kg(c.fossil_kg_per_tonne),
        "fossilCarbonContent": "0",
        "biogenicCarbonContent": "0",
        "recycledCarbonContent": "0",
        "biogenicCO2Uptake": "0",
        "packagingEmissionsIncluded": False,
        "ccsTechnologicalCO2CaptureIncluded": False,
        "ipccCharacterizationFactors": [c.gwp_set],
        "crossSectoralStandards": ["ISO14067"],
        "exemptedEmissionsPercent": "0",
        "primaryDataShare": _str(c.primary_data_share, PERCENT),
    }
    if sources:
        pcf["secondaryEmissionFactorSources"] = sources
    extension: dict[str, Any] = {
        "specVersion": EXTENSION_SPEC_VERSION,
        "dataSchema": _https_url(extension_schema_url, "extension_schema_url"),
        "data": _extension_data(c, ledger),
    }
    if extension_documentation_url is not None:
        extension["documentation"] = _https_url(
            extension_documentation_url, "extension_documentation_url"
        )
    doc: dict[str, Any] = {
        "id": _canonical_uuid(c.declaration_id, "declaration_id"),
        "specVersion": PACT_V3_SPEC_VERSION,
        "created": _utc(c.created, "created"),
        "status": c.status,
        "companyName": c.issuer.name,
        "companyIds": company_ids,
        "productDescription": c.product.description,
        "productIds": [f"urn:pact:{_nss(domain)}:product-id:{_nss(c.product.product_id)}"],
        "productClassifications": [
            f"urn:pact:ec.europa.eu:cn-code:{c.product.cn_code}",
            f"urn:pact:wcoomd.org:hs-code:{c.product.cn_code[:6]}",
        ],
        "productNameCompany": c.product.name,
        "comment": _comment(c),
        "pcf": pcf,
        "extensions": [extension],
    }
    if c.preceding_ids:
        doc["precedingPfIds"] = [_canonical_uuid(p, "preceding_ids") for p in c.preceding_ids]
    assert_valid(doc)
    return doc


def payload_core(payload: dict[str, Any]) -> dict[str, Any]:
    """A deep copy of ``payload`` without ``extensions[*].data.ledger``: what the entry hashes."""
    core = copy.deepcopy(payload)
    for ext in core.get("extensions") or []:
        if isinstance(ext, dict) and isinstance(ext.get("data"), dict):
            ext["data"].pop("ledger", None)
    return core
