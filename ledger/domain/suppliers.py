"""Suppliers' product footprints pulled over PACT, in the log (DESIGN §4 "material inputs").

A footprint pulled from a supplier's PACT host becomes a ``supplier_footprint.recorded``
entry; its body keeps what the footprint engine needs and what an auditor checks against the
supplier's signed payload:

``{"supplier": name, "footprint": uuid, "product_ids": [urn, ...],
"pcf_excluding_biogenic_uptake_kg_co2e": "<kg CO2e per declared unit>", "declared_unit":
"kilogram", "declared_unit_amount": "1", "product_mass_per_declared_unit_kg": "1",
"primary_data_share": "<percent>" (absent when the supplier gives none), "status": "Active" |
"Deprecated", "payload_sha256": "<hex SHA-256 of the payload's RFC 8785 bytes>", "source":
"<the supplier's PACT base URL>"}``

Decimals are the supplier's values written as plain decimal strings (a PACT decimal may carry
a sign or leading zeros; the value is unchanged). The payload itself (its RFC 8785 text) is kept
beside the entry in ``supplier_footprint_document``, keyed by that hash and written in the same
transaction, as declaration documents are.

Versions. PACT 3 footprints are immutable except for ``status`` becoming ``Deprecated``
(spec v3 index.md §Product Footprint Lifecycle), but a supplier may still serve changed bytes
under an id. Nothing recorded is ever edited: a payload whose hash differs from the latest
recorded version of (supplier, footprint id) is a *new* entry with the next ``version``; the
same hash again is refused (``supplier_footprint.unchanged``), so the client skips it.

The projection ``supplier_footprint`` holds one row per version. :func:`supplier_lookup` is
the footprint engine's default source of ``pact`` inputs (``inputs: [{"kind": "pact", "ref":
"<footprint id>" or "<supplier>:<footprint id>", "tonnes": ...}]``): the latest version,
priced per kilogram of product.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from decimal import Decimal, InvalidOperation
from typing import Any

from sqlalchemy import Column, Index, Text, select
from sqlmodel import Field, Session, SQLModel, col

from ledger import encoding
from ledger.domain import fields as f
from ledger.domain.parties import party
from ledger.domain.tables import big
from ledger.encoding import Entry
from ledger.errors import InputError, RuleViolation
from ledger.footprint_model import SupplierFootprint
from ledger.numbers import div

KIND = "supplier_footprint.recorded"
#: PACT v3 CarbonFootprint.declaredUnitOfMeasurement (openapi.yaml enum)
DECLARED_UNITS = (
    "liter", "kilogram", "cubic meter", "kilowatt hour", "megajoule", "ton kilometer",
    "square meter", "piece", "hour", "megabit second",
)
#: units of a material whose declared unit has a mass (productMassPerDeclaredUnit, kg); the
#: others (energy, transport, services) have none and cannot price tonnes of input
MASS_UNITS = ("kilogram", "liter", "cubic meter", "square meter", "piece")
STATUSES = ("Active", "Deprecated")
_PACT_DECIMAL = re.compile(r"^[+-]?\d+(\.\d+)?$", re.ASCII)
_UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
MAX_PRODUCT_IDS = 50


class SupplierFootprintRow(SQLModel, table=True):
    """One recorded version of a supplier's footprint (projection of the entry)."""

    __tablename__ = "supplier_footprint"
    supplier: str = Field(primary_key=True, max_length=64)
    footprint_id: str = Field(primary_key=True, max_length=36)
    version: int = Field(primary_key=True)
    product_ids: str = Field(sa_column=Column(Text, nullable=False))  # canonical JSON array
    pcf_kg_co2e: str = Field(max_length=50)  # per declared unit
    declared_unit: str = Field(max_length=20)
    declared_unit_amount: str = Field(max_length=50)
    product_mass_kg: str = Field(max_length=50)
    primary_data_share: str | None = Field(default=None, max_length=20)
    status: str = Field(max_length=16)
    payload_sha256: str = Field(max_length=64)
    source: str = Field(max_length=500)
    actor: str = Field(max_length=64)
    seq: int = Field(sa_column=big())

    __table_args__ = (Index("ix_supplier_footprint_id", "footprint_id"),)


class SupplierFootprintDocument(SQLModel, table=True):
    """The payload a recorded version was made from, keyed by its hash (not a projection:
    like declaration documents it is written beside the entry and not replayed)."""

    __tablename__ = "supplier_footprint_document"
    payload_sha256: str = Field(primary_key=True, max_length=64)
    payload: str = Field(sa_column=Column(Text, nullable=False))  # RFC 8785 JSON text
    stored_at: str = Field(max_length=32)


def plain_decimal(value: Any, *, field: str, minimum: Decimal | None = None,
                  positive: bool = False, maximum: Decimal | None = None) -> str:
    """A PACT decimal string (``^[+-]?\\d+(\\.\\d+)?$``) written plainly: no sign for
    positives, no leading zeros, never ``-0``. Refuses anything else."""
    if not isinstance(value, str) or not _PACT_DECIMAL.match(value):
        raise InputError(f"must be a decimal string, got {value!r}", field=field)
    try:
        d = Decimal(value)
    except InvalidOperation as exc:  # pragma: no cover - the regex guards
        raise InputError(f"not a decimal: {value!r}", field=field) from exc
    if positive and d <= 0:
        raise InputError(f"must be > 0, got {value}", field=field)
    if minimum is not None and d < minimum:
        raise InputError(f"must be >= {minimum}, got {value}", field=field)
    if maximum is not None and d > maximum:
        raise InputError(f"must be <= {maximum}, got {value}", field=field)
    return format(abs(d) if d.is_zero() else d, "f")


def _uuid(body: dict[str, Any], name: str) -> str:
    value = f.text(body, name, max_len=36)
    if not _UUID.match(value):
        raise InputError("a lower-case UUID is required", field=name)
    return value


def _product_ids(body: dict[str, Any]) -> list[str]:
    value = body.get("product_ids")
    if (not isinstance(value, list) or not value or len(value) > MAX_PRODUCT_IDS
            or not all(isinstance(v, str) and 0 < len(v) <= 300 for v in value)):
        raise InputError(f"1-{MAX_PRODUCT_IDS} product ids (strings of at most 300 characters)",
                         field="product_ids")
    return value


def latest(session: Session, supplier: str, footprint_id: str) -> SupplierFootprintRow | None:
    """The latest recorded version of a supplier's footprint, if any."""
    return session.scalars(
        select(SupplierFootprintRow)
        .where(col(SupplierFootprintRow.supplier) == supplier,
               col(SupplierFootprintRow.footprint_id) == footprint_id)
        .order_by(col(SupplierFootprintRow.version).desc()).limit(1)).first()


def apply_supplier_footprint_recorded(session: Session, entry: Entry) -> None:
    b = entry.body
    party(session, entry.actor, field="actor")
    supplier = f.ident(b, "supplier")
    footprint = _uuid(b, "footprint")
    product_ids = _product_ids(b)
    pcf = plain_decimal(b.get("pcf_excluding_biogenic_uptake_kg_co2e"),
                        field="pcf_excluding_biogenic_uptake_kg_co2e")
    unit = f.choice(b, "declared_unit", DECLARED_UNITS)
    amount = plain_decimal(b.get("declared_unit_amount"), field="declared_unit_amount",
                           positive=True)
    mass = plain_decimal(b.get("product_mass_per_declared_unit_kg"),
                         field="product_mass_per_declared_unit_kg", minimum=Decimal(0))
    share = None
    if "primary_data_share" in b:
        share = plain_decimal(b.get("primary_data_share"), field="primary_data_share",
                              minimum=Decimal(0), maximum=Decimal(100))
    for name, got in (("pcf_excluding_biogenic_uptake_kg_co2e", pcf),
                      ("declared_unit_amount", amount),
                      ("product_mass_per_declared_unit_kg", mass),
                      ("primary_data_share", share)):
        if got is not None and got != b.get(name):
            raise InputError(f"write the decimal plainly as {got!r}", field=name)
    status = f.choice(b, "status", STATUSES)
    digest = f.sha256_hex(b, "payload_sha256")
    source = f.text(b, "source", max_len=500)
    before = latest(session, supplier, footprint)
    if before is not None and before.payload_sha256 == digest:
        raise RuleViolation("supplier_footprint.unchanged", f"version {before.version} of "
                            f"{supplier}:{footprint} has this payload already (seq {before.seq})",
                            field="payload_sha256", limit=before.payload_sha256, got=digest)
    session.add(SupplierFootprintRow(
        supplier=supplier, footprint_id=footprint,
        version=1 if before is None else before.version + 1,
        product_ids=encoding.canonical_bytes(product_ids).decode("utf-8"), pcf_kg_co2e=pcf,
        declared_unit=unit, declared_unit_amount=amount, product_mass_kg=mass,
        primary_data_share=share, status=status, payload_sha256=digest, source=source,
        actor=entry.actor, seq=entry.seq))


# --- the footprint engine's source of ``pact`` inputs -------------------------------------

def kg_co2e_per_kg(row: SupplierFootprintRow, *, field: str = "ref") -> Decimal:
    """The footprint per kilogram of product: per declared unit divided by the declared
    unit's mass (``declaredUnitAmount`` kg for ``kilogram``, else
    ``productMassPerDeclaredUnit``). Units without a mass are refused."""
    pcf = Decimal(row.pcf_kg_co2e)
    if row.declared_unit == "kilogram":
        return div(pcf, Decimal(row.declared_unit_amount))
    mass = Decimal(row.product_mass_kg)
    if row.declared_unit in MASS_UNITS and mass > 0:
        return div(pcf, mass)
    raise InputError(f"supplier footprint {row.supplier}:{row.footprint_id} is declared per "
                     f"{row.declared_unit_amount} {row.declared_unit}"
                     + (" without a product mass" if row.declared_unit in MASS_UNITS else "")
                     + "; a batch input in tonnes needs a footprint per kilogram of product "
                     "(declaredUnitOfMeasurement 'kilogram', or a mass per declared unit)",
                     field=field)


def find(session: Session, ref: str, *, field: str = "ref") -> SupplierFootprintRow:
    """The latest version for ``ref``: ``"<footprint id>"`` or ``"<supplier>:<footprint id>"``."""
    supplier, _, fid = ref.rpartition(":")
    fid = fid.strip().lower()
    q = select(SupplierFootprintRow).where(col(SupplierFootprintRow.footprint_id) == fid)
    if supplier:
        q = q.where(col(SupplierFootprintRow.supplier) == supplier)
    rows = list(session.scalars(q.order_by(col(SupplierFootprintRow.version).desc())))
    if not rows:
        raise InputError(f"no supplier footprint {ref!r} has been pulled (greenledger pact pull "
                         "--supplier NAME)", field=field)
    suppliers = {r.supplier for r in rows}
    if len(suppliers) > 1:
        raise InputError(f"footprint {fid} was pulled from {', '.join(sorted(suppliers))}; "
                         "name one as '<supplier>:<footprint id>'", field=field)
    return rows[0]


def supplier_lookup(session: Session) -> Callable[[str], SupplierFootprint]:
    """``suppliers(ref) -> SupplierFootprint`` reading the recorded footprints."""

    def lookup(ref: str) -> SupplierFootprint:
        row = find(session, ref)
        share = Decimal(row.primary_data_share) if row.primary_data_share is not None else Decimal(0)
        note = "" if row.status == "Active" else " (Deprecated by the supplier)"
        source = (f"PACT footprint {row.footprint_id}{note} of supplier {row.supplier} "
                  f"({row.source}), version {row.version} recorded at seq {row.seq}, payload "
                  f"SHA-256 {row.payload_sha256}")
        return SupplierFootprint(ref, kg_co2e_per_kg(row), source, share)

    return lookup
