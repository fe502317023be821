"""Parties, facilities, green-power certificates and traceability vouchers (DESIGN §4).

Request bodies mirror the entry bodies of ``party.registered``, ``facility.registered``,
``certificate.registered`` (and ``.transferred``, ``.cancelled``, ``.attested``) and
``voucher.registered``; the appliers in :mod:`ledger.domain` enforce the rules.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from api.schemas.common import (
    Country,
    Month,
    PartyId,
    Public,
    Quantity,
    RequestBody,
    Role,
    Sha256,
    Technology,
    Text16,
    Text32,
    Text64,
    Text80,
    Text200,
    page,
    receipt,
)
from ledger.domain.fields import from_milli
from ledger.domain.tables import Certificate, Facility, Party, Voucher


class PartyCreate(RequestBody):
    party: PartyId
    name: Text200
    roles: list[Role] = Field(min_length=1, max_length=4)
    uscc: str | None = Field(None, pattern=r"^[0-9A-Z]{18}$",
                             description="unified social credit code (18 characters)")


class PartyPublic(Public):
    id: str
    name: str
    roles: list[str]
    uscc: str | None
    seq: int

    @classmethod
    def of(cls, row: Party) -> PartyPublic:
        return cls(id=row.party_id, name=row.name, roles=row.roles.split("|"), uscc=row.uscc,
                   seq=row.seq)


class FacilityCreate(RequestBody):
    facility: PartyId
    owner: PartyId | None = Field(None, description="default: the caller's party")
    name: Text200
    province: Text16
    grid_region: Text32
    country: Country
    process: Text200


class FacilityPublic(Public):
    id: str
    owner: str
    name: str
    province: str
    grid_region: str
    country: str
    process: str
    seq: int

    @classmethod
    def of(cls, row: Facility) -> FacilityPublic:
        return cls(id=row.facility_id, owner=row.owner, name=row.name, province=row.province,
                   grid_region=row.grid_region, country=row.country, process=row.process,
                   seq=row.seq)


class Evidence(RequestBody):
    ref: Text200 = Field(description="the platform's transaction or cancellation record")
    sha256: Sha256 = Field(description="SHA-256 of that record's document")


class CertificateCreate(RequestBody):
    registry: Literal["CN-GEC", "I-REC"]
    first: Text64
    last: Text64
    mwh: Quantity
    technology: Technology
    plant: Text200
    plant_province: Text16
    country: Country
    generation_month: Month
    tradable: bool
    owner: PartyId | None = Field(None, description="default: the caller's party")
    evidence: Evidence

    @model_validator(mode="after")
    def _block_fits(self) -> CertificateCreate:
        # I-REC codes are <block>-<number>; the block column holds 40 characters
        if self.registry == "I-REC":
            for name in ("first", "last"):
                block = getattr(self, name).rpartition("-")[0]
                if len(block) > 40:
                    raise ValueError(f"{name}: an I-REC code's prefix has at most 40 characters")
        return self


class EvidencePublic(Public):
    ref: str
    sha256: str


class CertificatePublic(Public):
    id: str
    registry: str
    first: str
    last: str
    mwh: str
    allocated_mwh: str
    cancelled_mwh: str
    available_mwh: str
    technology: str
    plant: str
    plant_province: str
    country: str
    generation_month: str
    expires_month: str
    tradable: bool
    transfers: int
    owner: str
    evidence: EvidencePublic
    attested_by: str | None
    status: str
    seq: int

    @classmethod
    def of(cls, row: Certificate) -> CertificatePublic:
        available = row.kwh - row.allocated_kwh - row.cancelled_kwh
        return cls(id=row.certificate_id, registry=row.registry_name, first=row.first,
                   last=row.last, mwh=from_milli(row.kwh),
                   allocated_mwh=from_milli(row.allocated_kwh),
                   cancelled_mwh=from_milli(row.cancelled_kwh),
                   available_mwh=from_milli(available), technology=row.technology,
                   plant=row.plant, plant_province=row.plant_province, country=row.country,
                   generation_month=row.generation_month, expires_month=row.expires_month,
                   tradable=row.tradable, transfers=row.transfers, owner=row.owner,
                   evidence=EvidencePublic(ref=row.evidence_ref, sha256=row.evidence_sha256),
                   attested_by=row.attested_by, status=row.status, seq=row.seq)


class CertificateTransfer(RequestBody):
    to: PartyId = Field(description="the producer that receives the certificate")


class CertificateCancel(RequestBody):
    reason: Text200


class CertificateAttest(RequestBody):
    evidence_sha256: Sha256 = Field(description="the SHA-256 of the evidence the certifier "
                                    "checked at the source; must equal the registered one")


class VoucherCreate(RequestBody):
    issuer: Text200
    number: Text80
    facility: PartyId
    period_start: Month
    period_end: Month
    mwh: Quantity
    technology: Technology
    certificate_first: Text64 | None = None
    certificate_last: Text64 | None = None
    evidence_sha256: Sha256 | None = None


class VoucherPublic(Public):
    id: str
    issuer: str
    number: str
    facility: str
    period_start: str
    period_end: str
    mwh: str
    technology: str
    certificate_first: str | None
    certificate_last: str | None
    evidence_sha256: str | None
    seq: int

    @classmethod
    def of(cls, row: Voucher) -> VoucherPublic:
        return cls(id=row.voucher_id, issuer=row.issuer, number=row.number,
                   facility=row.facility, period_start=row.period_start,
                   period_end=row.period_end, mwh=from_milli(row.kwh), technology=row.technology,
                   certificate_first=row.certificate_first, certificate_last=row.certificate_last,
                   evidence_sha256=row.evidence_sha256 or None, seq=row.seq)


PartyWritten, PartyPage = receipt(PartyPublic), page(PartyPublic)
FacilityWritten, FacilityPage = receipt(FacilityPublic), page(FacilityPublic)
CertificateWritten, CertificatePage = receipt(CertificatePublic), page(CertificatePublic)
VoucherWritten, VoucherPage = receipt(VoucherPublic), page(VoucherPublic)
