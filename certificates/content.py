"""What a declaration states, independent of how it is rendered.

The ledger side (footprint engine, registry, log) fills a :class:`DeclarationContent`; the
PACT payload builder (``pact.py``) and the PDF renderer (``pdf.py``) both read only this, so
the machine-readable payload and the printed page cannot drift apart.

All quantities are ``Decimal``; never floats (DESIGN §3.1).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal


@dataclass(frozen=True)
class Party:
    party_id: str  # ledger party id, e.g. "p-yunlv"
    name: str  # legal name, may be Chinese + English
    uscc: str | None = None  # 18-char unified social credit code (统一社会信用代码)


@dataclass(frozen=True)
class Product:
    name: str  # e.g. "Primary aluminium ingot 99.70 / 原铝锭 Al99.70"
    description: str
    metal: str  # aluminium | copper | zinc | lead | tin | silicon | alumina ...
    grade: str  # e.g. "Al99.70"
    cn_code: str  # 8-digit CN / HS code, e.g. "76011000"
    product_id: str  # ledger product key, turned into a URN by the PACT builder


@dataclass(frozen=True)
class Factor:
    """One emission factor as used, with its provenance (no number without a source)."""

    name: str  # e.g. "Grid CN national excl. market-traded non-fossil (2023)"
    value: Decimal
    unit: str  # e.g. "kg CO2e/kWh"
    source: str  # document name
    year: int | None  # None: the source gives no single year (e.g. a material estimate)


@dataclass(frozen=True)
class CertificateUsed:
    registry: str  # "CN-GEC" | "I-REC"
    first: str  # first serial/code of the retired range
    last: str
    mwh: Decimal
    technology: str  # hydro | wind | solar | biomass ...
    plant: str
    vintage: str  # "YYYY-MM" month of generation
    attested: bool  # a certifier checked its evidence at the source
    tradable: bool


@dataclass(frozen=True)
class VoucherUsed:
    issuer: str  # e.g. "Kunming Electric Power Exchange Center"
    number: str
    mwh: Decimal
    period: str  # "YYYY-MM..YYYY-MM"


@dataclass(frozen=True)
class Breakdown:
    """kg CO2e per tonne of product, one basis (market- or location-based)."""

    upstream: Decimal
    direct: Decimal
    electricity: Decimal

    @property
    def total(self) -> Decimal:
        return self.upstream + self.direct + self.electricity


@dataclass(frozen=True)
class LedgerBinding:
    """Where the declaration sits in the log, with what a buyer needs to check it offline.

    ``entry`` is the canonical text of the ``declaration.issued`` entry (the buyer is named in
    it, so it may read it); ``leaf_hash`` = SHA-256(0x00 || entry); the inclusion proof leads
    from that leaf to the root of the signed ``checkpoint`` note of size ``tree_size``.
    """

    seq: int
    entry: str
    leaf_hash: str  # hex
    tree_size: int
    inclusion_proof: tuple[str, ...]  # hex hashes, RFC 9162 order
    checkpoint: str  # signed note text, verbatim


@dataclass(frozen=True)
class DeclarationContent:
    declaration_id: str  # UUID (string form), the PACT ProductFootprint id
    created: datetime  # UTC
    issuer: Party
    buyer: Party
    product: Product
    shipment_id: str
    shipment_date: date
    destination_country: str  # ISO 3166-1 alpha-2
    tonnes: Decimal  # tonnes shipped
    period_start: date  # reference period (production) of the batches
    period_end: date
    geography_country: str  # "CN"
    geography_subdivision: str | None  # ISO 3166-2, e.g. "CN-YN"
    facility_names: tuple[str, ...]
    market: Breakdown  # headline: market-based, kg CO2e per tonne
    location: Breakdown  # always shown beside it
    fossil_kg_per_tonne: Decimal  # fossil GHG emissions, kg CO2e/t (market basis)
    factor_family: str  # "lca-power-footprint" (ISO 14067, default) | "ghg-co2-grid"
    gwp_set: str  # "AR6" | "AR5"
    electricity_mwh: Decimal  # metered electricity behind the shipped tonnes
    green_mwh: Decimal  # allocated green MWh behind the shipped tonnes
    green_mwh_attested: Decimal  # of which attested by a certifier
    green_mwh_voucher_covered: Decimal  # of which covered by traceability vouchers
    primary_data_share: Decimal  # percent, 0..100
    recycled_share: Decimal  # percent of recycled input, 0..100
    certificates: tuple[CertificateUsed, ...]
    vouchers: tuple[VoucherUsed, ...]
    factors: tuple[Factor, ...]
    by_gas_kg_per_tonne: dict[str, Decimal]  # {"CO2":..., "CF4":..., "C2F6":..., "CH4":..., "N2O":...}
    boundary: str  # plain-language system boundary (cradle-to-gate, what is excluded)
    verify_url: str  # where the QR code points: {base}/verify/{declaration_id}
    status: str = "Active"  # PACT status: Active | Deprecated
    preceding_ids: tuple[str, ...] = ()  # earlier declaration ids this one corrects
    notes: tuple[str, ...] = field(default_factory=tuple)  # disclosures (fallbacks used...)

    @property
    def market_total_kg(self) -> Decimal:
        return self.market.total * self.tonnes

    @property
    def location_total_kg(self) -> Decimal:
        return self.location.total * self.tonnes
