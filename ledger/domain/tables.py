"""Projection tables of the domain (DESIGN §4), written by the appliers in the same
transaction as the entry that caused them, and rebuilt by the audit's replay.

Quantities are exact integers in the smallest unit that entries allow: MWh with three
decimals is an integer number of kWh, tonnes with three decimals an integer number of kg.
(SQLite has no exact decimal type; integers are exact everywhere and sum in SQL.) Every row
records ``seq``, the entry that last wrote it, so an audit finding can name the entry.
"""

from __future__ import annotations

from sqlalchemy import BigInteger, Column, Index, String, Text, UniqueConstraint
from sqlmodel import Field, SQLModel


def big(**kw: object) -> Column:  # type: ignore[type-arg]
    return Column(BigInteger, nullable=False, **kw)


class Party(SQLModel, table=True):
    __tablename__ = "party"
    party_id: str = Field(primary_key=True, max_length=64)
    name: str = Field(max_length=200)
    roles: str = Field(max_length=100)  # "|"-separated, sorted
    uscc: str | None = Field(default=None, max_length=18)
    seq: int = Field(sa_column=big())


class Facility(SQLModel, table=True):
    __tablename__ = "facility"
    facility_id: str = Field(primary_key=True, max_length=64)
    owner: str = Field(index=True, max_length=64)
    name: str = Field(max_length=200)
    province: str = Field(max_length=16)
    grid_region: str = Field(max_length=32)
    country: str = Field(max_length=2)
    process: str = Field(max_length=200)
    seq: int = Field(sa_column=big())


class Certificate(SQLModel, table=True):
    """A registered range of green-power certificates (1 certificate = 1 MWh)."""

    __tablename__ = "certificate"
    certificate_id: str = Field(primary_key=True, max_length=80)  # "<registry>:<first>"
    registry_name: str = Field(sa_column=Column("registry", String(16), nullable=False))
    block: str = Field(max_length=40)  # the serials' shared part (GEC: the 17-char project part)
    first: str = Field(max_length=64)
    last: str = Field(max_length=64)
    first_no: int = Field(sa_column=big())
    last_no: int = Field(sa_column=big())
    kwh: int = Field(sa_column=big())
    allocated_kwh: int = Field(sa_column=big())
    cancelled_kwh: int = Field(sa_column=big())
    technology: str = Field(max_length=32)
    plant: str = Field(max_length=200)
    plant_province: str = Field(max_length=16)
    country: str = Field(max_length=2)
    generation_month: str = Field(max_length=7)
    expires_month: str = Field(max_length=7)  # last valid month (GEC: 2 years from generation)
    tradable: bool
    transfers: int = Field(sa_column=big())
    owner: str = Field(index=True, max_length=64)
    evidence_ref: str = Field(max_length=200)
    evidence_sha256: str = Field(max_length=64)
    attested_by: str | None = Field(default=None, max_length=64)
    status: str = Field(max_length=16)  # active | cancelled
    seq: int = Field(sa_column=big())

    __table_args__ = (Index("ix_certificate_serials", "registry", "block", "first_no"),)


class PlantMonth(SQLModel, table=True):
    """Which registry a plant's month of generation was claimed through (one only)."""

    __tablename__ = "plant_month"
    plant: str = Field(primary_key=True, max_length=200)
    month: str = Field(primary_key=True, max_length=7)
    registry_name: str = Field(sa_column=Column("registry", String(16), nullable=False))
    seq: int = Field(sa_column=big())


class Voucher(SQLModel, table=True):
    __tablename__ = "voucher"
    voucher_id: str = Field(primary_key=True, max_length=300)  # "<issuer>:<number>"
    issuer: str = Field(max_length=200)
    number: str = Field(max_length=80)
    facility: str = Field(index=True, max_length=64)
    period_start: str = Field(max_length=7)
    period_end: str = Field(max_length=7)
    kwh: int = Field(sa_column=big())
    technology: str = Field(max_length=32)
    certificate_first: str | None = Field(default=None, max_length=64)
    certificate_last: str | None = Field(default=None, max_length=64)
    evidence_sha256: str = Field(max_length=64)
    seq: int = Field(sa_column=big())


class Batch(SQLModel, table=True):
    __tablename__ = "batch"
    batch_id: str = Field(primary_key=True, max_length=80)
    lot: str = Field(max_length=64)
    facility: str = Field(index=True, max_length=64)
    owner: str = Field(index=True, max_length=64)
    product: str = Field(max_length=200)
    metal: str = Field(max_length=32)
    grade: str = Field(max_length=32)
    cn_code: str = Field(max_length=10)
    kg: int = Field(sa_column=big())  # tonnes produced, in kg
    shipped_kg: int = Field(sa_column=big())
    period_start: str = Field(max_length=10)
    period_end: str = Field(max_length=10)
    electricity_kwh: int = Field(sa_column=big())
    allocated_kwh: int = Field(sa_column=big())
    recycled_kg: int = Field(sa_column=big())
    recycled_origin: str = Field(default="", max_length=200)
    #: fuels, process emissions and inputs, as the canonical JSON of the entry body parts
    details: str = Field(sa_column=Column(Text, nullable=False))
    seq: int = Field(sa_column=big())

    __table_args__ = (UniqueConstraint("facility", "lot", name="uq_batch_lot"),)


class BatchInput(SQLModel, table=True):
    """Upstream batches consumed by a batch (mass balance of inputs)."""

    __tablename__ = "batch_input"
    batch_id: str = Field(primary_key=True, max_length=80)
    upstream: str = Field(primary_key=True, index=True, max_length=80)
    consumer: str = Field(index=True, max_length=64)  # the party that consumed it
    kg: int = Field(sa_column=big())
    seq: int = Field(sa_column=big())


class Allocation(SQLModel, table=True):
    """A certificate sub-range retired to a batch, for a beneficiary."""

    __tablename__ = "allocation"
    allocation_id: str = Field(primary_key=True, max_length=80)
    certificate_id: str = Field(index=True, max_length=80)
    first_no: int = Field(sa_column=big())
    last_no: int = Field(sa_column=big())
    first: str = Field(max_length=64)
    last: str = Field(max_length=64)
    kwh: int = Field(sa_column=big())
    batch_id: str = Field(index=True, max_length=80)
    beneficiary: str = Field(max_length=64)
    seq: int = Field(sa_column=big())


class Shipment(SQLModel, table=True):
    __tablename__ = "shipment"
    shipment_id: str = Field(primary_key=True, max_length=80)
    seller: str = Field(index=True, max_length=64)
    buyer: str = Field(index=True, max_length=64)
    date: str = Field(max_length=10)
    destination_country: str = Field(max_length=2)
    kg: int = Field(sa_column=big())
    seq: int = Field(sa_column=big())


class ShipmentLine(SQLModel, table=True):
    __tablename__ = "shipment_line"
    shipment_id: str = Field(primary_key=True, max_length=80)
    batch_id: str = Field(primary_key=True, index=True, max_length=80)
    buyer: str = Field(index=True, max_length=64)
    kg: int = Field(sa_column=big())
    seq: int = Field(sa_column=big())


class Declaration(SQLModel, table=True):
    __tablename__ = "declaration"
    declaration_id: str = Field(primary_key=True, max_length=36)
    shipment_id: str = Field(index=True, max_length=80)
    issuer: str = Field(max_length=64)
    buyer: str = Field(index=True, max_length=64)
    payload_sha256: str = Field(max_length=64)
    status: str = Field(max_length=16)  # valid | revoked | superseded
    reason: str | None = Field(default=None, max_length=500)
    supersedes: str | None = Field(default=None, max_length=36)
    issued_seq: int = Field(sa_column=big())
    seq: int = Field(sa_column=big())


def projections() -> tuple[type[SQLModel], ...]:
    from ledger.domain.log_keys import LogKey
    from ledger.domain.suppliers import SupplierFootprintRow

    return (Party, Facility, Certificate, PlantMonth, Voucher, Batch, BatchInput, Allocation,
            Shipment, ShipmentLine, Declaration, LogKey, SupplierFootprintRow)
